"""What every inside-the-model view shares: recompute only when its inputs changed, build its rows
lazily at its size (line API), colours from the theme (component classes), a diverging and a
sequential colour ramp blended from theme colours so that they read on dark and light themes."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.strip import Strip
from textual.widget import Widget

from engine.printable import printable
from tui.plumbing.drawn_rows import DrawnRows
from tui.views import ViewInputs

LEVELS = 8  # colour steps on each side of the diverging scale (and of the sequential one)
Row = list[Segment]


def char_label(text: str) -> str:
    """One visible cell for a token's character (data is never markup and never a control code)."""
    shown = printable(text)
    return "␣" if shown == " " else shown if len(shown) == 1 else "¿"


class Palette:
    """The theme's styles for one view, rebuilt when the theme (or the CSS) changes."""

    def __init__(self, widget: Widget, names: Sequence[str]):
        self.style = {name: widget.get_component_rich_style(f"view--{name}", partial=True) for name in names}
        zero = widget.get_component_styles("view--zero").color
        neg = widget.get_component_styles("view--neg").color
        pos = widget.get_component_styles("view--pos").color
        hot = widget.get_component_styles("view--hot").color
        steps = [i / LEVELS for i in range(LEVELS + 1)]
        self.colours = [zero.blend(neg, s) for s in steps[::-1]] + [zero.blend(pos, s) for s in steps[1:]]
        self.heat_colours = [zero.blend(hot, s) for s in steps]
        self.div = [self._cell(c) for c in self.colours]  # index 0 .. 2 * LEVELS: -1 .. +1
        self.seq = [self._cell(c) for c in self.heat_colours]  # index 0 .. LEVELS: 0 .. 1
        self._pairs: dict[tuple[int, int], Style] = {}

    @staticmethod
    def _cell(colour: Color) -> Style:
        return Style(bgcolor=colour.rich_color, color=colour.get_contrast_text(0.9).rich_color)

    def pair(self, top: int, bottom: int) -> Style:
        """A half-block cell '▀': the top value's colour over the bottom one's (diverging indices)."""
        key = (top, bottom)
        if key not in self._pairs:
            self._pairs[key] = Style(color=self.colours[top].rich_color, bgcolor=self.colours[bottom].rich_color)
        return self._pairs[key]


def div_index(unit: np.ndarray) -> np.ndarray:
    """Positions on the diverging scale (-1 .. 1, NaN as 0) as palette indices 0 .. 2 * LEVELS."""
    return (np.rint(np.nan_to_num(np.clip(unit, -1, 1)) * LEVELS) + LEVELS).astype(int)


def seq_index(unit: np.ndarray) -> np.ndarray:
    """0 .. 1 (NaN as 0) as sequential palette indices 0 .. LEVELS, on a square-root scale: small
    probabilities (most of them are near 1/V) stay visible."""
    return np.rint(np.sqrt(np.nan_to_num(np.clip(unit, 0, 1))) * LEVELS).astype(int)


def cells(indices: Sequence[int], styles: Sequence[Style], width: int = 1, char: str = " ") -> Row:
    """One coloured cell per index, `width` columns each; neighbours of one colour share a Segment."""
    out: Row = []
    prev, n = None, 0
    for i in indices:
        st = styles[i]
        if st is prev:
            n += 1
            continue
        if prev is not None:
            out.append(Segment(char * (n * width), prev))
        prev, n = st, 1
    if prev is not None:
        out.append(Segment(char * (n * width), prev))
    return out


def fit(parts: Sequence[str], width: int, sep: str = " · ") -> str:
    """The parts that fit in `width`, in order of importance (the first is always there, cut if need be);
    a part that does not fit is left out and the next ones are tried."""
    out = parts[0]
    for part in parts[1:]:
        if len(out) + len(sep) + len(part) <= width:
            out += sep + part
    return out


def finite_max(values: np.ndarray) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def fmt(value: float) -> str:
    """A short figure: 0.31, -2.4, 3.1e-07."""
    if not np.isfinite(value):
        return str(value)
    return f"{value:.2g}" if 1e-3 <= abs(value) < 1e3 or value == 0 else f"{value:.1e}"


