"""The next-token chart on its own: one fixed square-root scale (the data's bars never move, nothing
is capped, the temperature's effect shows), the axis, the picked token, clicks that pick a token, a
diverged model at every height (and finite-but-extreme probabilities), and the width used.
Strip-level and through Pilot."""

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
from tui.widgets.distribution import BLOCKS, DIVERGED, DIVERGED_SHORT, SCALE, DistributionChart, layout

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


def drawn_heights(chart: DistributionChart, strips: list[Strip], width: int, who: str) -> dict[int, int]:
    """Token -> the height of its `who` ("model" or "data") bar as drawn, in eighths of a row: read off
    the block characters in that bar's first column, rows 1 .. -2 (between the title and the letters)."""
    lay = layout(chart.figures.model, chart.figures.data, width)
    gap = 1 if lay.cw >= 3 else 0
    offset = 0 if who == "model" else (lay.cw - gap + 1) // 2
    style = style_of(chart, who)
    out = {}
    for i, t in enumerate(lay.order.tolist()):
        x = lay.block + lay.axis + i * lay.cw + offset
        column = [dict(cells(s, style, ink=False)).get(x, " ") for s in strips[1:-1]]
        assert all(ch in BLOCKS for ch in column), column
        out[t] = sum(BLOCKS.index(ch) for ch in column)
    return out


def trained_bos() -> tuple[Run, list[str], np.ndarray]:
    run = Run.new(Config())
    for _ in run.steps():
        pass
    ds = run.dataset
    counts = ds.counts[ds.bos].astype(float)
    return run, [ds.token_label(i) for i in range(ds.vocab_size)], counts / counts.sum()


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
        for cold, hot in zip(drawn[0.1][1:], drawn[5.0][1:]):  # the bar rows and the letters
            assert cells(cold, d) == cells(hot, d)
        assert sum(len(cells(s, d)) for s in drawn[0.1]) > 30  # there are data bars to compare
        model_cold = [cells(s, m) for s in drawn[0.1][1:-1]]
        assert model_cold != [cells(s, m) for s in drawn[5.0][1:-1]]  # while the model's bars moved


async def test_one_fixed_square_root_scale_for_both_bars_with_an_axis_and_nothing_capped():
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.81, 0.09, 0.1, 0.0]), np.array([0.25, 0.0, 0.04, 0.71]), context=1,
                   temperature=0.5)
        strips = chart.build_strips(60, 10)  # 8 bar rows: 64 eighths from p = 0 to p = 1
        model, data = drawn_heights(chart, strips, 60, "model"), drawn_heights(chart, strips, 60, "data")
        # square roots: 0.81 -> 0.9 of the height, 0.25 -> half of it, 0.04 -> a fifth; 0 -> nothing
        assert model[0] == round(0.9 * 64) and data[0] == 32 and data[2] == round(0.2 * 64) and data[1] == 0
        assert model[0] > data[0]  # the model's 0.81 above the data's 0.25 on the same scale: not capped
        assert model[1] < model[2] and 0 < model[1]  # 0.09 below 0.1, both drawn
        assert "▲" not in "".join(s.text for s in strips)
        assert SCALE in chart.build_strips(70, 10)[0].text  # the title says what a height means
        axis = [s.text[7:13] for s in strips[1:-1]]  # the axis beside the "after" block
        assert axis[0] == "    1┤"  # the top row's top is p = 1
        assert axis[4] == " .250┤"  # half the height up: p = 0.25 (3 decimals: the axis has .063 too)
        assert all(a.endswith(("┤", "│")) for a in axis)
        after = next(s.text for s in strips[1:-1] if s.text.startswith("after"))
        assert after[5:8] == "   "  # the block and the axis apart: "after" reads as no label


