"""The plot in the running app: a cursor by mouse and by keys that reads a column on the key line, the
smoothing keys, each kept run's colour shared by the plot and the runs view, and the key's colours
readable on a light theme."""

from __future__ import annotations

import re

import pytest
from textual.color import Color

from engine import Config, Run
from tests.helpers import until
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.views.runs import RunsView


def _app(steps: int = 300) -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=steps)), speed_index=SPEEDS.index(None))


def reads_a_column(line: str) -> bool:
    """A cursor's reading: its steps, the dots' low..high, the moving average and the whole-data loss."""
    return re.match(r"(steps )?\d+-\d+ ", line) is not None and all(g in line for g in ("•", "..", "⠒", "▀"))


def key_line(app: DashboardApp) -> str:
    return "".join(t for t, _ in app.plot.rows()[0])


async def finish(pilot, app) -> None:
    await pilot.press("space")
    await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=15)
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_mouse_over_a_column_reads_it_and_leaving_puts_the_key_back(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        key = key_line(app)
        lay = app.plot.layout_now()
        x, y = lay.geo.label_w + 10, 5
        await pilot.hover(app.plot, offset=(x, y))
        await until(pilot, lambda: app.plot.cursor == 10)
        line = key_line(app)
        assert reads_a_column(line), line
        grid = [[ch for t, _ in row for ch in t] for row in app.plot.rows()]
        assert any(grid[r][x] == "│" for r in range(2, 2 + lay.geo.rows))  # the mark down the column
        await pilot.hover("#status")
        await until(pilot, lambda: app.plot.cursor is None)
        assert key_line(app) == key


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_keys_move_the_cursor_and_escape_hides_it(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)
        cols = app.plot.layout_now().cols
        await pilot.press("comma")
        await until(pilot, lambda: app.plot.cursor is not None)
        assert app.plot.cursor == cols - 1  # from the newest column
        await pilot.press("comma", "comma", "slash")
        await until(pilot, lambda: app.plot.cursor == cols - 2)
        assert reads_a_column(key_line(app))
        await pilot.press("escape")
        await until(pilot, lambda: app.plot.cursor is None)
        assert not reads_a_column(key_line(app))
        await pilot.press("question_mark", "escape")  # escape still closes the help
        await until(pilot, lambda: not app.help_panel_open)


async def test_the_smoothing_keys_recompute_the_line_and_the_key_shows_the_weight():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        assert "0.98" in key_line(app)
        await pilot.press("right_curly_bracket")
        await until(pilot, lambda: app.training.history.weight == 0.99)
        losses = app.training.history.losses.tolist()
        s, slow = 0.0, []
        for i, x in enumerate(losses):
            s = 0.99 * s + 0.01 * x
            slow.append(s / (1 - 0.99 ** (i + 1)))
        assert app.training.history.ema.tolist() == pytest.approx(slow, rel=1e-10)
        await until(pilot, lambda: "0.99" in key_line(app))
        assert "smoothing 0.99" in str(app.note_line.content)
        await pilot.press("left_curly_bracket", "left_curly_bracket")  # 0.99 -> 0.98 -> 0.95
        await until(pilot, lambda: app.training.history.weight == 0.95)
        await pilot.press("n")  # the next run (a new seed: the old one is kept) keeps the smoothing
        await until(pilot, lambda: app.shown_step == 0 and len(app.runs.list()) == 1)
        assert app.training.history.weight == 0.95


async def test_a_kept_run_has_one_colour_in_the_plot_and_the_runs_view():
    app = _app(200)
    async with app.run_test(size=(120, 40)) as pilot:
        await finish(pilot, app)
        await pilot.press("n")
        await until(pilot, lambda: len(app.runs.list()) == 1 and app.shown_step == 0)
        await finish(pilot, app)
        await pilot.press("n")
        await until(pilot, lambda: len(app.runs.list()) == 2 and app.shown_step == 0)
        await pilot.press("7")
        await pilot.pause(0.2)
        plot_styles = app.plot.styles_by_name()
        view = app.query_one(RunsView)
        rows = view.rows()
        colours = {}
        for ghost in app.experiments.ghosts():
            seg = next(s for row in rows for s in row if s.text.strip() == ghost.label)
            colours[ghost.label] = seg.style.color
            assert seg.style.color == plot_styles[ghost.style].color, ghost.label
        assert len(set(colours.values())) == 2  # two runs, two colours


def _contrast(a: Color, b: Color) -> float:
    la, lb = a.brightness, b.brightness
    return abs(la - lb)


async def test_the_keys_orange_and_the_floors_green_are_readable_on_a_light_theme():
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = "textual-light"
        await pilot.pause(0.2)
        styles = app.plot.styles_by_name()
        background = Color.from_rich_color(app.plot.rich_style.bgcolor)
        for name in ("exact", "floor", "guess"):
            colour = Color.from_rich_color(styles[name].color)
            assert _contrast(colour, background) >= 0.35, (name, colour, background)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_in_the_app_the_axis_is_exact_and_keeping_a_run_changes_neither_width_nor_labels(size):
    app = _app(400)
    async with app.run_test(size=size) as pilot:
        await finish(pilot, app)

        def frame() -> tuple[list[str], int, int]:
            rows = ["".join(t for t, _ in row) for row in app.plot.rows()]
            top = next(i for i, r in enumerate(rows) if "┌" in r)
            return rows, top, rows[top].index("┐")

        rows, top, right = frame()
        axis = app.plot.layout_now().axis
        c0 = rows[top].index("┌") + 1
        labelled = [(float(r[: c0 - 1]), i - top - 1) for i, r in enumerate(rows) if i > top and r[c0 - 1] == "┤"]
        assert len(labelled) >= 2 and all(axis.row(v) == row for v, row in labelled)
        floor_rows = [i - top - 1 for i, r in enumerate(rows) if i > top and "floor" in r[right:]]  # the margin
        assert floor_rows == [axis.row(app.training.reference.floor)]
        y_labels, x_labels = [r[:c0] for r in rows[top:]], rows[-2]  # (the key above the frame may change)
        await pilot.press("n")
        await until(pilot, lambda: len(app.runs.list()) == 1 and app.shown_step == 0)
        await finish(pilot, app)
        rows2, top2, right2 = frame()
        assert (top2, right2) == (top, right)  # the plot does not narrow when the first run is kept
        assert [r[:c0] for r in rows2[top:]] == y_labels and rows2[-2] == x_labels  # nor do its labels change
        assert any("seed 42" in r[right:] for r in rows2)  # the kept run's label, whole


@pytest.mark.parametrize("steps, taken", [(7, 7), (5, 3), (12, 12)])
def test_in_a_run_shorter_than_the_plot_no_column_of_a_step_taken_reads_not_reached(steps, taken):
    """QA round 3: in a run of 7 steps on 64 columns the columns between two steps read `steps 6  not
    reached yet` after the run had finished, and paused at step 3 of 5 the moving average ran on to just
    before step 4's column, a step ahead of the run. A column with no step of its own now reads the step
    before it ('step 3', one step), and the lines end at the last step taken."""
    import re

    from plot_grid import cells, figures, frame_box, text

    from engine import Config, Run
    from tui.widgets.loss_plot import PlotState, render_plot

    run = Run.new(Config(num_steps=steps))
    run.track_exact()
    for _, _ in zip(range(taken), run.steps()):
        pass
    fig = figures(run)
    grid = cells(render_plot(fig, PlotState.for_run(fig), 84, 23))
    top, bottom, left, right = frame_box(grid)
    named = []
    for c in range(right - left):
        line = text(cells(render_plot(fig, PlotState.for_run(fig), 84, 23, cursor=c)))[0]
        if line.startswith("before step 1"):  # left of step 1's column: no step there
            assert not named and "not reached" not in line, line
            continue
        m = re.match(r"steps? (\d+)(?:-(\d+))?", line)
        assert m, line
        last = int(m.group(2) or m.group(1))
        if "not reached yet" in line:
            assert last > taken, line
        else:
            assert last <= taken and line.startswith("step " if m.group(2) is None else "steps "), line
            named.append((c, last))
    assert max(step for _, step in named) == taken
    ema_cols = {c - left for r in range(top + 1, bottom) for c in range(left, right)
                if grid[r][c][1] in ("ema", "both")}
    first_of_last = min(c for c, step in named if step == taken)
    assert max(ema_cols) <= first_of_last + 1, (sorted(ema_cols)[-3:], first_of_last)
