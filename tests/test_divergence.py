"""`--lr 5` diverges within a few dozen steps: the dashboard stays readable at every size."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import next_token_probs
from tui.app import make_app
from tui.console.flags import build_parser, make_run
from tui.plumbing.training_loop import SPEEDS, State


def screen_lines(app) -> list[str]:
    from rich.console import Console

    console = Console(width=app.size.width, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text().splitlines()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the engine's overflow while it diverges
@pytest.mark.parametrize("size", [(40, 12), (80, 24), (120, 40), (200, 60)])
async def test_lr_5_diverges_and_every_part_stays_readable(size):
    args = build_parser().parse_args(["--lr", "5"])
    app = make_app(make_run(args), args)
    app.loop.change_speed(len(SPEEDS))  # flat out
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        for _ in range(200):
            if app.shown_state == State.DIVERGED:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        assert app.shown_state == State.DIVERGED
        k = app.training.diverged_at + 1
        lines = screen_lines(app)
        assert len(lines) <= size[1] and all(len(line) <= size[0] for line in lines)
        # the plot keeps the steps before the divergence and marks where it happened
        rows = app.plot.rows()
        glyphs = {(ch, st) for row in rows for text, st in row for ch in text}
        assert ("┆", "diverged") in glyphs and any(st == "dots" for _, st in glyphs)
        key = "".join(text for text, _ in rows[0])
        assert "diverged" in key
        # every figure has a bounded width: no number runs over a line
        status = str(app.status_line.render())
        assert f"diverged at step {k}" in status or size[0] < 60
        for figure in re.findall(r"[-+0-9.e]{11,}", status):
            raise AssertionError(f"an unbounded figure on the status line: {figure}")
        # the note is on the screen, on its own row
        assert app.note_line.region.height == 1 and "diverged" in app.note
        assert any(line.strip().startswith("diverged: < starts again") for line in lines)  # the way out, in keys
        # the chart says so, on its first row, when the model's probabilities are not finite. Whether
        # they are after the divergence depends on the CPU's float path: each token is checked against
        # its own probabilities, so this holds whichever path this machine took
        chart = app.chart
        for token in range(app.training.dataset.vocab_size):
            app.token = token
            app.draw_chart()
            with np.errstate(all="ignore"):
                probs = next_token_probs(app.view_model, token, app.temperature)
            strips = chart.build_strips(*chart.content_size)
            assert len(strips) == chart.content_size.height >= 1
            if np.isfinite(probs).all():
                assert "not finite" not in "".join(s.text for s in strips)
            else:
                assert "not finite" in strips[0].text, (size, token)
                model = chart.get_component_rich_style("distribution-chart--model")
                assert not [seg for s in strips for seg in s if seg.style == model and seg.text.strip()]
