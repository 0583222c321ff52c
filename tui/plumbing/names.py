"""The generated names' batches: which random draws each batch uses, when the next one is due, and the
run's own final samples. Sampling itself is the engine's; the names panel only lays the names out.

`NamesOnScreen` acts on the app through `NamesHost`, the few things it needs of it, so this module never
imports the app (the app owns a `NamesOnScreen` and hands it the steps it shows)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

import numpy as np
from textual.worker import get_current_worker

from engine import Model, Run, sample_names, sample_names_from_grid, uniform_grid
from engine.dataset import Dataset

SAMPLE_EVERY = 2.0  # seconds between name batches while training runs
NAMES_PER_BATCH = 8
FINAL_CHUNK = 100  # final samples are drawn this many at a time, so a cancel is seen at once
FINAL_GROUP = "final-samples"  # the worker group of the final samples (a new run cancels it)


class NameBatches:
    """Batches of NAMES_PER_BATCH names drawn with fixed uniform draws (a grid): re-sampling the newest
    batch at another temperature uses the same draws, so the change seen is the temperature's. The
    draws follow the run's seed: another seed draws other names from its first batch on (the same seed,
    the same draws). Whoever makes new batches draws their first at once (a new run, a race's variant
    picked): the next is due SAMPLE_EVERY seconds after it, so the periodic batch never comes beside it."""

    def __init__(self, max_len: int, seed: int = 0):
        self.max_len = max_len
        self._base = (seed % 2**31) * 1_000_003  # batch k of a run uses the grid of seed base + k
        self._seed = 0
        self._grid = uniform_grid(seed=self._base, count=NAMES_PER_BATCH, max_len=max_len)
        self._last = time.monotonic()  # not due yet: the first batch is its maker's (see above)

    def due(self) -> bool:
        """Is a new batch due (SAMPLE_EVERY seconds after the last)?"""
        return time.monotonic() - self._last >= SAMPLE_EVERY

    def draw(self, model: Model, dataset: Dataset, temperature: float,
             new_draws: bool = False, top_k: int = 0) -> tuple[list[str], list[bool]]:
        """The batch's names and, for each, whether it is a training name. `new_draws`: the next grid."""
        if new_draws:
            self._seed += 1
            self._grid = uniform_grid(self._base + self._seed, NAMES_PER_BATCH, self.max_len)
        with np.errstate(all="ignore"):
            names = sample_names_from_grid(model, dataset, temperature, self._grid, top_k)
        self._last = time.monotonic()
        return names, [dataset.is_training_name(n) for n in names]


def final_samples(run: Run, temperature: float, cancelled: Callable[[], bool], top_k: int = 0,
                  rng: random.Random | None = None) -> list[str] | None:
    """The run's own samples from its random stream (the tutorial's `sample  1: ...`), drawn in chunks;
    None if `cancelled()` became true on the way. `rng`: draw from this generator instead (a copy of the
    run's state, to draw the same list again at another temperature without touching the run's)."""
    names: list[str] = []
    total = run.config.num_samples
    while len(names) < total:
        if cancelled():
            return None
        count = min(FINAL_CHUNK, total - len(names))
        if rng is None:
            names += run.sample(temperature=temperature, count=count, top_k=top_k)
        else:
            names += sample_names(run.model, run.dataset, temperature, count, rng, run.config.max_len, top_k)
    return names


class NamesList(Protocol):
    """The names panel, as the names on screen use it."""

    def add_batch(self, heading: str, names: Sequence[str], known: Sequence[bool] | None = None) -> None: ...
    def replace_last(self, heading: str, names: Sequence[str], known: Sequence[bool] | None = None) -> None: ...
    def show_final(self, names: Sequence[str], temperature: float, known: Sequence[bool] | None = None,
                   replace: bool = False, top_k: int = 0) -> None: ...


class NamesHost(Protocol):
    """What the names on screen need of the app."""

    training: Run
    view_model: Model
    temperature: float
    top_k: int

    @property
    def names(self) -> NamesList: ...
    @property
    def shown_step(self) -> int: ...
    def set_note(self, note: str, sticky: bool = False) -> None: ...
    def run_worker(self, work: Callable[[], Any], name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True, exclusive: bool = False,
                   thread: bool = False) -> Any: ...
    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...


