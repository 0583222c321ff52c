"""The status and the step line are drawn through the line API (tui/widgets/text_rows.py): what the
screen shows of them, frame after frame, is the text they were last given; only the lines that changed
are repainted; a theme change recolours them."""

from __future__ import annotations

from helpers import until
from rich.text import Text
from test_words import screen_lines
from textual.app import App
from textual.geometry import Region

from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.widgets.text_rows import TextRows

SLOW = 1  # a few steps a second: the figures change from one frame to the next


def drawn(app, widget) -> list[str]:
    """The widget's rows as the screen shows them now (inside its one column of padding)."""
    r = widget.content_region
    return [line[r.x : r.x + r.width].rstrip() for line in screen_lines(app)[r.y : r.y + r.height]]


def given(widget) -> list[str]:
    return [line.rstrip() for line in str(widget.render()).split("\n")]


async def test_the_screen_shows_the_figures_of_each_frame():
    app = DashboardApp(Run.new(Config(num_steps=10_000)), speed_index=SLOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.RUNNING)
        seen = set()
        for _ in range(6):
            await pilot.pause(0.35)
            status, step = drawn(app, app.status_line), drawn(app, app.step_line)
            assert status == given(app.status_line) and step == given(app.step_line)
            seen.add(step[0])
        assert len(seen) >= 3  # the step line moved on between frames, and the screen with it
        await pilot.press("space")


class _Rows(App):
    CSS = "TextRows { height: 3; padding: 0 1; }"

    def compose(self):
        yield TextRows(id="rows")


async def test_only_the_lines_that_changed_are_repainted():
    app = _Rows()
    async with app.run_test(size=(40, 10)) as pilot:
        rows = app.query_one(TextRows)
        rows.update(Text("a\nb\nc"))
        await pilot.pause()
        width = rows.size.width
        assert drawn(app, rows) == ["a", "b", "c"]
        repainted: list[tuple] = []
        original = rows.refresh
        rows.refresh = lambda *regions, **kw: (repainted.append(regions), original(*regions, **kw))[1]
        rows.update(Text("a\nB\nc"))
        assert repainted == [(Region(0, 1, width, 1),)]
        rows.update(Text("a\nB\nc"))
        assert repainted == [(Region(0, 1, width, 1),)]  # the same text again: nothing repainted
        await pilot.pause()
        assert drawn(app, rows) == ["a", "B", "c"]


async def test_a_theme_change_recolours_the_status():
    app = DashboardApp(Run.new(Config(num_steps=100)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()

        def background() -> int:
            bg = list(app.status_line.render_line(0))[0].style.bgcolor
            return sum(bg.get_truecolor())

        dark = background()
        app.theme = "textual-light"
        await pilot.pause(0.2)
        assert background() > dark + 200 and background() > 3 * 160
