"""The next-token chart on its own: scale fixed to the data, capped model bars, the picked token,
clicks that pick a token, a diverged model, and the width used. Strip-level and through Pilot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip

import tui
from engine import Config, Run, next_token_probs
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS
from tui.widgets.distribution import CAP, DIVERGED, DIVERGED_SHORT, GUTTER, DistributionChart, visible_tokens

APP_CSS = Path(tui.__file__).parent / "app.tcss"
LABELS = ["a", "b", "c", "BOS"]
DATA = np.array([0.5, 0.3, 0.2, 0.0])


class ChartApp(App[None]):
    CSS_PATH = APP_CSS

    def __init__(self) -> None:
        super().__init__()
        self.picked: list[int] = []

    def compose(self) -> ComposeResult:
        yield DistributionChart(id="distribution")

    def on_distribution_chart_token_picked(self, message: DistributionChart.TokenPicked) -> None:
        self.picked.append(message.token)


def cells(strip: Strip, style: Style, ink: bool = True) -> list[tuple[int, str]]:
    """(column, character) of every cell drawn in `style` (inked: not blank)."""
    out, x = [], 0
    for seg in strip:
        for ch in seg.text:
            if seg.style == style and (ch != " " or not ink):
                out.append((x, ch))
            x += 1
    return out


def style_of(chart: DistributionChart, name: str) -> Style:
    return chart.get_component_rich_style(f"distribution-chart--{name}")


async def test_the_data_bars_do_not_move_when_only_the_temperature_changes():
    run = Run.new(Config())
    ds = run.dataset
    labels = [ds.token_label(i) for i in range(ds.vocab_size)]
    counts = ds.counts[0].astype(float)
    data = counts / counts.sum()
    app = ChartApp()
    async with app.run_test(size=(120, 30)):
        chart = app.query_one(DistributionChart)
        drawn = {}
        for t in (0.1, 5.0):
            chart.show(labels, next_token_probs(run.model, 0, t), data, context=0, temperature=t)
            drawn[t] = chart.build_strips(110, 10)
        d, m = style_of(chart, "data"), style_of(chart, "model")
        for cold, hot in zip(drawn[0.1][2:], drawn[5.0][2:]):  # the bar rows and the letters
            assert cells(cold, d) == cells(hot, d)
        assert sum(len(cells(s, d)) for s in drawn[0.1]) > 30  # there are data bars to compare
        model_cold = [cells(s, m) for s in drawn[0.1][2:-1]]
        assert model_cold != [cells(s, m) for s in drawn[5.0][2:-1]]  # while the model's bars moved


async def test_the_data_fills_the_height_and_a_taller_model_bar_is_capped_with_its_value():
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.9, 0.05, 0.05, 0.0]), DATA, context=1, temperature=0.5)
        strips = chart.build_strips(60, 10)
        m, d = style_of(chart, "model"), style_of(chart, "data")
        order, cw = visible_tokens(chart.figures.model, DATA, 60 - GUTTER)
        assert cw == 9  # 4 tokens in 53 columns: as wide as allowed
        bars = strips[2:-1]
        a_model, b_model, a_data = GUTTER, GUTTER + cw, GUTTER + 4
        assert (a_model, CAP) in cells(bars[0], m)  # the capped bar's top, in the model's colour
        assert "0.90" in strips[1].text[a_model:a_model + cw]  # and its value above it
        assert CAP not in strips[1].text + "".join(s.text for s in bars[1:])  # one mark, on top
        assert [ch for x, ch in cells(bars[0], d)] == ["█"] * 4  # only the data's max reaches the top row
        assert all(a_data <= x < a_data + 4 for x, _ in cells(bars[0], d))
        assert not [x for x, _ in cells(bars[0], m) if b_model <= x < b_model + cw]  # 0.05: low, not capped
        assert strips[1].text[b_model:].strip() == ""


async def test_the_picked_token_is_prominent_and_the_letters_are_the_next_tokens():
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.4, 0.3, 0.2, 0.1]), DATA, context=1, temperature=0.5)
        strips = chart.build_strips(60, 10)
        context = style_of(chart, "context")
        assert "".join(ch for _, ch in cells(strips[0], context, ink=False)) == " b "  # in the title
        assert strips[0].text.startswith("next token after  b ")
        beside = ["".join(ch for _, ch in cells(s, context, ink=False)) for s in strips[2:-1]]
        assert " b " in beside  # and in the block beside the bars
        assert any(s.text.startswith("after") for s in strips[2:-1])
        assert strips[-1].text.startswith("next → a")
        assert context.bgcolor != style_of(chart, "title").bgcolor  # a block of its own colour


async def test_a_click_on_a_letter_or_a_bar_picks_that_token():
    app = ChartApp()
    async with app.run_test(size=(80, 30)) as pilot:
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.4, 0.3, 0.2, 0.1]), DATA, context=3, temperature=0.5)
        await pilot.pause()
        _, cw = visible_tokens(chart.figures.model, DATA, chart.content_size.width - GUTTER)
        left = chart.styles.padding.left
        letters = chart.content_size.height - 1
        await pilot.click(chart, offset=(left + GUTTER + 2 * cw + 1, letters))  # on the letter 'c'
        await pilot.click(chart, offset=(left + GUTTER + 1 * cw, letters - 2))  # on a bar of 'b'
        await pilot.click(chart, offset=(left + 2, letters))  # on "next →": not a token
        await pilot.pause()
        assert app.picked == [2, 1]


async def test_a_click_in_the_dashboard_makes_that_token_the_context():
    app = DashboardApp(Run.new(Config(num_steps=100)), speed_index=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        chart = app.chart
        x = next(x for x in range(chart.content_size.width) if chart.token_at(x) == 4)  # 'e'
        await pilot.click(chart, offset=(chart.styles.padding.left + x, chart.content_size.height - 1))
        await pilot.pause()
        assert app.token == 4 and chart.figures.context == 4


async def test_a_diverged_model_draws_no_model_bars_and_says_so():
    app = ChartApp()
    async with app.run_test(size=(120, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([np.nan, np.inf, 0.0, 0.0]), DATA, context=0, temperature=0.5)
        strips = chart.build_strips(110, 10)
        assert DIVERGED in strips[0].text
        assert not [c for s in strips for c in cells(s, style_of(chart, "model"))]
        assert cells(strips[2], style_of(chart, "data"))  # the data's bars stay
        assert "nan" not in "".join(s.text for s in strips)
        narrow = chart.build_strips(38, 4)
        assert DIVERGED_SHORT in narrow[0].text and len(narrow) == 4


async def test_the_width_is_used_and_a_narrow_chart_shows_the_likeliest():
    run = Run.new(Config())
    ds = run.dataset
    labels = [ds.token_label(i) for i in range(ds.vocab_size)]
    counts = ds.counts[ds.bos].astype(float)
    data = counts / counts.sum()
    model = next_token_probs(run.model, ds.bos, 0.5)
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(labels, model, data, context=ds.bos, temperature=0.5)
        wide = chart.build_strips(196, 12)
        assert visible_tokens(model, data, 196 - GUTTER)[1] >= 6  # 27 tokens, 7 columns each
        assert wide[-1].text.split()[2:5] == ["a", "b", "c"]
        narrow = chart.build_strips(38, 4)
        order, cw = visible_tokens(model, data, 38 - GUTTER)
        assert cw == 3 and len(order) == 10 and "the 10 likeliest of 27" not in narrow[0].text  # no room
        likeliest = set(np.argsort(-np.maximum(model, data), kind="stable")[:10].tolist())
        assert set(order.tolist()) == likeliest and list(order) == sorted(order)
        for w, h in ((40, 1), (40, 2), (40, 3), (41, 5), (300, 12), (7, 4), (1, 1)):
            strips = chart.build_strips(w, h)
            assert len(strips) == h and all(s.cell_length == w for s in strips)
        for x in (1e300, 1e-300, 0.001, 5.0):  # a bounded figure, whatever the temperature
            chart.show(labels, model, data, context=ds.bos, temperature=x)
            assert len(chart.build_strips(196, 12)[0].text.split("at T ")[1].split()[0]) <= 8


async def test_a_light_theme_recolours_the_bars():
    app = ChartApp()
    async with app.run_test(size=(80, 30)) as pilot:
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.4, 0.3, 0.2, 0.1]), DATA, context=0, temperature=0.5)
        dark = style_of(chart, "model")
        app.theme = "textual-light"
        await pilot.pause()
        light = style_of(chart, "model")
        assert dark.color != light.color and light.color is not None
        assert cells(chart.build_strips(60, 10)[-2], light)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the engine's overflow while it diverges
async def test_a_diverged_run_in_the_dashboard_says_so_in_the_chart():
    app = DashboardApp(Run.new(Config(num_steps=300, learning_rate=5.0)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        for _ in range(200):
            if app.shown_state.value == "diverged":
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        chart = app.chart
        assert app.shown_state.value == "diverged"
        assert DIVERGED in chart.render_line(0).text  # on the screen
        strips = chart.build_strips(*chart.content_size)
        assert not [c for s in strips for c in cells(s, chart._style("model"))]
        assert [c for s in strips for c in cells(s, chart._style("data"))]


async def test_a_control_character_token_is_shown_escaped():
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(["a", "\x1b", "\u200b", "BOS"], np.array([0.1, 0.6, 0.2, 0.1]), DATA, context=1, temperature=0.5)
        text = "\n".join(s.text for s in chart.build_strips(120, 10))
        assert "\x1b" not in text and "\u200b" not in text
        assert " \\x1b " in text.splitlines()[0] and "\\x1b 0.60" in text  # the title, the likeliest
        assert "\\x1b" in text.splitlines()[-1] and "\\u200b" in text.splitlines()[-1]  # the letters
