"""The Step 1 MLP: wte -> mlp_fc1 -> ReLU -> mlp_fc2, one token of context, float64, no biases.

All parameters live in ONE flat buffer (`theta`) with the three matrices as views into it, so an SGD
update is a single numpy call. The backward pass is the tutorial's analytic gradient (page 1.7),
written in the forward's vocabulary in reverse order and vectorised over a document's positions.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable

import numpy as np

from engine.config import CHUNK, Config, check_model_size, parameter_count

# The fast softmax may overflow before it falls back to the stable one; its warnings are expected.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"engine\.model")

# CHUNK: positions per pass (engine.config)
__all__ = ["CHUNK", "Model", "PairCounts", "Stopped", "numerical_grad", "numerical_grad_fast"]
TINY_SCALE = 1e-150  # below this lr / n the step scales the gradient after the softmax, not inside it
ONE_HOT_VOCAB = 512  # up to this vocabulary size the embedding gradient is a one-hot matmul ...
ONE_HOT_MAX = 1 << 16  # ... for documents with at most this many (positions x vocabulary) cells


class PairCounts:
    """A data set's (token, next) pair counts C (V, V) as the whole-data gradient needs them. The
    whole-data loss is -sum_ab C[a, b] log p(b | a) / sum C: the mean over every position of every
    name, exactly what the names' per-position losses average to (engine.reference)."""

    def __init__(self, counts: np.ndarray):
        self.counts = np.asarray(counts, dtype=np.float64)  # (V, V)
        self.rows = self.counts.sum(axis=1, keepdims=True)  # (V, 1): positions after each token
        self.total = float(self.counts.sum())  # positions in the data set


