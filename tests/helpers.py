"""What several test files share: training a few steps, and waiting on the UI's own state (never
sleeping a fixed time)."""

from __future__ import annotations

from collections.abc import Callable

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
