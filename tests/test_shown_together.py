"""The figures a frame shows belong to the step it shows, also while the training runs flat out and is
thousands of steps ahead of the frame: the status line's step, moving average and whole-data loss, the
runs view's current row, and every row of a race's board (found by a learner: `step 64` beside step
1,068's moving average; one board row a step ahead of the others)."""

from __future__ import annotations

import re

import numpy as np
from helpers import until

from engine import Config, Run
from engine.race import Race, race_configs, race_spec
from tui.app import DashboardApp
from tui.plumbing import wording
from tui.plumbing.training_loop import SPEEDS
from tui.views.race import RaceView
from tui.views.runs import RunsView

FAST = SPEEDS.index(None)
STATUS = re.compile(r"running │ step ([\d,]+)/[\d,]+ │ moving average (\S+) │ whole-data loss (\S+)")


def _frames(app: DashboardApp, read, count: int = 12):  # type: ignore[no-untyped-def]
    """`read()` after each of `count` frames drawn while the training runs."""
    async def take(pilot):  # type: ignore[no-untyped-def]
        seen = []
        for _ in range(count):
            await until(pilot, lambda frames=app.frames: app.frames > frames + 1)
            seen.append(read())
        return seen
    return take


async def test_the_status_line_shows_the_moving_average_and_whole_data_loss_of_its_own_step():
    run = Run.new(Config(num_steps=1_000_000, learning_rate=0.1))  # slow enough that every figure moves
    app = DashboardApp(run, speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: run.step > 2_000)
        texts = await _frames(app, lambda: str(app.status_line.render()))(pilot)
        app.action_pause()
    checked = 0
    for text in texts:
        found = STATUS.search(text)
        if found is None:  # a frame drawn as the state changed
            continue
        step = int(found.group(1).replace(",", ""))
        ema = float(run.history.ema[step - 1])  # the values of the steps taken so far are final
        whole = float(run.exact_track.at(np.array([step]))[0])  # the last measurement at or before it
        assert found.group(2) == wording.loss(ema), (text, ema)
        assert found.group(3) == wording.loss(whole), (text, whole)
        checked += 1
    assert checked >= 8


def _advance(steps, count: int) -> None:  # type: ignore[no-untyped-def]
    """The training moves on `count` steps past the snapshot the screen holds (as the worker does
    between two snapshots)."""
    for _ in range(count):
        next(steps)


async def test_the_runs_view_and_the_status_show_the_snapshot_s_step_and_its_figures_not_the_live_run_s():
    run = Run.new(Config(num_steps=10_000, learning_rate=0.1))
    _advance(run.steps(), 300)
    app = DashboardApp(run)  # its snapshot: step 300
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        assert await app.loop.halt()  # no worker to publish a newer snapshot meanwhile
        _advance(run.steps(), 200)  # the live run at 500
        app.refresh_view(force=True)
        await pilot.pause()
        view = app.panel.views[7]
        assert isinstance(view, RunsView)
        row = next(line for line in view.text_lines() if "current run" in line)
        status = str(app.status_line.render())
    ema_300 = wording.loss(float(run.history.ema[299]))
    assert "300/10,000" in row and ema_300 in row.split(), row
    assert "step 300/10,000" in status and f"moving average {ema_300}" in status, status


async def test_every_row_of_the_board_shows_the_snapshot_s_step_and_that_step_s_moving_average():
    race = Race.new(race_configs(Config(num_steps=10_000, learning_rate=0.1), race_spec("seed=1,2,3,4,5,6,7,8")))
    _advance(race.steps(), 300)
    app = DashboardApp(race)  # its first snapshot: step 300
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("8")  # the board drawn at step 300
        assert await app.loop.halt()  # no worker to publish a newer snapshot meanwhile
        _advance(race.steps(), 100)
        app.loop.snapshot = app.loop._make_snapshot()  # as the worker publishes one: step 400
        _advance(race.steps(), 100)  # the live race at 500
        app.refresh_view(force=True)
        await pilot.pause()
        view = app.panel.views[8]
        assert isinstance(view, RaceView)
        lines = view.text_lines()
    rows = {int(m.group(1)): m for line in lines if (m := re.search(r"(\d+) seed \d+\s+([\d,]+)/10,000\s+(.*)$", line))}
    assert sorted(rows) == list(range(1, 9)), lines
    for number, m in rows.items():
        assert m.group(2) == "400", m.group(0)
        assert wording.loss(float(race.runs[number - 1].history.ema[399])) in m.group(3).split(), m.group(0)


async def test_a_new_smoothing_shows_in_the_status_at_once_while_paused():
    run = Run.new(Config(num_steps=10_000, learning_rate=0.1))
    _advance(run.steps(), 300)
    app = DashboardApp(run)
    async with app.run_test(size=(120, 40)) as pilot:
        before = str(app.status_line.render())
        await pilot.press("{")  # less smoothing: the whole line recomputed
        await pilot.pause(0.3)
        after = str(app.status_line.render())
    ema = wording.loss(float(run.history.ema[299]))  # with the new weight
    assert f"moving average {ema}" in after and f"moving average {ema}" not in before, (before, after)
