"""A race in the dashboard, as a learner sees it at 120x40 and 80x24: every variant's line in its own
colour with its number in the key, the leaderboard (view 8) ranking them by whole-data loss, picking
a variant by key and by click, the ready-made races, the settings form's race field, kept runs."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import until
from plot_grid import cells, frame_box
from textual.widgets import Input

import tui.app
from engine import Config, Run
from engine.race import RACE_LABELS, READY_RACES, Race, race_configs, race_spec, standings
from tui.app import DashboardApp
from tui.console.flags import build_parser, make_race
from tui.plumbing import wording
from tui.plumbing.dead_watch import FINISHED_VARIANT_DEAD, VARIANT_DEAD
from tui.plumbing.line_colours import KEPT_IN_RACE, colour_of, line_style
from tui.plumbing.run_end import RACE_FINISHED
from tui.plumbing.training_loop import SPEEDS, State
from tui.screens.settings_form import SettingsForm
from tui.views.race import RaceView


def race_of(spec: str, steps: int = 300) -> Race:
    return Race.new(race_configs(Config(num_steps=steps), race_spec(spec)))


async def finish(pilot, app) -> None:
    await pilot.press("space")
    await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=30)


def cell_styles(app) -> list[str]:
    return [st for row in app.plot.rows() for text, st in row for _ in text]


def key_line(app) -> str:
    return "".join(t for t, _ in app.plot.rows()[0])


def board(app) -> list[str]:
    view = app.panel.views[8]
    assert isinstance(view, RaceView)
    return view.text_lines()


async def finished_board(race: Race, size: tuple[int, int]) -> list[str]:
    """The board (view 8) as drawn once `race` has trained to its end in the dashboard at `size`."""
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        await pilot.press("8")
        await pilot.pause()
        return board(app)


async def test_eight_seeds_at_120x40_every_line_in_its_colour_and_a_ranked_board():
    race = race_of("seed=1,2,3,4,5,6,7,8")
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        styles = cell_styles(app)
        key_styles = [st for text, st in app.plot.rows()[0] for _ in text]
        for n in range(2, 9):  # every variant but the one shown (variant 1: the main line); 8 seeds converge,
            # so their lines share cells (the current run's lines are drawn over them, a later variant's over an
            # earlier's) and their labels, beside the lines' ends, cannot all be shown (where the rows there
            # are taken one is left out; they were once moved rows away to make up 10 cells each): each is
            # in its colour in the key line and on the plot (its line, or its label)
            style = line_style(colour_of(n))
            assert key_styles.count(style) >= 2 and styles.count(style) - key_styles.count(style) >= 1, n
        labelled = [n for n in range(2, 9) if any(f" {n} seed {n} " in "".join(t for t, _ in row) + " "
                                                  for row in app.plot.rows()[1:])]
        assert len(labelled) >= 4, labelled  # most are labelled: on their rows and the rows next to them
        assert line_style(colour_of(1)) not in styles and styles.count("ema") >= 20
        assert "⠒2 ⠒3 ⠒4 ⠒5 ⠒6 ⠒7 ⠒8" in key_line(app)
        await pilot.press("8")
        await pilot.pause()
        lines = board(app)
        assert lines[0].startswith("race: ranked by whole-data loss")
        rows = [line for line in lines[2:] if line.strip()]
        assert len(rows) == 8
        losses = [float(line.split()[-2]) for line in rows]
        assert losses == sorted(losses)  # ranked, lowest first
        # each row's figure is that variant's whole-data loss (its Run's, to the 4 decimals shown)
        for line in rows:
            number = int(line.split("⠒")[1].split()[0])
            run = race.runs[number - 1]
            assert f"seed {number}" in line and "300/300" in line
            assert float(line.split()[-2]) == round(run.dataset_loss(), 4)
        assert sum(line.startswith("▶") for line in rows) == 1 and "seed 1 " in next(r for r in rows if r[0] == "▶")
        # the rows are drawn in the variants' colours: 8 different ones
        view = app.panel.views[8]
        colours = {seg.style.color for row in view.rows() for seg in row if "seed" in seg.text and seg.style
                   and seg.style.color is not None and "▶" not in seg.text}
        assert len(colours) >= 7  # the picked row is in the pick style


async def test_picking_a_variant_by_key_and_by_click_shows_its_names_chart_and_line():
    race = race_of("lr=0.25,0.5,1,2", steps=200)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await pilot.press("v")
        await until(pilot, lambda: app.loop.picked == 1)
        assert app.training is race.runs[1] and app.shown_step == 200
        assert (app.view_model.theta == race.runs[1].model.theta).all()  # the chart and views draw its weights
        await pilot.pause()
        assert "variant 2: lr 0.5" in "\n".join(app.names.text_lines)  # the names panel says whose names
        assert "showing variant 2 (lr 0.5)" in app.note
        styles = cell_styles(app)
        # variant 1 is now a coloured line, variant 2 the main one
        assert line_style(colour_of(2)) not in styles and styles.count(line_style(colour_of(1))) >= 20
        assert "⠒1 ⠒3 ⠒4" in key_line(app)
        await pilot.press("8")
        await pilot.pause()
        view = app.panel.views[8]
        lines = board(app)
        place = next(i for i, line in enumerate(lines) if "⠒ 4 lr 2.0" in line)
        await pilot.click(view, offset=(10, place))
        await until(pilot, lambda: app.loop.picked == 3)
        assert app.training is race.runs[3]
        assert next(line for line in board(app) if line.startswith("▶")).count("lr 2.0") == 1


async def test_four_variants_at_80x24_are_readable():
    race = race_of("lr=0.25,0.5,1,2", steps=200)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await finish(pilot, app)
        styles = cell_styles(app)
        for n in (2, 3, 4):
            assert styles.count(line_style(colour_of(n))) >= 10
        await pilot.press("8")
        await pilot.pause()
        rows = [line for line in board(app) if "/200" in line]
        assert len(rows) == 4  # every variant's row fits (the title gives way)


async def test_a_diverging_variant_stops_and_the_race_goes_on():
    race = Race.new(race_configs(Config(num_steps=200, schedule="constant"), race_spec("lr=0.5,1000")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        assert race.runs[1].diverged_at is not None and race.runs[0].step == 200
        await pilot.press("8")
        await pilot.pause()
        lines = board(app)
        wild = next(line for line in lines if "lr 1000.0" in line)
        assert "diverged" in wild
        # the losses of the weights it stopped with and the average of its finite steps, as the status
        # line writes them (tests/test_diverged_figures.py: the same figures)
        stopped = race.runs[1]
        assert wild.endswith(f"{wording.loss(stopped.losses_now()[0]):>11}{wording.loss(stopped.history.last_ema):>8}")
        assert lines[2].split("⠒")[1].split()[0] == "1"  # the finite one ranks first


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_variant_shown_diverged_says_so_while_the_race_goes_on(size):
    """Showing a variant that diverged, the status and the step line say it diverged and where (the race's
    own state is still running): not 'running' beside a NaN loss."""
    race = Race.new(race_configs(Config(num_steps=2000, schedule="constant"), race_spec("lr=0.5,1000")))
    app = DashboardApp(race, speed_index=SPEEDS.index(100))
    async with app.run_test(size=size) as pilot:
        await pilot.press("v")  # variant 2, lr 1000
        await until(pilot, lambda: app.loop.picked == 1)
        await pilot.press("space")
        await until(pilot, lambda: race.runs[1].diverged_at is not None and app.shown_step > 0, timeout=30)
        at = race.runs[1].diverged_at + 1
        await until(pilot, lambda: f"diverged at step {at:,}" in str(app.status_line.render()), timeout=10)
        assert app.loop.state == State.RUNNING and not race.runs[0].finished  # the race goes on
        status = str(app.status_line.render())
        assert "running" not in status
        step_line = str(app.step_line.render())
        assert "diverged" in step_line and "NaN" not in step_line.split("diverged")[0], step_line
        await pilot.press("space")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_variant_picked_after_it_diverged_says_so(size):
    """Picked after it stopped (it has no record of the race's steps since): its last record is rebuilt,
    so the status and the step line say where it diverged, during the race and after its end."""
    race = Race.new(race_configs(Config(num_steps=300, schedule="constant"), race_spec("lr=0.5,1000")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.runs[1].diverged_at is not None and app.shown_step > 30, timeout=30)
        at = race.runs[1].diverged_at + 1
        await pilot.press("v")  # variant 2, long stopped
        await until(pilot, lambda: f"diverged at step {at:,}" in str(app.status_line.render()), timeout=10)
        assert "diverged" in str(app.step_line.render()), str(app.step_line.render())
        await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=30)
        await pilot.press("V")  # variant 1 and back, after the end
        await until(pilot, lambda: app.loop.picked == 0 and "finished" in str(app.status_line.render()))
        await pilot.press("v")
        await until(pilot, lambda: app.loop.picked == 1)
        await until(pilot, lambda: f"diverged at step {at:,}" in str(app.status_line.render()), timeout=10)
        assert "finished" not in str(app.status_line.render())
        await until(pilot, lambda: "draws no names" in str(app.note_line.content), timeout=10)
        await pilot.pause(0.5)
        shown = "\n".join(app.names.text_lines)
        assert "sample" not in shown, shown  # no samples drawn from weights whose probabilities are not finite


async def test_the_ready_made_races_start_from_the_palette_action_with_what_to_look_for():
    app = DashboardApp(Run.new(Config(num_steps=100)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        for i, (title, spec, look) in enumerate(READY_RACES):
            await app.run_action(f"ready_race({i})")
            await until(pilot, lambda: app.race is not None and app.shown_step == 0)
            setting = spec.split("=")[0]
            named = RACE_LABELS.get(setting, setting)  # labels name a setting as every label does (n_embd)
            # ... a schedule and a gradient as the run line does: "linear schedule", "whole-data gradient"
            assert all(named in v.label.split() for v in app.race.variants), [v.label for v in app.race.variants]
            # (after the rates race, whose variant shown ran at another rate: "(from the page's lr 1.0)")
            assert app.note.startswith(title) and f": {look[:30]}" in app.note, app.note
            assert app.panel.current == 8
        assert len(app.race.runs) == 5  # widths 4 .. 64
        await finish(pilot, app)
        ends = {r.step for r in app.race.runs}
        assert ends == {100}


async def test_a_ready_race_says_in_view_8_the_whole_of_what_to_look_for():
    """The note line cuts a ready race's 'what to look for'; view 8 has it whole under the rows where the
    panel has room (120x40, up to 6 variants), wrapped between words."""
    app = DashboardApp(Run.new(Config(num_steps=100)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        for i, (_, spec, look) in enumerate(READY_RACES):
            if len(race_configs(Config(), race_spec(spec))) > 6:
                continue
            await app.run_action(f"ready_race({i})")
            await until(pilot, lambda: app.race is not None and app.shown_step == 0)
            await pilot.pause(0.3)
            lines = screen(app).splitlines()
            start = next(j for j, line in enumerate(lines) if line.startswith("what to look for: "))
            said = [line.rstrip() for line in lines[start : app.panel.region.bottom] if line.strip()]  # the panel's
            assert " ".join(said) == f"what to look for: {look}", said
            assert all(len(line) <= 120 for line in said) and len(said) >= 2


async def test_the_settings_form_starts_a_race_and_refuses_a_bad_one():
    app = DashboardApp(Run.new(Config(num_steps=100)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm))
        app.screen.query_one("#race", Input).value = "lr=1,x"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SettingsForm)
        assert "--race lr: 'x' is not a number" in app.screen.errors()["race"]
        app.screen.query_one("#race", Input).value = "lr=0.5,1 seed=3,4"
        await pilot.press("enter")
        await until(pilot, lambda: app.race is not None)
        assert [v.label for v in app.race.variants] == ["lr 0.5, seed 3", "lr 0.5, seed 4", "lr 1.0, seed 3",
                                                        "lr 1.0, seed 4"]


async def test_a_replaced_race_becomes_kept_runs():
    race = race_of("lr=0.5,1", steps=100)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await app.racing.start("lr=0.25,2")  # another race (as the settings form's race field starts it)
        await until(pilot, lambda: app.shown_step == 0 and app.race is not race)
        kept = app.runs.list()
        assert [k.label for k in kept] == ["race variant 1: lr 0.5", "race variant 2: lr 1.0"]
        assert all(k.steps_taken == 100 and math.isfinite(k.whole_data) for k in kept)
        assert "⠒ kept" in key_line(app) and "⠒2" in key_line(app)  # the kept runs and the new race, each in colour


def margin_text(app) -> str:
    """The plot's right margin as drawn (the labels), every row."""
    grid = cells(app.plot.rows())
    _, _, _, right = frame_box(grid)
    return "\n".join("".join(ch for ch, _ in row[right + 1:]) for row in grid)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_r_in_a_race_keeps_no_variant_that_the_new_race_draws_again(size):
    # QA: `r` during a race kept a copy of every variant (the same race draws the same curves), and their
    # labels (`#1 same settings`, `#2 lr 0.5`) pushed the live variants' labels out of the margin
    race = race_of("lr=0.25,0.5,1,2", steps=400_000)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.step > 100)
        await pilot.press("r")
        await until(pilot, lambda: app.race is not race)
        await pilot.pause()
        assert app.runs.list() == []
        assert "the old race is not kept: this one draws the same curves" in app.note
        assert "kept" not in key_line(app) and "#" not in margin_text(app)
        # the names panel heads the new race as a race, with the variant shown (it said "a new run: same settings")
        heading = " ".join(" ".join(line.split()) for line in app.names.text_lines[:4])  # (it wraps when narrow)
        assert heading.startswith("a race of 4; variant 1: lr 0.25"), heading
        await pilot.press("7")
        await pilot.pause()
        assert any("no earlier runs yet" in line for line in app.panel.views[7].text_lines())


