"""The loss plot widget: draws `tui.plumbing.plot_render.render_plot()`'s rows with the theme's styles
(component classes `loss-plot--<style>`, set in app.tcss), caches them until the figures, the cursor or
the size change, and owns the cursor: the mouse over a data column, or `move_cursor()` from the keys.
What is drawn, and why, is said in plot_render's docstring.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widget import Widget

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
        self._strips: list[Strip] = []
        self._built_for: tuple[int, int] = (0, 0)
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
        self._strips = []
        self.refresh()

    def layout_now(self) -> Layout | None:
        if self.figures is None or self.state is None:
            return None
        return plot_layout(self.figures, self.state, max(self.size.width, 1), max(self.size.height, 1))

    def set_cursor(self, column: int | None) -> None:
        if column != self.cursor:
            self.cursor = column
            self._strips = []
            self.refresh()

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
        self._styles, self._strips = None, []

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
        self.builds += 1
        styles = self.styles_by_name()
        w = max(width or self.size.width, 1)
        return [Strip([Segment(t, styles[s]) for t, s in row], w) for row in self.rows(width, height)]

    def render_line(self, y: int) -> Strip:
        key = (self.size.width, self.size.height)
        if not self._strips or key != self._built_for:
            base = self.rich_style  # the widget's own colours under the plot: a light theme stays light
            self._strips, self._built_for = [s.apply_style(base) for s in self.build_strips()], key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)
