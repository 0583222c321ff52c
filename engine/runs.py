"""The session's kept runs: a summary of each, its downsampled curves, and what tells two runs apart.

When a run is replaced (reset, new seed, new settings) a front end keeps it here: `RunSummary.of(run)`
copies its settings, final figures and two bounded curves (the moving average at ~CURVE_POINTS fixed
steps, and the whole-data / held-out loss the run measured at its ExactTrack's fixed steps), so a
kept run costs a few tens of KB whatever its length, and never holds the run's weights; a run of at most
LOSSES_KEPT_UP_TO steps keeps its per-step losses as well (at most 800 KB), so that an export holds them.
One kept run may be pinned as the baseline (`RunRegistry.pin_baseline`); `compare_with` gives a run's
settings and final figures as differences from it.
`RunRegistry` holds the last MAX_RUNS of them with a hidden / shown flag. `describe_difference` gives
a ghost line's label: what differs from the current run ("lr 0.5", "seed 7, n_embd 32"). Numpy only.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.config import GRADIENT_WORDS, SCHEDULE_WORDS, Config
from engine.curve import ExactTrack
from engine.history import SMOOTHING, Series, smooth

if TYPE_CHECKING:
    from engine.run import Run

CURVE_POINTS = 512  # moving-average samples kept per run (a plot is rarely wider)
MAX_RUNS = 8  # runs kept per session
LOSSES_KEPT_UP_TO = 100_000  # a kept run this short keeps every step's loss too (800 KB at most), for export
EMBEDDED = "census names"  # the data name of a run on the embedded default names (as the screen names them)


@dataclass(frozen=True, eq=False)
class RunCurves:
    """A kept run's lines, each an ExactTrack (its `steps` = steps taken when sampled, rising):
    `ema` the moving average, `exact` the whole-data (training) loss with the held-out loss beside it
    (`exact.heldout_values`, None without a held-out set). `steps_taken` ends the lines."""

    ema: ExactTrack
    exact: ExactTrack
    steps_taken: int

    def lines(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(moving average, whole-data loss, held-out loss) at each of `steps` (steps taken, e.g. a plot's
        bucket ends): the latest sample at or before it; NaN before the first and after the run's end."""
        steps = np.asarray(steps)
        beyond = steps > self.steps_taken
        out = self.ema.at(steps), self.exact.at(steps), self.exact.heldout_at(steps)
        for line in out:
            line[beyond] = np.nan
        return out

    @property
    def nbytes(self) -> int:
        hv = self.exact.heldout_values
        return (self.ema.steps.nbytes + self.ema.values.nbytes + self.exact.steps.nbytes
                + self.exact.values.nbytes + (hv.nbytes if hv is not None else 0))


def ema_curve(ema: np.ndarray | Series, num_steps: int, points: int = CURVE_POINTS) -> ExactTrack:
    """The moving average after every `every` steps (ExactTrack's fixed grid for `points`) up to the
    steps taken, and after the last step taken. `ema[i]` is the average after i + 1 steps."""
    track = ExactTrack(num_steps, points)
    taken = len(ema)
    steps = np.arange(track.every, taken + 1, track.every, dtype=np.int64)
    if taken and (len(steps) == 0 or steps[-1] != taken):
        steps = np.append(steps, taken)
    return ExactTrack.from_arrays(num_steps, points, steps, ema[steps - 1])


class EmaGrid:
    """`ema_curve` of a run that is still training, called again and again (a screen's frames): the grid's
    points already read are kept, only the new ones are read, while the moving average is the same line (a
    new smoothing weight makes a new line: then it is read from the start)."""

    def __init__(self, num_steps: int, points: int = CURVE_POINTS):
        self.num_steps, self.points = num_steps, points
        self.every = ExactTrack(num_steps, points).every
        self._line: object = None
        self._values = np.zeros(0)  # the moving average after every, 2 every, ... steps, as read so far

    def curve(self, ema: Series) -> ExactTrack:
        """What ema_curve(ema, num_steps, points) gives."""
        taken, every = len(ema), self.every
        if ema.line is not self._line:
            self._line, self._values = ema.line, np.zeros(0)
        grid = taken // every  # points of the grid at or before the steps taken
        have = len(self._values)
        if grid > have:
            steps = np.arange((have + 1) * every, grid * every + 1, every, dtype=np.int64)
            self._values = np.concatenate([self._values, ema[steps - 1]])
        steps = np.arange(every, grid * every + 1, every, dtype=np.int64)
        values = self._values[:grid]
        if taken and grid * every != taken:
            steps, values = np.append(steps, taken), np.append(values, ema[taken - 1])
        return ExactTrack.from_arrays(self.num_steps, self.points, steps, values)


