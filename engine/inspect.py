"""The figures of the "see inside the model" views: computed from a model's weights, never changing it.

Tables (row = context token, column = next token), the embedding map, the weights' colour scale,
dead hidden units (and whether all of them are), one step's update, a token's forward trace and the
page 1.8 gradient check.
Every function reads the model it is given and leaves it (weights and `grad` buffer) untouched, so a
front end may pass a snapshot taken from a training thread. The gradient figures work on a copy.
Diverged weights give NaN or inf figures, never a warning or an exception (`_quiet`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine.model import Model, numerical_grad_fast
from engine.sampling import softmax_rows

TINY = 1e-300  # denominator floor of the per-parameter relative error (both gradients exactly 0 -> 0)
SCALE_STEP = 2.0  # the colour scale grows by this factor, and only when a value would not fit
_quiet = np.errstate(all="ignore")  # as a decorator: overflow in a diverged model's figures is expected


# ---- 1. Tables ---------------------------------------------------------------------------------


@_quiet
def prob_table(model: Model, temperature: float) -> np.ndarray:
    """The model's next-token probabilities at `temperature`: row a is P(next | a). (V, V)"""
    return softmax_rows(model.logits_all(), temperature)


def bigram_table(counts: np.ndarray) -> np.ndarray:
    """The data's row-normalised pair counts (Step 0's count-table model). (V, V)
    A row with no counts (a token never followed by anything) is all zeros, not a distribution."""
    rows = counts.sum(axis=1, keepdims=True).astype(np.float64)  # (V, 1)
    return np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)


@_quiet
def log_prob_table(model: Model) -> np.ndarray:
    """log P(next | a) at temperature 1, as the loss uses it. (V, V)"""
    logits = model.logits_all()
    logits -= logits.max(axis=1, keepdims=True)
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))


@_quiet
def row_gap(model: Model, counts: np.ndarray) -> np.ndarray:
    """Each context row's share of (whole-data loss - bigram floor): KL(data row || model row at T=1)
    times the fraction of all positions that have that context. Each is >= 0; they sum to the gap. (V,)"""
    c = counts.astype(np.float64)  # (V, V)
    seen = c > 0
    log_q = np.log(bigram_table(counts), out=np.zeros(c.shape), where=seen)  # (V, V)
    terms = np.where(seen, c * (log_q - log_prob_table(model)), 0.0)  # (V, V)
    return terms.sum(axis=1) / c.sum()


# ---- 2. Embedding map --------------------------------------------------------------------------


class Projection(NamedTuple):
    coords: np.ndarray  # (V, 2) token t's place on the map: (x, y) = its centred embedding on the axes
    explained: np.ndarray  # (2,) fraction of wte's centred variance along x and along y
    axes: np.ndarray  # (E, 2) unit columns; pass it back as `previous` for the next frame
    mean: np.ndarray  # (E,) the centre of the embeddings (the map's origin)


