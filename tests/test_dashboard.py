"""The dashboard driven through Textual's Pilot: every key's effect on state and screen."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import until

from engine import Config, Run, checkpoint
from tui.app import DashboardApp, make_app
from tui.console.flags import build_parser
from tui.plumbing.training_loop import SPEEDS, State

FAST = SPEEDS.index(None)
SLOW = SPEEDS.index(100)


def _app(steps: int = 300, speed: int = SLOW, **kw) -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=steps)), speed_index=speed, **kw)


async def test_opens_idle_at_step_zero_with_everything_drawn():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.shown_state == State.IDLE and app.shown_step == 0
        status = str(app.status_line.render())
        for words in ("idle", "step 0/300", "3,184 params", "whole-data loss"):
            assert words in status
        assert "100/s" in str(app.pace.render())
        assert app.names.batches == 1


async def test_space_starts_and_pauses():
    app = _app(steps=100_000)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 5)
        assert app.shown_state == State.RUNNING
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.PAUSED)
        paused_at = app.shown_step
        await pilot.pause(0.4)
        assert app.shown_step == paused_at == app.training.step
        assert "paused" in str(app.status_line.render())


async def test_one_step_while_paused_advances_by_exactly_one():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        for expected in (1, 2, 3):
            await pilot.press("full_stop")
            await until(pilot, lambda n=expected: app.shown_step == n)
        await pilot.pause(0.3)
        assert app.shown_step == 3 and len(app.training.history) == 3


async def test_stepping_with_full_stop_onto_the_last_step_finishes_the_run():
    """Stepping a run of 5 steps with `.` five times: the fifth step is its last, so the run is finished
    there (its final samples drawn, its key bar without `.`), not paused at 5/5 until a sixth `.`."""
    app = _app(steps=5)
    async with app.run_test(size=(120, 40)) as pilot:
        for expected in range(1, 6):
            await pilot.press("full_stop")
            await until(pilot, lambda n=expected: app.shown_step == n)
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        assert "finished" in str(app.status_line.render())
        await until(pilot, lambda: app.names.last[0].startswith("finished"))  # the final samples' batch


async def test_stepping_a_race_onto_its_last_step_finishes_it():
    from engine.race import Race, race_configs, race_spec

    race = Race.new(race_configs(Config(num_steps=3), race_spec("lr=0.5,1")))
    app = DashboardApp(race, speed_index=SLOW)
    async with app.run_test(size=(120, 40)) as pilot:
        for expected in range(1, 4):
            await pilot.press("full_stop")
            await until(pilot, lambda n=expected: app.loop.snapshot.race_step == n)
        await until(pilot, lambda: app.shown_state == State.FINISHED)


async def test_plus_and_minus_change_the_temperature_and_resample():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        batches = app.names.batches
        await pilot.press("plus")
        assert app.temperature == pytest.approx(0.6)
        assert app.names.batches == batches  # the newest batch re-sampled in place, not appended
        assert app.names.last[0].endswith("T 0.50→0.60")  # the batch drawn at 0.50, now at 0.60
        await pilot.press("minus", "minus", "minus")
        assert app.temperature == pytest.approx(0.3)
        assert app.names.batches == batches and app.names.last[0].endswith("T 0.50→0.30")
        assert "same draws" not in "\n".join(app.names.text_lines)
        assert app.chart.figures.temperature == pytest.approx(0.3)
        assert "temperature 0.30" in app.gauge.render_line(0).text
        for _ in range(80):
            await pilot.press("minus")
        assert app.temperature == pytest.approx(0.1)  # the bottom of the range


async def test_arrows_pick_the_token_and_the_chart_follows():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        bos = app.training.dataset.bos
        assert app.token == bos
        before = app.chart.figures
        await pilot.press("right")
        assert app.token == 0  # wraps from BOS (the last id) to 'a'
        after = app.chart.figures
        assert after.labels[after.context] == "a" and before.labels[before.context] == "BOS"
        assert not np.array_equal(before.data, after.data)  # the data's own next-letter frequencies differ
        await pilot.press("left", "left")
        assert app.token == bos - 1


async def test_temperature_sharpens_the_chart():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        flat = app.chart.figures.model.max()
        for _ in range(4):
            await pilot.press("minus")
        assert app.chart.figures.model.max() > flat


async def test_reset_returns_to_step_zero():
    app = _app(speed=FAST, steps=100_000)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 50)
        first_theta = Run.new(Config(num_steps=100_000)).model.theta
        await pilot.press("r")
        await until(pilot, lambda: app.shown_step == 0 and app.shown_state == State.IDLE)
        assert app.training.step == 0 and len(app.training.history) == 0
        assert np.array_equal(app.training.model.theta, first_theta)  # fresh, same settings


async def test_save_writes_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "c.npz"
    app = _app(save_path=str(path))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(4):
            await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 4)
        await pilot.press("s")
        await until(pilot, lambda: "saved step 4" in app.note)
        assert str(path.resolve()) in app.note
    ck = checkpoint.load(path)
    assert ck.step == 4 and len(ck.losses) == 4


async def test_speed_keys_and_log_axis():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right_square_bracket")
        assert app.loop.speed == SPEEDS[SLOW + 1]
        for _ in range(20):
            await pilot.press("right_square_bracket")
        assert app.loop.speed is None and "max" in str(app.pace.render())
        await pilot.press("left_square_bracket")
        assert app.loop.speed == SPEEDS[-2]
        await pilot.press("l")
        assert app.plot.gap_view and "left to learn" in app.plot.build_strips()[0].text
        await pilot.press("l")
        assert not app.plot.gap_view and "whole" in app.plot.build_strips()[0].text


async def test_help_opens_and_closes():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert app.help_panel.visible and "bigram floor" in str(app.help_panel.query("Static").last().render())
        await pilot.press("escape")
        assert not app.help_panel.visible
        await pilot.press("question_mark", "question_mark")
        assert not app.help_panel.visible


async def test_training_to_the_end_shows_the_runs_own_samples():
    app = _app(steps=200, speed=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.pause(0.2)
        assert "finished" in str(app.status_line.render()) and app.shown_step == 200
    expected = Run.new(Config(num_steps=200))
    for _ in expected.steps():
        pass
    heading, names = app.names.last
    assert heading.startswith("finished: 20 samples")
    assert names == expected.sample()  # the run's own random stream, as the tutorial and headless mode


async def test_q_quits_and_quitting_mid_training_ends_the_worker():
    app = _app(steps=10_000_000, speed=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 100)
        await pilot.press("q")
    assert app.return_code == 0
    assert app.loop.stopped.wait(1.0)  # the training thread has returned
    step = app.training.step
    threading.Event().wait(0.2)
    assert app.training.step == step


async def test_works_at_80x24_and_resizes():
    app = _app(speed=FAST, steps=2000)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 100)
        status = str(app.status_line.render())
        assert "step" in status and "whole-data loss" in status
        for size in ((200, 60), (40, 12), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.15)
        await until(pilot, lambda: app.shown_state == State.FINISHED)


def test_factory_reads_the_flags(tmp_path):
    args = build_parser().parse_args(["--steps", "50", "--save", str(tmp_path / "x.npz")])
    app = make_app(Run.new(Config(num_steps=50)), args)
    assert app.saving.path == tmp_path / "x.npz"


async def test_arrow_keys_sent_in_a_burst_each_scroll_the_help_a_line():
    """Ten `down` presses scroll the help ten lines, four `up` four back. (The bug a learner saw in tmux,
    ten presses in one burst scrolling one line, does not show through Pilot, which waits between keys:
    it was checked in tmux, where the burst now scrolls ten.)"""
    app = DashboardApp(Run.new(Config(num_steps=100)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        assert app.help_panel.visible and app.help_panel.max_scroll_y > 12
        await pilot.press(*["down"] * 10)
        await pilot.pause(0.2)
        assert app.help_panel.scroll_y == 10
        await pilot.press(*["up"] * 4)
        await pilot.pause(0.2)
        assert app.help_panel.scroll_y == 6


async def test_starting_draws_no_second_batch_of_the_same_step(monkeypatch):
    """QA: space showed `running` at step 0 at once, and a batch was due: two batches both headed
    `step 0 · T 0.50`, of different names from the same weights."""
    import tui.plumbing.names

    monkeypatch.setattr(tui.plumbing.names, "SAMPLE_EVERY", 0.2)
    app = _app(steps=1000, speed=SPEEDS.index(1))  # one step a second: step 0 shows for a while
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)  # the idle batch is more than SAMPLE_EVERY old
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.RUNNING)
        await pilot.pause(0.6)
        headings = [line for line in app.names.text_lines if line.startswith("step ")]
        assert sum(h.startswith("step 0 ") for h in headings) == 1, headings
        await until(pilot, lambda: any(h.startswith("step 1 ") for h in app.names.text_lines), timeout=6)
