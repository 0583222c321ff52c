"""The dead-unit watch: is every hidden unit of the model on screen dead (its ReLU gives 0 after every
token)? Then no gradient reaches any weight again and the model says the same uniform guess after every
token: said once a run (a lesson: dead ReLUs), looked at most once a second and once a step (one forward
pass over the vocabulary: engine.inspect.all_units_dead, the headless end's test too), and not at all for
a model too large for the screen's thread. No widgets here: the app puts the note on screen."""

from __future__ import annotations

import time

from engine import Model
from engine.inspect import all_units_dead

DEAD_CHECK_MAX = 30_000_000  # multiply-adds of the once-a-second check (n_embd 512: 28 million, ~20 ms)
ALL_DEAD = ("every hidden unit is dead (dead ReLUs): the gradient is 0, no weight changes again; "
            "r or n for a new run")
FINISHED_DEAD = ("finished with every hidden unit dead (dead ReLUs): the gradient is 0, the loss stuck at "
                 "the guess; r or n: a new run")
# in a race: the variant shown (r runs the whole race again, n leaves it for one run: neither is "a new run")
# (each whole in 78 columns: the note line cuts at 80, QA)
VARIANT_DEAD = "variant {n}: all hidden units dead (dead ReLUs): no gradient; the others go on"
FINISHED_VARIANT_DEAD = "race finished; variant {n}: all hidden units dead (dead ReLUs); v picks another"


class DeadUnitWatch:
    def __init__(self) -> None:
        self.said = False  # found (and said) this run
        self._checked = -1.0  # when every unit was last checked for being dead (monotonic) ...
        self._checked_step = -1  # ... and at which step

    def look(self, model: Model, step: int, trained: bool) -> bool:
        """Look at `model` (the weights of `step`) if a look is due: True the first time this run that
        every hidden unit is found dead (`trained`: the run has taken a step)."""
        now = time.monotonic()
        if model.vocab_size * model.n_embd * model.hidden > DEAD_CHECK_MAX:  # too slow for the screen's thread
            return False
        if self.said or now - self._checked < 1.0 or step == self._checked_step:
            return False
        self._checked, self._checked_step = now, step
        if trained and all_units_dead(model):
            self.said = True
            return True
        return False

    def look_again(self) -> None:
        """The next look is due at once (the run's end: its last weights)."""
        self._checked, self._checked_step = -1.0, -1
