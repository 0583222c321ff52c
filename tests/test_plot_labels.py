"""The loss plot's words say what they are, as drawn at 80x24 and 120x40 (and at the sizes the plot gets
inside the dashboard): the learning rate under the plot is never a cut number, the labels in the right
margin sit beside where their lines end (or are left out), a whole-data run's key says its dots are
whole-data losses, the smoothing weight never reads as a loss, and the filling bar of the column in
progress is not in a data line's colour. (Learner QA findings 1, 6, 7, 9, 12.)"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import until
from plot_grid import Cells, cells, figures, finished_run, frame_box, text

from engine import Config, Run
from engine.curve import lr_used
from engine.race import Race, race_configs, race_spec
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.widgets.loss_plot import Ghost, PlotState, plot_layout, render_plot

APP_SIZES = [(80, 24), (120, 40)]
# the renderer at the terminal's sizes, and at the sizes the plot itself gets in the dashboard at them
PLOT_SIZES = [(80, 24), (120, 40), (56, 14), (81, 23)]

@pytest.fixture(scope="module")
def finished() -> Run:
    return finished_run()


# --- 1: the learning rate under the plot ------------------------------------------------------------------
def lr_label(grid: Cells, right: int) -> str:
    """The lr row's figure in the right margin (after the frame's right edge)."""
    return text(grid)[-1][right:]


def assert_reads_as(label: str, rate: float) -> None:
    """`label` is "" (no room) or " lr X" with X within 5% of `rate` and a space before the edge."""
    if not label.strip():
        return
    m = re.fullmatch(r" +lr (\S+)( +)", label)
    assert m, repr(label)  # a blank between the figure and the plot's edge: it never runs into what is beside
    assert math.isclose(float(m.group(1)), rate, rel_tol=0.05), (label, rate)


@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
@pytest.mark.parametrize("size", PLOT_SIZES)
def test_the_lr_row_is_blank_only_where_the_rate_is_zero(finished, schedule, size):
    """QA: a finished 1,000-step run's lr row ended in 5 blank columns (`▁▁▁▁     lr 0.0010`), as if the rate
    reached 0 before the end; it never does (the last step's is lr / 1,000). A rate above 0 is at least ▁."""
    grid = cells(render_plot(figures(finished, schedule=schedule), PlotState.for_run(figures(finished)), *size))
    _, _, left, right = frame_box(grid)
    row = text(grid)[-1][left:right]
    assert row.strip(), row
    assert " " not in row, repr(row)


@pytest.mark.parametrize("schedule,lr", [("cosine", 1.0), ("linear", 0.5), ("linear", 1.0), ("constant", 12.0)])
@pytest.mark.parametrize("size", PLOT_SIZES + [(40, 14), (100, 30)])
def test_the_lr_label_is_a_whole_figure_of_the_rate_the_last_step_used(finished, schedule, lr, size):
    fig = figures(finished, schedule=schedule)
    fig.learning_rate = lr
    grid = cells(render_plot(fig, PlotState.for_run(fig), *size))
    _, _, _, right = frame_box(grid)
    rate = float(lr_used([(0, lr)], 1000, np.array([1000]), schedule)[0])  # the engine's figure for step 1000
    label = lr_label(grid, right)
    assert_reads_as(label, rate)
    if size[0] >= 56:  # the margin has room for a rate: it is shown
        assert "lr" in label, label


@pytest.mark.parametrize("size", APP_SIZES)
async def test_at_the_end_of_a_cosine_run_the_lr_label_reads_the_last_rate(size):
    # QA: `lr 2.47e-0╰──` at the end of a cosine run (the real 2.47e-06)
    app = DashboardApp(Run.new(Config(num_steps=300, schedule="cosine")), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=20)
        await pilot.pause(0.1)
        grid = cells(app.plot.rows())
        _, _, _, right = frame_box(grid)
        rate = app.loop.snapshot.record.lr  # the rate the last step used, as the step line has it
        assert rate < 1e-3  # a rate that needs a short writing at 80 columns
        assert_reads_as(lr_label(grid, right), rate)
        assert "lr" in lr_label(grid, right)


# --- 6: labels beside where their lines end -----------------------------------------------------------------
class _Line:
    """A ghost's line falling straight from 3.3 to `end` over the run."""

    def __init__(self, end: float, steps: int = 1000):
        self.end, self.steps = end, steps

    def lines(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ema = 3.3 + (self.end - 3.3) * np.asarray(steps, dtype=float) / self.steps
        return ema, ema.copy(), np.full(len(ema), np.nan)


def _drawn(finished, size, table, colour_from: int = 0, all_variants: bool = False):  # type: ignore[no-untyped-def]
    """`table`'s (label, end) as ghost lines on the finished run's plot at `size`: (ghosts, grid, axis).
    A label starting with `#` is a kept run's, the others a race's variants' (all of them with
    `all_variants`)."""
    ghosts = tuple(Ghost(label, _Line(end), colour=colour_from + i, variant=all_variants or label[0] != "#")
                   for i, (label, end) in enumerate(table))
    fig = figures(finished, ghosts=ghosts)
    state = PlotState.for_run(fig)
    return ghosts, cells(render_plot(fig, state, *size)), plot_layout(fig, state, *size).axis


def margin_blocks(grid: Cells, style: str) -> list[tuple[int, int, str]]:
    """(first data row, last data row, text) of each block of margin rows drawn in `style`."""
    top, bottom, _, right = frame_box(grid)
    rows = [r - top - 1 for r in range(top + 1, bottom) if any(st == style for _, st in grid[r][right + 1:])]
    blocks: list[tuple[int, int, str]] = []
    for r in rows:
        words = "".join(ch for ch, _ in grid[r + top + 1][right + 1:]).strip()
        if blocks and blocks[-1][1] == r - 1:
            blocks[-1] = (blocks[-1][0], r, blocks[-1][2] + " " + words)
        else:
            blocks.append((r, r, words))
    return blocks


GHOSTS = [  # a race's variants as the QA saw them: a wrapped label, and lines ending close together
    ("#1 lr 1.0, gradient name", 2.50),
    ("2 lr 0.5", 2.48),
    ("3 lr 1.0", 2.47),
    ("4 lr 2.0", 2.47),
    ("5 lr 0.1", 2.95),
]


@pytest.mark.parametrize("size", PLOT_SIZES)
def test_each_margin_label_sits_beside_where_its_line_ends_or_is_left_out(finished, size):
    ghosts, grid, axis = _drawn(finished, size, GHOSTS)
    shown = []
    for ghost, (label, end) in zip(ghosts, GHOSTS):
        blocks = margin_blocks(grid, ghost.style)
        assert len(blocks) <= 1, blocks  # one label a line, in one place
        if not blocks:
            continue
        first, last, words = blocks[0]
        row = axis.row(end)
        assert first - 1 <= row <= last + 1, (label, row, blocks)  # on its end's row or just beside it
        assert words == label or words == label.split()[0], words  # whole, or its number alone; never cut
        shown.append((end, first))
    # labels keep their lines' order: a line ending higher has its label no lower
    assert all((a_row - b_row) * (b_end - a_end) >= 0 for a_end, a_row in shown for b_end, b_row in shown)
    lone = margin_blocks(grid, ghosts[4].style)  # the line ending alone, far above the others: labelled there
    assert len(lone) == 1 and lone[0][0] - 1 <= axis.row(2.95) <= lone[0][1] + 1, lone


@pytest.mark.parametrize("size", APP_SIZES)
async def test_in_a_race_each_variants_label_is_beside_its_lines_end(size):
    # QA: at 80x24 `3 lr 0.5` beside the 2.2 row and `4 lr 1.0` beside 2.0 while both lines end near 2.47
    race = Race.new(race_configs(Config(num_steps=300), race_spec("lr=0.5,1,2")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=30)
        await pilot.pause(0.2)
        grid = cells(app.plot.rows())
        fig, state = app.plot.figures, app.plot.state
        assert fig is not None and state is not None and state.buckets is not None and fig.ghosts
        axis = app.plot.layout_now().axis
        for ghost in fig.ghosts:
            ema = ghost.curves.lines(state.buckets.edges[1:])[0]
            row = axis.row(float(ema[np.isfinite(ema)][-1]))
            for first, last, words in margin_blocks(grid, ghost.style):
                assert first - 1 <= row <= last + 1, (ghost.label, row, first, last)
                assert words in (ghost.label, ghost.tag), words


KEPT_AND_LIVE = [  # after `r` in a race (once): kept copies of the variants, their lines ending where the live
    # variants' lines end; the app hands the kept runs' ghosts first, then the variants'
    ("#1 lr 0.5", 3.00), ("#2 lr 1.0", 2.75), ("#3 lr 2.0", 2.50),
    ("2 lr 0.5", 3.00), ("3 lr 1.0", 2.75), ("4 lr 2.0", 2.50),
]


@pytest.mark.parametrize("size", PLOT_SIZES)
def test_where_labels_compete_for_rows_the_live_variants_labels_win_over_kept_runs(finished, size):
    # QA: at 120x40 the margin showed `#1 same settings`, `2 lr 0.5`, `#2 lr 0.5`: the live variants 3 and 4
    # (the two best) had no label, their rows taken by kept runs' labels
    ghosts, grid, axis = _drawn(finished, size, KEPT_AND_LIVE)
    for ghost, (label, end) in zip(ghosts, KEPT_AND_LIVE):
        blocks = margin_blocks(grid, ghost.style)
        if ghost.variant:  # every live variant is labelled: whole or its number, beside its line's end
            assert len(blocks) == 1, (label, text(grid))
            first, last, words = blocks[0]
            assert words in (label, label.split()[0]) and first - 1 <= axis.row(end) <= last + 1, (label, blocks)
        else:  # a kept run's label only where no variant's is
            assert len(blocks) <= 1, blocks


CLOSE_ENDS = [  # a rates race as QA saw it at 120x40: three lines ending within 0.04, on one row by the floor's
    ("2 lr 0.5", 2.4388), ("3 lr 1.0", 2.4014), ("4 lr 2.0", 2.4141),
]


@pytest.mark.parametrize("size", PLOT_SIZES)
def test_where_variants_labels_compete_for_rows_the_lowest_lines_are_labelled(finished, size):
    # QA: `2 lr 0.5` took the row where all three lines end; 3 and 4, the two best, had no label
    ghosts, grid, axis = _drawn(finished, size, CLOSE_ENDS, colour_from=2, all_variants=True)
    labelled = []
    for ghost, (label, end) in zip(ghosts, CLOSE_ENDS):
        blocks = margin_blocks(grid, ghost.style)
        assert len(blocks) <= 1, blocks
        if blocks:
            first, last, words = blocks[0]
            assert words in (label, label.split()[0]) and first - 1 <= axis.row(end) <= last + 1, (label, blocks)
            labelled.append(end)
    ends = sorted(end for _, end in CLOSE_ENDS)
    assert labelled and sorted(labelled) == ends[: len(labelled)], (labelled, text(grid))  # the lowest ones


# --- 7 and 9: the key ---------------------------------------------------------------------------------------
def key_runs(grid: Cells, style: str) -> str:
    return "".join(ch for ch, st in grid[0] if st == style)


@pytest.mark.parametrize("size", PLOT_SIZES)
def test_a_whole_data_runs_key_says_its_dots_are_whole_data_losses(finished, size):
    fig = figures(finished, gradient="data")
    grid = cells(render_plot(fig, PlotState.for_run(fig), *size))
    dots = key_runs(grid, "dots")
    assert "whole-data" in dots and "name" not in dots, dots  # QA: `• low/high of ~15 steps`, `• lo/hi of 25`
    plain = figures(finished)
    assert "whole-data" not in key_runs(cells(render_plot(plain, PlotState.for_run(plain), *size)), "dots")


@pytest.mark.parametrize("weight", [0.98, 0.0, 0.5])
@pytest.mark.parametrize("size", PLOT_SIZES + [(200, 40), (40, 14)])
def test_the_smoothing_weight_in_the_key_is_named_a_weight(weight, size):
    # QA: `⠒ avg 0.98`, and `⠒ avg 0` after six `{`, read as a moving average of 0.98 / 0
    run = Run.new(Config(num_steps=300))
    run.track_exact()
    for _ in run.steps():
        pass
    run.history.set_weight(weight)
    fig = figures(run)
    avg = key_runs(cells(render_plot(fig, PlotState.for_run(fig), *size)), "ema")
    numbers = re.findall(r"\d+(?:\.\d+)?", avg)
    assert not numbers or re.search(rf"weight {weight:g}\b", avg), avg
    if size[0] >= 120:  # room for it: the weight is shown
        assert f"weight {weight:g}" in avg, avg


# --- 12: the bar of the column in progress ------------------------------------------------------------------
@pytest.mark.parametrize("size", APP_SIZES)
async def test_the_bar_of_the_column_in_progress_is_not_in_a_data_lines_colour(size):
    app = DashboardApp(Run.new(Config(num_steps=1000)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        for _ in range(5):
            await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 5)
        await pilot.pause(0.1)
        rows = app.plot.build_rows()
        plain = ["".join(s.text for s in row) for row in rows]
        bottom = next(i for i, t in enumerate(plain) if "└" in t)
        bar = [s for s in rows[bottom] if s.text.strip() and s.text[0] in "▁▂▃▄▅▆▇█"]
        assert len(bar) == 1, plain[bottom]  # the column in progress, filling
        styles = app.plot.styles_by_name()
        assert bar[0].style.color == styles["axis"].color  # drawn as the axis it sits on
        for line in ("dots", "ema", "exact", "both", "heldout", "guess", "floor", "lr"):
            assert bar[0].style.color != styles[line].color, line


def test_in_a_long_run_whose_lo_hi_dots_fall_beyond_the_axis_the_key_says_what_the_marks_on_the_frame_are():
    """In a run of thousands of names a column, a column's lowest and highest losses lie beyond the y axis
    (held on the moving average): the frame carries a ▴ or ▾ for them. The key said `• lo/hi of ~2,985
    names` at 120 columns, and no word for ▴▾ (QA)."""
    run = finished_run(30_000)
    for width, height in ((84, 30), (120, 40), (56, 18), (44, 14)):
        grid = cells(render_plot(figures(run), PlotState.for_run(figures(run)), width, height))
        rows = text(grid)
        top, bottom, _, _ = frame_box(grid)
        marks = rows[top].count("▴") + rows[bottom].count("▾")
        assert marks > 10, (width, rows[top], rows[bottom])  # most columns' lo/hi are beyond the axis
        key = "".join(ch for ch, st in grid[0] if st == "dots")
        assert "▴▾" in key and "lo/hi" in key, (width, rows[0])
