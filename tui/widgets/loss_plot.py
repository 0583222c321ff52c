"""The loss plot: the run's steps along x (fixed from 0 to the run's length), and on y each column's
one-name losses (their lowest and highest, faint dots), the moving average (a braille line), the
exact whole-data loss (half blocks) and the two reference lines, labelled in the right margin. A key
line above says which is which. `l` switches to the "left to learn" view: whole-data loss minus the
bigram floor on a log axis.

The plot builds, it does not bounce: the x axis and every column's steps are fixed by the run's
length and the plot's width (engine.curve.CurveBuckets), the y range is fixed for the run and only
grows in coarse steps (engine.curve.LossRange), and each column is drawn from its own figures (a line
joins the previous column's last value within the new column), so a column the run has passed is
never redrawn differently. Where the moving average and the whole-data loss share a cell, they
alternate by column, so both stay visible and tell apart without colour.

`render_plot()` is a pure function from the figures to rows of (text, style name) runs; the widget
turns them into Strips with theme-aware styles (component classes) and caches them until the figures
or the size change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from engine import LossHistory
from engine.curve import CurveBuckets, ExactTrack, GapRange, LossRange

Cell = tuple[str, str]  # (character, style name)
Run_ = list[tuple[str, str]]  # runs of (text, style name) making one row

STYLES = ("axis", "dots", "ema", "exact", "guess", "floor", "diverged", "lr", "lr-future", "title", "ghost", "heldout")
RACE_STYLES = tuple(f"race{i}" for i in range(1, 9))  # a race's variants' lines (Ghost.style), 8 colours
STYLES = STYLES + RACE_STYLES
BLOCKS = " ▁▂▃▄▅▆▇█"
BRAILLE_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # [sub-column][sub-row]
DOT, EXACT_UP, EXACT_DOWN, REF, DIVERGED = "•", "▀", "▄", "┄", "┆"
ABOVE, BELOW = "▴", "▾"  # a one-name loss beyond the y range, drawn at its edge
HELDOUT = "▪"


@dataclass
class PlotFigures:
    """What the app hands down each frame (all read-only for the widget)."""

    history: LossHistory  # the live run's losses and moving average
    track: ExactTrack | None  # its whole-data loss at fixed steps
    num_steps: int
    learning_rate: float  # at step 0; the rate falls linearly to 0
    random_guess: float
    floor: float
    diverged_at: int | None = None  # 0-based step whose loss was not finite
    gap_view: bool = False  # the "left to learn" view
    ghosts: tuple[Ghost, ...] = ()  # earlier runs of the session, drawn dimmed under this one
    lr_changes: tuple[tuple[int, float], ...] = ()  # (step, new base) where the rate was changed mid-run


class Curves(Protocol):
    def lines(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(moving average, whole-data loss, held-out loss) at each of `steps` (steps taken)."""


@dataclass(frozen=True)
class Ghost:
    label: str  # what differs from the current run ("lr 0.5", "seed 7")
    curves: Curves
    style: str = "ghost"  # "ghost": an earlier run, dimmed; RACE_STYLES: a race's variant, in its colour


@dataclass
class PlotState:
    """Per-run memory of the plot: its y ranges (fixed for the run) and its buckets per width."""

    loss_range: LossRange
    gap_range: GapRange
    buckets: CurveBuckets | None = None

    @classmethod
    def for_run(cls, figures: PlotFigures) -> PlotState:
        return cls(LossRange(figures.random_guess, figures.floor), GapRange(figures.random_guess - figures.floor))

    def buckets_for(self, figures: PlotFigures, n: int) -> CurveBuckets:
        if self.buckets is None or self.buckets.n != n or self.buckets.num_steps != figures.num_steps:
            self.buckets = CurveBuckets(figures.num_steps, n)
        self.buckets.update(figures.history, figures.track)
        return self.buckets


# --- numbers on the axes ---------------------------------------------------------------------------
def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About `count` round values (1, 2, 2.5 or 5 times a power of ten apart) inside [lo, hi]."""
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2 and 5 times each power of ten inside [lo, hi] (1 and 3 only, when that is too many)."""
    out = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        out += [m * 10.0**e for m in (1, 2, 5) if lo <= m * 10.0**e <= hi]
    return out if len(out) <= 8 else [v for v in out if str(v).lstrip("0.")[:1] == "1"]


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


# --- geometry -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    label_w: int  # y labels and the left axis line
    margin_w: int  # right of the frame: labels of the reference lines
    rows: int  # data rows
    x_labels: bool
    lr_row: bool

    @property
    def data_w(self) -> int:
        return self.width - self.label_w - 1 - self.margin_w


