"""The temperature gauge on its own (click, drag, drawing) and in the dashboard at 80 and 120 columns.

The gauge is read off the rendered screen as a person sees it: its text, and where the knob's colour is
painted (a knob can sit part way into a cell: a block glyph paints its left part in the glyph's colour
and the rest of the cell in the background's). The scale is checked against the labels drawn: `0.1` at
the track's start, `5` at its end, `1` in between, logarithmic (equal ratios, equal distances)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from rich.color import Color
from rich.style import Style
from textual.app import App, ComposeResult
from textual.widgets import Static

import tui
from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS
from tui.widgets.temperature_gauge import T_MAX, T_MIN, TemperatureGauge

APP_CSS = Path(tui.__file__).parent / "app.tcss"
LEFT_BLOCKS = "▏▎▍▌▋▊▉█"  # 1/8 .. 8/8 of a cell from its left edge, in the glyph's colour


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


def cells(app: App) -> list[tuple[str, Style]]:
    """The gauge's row as drawn on the screen: one (character, style) per cell."""
    gauge = app.query_one(TemperatureGauge)
    strip = app.screen._compositor.render_strips()[gauge.region.y].crop(gauge.region.x, gauge.region.right)
    return [(ch, seg.style or Style()) for seg in strip for ch in seg.text]


def text(app: App) -> str:
    return "".join(ch for ch, _ in cells(app))


def track(app: App) -> tuple[int, int]:
    """The track's first content column and its length in cells: after the value (and the ` 0.1 `
    label where it is drawn), up to the ` 5` label or the gauge's end."""
    drawn = text(app)
    head = re.match(r"(temperature|T) \S+ +(0\.1 )?", drawn)
    assert head, drawn
    labelled = head.group(2) is not None
    assert labelled == drawn.rstrip().endswith(" 5"), drawn  # both end labels or neither
    end = len(drawn.rstrip()) - 2 if labelled else len(drawn)
    assert end - head.end() >= 6, drawn
    return head.end(), end - head.end()


def rgb(color: Color | None) -> tuple[int, int, int] | None:
    return None if color is None else tuple(color.get_truecolor())


def knob(app: App) -> float:
    """Where the knob's centre is, in cells from the track's start (0 .. its length)."""
    gauge = app.query_one(TemperatureGauge)
    knob_colour = rgb(gauge.get_component_rich_style("temperature-gauge--knob").color)
    start, n = track(app)
    painted: list[tuple[float, float]] = []  # the spans painted in the knob's colour
    for i, (ch, style) in enumerate(cells(app)[start:start + n]):
        fg, bg = rgb(style.color), rgb(style.bgcolor)
        if style.reverse:
            fg, bg = bg, fg
        if ch in LEFT_BLOCKS:
            k = (LEFT_BLOCKS.index(ch) + 1) / 8
            spans = [(0.0, k, fg), (k, 1.0, bg)]
        elif ch in " ●":  # a blank shows its background; a round knob fills its cell
            spans = [(0.0, 1.0, bg if ch == " " else fg)]
        else:  # a line or a figure: no solid paint
            spans = []
        painted += [(i + a, i + b) for a, b, colour in spans if colour == knob_colour and b > a]
    assert painted, text(app)
    assert all(a == b for (_, a), (b, _) in zip(painted, painted[1:])), painted  # one knob, in one piece
    return (painted[0][0] + painted[-1][1]) / 2


def on_scale(t: float, n: int) -> float:
    """Where `t` is on a log scale from 0.1 at the track's start to 5 at its end (n cells)."""
    return n * math.log(t / 0.1) / math.log(5 / 0.1)


def check_knob(app: App, t: float) -> float:
    """The knob is within one cell of where `t` is on the scale the labels say; its centre."""
    _, n = track(app)
    centre = knob(app)
    assert abs(centre - on_scale(min(max(t, T_MIN), T_MAX), n)) <= 1, (text(app), t, centre)
    return centre


