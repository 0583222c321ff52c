"""Taking a session's results away: its runs as a CSV in long form, and the series a picture of the
loss plot draws (tui/plumbing/plot_svg.py writes the picture). Numpy only; no front end.

`ExportRun` is one run as exported, whatever kind it is: the live run (`ExportRun.of_run`, every step's
loss and moving average), a kept run (`ExportRun.of_summary`, its one-name losses when it was short
enough to keep them, else its moving average at the fixed steps engine.runs keeps) or, later, a race
variant (any front end can build one). `write_csv` writes a list of them, one row per run and step:

    run,label,baseline,data,seed,lr_start,steps,n_embd,hidden,holdout,top_k,step,loss,moving_avg,whole_data,held_out,lr

`step` is the number of steps taken (1-based, as --metrics): the row of step s holds the loss of the
s-th step (measured before its update), the moving average after it, the learning rate it used, and
the whole-data / held-out loss measured after s steps, where the run measured it (at its ExactTrack's
fixed steps, and where a run that diverged stopped: `nan` when the measurement itself is NaN; empty
where nothing was measured). Step 0 holds the losses measured before training, if any. Numbers are
written as Python's repr, so they read back exactly.

`plot_series` computes what the picture shows from the same runs: each plot column's lowest and highest
one-name loss and its moving average (engine.curve.CurveBuckets, as the screen), the whole-data and
held-out losses at the steps they were measured, every other run's moving average, the reference lines
and the y range (engine.curve.LossRange, as the screen).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from engine.config import SCHEDULE_WORDS, Config
from engine.curve import CurveBuckets, ExactTrack, LossRange, lr_used
from engine.outputs import resolve_output, write_file

if TYPE_CHECKING:
    from engine.run import Run
    from engine.runs import RunSummary

CSV_NAME, PLOT_NAME = "micromlp-runs.csv", "micromlp-plot.svg"  # the dashboard's default file names
SETTINGS = ("data", "seed", "lr_start", "schedule", "gradient", "steps", "n_embd", "hidden", "holdout", "top_k")
FIGURES = ("step", "loss", "moving_avg", "whole_data", "held_out", "lr")
COLUMNS = ("run", "label", "baseline", *SETTINGS, *FIGURES)


@dataclass(frozen=True, eq=False)
class ExportRun:
    """One run's figures for the CSV and the picture (arrays are the caller's copies: never written)."""

    name: str  # "current", "#3", a race variant's name
    label: str  # what it is, or what differs from the current run
    config: Config
    data: str  # engine.runs.data_name
    steps_taken: int
    ema_steps: np.ndarray  # steps taken at each moving-average sample (rising, >= 1)
    ema: np.ndarray  # the moving average after those steps
    exact: ExactTrack | None  # whole-data (and held-out) loss at the steps measured
    lr_changes: list[tuple[int, float]]  # [(first step to use it, base), ...]
    losses: np.ndarray | None = None  # every step's one-name loss (losses[s - 1] is step s's); None: not kept
    random_guess: float = math.nan
    floor: float = math.nan
    diverged_at: int | None = None  # 0-based step whose loss was not finite
    baseline: bool = False
    colour: int = 0  # its line's colour index (the front end's palette), as on screen
    current: bool = False  # the live run: drawn as the screen draws it (dots, moving average, whole-data)
    smoothing: float = math.nan  # the moving average's weight (the live run's; NaN: not known)
    variant: bool = False  # another variant of the race shown (not an earlier run): its own kind of line
    differs: str = ""  # a variant's short label, what differs ("lr 0.5"): its right-margin label is name + this

    @classmethod
    def of_run(cls, run: Run, data: str, name: str = "current", label: str = "current run") -> ExportRun:
        """The live run now (copies; call between steps: hold the training loop's lock)."""
        taken = run.step
        losses = run.history.losses[:taken].copy()
        ema = run.history.ema[:taken].copy()
        track = run.exact_track.copy() if run.exact_track is not None else None
        return cls(name, label, run.config, data, taken, np.arange(1, taken + 1, dtype=np.int64), ema, track,
                   run.lr_changes, losses, run.reference.random_guess, run.reference.floor, run.diverged_at,
                   current=True, smoothing=run.history.weight)

    @classmethod
    def of_summary(cls, summary: RunSummary, label: str, baseline: bool = False, colour: int = 0) -> ExportRun:
        """A kept run (engine.runs.RunSummary): its curves as kept."""
        ema = summary.curves.ema
        n = len(ema)
        return cls(f"#{summary.id}", label, summary.config, summary.data, summary.steps_taken, ema.steps[:n].copy(),
                   ema.values[:n].copy(), summary.curves.exact, list(summary.lr_changes), summary.losses,
                   floor=summary.floor, diverged_at=summary.diverged_at, baseline=baseline, colour=colour)

    def history(self) -> _Losses | None:
        """Every step's loss and moving average (what CurveBuckets reads), or None when not both kept."""
        if self.losses is None or len(self.ema_steps) != len(self.losses):
            return None
        return _Losses(self.losses, self.ema)

    def lr_of_steps(self, steps: np.ndarray) -> np.ndarray:
        """The learning rate step s (1-based) used: the base in force at step s - 1 times the run's
        schedule's factor there (engine.curve.lr_used: the training loop's own expressions, so the
        figures are equal; linear: base * (1 - (s - 1) / num_steps))."""
        return lr_used(self.lr_changes, self.config.num_steps, steps, self.config.schedule)


class _Losses:
    """A finished run's losses and moving average, read as CurveBuckets reads a LossHistory."""

    def __init__(self, losses: np.ndarray, ema: np.ndarray):
        self.losses, self.ema = losses, ema

    def __len__(self) -> int:
        return len(self.losses)


# --- the CSV --------------------------------------------------------------------------------------
def _cell(value: float, measured: bool = False) -> str:
    """A number as Python's repr; NaN is empty (nothing there) unless it was `measured` ('nan')."""
    return repr(float(value)) if value == value or measured else ""


def _settings(r: ExportRun) -> list[str]:
    c = r.config
    return [r.data, str(c.seed), repr(c.learning_rate), c.schedule, c.gradient, str(c.num_steps), str(c.n_embd),
            str(c.hidden_size), repr(c.holdout), str(c.top_k)]


def _at(steps: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values[i] where at[i] == steps[j] for each of `steps` (at rising), NaN where it was not recorded."""
    if len(at) == 0:
        return np.full(len(steps), np.nan)
    i = np.minimum(np.searchsorted(at, steps), len(at) - 1)
    return np.where(at[i] == steps, values[i], np.nan)


CHUNK_ROWS = 1 << 15  # rows formatted at a time: a run of millions of steps never builds them all at once


def csv_rows(r: ExportRun) -> Iterable[list[str]]:
    """The run's rows, step by step (see the module's docstring)."""
    head = [r.name, r.label, "yes" if r.baseline else "", *_settings(r)]
    steps = np.arange(1, len(r.losses) + 1, dtype=np.int64) if r.losses is not None else r.ema_steps
    ex = r.exact
    n_ex = len(ex) if ex is not None else 0
    ex_steps = ex.steps[:n_ex] if ex is not None else np.zeros(0, dtype=np.int64)
    all_steps = np.union1d(steps, ex_steps) if n_ex else steps
    all_steps = all_steps[all_steps <= r.steps_taken]
    for a in range(0, len(all_steps), CHUNK_ROWS):
        part = all_steps[a : a + CHUNK_ROWS]
        loss = _at(part, steps, r.losses) if r.losses is not None else np.full(len(part), np.nan)
        ema = _at(part, r.ema_steps, r.ema)
        whole = _at(part, ex_steps, ex.values[:n_ex]) if ex is not None else np.full(len(part), np.nan)
        held = (_at(part, ex_steps, ex.heldout_values[:n_ex]) if ex is not None and ex.heldout_values is not None
                else np.full(len(part), np.nan))
        lr = np.where(part >= 1, r.lr_of_steps(part), np.nan)
        measured = _at(part, ex_steps, np.ones(n_ex)) == 1  # a step the run measured: its NaN is a figure
        held_measured = measured if ex is not None and ex.heldout_values is not None else measured & False
        for row in zip(part.tolist(), loss.tolist(), ema.tolist(), whole.tolist(), held.tolist(), lr.tolist(),
                       measured.tolist(), held_measured.tolist()):
            yield [*head, str(row[0]), _cell(row[1]), _cell(row[2]), _cell(row[3], row[6]), _cell(row[4], row[7]),
                   _cell(row[5])]


def write_csv(runs: Sequence[ExportRun], f: BinaryIO) -> None:
    """Every run's rows to the binary stream `f` (UTF-8, a header line first)."""
    text = io.TextIOWrapper(f, encoding="utf-8", newline="", write_through=False)
    try:
        out = csv.writer(text, lineterminator="\n")
        out.writerow(COLUMNS)
        for r in runs:
            out.writerows(csv_rows(r))
        text.flush()
    finally:
        text.detach()  # the caller closes `f`


# --- what the picture shows -------------------------------------------------------------------------
@dataclass
class Line:
    """One drawn line (or set of points) of the picture: x in steps taken, y in loss."""

    key: str  # its label in the picture's key
    kind: str  # one-name, beyond, moving-avg, whole-data, held-out, kept, baseline, guess, floor, lr-change, diverged
    x: np.ndarray
    y: np.ndarray
    points: bool = False  # drawn as separate points, not joined
    colour: int | None = None  # a kept run's colour index (its run's), else the kind's colour
    margin: str = ""  # its label in the right margin when not its key (a variant's: "v2 lr 0.5")


@dataclass
class PlotSeries:
    """Everything the picture draws, in data units."""

    num_steps: int
    y_lo: float
    y_hi: float
    lines: list[Line] = field(default_factory=list)
    references: list[tuple[float, str, str]] = field(default_factory=list)  # (value, kind, label)
    x_ticks: list[float] = field(default_factory=list)
    y_ticks: list[float] = field(default_factory=list)
    title: str = ""
    x_label: str = "steps (one name each)"
    dots_label: str = "one name (low/high)"  # what a dot is: each step's loss, the lowest and highest of a column
    ema_label: str = "moving average"


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """About `count` round values (1, 2, 2.5 or 5 times a power of ten apart) inside [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step + 1e-9) + 1)]


def plot_series(runs: Sequence[ExportRun], columns: int = 800) -> PlotSeries:
    """The picture of the loss plot for `runs`: the current run (the first with `current`, else the
    first) drawn in full, every other run as its moving average, as the screen's ghost lines.
    `columns`: the plot's width in buckets (one bucket a pixel column)."""
    if not runs:
        raise ValueError("nothing to draw: no runs")
    main = next((r for r in runs if r.current), runs[0])
    others = [r for r in runs if r is not main]
    num_steps = main.config.num_steps
    lines: list[Line] = []
    ema_line, exact_line = np.zeros(0), np.zeros(0)
    history = main.history()
    if history is not None and len(history):
        b = CurveBuckets(num_steps, max(1, min(columns, num_steps)))
        b.update(history, main.exact)  # type: ignore[arg-type]
        k = b.current + 1
        centre = (b.edges[:k] + b.edges[1 : k + 1]) / 2  # a bucket's points at its middle step
        ends = np.minimum(b.edges[1 : k + 1], main.steps_taken)
        distinct = b.hi[:k] != b.lo[:k]  # a bucket of one step (or of equal losses): one point
        pts = np.concatenate([b.lo[:k], b.hi[:k][distinct]])
        xs = np.concatenate([centre, centre[distinct]])
        ok = np.isfinite(pts)
        lines.append(Line("one name (low/high)", "one-name", xs[ok], pts[ok], points=True))
        ema_line = b.ema[:k]
        lines.append(Line("moving average", "moving-avg", ends.astype(np.float64), ema_line))
    elif len(main.ema):
        ema_line = main.ema
        lines.append(Line("moving average", "moving-avg", main.ema_steps.astype(np.float64), main.ema))
    ex = main.exact
    if ex is not None and len(ex):
        n = len(ex)
        exact_line = ex.values[:n]
        lines.append(Line("whole-data", "whole-data", ex.steps[:n].astype(np.float64), ex.values[:n].copy()))
        if ex.heldout_values is not None:
            lines.append(Line("held-out", "held-out", ex.steps[:n].astype(np.float64), ex.heldout_values[:n].copy()))
    for r in others:
        kind = "baseline" if r.baseline else "variant" if r.variant else "kept"
        key = f"{r.name} {r.label}".strip() + (" (baseline)" if r.baseline else "")
        margin = f"{r.name} {r.differs}" if r.differs else ""
        lines.append(Line(key, kind, r.ema_steps.astype(np.float64), r.ema.copy(), colour=r.colour, margin=margin))
    rng = LossRange(main.random_guess, main.floor) if math.isfinite(main.random_guess) else None
    if rng is None:  # no reference (a kept run alone): the lines' own range
        finite = np.concatenate([ln.y[np.isfinite(ln.y)] for ln in lines] or [np.zeros(1)])
        lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        pad = max(hi - lo, 0.1) * 0.1
        y_lo, y_hi = lo - pad, hi + pad
    else:
        both = np.concatenate([ema_line, exact_line])
        both = both[np.isfinite(both)]
        if len(both):
            rng.include(float(both.min()), float(both.max()))
        y_lo, y_hi = rng.lo, rng.hi
    # one-name losses beyond the y range: not drawn among the points, but marked at the edge
    for ln in list(lines):
        if ln.kind == "one-name":
            out = (ln.y > y_hi) | (ln.y < y_lo)
            if out.any():
                lines.append(Line("beyond the axis", "beyond", ln.x[out], np.where(ln.y[out] > y_hi, y_hi, y_lo),
                                  points=True))
                ln.x, ln.y = ln.x[~out], ln.y[~out]
    for step, base in main.lr_changes[1:]:
        lines.append(Line(f"lr base {base:g} from step {step:,}", "lr-change", np.array([step, step], dtype=np.float64),
                          np.array([y_lo, y_hi])))
    if main.diverged_at is not None:
        s = float(main.diverged_at)
        lines.append(Line(f"diverged at step {main.diverged_at + 1:,}", "diverged", np.array([s, s]),
                          np.array([y_lo, y_hi])))
    refs = []
    if math.isfinite(main.random_guess):
        refs.append((main.random_guess, "guess", f"random guess {main.random_guess:.3f}"))
    if math.isfinite(main.floor):
        refs.append((main.floor, "floor", f"bigram floor {main.floor:.3f}"))
    c = main.config
    whole = c.gradient == "data"  # full-batch gradient descent: each step's loss is the whole data's
    schedule = "" if c.schedule == "linear" else f" · {SCHEDULE_WORDS.get(c.schedule, c.schedule)}"
    title = (f"{'whole-data loss' if whole else 'loss per name'}, {main.steps_taken:,} of {num_steps:,} steps · "
             f"lr {c.learning_rate!r}{schedule} · n_embd {c.n_embd} · hidden {c.hidden_size} · seed {c.seed} · "
             f"{main.data}")
    ema_label = "moving average" + (f", smoothing {main.smoothing:g}" if math.isfinite(main.smoothing) else "")
    return PlotSeries(num_steps, y_lo, y_hi, lines, refs, nice_ticks(0, num_steps, 4),
                      nice_ticks(y_lo, y_hi, 6), title,
                      "steps (the whole data each)" if whole else "steps (one name each)",
                      "whole-data loss (low/high)" if whole else "one name (low/high)", ema_label)


def save_csv(path: str | Path, runs: Sequence[ExportRun], label: str | None = None) -> Path:
    """Write the runs' CSV to `path` atomically (engine.outputs). Raises OutputError or OSError."""
    target = resolve_output(path, label)
    write_file(target, lambda f: write_csv(runs, f))
    return target.real
