"""Training as a lazy generator: each next() is one SGD step on one document, as page 1.9 (or, with
`gradient="data"`, one step of full-batch gradient descent on the whole data).

Pausing is not calling next(); stopping is dropping the generator; a new run is a new generator.
It never prints, sleeps or touches files, and draws no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

from engine.config import Config
from engine.dataset import Dataset
from engine.model import Model, PairCounts

WHOLE_DATA = "(all names)"  # a StepRecord's doc when the step's gradient was the whole data's


class StepRecord(NamedTuple):
    step: int  # 0-based index of the step just taken
    loss: float  # the document's mean loss, measured before the update
    lr: float  # the learning rate the step used
    doc: str  # the document (name) the step trained on

    @property
    def diverged(self) -> bool:
        """A non-finite loss: the step was not applied and it is the generator's last record."""
        return not math.isfinite(self.loss)


def decay(step: int, total: int, schedule: str = "linear") -> float:
    """The learning rate at `step` of `total` as a factor of its base: "linear" 1 - step/total (the
    tutorial's decay), "constant" 1, "cosine" (1 + cos(pi step/total)) / 2 (from 1 down to near 0)."""
    if schedule == "linear":
        return 1 - step / total
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * step / total))
    raise ValueError(f"unknown schedule {schedule!r}")


def lr_at(step: int, config: Config) -> float:
    """The rate at `step` from learning_rate, by the config's schedule (linear: decays to 0 at num_steps)."""
    return config.learning_rate * decay(step, config.num_steps, config.schedule)


class LrSchedule:
    """The learning rate's base, which may change mid-run: step t uses `base_t * (1 - t / num_steps)`
    (or the config's other schedule's factor, `decay`) with the base in force at step t, so the decay
    goes on from the new base.

    `base` is what the NEXT step uses: set it (from any thread) between or during steps. The training
    generator reads it once a step and, when it differs from the one it used last, records
    (step, base) in `changes`: the step that first used it. `changes[0]` is (first step, base).
    """

    def __init__(self, base: float, changes: list[tuple[int, float]] | None = None):
        self.base = float(base)
        self.changes: list[tuple[int, float]] = list(changes) if changes else [(0, self.base)]

    @classmethod
    def of(cls, changes: list[tuple[int, float]]) -> LrSchedule:
        """Continue a recorded schedule: its last base is in force."""
        return cls(changes[-1][1], changes)

    def note(self, step: int, base: float) -> None:
        """Record that `step` is the first to use `base` (the generator's call)."""
        if self.changes and self.changes[-1][0] >= step:
            self.changes[-1] = (step, base)  # changed twice before a step was taken
        else:
            self.changes.append((step, base))
        if len(self.changes) >= 2 and self.changes[-1][1] == self.changes[-2][1]:
            self.changes.pop()  # changed back before a step used it

    def recorded(self, next_step: int) -> list[tuple[int, float]]:
        """The change points, with a change not yet used by a step shown at `next_step`."""
        changes, base = list(self.changes), self.base
        if base != changes[-1][1]:
            changes.append((next_step, base))
        return changes

    def base_at(self, step: int) -> float:
        """The base in force at `step` (from the recorded changes)."""
        base = self.changes[0][1]
        for at, value in self.changes:
            if at > step:
                break
            base = value
        return base


def train(model: Model, dataset: Dataset, config: Config, start: int = 0,
          schedule: LrSchedule | None = None) -> Iterator[StepRecord]:
    """Steps start .. num_steps-1 on `model`, in place. Step s trains on document s % len(dataset)
    (with config.gradient "data": on the whole data set, its record's doc WHOLE_DATA), at
    lr = base * decay(s), by default base * (1 - s / num_steps), base from `schedule` (default:
    config.learning_rate, fixed).

    On the first non-finite loss the update is skipped, that record is yielded and the generator
    ends, so `model` keeps the weights of the last finite step.
    """
    tokens, offsets, docs = dataset.tokens, dataset.offsets, dataset.docs
    n_docs, total = len(docs), config.num_steps
    if schedule is None:
        schedule = LrSchedule(config.learning_rate)
    used = schedule.changes[-1][1]  # the base the steps so far used
    sgd_step = model.sgd_step
    whole = PairCounts(dataset.counts) if config.gradient == "data" else None
    linear, kind = config.schedule == "linear", config.schedule
    for step in range(start, total):
        i = step % n_docs
        lr0 = schedule.base
        if lr0 != used:
            schedule.note(step, lr0)
            used = lr0
        lr = lr0 * (1 - step / total) if linear else lr0 * decay(step, total, kind)
        if whole is None:
            loss = sgd_step(tokens[offsets[i] : offsets[i + 1] + 1], lr)
            yield StepRecord(step, loss, lr, docs[i])
        else:
            loss = model.data_step(whole, lr)
            yield StepRecord(step, loss, lr, WHOLE_DATA)
        if loss != loss or loss == math.inf:  # NaN or inf: diverged
            return
