"""How the dashboard's process ends: the app runs under its lifeline (tui/plumbing/lifeline.py: a signal
or a closed terminal ends it even when the app's thread is stuck, a quit within QUIT_SECONDS), whose last
words are what --save and --metrics ask for; each is said in one line on stderr once the app has ended, and
the exit code is 3 if one was lost (as headless). It acts on the app through `WatchedApp`, so it never
imports the app. (Not in lifeline.py: that module imports nothing of the engine, so no numpy thread starts
before it blocks the signals in a process of its own, as tests/test_lifeline.py runs it.)"""

from __future__ import annotations

import sys
import termios
from typing import Any, Protocol

from engine.printable import printable
from tui.plumbing.lifeline import Lifeline

QUIT_SECONDS = 3.0  # after q the process is gone within this, whatever is still running
OUTPUT_SECONDS = 10.0  # --save / --metrics at the end are given this long (a pipe nobody reads)
EXIT_OUTPUT_LOST = 3  # the exit code when --save or --metrics could not be written (as headless)


class Outputs(Protocol):
    """What the app writes when it ends (tui.plumbing.saving.Saving)."""

    def write_outputs(self) -> list[tuple[str, bool]]: ...
    def unwritten(self) -> bool: ...


class WatchedApp(Protocol):
    """What the end needs of the app."""

    lifeline: Lifeline | None

    @property
    def return_code(self) -> int | None: ...
    @property
    def saving(self) -> Outputs: ...
    def run(self) -> Any: ...
    def request_exit(self, code: int) -> None: ...


def _say(line: str) -> None:
    try:
        print(f"micromlp-tui: {printable(line)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def run_under_lifeline(app: WatchedApp) -> int:
    """Run the app; then --metrics / --save if the run trained since they were last written (one line
    on stderr each). The lifeline ends the process on a signal or when the terminal goes, even if the
    app's thread is stuck, and at the latest a few seconds after a quit (armed by the app's quit)."""
    try:
        modes = termios.tcgetattr(0)  # what the terminal was before the app: restored on a forced end
    except (termios.error, OSError):
        modes = None
    lines: list[tuple[str, bool]] = []

    def last_words() -> None:
        lines.extend(app.saving.write_outputs())

    lifeline = Lifeline(app.request_exit, last_words, lambda: modes)
    app.lifeline = lifeline
    lifeline.start()
    app.run()
    code = app.return_code or 0
    lifeline.arm(code, OUTPUT_SECONDS + 2, replace=True)  # the app has ended: the outputs, then the end
    lifeline.say_last_words(OUTPUT_SECONDS)
    for line, _ in lines:
        _say(line)
    lost = any(failed for _, failed in lines)
    if not lines and app.saving.unwritten():
        _say(f"--save / --metrics: not written within {OUTPUT_SECONDS:.0f} s (a pipe nobody reads?)")
        lost = True
    return EXIT_OUTPUT_LOST if lost and code == 0 else code  # as headless: what a flag asked for was lost
