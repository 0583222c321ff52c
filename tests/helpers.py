"""What several test files share: training a few steps, waiting on the UI's own state (never
sleeping a fixed time), and a plain palette for the views' render functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from rich.style import Style

from engine import Run


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (checked between UI turns), or fail."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the condition did not hold in time")


def train_losses(run: Run, k: int | None = None) -> list[float]:
    """Train `run` to its end, or for `k` steps, and return the losses of those steps."""
    out = []
    for rec in run.steps():
        out.append(rec.loss)
        if k is not None and len(out) == k:
            break
    return out


class FakePalette:
    """A view's Palette for its render functions: plain styles, each colour its own (they only pick them)."""

    style: defaultdict[str, Style] = defaultdict(Style)
    seq = [Style(bgcolor=f"color({i})") for i in range(9)]
    div = [Style(bgcolor=f"color({20 + i})") for i in range(17)]

    def pair(self, top: int, bottom: int) -> Style:
        return Style(color=f"color({20 + top})", bgcolor=f"color({20 + bottom})")
