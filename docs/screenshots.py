"""The README's pictures of the dashboard: SVG screenshots taken by Textual itself, through Pilot.

    python docs/screenshots.py [--out docs] [--at 500] [--size 120x40] [--data PATH]

Writes into --out:
- dashboard.svg: mid-run, paused at step --at (stepped there as with the `.` key, 25 steps at a time, so
  the picture is the same from run to run but for a whole-data-loss point or two), then `g` (new names)
  and `+` (the same random numbers at temperature 0.60);
- dashboard-finished.svg: the same run stepped to the end the same way, with its 20 final samples.
Default flags otherwise (the embedded names unless --data is given), as `micromlp-tui` starts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.app import make_app  # noqa: E402
from tui.console.flags import build_parser, make_run  # noqa: E402
from tui.plumbing.training_loop import State  # noqa: E402

BATCH = 25  # '.' presses between two waits for the screen


async def until(pilot, condition, timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise SystemExit("screenshots.py: the dashboard did not get there in time")


async def step_to(app, pilot, at: int) -> None:
    """Step to step `at` as the `.` key does (its action, called directly: a Pilot key press costs
    ~50 ms), BATCH steps between two waits for the screen."""
    while app.shown_step < at:
        target = min(app.shown_step + BATCH, at)
        for _ in range(target - app.shown_step):
            app.action_step()
        await until(pilot, lambda t=target: app.shown_step == t)


async def shoot(out: Path, at: int, size: tuple[int, int], flags: list[str]) -> list[Path]:
    args = build_parser().parse_args(flags)
    written = []

    app = make_app(make_run(args), args)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await step_to(app, pilot, at)
        await pilot.press("g")  # a new batch of names at this step
        await pilot.press("plus")  # the same random numbers at temperature 0.60
        await pilot.pause(0.3)  # a frame or two more: the plot and the chart drawn for this step
        written.append(Path(app.save_screenshot(filename="dashboard.svg", path=str(out))))

    app = make_app(make_run(args), args)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await step_to(app, pilot, app.training.config.num_steps)  # not flat out: the whole-data loss
        await pilot.press("full_stop")  # gets a point every BATCH steps; one more `.` ends the run
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.pause(0.3)
        written.append(Path(app.save_screenshot(filename="dashboard-finished.svg", path=str(out))))
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder to write into (default docs/)")
    ap.add_argument("--at", type=int, default=500, help="the step of the mid-run picture (default 500)")
    ap.add_argument("--size", default="120x40", help="terminal size, COLUMNSxROWS (default 120x40)")
    ap.add_argument("--data", help="as micromlp-tui's --data (default: the embedded names)")
    opts = ap.parse_args()
    cols, rows = (int(n) for n in opts.size.lower().split("x"))
    opts.out.mkdir(parents=True, exist_ok=True)
    flags = ["--data", opts.data] if opts.data else []
    for path in asyncio.run(shoot(opts.out, opts.at, (cols, rows), flags)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
