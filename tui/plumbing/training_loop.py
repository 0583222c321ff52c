"""The bridge between the engine's training generator and the screen, with no Textual in it.

One thread (the dashboard's worker) calls `work()`, which pulls from `Run.steps()` (or, for a race,
`Race.steps()`: one step of every variant at once) at the chosen pace and honours play / pause /
single-step requests; while the screen answers a key or a click it takes no step (`hold()`, until the
answer is drawn: `release()`). In a race `run` is the picked variant's Run (`pick()`), the one the snapshot
copies: the screen shows that variant, the others train on. The screen never touches the live model: the
worker publishes an immutable `Snapshot` (a copy of the weights and the figures) at most every
`PUBLISH_EVERY` seconds and whenever it stops, and the screen polls `snapshot` on a timer; play() and pause()
make the new state's snapshot themselves, between two steps under the worker's lock, and the worker calls
`on_change` when it publishes a new state or a single step, so that the screen answers a key at once.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import numpy as np

from engine import Run, StepRecord
from engine.race import Race, Standing, now_affordable, standings

PUBLISH_EVERY = 0.05  # seconds between snapshots while training runs
SPEEDS: tuple[float | None, ...] = (1, 3, 10, 30, 100, 300, 1_000, 3_000, 10_000, None)  # steps/s; None: flat out
DEFAULT_SPEED = SPEEDS.index(100)  # the tutorial's 1,000 steps in about 10 seconds
BURST = 64  # steps between checks for requests when running flat out
STEP_TIME = 0.05  # seconds of steps at most between two such checks
HOLD = 0.05  # seconds at most that the screen's answer to a key or a click holds the training (hold())
RELEASE_AFTER = 0.005  # seconds the hold lasts once the answer is drawn: its output is written meanwhile


class State(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    DIVERGED = "diverged"


@dataclass(frozen=True)
class Snapshot:
    step: int  # steps taken
    theta: np.ndarray  # a copy of the weights after `step` steps
    record: StepRecord | None  # the last step's record
    state: State
    steps_per_s: float  # measured over about the last second of training
    elapsed: float  # seconds spent running (pauses excluded)
    grad: np.ndarray | None = None  # a copy of the model's grad buffer: the last step's lr * gradient
    race_step: int = 0  # in a race: the race's steps taken (a stopped variant's `step` stays behind)
    picked: int = 0  # in a race: the variant shown (0-based)
    # the figures a screen shows beside `step`, read with it between two steps (read live, the training
    # thread would be steps ahead of `step`: the status said step 64 beside step 1,068's moving average)
    ema: float = math.nan  # the moving average after `step` steps
    # the whole-data and held-out losses of `theta` (held-out None without a held-out set), measured with it
    # (~50 us): the run's ExactTrack measures at fixed steps only, in a long run up to ~1,000 steps before
    # `step` (QA: 2.6051 beside step 33,203, whose weights score 2.6470)
    exact: float = math.nan
    heldout: float | None = None
    standings: tuple[Standing, ...] = ()  # in a race: every variant's place (engine.race.standings)


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:,.0f}/s"


class TrainingLoop:
    def __init__(self, run: Run | Race, speed_index: int = DEFAULT_SPEED):
        self.race = run if isinstance(run, Race) else None
        self.picked = 0  # in a race: the index of the variant on show
        self.run: Run = run.runs[0] if isinstance(run, Race) else run
        self.speed_index = speed_index
        self._gen: Iterator[object] = run.steps()
        self._wanted_running = False
        self._single = 0  # single steps requested while paused
        self._wake = threading.Event()
        self.lock = threading.Lock()  # held by the worker around every step
        self._elapsed = 0.0
        self._rate = 0.0
        self._pace_origin = (0.0, self.at)  # (time, step) the pace is measured from
        self._last_record: StepRecord | None = None
        self._records: list[StepRecord | None] = []  # in a race: every variant's last record
        self._pick: int | None = None  # a variant to show, asked for by the screen (pick())
        self._started = False  # work() has begun
        self._done = run.finished
        self._stop = False
        self._held_until = 0.0  # perf_counter time until which the worker takes no step (hold()); 0.0: none
        # called by the worker (its thread) when it publishes a snapshot that shows a new state or a single
        # step: the screen draws it at once rather than at its next frame (the app hands it to its loop)
        self.on_change: Callable[[], None] | None = None
        self.stopped = threading.Event()  # set when work() has returned
        self.snapshot = self._make_snapshot()

    @property
    def at(self) -> int:
        """Steps taken by the run, or by the race (a stopped variant's own count stays behind)."""
        return self.race.step if self.race is not None else self.run.step

    # --- requests, from the screen's thread -----------------------------------------------------
    def pick(self, index: int) -> None:
        """In a race: show variant `index` (0-based) from now on. The worker makes the switch between two
        steps (within STEP_TIME) and publishes its snapshot; when no worker trains, it is made here.
        (Not by taking the lock: a training thread that re-takes it at once can keep a waiter out for
        seconds.) `picked` says when it has happened."""
        if self.race is None or not 0 <= index < len(self.race.runs):
            return
        self._pick = index
        self._wake.set()
        if self.stopped.is_set() or self._done or not self._started:
            self._apply_pick()

    def _apply_pick(self) -> None:
        index, self._pick = self._pick, None
        if index is None or self.race is None:
            return
        self.picked, self.run = index, self.race.runs[index]
        # its record of this step; a variant that has stopped (diverged, or at its end) has none: its last
        self._last_record = (self._records[index] if self._records else None) or self.run.last_record()
        self.snapshot = self._make_snapshot()

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    def play(self) -> None:
        if not self._done:
            self._wanted_running = True
            self._publish_between_steps()
            self._repace()

    def pause(self) -> None:
        self._wanted_running = False
        self._publish_between_steps()
        self._wake.set()

    def _publish_between_steps(self) -> None:
        """From the screen's thread, after play() or pause(): the new state's snapshot now, so that the
        screen's answer to the key shows it. Taken between two steps: a burst ends at the next step when
        the screen holds the training (a key's hold()); if the lock is not free within 20 ms (a step on a
        very long name), the worker publishes it itself as soon as it can (on_change)."""
        if self.lock.acquire(timeout=0.02):
            try:
                self.snapshot = self._make_snapshot()
            finally:
                self.lock.release()

    def toggle(self) -> None:
        self.pause() if self._wanted_running else self.play()

    def step_once(self) -> None:
        if not self._done and not self._wanted_running:
            self._held_until = 0.0
            self._single += 1
            self._wake.set()

    def hold(self, seconds: float = HOLD) -> None:
        """From the screen's thread, as a key press or a click arrives: take no step (the worker waits,
        without the interpreter lock) until `release()`, for `seconds` at most, so that the screen's
        answer is drawn at once rather than in turns with the training. A step under way ends first."""
        self._held_until = time.perf_counter() + seconds

    def release(self, after: float = 0.0) -> None:
        """The screen has drawn its answer: training goes on, `after` seconds from now (the screen's
        output is written by another thread, which needs the interpreter too)."""
        if self._held_until:
            self._held_until = min(self._held_until, time.perf_counter() + after) if after > 0.0 else 0.0
            self._wake.set()  # the worker waits again, for the time left

    @property
    def held(self) -> bool:
        return self._held_until > 0.0 and time.perf_counter() < self._held_until

    def stop(self) -> None:
        """Ask work() to return (within 0.1 s); `stopped` is set when it has."""
        self._stop = True
        self._wake.set()

    async def halt(self) -> bool:
        """Stop work() and wait, without holding the screen's event loop, until it has really returned:
        True once it has (at most 0.1 s), False if not within 5 s. Asked to stop, work() returns at once,
        even if it only begins afterwards: so the worker running it need not (and must not) be cancelled;
        one cancelled before its thread began would never run, and so never say it stopped."""
        self.stop()
        for _ in range(1000):
            if self.stopped.is_set():
                return True
            await asyncio.sleep(0.005)
        return False

    def change_speed(self, delta: int) -> None:
        self.speed_index = min(max(self.speed_index + delta, 0), len(SPEEDS) - 1)
        self._repace()

    def _repace(self) -> None:
        self._pace_origin = (time.perf_counter(), self.at)
        self._wake.set()

    @property
    def state(self) -> State:
        if self.race is None and self.run.diverged_at is not None:  # a race goes on without a variant
            return State.DIVERGED
        if self._done:
            return State.FINISHED
        if self._wanted_running:
            return State.RUNNING
        return State.IDLE if self.at == 0 else State.PAUSED

    # --- the worker -----------------------------------------------------------------------------
    def work(self, cancelled: Callable[[], bool]) -> None:
        """Train until the run ends, `stop()` is called or `cancelled()` says stop. Never blocks for
        more than 0.1 s, so a quit or a reset is never kept waiting."""
        try:
            self._work(cancelled)
        finally:
            self.stopped.set()

    def _work(self, cancelled: Callable[[], bool]) -> None:
        self._started = True
        window_t, window_step = time.perf_counter(), self.at
        last_publish, prev = 0.0, time.perf_counter()
        while not (self._stop or self._done or cancelled()):
            if self._pick is not None:
                with self.lock:
                    self._apply_pick()
            now = time.perf_counter()
            if self._wanted_running:
                self._elapsed += now - prev
            prev = now
            held = self._held_until
            if held:
                if now < held:  # the screen answers a key: it has the interpreter to itself
                    self._wake.wait(min(held - now, 0.1))
                    self._wake.clear()
                    continue  # (a hold is not a pause: its time counts as time running)
                if self._held_until == held:  # (not a newer hold, asked for just now)
                    self._held_until = 0.0
            n = self._steps_due(now)
            if n == 0:
                self._publish_if_changed()
                self._wake.wait(self._wait_time(now))
                self._wake.clear()
                if not self._wanted_running:
                    window_t, window_step = time.perf_counter(), self.at
                continue
            self._take_steps(n)
            t1 = time.perf_counter()
            if t1 - window_t >= 0.5:
                self._rate = (self.at - window_step) / (t1 - window_t)
                window_t, window_step = t1, self.at
            if t1 - last_publish >= PUBLISH_EVERY or self._done or not self._wanted_running:
                self._publish()
                last_publish = t1
        if self._pick is not None:
            self._apply_pick()
        self._publish()

    def _steps_due(self, now: float) -> int:
        if self._single and not self._wanted_running:
            self._single -= 1
            return 1
        if not self._wanted_running:
            return 0
        if self.speed is None:
            return BURST
        t_origin, step_origin = self._pace_origin
        due = step_origin + int((now - t_origin) * self.speed) + 1
        return max(0, min(due - self.at, BURST))

    def _wait_time(self, now: float) -> float:
        if not self._wanted_running or self.speed is None:
            return 0.1
        t_origin, step_origin = self._pace_origin
        next_due = t_origin + (self.at - step_origin) / self.speed
        return min(max(next_due - now, 0.0005), 0.1)

    def _take_steps(self, n: int) -> None:
        """Up to n steps, returning early when asked to stop, to pick a variant or to hold, or after
        STEP_TIME seconds (a step on a very long name can take a second: a quit never waits for a whole
        burst of them). The requests are read before every step; the clock every 8 steps."""
        deadline = time.perf_counter() + STEP_TIME
        with self.lock:
            if self.race is not None:
                self._race_steps(n, deadline)
                return
            record: StepRecord | None = None
            steps = cast(Iterator[StepRecord], self._gen)  # a run's generator (a race's: _race_steps)
            try:
                for i in range(n):
                    if self._stop or self._pick is not None or self._held_until or (
                            i & 7 == 7 and time.perf_counter() > deadline):
                        return
                    item = next(steps, None)
                    if item is None:  # the run's end: its last record stays the one shown
                        self._done, self._wanted_running = True, False
                        return
                    record = item
                    loss = record.loss
                    if loss - loss != 0.0:  # NaN or inf (StepRecord.diverged, without the call): the last record
                        self._done, self._wanted_running = True, False
                        return
                    if self.run.finished:  # its last step (taken by `.` too: no further step to find the end)
                        self._done, self._wanted_running = True, False
                        return
            finally:
                if record is not None:
                    self._last_record = record

    def _race_steps(self, n: int, deadline: float) -> None:
        """The same for a race: each step gives every variant's record (None for one that has stopped)."""
        gen = self._gen
        for i in range(n):
            if self._stop or self._pick is not None or self._held_until or (
                    i & 7 == 7 and time.perf_counter() > deadline):
                return
            item = next(gen, None)
            if item is None:
                self._done, self._wanted_running = True, False
                return
            self._records = item  # type: ignore[assignment]
            self._last_record = self._records[self.picked] or self._last_record
            if self.race is not None and self.race.finished:  # every variant at its end or stopped
                self._done, self._wanted_running = True, False
                return

    def _publish_if_changed(self) -> None:
        s = self.snapshot
        if s.step != self.run.step or s.state != self.state or (self.race is not None and s.race_step != self.at):
            self._publish()

    def _publish(self) -> None:
        """A new snapshot; `on_change` when it shows a new state, or a step taken while not running."""
        old, new = self.snapshot, self._make_snapshot()
        self.snapshot = new
        if self.on_change is not None and (new.state != old.state or (
                new.state != State.RUNNING and new.race_step != old.race_step)):
            self.on_change()

    def retake(self) -> None:
        """A new snapshot of the run as it stands, for a change made between two steps that is not a step
        (a new smoothing weight: the moving average shown). Call it with `lock` held."""
        self.snapshot = self._make_snapshot()

    def _make_snapshot(self) -> Snapshot:
        """From the worker between two steps (or with it stopped, or under its lock): the weights and the
        figures of one and the same step."""
        rate = self._rate if self._wanted_running else 0.0
        run = self.run
        # every variant's figures at this step, as the status line's (the board and the status agree); in a
        # race of large models, too costly 20 times a second: the track's fixed-step figures (README)
        now = self.race is not None and now_affordable(self.race)
        board = tuple(standings(self.race, now=now)) if self.race is not None else ()
        shown = next((s for s in board if s.number == self.picked + 1), None) if now else None
        # a diverged run's: at the weights it stops with, as its track's
        whole, heldout = (shown.whole, shown.heldout) if shown is not None else run.losses_now()
        return Snapshot(run.step, run.model.theta.copy(), self._last_record, self.state, rate,
                        self._elapsed, run.model.grad.copy(), self.at, self.picked, run.history.last_ema,
                        whole, heldout if run.heldout is not None else None, board)
