"""The pace control: training speed with a slower and a faster button, so that the mouse reaches
both directions (the keys are `[` and `]`)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


class PaceControl(Static):
    DEFAULT_CSS = "PaceControl { width: auto; height: 1; padding: 0 1; }"

    def show(self, speed: str) -> None:
        text = Text.assemble(
            ("pace ", "bold"),
            ("[◀", Style(reverse=True, meta={"@click": "app.speed(-1)"})),
            f" {speed:>7} ",
            ("▶]", Style(reverse=True, meta={"@click": "app.speed(1)"})),
        )
        if str(self.content) != text.plain:
            self.update(text, layout=False)