def geometry(width: int, height: int, label_w: int, ghosts: bool = False) -> Geometry:
    lr_row = height >= 12
    x_labels = height >= 8
    rows = height - 3 - x_labels - lr_row  # key line, top and bottom of the frame
    wide = width >= 100 or (ghosts and width >= 76)  # earlier runs' labels need the room
    margin_w = 19 if wide else 11 if width >= 48 else 6 if width >= 30 else 0
    return Geometry(width, height, label_w, margin_w, max(rows, 1), x_labels, lr_row)


# --- the pure renderer ----------------------------------------------------------------------------
class _Canvas:
    """The data area: one character and one style name per cell."""

    def __init__(self, rows: int, cols: int):
        self.rows, self.cols = rows, cols
        self.ch = [[" "] * cols for _ in range(rows)]
        self.st = [["axis"] * cols for _ in range(rows)]

    def put(self, r: int, c: int, ch: str, st: str) -> None:
        self.ch[r][c], self.st[r][c] = ch, st


class _YMap:
    def __init__(self, lo: float, hi: float, rows: int, log: bool):
        self.lo, self.hi, self.rows, self.log = lo, hi, rows, log

    def sub(self, values: np.ndarray | float, per_cell: int) -> np.ndarray:
        """Sub-rows (per_cell of them in each row) from the top, clipped to the area."""
        v = np.asarray(values, dtype=np.float64)
        lo, hi = self.lo, self.hi
        if self.log:
            v, lo, hi = np.log10(np.maximum(v, 1e-300)), math.log10(lo), math.log10(hi)
        n = per_cell * self.rows
        s = np.rint((hi - v) / (hi - lo) * (n - 1))
        return np.clip(np.nan_to_num(s, nan=0.0), 0, n - 1).astype(np.int64)

    def row(self, value: float) -> int:
        return int(self.sub(value, 1))

    def inside(self, value: float) -> bool:
        return self.lo <= value <= self.hi


def _lines(state: PlotState, figures: PlotFigures, cols: int) -> tuple[CurveBuckets, np.ndarray, np.ndarray]:
    b = state.buckets_for(figures, 2 * cols)  # two braille sub-columns per cell
    ema, exact = b.lines()
    return b, ema, exact


