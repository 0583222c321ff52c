"""A run's end on screen (finished or diverged), once a run: the sticky note that says what now (and, if
every hidden unit died, why the loss stayed up), the run's own final samples (tui/plumbing/names.py), and
what --save and --metrics ask for (tui/plumbing/saving.py).

It acts on the app through `RunEndHost`, the few things it needs of it, so this module never imports the
app (the app owns a `RunEnd` and hands it the state of each frame)."""

from __future__ import annotations

from typing import Protocol

from engine import Run
from engine.race import Race
from tui.plumbing.dead_watch import FINISHED_DEAD, FINISHED_VARIANT_DEAD, DeadUnitWatch
from tui.plumbing.names import NamesOnScreen
from tui.plumbing.saving import Saving
from tui.plumbing.training_loop import State

FINISHED = "finished: r runs it again, n with a new seed, o with new settings, s saves it"
RACE_FINISHED = "race over: view 8 ranks the variants; v picks one, s saves it, r races again"  # whole in 78


class RunEndHost(Protocol):
    """What a run's end needs of the app."""

    training: Run
    race: Race | None
    temperature: float
    top_k: int
    naming: NamesOnScreen
    saving: Saving
    dead_watch: DeadUnitWatch

    def set_note(self, note: str, sticky: bool = False) -> None: ...
    def say_if_all_dead(self) -> None: ...


class RunEnd:
    def __init__(self, host: RunEndHost):
        self.host = host
        self.shown = False  # the end of the run on screen was shown (a new run, or variant, sets it back)

    def follow(self, state: State) -> None:
        """A frame: the run on screen is in `state`; the end is shown once, when it comes."""
        if state in (State.FINISHED, State.DIVERGED) and not self.shown:
            self.shown = True
            self.show(state)

    def show(self, state: State) -> None:
        h = self.host
        if state == State.DIVERGED:
            h.set_note(f"diverged: < starts again at half the learning rate ({h.training.lr_base / 2:g}), "
                       "o opens the settings", sticky=True)
            h.saving.write_at_end()
            return
        if h.training.diverged_at is not None:  # a race over, showing a variant that diverged: no names from it
            h.set_note(f"race finished; the variant shown diverged at step {h.training.diverged_at + 1:,}, so it "
                       "draws no names: v picks another", sticky=True)
            h.saving.write_at_end()
            return
        h.dead_watch.look_again()
        h.say_if_all_dead()
        if h.dead_watch.said:  # the end does not hide why the loss stayed up
            h.set_note(FINISHED_DEAD if h.race is None
                       else FINISHED_VARIANT_DEAD.format(n=h.race.runs.index(h.training) + 1), sticky=True)
        else:
            h.set_note(RACE_FINISHED if h.race is not None else FINISHED, sticky=True)
        h.naming.final_samples(h.training, h.temperature, h.top_k)
        h.saving.write_at_end()  # what --save / --metrics ask for
