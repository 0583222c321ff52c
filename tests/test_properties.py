"""Property tests: any small data set trains, any checkpoint round-trips."""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Config, Run, checkpoint

# Printable-ish Unicode without line breaks (a name is one line) and without surrounding spaces.
NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85"),
    min_size=1, max_size=50,
).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(NAME, min_size=1, max_size=30), seed=st.integers(0, 2**32 - 1),
       steps=st.integers(1, 12), temperature=st.floats(0.05, 5.0))
def test_random_unicode_data_trains_with_finite_losses(docs, seed, steps, temperature):
    run = Run.new(Config(num_steps=steps, seed=seed, n_embd=4), docs)
    losses = [r.loss for r in run.steps()]
    assert len(losses) == steps and all(math.isfinite(x) and x > 0 for x in losses)
    vocab = set(run.dataset.uchars)
    assert run.dataset.vocab_size == len(set("".join(docs))) + 1
    for name in run.sample(temperature=temperature, count=5):
        assert set(name) <= vocab and len(name) <= 16


@settings(max_examples=40, deadline=None)
@given(n_embd=st.integers(1, 12), hidden=st.integers(1, 40), steps_done=st.integers(0, 20),
       lr=st.floats(0.01, 2.0), seed=st.integers(0, 10**6), vocab=st.integers(1, 40))
def test_checkpoints_of_random_sizes_round_trip_exactly(n_embd, hidden, steps_done, lr, seed, vocab):
    letters = [chr(0x61 + i) if i < 26 else chr(0x3B1 + i - 26) for i in range(vocab)]
    rng = random.Random(seed)
    docs = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 8))) for _ in range(15)] + letters
    cfg = Config(n_embd=n_embd, hidden=hidden, num_steps=25, learning_rate=lr, seed=seed)
    run = Run.new(cfg, docs)
    gen = run.steps()
    for _ in range(steps_done):
        next(gen)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.npz"
        run.save(path)
        back = checkpoint.load(path)
        resumed = Run.resume(path, docs)
    assert back.config == run.config and back.uchars == run.dataset.uchars and back.step == steps_done
    assert np.array_equal(back.theta, run.model.theta) and np.array_equal(back.losses, run.history.losses)
    assert back.rng_state == run.rng.getstate()
    assert [r.loss for r in resumed.steps()] == [r.loss for r in gen]
