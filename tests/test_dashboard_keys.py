"""Keys, state and conventions: what each key does in each state, and what the screen says."""

from __future__ import annotations

import re

import pytest
from helpers import until

from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.layout import fit_heights
from tui.plumbing.training_loop import SPEEDS, State
from tui.widgets.status_line import pack

FAST = SPEEDS.index(None)


def _app(steps: int = 300, speed: int = SPEEDS.index(100)) -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=steps)), speed_index=speed)


def key_bar(app: DashboardApp) -> str:
    return str(app.key_bar.render())


async def test_the_key_bar_follows_the_state():
    app = _app(steps=100_000)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "space Run" in key_bar(app) and ". Step" in key_bar(app) and "l View:loss" in key_bar(app)
        await pilot.press("space")
        await until(pilot, lambda: "space Pause" in key_bar(app))
        assert ". Step" not in key_bar(app)  # one step only while paused
        await pilot.press("l")
        assert "l View:left to learn" in key_bar(app)  # the view's name as the plot titles it
        assert "q Quit" in key_bar(app) and len(key_bar(app).rstrip()) <= 80  # every key fits
        assert key_bar(app).rstrip().endswith("^p Palette")  # at 80 columns too: the ready races are there (QA)
        await pilot.resize_terminal(120, 30)
        await pilot.pause(0.1)
        assert key_bar(app).rstrip().endswith("^p Palette")  # where there is room


async def test_with_the_help_open_other_keys_wait():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        token, step = app.token, app.training.step
        run = app.training
        await pilot.press("space", "r", "n", "left", "right", "plus", "full_stop")
        await pilot.pause(0.3)
        assert app.loop.state == State.IDLE and app.training is run and app.training.step == step
        assert app.token == token and app.temperature == pytest.approx(0.5)
        assert "Help" in key_bar(app) and "Run" not in key_bar(app)
        await pilot.press("escape", "space")
        await until(pilot, lambda: app.loop.state == State.RUNNING)


