"""Training as a lazy generator: each next() is one SGD step on one document, as page 1.9.

Pausing is not calling next(); stopping is dropping the generator; a new run is a new generator.
It never prints, sleeps or touches files, and draws no random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

from engine.config import Config
from engine.dataset import Dataset
from engine.model import Model


class StepRecord(NamedTuple):
    step: int  # 0-based index of the step just taken
    loss: float  # the document's mean loss, measured before the update
    lr: float  # the learning rate the step used
    doc: str  # the document (name) the step trained on

    @property
    def diverged(self) -> bool:
        """A non-finite loss: the step was not applied and it is the generator's last record."""
        return not math.isfinite(self.loss)


def lr_at(step: int, config: Config) -> float:
    """Linear decay from learning_rate at step 0 towards 0 at num_steps."""
    return config.learning_rate * (1 - step / config.num_steps)


def train(model: Model, dataset: Dataset, config: Config, start: int = 0) -> Iterator[StepRecord]:
    """Steps start .. num_steps-1 on `model`, in place. Step s trains on document s % len(dataset).

    On the first non-finite loss the update is skipped, that record is yielded and the generator
    ends, so `model` keeps the weights of the last finite step.
    """
    tokens, offsets, docs = dataset.tokens, dataset.offsets, dataset.docs
    n_docs, total, lr0 = len(docs), config.num_steps, config.learning_rate
    sgd_step = model.sgd_step
    for step in range(start, total):
        i = step % n_docs
        lr = lr0 * (1 - step / total)
        loss = sgd_step(tokens[offsets[i] : offsets[i + 1] + 1], lr)
        yield StepRecord(step, loss, lr, docs[i])
        if loss != loss or loss == math.inf:  # NaN or inf: diverged
            return