def check_one(app: App, shown: bool = True) -> None:
    """The `1` on the track is within one cell of where 1 is on the scale; where it is not `shown`,
    the knob is drawn over that place (a knob covering part of the mark's cell hides it)."""
    start, n = track(app)
    line = text(app)[start:start + n]
    if shown or "1" in line:
        assert line.count("1") == 1, line
        assert abs(line.index("1") + 0.5 - on_scale(1.0, n)) <= 1, line
    else:
        assert abs(knob(app) - on_scale(1.0, n)) <= 1.5, line


def dashboard(temperature: float = 0.5) -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=50, temperature=temperature)), speed_index=SPEEDS.index(100))


@pytest.mark.parametrize(("size", "head"), [((80, 24), "temperature 0.50 "), ((100, 30), "temperature 0.50 "),
                                           ((120, 40), "temperature 0.50  0.1 ")])
async def test_on_the_step_line_0_5_1_and_2_are_drawn_well_apart(size, head):
    """The tutorial's three temperatures: each drawn differently, the knob a cell or more from the
    next, each where a log scale from 0.1 to 5 puts it (the one the labels, where drawn, give), and
    the `1` mark where 1 is. Under 120 columns the end labels give way to the word."""
    app = dashboard()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert text(app).startswith(head) and ("0.1" in text(app)) == (size[0] >= 120)
        drawn, centres = [], []
        for t, presses in ((0.5, 0), (1.0, 5), (2.0, 10)):
            await pilot.press(*["plus"] * presses)
            await pilot.pause()
            assert app.temperature == pytest.approx(t)
            start, n = track(app)
            drawn.append(text(app)[start:start + n])
            centres.append(check_knob(app, t))
            check_one(app, shown=t == 0.5 or (t == 2.0 and size[0] >= 100))
        assert len(set(drawn)) == 3, drawn
        assert centres[1] - centres[0] >= 1 and centres[2] - centres[1] >= 1, (drawn, centres)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_each_plus_from_0_1_to_2_moves_the_knob(size):
    """From the bottom of the range to 2 (the page's 0.5 .. 2 among them) every press moves the knob
    where the track has 10 cells or more (100 and 120 columns), each time to where its value is on the
    scale; on the 7 cells at 80 columns it never moves back."""
    app = dashboard()
    async with app.run_test(size=size) as pilot:
        await pilot.press(*["minus"] * 4)
        await pilot.pause()
        assert app.temperature == pytest.approx(0.1)
        before, still = check_knob(app, 0.1), []
        for i in range(1, 20):
            await pilot.press("plus")
            await pilot.pause()
            t = round(0.1 + i * 0.1, 1)
            assert app.temperature == pytest.approx(t)
            now = check_knob(app, t)
            assert now >= before, (t, text(app))
            if now == before:
                still.append(t)
            before = now
        assert f"{app.temperature:.2f}" == "2.00" and "2.00" in text(app)
        assert still == [] if track(app)[1] >= 10 else len(still) <= 2, (still, text(app))


async def test_the_gauge_draws_the_value_and_its_knob_on_a_log_scale():
    app = GaugeApp(0.5)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        assert gauge.size.height == 1
        drawn = text(app)
        assert drawn.startswith("temperature 0.50  0.1 ") and drawn.rstrip().endswith(" 5") and len(drawn) == 60
        _, n = track(app)
        for t in (0.1, 0.2, 0.5, 1.0, 2.0, 3.3, 5.0):
            gauge.value = t
            await pilot.pause()
            check_knob(app, t)
            check_one(app, shown=t not in (1.0, 2.0))
        assert knob(app) >= n - 1  # 5: at the end
        gauge.value = 0.001  # given by --temperature: printed as it is, the knob at the start
        await pilot.pause()
        assert text(app).startswith("temperature 1e-03") and knob(app) <= 1
        gauge.value = 7.0
        await pilot.pause()
        assert text(app).startswith("temperature 7.00") and knob(app) >= track(app)[1] - 1


