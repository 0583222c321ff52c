"""The loss of every step, kept compactly, with its moving average and a plot-sized view.

The moving average is TensorBoard's smoothing: with weight w (0 = none, 0.98 = about the last 50
steps), s_i = w s_(i-1) + (1 - w) x_i from s_(-1) = 0, shown debiased as s_i / (1 - w^(i+1)), so that
the first steps are not pulled towards 0. `set_weight()` recomputes the whole line for a new weight.

Appended to by one thread (the trainer) and read by another (a screen): a reader takes `len()`
first and then the arrays, which always hold at least that many values. `set_weight()` must not run
while a step is appended (the app holds the training loop's lock).
"""

from __future__ import annotations

import math

import numpy as np

SMOOTHING = 0.98  # the moving average's weight w: the newest loss counts 1 - w = 0.02 (about 50 steps)
SMOOTHING_LEVELS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)  # the steps the keys go through
_CHUNK = 4096  # values smoothed at a time: w^-CHUNK stays finite for w >= 0.85; a smaller w uses less


def smooth(values: np.ndarray, weight: float) -> tuple[np.ndarray, float]:
    """(the debiased moving average of `values` at `weight`, the last biased s). Vectorised: within a
    chunk of m values, s_(c+j) = w^(j+1) s_(c-1) + (1 - w) w^j cumsum(x_i w^-i)."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros(0), 0.0
    if weight <= 0.0:
        return x.copy(), float(x[-1])
    w = float(weight)
    chunk = max(1, min(_CHUNK, int(280 / -math.log10(w))))  # w^-chunk < 1e280
    biased = np.empty(n)
    s = 0.0
    with np.errstate(all="ignore"):
        for c in range(0, n, chunk):
            seg = x[c : c + chunk]
            j = np.arange(len(seg), dtype=np.float64)
            wj = w**j
            part = w * wj * s + (1 - w) * wj * np.cumsum(seg / wj)
            biased[c : c + len(seg)] = part
            s = float(part[-1])
        debias = -np.expm1(np.arange(1, n + 1, dtype=np.float64) * math.log(w))  # 1 - w^(i+1)
    return biased / debias, s


class LossHistory:
    def __init__(self, losses: np.ndarray | list[float] | tuple[float, ...] = (), weight: float = SMOOTHING):
        values = np.asarray(losses, dtype=np.float64)
        n = len(values)
        capacity = max(1024, 1 << (n - 1).bit_length()) if n else 1024
        self._loss = np.zeros(capacity)
        self._loss[:n] = values
        self._n = n
        self._set(weight)

    def _set(self, weight: float) -> None:
        n = self._n
        ema, s = smooth(self._loss[:n], weight)
        out = np.zeros(len(self._loss))
        out[:n] = ema
        self._ema = out
        self.weight = float(weight)
        self._s = s  # the biased average after the last step (a Python float: numpy scalars are slower)
        self._wpow = self.weight**n  # w^n, for the next step's debias
        self._last_ema = float(ema[-1]) if n else 0.0

    def set_weight(self, weight: float) -> None:
        """Smooth the whole history again with `weight` (0 <= weight < 1)."""
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"a smoothing weight is in [0, 1), got {weight}")
        self._set(weight)

    @property
    def alpha(self) -> float:
        """The newest loss's weight in the (biased) average: 1 - weight."""
        return 1.0 - self.weight

    def __len__(self) -> int:
        return self._n

    def append(self, loss: float) -> None:
        n = self._n
        if n == len(self._loss):
            self._loss = np.concatenate((self._loss, np.zeros(n)))
            self._ema = np.concatenate((self._ema, np.zeros(n)))
        w = self.weight
        s = w * self._s + (1 - w) * loss
        wpow = self._wpow * w
        ema = s / (1 - wpow) if wpow != 1.0 else loss
        self._loss[n] = loss
        self._ema[n] = ema
        self._s, self._wpow, self._last_ema = s, wpow, ema
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