class NamesOnScreen:
    """The names panel's batches while the run trains, and the run's own final samples at its end."""

    def __init__(self, host: NamesHost):
        self.host = host
        self.new_run()

    def new_run(self) -> None:
        """A new run on screen: its own draws, and nothing of the last run's to draw again."""
        self.new_draws()
        self._after_step: int | None = None  # `.` was pressed at this step: a batch when the next is shown
        self._stepped_batch = False  # the newest batch was drawn after a `.` step (the next one replaces it)
        self.batch_step: int | None = None  # the step the newest batch was drawn at
        self.final_state: object = None  # the run's random state before its final samples (to re-sample them)
        self.final_names: list[str] | None = None
        self._batch_t = ""  # the temperature the newest batch was first drawn at

    def new_draws(self) -> None:
        """The batches' draws of the run on screen (from its seed: in a race, the picked variant's)."""
        c = self.host.training.config
        self.batches = NameBatches(c.max_len, c.seed)

    def stepped(self, step: int) -> None:
        """`.` was pressed while `step` was shown: a batch of names when the step it takes is shown."""
        self._after_step = step

    def due(self, step: int) -> bool:
        """Is a new batch due while training runs: SAMPLE_EVERY seconds since the last, and the weights
        shown have moved since it was drawn (a run just started shows step 0 again: no second batch)."""
        return self.batches.due() and step != self.batch_step

    def step_shown(self, step: int) -> None:
        """The screen shows `step`: after a `.`, the batch of the step it took."""
        if self._after_step is not None and step != self._after_step:
            self._after_step = None
            self.sample_batch(stepped=True)

    def sample_batch(self, asked: bool = False, again: bool = False, stepped: bool = False) -> None:
        """A batch of names. `again`: the newest batch drawn again at the new temperature with the same
        random numbers (in place; after the end, the final samples); `stepped`: after a `.` step, the
        same random numbers at the new weights, replacing the batch of the previous `.`; else a new batch.
        `asked`: by a key (a note says why no names come)."""
        h = self.host
        if not np.isfinite(h.view_model.theta).all() or h.training.diverged_at is not None:
            if asked or again:
                h.set_note("no names: the run diverged, its probabilities are not finite "
                           "(< starts again at half the learning rate, o opens the settings)")
            return
        if again and self.final_state is not None:  # after the end: the final samples, drawn again
            self.final_samples(h.training, h.temperature, h.top_k, self.final_state)
            return
        t = f"{h.temperature:.2f}"
        same = again or (stepped and self._stepped_batch)
        if not again:
            self._batch_t = t
        names, known = self.batches.draw(h.view_model, h.training.dataset, h.temperature, not same, h.top_k)
        heading = (f"step {h.shown_step:,} · T " + (f"{self._batch_t}→{t}" if self._batch_t != t else t)
                   + (f" · top-k {h.top_k}" if h.top_k else ""))
        if same:
            h.names.replace_last(heading, names, known)
        else:
            h.names.add_batch(heading, names, known)
        self.batch_step = h.shown_step
        self._stepped_batch = stepped or (again and self._stepped_batch)

    def final_samples(self, run: Run, temperature: float, top_k: int = 0, state: object = None) -> None:
        """The run's own samples (its random stream: the tutorial's), drawn off the screen's thread in
        chunks (a worker of FINAL_GROUP, the one before cancelled), so that even --samples in the thousands
        never holds up a key. `state`: the run's random state before its first samples: the same list
        drawn again at another temperature, in place of the first (the run's own stream is not touched)."""
        self.host.run_worker(partial(self._draw_final, run, temperature, top_k, state), name="_final_samples",
                             group=FINAL_GROUP, exclusive=True, thread=True)

    def _draw_final(self, run: Run, temperature: float, top_k: int, state: object) -> None:
        worker = get_current_worker()
        rng = None
        if state is None:
            state = run.rng.getstate()  # before the samples: a redraw starts from here
        else:
            rng = random.Random()
            rng.setstate(state)  # type: ignore[arg-type]
        names = final_samples(run, temperature, lambda: worker.is_cancelled or run is not self.host.training,
                              top_k, rng)
        if names is None:
            return
        known = [run.dataset.is_training_name(n) for n in names]
        self.host.call_from_thread(self._show_final_names, run, names, (temperature, top_k), known, state,
                                   rng is not None)

    def _show_final_names(self, run: Run, names: list[str], sampling: tuple[float, int], known: list[bool],
                          state: object, again: bool) -> None:
        h = self.host
        if run is not h.training:  # a new run started while they were drawn
            return
        self.final_names, self.final_state = names, state
        h.names.show_final(names, sampling[0], known, replace=again, top_k=sampling[1])
        if sampling != (h.temperature, h.top_k):  # changed while they were drawn: drawn again
            self.final_samples(run, h.temperature, h.top_k, state)