@pytest.mark.parametrize("width", [24, 34, 60])
async def test_a_click_chooses_the_value_the_knob_shows_there(width):
    """Every cell of the track, clicked: a value whose knob is drawn over the cell clicked (its centre
    within half a cell, give or take the eighth it is drawn to), rising from 0.1 at the track's start to
    5 at its end; from 1 up (where a 0.1 step is under a cell) on the 0.1 grid the keys use."""
    app = GaugeApp(0.5)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        gauge.styles.width = width
        await pilot.pause()
        start, n = track(app)
        for cell in range(n):
            await pilot.click(gauge, offset=(start + cell, 0))
            await pilot.pause()
            assert abs(knob(app) - (cell + 0.5)) <= 0.5 + 1 / 8, (cell, text(app))
            check_knob(app, gauge.value)
        assert app.changes[0] == T_MIN and app.changes[-1] == T_MAX
        assert all(a < b for a, b in zip(app.changes, app.changes[1:]))
        assert all(v == round(v, 2) for v in app.changes)
        assert all(v == round(v, 1) for v in app.changes if v >= 1)
        changes = len(app.changes)
        await pilot.click(gauge, offset=(1, 0))  # on the label: nothing
        await pilot.pause()
        assert len(app.changes) == changes


async def test_a_drag_follows_the_mouse_even_outside_the_gauge():
    app = GaugeApp(0.5)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        first, _ = track(app)
        await pilot.mouse_down(gauge, offset=(first + 8, 0))
        await pilot.hover(gauge, offset=(first + 20, 0))
        await pilot.hover(gauge, offset=(first + 10, 2))  # below the gauge, still dragging
        await pilot.hover(gauge, offset=(79, 3))  # right of the track: clamped at the top
        await pilot.mouse_up(gauge, offset=(79, 3))
        await pilot.pause()
        assert len(app.changes) == 4 and app.changes[-1] == T_MAX
        assert app.changes[0] < app.changes[2] < app.changes[1]
        assert all(T_MIN <= v <= T_MAX and v == round(v, 2) for v in app.changes)
        await pilot.hover(gauge, offset=(first, 0))  # released: moving no longer sets it
        await pilot.pause()
        assert len(app.changes) == 4 and app.mouse_captured is None


async def test_the_gauge_at_its_minimum_width_and_narrower():
    """The end labels give way first (the `1` stays), then the word (to `T`), then all but the value."""
    app = GaugeApp(2.0)
    async with app.run_test(size=(80, 10)) as pilot:
        gauge = app.query_one(TemperatureGauge)
        gauge.styles.width = 10  # below the CSS minimum: drawn 24 wide, as at 80 columns
        await pilot.pause()
        drawn = text(app)
        assert gauge.size.width == 24 and drawn.startswith("temperature 2.00 ") and "0.1" not in drawn
        assert track(app)[1] >= 6  # a track of 6 cells or more: the end labels gave way
        check_knob(app, 2.0)
        check_one(app, shown=False)
        gauge.styles.width = 22
        gauge.styles.min_width = 0  # narrower: the word gives way to T before the track goes under 6
        await pilot.pause()
        assert text(app).startswith("T 2.00  0.1 ") and text(app).endswith(" 5")
        check_knob(app, 2.0)
        gauge.styles.width = 34  # as at 120 columns: the word, the value and the track's ends
        await pilot.pause()
        assert text(app).startswith("temperature 2.00  0.1 ") and text(app).endswith(" 5")
        check_knob(app, 2.0)
        gauge.styles.width = 10  # narrower still: the value and a short track
        await pilot.pause()
        drawn = text(app)
        assert len(drawn) == 10 and drawn.startswith("2.00 ") and "0.1" not in drawn
        assert any(ch in LEFT_BLOCKS for ch in drawn[5:])  # the knob
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


@pytest.mark.parametrize("cells", [7, 10, 11, 14])
def test_a_click_on_the_cell_of_the_pages_temperatures_gives_them(cells):
    """QA round 2: every cell at 120 columns gave one value, none of them 0.5, 1 or 2; the cell drawn with
    `1` gave 0.9 (1.4 at 80 columns). The page's three temperatures are each a click away where their
    knobs are centred, and the `1` cell gives 1."""
    from tui.widgets.temperature_gauge import fraction, one_cell, value_at_cell

    assert value_at_cell(one_cell(cells), cells) == 1.0
    for t in (0.5, 1.0, 2.0):
        cell = math.floor(fraction(t) * (cells - 1) + 0.5)  # the cell its knob is centred in
        assert value_at_cell(cell, cells) == t, (t, cell, [value_at_cell(c, cells) for c in range(cells)])
