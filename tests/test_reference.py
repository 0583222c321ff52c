"""Reference loss figures: the whole-data loss, the bigram floor, the random guess."""

import math

import numpy as np
import pytest

from engine import Config, Run


def _slow_dataset_loss(run: Run) -> float:
    """The mean over every position of every document, one document at a time."""
    total, count = 0.0, 0
    for i in range(len(run.dataset)):
        tokens = run.dataset.doc_tokens(i)
        total += run.model.loss(tokens) * (len(tokens) - 1)
        count += len(tokens) - 1
    return total / count


def test_whole_dataset_loss_equals_the_per_position_average():
    run = Run.new(Config(num_steps=200))
    assert run.dataset_loss() == pytest.approx(_slow_dataset_loss(run), rel=1e-12)
    for _ in run.steps():
        pass
    assert run.dataset_loss() == pytest.approx(_slow_dataset_loss(run), rel=1e-12)


def test_bigram_floor_is_the_count_table_models_loss():
    run = Run.new(Config(), ["ab", "ab", "ba", "a"])
    # counts from the definition: pairs of [BOS]+doc+[BOS], BOS = id 2
    c = np.zeros((3, 3))
    for doc in ["ab", "ab", "ba", "a"]:
        ids = [2] + ["ab".index(ch) for ch in doc] + [2]
        for x, y in zip(ids, ids[1:]):
            c[x, y] += 1
    assert np.array_equal(run.dataset.counts, c)
    p = c / c.sum(axis=1, keepdims=True)
    expected = -sum(c[i, j] * math.log(p[i, j]) for i in range(3) for j in range(3) if c[i, j]) / c.sum()
    assert run.reference.floor == pytest.approx(expected, rel=1e-12)
    assert run.reference.random_guess == pytest.approx(math.log(3))


def test_shared_names_floor_and_random_guess(shared_names):
    run = Run.new(Config(), shared_names)
    assert run.reference.floor == pytest.approx(2.454, abs=5e-4)  # tutorial-spec.md: "about 2.454"
    assert run.reference.random_guess == pytest.approx(3.296, abs=5e-4)
    assert abs(run.dataset_loss() - run.reference.random_guess) < 0.01  # the start is a near-uniform guess


def test_the_mlp_never_beats_the_floor_on_training_data():
    run = Run.new(Config(num_steps=3000, learning_rate=0.5), ["anna", "bob", "abba", "nan", "ab"])
    for _ in run.steps():
        pass
    assert run.dataset_loss() >= run.reference.floor - 1e-12
    assert run.dataset_loss() - run.reference.floor < 0.3


def test_the_loss_of_a_blown_up_model_is_not_finite_and_warns_nothing():
    """QA: a run stopped with huge weights printed numpy's RuntimeWarning (overflow in multiply) on stderr
    when its whole-data loss was measured again; the figure says it (NaN or inf), nothing else does."""
    import warnings

    for scale in (1e100, 1e150, 1e200, 1e300):
        run = Run.new(Config(seed=1))
        run.model.theta[:] = run.model.theta * scale
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any warning fails the test
            whole, _ = run.losses_now()
            again = run.reference.dataset_loss(run.model)
        assert not math.isfinite(whole) or whole > 1000, (scale, whole)
        assert (math.isnan(whole) and math.isnan(again)) or whole == again
