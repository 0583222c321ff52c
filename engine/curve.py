"""The loss curve as a plot shows it, built so that what the run has passed never changes again.

A plot of width n columns cuts the run's `num_steps` steps into n fixed buckets (`bucket_edges`);
`CurveBuckets` summarises each bucket: the lowest and highest one-name loss in it, the moving average
and the whole-data loss at its last step. A bucket the run has passed is final: it is computed once
and kept; each loss is read once (the current bucket's lowest and highest are carried on). The
whole-data loss is measured by the trainer at fixed steps (`ExactTrack`), not whenever a screen happens
to look, so the curve is the same at any speed. `LossRange` and `GapRange` are the
plot's y ranges: fixed for a run, grown only in coarse steps when a line leaves them. `fit_axis` lays
such a range out on a plot's rows: one linear map from value to row (log10 of the value on a log axis)
under which the ticks fall an equal whole number of rows apart, and every line is drawn by that map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.history import PIECE, LossHistory

EXACT_POINTS = 1024  # whole-data loss measurements per run, at most (about 50 us each)


def bucket_edges(num_steps: int, n: int) -> np.ndarray:
    """(n + 1,) loss indices: bucket b holds the losses of steps edges[b] .. edges[b + 1] - 1 (0-based),
    so it is complete once edges[b + 1] steps have been taken. Derived from the run's length alone."""
    return (np.arange(n + 1, dtype=np.int64) * num_steps) // max(n, 1)


class ExactTrack:
    """The whole-data loss at fixed steps of a run: the step it starts from, every `every` steps, and
    the last. Written by the trainer (one thread), read by a screen (another): a reader takes `len()`
    first, and the arrays never move (they are allocated once).

    With `heldout=True` (a run with a held-out set) each measurement also holds the held-out loss:
    `heldout_values` (NaN where not measured), read with `heldout_at()` / `heldout_last`, beside the
    training series' `values`, `at()` and `last`. Without it `heldout_values` is None."""

    def __init__(self, num_steps: int, points: int = EXACT_POINTS, heldout: bool = False):
        self.num_steps = num_steps
        self.every = max(1, math.ceil(num_steps / points))
        capacity = num_steps // self.every + 2
        self.steps = np.zeros(capacity, dtype=np.int64)  # steps taken when measured
        self.values = np.zeros(capacity)  # the whole-data (training) loss
        self.heldout_values = np.full(capacity, np.nan) if heldout else None  # the held-out loss
        self._n = 0

    @classmethod
    def from_arrays(cls, num_steps: int, points: int, steps: np.ndarray, values: np.ndarray,
                    heldout: np.ndarray | None = None) -> ExactTrack:
        """A finished track holding these measurements (rising steps, at most the capacity)."""
        track = cls(num_steps, points, heldout=heldout is not None)
        n = len(steps)
        track.steps[:n], track.values[:n] = steps, values
        if heldout is not None and track.heldout_values is not None:
            track.heldout_values[:n] = heldout
        track._n = n
        return track

    def copy(self) -> ExactTrack:
        n = self._n
        hv = self.heldout_values
        copy = ExactTrack.from_arrays(self.num_steps, math.ceil(self.num_steps / self.every), self.steps[:n],
                                      self.values[:n], None if hv is None else hv[:n])
        copy.every = self.every  # (the capacity is at least as large)
        return copy

    def __len__(self) -> int:
        return self._n

    def due(self, step: int) -> bool:
        """Whether the loss after `step` steps is one to measure."""
        return step % self.every == 0 or step == self.num_steps

    def record(self, step: int, value: float, heldout: float = math.nan) -> None:
        n = self._n
        if n and step <= self.steps[n - 1]:
            return  # measured already (a resumed or replayed step)
        self.steps[n], self.values[n] = step, value
        if self.heldout_values is not None:
            self.heldout_values[n] = heldout
        self._n = n + 1  # last: a reader never sees a half-written point

    def at(self, steps: np.ndarray) -> np.ndarray:
        """The latest measurement at or before each of `steps` (NaN where there is none)."""
        return self._at(self.values, steps)

    def heldout_at(self, steps: np.ndarray) -> np.ndarray:
        """The same for the held-out loss (all NaN without a held-out set)."""
        if self.heldout_values is None:
            return np.full(len(steps), np.nan)
        return self._at(self.heldout_values, steps)

    def _at(self, values: np.ndarray, steps: np.ndarray) -> np.ndarray:
        n = self._n
        idx = np.searchsorted(self.steps[:n], steps, side="right") - 1
        out = np.where(idx >= 0, values[np.maximum(idx, 0)], np.nan) if n else np.full(len(steps), np.nan)
        return out

    @property
    def last(self) -> float:
        return float(self.values[self._n - 1]) if self._n else math.nan

    @property
    def heldout_last(self) -> float:
        hv = self.heldout_values
        return float(hv[self._n - 1]) if self._n and hv is not None else math.nan


