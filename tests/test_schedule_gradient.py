"""The two settings a race varies besides sizes, rate and seed, each usable in a solo run:
`schedule` (linear, the tutorial's; constant; cosine) and `gradient` (name, the tutorial's SGD; data,
the exact gradient of the whole-data loss each step). Checked against slow obvious versions."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import train_losses

from engine import CheckpointError, Config, ConfigError, Model, Run
from engine import checkpoint as ck
from engine.model import PairCounts

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "v1-checkpoint.npz"
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "zoe", "li", "bob", "anna"]


# --- schedule -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("schedule", "rate"), [
    ("linear", lambda s, t: 0.8 * (1 - s / t)),
    ("constant", lambda s, t: 0.8),
    ("cosine", lambda s, t: 0.8 * (1 + math.cos(math.pi * s / t)) / 2),
])
def test_each_schedule_gives_each_step_its_rate(schedule, rate):
    run = Run.new(Config(num_steps=40, learning_rate=0.8, schedule=schedule), DOCS)
    lrs = [rec.lr for rec in run.steps()]
    assert len(lrs) == 40
    assert lrs == pytest.approx([rate(s, 40) for s in range(40)], rel=1e-15, abs=1e-15)


def test_cosine_falls_from_the_rate_to_near_zero_through_half_at_mid_run():
    lrs = [rec.lr for rec in Run.new(Config(num_steps=100, schedule="cosine"), DOCS).steps()]
    assert lrs[0] == 1.0 and lrs[50] == pytest.approx(0.5) and 0 < lrs[-1] < 0.001
    assert all(a > b for a, b in zip(lrs, lrs[1:]))


def test_the_default_schedule_is_the_tutorials_linear_decay_bit_for_bit():
    default = Run.new(Config(num_steps=60), DOCS)
    got = [(rec.loss, rec.lr) for rec in default.steps()]
    # the tutorial's update, written out: one name per step, lr * (1 - step / steps)
    model = Run.new(Config(num_steps=60), DOCS)
    expected = []
    for s in range(60):
        tokens = model.dataset.doc_tokens(s % len(model.dataset))
        lr = 1.0 * (1 - s / 60)
        expected.append((model.model.sgd_step(tokens, lr), lr))
    assert got == expected


def test_a_mid_run_rate_change_keeps_the_schedules_shape():
    run = Run.new(Config(num_steps=20, schedule="cosine", learning_rate=1.0), DOCS)
    lrs = []
    for rec in run.steps():
        lrs.append(rec.lr)
        if rec.step == 9:
            run.set_lr_base(0.5)
    assert lrs[10:] == pytest.approx([0.5 * (1 + math.cos(math.pi * s / 20)) / 2 for s in range(10, 20)])


# --- whole-data gradient ------------------------------------------------------------------------------
def _slow_whole_data(model: Model, docs_tokens: list[np.ndarray]) -> tuple[float, np.ndarray]:
    """The whole-data loss and gradient the obvious way: every name's per-position gradient (the solo
    SGD's own analytic gradient, mean over the name times its positions) summed, over all positions."""
    total_loss, total_grad, positions = 0.0, np.zeros_like(model.theta), 0
    for tokens in docs_tokens:
        n = len(tokens) - 1
        loss, grad = model.loss_and_grad(tokens)
        total_loss += loss * n
        total_grad += grad * n
        positions += n
    return total_loss / positions, total_grad / positions


def _random_model(vocab: int, seed: int = 3) -> Model:
    rng = np.random.default_rng(seed)
    return Model(vocab, 5, 7, rng.normal(0, 0.8, size=vocab * 5 + 7 * 5 + vocab * 7))


def test_the_data_gradient_is_the_mean_of_every_positions_gradient():
    run = Run.new(Config(), DOCS)
    data = run.dataset
    model = _random_model(data.vocab_size)
    slow_loss, slow_grad = _slow_whole_data(model, [data.doc_tokens(i) for i in range(len(data))])
    loss, grad = model.data_loss_and_grad(PairCounts(data.counts))
    assert loss == pytest.approx(slow_loss, rel=1e-12)
    assert np.abs(grad - slow_grad).max() <= 1e-12 * np.abs(slow_grad).max()
    assert np.abs(slow_grad).max() > 0.01  # a real gradient, not zeros agreeing


def test_the_data_gradient_agrees_with_central_differences_of_the_whole_data_loss():
    run = Run.new(Config(), DOCS[:4])
    data = run.dataset
    model = _random_model(data.vocab_size, seed=9)
    pairs = PairCounts(data.counts)
    _, grad = model.data_loss_and_grad(pairs)
    docs = [data.doc_tokens(i) for i in range(len(data))]

    def whole(theta_model: Model) -> float:  # mean of -log p over every position, forward only
        total = sum(theta_model.loss(t) * (len(t) - 1) for t in docs)
        return total / sum(len(t) - 1 for t in docs)

    eps = 1e-6
    for i in range(0, model.theta.size, 7):
        old = model.theta[i]
        model.theta[i] = old + eps
        up = whole(model)
        model.theta[i] = old - eps
        down = whole(model)
        model.theta[i] = old
        assert grad[i] == pytest.approx((up - down) / (2 * eps), abs=1e-7)


