"""The dashboard: the app composes the screen, routes the keys and hands snapshots down; the widgets draw
what they are given, and the app's workings (a race, the names, a run's end, saving, exporting, the
experiments, the end of the process) are objects of tui/plumbing/ it owns, which reach it through Protocols.

Data flow: `Run.steps()` (engine) -> `TrainingLoop.work()` in ONE thread worker -> `loop.snapshot`
-> `refresh_view()` on a 10 Hz timer -> widgets. The worker never touches a widget.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import numpy as np
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from engine import Model, Run, next_token_probs
from engine.inspect import units_off_after
from engine.race import Race
from engine.runs import RunRegistry, data_name, describe_difference
from engine.sampling import cut_by_top_k
from tui.plumbing import wording
from tui.plumbing.background import Background
from tui.plumbing.collector import Collector
from tui.plumbing.commands import COMMANDS
from tui.plumbing.dead_watch import ALL_DEAD, VARIANT_DEAD, DeadUnitWatch
from tui.plumbing.ending import QUIT_SECONDS, run_under_lifeline
from tui.plumbing.experiments import Experiments
from tui.plumbing.exporting import Exporting, ExportPaths
from tui.plumbing.keys import HELP_KEYS, KEYS, OUR_ACTIONS, key_bar_items
from tui.plumbing.layout import fit_heights
from tui.plumbing.lifeline import Lifeline
from tui.plumbing.names import FINAL_GROUP, NamesOnScreen
from tui.plumbing.racing import RACE_VIEW, Racing
from tui.plumbing.run_end import RunEnd
from tui.plumbing.saving import Saving
from tui.plumbing.training_loop import DEFAULT_SPEED, RELEASE_AFTER, Snapshot, State, TrainingLoop, speed_label
from tui.views import ViewInputs
from tui.views.panel import LowerPanel
from tui.views.runs import RunsView
from tui.widgets.distribution import DistributionChart
from tui.widgets.help_panel import HelpSheet
from tui.widgets.key_bar import KeyBar
from tui.widgets.loss_plot import LossPlot, PlotFigures
from tui.widgets.names_panel import NamesPanel
from tui.widgets.pace_control import PaceControl
from tui.widgets.status_line import StatusFigures, StatusLine
from tui.widgets.step_line import StepLine
from tui.widgets.temperature_gauge import T_MAX, T_MIN, T_STEP, TemperatureGauge
from tui.widgets.top_k_control import TopKControl, k_label, next_top_k

FRAME = 0.1  # seconds between screen refreshes
FLAT_OUT_EVERY = 2  # frames: training flat out, the screen is drawn at one in this many (5 a second)
COVERED_EVERY = 5  # frames: the dashboard behind a form or the palette is redrawn at one in this many
NOTE_SECONDS = 10.0  # how long a passing note (a save, a reset) stays under the status


class DashboardApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "micromlp-tui"
    BINDINGS = KEYS  # tui/plumbing/keys.py

    temperature: reactive[float] = reactive(0.5, init=False)
    """Sampling temperature for the names and the next-token chart."""
    token: reactive[int] = reactive(0, init=False)
    """The token whose next-token distribution is shown."""
    top_k: reactive[int] = reactive(0, init=False)
    """Sampling draws from the top_k likeliest next tokens only (0: off, every token, the tutorial)."""

    def __init__(self, run: Run | Race, save_path: str | None = None, speed_index: int = DEFAULT_SPEED,
                 data: str | None = None, plot_path: str | None = None, metrics: str | None = None,
                 served: bool = False):
        super().__init__()
        # in a browser tab (--serve): its keys are anyone's who has its address, so it reads and writes only
        # the files the server's flags name (its data, --save, --plot), never one typed or chosen in the tab
        self.served = served
        self.race: Race | None = run if isinstance(run, Race) else None  # a race: every variant in lockstep
        self.loop = TrainingLoop(run, speed_index)
        self.loop.on_change = self._draw_soon
        run = self.loop.run  # in a race, the picked variant: what the names, the chart and the views show
        self.training = run
        self.data = data  # the --data path (None: the embedded names), for the settings and the labels
        self.lifeline: Lifeline | None = None  # run_dashboard's: ends the process if the app cannot
        self.background = Background()  # daemon threads for writes, their notes handed back
        self.saving = Saving(self, self.background, save_path, metrics, served)  # s, --save, --metrics
        self.runs = RunRegistry()  # the session's earlier runs: ghost lines on the plot
        self.runs_version = 0  # bumped whenever the kept runs change (the runs view redraws)
        self.experiments = Experiments(self, lambda: self.query_one(RunsView))
        self.racing = Racing(self, lambda: self.size.width)
        self.exporting = Exporting(self, ExportPaths.beside(self.saving.path, plot_path),  # `e`
                                   refused=served and save_path is None and plot_path is None)
        self.view_model: Model = run.model.copy()  # the screen's copy of the weights
        self.view_pick = 0  # in a race: the variant whose weights view_model holds (show_picked)
        self.set_reactive(DashboardApp.temperature, run.config.temperature)
        self.set_reactive(DashboardApp.token, run.dataset.bos)
        self.set_reactive(DashboardApp.top_k, run.config.top_k)
        self.note = ""  # a line under the status: saves, errors, hints
        self._note_until: float | None = None  # when the note fades (None: it stays)
        self.frames = 0  # ticks of the frame timer (FRAME), drawn or not
        self.frames_drawn = 0  # frames drawn (flat out or covered, not every tick draws one)
        self.gap_view = False  # the "left to learn" view of the plot
        self.smoothing = run.history.weight  # the moving average's weight, kept for the next runs
        self.naming = NamesOnScreen(self)  # the names' batches and final samples (tui/plumbing/names.py)
        self.collector = Collector(self.set_timer)  # kept out of the screen's way (tui/plumbing/collector.py)
        self._reset_view_state()

    def _reset_view_state(self) -> None:
        self._shown: Snapshot | None = None
        for run in self.race.runs if self.race is not None else [self.training]:
            if run.exact_track is None:
                run.track_exact()
        with self.loop.lock:  # (its worker has not started) the first snapshot with the first measurement
            self.loop.retake()
        self.naming.new_run()
        self.run_end = RunEnd(self)  # the note, the final samples and the outputs when the run ends
        self.dead_watch = DeadUnitWatch()
        self._worker: Worker[None] | None = None
        ds = self.training.dataset
        self._labels = [ds.token_label(i) for i in range(ds.vocab_size)]
        self._data_label: str | None = None  # the run line's name of the data (wording.data_label)

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield LossPlot(id="loss-plot")
            yield NamesPanel(id="names")
        with Horizontal(id="controls"):
            yield StepLine(id="step-line")
            yield TemperatureGauge(self.temperature, id="temperature")
            yield TopKControl(id="top-k")
            yield PaceControl(id="pace")
        yield LowerPanel(id="distribution")
        yield StatusLine(id="status")
        yield Static("", id="note", markup=False)
        yield KeyBar(id="keys")
        yield HelpSheet(id="help")

    def on_mount(self) -> None:
        self.plot = self.query_one(LossPlot)
        self.names = self.query_one(NamesPanel)
        self.names.border_title = "generated names"
        self.names.max_len = self.training.config.max_len
        self.chart = self.query_one(DistributionChart)
        self.panel = self.query_one(LowerPanel)
        self.status_line = self.query_one(StatusLine)
        self.step_line = self.query_one(StepLine)
        self.pace = self.query_one(PaceControl)
        self.gauge = self.query_one(TemperatureGauge)
        self.top_k_control = self.query_one(TopKControl)
        self.note_line = self.query_one("#note", Static)
        self.help_panel = self.query_one(HelpSheet)
        self.key_bar = self.query_one(KeyBar)
        self._keys_shown: list[tuple[str, str, str]] = []
        self.background.attach()  # notes from threads (and signals from the lifeline's) come to this loop
        self.fit_layout(*self.size)
        self.refresh_bindings()
        self._worker = self._train(self.loop)
        if self.race is not None:  # a race from the command line opens as one from the palette does
            self.names.clear(self._race_heading())
            self.action_view(RACE_VIEW)
        self.refresh_view(force=True)
        self.naming.sample_batch()
        self.set_interval(FRAME, self.refresh_view)
        self.call_after_refresh(self.collector.start)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_layout(*event.size)

    def fit_layout(self, w: int, h: int) -> None:
        """Row heights for this terminal: the parts always add up to it, so nothing scrolls."""
        self.call_later(self.refresh_bindings)  # the key bar offers what fits the new width
        self.query_one(TemperatureGauge).styles.width = 34 if w >= 120 else 28 if w >= 100 else 22
        self.query_one(PaceControl).compact = w < 100
        self.query_one(TopKControl).show(self.top_k, compact=w < 120)
        c = self.training.config
        heights = fit_heights(w, h, StatusLine.rows_at(w, c.num_steps, self.training.heldout is not None))
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
    def _draw_soon(self) -> None:
        """From the training thread: it published a new state (paused, running, finished, diverged) or a
        single step; drawn now rather than at the next frame."""
        self.background.hand_back(self.refresh_view)

    def refresh_view(self, force: bool = False) -> None:
        if not self.is_running:  # shutting down: the widgets are being removed (their styles already gone)
            return
        if not force and self.frames % self._draw_every():
            self.frames += 1
            return
        with self.batch_update():  # one screen update for the whole frame
            self._refresh_view(force)

    def _draw_every(self) -> int:
        """1: every tick of the frame timer draws a frame. A form or the palette covers the dashboard: it is
        redrawn behind it twice a second (every frame took ~30% of the training's speed: each update
        composes both screens). Flat out, the whole frame is drawn every other tick (5 frames a second:
        the curve still moves smoothly, every figure on screen is of one and the same step, and the
        training gets the screen's time back); a key or a new state draws at once (force, _draw_soon)."""
        if len(self.screen_stack) > 1:
            return COVERED_EVERY
        shown, snap = self._shown, self.loop.snapshot
        flat_out = self.loop.speed is None and snap.state == State.RUNNING
        return FLAT_OUT_EVERY if flat_out and shown is not None and shown.state == State.RUNNING else 1

    def _refresh_view(self, force: bool) -> None:
        snap = self.loop.snapshot
        if snap.picked != self.view_pick:  # the worker switched variants; the screen follows (show_picked)
            return
        if force or snap is not self._shown:
            state_changed = self._shown is None or snap.state != self._shown.state
            self._shown = snap
            self.view_model.theta[:] = snap.theta
            self.draw_plot()
            self.draw_views()
            self.step_line.show_record(snap.record, snap.state == State.RUNNING, self.shown_diverged(snap),
                                       snap.step, self.training.config.num_steps)
            self.naming.step_shown(snap.step)
            if state_changed:
                self.refresh_bindings()
        if snap.state == State.RUNNING and self.naming.due(snap.step):
            self.naming.sample_batch()
        self.run_end.follow(snap.state)
        self.say_if_all_dead()
        self.draw_status(snap)
        self._update_key_bar()  # also after a form or the palette closes
        self.frames += 1
        self.frames_drawn += 1

    def _race_heading(self) -> str:
        """The names panel's heading as a race starts: the race and the variant shown first."""
        assert self.race is not None
        first = self.race.variants[self.loop.picked]
        return f"a race of {len(self.race.runs)}; variant {first.number}: {first.label}"  # short: 80x24 (QA)

    def say_if_all_dead(self) -> None:
        """Every hidden unit dead: said once a run (tui/plumbing/dead_watch.py)."""
        if self.dead_watch.look(self.view_model, self.shown_step, self.training.step > 0):
            self.set_note(ALL_DEAD if self.race is None else VARIANT_DEAD.format(n=self.loop.picked + 1), sticky=True)

    def draw_plot(self) -> None:
        run, ref = self.training, self.training.reference
        self.plot.show(PlotFigures(run.history, run.exact_track, run.config.num_steps, run.config.learning_rate,
                                   ref.random_guess, ref.floor, run.diverged_at, self.gap_view,
                                   self.experiments.ghosts() + self.racing.variant_lines(), tuple(run.lr_changes),
                                   len(run.dataset) if run.config.gradient == "name" else 0, run.config.schedule,
                                   run.config.gradient, self.shown_step))

    def draw_chart(self) -> None:
        ds, t = self.training.dataset, self.token
        counts = ds.counts[t].astype(np.float64)
        data = counts / counts.sum() if counts.sum() else counts
        with np.errstate(all="ignore"):
            model = next_token_probs(self.view_model, t, self.temperature, self.top_k)
            cut = cut_by_top_k(self.view_model, t, self.temperature, self.top_k)
        self.chart.show(self._labels, model, data, context=t, temperature=self.temperature, cut=cut,
                        silent=units_off_after(self.view_model, t))

    def draw_views(self) -> None:
        """The lower panel's view on show: view 1 is the chart; the others draw from ViewInputs."""
        snap = self._shown or self.loop.snapshot
        if self.panel.current == 1:
            self.draw_chart()
        self.panel.show(ViewInputs(self.view_model, self.training, self.token, self.temperature, snap.step,
                                   snap.state, snap.record, snap.grad, tuple(self.runs.list()),
                                   tuple(self.runs.labels(self.training.config, data_name(self.data)).items()),
                                   self.runs_version, self.runs.baseline_id, data_name(self.data), self.race,
                                   snap.race_step, snap.picked, self.racing.drawn_variants(), snap.ema,
                                   snap.exact, snap.heldout, snap.standings))

    @staticmethod
    def shown_diverged(snap: Snapshot) -> bool:
        """Has the run on show diverged? In a race the race goes on when the variant shown has diverged."""
        return snap.state == State.DIVERGED or (snap.record is not None and snap.record.diverged)

    def draw_status(self, snap: Snapshot) -> None:
        run = self.training
        diverged = self.shown_diverged(snap)
        diverged_at = snap.record.step + 1 if diverged and snap.record is not None else None
        self.status_line.show(StatusFigures(
            state=State.DIVERGED.value if diverged else snap.state.value, step=snap.step,
            total=run.config.num_steps, ema=snap.ema, exact=snap.exact, rate_now=snap.steps_per_s,
            elapsed=snap.elapsed, heldout=snap.heldout, diverged_at=diverged_at), self.run_line())
        self.pace.show(speed_label(self.loop.speed))
        if self.note and self._note_until is not None and time.monotonic() > self._note_until:
            self.note = ""
        shown = self.note_shown()
        if str(self.note_line.content) != shown:
            self.note_line.update(shown, layout=False)

    def run_line(self) -> str:
        """The current run in one line: data, learning rate and its changes, sizes, seed, steps, params."""
        run, c = self.training, self.training.config
        width = max(self.status_line.content_size.width or self.size.width - 2, 20)
        if self._data_label is None:  # once a run: it may read the file (is it the tutorial's?)
            held = len(run.heldout) if run.heldout is not None else 0
            self._data_label = wording.data_label(self.data, run.num_docs, held)
        return wording.run_line(self._data_label, run.lr_changes, c.n_embd, c.hidden_size, c.seed, c.num_steps,
                                run.model.num_params, width, c.schedule, c.gradient)

    def set_note(self, note: str, sticky: bool = False) -> None:
        """A line under the status. It fades after NOTE_SECONDS unless it is `sticky` (it stays until
        the next note)."""
        self.note = note
        self._note_until = None if sticky else time.monotonic() + NOTE_SECONDS
        self.note_line.update(self.note_shown(), layout=False)

    def note_shown(self) -> str:
        """The note as its one line shows it: cut between words, with `…`, where it is too long."""
        return wording.cut_words(self.note, self.note_line.content_size.width or self.size.width - 2)

    # --- keys -------------------------------------------------------------------------------------
    def refresh_bindings(self) -> None:
        super().refresh_bindings()
        self._update_key_bar()

    def _update_key_bar(self) -> None:
        """The key bar shows the keys that apply now (check_action); redrawn only when they change."""
        if not hasattr(self, "key_bar"):
            return
        items = key_bar_items(lambda action: self.check_action(action, ()) is True, self.size.width)
        if items != self._keys_shown:
            self._keys_shown = items
            self.key_bar.show(items)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Which bindings apply now: the footer shows (and the keys run) only those."""
        if self.help_panel_open and action not in HELP_KEYS:
            return False
        if len(self.screen_stack) > 1 and action in OUR_ACTIONS and action != "quit":
            return False  # a form or the palette is open: its keys (tab, arrows, ...) are its own
        if action in ("pick_run", "toggle_run", "remove_run", "pin_baseline"):
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
        if action == "hide_cursor":
            return hasattr(self, "plot") and self.plot.cursor is not None
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

    def action_toggle_training(self) -> None:
        self.action_pause() if self.loop.state == State.RUNNING else self.action_play()

    def action_finished_hint(self) -> None:
        self.set_note("this run is over: r runs it again, n runs it with a new seed")

    def action_step(self) -> None:
        self.naming.stepped(self.shown_step)
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
        self.naming.sample_batch(again=True)
        self.draw_views()
        self.draw_status(self.loop.snapshot)

    def action_token(self, delta: int) -> None:
        self.token = (self.token + delta) % self.training.dataset.vocab_size

    def action_top_k(self, direction: int) -> None:
        self.top_k = next_top_k(self.top_k, direction, self.training.dataset.vocab_size)

    def watch_top_k(self) -> None:
        self.top_k_control.show(self.top_k, compact=self.size.width < 120)
        self.naming.sample_batch(again=True)  # the newest batch again, with the same draws: the change is top-k's
        self.draw_views()
        self.set_note(f"top-k {k_label(self.top_k)}: " + ("names are drawn from every next token (the tutorial)"
                      if not self.top_k else f"names are drawn from the {self.top_k} likeliest next tokens only"))

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
        self.naming.sample_batch(asked=True)

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

    def action_cursor(self, delta: int) -> None:
        self.plot.move_cursor(delta)

    def action_hide_cursor(self) -> None:
        self.plot.set_cursor(None)

    def action_smoothing(self, delta: int) -> None:
        self.experiments.smoothing(delta)

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
            self.help_panel.scroll_relative(y=lines, animate=False, immediate=True)  # keys in a burst add up

    async def action_reset(self) -> None:
        if self.race is not None:
            await self.replace_run(Race.new(self.race.variants, self.race.data), "the same race again from step 0")
            return
        await self.replace_run(self.training.fresh(), "a fresh run with the same settings")

    async def action_new_seed(self) -> None:
        seed = self.training.config.seed + 1
        await self.replace_run(self.training.reseeded(seed), f"a new run with seed {seed}")

    # --- experiments (tui/plumbing/experiments.py) ----------------------------------------------
    def action_settings(self) -> None:
        self.experiments.open_settings()

    async def action_scale_lr(self, factor: float) -> None:
        await self.experiments.scale_lr(factor)

    def action_pick_run(self, delta: int) -> None:
        self.experiments.pick_run(delta)

    def action_toggle_run(self, run_id: int | None = None) -> None:
        self.experiments.toggle_run(run_id)

    def action_remove_run(self, run_id: int | None = None) -> None:
        self.experiments.remove_run(run_id)

    def action_pin_baseline(self, run_id: int | None = None) -> None:
        self.experiments.pin_baseline(run_id)

    # --- a race (tui/plumbing/racing.py) -------------------------------------------------------------
    async def action_next_variant(self, delta: int) -> None:
        await self.racing.next_variant(delta)

    async def action_pick_variant(self, index: int) -> None:
        await self.racing.pick_variant(index)

    async def action_ready_race(self, index: int) -> None:
        await self.racing.ready_race(index)

    # --- a new run on screen -------------------------------------------------------------------------
    def show_picked(self, heading: str) -> None:
        """The race's picked variant (loop.run) on screen in place of the one shown: its weights, line, names."""
        self.training = self.loop.run
        self.view_model, self.view_pick = self.training.model.copy(), self.loop.picked
        self.plot.new_run()
        self._shown = None
        self.naming.new_draws()
        self.run_end.shown = False
        self.names.clear(heading)
        self.refresh_view(force=True)
        self.naming.sample_batch()

    async def replace_run(self, run: Run | Race, note: str, data: str | None = None, new_data: bool = False) -> None:
        """Stop the current run (or race) and start `run` in its place (on `data` if `new_data`, None being the
        embedded names; else on the same data). The old one is kept as a ghost (Experiments.keep_outgoing). A
        new alphabet puts the chart's context back to BOS (the old token may not exist, or be another letter)."""
        if not await self.loop.halt():  # the training thread, stopped (not cancelled: TrainingLoop.halt)
            self.log.error("the training thread did not stop within 5 s")
        old, old_data = self.training, self.data
        old_run, old_pick = self.race or old, self.loop.picked
        data = data if new_data else old_data
        note = self.experiments.keep_outgoing(run, data, note)  # a ghost line, a row in the runs view
        self.workers.cancel_group(self, FINAL_GROUP)
        self.race = run if isinstance(run, Race) else None
        self.loop, self.data = TrainingLoop(run, self.loop.speed_index), data
        self.loop.on_change = self._draw_soon
        if self.race is not None and isinstance(old_run, Race) and self.race.labels == old_run.labels:
            self.loop.pick(old_pick)  # the same race again (`r`): the variant that was shown stays shown
        for each in (self.race.runs if self.race is not None else [self.loop.run]):
            each.history.set_weight(self.smoothing)  # the learner's smoothing goes on (before the worker starts)
        run = self.loop.run
        if run.dataset.uchars != old.dataset.uchars or new_data:
            self.set_reactive(DashboardApp.token, run.dataset.bos)
        self.training = run
        self.saving.new_run(run)
        self.view_model, self.view_pick = run.model.copy(), self.loop.picked
        self.plot.new_run()
        self._reset_view_state()
        self.fit_layout(*self.size)  # the status reserves rows for this run's figures
        self.set_note(note)
        self.names.max_len = run.config.max_len
        if self.race is not None:  # the variant shown first, as a pick heads it (not "a new run: same settings")
            self.names.clear(self._race_heading())
        elif old_run is not old:  # a race gave way to one run: what differs from the variant that was shown
            what = describe_difference(old.config, run.config, data_name(old_data), data_name(data))
            shown = f"variant {old_pick + 1}'s settings" if what == "same settings" else what
            self.names.clear(f"a new run in place of the race: {shown}")
        else:
            what = describe_difference(old.config, run.config, data_name(old_data), data_name(data))
            self.names.clear(f"a new run: {what}")
        self._worker = self._train(self.loop)
        self.refresh_view(force=True)
        self.naming.sample_batch()
        self.refresh_bindings()
        self.collector.replaced(old_run)

    # --- the end (tui/plumbing/ending.py), saving and exporting --------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not self.screen_stack:
            return  # a key that arrives while the app is shutting down has no screen to go to
        answer = isinstance(event, (events.Key, events.MouseDown))
        arriving = answer and not event.is_forwarded  # (super() marks it forwarded as it passes it on)
        if arriving:  # a key or a click arrives: the training waits (TrainingLoop.hold) ...
            self.loop.hold()
        await super().on_event(event)
        if answer and not arriving:  # ... back from the screen, handled: it goes on once that is drawn
            self.call_next(self._release_when_drawn, self.loop)

    def _release_when_drawn(self, loop: TrainingLoop) -> None:
        self.screen.call_after_refresh(loop.release, RELEASE_AFTER)

    def request_exit(self, code: int) -> None:
        """From any thread (the lifeline's, on a signal): end cleanly with `code`, without waiting."""
        self.background.hand_back(self.end_by_signal, code)

    def end_by_signal(self, code: int) -> None:
        """130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, as headless mode."""
        self._stop_background()
        self.exit(return_code=code)

    def _stop_background(self) -> None:
        """Everything running beside the screen is asked to stop; nothing is waited for."""
        self.loop.stop()
        self.panel.cancel_work()
        self.workers.cancel_group(self, FINAL_GROUP)

    async def action_quit(self) -> None:
        self._stop_background()
        if self.lifeline is not None:  # the process is gone within QUIT_SECONDS (+ the outputs)
            self.lifeline.arm(0, QUIT_SECONDS)
        self.exit(0)

    def action_save(self) -> None:
        self.saving.save()

    def action_export(self) -> None:
        self.exporting.export()  # the session's runs to a CSV, the plot to an SVG (tui/plumbing/exporting.py)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's Screenshot: an SVG of the screen, a new file (named by the date and time) in the
        folder `e` exports to; the note says where, or why not."""
        if self.served:  # (not in its palette; nor by any other way)
            self.set_note("no screenshot in a browser tab: the browser's own takes one")
            return
        folder = path or str(self.exporting.paths.csv.parent)
        try:
            written = self.save_screenshot(filename, folder)
        except OSError as exc:
            self.set_note(f"screenshot not saved: {exc.strerror or exc}: {folder}", sticky=True)
        else:
            where = Path(written).resolve()  # the name first, its folder whole after it, as e's note says them
            self.set_note(f"screenshot saved as {where.name} in {where.parent}")

    # --- the command palette ----------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action of the keys, as "group: action" commands, beside Textual's own (themes, screenshot,
        quit). Not Textual's "Keys": its panel would sit beside the help and its "hide" removed our help."""
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # Textual's saves to ~/Downloads, failing where there is none
                if not self.served:  # (a browser tab: the server has no route to hand the file to the page)
                    yield SystemCommand("Screenshot", "Save an SVG picture of the screen in the folder the e key "
                                        "exports to", lambda: self.set_timer(0.1, self.action_screenshot))
            elif command.title != "Keys":  # Textual's keys panel: ours is the help (?), in the commands below
                yield command
        for title, help_text, action in COMMANDS:
            yield SystemCommand(title, help_text, partial(self.run_action, action))
        for title, help_text, callback in self.experiments.palette_commands():  # one per kept run
            yield SystemCommand(title, help_text, callback)


def make_app(run: Run | Race, args: argparse.Namespace) -> DashboardApp:
    """The one app factory, used by the console command and the tests."""
    return DashboardApp(run, save_path=args.save, data=args.data, plot_path=getattr(args, "plot", None),
                        metrics=getattr(args, "metrics", None), served=getattr(args, "served", False))


def run_dashboard(run: Run | Race, args: argparse.Namespace) -> int:
    """The dashboard under its lifeline (tui/plumbing/ending.py): signals and a closed terminal end it,
    --save / --metrics are written at its end, and the exit code says if they were lost."""
    app = make_app(run, args)
    app.collector.wanted = True
    return run_under_lifeline(app)
