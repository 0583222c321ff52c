"""Experiments in the dashboard: the settings form and the new run it starts, the learning rate
changed mid-run, earlier runs kept as ghost lines and listed in the runs view (7).

It acts on the app through `ExperimentsHost`, the few things it needs of it, so this module never
imports the app (the app owns an `Experiments` and routes the keys to it)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from functools import partial
from typing import Any, Protocol

from engine import Config, Run
from engine.errors import MicroMLPError
from engine.history import SMOOTHING_LEVELS
from engine.race import Race, race_text
from engine.runs import RunRegistry, RunSummary, data_name
from tui.plumbing.line_colours import kept_colour
from tui.plumbing.plot_render import Ghost
from tui.plumbing.racing import Racing
from tui.plumbing.saving import Saving
from tui.plumbing.training_loop import State, TrainingLoop
from tui.screens.settings_form import Settings, SettingsForm, served_choices
from tui.views.runs import RunsView


class ExperimentsHost(Protocol):
    """What the experiments need of the app."""

    training: Run
    race: Race | None
    loop: TrainingLoop
    data: str | None
    served: bool
    runs: RunRegistry
    runs_version: int
    temperature: float
    smoothing: float
    top_k: int
    racing: Racing
    saving: Saving

    def set_note(self, note: str, sticky: bool = False) -> None: ...
    def draw_plot(self) -> None: ...
    def draw_views(self) -> None: ...
    def replace_run(self, run: Run | Race, note: str, data: str | None = None,
                    new_data: bool = False) -> Coroutine[Any, Any, None]: ...
    def push_screen(self, screen: Any, callback: Callable[[Settings | None], Any]) -> Any: ...


def _training(c: Config) -> Config:
    """The settings that make a curve (sampling settings do not count)."""
    return c.with_(temperature=0.5, num_samples=0)


def same_curve(old: Run, new: Run, old_data: str | None, new_data: str | None) -> bool:
    """Will `new`, trained from step 0, draw exactly `old`'s curve? (Sampling settings do not count.)"""
    return (new.step == 0 and old_data == new_data and _training(old.config) == _training(new.config)
            and len(old.lr_changes) == 1)


def same_variant_curves(old: Race, new: Run | Race, old_data: str | None, new_data: str | None) -> list[bool]:
    """For each of `old`'s variants: will `new`, trained from step 0, draw exactly its curve? Only a race of
    the same variants (the same settings in the same order, so every step the same batched products: `r`)
    on the same data does, for each variant whose rate was never changed mid-run. (Another race that shares
    a variant's settings may add its steps up in another order: its curve is not taken to be the same.)"""
    if (not isinstance(new, Race) or len(new.runs) != len(old.runs)
            or any(_training(o.config) != _training(n.config) for o, n in zip(old.runs, new.runs))):
        return [False] * len(old.runs)
    return [same_curve(o, n, old_data, new_data) for o, n in zip(old.runs, new.runs)]


