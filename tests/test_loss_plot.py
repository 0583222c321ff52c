"""The loss plot builds, it does not bounce; every line is named by the key and stays visible."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Config, LossHistory, Run
from engine.curve import CurveBuckets, ExactTrack, LossRange, bucket_edges
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.widgets.loss_plot import PlotFigures, PlotState, render_plot

Cells = list[list[tuple[str, str]]]


def cells(rows: list[list[tuple[str, str]]]) -> Cells:
    """Each row as a list of (character, style name), one per screen cell."""
    return [[(ch, st) for text, st in row for ch in text] for row in rows]


def frame_box(grid: Cells) -> tuple[int, int, int, int]:
    """(top row, bottom row, first data column, one past the last) of the plot's frame."""
    text = ["".join(ch for ch, _ in row) for row in grid]
    top = next(i for i, t in enumerate(text) if "┌" in t)
    bottom = next(i for i, t in enumerate(text) if "└" in t)
    return top, bottom, text[top].index("┌") + 1, text[top].index("┐")


def figures(run: Run, gap: bool = False) -> PlotFigures:
    ref = run.reference
    return PlotFigures(run.history, run.exact_track, run.config.num_steps, run.config.learning_rate,
                       ref.random_guess, ref.floor, run.diverged_at, gap)


# --- the buckets ---------------------------------------------------------------------------------
def slow_buckets(losses: list[float], emas: list[float], track: list[tuple[int, float]], total: int, n: int,
                 taken: int) -> list[tuple[float, float, float, float]]:
    out = []
    for b in range(n):
        a, z = b * total // n, (b + 1) * total // n
        part = losses[a:min(z, taken)]
        if not part:
            out.append((math.nan, math.nan, math.nan, math.nan))
            continue
        end = min(z, taken)
        measured = [v for s, v in track if s <= end]
        out.append((min(part), max(part), emas[end - 1], measured[-1] if measured else math.nan))
    return out


@pytest.mark.parametrize("total,n", [(1000, 164), (1000, 7), (50, 164), (12345, 100)])
def test_bucket_figures_match_a_slow_version_at_every_moment(total, n):
    rng = np.random.default_rng(total + n)
    losses = (3 + rng.standard_normal(total)).tolist()
    history, track = LossHistory(), ExactTrack(total, points=37)
    track.record(0, 9.0)
    buckets = CurveBuckets(total, n)
    for step, loss in enumerate(losses, start=1):
        if track.due(step):
            track.record(step, float(step))
        history.append(loss)
        if step % 7 == 0 or step == total:
            buckets.update(history, track)
            slow = slow_buckets(losses, history.ema.tolist(), list(zip(track.steps[:len(track)].tolist(),
                                track.values[:len(track)].tolist())), total, n, step)
            k = buckets.current + 1
            got = list(zip(buckets.lo[:k], buckets.hi[:k], buckets.ema[:k], buckets.exact[:k]))
            assert np.allclose(np.array(got, dtype=float), np.array(slow[:k], dtype=float), equal_nan=True)
            assert all(math.isnan(v[0]) for v in slow[k:])  # nothing after the current bucket


def test_bucket_edges_depend_on_the_run_length_and_width_only():
    e = bucket_edges(1000, 8)
    assert e[0] == 0 and e[-1] == 1000 and (np.diff(e) >= 0).all()
    assert bucket_edges(1000, 8).tolist() == e.tolist()


