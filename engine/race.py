"""A race: K variants of a run trained side by side, in lockstep, each step one set of numpy calls.

Each variant is a whole `Run` (its own settings, seed, name order, initial weights, random generator,
loss history, checkpoint), made exactly as `Run.new` makes it. Variants of the same shapes and the
same kind of gradient form a group whose weights are ONE (K, P) block: row k is variant k's flat
parameter buffer (engine.model: its Model shares the row; a row may end in a few unused 0s, see
_Group._share), so one batched forward and backward pass over the group (np.matmul over the K rows)
and one subtraction step every variant. With one name per step the K names differ in length: they are
padded to the longest with positions that count zero. A race's step yields every variant's
`StepRecord` (None for a variant that has stopped); each is noted on its Run as `Run.steps()` notes
it, so per step a variant's loss, lr and name are the solo run's, as are its samples and its
checkpoint, which resumes as a solo run. With one name for all (a race of rates or schedules) each
member's products have its solo step's shapes and its weights are the solo run's bit for bit, also
while it diverges (where Model takes the embedding's gradient as a one-hot product: engine.model
ONE_HOT_VOCAB, ONE_HOT_MAX); names padded to the longest add up in another order (~1e-16 a step). A variant
whose loss is not finite stops there with the weights of its last finite step (its row leaves the
block); the others go on.

`race_axis("lr=0.25,0.5")` reads one raced setting; `race_configs(base, axes)` makes every
combination (the first setting varying slowest), at most MAX_VARIANTS. `standings(race)` ranks the
variants by whole-data loss for a screen; READY_RACES are the races a learner can start from a menu.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import CHUNK, GRADIENT_WORDS, GRADIENTS, SCHEDULE_WORDS, SCHEDULES, Config
from engine.curve import ExactTrack
from engine.errors import ConfigError
from engine.inspect import all_units_dead
from engine.model import Model, PairCounts
from engine.run import Run
from engine.runs import CURVE_POINTS, EmaGrid, RunCurves, ema_curve
from engine.train import WHOLE_DATA, StepRecord, decay

MAX_VARIANTS = 16
BLOCK = 128  # steps whose names' token indices are gathered at once (a race step's set-up, amortised)
BLOCK_LONGEST = 64  # ... when no name in the block is longer (else step by step)
# what a race can vary: the flag's name -> the Config field it sets
RACE_LABELS = {"n-embd": "n_embd"}  # a variant's label names a setting as every other label does
RACE_SETTINGS = {"lr": "learning_rate", "seed": "seed", "n-embd": "n_embd", "hidden": "hidden",
                 "schedule": "schedule", "gradient": "gradient"}


# --- what is raced -------------------------------------------------------------------------------------
def race_axis(text: str) -> tuple[str, list[object]]:
    """`SETTING=V1,V2,...` -> (SETTING, [values]), each value read as its flag reads it; or ConfigError
    with one line saying what is wrong."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or name not in RACE_SETTINGS:
        raise ConfigError(f"--race takes SETTING=V1,V2,... with SETTING one of {', '.join(RACE_SETTINGS)}; "
                          f"got {text!r}")
    items = [v.strip() for v in rest.split(",")]
    if not rest.strip() or any(not v for v in items):
        raise ConfigError(f"--race {name}= needs values separated by commas, e.g. {name}={_example(name)}; "
                          f"got {text!r}")
    values = [_value(name, v) for v in items]
    if len(set(values)) != len(values):
        raise ConfigError(f"--race {name}: a value is given twice in {rest!r}")
    return name, values


def _example(name: str) -> str:
    return {"lr": "0.5,1,2", "seed": "1,2,3", "n-embd": "8,16,32", "hidden": "16,64",
            "schedule": "linear,constant", "gradient": "name,data"}[name]


def _value(name: str, text: str) -> object:
    if name in ("schedule", "gradient"):
        choices = SCHEDULES if name == "schedule" else GRADIENTS
        if text not in choices:
            raise ConfigError(f"--race {name}: {text!r} is not one of {', '.join(choices)}")
        return text
    try:
        return float(text) if name == "lr" else int(text)
    except ValueError:
        kind = "a number" if name == "lr" else "a whole number"
        raise ConfigError(f"--race {name}: {text!r} is not {kind}") from None


