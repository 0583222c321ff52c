"""The batched numerical gradient (engine.model.numerical_grad_fast) against the page's loop over
the parameters (numerical_grad), its chunks, its stop and progress, and the zero gradient of a model
whose every hidden unit is dead."""

from __future__ import annotations

import random

import numpy as np
import pytest

from engine import Config, Dataset, Model, numerical_grad
from engine import model as model_module
from engine.inspect import gradient_check
from engine.model import Stopped, numerical_grad_fast

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "zoe", "bob", "anna"]


def _small(n_embd: int = 5, hidden: int = 7, std: float = 0.6) -> tuple[Dataset, Model]:
    rng = random.Random(3)
    ds = Dataset.from_docs(DOCS, rng)
    return ds, Model.init(ds.vocab_size, Config(n_embd=n_embd, hidden=hidden, init_std=std), rng)


@pytest.mark.parametrize("doc", ["emma", "isabella", "annaannaannaemmaemma", "a"])
def test_fast_numerical_gradient_matches_the_loop_over_every_parameter(doc):
    ds, model = _small()
    tokens = np.asarray(ds.encode(doc), dtype=np.intp)
    slow = numerical_grad(model.copy(), tokens)
    fast = numerical_grad_fast(model, tokens)
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)
    untouched = np.setdiff1d(np.arange(ds.vocab_size), tokens[:-1])  # wte rows that are no context
    a = model.wte.size // ds.vocab_size
    for t in untouched:
        assert (fast[t * a:(t + 1) * a] == 0).all()
    _, analytic = model.copy().loss_and_grad(tokens)
    assert np.abs(fast - analytic).max() < 1e-7


def test_fast_numerical_gradient_in_many_small_chunks_is_the_same(monkeypatch):
    ds, model = _small(n_embd=6, hidden=11)
    tokens = np.asarray(ds.encode("isabella"), dtype=np.intp)
    whole = numerical_grad_fast(model, tokens)
    monkeypatch.setattr(model_module, "CHECK_CELLS", 1)  # one parameter row / unit per chunk
    seen: list[float] = []
    chunked = numerical_grad_fast(model, tokens, progress=seen.append)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-10)  # matmuls of other shapes round otherwise
    assert len(seen) > 20 and seen == sorted(seen) and seen[-1] == 1.0


def test_a_stop_request_ends_the_check_between_chunks(monkeypatch):
    ds, model = _small()
    tokens = np.asarray(ds.encode("isabella"), dtype=np.intp)
    monkeypatch.setattr(model_module, "CHECK_CELLS", 1)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Stopped):
        gradient_check(model, tokens, "isabella", stop=stop)
    assert len(calls) == 4  # asked before each chunk; the fourth answer stopped it


def test_every_unit_dead_gives_a_zero_gradient_that_is_said_to_be_zero():
    ds, model = _small()
    model.fc1[:] = -np.abs(model.fc1)  # with positive embeddings every pre-activation is < 0
    model.wte[:] = np.abs(model.wte)
    tokens = np.asarray(ds.encode("emma"), dtype=np.intp)
    check = gradient_check(model, tokens, "emma")
    assert check.max_abs_diff == 0 and check.zero
    assert not (check.analytic != 0).any() and not (check.numerical != 0).any()
    live = gradient_check(_small()[1], tokens, "emma")
    assert not live.zero and live.largest > 0
