"""Top-k sampling (issue 18): the probabilities and the names, against slow obvious versions; top_k 0
changes nothing; the flag, the config and checkpoints."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Config, Run, checkpoint
from engine.errors import ConfigError
from engine.sampling import next_token_probs, sample_names, sample_names_from_grid, softmax_rows, uniform_grid

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "zoe"]


def _trained(steps: int = 300, seed: int = 1, docs: list[str] | None = DOCS) -> Run:
    run = Run.new(Config(num_steps=steps, seed=seed), docs)  # docs None: the embedded names (27 tokens)
    for _ in run.steps():
        pass
    return run


def slow_top_k_probs(logits: list[float], temperature: float, k: int) -> list[float]:
    """By hand: divide by T, keep the values at least the k-th largest (all when k is 0 or >= V),
    softmax over those, 0 for the rest."""
    scaled = [v / temperature for v in logits]
    if 0 < k < len(scaled):
        kth = sorted(scaled, reverse=True)[k - 1]
        kept = [v >= kth for v in scaled]
    else:
        kept = [True] * len(scaled)
    top = max(v for v, keep in zip(scaled, kept) if keep)
    e = [math.exp(v - top) if keep else 0.0 for v, keep in zip(scaled, kept)]
    total = sum(e)
    return [x / total for x in e]


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 10, 26, 27, 100])
@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
def test_the_probabilities_match_the_slow_version(k, temperature):
    run = _trained()
    logits = run.model.logits_all()
    table = softmax_rows(logits, temperature, k)
    v = logits.shape[1]
    for row in range(v):
        slow = slow_top_k_probs(logits[row].tolist(), temperature, k)
        assert table[row] == pytest.approx(slow, abs=1e-12)
        assert next_token_probs(run.model, row, temperature, k) == pytest.approx(slow, abs=1e-12)
        kept = int(np.count_nonzero(table[row]))
        assert kept == (v if k == 0 or k >= v else k)  # no ties among trained logits: exactly k kept


def test_ties_with_the_kth_value_are_kept_as_makemore_does():
    logits = np.array([[1.0, 3.0, 2.0, 2.0, 0.5]])
    probs = softmax_rows(logits, 1.0, 2)[0]
    assert (probs > 0).tolist() == [False, True, True, True, False]
    assert probs.tolist() == pytest.approx(slow_top_k_probs(logits[0].tolist(), 1.0, 2))


def _slow_names(run: Run, temperature: float, k: int, count: int, rng: random.Random) -> list[str]:
    """The tutorial's inference loop, with random.choices over the slow top-k probabilities."""
    logits = run.model.logits_all()
    ds = run.dataset
    names = []
    for _ in range(count):
        token, out = ds.bos, []
        for _ in range(16):
            probs = slow_top_k_probs(logits[token].tolist(), temperature, k)
            token = rng.choices(range(len(probs)), weights=probs)[0]
            if token == ds.bos:
                break
            out.append(token)
        names.append(ds.decode(out))
    return names


@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_sampled_names_match_random_choices_over_the_slow_probabilities(k):
    run = _trained()
    names = sample_names(run.model, run.dataset, 0.9, 200, random.Random(5), 16, top_k=k)
    assert names == _slow_names(run, 0.9, k, 200, random.Random(5))
    logits = run.model.logits_all()
    for name in names:  # every drawn token is among its context's k likeliest
        tokens = run.dataset.encode(name)  # BOS, the letters, BOS (not drawn when cut at 16 letters)
        tokens = tokens[:-1] if len(name) == 16 else tokens
        for a, b in zip(tokens, tokens[1:]):
            assert (logits[a] > logits[a][b]).sum() < k


def test_top_k_1_is_greedy():
    run = _trained()
    grid = uniform_grid(3, 30, 16)
    names = sample_names_from_grid(run.model, run.dataset, 1.0, grid, top_k=1)
    assert len(set(names)) == 1  # one likeliest path, whatever the draws
    logits = run.model.logits_all()
    token, out = run.dataset.bos, []
    for _ in range(16):
        token = int(np.argmax(logits[token]))
        if token == run.dataset.bos:
            break
        out.append(token)
    assert names[0] == run.dataset.decode(out)


