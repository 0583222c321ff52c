"""The loss plot drawn as text, with no Textual (the widget, the export and a headless picture can all
use it): the run's steps along x (fixed from 0 to the run's length), and on y each column's
one-name losses (their lowest and highest, faint dots), the moving average (a braille line), the
exact whole-data loss (half blocks) and the two reference lines, labelled in the right margin; kept
runs (or race variants) as braille lines each in its own colour, labelled in the margin beside where
each line ends (or left out where other labels hold those rows). A key line above says which is which;
under the x axis the learning rate, its figure in the margin never cut (written shorter to fit). `l`
switches to the "left to learn" view: whole-data loss minus the
bigram floor on a log axis.

The y axis is exact (engine.curve.fit_axis): one linear map from value to row, ticks an equal whole
number of rows apart, each tick's value its row's centre, and every line drawn by that map. A one-name
loss beyond the axis is marked on the frame (▴ on the top edge, ▾ on the bottom one), never inside the
data. Where the moving average and the whole-data loss share a cell, the cell shows both: the average's
braille dots with the whole-data loss's half added as dots, on the whole-data colour ("both").

The plot builds, it does not bounce: the x axis and every column's steps are fixed by the run's
length and the plot's width (engine.curve.CurveBuckets), the y range is fixed for the run and only
grows in coarse steps (engine.curve.LossRange), and each column is drawn from its own figures (a line
joins the previous column's last value within the new column), so a column the run has passed is
never redrawn differently; the current column is drawn as it fills.

A cursor (the mouse over a column, or `,` / `/`) marks a column and turns the key line into a reading
of every line there (engine figures: CurveBuckets.span, lr_used).

`render_plot()` is a pure function from the figures to rows of (text, style name) runs; the style
names are the widget's component classes (tui/widgets/loss_plot.py), and a line's colour index
(tui/plumbing/line_colours.py) names its colour wherever it is drawn.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine import LossHistory
from engine.curve import Axis, CurveBuckets, ExactTrack, GapRange, LossRange, fit_axis, lr_used
from tui.plumbing import wording
from tui.plumbing.line_colours import LINE_STYLES, line_style
from tui.plumbing.margin_side import on_its_side
from tui.plumbing.wording import learning_rate

Run_ = list[tuple[str, str]]  # runs of (text, style name) making one row

STYLES = ("axis", "dots", "ema", "exact", "both", "guess", "floor", "diverged", "lr", "lr-future", "title",
          "heldout", "exact-heldout", "heldout-exact", "cursor", "epoch", "now", *LINE_STYLES)
BLOCKS = " ▁▂▃▄▅▆▇█"
BRAILLE_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # [sub-column][sub-row]
HALF_BITS = (0x01 | 0x02 | 0x08 | 0x10, 0x04 | 0x40 | 0x20 | 0x80)  # a cell's top / bottom half in braille
DOT, EXACT_UP, EXACT_DOWN, REF, DIVERGED = "•", "▀", "▄", "┄", "┆"
ABOVE, BELOW = "▴", "▾"  # on the frame: a one-name loss in this column beyond the top / bottom of the axis
HELDOUT, CURSOR, EPOCH, BASELINE = "▪", "│", "┴", "◆"


@dataclass
class PlotFigures:
    """What the app hands down each frame (all read-only for the widget)."""

    history: LossHistory  # the live run's losses and moving average (its smoothing weight)
    track: ExactTrack | None  # its whole-data loss at fixed steps
    num_steps: int
    learning_rate: float  # at step 0; the rate falls linearly to 0
    random_guess: float
    floor: float
    diverged_at: int | None = None  # 0-based step whose loss was not finite
    gap_view: bool = False  # the "left to learn" view
    ghosts: tuple[Ghost, ...] = ()  # earlier runs of the session (or race variants), under this one
    lr_changes: tuple[tuple[int, float], ...] = ()  # (step, new base) where the rate was changed mid-run
    epoch_steps: int = 0  # steps in one pass over the training names (0: not marked)
    schedule: str = "linear"  # the learning rate's schedule over the run (engine.train.decay)
    gradient: str = "name"  # each step's gradient: one name's, or the whole data's (a step's loss is then that)
    taken: int = -1  # the steps taken as the frame's snapshot says (the step and status lines' step); -1: live

    @property
    def steps_taken(self) -> int:
        """The steps the frame shows as taken: the snapshot's (the training thread may be steps ahead)."""
        return self.taken if self.taken >= 0 else len(self.history)


