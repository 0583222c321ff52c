"""The dashboard's lifeline: the process ends when it is told to or when its terminal goes, whatever
the app's own thread is doing at that moment.

Textual handles signals on its event loop, that is on the main thread; when that thread is stuck (in
the driver's output queue, which nothing drains once the terminal is gone, or behind a long piece of
work) a signal handler never runs and the app lives on. So here:
- SIGINT, SIGTERM and SIGHUP are blocked in every thread (the mask is set before the app starts its
  threads, which inherit it) and taken by ONE daemon thread with `sigtimedwait`, which does not need
  the main thread. It asks the app to end cleanly (`request_exit(code)`, 128 + the signal: 130, 143,
  129) and, if the process is still there GRACE seconds later, ends it itself: `last_words()`, the
  terminal's modes restored as far as they can be, then `os._exit(code)`.
- The same thread looks at the terminal every TICK seconds: once `tcgetattr` fails on a descriptor that
  was a terminal at the start (a hung-up tty answers EIO), the terminal is gone (a closed window, a
  killed tmux session): `last_words()` and `os._exit(129)` (as SIGHUP) at once; nothing is drawn.
- `arm(code, seconds)`: after a quit, the process must be gone within `seconds`, else the same end.
`last_words` runs at most once and is given LAST_WORDS seconds (in a thread of its own) to finish.
Nothing here imports Textual: the app passes in what to call.
"""

from __future__ import annotations

import os
import signal
import termios
import threading
import time
from collections.abc import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TICK = 0.2  # seconds between looks at the terminal
GRACE = 1.5  # seconds a signal's clean exit may take before the process is ended anyway
LAST_WORDS = 1.0  # seconds given to last_words() on a forced end
# what the app switched on, switched off: kitty keys, alternate screen, cursor, focus and mouse
# reporting, bracketed paste, line wrap (the sequences Textual's Linux driver writes when it stops)
RESET = (b"\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"
         b"\x1b[?2004l\x1b[?7h")


def _is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


class Lifeline:
    def __init__(self, request_exit: Callable[[int], None], last_words: Callable[[], None] = lambda: None,
                 terminal_modes: Callable[[], list | None] = lambda: None, fds: tuple[int, ...] = (0, 2)):
        """`request_exit(code)` asks the app to end cleanly (called from this module's thread: it must
        be thread-safe); `last_words()` writes what must not be lost (outputs) before a forced end;
        `terminal_modes()` gives the tty attributes to restore (termios.tcgetattr's list) or None."""
        self.request_exit = request_exit
        self.last_words = last_words
        self.terminal_modes = terminal_modes
        self.ttys = tuple(fd for fd in fds if _is_tty(fd))  # watched: gone when these stop answering
        self.code: int | None = None  # the exit code asked for (a signal's, or a quit's)
        self._deadline: float | None = None  # monotonic time by which the process must be gone
        self._said = threading.Lock()
        self._said_done = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.blocked = False

    # --- from the main thread -------------------------------------------------------------------
    def start(self) -> None:
        """Block the signals in this thread (and so in every thread started after it) and start the
        watching thread, which alone takes them. Call it before the app starts its threads."""
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
            self.blocked = True
        except (OSError, ValueError, AttributeError):
            self.blocked = False  # no such call here: the terminal is still watched
        self._thread = threading.Thread(target=self._watch, name="micromlp-lifeline", daemon=True)
        self._thread.start()

    def arm(self, code: int, seconds: float, replace: bool = False) -> None:
        """The process is to end with `code`: if it has not within `seconds`, it is ended. An earlier
        deadline stands, unless `replace` (the app has ended cleanly: its outputs get their time)."""
        if self.code is None or replace:
            self.code = code
        deadline = time.monotonic() + seconds
        if self._deadline is None or deadline < self._deadline or replace:
            self._deadline = deadline

    # --- the watching thread --------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stop.is_set():
            signum = self._wait_for_signal(TICK)
            if signum is not None:
                code = 128 + signum
                self.arm(code, GRACE)
                try:
                    self.request_exit(code)
                except Exception:  # noqa: BLE001 - the loop is gone: the deadline ends the process
                    pass
            if self.terminal_gone():
                self.end(129)
            if self._deadline is not None and time.monotonic() > self._deadline:
                self.end(self.code if self.code is not None else 1)

    def _wait_for_signal(self, timeout: float) -> int | None:
        if not self.blocked:
            time.sleep(timeout)
            return None
        try:
            info = signal.sigtimedwait(SIGNALS, timeout)
        except (OSError, InterruptedError):
            return None
        return info.si_signo if info is not None else None

    def terminal_gone(self) -> bool:
        """A descriptor that was a terminal no longer answers as one (hung up: EIO; closed: EBADF)."""
        for fd in self.ttys:
            try:
                termios.tcgetattr(fd)
            except termios.error:
                return True
        return False

    def say_last_words(self, seconds: float = LAST_WORDS) -> None:
        """last_words() once, in a thread of its own, waited for at most `seconds`."""
        with self._said:
            if self._said_done:
                return
            self._said_done = True
        worker = threading.Thread(target=self._last_words_quietly, name="micromlp-last-words", daemon=True)
        worker.start()
        worker.join(seconds)

    def _last_words_quietly(self) -> None:
        try:
            self.last_words()
        except BaseException:  # noqa: BLE001 - nothing may stop the end
            pass

    def end(self, code: int) -> None:
        """The forced end: last words, the terminal's modes back where it still answers, then exit."""
        self.say_last_words()
        self.restore_terminal()
        os._exit(code)

    def restore_terminal(self) -> None:
        modes = None
        try:
            modes = self.terminal_modes()
        except Exception:  # noqa: BLE001
            pass
        for fd in self.ttys:
            try:
                if modes is not None:
                    termios.tcsetattr(fd, termios.TCSANOW, modes)
            except (termios.error, OSError):
                pass
        if 2 in self.ttys:
            try:
                os.set_blocking(2, False)  # a terminal that does not read must not hold the end
                os.write(2, RESET)
            except OSError:
                pass

    def stop(self) -> None:
        """The process ends normally: stop watching (the signals stay blocked until it has)."""
        self._stop.set()

