"""A few lines of rich Text drawn through Textual's line API: the base of the lines that change every frame.

The status and the step line get new text ten times a second while training runs flat out. As
`Static` widgets each update went through Textual's Content pipeline (the text converted, wrapped and
formatted, then every line of the widget rendered again), about a fifth of the screen thread's time a
frame, which is time the training worker waits for (they share the GIL). `TextRows` keeps the text's
lines as Segments in a `DrawnRows`: a line drawn the same as before keeps its Strip and only the lines
that changed are repainted. `render()` still returns the text shown (what tests and `height: auto` read);
the caller cuts each line to the width (a longer one is cut at the edge)."""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from tui.plumbing.drawn_rows import DrawnRows


class TextRows(Widget):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's own keyword)
        super().__init__(id=id)
        self._text = Text()
        self._drawn = DrawnRows()

    def render(self) -> Text:
        """The text shown now (drawing goes through render_line)."""
        return self._text

    def update(self, text: Text) -> None:
        """Show `text` (lines split at newlines); repaint only the lines that differ from the last ones."""
        self._text = text
        size = (self.size.width, self.size.height)
        if not self._drawn.ready or size != self._drawn.size or self._drawn.base is None:
            self._drawn.clear()
            self.refresh()
            return
        changed = self._drawn.take(self._rows(), size, self._drawn.base)
        if changed:
            self.refresh(*changed)

    def _rows(self) -> list[list[Segment]]:
        console = self.app.console
        return [list(line.render(console, end="")) for line in self._text.split("\n", allow_blank=True)]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn.clear()  # a theme change: the colours baked into the lines are stale

    def render_line(self, y: int) -> Strip:
        size = (self.size.width, self.size.height)
        if not self._drawn.ready or size != self._drawn.size:
            self._drawn.clear()
            self._drawn.take(self._rows(), size, self.rich_style)
        return self._drawn.line(y, self._drawn.base)