async def test_a_lower_temperature_makes_the_top_bar_taller_and_the_rest_shorter():
    run, labels, data = trained_bos()
    ds = run.dataset
    app = ChartApp()
    async with app.run_test(size=(120, 30)):
        chart = app.query_one(DistributionChart)
        for width, height in ((120, 12), (80, 4), (200, 24)):  # the chart at 120x40, 80x24, 200x60
            rows = height - 2
            tops, rests = [], []
            for t in (0.1, 0.5, 1.0, 2.0):
                p = next_token_probs(run.model, ds.bos, t)
                chart.show(labels, p, data, context=ds.bos, temperature=t)
                strips = chart.build_strips(width, height)
                h = drawn_heights(chart, strips, width, "model")
                for i in h:
                    for j in h:
                        if p[i] > p[j]:
                            assert h[i] >= h[j], (t, labels[i], labels[j])  # in the probabilities' order
                        if p[i] != p[j] and h[i] == h[j]:  # the same height only by rounding, never a cap
                            assert abs(np.sqrt(p[i]) - np.sqrt(p[j])) * rows * 8 < 1, (t, labels[i], labels[j])
                assert max(h.values()) < rows * 8  # no bar reaches the top: p < 1
                top = int(np.argmax(p))
                tops.append(h[top])
                rests.append(sum(v for k, v in h.items() if p[k] < np.sort(p)[-3]))  # all but the top 3
            assert tops[0] > tops[1] > tops[2] > tops[3], (width, tops)  # strictly shorter as T rises
            assert rests[0] < rests[1] < rests[3], (width, rests)  # and the rest taller
        chart.show(labels, next_token_probs(run.model, ds.bos, 0.1), data, context=ds.bos, temperature=0.1)
        strips = chart.build_strips(120, 12)
        h = drawn_heights(chart, strips, 120, "model")
        l_, m_ = ds.uchars.index("l"), ds.uchars.index("m")
        assert h[l_] > h[m_] > 0  # the example: l 0.70 and m 0.22 at T 0.1, two heights


async def test_every_label_is_whole_at_80_columns():
    run, labels, data = trained_bos()
    app = ChartApp()
    async with app.run_test(size=(80, 24)):
        chart = app.query_one(DistributionChart)
        chart.show(labels, next_token_probs(run.model, run.dataset.bos, 0.5), data, context=0, temperature=0.5)
        for width in (80, 81, 78, 60, 120):
            letters = chart.build_strips(width, 4)[-1].text.split()
            assert letters[-1] == "BOS" and letters[-27:-1] == list("abcdefghijklmnopqrstuvwxyz"), (width, letters)


async def test_the_picked_token_is_prominent_and_the_letters_are_the_next_tokens():
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.4, 0.3, 0.2, 0.1]), DATA, context=1, temperature=0.5)
        strips = chart.build_strips(60, 10)
        context = style_of(chart, "context")
        assert "".join(ch for _, ch in cells(strips[0], context, ink=False)) == " b "  # in the title
        assert chart.build_strips(80, 10)[0].text.startswith("next token after  b ")
        assert strips[0].text.startswith("after  b ")
        beside = ["".join(ch for _, ch in cells(s, context, ink=False)) for s in strips[1:-1]]
        assert " b " in beside  # and in the block beside the bars
        assert any(s.text.startswith("after") for s in strips[1:-1])
        assert strips[-1].text.split() == ["next", "→", "a", "b", "c", "BOS"]
        assert context.bgcolor != style_of(chart, "title").bgcolor  # a block of its own colour


async def test_a_click_on_a_letter_or_a_bar_picks_that_token():
    app = ChartApp()
    async with app.run_test(size=(80, 30)) as pilot:
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, np.array([0.4, 0.3, 0.2, 0.1]), DATA, context=3, temperature=0.5)
        await pilot.pause()
        lay = layout(chart.figures.model, DATA, chart.content_size.width)
        left, gutter = chart.styles.padding.left, lay.block + lay.axis
        letters = chart.content_size.height - 1
        text = chart.render_line(letters).text
        assert text[gutter + 2 * lay.cw] == "c"
        await pilot.click(chart, offset=(left + gutter + 2 * lay.cw, letters))  # on the letter 'c'
        await pilot.click(chart, offset=(left + gutter + 1 * lay.cw, letters - 1))  # on a bar of 'b'
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


NOT_FINITE = [np.array([np.nan, np.inf, 0.0, 0.0]), np.full(4, np.nan), np.array([0.5, 0.5, np.nan, 0.0]),
              np.array([np.inf, 0.0, 0.0, 0.0])]
EXTREME = [np.array([1.0, 0.0, 0.0, 0.0]), np.array([1.0, 5e-324, 1e-300, 0.0]),
           np.array([1 - 2**-53, 2**-53, 0.0, 0.0])]
SIZES = [(38, 1), (38, 2), (38, 3), (40, 2), (78, 4), (118, 11), (200, 24), (7, 2), (1, 1)]


