"""Views 2 (table), 4 (weights) and 6's figures as drawn: the pure render functions on constructed
figures, and the running app at 80x24 and 120x40. The table's ranking stands apart from the rows,
the title says which rows are shown and at which temperature each figure is; the weights carry a
colour scale, the tokens' letters under wte and say when a matrix is condensed; the gradient check
names its relative error by its formula."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import FakePalette, until
from textual.strip import Strip

from engine import Config, Run
from engine.inspect import GradCheck, row_gap
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.views.gradcheck import CheckFigures, render_check
from tui.views.table import RANK, TableFigures, render_table
from tui.views.weights import CONDENSED, WEIGHTS, WeightFigures, render_weights

V = 27
LABELS = [*"abcdefghijklmnopqrstuvwxyz", "BOS"]


PAL = FakePalette()


def text(rows) -> list[str]:
    return [Strip(row).text for row in rows]


def table(token: int = V - 1, temperature: float = 0.5) -> TableFigures:
    rng = np.random.default_rng(0)
    model = rng.dirichlet(np.ones(V), V)
    data = rng.dirichlet(np.ones(V), V)
    gap = rng.random(V) / 100
    return TableFigures(LABELS, model, data, gap, token, temperature)


# --- view 2 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("width, height", [(120, 11), (200, 17), (137, 12)])
def test_the_ranking_stands_apart_from_the_rows_under_its_own_heading(width, height):
    f = table()
    lines = text(render_table(f, width, height, PAL))
    header, body = lines[1], lines[2:]
    rule = header.index(RANK)
    assert "most left to learn" in header[rule:] and "left to learn" in header[:rule]
    ranked = np.argsort(-f.gap, kind="stable")
    for n, line in enumerate(body):
        assert line[rule : rule + len(RANK)] == RANK, line  # one rule, at one column, on every row
        row_part, rank_part = line[:rule], line[rule + len(RANK) :]
        assert "#" not in row_part  # nothing of the ranking on the row's side
        assert rank_part.split()[:2] == [f"#{n + 1}", LABELS[ranked[n]]]


def test_the_title_says_which_rows_are_shown_and_the_temperature_of_each_figure():
    f = table(token=18)  # 's'
    lines = text(render_table(f, 120, 11, PAL))
    shown = [line[1:4].strip() for line in lines[2:]]
    assert len(shown) == 9 and "s" in shown
    assert f"rows {shown[0]}–{shown[-1]} of 27, ← → move" in lines[0]
    assert "P(next | row) at T 0.50: model │ data" in lines[0]
    assert "left to learn at T 1" in lines[0]  # the shares are at T 1, as the loss, and the title says so
    every = text(render_table(f, 200, 40, PAL))
    assert "rows" not in every[0] and len(every) == 2 + 27  # all fit: no window to speak of
    for w in (80, 60):
        assert len(text(render_table(f, w, 5, PAL))[0]) <= w


def test_the_left_to_learn_figures_are_the_loss_gap_at_t_1_whatever_the_temperature():
    run = Run.new(Config(num_steps=200))
    for _ in run.steps():
        pass
    from tui.views import table as view

    gap = row_gap(run.model, run.dataset.counts)
    assert float(gap.sum()) == pytest.approx(run.dataset_loss() - run.reference.floor, rel=1e-9)
    drawn = {}
    for t in (0.5, 2.0):
        f = TableFigures(LABELS, np.zeros((V, V)), np.zeros((V, V)), gap, V - 1, t)
        lines = text(view.render_table(f, 120, 11, PAL))
        assert f"at T {t:.2f}" in lines[0] and "at T 1" in lines[0]
        drawn[t] = [line[60:] for line in lines[1:]]
    assert drawn[0.5] == drawn[2.0]  # the temperature moves the model's cells only


# --- view 4 ------------------------------------------------------------------------------------------
def weights(mode: str = WEIGHTS) -> WeightFigures:
    rng = np.random.default_rng(1)
    blocks = [("wteᵀ", np.clip(rng.normal(0, 0.4, (16, V)), -1, 1)), ("fc1ᵀ", rng.uniform(-1, 1, (16, 64))),
              ("fc2", rng.uniform(-1, 1, (V, 64)))]
    dead = np.zeros(64, dtype=bool)
    dead[[3, 40]] = True
    title = ["weights", "2 of 64 hidden units dead ×", "u: the last step's update"]
    return WeightFigures(mode, title, blocks, dead, True, 1.3, tuple(LABELS[:-1]) + ("•",))


@pytest.mark.parametrize("width, height", [(80, 5), (120, 11), (200, 17)])
def test_the_weights_carry_a_colour_scale_and_wtes_letters(width, height):
    rows = render_weights(weights(), width, height, PAL)
    lines = text(rows)
    assert lines[0].startswith("weights -1.3 ")
    cells = [seg.style for seg in rows[0] if seg.style in PAL.div]
    step = 1 if width >= 100 else 2
    assert cells == PAL.div[::step]  # from the most negative colour to the most positive, in order
    assert lines[0].split("+1.3")[0].endswith(" ") and "+1.3" in lines[0]
    assert lines[-1].startswith("abcdefghijklmnopqrstuvwxyz•")  # under wte's 27 columns
    assert lines[-1].count("×") >= 2  # and the dead units under fc1 and fc2


def test_a_condensed_matrix_says_so():
    lines = text(render_weights(weights(), 120, 11, PAL))
    assert CONDENSED in lines[0]
    labels = lines[1]
    assert "wteᵀ 16×27 " in labels and "→" not in labels.split("fc1ᵀ")[0]  # wte: whole, 8 lines of 2
    assert "fc2 27×64 → 16×44" in labels  # 27 rows in 8 lines, 64 columns in 44
    assert "fc1ᵀ 16×64 → 16×44" in labels
    roomy = text(render_weights(weights(), 240, 19, PAL))
    assert "→" not in roomy[0] + roomy[1]  # all of it fits: nothing to say
    small = text(render_weights(weights(), 80, 5, PAL))  # 80x24's panel: the names first, 2 lines of rows
    assert "→ condensed" in small[0] and "2 of 64 hidden units dead" in small[0]
    assert re.match(r"wteᵀ 16×27 → 4×27 \(• = BOS\) +fc1ᵀ 16×64 → 4×24 +fc2 27×64 → 4×24$", small[1].rstrip())
    tiny = text(render_weights(weights(), 80, 3, PAL))  # no line for the names: the title says which
    assert "condensed: all" in tiny[0] and "wteᵀ" not in "".join(tiny)


# --- view 6 ------------------------------------------------------------------------------------------
def test_the_gradient_checks_relative_error_is_named_by_its_formula():
    a = np.array([1e-3, -2e-3, 0.0, 5e-6])
    n = np.array([1e-3 + 1e-9, -2e-3, 0.0, 4e-6])
    rel = max(abs(x - y) / max(abs(x), abs(y)) for x, y in zip(a, n) if max(abs(x), abs(y)) > 0)
    r = GradCheck("ab", np.array([2, 0, 1, 2]), 1.5, a, n, 1e-5, float(np.abs(a - n).max()), rel, 0.0, 3)
    assert f"{rel:.2g}" == "0.2"
    for width in (120, 80, 60):
        lines = text(render_check(CheckFigures("done", "ab", 10, r, "mlp_fc2[0, 0]"), width, 8, PAL))
        line = next(line for line in lines if "/ max(|a|, |n|)" in line)
        assert len(line.rstrip()) <= width and line.rstrip().endswith(("0.2", "(|a − n| / max(|a|, |n|))"))
        assert " 0.2" in line and ("relative error" in line or "max |a − n| / max(|a|, |n|) 0.2" in line)


def test_a_diverged_models_gradient_check_keeps_its_figures_short():
    a = np.array([1e170, np.inf, 0.0])
    n = np.array([np.nan, 1e170, 0.0])
    for loss in (1.7e180, np.inf, np.nan):
        r = GradCheck("ab", np.array([2, 0, 1, 2]), loss, a, n, 1e-5, np.nan, np.nan, np.nan, 0)
        for line in text(render_check(CheckFigures("done", "ab", 10, r, "wte[0, 0]"), 120, 8, PAL)):
            assert not re.search(r"\d{12,}", line), line  # no number runs on and on
            assert len(line.rstrip()) <= 120


# --- in the app --------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_views_2_and_4_in_the_running_app(size):
    app = DashboardApp(Run.new(Config(num_steps=40)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.press("2")
        await pilot.pause()
        lines = app.panel.active.text_lines()
        width = app.panel.active.content_size.width
        assert all(len(line) <= width for line in lines)
        shown = [line[1:4].strip() for line in lines if line[:1] in (" ", "▶") and line[1:4].strip() in LABELS]
        assert f"rows {shown[0]}–{shown[-1]} of 27" in lines[0] and "T 0.50" in lines[0] and "T 1" in lines[0]
        if size == (120, 40):
            assert "most left to learn" in lines[1] and all(RANK in line for line in lines[2:])
        await pilot.press("4")
        await pilot.pause()
        lines = app.panel.active.text_lines()
        assert lines[0].startswith("weights -") and "+" in lines[0]
        assert "condensed" in lines[0]
        assert lines[-1].startswith("abcdefghijklmnopqrstuvwxyz•")


@pytest.mark.parametrize("width, height", [(120, 11), (200, 30), (80, 9)])
def test_every_left_to_learn_figure_is_written_alike(width, height):
    """QA: one column read `0.005`, `0.0023`, `5.9e-04`, `7.0e-04`. Every figure of the view (the title's
    total, the column, the ranking) now has 4 decimals, as the screen's losses, and is the gap it stands for."""
    import re

    f = table()
    f = TableFigures(f.labels, f.model, f.data, f.gap * np.geomspace(1, 1e-3, V), f.token, f.temperature)
    lines = text(render_table(f, width, height, PAL))
    figures = [m for line in lines for m in re.findall(r"(?<![\w.])(?<!T )\d+\.\d+(?:e-?\d+)?", line)]  # not T 0.50
    assert figures
    for figure in figures:
        assert re.fullmatch(r"\d+\.\d{4}", figure), (figure, lines)
    assert f"{float(np.sum(f.gap)):.4f} nats" in lines[0] or "nats" not in lines[0]