def _per_cell(values: np.ndarray) -> np.ndarray:
    """A line's value per cell: its second sub-column's (the first's in a half-drawn last cell)."""
    k = len(values)
    return values[np.minimum(np.arange((k + 1) // 2) * 2 + 1, k - 1)] if k else values


def _draw_heldout(canvas: _Canvas, ymap: _YMap, heldout: np.ndarray) -> None:
    """The held-out loss: a small square a column, over the dots, under this run's two lines."""
    values = _per_cell(heldout)
    for c, (r, ok) in enumerate(zip(ymap.sub(values, 1).tolist(), (values == values).tolist())):
        if ok:
            canvas.put(r, c, HELDOUT, "heldout")


def _draw_dots(canvas: _Canvas, ymap: _YMap, b: CurveBuckets) -> None:
    k = b.current + 1
    cols = (k + 1) // 2
    lo2, hi2 = np.full(2 * cols, np.nan), np.full(2 * cols, np.nan)
    lo2[:k], hi2[:k] = b.lo[:k], b.hi[:k]
    with np.errstate(all="ignore"):
        cell_lo = np.fmin(lo2[0::2], lo2[1::2])
        cell_hi = np.fmax(hi2[0::2], hi2[1::2])
        for values in (cell_lo, cell_hi):  # every cell's row at once: numpy per single value is slow
            rows = ymap.sub(values, 1).tolist()
            below, above = (values < ymap.lo).tolist(), (values > ymap.hi).tolist()
            for c, (v, r, low, high) in enumerate(zip(values.tolist(), rows, below, above)):
                if v != v:  # NaN: no steps in this column yet
                    continue
                if not (low or high):
                    canvas.put(r, c, DOT, "dots")
                elif canvas.st[r][c] == "axis":  # beyond the range: an arrow at the edge, over no line
                    canvas.put(r, c, BELOW if low else ABOVE, "dots")


def _draw_exact(canvas: _Canvas, ymap: _YMap, exact: np.ndarray) -> None:
    values = _per_cell(exact)
    for c, (s, ok) in enumerate(zip(ymap.sub(values, 2).tolist(), (values == values).tolist())):
        if ok:
            canvas.put(s // 2, c, EXACT_UP if s % 2 == 0 else EXACT_DOWN, "exact")


def _draw_ema(canvas: _Canvas, ymap: _YMap, ema: np.ndarray, style: str = "ema") -> None:
    subs = ymap.sub(ema, 4).tolist()
    bits: dict[tuple[int, int], int] = {}
    valid = (ema == ema).tolist()
    prev = None
    for j, (s, ok) in enumerate(zip(subs, valid)):
        if not ok:
            continue
        a, z = (s, s) if prev is None else (min(prev, s), max(prev, s))
        col = BRAILLE_BITS[j % 2]
        for y in range(a, z + 1):
            key = (y // 4, j // 2)
            bits[key] = bits.get(key, 0) | col[y % 4]
        prev = s
    for (r, c), mask in bits.items():
        if canvas.st[r][c] == "exact" and c % 2 == 0:
            continue  # where both lines share a cell they alternate by column
        if style != "ema" and canvas.st[r][c] == style:  # two ghosts of one style share the cell
            mask |= ord(canvas.ch[r][c]) - 0x2800 if "\u2800" <= canvas.ch[r][c] <= "\u28ff" else 0
        canvas.put(r, c, chr(0x2800 + mask), style)


def _draw_ghosts(canvas: _Canvas, ymap: _YMap, figures: PlotFigures,
                 b: CurveBuckets) -> list[tuple[float, str, str]]:
    """Earlier runs' lines, dimmed (a race's other variants: in their colours), under everything of this
    run's; (last value, label, style) of each."""
    ends = b.edges[1:]
    out = []
    for ghost in figures.ghosts:
        ema, exact, _ = ghost.curves.lines(ends)
        line = exact - figures.floor if figures.gap_view else ema
        if figures.gap_view:
            line = np.where(line > 0, line, np.nan)
        _draw_ema(canvas, ymap, line, ghost.style)
        finite = line[np.isfinite(line)]
        if len(finite):
            out.append((float(finite[-1]), ghost.label, ghost.style))
    return out


def _draw_lr_changes(canvas: _Canvas, figures: PlotFigures) -> None:
    for step, _ in figures.lr_changes[1:]:  # the first entry is the run's start
        c = min(int(step * canvas.cols / max(figures.num_steps, 1)), canvas.cols - 1)
        for r in range(canvas.rows):
            if canvas.st[r][c] == "axis":
                canvas.put(r, c, "╎", "lr")


def render_plot(figures: PlotFigures, state: PlotState, width: int, height: int) -> list[Run_]:
    """The plot as `height` rows of (text, style name) runs, each row `width` cells wide."""
    gap = figures.gap_view
    # y range and ticks (the labels' width fixes the data area's width)
    g0 = geometry(width, height, 6, bool(figures.ghosts))
    if gap:
        lo, hi = state.gap_range.lo, state.gap_range.hi
        ticks = log_ticks(lo, hi)
        labels = [figure(v, 6) if v < 0.01 else tick_label(v, v) for v in ticks]
    else:
        lo, hi = state.loss_range.lo, state.loss_range.hi
        ticks = nice_ticks(lo, hi, max(2, g0.rows // 2))
        labels = [tick_label(v, ticks[1] - ticks[0] if len(ticks) > 1 else 1.0) for v in ticks]
    label_w = max((len(s) for s in labels), default=3) + 1
    geo = geometry(width, height, label_w, bool(figures.ghosts))
    cols = max(geo.data_w, 1)
    b, ema, exact = _lines(state, figures, cols)
    if gap:
        exact = exact - figures.floor
        if state.gap_range.include(float(np.nanmin(exact)) if np.isfinite(exact).any() else math.nan):
            return render_plot(figures, state, width, height)
    elif state.loss_range.include(_finite_min(ema, exact), _finite_max(ema, exact)):
        return render_plot(figures, state, width, height)
    ymap = _YMap(lo, hi, geo.rows, gap)
    canvas = _Canvas(geo.rows, cols)
    refs = _references(figures, gap)
    for value, name, _ in refs:
        r = ymap.row(value)
        for c in range(cols):
            canvas.put(r, c, REF, name)
    if figures.diverged_at is not None:
        c = min(int(figures.diverged_at * cols / max(figures.num_steps, 1)), cols - 1)
        for r in range(geo.rows):
            canvas.put(r, c, DIVERGED, "diverged")
    _draw_lr_changes(canvas, figures)
    ghost_ends = _draw_ghosts(canvas, ymap, figures, b)
    heldout = b.heldout_line() if figures.track is not None and figures.track.heldout_values is not None else None
    if not gap:
        _draw_dots(canvas, ymap, b)
        if heldout is not None:
            _draw_heldout(canvas, ymap, heldout)
        _draw_exact(canvas, ymap, exact)
        _draw_ema(canvas, ymap, ema)
    else:
        _draw_exact(canvas, ymap, np.where(exact > 0, exact, np.nan))
    return _frame(figures, geo, canvas, ymap, ticks, labels, refs + [(v, st, t) for v, t, st in ghost_ends], b)


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


def _key(figures: PlotFigures, width: int) -> Run_:
    """The one-line key above the plot: every line, its glyph, its style; shorter when narrow."""
    if figures.gap_view:
        long = [("left to learn (log) ", "title"), ("▀ whole-data loss − bigram floor", "exact"), ("  ", "axis"),
                ("┄ at the start", "guess")]
        short = [("left to learn ", "title"), ("▀ whole-data − floor", "exact"), (" ", "axis"), ("┄ start", "guess")]
        tiny = [("gap ", "title"), ("▀ data−floor", "exact")]
    else:
        long = [("loss ", "title"), ("• one name (low/high)", "dots"), ("  ", "axis"), ("⠒ moving avg", "ema"),
                ("  ", "axis"), ("▀ whole-data", "exact"), ("  ", "axis"), ("┄ random guess", "guess"),
                ("  ", "axis"), ("┄ bigram floor", "floor")]
        short = [("• one name", "dots"), (" ", "axis"), ("⠒ avg", "ema"), (" ", "axis"), ("▀ whole data", "exact"),
                 (" ", "axis"), ("┄ guess", "guess"), (" ", "axis"), ("┄ floor", "floor")]
        tiny = [("•name", "dots"), (" ", "axis"), ("⠒avg", "ema"), (" ", "axis"), ("▀data", "exact"), (" ", "axis"),
                ("┄", "guess"), ("┄", "floor")]
    variants = [g for g in figures.ghosts if g.style in RACE_STYLES]
    if variants:  # a race: each other variant's line by its number, in its colour (view 8 names them)
        marks = [(f"⠒{g.label.split()[0]} ", g.style) for g in variants]
        long = long + [("  variants ", "axis")] + marks
        short, tiny = short + [(" ", "axis")] + marks, tiny + [(" ", "axis")] + marks
    if any(g.style == "ghost" for g in figures.ghosts):
        long, short, tiny = (long + [("  ", "axis"), ("⠒ earlier runs", "ghost")],
                             short + [(" ", "axis"), ("⠒ earlier", "ghost")], tiny + [(" ", "axis"), ("⠒", "ghost")])
    if figures.track is not None and figures.track.heldout_values is not None and not figures.gap_view:
        held = [(" ", "axis"), ("▪ held-out", "heldout")]
        long, short = long + held, short + held
        tiny = tiny + [(" ", "axis"), ("▪held", "heldout")]
    if len(figures.lr_changes) > 1:
        step, base = figures.lr_changes[-1]
        long = long + [("  ", "axis"), (f"╎ lr base {figure(base, 7)} from step {step}", "lr")]
        short, tiny = short + [(" ", "axis"), (f"╎ lr {figure(base, 7)}", "lr")], tiny + [("╎", "lr")]
    glyphs = [(t[0], st) for t, st in tiny if t.strip()]  # the glyphs alone, in the same order
    if figures.diverged_at is not None:
        note = [("  ", "axis"), (f"┆ diverged at step {figures.diverged_at + 1}", "diverged")]
        long, short, tiny = long + note, short + note, tiny + [(" ┆ diverged", "diverged")]
        glyphs = glyphs + [(" ┆ diverged", "diverged")]
    for runs in (long, short, tiny, glyphs):
        if sum(len(t) for t, _ in runs) <= width:
            return runs
    return glyphs


def _frame(figures: PlotFigures, geo: Geometry, canvas: _Canvas, ymap: _YMap, ticks: list[float],
           labels: list[str], refs: list[tuple[float, str, str]], b: CurveBuckets) -> list[Run_]:
    lw, cols, mw = geo.label_w, canvas.cols, geo.margin_w
    tick_rows = {ymap.row(v): s for v, s in zip(ticks, labels)}
    ref_rows: dict[int, tuple[str, str]] = {}
    for v, name, label in refs:  # reference lines first; a ghost's label goes to the nearest free row
        r = ymap.row(v)
        for d in (0, 1, -1, 2, -2):
            if 0 <= r + d < geo.rows and r + d not in ref_rows:
                ref_rows[r + d] = (name, label)
                break
    out: list[Run_] = [_key(figures, geo.width)]
    out.append([(" " * (lw - 1) + "┌" + "─" * cols + "┐" + " " * mw, "axis")])
    for r in range(geo.rows):
        label = tick_rows.get(r)
        row: Run_ = [((label.rjust(lw - 1) + "┤") if label else (" " * (lw - 1) + "│"), "axis")]
        row += _merge(canvas.ch[r], canvas.st[r])
        margin = ""
        if r in ref_rows and mw:
            name, text = ref_rows[r]
            margin = (" " + (text if mw >= 19 or name == "ghost" or name in RACE_STYLES else _short(text) if mw >= 11
                             else text.split()[-1]))[:mw]
            row += [("│", "axis"), (margin.ljust(mw), name)]
        else:
            row += [("│" + " " * mw, "axis")]
        out.append(row)
    x_ticks = _x_ticks(figures.num_steps, cols)
    bottom = ["─"] * cols
    for c, _ in x_ticks:
        bottom[c] = "┬"
    out.append([(" " * (lw - 1) + "└" + "".join(bottom) + "┘" + " " * mw, "axis")])
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


def _x_ticks(num_steps: int, cols: int) -> list[tuple[int, str]]:
    parts = 4 if cols >= 40 else 2 if cols >= 16 else 1
    return [(min(round(i * (cols - 1) / parts), cols - 1), step_label(round(i * num_steps / parts)))
            for i in range(parts + 1)]


def _lr_row(figures: PlotFigures, geo: Geometry, cols: int, b: CurveBuckets) -> Run_:
    """The learning rate over the run, under the x axis: one block per column, bright where the
    run has been, dim ahead of it; a change mid-run shows as a step in it."""
    ends = b.edges[2::2][:cols] if len(b.edges) > 2 else np.zeros(0)
    changes = list(figures.lr_changes) or [(0, figures.learning_rate)]
    starts = np.array([step for step, _ in changes])
    bases = np.array([base for _, base in changes])
    base_at = bases[np.maximum(np.searchsorted(starts, ends, side="right") - 1, 0)]
    frac = base_at * (1 - ends / max(figures.num_steps, 1)) / max(float(bases.max()), 1e-300)
    chars = "".join(BLOCKS[int(round(min(max(f, 0.0), 1.0) * 8))] for f in frac.tolist()).ljust(cols)
    passed = (b.current + 1) // 2 if b.current >= 0 else 0
    taken = len(figures.history)
    base_now = float(bases[max(int(np.searchsorted(starts, taken, side="right")) - 1, 0)])
    lr_now = base_now * (1 - taken / max(figures.num_steps, 1))
    margin = f" lr {figure(lr_now, 6)}"[: geo.margin_w] if geo.margin_w else ""
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


# --- the widget -----------------------------------------------------------------------------------
class LossPlot(Widget):
    """Attributes down: the app calls `show()` with the figures; the widget draws them at its size."""

    COMPONENT_CLASSES = {f"loss-plot--{name}" for name in STYLES}
    DEFAULT_CSS = """
    LossPlot { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.figures: PlotFigures | None = None
        self.state: PlotState | None = None
        self._strips: list[Strip] = []
        self._built_for: tuple[int, int] = (0, 0)
        self._styles: dict[str, Style] | None = None
        self.builds = 0  # redraws so far (the benchmark and the tests count them)

    @property
    def gap_view(self) -> bool:
        return bool(self.figures and self.figures.gap_view)

    def new_run(self) -> None:
        """The next figures are another run's: forget the ranges and buckets of this one."""
        self.state = None

    def show(self, figures: PlotFigures) -> None:
        if self.state is None:
            self.state = PlotState.for_run(figures)
        self.figures = figures
        self._strips = []
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles, self._strips = None, []

    def styles_by_name(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = {name: self.get_component_rich_style(f"loss-plot--{name}", partial=True)
                            for name in STYLES}
        return self._styles

    def rows(self, width: int | None = None, height: int | None = None) -> list[Run_]:
        """The plot as runs of (text, style name), at the widget's size or the one given."""
        w, h = max(width or self.size.width, 1), max(height or self.size.height, 1)
        if self.figures is None or self.state is None:
            return [[(" " * w, "axis")] for _ in range(h)]
        return render_plot(self.figures, self.state, w, h)

    def build_strips(self, width: int | None = None, height: int | None = None) -> list[Strip]:
        self.builds += 1
        styles = self.styles_by_name()
        w = max(width or self.size.width, 1)
        return [Strip([Segment(t, styles[s]) for t, s in row], w) for row in self.rows(width, height)]

    def render_line(self, y: int) -> Strip:
        key = (self.size.width, self.size.height)
        if not self._strips or key != self._built_for:
            base = self.rich_style  # the widget's own colours under the plot: a light theme stays light
            self._strips, self._built_for = [s.apply_style(base) for s in self.build_strips()], key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)
