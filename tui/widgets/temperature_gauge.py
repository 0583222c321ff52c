"""The temperature gauge: one row, `temperature 0.50  0.1 ━━━━●──────── 5`, that a click or a drag sets.

Attributes down, messages up: the app sets `value`; a click or a drag on the track posts
`TemperatureGauge.Changed(value)` with the value rounded to 0.1 and clamped to 0.1 .. 5.0, and the
app decides. A value outside the range (given by --temperature) is printed as it is, its knob at the
end of the track. Preferred height 1 row; minimum width 24 columns. Where it is narrow the track's end
labels give way first, then the word "temperature" (to "T"), then everything but the value."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

T_MIN, T_MAX, T_STEP = 0.1, 5.0, 0.1
KNOB, FULL, EMPTY = "●", "━", "─"
MIN_WIDTH = 24
MIN_TRACK = 6  # cells of track below which the label gives way to a shorter one


def clamp(value: float) -> float:
    """Rounded to 0.1 and inside [T_MIN, T_MAX]."""
    return min(max(round(round(value / T_STEP) * T_STEP, 1), T_MIN), T_MAX)


def shown(value: float) -> str:
    """The value in at most 6 characters (5 in the range), whatever it is."""
    return f"{value:.2f}" if 0.01 <= value < 1000 else f"{value:.0e}"


class TemperatureGauge(Widget, can_focus=False):
    """A slider for the sampling temperature. Not focusable: `+`/`-` stay with the app."""

    COMPONENT_CLASSES = {"temperature-gauge--label", "temperature-gauge--fill", "temperature-gauge--knob",
                         "temperature-gauge--track"}

    value: reactive[float] = reactive(0.5)
    """The temperature shown (set by the app)."""

    class Changed(Message):
        """A click or a drag chose `value` (rounded to 0.1, within 0.1 .. 5.0)."""

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
        # the page's word where it fits
        value = f"{shown(self.value):<4}"  # 4 characters in the range: the track moves only outside it
        forms = ((f"temperature {value}  0.1 ", " 5"), (f"temperature {value} ", ""), (f"T {value}  0.1 ", " 5"))
        for head, tail in forms:
            if width - len(head) - len(tail) >= MIN_TRACK:
                break
        else:  # very narrow: the value and a short track only
            head, tail = f"{shown(self.value)} ", ""
        return head, tail, max(width - len(head) - len(tail), 1)

    def knob_at(self, width: int) -> int:
        """The track cell (0-based) the knob is drawn in."""
        _, _, n = self._parts(width)
        v = min(max(self.value, T_MIN), T_MAX)
        return round((v - T_MIN) / (T_MAX - T_MIN) * (n - 1))

    def value_at(self, x: int, width: int) -> float | None:
        """The value a click in content column `x` chooses (None: left of the track, on the label)."""
        head, _, n = self._parts(width)
        cell = x - len(head)
        if cell < 0 and not self._dragging:
            return None
        return clamp(T_MIN + min(max(cell, 0), n - 1) / max(n - 1, 1) * (T_MAX - T_MIN))

    # --- drawing ------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if y != 0 or width <= 0:
            return Strip.blank(width)
        head, tail, n = self._parts(width)
        knob = self.knob_at(width)

        def style(name: str) -> Style:
            return self.get_component_rich_style(f"temperature-gauge--{name}")

        segments = [Segment(head, style("label")), Segment(FULL * knob, style("fill")), Segment(KNOB, style("knob")),
                    Segment(EMPTY * (n - knob - 1), style("track")), Segment(tail, style("label"))]
        return Strip(segments).crop_extend(0, width, None).apply_style(self.rich_style)

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
