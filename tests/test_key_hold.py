"""The training waits while the screen answers a key or a click (TrainingLoop.hold / release), and goes
on once the answer is drawn: the loop's own behaviour, then the app's, read off the rendered screen."""

from __future__ import annotations

import threading
import time

from helpers import until
from textual import events
from textual.geometry import Offset
from textual.pilot import _get_mouse_message_arguments

from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.training_loop import RELEASE_AFTER, SPEEDS, TrainingLoop

FAST = SPEEDS.index(None)


def _running_loop() -> tuple[TrainingLoop, threading.Thread]:
    loop = TrainingLoop(Run.new(Config(num_steps=1_000_000)), FAST)
    thread = threading.Thread(target=loop.work, args=(lambda: False,), daemon=True)
    loop.play()
    thread.start()
    _wait(lambda: loop.run.step > 50)
    return loop, thread


def _wait(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "the condition did not come true in time"
        time.sleep(0.01)


def _stop(loop: TrainingLoop, thread: threading.Thread) -> None:
    loop.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_hold_takes_no_step_until_released():
    loop, thread = _running_loop()
    try:
        loop.hold(30.0)
        time.sleep(0.1)  # a step under way ends
        held_at = loop.run.step
        time.sleep(0.4)
        assert loop.run.step == held_at and loop.held
        loop.release()
        _wait(lambda: loop.run.step > held_at + 50)
        assert not loop.held
    finally:
        _stop(loop, thread)


def test_a_hold_ends_by_itself_and_a_release_may_come_a_little_later():
    loop, thread = _running_loop()
    try:
        loop.hold(0.2)  # nobody releases it: it ends after 0.2 s
        time.sleep(0.05)
        _wait(lambda: not loop.held)
        at = loop.run.step
        _wait(lambda: loop.run.step > at + 50)
        loop.hold(30.0)
        time.sleep(0.1)
        at = loop.run.step
        loop.release(after=0.2)  # the hold ends 0.2 s from now, not in 30 s
        assert loop.held
        _wait(lambda: loop.run.step > at + 50, timeout=5.0)
    finally:
        _stop(loop, thread)


def test_stop_during_a_hold_returns_at_once():
    loop, thread = _running_loop()
    loop.hold(30.0)
    time.sleep(0.05)
    loop.stop()
    assert loop.stopped.wait(1.0)
    thread.join(1)


def test_a_release_without_a_hold_leaves_nothing_held():
    loop = TrainingLoop(Run.new(Config(num_steps=100)), FAST)
    loop.release(after=RELEASE_AFTER)
    assert not loop.held


def _chart_text(app: DashboardApp) -> str:
    return "\n".join(app.chart.render_line(y).text for y in range(app.chart.size.height))


async def _flat_out(pilot, app: DashboardApp) -> None:  # type: ignore[no-untyped-def]
    """Training flat out, past its first hundred steps."""
    await pilot.press("space")
    await until(pilot, lambda: app.training.step > 100)


def _spy(loop: TrainingLoop, note) -> None:  # type: ignore[no-untyped-def]
    """`note("hold")` / `note("release")` as each is asked of `loop`, before it is done."""
    hold, release = loop.hold, loop.release

    def on_hold(*args: float) -> None:
        note("hold")
        hold(*args)

    def on_release(*args: float) -> None:
        note("release")
        release(*args)

    loop.hold, loop.release = on_hold, on_release  # type: ignore[method-assign]


async def test_a_key_holds_the_training_until_its_answer_is_on_screen():
    app = DashboardApp(Run.new(Config(num_steps=1_000_000)), speed_index=FAST)
    seen: list[tuple[str, int, str]] = []  # (what, step, the chart as drawn then)
    async with app.run_test(size=(120, 40)) as pilot:
        await _flat_out(pilot, app)
        loop = app.loop
        _spy(loop, lambda what: seen.append((what, loop.run.step, _chart_text(app))))
        assert "model at T 0.50" in _chart_text(app)
        await pilot.press("plus")
        await until(pilot, lambda: any(what == "release" for what, _, _ in seen))
        kinds = [what for what, _, _ in seen]
        assert kinds[0] == "hold" and "release" in kinds
        released = next(chart for what, _, chart in seen if what == "release")
        assert "model at T 0.60" in released  # the answer was drawn before the training went on
        at = loop.run.step
        await until(pilot, lambda: loop.run.step > at + 100)  # and it does go on


async def test_a_click_holds_and_releases_too():
    app = DashboardApp(Run.new(Config(num_steps=1_000_000)), speed_index=FAST)
    calls: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _flat_out(pilot, app)
        loop = app.loop
        _spy(loop, calls.append)
        # as the terminal's driver sends a click (Pilot's click skips the app and goes to the screen)
        kwargs = _get_mouse_message_arguments(app.status_line, Offset(2, 0), button=1)
        app.post_message(events.MouseDown(**kwargs))
        app.post_message(events.MouseUp(**kwargs))
        await until(pilot, lambda: "release" in calls)
        assert calls[0] == "hold", calls
        at = loop.run.step
        await until(pilot, lambda: loop.run.step > at + 100)


async def test_a_new_state_is_drawn_when_the_training_publishes_it_not_at_the_next_frame(monkeypatch):
    import tui.app

    monkeypatch.setattr(tui.app, "FRAME", 3600.0)  # the screen's own frames never come in this test
    app = DashboardApp(Run.new(Config(num_steps=1_000_000)), speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        assert "idle" in str(app.status_line.render())
        await pilot.press("space")
        await until(pilot, lambda: "running" in str(app.status_line.render()))
        await pilot.press("space")
        await until(pilot, lambda: "paused" in str(app.status_line.render()))
        paused_at = app.training.step
        assert f"step {paused_at:,}/" in str(app.status_line.render())
        await pilot.press("full_stop")  # one step, drawn as soon as it is taken
        await until(pilot, lambda: f"step {paused_at + 1:,}/" in str(app.status_line.render()))


async def test_behind_a_form_the_dashboard_is_redrawn_at_one_frame_in_five():
    from tui.app import COVERED_EVERY, FLAT_OUT_EVERY
    from tui.screens.settings_form import SettingsForm

    app = DashboardApp(Run.new(Config(num_steps=1_000_000)), speed_index=FAST)
    drawn: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await _flat_out(pilot, app)
        inner = app._refresh_view
        app._refresh_view = lambda force: (drawn.append(app.frames), inner(force))[1]  # type: ignore[method-assign]
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm))
        drawn.clear()
        f0 = app.frames
        await until(pilot, lambda: app.frames >= f0 + 4 * COVERED_EVERY)
        frames = app.frames - f0
        assert 0 < len(drawn) <= frames // COVERED_EVERY + 1  # the status, plot and names go on, slowly
        shown = app.shown_step
        await pilot.press("escape")
        drawn.clear()
        f0 = app.frames
        await until(pilot, lambda: app.frames >= f0 + 10)
        frames = app.frames - f0
        assert frames // FLAT_OUT_EVERY - 1 <= len(drawn) <= frames // FLAT_OUT_EVERY + 1  # uncovered, flat out
        assert app.shown_step > shown