@dataclass(frozen=True)
class Variant:
    number: int  # 1..K, in the order race_configs makes them
    config: Config
    label: str  # what differs from the other variants: "lr 0.5, seed 3"


def race_configs(base: Config, axes: Sequence[tuple[str, Sequence[object]]]) -> list[Variant]:
    """Every combination of the raced settings on top of `base`, the first axis varying slowest, each
    checked by the flags' own rules. ConfigError for a setting raced twice, a single variant, or more
    than MAX_VARIANTS."""
    names = [name for name, _ in axes]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise ConfigError(f"--race {sorted(twice)[0]} is given twice; list all its values in one --race")
    count = math.prod(len(values) for _, values in axes) if axes else 0
    if count > MAX_VARIANTS:
        sizes = " x ".join(str(len(v)) for _, v in axes)
        raise ConfigError(f"--race makes {sizes} = {count} variants; at most {MAX_VARIANTS} race at once")
    if count < 2:
        raise ConfigError("--race needs at least two variants (e.g. --race lr=0.5,1)")
    variants = []
    for number, combo in enumerate(itertools.product(*(values for _, values in axes)), start=1):
        changes = {RACE_SETTINGS[name]: value for name, value in zip(names, combo)}
        try:
            config = base.with_(**changes).validate()
        except ConfigError as exc:
            raise ConfigError(f"--race variant {number}: {exc}") from None
        label = ", ".join(setting_words(name, value) for name, value in zip(names, combo))
        variants.append(Variant(number, config, label))
    return variants


def _show(value: object) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def setting_words(name: str, value: object) -> str:
    """One raced setting as a label says it: 'lr 0.5', 'seed 3', 'n_embd 8', 'cosine schedule',
    'whole-data gradient' (the run line's words for the last two)."""
    if name == "schedule":
        return SCHEDULE_WORDS.get(str(value), f"{value} schedule")
    if name == "gradient":
        return GRADIENT_WORDS.get(str(value), f"{value} gradient")
    if name == "hidden" and value is None:
        return "hidden 4 x n_embd"
    return f"{RACE_LABELS.get(name, name)} {_show(value)}"


PAGE_SETTINGS = ("lr", "n-embd", "hidden", "schedule", "gradient")  # what a ready race takes from the page


def page_base(base: Config, axes: Sequence[tuple[str, Sequence[object]]]) -> Config:
    """`base` with the tutorial's learning rate (1.0), sizes (n_embd 16, hidden 4 x n_embd), schedule
    (linear) and gradient (one name a step), each unless the race varies it: what a ready-made race
    starts from, so that it shows what its text promises whatever the run before it used (after a run
    at lr 8 every variant of "decay vs constant" diverged; a whole-data gradient does not diverge where
    one name a step does). The data, steps, seed, hold-out and sampling stay the run's."""
    raced = {name for name, _ in axes}
    page = Config()
    changes = {RACE_SETTINGS[s]: getattr(page, RACE_SETTINGS[s]) for s in PAGE_SETTINGS if s not in raced}
    return base.with_(**changes)


def put_back(current: Config, base: Config) -> list[str]:
    """The page's settings `page_base` put back in place of the current run's, as a note says them."""
    return [setting_words(s, getattr(base, RACE_SETTINGS[s])) for s in PAGE_SETTINGS
            if getattr(base, RACE_SETTINGS[s]) != getattr(current, RACE_SETTINGS[s])]


