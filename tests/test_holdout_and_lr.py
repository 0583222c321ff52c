"""Issue 11 in the engine: the held-out set, the learning rate changed mid-run, and checkpoints of both
(including one written by the code before them)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import train_losses
from tutorial_reference import run_tutorial

from engine import CheckpointError, Config, ConfigError, Run, embedded_names_path
from engine import checkpoint as ck
from engine.config import holdout_count
from engine.curve import ExactTrack
from engine.reference import Reference
from engine.train import LrSchedule

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail",
        "emily", "ella", "elizabeth", "camila", "luna", "sofia", "avery", "mila", "aria", "scarlett"]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "v1-checkpoint.npz"  # made by main's code, version 1
FIXTURE_DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]


def _counts(docs: list[str], uchars: list[str]) -> np.ndarray:
    """The slow, obvious pair counts."""
    v = len(uchars) + 1
    c = np.zeros((v, v), dtype=np.int64)
    for d in docs:
        ids = [v - 1] + [uchars.index(ch) for ch in d] + [v - 1]
        for a, b in zip(ids, ids[1:]):
            c[a, b] += 1
    return c


# --- the held-out set ----------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "f", "held"), [
    (100, 0.0, 0), (100, 0.1, 10), (100, 0.29, 29), (10, 0.25, 3), (10, 0.24, 2), (8, 0.01, 1),
    (2, 0.99, 1), (1, 0.5, 0), (32033, 0.1, 3203), (5, 0.999, 4),
])
def test_holdout_count_rounds_to_nearest_keeping_one_of_each(n, f, held):
    assert holdout_count(n, f) == held


def test_the_last_fraction_of_the_shuffled_names_is_held_out_with_all_names_vocabulary():
    cfg = Config(num_steps=30, holdout=0.25)
    run, whole = Run.new(cfg, DOCS), Run.new(Config(num_steps=30), DOCS)
    assert run.heldout is not None and len(run.heldout) == 5 and len(run.dataset) == 15
    assert run.dataset.docs + run.heldout.docs == whole.dataset.docs  # the same shuffle, cut at the end
    assert run.dataset.uchars == run.heldout.uchars == whole.dataset.uchars  # vocabulary from all names
    assert np.array_equal(run.model.theta, whole.model.theta)  # the same initial weights
    assert np.array_equal(run.dataset.counts, _counts(run.dataset.docs, run.dataset.uchars))
    assert np.array_equal(run.heldout.counts, _counts(run.heldout.docs, run.dataset.uchars))
    for i in range(len(run.heldout)):
        assert run.heldout.decode(run.heldout.doc_tokens(i).tolist()) == run.heldout.docs[i]
    assert [rec.doc for rec in run.steps()] == [run.dataset.docs[s % 15] for s in range(30)]
    assert run.num_docs == 20 and not any(run.dataset.is_training_name(d) for d in run.heldout.docs)


def test_heldout_loss_and_floor_are_the_held_out_datas_own():
    run = Run.new(Config(num_steps=40, holdout=0.3), DOCS)
    train_losses(run)
    ref = Reference(_counts(run.heldout.docs, run.dataset.uchars))
    assert run.heldout_loss() == pytest.approx(ref.dataset_loss(run.model), abs=1e-12)
    assert run.heldout_floor == pytest.approx(ref.floor, abs=1e-12)
    assert run.losses_now() == (run.dataset_loss(), run.heldout_loss())
    # the slow, obvious held-out loss: the mean over every held-out position
    logits = run.model.logits_all()
    logp = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - logits.max(1, keepdims=True)
    total = [-logp[a, b] for d in run.heldout.docs for a, b in zip(run.heldout.encode(d), run.heldout.encode(d)[1:])]
    assert run.heldout_loss() == pytest.approx(sum(total) / len(total), abs=1e-12)


def test_without_a_holdout_there_is_no_heldout_figure():
    run = Run.new(Config(num_steps=5), DOCS)
    assert run.heldout is None and run.heldout_reference is None
    assert math.isnan(run.heldout_loss()) and math.isnan(run.heldout_floor)
    track = run.track_exact()
    train_losses(run)
    assert track.heldout_values is None and math.isnan(track.heldout_last)
    assert np.isnan(track.heldout_at(np.array([1, 5]))).all() and track.last == run.dataset_loss()


def test_the_track_records_the_held_out_loss_beside_the_training_loss():
    run = Run.new(Config(num_steps=50, holdout=0.2), DOCS)
    track = run.track_exact(points=10)
    seen = {}
    for rec in run.steps():
        if track.due(rec.step + 1):
            seen[rec.step + 1] = (run.dataset_loss(), run.heldout_loss())
    n = len(track)
    assert list(track.steps[:n]) == [0, *seen]
    assert [(a, b) for a, b in zip(track.values[1:n], track.heldout_values[1:n])] == list(seen.values())
    assert track.last == seen[50][0] and track.heldout_last == seen[50][1]
    assert track.heldout_at(np.array([7, 50]))[1] == seen[50][1]
    assert track.at(np.array([5]))[0] == seen[5][0]


def test_holdout_zero_is_tutorial_exact_and_bad_fractions_are_refused():
    path = embedded_names_path()
    ref_losses, ref_samples = run_tutorial(path.read_text(encoding="utf-8"), num_steps=200)
    run = Run.new(Config(num_steps=200, holdout=0.0), path)
    assert np.abs(np.array(train_losses(run)) - np.array(ref_losses)).max() <= 1e-9 and run.sample() == ref_samples
    for bad in (-0.1, 1.0, 1.5, math.nan, math.inf, True, "0.1", None):
        with pytest.raises(ConfigError, match="--holdout must be a number from 0 up to"):
            Config(holdout=bad).validate()


def test_reseeded_and_fresh_runs_keep_the_held_out_split():
    run = Run.new(Config(num_steps=20, holdout=0.25, seed=3), DOCS)
    again = run.fresh()
    assert again.heldout.docs == run.heldout.docs and np.array_equal(again.model.theta, run.model.theta)
    other = run.reseeded(9)
    assert other.dataset.docs + other.heldout.docs == Run.new(Config(seed=9), DOCS).dataset.docs
    assert np.array_equal(other.model.theta, Run.new(Config(seed=9, holdout=0.25), DOCS).model.theta)


# --- the learning rate changed mid-run -----------------------------------------------------------
def _slow_schedule_run(docs, cfg, changes_at: dict[int, float]) -> list[tuple[float, float]]:
    """The obvious loop: step t uses base_t * (1 - t / T), base_t the last base set at or before t."""
    run = Run.new(cfg, docs)
    out, base = [], cfg.learning_rate
    for t in range(cfg.num_steps):
        base = changes_at.get(t, base)
        lr = base * (1 - t / cfg.num_steps)
        loss = run.model.sgd_step(run.dataset.doc_tokens(t % len(run.dataset)), lr)
        out.append((loss, lr))
    return out


def test_a_new_base_takes_effect_from_the_next_step_and_the_decay_continues():
    cfg = Config(num_steps=60, learning_rate=0.8)
    run = Run.new(cfg, DOCS)
    got = []
    for rec in run.steps():
        got.append((rec.loss, rec.lr))
        if rec.step == 19:
            assert run.scale_lr(0.5) == 0.4  # steps 20.. use base 0.4
        if rec.step == 39:
            run.set_lr_base(1.6)
    assert got == _slow_schedule_run(DOCS, cfg, {20: 0.4, 40: 1.6})
    assert run.lr_changes == [(0, 0.8), (20, 0.4), (40, 1.6)]
    assert run.schedule.base_at(19) == 0.8 and run.schedule.base_at(20) == 0.4 and run.schedule.base_at(59) == 1.6


def test_changes_while_paused_show_at_the_next_step_and_twice_counts_once():
    run = Run.new(Config(num_steps=30), DOCS)
    train_losses(run, 10)
    run.scale_lr(0.5)
    assert run.lr_changes == [(0, 1.0), (10, 0.5)]  # not used yet: shown at the next step
    run.scale_lr(2.0)  # back to 1.0 before any step: no change at all
    assert run.lr_changes == [(0, 1.0)]
    run.set_lr_base(0.3)
    run.set_lr_base(0.2)
    train_losses(run, 1)
    assert run.lr_changes == [(0, 1.0), (10, 0.2)]
    with pytest.raises(ConfigError, match="--lr must be a finite number > 0"):
        run.set_lr_base(0.0)
    with pytest.raises(ConfigError, match="--lr must be"):
        run.scale_lr(math.inf)
    assert run.lr_base == 0.2


def test_a_run_whose_rate_never_changes_is_tutorial_exact():
    path = embedded_names_path()
    ref_losses, _ = run_tutorial(path.read_text(encoding="utf-8"), num_steps=150)
    run = Run.new(Config(num_steps=150), path)
    records = list(run.steps())
    assert [r.loss for r in records] == pytest.approx(ref_losses, abs=1e-9)
    assert [r.lr for r in records] == [1.0 * (1 - s / 150) for s in range(150)]
    assert run.lr_changes == [(0, 1.0)]


def test_lr_schedule_object_alone():
    s = LrSchedule(1.0)
    s.note(5, 0.5)
    s.note(5, 0.25)  # twice at one step: the last one
    s.note(9, 2.0)
    assert s.changes == [(0, 1.0), (5, 0.25), (9, 2.0)] and LrSchedule.of(s.changes).base == 2.0


# --- checkpoints -------------------------------------------------------------------------------------
def test_a_resumed_run_continues_the_schedule_and_equals_an_uninterrupted_one(tmp_path):
    cfg = Config(num_steps=50, learning_rate=0.9, holdout=0.2)
    full = Run.new(cfg, DOCS)
    expected = []
    for rec in full.steps():
        expected.append((rec.loss, rec.lr))
        if rec.step == 9:
            full.scale_lr(0.5)
        if rec.step == 29:
            full.scale_lr(3.0)
    first = Run.new(cfg, DOCS)
    head = []
    for rec in first.steps():
        head.append((rec.loss, rec.lr))
        if rec.step == 9:
            first.scale_lr(0.5)
        if rec.step == 29:
            first.scale_lr(3.0)  # made while "paused" after step 30: saved as a change at step 30
            break
    first.save(tmp_path / "c.npz")
    loaded = ck.load(tmp_path / "c.npz")
    assert loaded.lr_changes == [(0, 0.9), (10, 0.45), (30, 0.45 * 3.0)] and loaded.config.holdout == 0.2
    resumed = Run.resume(tmp_path / "c.npz", DOCS)
    assert resumed.heldout.docs == full.heldout.docs and resumed.lr_base == 0.45 * 3.0
    tail = [(rec.loss, rec.lr) for rec in resumed.steps()]
    assert head + tail == expected
    assert resumed.lr_changes == full.lr_changes == [(0, 0.9), (10, 0.45), (30, 0.45 * 3.0)]
    assert np.array_equal(resumed.model.theta, full.model.theta)


def test_a_checkpoint_written_by_the_old_code_still_loads_and_resumes():
    """tests/fixtures/v1-checkpoint.npz was written by main's code before this change (format version 1:
    no schedule, no holdout setting): Config(n_embd=2, hidden=3, num_steps=12, learning_rate=0.7, seed=5),
    5 steps on FIXTURE_DOCS."""
    with np.load(FIXTURE) as f:
        assert int(f["version"]) == 1 and "lr_steps" not in f.files
        assert "holdout" not in json.loads(str(f["config"]))
    old = ck.load(FIXTURE)
    assert old.config == Config(n_embd=2, hidden=3, num_steps=12, learning_rate=0.7, seed=5)
    assert old.step == 5 and old.lr_changes == [(0, 0.7)]
    resumed = Run.resume(FIXTURE, FIXTURE_DOCS)
    tail = [rec.lr for rec in resumed.steps()]
    full = Run.new(old.config, FIXTURE_DOCS)
    losses = train_losses(full)
    assert resumed.history.losses.tolist() == losses and tail == [0.7 * (1 - s / 12) for s in range(5, 12)]


def _old_format(tmp_path: Path) -> dict[str, np.ndarray]:
    """A version-1 file's dict layout, made here: this version's fields minus the schedule and holdout."""
    run = Run.new(Config(num_steps=20), DOCS)
    train_losses(run, 3)
    with np.load(run.save(tmp_path / "new.npz")) as f:
        fields = {k: f[k] for k in f.files if k not in ("lr_steps", "lr_bases")}
    config = json.loads(str(fields["config"]))
    del config["holdout"]
    fields["config"], fields["version"] = np.array(json.dumps(config)), np.array(1)
    return fields


def test_the_old_dict_layout_loads_and_the_new_one_requires_its_fields(tmp_path):
    fields = _old_format(tmp_path)
    np.savez(tmp_path / "v1.npz", **fields)
    assert ck.load(tmp_path / "v1.npz").lr_changes == [(0, 1.0)]
    np.savez(tmp_path / "v2-missing.npz", **{**fields, "version": np.array(2)})
    with pytest.raises(CheckpointError, match="no 'lr_steps'"):
        ck.load(tmp_path / "v2-missing.npz")
    np.savez(tmp_path / "v2-half.npz", **{**fields, "version": np.array(2), "lr_steps": np.array([0])})
    with pytest.raises(CheckpointError, match="no 'lr_bases'"):
        ck.load(tmp_path / "v2-half.npz")
    np.savez(tmp_path / "v4.npz", **{**fields, "version": np.array(4)})
    with pytest.raises(CheckpointError, match="checkpoint format version 4, expected 1 to 3"):
        ck.load(tmp_path / "v4.npz")


@pytest.mark.parametrize(("steps", "bases", "message"), [
    ([], [], "schedule of 0 steps"),
    ([0, 5], [1.0], "schedule of 2 steps and 1 bases"),
    ([1], [1.0], "do not rise from 0"),
    ([0, 2, 2], [1.0, 0.5, 0.3], "do not rise from 0"),
    ([0, 4], [1.0, 0.5], "to at most 3"),
    ([0, 2], [1.0, math.nan], "--lr must be a finite number > 0"),
    ([0, 2], [1.0, -0.5], "--lr must be a finite number > 0"),
])
def test_a_damaged_schedule_is_refused_in_one_line(tmp_path, steps, bases, message):
    run = Run.new(Config(num_steps=20), DOCS)
    train_losses(run, 3)
    with np.load(run.save(tmp_path / "c.npz")) as f:
        fields = {k: f[k] for k in f.files}
    fields["lr_steps"], fields["lr_bases"] = np.array(steps, dtype=np.int64), np.array(bases, dtype=np.float64)
    np.savez(tmp_path / "bad.npz", **fields)
    with pytest.raises(CheckpointError) as info:
        ck.load(tmp_path / "bad.npz")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_holdout_is_checked_at_load_by_the_flags_rule(tmp_path):
    run = Run.new(Config(num_steps=20), DOCS)
    with np.load(run.save(tmp_path / "c.npz")) as f:
        fields = {k: f[k] for k in f.files}
    config = json.loads(str(fields["config"]))
    config["holdout"] = 1.0
    fields["config"] = np.array(json.dumps(config))
    np.savez(tmp_path / "bad.npz", **fields)
    with pytest.raises(CheckpointError, match="damaged checkpoint: --holdout must be a number from 0"):
        ck.load(tmp_path / "bad.npz")


def test_exact_track_heldout_series_is_written_before_the_count():
    t = ExactTrack(100, points=10, heldout=True)
    t.record(0, 3.0, 3.1)
    t.record(0, 9.0, 9.0)  # already measured: ignored
    t.record(10, 2.5, 2.7)
    assert len(t) == 2 and t.heldout_at(np.array([0, 5, 10, 99])).tolist() == [3.1, 3.1, 2.7, 2.7]


def test_curve_buckets_hold_the_held_out_loss_as_a_slow_version_does():
    from engine.curve import CurveBuckets, bucket_edges

    run = Run.new(Config(num_steps=333, holdout=0.2), DOCS)
    track = run.track_exact(points=50)
    buckets = CurveBuckets(333, 40)
    for rec in run.steps():
        if rec.step % 11 == 0 or rec.step == 332:
            buckets.update(run.history, track)
            taken, k = rec.step + 1, buckets.current + 1
            measured = list(zip(track.steps[: len(track)].tolist(), track.heldout_values[: len(track)].tolist()))
            edges = bucket_edges(333, 40)
            slow = []
            for b in range(k):
                end = min(int(edges[b + 1]), taken)
                if end <= edges[b]:
                    slow.append(slow[-1] if slow else math.nan)  # an empty bucket shows the one before
                    continue
                slow.append([v for s, v in measured if s <= end][-1])
            np.testing.assert_array_equal(buckets.heldout_line(), np.array(slow))
    without = CurveBuckets(10, 4)
    plain = Run.new(Config(num_steps=10), DOCS)
    plain_track = plain.track_exact()
    list(plain.steps())
    without.update(plain.history, plain_track)
    assert np.isnan(without.heldout_line()).all() and len(without.heldout_line()) == 4