def test_a_data_gradient_run_is_full_batch_gradient_descent():
    cfg = Config(num_steps=30, gradient="data", learning_rate=0.7, n_embd=4)
    run = Run.new(cfg, DOCS)
    check = Run.new(cfg, DOCS)  # the same start, stepped by hand with the slow gradient
    docs = [check.dataset.doc_tokens(i) for i in range(len(check.dataset))]
    for rec in run.steps():
        before = check.dataset_loss()
        loss, grad = _slow_whole_data(check.model, docs)
        assert rec.loss == pytest.approx(loss, rel=1e-12) == pytest.approx(before, rel=1e-12)
        assert rec.doc == "(all names)"
        check.model.theta -= rec.lr * grad
        assert np.allclose(run.model.theta, check.model.theta, rtol=0, atol=1e-12)
    assert run.history.losses[-1] < run.history.losses[0]
    # gradient descent on the whole data never goes up at a small enough rate
    assert all(b <= a for a, b in zip(run.history.losses, run.history.losses[1:]))


def test_the_data_gradient_with_a_held_out_set_uses_the_training_names_only():
    run = Run.new(Config(num_steps=5, gradient="data", holdout=0.25), DOCS)
    rec = next(iter(run.steps()))
    fresh = Run.new(Config(num_steps=5, gradient="data", holdout=0.25), DOCS)
    assert rec.loss == pytest.approx(fresh.dataset_loss(), rel=1e-12)
    assert rec.loss != pytest.approx(fresh.heldout_loss(), rel=1e-6)  # not the held-out names' loss


def test_a_diverging_data_gradient_run_stops_with_its_last_finite_weights():
    run = Run.new(Config(num_steps=200, gradient="data", learning_rate=1e6, schedule="constant"), DOCS)
    records = list(run.steps())
    assert records[-1].diverged and run.diverged_at == records[-1].step
    assert np.isfinite(run.model.theta).all()


# --- settings, checkpoints, flags ---------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "message"), [
    ({"schedule": "exponential"}, "--schedule must be one of linear, constant, cosine, got 'exponential'"),
    ({"schedule": None}, "--schedule must be one of"),
    ({"gradient": "batch"}, "--gradient must be one of name, data, got 'batch'"),
    ({"gradient": 1}, "--gradient must be one of"),
])
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Config(**changes).validate()


@pytest.mark.parametrize(("schedule", "gradient"), [("cosine", "name"), ("constant", "data"), ("linear", "data")])
def test_a_checkpoint_keeps_both_settings_and_resumes_exactly(tmp_path, schedule, gradient):
    cfg = Config(num_steps=50, schedule=schedule, gradient=gradient, learning_rate=0.6)
    full = Run.new(cfg, DOCS)
    expected = train_losses(full)
    first = Run.new(cfg, DOCS)
    head = train_losses(first, 20)
    first.save(tmp_path / "c.npz")
    assert ck.load(tmp_path / "c.npz").config == cfg
    resumed = Run.resume(tmp_path / "c.npz", DOCS)
    assert resumed.config.schedule == schedule and resumed.config.gradient == gradient
    assert head + train_losses(resumed) == expected
    assert resumed.sample() == full.sample()


def test_checkpoints_without_the_settings_load_as_linear_one_name(tmp_path):
    old = ck.load(FIXTURE)  # version 1, written before either existed
    assert (old.config.schedule, old.config.gradient) == ("linear", "name")
    run = Run.new(Config(num_steps=20), DOCS)
    train_losses(run, 4)
    path = run.save(tmp_path / "new.npz")
    with np.load(path) as f:
        fields = {k: f[k] for k in f.files}
    config = json.loads(str(fields["config"]))
    del config["schedule"], config["gradient"]  # as a version-2 file from before them
    fields["config"] = np.array(json.dumps(config))
    np.savez(tmp_path / "before.npz", **fields)
    loaded = ck.load(tmp_path / "before.npz")
    assert (loaded.config.schedule, loaded.config.gradient) == ("linear", "name")
    config["schedule"] = "sawtooth"
    fields["config"] = np.array(json.dumps(config))
    np.savez(tmp_path / "bad.npz", **fields)
    with pytest.raises(CheckpointError, match="--schedule must be one of"):
        ck.load(tmp_path / "bad.npz")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_the_flags_reach_the_run_and_the_headless_line_says_them(tmp_path):
    out = _cli("--headless", "--steps", "50", "--schedule", "cosine", "--gradient", "data", "--samples", "0",
               "--metrics", str(tmp_path / "m.csv"))
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.endswith("at lr 1.0 (cosine schedule, whole-data gradient: full-batch gradient descent)")
    rows = (tmp_path / "m.csv").read_text().splitlines()[1:]
    run = Run.new(Config(num_steps=50, schedule="cosine", gradient="data", num_samples=0))
    expected = [(rec.step + 1, rec.loss, rec.lr) for rec in run.steps()]
    assert [(int(s), float(loss), float(lr)) for s, loss, lr in (r.split(",") for r in rows)] == expected
    plain = _cli("--headless", "--steps", "5", "--samples", "0")
    assert plain.stdout.splitlines()[0].endswith("at lr 1.0")


@pytest.mark.parametrize(("args", "message"), [
    (("--schedule", "fast"), "--schedule must be one of linear, constant, cosine, got 'fast'"),
    (("--gradient", "all"), "--gradient must be one of name, data, got 'all'"),
])
def test_bad_flags_are_one_line(args, message):
    out = _cli("--headless", *args)
    assert out.returncode == 2 and out.stderr == f"micromlp-tui: error: {message}\n"


def test_a_flag_that_contradicts_the_checkpoint_is_refused(tmp_path):
    run = Run.new(Config(num_steps=10, schedule="cosine"))
    train_losses(run, 3)
    run.save(tmp_path / "c.npz")
    out = _cli("--headless", "--load", str(tmp_path / "c.npz"), "--schedule", "linear")
    assert out.returncode == 2 and "--schedule linear does not match the checkpoint's cosine" in out.stderr