# --- the lockstep trainer ------------------------------------------------------------------------------
class _Group:
    """Variants of one shape and one kind of gradient: their weights one (K, P) block, stepped together.

    A step is ~25 numpy calls whatever K (the solo step's own dozen and a half, batched), and the
    bookkeeping around it is batched too (the K rates in one multiplication, `rates`; the K names by
    one list lookup each, `docs`), so that a race of K costs much less than K solo steps."""

    def __init__(self, members: list[int], runs: list[Run]):
        self.members = members  # indices into the race's variants, in order
        self.runs = runs
        first = runs[0]
        self.vocab, self.n_embd, self.hidden = first.model.vocab_size, first.model.n_embd, first.model.hidden
        self.data = first.config.gradient == "data"
        self.total = first.config.num_steps
        # the base each member's steps so far used (LrSchedule: a change is noted by the step that uses it)
        self.used = [r.schedule.changes[-1][1] for r in runs]
        self._share()
        if self.data:
            pairs = [PairCounts(r.dataset.counts) for r in runs]
            self.counts = np.stack([p.counts for p in pairs])  # (K, V, V)
            self.rows = np.stack([p.rows for p in pairs])  # (K, V, 1)
            self.totals = np.array([p.total for p in pairs])  # (K,)
        else:
            # every variant's tokens end to end; offs[k, i] is where its document i starts in them
            sizes = [len(r.dataset.tokens) for r in runs]
            bases = np.cumsum([0, *sizes[:-1]])
            self.tokens = np.concatenate([r.dataset.tokens for r in runs])
            self.offs = np.stack([r.dataset.offsets + b for r, b in zip(runs, bases)])
            self.n_docs = len(runs[0].dataset)
            self.eye = np.eye(self.vocab)
            self.ones = np.ones((self.vocab, 1))  # row sums as one matrix product
            # L -> 0s and 1s as (K, L, H) arrays (numpy's ufuncs are several times faster on two whole
            # arrays than on an array and a scalar)
            self._filled: dict[int, tuple[np.ndarray, np.ndarray]] = {}
            self.cols = np.arange(CHUNK + 1)
            self._block: tuple | None = None  # BLOCK steps' indices (see _indices)

    def _share(self) -> None:
        """One block for the members' weights, each Run's model re-made on its row (no copy after this);
        and what a step reads of the members, in their order."""
        v, e, h = self.vocab, self.n_embd, self.hidden
        k, p = len(self.runs), self.runs[0].model.num_params
        # a row is P rounded up to whole E-wide rows (the tail stays 0), so that block.reshape(-1, E)
        # holds every member's wte rows: one `take` gathers a step's inputs
        self.width = -(-p // e) * e
        self.block = np.zeros((k, self.width))  # (K, P')
        self.block[:, :p] = [r.model.theta for r in self.runs]
        self.grad = np.zeros_like(self.block)
        for run, row, grad in zip(self.runs, self.block[:, :p], self.grad[:, :p]):
            model = Model(v, e, h, row, share=True)
            model.grad = grad  # the last step's lr * gradient, as a solo model holds it (a screen shows it)
            model.gwte, model.gfc1, model.gfc2 = model._views(grad)
            run.model = model
        self.embed_rows = self.block.reshape(-1, e)  # row k * P' / E + t: member k's wte[t]
        a, b = v * e, v * e + h * e
        self.wte = self.block[:, :a].reshape(k, v, e)
        self.fc1 = self.block[:, a:b].reshape(k, h, e)
        self.fc2 = self.block[:, b:p].reshape(k, v, h)
        self.gwte = self.grad[:, :a].reshape(k, v, e)
        self.gfc1 = self.grad[:, a:b].reshape(k, h, e)
        self.gfc2 = self.grad[:, b:p].reshape(k, v, h)
        self.fc1_t, self.fc2_t = self.fc1.transpose(0, 2, 1), self.fc2.transpose(0, 2, 1)
        self.doc_lists = [r.dataset.docs for r in self.runs]
        self.bases = np.array(self.used)
        kinds = {r.config.schedule for r in self.runs}
        self.kind = kinds.pop() if len(kinds) == 1 else None  # the members' one schedule, if they share one

    def drop(self, stopped: list[int]) -> None:
        """Take these positions (into self.runs) out: their models keep the rows of the old block, which
        nothing writes to again (frozen); the others get a new block."""
        keep = [j for j in range(len(self.runs)) if j not in stopped]
        self.members = [self.members[j] for j in keep]
        self.runs = [self.runs[j] for j in keep]
        self.used = [self.used[j] for j in keep]
        if not self.runs:
            return
        if self.data:
            self.counts, self.rows, self.totals = self.counts[keep], self.rows[keep], self.totals[keep]
        else:
            self.offs = self.offs[keep]
            self._block = None
            self._filled = {}
        self._share()

    def rates(self, step: int) -> np.ndarray:
        """Each member's rate at `step`: its base (LrSchedule: a change is noted by the step that first
        uses it) times its schedule's factor, the same float multiplication engine.train.train does."""
        runs = self.runs
        bases = [r.schedule.base for r in runs]
        if bases != self.used:  # a rate changed (Run.set_lr_base, from any thread)
            for run, base, used in zip(runs, bases, self.used):
                if base != used:
                    run.schedule.note(step, base)
            self.used, self.bases = bases, np.array(bases)
        total = self.total
        if self.kind == "linear":
            return self.bases * (1 - step / total)
        if self.kind is not None:
            return self.bases * decay(step, total, self.kind)
        return self.bases * np.array([decay(step, total, r.config.schedule) for r in runs])

    def docs(self, step: int) -> list[str]:
        """Each member's document at `step` (its StepRecord's doc)."""
        if self.data:
            return [WHOLE_DATA] * len(self.runs)
        i = step % self.n_docs
        return [docs[i] for docs in self.doc_lists]

    def step(self, step: int, lrs: np.ndarray) -> list[float]:
        """One step of every member at its own lr; returns each member's loss before the step. A member
        whose loss is not finite is not updated."""
        loss = self._data(lrs) if self.data else self._names(step, lrs)
        losses = loss.tolist()
        if not math.isfinite(sum(losses)):  # a NaN or an inf among them (a finite sum: none)
            self.grad[~np.isfinite(loss)] = 0.0  # (a masked subtract costs more than the whole step)
        np.subtract(self.block, self.grad, out=self.block)
        return losses

    def _indices(self, step: int) -> tuple | None:
        """This step's (n, L, x_ids, x_rows, target, valid, weight): each member's name (document step % N
        of its own order) as (K, L) token ids padded to the longest (padding repeats the last position),
        the rows of embed_rows they pick, the flat index of each target in a (K, L, V) array, 1.0 at the
        real positions and 0.0 on padding, and valid / n (each position's share of its name's mean loss).
        Gathered BLOCK steps at a time; None for a name longer than CHUNK."""
        b = self._block
        if b is None or not b[0] <= step < b[0] + BLOCK:
            b = self._block = self._gather(step)
        if b[1] is None:  # a block with a long name: this step alone
            return self._gather_one(step)
        j = step - b[0]
        length = b[6][j]
        return (b[5][j], length, b[1][j, :, :length], b[7][j, :, :length], b[2][j, :, :length].ravel(),
                b[3][j, :, :length], b[4][j, :, :length])

    def _gather(self, s0: int) -> tuple:
        steps = np.arange(s0, s0 + BLOCK)
        i = steps % self.n_docs
        start, end = self.offs[:, i].T, self.offs[:, i + 1].T  # (B, K)
        n = end - start
        longest = n.max(axis=1)
        top = int(longest.max())
        if top > BLOCK_LONGEST:
            return (s0, None)
        cols = self.cols[:top]
        pos = np.minimum(start[:, :, None] + cols, (end - 1)[:, :, None])  # (B, K, top)
        x, y = self.tokens[pos], self.tokens[pos + 1]
        k = n.shape[1]
        rows = (np.arange(k)[None, :, None] * longest[:, None, None] + cols) * self.vocab + y  # (k L + l) V + y
        valid = (cols < n[:, :, None]).astype(np.float64)
        return (s0, x, rows, valid, valid / n[:, :, None], n, longest.tolist(), x + self._row_starts(k))

    def _gather_one(self, step: int) -> tuple | None:
        i = step % self.n_docs
        start, end = self.offs[:, i], self.offs[:, i + 1]
        n = end - start  # (K,) positions in each name
        length = int(n.max())
        if length > CHUNK:
            return None
        cols = self.cols[:length]
        valid = (cols < n[:, None]).astype(np.float64)
        pos = np.minimum(start[:, None] + cols, (end - 1)[:, None])
        x_ids, y_ids = self.tokens[pos], self.tokens[pos + 1]
        target = (np.arange(x_ids.size).reshape(x_ids.shape) * self.vocab + y_ids).ravel()
        return n, length, x_ids, x_ids + self._row_starts(len(n)), target, valid, valid / n[:, None]

    def _row_starts(self, k: int) -> np.ndarray:
        """(K, 1): where each member's wte rows start in embed_rows."""
        return np.arange(k)[:, None] * (self.width // self.n_embd)

    def _softmax(self, logits: np.ndarray, target: np.ndarray, weight: np.ndarray) -> tuple:
        """exp(logits) in place (also as (K L, V) rows), each row's sum (K L, 1) and each member's mean
        loss over its real positions (weight: valid / n)."""
        picked = logits.take(target)  # (K L,) the target's logit at each position
        probs = np.exp(logits, out=logits)
        rows = probs.reshape(-1, self.vocab)
        # (K L, 1): per member the very product a solo step makes (one 2-D product over all K L rows
        # adds in another order, and a diverging run amplifies that last bit until a tie flips)
        sums = np.matmul(probs, self.ones).reshape(-1, 1)
        nll = np.log(sums[:, 0]) - picked  # each position's loss
        return probs, rows, sums, np.vecdot(nll.reshape(weight.shape), weight)

    def _names(self, step: int, lrs: np.ndarray) -> np.ndarray:
        """Each member's name for this step, padded to the longest (`_indices`); `self.grad` = lr * each
        name's mean gradient, as Model.sgd_step (engine.model) computes it."""
        got = self._indices(step)
        if got is None:  # a very long name: each model on its own, in chunks, as a solo run
            return self._one_by_one(step, lrs)
        n, length, x_ids, x_rows, target, valid, weight = got
        matmul = np.matmul
        filled = self._filled.get(length)
        if filled is None:
            shape = (*x_ids.shape, self.hidden)
            filled = self._filled[length] = (np.zeros(shape), np.ones(shape))
        zeros, ones = filled
        with np.errstate(all="ignore"):  # a diverging member's overflow, inf - inf: NaN, its loss says so
            x = self.embed_rows.take(x_rows, axis=0)  # (K, L, E)
            h_pre = matmul(x, self.fc1_t)  # (K, L, H)
            h = np.maximum(h_pre, zeros)
            # exp without the max subtracted first, as Model._softmax_grad_fast; a member whose solo step
            # would find that pass wanting has its logits' max subtracted first, as _softmax_grad_stable
            scale = (valid * (lrs / n)[:, None]).reshape(-1, 1)  # (K L, 1): lr / n at a real position, 0 on padding
            probs, rows, sums, loss = self._softmax(matmul(h, self.fc2_t), target, weight)  # (K, L, V)
            rows *= scale / sums  # scale * softmax
            redo = self._redo(loss, rows, target, valid, length, lrs)
            if redo is not None:
                logits = matmul(h, self.fc2_t)  # the others' logits again, the same numbers
                logits[redo] -= logits[redo].max(axis=2, keepdims=True)
                probs, rows, sums, loss = self._softmax(logits, target, weight)
                rows *= scale / sums
            rows.ravel()[target] -= scale.ravel()  # (K, L, V): scale * dloss/dlogits
            matmul(probs.transpose(0, 2, 1), h, out=self.gfc2)  # (K, V, H)
            dh = matmul(probs, self.fc2)  # (K, L, H)
            gate = np.minimum(h, ones)
            dh *= np.ceil(gate, out=gate)  # ReLU's gate: 1.0 where h > 0 (floats: no bool-to-float cast)
            matmul(dh.transpose(0, 2, 1), x, out=self.gfc1)  # (K, H, E)
            dx = matmul(dh, self.fc1)  # (K, L, E)
            one_hot = self.eye.take(x_ids, axis=0)  # (K, L, V)
            matmul(one_hot.transpose(0, 2, 1), dx, out=self.gwte)  # (K, V, E): rows of the name's tokens
        return loss

    @staticmethod
    def _redo(loss: np.ndarray, rows: np.ndarray, target: np.ndarray, valid: np.ndarray, length: int,
              lrs: np.ndarray) -> np.ndarray | None:
        """Which members' fast pass their solo step would redo (None: none): Model._softmax_grad_fast
        gives up when a target's scaled probability lr / n * softmax is 0 or NaN (also when the sum
        overflows: then they are all 0). It is the same number here, so the same test makes a diverging
        variant go the way its solo run went (its huge weights amplify any other rounding until a tie
        in the softmax flips: redoing every member when one needs it did that). A probability can only
        reach 0 when a position's loss nll > 744 + log(lr / n), and nll <= L * its name's mean loss: the
        cheap test first."""
        losses = loss.tolist()
        worst = max(losses)
        if math.isfinite(sum(losses)) and worst * length < 700 + math.log(min(lrs.tolist()) / length):
            return None
        picked = rows.ravel()[target].reshape(valid.shape)  # (K, L) lr / n * p(target); 0 on padding
        redo = ~((picked > 0) | (valid == 0)).all(axis=1) | ~np.isfinite(loss)
        return redo if redo.any() else None

    def _one_by_one(self, step: int, lrs: np.ndarray) -> np.ndarray:
        """Each member on its own, as a solo step does (its model's grad is its row of self.grad)."""
        loss = np.empty(len(self.runs))
        for j, (run, lr) in enumerate(zip(self.runs, lrs.tolist())):
            tokens = run.dataset.doc_tokens(step % self.n_docs)
            n = len(tokens) - 1
            loss[j] = run.model._sum_grad(tokens, lr / n) / n
        return loss

    def _data(self, lrs: np.ndarray) -> np.ndarray:
        """`self.grad` = lr * the whole-data gradient of each member (Model._data_backprop, batched)."""
        matmul = np.matmul
        with np.errstate(all="ignore"):
            h_pre = matmul(self.wte, self.fc1_t)  # (K, V, H)
            h = np.maximum(h_pre, 0.0)
            logits = matmul(h, self.fc2_t)  # (K, V, V)
            logits -= logits.max(axis=2, keepdims=True)
            e = np.exp(logits)
            sums = e.sum(axis=2, keepdims=True)  # (K, V, 1)
            logp = logits - np.log(sums)
            loss = -(self.counts * logp).sum(axis=(1, 2)) / self.totals
            e *= self.rows / sums
            e -= self.counts
            e *= (lrs / self.totals)[:, None, None]
            matmul(e.transpose(0, 2, 1), h, out=self.gfc2)
            dh = matmul(e, self.fc2)
            dh *= h_pre > 0
            matmul(dh.transpose(0, 2, 1), self.wte, out=self.gfc1)
            matmul(dh, self.fc1, out=self.gwte)
        return loss


class Race:
    """K variants trained in lockstep. `variants[k].config` is variant k's; `runs[k]` its Run."""

    def __init__(self, variants: list[Variant], runs: list[Run], data: str | Path | list[str] | None = None):
        if len(variants) != len(runs) or not runs:
            raise ValueError("a race needs one run per variant")
        steps = {r.config.num_steps for r in runs}
        if len(steps) != 1 or any(r.step != runs[0].step for r in runs):
            raise ValueError("a race's variants must have the same length and be at the same step")
        self.variants, self.runs, self.data = variants, runs, data
        self.num_steps = runs[0].config.num_steps
        self.step = runs[0].step  # the next step of every variant still running
        keys: dict[tuple[int, int, str], list[int]] = {}
        for k, run in enumerate(runs):
            keys.setdefault((run.model.n_embd, run.model.hidden, run.config.gradient), []).append(k)
        self.groups = [_Group(members, [runs[k] for k in members]) for members in keys.values()]

    @classmethod
    def new(cls, variants: list[Variant], data: str | Path | list[str] | None = None) -> Race:
        """Each variant's Run as Run.new(variant.config, data) makes it; the data is read once."""
        first = Run.new(variants[0].config, data)
        docs = first.original_docs() if len(variants) > 1 else []  # the file's order: each seed shuffles it
        runs = [first] + [Run.new(v.config, docs) for v in variants[1:]]
        return cls(variants, runs, data)

    @property
    def labels(self) -> list[str]:
        return [v.label for v in self.variants]

    @property
    def running(self) -> list[bool]:
        """Whether each variant still trains (not diverged, not at its end)."""
        return [not r.finished for r in self.runs]

    @property
    def finished(self) -> bool:
        """Every variant has stopped: at the end, or diverged (a diverged variant leaves its group; the
        others all take each step together). The same as `not any(self.running)`, without a list a step."""
        return self.step >= self.num_steps or not self.groups

    def steps(self) -> Iterator[list[StepRecord | None]]:
        """One lockstep step per next(): every variant's record (None for one that has stopped), each
        also noted on its Run. Ends when every variant has stopped."""
        runs = self.runs
        while self.step < self.num_steps and self.groups:
            step = self.step
            records: list[StepRecord | None] = [None] * len(runs)
            for group in list(self.groups):
                lrs = group.rates(step)
                losses = group.step(step, lrs)
                made = list(map(StepRecord._make, zip(itertools.repeat(step), losses, lrs.tolist(),
                                                      group.docs(step))))
                for run, record in zip(group.runs, made):
                    run.note(record)
                if len(made) == len(runs):  # one group of every variant, in order
                    records[:] = made
                else:
                    for k, record in zip(group.members, made):
                        records[k] = record
                if not math.isfinite(sum(losses)):  # (a finite sum: every loss is finite)
                    stopped = [j for j, loss in enumerate(losses) if not math.isfinite(loss)]
                    if stopped:  # diverged: they stop there, the others go on
                        group.drop(stopped)
                        if not group.runs:
                            self.groups.remove(group)
            self.step = step + 1
            yield records


# --- what a screen shows of a race -----------------------------------------------------------------------
@dataclass(frozen=True)
class Standing:
    """One variant's place in the race (`standings`)."""

    number: int
    label: str
    step: int  # steps taken
    whole: float  # the whole-data loss (NaN before any measurement)
    heldout: float  # the held-out loss (NaN without a held-out set)
    ema: float  # the moving average of its one-name losses
    diverged_at: int | None
    dead: bool = False  # every hidden unit dead (looked at with `now`): it stays at the guess, learns nothing


NOW_MAX = 8_000_000  # vocab x n_embd x hidden summed over a race's variants: `now` at most (a race of 8 of the
# page's model: 0.22 million; 16 of n_embd 512 would cost ~1 billion multiply-adds a snapshot)


def now_affordable(race: Race) -> bool:
    """Whether `standings(race, now=True)` is cheap enough for every snapshot a screen takes (20 a second
    while training): ~2 x NOW_MAX multiply-adds at most, about 1 ms."""
    return sum(r.model.vocab_size * r.model.n_embd * r.model.hidden for r in race.runs) <= NOW_MAX


def standings(race: Race, now: bool = False) -> list[Standing]:
    """Every variant ranked by its whole-data loss, lowest first; a diverged one (or one not yet
    measured) after every finite one, in variant order. The losses are those the trainer measured at
    fixed steps (Run.track_exact), so reading them costs nothing (without a track, NaN); with `now`, those
    of each variant's weights as they are (Run.losses_now, ~25 us a variant: a screen's frame shows the
    figures of its own step, as its status line does; call it between two steps), and whether all its hidden
    units are dead (engine.inspect.all_units_dead, ~10 us: a learner sees a variant stuck at the guess)."""
    out = []
    for v, run in zip(race.variants, race.runs):
        track = run.exact_track
        dead = False
        if now:
            whole, held = run.losses_now()  # a diverged variant's: at the weights it stopped with
            dead = run.diverged_at is None and run.step > 0 and all_units_dead(run.model)
        else:
            whole = track.last if track is not None and len(track) else math.nan
            held = track.heldout_last if track is not None and track.heldout_values is not None and len(track) \
                else math.nan
        out.append(Standing(v.number, v.label, run.step, whole, held, run.history.last_ema, run.diverged_at, dead))

    def key(s: Standing) -> tuple[int, float, int]:
        ok = s.diverged_at is None and math.isfinite(s.whole)
        return (0 if ok else 1, s.whole if ok else 0.0, s.number)

    return sorted(out, key=key)


def variant_curves(run: Run, grid: EmaGrid | None = None) -> RunCurves:
    """A variant's lines as a plot draws a kept run's (engine.runs.RunCurves), from what its Run holds now:
    the moving average at fixed steps and the whole-data loss its ExactTrack measured. Copies (~1,500
    floats), safe to call from another thread while the race trains. `grid`: the run's own EmaGrid, kept
    from one call to the next (a screen's frames), which reads only the moving average's new points."""
    taken = run.step  # first: the arrays hold at least this many
    c = run.config
    track = run.exact_track
    exact = track.copy() if track is not None and len(track) else ExactTrack.from_arrays(
        c.num_steps, CURVE_POINTS, np.zeros(0, dtype=np.int64), np.zeros(0))
    ema = run.history.ema.head(taken)
    return RunCurves(grid.curve(ema) if grid is not None else ema_curve(ema, c.num_steps), exact, taken)


def race_text(variants: Sequence[Variant]) -> str:
    """The race these variants are, written as `race_spec` reads it ("lr=0.25,0.5 seed=1,2"): each setting
    whose value differs between them, with its values in the variants' order, the one that varies slowest
    first (race_configs' order, so that the same text makes the same variants, numbered alike)."""
    axes = []
    for flag, field in RACE_SETTINGS.items():
        values = list(dict.fromkeys(getattr(v.config, field) for v in variants))
        if len(values) > 1:
            run = next((i for i in range(1, len(variants))
                        if getattr(variants[i].config, field) != getattr(variants[0].config, field)), len(variants))
            axes.append((-run, flag, values))  # `run` variants in a row share its first value: slower first
    axes.sort(key=lambda a: a[0])
    return " ".join(f"{flag}={','.join(_written(value) for value in values)}" for _, flag, values in axes)


def _written(value: object) -> str:
    """A raced value as a learner writes it: 1 rather than 1.0, 0.25, 1e-05 (exact: repr's digits)."""
    text = _show(value)
    return text[:-2] if isinstance(value, float) and text.endswith(".0") else text


def race_spec(text: str) -> list[tuple[str, list[object]]]:
    """A whole race written on one line, as a settings field takes it: `lr=0.5,1 seed=1,2` (settings
    separated by spaces or semicolons). ConfigError with one line when it is not one."""
    parts = [p for p in text.replace(";", " ").split() if p]
    if not parts:
        raise ConfigError("a race needs at least one SETTING=V1,V2,... (e.g. lr=0.5,1,2)")
    return [race_axis(p) for p in parts]


# Ready-made races: (title, spec, what to look for). Each one of the page's claims, or a question
# every learner asks, made into a race.
READY_RACES = (
    ("decay vs constant learning rate", "schedule=linear,constant",
     "the page's claim: with the rate decaying, the late steps are small and the loss settles; at a "
     "constant rate it keeps jumping about and ends higher"),
    ("one name vs the whole data per step", "gradient=name,data",
     "the page's 'stochastic': one name a step is a noisy estimate of the whole data's gradient; the "
     "one-name curve wobbles, mostly above the whole-data step's smooth one, and ends higher"),
    ("learning rates 0.1 .. 5", "lr=0.1,0.2,0.5,1,2,5",
     "too small learns slowly, larger learns faster, until a rate too large overshoots: watch where "
     "training diverges (the variant stops)"),
    ("seeds 1..8", "seed=1,2,3,4,5,6,7,8",
     "the same settings, other initial weights and name orders: how much the curves and the final loss "
     "vary by chance alone"),
    ("widths 4 .. 64", "n-embd=4,8,16,32,64",
     "a wider model has more parameters, but with one token of context all of them can only learn the "
     "bigram table: no width gets below its floor; in 1,000 steps the wider ones get a little closer"),
)


def ready_race_of(variants: Sequence[Variant]) -> tuple[str, str, str] | None:
    """The ready race (title, spec, what to look for) these variants are, however started (the palette,
    the settings' race field, --race): the same settings raced, with the same values in the same order;
    else None."""
    text = race_text(variants)
    return next((ready for ready in READY_RACES if ready[1] == text), None)
