"""Every hyper-parameter of a run, in one frozen dataclass, with its checks."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.errors import ConfigError

# Refuse models whose parameters (and their gradient) would need more than this many bytes.
MAX_MODEL_BYTES = 2 * 1024**3


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

    @property
    def hidden_size(self) -> int:
        return 4 * self.n_embd if self.hidden is None else self.hidden

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]

    def validate(self, vocab_size: int | None = None) -> Config:
        """Return self, or raise ConfigError naming the first bad setting."""
        _positive_int("--n-embd", self.n_embd)
        if self.hidden is not None:
            _positive_int("--hidden", self.hidden)
        _positive_int("--steps", self.num_steps)
        _positive_float("--lr", self.learning_rate)
        check_temperature(self.temperature)
        if self.num_samples < 0:
            raise ConfigError(f"--samples must be 0 or more, got {self.num_samples}")
        _positive_int("max_len", self.max_len)
        _positive_float("init_std", self.init_std)
        if vocab_size is not None:
            check_model_size(vocab_size, self.n_embd, self.hidden_size)
        return self


def parameter_count(vocab_size: int, n_embd: int, hidden: int) -> int:
    """wte (V, E) + mlp_fc1 (H, E) + mlp_fc2 (V, H); no biases."""
    return vocab_size * n_embd + hidden * n_embd + vocab_size * hidden


def model_bytes(vocab_size: int, n_embd: int, hidden: int) -> int:
    """About what a run needs: weights, gradient and scratch (float64), and the (V, V) tables of pair
    counts, all-token logits and probabilities."""
    return 3 * 8 * parameter_count(vocab_size, n_embd, hidden) + 4 * 8 * vocab_size * vocab_size


def check_model_size(vocab_size: int, n_embd: int, hidden: int) -> None:
    need = model_bytes(vocab_size, n_embd, hidden)
    if need > MAX_MODEL_BYTES:
        raise ConfigError(
            f"a model with n_embd={n_embd}, hidden={hidden} and {vocab_size} tokens would need "
            f"about {need / 1024**3:.1f} GiB; the limit is {MAX_MODEL_BYTES / 1024**3:.0f} GiB"
        )


def check_temperature(temperature: float) -> float:
    """Temperatures must be finite and > 0; 0 is refused rather than read as greedy decoding."""
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"temperature must be a finite number > 0, got {temperature}")
    return float(temperature)


def _positive_int(name: str, value: int) -> None:
    if value <= 0:
        raise ConfigError(f"{name} must be a whole number > 0, got {value}")


def _positive_float(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a finite number > 0, got {value}")
