"""How the console command ends: one line on stderr and an exit code (2 bad input; 128 + the signal
when interrupted), and SIGTERM / SIGHUP raised as interrupts the way ctrl+c is."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from engine.printable import printable

PROG = "micromlp-tui"


def fail(message: str, code: int = 2) -> int:
    """One line on stderr, `micromlp-tui: error: ...`, with anything unprintable escaped."""
    try:
        print(f"{PROG}: error: {printable(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code is all that is left
    return code


# --- signals ---------------------------------------------------------------------------------------
class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread as ctrl+c raises KeyboardInterrupt."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_name(exc: BaseException) -> str:
    signum = getattr(exc, "signum", signal.SIGINT)
    return "ctrl+c" if signum == signal.SIGINT else signal.Signals(signum).name


def interrupt_code(exc: BaseException) -> int:
    """128 + the signal's number, as a shell reports it: 130 ctrl+c, 143 SIGTERM, 129 SIGHUP."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


@contextmanager
def signals_interrupt(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP),
                      defer: Callable[[int], bool] | None = None) -> Iterator[None]:
    """Within: `signals` (SIGTERM and SIGHUP; ctrl+c raises KeyboardInterrupt anyway) raise
    Interrupted, a KeyboardInterrupt, unless `defer(signum)` returns True: then the caller has noted
    the signal and stops at its next safe point (between two training steps)."""
    def handler(signum: int, frame: object) -> None:
        if defer is not None and defer(signum):
            return
        raise Interrupted(signum)

    old = {}
    for signum in signals:
        try:
            old[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread: leave the signals alone
            pass
    try:
        yield
    finally:
        for signum, previous in old.items():
            signal.signal(signum, previous)
