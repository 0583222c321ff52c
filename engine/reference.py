"""The loss figures a learner compares the training curve with, all computed from the data.

Because the model sees one token, its loss over the WHOLE data set is exact and cheap: every
(token, next) pair is counted once (`Dataset.counts`, a V x V table) and the forward pass runs on the
V rows only. The same counts give the count-table (bigram) model of Step 0: the best loss any
one-token-context model can reach on this data, so the MLP approaches it and never beats it.
"""

from __future__ import annotations

import math

import numpy as np

from engine.model import Model


def random_guess_loss(vocab_size: int) -> float:
    """-log(1 / V): the loss of a model that gives every token the same probability."""
    return math.log(vocab_size)


class Reference:
    """Loss figures over one data set's pair counts."""

    def __init__(self, counts: np.ndarray):
        self._seen = counts > 0  # (V, V) pairs that occur
        self._c = counts[self._seen].astype(np.float64)  # their counts
        self._rows = np.nonzero(self._seen)[0]  # row of each seen pair
        self.total = float(self._c.sum())  # number of positions in the data set
        rowsum = counts.sum(axis=1)
        self.floor = float(-(self._c * np.log(self._c / rowsum[self._rows])).sum() / self.total)
        self.random_guess = random_guess_loss(counts.shape[0])

    def dataset_loss(self, model: Model) -> float:
        """Mean of -log p(next | token) over every position of every document, exactly."""
        return self.loss_of(log_probs(model))

    def loss_of(self, logp: np.ndarray) -> float:
        """The same from the model's (V, V) log-probabilities (`log_probs`), which two References of
        one vocabulary (training and held-out data) can share."""
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged model's: inf or NaN, said elsewhere
            return float(-(self._c * logp[self._seen]).sum() / self.total)


def log_probs(model: Model) -> np.ndarray:
    """log p(next | token) for every token: row t is log softmax(mlp(t)). (V, V)"""
    with np.errstate(invalid="ignore", over="ignore"):  # a diverged model's inf - inf: NaN, said elsewhere
        logits = model.logits_all()  # (V, V)
        logits -= logits.max(axis=1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))  # (V, V)
