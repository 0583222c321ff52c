"""The temperature gauge: one row, `temperature 0.50  0.1 ━━━━━▐▌━1───── 5`, that a click or a drag sets.

The scale is logarithmic from 0.1 to 5 (equal ratios, equal distances): 0.5, 1 and 2, the page's three
temperatures, are as far apart as halving and doubling are, and `1` (the model's probabilities as they
are) is marked on the track. The knob is one cell wide and placed to an eighth of a cell (a block glyph
paints the part of a cell it covers), so each `+` from 0.1 to 2 moves it where the track has 10 cells
(at 120 columns); on the 7 cells at 80 columns each `+` up to 1.7 does, and 0.5, 1 and 2 are a cell apart.

Attributes down, messages up: the app sets `value`; a click or a drag on the track posts
`TemperatureGauge.Changed(value)` with the roundest value (0.1 grid where it can) whose knob is drawn
over the cell clicked, within 0.1 .. 5.0, and the app decides. A value outside the range (given by --temperature) is
printed as it is, its knob at the end of the track. Preferred height 1 row; minimum width 24 columns.
Where it is narrow (under 34 columns, as below 120 columns of terminal) the track's end labels give way
first (the `1` stays), then the word "temperature" (to "T"), then everything but the value."""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

T_MIN, T_MAX, T_STEP = 0.1, 5.0, 0.1
FULL, EMPTY, ONE = "━", "─", "1"
LEFT_BLOCKS = "▏▎▍▌▋▊▉"  # 1/8 .. 7/8 of a cell from its left edge; "█" is the whole cell
KNOB = "█"
MIN_WIDTH = 24
LABELLED_TRACK = 10  # cells of track the form with the word and the end labels needs (each + to 2 moves the knob)
MIN_TRACK = 6  # cells of track the other forms need; below it, the value and a short track only


def clamp(value: float) -> float:
    """Rounded to 0.1 and inside [T_MIN, T_MAX]."""
    return min(max(round(round(value / T_STEP) * T_STEP, 1), T_MIN), T_MAX)


def shown(value: float) -> str:
    """The value in at most 6 characters (5 in the range), whatever it is."""
    return f"{value:.2f}" if 0.01 <= value < 1000 else f"{value:.0e}"


def fraction(value: float) -> float:
    """How far along the log scale `value` is: 0 at T_MIN, 1 at T_MAX (outside the range: at an end)."""
    v = min(max(value, T_MIN), T_MAX)
    return math.log(v / T_MIN) / math.log(T_MAX / T_MIN)


def knob_eighths(value: float, cells: int) -> int:
    """The knob's left edge, in eighths of a cell from the track's start (its centre at half a cell
    in for T_MIN, half a cell from the end for T_MAX)."""
    return round(fraction(value) * (cells - 1) * 8)


def one_cell(cells: int) -> int:
    """The track cell the `1` mark is drawn in: the one a knob at 1.0 is centred in."""
    return math.floor(fraction(1.0) * (cells - 1) + 0.5)


LANDMARKS = (0.5, 1.0, 2.0)  # the tutorial page's temperatures: a click in a cell holding one of them gives it


def value_at_cell(cell: int, cells: int) -> float:
    """The value a click in track cell `cell` chooses: one of LANDMARKS if its knob is centred in that
    cell (within half a cell), else the roundest (on the 0.1 grid of `+`/`-`, else
    0.05, else 0.01) whose knob is drawn over that cell's middle; near 0.1, where a 0.1 step spans more
    than a cell, that may be 0.15 or 0.13. Within 0.1 .. 5.0."""
    n = max(cells - 1, 1)
    middle = min(max(cell, 0), cells - 1) / n  # the cell's middle, as a knob's centre on the scale
    near = [v for v in LANDMARKS if abs(fraction(v) - middle) * n <= 0.5]
    if near:  # the page's temperatures first: the cell drawn with `1` gives 1 (QA: it gave 0.9 at 120 columns)
        return min(near, key=lambda v: abs(fraction(v) - middle))
    t = T_MIN * (T_MAX / T_MIN) ** middle
    best = T_MIN
    for step in (T_STEP, 0.05, 0.01):
        below = math.floor(t / step + 1e-9) * step
        best = min((round(min(max(v, T_MIN), T_MAX), 2) for v in (below, below + step)),
                   key=lambda v: abs(fraction(v) - middle))
        if abs(fraction(best) - middle) * n <= 0.5:
            break
    return best


