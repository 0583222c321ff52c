"""A run that diverged shows the whole-data (and held-out) loss of the weights it stopped with, the same
figure everywhere: its track (Run.measure_stopped), the plot's buckets and cursor, the status line, a
race's board and standings, a kept run, the CSV export and the headless face. Before, they showed the
figure of the track's last fixed step, measured some hundred steps before the run blew up.

A diverging run's numbers differ between machines (its float path): no test here asserts a value,
only that the places agree with the weights the run stopped with and not with the stale measurement."""

from __future__ import annotations

import csv
import io
import math
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from helpers import until

from engine import Config, Run
from engine.curve import CurveBuckets
from engine.export import ExportRun, write_csv
from engine.race import Race, race_configs, race_spec, standings
from engine.runs import RunSummary
from tui.app import DashboardApp
from tui.plumbing import wording
from tui.plumbing.training_loop import SPEEDS, State
from tui.views.race import RaceView

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a diverging model's overflow


def same(a: float, b: float) -> bool:
    """Equal, NaN equal to NaN (a diverged model's figure may be NaN)."""
    return (a != a and b != b) or a == b


def diverged(config: Config, points: int | None = None) -> Run:
    """A run of `config`, tracked (at `points` fixed steps, else the default), trained until it stops."""
    run = Run.new(config)
    run.track_exact() if points is None else run.track_exact(points)
    for _ in run.steps():
        pass
    assert run.diverged_at is not None
    return run


WILD = Config(num_steps=100_000, learning_rate=1000.0, schedule="constant", holdout=0.1)  # diverges in a few steps


def test_the_track_ends_with_the_figures_of_the_weights_the_run_stopped_with():
    run = diverged(WILD)
    track = run.exact_track
    assert track is not None
    n = len(track)
    assert track.every > run.step  # the fixed steps alone would have measured step 0 only
    assert int(track.steps[n - 1]) == run.step  # measured once more where it stopped
    whole, held = run.losses_now()  # the weights it stopped with (those of its last finite step)
    assert same(track.last, whole) and same(track.heldout_last, held)
    stale = float(track.values[n - 2])  # the measurement before: at step 0
    assert int(track.steps[n - 2]) == 0 and math.isfinite(stale)
    assert wording.loss(track.last) != wording.loss(stale)


def test_a_race_variant_that_diverges_ends_its_track_as_its_solo_run_does():
    """A race's variant is noted as a solo run is: its track, and so its standing, ends with the figure
    of the weights it stopped with, which are the solo run's bit for bit (one name for all)."""
    base = Config(num_steps=100_000, schedule="constant")
    race = Race.new(race_configs(base, race_spec("lr=0.5,1000")))
    for run in race.runs:
        run.track_exact()
    steps = race.steps()
    while race.runs[1].diverged_at is None:
        next(steps)
    for _ in range(5):  # the race goes on
        next(steps)
    wild = race.runs[1]
    solo = diverged(base.with_(learning_rate=1000.0))
    assert wild.diverged_at == solo.diverged_at and wild.step == solo.step
    track = wild.exact_track
    assert track is not None and int(track.steps[len(track) - 1]) == wild.step
    assert same(track.last, wild.losses_now()[0]) and same(track.last, solo.exact_track.last)
    mine = next(s for s in standings(race) if s.number == 2)
    assert same(mine.whole, wild.losses_now()[0]) and same(mine.ema, wild.history.last_ema)
    assert wording.loss(mine.whole) != wording.loss(float(track.values[0]))


def test_the_plots_bucket_that_ends_where_the_run_stopped_reads_the_last_measurement():
    """The bucket ending at the step the run stopped at was final (and read) before the run measured
    its stopped weights: it reads that measurement too. Updated after every step, as a screen may."""
    d = diverged(WILD.with_(holdout=0.0)).step  # the step it stops at (a constant rate: whatever the length)
    run = Run.new(WILD.with_(num_steps=d * 1000, holdout=0.0))
    track = run.track_exact(16)  # every d * 1000 / 16 steps: step 0 alone before the end
    buckets = CurveBuckets(run.config.num_steps, 1000)  # bucket 0 is steps 1..d
    assert buckets.edges[1] == d
    for _ in run.steps():
        buckets.update(run.history, track)
    assert run.step == d and int(track.steps[len(track) - 1]) == d
    _, exact = buckets.lines()
    assert same(float(exact[0]), track.last) and same(buckets.span(0, 0, d).exact, run.losses_now()[0])
    assert wording.loss(float(exact[0])) != wording.loss(float(track.values[0]))


