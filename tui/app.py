"""The dashboard: the app owns the state and the keys; the widgets draw what they are given.

Data flow: `Run.steps()` (engine) -> `TrainingLoop.work()` in ONE thread worker -> `loop.snapshot`
-> `refresh_view()` on a 10 Hz timer -> widgets. The worker never touches a widget.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import numpy as np
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Footer
from textual.worker import Worker, get_current_worker

from engine import Model, Run, checkpoint, next_token_probs, sample_names_from_grid, uniform_grid
from engine.errors import MicroMLPError
from tui.distribution import DistributionChart
from tui.help_panel import HelpPanel
from tui.loss_plot import LossPlot
from tui.names_panel import NamesPanel
from tui.status_line import StatusLine
from tui.training_loop import DEFAULT_SPEED, Snapshot, State, TrainingLoop, speed_label

FRAME = 0.1  # seconds between screen refreshes
SAMPLE_EVERY = 2.0  # seconds between name batches while training runs
NAMES_PER_BATCH = 8
T_STEP, T_MIN, T_MAX = 0.1, 0.1, 5.0
EXACT_POINTS = 1000  # most whole-data-loss points kept for the plot
DEFAULT_SAVE = "micromlp-checkpoint.npz"


class DashboardApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "micromlp-tui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [  # the footer shows one entry per pair, so that every key fits in 80 columns
        Binding("space", "toggle", "Run"),
        Binding("full_stop", "step", "Step", key_display="."),
        Binding("r", "reset", "Reset"),
        Binding("plus,equals_sign", "temperature(1)", "Temp", key_display="±"),
        Binding("minus", "temperature(-1)", "Temp-", show=False),
        Binding("left", "token(-1)", "Char", key_display="←→"),
        Binding("right", "token(1)", "Token", show=False),
        Binding("g", "sample", "New"),
        Binding("right_square_bracket", "speed(1)", "Pace", key_display="[]"),
        Binding("left_square_bracket", "speed(-1)", "Slower", show=False),
        Binding("l", "log_y", "Log"),
        Binding("s", "save", "Save"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "close_help", "Close help", show=False),
        Binding("up", "scroll_help(-1)", show=False),
        Binding("down", "scroll_help(1)", show=False),
        Binding("pageup", "scroll_help(-10)", show=False),
        Binding("pagedown", "scroll_help(10)", show=False),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    temperature: reactive[float] = reactive(0.5, init=False)
    """Sampling temperature for the names and the next-token chart."""
    token: reactive[int] = reactive(0, init=False)
    """The token whose next-token distribution is shown."""

    def __init__(self, run: Run, save_path: str | None = None, speed_index: int = DEFAULT_SPEED):
        super().__init__()
        self.training = run
        self.save_path = Path(save_path or DEFAULT_SAVE)
        self.loop = TrainingLoop(run, speed_index)
        self.view_model: Model = run.model.copy()  # the screen's copy of the weights
        self.set_reactive(DashboardApp.temperature, run.config.temperature)
        self.set_reactive(DashboardApp.token, run.dataset.bos)
        self._t_range = (min(T_MIN, run.config.temperature), max(T_MAX, run.config.temperature))
        self.note = ""  # a line under the status: saves, errors
        self.frames = 0
        self._reset_view_state()

    def _reset_view_state(self) -> None:
        self._shown: Snapshot | None = None
        self._unplotted = 0  # steps taken since the plot was last drawn
        self._exact: tuple[list[float], list[float]] = ([], [])
        self._grid = uniform_grid(seed=0, count=NAMES_PER_BATCH, max_len=self.training.config.max_len)
        self._grid_seed = 0
        self._last_batch = 0.0
        self._final_shown = False
        self._worker: Worker[None] | None = None
        ds = self.training.dataset
        self._labels = [ds.token_label(i) for i in range(ds.vocab_size)]

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield LossPlot(id="loss-plot")
            yield NamesPanel(id="names")
        yield DistributionChart(id="distribution")
        yield StatusLine(id="status")
        yield Footer(compact=True)
        yield HelpPanel(id="help")

    def on_mount(self) -> None:
        self.plot = self.query_one(LossPlot)
        self.names = self.query_one(NamesPanel)
        self.names.border_title = "generated names"
        self.chart = self.query_one(DistributionChart)
        self.status_line = self.query_one(StatusLine)
        self.help_panel = self.query_one(HelpPanel)
        self._worker = self._train(self.loop)
        self.refresh_view(force=True)
        self.sample_batch("start")
        self.set_interval(FRAME, self.refresh_view)

    # --- the worker -------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="training", exit_on_error=True)
    def _train(self, loop: TrainingLoop) -> None:
        """Bound to the loop it was started for: a worker that starts late never drives a newer one."""
        worker = get_current_worker()
        loop.work(lambda: worker.is_cancelled)

    @property
    def shown_step(self) -> int:
        """The step the screen shows (the UI's own state, for tests and terminal checks)."""
        return self._shown.step if self._shown else self.training.step

    @property
    def shown_state(self) -> State:
        return self._shown.state if self._shown else self.loop.state

    # --- drawing ----------------------------------------------------------------------------------
    def refresh_view(self, force: bool = False) -> None:
        snap = self.loop.snapshot
        changed = force or snap is not self._shown
        if changed:
            moved = snap.step - (self._shown.step if self._shown else 0)
            state_changed = self._shown is None or snap.state != self._shown.state
            self._shown = snap
            self.view_model.theta[:] = snap.theta
            self._record_exact(snap.step)
            self._unplotted += moved
            if force or state_changed or self._unplotted >= self._half_column():
                self.draw_plot()
            self.draw_chart()
        if snap.state == State.RUNNING and time.monotonic() - self._last_batch >= SAMPLE_EVERY:
            self.sample_batch("", new_draws=True)
        if snap.state in (State.FINISHED, State.DIVERGED) and not self._final_shown:
            self._final_shown = True
            self._show_final(snap)
        self.draw_status(snap)
        self.frames += 1

    def _record_exact(self, step: int) -> None:
        xs, ys = self._exact
        if xs and xs[-1] == step:
            return
        xs.append(step)
        ys.append(self.training.reference.dataset_loss(self.view_model))
        if len(xs) > EXACT_POINTS:  # keep the first and every other one after it
            self._exact = (xs[::2] + ([xs[-1]] if len(xs) % 2 == 0 else []),
                           ys[::2] + ([ys[-1]] if len(ys) % 2 == 0 else []))

    def _half_column(self) -> int:
        """Steps that move the curve by half a screen column: fewer change nothing visible."""
        return max(1, self.training.config.num_steps // max(2 * self.plot.size.width, 1))

    def draw_plot(self) -> None:
        self._unplotted = 0
        ref = self.training.reference
        self.plot.show(self.training.history, self._exact, ref.random_guess, ref.floor, self.training.config.num_steps)

    def draw_chart(self) -> None:
        ds, t = self.training.dataset, self.token
        counts = ds.counts[t].astype(np.float64)
        data = counts / counts.sum() if counts.sum() else counts
        model = next_token_probs(self.view_model, t, self.temperature)
        self.chart.show(self._labels, model, data, context=t, temperature=self.temperature)

    def draw_status(self, snap: Snapshot) -> None:
        rec = snap.record
        state = snap.state.value
        if snap.state == State.DIVERGED and rec is not None:
            state = f"diverged at step {rec.step + 1}"
        self.status_line.show(
            state=state, step=snap.step, total=self.training.config.num_steps,
            lr=rec.lr if rec else self.training.config.learning_rate, ema=self.training.history.last_ema,
            exact=self._exact[1][-1] if self._exact[1] else float("nan"), rate=snap.steps_per_s,
            elapsed=snap.elapsed, temperature=self.temperature, speed=speed_label(self.loop.speed),
            params=self.training.model.num_params, note=self.note,
        )

    # --- names ------------------------------------------------------------------------------------
    def sample_batch(self, reason: str, new_draws: bool = False) -> None:
        if new_draws:
            self._grid_seed += 1
            self._grid = uniform_grid(self._grid_seed, NAMES_PER_BATCH, self.training.config.max_len)
        names = sample_names_from_grid(self.view_model, self.training.dataset, self.temperature, self._grid)
        step = self._shown.step if self._shown else self.training.step
        heading = f"step {step} · T {self.temperature:.2f}" + (f" · {reason}" if reason else "")
        known = [self.training.dataset.is_training_name(n) for n in names]
        if reason == "same draws":  # a temperature change: the newest batch re-sampled in place
            self.names.replace_last(heading, names, known)
        else:
            self.names.add_batch(heading, names, known)
        self._last_batch = time.monotonic()

    def _show_final(self, snap: Snapshot) -> None:
        if snap.state == State.DIVERGED:
            self.note = "training diverged: try a smaller --lr. The last finite weights can still be saved (s)."
            return
        names = self.training.sample(temperature=self.temperature)  # the run's own random stream: the tutorial's
        self.names.show_final(names, self.temperature, [self.training.dataset.is_training_name(n) for n in names])

    # --- keys -------------------------------------------------------------------------------------
    def action_toggle(self) -> None:
        self.loop.toggle()
        self.refresh_view()

    def action_step(self) -> None:
        self.loop.step_once()

    def action_temperature(self, direction: int) -> None:
        # rounded, then kept in [T_MIN, T_MAX]; a value given outside it (--temperature 0.001) is
        # only ever moved towards the range, never rounded to 0 (an invalid temperature)
        t = min(max(round(self.temperature + direction * T_STEP, 2), T_MIN), T_MAX)
        if (t - self.temperature) * direction > 0:
            self.temperature = t

    def watch_temperature(self) -> None:
        self.sample_batch("same draws")
        self.draw_chart()
        self.draw_status(self.loop.snapshot)

    def action_token(self, delta: int) -> None:
        self.token = (self.token + delta) % self.training.dataset.vocab_size

    def watch_token(self) -> None:
        self.draw_chart()

    def on_distribution_chart_token_picked(self, message: DistributionChart.TokenPicked) -> None:
        self.token = message.token

    def action_sample(self) -> None:
        self.sample_batch("new draws", new_draws=True)

    def action_speed(self, delta: int) -> None:
        self.loop.change_speed(delta)
        self.draw_status(self.loop.snapshot)

    def action_log_y(self) -> None:
        self.plot.log_y = not self.plot.log_y
        self.draw_plot()

    def action_help(self) -> None:
        # visibility, not display: showing it then costs a repaint, not a layout of the whole screen
        self.help_panel.visible = not self.help_panel.visible

    def action_close_help(self) -> None:
        self.help_panel.visible = False

    def action_scroll_help(self, lines: int) -> None:
        if self.help_panel.visible:
            self.help_panel.scroll_relative(y=lines, animate=False)

    async def action_reset(self) -> None:
        await self._stop_worker()
        run = self.training.fresh()
        self.training, self.loop = run, TrainingLoop(run, self.loop.speed_index)
        self.view_model = run.model.copy()
        self._reset_view_state()
        self.note = "reset: a fresh run with the same settings"
        self.names.clear(f"a new run: seed {run.config.seed}, {run.config.num_steps:,} steps")
        self._worker = self._train(self.loop)
        self.refresh_view(force=True)
        self.sample_batch("reset")

    async def _stop_worker(self) -> None:
        """Stop the training thread and wait until it has really returned. The Textual worker is
        not cancelled: one cancelled before its thread began would never run, and so never say it
        stopped; asked to stop, the loop returns at once, even if it only begins afterwards."""
        self.loop.stop()
        for _ in range(1000):  # 5 s at the very most; it takes at most 0.1 s
            if self.loop.stopped.is_set():
                return
            await asyncio.sleep(0.005)
        self.log.error("the training thread did not stop within 5 s")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not self.screen_stack:
            return  # a key that arrives while the app is shutting down has no screen to go to
        await super().on_event(event)

    async def action_quit(self) -> None:
        self.loop.stop()
        self.exit(0)

    def action_save(self) -> None:
        with self.loop.lock:  # between two steps
            ckpt = self.training.to_checkpoint()
        self.note = f"saving step {ckpt.step} to {self.save_path} ..."
        self._save(ckpt, self.save_path)

    @work(thread=True, group="save")
    def _save(self, ckpt: checkpoint.Checkpoint, path: Path) -> None:
        try:
            where = checkpoint.save(path, ckpt)
            note = f"saved step {ckpt.step} to {where.resolve()}"
        except MicroMLPError as exc:
            note = f"not saved: {exc}"
        except OSError as exc:
            note = f"not saved: {path}: {exc.strerror or exc}"
        self.call_from_thread(self._set_note, note)

    def _set_note(self, note: str) -> None:
        self.note = note
        self.draw_status(self.loop.snapshot)


def make_app(run: Run, args: argparse.Namespace) -> DashboardApp:
    """The one app factory, used by the console command and the tests."""
    return DashboardApp(run, save_path=args.save)


def run_dashboard(run: Run, args: argparse.Namespace) -> int:
    app = make_app(run, args)
    app.run()
    return app.return_code or 0