class Experiments:
    def __init__(self, host: ExperimentsHost, runs_view: Callable[[], RunsView]):
        self.host = host
        self._runs_view = runs_view  # looked up when needed: the view is mounted after the app is made

    def ghosts(self) -> tuple[Ghost, ...]:
        """The kept runs on show, each labelled by what differs from the current run."""
        h = self.host
        labels = h.runs.labels(h.training.config, data_name(h.data))
        racing = h.race is not None
        return tuple(Ghost(f"#{r.id} {labels[r.id]}", r.curves, kept_colour(r.id, racing),
                           baseline=r.id == h.runs.baseline_id)
                     for r in h.runs.visible())

    def keep_outgoing(self, new: Run | Race, data: str | None, note: str) -> str:
        """The run (or race) on screen is about to give way to `new` (on `data`): kept as a ghost if it trained
        at all, unless `new` will draw the very same curve (the same settings, data and seed, and a learning
        rate never changed mid-run); a race's variants are each kept (the last RunRegistry.limit of them) but
        those that `new` draws again (`r`: same_variant_curves). Returns `note`, which says what is not kept.
        Call it with the training thread stopped."""
        h = self.host
        old, old_data = h.training, h.data
        snap = h.loop.snapshot  # its mean pace while it ran (pauses excluded)
        same = h.race is None and isinstance(new, Run) and same_curve(old, new, old_data, data)
        if h.race is not None and snap.race_step > 0:
            rate = snap.race_step / snap.elapsed if snap.elapsed > 0 else None
            again = same_variant_curves(h.race, new, old_data, data)
            for v, variant_run, repeated in zip(h.race.variants, h.race.runs, again):
                if not repeated:
                    h.runs.add(RunSummary.of(variant_run, old_data, f"race variant {v.number}: {v.label}", rate))
            if not all(again):
                h.runs_version += 1
            if all(again):
                note += " (the old race is not kept: this one draws the same curves)"
            elif any(again):
                numbers = [str(v.number) for v, repeated in zip(h.race.variants, again) if repeated]
                note += (f" (variant {numbers[0]} is not kept: this race draws its curve again)" if len(numbers) == 1
                         else f" (variants {', '.join(numbers[:-1])} and {numbers[-1]} are not kept: this race "
                              "draws their curves again)")
        elif h.race is None and old.step > 0 and not same:  # kept: a ghost line, a row in the runs view
            rate = snap.step / snap.elapsed if snap.elapsed > 0 else None
            h.runs.keep(old, old_data, note, rate)
            h.runs_version += 1
        elif old.step > 0:
            note += " (the old run is not kept: this one draws the same curve)"
        return note

    def open_settings(self) -> None:
        h = self.host
        config = h.training.config.with_(temperature=h.temperature, top_k=h.top_k)  # the sampling on screen
        race = race_text(h.race.variants) if h.race is not None else ""  # applied as it is: the same race again
        choices = served_choices(h.data) if h.served else None  # a browser tab: only the server's data
        h.push_screen(SettingsForm(config, h.data, h.training.dataset.vocab_size, h.saving.form_outputs(), race,
                                   choices), self._apply_settings)

    async def _apply_settings(self, settings: Settings | None) -> None:
        if settings is None:
            return
        h = self.host
        if settings.race:
            h.data = settings.data
            await h.racing.start(settings.race, settings.config)
            return
        run = settings.run  # built by the form, off the screen's thread
        if run is None:
            try:
                run = Run.new(settings.config, settings.data)
            except MicroMLPError as exc:
                h.set_note(f"settings not applied: {exc}", sticky=True)
                return
        # the run on screen is kept with ITS data; the new one trains on the form's
        same = h.race is None and run.config == h.training.config.with_(temperature=settings.config.temperature,
                                                                      top_k=settings.config.top_k) \
            and settings.data == h.data
        what = "a new run with the same settings" if same else "a new run with the new settings"
        await h.replace_run(run, what, settings.data, new_data=True)
        h.temperature, h.top_k = settings.config.temperature, settings.config.top_k  # the form's sampling on screen

    async def scale_lr(self, factor: float) -> None:
        """< and >: the learning rate's base from the next step on. After a divergence `<` starts a new run
        at half the rate the run diverged with; after the end, a note says how to start another."""
        h = self.host
        if h.loop.state == State.DIVERGED:
            if factor >= 1:
                h.set_note("the run diverged: a larger learning rate diverges too; < starts a new run at half "
                           "the rate, o opens the settings", sticky=True)
                return
            lr = h.training.lr_base * factor
            try:
                run = Run.new(h.training.config.with_(learning_rate=lr), h.data)
            except MicroMLPError as exc:
                h.set_note(f"no new run: {exc}", sticky=True)
                return
            await h.replace_run(run, f"a new run at learning rate {lr:g} (the last one diverged)")
            return
        if h.loop.state == State.FINISHED:
            h.set_note("this run is over: < and > change the rate of a run as it trains; o starts a new run "
                       "with another learning rate")
            return
        try:
            with h.loop.lock:  # between two steps: the next step, numbered as the run line numbers it, uses it
                base = h.training.scale_lr(factor)
                first = h.training.step + 1  # (steps are numbered from 1 on screen)
        except MicroMLPError as exc:
            h.set_note(f"learning rate unchanged: {exc}")
            return
        goes_on = {"linear": "the decay towards 0 goes on from it", "cosine": "the cosine schedule goes on from it",
                   "constant": "the constant schedule: every later step uses it"}
        schedule = h.training.config.schedule
        h.set_note(f"learning rate base {base!r} from step {first:,} on "
                   f"({goes_on.get(schedule, f'the {schedule} schedule goes on from it')})")
        h.draw_plot()

    def smoothing(self, delta: int) -> None:
        """The moving average's weight one level up (+1, smoother) or down (-1), for the whole line of
        this run, or of every variant of a race (their averages are compared on the board and the plot:
        with one weight), recomputed between two steps; and for the next runs."""
        h = self.host
        levels = SMOOTHING_LEVELS
        now = h.training.history.weight
        here = min(range(len(levels)), key=lambda i: abs(levels[i] - now))
        weight = levels[min(max(here + delta, 0), len(levels) - 1)]
        with h.loop.lock:  # between two steps: the trainer appends to these histories
            for run in h.race.runs if h.race is not None else [h.training]:
                run.history.set_weight(weight)
            h.loop.retake()  # the status's moving average and the board's: the new ones
        h.runs.resmooth(weight)  # the kept runs' lines and figures too: compared at one weight
        h.runs_version += 1
        h.smoothing = weight
        span = "no smoothing: each step's own loss" if weight == 0 else f"about the last {1 / (1 - weight):.0f} steps"
        h.set_note(f"moving average: smoothing {weight:g} ({span}); the whole line recomputed")
        h.draw_plot()

    def pick_run(self, delta: int) -> None:
        self._runs_view().move(delta)
        self.host.draw_views()

    def toggle_run(self, run_id: int | None = None) -> None:
        """Hide or show a kept run's ghost line (the one picked in the runs view, or `run_id`)."""
        h = self.host
        run_id = self._runs_view().selected_id if run_id is None else run_id
        if run_id and h.runs.get(run_id) is not None:
            h.runs.toggle(run_id)
            self._changed()

    def pin_baseline(self, run_id: int | None = None) -> None:
        """Pin a kept run (the one picked in the runs view, or `run_id`) as the baseline, or unpin it."""
        h = self.host
        run_id = self._runs_view().selected_id if run_id is None else run_id
        if not run_id:
            h.set_note("the baseline is a kept run: pick one with j / k, then b")
            return
        if h.runs.get(run_id) is None:
            return
        pinned = h.runs.pin_baseline(run_id)
        h.set_note(f"run #{run_id} is the baseline: the runs view shows every run as differences from it"
                   if pinned else f"run #{run_id} is no longer the baseline")
        self._changed()

    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], None]]]:
        """One command per kept run, (title, help, what it does): the palette reaches them from any view."""
        h = self.host
        labels = h.runs.labels(h.training.config, data_name(h.data))
        for r in h.runs.list():
            pinned = r.id == h.runs.baseline_id
            yield (f"Runs: {'unpin' if pinned else 'pin'} #{r.id} {labels[r.id]} as the baseline",
                   "b in the runs view (7): the runs view shows every run as differences from it",
                   partial(self.pin_baseline, r.id))

    def remove_run(self, run_id: int | None = None) -> None:
        run_id = self._runs_view().selected_id if run_id is None else run_id
        if run_id and self.host.runs.remove(run_id):
            self._changed()

    def _changed(self) -> None:
        self.host.runs_version += 1
        self.host.draw_plot()
        self.host.draw_views()
