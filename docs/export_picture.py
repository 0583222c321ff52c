"""The README's exported picture: what `e` in the dashboard writes for a session of three runs.

    python docs/export_picture.py [--out docs/export-plot.svg] [--csv PATH]

On the embedded names, each run holding out 10% of them (so the held-out line shows): the default run
(kept), the same with lr 0.5 (kept, pinned as the baseline), then n_embd 32 (the current run, stopped
at step 800 of 1,000), exported with the dashboard's own code path (engine.export: ExportRun of the
current run and of each kept run, labelled by what differs from the current run; plot_series;
tui.plumbing.plot_svg). The runs are deterministic, so the picture is the same on every run of the script.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Config, Run  # noqa: E402
from engine.export import ExportRun, plot_series, save_csv  # noqa: E402
from engine.runs import EMBEDDED, RunRegistry  # noqa: E402
from tui.plumbing.line_colours import run_colour  # noqa: E402
from tui.plumbing.plot_svg import save_svg  # noqa: E402


def session() -> list[ExportRun]:
    runs = RunRegistry()
    for lr in (1.0, 0.5):
        run = Run.new(Config(learning_rate=lr, holdout=0.1))
        run.track_exact()
        for _ in run.steps():
            pass
        kept = runs.keep(run, None, "new settings")
        if lr == 0.5:
            runs.pin_baseline(kept.id)
    current = Run.new(Config(n_embd=32, holdout=0.1))
    current.track_exact()
    for rec in current.steps():
        if rec.step + 1 == 800:
            break
    labels = runs.labels(current.config, EMBEDDED)
    return [ExportRun.of_run(current, EMBEDDED),
            *(ExportRun.of_summary(r, labels[r.id], r.id == runs.baseline_id, run_colour(r.id)) for r in runs.list())]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "export-plot.svg"))
    p.add_argument("--csv", help="also write the session's CSV here")
    args = p.parse_args()
    runs = session()
    print("wrote", save_svg(args.out, plot_series(runs)))
    if args.csv:
        print("wrote", save_csv(args.csv, runs))


if __name__ == "__main__":
    main()
