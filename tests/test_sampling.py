"""Sampling: distributions, temperature, names."""

import math
import random

import numpy as np
import pytest

from engine import Config, ConfigError, Run, Sampler, next_token_probs, sample_names_from_grid, uniform_grid


@pytest.fixture(scope="module")
def trained() -> Run:
    run = Run.new(Config(num_steps=300))
    for _ in run.steps():
        pass
    return run


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_probabilities_sum_to_one_and_entropy_rises_with_temperature(trained):
    bos = trained.dataset.bos
    entropies = []
    for t in (0.1, 0.5, 1.0, 2.0, 5.0):
        p = next_token_probs(trained.model, bos, t)
        assert p.shape == (trained.dataset.vocab_size,)
        assert p.sum() == pytest.approx(1.0, abs=1e-12) and (p >= 0).all()
        entropies.append(_entropy(p))
    assert entropies == sorted(entropies) and entropies[0] < entropies[-1]
    assert entropies[-1] < math.log(trained.dataset.vocab_size)


def test_low_temperature_approaches_argmax(trained):
    logits = trained.model.logits_all()
    for token in range(trained.dataset.vocab_size):
        p = next_token_probs(trained.model, token, 0.01)
        assert int(p.argmax()) == int(logits[token].argmax())
        assert p.max() > 0.99 or np.sort(logits[token])[-2] > logits[token].max() - 0.1


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, math.inf, math.nan])
def test_temperature_must_be_finite_and_positive(trained, bad):
    with pytest.raises(ConfigError, match="temperature"):
        next_token_probs(trained.model, 0, bad)
    with pytest.raises(ConfigError):
        trained.sample(temperature=bad)


def test_samples_use_only_the_vocabulary_and_respect_max_len(trained):
    names = trained.sample(temperature=1.5, count=200)
    assert len(names) == 200
    allowed = set(trained.dataset.uchars)
    assert all(set(n) <= allowed and len(n) <= 16 for n in names)


def test_the_same_grid_at_another_temperature_changes_only_what_temperature_changes(trained):
    grid = uniform_grid(seed=5, count=30)
    a = sample_names_from_grid(trained.model, trained.dataset, 0.7, grid)
    assert a == sample_names_from_grid(trained.model, trained.dataset, 0.7, grid)
    cold = sample_names_from_grid(trained.model, trained.dataset, 0.05, grid)
    assert len(set(cold)) < len(set(a))  # near-greedy decoding collapses onto few names


def test_sampler_draws_like_random_choices(trained):
    """One uniform, bisected into the running sum: the same token random.choices picks."""
    sampler = Sampler(trained.model, trained.dataset, 1.0)
    probs = next_token_probs(trained.model, trained.dataset.bos, 1.0)
    rng_a, rng_b = random.Random(9), random.Random(9)
    for _ in range(200):
        expected = rng_a.choices(range(trained.dataset.vocab_size), weights=probs.tolist())[0]
        first = sampler.name(rng_b.random)[:1]
        rng_b.setstate(rng_a.getstate())
        label = trained.dataset.uchars[expected] if expected != trained.dataset.bos else ""
        assert first == label