@dataclass(eq=False)
class RunSummary:
    """What a kept run shows in a runs view and on the plot. `hidden` is the registry's flag."""

    id: int  # given by the registry (0 before it is added)
    label: str  # why it was kept, free text ("reset", "new settings"); "" when none
    config: Config
    data: str  # the data it trained on: a path, or EMBEDDED (see data_name)
    steps_taken: int
    num_steps: int
    smoothed: float  # the moving average after the last step (NaN before any)
    whole_data: float  # the exact training loss at the final weights
    heldout: float  # the exact held-out loss at the final weights (NaN without a held-out set)
    floor: float  # the training data's count-table floor
    heldout_floor: float  # the held-out data's own floor (NaN without)
    steps_per_s: float | None  # as the front end measured it, if given
    lr_changes: list[tuple[int, float]]  # [(step, base), ...], one entry when the rate never changed
    diverged_at: int | None
    curves: RunCurves
    hidden: bool = field(default=False)
    losses: np.ndarray | None = field(default=None)  # every step's loss, when steps_taken <= LOSSES_KEPT_UP_TO
    weight: float = field(default=SMOOTHING)  # the smoothing weight of `smoothed` and `curves.ema`

    def at_weight(self, weight: float) -> RunSummary:
        """This run with its moving average (`smoothed`, `curves.ema`) at another smoothing weight, as the
        live run's line is redrawn when the weight changes (engine.history): from every step's loss, so only
        for a run that kept them (`losses`); one that did not is itself, at its own weight."""
        if weight == self.weight or self.losses is None:
            return self
        ema, _ = smooth(self.losses, weight)
        old = self.curves.ema
        n = len(old)
        track = old.copy()  # the same steps (its grid), the new average at them
        track.values[:n] = ema[old.steps[:n] - 1]
        curves = replace(self.curves, ema=track)
        return replace(self, curves=curves, smoothed=float(ema[-1]) if len(ema) else math.nan, weight=weight)

    @classmethod
    def of(cls, run: Run, data: str | Path | list[str] | None = None, label: str = "",
           steps_per_s: float | None = None, points: int = CURVE_POINTS) -> RunSummary:
        """Summarise `run` now (~100 us: one forward pass over the vocabulary and some copies). Call it from
        the thread that trains it, or while it is paused."""
        taken, c = run.step, run.config
        whole, held = run.losses_now()
        track = run.exact_track
        if track is not None and len(track):
            exact = track.copy()
        else:  # never tracked (headless): the final figures alone
            hv = np.array([held]) if run.heldout is not None else None
            exact = ExactTrack.from_arrays(c.num_steps, points, np.array([taken]), np.array([whole]), hv)
        curves = RunCurves(ema_curve(run.history.ema.head(taken), c.num_steps, points), exact, taken)
        losses = run.history.losses[:taken].copy() if taken <= LOSSES_KEPT_UP_TO else None
        return cls(0, label, c, data_name(data), taken, c.num_steps, run.history.last_ema, whole, held,
                   run.reference.floor, run.heldout_floor, steps_per_s, run.lr_changes, run.diverged_at, curves,
                   losses=losses, weight=run.history.weight)


def data_name(data: str | Path | list[str] | None) -> str:
    """How a run's data is named in labels and tables: the path as given, or EMBEDDED for the default."""
    if data is None:
        return EMBEDDED
    if isinstance(data, list):
        return f"a list of {len(data):,} names"
    return str(data)


def _short(data: str) -> str:
    return data if data == EMBEDDED or data.startswith("a list of") else (Path(data).name or data)


