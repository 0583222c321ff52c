"""The key bar at the bottom: the keys that do something now, each clickable, labelled for the
state (Run or Pause, Gap or Loss view). One line of Text rebuilt only when the keys on offer change:
Textual's own Footer rebuilds a widget per key each time, which is slow when the state changes often."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; color: $footer-description-foreground; }
    KeyBar > .key-bar--key { color: $footer-key-foreground; text-style: bold; }
    """
    COMPONENT_CLASSES = {"key-bar--key"}

    def show(self, items: list[tuple[str, str, str]]) -> None:
        """(key as shown, what it does, the app action it runs) for each key on offer."""
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, label, action in items:
            click = Style(meta={"@click": f"app.{action}"})
            text.append(f" {key}", key_style + click)
            text.append(f" {label}", click)
        self.update(text, layout=False)
