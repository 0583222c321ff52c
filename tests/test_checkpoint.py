"""Checkpoints: round trips, continuing training, and clear errors for bad files."""

import math
from pathlib import Path

import numpy as np
import pytest
from helpers import train_losses

from engine import CheckpointError, Config, Run
from engine import checkpoint as ck

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]


def test_continuing_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    cfg = Config(num_steps=120)
    full = Run.new(cfg, DOCS)
    expected = train_losses(full)
    expected_samples = full.sample()

    first = Run.new(cfg, DOCS)
    head = train_losses(first, 45)
    first.save(tmp_path / "half.npz")
    resumed = Run.resume(tmp_path / "half.npz", DOCS)
    assert resumed.step == 45 and list(resumed.history.losses) == head
    tail = train_losses(resumed)
    assert head + tail == expected
    assert resumed.sample() == expected_samples
    assert np.array_equal(resumed.model.theta, full.model.theta)


def test_round_trip_keeps_everything(tmp_path):
    run = Run.new(Config(n_embd=5, hidden=9, num_steps=30, learning_rate=0.3, seed=11), DOCS)
    train_losses(run, 10)
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
    train_losses(run, 5)
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


# --- every field checked at load, headers before data (issue 8) ------------------------------------
import io  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import zipfile  # noqa: E402

from numpy.lib import format as npy  # noqa: E402


def _fields(tmp_path: Path) -> dict[str, np.ndarray]:
    run = Run.new(Config(num_steps=50), DOCS)
    train_losses(run, 10)
    with np.load(run.save(tmp_path / "good.npz")) as f:
        return {k: f[k] for k in f.files}


def _with_config(tmp_path: Path, **changes: object) -> Path:
    fields = _fields(tmp_path)
    config = json.loads(str(fields["config"]))
    for key, value in changes.items():
        if value is _DROP:
            del config[key]
        else:
            config[key] = value
    fields["config"] = np.array(json.dumps(config))
    path = tmp_path / "edited.npz"
    np.savez(path, **fields)
    return path


_DROP = object()


@pytest.mark.parametrize(("key", "value", "message"), [
    ("n_embd", 16.0, "--n-embd must be a whole number > 0, got 16.0"),
    ("n_embd", True, "--n-embd must be a whole number > 0, got True"),
    ("n_embd", "16", "--n-embd must be a whole number > 0, got '16'"),
    ("n_embd", 0, "--n-embd must be"),
    ("hidden", 64.5, "--hidden must be a whole number"),
    ("num_steps", 1e3, "--steps must be a whole number"),
    ("num_steps", 10**12, "--steps must be at most 10,000,000"),
    ("learning_rate", "1.0", "--lr must be a finite number"),
    ("learning_rate", float("nan"), "--lr must be a finite number"),
    ("seed", 4.2, "--seed must be a whole number"),
    ("seed", None, "--seed must be a whole number"),
    ("init_std", 0, "init_std must be"),
    ("temperature", 0, "temperature must be"),
    ("temperature", [0.5], "temperature must be"),
    ("num_samples", 20.0, "--samples must be a whole number"),
    ("num_samples", 10**7, "--samples must be a whole number from 0 to 10,000"),
    ("max_len", 10**9, "max_len must be at most 64"),
    ("max_len", 0, "max_len must be"),
    ("max_len", _DROP, "settings missing: max_len"),
    ("colour", "red", "settings unknown: colour"),
])
def test_every_setting_is_checked_at_load_with_the_flags_rules(tmp_path, key, value, message):
    path = _with_config(tmp_path, **{key: value})
    with pytest.raises(CheckpointError) as info:
        ck.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}: damaged checkpoint: ") and message in text and "\n" not in text


def _replace(tmp_path: Path, name: str, **arrays: np.ndarray) -> Path:
    fields = _fields(tmp_path)
    fields.update(arrays)
    path = tmp_path / name
    np.savez(path, **fields)
    return path


