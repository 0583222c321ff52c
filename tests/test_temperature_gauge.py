"""The temperature gauge on its own (click, drag, drawing) and the app's +/- at any given temperature."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

import tui
from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS
from tui.widgets.temperature_gauge import KNOB, T_MAX, T_MIN, TemperatureGauge, clamp

APP_CSS = Path(tui.__file__).parent / "app.tcss"


class GaugeApp(App[None]):
    CSS_PATH = APP_CSS
    CSS = "TemperatureGauge { width: 60; } Static { height: 3; }"

    def __init__(self, value: float = 0.5) -> None:
        super().__init__()
        self.value = value
        self.changes: list[float] = []

    def compose(self) -> ComposeResult:
        yield TemperatureGauge(self.value)
        yield Static("below")

    def on_temperature_gauge_changed(self, message: TemperatureGauge.Changed) -> None:
        self.changes.append(message.value)


def track(gauge: TemperatureGauge) -> tuple[int, int]:
    """The first and last content columns of the track."""
    text = gauge.render_line(0).text
    start = text.index(" 0.1 ") + 5
    return start, len(text.rstrip()) - 3


async def test_the_gauge_draws_the_value_and_its_knob():
    app = GaugeApp(0.5)
    async with app.run_test(size=(80, 10)):
        gauge = app.query_one(TemperatureGauge)
        assert gauge.size.height == 1
        text = gauge.render_line(0).text
        assert text.startswith("temperature 0.50 ") and text.rstrip().endswith(" 5") and len(text) == 60
        first, last = track(gauge)
        assert text.index(KNOB) == first + round((0.5 - T_MIN) / (T_MAX - T_MIN) * (last - first))
        gauge.value = 5.0
        assert gauge.render_line(0).text.index(KNOB) == last
        gauge.value = 0.001  # given by --temperature: printed as it is, the knob at the start
        text = gauge.render_line(0).text
        assert text.startswith("temperature 1e-03") and KNOB in text  # out of the range: at the track's start
        assert text.index(KNOB) == text.index(" 0.1 ") + 5


async def test_a_click_sets_a_rounded_clamped_value():
    app = GaugeApp(0.5)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        first, last = track(gauge)
        await pilot.click(gauge, offset=(last, 0))
        await pilot.click(gauge, offset=(first, 0))
        await pilot.click(gauge, offset=((first + last) // 2, 0))
        await pilot.click(gauge, offset=(1, 0))  # on the label: nothing
        await pilot.pause()
        middle = clamp(T_MIN + ((first + last) // 2 - first) / (last - first) * (T_MAX - T_MIN))
        assert app.changes == [5.0, 0.1, middle] and gauge.value == middle
        assert 2.3 <= middle <= 2.8


async def test_a_drag_follows_the_mouse_even_outside_the_gauge():
    app = GaugeApp(0.5)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        first, last = track(gauge)
        await pilot.mouse_down(gauge, offset=(first + 8, 0))
        await pilot.hover(gauge, offset=(first + 20, 0))
        await pilot.hover(gauge, offset=(first + 10, 2))  # below the gauge, still dragging
        await pilot.hover(gauge, offset=(79, 3))  # right of the track: clamped at the top
        await pilot.mouse_up(gauge, offset=(79, 3))
        await pilot.pause()
        assert len(app.changes) == 4 and app.changes[-1] == T_MAX
        assert app.changes[0] < app.changes[2] < app.changes[1]
        assert all(T_MIN <= v <= T_MAX and v == round(v, 1) for v in app.changes)
        await pilot.hover(gauge, offset=(first, 0))  # released: moving no longer sets it
        await pilot.pause()
        assert len(app.changes) == 4 and app.mouse_captured is None


async def test_the_gauge_at_its_minimum_width_and_narrower():
    app = GaugeApp(2.0)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        gauge.styles.width = 10  # below the CSS minimum: drawn 24 wide, still the page's word for it
        await pilot.pause()
        text = gauge.render_line(0).text
        assert gauge.size.width == 24 and text.startswith("temperature 2.00 ") and KNOB in text
        assert len(text) - len("temperature 2.00 ") >= 6  # a track of 6 cells or more: the end labels gave way
        gauge.styles.width = 34  # as at 120 columns: the word, the value and the track's ends
        await pilot.pause()
        text = gauge.render_line(0).text
        assert text.startswith("temperature 2.00  0.1 ") and text.endswith(" 5")
        gauge.styles.width = 10
        gauge.styles.min_width = 0  # placed narrower than that anyway: the value and a short track
        await pilot.pause()
        text = gauge.render_line(0).text
        assert len(text) == 10 and text.startswith("2.00 ") and KNOB in text
        await pilot.click(gauge, offset=(9, 0))
        await pilot.pause()
        assert app.changes == [T_MAX]


@pytest.mark.parametrize(
    ("given", "after_two_minus", "then_plus"),
    [(0.001, 0.001, 0.1), (0.04, 0.04, 0.14), (0.1, 0.1, 0.2), (0.5, 0.3, 0.4), (7.0, 4.9, 5.0)],
)
async def test_plus_and_minus_never_leave_an_invalid_temperature(given, after_two_minus, then_plus):
    """--temperature may be outside the gauge's range: the keys only move it towards the range."""
    app = DashboardApp(Run.new(Config(num_steps=50, temperature=given)), speed_index=SPEEDS.index(100))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("minus", "minus")
        assert app.temperature == after_two_minus
        await pilot.press("plus")
        assert app.temperature == then_plus
        assert app.return_code is None and app.is_running
