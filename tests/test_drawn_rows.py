"""Only the rows that changed are repainted, and the screen never keeps a stale row: DrawnRows on its own,
then the next-token chart and the loss plot in an app, read back through Textual's own line cache (what
the compositor puts on the screen) after new figures, against the same figures drawn from scratch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Region

import tui
from engine import Config, Run
from tui.app import DashboardApp
from tui.plumbing.drawn_rows import DrawnRows
from tui.plumbing.training_loop import SPEEDS
from tui.widgets.distribution import DistributionChart

APP_CSS = Path(tui.__file__).parent / "app.tcss"
LABELS = ["a", "b", "c", "BOS"]
DATA = np.array([0.5, 0.3, 0.2, 0.0])


def test_only_changed_rows_come_back_and_adjacent_ones_are_one_region():
    red, base = Style(color="red"), Style(bgcolor="black")
    rows = [[Segment("abc", red)], [Segment("def")], [Segment("ghi")], [Segment("jkl")]]
    drawn = DrawnRows()
    assert drawn.take(rows, (5, 4), base) == [Region(0, 0, 5, 4)]  # the first drawing: every row
    assert drawn.line(0).text == "abc  " and drawn.line(0).cell_length == 5
    assert drawn.take([list(r) for r in rows], (5, 4), base) == []  # the same rows: nothing to repaint
    changed = [rows[0], [Segment("DEF")], [Segment("GHI")], rows[3]]
    assert drawn.take(changed, (5, 4), base) == [Region(0, 1, 5, 2)]
    assert [drawn.line(y).text.strip() for y in range(4)] == ["abc", "DEF", "GHI", "jkl"]
    assert drawn.take(changed[:1] + [[Segment("def", red)]] + changed[2:], (5, 4), base) == [Region(0, 1, 5, 1)]
    assert drawn.take(changed, (6, 4), base) == [Region(0, 0, 6, 4)]  # another size: every row
    assert drawn.take(changed, (6, 4), Style(bgcolor="white")) == [Region(0, 0, 6, 4)]  # another theme
    assert all(seg.style is not None and seg.style.bgcolor is not None for seg in drawn.line(3))  # on the base


class ChartApp(App[None]):
    CSS_PATH = APP_CSS

    def compose(self) -> ComposeResult:
        yield DistributionChart(id="distribution")


def on_screen(widget) -> list[str]:  # type: ignore[no-untyped-def]
    """The widget's rows as Textual's line cache hands them to the compositor."""
    size = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, size.width, size.height))]


async def test_the_chart_on_screen_is_the_new_figures_after_a_partial_repaint():
    app = ChartApp()
    async with app.run_test(size=(60, 12)) as pilot:
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.1, 0.2, 0.3, 0.4]), DATA, context=0, temperature=1.0)
        await pilot.pause()
        first = on_screen(chart)
        dirty = []
        original = chart.refresh
        chart.refresh = lambda *regions, **kw: dirty.append(regions) or original(*regions, **kw)  # type: ignore
        chart.show(LABELS, np.array([0.1, 0.2, 0.3, 0.4]), DATA, context=0, temperature=1.0)
        assert dirty == []  # the same figures: nothing repainted
        chart.show(LABELS, np.array([0.7, 0.1, 0.1, 0.1]), DATA, context=0, temperature=1.0)
        await pilot.pause()
        assert dirty and all(regions for regions in dirty)  # some rows, not the whole widget
        repainted = {y for regions in dirty for r in regions for y in range(r.y, r.y + r.height)}
        assert 0 < len(repainted) < chart.size.height
        fresh = [s.text for s in chart.build_strips(*chart.content_size)]
        assert on_screen(chart) == fresh != first
        assert "a 0.70" in on_screen(chart)[0]  # the new likeliest, in the title on the screen


async def test_the_dashboard_on_screen_matches_a_fresh_drawing_while_training():
    app = DashboardApp(Run.new(Config(num_steps=20_000)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await pilot.pause(1.0)
        await pilot.press("space")
        await pilot.pause(0.3)
        assert app.shown_step > 100
        for widget in (app.plot, app.chart):
            fresh = [s.text for s in widget.build_strips(widget.content_size.width, widget.content_size.height)]
            assert on_screen(widget) == fresh


def test_a_row_made_in_one_pass_is_textual_s_own_crop_extend_and_apply_style():
    """DrawnRows.strip against the three Strip calls it stands for, on rows shorter, as wide as and wider
    than the width, with empty segments, double-width characters at the cut and null / real base styles."""
    import random

    from textual.strip import Strip

    styles = [None, Style(), Style(color="red"), Style(bgcolor="blue", bold=True), Style(meta={"@click": "x"})]
    texts = ["", "a", "ab", "abc def", "▀▀▀", "日本", "x日", "  ", "│"]
    bases = [Style(), Style(bgcolor="black"), Style(color="white", bgcolor="#101010")]
    rng = random.Random(1)
    for _ in range(3000):
        row = [Segment(rng.choice(texts), rng.choice(styles)) for _ in range(rng.randint(0, 7))]
        width, base = rng.randint(0, 25), rng.choice(bases)
        slow = Strip(row).crop_extend(0, width, Style()).apply_style(base)
        fast = DrawnRows.strip(row, width, base, {})
        assert list(fast) == list(slow) and fast.cell_length == slow.cell_length, (row, width, base)
