"""Views 3, 4 and 5 say what they show, at 80x24 as at 80x30, 100x30 and 120x40, read off the screen as
a learner sees it (Pilot): the map's title says what the vowels' spread means and what its axes are;
each weights block has its matrix's name over it; the forward pass keeps the line that explains its
marks (ReLU's ·), and a stage that has no room is named as not shown, never dropped silently."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers import FakePalette, until
from rich.console import Console
from textual.strip import Strip

from engine import Config, Run
from engine.inspect import Projection, forward_trace
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.views.embeddings import MapFigures, render_map
from tui.views.forward import ForwardFigures, render_forward
from tui.views.weights import WeightFigures, render_weights

SIZES = [(80, 24), (80, 30), (100, 30), (120, 40)]
STAGES = ["wte", "fc1 pre", "ReLU", "logits", "probs"]  # the forward pass's rows, in order


def screen(app) -> list[str]:
    """The whole screen as text, one string per terminal row."""
    console = Console(width=app.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().split("\n")


def panel(app) -> list[str]:
    """The lower panel's view as it is on screen: its rows, cut to its columns, right spaces dropped."""
    region = app.panel.active.content_region
    rows = screen(app)[region.y: region.y + region.height]
    return [row[region.x: region.x + region.width].rstrip() for row in rows]


async def on_view(pilot, app, key: str) -> list[str]:
    await pilot.press(key)
    await pilot.pause()
    await pilot.pause()
    return panel(app)


def fits(line: str, width: int) -> bool:
    """Within the view; at 80 columns within 78 (a margin: the words are never at the very edge)."""
    return len(line) <= (78 if width == 80 else width)


def whole(part: str, line: str) -> bool:
    """`part` is in `line` whole: it ends the line or a ' · ' follows it (it was not cut short)."""
    return re.search(re.escape(part) + r"( · |$)", line) is not None


@pytest.fixture(scope="module", params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def size(request):
    return request.param


async def finished_app(pilot, app) -> None:
    await pilot.press("space")
    await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=30)


def new_app() -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=40)), speed_index=SPEEDS.index(None))


async def test_the_maps_title_says_what_its_spread_and_axes_are(size):
    app = new_app()
    async with app.run_test(size=size) as pilot:
        await finished_app(pilot, app)
        lines = await on_view(pilot, app, "3")
        title = lines[0]
        wte, ds = app.view_model.wte, app.training.dataset
        centred = wte - wte.mean(axis=0)  # the vowels seen from the centre of every token's embedding
        vowels = [centred[ds.uchars.index(v)] for v in "aeiou"]
        cos = [a @ b / np.linalg.norm(a) / np.linalg.norm(b) for i, a in enumerate(vowels) for b in vowels[i + 1:]]
        spread = 1 - sum(cos) / len(cos)
        assert 0 < spread < 2
        # the figure, then what it means, in one parenthesis of its own; BOS's mark; the axes said to be axes
        assert re.search(rf"^vowels' spread {spread:.2f} \(0: all point (the same|one) way\) · • BOS · "
                         r"x, y: wte's (2 main directions|2 main axes|main axes)", title), title
        assert fits(title, size[0])
        if size[0] >= 120:  # room for the share of the variance along each axis too
            values = np.linalg.eigvalsh(centred.T @ centred)[::-1]
            x, y = sorted(values[:2] / values.sum(), reverse=True)
            shares = [f"{x:.0%}, {y:.0%}", f"{y:.0%}, {x:.0%}"]  # (the axes may swap to keep the map steady)
            assert any(f"({s} of its variance)" in title or f"({s} of variance)" in title for s in shares), title


async def test_each_weights_block_has_its_matrixs_name_over_it(size):
    app = new_app()
    async with app.run_test(size=size) as pilot:
        await finished_app(pilot, app)
        lines = await on_view(pilot, app, "4")
        assert "hidden units dead ×" in lines[0]  # what the marks under fc1 and fc2 mean
        assert "• = BOS" in lines[0] + lines[1]  # and the mark among wte's letters
        grid = next(i for i, line in enumerate(lines) if line.startswith("▀"))
        starts = [m.start() for m in re.finditer(r"▀+", lines[grid])]
        assert len(starts) == 3
        shapes = {"wteᵀ": (16, 27), "fc1ᵀ": (16, 64), "fc2": (27, 64)}  # as drawn: wte and fc1 transposed
        for (name, (r, c)), at in zip(shapes.items(), starts):
            label = re.match(rf"{name} {r}×{c}( → (\d+)×(\d+))?( |$)", lines[grid - 1][at:])
            assert label, (name, lines[grid - 1])  # over its block, the name and the matrix's shape whole
            height = sum(1 for line in lines if line[at: at + 1] == "▀")  # the block's lines, two rows each
            if label[1]:  # condensed: the label says to what, and that is what is drawn
                assert math.ceil(int(label[2]) / 2) == height and (int(label[2]) < r or int(label[3]) < c)
                assert len(re.match(r"▀+", lines[grid][at:])[0]) == int(label[3])
            else:
                assert math.ceil(r / 2) == height and len(re.match(r"▀+", lines[grid][at:])[0]) == c
        assert all(fits(line, size[0]) for line in lines[:2])


