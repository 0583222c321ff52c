"""The loss of every step, kept compactly, with its running average and a plot-sized view.

Appended to by one thread (the trainer) and read by another (a screen): a reader takes `len()`
first and then the arrays, which always hold at least that many values.
"""

from __future__ import annotations

import numpy as np

EMA_ALPHA = 0.02  # weight of the newest loss in the smoothed curve (about a 50-step window)


class LossHistory:
    def __init__(self, losses: np.ndarray | list[float] = (), alpha: float = EMA_ALPHA):
        self.alpha = alpha
        values = np.asarray(losses, dtype=np.float64)
        n = len(values)
        capacity = max(1024, 1 << (n - 1).bit_length()) if n else 1024
        self._loss = np.zeros(capacity)
        self._ema = np.zeros(capacity)
        self._loss[:n] = values
        ema, out = (values[0] if n else 0.0), self._ema
        for i, value in enumerate(values.tolist()):  # the recurrence, once, in plain floats
            ema += alpha * (value - ema)
            out[i] = ema
        self._last_ema = float(ema)
        self._n = n

    def __len__(self) -> int:
        return self._n

    def append(self, loss: float) -> None:
        n = self._n
        if n == len(self._loss):
            self._loss = np.concatenate((self._loss, np.zeros(n)))
            self._ema = np.concatenate((self._ema, np.zeros(n)))
        ema = self._last_ema + self.alpha * (loss - self._last_ema) if n else loss
        self._loss[n] = loss
        self._ema[n] = ema
        self._last_ema = ema  # a Python float: arithmetic on numpy scalars is slower
        self._n = n + 1

    @property
    def losses(self) -> np.ndarray:
        return self._loss[: self._n]

    @property
    def ema(self) -> np.ndarray:
        return self._ema[: self._n]

    @property
    def last_ema(self) -> float:
        return self._last_ema if self._n else float("nan")

    def downsampled(self, points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At most `points` (step, loss, ema) samples spread evenly over the whole history.

        Plotting a million points costs seconds a frame; a screen column shows about two."""
        n = self._n
        if n == 0:
            empty = np.zeros(0)
            return empty, empty, empty
        idx = np.unique(np.linspace(0, n - 1, num=min(n, max(points, 2))).astype(np.intp))
        return idx.astype(np.float64), self._loss[idx], self._ema[idx]

    def mean_last(self, k: int) -> float:
        return float(self.losses[-k:].mean()) if self._n else float("nan")
