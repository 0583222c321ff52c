"""What the loss plot's tests share: a rendered plot as a grid of (character, style) cells, its text,
where its frame is, the figures the app hands the plot, and a finished default run to draw."""

from __future__ import annotations

from engine import Config, Run
from tui.widgets.loss_plot import PlotFigures

Cells = list[list[tuple[str, str]]]


def cells(rows) -> Cells:
    return [[(ch, st) for text, st in row for ch in text] for row in rows]


def text(grid: Cells) -> list[str]:
    return ["".join(ch for ch, _ in row) for row in grid]


def frame_box(grid: Cells) -> tuple[int, int, int, int]:
    """(top row, bottom row, first column inside, the right edge's column) of the plot's frame."""
    t = text(grid)
    top = next(i for i, s in enumerate(t) if "┌" in s)
    bottom = next(i for i, s in enumerate(t) if "└" in s)
    return top, bottom, t[top].index("┌") + 1, t[top].index("┐")


def figures(run: Run, **kw) -> PlotFigures:
    ref = run.reference
    return PlotFigures(run.history, run.exact_track, run.config.num_steps, run.config.learning_rate,
                       ref.random_guess, ref.floor, run.diverged_at, **kw)


def finished_run(steps: int = 1000) -> Run:
    """The default run trained to its end, its whole-data loss tracked."""
    run = Run.new(Config(num_steps=steps))
    run.track_exact()
    for _ in run.steps():
        pass
    return run