def _num(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def setting_differences(current: Config, other: Config, current_data: str = EMBEDDED,
                        other_data: str = EMBEDDED) -> list[tuple[str, str, str]]:
    """(setting, CURRENT's value, OTHER's value) of each setting that differs, in a fixed order: the
    training settings, the data, then the sampling settings. The hidden width counts when the widths
    differ, unless both follow n_embd (4 x n_embd)."""
    out = []
    pairs = [("lr", current.learning_rate, other.learning_rate), ("steps", current.num_steps, other.num_steps),
             ("n_embd", current.n_embd, other.n_embd),
             ("hidden", current.hidden_size, current.hidden_size if current.hidden is None and other.hidden is None
              else other.hidden_size),
             ("seed", current.seed, other.seed), ("holdout", current.holdout, other.holdout),
             ("schedule", current.schedule, other.schedule), ("gradient", current.gradient, other.gradient),
             ("init_std", current.init_std, other.init_std)]
    for name, mine, theirs in pairs:
        if mine != theirs:
            out.append((name, _num(mine), _num(theirs)))
    if current_data != other_data:
        out.append(("data", _short(current_data), _short(other_data)))
    for name, mine, theirs in [("temperature", current.temperature, other.temperature),
                               ("top_k", getattr(current, "top_k", 0), getattr(other, "top_k", 0)),
                               ("samples", current.num_samples, other.num_samples),
                               ("max_len", current.max_len, other.max_len)]:
        if mine != theirs:
            out.append((name, _num(mine), _num(theirs)))
    return out


SAMPLING = ("temperature", "top_k", "samples", "max_len")  # settings that change the names, not the curve


def describe_difference(current: Config, other: Config, current_data: str = EMBEDDED,
                        other_data: str = EMBEDDED) -> str:
    """The label of `other` beside `current`: each training setting (and the data) that differs, with
    OTHER's value, in a fixed order ("lr 0.5, seed 7", "cosine schedule", "whole-data gradient": the run
    line's words); "same settings" when none does. The sampling
    settings are left out: they change the names drawn, never the loss curve the label names. The hidden
    width counts when the widths differ, unless both follow n_embd (4 x n_embd): n_embd 32 with the
    default width is "n_embd 32"."""
    words = {"schedule": SCHEDULE_WORDS, "gradient": GRADIENT_WORDS}  # as the run line and a race's labels say them
    parts = [words[name].get(theirs, f"{theirs} {name}") if name in words else f"{name} {theirs}"
             for name, _, theirs in setting_differences(current, other, current_data, other_data)
             if name not in SAMPLING]
    return ", ".join(parts) if parts else "same settings"


@dataclass(frozen=True)
class RunFigures:
    """What a run is compared by: its settings, its data and its final figures (NaN: not measured)."""

    config: Config
    data: str
    smoothed: float
    whole_data: float
    heldout: float

    @classmethod
    def of_summary(cls, summary: RunSummary) -> RunFigures:
        return cls(summary.config, summary.data, summary.smoothed, summary.whole_data, summary.heldout)


@dataclass(frozen=True)
class Difference:
    """A run beside the baseline: the settings that differ, (setting, baseline's, this run's), and each
    final figure as this run's minus the baseline's (NaN where either is not measured)."""

    settings: list[tuple[str, str, str]]
    smoothed: float
    whole_data: float
    heldout: float

    def settings_text(self) -> str:
        """'lr 0.5→1.0, seed 42→7'; 'same settings' when none differs."""
        return ", ".join(f"{n} {a}→{b}" for n, a, b in self.settings) or "same settings"


def compare_with(baseline: RunFigures, other: RunFigures) -> Difference:
    """`other` as differences from `baseline`."""
    return Difference(setting_differences(baseline.config, other.config, baseline.data, other.data),
                      other.smoothed - baseline.smoothed, other.whole_data - baseline.whole_data,
                      other.heldout - baseline.heldout)


class RunRegistry:
    """The last `limit` kept runs, oldest first, each with a registry-given id (1, 2, ...; never reused
    in a session) and a hidden flag. Adding one more than the limit drops the oldest."""

    def __init__(self, limit: int = MAX_RUNS):
        if limit < 1:
            raise ValueError(f"a registry keeps at least 1 run, got {limit}")
        self.limit = limit
        self._runs: list[RunSummary] = []
        self._next_id = 1
        self.baseline_id: int | None = None  # the kept run the others are compared with, if one is pinned
        self.weight = SMOOTHING  # the live run's smoothing weight (`resmooth`)

    def add(self, summary: RunSummary) -> RunSummary:
        """Keep `summary` under a new id (a copy of it is kept: the caller's object is unchanged)."""
        kept = replace(summary, id=self._next_id)
        self._next_id += 1
        self._runs = [*self._runs, kept][-self.limit :]  # a new list: a reader's copy never changes
        if self.baseline_id is not None and self.baseline_id not in self:
            self.baseline_id = None  # the baseline was the oldest, and it is dropped
        return kept

    def keep(self, run: Run, data: str | Path | list[str] | None = None, label: str = "",
             steps_per_s: float | None = None) -> RunSummary:
        """RunSummary.of(run, ...) then add()."""
        return self.add(RunSummary.of(run, data, label, steps_per_s))

    def remove(self, run_id: int) -> bool:
        """Forget run `run_id`; False when there is no such run."""
        runs = [r for r in self._runs if r.id != run_id]
        found = len(runs) != len(self._runs)
        self._runs = runs
        if run_id == self.baseline_id:
            self.baseline_id = None
        return found

    def pin_baseline(self, run_id: int) -> bool:
        """Make run `run_id` the baseline, or unpin it if it is already; returns whether it is now the
        baseline (False when there is no such run)."""
        if run_id == self.baseline_id or run_id not in self:
            self.baseline_id = None
            return False
        self.baseline_id = run_id
        return True

    @property
    def baseline(self) -> RunSummary | None:
        return None if self.baseline_id is None else self.get(self.baseline_id)

    def get(self, run_id: int) -> RunSummary | None:
        return next((r for r in self._runs if r.id == run_id), None)

    def set_hidden(self, run_id: int, hidden: bool) -> bool:
        """Hide (True) or show (False) run `run_id` on the plot; False when there is no such run."""
        run = self.get(run_id)
        if run is not None:
            run.hidden = hidden
        return run is not None

    def hide(self, run_id: int) -> bool:
        return self.set_hidden(run_id, True)

    def show(self, run_id: int) -> bool:
        return self.set_hidden(run_id, False)

    def toggle(self, run_id: int) -> bool:
        """Flip the flag; returns the new `hidden` (False when there is no such run)."""
        run = self.get(run_id)
        if run is None:
            return False
        run.hidden = not run.hidden
        return run.hidden

    def list(self) -> list[RunSummary]:
        """All kept runs, oldest first."""
        return list(self._runs)

    def visible(self) -> builtins.list[RunSummary]:  # (`list` is a method here)
        return [r for r in self._runs if not r.hidden]

    def resmooth(self, weight: float) -> None:
        """Every kept run's moving average at the live run's new smoothing weight (RunSummary.at_weight): the
        lines on one plot, and the figures in one table, are compared at one weight. A run too long to have
        kept its losses stays at its own, and its label says so (`labels`)."""
        self.weight = weight
        self._runs = [r.at_weight(weight) for r in self._runs]  # a new list: a reader's copy never changes

    def labels(self, current: Config, current_data: str = EMBEDDED) -> dict[int, str]:
        """Each kept run's describe_difference from the current run, by id; `(avg 0.999)` after it when its
        moving average is at another smoothing weight than the live run's."""
        return {r.id: _rate_changes(describe_difference(current, r.config, current_data, r.data), r)
                + (f" (avg {r.weight:g})" if r.weight != self.weight else "") for r in self._runs}

    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[RunSummary]:
        return iter(list(self._runs))

    def __contains__(self, run_id: object) -> bool:
        return any(r.id == run_id for r in self._runs)


def _rate_changes(label: str, run: RunSummary) -> str:
    """A kept run whose rate was changed mid-run (< >) is labelled by its first and last base, `lr 1.0→8.0`
    (its settings say only the first: a run doubled to 8 that diverged read `lr 1.0`)."""
    if len(run.lr_changes) < 2:
        return label
    path = f"lr {_num(run.lr_changes[0][1])}→{_num(run.lr_changes[-1][1])}"
    first = f"lr {_num(run.config.learning_rate)}"
    if label == "same settings":
        return path
    if label == first or label.startswith(first + ", "):
        return path + label[len(first):]
    return f"{path}, {label}"


def final_mean(losses: np.ndarray, k: int = 100) -> float:
    """The mean of the last `k` recorded losses (NaN when none): the noisy figure a checkpoint alone gives."""
    return float(np.mean(losses[-k:])) if len(losses) else math.nan
