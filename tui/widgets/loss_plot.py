"""The loss plot widget: draws `tui.plumbing.plot_render.render_plot()`'s rows with the theme's styles
(component classes `loss-plot--<style>`, set in app.tcss), caches them until the figures, the cursor or
the size change (then repaints only the rows that came out different), and owns the cursor: the mouse
over a data column, or `move_cursor()` from the keys.
What is drawn, and why, is said in plot_render's docstring.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

from tui.plumbing.drawn_rows import DrawnRows
from tui.plumbing.plot_render import (
    HALF_BITS,
    STYLES,
    Ghost,
    Layout,
    PlotFigures,
    PlotState,
    Run_,
    plot_layout,
    render_plot,
)

__all__ = ["HALF_BITS", "Ghost", "LossPlot", "PlotFigures", "PlotState", "plot_layout", "render_plot"]


# --- the widget -----------------------------------------------------------------------------------
class LossPlot(Widget):
    """Attributes down: the app calls `show()` with the figures; the widget draws them at its size.
    The cursor is the widget's own: the mouse over a data column, or `move_cursor()` from the keys."""

    COMPONENT_CLASSES = {f"loss-plot--{name}" for name in STYLES}
    DEFAULT_CSS = """
    LossPlot { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.figures: PlotFigures | None = None
        self.state: PlotState | None = None
        self.cursor: int | None = None  # the data column under the cursor (None: no cursor)
        self._drawn = DrawnRows()
        self._styles: dict[str, Style] | None = None
        self.builds = 0  # redraws so far (the benchmark and the tests count them)

    @property
    def gap_view(self) -> bool:
        return bool(self.figures and self.figures.gap_view)

    def new_run(self) -> None:
        """The next figures are another run's: forget the ranges and buckets of this one."""
        self.state = None

    def show(self, figures: PlotFigures) -> None:
        if self.state is None:
            self.state = PlotState.for_run(figures)
        self.figures = figures
        self._redraw()

    def _redraw(self) -> None:
        """Draw the figures again; repaint only the rows that changed (all of them at a new size)."""
        size = (self.size.width, self.size.height)
        if not self._drawn.ready or size != self._drawn.size or 0 in size:
            self._drawn.clear()
            self.refresh()
            return
        for region in self._drawn.take(self.build_rows(), size, self.rich_style):
            self.refresh(region)

    def layout_now(self) -> Layout | None:
        if self.figures is None or self.state is None:
            return None
        return plot_layout(self.figures, self.state, max(self.size.width, 1), max(self.size.height, 1))

    def set_cursor(self, column: int | None) -> None:
        if column != self.cursor:
            self.cursor = column
            self._redraw()

    def move_cursor(self, delta: int) -> None:
        """A column left (-1) or right (+1); from no cursor, the newest column the run has reached."""
        lay = self.layout_now()
        if lay is None:
            return
        if self.cursor is None:
            b = self.state.buckets if self.state is not None else None
            self.set_cursor(max(b.current, 0) // 2 if b is not None else 0)
        else:
            self.set_cursor(min(max(self.cursor + delta, 0), lay.cols - 1))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        lay = self.layout_now()
        if lay is None:
            return
        column = event.x - lay.geo.label_w
        inside = 0 <= column < lay.cols and 1 <= event.y <= lay.geo.rows + 2  # the frame and the data
        self.set_cursor(column if inside else None)

    def on_leave(self, event: events.Leave) -> None:
        self.set_cursor(None)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._drawn.clear()

    def styles_by_name(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = {name: self.get_component_rich_style(f"loss-plot--{name}", partial=True)
                            for name in STYLES}
        return self._styles

    def rows(self, width: int | None = None, height: int | None = None) -> list[Run_]:
        """The plot as runs of (text, style name), at the widget's size or the one given."""
        w, h = max(width or self.size.width, 1), max(height or self.size.height, 1)
        if self.figures is None or self.state is None:
            return [[(" " * w, "axis")] for _ in range(h)]
        return render_plot(self.figures, self.state, w, h, self.cursor)

    def build_strips(self, width: int | None = None, height: int | None = None) -> list[Strip]:
        w = max(width or self.size.width, 1)
        return [Strip(row, w) for row in self.build_rows(width, height)]

    def build_rows(self, width: int | None = None, height: int | None = None) -> list[list[Segment]]:
        """The plot's rows as Segments in the theme's styles (a redraw: `builds` counts them)."""
        self.builds += 1
        styles = self.styles_by_name()
        return [[Segment(t, styles[s]) for t, s in row] for row in self.rows(width, height)]

    def render_line(self, y: int) -> Strip:
        size = (self.size.width, self.size.height)
        if not self._drawn.ready or size != self._drawn.size:
            # on the widget's own colours under the plot: a light theme stays light
            self._drawn.clear()
            self._drawn.take(self.build_rows(), size, self.rich_style)
        return self._drawn.line(y)
