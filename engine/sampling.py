"""Sampling names and next-token distributions at a temperature (page 1.9, "Inference").

`probs = softmax(logits / temperature)`; a token is drawn as `random.choices(range(V), weights=probs)`
does it (one uniform draw, bisect into the running sum), so with the run's `random.Random` the names
are the tutorial's own. A fixed grid of uniform draws instead lets a front end re-sample the SAME
draws at another temperature, so what changes is the temperature's doing, not new noise.

Top-k (`top_k` > 0, as makemore's `--top-k`): only the k likeliest next tokens may be drawn; the others'
probability is 0 and the kept ones' are renormalised (softmax over the kept logits). A token tied with
the k-th largest logit is kept too, as makemore's `logits[logits < v[:, [-1]]] = -inf` does. top_k 0
(or >= the vocabulary) cuts nothing and leaves every figure exactly as before: the tutorial's.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable

import numpy as np

from engine.config import check_temperature
from engine.dataset import Dataset
from engine.model import Model


def top_k_mask(scaled: np.ndarray, top_k: int) -> np.ndarray | None:
    """Which tokens top-k keeps along the last axis: those at least the k-th largest (ties kept); None
    when nothing is cut (top_k 0, or at least the number of tokens)."""
    v = scaled.shape[-1]
    if top_k <= 0 or top_k >= v:
        return None
    kth = np.partition(scaled, v - top_k, axis=-1)[..., v - top_k : v - top_k + 1]
    return scaled >= kth


def softmax_rows(logits: np.ndarray, temperature: float, top_k: int = 0) -> np.ndarray:
    """softmax(logits / temperature) along the last axis, with the max subtracted first; with top_k,
    over the k largest only (the rest get 0)."""
    scaled = logits / check_temperature(temperature)
    if top_k:
        keep = top_k_mask(scaled, top_k)
        if keep is not None:
            scaled = np.where(keep, scaled, -np.inf)
    scaled -= scaled.max(axis=-1, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=-1, keepdims=True)


def next_token_probs(model: Model, token: int, temperature: float, top_k: int = 0) -> np.ndarray:
    """The distribution over the next token after `token` (0 for the tokens top-k cuts). (V,)"""
    return softmax_rows(model.logits_all()[token], temperature, top_k)


def cut_by_top_k(model: Model, token: int, temperature: float, top_k: int) -> np.ndarray | None:
    """(V,) True for each next token after `token` that top-k cuts (None when nothing is cut)."""
    if top_k <= 0 or top_k >= model.vocab_size:
        return None
    keep = top_k_mask(model.logits_all()[token] / check_temperature(temperature), top_k)
    return None if keep is None else ~keep


class Sampler:
    """The model's next-token distributions at one temperature, ready to draw names from."""

    def __init__(self, model: Model, dataset: Dataset, temperature: float, max_len: int = 16, top_k: int = 0):
        probs = softmax_rows(model.logits_all(), temperature, top_k)  # (V, V)
        self._cum_table = np.cumsum(probs, axis=1)  # running sums, as random.choices builds
        # with top-k: each row's last token that may be drawn (a cut token has the running sum of the one
        # before it, so bisect never lands on it, except past the end through rounding: see name())
        self._last_kept = (probs.shape[1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=1)).tolist() if top_k else None
        # ... as Python lists, made per row on first use: a (V, V) table of Python floats is 4x the
        # array, and a name visits only a few rows
        self._cum: list[list[float] | None] = [None] * model.vocab_size
        self._last = model.vocab_size - 1
        self.dataset, self.max_len = dataset, max_len

    def name(self, draw: Callable[[], float]) -> str:
        """One name: from BOS, at most max_len tokens, stopping at BOS; `draw()` gives U[0, 1)."""
        bos, out = self.dataset.bos, []
        token = bos
        for _ in range(self.max_len):
            cum = self._cum[token]
            if cum is None:
                cum = self._cum[token] = self._cum_table[token].tolist()
            context = token
            token = bisect_right(cum, draw() * cum[-1], 0, self._last)
            if self._last_kept is not None and token > self._last_kept[context]:
                token = self._last_kept[context]  # u * total rounded up to the total: the last kept token
            if token == bos:
                break
            out.append(token)
        return self.dataset.decode(out)


def sample_names(
    model: Model, dataset: Dataset, temperature: float, count: int, rng: random.Random, max_len: int = 16,
    top_k: int = 0,
) -> list[str]:
    """`count` names drawn with `rng` in sequence, as the tutorial's inference loop."""
    sampler = Sampler(model, dataset, temperature, max_len, top_k)
    return [sampler.name(rng.random) for _ in range(count)]


def uniform_grid(seed: int, count: int, max_len: int = 16) -> np.ndarray:
    """`count` rows of `max_len` uniform draws: row i is name i's draws. (count, max_len)"""
    return np.random.default_rng(seed).random((count, max_len))


def sample_names_from_grid(
    model: Model, dataset: Dataset, temperature: float, grid: np.ndarray, top_k: int = 0
) -> list[str]:
    """One name per row of `grid`, position j of name i using grid[i, j]."""
    sampler = Sampler(model, dataset, temperature, grid.shape[1], top_k)
    return [sampler.name(iter(row.tolist()).__next__) for row in grid]