class CurveBuckets:
    """Per-bucket figures of one run at one plot width. `update()` computes the buckets finished
    since the last call and the current one; finished buckets are kept, never recomputed."""

    def __init__(self, num_steps: int, n: int):
        self.num_steps, self.n = num_steps, n
        self.edges = bucket_edges(num_steps, n)
        self._clear()

    def _clear(self) -> None:
        n = self.n
        self.lo = np.full(n, np.nan)  # lowest one-name loss in the bucket
        self.hi = np.full(n, np.nan)  # highest
        self.ema = np.full(n, np.nan)  # moving average after the bucket's last step so far
        self.exact = np.full(n, np.nan)  # whole-data loss at the last measurement in or before it
        self.heldout = np.full(n, np.nan)  # the held-out loss likewise (all NaN without a held-out set)
        # (all four are NaN for a bucket without steps: a run shorter than the plot is wide)
        self.done = 0  # buckets 0 .. done-1 are final
        self.current = -1  # the bucket the run is in (-1: no step yet)
        self.read = 0  # losses folded into lo and hi so far: each is read once
        self.measured = 0  # the track's measurements seen so far

    def update(self, history: LossHistory, track: ExactTrack | None) -> None:
        taken = len(history)  # first: the arrays hold at least this many values
        if taken == 0:
            return
        if taken < self.read:  # another history than before: start again
            self._clear()
        e, n = self.edges, self.n
        if track is not None and len(track) > self.measured:
            self._late(track, taken)
        done = min(int(np.searchsorted(e[1:], taken, side="right")), n)  # buckets with e[b + 1] <= taken
        # the bucket holding the last step taken (not an empty one after it: in a run shorter than the plot
        # is wide the lines ran on to just before the next step's column, a step ahead of the run)
        current = min(int(np.searchsorted(e[1:], taken - 1, side="right")), n - 1)
        span = np.arange(self.done, current + 1)
        if len(span):
            starts, ends = e[span], np.minimum(e[span + 1], taken)
            filled = ends > starts
            if filled.any():
                self._reduce(history, span, np.maximum(starts, self.read), ends, taken)
                self.ema[span[filled]] = history.ema[ends[filled] - 1]
                if track is not None:
                    self.exact[span[filled]] = track.at(ends[filled])
                    if track.heldout_values is not None:
                        self.heldout[span[filled]] = track.heldout_at(ends[filled])
        self.done, self.current, self.read = done, current, taken

    def _late(self, track: ExactTrack, taken: int) -> None:
        """A measurement at a step a final bucket ends with (a run measured once more where it diverged,
        Run.measure_stopped; every other one comes before the step's loss): those buckets read it."""
        n = len(track)  # first: the arrays hold at least this many
        first = int(track.steps[self.measured])
        self.measured = n
        e = self.edges
        late = np.arange(int(np.searchsorted(e[1:], first, side="left")), self.done)  # buckets ending at or after it
        late = late[e[late + 1] > e[late]]  # (an empty bucket stays NaN)
        if len(late):
            ends = np.minimum(e[late + 1], taken)
            self.exact[late] = track.at(ends)
            if track.heldout_values is not None:
                self.heldout[late] = track.heldout_at(ends)

    def _reduce(self, history: LossHistory, span: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                taken: int) -> None:
        """Fold the losses not read yet (self.read .. taken - 1) into the lowest and highest of the buckets
        `span` (starts: each one's first step not read yet), at most PIECE losses at a time. The buckets
        with new steps tile that range: each piece is one slice cut at their starts."""
        new = ends > starts
        if not new.any():
            return
        span, starts = span[new], starts[new]
        a = int(starts[0])
        for p in range(a, taken, PIECE):
            q = min(p + PIECE, taken)
            seg = history.losses[p:q]
            i0 = int(np.searchsorted(starts, p, side="right")) - 1  # the bucket holding step p
            i1 = int(np.searchsorted(starts, q, side="left"))  # the buckets starting before q
            cuts = np.maximum(starts[i0:i1], p) - p
            b = span[i0:i1]
            self.lo[b] = np.fmin(self.lo[b], np.minimum.reduceat(seg, cuts))  # (NaN: not read before)
            self.hi[b] = np.fmax(self.hi[b], np.maximum.reduceat(seg, cuts))

    def lines(self) -> tuple[np.ndarray, np.ndarray]:
        """The moving average and whole-data loss per bucket up to the current one, with an empty
        bucket (a run shorter than the plot is wide) showing the value before it."""
        k = self.current + 1
        return _forward_fill(self.ema[:k]), _forward_fill(self.exact[:k])

    def heldout_line(self) -> np.ndarray:
        """The held-out loss per bucket up to the current one, filled as `lines()` (all NaN without)."""
        return _forward_fill(self.heldout[: self.current + 1])


    def span(self, first: int, last: int, taken: int) -> Span:
        """The figures of buckets first .. last together (a plot column; `taken` steps so far): its
        steps (1-based, those taken), the lowest and highest one-name loss in them, and the moving
        average, whole-data and held-out loss as the lines show them at its end. NaN where not reached."""
        e = self.edges
        first, last = max(first, 0), min(last, self.n - 1)
        if e[first] == e[last + 1] and 0 < e[first] <= taken:  # a column with no step of its own (a short
            # run): it shows the step before it, as its lines do; not "not reached" for a step taken
            first = last = int(np.searchsorted(e[1:], e[first], side="left"))
        a, z = int(e[first]) + 1, min(int(e[last + 1]), taken)
        if z < a or self.current < first:
            return Span(a, int(e[last + 1]), math.nan, math.nan, math.nan, math.nan, math.nan, False)
        k = min(last, self.current)
        ema, exact = self.lines()
        held = self.heldout_line()
        with np.errstate(all="ignore"):
            lo, hi = float(np.nanmin(self.lo[first : k + 1])), float(np.nanmax(self.hi[first : k + 1]))
        return Span(a, z, lo, hi, float(ema[k]), float(exact[k]), float(held[k]), True)