async def test_the_forward_pass_keeps_its_explanation_and_names_what_it_leaves_out(size):
    app = new_app()
    async with app.run_test(size=size) as pilot:
        await finished_app(pilot, app)
        lines = await on_view(pilot, app, "5")
        ds = app.training.dataset
        picked = "BOS" if app.token == ds.bos else f"'{ds.uchars[app.token]}'"
        m = app.view_model
        pre = m.fc1 @ m.wte[app.token]
        cut = int((pre <= 0).sum())
        title = lines[0]
        assert title.startswith(f"forward pass of {picked}")
        assert whole(f"ReLU cuts {cut} of 64 to 0 (·)", title), title
        assert fits(title, size[0])
        shown = [s for s in STAGES if any(line.startswith(f"{picked} wte" if s == "wte" else s) for line in lines)]
        relu = next(line for line in lines if line.startswith("ReLU"))
        assert relu.count("·") == cut
        left_out = [s for s in STAGES if s not in shown]
        assert shown == STAGES[: len(shown)]  # the first stages, in order
        if left_out:
            n = len(left_out)
            assert whole(f"{n} row{'s' if n > 1 else ''} not shown: {', '.join(left_out)}", title), title
            assert "temperature" not in title or "probs" in shown
        else:
            assert "not shown" not in title and f"at temperature {app.temperature:.2f}" in title
        if size == (80, 24):
            assert len(shown) == 4  # only the last stage gives way


# --- the render functions at many sizes ----------------------------------------------------------------
PAL = FakePalette()
LETTERS = tuple("abcdefghijklmnopqrstuvwxyz•")


def text(rows) -> list[str]:
    return [Strip(row).text.rstrip() for row in rows]


@pytest.mark.parametrize("diverged", [False, True])
def test_the_forward_pass_at_every_height_names_the_stages_it_leaves_out(diverged):
    model = Run.new(Config(num_steps=1)).model
    if diverged:
        model.fc2[0, :] = np.inf
    trace = forward_trace(model, 3, 0.5)
    f = ForwardFigures(trace, [*"abcdefghijklmnopqrstuvwxyz", "BOS"], "'d'")
    for height in range(1, 10):
        lines = text(render_forward(f, 80, height, PAL))[:height]
        assert lines[0].startswith("forward pass of 'd'") and f"ReLU cuts {int(trace.zero.sum())} of 64" in lines[0]
        shown = [s for s in STAGES if any(line.startswith("'d' wte" if s == "wte" else s) for line in lines)]
        assert shown == STAGES[: max(0, min(5, height - 1 - diverged))]
        left_out = ["'d' wte" if s == "wte" else s for s in STAGES if s not in shown]
        if left_out:
            n = len(left_out)
            note = f"{n} row{'s' if n > 1 else ''} not shown: {', '.join(left_out)}"
            assert whole(note, lines[0]) or len(lines[0]) + len(note) + 3 > 80  # said if it fits
        assert ("the logits are not finite" in "\n".join(lines)) == (diverged and height >= 2)


def weight_figures() -> WeightFigures:
    rng = np.random.default_rng(1)
    blocks = [("wteᵀ", rng.uniform(-1, 1, (16, 27))), ("fc1ᵀ", rng.uniform(-1, 1, (16, 64))),
              ("fc2", rng.uniform(-1, 1, (27, 64)))]
    title = ["weights", "0 of 64 hidden units dead ×", "u: the last step's update", "• = BOS"]
    return WeightFigures("weights", title, blocks, np.zeros(64, dtype=bool), True, 1.0, LETTERS)


def test_the_weights_blocks_names_are_whole_at_every_size():
    label = re.compile(r"(wteᵀ|fc1ᵀ|fc2)( \d+×\d+( → \d+×\d+)?)?( \(• = BOS\))?$")
    for width in range(40, 241, 9):
        for height in range(4, 20, 3):
            lines = text(render_weights(weight_figures(), width, height, PAL))
            starts = [m.start() for m in re.finditer(r"▀+", lines[2])]
            assert len(starts) == 3
            names = [lines[1][a:b].strip() for a, b in zip(starts, [*starts[1:], None])]
            assert all(label.match(n) for n in names), (width, height, lines[1])
            assert [n.split()[0] for n in names] == ["wteᵀ", "fc1ᵀ", "fc2"]
            assert ("• = BOS" in lines[0]) != ("• = BOS" in lines[1]) or "• = BOS" not in lines[0] + lines[1]
            assert "• = BOS" in lines[1] or width < 100  # over wte's letters when there is room


def test_the_maps_title_is_whole_parts_at_every_width():
    f = MapFigures(Projection(np.zeros((27, 2)), np.array([0.21, 0.12]), np.eye(16, 2), np.zeros(16)), list(LETTERS),
                   [0, 4, 8, 14, 20], 0.54, 0)
    known = re.compile(r"vowels' spread 0\.54 \(0: all point (the same|one) way\)$|• BOS$|x, y: wte's 2 main "
                       r"(directions|axes)( \(21%, 12% of (its )?variance\))?$")
    for width in range(50, 241, 7):
        title = text(render_map(f, width, 6, PAL))[0]
        assert len(title) <= width and all(known.match(p) for p in title.split(" · ")), (width, title)
        assert title.startswith("vowels' spread 0.54 (0: all point")
        assert width < 80 or "x, y: wte's 2 main" in title
        assert width < 100 or "(21%, 12% of" in title  # the shares of the variance, when there is room
