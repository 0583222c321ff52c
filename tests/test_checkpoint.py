"""Checkpoints: round trips, continuing training, and clear errors for bad files."""

import math
from pathlib import Path

import numpy as np
import pytest

from engine import CheckpointError, Config, Run
from engine import checkpoint as ck

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]


def _train(run: Run, k: int | None = None) -> list[float]:
    out = []
    for rec in run.steps():
        out.append(rec.loss)
        if k is not None and len(out) == k:
            break
    return out


def test_continuing_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    cfg = Config(num_steps=120)
    full = Run.new(cfg, DOCS)
    expected = _train(full)
    expected_samples = full.sample()

    first = Run.new(cfg, DOCS)
    head = _train(first, 45)
    first.save(tmp_path / "half.npz")
    resumed = Run.resume(tmp_path / "half.npz", DOCS)
    assert resumed.step == 45 and list(resumed.history.losses) == head
    tail = _train(resumed)
    assert head + tail == expected
    assert resumed.sample() == expected_samples
    assert np.array_equal(resumed.model.theta, full.model.theta)


def test_round_trip_keeps_everything(tmp_path):
    run = Run.new(Config(n_embd=5, hidden=9, num_steps=30, learning_rate=0.3, seed=11), DOCS)
    _train(run, 10)
    run.save(tmp_path / "c.npz")
    back = ck.load(tmp_path / "c.npz")
    assert back.config == run.config and back.uchars == run.dataset.uchars and back.step == 10
    assert np.array_equal(back.theta, run.model.theta)
    assert np.array_equal(back.losses, run.history.losses)
    assert back.rng_state == run.rng.getstate()


def test_saving_replaces_the_old_file_and_leaves_no_temporary(tmp_path):
    run = Run.new(Config(num_steps=20), DOCS)
    path = tmp_path / "c.npz"
    run.save(path)
    _train(run, 5)
    run.save(path)
    assert ck.load(path).step == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_non_finite_weights_are_never_saved(tmp_path):
    run = Run.new(Config(), DOCS)
    run.model.theta[3] = math.nan
    with pytest.raises(CheckpointError, match="not finite"):
        run.save(tmp_path / "c.npz")
    assert not any(tmp_path.iterdir())


def _expect_error(path: Path, pattern: str) -> None:
    with pytest.raises(CheckpointError, match=pattern):
        ck.load(path)


def test_bad_files_give_clear_errors(tmp_path):
    good = tmp_path / "good.npz"
    Run.new(Config(), DOCS).save(good)
    data = good.read_bytes()

    _expect_error(tmp_path / "missing.npz", "no such file")
    _expect_error(tmp_path, "directory")
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(0).bytes(5000))
    _expect_error(tmp_path / "random.npz", "not a micromlp-tui checkpoint|damaged")
    for cut in (10, len(data) // 2, len(data) - 30):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        _expect_error(tmp_path / "cut.npz", "damaged|truncated|not a micromlp-tui")
    (tmp_path / "text.npz").write_text("step,loss,lr\n1,2.0,1.0\n")
    _expect_error(tmp_path / "text.npz", "not a micromlp-tui checkpoint")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    _expect_error(tmp_path / "other.npz", "not a micromlp-tui checkpoint")


def test_a_checkpoint_holding_nan_weights_is_refused(tmp_path):
    run = Run.new(Config(), DOCS)
    fields = {k: v for k, v in np.load(run.save(tmp_path / "c.npz")).items()}
    fields["theta"] = fields["theta"].copy()
    fields["theta"][0] = np.nan
    np.savez(tmp_path / "nan.npz", **fields)
    _expect_error(tmp_path / "nan.npz", "not finite")


def test_a_checkpoint_of_another_vocabulary_is_refused(tmp_path):
    Run.new(Config(), DOCS).save(tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match="vocabulary"):
        Run.resume(tmp_path / "c.npz", ["xyz", "zzz"])


def test_a_saved_checkpoint_gets_the_usual_file_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = Run.new(Config(), DOCS).save(tmp_path / "c.npz")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0600 of a bare temporary file