class Curves(Protocol):
    def lines(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(moving average, whole-data loss, held-out loss) at each of `steps` (steps taken)."""


@dataclass(frozen=True)
class Ghost:
    """A line beside the current run's: a kept run or a race variant."""

    label: str  # what it is ("#2 lr 0.5", "seed 7"); shown in full in the margin
    curves: Curves
    colour: int = 0  # its colour index (tui.plumbing.line_colours): the same wherever it is named
    baseline: bool = False  # the run the others are compared with: drawn thicker, its label marked ◆
    variant: bool = False  # a race's variant (its label starts with its number), not a kept run

    @property
    def style(self) -> str:
        return line_style(self.colour)

    @property
    def tag(self) -> str:
        """Its short name in the cursor's reading: the label's first word ("#2")."""
        return (self.label.split() or ["run"])[0]


@dataclass
class PlotState:
    """Per-run memory of the plot: its y ranges (fixed for the run) and its buckets per width."""

    loss_range: LossRange
    gap_range: GapRange
    buckets: CurveBuckets | None = None
    smoothing: float = math.nan  # the moving average's weight the buckets were computed with
    range_weight: float = math.nan  # the weight loss_range has grown for

    def refit(self, figures: PlotFigures) -> None:
        """A new smoothing weight (not the first seen): its line may span much less than the last one (at
        weight 0 it is every step's own loss), so the y range is fitted to it afresh; it was only grown."""
        weight = figures.history.weight
        if weight != self.range_weight:
            if self.range_weight == self.range_weight:
                self.loss_range = LossRange(figures.random_guess, figures.floor)
            self.range_weight = weight

    @classmethod
    def for_run(cls, figures: PlotFigures) -> PlotState:
        return cls(LossRange(figures.random_guess, figures.floor), GapRange(figures.random_guess - figures.floor))

    def buckets_for(self, figures: PlotFigures, n: int) -> CurveBuckets:
        weight = figures.history.weight
        if (self.buckets is None or self.buckets.n != n or self.buckets.num_steps != figures.num_steps
                or weight != self.smoothing):  # a new smoothing: the whole line again
            self.buckets, self.smoothing = CurveBuckets(figures.num_steps, n), weight
        self.buckets.update(figures.history, figures.track)
        return self.buckets


# --- numbers on the axes ---------------------------------------------------------------------------
def tick_label(value: float, step: float) -> str:
    decimals = max(1, -math.floor(math.log10(step) + 1e-9) + (0 if round(step / 10 ** math.floor(
        math.log10(step) + 1e-9), 6) in (1, 2, 5) else 1))
    return f"{value:.{decimals}f}"


def step_label(step: int) -> str:
    if step >= 1_000_000 and step % 100_000 == 0:
        return f"{step / 1_000_000:g}M"
    if step >= 10_000 and step % 1000 == 0:
        return f"{step // 1000}k"
    return str(step)


def figure(value: float, width: int = 7) -> str:
    """A number in at most `width` characters: fixed point, or scientific when it is huge or tiny."""
    if not math.isfinite(value):
        return "--"
    value += 0.0  # no "-0.000"
    text = f"{value:.3f}"
    return text if len(text) <= width else f"{value:.1e}"


def rate_in(value: float, room: int) -> str:
    """A learning rate in at most `room` characters, never cut: as the step line writes it if that fits,
    else the closest shorter writing within 5% of it ("2.5e-6" for 2.47e-06, "0.0005" for 0.00050);
    "" when none fits."""
    text = learning_rate(value)
    if len(text) <= room or not math.isfinite(value) or value == 0:
        return text if len(text) <= room else ""
    tries = [f"{value:.{d}f}" for d in (4, 3, 2, 1, 0)]
    for d in (2, 1, 0):
        mantissa, exponent = f"{value:.{d}e}".split("e")
        tries.append(f"{mantissa}e{int(exponent)}")
    fits = [(abs(float(t) - value) / abs(value), i, t) for i, t in enumerate(tries) if len(t) <= room]
    fits = [f for f in fits if f[0] <= 0.05]
    return min(fits)[2] if fits else ""


def per_column(num_steps: int, cols: int) -> str:
    """How many steps (one name each) a column holds: "12", "~12", "2.5"."""
    per = num_steps / max(cols, 1)
    if per <= 1:  # a column holds one step or none
        return "1"
    if per == round(per):
        return f"{per:,.0f}"
    if per >= 10:
        return f"~{per:,.0f}"
    text = f"{per:.1f}"
    return f"~{text[:-2]}" if text.endswith(".0") else f"~{text}"  # ~3, not ~3.0 (200 steps on 67 columns)


# --- geometry -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    label_w: int  # y labels and the left axis line
    margin_w: int  # right of the frame: labels of the reference lines and of the kept runs
    rows: int  # data rows
    x_labels: bool
    lr_row: bool

    @property
    def data_w(self) -> int:
        return self.width - self.label_w - 1 - self.margin_w


def geometry(width: int, height: int, label_w: int) -> Geometry:
    """The plot's parts at a size: they depend on the size (and the y labels' width) alone, so the plot
    does not narrow when a run is kept."""
    lr_row = height >= 12
    x_labels = height >= 8
    rows = height - 3 - x_labels - lr_row  # key line, top and bottom of the frame
    margin_w = 19 if width >= 100 else 11 if width >= 48 else 6 if width >= 30 else 0
    return Geometry(width, height, label_w, margin_w, max(rows, 1), x_labels, lr_row)


@dataclass(frozen=True)
class Layout:
    """Where everything goes at one size: the parts, the y axis and its labelled rows."""

    geo: Geometry
    axis: Axis
    ticks: dict[int, str]  # row -> label

    @property
    def cols(self) -> int:
        return max(self.geo.data_w, 1)


def plot_layout(figures: PlotFigures, state: PlotState, width: int, height: int) -> Layout:
    rows = geometry(width, height, 0).rows
    if figures.gap_view:
        axis = fit_axis(state.gap_range.lo, state.gap_range.hi, rows, log=True)
        ticks = {r: figure(v, 6) if v < 0.01 else tick_label(v, v) for v, r in axis.ticks()}
    else:
        axis = fit_axis(state.loss_range.lo, state.loss_range.hi, rows)
        ticks = {r: tick_label(v, axis.tick_step) for v, r in axis.ticks()}
    label_w = max((len(s) for s in ticks.values()), default=3) + 1
    return Layout(geometry(width, height, label_w), axis, ticks)


# --- the pure renderer ----------------------------------------------------------------------------
class _Canvas:
    """The data area: one character and one style name per cell."""

    def __init__(self, rows: int, cols: int):
        self.rows, self.cols = rows, cols
        self.ch = [[" "] * cols for _ in range(rows)]
        self.st = [["axis"] * cols for _ in range(rows)]

    def put(self, r: int, c: int, ch: str, st: str) -> None:
        self.ch[r][c], self.st[r][c] = ch, st


def _per_cell(values: np.ndarray) -> np.ndarray:
    """A line's value per cell: its second sub-column's (the first's in a half-drawn last cell)."""
    k = len(values)
    return values[np.minimum(np.arange((k + 1) // 2) * 2 + 1, k - 1)] if k else values


def _cell_of(b: CurveBuckets, index: int) -> int:
    """The column holding step index `index` (0-based)."""
    bucket = int(np.searchsorted(b.edges[1:], index, side="right"))
    return min(bucket, b.n - 1) // 2


def _draw_heldout(canvas: _Canvas, axis: Axis, heldout: np.ndarray) -> None:
    """The held-out loss: a small square a column, over the dots, under this run's two lines."""
    values = _per_cell(heldout)
    for c, (r, ok) in enumerate(zip(axis.sub(values, 1).tolist(), (values == values).tolist())):
        if ok:
            canvas.put(r, c, HELDOUT, "heldout")


def _draw_dots(canvas: _Canvas, axis: Axis, b: CurveBuckets) -> tuple[set[int], set[int]]:
    """Each column's lowest and highest one-name loss as a dot; the columns with one beyond the axis
    (above, below) are returned, to be marked on the frame."""
    k = b.current + 1
    cols = (k + 1) // 2
    lo2, hi2 = np.full(2 * cols, np.nan), np.full(2 * cols, np.nan)
    lo2[:k], hi2[:k] = b.lo[:k], b.hi[:k]
    above: set[int] = set()
    below: set[int] = set()
    with np.errstate(all="ignore"):
        cell_lo = np.fmin(lo2[0::2], lo2[1::2])
        cell_hi = np.fmax(hi2[0::2], hi2[1::2])
        for values in (cell_lo, cell_hi):  # every cell's row at once: numpy per single value is slow
            y = axis.position(values)
            rows = axis.sub(values, 1).tolist()
            for c, (yc, r) in enumerate(zip(y.tolist(), rows)):
                if yc != yc:  # NaN: no steps in this column yet
                    continue
                if yc < -0.5:
                    above.add(c)
                elif yc >= axis.rows - 0.5:
                    below.add(c)
                else:
                    canvas.put(r, c, DOT, "dots")
    return above, below


def _braille(axis: Axis, line: np.ndarray, thick: bool = False) -> dict[tuple[int, int], int]:
    """A line as braille bits per cell (two sub-columns per cell, four sub-rows per row); each
    sub-column joins the previous one's value. `thick`: the sub-rows above and below too."""
    subs = axis.sub(line, 4).tolist()
    bits: dict[tuple[int, int], int] = {}
    last = 4 * axis.rows - 1
    prev = None
    for j, (s, ok) in enumerate(zip(subs, (line == line).tolist())):
        if not ok:
            continue
        a, z = (s, s) if prev is None else (min(prev, s), max(prev, s))
        col = BRAILLE_BITS[j % 2]
        for y in range(max(a - thick, 0), min(z + thick, last) + 1):
            key = (y // 4, j // 2)
            bits[key] = bits.get(key, 0) | col[y % 4]
        prev = s
    return bits


def _draw_ema_and_exact(canvas: _Canvas, axis: Axis, ema: np.ndarray, exact: np.ndarray,
                        heldout: np.ndarray | None = None) -> None:
    """The whole-data loss as half blocks, the moving average as braille; a cell they share shows
    both (the average's dots and the whole-data half as dots, style "both"), so neither breaks. A cell
    the whole-data half shares with the held-out ▪ shows both too, in their order: ▀ with the higher
    loss's colour on top and the lower's below (style "exact-heldout": whole-data above; "heldout-exact":
    held-out above). With the default model the two losses stay within a row of each other all run long,
    and the ▪ under the half block was nowhere to be seen."""
    values = _per_cell(exact)
    held = _per_cell(heldout).tolist() if heldout is not None else []
    halves = {}
    for c, (s, ok) in enumerate(zip(axis.sub(values, 2).tolist(), (values == values).tolist())):
        if ok:
            r = s // 2
            halves[(r, c)] = s % 2
            if canvas.st[r][c] == "heldout" and c < len(held):
                above = "heldout-exact" if held[c] > values[c] else "exact-heldout"
                canvas.put(r, c, EXACT_UP, above)
            else:
                canvas.put(r, c, EXACT_UP if s % 2 == 0 else EXACT_DOWN, "exact")
    for (r, c), mask in _braille(axis, ema).items():
        if (r, c) in halves:
            canvas.put(r, c, chr(0x2800 + (mask | HALF_BITS[halves[(r, c)]])), "both")
        else:
            canvas.put(r, c, chr(0x2800 + mask), "ema")


def _draw_ghost_line(canvas: _Canvas, axis: Axis, line: np.ndarray, ghost: Ghost) -> None:
    for (r, c), mask in _braille(axis, line, ghost.baseline).items():
        if canvas.st[r][c] in LINE_STYLES and "\u2800" <= canvas.ch[r][c] <= "\u28ff":
            if canvas.st[r][c] == ghost.style:  # its own line: merge; another's: the later one wins
                mask |= ord(canvas.ch[r][c]) - 0x2800
        canvas.put(r, c, chr(0x2800 + mask), ghost.style)


def _ghost_lines(figures: PlotFigures, b: CurveBuckets) -> list[np.ndarray]:
    """Each ghost's line at the buckets' ends: its moving average, or its gap in the left-to-learn view."""
    out = []
    for ghost in figures.ghosts:
        ema, exact, _ = ghost.curves.lines(b.edges[1:])
        if figures.gap_view:
            with np.errstate(invalid="ignore"):
                gap = exact - figures.floor
            out.append(np.where(gap > 0, gap, np.nan))
        else:
            out.append(ema)
    return out


def _mark_column(canvas: _Canvas, c: int, ch: str, style: str, over_all: bool = True) -> None:
    for r in range(canvas.rows):
        if over_all or canvas.st[r][c] == "axis":
            canvas.put(r, c, ch, style)


def render_plot(figures: PlotFigures, state: PlotState, width: int, height: int,
                cursor: int | None = None) -> list[Run_]:
    """The plot as `height` rows of (text, style name) runs, each row `width` cells wide; with `cursor`
    (a data column) that column is marked and the key line reads every line there."""
    gap = figures.gap_view
    state.refit(figures)
    lay = plot_layout(figures, state, width, height)
    cols, axis = lay.cols, lay.axis
    b = state.buckets_for(figures, 2 * cols)  # two braille sub-columns per cell
    ema, exact = b.lines()
    if gap:
        exact = exact - figures.floor
        if state.gap_range.include(float(np.nanmin(exact)) if np.isfinite(exact).any() else math.nan):
            return render_plot(figures, state, width, height, cursor)
    elif state.loss_range.include(_finite_min(ema, exact), _finite_max(ema, exact)):
        return render_plot(figures, state, width, height, cursor)
    canvas = _Canvas(axis.rows, cols)
    refs = _references(figures, gap)
    for value, name, _ in refs:
        if axis.inside(value):
            _draw_reference(canvas, axis.row(value), name)
    if figures.diverged_at is not None:
        _mark_column(canvas, _cell_of(b, figures.diverged_at), DIVERGED, "diverged")
    for step, _ in figures.lr_changes[1:]:  # the first entry is the run's start
        _mark_column(canvas, _cell_of(b, step), "╎", "lr", over_all=False)
    ghost_lines = _ghost_lines(figures, b)
    for ghost, line in zip(figures.ghosts, ghost_lines):
        _draw_ghost_line(canvas, axis, line, ghost)
    above: set[int] = set()
    below: set[int] = set()
    if not gap:
        above, below = _draw_dots(canvas, axis, b)
        if figures.track is not None and figures.track.heldout_values is not None:
            held = b.heldout_line()
            _draw_heldout(canvas, axis, held)
        else:
            held = None
        _draw_ema_and_exact(canvas, axis, ema, exact, held)
    else:
        values = np.where(exact > 0, exact, np.nan)
        _draw_ema_and_exact(canvas, axis, np.full(0, np.nan), values)
    if cursor is not None and 0 <= cursor < cols:
        _mark_column(canvas, cursor, CURSOR, "cursor", over_all=False)
    margin = _margin(figures, lay, refs, ghost_lines)
    top_line = _reading(figures, b, cursor, width) if cursor is not None and 0 <= cursor < cols \
        else _key(figures, width, per_column(figures.num_steps, cols))
    return _frame(figures, lay, canvas, margin, top_line, b, above, below)


def _draw_reference(canvas: _Canvas, r: int, name: str) -> None:
    for c in range(canvas.cols):
        canvas.put(r, c, REF, name)


def _finite_min(*arrays: np.ndarray) -> float:
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays])
    return float(vals.min()) if len(vals) else math.nan


def _finite_max(*arrays: np.ndarray) -> float:
    vals = np.concatenate([a[np.isfinite(a)] for a in arrays])
    return float(vals.max()) if len(vals) else math.nan


def _references(figures: PlotFigures, gap: bool) -> list[tuple[float, str, str]]:
    """(value, style, margin label) of each reference line."""
    if gap:
        start = figures.random_guess - figures.floor
        return [(start, "guess", f"start {figure(start, 5)}")]
    return [(figures.random_guess, "guess", f"random guess {figure(figures.random_guess, 5)}"),
            (figures.floor, "floor", f"bigram floor {figure(figures.floor, 5)}")]


def _short(label: str) -> str:
    """A reference line's label for a narrow margin: its last word and its value."""
    words = label.split()
    value = float(words[-1])
    return f"{words[-2]} {value:.2f}" if abs(value) < 100 else f"{words[-2]} {words[-1]}"


def _margin(figures: PlotFigures, lay: Layout, refs: list[tuple[float, str, str]],
            ghost_lines: list[np.ndarray]) -> dict[int, tuple[str, str]]:
    """Row -> (style, text) of the right margin: each reference line's label on its row, then each
    ghost's label beside where its line ends: whole (wrapped over rows if need be) on a block of free rows
    holding the row its line ends on, or else just next to it; failing that its first word alone (the
    variant's number, the kept run's #) on that row or the next; where those are all other labels', it is
    left out (the key line and views 7 and 8 still name it). Labels keep the order of their lines' ends (a
    higher end, a higher label), are never moved further from their lines, and never go across a reference
    line from the side their line ends on (tui.plumbing.margin_side, shared with the exported picture).
    Where labels would take the same rows, the one placed first has them: a race's variants' before kept
    runs', and among those one-row labels first, then either the lines in their order or the lowest line
    first (the lowest loss: a race's best), whichever labels more lines (variants first); on a tie, the
    lowest first."""
    mw, rows, axis = lay.geo.margin_w, lay.geo.rows, lay.axis
    out: dict[int, tuple[str, str]] = {}
    if not mw:
        return out
    ref_at: dict[int, float] = {}
    for v, name, label in refs:
        if axis.inside(v):
            text = label if mw >= 19 else _short(label) if mw >= 11 else label.split()[-1]
            out.setdefault(axis.row(v), (name, text[: mw - 1]))
            ref_at.setdefault(axis.row(v), float(axis.position(v)[0]))
    labels = []
    for ghost, line in zip(figures.ghosts, ghost_lines):
        finite = line[np.isfinite(line)]
        if not len(finite):
            continue
        label = (BASELINE + " " if ghost.baseline else "") + ghost.label
        parts = [p if len(p) < mw else p[: mw - 2] + "…"  # a word too long for the margin is cut, marked
                 for p in textwrap.wrap(label, mw - 1, break_on_hyphens=False, break_long_words=False)] or [label]
        at = min(max(float(axis.position(float(finite[-1]))[0]), 0.0), rows - 1.0)
        end = axis.row(float(finite[-1]))  # the row its line ends on (the edge row if beyond the axis)
        labels.append(_Label(ghost, label, parts, at, end))
    # the live variants' labels first: a kept run's never takes the rows of a line still being drawn; then
    # one-row labels first: a wrapped one takes no row another needs whole
    given = sorted(labels, key=lambda g: (not g.ghost.variant, len(g.parts)))
    lowest = sorted(labels, key=lambda g: (not g.ghost.variant, len(g.parts), -g.at))
    tries = [_place(lowest, dict(out), rows, mw, ref_at), _place(given, dict(out), rows, mw, ref_at)]
    return max(tries, key=lambda placed: (sum(g.ghost.variant for g in placed[1]), len(placed[1])))[0]


@dataclass(frozen=True)
class _Label:
    ghost: Ghost
    label: str  # in full
    parts: list[str]  # wrapped to the margin
    at: float  # where its line ends, as a row coordinate
    end: int  # the row its line ends on (the edge row if beyond the axis)


def _place(labels: list[_Label], out: dict[int, tuple[str, str]], rows: int, mw: int,
           refs: dict[int, float]) -> tuple[dict[int, tuple[str, str]], list[_Label]]:
    """`labels` placed in this order into the margin `out` (see _margin): the margin, and those placed.
    `refs`: the rows of the reference lines' labels -> where each line is (a row coordinate)."""
    placed: list[tuple[float, int]] = []  # (where a ghost's line ends, as a row coordinate; its label's row)
    shown: list[_Label] = []

    def fits(start: int, n: int, at: float) -> bool:
        if start < 0 or start + n > rows or any(start + i in out for i in range(n)):
            return False
        if not on_its_side(start, start + n - 1, at, refs.values()):  # QA: a variant that ended above the
            return False  # floor, on the row of its label, was labelled on the row under it (read: below it)
        return all((start - row) * (at - end) >= 0 for end, row in placed)  # never out of order

    for g in labels:
        ghost, label, parts, at, end = g.ghost, g.label, g.parts, g.at, g.end
        n = len(parts)
        first = " ".join(label.split()[: 2 if ghost.baseline else 1])[: mw - 1]
        tries = [(s, parts) for s in dict.fromkeys((end, end - n + 1, end + 1, end - n))]
        tries += [(s, [first]) for s in (end, end - 1, end + 1)] if n > 1 or parts[0] != first else []
        for start, block in tries:
            if fits(start, len(block), at):
                for i, part in enumerate(block):
                    out[start + i] = (ghost.style, part)
                placed.append((at, start))
                shown.append(g)
                break
    return out, shown


MAX_EPOCH_MARKS = 16  # more passes than this over the names: their ends would fill the x axis; none marked


def marks_epochs(figures: PlotFigures) -> bool:
    """Are the ends of the passes over the names marked on the x axis (runs of 2 to MAX_EPOCH_MARKS passes)?"""
    steps, per = figures.num_steps, figures.epoch_steps
    return bool(per) and per < steps <= MAX_EPOCH_MARKS * per


def _key(figures: PlotFigures, width: int, per: str) -> Run_:
    """The one-line key above the plot: every line, its glyph, its style; shorter when narrow."""
    w = figures.history.weight
    whole = figures.gradient == "data"  # each step's loss is the whole data's (full-batch gradient descent)
    names = ("one step" if per == "1" else f"{per} steps") if whole else ("one name" if per == "1" else f"{per} names")
    dots = "whole-data loss" if whole else "one-name loss"
    if figures.gap_view:
        long = [("left to learn (log) ", "title"), ("▀ whole-data loss − bigram floor", "exact"), ("  ", "axis"),
                ("┄ at the start", "guess")]
        short = [("left to learn ", "title"), ("▀ whole-data − floor", "exact"), (" ", "axis"), ("┄ start", "guess")]
        compact = short
        tiny = [("gap ", "title"), ("▀ data−floor", "exact")]
    else:
        long = [(f"• lowest & highest {dots} of the {names} in a column (▴▾ beyond)", "dots"), ("  ", "axis"),
                (f"⠒ moving average, smoothing weight {w:g}", "ema"), ("  ", "axis"), ("▀ whole-data", "exact"),
                ("  ", "axis"), ("⣿ both", "both"), ("  ", "axis"), ("┄ random guess", "guess"),
                ("  ", "axis"), ("┄ bigram floor", "floor")]
        # in a whole-data run a dot is a whole-data loss: every form with room for a word says so
        # ▴▾: a lo/hi beyond the axis, marked on the frame (in long runs every column's are: QA saw ▴▾ unexplained)
        dots_short = ("• ▴▾ whole-data loss" if per == "1" else f"• ▴▾ whole-data lo/hi of {names}") if whole \
            else f"• ▴▾ lo/hi of {names}"  # "lo/hi": room for the smoothing's weight at 110 columns
        short = [(dots_short, "dots"), (" ", "axis"), (f"⠒ avg (weight {w:g})", "ema"), (" ", "axis"),
                 ("▀ whole-data", "exact"), (" ", "axis"), ("⣿ both", "both"), (" ", "axis"), ("┄ guess", "guess"),
                 (" ", "axis"), ("┄ floor", "floor")]
        data = "whole-data " if whole else ""
        compact = [(f"• ▴▾ {data}lo/hi of {per}", "dots"), (" ", "axis"), ("⠒ avg", "ema"), (" ", "axis"),
                   ("▀ whole-data", "exact")] + short[7:]  # without "⣿ both" and the smoothing's weight
        tiny = [(f"•▴▾{data}lo/hi {per}", "dots"), (" ", "axis"), ("⠒avg", "ema"), (" ", "axis"), ("▀data", "exact"),
                (" ", "axis"), ("┄guess", "guess"), (" ", "axis"), ("┄floor", "floor")]
    variants = [g for g in figures.ghosts if g.variant]
    if variants:  # a race: each other variant's line by its number, in its colour (view 8 names them)
        marks = [(f"⠒{g.tag} ", g.style) for g in variants]
        long, short = long + [("  variants ", "axis")] + marks, short + [(" ", "axis")] + marks
        compact, tiny = compact + [(" ", "axis")] + marks, tiny + [(" ", "axis")] + marks
    kept = [g for g in figures.ghosts if not g.variant]
    if kept:
        first = kept[0].style
        long, short, compact, tiny = (long + [("  ", "axis"), ("⠒ kept runs (labels at right)", first)],
                                      short + [(" ", "axis"), ("⠒ kept runs", first)],
                                      compact + [(" ", "axis"), ("⠒ kept", first)],
                                      tiny + [(" ", "axis"), ("⠒kept", first)])  # never a bare ⠒ (QA)
        if any(g.baseline for g in figures.ghosts):
            base = next(g.style for g in figures.ghosts if g.baseline)
            long, short = long + [("  ", "axis"), ("◆ baseline (thick)", base)], short + [(" ", "axis"),
                                                                                      ("◆ baseline", base)]
    if figures.track is not None and figures.track.heldout_values is not None and not figures.gap_view:
        held = [(" ", "axis"), ("▪ held-out", "heldout")]
        long, short, compact = long + held, short + held, compact + held
        tiny = tiny + [(" ", "axis"), ("▪held", "heldout")]
    if marks_epochs(figures):
        long, short = long + [("  ", "axis"), ("┴ a pass over the names ends", "epoch")], \
            short + [(" ", "axis"), ("┴ pass ends", "epoch")]
        compact = compact + [(" ", "axis"), ("┴ pass", "epoch")]
    if len(figures.lr_changes) > 1:
        at, new_base = figures.lr_changes[-1]
        long = long + [("  ", "axis"), (f"╎ lr base {figure(new_base, 7)} from step {at:,}", "lr")]
        short, tiny = short + [(" ", "axis"), (f"╎ lr {figure(new_base, 7)}", "lr")], tiny + [("╎", "lr")]
        compact = compact + short[-2:]
    glyphs = [(t[0], st) for t, st in tiny if t.strip()]  # the glyphs alone, in the same order
    if not figures.gap_view:
        glyphs[0] = (f"•lo/hi{per}", "dots")  # what a dot is, at every width
    if figures.diverged_at is not None:
        note = [("  ", "axis"), (f"┆ diverged at step {figures.diverged_at + 1:,}", "diverged")]
        long, short = long + note, short + note
        compact, tiny = compact + [(" ┆ diverged", "diverged")], tiny + [(" ┆ diverged", "diverged")]
        glyphs = glyphs + [(" ┆ diverged", "diverged")]
    bare = [("⠒ avg", "ema") if t.startswith("⠒ avg (") else (t, st) for t, st in short]  # short, no weight
    # tiny with the guess's and the floor's glyphs alone (the margin labels those two lines by name),
    # before the glyphs alone drop every word (a race showing a diverged variant at 80 columns)
    lean = [("┄", st) if st in ("guess", "floor") else (t, st) for i, (t, st) in enumerate(tiny)
            if not ((t, st) == (" ", "axis") and 0 < i < len(tiny) - 1 and tiny[i - 1][1] == "guess"
                    and tiny[i + 1][1] == "floor")]
    for runs in (long, short, bare, compact, tiny, lean, glyphs):
        if sum(len(t) for t, _ in runs) <= width:
            return runs
    return glyphs


def _reading(figures: PlotFigures, b: CurveBuckets, cursor: int, width: int) -> Run_:
    """The key line while a column is under the cursor: its steps and every line's value there, named
    (or, when that does not fit, by their glyphs alone, coloured as their lines); what still does not fit
    the width is left out from the end (never cut)."""
    span = b.span(2 * cursor, 2 * cursor + 1, len(figures.history))
    steps = f"{span.first}-{span.last}" if span.last > span.first else f"{span.last}"
    parts: list[tuple[str, str, str]] = []  # (named, by glyph, style)
    track = figures.track
    measured = track is not None and len(track) > 0 and span.last >= track.steps[0]  # (a resumed run: from then)

    def loss(value: float) -> str:  # NaN or past 1000 (a run gone wrong) as the status line says it
        return wording.loss(value) if measured and (value != value or value >= wording.LOSS_CAP) else figure(value)

    before = span.last == 0  # a column left of step 1's (a run shorter than the plot is wide): no step is there
    if before:
        steps = "before step 1"
    elif not span.reached:
        parts.append(("not reached yet", "not yet", "axis"))
    elif figures.gap_view:
        gap = figure(span.exact - figures.floor) if span.exact < wording.LOSS_CAP else loss(span.exact)
        parts.append((f"▀ left to learn {gap}", f"▀ {gap}", "exact"))
    else:
        avg = wording.loss(span.ema) if span.ema >= wording.LOSS_CAP else figure(span.ema)
        lo, hi = (wording.loss(v) if v >= wording.LOSS_CAP else figure(v) for v in (span.lo, span.hi))
        parts += [(f"• {lo}..{hi}",) * 2 + ("dots",),
                  (f"⠒ avg {avg}", f"⠒ {avg}", "ema"),
                  (f"▀ whole-data {loss(span.exact)}", f"▀ {loss(span.exact)}", "exact")]
        if track is not None and track.heldout_values is not None:
            parts.append((f"▪ held-out {loss(span.heldout)}", f"▪ {loss(span.heldout)}", "heldout"))
    end = np.array([span.last])
    for ghost in figures.ghosts:
        g_ema, g_exact, _ = ghost.curves.lines(end)
        value = figure(float(g_exact[0]) - figures.floor if figures.gap_view else float(g_ema[0]))
        tag = f"⠒{ghost.tag}" if ghost.variant else ghost.tag  # a race's variant as the key line names it
        parts.append((f"{tag} {value}",) * 2 + (ghost.style,))
    if span.reached:
        changes = list(figures.lr_changes) or [(0, figures.learning_rate)]
        lr = learning_rate(float(lr_used(changes, figures.num_steps, end, figures.schedule)[0]))
        parts.append((f"lr {lr}",) * 2 + ("lr",))
    word = "" if before else "steps " if span.last > span.first else "step "  # (one step: 'step 3', not 'steps 3')
    named = [(f"{word}{steps}", "title")] + [(f"  {n}", st) for n, _, st in parts]
    if sum(len(t) for t, _ in named) <= width:
        return named
    out: Run_ = [(steps, "title")]  # narrow: by glyphs alone (the help says the first figures are steps)
    used = len(steps)
    for _, short, st in parts:
        if used + 1 + len(short) > width:  # from here on left out: a later, shorter one put in after a gap
            break  # read as if the line left out had no value there (QA: `⠒3 2.439 ⠒6 --`, ⠒5 drawn)
        out.append((" " + short, st))
        used += 1 + len(short)
    return out


def _frame(figures: PlotFigures, lay: Layout, canvas: _Canvas, margin: dict[int, tuple[str, str]], top_line: Run_,
           b: CurveBuckets, above: set[int], below: set[int]) -> list[Run_]:
    geo = lay.geo
    lw, cols, mw = geo.label_w, canvas.cols, geo.margin_w
    out: list[Run_] = [top_line]
    top = "".join(ABOVE if c in above else "─" for c in range(cols))
    out.append([(" " * (lw - 1) + "┌", "axis"), *_marks(top, ABOVE), ("┐" + " " * mw, "axis")])
    for r in range(geo.rows):
        label = lay.ticks.get(r)
        row: Run_ = [((label.rjust(lw - 1) + "┤") if label else (" " * (lw - 1) + "│"), "axis")]
        row += _merge(canvas.ch[r], canvas.st[r])
        if r in margin:
            name, text = margin[r]
            row += [("│", "axis"), ((" " + text).ljust(mw), name)]
        else:
            row += [("│" + " " * mw, "axis")]
        out.append(row)
    x_ticks = _x_ticks(figures.num_steps, cols)
    bottom = [BELOW if c in below else "─" for c in range(cols)]
    if marks_epochs(figures):
        for end in range(figures.epoch_steps, figures.num_steps, figures.epoch_steps):
            bottom[_cell_of(b, end - 1)] = EPOCH
    for c, _ in x_ticks:
        bottom[c] = "┼" if bottom[c] == EPOCH else "┬"
    taken = figures.steps_taken
    if 0 < taken < figures.num_steps:  # the current column's bar, filling as its steps come
        c = _cell_of(b, taken - 1)
        a, z = int(b.edges[2 * c]), int(b.edges[min(2 * c + 2, b.n)])
        if z > a:
            bottom[c] = BLOCKS[1 + min(7, (taken - a) * 7 // (z - a))]
    out.append([(" " * (lw - 1) + "└", "axis"), *_marks("".join(bottom), BELOW + EPOCH + "┼" + BLOCKS[1:]),
                ("┘" + " " * mw, "axis")])
    if geo.x_labels:
        line = [" "] * (lw + cols + 1 + mw)
        for c, text in x_ticks:
            start = min(max(lw + c - len(text) // 2, lw), len(line) - len(text))
            line[start : start + len(text)] = list(text)
        line[0:4] = list("step") if lw >= 5 else line[0:4]
        out.append([("".join(line), "axis")])
    if geo.lr_row:
        out.append(_lr_row(figures, geo, cols, b))
    return [_fit(row, geo.width) for row in out[: geo.height]]


def _marks(text: str, marked: str) -> Run_:
    """A frame edge: the marks in `marked` in their styles (▴▾ as dots, ┴ ┼ as pass ends), the rest as axis."""
    style = {ABOVE: "dots", BELOW: "dots", EPOCH: "epoch", "┼": "epoch", **{ch: "now" for ch in BLOCKS[1:]}}
    return _merge(list(text), [style[ch] if ch in marked else "axis" for ch in text])


def _x_ticks(num_steps: int, cols: int) -> list[tuple[int, str]]:
    """(column, label) of each step tick: quarters (halves, ends) of the run rounded to whole steps, each at
    the column of the step it names (a run of 5 steps: 0 1 2 4 5 where the columns of those steps are, not
    at the quarters' columns, which stand for 1.25, 2.5, 3.75); a step named twice is named once."""
    parts = 4 if cols >= 40 else 2 if cols >= 16 else 1
    if num_steps < 100:  # a short run: ticks an equal number of whole steps apart (5 steps: 0 1 2 4 5 was uneven)
        if num_steps <= 2 * parts and cols >= 5 * num_steps:  # (one-digit labels, 5 columns apart at least)
            parts = max(num_steps, 1)  # every step
        else:
            parts = next(p for p in range(parts, 0, -1) if num_steps % p == 0)
    steps = sorted({round(i * num_steps / parts) for i in range(parts + 1)})
    return [(min(round(s * (cols - 1) / max(num_steps, 1)), cols - 1), step_label(s)) for s in steps]


def _lr_row(figures: PlotFigures, geo: Geometry, cols: int, b: CurveBuckets) -> Run_:
    """The learning rate over the run, under the x axis: one block per column, bright where the
    run has been, dim ahead of it; a change mid-run shows as a step in it."""
    ends = b.edges[2::2][:cols] if len(b.edges) > 2 else np.zeros(0)
    changes = list(figures.lr_changes) or [(0, figures.learning_rate)]
    bases = np.array([base for _, base in changes])
    # a column's rate: its last step's (1-based: edges[2c + 2] steps taken; +1 was the step after, and the
    # last column showed the rate of a step past the end, 0)
    rates = lr_used(changes, figures.num_steps, np.asarray(ends, dtype=np.int64), figures.schedule)
    frac = rates / max(float(bases.max()), 1e-300)
    # a blank only where the rate is 0: a small one (the last steps of a decay) is still a ▁
    chars = "".join(BLOCKS[max(int(round(min(f, 1.0) * 8)), 1) if f > 0 else 0] for f in frac.tolist()).ljust(cols)
    passed = (b.current + 1) // 2 if b.current >= 0 else 0
    taken = figures.steps_taken  # the rate the last step used, as the step line says it (step 1's before any)
    lr_now = float(lr_used(changes, figures.num_steps, np.array([max(taken, 1)]), figures.schedule)[0])
    rate = rate_in(lr_now, geo.margin_w - 5)  # " lr " before it, a space after: it never meets the edge
    margin = f" lr {rate}" if rate else ""
    return [("lr".ljust(geo.label_w), "axis"), (chars[:passed], "lr"), (chars[passed:], "lr-future"),
            (" " + margin.ljust(geo.margin_w), "axis")]


def _merge(chars: list[str], styles: list[str]) -> Run_:
    runs: Run_ = []
    for ch, st in zip(chars, styles):
        if runs and runs[-1][1] == st:
            runs[-1] = (runs[-1][0] + ch, st)
        else:
            runs.append((ch, st))
    return runs


def _fit(row: Run_, width: int) -> Run_:
    out: Run_ = []
    used = 0
    for text, st in row:
        if used >= width:
            break
        text = text[: width - used]
        out.append((text, st))
        used += len(text)
    if used < width:
        out.append((" " * (width - used), "axis"))
    return out