def test_top_k_0_and_k_at_least_the_vocabulary_change_nothing():
    run = _trained()
    grid = uniform_grid(7, 50, 16)
    plain = sample_names_from_grid(run.model, run.dataset, 0.5, grid)
    assert sample_names_from_grid(run.model, run.dataset, 0.5, grid, top_k=0) == plain
    assert sample_names_from_grid(run.model, run.dataset, 0.5, grid, top_k=27) == plain
    assert np.array_equal(softmax_rows(run.model.logits_all(), 0.5, 0), softmax_rows(run.model.logits_all(), 0.5))
    state = run.rng.getstate()
    a = run.sample()
    run.rng.setstate(state)
    b = sample_names(run.model, run.dataset, 0.5, 20, run.rng, 16)  # the tutorial's own call
    assert a == b


def test_the_run_samples_with_its_configs_top_k():
    run = Run.new(Config(num_steps=300, seed=1, top_k=2), DOCS)
    for _ in run.steps():
        pass
    state = run.rng.getstate()
    names = run.sample(temperature=0.9, count=50)
    rng = random.Random()
    rng.setstate(state)
    assert names == _slow_names(run, 0.9, 2, 50, rng)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_config_refuses_a_bad_top_k(bad):
    with pytest.raises(ConfigError, match="--top-k must be a whole number >= 0"):
        Config(top_k=bad).validate()


def test_checkpoints_keep_top_k_and_older_files_load_with_0(tmp_path):
    run = Run.new(Config(num_steps=20, top_k=4), DOCS)
    for _ in run.steps():
        pass
    run.save(tmp_path / "k.npz")
    assert checkpoint.load(tmp_path / "k.npz").config.top_k == 4
    old = checkpoint.load(ROOT / "tests" / "fixtures" / "v1-checkpoint.npz")
    assert old.config.top_k == 0


def test_a_version_2_checkpoint_loads_with_top_k_0(tmp_path, monkeypatch):
    """A file as the program wrote it before top_k: format version 2, settings without top_k."""
    import dataclasses
    import json

    run = Run.new(Config(num_steps=20), DOCS)
    for _ in run.steps():
        pass
    fields = {k: v for k, v in dataclasses.asdict(run.config).items() if k != "top_k"}
    real_asdict = dataclasses.asdict
    monkeypatch.setattr(checkpoint, "VERSION", 2)
    monkeypatch.setattr(checkpoint.dataclasses, "asdict", lambda c: fields if isinstance(c, Config) else real_asdict(c))
    run.save(tmp_path / "v2.npz")
    monkeypatch.undo()
    with np.load(tmp_path / "v2.npz") as z:
        assert int(z["version"]) == 2 and "top_k" not in json.loads(str(z["config"]))
    assert checkpoint.load(tmp_path / "v2.npz").config.top_k == 0


def test_the_flag_samples_with_top_k_and_refuses_a_bad_value():
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--steps", "200", *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    out = cli("--top-k", "1", "--samples", "5")
    assert out.returncode == 0, out.stderr
    samples = [line.split(": ", 1)[1] for line in out.stdout.splitlines() if line.startswith("sample ")]
    assert len(samples) == 5 and len(set(samples)) == 1  # k = 1: the likeliest path every time
    bad = cli("--top-k", "-2")
    assert bad.returncode == 2
    assert bad.stderr == "micromlp-tui: error: --top-k must be a whole number >= 0 (0: off), got -2\n"


# --- the dashboard ----------------------------------------------------------------------------------
def _chart_text(app) -> list[str]:
    from tui.widgets.distribution import DistributionChart

    chart = app.query_one(DistributionChart)
    return ["".join(seg.text for seg in strip) for strip in chart.build_strips(110, 10)]


