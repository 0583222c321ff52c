"""Hostile input, faults and long runs: nothing crashes, nothing saved is lost."""

from __future__ import annotations

import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import until
from textual import events

from engine import Config, Run, checkpoint
from tui.app import T_MAX, T_MIN, DashboardApp
from tui.plumbing.training_loop import SPEEDS, State

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["space", "full_stop", "r", "plus", "minus", "left", "right", "g", "left_square_bracket",
        "right_square_bracket", "l", "question_mark", "escape", "s", "x", "up", "down", "tab", "enter"]


# --- bad input, in the dashboard ---------------------------------------------------------------
@pytest.mark.parametrize("args", [["--steps", "0"], ["--data", "/nonexistent"], ["--lr", "nan"],
                                  ["--load", "/etc/hostname"], ["--temperature", "0"]])
def test_the_dashboard_refuses_bad_input_before_taking_the_terminal(args):
    out = subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 2
    assert out.stdout == "" and "\x1b" not in out.stderr  # no screen was drawn
    assert len(out.stderr.strip().splitlines()) == 1 and "error:" in out.stderr


def test_a_million_names_load_and_train(tmp_path):
    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    lengths = rng.integers(3, 10, size=1_000_000)
    chars = letters[rng.integers(0, 26, size=int(lengths.sum()))]
    ends = np.cumsum(lengths)
    blob = np.insert(chars, ends, ord("\n")).tobytes()
    path = tmp_path / "million.txt"
    path.write_bytes(blob)
    run = Run.new(Config(num_steps=100), path)
    assert len(run.dataset) == 1_000_000
    assert all(math.isfinite(r.loss) for r in run.steps())


# --- divergence ----------------------------------------------------------------------------------
async def test_divergence_in_the_dashboard_says_so_and_saves_finite_weights(tmp_path):
    path = tmp_path / "c.npz"
    app = DashboardApp(Run.new(Config(num_steps=1000, learning_rate=1e150)), save_path=str(path),
                       speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.DIVERGED)
        await pilot.pause(0.2)
        k = app.training.diverged_at
        assert f"diverged at step {k + 1}" in str(app.status_line.render())
        await pilot.press("s")
        await until(pilot, lambda: "saved" in app.note)
        await pilot.press("space")  # nothing to resume
        assert app.shown_state == State.DIVERGED
    ck = checkpoint.load(path)
    assert np.isfinite(ck.theta).all() and ck.step == k


# --- saving ----------------------------------------------------------------------------------------
SAVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np
    from engine import Config, LossHistory, Run
    run = Run.new(Config(num_steps=10**7))  # the longest run allowed (engine.config.MAX_STEPS)
    losses = np.random.default_rng(0).random(2_000_000) + 2.0
    run.history, run.step = LossHistory(losses), len(losses)  # a 16 MB history: each save takes a while
    print("ready", flush=True)
    while True:
        run.model.theta *= 1.0000001
        run.save(sys.argv[1])
