"""What the Pilot tests share: waiting on the UI's own state, never sleeping a fixed time."""

from __future__ import annotations

from collections.abc import Callable


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (checked between UI turns), or fail."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the condition did not hold in time")
