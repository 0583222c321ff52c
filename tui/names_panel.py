"""The names panel: a scrolling log of sampled batches, each headed by its step and temperature."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog


class NamesPanel(RichLog, can_focus=False):
    """Not focusable, so the arrow keys stay with the app (they pick the token)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=400, wrap=True, markup=False, min_width=10, **kwargs)  # type: ignore[arg-type]
        self.batches = 0  # batches shown so far
        self.last: tuple[str, list[str]] = ("", [])  # the newest batch: heading and names

    def add_batch(self, heading: str, names: list[str]) -> None:
        self.batches += 1
        self.last = (heading, names)
        self.write(Text(heading, style="bold"))
        self.write(Text("  ".join(n or "(empty)" for n in names)))
