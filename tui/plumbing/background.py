"""Work beside the screen's thread, with no Textual in it: a daemon thread for a write that may block (a
pipe nobody reads, a slow disk), so it never holds up the screen or a quit, and a result handed back to the
screen's thread without waiting for it (the app, and its event loop, may be ending meanwhile)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class Background:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None  # the screen's event loop, once it runs

    def attach(self) -> None:
        """On the screen's thread, once its event loop runs: results are handed back to it."""
        self.loop = asyncio.get_running_loop()

    @staticmethod
    def start(target: Callable[..., object], *args: object) -> None:
        """`target(*args)` in a daemon thread: the process never waits for it."""
        threading.Thread(target=target, args=args, daemon=True).start()

    def hand_back(self, callback: Callable[..., object], *args: object) -> None:
        """From any thread: `callback(*args)` on the screen's thread, soon, not waited for; nothing if the
        loop never ran or has closed."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(callback, *args)
            except RuntimeError:
                pass  # the loop closed in between
