"""The dashboard's side of issue 8: nothing a user or the data gives is parsed as markup, long work
never holds up a key, and every key is safe whatever the settings."""

from __future__ import annotations

import time

import pytest
from helpers import until

from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State


async def test_a_save_path_with_markup_characters_is_shown_as_it_is(tmp_path):
    path = tmp_path / "mk" / "[/x].npz"  # a folder that does not exist, and [/x] would be a markup tag
    app = DashboardApp(Run.new(Config(num_steps=100)), save_path=str(path))
    async with app.run_test(size=(300, 40)) as pilot:  # wide: the whole note on its line (a path is long)
        await pilot.press("s")
        await until(pilot, lambda: "not saved" in app.note)
        await pilot.pause(0.2)
        assert "[/x].npz" in app.note and "[/x].npz" in str(app.note_line.render())


async def test_names_with_control_characters_are_escaped_everywhere_on_screen():
    docs = ["a\x1b[31mred", "b\x07ell", "c\u202eevil", "plain"]
    app = DashboardApp(Run.new(Config(num_steps=50), docs), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(4):
            await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 4)
        screen = "\n".join(
            strip.text for widget in (app.step_line, app.names, app.chart) for strip in
            [widget.render_line(y) for y in range(widget.size.height)]
        )
        for raw in ("\x1b", "\x07", "\u202e"):
            assert raw not in screen
        assert "\\x1b" in screen or "\\x07" in screen or "\\u202e" in screen


async def test_thousands_of_final_samples_never_hold_up_quit():
    app = DashboardApp(Run.new(Config(num_steps=1, num_samples=10_000)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        t0 = time.monotonic()
        await pilot.press("right", "plus")  # keys are handled while the samples are drawn
        assert time.monotonic() - t0 < 1.0
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("given", [0.001, 0.04, 7.5])
async def test_temperature_keys_are_safe_from_any_starting_temperature(given):
    app = DashboardApp(Run.new(Config(num_steps=50, temperature=given)))
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ["minus"] * 3 + ["plus"] * 3 + ["minus"] * 3:
            await pilot.press(key)
        assert 0 < app.temperature <= max(5.0, given)
