"""engine/runs.py: kept runs' summaries and curves, the registry, and their labels, against slow,
obvious versions."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine import Config, Run
from engine.history import LossHistory
from engine.runs import (
    CURVE_POINTS,
    EMBEDDED,
    MAX_RUNS,
    EmaGrid,
    RunRegistry,
    RunSummary,
    data_name,
    describe_difference,
    ema_curve,
)

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]
ROOT = Path(__file__).resolve().parent.parent


def _slow_ema_samples(ema: list[float], num_steps: int, points: int) -> list[tuple[int, float]]:
    every = max(1, math.ceil(num_steps / points))
    taken = len(ema)
    return [(s, ema[s - 1]) for s in range(1, taken + 1) if s % every == 0 or s == taken]


def _slow_latest(samples: list[tuple[int, float]], s: int, taken: int) -> float:
    if s > taken:
        return math.nan
    before = [v for at, v in samples if at <= s]
    return before[-1] if before else math.nan


@pytest.mark.parametrize(("num_steps", "taken", "points"), [
    (1000, 1000, 512), (1000, 337, 512), (100, 100, 512), (7, 3, 512), (20000, 20000, 512), (5000, 1, 8),
    (3, 0, 512), (10_000_000, 2048, 512),
])
def test_ema_curve_keeps_the_fixed_steps_and_the_last(num_steps, taken, points):
    rng = random.Random(taken)
    history = LossHistory([rng.uniform(1, 4) for _ in range(taken)])
    track = ema_curve(history.ema, num_steps, points)
    samples = _slow_ema_samples(history.ema.tolist(), num_steps, points)
    n = len(track)
    assert list(zip(track.steps[:n].tolist(), track.values[:n].tolist())) == samples
    assert len(track.steps) <= points + 2  # bounded by the grid, whatever the run's length


@pytest.mark.parametrize(("num_steps", "points"), [(1000, 512), (5000, 8), (300, 512), (70_000, 64)])
def test_an_ema_grid_read_as_a_run_grows_gives_the_curve_read_whole_each_time(num_steps, points):
    """EmaGrid keeps the points it read; each call equals the slow version's samples of the line as it is
    then, also after a new smoothing weight (a new line: read again from the start) and across a chunk."""
    rng = random.Random(num_steps)
    history, grid = LossHistory(), EmaGrid(num_steps, points)
    calls = 0
    while len(history) < num_steps:
        for _ in range(rng.choice([1, 3, 7, num_steps // 20, num_steps // 7])):
            if len(history) < num_steps:
                history.append(rng.uniform(1, 4))
        if rng.random() < 0.1:
            history.set_weight(rng.choice([0.0, 0.5, 0.9, 0.98]))
        track = grid.curve(history.ema)
        n = len(track)
        samples = _slow_ema_samples(history.ema.tolist(), num_steps, points)
        assert list(zip(track.steps[:n].tolist(), track.values[:n].tolist())) == samples
        calls += 1
    assert calls > 5


def test_a_summary_holds_the_runs_figures_and_curves():
    run = Run.new(Config(num_steps=300, holdout=0.2), DOCS)
    run.track_exact(points=64)
    for rec in run.steps():
        if rec.step == 99:
            run.scale_lr(0.5)
        if rec.step == 249:
            break
    s = RunSummary.of(run, None, label="reset", steps_per_s=1234.5, points=32)
    assert (s.id, s.label, s.data, s.steps_taken, s.num_steps, s.steps_per_s) == (0, "reset", EMBEDDED, 250, 300,
                                                                                     1234.5)
    assert s.config == run.config and s.lr_changes == [(0, 1.0), (100, 0.5)] and s.diverged_at is None
    assert s.smoothed == run.history.last_ema and s.whole_data == run.dataset_loss()
    assert s.heldout == run.heldout_loss() and s.floor == run.reference.floor and s.heldout_floor == run.heldout_floor
    grid = np.arange(0, 320, 7)
    ema, exact, held = s.curves.lines(grid)
    samples = _slow_ema_samples(run.history.ema.tolist(), 300, 32)
    track = run.exact_track
    exact_samples = list(zip(track.steps[: len(track)].tolist(), track.values[: len(track)].tolist()))
    held_samples = list(zip(track.steps[: len(track)].tolist(), track.heldout_values[: len(track)].tolist()))
    for i, g in enumerate(grid.tolist()):
        np.testing.assert_equal(ema[i], _slow_latest(samples, g, 250))
        np.testing.assert_equal(exact[i], _slow_latest(exact_samples, g, 250))
        np.testing.assert_equal(held[i], _slow_latest(held_samples, g, 250))
    # the run goes on; the summary does not change
    before = s.curves.exact.values.copy()
    list(run.steps())
    assert np.array_equal(before, s.curves.exact.values) and s.steps_taken == 250


def test_a_summary_of_an_untracked_run_has_its_final_figures():
    run = Run.new(Config(num_steps=40), DOCS)
    list(run.steps())
    s = RunSummary.of(run, "other.txt")
    ema, exact, held = s.curves.lines(np.array([0, 39, 40, 41]))
    assert np.isnan(exact[:2]).all() and exact[2] == s.whole_data and np.isnan(exact[3]) and np.isnan(held).all()
    assert ema[2] == s.smoothed and math.isnan(s.heldout) and s.data == "other.txt"


def test_memory_per_kept_run_is_bounded_whatever_its_length():
    run = Run.new(Config(num_steps=20_000, n_embd=2, hidden=2), DOCS)
    run.track_exact()
    list(run.steps())
    s = RunSummary.of(run)
    assert s.curves.nbytes < 64 * 1024
    assert len(s.curves.ema) <= CURVE_POINTS + 1


def test_registry_against_a_plain_list():
    reg, model, next_id = RunRegistry(), [], 1  # model: [id, hidden] pairs
    run = Run.new(Config(num_steps=5), DOCS)
    proto = RunSummary.of(run)
    rng = random.Random(7)
    for _ in range(400):
        op = rng.choice(["add", "add", "remove", "hide", "show", "toggle"])
        target = rng.choice([m[0] for m in model] + [999])
        if op == "add":
            kept = reg.add(proto)
            assert kept.id == next_id and proto.id == 0
            model = ([*model, [next_id, False]])[-MAX_RUNS:]
            next_id += 1
        elif op == "remove":
            assert reg.remove(target) == any(m[0] == target for m in model)
            model = [m for m in model if m[0] != target]
        elif op == "toggle":
            hit = [m for m in model if m[0] == target]
            if hit:
                hit[0][1] = not hit[0][1]
            assert reg.toggle(target) == (hit[0][1] if hit else False)
        else:
            hit = [m for m in model if m[0] == target]
            if hit:
                hit[0][1] = op == "hide"
            assert getattr(reg, op)(target) == bool(hit)
        assert [(r.id, r.hidden) for r in reg.list()] == [tuple(m) for m in model]
        assert [r.id for r in reg.visible()] == [m[0] for m in model if not m[1]]
        assert len(reg) == len(model) <= MAX_RUNS
    with pytest.raises(ValueError):
        RunRegistry(0)


def test_registry_keep_and_labels():
    reg = RunRegistry(limit=3)
    base = Config(num_steps=10)
    for cfg in (base, base.with_(learning_rate=0.5), base.with_(seed=7, n_embd=32)):
        run = Run.new(cfg, DOCS)
        list(run.steps())
        reg.keep(run, "names.txt")
    assert reg.labels(base, "names.txt") == {1: "same settings", 2: "lr 0.5", 3: "n_embd 32, seed 7"}
    assert 2 in reg and 9 not in reg and reg.get(2).config.learning_rate == 0.5


def _slow_difference(a: Config, b: Config, da: str, db: str) -> str:
    """Every training field that differs, one at a time, in the documented order and words; the sampling
    settings (temperature, samples, max_len) never: they do not change the curve a label names."""
    words = {"learning_rate": "lr", "num_steps": "steps", "n_embd": "n_embd", "hidden": "hidden", "seed": "seed",
             "holdout": "holdout", "init_std": "init_std", "temperature": "temperature", "num_samples": "samples",
             "max_len": "max_len"}
    out = []
    for key in ("learning_rate", "num_steps", "n_embd", "hidden", "seed", "holdout", "init_std"):
        x, y = (a.hidden_size, b.hidden_size) if key == "hidden" else (getattr(a, key), getattr(b, key))
        if key == "hidden" and a.hidden is None and b.hidden is None:
            continue  # both follow n_embd
        if x != y:
            out.append(f"{words[key]} {y}")
    if da != db:
        out.append(f"data {Path(db).name if db != EMBEDDED else db}")
    return ", ".join(out) or "same settings"


def test_describe_difference_examples():
    c = Config()
    assert describe_difference(c, c) == "same settings"
    assert describe_difference(c, c.with_(learning_rate=0.5)) == "lr 0.5"
    assert describe_difference(c, c.with_(seed=7)) == "seed 7"
    assert describe_difference(c, c.with_(n_embd=32)) == "n_embd 32"  # the hidden width follows it
    assert describe_difference(c, c.with_(n_embd=32, hidden=64)) == "n_embd 32"  # same hidden width
    assert describe_difference(c, c.with_(n_embd=32, hidden=100)) == "n_embd 32, hidden 100"
    assert describe_difference(c.with_(hidden=100), c) == "hidden 64"
    assert describe_difference(c, c.with_(hidden=64)) == "same settings"  # 4 x 16 is 64 already
    assert describe_difference(c, c.with_(holdout=0.1)) == "holdout 0.1"
    assert describe_difference(c, c, "names.txt", "/tmp/other.txt") == "data other.txt"
    assert describe_difference(c, c.with_(num_steps=2000)) == "steps 2000"
    assert describe_difference(c, c.with_(learning_rate=0.5, num_steps=2000, seed=3), EMBEDDED, "x/o.txt") == \
        "lr 0.5, steps 2000, seed 3, data o.txt"
    # QA 15: a schedule and a gradient in the words of the run line and a race's labels
    assert describe_difference(c, c.with_(schedule="cosine", gradient="data")) == \
        "cosine schedule, whole-data gradient"
    assert describe_difference(c.with_(gradient="data"), c) == "one-name gradient"


def test_describe_difference_against_the_slow_version():
    rng = random.Random(3)
    choices = {"learning_rate": [1.0, 0.5, 0.25], "num_steps": [1000, 2000], "n_embd": [16, 32, 8],
               "hidden": [None, 64, 100], "seed": [42, 7], "holdout": [0.0, 0.1], "init_std": [0.08, 0.1],
               "temperature": [0.5, 0.8], "num_samples": [20, 5], "max_len": [16, 20]}
    datas = [EMBEDDED, "a/names.txt", "b/other.txt"]
    for _ in range(500):
        a = Config(**{k: rng.choice(v) for k, v in choices.items()})
        b = Config(**{k: rng.choice(v) for k, v in choices.items()})
        da, db = rng.choice(datas), rng.choice(datas)
        assert describe_difference(a, b, da, db) == _slow_difference(a, b, da, db)


def test_data_name():
    assert data_name(None) == EMBEDDED and data_name(Path("a/b.txt")) == "a/b.txt" and data_name(["x", "y"]) == \
        "a list of 2 names"


def test_runs_module_is_numpy_only():
    code = "import sys, engine.runs; assert 'textual' not in sys.modules, 'textual imported'"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr


def _slow_ema(losses: list[float], weight: float) -> list[float]:
    """The debiased moving average, one step at a time (engine.history's definition)."""
    s, out = 0.0, []
    for i, x in enumerate(losses, 1):
        s = weight * s + (1 - weight) * x
        out.append(s / (1 - weight**i) if weight > 0 else x)
    return out


@pytest.mark.parametrize("weight", [0.0, 0.9, 0.999])
def test_a_kept_run_at_another_smoothing_weight_is_its_losses_smoothed_at_it(weight):
    """QA: after `}` the kept runs kept the weight they had (a run kept at 0.999 drawn beside the live one at
    0.98 looked much worse than it was). `at_weight` smooths the kept losses again, on the same grid."""
    run = Run.new(Config(num_steps=300), DOCS)
    run.track_exact()
    list(run.steps())
    kept = RunSummary.of(run, points=64)
    again = kept.at_weight(weight)
    slow = _slow_ema(run.history.losses.tolist(), weight)
    n = len(again.curves.ema)
    assert again.weight == weight and kept.weight == run.history.weight  # the original is unchanged
    assert list(again.curves.ema.steps[:n]) == list(kept.curves.ema.steps[:n])
    assert np.allclose(again.curves.ema.values[:n], [slow[s - 1] for s in again.curves.ema.steps[:n]],
                       rtol=1e-12, atol=0)
    assert again.smoothed == pytest.approx(slow[-1], rel=1e-12)
    assert again.curves.exact is kept.curves.exact and again.whole_data == kept.whole_data


def test_a_kept_run_without_its_losses_keeps_its_weight_and_its_label_says_so():
    run = Run.new(Config(num_steps=50), DOCS)
    list(run.steps())
    reg = RunRegistry()
    long_run = reg.add(replace(RunSummary.of(run), losses=None))  # as one of over LOSSES_KEPT_UP_TO steps
    short = reg.add(RunSummary.of(run))
    reg.resmooth(0.9)
    by_id = {r.id: r for r in reg.list()}
    assert by_id[long_run.id].weight == 0.98 and by_id[short.id].weight == 0.9
    labels = reg.labels(Config(num_steps=50, learning_rate=0.5))
    assert labels[long_run.id].endswith(" (avg 0.98)") and "(avg" not in labels[short.id]


def test_a_kept_run_whose_rate_was_changed_mid_run_is_labelled_by_its_first_and_last_rate():
    """QA: a run doubled to lr 8 with > three times, which then diverged, was labelled `#1 lr 1.0`."""
    reg = RunRegistry()
    for start, changes in ((1.0, [2.0, 4.0, 8.0]), (0.5, [0.25]), (1.0, [])):
        run = Run.new(Config(num_steps=40, learning_rate=start), DOCS)
        steps = run.steps()
        for base in changes:
            for _ in range(5):
                next(steps)
            run.set_lr_base(base)
        list(steps)
        reg.keep(run)
    labels = reg.labels(Config(num_steps=40, learning_rate=1.0, seed=3))
    assert labels == {1: "lr 1.0→8.0, seed 42", 2: "lr 0.5→0.25, seed 42", 3: "seed 42"}
    assert reg.labels(Config(num_steps=40, learning_rate=1.0))[1] == "lr 1.0→8.0"