@pytest.mark.parametrize("model", NOT_FINITE, ids=["nan-inf", "all-nan", "one-nan", "inf"])
async def test_non_finite_probabilities_say_so_on_the_first_row_at_every_height_and_draw_no_model_bar(model):
    app = ChartApp()
    async with app.run_test(size=(120, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, model, DATA, context=0, temperature=0.5)
        for w, h in SIZES:
            strips = chart.build_strips(w, h)
            assert len(strips) == h and all(s.cell_length == w for s in strips)
            if w >= len(DIVERGED_SHORT):
                assert DIVERGED_SHORT in strips[0].text or DIVERGED in strips[0].text, (w, h)
            else:
                assert strips[0].text.strip() == DIVERGED_SHORT[:w].strip()  # as much of it as fits
            assert not [c for s in strips for c in cells(s, style_of(chart, "model"))], (w, h)
            text = "".join(s.text for s in strips)
            assert "nan" not in text and "inf" not in text
            if h >= 3:
                assert cells(strips[-2], style_of(chart, "data"))  # the data's bars stay
        assert DIVERGED in chart.build_strips(110, 10)[0].text


@pytest.mark.parametrize("model", EXTREME, ids=["one-hot", "subnormal", "nearly-one"])
async def test_finite_but_extreme_probabilities_are_drawn_as_they_are(model):
    app = ChartApp()
    async with app.run_test(size=(120, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(LABELS, model, DATA, context=0, temperature=0.1)
        for w, h in SIZES:
            strips = chart.build_strips(w, h)
            assert len(strips) == h and all(s.cell_length == w for s in strips)
            assert "not finite" not in "".join(s.text for s in strips)
        strips = chart.build_strips(60, 10)
        m = drawn_heights(chart, strips, 60, "model")
        assert m[0] == 8 * 8  # p = 1 (or 1 - 2^-53): the full height, and no higher
        assert m[3] == 0 and m[1] <= 1  # 0 draws nothing; 2^-53 or 5e-324 at most a sliver
        assert "a 1.00" in chart.build_strips(120, 10)[0].text  # the likeliest in the title


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
        assert layout(model, data, 196).cw == 6  # 27 tokens in 196 - 13 columns
        assert wide[-1].text.split()[2:5] == ["a", "b", "c"]
        assert wide[1].text.startswith("           1┤")  # the block and the axis
        narrow = chart.build_strips(38, 4)
        lay = layout(model, data, 38)
        assert lay.cw == 3 and lay.axis and len(lay.order) == 11 and "likeliest of 27" not in narrow[0].text
        likeliest = set(np.argsort(-np.maximum(model, data), kind="stable")[:11].tolist())
        assert set(lay.order.tolist()) == likeliest and list(lay.order) == sorted(lay.order)
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
async def test_a_diverged_run_in_the_dashboard_says_so_where_the_probabilities_are_not_finite():
    """After `--lr 5` diverges, the last finite weights give finite (extreme) probabilities after some
    tokens and non-finite ones after others; which, depends on the CPU's float path. Every token is
    picked in turn and the chart checked against its own probabilities, so this holds on any CPU."""
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
        model_style, data_style = chart._style("model"), chart._style("data")
        for _ in range(app.training.dataset.vocab_size):
            await pilot.press("right")
            await pilot.pause()
            with np.errstate(all="ignore"):
                probs = next_token_probs(app.view_model, app.token, app.temperature)
            assert chart.figures.context == app.token
            title = chart.render_line(0).text  # on the screen
            strips = chart.build_strips(*chart.content_size)
            model_cells = [c for s in strips for c in cells(s, model_style)]
            if np.isfinite(probs).all():
                assert "not finite" not in title and model_cells
            else:
                assert DIVERGED in title and not model_cells
            assert [c for s in strips for c in cells(s, data_style)] or not app.training.dataset.counts[app.token].any()


async def test_a_control_character_token_is_shown_escaped():
    app = ChartApp()
    async with app.run_test(size=(80, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(["a", "\x1b", "\u200b", "BOS"], np.array([0.1, 0.6, 0.2, 0.1]), DATA, context=1, temperature=0.5)
        text = "\n".join(s.text for s in chart.build_strips(120, 10))
        assert "\x1b" not in text and "\u200b" not in text
        assert " \\x1b " in text.splitlines()[0] and "\\x1b 0.60" in text  # the title, the likeliest
        assert "\\x1b" in text.splitlines()[-1] and "\\u200b" in text.splitlines()[-1]  # the letters


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_in_the_dashboard_a_colder_temperature_lifts_the_top_bar_on_the_screen(size):
    app = DashboardApp(Run.new(Config(num_steps=300)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        for _ in range(200):
            if app.shown_state.value == "finished":
                break
            await pilot.pause(0.05)
        chart = app.chart
        width, height = chart.content_size

        def screen() -> list[Strip]:
            return [chart.render_line(y) for y in range(height)]

        lines = screen()
        assert lines[-1].text.split()[-1] == "BOS"  # every label whole, the last too
        assert SCALE in lines[0].text  # what a height means, at 80 columns too
        warm = drawn_heights(chart, lines, width, "model")
        warm_data = drawn_heights(chart, lines, width, "data")
        top = int(np.argmax(chart.figures.model))
        for _ in range(4):
            await pilot.press("minus")  # T 0.50 -> 0.10
        await pilot.pause()
        assert chart.figures.temperature == pytest.approx(0.1)
        lines = screen()
        cold = drawn_heights(chart, lines, width, "model")
        assert cold[top] > warm[top]  # the likeliest taller
        assert sum(v for k, v in cold.items() if k != top) < sum(v for k, v in warm.items() if k != top)
        assert drawn_heights(chart, lines, width, "data") == warm_data  # the data's bars did not move


def test_units_off_after_a_token_against_the_hidden_layer_itself():
    from engine.inspect import units_off_after

    run = Run.new(Config(seed=3))
    m = run.model
    rng = np.random.default_rng(0)
    for case in range(6):
        m.theta[:] = rng.standard_normal(m.theta.size) * 0.5
        t = case % m.vocab_size
        if case % 2:  # a token whose every unit is off: a zero embedding (every pre-activation 0)
            m.wte[t] = 0.0
        hidden = [max(0.0, float(sum(m.wte[t, e] * m.fc1[j, e] for e in range(m.n_embd)))) for j in range(m.hidden)]
        assert units_off_after(m, t) == all(h == 0.0 for h in hidden)
        if units_off_after(m, t):  # then the model gives every next token the same probability
            p = next_token_probs(m, t, 0.5)
            assert np.allclose(p, 1 / m.vocab_size)


async def test_a_flat_chart_says_why_when_every_hidden_unit_is_off_after_the_token():
    run = Run.new(Config(seed=3))
    run.model.wte[0] = 0.0  # every pre-activation after token 0 is 0: no unit on
    labels = ["BOS"] + list("abcdefghijklmnopqrstuvwxyz")
    data = np.full(27, 1 / 27)
    app = ChartApp()
    async with app.run_test(size=(120, 30)):
        chart = app.query_one(DistributionChart)
        chart.show(labels, next_token_probs(run.model, 0, 0.5), data, context=0, temperature=0.5, silent=True)
        for width, words in ((120, "every hidden unit is 0 after it, so every next token gets 1/27"),
                             (80, "all hidden units 0 here: 1/27 each")):
            title = chart.build_strips(width, 6)[0].text
            assert words in title and "likeliest" not in title, (width, title)
        chart.show(labels, next_token_probs(run.model, 1, 0.5), data, context=1, temperature=0.5, silent=False)
        assert "likeliest" in chart.build_strips(120, 6)[0].text


async def test_the_dashboard_chart_says_so_for_a_model_with_no_unit_on_after_bos():
    run = Run.new(Config(num_steps=100))
    run.model.wte[run.dataset.bos] = 0.0
    app = DashboardApp(run, speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert "every hidden unit is 0 after it" in app.chart.render_line(0).text


def test_the_units_checks_of_a_blown_up_model_warn_nothing():
    """A diverged variant shown in a race: the chart's check printed numpy's overflow warnings."""
    import warnings

    from engine.inspect import all_units_dead, units_off_after

    run = Run.new(Config(seed=2))
    run.model.theta[:] = run.model.theta * 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in range(run.model.vocab_size):
            units_off_after(run.model, t)
        all_units_dead(run.model)


@pytest.mark.parametrize("rows", range(2, 30))
def test_the_axis_writes_its_labels_below_1_alike(rows):
    """QA: at 100x30 the chart's axis read `.36` over `.040`: two forms on one axis."""
    from tui.widgets.distribution import axis_rows

    labels = [text for text in axis_rows(rows).values() if text != "1"]
    assert len({len(text) for text in labels}) <= 1, labels
    for r, text in axis_rows(rows).items():  # each still the probability its row's top stands for
        assert text == "1" or abs(float("0" + text) - (r / rows) ** 2) <= 0.005, (r, text)
