"""The loss plot tells the truth about values: an exact y axis (ticks an equal whole number of rows apart,
each labelled row its value, every line on its value's row), one-name losses beyond the axis marked on
the frame (never rows of data), both lines visible where they share a cell, the current column drawn as it
fills, a cursor that reads every line of a column, kept runs each in its own colour with whole labels, a
thicker baseline, pass-end marks, and the smoothing the learner sets."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from plot_grid import cells, figures, finished_run, frame_box, text

from engine import Config, LossHistory, Run
from engine.curve import NICE, CurveBuckets, ExactTrack, bucket_edges, fit_axis, lr_used
from tui.widgets.loss_plot import HALF_BITS, Ghost, PlotFigures, PlotState, plot_layout, render_plot


@pytest.fixture(scope="module")
def finished() -> Run:
    return finished_run()


# --- the axis ------------------------------------------------------------------------------------
def slow_best_per_row(lo: float, hi: float, rows: int) -> float:
    """The finest row height over every tick step (NICE x powers of ten) and rows between ticks allowed."""
    k_min = 2 if rows >= 9 else 1
    best = math.inf
    for k in range(k_min, max(k_min, min(5, (rows - 1) // 2)) + 1):
        for e in range(-4, 3):
            for m in NICE:
                u = m * 10.0**e / k
                top = math.ceil(round(hi / u, 9)) * u
                if top - (rows - 1) * u <= lo + 1e-12 * max(1, abs(lo)):
                    best = min(best, u)
    return best


@pytest.mark.parametrize("lo,hi", [(2.24, 3.38), (2.0, 3.4), (1.13, 3.6), (-0.5, 0.7), (10.0, 400.0), (0.0, 5.3),
                                   (0.0, 0.9)])
@pytest.mark.parametrize("rows", [3, 5, 9, 14, 18, 22, 27, 33, 48])
def test_the_axis_is_exact_and_the_finest_that_holds_the_range(lo, hi, rows):
    axis = fit_axis(lo, hi, rows)
    ticks = axis.ticks()
    assert len(ticks) >= (2 if rows >= 5 else 1)  # two give the scale
    for value, row in ticks:
        assert 0 <= row < rows and abs(axis.position(value)[0] - row) < 1e-6  # a tick's value is its row's centre
        assert axis.row(value) == row
    gaps = {b - a for (_, a), (_, b) in itertools.pairwise(ticks)}
    assert len(gaps) <= 1 and (not gaps or gaps == {axis.rows_per_tick})  # an equal whole number of rows apart
    assert axis.rows_per_tick <= 5  # a label at least every 5 rows
    assert axis.position(hi)[0] >= -0.5 and axis.position(lo)[0] <= rows - 0.5  # the range is on the rows
    assert axis.per_row == pytest.approx(slow_best_per_row(lo, hi, rows), rel=1e-9)
    if lo >= 0:  # no row for a value below 0 (a loss never is)
        assert axis.top - (rows - 1) * axis.per_row >= -1e-9 * axis.per_row
    for v in np.linspace(lo, hi, 37):  # the sub-row of a value lies in that value's row
        assert axis.sub(v, 4)[0] // 4 == axis.sub(v, 2)[0] // 2 == axis.row(v)


def test_a_log_axis_has_a_tick_every_decade_on_equally_spaced_rows():
    axis = fit_axis(0.01, 1.78, 22, log=True)
    ticks = axis.ticks()
    assert [v for v, _ in ticks][:3] == pytest.approx([1.0, 0.1, 0.01])
    assert len({b - a for (_, a), (_, b) in itertools.pairwise(ticks)}) == 1


@pytest.mark.parametrize("height", [12, 17, 24, 30, 37, 43])
def test_every_label_and_line_sits_on_the_row_of_its_value(finished, height):
    fig = figures(finished)
    state = PlotState.for_run(fig)
    grid = cells(render_plot(fig, state, 90, height))
    axis = plot_layout(fig, state, 90, height).axis
    top, bottom, c0, c1 = frame_box(grid)
    labelled = [(float(t[: c0 - 1]), r - top - 1) for r, t in enumerate(text(grid)) if top < r < bottom and
                t[c0 - 1] == "┤"]
    assert len(labelled) >= 3
    for value, row in labelled:
        assert axis.row(value) == row, (value, row)
    assert len({b - a for (_, a), (_, b) in itertools.pairwise(labelled)}) == 1
    for style, value in (("floor", finished.reference.floor), ("guess", finished.reference.random_guess)):
        rows = {r - top - 1 for r in range(top + 1, bottom) if sum(st == style for _, st in grid[r][c0:c1]) > 10}
        assert rows == {axis.row(value)}, style
    # the whole-data loss: each column's half block in the row (and half) of its value
    b = state.buckets
    exact = b.lines()[1]
    for c in range(c1 - c0):
        v = exact[min(2 * c + 1, len(exact) - 1)]
        s = int(axis.sub(v, 2)[0])
        ch, st = grid[top + 1 + s // 2][c0 + c]
        if st == "exact":
            assert ch == ("▀" if s % 2 == 0 else "▄")
        else:
            assert st == "both" and (ord(ch) - 0x2800) & HALF_BITS[s % 2] == HALF_BITS[s % 2]


# --- one-name losses beyond the axis --------------------------------------------------------------
def test_names_beyond_the_axis_are_marked_on_the_frame_never_inside():
    rng = np.random.default_rng(3)
    losses = 2.9 + 0.05 * rng.standard_normal(1000)
    losses[::3] = 0.5  # every third name far below the axis, many far above
    losses[1::7] = 9.0
    hist = LossHistory(losses)
    fig = PlotFigures(hist, None, 1000, 1.0, 3.3, 2.45)
    state = PlotState.for_run(fig)
    grid = cells(render_plot(fig, state, 80, 30))
    axis = plot_layout(fig, state, 80, 30).axis
    top, bottom, c0, c1 = frame_box(grid)
    inside = {ch for row in grid[top + 1 : bottom] for ch, _ in row[c0:c1]}
    assert not inside & {"▴", "▾"}
    edges = bucket_edges(1000, 2 * (c1 - c0))
    for c in range(c1 - c0):
        part = losses[edges[2 * c] : edges[2 * c + 2]]
        below = axis.position(part.min())[0] >= axis.rows - 0.5
        above = axis.position(part.max())[0] < -0.5
        assert (grid[bottom][c0 + c] == ("▾", "dots")) == below or grid[bottom][c0 + c][0] in "┬┼"
        assert (grid[top][c0 + c] == ("▴", "dots")) == above


# --- the moving average and the whole-data loss sharing cells -------------------------------------
def test_where_the_two_lines_share_cells_neither_breaks(finished):
    fig = figures(finished)
    grid = cells(render_plot(fig, PlotState.for_run(fig), 84, 30))
    top, bottom, c0, c1 = frame_box(grid)
    shared = 0
    for c in range(c0, c1):
        column = [grid[r][c][1] for r in range(top + 1, bottom)]
        assert "ema" in column or "both" in column, c  # the moving average in every column
        assert "exact" in column or "both" in column, c  # and the whole-data loss
        shared += "both" in column
    assert shared >= 5  # the finished default run's lines meet (this test would not test much otherwise)


# --- the key --------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [24, 40, 60, 84, 120, 200])
def test_the_key_says_a_dot_is_a_columns_lowest_and_highest_of_n_names(finished, width):
    fig = figures(finished)
    grid = cells(render_plot(fig, PlotState.for_run(fig), width, 20))
    top, bottom, c0, c1 = frame_box(grid)
    dot = "".join(ch for ch, st in grid[0] if st == "dots")
    per = 1000 / (c1 - c0)
    import re

    number = float(re.search(r"(\d+(?:\.\d+)?)", dot).group(1))
    assert "lo" in dot and "hi" in dot and abs(number - per) <= 0.05 * per + 0.05, dot  # ~N names a column


# --- the current column ---------------------------------------------------------------------------
def test_the_current_column_moves_every_step_or_two_and_is_final_once_full():
    run = Run.new(Config(num_steps=1000))
    run.track_exact()
    gen = run.steps()
    fig = figures(run)
    state = PlotState.for_run(fig)
    frames = []
    for _ in range(300):
        next(gen)
        grid = cells(render_plot(fig, state, 84, 30))
        top, bottom, c0, c1 = frame_box(grid)
        frames.append([row[c0:c1] for row in grid[top : bottom + 1]])
    still = [a == b for a, b in itertools.pairwise(frames)]
    assert max((len(list(g)) for k, g in itertools.groupby(still) if k), default=0) <= 2
    newest = state.buckets.current // 2
    for f in frames[-40:]:  # the columns the run passed 40 steps ago are the same in every later frame
        done = newest - 4
        assert [row[:done] for row in f[1:-1]] == [row[:done] for row in frames[-1][1:-1]]


# --- the cursor -----------------------------------------------------------------------------------
@pytest.mark.parametrize("column", [0, 13, 40, 71])
def test_the_cursor_reads_every_line_of_its_column(finished, column):
    old = Run.new(Config(num_steps=1000, learning_rate=0.5))
    old.track_exact()
    for _ in old.steps():
        pass
    from engine.runs import CURVE_POINTS, RunSummary

    kept = RunSummary.of(old)
    fig = figures(finished, ghosts=(Ghost("#1 lr 0.5", kept.curves, 0),))
    state = PlotState.for_run(fig)
    grid = cells(render_plot(fig, state, 120, 30, cursor=column))
    top, bottom, c0, c1 = frame_box(grid)
    line = text(grid)[0]
    edges = bucket_edges(1000, 2 * (c1 - c0))
    a, z = int(edges[2 * column]) + 1, int(edges[2 * column + 2])
    losses = finished.history.losses[a - 1 : z]
    assert line.startswith(f"steps {a}-{z}")
    assert f"• {losses.min():.3f}..{losses.max():.3f}" in line
    assert f"⠒ avg {finished.history.ema[z - 1]:.3f}" in line
    n = len(finished.exact_track)
    measured = finished.exact_track.values[:n][finished.exact_track.steps[:n] <= z][-1]
    assert f"▀ whole-data {measured:.3f}" in line
    every = math.ceil(1000 / CURVE_POINTS)  # a kept run's average is sampled every `every` steps
    assert f"#1 {old.history.ema[z - z % every - 1]:.3f}" in line
    assert f"lr {1.0 * (1 - (z - 1) / 1000):.3f}" in line  # the rate the column's last step used
    marks = [r for r in range(top + 1, bottom) if grid[r][c0 + column] == ("│", "cursor")]
    assert marks  # the mark down the column
    # it never covers data: every cell that is not a cursor mark is what the plot without a cursor shows
    plain = cells(render_plot(fig, state, 120, 30))
    for r in range(top + 1, bottom):
        assert grid[r][c0 + column] == plain[r][c0 + column] or plain[r][c0 + column][1] == "axis"


@pytest.mark.parametrize("width", [40, 56, 70])
def test_a_narrow_cursor_reading_names_its_values_by_their_glyphs(finished, width):
    fig = figures(finished)
    grid = cells(render_plot(fig, PlotState.for_run(fig), width, 20, cursor=5))
    line = text(grid)[0]
    import re

    assert re.match(r"\d+-\d+ • \d\.\d{3}\.\.\d\.\d{3} ⠒ \d\.\d{3} ▀ \d\.\d{3}", line), line
    styles = [st for t, st in grid[0] if t.strip()]
    assert "dots" in styles and "ema" in styles and "exact" in styles


def test_the_cursor_in_the_left_to_learn_view_reads_the_gap(finished):
    fig = figures(finished, gap_view=True)
    grid = cells(render_plot(fig, PlotState.for_run(fig), 100, 30, cursor=30))
    line = text(grid)[0]
    top, bottom, c0, c1 = frame_box(grid)
    z = int(bucket_edges(1000, 2 * (c1 - c0))[62])
    measured = finished.exact_track.at(np.array([z]))[0]
    assert f"left to learn {measured - finished.reference.floor:.3f}" in line


def test_the_column_figures_match_a_slow_version():
    rng = np.random.default_rng(5)
    losses = (3 + rng.standard_normal(777)).tolist()
    hist, track = LossHistory(), ExactTrack(777, points=50)
    track.record(0, 5.0)
    for i, v in enumerate(losses, start=1):
        hist.append(v)
        if track.due(i):
            track.record(i, float(i))
    b = CurveBuckets(777, 60)
    b.update(hist, track)
    for first in range(0, 60, 7):
        last = min(first + 1, 59)
        sp = b.span(first, last, 777)
        a, z = first * 777 // 60 + 1, (last + 1) * 777 // 60
        assert (sp.first, sp.last) == (a, z)
        assert sp.lo == min(losses[a - 1 : z]) and sp.hi == max(losses[a - 1 : z])
        assert sp.ema == hist.ema[z - 1] and sp.exact == max(s for s in track.steps[: len(track)] if s <= z)


def test_the_learning_rate_a_step_used():
    changes = [(0, 1.0), (300, 0.5)]
    got = lr_used(changes, 1000, np.array([1, 300, 301, 1000]))
    assert got.tolist() == pytest.approx([1.0, 1.0 * (1 - 299 / 1000), 0.5 * (1 - 300 / 1000), 0.5 * (1 - 999 / 1000)])


# --- kept runs --------------------------------------------------------------------------------------
def _kept(lr: float, steps: int = 1000):
    from engine.runs import RunSummary

    run = Run.new(Config(num_steps=steps, learning_rate=lr))
    run.track_exact()
    for _ in run.steps():
        pass
    return RunSummary.of(run).curves


def test_kept_runs_have_their_own_colours_and_whole_labels_and_the_plot_does_not_narrow(finished):
    plain = figures(finished)
    ghosts = (Ghost("#1 lr 0.25, n_embd 32, seed 7, data names.txt", _kept(0.25), 0),
              Ghost("#2 lr 2.0", _kept(2.0), 1))
    fig = figures(finished, ghosts=ghosts)
    for width, height in ((84, 30), (56, 18), (120, 40)):
        a = cells(render_plot(plain, PlotState.for_run(plain), width, height))
        g = cells(render_plot(fig, PlotState.for_run(fig), width, height))
        top, bottom, c0, c1 = frame_box(a)
        assert frame_box(g) == (top, bottom, c0, c1)  # not narrower
        assert [row[:c0] for row in a[top:]] == [row[:c0] for row in g[top:]]  # the same y labels (not the key)
        assert text(a)[bottom + 1] == text(g)[bottom + 1]  # the same x labels
        for ghost in ghosts:
            in_plot = sum(st == ghost.style for row in g[top + 1 : bottom] for _, st in row[c0:c1])
            assert in_plot >= 10
            margin = " ".join("".join(ch for ch, _ in row[c1 + 1 :]).strip() for row in g[top + 1 : bottom]
                              if row[-1][1] == ghost.style)
            if width >= 84:
                assert margin == ghost.label, (width, margin)  # whole, wrapped over rows if need be
            else:  # 56 columns: #2's label takes the row above the floor's (its line ends above the floor:
                # see the next test), and #1's block has no rows left beside its line: its number alone
                assert margin in (ghost.label, ghost.label.split()[0]), (width, margin)


def test_a_label_is_never_put_under_a_reference_line_its_line_ends_above(finished):
    """QA: a variant that ended above the floor, on the row of the floor's label, was labelled on the row
    under it, so that it read as having ended below the floor (which nothing does)."""
    ghost = Ghost("#2 lr 2.0", _kept(2.0), 1)
    fig = figures(finished, ghosts=(ghost,))
    floor = finished.reference.floor
    assert float(ghost.curves.lines(np.array([999]))[0][0]) > floor  # it ends above the floor
    checked = 0
    for width, height in ((56, 18), (84, 30), (120, 40), (80, 16), (100, 22)):
        grid = cells(render_plot(fig, PlotState.for_run(fig), width, height))
        top, bottom, c0, c1 = frame_box(grid)
        rows = text(grid)
        floor_row = next(i for i in range(top, bottom) if "floor" in rows[i][c1 + 1:])
        label_rows = [i for i in range(top, bottom) if rows[i][c1 + 1:].strip().startswith("#2")]
        assert label_rows, (width, rows)
        assert all(i <= floor_row for i in label_rows), (width, height, label_rows, floor_row)
        checked += fig.ghosts[0].label in rows[floor_row] or label_rows[0] == floor_row - 1
    assert checked  # at some size the label was pushed off the floor's row (the case the fix is for)


class _Flat:
    """A kept run's curves ending at one value (made up: where it ends is exact, on any CPU)."""

    def __init__(self, value: float):
        self.value = value

    def lines(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flat = np.full(len(steps), self.value)
        return flat, flat, flat


def test_a_label_is_never_put_over_a_reference_line_its_line_ends_under(finished):
    """The same rule the other way round (tui/plumbing/margin_side.py, shared with the exported picture):
    a run that ends just under the floor, on the floor's row, with the row below it taken by the label of a
    run ending lower still, was labelled on the row over the floor's label (read: it ended above the floor)."""
    checked = 0
    for width, height in ((120, 40), (84, 30), (100, 22)):
        plain = figures(finished)
        state = PlotState.for_run(plain)
        render_plot(plain, state, width, height)  # the run's range, as the plot fixes it
        axis = plot_layout(plain, state, width, height).axis
        floor = finished.reference.floor
        r = axis.row(floor)
        under = float(axis.position(floor)[0] + r + 0.5) / 2  # under the floor's line, on its row
        ghosts = (Ghost("#1 under", _Flat(axis.top - under * axis.per_row), 1),
                  Ghost("#2 lower", _Flat(axis.top - (r + 1) * axis.per_row), 2))
        assert axis.row(axis.top - under * axis.per_row) == r
        fig = figures(finished, ghosts=ghosts)
        grid = cells(render_plot(fig, state, width, height))
        top, bottom, c0, c1 = frame_box(grid)
        rows = text(grid)
        floor_row = next(i for i in range(top, bottom) if "floor" in rows[i][c1 + 1:])
        label_rows = [i for i in range(top, bottom) if rows[i][c1 + 1:].strip().startswith("#1")]
        assert all(i > floor_row for i in label_rows), (width, height, label_rows, floor_row, rows)
        checked += bool(label_rows)
    assert checked  # labelled (under the floor) at some size, not only left out


def test_a_baseline_is_drawn_thicker_and_its_label_marked(finished):
    curves = _kept(0.5)
    thin = figures(finished, ghosts=(Ghost("#1 lr 0.5", curves, 3),))
    thick = figures(finished, ghosts=(Ghost("#1 lr 0.5", curves, 3, baseline=True),))

    def dots(fig: PlotFigures) -> tuple[int, list[str]]:
        grid = cells(render_plot(fig, PlotState.for_run(fig), 100, 30))
        top, bottom, c0, c1 = frame_box(grid)
        n = sum(bin(ord(ch) - 0x2800).count("1") for row in grid[top + 1 : bottom] for ch, st in row[c0:c1]
                if st == "line-3")
        return n, text(grid)

    (n_thin, _), (n_thick, t) = dots(thin), dots(thick)
    assert n_thick > 1.5 * n_thin
    assert any("◆ #1 lr 0.5" in row for row in t) and "◆ baseline" in t[0]


# --- passes over the data ----------------------------------------------------------------------------
def test_the_end_of_each_pass_is_marked_on_the_x_axis():
    run = Run.new(Config(num_steps=2000), [f"name{i}" for i in range(450)])
    run.track_exact()
    for _ in run.steps():
        pass
    fig = figures(run, epoch_steps=len(run.dataset))
    grid = cells(render_plot(fig, PlotState.for_run(fig), 90, 24))
    top, bottom, c0, c1 = frame_box(grid)
    marked = {c - c0 for c in range(c0, c1) if grid[bottom][c][0] in "┴┼"}
    edges = bucket_edges(2000, 2 * (c1 - c0))
    expected = {int(np.searchsorted(edges[1:], k * 450 - 1, side="right")) // 2 for k in (1, 2, 3, 4)}
    assert marked == expected
    assert "pass" in text(grid)[0]
    short = figures(run, epoch_steps=5000)  # one pass or less: no marks, no key entry
    grid = cells(render_plot(short, PlotState.for_run(short), 90, 24))
    assert not any(ch in "┴┼" for ch, _ in grid[bottom]) and "pass" not in text(grid)[0]


# --- smoothing ----------------------------------------------------------------------------------------
def test_a_new_smoothing_redraws_the_whole_line_and_the_key_shows_it(finished):
    run = Run.new(Config(num_steps=1000))
    run.track_exact()
    for _ in run.steps():
        pass
    fig = figures(run)
    state = PlotState.for_run(fig)
    before = cells(render_plot(fig, state, 84, 30))
    run.history.set_weight(0.5)
    after = cells(render_plot(fig, state, 84, 30))
    assert "0.98" in text(before)[0] and "0.5" in text(after)[0] and "0.98" not in text(after)[0]
    fresh = cells(render_plot(fig, PlotState.for_run(fig), 84, 30))
    assert after == fresh  # the same as a plot drawn from scratch at the new weight: the whole line
    top, bottom, c0, c1 = frame_box(after)
    changed = {c for r in range(top + 1, bottom) for c in range(c0, c1) if before[r][c] != after[r][c]}
    assert len(changed) > (c1 - c0) // 2


def test_the_renderer_needs_no_textual():
    """The export and a headless picture draw the same rows without a terminal UI."""
    import subprocess
    import sys

    code = "import sys, tui.plumbing.plot_render; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_plot_too_short_for_the_range_still_gets_an_axis():
    # a browser tab or a terminal can be 5 rows tall: the plot then has a row or two, which cannot hold
    # the range at any nice step; it still draws (found by a websocket client asking for 10x5)
    from engine.curve import fit_axis

    for rows in (1, 2):
        axis = fit_axis(2.2, 3.4, rows)
        assert axis.rows == rows and axis.per_row >= 1.2 and axis.ticks()


def test_with_no_smoothing_the_axis_never_goes_below_zero_and_a_new_weight_fits_it_afresh():
    """QA: at smoothing weight 0 (`{` six times) the line is every step's own loss: the axis grew to 0-5
    with three rows under 0.0 (an area for negative losses, which no loss is), and back at 0.999 it stayed
    0-5 with the curves squashed. Now it stops at 0, and a new weight gets the range a fresh plot gives."""
    run = finished_run()
    fig = figures(run)
    state = PlotState.for_run(fig)
    run.history.set_weight(0.0)
    rows = text(cells(render_plot(fig, state, 84, 23)))
    ticks = [float(r.split("┤")[0]) for r in rows if "┤" in r and r.split("┤")[0].strip()]
    assert min(ticks) >= 0 and max(ticks) >= 4, ticks  # it grew for the raw losses, not below 0
    bottom = next(i for i, r in enumerate(rows) if "└" in r)
    zero = next(i for i, r in enumerate(rows) if "┤" in r and float(r.split("┤")[0]) == min(ticks))
    per_row = (max(ticks) - min(ticks)) / (zero - next(i for i, r in enumerate(rows) if "┤" in r))
    assert min(ticks) - (bottom - 1 - zero) * per_row > -per_row, rows  # no row for a value below 0
    run.history.set_weight(0.999)
    again = text(cells(render_plot(fig, state, 84, 23)))
    assert again == text(cells(render_plot(fig, PlotState.for_run(fig), 84, 23)))  # as a fresh plot's


@pytest.mark.parametrize("steps", [2, 3, 5, 7, 12, 30, 1000, 1001])
@pytest.mark.parametrize("size", [(84, 23), (56, 14)])
def test_each_step_label_stands_at_the_column_of_the_step_it_names(steps, size):
    """QA: at --steps 5 the x axis read `0 1 2 4 5` on equally spaced ticks, which stood for 0, 1.25, 2.5,
    3.75 and 5 steps: three labels named steps that were not there."""
    run = Run.new(Config(num_steps=steps))
    run.track_exact()
    for _ in run.steps():
        pass
    fig = figures(run)
    rows = text(cells(render_plot(fig, PlotState.for_run(fig), *size)))
    _, bottom, left, right = frame_box(cells(render_plot(fig, PlotState.for_run(fig), *size)))
    cols = right - left
    ticks = [c - left for c, ch in enumerate(rows[bottom]) if ch == "┬"]
    labels = [(m.start() + len(m.group()) / 2 - 0.5, int(m.group().replace(",", "")))
              for m in re.finditer(r"[\d,]+", rows[bottom + 1])]
    assert labels
    for centre, step in labels:
        tick = min(ticks, key=lambda c: abs(c + left - centre))  # the tick under the label
        assert abs(tick - step * (cols - 1) / steps) <= 0.5, (step, tick, rows[bottom], rows[bottom + 1])
    if steps < 100:  # a short run's labels an equal number of steps apart (QA round 2: 0 1 2 4 5, 0 2 4 5 7)
        named = [step for _, step in labels]
        assert len({b - a for a, b in itertools.pairwise(named)}) == 1, named


def test_the_key_counts_a_columns_names_without_a_needless_decimal():
    from tui.plumbing.plot_render import per_column

    assert per_column(200, 67) == "~3"  # QA round 2: `lo/hi of ~3.0 names`
    assert per_column(1000, 67) == "~15" and per_column(200, 80) == "~2.5" and per_column(150, 67) == "~2.2"
    assert per_column(50, 67) == "1" and per_column(134, 67) == "2"
