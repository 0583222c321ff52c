"""Experiments in the dashboard: the settings form and the new run it starts, the learning rate
changed mid-run, earlier runs kept as ghost lines and listed in the runs view (7).

It acts on the app through `ExperimentsHost`, the few things it needs of it, so this module never
imports the app (the app owns an `Experiments` and routes the keys to it)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from engine import Run
from engine.errors import MicroMLPError
from engine.runs import RunRegistry, data_name
from tui.plumbing.training_loop import State, TrainingLoop
from tui.screens.settings_form import Settings, SettingsForm
from tui.views.runs import RunsView
from tui.widgets.loss_plot import Ghost


class ExperimentsHost(Protocol):
    """What the experiments need of the app."""

    training: Run
    loop: TrainingLoop
    data: str | None
    runs: RunRegistry
    runs_version: int
    temperature: float

    def set_note(self, note: str, sticky: bool = False) -> None: ...
    def draw_plot(self) -> None: ...
    def draw_views(self) -> None: ...
    def replace_run(self, run: Run, note: str, data: str | None | object = ...) -> Coroutine[Any, Any, None]: ...
    def form_outputs(self) -> list[tuple[str, str | None]]: ...
    def push_screen(self, screen: Any, callback: Callable[[Settings | None], Any]) -> Any: ...


class Experiments:
    def __init__(self, host: ExperimentsHost, runs_view: Callable[[], RunsView]):
        self.host = host
        self._runs_view = runs_view  # looked up when needed: the view is mounted after the app is made

    def ghosts(self) -> tuple[Ghost, ...]:
        """The kept runs on show, each labelled by what differs from the current run."""
        h = self.host
        labels = h.runs.labels(h.training.config, data_name(h.data))
        return tuple(Ghost(f"#{r.id} {labels[r.id]}", r.curves) for r in h.runs.visible())

    def open_settings(self) -> None:
        h = self.host
        config = h.training.config.with_(temperature=h.temperature)  # the temperature on screen
        h.push_screen(SettingsForm(config, h.data, h.training.dataset.vocab_size, h.form_outputs()),
                      self._apply_settings)

    async def _apply_settings(self, settings: Settings | None) -> None:
        if settings is None:
            return
        h = self.host
        run = settings.run  # built by the form, off the screen's thread
        if run is None:
            try:
                run = Run.new(settings.config, settings.data)
            except MicroMLPError as exc:
                h.set_note(f"settings not applied: {exc}", sticky=True)
                return
        # the run on screen is kept with ITS data; the new one trains on the form's
        await h.replace_run(run, "a new run with the new settings", data=settings.data)

    def scale_lr(self, factor: float) -> None:
        h = self.host
        if h.loop.state in (State.FINISHED, State.DIVERGED):
            return
        try:
            base = h.training.scale_lr(factor)
        except MicroMLPError as exc:
            h.set_note(f"learning rate unchanged: {exc}")
            return
        h.set_note(f"learning rate base {base:g} from step {h.training.step + 1} on (the decay goes on)")
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

    def remove_run(self, run_id: int | None = None) -> None:
        run_id = self._runs_view().selected_id if run_id is None else run_id
        if run_id and self.host.runs.remove(run_id):
            self._changed()

    def _changed(self) -> None:
        self.host.runs_version += 1
        self.host.draw_plot()
        self.host.draw_views()