class View(Widget):
    """A view of the lower panel. Subclasses give `inputs_key` (what they read), `compute` (engine
    figures) and `render_rows` (a pure function of the figures, the size and the palette)."""

    COMPONENT_CLASSES = {"view--title", "view--label", "view--dim", "view--mark", "view--neg", "view--pos",
                         "view--zero", "view--hot", "view--pick", "view--text"}
    DEFAULT_CSS = """
    View { height: 1fr; }
    View > .view--title { color: $foreground; text-style: bold; }
    View > .view--text { color: $foreground; }
    View > .view--label { color: $foreground-muted; }
    View > .view--dim { color: $foreground-darken-3; }  /* a light theme's: app.tcss (App.-light-mode) */
    View > .view--mark { color: $error; text-style: bold; }
    View > .view--neg { color: $error; }
    View > .view--pos { color: $primary; }
    View > .view--zero { color: $panel; }
    View > .view--hot { color: $warning; text-style: bold; }
    View > .view--pick { color: $foreground; background: $accent-muted; text-style: bold; }
    """
    STYLE_NAMES: tuple[str, ...] = ("title", "text", "label", "dim", "mark", "hot", "pick")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.figures: object | None = None
        self._key: Hashable | None = None
        self._drawn = DrawnRows()
        self._palette: Palette | None = None
        self.computes = 0  # how often the figures were computed (tests and the benchmark count them)
        self.builds = 0  # how often the rows were built (drawn)

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        raise NotImplementedError

    def compute(self, inputs: ViewInputs) -> object:
        raise NotImplementedError

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        raise NotImplementedError

    def show(self, inputs: ViewInputs) -> None:
        """Recompute and redraw, only if what this view reads has changed since the last call."""
        key = self.inputs_key(inputs)
        if key == self._key:
            return
        self._key = key
        self.computes += 1
        self.figures = self.compute(inputs)
        self.redraw()

    def redraw(self) -> None:
        """Draw the figures again: on show, only the rows that changed are repainted."""
        size = (self.content_size.width, self.content_size.height)
        if not self.display or not self._drawn.ready or size != self._drawn.size or 0 in size:
            self._drawn.clear()  # drawn when next rendered
            self.refresh()
            return
        for region in self._drawn.take(self.build_rows(*size), size, self.rich_style):
            self.refresh(region)

    def forget(self) -> None:
        """The next `show` recomputes whatever its inputs (after a change of mode)."""
        self._key = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette = None
        self._drawn.clear()

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = Palette(self, self.STYLE_NAMES)
        return self._palette

    def rows(self, width: int | None = None, height: int | None = None) -> list[Row]:
        w, h = max(width or self.content_size.width, 1), max(height or self.content_size.height, 1)
        if self.figures is None:
            return []
        return self.render_rows(self.figures, w, h, self.palette)

    def build_strips(self, width: int, height: int) -> list[Strip]:
        base = self.rich_style  # the panel's colours under every cell (line-API strips carry their own)
        return [Strip(row).crop_extend(0, width, None).apply_style(base) for row in self.build_rows(width, height)]

    def build_rows(self, width: int, height: int) -> list[Row]:
        """The view's rows at this size (a redraw: `builds` counts them)."""
        self.builds += 1
        return self.rows(width, height)[:height]

    def text_lines(self, width: int | None = None, height: int | None = None) -> list[str]:
        """The view as plain text, at its size or the one given (for tests and terminal checks)."""
        width = max(width or self.content_size.width, 1)
        return [Strip(row).crop(0, width).text for row in self.rows(width, height)]

    def render_line(self, y: int) -> Strip:
        size = (self.content_size.width, self.content_size.height)
        if not self._drawn.ready or size != self._drawn.size:
            self._drawn.clear()
            self._drawn.take(self.build_rows(*size), size, self.rich_style)
        return self._drawn.line(y, self._drawn.base)  # (the style it was drawn on: no style lookup a line)
