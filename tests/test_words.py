"""What a learner reads (issue 15, 1/4/5/6): the data named on the main screen, one figure and one name for
each thing, the way out of a divergence on screen, controls that never strand, status and step lines that
fit at 80x24 and 120x40. Each checked on what is drawn (Pilot's screen), not only on state."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import until

from engine import Config, Run
from tui.app import DashboardApp, make_app
from tui.console.flags import build_parser, make_run
from tui.plumbing import wording
from tui.plumbing.training_loop import SPEEDS, State
from tui.widgets.status_line import StatusFigures, figure_lines
from tui.widgets.step_line import step_text

FAST = SPEEDS.index(None)
SIZES = [(80, 24), (120, 40)]


def screen_lines(app) -> list[str]:
    from rich.console import Console

    console = Console(width=app.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()


def screen(app) -> str:
    return "\n".join(screen_lines(app))


def _app(steps: int = 300, speed: int = FAST, data: str | None = None, **config) -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=steps, **config), data), speed_index=speed, data=data)


async def until_long(pilot, condition) -> None:
    await until(pilot, condition, timeout=20.0)


# --- the figures' words --------------------------------------------------------------------------
def test_a_loss_and_a_rate_are_written_one_way():
    assert wording.loss(2.46951) == "2.4695" and wording.loss(1.693e180) == "> 1000"
    assert wording.loss(math.inf) == "> 1000"
    assert wording.loss(math.nan) == "NaN" and wording.loss(-0.0) == "0.0000" and wording.loss(12.3456) == "12.346"
    assert all(len(wording.loss(v)) <= 6 for v in (999.999, 99.9999, 9.99999, 1e300, 0.0))
    # the step line's 0.3980 and the plot's 0.397 were two writings of one rate: now one
    assert wording.learning_rate(0.398) == "0.3980" and wording.learning_rate(0.001) == "0.0010"
    assert wording.learning_rate(0.0005) == "0.00050" and wording.learning_rate(1e-5) == "0.000010"
    assert wording.learning_rate(2.5e-6) == "2.50e-06" and wording.learning_rate(0.0) == "0"
    assert all(len(wording.learning_rate(v)) <= 9 for v in (0.00099999, 1e-5, 999.99999, 1e300, 1e-300))
    assert wording.step_of(80805, 100000) == "80,805/100,000"


def test_the_data_is_named_with_its_count(tmp_path):
    assert wording.data_label(None, 5163) == "census names (5,163)"
    assert wording.data_label(None, 5163, 516) == "census names (5,163; 516 held out)"
    mine = tmp_path / "mine.txt"
    mine.write_text("ann\nbob\n")
    assert wording.data_label(str(mine), 2) == "mine.txt (2)"


def test_the_tutorials_file_is_named_as_such_wherever_it_lies(shared_names):
    assert wording.data_label(str(shared_names), 32033) == "tutorial names (32,033)"


def test_the_run_line_gives_way_from_its_end():
    changes = [(0, 1.0), (300, 0.5)]
    wide = wording.run_line("census names (5,163)", changes, 16, 64, 42, 1000, 3184, 200)
    assert wide == ("census names (5,163) · lr 1.0, 0.5 from step 301 · n_embd 16 · hidden 64 · seed 42 · "
                    "1,000 steps · 3,184 params (the page's 2,480 is a miscount)")
    at_80 = wording.run_line("census names (5,163)", [(0, 1.0)], 16, 64, 42, 1000, 3184, 78)
    assert at_80 == "census names (5,163) · lr 1.0 · n_embd 16 · hidden 64 · seed 42 · 3,184 params"
    held = wording.run_line("census names (5,163; 516 held out)", [(0, 1.0)], 16, 64, 42, 1000, 3184, 78)
    assert held == "census names (5,163; 516 held out) · lr 1.0 · 3,184 params"  # items give way whole
    other = wording.run_line("mine.txt (2)", [(0, 1.0)], 8, 32, 1, 10, 720, 200)
    assert "2,480" not in other  # the page's figure only beside the page's model


def test_the_status_never_leaves_an_item_alone_and_diverged_is_one_item():
    f = StatusFigures("running", 80805, 100000, 2.5, 2.4, 50000.0, 100.0)
    lines = figure_lines(f, 118, 1)
    assert len(lines) == 1 and "step 80,805/100,000" in lines[0] and "moving average 2.5000" in lines[0]
    d = StatusFigures("diverged", 22, 1000, 1.693e180, math.nan, 0.0, 1.0, None, 23)
    text = " │ ".join(figure_lines(d, 78, 1))
    assert text.startswith("diverged at step 23/1,000 │ moving average > 1000 │ whole-data loss NaN")
    assert "step 22" not in text and "e+" not in text


# --- the main screen at 80x24 and 120x40 --------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
async def test_the_main_screen_names_the_data_the_run_and_the_temperature(size):
    app = _app(steps=100_000, speed=SPEEDS.index(100))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 3)
        await pilot.pause(0.2)
        text = screen(app)
        assert "census names (5,163)" in text and "lr 1.0" in text and "seed 42" in text
        assert "3,184 params" in text and "temperature 0.50" in text
        assert re.search(r"step \d+/100,000", text)  # separators, as the rates have
        status = str(app.status_line.render()).splitlines()
        assert status[-1].startswith("census names (5,163) · lr 1.0")  # the run's line, always the last
        assert all(len(line) <= size[0] - 2 for line in status)
        if size[0] >= 100:
            assert "moving average" in status[0] and "whole-data loss" in "\n".join(status)
        else:  # the figures on one line, named shorter (the plot keeps its rows: see the next test)
            assert len(status) == 2 and "moving avg" in status[0] and "whole-data " in status[0], status
        if size[0] >= 120:
            assert "the page's 2,480 is a miscount" in text
            assert len(status) == 2  # the figures on one line: nothing left alone on a second one
        await pilot.press("space")


async def test_at_80x24_a_long_run_s_status_keeps_one_line_and_its_words_from_the_first_frame_to_the_last():
    """QA: at 80 columns a run of 100,000 steps or more wrapped the status's figures onto a second line
    (the plot lost a row: its axis ended at 2.2, not 2.0); the words stay the same in every frame."""
    heights, seen = [], []
    for steps in (1_000, 100_000, 1_000_000):
        app = _app(steps=steps, speed=SPEEDS.index(None))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            heights.append(app.plot.size.height)
            frames = [str(app.status_line.render()).splitlines()]
            await pilot.press("space")
            await until(pilot, lambda app=app, steps=steps: app.shown_step > min(steps // 2, 2_000))
            frames.append(str(app.status_line.render()).splitlines())
            app.action_pause()
            await pilot.pause()
        for lines in frames:
            assert len(lines) == 2, lines  # the figures on one line, the run's line under them
        seen.append([re.sub(r"[\d,.:/-]+", "#", lines[0]).split(" │ ")[2:4] for lines in frames])
    assert heights[1] == heights[2] == heights[0], heights  # as tall as for a run of 1,000 steps
    for words in seen:  # the losses' names: the same in the idle frame and the running one
        assert words[0] == words[1], words


@pytest.mark.parametrize("size", SIZES)
async def test_the_step_line_keeps_the_loss_and_the_rate_whole(size):
    app = _app(steps=1000, speed=SPEEDS.index(100))
    async with app.run_test(size=size) as pilot:
        for _ in range(3):
            await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 3)
        await pilot.pause(0.2)
        rec = app.loop.snapshot.record
        line = str(app.step_line.render())
        assert f"loss {wording.loss(rec.loss)}" in line and f"lr {rec.lr:.4f}" in line and "…" not in line[-8:]
        drawn = next(row for row in screen_lines(app) if f"lr {rec.lr:.4f}" in row and "loss" in row)
        assert "temperature" in drawn
        # the plot's lr row says the same figure, written the same way: the rate the last step used
        assert any(row.startswith("lr ") and row.rstrip("│╯ ").endswith(f"lr {rec.lr:.4f}")
                   or f" lr {rec.lr:.4f} " in row for row in screen_lines(app) if row.startswith("lr "))


def test_a_narrow_step_line_cuts_the_name_never_the_figures():
    from engine import StepRecord

    rec = StepRecord(499, 2.71828, 0.501, "maximiliano-alexander")
    for width in (30, 34, 40, 60):
        text = step_text(rec, False, width).plain
        assert len(text) <= width and "loss 2.7183" in text and "lr 0.5010" in text
    assert step_text(rec, False, 80).plain == "step 500 · 'maximiliano-alexander' · loss 2.7183 · lr 0.5010"


async def test_with_a_held_out_set_the_status_says_its_losses_are_over_the_training_names():
    app = _app(steps=200, holdout=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        status = str(app.status_line.render())
        assert "whole-data loss (training names)" in status and "held-out loss" in status
        assert "census names (5,163; 516 held out)" in status


async def test_the_key_bar_names_the_view_as_it_is_titled():
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("l")
        await pilot.pause()
        bar = str(app.key_bar.render())
        assert "View:left to learn" in bar and "gap" not in bar and "q Quit" in bar and len(bar.rstrip()) <= 80


# --- controls never strand a learner --------------------------------------------------------------
async def test_the_palettes_keys_command_never_strands_the_help_or_the_keys():
    app = _app(steps=100_000, speed=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Keys" not in titles and any(t.startswith("Help:") for t in titles)
        app.action_hide_help_panel()  # what Textual's own "Keys" entry ran when the panel was "shown"
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.help_panel.is_attached and app.help_panel.visible
        assert "Keys" in screen(app) and "space" in screen(app)
        await pilot.press("escape", "space")
        await until(pilot, lambda: app.shown_step > 0)  # space trains again: nothing stranded
        assert "Pause" in str(app.key_bar.render())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
async def test_after_a_divergence_the_way_out_is_on_screen_and_lt_takes_it():
    args = build_parser().parse_args(["--lr", "5"])
    app = make_app(make_run(args), args)
    app.loop.change_speed(len(SPEEDS))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until_long(pilot, lambda: app.shown_state == State.DIVERGED)
        await pilot.pause(0.2)
        k = app.training.diverged_at + 1
        text = screen(app)
        assert "diverged: < starts again at half the learning rate (2.5), o opens the settings" in text
        assert "--lr" not in text  # a flag is no way out inside the dashboard
        assert f"diverged at step {k}/1,000" in text and f"step {k - 1}/1,000" not in text
        assert "e+" not in text  # no 1.693e+180: a learner reads "> 1000"
        await pilot.press("greater_than_sign")  # doubling: refused with a reason
        await pilot.pause()
        assert app.shown_state == State.DIVERGED and "larger learning rate diverges too" in app.note
        await pilot.press("less_than_sign")
        await until_long(pilot, lambda: app.shown_state == State.IDLE)
        assert app.training.config.learning_rate == 2.5
        await pilot.pause(0.2)
        assert "lr 2.5 ·" in str(app.status_line.render()) and "a new run at learning rate 2.5" in app.note


async def test_stepping_with_full_stop_refreshes_the_names():
    app = _app(steps=300, speed=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.names.last[0].startswith("step 0 ·")
        batches = app.names.batches
        await pilot.press("full_stop")
        await until(pilot, lambda: app.names.last[0].startswith("step 1 ·"))
        assert app.names.batches == batches + 1
        for n in range(2, 6):
            await pilot.press("full_stop")
            await until(pilot, lambda n=n: app.names.last[0].startswith(f"step {n} ·"))
        assert app.names.batches == batches + 1  # each step redraws the stepping batch in place
        assert "step 5 · T 0.50" in "\n".join(app.names.text_lines)


async def test_after_the_end_plus_and_minus_redraw_the_final_samples_in_place():
    app = _app(steps=100)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until_long(pilot, lambda: app.naming.final_names is not None)
        await pilot.pause(0.1)
        first = list(app.naming.final_names)
        lines = app.names.text_lines
        assert sum(line.startswith("finished") and "T 0.50" in line for line in lines) == 1
        batches = app.names.batches
        await pilot.press("plus", "plus")
        await until_long(pilot, lambda: any(line.startswith("finished") and "T 0.70" in line
                                            for line in app.names.text_lines))
        lines = app.names.text_lines
        assert app.names.batches == batches and not any("T 0.50" in line and "finished" in line for line in lines)
        assert sum(line.startswith("sample ") for line in lines) == 20  # in place: never a batch under them
        await pilot.press("minus", "minus")
        await until_long(pilot, lambda: any(line.startswith("finished") and "T 0.50" in line
                                            for line in app.names.text_lines))
        await until_long(pilot, lambda: app.naming.final_names == first)  # the same random numbers: the same list


async def test_reset_with_unchanged_settings_keeps_no_ghost_but_a_new_seed_does():
    app = _app(steps=100)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until_long(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.press("r")
        await until_long(pilot, lambda: app.shown_step == 0)
        assert len(app.runs) == 0 and app.experiments.ghosts() == ()
        assert "not kept" in app.note
        await pilot.press("space")
        await until_long(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.press("n")
        await until_long(pilot, lambda: app.shown_step == 0)
        assert len(app.runs) == 1 and app.names.text_lines[0].startswith("a new run: seed 43")


async def test_the_run_line_follows_a_change_of_rate():
    app = _app(steps=100_000, speed=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 3)
        await pilot.press("less_than_sign", "full_stop")
        await until(pilot, lambda: app.shown_step == 4)
        await pilot.pause(0.2)
        assert "lr 1.0, 0.5 from step 4" in str(app.status_line.render()).splitlines()[-1]


async def test_after_load_the_step_line_and_the_status_agree(tmp_path):
    run = Run.new(Config(num_steps=100))
    for rec in run.steps():
        if rec.step == 49:
            break
    run.save(tmp_path / "c.npz")
    args = build_parser().parse_args(["--load", str(tmp_path / "c.npz")])
    app = make_app(make_run(args), args)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert str(app.step_line.render()).startswith("step 50 ·")
        assert "step 50/100" in str(app.status_line.render()) and "step 0 " not in screen(app)


def test_tiny_learning_rates_give_the_true_losses():
    """Below ~1e-308 lr / n x p was subnormal and the loss lost digits (3.2979773 for 3.2974929)."""
    for lr in (1e-318, 1e-320, 5e-324, 1e-200):
        run = Run.new(Config(num_steps=20, learning_rate=lr))
        model = run.model.copy()  # the step barely moves it: each loss is the initial model's
        ds = run.dataset
        want = [model.loss(np.array(ds.encode(d))) for d in ds.docs[:20]]
        got = [rec.loss for rec in run.steps()]
        assert np.allclose(got, want, rtol=0, atol=1e-12), lr


def test_a_narrow_step_line_of_a_diverged_run_keeps_its_loss_whole():
    from engine import StepRecord

    rec = StepRecord(166, float("inf"), 8.0, "maximiliano")
    for width in (20, 24, 29, 40):
        text = step_text(rec, True, width).plain
        assert len(text) <= width and text.startswith("diverged") and text.endswith("loss > 1000"), text
    # separated as every other form of the line is, where it fits (QA: it read `diverged loss NaN`)
    assert step_text(rec, True, 24).plain == "diverged · loss > 1000"
    assert step_text(rec, True, 40).plain == "diverged at step 167 · loss > 1000"


async def test_at_80_columns_the_plots_key_names_its_lines_in_words():
    # a learner at 80x24 reads what each line is: the guess and the floor by name, not bare glyphs
    app = _app(steps=100)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until_long(pilot, lambda: app.shown_state == State.FINISHED)
        key = "".join(t for t, _ in app.plot.rows()[0])
        for word in ("lo/hi", "avg", "whole-data", "guess", "floor"):
            assert word in key, key


def test_the_run_line_names_a_schedule_and_a_gradient_other_than_the_tutorials():
    tutorial = wording.run_line("census names (5,163)", [(0, 1.0)], 16, 64, 42, 1000, 3184, 200)
    assert "linear" not in tutorial and "gradient" not in tutorial  # the page's run says nothing more
    other = wording.run_line("census names (5,163)", [(0, 1.0), (300, 0.5)], 16, 64, 42, 1000, 3184, 200,
                             "cosine", "data")
    # QA 15: the schedule is an item of its own ("step 301 cosine" read as a step's name)
    assert other.startswith("census names (5,163) · lr 1.0, 0.5 from step 301 · cosine schedule · whole-data gradient"
                            " · ")
    narrow = wording.run_line("census names (5,163)", [(0, 1.0)], 16, 64, 42, 1000, 3184, 60, "constant", "data")
    assert "constant schedule" in narrow and "whole-data gradient" in narrow and len(narrow) <= 60


@pytest.mark.parametrize("size", SIZES)
async def test_a_raced_gradient_and_schedule_are_named_alike_in_view_8_and_the_run_line(size):
    """QA 15: one name per setting: view 8's label of a variant and the run line when it is shown say
    its schedule and gradient in the same words."""
    from engine.race import Race, race_configs, race_spec

    race = Race.new(race_configs(Config(num_steps=40), race_spec("gradient=name,data schedule=linear,cosine")))
    app = DashboardApp(race, speed_index=FAST)
    async with app.run_test(size=size) as pilot:
        await app.run_action("view(8)")
        await pilot.pause(0.2)
        board = screen(app)
        for words in ("one-name gradient", "whole-data gradient", "cosine schedule"):
            assert words in board, (words, board)
        assert "gradient data" not in board and "gradient name" not in board
        await app.run_action("next_variant(1)")  # variant 2: one-name gradient, cosine schedule
        await app.run_action("next_variant(1)")
        await app.run_action("next_variant(1)")  # variant 4: whole-data gradient, cosine schedule
        await until(pilot, lambda: app.loop.picked == 3)
        await pilot.pause(0.2)
        run_line = str(app.status_line.render()).splitlines()[-1]
        assert "· cosine schedule · whole-data gradient" in run_line, run_line


@pytest.mark.parametrize("size", SIZES)
async def test_a_whole_data_run_says_so_in_the_plots_key_and_the_run_line(size):
    """--gradient data: each step's loss is the whole data's, so the key's dots are not one-name losses
    and no pass over the names is marked (every step is one); the run line names gradient and schedule."""
    app = _app(steps=60, gradient="data", schedule="constant")
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until_long(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.pause(0.2)
        key = "".join(t for t, _ in app.plot.rows()[0])
        assert "name" not in key and "pass" not in key, key
        dots = "".join(t for t, st in app.plot.rows()[0] if st == "dots")
        assert "whole-data" in dots, dots  # at 80 it read `• lo/hi of ~1.4`: not said to be whole-data losses
        if size[0] >= 120:  # a column a step here: the dot is that step's whole-data loss
            assert key.startswith("• ▴▾ whole-data loss "), key
        status = str(app.status_line.render()).splitlines()
        assert "constant" in status[-1] and "whole-data gradient" in status[-1], status
        assert "┴" not in screen(app)


def help_read(app) -> str:
    """The whole help sheet as a person reads it at this size (each part rendered at the sheet's width,
    scrolled or not), wrapped lines joined, runs of spaces made one."""
    from rich.console import Console

    console = Console(width=app.help_panel.content_size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for part in app.help_panel.query("Static"):
        console.print(part.content)
    return re.sub(r"\s+", " ", console.export_text())


@pytest.mark.parametrize("size", SIZES)
async def test_the_help_words_the_learning_rate_for_every_schedule_and_any_model_size(size):
    """QA 11 and 21: the lr row and < > are worded for the linear, constant and cosine schedules (not the
    linear decay alone), and the gradient check is said for any model, not as 'all 3,184 parameters'."""
    app = _app(schedule="constant", n_embd=8)
    async with app.run_test(size=size) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: app.help_panel.visible)
        text = help_read(app)
        assert "the schedule goes on from the new base (linear: its decay towards 0; constant: the base itself; " \
               "cosine: its curve towards 0)" in text
        assert "linear, the page's, falls in a straight line from its start towards 0 at the end; constant " \
               "stays at its start (a full row); cosine falls along half a cosine" in text
        assert "the linear decay goes on" not in text and "falls linearly from its start" not in text
        assert "for every parameter of the model (3,184 in the page's; the view says how many)" in text
        assert "all 3,184 parameters" not in text


def test_the_readme_says_the_lr_label_is_the_rate_the_last_step_used():
    """QA 10: the README said the lr row's label gives the next step's rate ("one step's decay lower");
    the app shows the rate the last step used on both (test_the_step_line_keeps_the_loss_and_the_rate_whole)."""
    from pathlib import Path

    readme = re.sub(r"\s+", " ", (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8"))
    assert "the rate of the next step" not in readme and "one step's decay lower" not in readme
    assert "(the lr row's label under the plot gives the same rate: the one the last step used" in readme


@pytest.mark.parametrize("size", SIZES)
async def test_halving_the_rate_says_what_the_schedule_in_use_does_next(size):
    """QA 11: `<` on a constant-schedule run said "(the decay goes on)": there is no decay there."""
    app = _app(steps=1000, schedule="constant")
    async with app.run_test(size=size) as pilot:
        await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 1)
        await pilot.press("less_than_sign")
        await pilot.pause(0.2)
        text = screen(app)
        assert "learning rate base 0.5 from step 2 on" in text, text
        assert "decay" not in app.note and "the constant schedule: every later step uses it" in app.note
        if size[0] >= 120:
            assert "(the constant schedule: every later step uses it)" in text