async def test_t_and_T_step_top_k_and_the_chart_marks_the_cut_tokens():
    from helpers import until

    from tui.app import DashboardApp
    from tui.widgets.top_k_control import TopKControl

    run = _trained(docs=None)
    app = DashboardApp(run)
    async with app.run_test(size=(120, 40)) as pilot:
        control = app.query_one(TopKControl)
        assert str(control.content) == "top-k [◀ off ▶]" and "×" not in "".join(_chart_text(app))
        await pilot.press("t")  # fewer tokens: off -> 20 -> 10 ...
        await until(pilot, lambda: app.top_k == 20)
        await pilot.press("t", "t")
        await until(pilot, lambda: app.top_k == 5)
        assert str(control.content) == "top-k [◀   5 ▶]"
        assert app.note == "top-k 5: names are drawn from the 5 likeliest next tokens only"
        text = _chart_text(app)
        assert "× cut by top-k (5 kept)" in text[0]
        logits = app.view_model.logits_all()[app.token]
        bars = text[-2]  # the bars' bottom row: a × in each cut token's model column
        assert bars.count("×") == len(logits) - 5
        # the run is over: its final samples are drawn again with top-k (the same random numbers)
        await until(pilot, lambda: any(line.startswith("finished") and "top-k 5" in line
                                       for line in app.names.text_lines))
        await pilot.press("T", "T", "T")
        await until(pilot, lambda: app.top_k == 0)
        assert str(control.content) == "top-k [◀ off ▶]" and "×" not in "".join(_chart_text(app))
        await pilot.click(TopKControl, offset=(8, 0))  # the ◀ button: fewer tokens
        await until(pilot, lambda: app.top_k == 20)


async def test_the_names_on_screen_are_drawn_with_top_k():
    from helpers import until

    from tui.app import DashboardApp

    run = _trained(docs=None)
    app = DashboardApp(run)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(6):
            await pilot.press("t")
        await until(pilot, lambda: app.top_k == 1)
        greedy = sample_names_from_grid(run.model, run.dataset, app.temperature, app.naming.batches._grid, top_k=1)
        assert len(set(greedy)) == 1
        await until(pilot, lambda: greedy[0] in "\n".join(app.names.text_lines))


async def test_the_palette_and_the_settings_form_set_top_k():
    from helpers import until
    from textual.widgets import Input

    from tui.app import DashboardApp
    from tui.screens.settings_form import SettingsForm

    app = DashboardApp(Run.new(Config(num_steps=50)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p", *"top-k fewer", "enter")
        await until(pilot, lambda: app.top_k == 20)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm))
        box = app.screen.query_one("#top-k", Input)
        assert box.value == "20"  # the form starts from the screen's top-k
        box.value = "3"
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SettingsForm) and app.top_k == 3)
        assert app.training.config.top_k == 3


@pytest.mark.parametrize(("k", "direction", "vocab", "after"), [
    (0, -1, 27, 20), (20, -1, 27, 10), (2, -1, 27, 1), (1, -1, 27, 1), (0, 1, 27, 0), (20, 1, 27, 0),
    (1, 1, 27, 2), (7, -1, 27, 5), (7, 1, 27, 10), (40, -1, 27, 20), (0, -1, 12, 10), (10, 1, 12, 0),
])
def test_the_keys_step_along_the_ladder_then_off(k, direction, vocab, after):
    from tui.widgets.top_k_control import next_top_k

    assert next_top_k(k, direction, vocab) == after


def test_compare_shows_each_checkpoints_top_k(tmp_path):
    run = Run.new(Config(num_steps=20, top_k=4), DOCS)
    for _ in run.steps():
        pass
    run.save(tmp_path / "k.npz")
    out = subprocess.run([sys.executable, "-m", "tui.console.main", "--compare", str(tmp_path / "k.npz"),
                          str(ROOT / "tests" / "fixtures" / "v1-checkpoint.npz")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("top-k"))
    assert row.split()[1:] == ["4", "off"]