@pytest.mark.parametrize(("field", "value", "message"), [
    ("vocab", np.array(json.dumps(["a", "a", "b"])), "damaged vocabulary"),
    ("vocab", np.array(json.dumps(["b", "a"])), "damaged vocabulary"),
    ("vocab", np.array(json.dumps(["ab"])), "damaged vocabulary"),
    ("vocab", np.array(json.dumps({"a": 1})), "damaged vocabulary"),
    ("vocab", np.array("[not json"), "damaged checkpoint"),
    ("step", np.array(10.0), "'step' holds float64"),
    ("step", np.array(-1), "do not agree"),
    ("theta", np.zeros((3, 4)), "'theta' holds float64 values of shape (3, 4)"),
    ("theta", np.zeros(7), "holds 7 weights"),
    ("theta", np.array(["x"] * 5), "'theta' holds <U1"),
    ("losses", np.full(10, np.nan), "losses that are not finite"),
    ("losses", np.zeros(11), "do not agree"),
    ("rng_internal", np.zeros(5, dtype=np.int64), "damaged random state"),
    ("rng_version", np.array(99), "damaged checkpoint"),
    ("config", np.array(7), "'config' holds int64"),
])
def test_every_array_is_checked_at_load(tmp_path, field, value, message):
    path = _replace(tmp_path, "bad.npz", **{field: value})
    with pytest.raises(CheckpointError) as info:
        ck.load(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def _zip_with_header(tmp_path: Path, name: str, base: dict[str, np.ndarray], field: str, shape: tuple[int, ...],
                     payload: bytes = b"\0" * 64, compress: bool = False) -> Path:
    """A checkpoint whose `field` has a header claiming `shape` but holds only `payload`."""
    path = tmp_path / name
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        for key, value in base.items():
            buffer = io.BytesIO()
            if key == field:
                npy.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
                buffer.write(payload)
            else:
                npy.write_array(buffer, value)
            z.writestr(f"{key}.npy", buffer.getvalue())
    return path


def _load_fast(path: Path, pattern: str) -> None:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(CheckpointError, match=pattern):
            ck.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0 and peak < 20 * 1024**2


def test_a_tiny_file_claiming_a_trillion_floats_is_refused_from_its_header(tmp_path):
    path = tmp_path / "tiny.npz"
    buffer = io.BytesIO()
    npy.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("theta.npy", buffer.getvalue())
    assert path.stat().st_size < 400
    _load_fast(path, "not a micromlp-tui checkpoint")
    fields = _fields(tmp_path)
    _load_fast(_zip_with_header(tmp_path, "t.npz", fields, "theta", (10**12,)), "holds 1,000,000,000,000 weights")
    _load_fast(_zip_with_header(tmp_path, "l.npz", fields, "losses", (10**12,)), "do not agree")


def test_a_small_compressed_checkpoint_with_fifty_million_losses_is_refused_fast(tmp_path):
    fields = _fields(tmp_path)
    config = json.loads(str(fields["config"]))
    # within the settings' own limits, the header does not agree with the step: refused unread
    config["num_steps"] = 10_000_000
    fields["config"], fields["step"] = np.array(json.dumps(config)), np.array(5_000_000)
    zeros = b"\0" * (8 * 50_000_000 // 64)  # an eighth of the claimed data: deflates to a few hundred KB
    path = _zip_with_header(tmp_path, "fifty.npz", fields, "losses", (50_000_000,), zeros, compress=True)
    assert path.stat().st_size < 1024**2
    _load_fast(path, "step 5000000 and 50,000,000 recorded losses do not agree")
    # a run of 50M steps is over the limit of the settings
    config["num_steps"] = 50_000_000
    fields["config"], fields["step"] = np.array(json.dumps(config)), np.array(50_000_000)
    path = _zip_with_header(tmp_path, "fifty2.npz", fields, "losses", (50_000_000,), zeros, compress=True)
    _load_fast(path, "damaged checkpoint: --steps must be at most 10,000,000")


def test_a_huge_text_field_is_refused_from_its_header(tmp_path):
    fields = _fields(tmp_path)
    path = tmp_path / "text.npz"
    with zipfile.ZipFile(path, "w") as z:
        for key, value in fields.items():
            buffer = io.BytesIO()
            if key == "config":
                npy.write_array_header_1_0(buffer, {"descr": "<U200000000", "fortran_order": False, "shape": ()})
            else:
                npy.write_array(buffer, value)
            z.writestr(f"{key}.npy", buffer.getvalue())
    _load_fast(path, "'config' is 200,000,000 characters long")


def test_a_damaged_setting_in_a_checkpoint_is_one_line_from_the_command(tmp_path):
    import subprocess
    import sys

    path = _with_config(tmp_path, n_embd=16.0)
    out = subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--load", str(path), "--data",
                          str(_docs_file(tmp_path))], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"micromlp-tui: error: {path}: damaged checkpoint: "
                                  "--n-embd must be a whole number > 0, got 16.0")


def _docs_file(tmp_path: Path) -> Path:
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(DOCS) + "\n")
    return path


# --- learning-rate schedules: whatever a run records is read back ------------------------------------
def test_a_learning_rate_changed_at_every_step_is_saved_and_loaded(tmp_path):
    """< and > between every two steps: one change per step, the most a run can record."""
    run = Run.new(Config(num_steps=3000), DOCS)
    gen = run.steps()
    for i in range(2000):
        run.scale_lr(0.5 if i % 2 else 2.0)
        next(gen)
    assert len(run.lr_changes) == 2000  # a new base at every step taken: the most a run can record
    run.save(tmp_path / "c.npz")
    back = Run.resume(tmp_path / "c.npz", DOCS)
    assert back.lr_changes == run.lr_changes and back.step == 2000


def test_the_largest_schedule_is_read_back_beyond_100_000_changes(tmp_path):
    """Issue 16 §4: 100,004 changes were written, and --load called the file damaged. A schedule has
    at most step + 1 points (rising steps from 0 to `step`): that is the bound now, so every schedule
    a run can write is one a run can read."""
    run = Run.new(Config(num_steps=200_000), DOCS)
    step = 100_004
    good = run.to_checkpoint()
    changes = [(s, 0.5 if s % 2 else 1.0) for s in range(step + 1)]
    big = ck.Checkpoint(good.config, good.uchars, good.theta, step, np.full(step, 3.0), good.rng_state, changes)
    ck.save(tmp_path / "big.npz", big)
    back = ck.load(tmp_path / "big.npz")
    assert back.step == step and back.lr_changes == changes


def test_a_schedule_with_more_points_than_steps_is_refused_before_it_is_read(tmp_path):
    run = Run.new(Config(num_steps=100), DOCS)
    gen = run.steps()
    for _ in range(5):
        next(gen)
    run.save(tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as z:
        arrays = dict(z)
    arrays["lr_steps"] = np.arange(7, dtype=np.int64)  # 7 points for 5 steps
    arrays["lr_bases"] = np.ones(7)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(CheckpointError, match="damaged checkpoint: a learning-rate schedule of 7 steps"):
        ck.load(tmp_path / "bad.npz")


def test_a_schedule_load_would_refuse_is_never_written(tmp_path):
    run = Run.new(Config(num_steps=100), DOCS)
    bad = run.to_checkpoint()
    bad.lr_changes = [(0, 1.0), (3, 0.5)]  # a change beyond the step reached (0)
    with pytest.raises(CheckpointError, match="nothing was saved"):
        ck.save(tmp_path / "c.npz", bad)
    assert not (tmp_path / "c.npz").exists() and list(tmp_path.iterdir()) == []