@dataclass(frozen=True)
class Span:
    """What a plot column holds (CurveBuckets.span): steps first .. last (1-based)."""

    first: int
    last: int
    lo: float
    hi: float
    ema: float
    exact: float
    heldout: float
    reached: bool  # False: no step of it is taken yet (first .. last are then its whole range)


def decay_factors(t: np.ndarray, total: int, schedule: str = "linear") -> np.ndarray:
    """engine.train.decay for many step indices at once (the same expressions, element by element)."""
    t = np.asarray(t, dtype=np.float64)
    if schedule == "constant":
        return np.ones_like(t)
    if schedule == "cosine":
        return 0.5 * (1 + np.cos(math.pi * t / total))
    return 1 - t / total


def lr_used(lr_changes: list[tuple[int, float]] | tuple[tuple[int, float], ...], num_steps: int,
            steps: np.ndarray, schedule: str = "linear") -> np.ndarray:
    """The learning rate the `steps`-th steps used (1-based): step index t = s - 1 used the base in force
    at t (from `lr_changes`, (first step index, base) pairs) times the schedule's factor at t
    (engine.train.decay: 1 - t / num_steps for the tutorial's linear decay)."""
    t = np.asarray(steps, dtype=np.int64) - 1
    starts = np.array([at for at, _ in lr_changes], dtype=np.int64)
    bases = np.array([base for _, base in lr_changes], dtype=np.float64)
    base = bases[np.maximum(np.searchsorted(starts, t, side="right") - 1, 0)]
    return base * decay_factors(t, max(num_steps, 1), schedule)


