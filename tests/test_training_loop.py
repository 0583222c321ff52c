"""The training loop's bursts (tui/plumbing/training_loop.py): what the worker leaves for the screen when a
run ends or diverges in the middle of a burst of steps, and the order of the steps it takes."""

from __future__ import annotations

import math
import threading

from engine import Config, Run
from engine.race import Race, now_affordable, race_configs, race_spec
from tui.plumbing.training_loop import BURST, SPEEDS, State, TrainingLoop

FAST = SPEEDS.index(None)


def _train_to_the_end(run: Run) -> TrainingLoop:
    loop = TrainingLoop(run, FAST)
    loop.play()
    thread = threading.Thread(target=loop.work, args=(lambda: False,), daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    return loop


def test_a_run_that_ends_inside_a_burst_shows_its_last_step():
    steps = 3 * BURST + 5  # the end falls in the middle of a burst
    reference = list(Run.new(Config(num_steps=steps)).steps())
    loop = _train_to_the_end(Run.new(Config(num_steps=steps)))
    snap = loop.snapshot
    assert snap.state == State.FINISHED and snap.step == steps
    assert snap.record == reference[-1]  # the same step, loss, lr and name as a plain run's last record


def test_a_run_that_diverges_inside_a_burst_shows_the_step_that_diverged():
    config = Config(num_steps=5000, learning_rate=200.0)
    reference = list(Run.new(config).steps())
    assert not math.isfinite(reference[-1].loss)  # it does diverge (the generator's last record)
    loop = _train_to_the_end(Run.new(config))
    snap = loop.snapshot
    assert snap.state == State.DIVERGED
    assert snap.record is not None and snap.record.step == reference[-1].step and not math.isfinite(snap.record.loss)
    assert snap.step == reference[-1].step  # the steps before it were taken, that one was not


def test_a_snapshot_measures_every_variant_at_its_step_unless_the_race_is_too_large_for_that():
    """20 snapshots a second: each measures every variant's whole-data loss at its step (the board and the
    status agree), but a race of large models would spend most of its time on that: it reads the track's
    fixed-step figures for the board, and the status still gets the shown variant's own."""
    for n_embd, measured in ((16, True), (256, False)):
        race = Race.new(race_configs(Config(num_steps=100_000, n_embd=n_embd), race_spec("seed=1,2")))
        for run in race.runs:
            run.track_exact()
        steps = race.steps()
        for _ in range(30):  # past the track's measurement at step 0, before its next (every 98 steps)
            next(steps)
        assert now_affordable(race) is measured
        snap = TrainingLoop(race, FAST)._make_snapshot()
        now = [run.losses_now()[0] for run in race.runs]
        board = {s.number: s.whole for s in snap.standings}
        assert snap.exact == now[0]  # the status: the shown variant's own, either way
        if measured:
            assert [board[1], board[2]] == now
        else:
            assert [board[1], board[2]] == [run.exact_track.last for run in race.runs] != now
