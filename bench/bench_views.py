"""The lower panel's views: the screen thread's own work for one redraw of each view (figures, not tests).

    python bench/bench_views.py [--redraws 150] [--steps-between 30]

For each view 1..8 (view 1: the next-token chart): the app's draw_views (the view's figures from the engine,
its rows, the rows that changed made into strips) and every line of the view as the compositor asks for
them, CPU time of this thread, while the run trains --steps-between steps between two redraws (on this
thread, outside the timing). Prints the median and the 10th percentile of --redraws redraws. CPU time,
not wall time: a loaded machine distorts it less, yet compare figures of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Config, Run  # noqa: E402
from tui.app import DashboardApp  # noqa: E402

NAMES = {1: "next token", 2: "table", 3: "embeddings", 4: "weights", 5: "forward pass", 6: "gradient check",
         7: "runs", 8: "race (none)"}


async def redraw_costs(redraws: int, between: int) -> dict[int, list[float]]:
    run = Run.new(Config(num_steps=10**6))
    app = DashboardApp(run)
    out: dict[int, list[float]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        steps = run.steps()
        for _ in range(3000):
            next(steps)
        for view in NAMES:
            app.action_view(view)
            await pilot.pause()
            widget = app.panel.views[view]
            costs = []
            for _ in range(redraws):
                for _ in range(between):
                    next(steps)
                app.view_model.theta[:] = run.model.theta
                app._shown = app.loop._make_snapshot()  # the screen's snapshot of this step (as a frame takes it)
                t0 = time.thread_time()
                app.draw_views()
                for y in range(widget.size.height):
                    widget.render_line(y)
                costs.append(time.thread_time() - t0)
            out[view] = costs
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--redraws", type=int, default=150)
    p.add_argument("--steps-between", type=int, default=30)
    a = p.parse_args()
    for view, costs in asyncio.run(redraw_costs(a.redraws, a.steps_between)).items():
        costs.sort()
        print(f"view {view} {NAMES[view]:<15} redraw {statistics.median(costs) * 1e3:5.2f} ms CPU median, "
              f"{costs[len(costs) // 10] * 1e3:5.2f} ms 10th percentile ({a.redraws} redraws, "
              f"{a.steps_between} steps apart, 120x40)")


if __name__ == "__main__":
    main()