def test_a_kept_run_and_the_csv_hold_the_figure_of_the_stopped_weights():
    run = diverged(WILD)
    whole, held = run.losses_now()
    kept = RunSummary.of(run)
    _, line, held_line = kept.curves.lines([run.step])
    assert same(kept.whole_data, whole) and same(float(line[0]), whole) and same(float(held_line[0]), held)
    out = io.BytesIO()
    write_csv([ExportRun.of_run(run, "embedded names")], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    last = next(r for r in rows if r["step"] == str(run.step))
    # the figure written (repr: 'nan' for a NaN measurement, never an empty "not measured" cell)
    assert last["whole_data"] != "" and same(float(last["whole_data"]), whole)
    assert last["held_out"] != "" and same(float(last["held_out"]), held)


def _status_items(app) -> list[str]:
    return str(app.status_line.render()).splitlines()[0].split(" │ ")


def _status_figure(app, name: str) -> str:
    item = next(i for i in _status_items(app) if i.startswith(name))
    return item[len(name):].strip()


async def test_the_status_and_the_race_board_say_the_same_of_a_diverged_variant():
    race = Race.new(race_configs(Config(num_steps=100_000, schedule="constant"), race_spec("lr=0.5,1000")))
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: race.runs[1].diverged_at is not None and app.shown_step > 20, timeout=30)
        await pilot.press("space")  # paused: the race goes no further
        await until(pilot, lambda: app.loop.state == State.PAUSED)
        await pilot.press("v")  # variant 2, lr 1000, stopped
        await until(pilot, lambda: app.loop.picked == 1)
        await pilot.press("8")
        at = race.runs[1].diverged_at + 1
        await until(pilot, lambda: f"diverged at step {at:,}" in str(app.status_line.render()))
        view = app.panel.views[8]
        assert isinstance(view, RaceView)
        await until(pilot, lambda: any("lr 1000.0" in line for line in view.text_lines()))
        row = next(line for line in view.text_lines() if "lr 1000.0" in line)
        whole, avg = re.split(r"\s{2,}", row.split(f"diverged {at:,}")[1].strip())
        assert whole == _status_figure(app, "whole-data loss")
        assert avg == _status_figure(app, wording.MOVING_AVERAGE)
        truth = race.runs[1].losses_now()[0]  # at the weights it stopped with
        assert whole == wording.loss(truth) != wording.loss(float(race.runs[1].exact_track.values[0]))
        assert avg == wording.loss(race.runs[1].history.last_ema)  # its finite steps' average, not "--"


async def test_the_status_and_the_plots_cursor_say_the_same_of_a_diverged_run():
    run = Run.new(WILD.with_(holdout=0.0))
    app = DashboardApp(run, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.DIVERGED, timeout=30)
        await pilot.pause(0.1)
        status = _status_figure(app, "whole-data loss")
        assert status == wording.loss(run.losses_now()[0])
        await pilot.press("comma")  # the cursor on the newest column: steps 1 .. where it stopped
        await until(pilot, lambda: app.plot.cursor is not None)
        await pilot.pause(0.1)
        key = "".join(t for t, _ in app.plot.rows()[0])
        shown = re.search(r"▀ whole-data (NaN|> 1000|\S+)", key)
        assert shown is not None, key
        assert shown.group(1) == status != wording.loss(float(run.exact_track.values[0]))
        # the column's one-name losses as the status words a loss past 1000, never a raw huge number
        dots = re.search(r"• (.+?)\.\.(.+?)  ", key)
        assert dots is not None and "e+" not in dots.group(0), key


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_headless_solo_and_race_say_the_same_of_a_diverged_run():
    solo = cli("--headless", "--lr", "1000", "--schedule", "constant", "--steps", "300")
    assert solo.returncode == 1 and "diverged at step" in solo.stdout
    whole = re.search(r"whole-data loss (NaN|> 1000|\S+) \|", solo.stdout)
    assert whole is not None, solo.stdout
    race = cli("--headless", "--race", "lr=0.5,1000", "--schedule", "constant", "--steps", "300")
    assert race.returncode == 0, race.stderr
    row = next(line for line in race.stdout.splitlines() if line.startswith(" 2 lr 1000.0"))
    at = re.search(r"diverged at step ([\d,]+)", solo.stdout)
    assert at is not None and f"diverged at {at.group(1)}" in row
    assert re.split(r"\s{2,}", row.split(f"diverged at {at.group(1)}")[1].strip())[0] == whole.group(1)


async def test_the_runs_view_says_what_the_status_says_of_a_diverged_run_and_of_it_kept():
    run = Run.new(WILD)  # with a held-out set
    app = DashboardApp(run, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.DIVERGED, timeout=30)
        await pilot.pause(0.1)
        avg = _status_figure(app, wording.MOVING_AVERAGE)
        whole = _status_figure(app, "whole-data loss (training names)")
        held = _status_figure(app, "held-out loss")
        assert whole == wording.loss(run.losses_now()[0]) and held == wording.loss(run.losses_now()[1])
        steps = f"diverged {run.diverged_at + 1:,}"  # as the status and view 8 number it (QA: it read 567/...)
        assert f"diverged at step {run.diverged_at + 1:,}/" in str(app.status_line.render())

        def figures(row: str) -> list[str]:  # moving average, whole-data, held-out, as view 7 shows them
            return re.split(r"\s{2,}", row.split(steps, 1)[1].strip())[:3]

        await pilot.press("7")
        view = app.panel.views[7]
        await until(pilot, lambda: any("current run" in line for line in view.text_lines()))
        current = next(line for line in view.text_lines() if "current run" in line)
        assert figures(current) == [avg, whole, held], current
        await pilot.press("n")  # a new run (another seed): the diverged one is kept as #1
        await until(pilot, lambda: any(line.lstrip("▶ ").startswith("#1") for line in view.text_lines()))
        kept = next(line for line in view.text_lines() if line.lstrip("▶ ").startswith("#1"))
        assert figures(kept) == [avg, whole, held], kept
