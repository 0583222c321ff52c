"""The lower panel's six views, driven through Textual's Pilot: what each shows, at 80x24, 120x40 and
200x60, while training, paused, finished and diverged; switching by keys and by clicking tabs; and
that only the view on show is computed and drawn."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest
from rich.segment import Segment

from engine import Config, Model, Run, numerical_grad
from engine.inspect import dead_units, forward_trace, gradient_check, rows_touched, top_k
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS, State
from tui.views.gradcheck import GradCheckView
from tui.views.panel import IDS, TabBar
from tui.views.view import LEVELS, View, fmt
from tui.views.weights import UPDATE, WEIGHTS, WeightsView
from tui.widgets.distribution import DistributionChart

FAST = SPEEDS.index(None)
SIZES = [(80, 24), (120, 40), (200, 60)]
DEAD = [3, 40]  # hidden units made dead before training: every embedding's first coordinate is 0.3, only
# these units see it (weight -5), so their pre-activation is -1.5 for every token: ReLU 0 and no gradient
# (not a row of zeros: a pre-activation of exactly 0 is the ReLU's kink, where the numerical gradient
# is not the analytic one)


def _app(steps: int = 10**6, lr: float | None = None, docs: list[str] | None = None, dead: bool = True,
         speed: int = FAST) -> DashboardApp:
    config = Config(num_steps=steps) if lr is None else Config(num_steps=steps, learning_rate=lr)
    run = Run.new(config, docs)
    if dead:
        run.model.wte[:, 0] = 0.3
        run.model.fc1[:, 0] = 0.0
        run.model.fc1[DEAD] = 0.0
        run.model.fc1[DEAD, 0] = -5.0
    return DashboardApp(run, speed_index=speed)


async def until(pilot, condition: Callable[[], bool], timeout: float = 10.0, why: Callable[[], object] = str) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"the condition did not hold in time {why()}")


def views(app: DashboardApp) -> dict[int, View]:
    return {n: v for n, v in app.panel.views.items() if isinstance(v, View)}


def text(app: DashboardApp, n: int) -> str:
    return "\n".join(views(app)[n].text_lines())


async def check_done(pilot, app: DashboardApp) -> GradCheckView:
    check = views(app)[6]
    assert isinstance(check, GradCheckView)
    await until(pilot, lambda: not check.running and check.checked is not None, timeout=20)
    await pilot.pause(0.05)
    return check


def cell_styles(row: list[Segment]) -> list[object]:
    """One style per terminal cell of a rendered row."""
    return [seg.style for seg in row for _ in range(len(seg.text))]


# --- what each view shows, at each size, on a paused run -----------------------------------------
@pytest.mark.parametrize("size", SIZES)
async def test_every_view_shows_its_figures_at_every_size(size):
    app = _app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("full_stop", "full_stop", "full_stop")  # a few steps: the dead units stay dead
        await until(pilot, lambda: app.shown_step == 3 and app.shown_state == State.PAUSED)
        ds, height = app.training.dataset, app.panel.switcher.size.height
        assert height >= (5 if size == (80, 24) else 9)

        await pilot.press("2")  # the table: the picked token's row is highlighted, and follows the arrows
        for _ in range(3):
            lines = views(app)[2].text_lines()[:height]
            picked = [line for line in lines if line.startswith("▶")]
            label = "BOS" if app.token == ds.bos else ds.uchars[app.token]
            assert len(picked) == 1 and picked[0][1:].split()[0] == label
            await pilot.press("right")
            await pilot.pause()

        await pilot.press("3")  # the embeddings: every token's character is on the map
        shown = "\n".join(views(app)[3].text_lines()[1:height])
        assert all(ch in shown for ch in ds.uchars) and "•" in shown  # • is BOS

        await pilot.press("4")  # the weights: the dead units are found and marked
        weights = views(app)[4]
        assert isinstance(weights, WeightsView) and weights.mode == WEIGHTS
        dead = np.flatnonzero(dead_units(app.view_model))
        assert np.flatnonzero(weights.figures.dead).tolist() == dead.tolist() and set(DEAD) <= set(dead)
        assert len(dead) < 10  # the rest of the model lives
        lines = weights.text_lines()[:height]
        assert f"{len(dead)} of 64 hidden units dead" in lines[0]
        assert lines[-1].count("×") >= 2  # under fc1 and fc2, pooled or not

        await pilot.press("5")  # the forward pass of the picked token, its likeliest next tokens labelled
        lines = views(app)[5].text_lines()[:height]
        label = "BOS" if app.token == ds.bos else f"'{ds.uchars[app.token]}'"
        assert any(line.startswith(f"{label} wte") for line in lines)
        trace = forward_trace(app.view_model, app.token, app.temperature)
        if size == (80, 24):  # 5 lines: the header (it explains the ·) and 4 stages; it names the one left out
            assert "1 row not shown: probs" in lines[0] and not any(line.startswith("probs") for line in lines)
            best = int(top_k(trace.logits, 1)[0])
            logits = next(line for line in lines if line.startswith("logits"))
            assert f" {ds.uchars[best] if best != ds.bos else 'BOS'} {trace.logits[best]:.1f}" in logits
        else:
            best = int(top_k(trace.probs, 1)[0])
            probs = next(line for line in lines if line.startswith("probs"))
            assert f" {ds.uchars[best] if best != ds.bos else 'BOS'} {trace.probs[best]:.2f}" in probs
        zero_line = next(line for line in lines if line.startswith("ReLU"))
        assert zero_line.count("·") == int(trace.zero.sum()) >= len(DEAD)  # the cut units are marked

        await pilot.press("c")  # the gradient check, on the current step's name
        check = await check_done(pilot, app)
        r = check.figures.result
        lines = check.text_lines()[:height]
        assert f"on '{app.loop.snapshot.record.doc}'" in lines[0]
        assert any(f"|  {fmt(r.max_abs_diff)}" in line for line in lines) and 0 < r.max_abs_diff < 1e-6
        for line in lines:
            assert len(line) <= app.panel.switcher.size.width


# --- switching -------------------------------------------------------------------------------------
async def test_keys_and_tab_clicks_switch_views_and_hidden_views_cost_nothing(monkeypatch):
    chart_builds = []
    original = DistributionChart.build_rows  # the chart's redraw (its rows, before they become Strips)
    monkeypatch.setattr(DistributionChart, "build_rows",
                        lambda self, w, h: chart_builds.append(1) or original(self, w, h))
    app = _app(speed=SPEEDS.index(3_000))
    async with app.run_test(size=(120, 40)) as pilot:
        vs = views(app)
        assert app.panel.current == 1 and all(v.computes == 0 and v.builds == 0 for v in vs.values())
        for n in range(2, 7):
            await pilot.press(str(n))
            await pilot.pause()
            assert app.panel.current == n and app.panel.switcher.current == IDS[n]
            assert app.panel.views[n].display and not any(app.panel.views[k].display for k in IDS if k != n)
            assert vs[n].computes == 1 and vs[n].builds == 1  # drawn at once
        await pilot.press("2")
        await pilot.pause()
        before = {n: (v.computes, v.builds) for n, v in vs.items()}
        charts, frames = len(chart_builds), app.frames
        await pilot.press("space")  # (Pilot's press waits ~2 s for an idle screen while training runs)
        await until(pilot, lambda: app.shown_step > 500 and app.frames > frames + 5)
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.PAUSED)
        await pilot.pause(0.2)
        assert vs[2].computes > before[2][0] + 5 and vs[2].builds > before[2][1] + 5  # the table follows
        assert vs[2].computes - before[2][0] <= app.frames - frames + 2  # at most once a frame (+ the keys)
        for n in (3, 4, 5, 6):
            assert (vs[n].computes, vs[n].builds) == before[n]  # hidden: not computed, not drawn
        assert len(chart_builds) == charts
        paused = vs[2].computes, vs[2].builds
        await pilot.pause(0.5)
        assert (vs[2].computes, vs[2].builds) == paused  # nothing changed: nothing recomputed or redrawn

        tabs = app.query_one(TabBar)
        for n in (5, 3, 1, 6):  # a click on a tab, as the keys
            start, end = tabs.spans[n]
            await pilot.click(TabBar, offset=((start + end) // 2, 0))
            await pilot.pause()
            assert app.panel.current == n and app.panel.switcher.current == IDS[n]
        assert len(chart_builds) > charts  # view 1 is drawn again when shown


async def test_the_views_follow_the_theme():
    app = _app(steps=50)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        weights = views(app)[4]
        dark = weights.palette.colours[LEVELS]  # the neutral colour: the panel's
        app.theme = "textual-light"
        await pilot.pause()
        light = weights.palette.colours[LEVELS]
        assert dark != light and light.brightness > 0.5 > dark.brightness
        assert weights.palette.colours[-1] != weights.palette.colours[0]  # two ends of a diverging scale


# --- the update and the gradient check -------------------------------------------------------------
async def test_the_update_moves_only_the_wte_rows_of_the_steps_name():
    app = _app(speed=SPEEDS.index(300))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 50)
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.PAUSED)
        await pilot.press("u")
        await pilot.pause()
        weights = views(app)[4]
        assert isinstance(weights, WeightsView) and app.panel.current == 4 and weights.mode == UPDATE
        ds, record = app.training.dataset, app.loop.snapshot.record
        touched = rows_touched(ds.encode(record.doc), ds.vocab_size)
        wte_t = weights.figures.blocks[0][1]  # (E, V): one column per token
        assert np.array_equal(np.any(wte_t != 0, axis=0), touched)
        assert f"update of step {record.step + 1} on '{record.doc}'" in weights.text_lines()[0]
        neutral = weights.palette.pair(LEVELS, LEVELS)
        e = app.view_model.n_embd  # wte's E rows: E / 2 lines under the title and the names (not pooled)
        rows = weights.rows()[2 : 2 + (e + 1) // 2]
        drawn = np.array([cell_styles(row)[: ds.vocab_size] for row in rows], dtype=object)
        coloured = np.array([any(s is not neutral for s in drawn[:, t]) for t in range(ds.vocab_size)])
        assert coloured.any() and not (coloured & ~touched).any()  # only the name's letters (and BOS)
        await pilot.press("u")
        await pilot.pause()
        assert weights.mode == WEIGHTS and weights.text_lines()[0].startswith("weights")


async def test_gradient_check_runs_off_the_ui_thread_and_matches_the_engine():
    app = _app(speed=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 20)
        app.action_check_gradient()  # what c does, while training runs; no await: the result cannot be in yet
        check = views(app)[6]
        assert isinstance(check, GradCheckView)
        assert app.panel.current == 6 and check.running and "running on" in check.text_lines(118, 9)[0]
        check = await check_done(pilot, app)
        assert check.checked_on_thread not in (None, threading.main_thread().ident)
        theta, tokens = check.checked
        r = check.figures.result
        model = Model(app.view_model.vocab_size, app.view_model.n_embd, app.view_model.hidden, theta)
        again = gradient_check(model, tokens, r.doc)
        assert r.max_abs_diff == again.max_abs_diff and r.max_rel_err == again.max_rel_err
        # the page's own loop over the parameters gives the same numerical gradient (a ReLU kink within
        # eps of a pre-activation can make both differ from the analytic one: that is the check's point)
        np.testing.assert_allclose(r.numerical, numerical_grad(model.copy(), tokens), rtol=0, atol=1e-9)
        assert app.training.dataset.encode(r.doc) == tokens.tolist()
        assert app.shown_state == State.RUNNING


async def test_names_are_shown_as_text_never_as_markup():
    app = _app(steps=100, docs=["[b]an[/b]", "bo[red]b"], dead=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 1)
        doc = app.loop.snapshot.record.doc
        await pilot.press("c")
        check = await check_done(pilot, app)
        assert f"'{doc}'" in check.text_lines()[0]
        await pilot.press("u")
        await pilot.pause()
        assert f"'{doc}'" in text(app, 4)
        await pilot.press("3")
        await pilot.pause()
        assert "[" in text(app, 3) and "/" in text(app, 3)


# --- every state -----------------------------------------------------------------------------------
async def all_views_draw(pilot, app: DashboardApp) -> dict[int, str]:
    out = {}
    for n in range(2, 7):
        await app.run_action(f"view({n})")  # not Pilot's press: it waits ~2 s for idle while training runs
        await pilot.pause(0.05)  # (and a pause without a delay waits ~1 s for an idle CPU)
        out[n] = text(app, n)
        assert out[n].strip()
    await app.run_action("check_gradient")
    await check_done(pilot, app)
    out[6] = text(app, 6)
    return out


async def test_every_view_while_training_and_finished():
    app = _app(steps=3000, speed=SPEEDS.index(1_000))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.run_action("play")
        await until(pilot, lambda: app.shown_step > 10)
        shown = await all_views_draw(pilot, app)
        assert app.shown_state == State.RUNNING and app.shown_step < 3000
        assert "max |analytic − numerical|" in shown[6]
        await until(pilot, lambda: app.shown_state == State.FINISHED, timeout=20)
        shown = await all_views_draw(pilot, app)
        assert "at step 3,000" in shown[6] and "3,184 parameters" in shown[6]


async def test_every_view_at_step_zero_and_after_a_reset():
    app = _app(steps=300)
    async with app.run_test(size=(80, 24)) as pilot:
        shown = await all_views_draw(pilot, app)
        assert "no step taken yet" not in shown[4]
        await pilot.press("u")
        await pilot.pause()
        assert "no step taken yet" in text(app, 4)
        await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 1)
        assert "update of step 1" in text(app, 4)
        await pilot.press("r")
        await until(pilot, lambda: app.shown_step == 0)
        await pilot.pause()
        assert "no step taken yet" in text(app, 4)
        hidden = "\n".join(views(app)[6].text_lines(78, 5))
        assert "max |analytic" in hidden  # hidden: the last run's check, not yet looked at again
        await pilot.press("6")
        assert "c runs it on" in text(app, 6) and "max |analytic" not in text(app, 6)  # a new run


async def test_every_view_when_diverged():
    app = _app(steps=1000, lr=1e150, dead=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.DIVERGED)
        shown = await all_views_draw(pilot, app)
        assert app.shown_state == State.DIVERGED and app.is_running
        assert "gradient check" in shown[6]
        await pilot.press("u")
        await pilot.pause()
        assert text(app, 4).strip()
