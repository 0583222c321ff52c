"""The status line: what the run is doing, in words a person (and a terminal check) can read.

Items are packed into lines at the widget's width and wrap only between items, never inside one;
every number has a bounded width. Built from Text, never markup: nothing shown here is parsed."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Static

SEPARATOR = " │ "


def figure(value: float) -> str:
    """A loss-like number in at most 10 characters: 4 decimals, or scientific when huge."""
    if not math.isfinite(value):
        return "--"
    value += 0.0  # no "-0.0000"
    text = f"{value:.4f}"
    return text if len(text) <= 10 else f"{value:.3e}"


def rate(value: float) -> str:
    return f"{value:,.0f}" if value < 1e7 else f"{value:.2e}"


def clock(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds >= 360_000:
        return "--:--"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def pack(items: list[str], width: int) -> list[str]:
    """Items joined by the separator, a new line started only between two items."""
    lines: list[str] = []
    for item in items:
        item = item if len(item) <= width else item[: max(width - 1, 0)] + "…"
        if lines and len(lines[-1]) + len(SEPARATOR) + len(item) <= width:
            lines[-1] += SEPARATOR + item
        else:
            lines.append(item)
    return lines


TYPICAL = ["running", "step 100000/1000000", "smoothed loss 2.6652", "whole-data loss 2.5857", "50,000 steps/s",
           "elapsed 0:00:00", "ETA 0:00:00", "3,184 params"]
DROP_FIRST = ("params", "elapsed", "ETA")  # what gives way when the figures need more lines than reserved


class StatusLine(Static):
    """Redrawn every frame; asks for a (costly, whole-screen) layout only when its line count changes."""


    @staticmethod
    def rows_at(width: int) -> int:
        """Lines the status needs at a terminal width, whatever its figures: the layout reserves them
        once, so that the plot never changes height while training runs."""
        return len(pack(TYPICAL, max(width - 2, 20)))

    def show(self, *, state: str, step: int, total: int, ema: float, exact: float, rate_now: float,
             elapsed: float, params: int, heldout: float | None = None) -> None:
        eta = (total - step) / rate_now if rate_now > 0 else math.inf
        items = [
            state, f"step {step}/{total}", f"smoothed loss {figure(ema)}", f"whole-data loss {figure(exact)}",
            *([f"held-out loss {figure(heldout)}"] if heldout is not None else []),
            f"{rate(rate_now)} steps/s", f"elapsed {clock(elapsed)}",
            f"ETA {clock(eta) if state == 'running' else '--:--'}", f"{params:,} params",
        ]
        screen_width = self.app.size.width  # before the first layout the widget has no size yet
        width = max(self.content_size.width or screen_width - 2, 20)
        rows = max(self.content_size.height or self.rows_at(screen_width), 1)
        lines = pack(items, width)
        for word in DROP_FIRST:
            if len(lines) <= rows:
                break
            items = [item for item in items if word not in item]
            lines = pack(items, width)
        text = Text("\n".join(lines))
        text.stylize("bold", 0, len(state))
        if text.plain != str(self.content):
            self.update(text, layout=False)