def _forward_fill(values: np.ndarray) -> np.ndarray:
    idx = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    return out


class LossRange:
    """The loss plot's y range: from a little below the bigram floor to just above ln(V) (where every
    run starts), fixed for the run. `include()` grows it, in coarse and growing steps and a bounded
    number of times, when a line (never a single dot) leaves it."""

    MAX_GROWTHS = 4

    def __init__(self, random_guess: float, floor: float):
        span = random_guess - floor if random_guess - floor > 1e-6 else max(abs(random_guess) * 0.1, 0.1)
        self.span = span
        self.lo = max(floor - 0.25 * span, 0.0)
        self.hi = random_guess + 0.1 * span
        self.growths = 0  # both sides' (at most MAX_GROWTHS in all)
        self.up = self.down = 0  # each side's: its next step is half a span times 2 ** that

    def include(self, lo: float, hi: float) -> bool:
        """Grow to hold [lo, hi] (NaN ignored); True when the range changed. Never below 0: no loss is."""
        changed = False
        ups = downs = 0  # each side's steps double from half a span on its own (a shared count made the
        # first step down after two up 2 spans: at smoothing 0 the axis went to 0-5 for a line of 1.8-4.2)
        while self.growths < self.MAX_GROWTHS and math.isfinite(hi) and hi > self.hi:
            self.hi += self.span * 0.5 * 2 ** (self.up + ups)
            self.growths, ups, changed = self.growths + 1, ups + 1, True
        while self.growths < self.MAX_GROWTHS and math.isfinite(lo) and lo < self.lo and self.lo > 0.0:
            self.lo = max(self.lo - self.span * 0.5 * 2 ** (self.down + downs), 0.0)
            self.growths, downs, changed = self.growths + 1, downs + 1, True
        self.up, self.down = self.up + ups, self.down + downs
        return changed


class GapRange:
    """The "left to learn" view's log y range for whole-data loss - floor: from a bit above where the
    run starts down two decades, growing down a decade at a time (to 1e-6) as the gap shrinks."""

    def __init__(self, start_gap: float):
        top = max(start_gap, 1e-6) * 1.3
        self.hi = 10 ** (math.ceil(math.log10(top) * 4) / 4)  # the quarter-decade above
        self.lo = 10 ** (math.floor(math.log10(top)) - 2)

    def include(self, lo: float) -> bool:
        changed = False
        while math.isfinite(lo) and lo > 0 and lo < self.lo and self.lo > 1e-6:
            self.lo /= 10
            changed = True
        return changed


