"""Experiments in the dashboard (issue 11): the settings form, the learning rate changed mid-run,
earlier runs kept as ghost lines and listed in the runs view (7). A mixin of DashboardApp: it uses
the app's `training`, `loop`, `data`, `runs`, `set_note`, `draw_plot`, `draw_views` and `_replace_run`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine import Run
from engine.errors import MicroMLPError
from engine.runs import data_name
from tui.loss_plot import Ghost
from tui.settings_form import Settings, SettingsForm
from tui.training_loop import State
from tui.views.runs import RunsView

if TYPE_CHECKING:
    from tui.app import DashboardApp

    Base = DashboardApp
else:
    Base = object


class Experiments(Base):
    def ghosts(self) -> tuple[Ghost, ...]:
        """The kept runs on show, each labelled by what differs from the current run."""
        labels = self.runs.labels(self.training.config, data_name(self.data))
        return tuple(Ghost(f"#{r.id} {labels[r.id]}", r.curves) for r in self.runs.visible())

    def action_settings(self) -> None:
        config = self.training.config.with_(temperature=self.temperature)  # the temperature on screen
        form = SettingsForm(config, self.data, self.training.dataset.vocab_size)
        self.push_screen(form, self._apply_settings)

    async def _apply_settings(self, settings: Settings | None) -> None:
        if settings is None:
            return
        try:
            run = Run.new(settings.config, settings.data)
        except MicroMLPError as exc:
            self.set_note(f"settings not applied: {exc}", sticky=True)
            return
        self.data = settings.data
        await self._replace_run(run, "a new run with the new settings")

    def action_scale_lr(self, factor: float) -> None:
        if self.loop.state in (State.FINISHED, State.DIVERGED):
            return
        try:
            base = self.training.scale_lr(factor)
        except MicroMLPError as exc:
            self.set_note(f"learning rate unchanged: {exc}")
            return
        self.set_note(f"learning rate base {base:g} from step {self.training.step + 1} on (the decay goes on)")
        self.draw_plot()

    @property
    def runs_view(self) -> RunsView:
        return self.query_one(RunsView)

    def action_pick_run(self, delta: int) -> None:
        self.runs_view.move(delta)
        self.draw_views()

    def action_toggle_run(self, run_id: int | None = None) -> None:
        """Hide or show a kept run's ghost line (the one picked in the runs view, or `run_id`)."""
        run_id = self.runs_view.selected_id if run_id is None else run_id
        if run_id and self.runs.get(run_id) is not None:
            self.runs.toggle(run_id)
            self._runs_version += 1
            self.draw_plot()
            self.draw_views()

    def action_remove_run(self, run_id: int | None = None) -> None:
        run_id = self.runs_view.selected_id if run_id is None else run_id
        if run_id and self.runs.remove(run_id):
            self._runs_version += 1
            self.draw_plot()
            self.draw_views()