""")


def test_killing_the_process_mid_save_never_breaks_the_previous_checkpoint(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(SAVER.format(root=str(ROOT)))
    target = tmp_path / "c.npz"
    rng = random.Random(1)
    steps_seen = []
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, str(script), str(target)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))  # somewhere in the middle of a save, most of the time
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if target.exists():
            steps_seen.append(checkpoint.load(target).step)  # always loads: never half-written
    assert steps_seen and all(s == 2_000_000 for s in steps_seen)


async def test_saving_where_it_cannot_be_written_shows_a_message_and_training_goes_on(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app = DashboardApp(Run.new(Config(num_steps=100_000)), save_path=str(blocker / "c.npz"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_step > 5)
        await pilot.press("s")
        await until(pilot, lambda: "not saved" in app.note)
        assert "not saved" in str(app.note_line.render())
        before = app.shown_step
        await until(pilot, lambda: app.shown_step > before + 5)
        assert app.shown_state == State.RUNNING


# --- quitting at any moment --------------------------------------------------------------------
@pytest.mark.parametrize("moment", ["idle", "running", "paused", "saving", "help"])
async def test_quitting_at_any_moment_stops_everything(tmp_path, moment):
    app = DashboardApp(Run.new(Config(num_steps=10**7)), save_path=str(tmp_path / "c.npz"),
                       speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        if moment in ("running", "paused", "saving"):
            await pilot.press("space")
            await until(pilot, lambda: app.shown_step > 100)
        if moment == "paused":
            await pilot.press("space")
        if moment == "saving":
            await pilot.press("s")
        if moment == "help":
            await pilot.press("question_mark")
        await pilot.press("q")
    assert app.return_code == 0
    assert app.loop.stopped.wait(5)  # the training thread has returned


# --- under load --------------------------------------------------------------------------------
async def test_monkey_ten_thousand_keys_and_resizes(tmp_path):
    """Random keys (sent as fast as a driver can deliver them) and resizes: nothing raises and the
    state stays consistent throughout."""
    app = DashboardApp(Run.new(Config(num_steps=3000)), save_path=str(tmp_path / "m.npz"))
    rng = random.Random(2024)
    async with app.run_test(size=(100, 30)) as pilot:
        run, last_step = app.training, 0
        for i in range(int(os.environ.get("MONKEY_N", "10000"))):
            if rng.random() < 0.005:
                await pilot.resize_terminal(rng.randint(40, 300), rng.randint(12, 100))
            else:
                key = rng.choice(KEYS)
                app._driver.send_message(events.Key(key, None))
            if i % 100 == 0:
                if os.environ.get("MONKEY_DEBUG"):
                    print(i, app.training.step, app.screen.__class__.__name__, flush=True)
                await pilot.pause()
                if app.training is not run:  # a reset: a fresh run starts at 0
                    run, last_step = app.training, 0
                assert run.step >= last_step
                last_step = run.step
                assert T_MIN <= app.temperature <= T_MAX
                assert 0 <= app.token < run.dataset.vocab_size
                assert app.loop.state != State.FINISHED or run.step == run.config.num_steps
        await pilot.press("escape")
        assert not app.help_panel.visible  # escape still closes the help
        await pilot.press("q")
    assert app.return_code == 0


async def test_terminal_sizes_render_in_the_app():
    """The four edges of 40x12 .. 300x100 every few cells, corners and a spread between, through
    Textual's own layout, with data on the plot (and its log axis for half of them)."""
    app = DashboardApp(Run.new(Config(num_steps=500)), speed_index=SPEEDS.index(None))
    sizes = [(w, h) for w in range(40, 301, 13) for h in (12, 100)]
    sizes += [(w, h) for h in range(12, 101, 8) for w in (40, 300)]
    rng = random.Random(7)
    sizes += [(rng.randint(40, 300), rng.randint(12, 100)) for _ in range(30)]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        for i, size in enumerate(sizes):
            if i == len(sizes) // 2:
                await pilot.press("l")
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert app.size == size
            assert "finished" in str(app.status_line.render())
            assert app.screen.max_scroll_y == 0 and app.screen.max_scroll_x == 0, size  # nothing scrolls
            assert app.key_bar.region.bottom == size[1], size  # the key bar is the last row, never cut off


async def test_every_terminal_size_draws_the_plot_and_the_chart():
    """Every width 40..300 and every height 12..100 (the dashboard's parts at those sizes: the plot
    and the chart are the widgets whose drawing depends on the size)."""
    app = DashboardApp(Run.new(Config(num_steps=300)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        plot, chart = app.plot, app.chart
        for gap_view in (False, True):
            app.gap_view = gap_view
            app.draw_plot()
            for w in range(40, 301):
                h = 12 + (w * 7) % 89  # every width, its height varying over the whole range
                strips = plot.build_strips(w, h)
                assert len(strips) == h and all(s.cell_length == w for s in strips)
                assert len(chart.build_strips(w, h)) == h
            for h in range(12, 101):
                w = 40 + (h * 37) % 261
                strips = plot.build_strips(w, h)
                assert len(strips) == h and all(s.cell_length == w for s in strips)


def test_a_shorter_soak_keeps_memory_bounded():
    """200,000 headless steps: the process grows by the loss history and little else
    (bench/soak.py runs the full 1,000,000)."""
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from engine import Config, Run
        def rss():
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        run = Run.new(Config(num_steps=200_000))
        gen = run.steps()
        for _ in range(10_000):
            next(gen)
        before = rss()
        for _ in gen:
            pass
        print(rss() - before)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    growth_mb = float(out.stdout.strip())
    # the history holds two float64 arrays of capacity 262,144 (4 MiB): allow that and little more
    assert growth_mb < 15, f"grew {growth_mb:.1f} MB over 190,000 steps"