class Model:
    def __init__(self, vocab_size: int, n_embd: int, hidden: int, theta: np.ndarray | None = None,
                 share: bool = False):
        """`theta` is copied, unless `share`: then this model's weights ARE that float64 array (a row of
        a race's (K, P) block, engine.race), and a step writes into it."""
        check_model_size(vocab_size, n_embd, hidden)
        self.vocab_size, self.n_embd, self.hidden = vocab_size, n_embd, hidden
        size = parameter_count(vocab_size, n_embd, hidden)
        if share and theta is not None and theta.dtype == np.float64:
            self.theta = theta
        else:
            self.theta = np.zeros(size) if theta is None else np.array(theta, dtype=np.float64)
        if self.theta.shape != (size,):
            raise ValueError(f"theta has shape {self.theta.shape}, expected ({size},)")
        self.grad = np.zeros(size)
        self.wte, self.fc1, self.fc2 = self._views(self.theta)  # (V, E) (H, E) (V, H)
        self.gwte, self.gfc1, self.gfc2 = self._views(self.grad)
        # rows are one-hot vectors: the embedding's gradient as one matmul (small vocabularies)
        self._eye = np.eye(vocab_size) if vocab_size <= ONE_HOT_VOCAB else None
        self._row_starts = np.arange(CHUNK) * vocab_size  # flat index of row i of an (n, V) array
        self._ones = np.ones((vocab_size, 1))  # row sums as one dot
        self._fc1_t, self._fc2_t = self.fc1.T, self.fc2.T

    def _views(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        v, e, h = self.vocab_size, self.n_embd, self.hidden
        a, b = v * e, v * e + h * e
        return flat[:a].reshape(v, e), flat[a:b].reshape(h, e), flat[b:].reshape(v, h)

    @classmethod
    def init(cls, vocab_size: int, config: Config, rng: random.Random) -> Model:
        """Tutorial-exact initialisation: `rng.gauss(0, std)` for wte, then mlp_fc1, then mlp_fc2,
        row by row, which is also the order of `theta`."""
        model = cls(vocab_size, config.n_embd, config.hidden_size)
        gauss, std = rng.gauss, config.init_std
        model.theta[:] = [gauss(0, std) for _ in range(model.theta.size)]
        return model

    @property
    def num_params(self) -> int:
        return self.theta.size

    def copy(self) -> Model:
        return Model(self.vocab_size, self.n_embd, self.hidden, self.theta)

    def logits_all(self) -> np.ndarray:
        """Logits after every token at once: row t is mlp(t). (V, V)"""
        return np.maximum(self.wte @ self.fc1.T, 0.0) @ self.fc2.T

    def _backprop(self, x_ids: np.ndarray, y_ids: np.ndarray, scale: float) -> float:
        """Forward and backward over the positions x_ids -> y_ids. Writes `scale` times the SUM over
        the positions of the per-position gradient into self.grad; returns the summed loss.

        Speed (numpy call overhead is the whole cost here): np.dot rather than @, row sums as a
        dot with ones, and the scale folded into the softmax normalisation. exp() runs without the
        max subtraction first; if that overflows or underflows the loss is not finite and the pass
        is redone with the max subtracted (the same numbers up to round-off)."""
        n = len(x_ids)
        dot = np.dot
        x = self.wte.take(x_ids, axis=0)  # (n, E)
        h_pre = dot(x, self._fc1_t)  # (n, H)
        h = np.maximum(h_pre, 0.0)  # (n, H)
        logits = dot(h, self._fc2_t)  # (n, V)
        try:
            loss, dlogits = self._softmax_grad_fast(logits, y_ids, scale)
        except FloatingPointError:  # only if the caller made numpy raise on overflow
            loss = math.inf
        if not math.isfinite(loss):
            with np.errstate(all="ignore"):
                logits = dot(h, self._fc2_t)
                loss, dlogits = self._softmax_grad_stable(logits, y_ids, scale)
        dot(dlogits.T, h, out=self.gfc2)  # (V, H)
        dh = dot(dlogits, self.fc2)  # (n, H)
        dh_pre = np.multiply(dh, h_pre > 0, out=dh)  # (n, H): ReLU passes where h_pre > 0
        dot(dh_pre.T, x, out=self.gfc1)  # (H, E)
        dx = dot(dh_pre, self.fc1)  # (n, E)
        if self._eye is not None and n * self.vocab_size <= ONE_HOT_MAX:
            dot(self._eye.take(x_ids, axis=0).T, dx, out=self.gwte)  # (V, E)
        else:
            self.gwte[:] = 0.0
            np.add.at(self.gwte, x_ids, dx)  # a repeated token gets every contribution
        return loss

    def _softmax_grad_fast(
        self, logits: np.ndarray, y_ids: np.ndarray, scale: float
    ) -> tuple[float, np.ndarray]:
        """Summed -log softmax(logits)[target], and scale * (softmax - one_hot(target)) in place."""
        n = len(y_ids)
        probs = np.exp(logits, out=logits)  # (n, V), not yet normalised
        probs *= scale / np.dot(probs, self._ones)  # (n, V): scale * softmax
        target = self._row_starts[:n] + y_ids  # flat index of each position's target
        picked = probs.take(target).tolist()  # scale * p[target] for each position
        product = math.prod(picked)  # one log of the product is cheaper than n logs ...
        if product > 1e-280:
            loss = n * math.log(scale) - math.log(product)
        else:  # ... unless it underflows
            loss = n * math.log(scale) - sum(map(math.log, picked)) if min(picked) > 0 else math.inf
        probs.ravel()[target] -= scale
        return loss, probs

    def _softmax_grad_stable(
        self, logits: np.ndarray, y_ids: np.ndarray, scale: float
    ) -> tuple[float, np.ndarray]:
        """The same, with each row's max subtracted first and the loss as log-sum-exp, so that it
        stays finite for as long as the logits are."""
        n = len(y_ids)
        logits -= logits.max(axis=1, keepdims=True)
        target = self._row_starts[:n] + y_ids
        picked = logits.take(target)  # (n,)
        probs = np.exp(logits, out=logits)
        sums = np.dot(probs, self._ones)  # (n, 1)
        loss = float(np.log(sums).sum() - picked.sum())
        probs *= scale / sums
        probs.ravel()[target] -= scale
        return loss, probs

    def _sum_grad(self, tokens: np.ndarray, scale: float) -> float:
        n = len(tokens) - 1
        if n <= CHUNK:
            return self._backprop(tokens[:-1], tokens[1:], scale)
        total, loss = np.zeros_like(self.grad), 0.0
        for i in range(0, n, CHUNK):
            j = min(i + CHUNK, n)
            loss += self._backprop(tokens[i:j], tokens[i + 1 : j + 1], scale)
            total += self.grad
        self.grad[:] = total
        return loss

    def loss_and_grad(self, tokens: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean loss of one document ([BOS] + ids + [BOS]) and its gradient (a new flat array)."""
        n = len(tokens) - 1
        loss = self._sum_grad(tokens, 1.0 / n)
        return loss / n, self.grad.copy()

    def sgd_step(self, tokens: np.ndarray, lr: float) -> float:
        """One SGD step on one document: theta -= lr * gradient. Returns the loss before the step;
        if that loss is not finite the weights are left as they were."""
        n = len(tokens) - 1
        if lr / n >= TINY_SCALE:
            loss = self._sum_grad(tokens, lr / n)  # self.grad = lr * mean gradient
        else:  # (lr / n) * p could be subnormal and lose digits: the mean gradient first, then times lr
            loss = self._sum_grad(tokens, 1.0 / n)
            self.grad *= lr
        if math.isfinite(loss):  # a diverged step changes nothing
            np.subtract(self.theta, self.grad, out=self.theta)
        return loss / n

    def _data_backprop(self, pairs: PairCounts, scale: float) -> float:
        """The whole-data loss and `scale` times its gradient (into self.grad). The model sees one token,
        so every position after token a has the same logits, mlp(a): the forward runs on the V tokens
        once, and the gradient at logits row a is sum_b C[a, b] (softmax - one_hot(b)) / total =
        (rows[a] * softmax(mlp(a)) - C[a]) / total. The loss is the one BEFORE the update."""
        dot = np.dot
        h_pre = dot(self.wte, self._fc1_t)  # (V, H): every token's hidden units
        h = np.maximum(h_pre, 0.0)
        logits = dot(h, self._fc2_t)  # (V, V)
        with np.errstate(all="ignore"):  # a diverged model's inf - inf: NaN, reported as the loss
            logits -= logits.max(axis=1, keepdims=True)
            e = np.exp(logits)
            sums = dot(e, self._ones)  # (V, 1)
            logp = logits - np.log(sums)
            loss = -float((pairs.counts * logp).sum()) / pairs.total
            e *= pairs.rows / sums  # rows[a] * softmax
            e -= pairs.counts
            e *= scale / pairs.total  # (V, V): scale * dL/dlogits
        dot(e.T, h, out=self.gfc2)  # (V, H)
        dh = dot(e, self.fc2)  # (V, H)
        dh *= h_pre > 0
        dot(dh.T, self.wte, out=self.gfc1)  # (H, E)
        dot(dh, self.fc1, out=self.gwte)  # (V, E): row a of wte is token a's own input
        return loss

    def data_loss_and_grad(self, pairs: PairCounts) -> tuple[float, np.ndarray]:
        """The whole-data loss and its exact gradient (a new flat array)."""
        loss = self._data_backprop(pairs, 1.0)
        return loss, self.grad.copy()

    def data_step(self, pairs: PairCounts, lr: float) -> float:
        """One step of full-batch gradient descent: theta -= lr * gradient of the whole-data loss.
        Returns the loss before the step; if it is not finite the weights are left as they were."""
        loss = self._data_backprop(pairs, lr)
        if math.isfinite(loss):
            np.subtract(self.theta, self.grad, out=self.theta)
        return loss

    def loss(self, tokens: np.ndarray) -> float:
        """Mean loss of one document, forward only (used by the numerical gradient)."""
        logits = self.logits_all()[tokens[:-1]]
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(tokens) - 1), tokens[1:]].mean())


def numerical_grad(model: Model, tokens: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences (f(p + eps) - f(p - eps)) / 2 eps for every parameter, as page 1.8."""
    theta = model.theta
    grad = np.empty_like(theta)
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + eps
        up = model.loss(tokens)
        theta[i] = old - eps
        down = model.loss(tokens)
        theta[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


CHECK_CELLS = 1 << 17  # perturbed logits (values) per chunk of the fast numerical gradient: ~1 MB


class Stopped(Exception):
    """numerical_grad_fast was asked to stop (its `stop()` returned True between two chunks)."""


def _doc_loss_terms(logits: np.ndarray, counts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Summed loss of the positions with each context row: totals * logsumexp(row) - counts . row,
    over the last axis (the next token), for logits of any leading shape (..., R, V)."""
    top = logits.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
    return totals * lse - (counts * logits).sum(axis=-1)


def numerical_grad_fast(model: Model, tokens: np.ndarray, eps: float = 1e-5,
                        stop: Callable[[], bool] | None = None,
                        progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The same central differences as `numerical_grad`, (f(p + eps) - f(p - eps)) / 2 eps for every
    parameter, with the perturbed forward passes batched in numpy, in chunks.

    f is the document's mean loss written by (context, next) pairs: with one token of context it is
    sum over the pairs (a, b) of count(a, b) * -log softmax(mlp(a))[b] / positions, so only the rows
    of the document's contexts are computed, and a perturbation only recomputes what it changes:
    a wte row moves its own row's logits; mlp_fc1[k, j] moves hidden unit k of every context row
    (a rank-one change of the logits); mlp_fc2[b, k] moves column b of the logits. Each perturbed
    loss is still computed whole from its perturbed logits (no derivative formula is used), so this is
    an independent check of the analytic gradient, as the slow loop is; the two agree to round-off.
    Between chunks (~CHECK_CELLS values each) `stop()` may end it (raising Stopped) and `progress`
    gets the fraction done. Parameters the document never reaches (wte rows of tokens that are not a
    context) get exactly 0, as the loop gives them."""
    tokens = np.asarray(tokens, dtype=np.intp)
    v, e, h = model.vocab_size, model.n_embd, model.hidden
    n = len(tokens) - 1
    pairs = np.bincount(tokens[:-1] * v + tokens[1:], minlength=v * v).reshape(v, v)
    ctx = np.flatnonzero(pairs.sum(axis=1))  # (R,) the context tokens of the document
    counts = pairs[ctx].astype(np.float64)  # (R, V)
    totals = counts.sum(axis=1)  # (R,)
    x = model.wte[ctx]  # (R, E)
    h_pre = x @ model.fc1.T  # (R, H)
    hid = np.maximum(h_pre, 0.0)  # (R, H)
    logits = hid @ model.fc2.T  # (R, V)
    r = len(ctx)
    grad = np.zeros(model.num_params)
    g_wte, g_fc1, g_fc2 = model._views(grad)
    denom = 2 * eps * n
    # the work, as (cells, job) pairs; each job fills its part of grad
    jobs: list[tuple[int, Callable[[], None]]] = []

    def wte_row(i: int, j0: int, j1: int) -> Callable[[], None]:
        def job() -> None:  # wte[ctx[i], j0:j1] +- eps: that row's hidden pre-activations move
            cols = model.fc1.T[j0:j1]  # (J, H)
            out = []
            for sign in (1.0, -1.0):
                hp = h_pre[i] + sign * eps * cols  # (J, H)
                out.append(_doc_loss_terms(np.maximum(hp, 0.0) @ model.fc2.T, counts[i], totals[i]))  # (J,)
            g_wte[ctx[i], j0:j1] = (out[0] - out[1]) / denom
        return job

    def fc1_units(k0: int, k1: int) -> Callable[[], None]:
        def job() -> None:  # mlp_fc1[k, j] +- eps: unit k of every context row moves by +- eps x[:, j]
            base = _doc_loss_terms(logits, counts, totals)  # (R,)
            out = []
            for sign in (1.0, -1.0):
                hp = h_pre.T[k0:k1, None, :] + sign * eps * x.T[None, :, :]  # (K, E, R)
                dh = np.maximum(hp, 0.0) - hid.T[k0:k1, None, :]  # (K, E, R)
                moved = logits + dh[..., None] * model.fc2.T[k0:k1, None, None, :]  # (K, E, R, V)
                terms = _doc_loss_terms(moved, counts, totals)  # (K, E, R)
                out.append(np.where(dh == 0.0, base, terms).sum(axis=-1))  # unmoved rows: exactly as before
            g_fc1[k0:k1] = (out[0] - out[1]) / denom
        return job

    def fc2_rows(b0: int, b1: int) -> Callable[[], None]:
        def job() -> None:  # mlp_fc2[b, k] +- eps: column b of the logits moves by +- eps hid[:, k]
            out = []
            for sign in (1.0, -1.0):
                moved = np.repeat(np.repeat(logits[None, None], b1 - b0, 0), h, 1)  # (B, H, R, V)
                for bi, b in enumerate(range(b0, b1)):
                    moved[bi, :, :, b] += sign * eps * hid.T  # (H, R)
                out.append(_doc_loss_terms(moved, counts, totals).sum(axis=-1))  # (B, H)
            g_fc2[b0:b1] = (out[0] - out[1]) / denom
        return job

    step = max(1, CHECK_CELLS // max(h * v, 1))
    for i in range(r):
        for j0 in range(0, e, step):
            jobs.append((min(step, e - j0) * h * v, wte_row(i, j0, min(j0 + step, e))))
    step = max(1, CHECK_CELLS // max(e * r * v, 1))
    for k0 in range(0, h, step):
        jobs.append((min(step, h - k0) * e * r * v, fc1_units(k0, min(k0 + step, h))))
    step = max(1, CHECK_CELLS // max(h * r * v, 1))
    for b0 in range(0, v, step):
        jobs.append((min(step, v - b0) * h * r * v, fc2_rows(b0, min(b0 + step, v))))
    total = sum(cells for cells, _ in jobs) or 1
    done = 0
    for cells, job in jobs:
        if stop is not None and stop():
            raise Stopped
        job()
        done += cells
        if progress is not None:
            progress(done / total)
    return grad
