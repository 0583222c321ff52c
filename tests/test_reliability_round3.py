"""Issue 16 (§4, §5) in the dashboard, through Pilot: a change of alphabet puts the chart back to
BOS, kept runs carry their own data, dead ReLUs are said, the gradient check says a zero gradient is
zero, --save and --metrics do what they say, a save to a pipe with no reader never hangs."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import until
from textual.widgets import Input

from engine import Config, Run, checkpoint
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.screens.settings_form import SettingsForm
from tui.views.gradcheck import GradCheckView

ROOT = Path(__file__).resolve().parent.parent
FAST = SPEEDS.index(None)
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "zoe", "bob", "anna", "quinn", "xavier", "jack",
        "kyle", "walter", "yvonne", "gus", "hugh", "ruth", "pat", "don", "leo", "fay", "ike", "lux", "vic"]


async def _apply_data(pilot, app: DashboardApp, data: str) -> None:
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, SettingsForm))
    app.screen.query_one("#data", Input).value = data
    await pilot.pause()
    old = app.training
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, SettingsForm) and app.training is not old, timeout=15)
    await pilot.pause(0.2)


def _chart_context(app: DashboardApp) -> str:
    f = app.chart.figures
    return f.labels[f.context]


async def test_a_smaller_alphabet_puts_the_chart_back_to_bos(tmp_path):
    """Context BOS of 27 tokens (index 26), then data of 2 letters: the chart indexed row 26 of a
    3x3 table (IndexError). After a change of data the context is the new data's BOS."""
    small = tmp_path / "ab.txt"
    small.write_text("ab\nba\naab\n")
    app = DashboardApp(Run.new(Config(num_steps=200)))
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.token == 26 and _chart_context(app) == "BOS"
        await _apply_data(pilot, app, str(small))
        assert app.training.dataset.vocab_size == 3
        assert app.token == app.training.dataset.bos == 2 and _chart_context(app) == "BOS"


async def test_a_bigger_alphabet_puts_the_chart_back_to_bos_not_to_another_letter(tmp_path):
    small = tmp_path / "ab.txt"
    small.write_text("ab\nba\naab\n")
    app = DashboardApp(Run.new(Config(num_steps=200), str(small)), data=str(small))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right")  # BOS -> a
        await until(pilot, lambda: app.token == 0)
        await pilot.press("right", "right")  # a -> b -> BOS (index 2: in a 27-token alphabet that is 'c')
        await until(pilot, lambda: app.token == 2)
        await _apply_data(pilot, app, "")  # the embedded names: 27 tokens
        assert app.training.dataset.vocab_size == 27
        assert app.token == 26 and _chart_context(app) == "BOS"


