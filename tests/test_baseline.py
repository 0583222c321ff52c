"""A pinned baseline (issue 18): the registry keeps one, engine.runs gives every run's settings and final
figures as differences from it, and the runs view (7) shows them; `b` and the palette pin it."""

from __future__ import annotations

import math

import pytest
from helpers import until

from engine import Config, Run
from engine.runs import RunFigures, RunRegistry, compare_with, describe_difference, setting_differences
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.views.runs import RunsView

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail"]


def _kept(reg: RunRegistry, config: Config) -> int:
    run = Run.new(config, DOCS)
    for _ in run.steps():
        pass
    return reg.keep(run).id


def test_the_registry_pins_one_baseline_and_forgets_it_with_its_run():
    reg = RunRegistry(limit=3)
    a, b = _kept(reg, Config(num_steps=20)), _kept(reg, Config(num_steps=20, seed=7))
    assert reg.baseline is None
    assert reg.pin_baseline(a) and reg.baseline_id == a and reg.baseline.id == a
    assert reg.pin_baseline(b) and reg.baseline_id == b  # one baseline: pinning another moves it
    assert not reg.pin_baseline(b) and reg.baseline is None  # pinning it again unpins it
    assert not reg.pin_baseline(99) and reg.baseline is None  # no such run
    reg.pin_baseline(a)
    reg.remove(a)
    assert reg.baseline is None
    reg.pin_baseline(b)
    for seed in (1, 2, 3):  # the limit drops the oldest, the baseline with it
        _kept(reg, Config(num_steps=20, seed=seed))
    assert b not in reg and reg.baseline is None


def _slow_differences(base: Config, other: Config) -> list[tuple[str, str, str]]:
    out = []
    for name, attr in [("lr", "learning_rate"), ("steps", "num_steps"), ("n_embd", "n_embd"), ("hidden", None),
                       ("seed", "seed"), ("holdout", "holdout"), ("init_std", "init_std")]:
        if attr is None:
            if base.hidden is None and other.hidden is None:
                continue
            x, y = base.hidden_size, other.hidden_size
        else:
            x, y = getattr(base, attr), getattr(other, attr)
        if x != y:
            out.append((name, str(x), str(y)))
    return out


@pytest.mark.parametrize("changes", [
    {}, {"learning_rate": 0.5}, {"seed": 7, "n_embd": 32}, {"hidden": 10}, {"n_embd": 8, "hidden": 32},
    {"holdout": 0.25, "num_steps": 400, "learning_rate": 2.0},
])
def test_setting_differences_name_each_setting_that_differs_with_both_values(changes):
    base, other = Config(), Config(**changes)
    assert setting_differences(base, other) == _slow_differences(base, other)
    diff = compare_with(RunFigures(base, "a.txt", 2.5, 2.6, math.nan), RunFigures(other, "a.txt", 2.25, 2.7, 2.8))
    assert diff.settings == _slow_differences(base, other)
    assert diff.smoothed == 2.25 - 2.5 and diff.whole_data == pytest.approx(0.1) and math.isnan(diff.heldout)
    text = diff.settings_text()
    assert text == (", ".join(f"{n} {a}→{b}" for n, a, b in _slow_differences(base, other)) or "same settings")
    # the ghost labels are the same differences, with the other run's values
    assert describe_difference(base, other) == (", ".join(f"{n} {b}" for n, _, b in diff.settings) or "same settings")


def test_the_data_differs_by_its_file_name():
    diff = compare_with(RunFigures(Config(), "/a/names.txt", 1, 1, 1), RunFigures(Config(), "embedded names", 1, 1, 1))
    assert diff.settings == [("data", "names.txt", "embedded names")] and diff.whole_data == 0


async def test_b_in_the_runs_view_shows_every_run_as_differences_from_the_baseline():
    app = DashboardApp(Run.new(Config(num_steps=100), DOCS), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(2):  # two finished runs kept: seeds 42 and 43; the current run has seed 44
            await pilot.press("space")
            await until(pilot, lambda: app.shown_state == State.FINISHED)
            await pilot.press("n")
            await until(pilot, lambda: app.shown_step == 0)
        await pilot.press("b")  # not the runs view: nothing
        assert app.runs.baseline_id is None
        await pilot.press("7", "b")  # the current run's row is picked: it cannot be the baseline
        assert app.runs.baseline_id is None and "pick one with j / k" in app.note
        await pilot.press("j", "j", "b")  # the oldest kept run, #1 (seed 42)
        await until(pilot, lambda: app.runs.baseline_id == 1)
        view = app.query_one(RunsView)
        await until(pilot, lambda: "baseline" in view.text_lines()[0])
        lines = view.text_lines()
        one, two = app.runs.get(1), app.runs.get(2)
        row1 = next(line for line in lines if "#1 baseline" in line)
        row2 = next(line for line in lines if "#2: seed 42→43" in line)
        assert f"{one.smoothed:.4f}" in row1 and f"{one.whole_data:.4f}" in row1
        assert f"{two.smoothed - one.smoothed:+.4f}" in row2 and f"{two.whole_data - one.whole_data:+.4f}" in row2
        assert any("current: seed 42→44" in line for line in lines)
        assert [g.baseline for g in app.experiments.ghosts()] == [True, False]  # the plot is told which
        await pilot.press("b")
        await until(pilot, lambda: app.runs.baseline_id is None)
        await until(pilot, lambda: "baseline" not in view.text_lines()[1])
        assert any("#1 seed 42" in line for line in view.text_lines())


async def test_the_palette_pins_a_kept_run_from_any_view():
    app = DashboardApp(Run.new(Config(num_steps=50), DOCS), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.press("n")
        await until(pilot, lambda: app.shown_step == 0)
        await pilot.press("ctrl+p", *"pin #1", "enter")
        await until(pilot, lambda: app.runs.baseline_id == 1)
        assert app.note.startswith("run #1 is the baseline")
