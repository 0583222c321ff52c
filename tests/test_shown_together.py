"""The figures a frame shows belong to the step it shows, also while the training runs flat out and is
thousands of steps ahead of the frame: the status line's step, moving average and whole-data loss, the
runs view's current row, and every row of a race's board (found by a learner: `step 64` beside step
1,068's moving average; one board row a step ahead of the others)."""

from __future__ import annotations

import os
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


def _slow_whole_data_loss(run: Run, theta: np.ndarray) -> float:
    """The mean loss over every position of every training name, one name at a time, of weights `theta`."""
    model = run.model.copy()
    model.theta[:] = theta
    total, count = 0.0, 0
    for i in range(len(run.dataset)):
        tokens = run.dataset.doc_tokens(i)
        total += model.loss(tokens) * (len(tokens) - 1)
        count += len(tokens) - 1
    return total / count


async def test_the_status_line_shows_the_moving_average_and_whole_data_loss_of_its_own_step():
    """The whole-data loss is that of the weights at the step shown, not the track's last measurement (a
    run of 1,000,000 steps measures every 1,000 steps: QA read 2.6051 beside a step whose weights score
    2.6470)."""
    run = Run.new(Config(num_steps=1_000_000, learning_rate=0.1))  # slow enough that every figure moves
    app = DashboardApp(run, speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: run.step > 2_000)
        seen = await _frames(app, lambda: (str(app.status_line.render()), app._shown.theta.copy()))(pilot)
        app.action_pause()
    checked = 0
    for text, theta in seen:
        found = STATUS.search(text)
        if found is None:  # a frame drawn as the state changed
            continue
        step = int(found.group(1).replace(",", ""))
        ema = float(run.history.ema[step - 1])  # the values of the steps taken so far are final
        assert found.group(2) == wording.loss(ema), (text, ema)
        assert found.group(3) == wording.loss(_slow_whole_data_loss(run, theta)), text
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


async def test_every_row_of_the_board_shows_the_snapshot_s_step_and_that_step_s_figures():
    """Each row: the step of the snapshot, its moving average and the whole-data loss of that variant's
    weights at that step (QA: in a long race the board showed the last fixed-step measurement, 2.5033,
    beside the status's 2.5047 for the variant shown at the same step)."""
    race = Race.new(race_configs(Config(num_steps=1_000_000, learning_rate=0.1), race_spec("seed=1,2,3,4,5,6,7,8")))
    _advance(race.steps(), 300)
    app = DashboardApp(race)  # its first snapshot: step 300
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("8")  # the board drawn at step 300
        assert await app.loop.halt()  # no worker to publish a newer snapshot meanwhile
        _advance(race.steps(), 100)
        app.loop.snapshot = app.loop._make_snapshot()  # as the worker publishes one: step 400
        weights = [run.model.theta.copy() for run in race.runs]
        _advance(race.steps(), 100)  # the live race at 500
        app.refresh_view(force=True)
        await pilot.pause()
        view = app.panel.views[8]
        assert isinstance(view, RaceView)
        lines = view.text_lines()
        status = str(app.status_line.render())
    rows = {int(m.group(1)): m for line in lines
            if (m := re.search(r"(\d+) seed \d+\s+([\d,]+)/1,000,000\s+(.*)$", line))}
    assert sorted(rows) == list(range(1, 9)), lines
    for number, m in rows.items():
        run = race.runs[number - 1]
        whole, ema = m.group(3).split()
        assert m.group(2) == "400", m.group(0)
        assert ema == wording.loss(float(run.history.ema[399])), m.group(0)
        assert whole == wording.loss(_slow_whole_data_loss(run, weights[number - 1])), m.group(0)
    assert f"whole-data loss {rows[1].group(3).split()[0]}" in status  # the variant shown: as the status says


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


def _screen(app: DashboardApp) -> str:
    """The whole screen as a person sees it (the compositor's full frame, as text)."""
    from rich.console import Console

    with open(os.devnull, "w") as sink:
        console = Console(width=app.size.width, record=True, file=sink)
        console.print(app.screen._compositor.render_update(full=True))
        return console.export_text()


async def test_flat_out_the_plot_the_step_line_and_the_status_show_one_step_in_every_frame():
    """Flat out, the screen is drawn at one tick in two; whatever a person reads between two ticks, the
    rate under the plot is the step line's, and it is the rate of the step the status line counts (once,
    the plot was drawn every other tick and the lines every tick: the plot's rate was a frame behind,
    one read in two)."""
    run = Run.new(Config(num_steps=1_000_000, learning_rate=0.1))  # the rate falls 0.0001 in 1,000 steps
    app = DashboardApp(run, speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 2_000)
        seen = []
        for _ in range(14):
            await until(pilot, lambda ticks=app.frames: app.frames > ticks)
            seen.append(_screen(app))
        app.action_pause()
    rates, checked = set(), 0
    for text in seen:
        lines = text.splitlines()
        step_line = next(line for line in lines if " loss " in line and " lr " in line)
        plot_rate = next(line for line in lines if line.startswith("lr ")).split(" lr ")[-1].split()[0]
        line_rate = step_line.split(" lr ")[1].split()[0]
        assert plot_rate == line_rate, (plot_rate, step_line)
        status = STATUS.search(text)
        if status is not None:  # (not a frame drawn as the state changed)
            last = int(status.group(1).replace(",", "")) - 1  # the last step taken, 0-based: its rate
            assert abs(float(line_rate) - 0.1 * (1 - last / 1_000_000)) <= 0.00005 + 1e-12, (step_line, status[0])
            checked += 1
        rates.add(plot_rate)
    assert checked >= 10 and len(rates) >= 4, (checked, rates)  # the figures moved: frames were drawn


async def test_once_training_has_started_the_step_line_no_longer_says_that_space_starts_it():
    """Between a key that starts the training and its first step shown, the status says `running`: the step
    line beside it said `space starts training` (QA saw the two together for 0.6 s). A name of 400,000
    letters makes that first step take long enough to read several frames of it."""
    rng = np.random.default_rng(1)
    long_names = ["".join(chr(97 + c) for c in rng.integers(0, 26, 400_000)) for _ in range(2)]
    run = Run.new(Config(num_steps=4), long_names)
    app = DashboardApp(run, speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "space starts training" in str(app.step_line.render()))  # before: it says so
        # space's action, run at once: Pilot's press waits for an idle screen, and on a quiet machine the whole
        # first step (~1.3 s here) could pass in that wait, leaving no frame of it to read
        await app.run_action("play")
        seen = []
        while app.loop.snapshot.record is None and len(seen) < 200:
            await until(pilot, lambda frames=app.frames: app.frames > frames)
            seen.append((str(app.status_line.render()), str(app.step_line.render())))
        app.action_pause()
    waiting = [(status, line) for status, line in seen if "running" in status and line.startswith("step 0")]
    assert len(waiting) >= 2  # frames drawn while the first step was under way
    for status, line in waiting:
        assert "space" not in line and "training" in line, (status, line)
