"""The training generator: determinism, pausing, the schedule and divergence."""

import math
import random
import threading

import numpy as np

from engine import Config, Dataset, Model, Run, lr_at, train

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]


def _losses(cfg: Config) -> list[float]:
    return [r.loss for r in Run.new(cfg, DOCS).steps()]


def test_same_seed_same_losses_other_seed_other_losses():
    a, b = _losses(Config(num_steps=50)), _losses(Config(num_steps=50))
    c = _losses(Config(num_steps=50, seed=7))
    assert a == b
    assert a != c


def test_pausing_is_not_pulling():
    uninterrupted = _losses(Config(num_steps=80))
    run = Run.new(Config(num_steps=80), DOCS)
    gen = run.steps()
    first = [next(gen).loss for _ in range(30)]
    threading.Event().wait(0.05)  # a person pauses
    rest = [r.loss for r in gen]
    assert first + rest == uninterrupted
    assert run.step == 80 and len(run.history) == 80


def test_records_carry_step_lr_and_document():
    cfg = Config(num_steps=25, learning_rate=0.5)
    run = Run.new(cfg, DOCS)
    records = list(run.steps())
    assert [r.step for r in records] == list(range(25))
    assert [r.lr for r in records] == [0.5 * (1 - s / 25) for s in range(25)]
    assert [r.doc for r in records] == [run.dataset.docs[s % len(DOCS)] for s in range(25)]
    assert lr_at(0, cfg) == 0.5 and records[-1].lr > 0


def test_loss_falls_on_the_embedded_names():
    run = Run.new(Config(num_steps=1000))
    before = run.dataset_loss()
    for _ in run.steps():
        pass
    assert run.dataset_loss() < before - 0.5
    assert run.dataset_loss() > run.reference.floor


def test_a_huge_learning_rate_stops_at_the_first_non_finite_loss():
    run = Run.new(Config(num_steps=500, learning_rate=1e150), DOCS)
    records = list(run.steps())
    last = records[-1]
    assert last.diverged and not math.isfinite(last.loss)
    assert all(math.isfinite(r.loss) for r in records[:-1])
    assert run.diverged_at == last.step and run.step == last.step
    assert run.finished


def test_a_diverged_step_leaves_the_weights_alone():
    rng = random.Random(0)
    ds = Dataset.from_docs(DOCS, rng)
    model = Model.init(ds.vocab_size, Config(), rng)
    model.theta[:] = 1e200  # logits overflow to inf: the loss is NaN
    before = model.theta.copy()
    records = list(train(model, ds, Config(num_steps=10)))
    assert len(records) == 1 and records[0].diverged
    assert np.array_equal(model.theta, before)


def test_loss_history_keeps_every_loss_and_its_moving_average():
    from engine import LossHistory

    values = [3.0, 2.0, 4.0, 1.0] * 700  # crosses the first growth of the buffers
    grown = LossHistory()
    for v in values:
        grown.append(v)
    bulk = LossHistory(values)
    s, expected = 0.0, []  # TensorBoard's smoothing, debiased at the start
    for i, v in enumerate(values):
        s = grown.weight * s + (1 - grown.weight) * v
        expected.append(s / (1 - grown.weight ** (i + 1)))
    for h in (grown, bulk):
        assert len(h) == len(values) and list(h.losses) == values
        assert np.allclose(h.ema, expected, rtol=0, atol=1e-12)
    x, loss, ema_s = grown.downsampled(50)
    assert len(x) == 50 and x[0] == 0 and x[-1] == len(values) - 1
    assert np.array_equal(loss, grown.losses[x.astype(int)])


def test_a_runs_last_record_is_the_one_its_generator_gave():
    """Run.last_record() rebuilds the last record from what the run keeps (for a race variant picked
    after it stopped): the same step, loss, lr and document as the generator yielded, on every schedule,
    both gradients, after a change of rate, and at the step where a run diverged (its loss not finite)."""
    assert Run.new(Config(num_steps=10), DOCS).last_record() is None
    for config in (Config(num_steps=40), Config(num_steps=40, schedule="cosine"),
                   Config(num_steps=40, schedule="constant", gradient="data")):
        run = Run.new(config, DOCS)
        got = None
        for rec in run.steps():
            got = rec
            if rec.step == 9:
                run.set_lr_base(0.5)
            if rec.step == 30:
                break
        assert run.last_record() == got, config
    wild = Run.new(Config(num_steps=500, learning_rate=1e150), DOCS)
    last = list(wild.steps())[-1]
    rebuilt = wild.last_record()
    assert rebuilt is not None and rebuilt.diverged and (rebuilt.step, rebuilt.lr, rebuilt.doc) == (
        last.step, last.lr, last.doc)