# --- steadiness -------------------------------------------------------------------------------------
@pytest.mark.parametrize("width,height", [(82, 30), (58, 13), (24, 8), (160, 50)])
def test_a_column_the_run_has_passed_never_changes(width, height):
    run = Run.new(Config(num_steps=1000))
    run.track_exact()
    gen = run.steps()
    state = None
    frames = []
    for k in (3, 40, 41, 200, 555, 999, 1000):
        while run.step < k:
            next(gen)
        state = state or PlotState.for_run(figures(run))
        grid = cells(render_plot(figures(run), state, width, height))
        assert all(len(row) == width for row in grid) and len(grid) == height
        frames.append((k, state.buckets.current // 2, grid))
    for (k0, newest, a), (k1, _, b) in zip(frames, frames[1:]):
        top, bottom, c0, c1 = frame_box(a)
        assert frame_box(b) == (top, bottom, c0, c1)
        for r in range(top + 1, bottom):
            assert a[r][:c0] == b[r][:c0], f"tick labels changed between steps {k0} and {k1}"
            assert a[r][c0 : c0 + newest] == b[r][c0 : c0 + newest], f"row {r} changed between {k0} and {k1}"


def test_the_plot_of_a_step_is_the_same_however_the_screen_got_there():
    """Drawn every step or only once at step k: the same picture (nothing depends on frame timing)."""
    runs = [Run.new(Config(num_steps=1000)) for _ in range(2)]
    for r in runs:
        r.track_exact()
    every, once = runs
    state = PlotState.for_run(figures(every))
    for _ in every.steps():
        render_plot(figures(every), state, 90, 30)
        if every.step == 640:
            break
    gen = once.steps()
    while once.step < 640:
        next(gen)
    assert render_plot(figures(every), state, 90, 30) == render_plot(figures(once), PlotState.for_run(figures(once)),
                                                                      90, 30)


def test_a_stray_dot_does_not_move_the_axis_but_a_line_does():
    rng = LossRange(random_guess=3.3, floor=2.45)
    lo, hi = rng.lo, rng.hi
    assert lo < 2.45 and 3.3 < hi < 3.5
    history = LossHistory([3.3] * 200 + [4.5] + [3.2] * 200)  # one hard name, far above the range: a dot
    state = PlotState(LossRange(3.3, 2.45), None)  # type: ignore[arg-type]
    fig = PlotFigures(history, None, 1000, 1.0, 3.3, 2.45)
    render_plot(fig, state, 80, 30)
    assert (state.loss_range.lo, state.loss_range.hi) == (lo, hi)
    high = LossHistory([3.3] * 100 + [6.0] * 300)  # the moving average leaves the range
    state = PlotState(LossRange(3.3, 2.45), None)  # type: ignore[arg-type]
    render_plot(PlotFigures(high, None, 1000, 1.0, 3.3, 2.45), state, 80, 30)
    assert state.loss_range.hi >= 6.0 and state.loss_range.growths <= LossRange.MAX_GROWTHS


# --- nothing hides the data ---------------------------------------------------------------------------
def style_counts(grid: Cells) -> dict[str, int]:
    top, bottom, c0, c1 = frame_box(grid)
    counts: dict[str, int] = {}
    for row in grid[top + 1 : bottom]:
        for _, st in row[c0:c1]:
            counts[st] = counts.get(st, 0) + 1
    return counts


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_every_line_keeps_a_visible_share_of_the_finished_default_plot(size):
    app = DashboardApp(Run.new(Config()), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        for _ in range(200):
            if app.shown_state == State.FINISHED:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        grid = cells(app.plot.rows())
    top, bottom, c0, c1 = frame_box(grid)
    width = c1 - c0
    counts = style_counts(grid)
    key = "".join(ch for ch, _ in grid[0])
    for style, glyph in (("dots", "•"), ("ema", "⠒"), ("exact", "▀"), ("guess", "┄"), ("floor", "┄")):
        assert (glyph, style) in grid[0], f"the key does not show {style}: {key!r}"
    both = counts.get("both", 0)  # a cell the two lines share shows both
    assert counts.get("ema", 0) + both >= width // 2, counts  # the moving average: about a cell a column
    assert counts.get("exact", 0) + both >= width // 3, counts  # the whole-data loss, even where they share
    assert counts.get("guess", 0) >= width // 2 and counts.get("floor", 0) >= width // 4, counts
    assert counts.get("dots", 0) >= width // 4, counts
    text = ["".join(ch for ch, _ in row) for row in grid]
    assert any("guess" in t[c1:] for t in text) and any("floor" in t[c1:] for t in text)  # labels in the margin


def test_the_key_names_every_line_at_every_width():
    run = Run.new(Config(num_steps=300))
    run.track_exact()
    for _ in run.steps():
        pass
    for width in range(20, 301, 7):
        state = PlotState.for_run(figures(run))
        key = cells(render_plot(figures(run), state, width, 20))[0]
        styles = {st for _, st in key}
        assert {"dots", "ema", "exact", "guess", "floor"} <= styles, (width, key)


# --- the "left to learn" view ----------------------------------------------------------------------
def test_the_left_to_learn_view_is_a_log_axis_of_the_gap_to_the_floor():
    run = Run.new(Config(num_steps=1000))
    run.track_exact()
    for _ in run.steps():
        pass
    state = PlotState.for_run(figures(run))
    grid = cells(render_plot(figures(run, gap=True), state, 90, 30))
    text = ["".join(ch for ch, _ in row) for row in grid]
    assert text[0].startswith("left to learn (log)")
    top, bottom, c0, c1 = frame_box(grid)
    ticks = [float(t[:c0 - 1]) for t in text[top + 1 : bottom] if t[c0 - 1] == "┤"]
    assert len(ticks) >= 3 and ticks == sorted(ticks, reverse=True)
    assert all(round(v / 10 ** math.floor(math.log10(v)), 6) in (1, 2, 5) for v in ticks)
    gap = run.dataset_loss() - run.reference.floor
    assert ticks[-1] <= gap <= ticks[0]  # the finished run's gap is on the axis
    rows = [r for r in range(top + 1, bottom) for c in range(c0, c1) if grid[r][c][1] == "exact"]
    assert rows[0] < rows[-1]  # it falls from left to right: rows grow downwards


# --- divergence ---------------------------------------------------------------------------------------
def test_a_diverged_run_keeps_its_curve_and_marks_the_step():
    run = Run.new(Config(num_steps=1000, learning_rate=1e150))
    run.track_exact()
    for _ in run.steps():
        pass
    assert run.diverged_at is not None
    grid = cells(render_plot(figures(run), PlotState.for_run(figures(run)), 100, 30))
    text = "".join(ch for ch, _ in grid[0])
    assert f"diverged at step {run.diverged_at + 1}" in text
    top, bottom, c0, c1 = frame_box(grid)
    marked = {c for r in range(top + 1, bottom) for c in range(c0, c1) if grid[r][c] == ("┆", "diverged")}
    assert len(marked) == 1
    frame_marks = [ch for r in (top, bottom) for ch, st in grid[r][c0:c1] if st == "dots"]  # beyond the axis
    counts = style_counts(grid)
    assert counts.get("dots", 0) + counts.get("ema", 0) + len(frame_marks) >= 1  # the steps before it are drawn


# --- earlier runs and learning-rate changes -----------------------------------------------------------
class _Curves:
    """A kept run's lines, read straight from a finished run (the engine's RunCurves does the same)."""

    def __init__(self, run: Run):
        self.run = run

    def lines(self, steps):
        ema, track = self.run.history.ema, self.run.exact_track
        idx = np.minimum(steps, len(ema)) - 1
        return np.where(idx >= 0, ema[np.maximum(idx, 0)], np.nan), track.at(steps), np.full(len(steps), np.nan)


def test_an_earlier_run_is_a_dimmed_labelled_line_that_holds_still():
    from tui.widgets.loss_plot import Ghost

    old = Run.new(Config(learning_rate=0.3))
    old.track_exact()
    for _ in old.steps():
        pass
    run = Run.new(Config())
    run.track_exact()
    gen = run.steps()
    frames = []
    state = None
    for k in (100, 400):
        while run.step < k:
            next(gen)
        fig = PlotFigures(run.history, run.exact_track, 1000, 1.0, run.reference.random_guess, run.reference.floor,
                          ghosts=(Ghost("lr 0.3", _Curves(old), colour=2),), lr_changes=((0, 1.0), (50, 0.5)))
        state = state or PlotState.for_run(fig)
        frames.append((state.buckets.current // 2 if state.buckets else 0, cells(render_plot(fig, state, 80, 24))))
    (_, a), (_, b) = frames
    top, bottom, c0, c1 = frame_box(b)
    ghost_cells = [(r, c) for r in range(top + 1, bottom) for c in range(c0, c1) if b[r][c][1] == "line-2"]
    assert len(ghost_cells) >= (c1 - c0) // 2  # the whole earlier run, under this one
    assert any("lr 0.3" in "".join(ch for ch, _ in row[c1:]) for row in b)  # labelled in the margin
    key = "".join(ch for ch, _ in b[0])
    assert any(st == "line-2" and "⠒" in t for t, st in b[0]) and "lr 0.5" in key  # the key names both
    marker = [(r, c) for r in range(top + 1, bottom) for c in range(c0, c1) if b[r][c] == ("╎", "lr")]
    assert marker and {c for _, c in marker} == {c0 + 50 * (c1 - c0) // 1000}
    newest = frames[0][0]
    for r in range(top + 1, bottom):  # with a ghost on it, the plot still holds still
        assert a[r][: c0 + newest] == b[r][: c0 + newest]


def test_the_key_never_shows_a_kept_runs_mark_without_a_word():
    """QA: at 80x24 the key read `... ┄floor ⠒ ┆ diverged`: a bare ⠒ for the kept runs, which says nothing."""
    from tui.plumbing.plot_render import Ghost

    old = Run.new(Config(num_steps=300))
    old.track_exact()
    for _ in old.steps():
        pass
    run = Run.new(Config(num_steps=300))
    run.track_exact()
    gen = run.steps()
    for _ in range(50):
        next(gen)
    fig = PlotFigures(run.history, run.exact_track, 300, 1.0, run.reference.random_guess, run.reference.floor,
                      ghosts=(*[Ghost(f"{n} lr 0.{n}", _Curves(old), colour=n, variant=True) for n in (3, 4, 6)],
                              Ghost("lr 0.3", _Curves(old), colour=2)), diverged_at=49)  # a race, a kept run
    for width in range(64, 130, 3):
        key = cells(render_plot(fig, PlotState.for_run(fig), width, 20))[0]
        kept = "".join(ch for ch, st in key if st == "line-2")
        assert kept.strip() not in ("", "⠒"), (width, "".join(ch for ch, _ in key))


@pytest.fixture(scope="module")
def held_out_run() -> Run:
    run = Run.new(Config(num_steps=1000, holdout=0.1))
    run.track_exact()
    for _ in run.steps():
        pass
    return run


@pytest.mark.parametrize("size", [(120, 40), (84, 23), (56, 14)])
def test_the_held_out_loss_shows_where_it_shares_a_cell_with_the_whole_data_loss(held_out_run, size):
    """QA: with the default model the held-out loss stays within a row of the whole-data loss all run
    long, and its ▪ was drawn under the whole-data half blocks: the key said `▪ held-out` and not one
    cell of the plot was magenta. A cell of both is now ▀ in the two colours, in their order. (Where
    the moving average shares the cell too, its braille and the whole-data tint win: at 56x14, the
    plot's size in an 80x24 terminal, most cells are such.)"""
    from plot_grid import cells, figures, frame_box

    fig = figures(held_out_run)
    grid = cells(render_plot(fig, PlotState.for_run(fig), *size))
    top, bottom, left, right = frame_box(grid)
    cols = [c for c in range(left, right)
            if any(grid[r][c][1] in ("heldout", "exact-heldout", "heldout-exact") for r in range(top + 1, bottom))]
    assert all(grid[r][c][0] == "▀" for r in range(top + 1, bottom) for c in range(left, right)
               if grid[r][c][1] in ("exact-heldout", "heldout-exact"))
    share = len(cols) / (right - left)
    assert share >= (0.05 if size == (56, 14) else 0.3), (len(cols), right - left)


@pytest.mark.parametrize("offset", [0.004, -0.004])
def test_a_cell_the_held_out_and_whole_data_losses_share_shows_them_in_their_order(held_out_run, offset):
    """QA round 2: the shared cell drew the whole-data half block on magenta whichever half it was in, so
    magenta showed below orange where the held-out loss was above the whole-data loss. Now ▀ carries the
    higher loss's colour on top: held-out above (offset > 0) is magenta over orange, below is the reverse."""
    from plot_grid import cells, frame_box

    run = held_out_run
    t = run.exact_track
    n = len(t)
    track = ExactTrack.from_arrays(t.num_steps, math.ceil(t.num_steps / t.every), t.steps[:n], t.values[:n],
                                   t.values[:n] + offset)
    track.every = t.every
    ref = run.reference
    fig = PlotFigures(run.history, track, run.config.num_steps, run.config.learning_rate, ref.random_guess,
                      ref.floor, run.diverged_at)
    grid = cells(render_plot(fig, PlotState.for_run(fig), 120, 40))
    top, bottom, left, right = frame_box(grid)
    shared = [grid[r][c] for r in range(top + 1, bottom) for c in range(left, right)
              if grid[r][c][1] in ("exact-heldout", "heldout-exact")]
    assert len(shared) >= 10
    assert {style for _, style in shared} == {"heldout-exact" if offset > 0 else "exact-heldout"}
    assert {ch for ch, _ in shared} == {"▀"}


def test_each_side_of_the_range_grows_by_its_own_steps():
    """QA round 2: at smoothing 0 (a line of every step's own loss, 1.8 to 4.2) the refitted axis went from
    0 to 5: after two steps up, the first step down was already two spans (one count for both sides)."""
    rng = LossRange(random_guess=3.3, floor=2.33)
    span, lo0, hi0 = rng.span, rng.lo, rng.hi
    assert rng.include(1.8, 4.2)
    assert rng.hi == pytest.approx(hi0 + 0.5 * span + span)  # up: half a span, then one
    assert rng.lo == pytest.approx(lo0 - 0.5 * span)  # down: its own first step, half a span
    assert rng.lo <= 1.8 and rng.hi >= 4.2 and rng.growths == 3