@_quiet
def principal_axes(wte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two leading principal axes of the centred rows of wte, largest variance first, and the
    fraction of the total variance along each. With n_embd == 1 the second axis is zero; if wte holds
    NaN or inf the axes are the first two coordinates and the fractions NaN. (E, 2), (2,)"""
    centred = wte - wte.mean(axis=0)  # (V, E)
    size = float(np.abs(centred).max()) if centred.size else 0.0
    if not math.isfinite(size):  # diverged: the first two coordinate axes, nothing explained
        return np.eye(wte.shape[1], 2), np.full(2, np.nan)
    if size > 0:
        centred /= size  # the same axes and fractions, and no overflow in the covariance
    values, vectors = np.linalg.eigh(centred.T @ centred)  # ascending
    k = min(2, wte.shape[1])
    axes = np.zeros((wte.shape[1], 2))
    axes[:, :k] = vectors[:, ::-1][:, :k]
    total = values.sum()
    explained = np.zeros(2)
    if total > 0:
        explained[:k] = np.maximum(values[::-1][:k], 0.0) / total
    return axes, explained


def align_axes(axes: np.ndarray, explained: np.ndarray, previous: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Orient new axes so that the map neither mirrors nor swaps between frames.

    Without `previous` (or with one of another shape, from a run of another n_embd): each axis's
    largest-magnitude entry is made positive (a fixed rule). With it: if the two axes match the
    previous ones better crossed (sum of |dot|), they (and their explained fractions) are swapped;
    then each axis is flipped if its dot with the previous is < 0."""
    if previous is None or previous.shape != axes.shape:
        pick = np.abs(axes).argmax(axis=0)
        signs = np.where(axes[pick, [0, 1]] < 0, -1.0, 1.0)
        return axes * signs, explained
    dots = np.abs(previous.T @ axes)  # (2, 2): |prev_i . new_j|
    if dots[0, 1] + dots[1, 0] > dots[0, 0] + dots[1, 1]:
        axes, explained = axes[:, ::-1], explained[::-1]
    signs = np.where((previous * axes).sum(axis=0) < 0, -1.0, 1.0)
    return axes * signs, explained.copy()


@_quiet
def project_embeddings(wte: np.ndarray, previous: np.ndarray | None = None) -> Projection:
    """Each token's embedding on the two leading principal axes of wte (centred), oriented to agree
    with the `previous` frame's axes (see align_axes). After a swap, x may explain less than y."""
    axes, explained = align_axes(*principal_axes(wte), previous)
    mean = wte.mean(axis=0)
    return Projection((wte - mean) @ axes, explained, axes, mean)


@_quiet
def centred_cosine_distance(wte: np.ndarray, tokens: list[int]) -> float:
    """Mean over pairs of `tokens` of 1 - cos(angle) between their embeddings seen from the centroid.

    The measure of "these tokens behave alike": training moves often-seen tokens far from where they
    started, so plain distances mostly say how frequent a token is; directions say what it does."""
    centred = wte - wte.mean(axis=0)  # (V, E)
    unit = centred[tokens] / np.linalg.norm(centred[tokens], axis=1, keepdims=True)  # (k, E)
    cos = unit @ unit.T  # (k, k)
    k = len(tokens)  # >= 2
    return 1.0 - float(cos.sum() - np.trace(cos)) / (k * (k - 1))


# ---- 3. Weights --------------------------------------------------------------------------------


def colour_scale(values: np.ndarray, base: float, current: float | None = None) -> float:
    """The half-range L of a diverging colour scale (-L .. 0 .. +L) that stays put while values move.

    L is on the ladder base * 2**k (k = 0, 1, ...): `current` (or `base` when None) is kept while every
    finite |value| fits, else L becomes the smallest rung that holds them all. It never shrinks, so a
    change of colour is a change of value; it grows rarely and by whole doublings."""
    limit = base if current is None else max(current, base)
    finite = np.abs(values[np.isfinite(values)])
    biggest = float(finite.max()) if finite.size else 0.0
    if biggest <= limit:
        return limit
    steps = math.ceil(math.log(biggest / limit, SCALE_STEP) - 1e-12)
    while limit * SCALE_STEP**steps < biggest:  # guard the float rounding of the log
        steps += 1
    return limit * SCALE_STEP**steps


def weight_scale(model: Model, init_std: float, current: float | None = None) -> float:
    """The weights' colour scale, one for wte, mlp_fc1 and mlp_fc2: colour_scale from 4 * init_std,
    which holds the initial Gaussian weights of a tutorial-sized model (their max is about 3.6 std)."""
    return colour_scale(model.theta, 4.0 * init_std, current)


def to_unit(values: np.ndarray, limit: float) -> np.ndarray:
    """values / limit clipped to [-1, 1]: the position on the diverging scale (0 is the neutral colour)."""
    return np.clip(values / limit, -1.0, 1.0)


@_quiet
def dead_units(model: Model, tokens: np.ndarray | list[int] | None = None) -> np.ndarray:
    """Hidden units whose ReLU output is 0 after every one of `tokens` (default: every token). (H,) bool"""
    wte = model.wte if tokens is None else model.wte[np.asarray(tokens, dtype=np.intp)]
    return ~(wte @ model.fc1.T > 0).any(axis=0)  # (n, H) -> (H,)


@_quiet
def all_units_dead(model: Model) -> bool:
    """Whether every hidden unit is dead: its ReLU gives 0 after every token (each pre-activation <= 0;
    a NaN one is not 0, so not dead). Then the hidden layer is all 0 whatever the token, the logits are
    0 (a uniform guess: the loss is ln V), and no gradient reaches any weight: nothing changes again, at
    any learning rate. One (V, E) x (E, H) product: for a front end's end of run or a once-a-second look,
    never a training step."""
    return bool((model.wte @ model.fc1.T <= 0).all())


@_quiet
def units_off_after(model: Model, token: int) -> bool:
    """Whether every hidden unit gives 0 after `token` (each pre-activation wte[token] . fc1[j] <= 0; a NaN
    one is not 0): then the hidden layer is all 0, the logits are 0 and every next token gets 1/V, whatever
    the temperature. A learner sees a flat next-token chart; this says why."""
    return bool((model.fc1 @ model.wte[token] <= 0).all())


class Update(NamedTuple):
    """One SGD step's change of each matrix: new weights - old weights = -lr * gradient (to round-off)."""

    wte: np.ndarray  # (V, E)
    fc1: np.ndarray  # (H, E)
    fc2: np.ndarray  # (V, H)


@_quiet
def last_update(model: Model, tokens: np.ndarray, lr: float) -> Update:
    """The change the SGD step on document `tokens` ([BOS] + ids + [BOS]) with learning rate `lr`
    makes from `model`'s weights. Pass the weights from BEFORE that step to see the last step's."""
    work = model.copy()
    _, grad = work.loss_and_grad(np.asarray(tokens, dtype=np.intp))
    grad *= -lr
    return Update(*_split(model, grad))


def applied_update(model: Model) -> Update:
    """The change the model's most recent sgd_step made, read from its `grad` buffer (where sgd_step
    leaves lr * gradient): exact and free, but only if nothing has written `grad` since."""
    return Update(*(-m for m in _split(model, model.grad)))


def _split(model: Model, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A flat parameter-shaped array as (wte, fc1, fc2)-shaped views, in theta's order."""
    a = model.wte.size
    b = a + model.fc1.size
    return flat[:a].reshape(model.wte.shape), flat[a:b].reshape(model.fc1.shape), flat[b:].reshape(model.fc2.shape)


def rows_touched(tokens: np.ndarray | list[int], vocab_size: int) -> np.ndarray:
    """The wte rows a step on this document can change: its input tokens (all but the final BOS,
    which is only a target). Every other row of the update is exactly 0. (V,) bool"""
    touched = np.zeros(vocab_size, dtype=bool)
    touched[np.asarray(tokens, dtype=np.intp)[:-1]] = True
    return touched


# ---- 4. Forward trace --------------------------------------------------------------------------


class Trace(NamedTuple):
    """One token through the model (page 1.4), each stage a copy, safe to keep."""

    token: int
    temperature: float
    embedding: np.ndarray  # (E,) wte[token]
    pre_activation: np.ndarray  # (H,) mlp_fc1 @ embedding
    activation: np.ndarray  # (H,) relu(pre_activation)
    zero: np.ndarray  # (H,) bool: units the ReLU cut to 0 (pre_activation <= 0)
    logits: np.ndarray  # (V,) mlp_fc2 @ activation
    probs: np.ndarray  # (V,) softmax(logits / temperature)


@_quiet
def forward_trace(model: Model, token: int, temperature: float) -> Trace:
    x = model.wte[token].copy()  # (E,)
    h_pre = model.fc1 @ x  # (H,)
    h = np.maximum(h_pre, 0.0)  # (H,)
    logits = model.fc2 @ h  # (V,)
    return Trace(token, temperature, x, h_pre, h, ~(h_pre > 0), logits, softmax_rows(logits, temperature))


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first; ties go to the lower index. (min(k, n),)"""
    return np.argsort(-np.asarray(values), kind="stable")[: max(k, 0)]


# ---- 5. Gradient check (page 1.8) --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GradCheck:
    """Analytic against central-difference gradients of one document's loss, every parameter."""

    doc: str  # the document, as text
    tokens: np.ndarray  # ([BOS] + ids + [BOS])
    loss: float  # the document's mean loss at these weights
    analytic: np.ndarray  # (P,) Model.loss_and_grad's gradient, in theta's order (wte, fc1, fc2)
    numerical: np.ndarray  # (P,) engine.model.numerical_grad's, (f(p + eps) - f(p - eps)) / 2 eps
    eps: float
    max_abs_diff: float  # max |a - n|
    max_rel_err: float  # the relative error, max over parameters of |a - n| / max(|a|, |n|, TINY): 0 where both are 0
    scaled_err: float  # max |a - n| / max(max |a|, max |n|): what tests/test_gradient.py bounds by 1e-6
    worst: int  # index of the parameter with the largest |a - n|
    largest: float = math.nan  # max(max |a|, max |n|): 0 when the gradient is zero (every unit dead)

    @property
    def zero(self) -> bool:
        """Both gradients are exactly 0 everywhere: nothing to compare (e.g. every hidden unit dead)."""
        return self.largest == 0.0


@_quiet
def gradient_check(model: Model, tokens: np.ndarray, doc: str = "", eps: float = 1e-5,
                   stop: Callable[[], bool] | None = None,
                   progress: Callable[[float], None] | None = None) -> GradCheck:
    """Page 1.8's check at `model`'s weights on one document. Works on a copy. The numerical side is
    engine.model.numerical_grad_fast (the page's loop over the parameters, batched: ~10 ms for the
    tutorial's 3,184 parameters on a short name), in chunks: between two, `stop()` may end it (raising
    engine.model.Stopped) and `progress` gets the fraction done, so a front end can run it in a thread
    that a quit never waits for."""
    work = model.copy()
    tokens = np.asarray(tokens, dtype=np.intp)
    loss, analytic = work.loss_and_grad(tokens)
    numerical = numerical_grad_fast(work, tokens, eps, stop, progress)
    diff = np.abs(analytic - numerical)  # (P,)
    size = np.maximum(np.maximum(np.abs(analytic), np.abs(numerical)), TINY)  # (P,) the larger of the two
    top = max(float(np.abs(analytic).max()), float(np.abs(numerical).max()))
    biggest = float(diff.max())
    scaled = biggest / top if top != 0 else biggest  # all-zero gradients: 0; NaN stays NaN
    return GradCheck(doc, tokens, loss, analytic, numerical, eps, biggest, float((diff / size).max()),
                     scaled, int(diff.argmax()), top)


def parameter_name(model: Model, index: int) -> tuple[str, int, int]:
    """Which weight theta[index] is: ("wte" | "mlp_fc1" | "mlp_fc2", row, column)."""
    if index < 0:
        raise IndexError("parameter index out of range")
    for name, matrix in zip(("wte", "mlp_fc1", "mlp_fc2"), (model.wte, model.fc1, model.fc2)):
        if index < matrix.size:
            row, col = divmod(index, matrix.shape[1])
            return name, row, col
        index -= matrix.size
    raise IndexError("parameter index out of range")
