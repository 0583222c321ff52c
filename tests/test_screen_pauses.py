"""What keeps the screen's answers prompt in the real program: Textual's update rate set by the console
command, and the objects made at start set aside from the garbage collector (tui/plumbing/collector.py),
without keeping a replaced run in memory."""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

from helpers import until

import tui.app
from engine import Config, Run

ROOT = Path(__file__).resolve().parent.parent
READ_FPS = "import tui.console.main, sys; had = 'textual' in sys.modules; import textual.constants as c; " \
           "print(had, c.MAX_FPS)"


def _fps(env_value: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if env_value is not None:
        env["TEXTUAL_FPS"] = env_value
    out = subprocess.run([sys.executable, "-c", READ_FPS], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_console_command_has_textual_draw_up_to_240_times_a_second_unless_the_environment_says():
    assert _fps(None) == ["False", "240"]  # set before Textual is imported, which reads it once
    assert _fps("30") == ["False", "30"]


async def test_the_program_sets_its_start_aside_and_a_replaced_run_is_still_freed(monkeypatch):
    made = []
    monkeypatch.setattr(tui.app, "run_under_lifeline", lambda app: made.append(app) or 0)
    run = Run.new(Config(num_steps=1000))
    assert tui.app.run_dashboard(run, argparse.Namespace(save=None, data=None)) == 0
    app = made[0]
    first_run, first_model = weakref.ref(run), weakref.ref(run.model)
    del run
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: gc.get_freeze_count() > 0)
            await pilot.press("n")  # a new run with another seed: the first one is replaced
            await until(pilot, lambda: app.training is not None and app.training.config.seed != 42)
            await until(pilot, lambda: first_run() is None and first_model() is None)
            assert gc.get_freeze_count() > 0  # what lives is set aside again
            app.exit()
    finally:
        gc.unfreeze()