async def test_r_in_a_race_keeps_the_variant_whose_rate_was_changed():
    race = race_of("lr=0.25,0.5,1", steps=400_000)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.step > 100)
        await pilot.press("v")
        await until(pilot, lambda: app.loop.picked == 1)
        await pilot.press("greater_than_sign")  # variant 2's rate doubled mid-run: `r` would not draw its curve
        await until(pilot, lambda: len(race.runs[1].lr_changes) == 2)
        await pilot.press("r")
        await until(pilot, lambda: app.race is not race)
        await pilot.pause()
        assert [k.label for k in app.runs.list()] == ["race variant 2: lr 0.5"]
        assert "variants 1 and 3 are not kept: this race draws their curves again" in app.note
        assert "⠒ kept" in key_line(app)


async def test_picking_while_the_race_trains_switches_between_two_steps_and_training_goes_on():
    race = race_of("seed=1,2,3", steps=400_000)  # long enough to be still training at any speed
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.step > 200)
        await app.run_action("next_variant(1)")
        assert app.loop.picked == 1 and app.training is race.runs[1]
        at = race.step
        await until(pilot, lambda: app.shown_step > at + 100)  # the screen follows variant 2 as it trains
        assert app.loop.snapshot.picked == 1 and app.shown_state == State.RUNNING
        await app.run_action("next_variant(-1)")
        assert app.loop.picked == 0
        await pilot.press("space")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