async def test_after_the_end_space_says_what_to_do_and_n_starts_a_new_seed():
    app = _app(steps=100, speed=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.pause(0.2)
        assert "Run" not in key_bar(app) and "Pause" not in key_bar(app)
        await pilot.press("space")
        assert "r runs it again" in app.note and "new seed" in app.note
        await pilot.press("n")
        await until(pilot, lambda: app.shown_step == 0 and app.shown_state == State.IDLE)
        assert app.training.config.seed == 43
        expected = Run.new(Config(num_steps=100, seed=43))
        assert app.training.dataset.docs == expected.dataset.docs  # as --seed 43 would shuffle the file
        assert (app.training.model.theta == expected.model.theta).all()
        assert "seed 43" in app.note_line.render().plain


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_step_line_names_the_document_of_the_step(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        for n in (1, 2, 3):
            await pilot.press("full_stop")
            await until(pilot, lambda n=n: app.shown_step == n)
        await pilot.pause(0.2)
        text = str(app.step_line.render())
        rec = app.loop.snapshot.record
        name = app.training.dataset.docs[2]
        # the loss and the rate the step used, whole at every width (lr = 1.0 x (1 - 2/300) = 0.9933)
        assert f"loss {rec.loss:.4f}" in text and "lr 0.9933" in text
        if size[0] >= 120:  # the step and the whole name (the form a 10-letter name fits at step 300: no `·`)
            assert re.search(rf"step +3 '{re.escape(name)}' +loss", text), text  # (padded: the figures hold still)
        else:  # 80 columns: the figures first; the status says the step
            shown = text.split(" loss ")[0]  # the name as far as it fits, a cut marked with …
            assert shown and f"'{name}'".startswith(shown.rstrip("…")), text
            assert "step 3/300" in str(app.status_line.render())


async def test_the_command_palette_offers_every_action():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Training: run / pause", "Training: new seed", "Sampling: temperature up",
                       "Plot: left to learn", "Theme"):
            assert any(wanted.lower() in t.lower() for t in titles), wanted
        up = next(c for c in app.get_system_commands(app.screen) if c.title == "Sampling: temperature up")
        await up.callback()  # runs the same action as the + key
        assert app.temperature == pytest.approx(0.6)
        run_pause = next(c for c in app.get_system_commands(app.screen) if c.title == "Training: run / pause")
        await run_pause.callback()
        await until(pilot, lambda: app.shown_state == State.RUNNING and app.training.step > 0)
        await run_pause.callback()  # (paused before its first step, a run is still idle)
        await until(pilot, lambda: app.shown_state == State.PAUSED)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_a_light_theme_recolours_the_plot():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        dark = {name: style.color for name, style in app.plot.styles_by_name().items()}
        app.theme = "textual-light"
        await pilot.pause(0.2)
        light = {name: style.color for name, style in app.plot.styles_by_name().items()}
        assert dark["ema"] != light["ema"] and dark["axis"] != light["axis"]


def test_the_status_wraps_only_between_items():
    items = ["running", "step 493/1,000", "moving average 2.5756", "whole-data loss 2.4999", "100 steps/s"]
    for width in range(22, 100):
        lines = pack(items, width)
        assert all(len(line) <= width for line in lines)
        assert " │ ".join(lines) == " │ ".join(items)  # every item whole, in order
        assert all(not line.startswith(" ") and not line.endswith("│") for line in lines)


@pytest.mark.parametrize("width,height", [(40, 12), (80, 24), (120, 40), (200, 60), (300, 100)])
def test_the_rows_add_up_to_the_terminal(width, height):
    h = fit_heights(width, height, status_rows=2)
    assert h["top"] + h["controls"] + h["distribution"] + h["status"] + h["note"] + 1 == height
    assert h["top"] >= 5 and h["note"] == 1


async def test_a_note_never_squeezes_the_plot():
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = app.plot.size
        app.set_note("x" * 300)
        await pilot.pause(0.2)
        assert app.plot.size == before and app.note_line.size.height == 1


async def test_the_plot_is_drawn_on_the_themes_background():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause(0.2)
        for y in (1, 5, 10):
            for segment in app.plot.render_line(y):
                bg = segment.style.bgcolor
                assert bg is not None and sum(bg.get_truecolor()) > 3 * 160, (y, segment)  # light, as the theme


async def test_a_passing_note_fades_and_a_sticky_one_stays():
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.set_note("saved step 0 to somewhere")
        app._note_until -= 60  # as if NOTE_SECONDS had passed
        await pilot.pause(0.3)
        assert app.note == "" and str(app.note_line.render()) == ""
        app.set_note("training diverged", sticky=True)
        await pilot.pause(0.3)
        assert app.note == "training diverged"


def _contrast(a, b) -> float:
    """WCAG contrast ratio of two rich colours."""
    def lum(c) -> float:
        f = [v / 255 for v in c.get_truecolor()]
        f = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in f]
        return 0.2126 * f[0] + 0.7152 * f[1] + 0.0722 * f[2]
    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def test_in_either_theme_dim_is_dimmer_and_the_picked_row_is_readable():
    """QA (light theme): view 8's picked row was white on orange, hard to read; the lr row's part not yet
    run was black, stronger than the part run. In both themes: the picked row reads (contrast >= 4.5),
    dim is dimmer than text, the rate's future part dimmer than its past."""
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause(0.3)
            view = app.panel.views[8]
            palette, bg = view.palette, view.rich_style.bgcolor
            pick = palette.style["pick"]
            assert _contrast(pick.color, pick.bgcolor or bg) >= 4.5, theme
            assert _contrast(palette.style["dim"].color, bg) < _contrast(palette.style["text"].color, bg), theme
            styles, plot_bg = app.plot.styles_by_name(), app.plot.rich_style.bgcolor
            assert _contrast(styles["lr-future"].color, plot_bg) < _contrast(styles["lr"].color, plot_bg), theme