class TemperatureGauge(Widget, can_focus=False):
    """A slider for the sampling temperature. Not focusable: `+`/`-` stay with the app."""

    COMPONENT_CLASSES = {"temperature-gauge--label", "temperature-gauge--fill", "temperature-gauge--knob",
                         "temperature-gauge--track"}

    value: reactive[float] = reactive(0.5)
    """The temperature shown (set by the app)."""

    class Changed(Message):
        """A click or a drag chose `value` (within 0.1 .. 5.0, at most 2 decimals)."""

        def __init__(self, value: float) -> None:
            super().__init__()
            self.value = value

    def __init__(self, value: float = 0.5, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.set_reactive(TemperatureGauge.value, value)
        self._dragging = False

    # --- geometry -----------------------------------------------------------------------------------
    def _parts(self, width: int) -> tuple[str, str, int]:
        """The text before the track, after it, and the track's length."""
        value = f"{shown(self.value):<4}"  # 4 characters in the range: the track moves only outside it
        forms = ((f"temperature {value}  0.1 ", " 5", LABELLED_TRACK), (f"temperature {value} ", "", MIN_TRACK),
                 (f"T {value}  0.1 ", " 5", MIN_TRACK))
        for head, tail, least in forms:
            if width - len(head) - len(tail) >= least:
                break
        else:  # very narrow: the value and a short track only
            head, tail = f"{shown(self.value)} ", ""
        return head, tail, max(width - len(head) - len(tail), 1)

    def value_at(self, x: int, width: int) -> float | None:
        """The value a click in content column `x` chooses (None: left of the track, on the label)."""
        head, _, n = self._parts(width)
        cell = x - len(head)
        if cell < 0 and not self._dragging:
            return None
        return value_at_cell(cell, n)

    # --- drawing ------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y != 0 or width <= 0:
            return Strip.blank(width)
        head, tail, n = self._parts(width)

        def style(name: str) -> Style:
            return self.get_component_rich_style(f"temperature-gauge--{name}")

        return Strip([Segment(head, style("label")), *self._track(n, style), Segment(tail, style("label"))]
                     ).crop_extend(0, width, None).apply_style(self.rich_style)

    def _track(self, n: int, get: Callable[[str], Style]) -> list[Segment]:
        """The track's n cells: the line (heavy left of the knob), the `1` mark and the knob, which
        covers the right part of one cell and the left part of the next when it is between cells."""
        cell, eighths = divmod(knob_eighths(self.value, n), 8)
        knob = get("knob")
        # the part of a cell left of the knob: a left block in the background's colour on the knob's
        under = Style(color=knob.color, bgcolor=self.rich_style.bgcolor, reverse=True)
        mark = one_cell(n) if n >= MIN_TRACK else -1
        segments = []
        for c in range(n):
            if c == cell:
                segments.append(Segment(LEFT_BLOCKS[eighths - 1], under) if eighths else Segment(KNOB, knob))
            elif c == cell + 1 and eighths:
                segments.append(Segment(LEFT_BLOCKS[eighths - 1], knob))
            elif c == mark:
                segments.append(Segment(ONE, get("label")))
            else:
                segments.append(Segment(FULL, get("fill")) if c < cell else Segment(EMPTY, get("track")))
        return segments

    # --- the mouse ----------------------------------------------------------------------------------
    def _choose(self, x: int) -> None:
        value = self.value_at(x, self.content_size.width)
        if value is not None and value != self.value:
            self.value = value
            self.post_message(self.Changed(value))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        offset = event.get_content_offset_capture(self)
        head, _, _ = self._parts(self.content_size.width)
        if offset.x < len(head):
            return
        event.stop()
        self._dragging = True
        self.capture_mouse()
        self._choose(offset.x)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            event.stop()
            self._choose(event.get_content_offset_capture(self).x)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            event.stop()
            self._end_drag()

    def on_mouse_release(self, event: events.MouseRelease) -> None:
        self._end_drag()

    def _end_drag(self) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
