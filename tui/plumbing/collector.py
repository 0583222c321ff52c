"""Python's garbage collector kept out of the screen's way: what the dashboard made to start is set
aside (`gc.freeze`) once its first frame is drawn, so that no later collection walks it again.

Why (measured in tmux at 120x40, training flat out, `+`/`-` pressed 40 times, README's figures): a
full collection visits every container object the process holds and keeps the interpreter lock while
it does. With the ~75,000 made at start (modules, classes, Textual's widgets, styles and caches) one
took 40-85 ms, every few seconds, and a key that arrived meanwhile waited for it: the screen's answer
took up to 67-74 ms instead of at most 40. Set aside, they are never visited again; what is made later
(names, caches, views, the next runs) is collected as before, in 6 ms or less.

An object set aside is never collected: one that becomes garbage inside a reference cycle would stay
in memory. The run replaced by the next one is such garbage (its training generator refers back to
it), so when a run is replaced everything is taken back (`replaced`); once the old run is gone (its
worker lets go of it a moment later) it is collected, and what lives is set aside again. That is one
full collection, at a moment when the screen has just changed anyway.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

RETRY = 0.25  # seconds between looks for the replaced run's end
TRIES = 40  # ... at most: then what lives is set aside anyway (10 s)


class Collector:
    """Sets aside what the dashboard holds, when `wanted` (the real program; tests make and drop many
    apps and leave the collector as it is). `later(seconds, callback)` runs a callback on the screen's loop."""

    def __init__(self, later: Callable[[float, Callable[[], None]], object]):
        self.later = later
        self.wanted = False

    def start(self) -> None:
        """After the first frame: everything made to start is set aside."""
        if self.wanted:
            gc.freeze()

    def replaced(self, old: object) -> None:
        """`old` (a Run or a Race) has just been replaced: take everything back, and set aside again once
        `old` is gone and collected."""
        if self.wanted:
            gc.unfreeze()
            gone = weakref.ref(old)  # first looked for after the new run's first frames, not in the key's answer
            self.later(RETRY, lambda: self._when_gone(gone, TRIES))

    def _when_gone(self, old: weakref.ref, tries: int) -> None:
        gc.collect()
        if old() is None or tries == 0:
            gc.freeze()
        else:
            self.later(RETRY, lambda: self._when_gone(old, tries - 1))
