"""The dashboard: the app owns the state and the keys; the widgets draw what they are given.

Data flow: `Run.steps()` (engine) -> `TrainingLoop.work()` in ONE thread worker -> `loop.snapshot`
-> `refresh_view()` on a 10 Hz timer -> widgets. The worker never touches a widget.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import termios
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import numpy as np
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from engine import Model, Run, checkpoint, next_token_probs
from engine.inspect import dead_units
from engine.printable import printable
from engine.runs import RunRegistry, data_name
from tui.plumbing.commands import COMMANDS
from tui.plumbing.experiments import Experiments
from tui.plumbing.layout import fit_heights
from tui.plumbing.lifeline import Lifeline
from tui.plumbing.names import NameBatches, final_samples
from tui.plumbing.saving import DEFAULT_SAVE, FlagOutputs, save_checkpoint
from tui.plumbing.training_loop import DEFAULT_SPEED, Snapshot, State, TrainingLoop, speed_label
from tui.views import ViewInputs
from tui.views.panel import LowerPanel
from tui.views.runs import RunsView
from tui.widgets.distribution import DistributionChart
from tui.widgets.help_panel import HelpPanel
from tui.widgets.key_bar import KeyBar
from tui.widgets.loss_plot import LossPlot, PlotFigures
from tui.widgets.names_panel import NamesPanel
from tui.widgets.pace_control import PaceControl
from tui.widgets.status_line import StatusLine
from tui.widgets.step_line import StepLine
from tui.widgets.temperature_gauge import T_MAX, T_MIN, T_STEP, TemperatureGauge

FRAME = 0.1  # seconds between screen refreshes
NOTE_SECONDS = 10.0  # how long a passing note (a save, a reset) stays under the status
HELP_KEYS = {"help", "close_help", "scroll_help", "quit"}  # the only actions while the help is open
QUIT_SECONDS = 3.0  # after q the process is gone within this, whatever is still running
DEAD_CHECK_MAX = 30_000_000  # multiply-adds of the once-a-second dead-unit check (n_embd 512: 28 million, ~20 ms)
OUTPUT_SECONDS = 10.0  # --save / --metrics at the end are given this long (a pipe nobody reads)


class DashboardApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "micromlp-tui"
    BINDINGS = [  # the footer shows what fits in 80 columns; the pairs are clickable controls on screen
        Binding("space", "play", "Run"),
        Binding("space", "pause", "Pause"),
        Binding("space", "finished_hint", "Run", show=False),
        Binding("full_stop", "step", "Step", key_display="."),
        Binding("r", "reset", "Reset"),
        Binding("n", "new_seed", "Seed"),
        Binding("plus,equals_sign", "temperature(1)", "Hotter", show=False),
        Binding("minus", "temperature(-1)", "Colder", show=False),
        Binding("left", "token(-1)", "Previous token", show=False),
        Binding("right", "token(1)", "Next token", show=False),
        Binding("g", "sample", "New"),
        Binding("right_square_bracket", "speed(1)", "Faster", show=False),
        Binding("left_square_bracket", "speed(-1)", "Slower", show=False),
        Binding("l", "gap_view", "View:loss"),  # says which view is on; l switches to the other
        Binding("l", "loss_view", "View:gap"),
        Binding("s", "save", "Save"),
        Binding("o", "settings", "Setup"),
        Binding("less_than_sign", "scale_lr(0.5)", "Halve lr", show=False),
        Binding("greater_than_sign", "scale_lr(2)", "Double lr", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        *[Binding(str(n), f"view({n})", f"View {n}", show=False) for n in range(1, 8)],
        Binding("j", "pick_run(1)", "Next run", show=False),
        Binding("k", "pick_run(-1)", "Previous run", show=False),
        Binding("h", "toggle_run", "Hide / show run", show=False),
        Binding("x", "remove_run", "Remove run", show=False),
        Binding("u", "weights_update", "Weights / update", show=False),
        Binding("c", "check_gradient", "Gradient check", show=False),
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

    def __init__(self, run: Run, save_path: str | None = None, speed_index: int = DEFAULT_SPEED,
                 data: str | None = None, metrics: str | None = None):
        super().__init__()
        self.training = run
        self.first_step = run.step  # where the run on screen started in this session (--metrics rows)
        self.data = data  # the --data path (None: the embedded names), for the settings and the labels
        self.outputs = FlagOutputs(save_path, metrics)  # what --save and --metrics ask for
        self.lifeline: Lifeline | None = None  # run_dashboard's: ends the process if the app cannot
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self.runs = RunRegistry()  # the session's earlier runs: ghost lines on the plot
        self.runs_version = 0  # bumped whenever the kept runs change (the runs view redraws)
        self.experiments = Experiments(self, lambda: self.query_one(RunsView))
        self.save_path = Path(save_path or DEFAULT_SAVE)
        self.loop = TrainingLoop(run, speed_index)
        self.view_model: Model = run.model.copy()  # the screen's copy of the weights
        self.set_reactive(DashboardApp.temperature, run.config.temperature)
        self.set_reactive(DashboardApp.token, run.dataset.bos)
        self.note = ""  # a line under the status: saves, errors, hints
        self._note_until: float | None = None  # when the note fades (None: it stays)
        self.frames = 0
        self.gap_view = False  # the "left to learn" view of the plot
        self._reset_view_state()

    def _reset_view_state(self) -> None:
        self._shown: Snapshot | None = None
        if self.training.exact_track is None:
            self.training.track_exact()
        self.batches = NameBatches(self.training.config.max_len)
        self._final_shown = False
        self._dead_checked = -1.0  # when every unit was last checked for being dead (monotonic) ...
        self._dead_checked_step = -1  # ... and at which step
        self._all_dead_said = False
        self._worker: Worker[None] | None = None
        ds = self.training.dataset
        self._labels = [ds.token_label(i) for i in range(ds.vocab_size)]

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield LossPlot(id="loss-plot")
            yield NamesPanel(id="names")
        with Horizontal(id="controls"):
            yield StepLine(id="step-line")
            yield TemperatureGauge(self.temperature, id="temperature")
            yield PaceControl(id="pace")
        yield LowerPanel(id="distribution")
        yield StatusLine(id="status")
        yield Static("", id="note", markup=False)
        yield KeyBar(id="keys")
        yield HelpPanel(id="help")

    def on_mount(self) -> None:
        self.plot = self.query_one(LossPlot)
        self.names = self.query_one(NamesPanel)
        self.names.border_title = "generated names"
        self.chart = self.query_one(DistributionChart)
        self.panel = self.query_one(LowerPanel)
        self.status_line = self.query_one(StatusLine)
        self.step_line = self.query_one(StepLine)
        self.pace = self.query_one(PaceControl)
        self.gauge = self.query_one(TemperatureGauge)
        self.note_line = self.query_one("#note", Static)
        self.help_panel = self.query_one(HelpPanel)
        self.key_bar = self.query_one(KeyBar)
        self._keys_shown: list[tuple[str, str, str]] = []
        self._event_loop = asyncio.get_running_loop()  # signals come from the lifeline's thread
        self.fit_layout(*self.size)
        self.refresh_bindings()
        self._worker = self._train(self.loop)
        self.refresh_view(force=True)
        self.sample_batch("start")
        self.set_interval(FRAME, self.refresh_view)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_layout(*event.size)

    def fit_layout(self, w: int, h: int) -> None:
        """Row heights for this terminal: the parts always add up to it, so nothing scrolls."""
        self.call_later(self.refresh_bindings)  # the key bar offers what fits the new width
        self.query_one(TemperatureGauge).styles.width = 34 if w >= 120 else 24
        heights = fit_heights(w, h, StatusLine.rows_at(w))
        for widget_id, rows in heights.items():
            widget = self.query_one(f"#{widget_id}")
            widget.display = rows > 0
            if rows > 0:
                widget.styles.height = rows

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
        with self.batch_update():  # one screen update for the whole frame
            self._refresh_view(force)

    def _refresh_view(self, force: bool) -> None:
        snap = self.loop.snapshot
        if force or snap is not self._shown:
            state_changed = self._shown is None or snap.state != self._shown.state
            self._shown = snap
            self.view_model.theta[:] = snap.theta
            self.draw_plot()
            self.draw_views()
            self.step_line.show_record(snap.record, snap.state == State.FINISHED, snap.state == State.DIVERGED)
            if state_changed:
                self.refresh_bindings()
        if snap.state == State.RUNNING and self.batches.due():
            self.sample_batch("", new_draws=True)
        if snap.state in (State.FINISHED, State.DIVERGED) and not self._final_shown:
            self._final_shown = True
            self._show_final(snap)
        self._say_if_all_dead()
        self.draw_status(snap)
        self._update_key_bar()  # also after a form or the palette closes
        self.frames += 1

    def _say_if_all_dead(self) -> None:
        """Every hidden unit dead (its ReLU gives 0 after every token): no gradient reaches any weight
        again, the model says the same uniform guess after every token. Said once a run (a lesson:
        dead ReLUs), checked at most once a second (one forward pass over the vocabulary)."""
        now, step = time.monotonic(), self.shown_step
        m = self.view_model
        if m.vocab_size * m.n_embd * m.hidden > DEAD_CHECK_MAX:  # too slow for the screen's thread
            return
        if self._all_dead_said or now - self._dead_checked < 1.0 or step == self._dead_checked_step:
            return
        self._dead_checked, self._dead_checked_step = now, step
        with np.errstate(all="ignore"):
            if self.training.step > 0 and bool(dead_units(self.view_model).all()):
                self._all_dead_said = True
                self.set_note("every hidden unit is dead (dead ReLUs): the gradient is 0, no weight changes again; "
                              "r or n for a new run", sticky=True)

    def draw_plot(self) -> None:
        run, ref = self.training, self.training.reference
        self.plot.show(PlotFigures(run.history, run.exact_track, run.config.num_steps, run.config.learning_rate,
                                   ref.random_guess, ref.floor, run.diverged_at, self.gap_view,
                                   self.experiments.ghosts(), tuple(run.lr_changes)))

    def draw_chart(self) -> None:
        ds, t = self.training.dataset, self.token
        counts = ds.counts[t].astype(np.float64)
        data = counts / counts.sum() if counts.sum() else counts
        with np.errstate(all="ignore"):
            model = next_token_probs(self.view_model, t, self.temperature)
        self.chart.show(self._labels, model, data, context=t, temperature=self.temperature)

    def draw_views(self) -> None:
        """The lower panel's view on show: view 1 is the chart; the others draw from ViewInputs."""
        snap = self._shown or self.loop.snapshot
        if self.panel.current == 1:
            self.draw_chart()
        self.panel.show(ViewInputs(self.view_model, self.training, self.token, self.temperature, snap.step,
                                   snap.state, snap.record, snap.grad, tuple(self.runs.list()),
                                   tuple(self.runs.labels(self.training.config, data_name(self.data)).items()),
                                   self.runs_version))

    def draw_status(self, snap: Snapshot) -> None:
        state = snap.state.value
        if snap.state == State.DIVERGED and snap.record is not None:
            state = f"diverged at step {snap.record.step + 1}"
        track = self.training.exact_track
        self.status_line.show(
            state=state, step=snap.step, total=self.training.config.num_steps, ema=self.training.history.last_ema,
            exact=track.last if track else float("nan"), rate_now=snap.steps_per_s, elapsed=snap.elapsed,
            params=self.training.model.num_params,
            heldout=track.heldout_last if track is not None and track.heldout_values is not None else None,
        )
        self.pace.show(speed_label(self.loop.speed))
        if self.note and self._note_until is not None and time.monotonic() > self._note_until:
            self.note = ""
        if str(self.note_line.content) != self.note:
            self.note_line.update(self.note, layout=False)

    def set_note(self, note: str, sticky: bool = False) -> None:
        """A line under the status. It fades after NOTE_SECONDS unless it is `sticky` (it stays until
        the next note)."""
        self.note = note
        self._note_until = None if sticky else time.monotonic() + NOTE_SECONDS
        self.note_line.update(note, layout=False)

    # --- names ------------------------------------------------------------------------------------
    def sample_batch(self, reason: str, new_draws: bool = False) -> None:
        if not np.isfinite(self.view_model.theta).all() or self.training.diverged_at is not None:
            if reason:  # asked for by a key: say why nothing comes
                self.set_note("no names: the run diverged, its probabilities are not finite (r or n for a new run)")
            return
        names, known = self.batches.draw(self.view_model, self.training.dataset, self.temperature, new_draws)
        heading = f"step {self.shown_step} · T {self.temperature:.2f}" + (f" · {reason}" if reason else "")
        if reason == "same draws":  # a temperature change: the newest batch re-sampled in place
            self.names.replace_last(heading, names, known)
        else:
            self.names.add_batch(heading, names, known)

    def _show_final(self, snap: Snapshot) -> None:
        if snap.state == State.DIVERGED:
            self.set_note("training diverged: try a smaller --lr. The last finite weights can still be saved (s).",
                          sticky=True)
            if self.outputs.due(self.training, self.first_step):
                self._in_background(self._write_outputs_at_end)
            return
        self._dead_checked, self._dead_checked_step = -1.0, -1
        self._say_if_all_dead()
        if self._all_dead_said:  # the end does not hide why the loss stayed up
            self.set_note("finished with every hidden unit dead (dead ReLUs): the gradient is 0, the loss stuck at "
                          "the guess; r or n: a new run", sticky=True)
        else:
            self.set_note("finished: r runs it again, n runs it with a new seed, s saves it", sticky=True)
        self._final_samples(self.training, self.temperature)
        if self.outputs.due(self.training, self.first_step):  # what --save / --metrics ask for
            self._in_background(self._write_outputs_at_end)

    @work(thread=True, group="final-samples")
    def _final_samples(self, run: Run, temperature: float) -> None:
        """The run's own samples (its random stream: the tutorial's), drawn off the screen's thread in
        chunks, so that even --samples in the thousands never holds up a key."""
        worker = get_current_worker()
        names = final_samples(run, temperature, lambda: worker.is_cancelled or run is not self.training)
        if names is None:
            return
        known = [run.dataset.is_training_name(n) for n in names]
        self.call_from_thread(self.names.show_final, names, temperature, known)

    # --- keys -------------------------------------------------------------------------------------
    def refresh_bindings(self) -> None:
        super().refresh_bindings()
        self._update_key_bar()

    def _update_key_bar(self) -> None:
        """The key bar shows the keys that apply now (check_action); redrawn only when they change."""
        if not hasattr(self, "key_bar"):
            return
        items = [(b.key_display or b.key, b.description, b.action) for b in self.BINDINGS
                 if isinstance(b, Binding) and b.show and self.check_action(b.action.split("(")[0], ()) is True]
        palette = ("^p", "Palette", "command_palette")
        if sum(len(k) + len(d) + 2 for k, d, _ in [*items, palette]) <= self.size.width:
            items.append(palette)  # where it fits: it is in the help too
        if items != self._keys_shown:
            self._keys_shown = items
            self.key_bar.show(items)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which bindings apply now: the footer shows (and the keys run) only those."""
        if self.help_panel_open and action not in HELP_KEYS:
            return False
        if len(self.screen_stack) > 1 and action in OUR_ACTIONS and action != "quit":
            return False  # a form or the palette is open: its keys (tab, arrows, ...) are its own
        if action in ("pick_run", "toggle_run", "remove_run"):
            return hasattr(self, "panel") and self.panel.current == 7  # the runs view's own keys
        state = self.loop.state
        done = state in (State.FINISHED, State.DIVERGED)
        if action == "play":
            return not done and state != State.RUNNING
        if action == "pause":
            return state == State.RUNNING
        if action == "finished_hint":
            return done
        if action == "step":
            return not done and state != State.RUNNING
        if action == "gap_view":
            return not self.gap_view
        if action == "loss_view":
            return self.gap_view
        if action == "scroll_help":
            return self.help_panel_open
        return True

    @property
    def help_panel_open(self) -> bool:
        return bool(getattr(self, "help_panel", None) and self.help_panel.visible)

    def action_play(self) -> None:
        self.loop.play()
        self.refresh_view()
        self.refresh_bindings()

    def action_pause(self) -> None:
        self.loop.pause()
        self.refresh_view()
        self.refresh_bindings()

    def action_toggle(self) -> None:
        self.action_pause() if self.loop.state == State.RUNNING else self.action_play()

    def action_finished_hint(self) -> None:
        self.set_note("this run is over: r runs it again, n runs it with a new seed")

    def action_step(self) -> None:
        self.loop.step_once()

    def action_temperature(self, direction: int) -> None:
        # rounded, then kept in [T_MIN, T_MAX]; a value given outside it (--temperature 0.001) is
        # only ever moved towards the range, never rounded to 0 (an invalid temperature)
        t = min(max(round(self.temperature + direction * T_STEP, 2), T_MIN), T_MAX)
        if (t - self.temperature) * direction > 0:
            self.temperature = t

    def on_temperature_gauge_changed(self, message: TemperatureGauge.Changed) -> None:
        self.temperature = message.value

    def watch_temperature(self) -> None:
        self.gauge.value = self.temperature
        self.sample_batch("same draws")
        self.draw_views()
        self.draw_status(self.loop.snapshot)

    def action_token(self, delta: int) -> None:
        self.token = (self.token + delta) % self.training.dataset.vocab_size

    def watch_token(self) -> None:
        self.draw_views()

    def action_view(self, number: int) -> None:
        self.panel.switch(number)
        self.draw_views()

    def action_weights_update(self) -> None:
        self.panel.toggle_update()

    def action_check_gradient(self) -> None:
        self.draw_views()
        self.panel.check_gradient()

    def on_distribution_chart_token_picked(self, message: DistributionChart.TokenPicked) -> None:
        self.token = message.token

    def action_sample(self) -> None:
        self.sample_batch("new draws", new_draws=True)

    def action_speed(self, delta: int) -> None:
        self.loop.change_speed(delta)
        self.draw_status(self.loop.snapshot)

    def action_gap_view(self) -> None:
        self.gap_view = True
        self.draw_plot()
        self.refresh_bindings()

    def action_loss_view(self) -> None:
        self.gap_view = False
        self.draw_plot()
        self.refresh_bindings()

    def action_help(self) -> None:
        # visibility, not display: showing it then costs a repaint, not a layout of the whole screen
        self.help_panel.visible = not self.help_panel.visible
        if self.help_panel.visible:
            self.help_panel.scroll_home(animate=False)  # always from the top
        self.refresh_bindings()

    def action_close_help(self) -> None:
        self.help_panel.visible = False
        self.refresh_bindings()

    def action_scroll_help(self, lines: int) -> None:
        if self.help_panel.visible:
            self.help_panel.scroll_relative(y=lines, animate=False)

    async def action_reset(self) -> None:
        await self.replace_run(self.training.fresh(), "a fresh run with the same settings")

    async def action_new_seed(self) -> None:
        seed = self.training.config.seed + 1
        await self.replace_run(self.training.reseeded(seed), f"a new run with seed {seed}")

    # --- experiments (tui/plumbing/experiments.py) ----------------------------------------------
    def action_settings(self) -> None:
        self.experiments.open_settings()

    def action_scale_lr(self, factor: float) -> None:
        self.experiments.scale_lr(factor)

    def action_pick_run(self, delta: int) -> None:
        self.experiments.pick_run(delta)

    def action_toggle_run(self, run_id: int | None = None) -> None:
        self.experiments.toggle_run(run_id)

    def action_remove_run(self, run_id: int | None = None) -> None:
        self.experiments.remove_run(run_id)

    async def replace_run(self, run: Run, note: str, data: str | None | object = ...) -> None:
        """Stop the current run (kept as a ghost if it trained at all, labelled with its own data) and
        start `run` in its place, on `data` (left out: the same data). A new alphabet puts the chart's
        context back to BOS (the old token may not exist, or be another letter, in the new one)."""
        await self._stop_worker()
        if self.training.step > 0:  # kept: a ghost line on the plot, a row in the runs view
            snap = self.loop.snapshot  # its mean pace while it ran (pauses excluded)
            rate = snap.step / snap.elapsed if snap.elapsed > 0 else None
            self.runs.keep(self.training, self.data, note, rate)
            self.runs_version += 1
        if data is not ...:
            self.data = data  # type: ignore[assignment]
        if run.dataset.uchars != self.training.dataset.uchars or data is not ...:
            self.set_reactive(DashboardApp.token, run.dataset.bos)
        self.workers.cancel_group(self, "final-samples")
        self.training, self.loop = run, TrainingLoop(run, self.loop.speed_index)
        self.first_step = run.step
        self.view_model = run.model.copy()
        self.plot.new_run()
        self._reset_view_state()
        self.set_note(note)
        self.names.clear(f"a new run: seed {run.config.seed}, {run.config.num_steps:,} steps")
        self._worker = self._train(self.loop)
        self.refresh_view(force=True)
        self.sample_batch("new run")
        self.refresh_bindings()

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

    def request_exit(self, code: int) -> None:
        """From any thread (the lifeline's, on a signal): end cleanly with `code`, without waiting."""
        loop = self._event_loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.end_by_signal, code)

    def end_by_signal(self, code: int) -> None:
        """130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, as headless mode."""
        self._stop_background()
        self.exit(return_code=code)

    def form_outputs(self) -> list[tuple[str, str | None]]:
        """The files the app writes, which the settings form's data file may not be."""
        return [("--save", str(self.save_path)), ("--metrics", self.outputs.metrics)]

    def _stop_background(self) -> None:
        """Everything running beside the screen is asked to stop; nothing is waited for."""
        self.loop.stop()
        self.panel.cancel_work()
        self.workers.cancel_group(self, "final-samples")

    async def action_quit(self) -> None:
        self._stop_background()
        if self.lifeline is not None:  # the process is gone within QUIT_SECONDS (+ the outputs)
            self.lifeline.arm(0, QUIT_SECONDS)
        self.exit(0)

    def action_save(self) -> None:
        with self.loop.lock:  # between two steps
            ckpt = self.training.to_checkpoint()
        self.set_note(f"saving step {ckpt.step} to {self.save_path} ...")
        self._in_background(self._save, ckpt, self.save_path)

    def _in_background(self, target: object, *args: object) -> None:
        """A daemon thread: a write to a pipe or a slow disk never holds the screen or a quit."""
        threading.Thread(target=target, args=args, daemon=True).start()  # type: ignore[arg-type]

    def _save(self, ckpt: checkpoint.Checkpoint, path: Path) -> None:
        note, failed = save_checkpoint(ckpt, path)
        self._from_thread(self.set_note, note, failed)  # a failure stays

    def _from_thread(self, callback: object, *args: object) -> None:
        """Hand a result to the screen's thread without waiting (the app may be ending meanwhile)."""
        loop = self._event_loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(callback, *args)  # type: ignore[arg-type]
            except RuntimeError:
                pass  # the loop closed in between

    def write_outputs(self) -> list[tuple[str, bool]]:
        """--metrics and --save for the run on screen, if it trained since they were last written:
        (line, failed) for each."""
        return self.outputs.write(self.training, self.first_step, self.loop.lock)

    def _write_outputs_at_end(self) -> None:
        lines = self.write_outputs()
        if lines:  # a failure stays on screen
            self._from_thread(self.set_note, "; ".join(line for line, _ in lines), any(f for _, f in lines))

    # --- the command palette ----------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action of the keys, as "group: action" commands, beside Textual's own (themes,
        keys, screenshot, quit)."""
        yield from super().get_system_commands(screen)
        for title, help_text, action in COMMANDS:
            yield SystemCommand(title, help_text, partial(self.run_action, action))


OUR_ACTIONS = {b.action.split("(")[0] for b in DashboardApp.BINDINGS if isinstance(b, Binding)}


def make_app(run: Run, args: argparse.Namespace) -> DashboardApp:
    """The one app factory, used by the console command and the tests."""
    return DashboardApp(run, save_path=args.save, data=args.data, metrics=getattr(args, "metrics", None))


def _say(line: str) -> None:
    try:
        print(f"micromlp-tui: {printable(line)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def run_dashboard(run: Run, args: argparse.Namespace) -> int:
    """Run the app; then --metrics / --save if the run trained since they were last written (one line
    on stderr each). The lifeline (tui/plumbing/lifeline.py) ends the process on a signal or when the
    terminal goes, even if the app's thread is stuck, and at the latest a few seconds after a quit."""
    app = make_app(run, args)
    try:
        modes = termios.tcgetattr(0)  # what the terminal was before the app: restored on a forced end
    except (termios.error, OSError):
        modes = None
    lines: list[tuple[str, bool]] = []

    def last_words() -> None:
        lines.extend(app.write_outputs())

    lifeline = Lifeline(app.request_exit, last_words, lambda: modes)
    app.lifeline = lifeline
    lifeline.start()
    app.run()
    code = app.return_code or 0
    lifeline.arm(code, OUTPUT_SECONDS + 2, replace=True)  # the app has ended: the outputs, then the end
    lifeline.say_last_words(OUTPUT_SECONDS)
    for line, _ in lines:
        _say(line)
    if app.outputs.wanted and not lines and app.outputs.due(app.training, app.first_step):
        _say(f"--save / --metrics: not written within {OUTPUT_SECONDS:.0f} s (a pipe nobody reads?)")
    return code
