"""The pace control: training speed with a slower and a faster button, so that the mouse reaches
both directions (the keys are `[` and `]`)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


class PaceControl(Static):
    DEFAULT_CSS = "PaceControl { width: auto; height: 1; padding: 0 1; }"
    compact = False  # narrow terminals (under 100 columns): the buttons and the pace, without the word

    def show(self, speed: str) -> None:
        text = Text.assemble(
            ("" if self.compact else "pace ", "bold"),
            ("[◀", Style(reverse=True, meta={"@click": "app.speed(-1)"})),
            f" {speed:>8} ",  # the widest label, "10,000/s", whole
            ("▶]", Style(reverse=True, meta={"@click": "app.speed(1)"})),
        )
        shown = str(self.content)
        if shown != text.plain:
            # a new width (the word "pace" comes or goes at a resize): the row is laid out again, or the
            # control keeps its old width and its end is cut (120 -> 80 -> 120 columns)
            self.update(text, layout=len(shown) != len(text.plain))