async def test_a_kept_run_is_labelled_with_its_own_data(tmp_path):
    """Runs kept after a change of data in the form were labelled with the next run's data ("same
    settings" for a run on other data)."""
    a, b = tmp_path / "first.txt", tmp_path / "second.txt"
    a.write_text("\n".join(DOCS) + "\n")
    b.write_text("\n".join(reversed(DOCS)) + "\n")
    app = DashboardApp(Run.new(Config(num_steps=100), str(a)), data=str(a), speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await _apply_data(pilot, app, str(b))
        kept = app.runs.list()
        assert [r.data for r in kept] == [str(a)] and app.data == str(b)
        assert [g.label for g in app.experiments.ghosts()] == ["#1 data first.txt"]


def _all_dead(run: Run) -> Run:
    run.model.fc1[:] = -np.abs(run.model.fc1)  # with positive embeddings every pre-activation is < 0
    run.model.wte[:] = np.abs(run.model.wte) + 0.01
    return run


async def test_every_unit_dead_is_said_on_screen_and_the_check_says_the_gradient_is_zero():
    app = DashboardApp(_all_dead(Run.new(Config(num_steps=100), DOCS)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop")
        await until(pilot, lambda: "every hidden unit is dead" in str(app.note_line.content))
        assert "dead ReLUs" in str(app.note_line.content)
        await pilot.press("c")
        check = app.panel.views[6]
        assert isinstance(check, GradCheckView)
        await until(pilot, lambda: check.figures.result is not None)
        await pilot.pause(0.1)
        text = "\n".join(check.text_lines(118, 9))
        assert "max |analytic − numerical|  0" in text
        assert "the gradient is ZERO everywhere" in text and "they agree" not in text


async def test_a_live_model_is_not_said_to_be_dead():
    app = DashboardApp(Run.new(Config(num_steps=100), DOCS))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop", "full_stop")
        await until(pilot, lambda: app.shown_step == 2)
        await pilot.pause(1.2)
        assert "dead" not in str(app.note_line.content)


@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
async def test_save_and_metrics_flags_are_written_at_the_end_of_the_run(tmp_path, schedule):
    """The dashboard did not write --metrics and wrote --save only on s. Now both are written when
    the run ends, as --headless writes them: the CSV of every step (its loss and the lr it used, on
    whichever schedule) and the checkpoint."""
    save, metrics = tmp_path / "c.npz", tmp_path / "m.csv"
    app = DashboardApp(Run.new(Config(num_steps=60, schedule=schedule), DOCS), save_path=str(save),
                       metrics=str(metrics), speed_index=FAST)
    async with app.run_test(size=(300, 40)) as pilot:  # wide: the whole note on its line (two paths)
        await pilot.press("space")
        await until(pilot, lambda: "(--save)" in str(app.note_line.content), timeout=15)
        assert "wrote steps 1-60" in str(app.note_line.content)
    assert checkpoint.load(save).step == 60
    expected = Run.new(Config(num_steps=60, schedule=schedule), DOCS)  # the same run, trained here: its records
    records = list(expected.steps())
    lines = metrics.read_text().splitlines()
    assert lines[0] == "step,loss,lr" and len(lines) == 61
    for line, rec in zip(lines[1:], records):
        step, loss, lr = line.split(",")
        assert int(step) == rec.step + 1 and math.isclose(float(loss), rec.loss, rel_tol=1e-12)
        assert float(lr) == rec.lr  # the same formula, the same float


async def test_outputs_are_written_when_the_app_ends_only_if_the_run_trained(tmp_path):
    save, metrics = tmp_path / "c.npz", tmp_path / "m.csv"
    app = DashboardApp(Run.new(Config(num_steps=1000), DOCS), save_path=str(save), metrics=str(metrics))
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.saving.write_outputs() == []  # nothing trained: nothing written
        await pilot.press("full_stop", "full_stop", "full_stop")
        await until(pilot, lambda: app.shown_step == 3)
        lines = app.saving.write_outputs()  # what run_dashboard does when the app ends
        assert [failed for _, failed in lines] == [False, False]
        assert app.saving.write_outputs() == []  # already written at this step
    assert checkpoint.load(save).step == 3 and len(metrics.read_text().splitlines()) == 4
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


async def test_saving_to_a_pipe_with_no_reader_says_so_and_never_hangs(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    app = DashboardApp(Run.new(Config(num_steps=100), DOCS), save_path=str(fifo))
    async with app.run_test(size=(300, 40)) as pilot:  # wide: the whole note on its line (a path is long)
        await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 1)
        await pilot.press("s")
        await until(pilot, lambda: "no reader" in str(app.note_line.content))
        assert str(app.note_line.content) == f"not saved: is a pipe with no reader; start its reader first: {fifo}"
        await pilot.press("q")


@pytest.mark.parametrize("face", [["--headless"], []])
def test_holdout_with_one_name_is_a_clear_error_on_the_command_line(tmp_path, face):
    """It trained with nothing held out and said nothing; now one line and exit 2, before any
    terminal is taken (the dashboard face checks it too)."""
    one = tmp_path / "one.txt"
    one.write_text("anna\n")
    out = subprocess.run([sys.executable, "-m", "tui.console.main", *face, "--data", str(one), "--holdout", "0.5"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == ("micromlp-tui: error: --holdout 0.5: the data holds 1 name; holding some out needs at "
                          "least 2 (one to train on); give more names or --holdout 0\n")