@dataclass(frozen=True)
class Axis:
    """A y axis laid out on `rows` rows. In axis units (the value, or log10 of it when `log`), row r's
    centre is `top - r * per_row`, and row r holds the units within half a row of it. A tick is at every
    multiple of `tick_step`, which is `rows_per_tick` rows: each tick's value is exactly its row's centre."""

    top: float
    per_row: float
    rows: int
    tick_step: float
    rows_per_tick: int
    log: bool = False

    def units(self, values: np.ndarray | float) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        if self.log:
            with np.errstate(all="ignore"):
                return np.log10(np.where(v > 0, v, np.nan))
        return v

    def position(self, values: np.ndarray | float) -> np.ndarray:
        """The row coordinate: 0 at row 0's centre, growing downwards (not clipped; NaN stays NaN)."""
        return np.atleast_1d((self.top - self.units(values)) / self.per_row)

    def sub(self, values: np.ndarray | float, per_cell: int) -> np.ndarray:
        """Sub-rows (per_cell of them in each row, from the top), clipped to the rows (NaN: row 0). The
        sub-row of a value lies in the row of that value: `sub(v, p) // p == row(v)`."""
        with np.errstate(all="ignore"):
            s = np.floor((self.position(values) + 0.5) * per_cell)
            s[np.isnan(s)] = 0.0
        return np.clip(s, 0, per_cell * self.rows - 1).astype(np.int64)

    def row(self, value: float) -> int:
        return int(self.sub(value, 1)[0])

    def inside(self, value: float) -> bool:
        """Whether `value` falls on one of the rows (NaN: False)."""
        y = float(self.position(value)[0])
        return -0.5 <= y < self.rows - 0.5

    def ticks(self) -> list[tuple[float, int]]:
        """(value, row) of every tick on the rows, top first."""
        first = math.ceil(round((self.top - (self.rows - 1) * self.per_row) / self.tick_step, 6))
        last = math.floor(round(self.top / self.tick_step, 6))
        out = []
        for m in range(last, first - 1, -1):
            units = m * self.tick_step
            row = int(round((self.top - units) / self.per_row))
            out.append((10.0**units if self.log else units, row))
        return out


NICE = (1.0, 2.0, 2.5, 5.0)  # tick steps: these times a power of ten (whole decades on a log axis)
NICE_DECADES = (1.0, 2.0, 3.0, 5.0, 10.0)


def fit_axis(lo: float, hi: float, rows: int, log: bool = False) -> Axis:
    """The axis that shows [lo, hi] (values > 0 when `log`) on `rows` rows with the finest rows: over
    tick steps d (NICE, or whole decades on a log axis) and whole rows between ticks k, each row is
    d / k, the top row's centre is a whole number of rows (so every tick lands on a row's centre), and
    the least d / k whose rows reach from hi down to lo wins. Ticks are at least every other row from
    9 rows up and at most every 5 rows (a log axis: a tick every decade, however many rows apart), and at
    least two tick gaps fit in the rows. A range with lo >= 0 gets no row below 0 (the rows are moved up
    to start at 0). Depends on its arguments alone."""
    if log:
        lo, hi = math.log10(max(lo, 1e-300)), math.log10(max(hi, 1e-300))
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        lo, hi = (lo - 0.5, lo + 0.5) if math.isfinite(lo) else (0.0, 1.0)
    rows = max(rows, 1)
    k_min = 2 if rows >= 9 else 1
    k_max = max(k_min, (rows - 1) // 2 if log else min(5, (rows - 1) // 2))  # a label at least every 5 rows
    best: tuple[float, int, float, int, float] | None = None  # (per_row, |k - 3|, d, k, top)
    for k in range(k_min, k_max + 1):
        raw = (hi - lo) * k / max(rows - 1, 1)  # the least tick step that could reach
        power = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
        steps = ([m * power for m in NICE] + [10 * power, 20 * power]) if not log else \
            [m for m in NICE_DECADES if m >= raw] or [float(math.ceil(raw))]
        for d in sorted(steps):
            u = d / k
            top = math.ceil(round(hi / u, 9)) * u
            if top - (rows - 1) * u <= lo + 1e-12 * max(1.0, abs(lo)):
                cand = (u, abs(k - 3), d, k, top)
                best = cand if best is None or cand[:2] < best[:2] else best
                break
    if best is None:  # too few rows to hold the range at any step (a plot 1 or 2 rows tall): one coarse row
        span = hi - lo
        power = 10.0 ** math.floor(math.log10(span)) if span > 0 else 1.0
        u = next(m * power for m in (*NICE, 10.0, 20.0) if m * power >= span)
        best = (u, 0, u, 1, math.ceil(round(hi / u, 9)) * u)
    u, _, d, k, top = best
    if not log and lo >= 0 and top - (rows - 1) * u < 0:  # values never below 0 (losses): no row below 0
        top = (rows - 1) * u  # the bottom row is 0; still a whole number of rows, so the ticks stay on rows
    return Axis(top, u, rows, d, k, log)