@pytest.mark.parametrize("index", range(len(READY_RACES)))
async def test_each_ready_made_race_draws_its_lines_key_and_board(index, size):
    app = DashboardApp(Run.new(Config(num_steps=60)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await app.run_action(f"ready_race({index})")
        await until(pilot, lambda: app.race is not None)
        await finish(pilot, app)
        race = app.race
        cap, k = (8 if size[0] >= 100 else 4), len(race.runs)
        key = key_line(app)
        drawn = [int(n) for n in re.findall(r"⠒(\d+)", key)]  # the variants the key names (the shown is 1)
        if k <= cap:
            assert drawn == list(range(2, k + 1)), (drawn, size)
        else:  # fewer on a narrow screen: spread to the last variant
            assert len(drawn) == cap - 1 and drawn == sorted(drawn) and drawn[-1] == k, (drawn, size)
        styles = cell_styles(app)
        for n in drawn:  # every other variant drawn, in its own colour
            assert line_style(colour_of(n)) in styles, (n, size)
        lines = board(app)
        rows = [line for line in lines if "60/60" in line or "diverged" in line]
        assert len(rows) == min(len(race.runs), app.panel.views[8].content_size.height - 1)
        assert rows and all(any(v.label[:6] in row for v in race.variants) for row in rows)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_ready_made_race_starts_from_the_pages_schedule_and_gradient_unless_it_races_them(size):
    """QA 2: after a whole-data-gradient, cosine-schedule run, "learning rates 0.1 .. 5" must still show
    where one-name training diverges: its variants take the page's linear schedule and one name a step,
    the run line says nothing of the old ones, and the note says they were put back; a race of the
    gradient keeps it raced and takes the page's schedule."""
    app = DashboardApp(Run.new(Config(num_steps=60, gradient="data", schedule="cosine")),
                       speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        before = screen(app)
        assert "cosine schedule" in before and "whole-data gradient" in before  # (the run line, before)
        rates = next(i for i, (_, spec, _) in enumerate(READY_RACES) if spec.startswith("lr="))
        await app.run_action(f"ready_race({rates})")
        await until(pilot, lambda: app.race is not None)
        await pilot.pause(0.2)
        assert {(r.config.schedule, r.config.gradient) for r in app.race.runs} == {("linear", "name")}
        text = screen(app)
        run_line = str(app.status_line.render()).splitlines()[-1]
        assert "cosine" not in run_line and "gradient" not in run_line, run_line
        assert "whole-data gradient" not in text and "cosine schedule" not in text
        assert "from the page's linear schedule and one-name gradient" in app.note
        if size[0] >= 120:  # the note, as a person reads it (cut at 80 columns)
            assert "(from the page's linear schedule" in text, text
        gradients = next(i for i, (_, spec, _) in enumerate(READY_RACES) if spec.startswith("gradient="))
        await app.run_action(f"ready_race({gradients})")
        await until(pilot, lambda: app.race is not None and app.race.variants[0].label == "one-name gradient")
        assert [(r.config.schedule, r.config.gradient) for r in app.race.runs] == [("linear", "name"),
                                                                                  ("linear", "data")]
        put = app.note.split("): ")[0]  # the run before was on the page's schedule: it is not put back
        assert "schedule" not in put and "gradient" not in put, app.note


def screen(app) -> str:
    from rich.console import Console

    console = Console(width=app.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


async def test_at_80x24_a_race_of_six_draws_its_first_and_last_variants():
    """Below 100 columns 4 lines are drawn: spread over the race from its first to its last variant, so
    the ready-made rates race shows the rate that diverges (5), not only the four lowest; and the leader
    (lowest whole-data loss) in place of the middle one nearest to it, so the plot never hides the best."""
    race = Race.new(race_configs(Config(num_steps=300), race_spec("lr=0.1,0.25,0.5,1,2,5")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await finish(pilot, app)
        assert race.runs[5].diverged_at is not None  # lr 5 diverges
        key = key_line(app)
        leader = standings(race)[0].number  # lr 1 or 2 (variant 4 or 5): drawn in place of the middle one nearest
        assert leader in (4, 5)
        drawn = {3, 4, 6} if leader == 4 else {3, 5, 6}
        assert all(f"⠒{v}" in key for v in drawn) and all(f"⠒{v}" not in key for v in {2, 3, 4, 5} - drawn), key
        styles = cell_styles(app)
        assert styles.count(line_style(colour_of(6))) >= 2  # in the key and on the plot (its short line or label)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_picking_a_variant_while_the_race_trains_draws_one_batch_of_its_names(size, monkeypatch):
    # the periodic batch comes every SAMPLE_EVERY seconds; made long here, so that none is due in the test
    # on a loaded machine (a pick once drew the periodic batch beside its own: two batches of other names
    # under one heading, at the same step and temperature)
    monkeypatch.setattr("tui.plumbing.names.SAMPLE_EVERY", 30.0)
    race = race_of("lr=0.25,0.5,1,2", steps=400_000)  # still training when picked, at any speed
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.step > 50)
        for number, key in ((2, "v"), (1, "V")):
            await pilot.press(key)
            await until(pilot, lambda n=number: app.loop.picked == n - 1)
            await pilot.pause()
            assert app.shown_state == State.RUNNING
            shown = app.names.shown_lines
            at = next(i for i, line in enumerate(shown) if f"variant {number}: lr " in line)
            headings = [line for line in shown[at:] if re.match(r"step [\d,]+( ·|\s*$)", line)]  # (may wrap)
            assert len(headings) == 1, shown  # one batch: the picked variant's names at the step shown
            assert app.names.batches == 1
        await pilot.press("space")


async def test_picking_variants_of_other_widths_while_the_race_trains_shows_each_ones_weights():
    """The worker switches variants between two steps, before the screen has taken the new one's model:
    a frame in between drew the new variant's weights into the old one's (a crash when the widths differ)."""
    race = Race.new(race_configs(Config(num_steps=200_000), race_spec("n-embd=4,8,16")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.step > 200)
        for _ in range(7):
            await pilot.press("v")
            await pilot.pause(0.05)
        await until(pilot, lambda: app.loop.picked == 1 and app.view_pick == 1)
        at = race.step
        await until(pilot, lambda: race.step > at + 200 and app.shown_step > 200)
        assert app.is_running
        assert app.view_model.theta.shape == race.runs[1].model.theta.shape
        assert "variant 2: n_embd 8" in "\n".join(app.names.text_lines)
        assert "n_embd 8" in app.run_line()


async def test_at_80_columns_the_key_keeps_its_words_while_a_diverged_variant_is_shown():
    """QA: at 80x24, showing a diverged variant, the key read `•lo/hi~7,692⠒▀┄┄⠒⠒⠒ ┆ diverged` (every
    word gone); the guess's and the floor's words go first (the margin labels those lines)."""
    race = race_of("lr=0.25,0.5,1,60", steps=200_000)  # lr 60: diverges within a few steps on any CPU
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.runs[3].diverged_at is not None and race.step > 500)
        await pilot.press("V")  # the last variant: the one that diverged
        await until(pilot, lambda: app.loop.picked == 3 and app.view_pick == 3)
        await pilot.pause(0.3)
        key = key_line(app)
        assert "┆ diverged" in key and "⠒avg" in key and "▀data" in key, key
        assert all(f"⠒{n}" in key for n in (1, 2, 3)), key  # the other variants' marks stay


async def test_the_settings_form_in_a_race_holds_the_race_and_applied_as_it_is_starts_it_again():
    race = race_of("lr=0.25,0.5 seed=1,2", steps=200)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm))
        assert app.screen.query_one("#race", Input).value == "lr=0.25,0.5 seed=1,2"  # what a learner typed for it
        await pilot.press("enter")
        await until(pilot, lambda: app.race is not None and app.race is not race and app.shown_step == 0)
        assert app.race.labels == race.labels
        assert "a race of 4;" in " ".join(app.names.text_lines)


async def test_a_race_given_way_to_one_run_says_so_in_the_names_panel_and_r_keeps_the_variant_shown():
    race = race_of("lr=0.25,0.5,1", steps=200)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("v", "v")  # variant 3 shown
        await until(pilot, lambda: app.loop.picked == 2)
        await pilot.press("r")  # the same race again: variant 3 still shown
        await until(pilot, lambda: app.race is not race and app.shown_step == 0)
        assert app.loop.picked == 2 and app.training.config.learning_rate == 1.0
        assert "variant 3: lr 1.0" in " ".join(" ".join(line.split()) for line in app.names.text_lines[:3])
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm))
        app.screen.query_one("#race", Input).value = ""  # one run, with the variant's settings
        await pilot.press("enter")
        await until(pilot, lambda: app.race is None)
        heading = " ".join(" ".join(line.split()) for line in app.names.text_lines[:3])
        assert "a new run in place of the race: variant 3's settings" in heading, heading


async def test_in_a_race_the_plots_rate_is_the_step_lines_in_every_frame():
    """The rate under the plot is the one the last step shown used, as the step line says it: read from the
    frame's snapshot, not from the run's live history (the training thread is steps ahead of it)."""
    race = Race.new(race_configs(Config(num_steps=1000, learning_rate=0.1), race_spec("lr=0.1,0.2")))
    app = DashboardApp(race, speed_index=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        checked = 0
        for _ in range(12):
            await pilot.pause(0.13)
            lines = screen(app).splitlines()
            step_line = next(line for line in lines if line.lstrip().startswith("step ") and " loss " in line)
            plot_rate = next(line for line in lines if line.startswith("lr ")).split(" lr ")[-1].split()[0]
            line_rate = step_line.split(" lr ")[1].split()[0]
            assert plot_rate == line_rate, (plot_rate, step_line)
            checked += 1
        await pilot.press("space")
        assert checked == 12 and app.shown_step > 20


def _slow_average(losses: list[float], weight: float) -> float:
    """The moving average after the last loss, step by step as the status line defines it (debiased)."""
    s = 0.0
    for x in losses:
        s = weight * s + (1 - weight) * x
    return s / (1 - weight ** len(losses)) if weight else losses[-1]


@pytest.mark.parametrize("key", ["left_curly_bracket", "right_curly_bracket"])
async def test_a_new_smoothing_in_a_paused_race_shows_on_every_row_of_the_board_at_once(key):
    """Every variant's average takes the new weight (the board compares them: one weight for all), and the
    board shows it with no step taken (QA: the board kept the old averages until the next step, and only
    the variant shown was smoothed again)."""
    race = Race.new(race_configs(Config(num_steps=2000, learning_rate=0.1), race_spec("seed=1,2,3")))
    app = DashboardApp(race)
    async with app.run_test(size=(120, 40)) as pilot:
        steps = race.steps()
        assert await app.loop.halt()
        for _ in range(300):
            next(steps)
        app.loop.retake()
        await pilot.press("8")
        await pilot.pause(0.2)
        before = app.panel.views[8].text_lines()
        await pilot.press(key)
        await pilot.pause(0.3)
        lines = app.panel.views[8].text_lines()
    weights = {run.history.weight for run in race.runs}
    assert len(weights) == 1 and weights != {0.98}, weights
    weight = weights.pop()
    rows = {int(m.group(1)): m.group(2) for line in lines if (m := re.search(r"(\d) seed \d .* (\S+)$", line))}
    assert sorted(rows) == [1, 2, 3], lines
    for number, shown in rows.items():
        losses = race.runs[number - 1].history.losses.tolist()
        assert shown == wording.average(_slow_average(losses, weight)), (number, shown, lines)
    assert lines != before


async def test_in_a_race_after_a_race_no_colour_means_both_a_kept_run_and_a_variant():
    """QA: in a race after a race, kept run '#2 seed 2' and variant '2 constant schedule' had one colour (a
    kept run's colour is by its id, a variant's by its number). While a race is on, kept runs are one grey:
    on the plot (lines, labels, the key) and in the runs view."""
    race = race_of("lr=0.02,0.05,0.1", steps=150)  # slow learners: their lines stay apart from the next race's
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await app.racing.start("lr=0.5,1,2")  # variants 1..3, as kept runs #1..#3 by id
        await until(pilot, lambda: app.shown_step == 0 and app.race is not race)
        assert len(app.runs.list()) == 3
        await finish(pilot, app)
        grid = cells(app.plot.rows())
        variant_styles = {line_style(colour_of(n)) for n in (2, 3)}  # the variants drawn beside the one shown
        kept_styles, seen_variants = set(), set()
        for row in grid:
            text = "".join(ch for ch, _ in row)
            for m in re.finditer(r"#\d lr 0\.\d+", text):  # a kept run's label, in its line's colour
                kept_styles |= {st for _, st in row[m.start():m.end()]}
            seen_variants |= {st for _, st in row} & variant_styles
        assert seen_variants == variant_styles  # both other variants are drawn in their colours ...
        assert kept_styles and not kept_styles & variant_styles, kept_styles  # ... and no kept run in one of them
        key = app.plot.rows()[0]
        assert [st for text, st in key if "kept" in text] == [line_style(KEPT_IN_RACE)]
        await pilot.press("7")  # the runs view: the kept runs' labels in the same grey
        await pilot.pause()
        view = app.panel.views[7]
        grey = view.palette.style[line_style(KEPT_IN_RACE)].color
        kept_rows = [seg for row in view.rows() for seg in row if re.match(r"#\d", seg.text.strip())]
        assert len(kept_rows) == 3 and all(seg.style.color == grey for seg in kept_rows), kept_rows
        assert {view.palette.style[s].color for s in variant_styles} & {grey} == set()


async def test_at_80x24_the_board_names_the_variants_it_has_no_room_for_and_which_diverged():
    """QA: at 80x24 the rates race's board showed 4 rows and `+2 more`: the variant that diverged, the
    race's point, was one of the two left out and nothing said so."""
    race = Race.new(race_configs(Config(num_steps=300), race_spec("lr=0.1,0.2,0.5,1,2,5")))
    lines = await finished_board(race, (80, 24))
    diverged = [s.number for s in standings(race) if s.diverged_at is not None]
    assert diverged == [6]
    rows = {int(m.group(1)) for line in lines if (m := re.match(r"[▶ ] ?\d+[⠒ ] ?(\d+) lr", line))}
    more = next(line for line in lines if "more" in line)
    m = re.search(r"\+(\d+) more: (?:variants? )?([\d, ]+?)(?: \(([\d, ]+) diverged\))?\s*$", more)
    assert m, more
    left = [int(n) for n in m.group(2).split(", ")]
    assert int(m.group(1)) == len(left) and rows | set(left) == set(range(1, 7)), (rows, left)
    assert not rows & set(left)
    said = [int(n) for n in m.group(3).split(", ")] if m.group(3) else []
    assert said == [n for n in left if n in diverged], more  # each left-out variant that diverged, only those
    assert 6 in left  # (here the diverged one is ranked last, so left out)


async def test_a_variant_whose_hidden_units_all_died_says_so_on_its_board_row():
    """QA: on the tutorial's names a long race's lr 2 sat at the random guess for 180,000 steps (every ReLU
    dead: no gradient reaches a weight) and nothing on its row said why."""
    race = race_of("seed=1,2", steps=500)
    model = race.runs[1].model  # shares its row of the race's weights: killed in place
    model.wte[:] = np.abs(model.wte) + 0.01
    model.fc1[:] = -np.abs(model.fc1) - 0.01  # every pre-activation wte . fc1 < 0: every unit dead
    lines = await finished_board(race, (120, 40))
    rows = {n: line for line in lines for n in (1, 2) if f" {n} seed {n} " in line}
    assert "every hidden unit dead" in rows[2] and "every hidden unit dead" not in rows[1], lines
    assert f"{race.runs[0].reference.random_guess:.4f}" in rows[2]  # stuck at the guess, as the row says


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_race_from_the_command_line_opens_as_one_from_the_palette(size, monkeypatch):
    """QA: `--race lr=...` opened in view 1 with the names panel's heading of a single run; a race started
    from the palette opens on the board (view 8) with 'a race of K; variant 1: ...', its first line in view
    (at 80x24 the longer heading wrapped to 3 lines and, over step 0's batch, scrolled out of the panel)."""
    made = []
    monkeypatch.setattr(tui.app, "run_under_lifeline", lambda app: made.append(app) or 0)
    args = build_parser().parse_args(["--race", "lr=0.25,0.5,1,2", "--steps", "200"])
    assert tui.app.run_dashboard(make_race(args), args) == 0
    app = made[0]
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.panel.current == 8
        rows = [line for line in board(app) if re.search(r"\d lr [\d.]+ +0/200 ", line)]
        assert len(rows) == 4, board(app)  # the board, every variant on it
        heading = " ".join(" ".join(line.split()) for line in app.names.text_lines[:4])  # (it wraps when narrow)
        assert heading.startswith("a race of 4; variant 1: lr 0.25"), heading
        assert app.names.shown_lines[0].startswith("a race of 4;"), app.names.shown_lines  # not scrolled out


async def test_the_dead_units_note_of_a_variant_shown_says_the_race_goes_on_not_r_or_n():
    """QA: in a race the note said 'r or n for a new run', but r runs the whole race again and n leaves it."""
    race = race_of("seed=1,2", steps=300)
    model = race.runs[0].model  # the variant shown first, killed in place
    model.wte[:] = np.abs(model.wte) + 0.01
    model.fc1[:] = -np.abs(model.fc1) - 0.01
    app = DashboardApp(race, speed_index=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: "hidden units dead" in app.note)
        running = app.note
        app.loop.change_speed(len(SPEEDS))  # flat out to the end
        await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=30)
        await pilot.pause(0.2)
        finished = app.note
    assert running.startswith("variant 1: all hidden units dead") and "the others go on" in running, running
    assert "variant 1: all hidden units dead" in finished and "v picks another" in finished, finished
    assert "new run" not in running + finished
    for note in (VARIANT_DEAD, FINISHED_VARIANT_DEAD, RACE_FINISHED):  # whole on an 80-column note line (78)
        assert len(note.format(n=16)) <= 78, note


@pytest.mark.parametrize("width", [78, 80])
async def test_at_80_columns_the_cursor_reading_leaves_lines_out_from_its_end_never_one_in_the_middle(width):
    """QA: at 80 columns the cursor line read `⠒3 2.439 ⠒6 --` with ⠒5 drawn but left out: a shorter later
    figure was put in after the one that did not fit, as if ⠒5 had no value there."""
    race = Race.new(race_configs(Config(num_steps=300), race_spec("lr=0.1,0.2,0.5,1,2,5")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(width, 24)) as pilot:
        await finish(pilot, app)
        drawn = re.findall(r"⠒(\d)", key_line(app))  # the variants drawn beside the shown one, in order
        await pilot.press("comma")
        await pilot.pause()
        reading = key_line(app)
    assert re.match(r"(steps )?\d", reading), reading  # the cursor's reading: its steps first
    assert len(drawn) == 3, drawn
    shown = re.findall(r"⠒(\d)", reading)
    assert shown == drawn[: len(shown)], (reading, drawn)  # a prefix of the drawn ones: none skipped


async def test_in_a_race_with_nothing_kept_view_7_says_a_new_run_keeps_every_variant():
    """QA: in a race view 7 said `n or o start another and keep this one`; n keeps every variant."""
    app = DashboardApp(race_of("seed=1,2", steps=50))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        text = " ".join(app.panel.views[7].text_lines())
    assert "keep every variant of this race" in text and "keep this one" not in text, text
