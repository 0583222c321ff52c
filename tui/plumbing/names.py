"""The generated names' batches: which random draws each batch uses, when the next one is due, and the
run's own final samples. Sampling itself is the engine's; the names panel only lays the names out."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from engine import Model, Run, sample_names, sample_names_from_grid, uniform_grid
from engine.dataset import Dataset

SAMPLE_EVERY = 2.0  # seconds between name batches while training runs
NAMES_PER_BATCH = 8
FINAL_CHUNK = 100  # final samples are drawn this many at a time, so a cancel is seen at once


class NameBatches:
    """Batches of NAMES_PER_BATCH names drawn with fixed uniform draws (a grid): re-sampling the newest
    batch at another temperature uses the same draws, so the change seen is the temperature's. The
    draws follow the run's seed: another seed draws other names from its first batch on (the same seed,
    the same draws)."""

    def __init__(self, max_len: int, seed: int = 0):
        self.max_len = max_len
        self._base = (seed % 2**31) * 1_000_003  # batch k of a run uses the grid of seed base + k
        self._seed = 0
        self._grid = uniform_grid(seed=self._base, count=NAMES_PER_BATCH, max_len=max_len)
        self._last = 0.0

    def due(self) -> bool:
        """Is a new batch due (SAMPLE_EVERY seconds after the last)?"""
        return time.monotonic() - self._last >= SAMPLE_EVERY

    def draw(self, model: Model, dataset: Dataset, temperature: float,
             new_draws: bool = False, top_k: int = 0) -> tuple[list[str], list[bool]]:
        """The batch's names and, for each, whether it is a training name. `new_draws`: the next grid."""
        if new_draws:
            self._seed += 1
            self._grid = uniform_grid(self._base + self._seed, NAMES_PER_BATCH, self.max_len)
        with np.errstate(all="ignore"):
            names = sample_names_from_grid(model, dataset, temperature, self._grid, top_k)
        self._last = time.monotonic()
        return names, [dataset.is_training_name(n) for n in names]


def final_samples(run: Run, temperature: float, cancelled: Callable[[], bool], top_k: int = 0,
                  rng: random.Random | None = None) -> list[str] | None:
    """The run's own samples from its random stream (the tutorial's `sample  1: ...`), drawn in chunks;
    None if `cancelled()` became true on the way. `rng`: draw from this generator instead (a copy of the
    run's state, to draw the same list again at another temperature without touching the run's)."""
    names: list[str] = []
    total = run.config.num_samples
    while len(names) < total:
        if cancelled():
            return None
        count = min(FINAL_CHUNK, total - len(names))
        if rng is None:
            names += run.sample(temperature=temperature, count=count, top_k=top_k)
        else:
            names += sample_names(run.model, run.dataset, temperature, count, rng, run.config.max_len, top_k)
    return names
