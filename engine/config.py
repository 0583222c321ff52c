"""Every hyper-parameter of a run, in one frozen dataclass, with its checks.

The same checks (and the same messages) serve the flags, the Python API and checkpoints: a value of
the wrong type (a float where a whole number belongs, a bool, a string) is refused like one out of range.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace

from engine.errors import ConfigError

# Refuse runs whose memory (weights and their copies, the V x V tables, scratch) would pass this.
MAX_MODEL_BYTES = 2 * 1024**3
# Longest run: its loss history (16 bytes a step, up to 32 while the arrays grow) stays under 320 MB,
# and a checkpoint of it under 80 MB of losses. 10M steps is 3-4 minutes headless flat out.
MAX_STEPS = 10_000_000
# Most names sampled at the end: 10,000 names of up to MAX_LEN tokens are drawn in about a second and
# print as ~100 KB; the probe's 10,000,000 took minutes and 2.5 GB.
MAX_SAMPLES = 10_000
# Most tokens in one sampled name (the tutorial uses 16). Bounds the dashboard's grid of draws too.
MAX_LEN = 64
# Positions per forward/backward pass (engine.model.CHUNK): longer documents are done in chunks.
CHUNK = 4096


@dataclass(frozen=True)
class Config:
    n_embd: int = 16  # embedding width: each token becomes a vector of this many numbers
    hidden: int | None = None  # hidden width of the MLP; None means 4 * n_embd, as the tutorial
    num_steps: int = 1000  # SGD steps in the run; the learning rate decays linearly to 0 over them
    learning_rate: float = 1.0  # learning rate at step 0
    seed: int = 42  # seeds Python's `random`: shuffle, then initial weights, then samples
    init_std: float = 0.08  # standard deviation of the Gaussian initial weights
    temperature: float = 0.5  # sampling temperature: < 1 sharpens, > 1 flattens
    num_samples: int = 20  # names sampled at the end of a run
    max_len: int = 16  # most tokens in one sampled name
    holdout: float = 0.0  # fraction of the shuffled names kept out of training (the last ones): 0 <= F < 1
    top_k: int = 0  # sample only from the k likeliest next tokens (ties with the k-th kept); 0: all (the tutorial)
    schedule: str = "linear"  # the learning rate over the run: linear (the tutorial's decay), constant, cosine
    gradient: str = "name"  # each step's gradient: one name (the tutorial's SGD), or the whole data

    @property
    def hidden_size(self) -> int:
        return 4 * self.n_embd if self.hidden is None else self.hidden

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def validate(self, vocab_size: int | None = None) -> Config:
        """Return self, or raise ConfigError naming the first bad setting (type or range)."""
        _positive_int("--n-embd", self.n_embd)
        if self.hidden is not None:
            _positive_int("--hidden", self.hidden)
        _positive_int("--steps", self.num_steps, MAX_STEPS)
        check_lr(self.learning_rate)
        if not _is_int(self.seed):
            raise ConfigError(f"--seed must be a whole number, got {self.seed!r}")
        check_temperature(self.temperature)
        check_samples(self.num_samples)
        _positive_int("max_len", self.max_len, MAX_LEN)
        _positive_float("init_std", self.init_std)
        check_holdout(self.holdout)
        check_top_k(self.top_k)
        check_choice("--schedule", self.schedule, SCHEDULES)
        check_choice("--gradient", self.gradient, GRADIENTS)
        if vocab_size is not None:
            check_model_size(vocab_size, self.n_embd, self.hidden_size, self.num_steps)
        return self


# The learning rate at step s of T, as a factor of the base: linear 1 - s/T (the tutorial's), constant 1,
# cosine (1 + cos(pi s/T)) / 2 (engine.train.decay).
SCHEDULES = ("linear", "constant", "cosine")
# Each step's gradient: "name", one name's (the tutorial's stochastic gradient descent), or "data", the
# exact gradient of the whole-data loss (full-batch gradient descent; engine.model.PairCounts).
GRADIENTS = ("name", "data")
# How a schedule and a gradient are named wherever a screen or a picture names them (a race variant's
# label, the run line, the exported picture's title): one phrase per value, so that view 8's
# "whole-data gradient" is the run line's.
SCHEDULE_WORDS = {s: f"{s} schedule" for s in SCHEDULES}
GRADIENT_WORDS = {"name": "one-name gradient", "data": "whole-data gradient"}


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """One of `choices`, spelled exactly."""
    if not (isinstance(value, str) and value in choices):
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def parameter_count(vocab_size: int, n_embd: int, hidden: int) -> int:
    """wte (V, E) + mlp_fc1 (H, E) + mlp_fc2 (V, H); no biases."""
    return vocab_size * n_embd + hidden * n_embd + vocab_size * hidden


# What a run can hold at once, in float64-sized units, counted generously so that the dashboard fits:
PARAM_COPIES = 6  # weights, gradient, chunk sum; the screen's copy, a snapshot, a checkpoint's copy
VV_TABLES = 10  # pair counts, the reference's tables, logits_all / probabilities / cumulative sums
# (each made with a temporary or two), the sampler's rows, the dashboard's chart tables, one-hot rows
HISTORY_BYTES_PER_STEP = 32  # the loss and its average, float64 (in memory when no temporary file can take
# them, engine.history), and the copies an export or a checkpoint makes of them


def model_bytes(vocab_size: int, n_embd: int, hidden: int, num_steps: int = 0) -> int:
    """About the most memory a run needs, dashboard included: copies of the weights, the (V, V)
    tables, one chunk of activations (logits, probabilities, hidden units) and the loss history."""
    v, h = vocab_size, hidden
    floats = PARAM_COPIES * parameter_count(v, n_embd, h) + VV_TABLES * v * v + 3 * CHUNK * (v + 2 * h)
    return 8 * floats + HISTORY_BYTES_PER_STEP * num_steps


def check_model_size(vocab_size: int, n_embd: int, hidden: int, num_steps: int = 0) -> None:
    """Refuse, before anything of that size is allocated, a run that would pass MAX_MODEL_BYTES."""
    need = model_bytes(vocab_size, n_embd, hidden, num_steps)
    if need > MAX_MODEL_BYTES:
        raise ConfigError(
            f"a model with n_embd={n_embd}, hidden={hidden} and {vocab_size} tokens would need "
            f"about {need / 1024**3:.1f} GiB; the limit is {MAX_MODEL_BYTES / 1024**3:.0f} GiB"
        )


def check_temperature(temperature: float) -> float:
    """Temperatures must be finite and > 0; 0 is refused rather than read as greedy decoding."""
    if not (_is_real(temperature) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"--temperature must be a finite number > 0, got {temperature}")
    return float(temperature)


def check_lr(lr: float) -> float:
    """A learning rate (at the start, or a new base mid-run): finite and > 0."""
    _positive_float("--lr", lr)
    return float(lr)


def check_holdout(fraction: float) -> float:
    """The held-out fraction: a finite number from 0 (no held-out set, the tutorial) up to, not
    including, 1 (at least one name must train)."""
    if not (_is_real(fraction) and math.isfinite(fraction) and 0 <= fraction < 1):
        raise ConfigError(f"--holdout must be a number from 0 up to (not including) 1, got {fraction!r}")
    return float(fraction)


def holdout_count(num_docs: int, fraction: float) -> int:
    """How many of `num_docs` names are held out: F x N rounded to the nearest whole number (halves
    up), but at least 1 when F > 0 and at most N - 1, so that at least one name trains. makemore
    holds out min(1000, 10%); here the fraction alone decides."""
    if fraction <= 0 or num_docs < 2:
        return 0
    return min(max(math.floor(fraction * num_docs + 0.5), 1), num_docs - 1)


def check_top_k(k: int) -> int:
    """Top-k sampling's k: a whole number >= 0; 0 turns it off (every token may be drawn, as the tutorial)."""
    if not (_is_int(k) and k >= 0):
        raise ConfigError(f"--top-k must be a whole number >= 0 (0: off), got {k!r}")
    return int(k)


def check_samples(count: int) -> int:
    """How many names to sample: a whole number from 0 to MAX_SAMPLES."""
    if not (_is_int(count) and 0 <= count <= MAX_SAMPLES):
        raise ConfigError(f"--samples must be a whole number from 0 to {MAX_SAMPLES:,}, got {count}")
    return int(count)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive_int(name: str, value: int, most: int | None = None) -> None:
    if not (_is_int(value) and value > 0):
        raise ConfigError(f"{name} must be a whole number > 0, got {value!r}")
    if most is not None and value > most:
        raise ConfigError(f"{name} must be at most {most:,}, got {value:,}")


def _positive_float(name: str, value: float) -> None:
    if not (_is_real(value) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
