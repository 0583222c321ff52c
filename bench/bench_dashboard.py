"""The dashboard's speed figures, measured in one run (figures, not tests).

    python bench/bench_dashboard.py [--seconds 8] [--soak-steps 1000000] [--skip-tmux] [--views] [--ghosts 8]
                                    [--race] [--growth-steps 10000000] [--issue] [--slices 20] [--slice 0.4]
                                    [--cpu N]

1. training throughput in the app at the fastest setting vs the headless engine, and frames/s;
2. how long a key press takes to show its effect while training runs flat out;
3. after --soak-steps steps in the app: the cost of a frame, and how much the process has grown;
4. from the command to the first drawn frame, in a real terminal (tmux);
5. with --views, for each view of the lower panel (keys 1..8): the app's fastest steps/s as a fraction
   of headless with that view on show (alternating slices), and the cost of a frame with it after
   --soak-steps steps;
6. with --ghosts N, also flat out with N earlier runs kept on the plot (ghost lines);
7. with --race, a race of 8 seeds flat out in the app vs the same race headless (bench_race.py's);
8. with --growth-steps N (N > 0), how much the process grows over N steps flat out (takes long);
9. --issue: all of the above as issue 14 asks (views, 8 kept runs, a race of 8, 10,000,000 steps).

Each ratio is measured in alternating slices: the app flat out for a slice, then, while it is paused, a
headless run of the same settings for a slice, --slices times, so that both see the same load on this
shared machine (a headless figure measured once before an 8 s run of the app swung by 20% and more from
the app's); both on one CPU (--cpu: this machine's two CPUs differ in speed from moment to moment; only
for the ratios). Beside each: the screen's own thread time per frame drawn (CPU, ms), the time the
screen takes from the training (they share the GIL), which a loaded machine does not distort much. The
last lines say, for each of issue 14's targets, whether this run met it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from soak import rss_mb  # noqa: E402  (bench/ is the script's folder, first on sys.path)

import tui.console.main  # noqa: E402, F401  (the console command's settings, e.g. Textual's update rate, first)
from engine import Config, Run  # noqa: E402
from engine.race import Race  # noqa: E402
from tui.app import DashboardApp  # noqa: E402
from tui.plumbing.training_loop import SPEEDS, State  # noqa: E402
from tui.views.view import View  # noqa: E402
from tui.widgets.loss_plot import LossPlot  # noqa: E402

VIEW_NAMES = {1: "next token", 2: "table", 3: "embeddings", 4: "weights", 5: "forward pass", 6: "gradient check",
              7: "runs", 8: "race (none)"}

FAST = SPEEDS.index(None)


def program_app(run: Run | Race, **kwargs) -> DashboardApp:  # type: ignore[no-untyped-def]
    """The app as the console command makes it (its collector on: tui/plumbing/collector.py)."""
    app = DashboardApp(run, **kwargs)
    app.collector.wanted = True
    return app


def measured(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run(coroutine), then what its app set aside given back to the collector (the next app
    starts from the same heap)."""
    try:
        return asyncio.run(coroutine)
    finally:
        gc.unfreeze()
        gc.collect()


def race_of_8(num_steps: int) -> Race:
    """bench_race.py's race of 8 seeds (its --dashboard's), on the embedded names."""
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_race  # noqa: PLC0415 (a sibling script)

    return Race.new(bench_race.variants("seed", 8, num_steps), Run.new(Config()).original_docs())


class OneCpu:
    """`with OneCpu(cpu):` this process (and the threads it starts meanwhile) on one CPU, also a terminal's
    app started meanwhile (taskset): the app and the headless run it is compared with then run on the same
    CPU. On this shared machine the two CPUs differ in speed at the same moment (one stepped 47,000 steps/s
    while the other stepped 29,000), and a thread the system moves between them changes speed with it.
    Only for the ratios: a key's latency or the first frame is measured on any CPU, as a person runs it
    (on one CPU, the bench's own capture-pane calls would queue with the app). cpu -1: not pinned."""

    def __init__(self, cpu: int | None):
        can = hasattr(os, "sched_setaffinity") and cpu != -1
        self.allowed = os.sched_getaffinity(0) if can else set()
        self.cpu = (min(self.allowed) if cpu is None else cpu) if can else None

    def __enter__(self) -> OneCpu:
        if self.cpu is not None:
            os.sched_setaffinity(0, {self.cpu})
            PINNED.append(self.cpu)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cpu is not None:
            PINNED.remove(self.cpu)
            os.sched_setaffinity(0, self.allowed)


PINNED: list[int] = []  # the CPU the bench runs on now (OneCpu), for a terminal's app started meanwhile

RUN_FOR = 1.4  # seconds the terminal's app runs in a slice: its second 0.5 s window of steps/s is on screen then


def headless_slice(gen: Iterator[object], seconds: float) -> tuple[int, float]:
    """Steps of `gen` for about `seconds`: (steps taken, seconds taken)."""
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(200):
            next(gen)
        steps += 200
    return steps, time.perf_counter() - t0


def headless_rate(seconds: float) -> float:
    run = Run.new(Config(num_steps=10**7))  # the longest run allowed (engine.config.MAX_STEPS)
    gen, n = run.steps(), 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(1000):
            next(gen)
        n += 1000
    return n / (time.perf_counter() - t0)


def every_line(widget) -> None:  # type: ignore[no-untyped-def]
    """Every line of `widget` as the screen asks for them: built then if the frame did not build them
    already (so that a forced frame costs the same work whichever of the two a version of the app does)."""
    for y in range(widget.size.height):
        widget.render_line(y)


class Timed:
    """Wraps LossPlot.build_rows (the plot's redraw, the costliest part of a frame) to time it."""

    def __init__(self) -> None:
        self.costs: list[float] = []
        name = "build_rows" if hasattr(LossPlot, "build_rows") else "build_strips"  # (before build_rows existed)
        original = getattr(LossPlot, name)

        def render(plot: LossPlot, *args):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            out = original(plot, *args)
            self.costs.append(time.perf_counter() - t0)
            return out

        setattr(LossPlot, name, render)


def kept_runs(app: DashboardApp, count: int, num_steps: int) -> None:
    """`count` earlier runs on the plot (ghost lines), each 20,000 steps into a run as long as this one."""
    for i in range(count):
        run = Run.new(Config(num_steps=num_steps, learning_rate=1.0 / (i + 2)))
        run.track_exact()
        gen = run.steps()
        for _ in range(20_000):
            next(gen)
        app.runs.keep(run, None, f"bench {i}")


async def in_app(seconds: float, soak_steps: int, timed: Timed, ghosts: int = 0) -> dict[str, float]:
    app = program_app(Run.new(Config(num_steps=soak_steps)), speed_index=FAST)
    kept_runs(app, ghosts, soak_steps)
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        rss0 = rss_mb()
        await pilot.press("space")
        await pilot.pause(1.0)
        s0, f0, t0, c0 = app.training.step, app.frames_drawn, time.perf_counter(), time.thread_time()
        n0 = len(timed.costs)
        await asyncio.sleep(seconds)
        dt = time.perf_counter() - t0
        out["app_rate"] = (app.training.step - s0) / dt
        out["fps"] = (app.frames_drawn - f0) / dt
        out["ui_ms"] = (time.thread_time() - c0) / max(app.frames_drawn - f0, 1) * 1e3
        costs = timed.costs[n0:]
        out["plot_ms_median"] = statistics.median(costs) * 1e3 if costs else float("nan")
        while app.shown_state != State.FINISHED:
            await asyncio.sleep(0.5)
        out["soak_steps"] = app.training.step
        out["soak_growth_mb"] = rss_mb() - rss0
        frame = []
        for _ in range(10):
            t0 = time.perf_counter()
            app.refresh_view(force=True)
            every_line(app.plot)  # as the screen asks for them: built now if refresh_view did not build them
            frame.append(time.perf_counter() - t0)
        out["frame_ms_after_soak"] = statistics.median(frame) * 1e3
    return out


async def view_frames_after_soak(soak_steps: int, size: tuple[int, int] = (120, 40)) -> dict[int, float]:
    """After `soak_steps` steps: a forced frame (refresh_view + the view's figures and rows) per view, ms."""
    app = program_app(Run.new(Config(num_steps=soak_steps)), speed_index=FAST)
    out: dict[int, float] = {}
    async with app.run_test(size=size) as pilot:
        app.action_play()
        while app.shown_state != State.FINISHED:
            await asyncio.sleep(0.5)
        for view in VIEW_NAMES:
            app.action_view(view)
            if view == 6:
                app.action_check_gradient()
                while app.panel.views[6].running:
                    await asyncio.sleep(0.05)
            await pilot.pause()
            shown = app.panel.views[view]
            costs = []
            for _ in range(10):
                t0 = time.perf_counter()
                if isinstance(shown, View):
                    shown.forget()  # recompute its figures as if the weights had changed
                app.refresh_view(force=True)
                every_line(app.plot)
                every_line(shown)
                costs.append(time.perf_counter() - t0)
            out[view] = statistics.median(costs) * 1e3
    return out


async def alternating(slice_s: float, slices: int, view: int = 1, ghosts: int = 0,
                      race: bool = False) -> dict[str, Any]:
    """The app flat out and the headless engine in `slices` alternating slices of `slice_s` seconds each (as
    bench_race.py does), so that both see the same load on a shared machine: the app trains for a slice,
    then is paused while a headless run of its own steps on the screen's thread (which draws nothing then).
    Steps/s of each side over all its slices, and the screen's thread CPU per frame in the app's slices.
    Each app slice is compared with the mean of the headless slices either side of it (one more headless
    slice comes first): the machine's speed drifts within seconds, and a bracket cancels a steady drift.
    `race`: a race of 8 seeds on both sides (race steps/s; the app tracks each variant's whole-data loss
    for its leaderboard, the headless race does not)."""
    if race:
        app = program_app(race_of_8(10**6), speed_index=FAST)
        gen: Iterator[object] = race_of_8(10**6).steps()
    else:
        app = program_app(Run.new(Config(num_steps=10**7)), speed_index=FAST)
        gen = Run.new(Config(num_steps=10**7)).steps()
    kept_runs(app, ghosts, 10**7)
    app_steps = app_time = head_steps = head_time = ui = 0.0
    pairs: list[float] = []  # each slice's app rate over the next slice's headless rate
    frames = 0
    async with app.run_test(size=(120, 40)) as pilot:
        app.action_view(view)
        await pilot.pause(0.3)
        steps, took = headless_slice(gen, slice_s)  # the first app slice's headless slice before it
        before = steps / took
        head_steps, head_time = head_steps + steps, head_time + took
        for _ in range(slices):
            app.action_play()
            await asyncio.sleep(0.3)  # running again before the slice
            s0, f0, t0, c0 = app.loop.at, app.frames_drawn, time.perf_counter(), time.thread_time()
            await asyncio.sleep(slice_s)
            took_app = time.perf_counter() - t0
            app_time += took_app
            app_steps += app.loop.at - s0
            app_rate = (app.loop.at - s0) / took_app
            ui += time.thread_time() - c0
            frames += app.frames_drawn - f0
            app.action_pause()
            await asyncio.sleep(0.2)  # the worker has stopped
            steps, took = headless_slice(gen, slice_s)
            head_steps, head_time = head_steps + steps, head_time + took
            pairs.append(app_rate / ((before + steps / took) / 2))  # bracketed: the headless slices either side
            before = steps / took
    return {"app": app_steps / app_time, "head": head_steps / head_time, "ui_ms": ui / max(frames, 1) * 1e3,
            "fps": frames / app_time, "pairs": pairs}


async def growth(steps: int) -> dict[str, float]:
    """Flat out for `steps` steps (default view): how much the process grew from the first frame to the end."""
    app = program_app(Run.new(Config(num_steps=steps)), speed_index=FAST)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        rss0, t0 = rss_mb(), time.perf_counter()
        app.action_play()
        while app.shown_state != State.FINISHED:
            await asyncio.sleep(1.0)
        await pilot.pause(0.5)
        return {"steps": app.training.step, "grew_mb": rss_mb() - rss0, "seconds": time.perf_counter() - t0}


def race_figures(seconds: float) -> dict[str, float]:
    """bench_race.py --dashboard's race of 8 seeds, flat out in the app, against the same race headless."""
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_race  # noqa: PLC0415 (a sibling script, only for --race)

    docs = Run.new(Config()).original_docs()
    head = bench_race.headless_race_rate(docs, seconds)
    d = measured(bench_race.dashboard(docs, seconds, 125_000))  # bench_race.py's own soak: it outlasts the timing
    return {"head": head, **d}


class Terminal:
    """The console command in a real terminal (tmux), read back with capture-pane."""

    def __init__(self, args: str, size: tuple[int, int] = (120, 40)):
        self.session = f"bench-{uuid.uuid4().hex[:6]}"
        on_cpu = f"taskset -c {PINNED[0]} " if PINNED and shutil.which("taskset") else ""
        command = f"cd {ROOT} && {on_cpu}{sys.executable} -m tui.console.main {args}"
        for _ in range(20):  # a tmux server that is just exiting refuses new sessions for a moment
            started = subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", str(size[0]), "-y",
                                      str(size[1]), command])
            if started.returncode == 0:
                break
            time.sleep(0.1)
        self.t0 = time.perf_counter()

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True,
                              text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            found = re.search(pattern, self.screen(), re.S)
            if found:
                return found
            time.sleep(0.002)
        raise RuntimeError(f"{pattern!r} did not appear")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session])


def first_frame_seconds(repeats: int = 3) -> list[float]:
    times = []
    for _ in range(repeats):
        term = Terminal("")
        try:
            term.wait_for(r"guess.*idle .*step 0/")
            times.append(time.perf_counter() - term.t0)
        finally:
            term.close()
    return times


def in_terminal(seconds: float) -> dict[str, float]:
    """Flat out in a real terminal: the status line's own steps/s, and key press -> screen latency."""
    term = Terminal("--steps 1000000")
    try:
        term.wait_for(r"idle")
        term.keys(*["]"] * len(SPEEDS))
        term.wait_for(r"pace \[◀\s+max ▶\]")
        term.keys("space")
        time.sleep(2)
        rates = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            found = re.search(r"([\d,]+) steps/s", term.screen())
            if found:
                rates.append(float(found.group(1).replace(",", "")))
            time.sleep(0.5)
        latencies = []
        for i in range(10):
            key, value = ("+", 0.6) if i % 2 == 0 else ("-", 0.5)
            t0 = time.perf_counter()
            term.keys(key)
            term.wait_for(rf"model at T {value:.2f}")  # the chart's legend (old batch headings hold "T 0.50 " too)
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.2)
        return {"rate": statistics.median(rates), "key_median": statistics.median(latencies) * 1e3,
                "key_max": max(latencies) * 1e3}
    finally:
        term.close()


def in_terminal_alternating(slice_s: float, slices: int) -> dict[str, Any]:
    """The console command flat out in a real terminal and the headless engine (in this process) in
    `slices` alternating slices: space resumes the app, which runs for RUN_FOR seconds; its status line's
    steps/s is read then (the app's own count over its last window of at least 0.5 s, taken in steady
    running: the key that resumed it is outside that window) and space pauses it; then a headless run steps
    for `slice_s` seconds while the app waits. Each app figure against the mean of the headless slices
    either side of it."""
    term = Terminal("--steps 10000000")
    gen = Run.new(Config(num_steps=10**7)).steps()
    app_rates: list[float] = []
    head_steps = head_time = 0.0
    pairs: list[float] = []
    running = r"running │ step [\d,]+/[\d,]+ .*?│ ([\d,]+) steps/s"
    try:
        term.wait_for(r"idle")
        term.keys(*["]"] * len(SPEEDS))
        term.wait_for(r"pace \[◀\s+max ▶\]")
        steps, took = headless_slice(gen, slice_s)  # the first app figure's headless slice before it
        before = steps / took
        head_steps, head_time = head_steps + steps, head_time + took
        for _ in range(slices):
            term.keys("space")
            time.sleep(RUN_FOR)
            rate = float(term.wait_for(running).group(1).replace(",", ""))
            term.keys("space")
            term.wait_for(r"paused │")
            time.sleep(0.2)  # its last frame drawn
            app_rates.append(rate)
            steps, took = headless_slice(gen, slice_s)
            head_steps, head_time = head_steps + steps, head_time + took
            pairs.append(rate / ((before + steps / took) / 2))  # bracketed, as in `alternating`
            before = steps / took
    finally:
        term.close()
    return {"app": statistics.mean(app_rates), "head": head_steps / head_time, "pairs": pairs}


def ratio_line(label: str, rate: float, base: float, fps: float, ui_ms: float, unit: str = "steps/s") -> str:
    return (f"{label:<27}{rate:10,.0f} {unit} = {rate / base:.0%} of headless ({base:,.0f} just before); "
            f"{fps:.1f} frames/s, screen thread {ui_ms:.1f} ms CPU a frame ({ui_ms * fps / 10:.1f}% of the time)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--soak-steps", type=int, default=1_000_000)
    p.add_argument("--skip-tmux", action="store_true")
    p.add_argument("--views", action="store_true", help="per view: steps/s vs headless, frame after the soak")
    p.add_argument("--ghosts", type=int, default=0, help="earlier runs kept on the plot (ghost lines), e.g. 8")
    p.add_argument("--race", action="store_true", help="a race of 8 flat out vs the same race headless")
    p.add_argument("--growth-steps", type=int, default=0, help="process growth over this many steps (0: skip)")
    p.add_argument("--slices", type=int, default=20, help="alternating slices of each side, per line")
    p.add_argument("--slice", type=float, default=0.4, help="seconds of one alternating slice (Pilot)")
    p.add_argument("--cpu", type=int, default=None, help="run the bench and the terminal's app on this CPU "
                   "(default: the first this process may use; -1: anywhere)")
    p.add_argument("--issue", action="store_true", help="issue 14's figures: --views --ghosts 8 --race "
                   "--growth-steps 10000000 (add --growth-steps 0 after it to skip the long one)")
    a = p.parse_args()
    one_cpu = OneCpu(a.cpu)
    if a.issue:
        a.views, a.ghosts, a.race = True, a.ghosts or 8, True
        if "--growth-steps" not in sys.argv:
            a.growth_steps = 10_000_000
    timed = Timed()
    targets: list[tuple[str, float, float, str]] = []  # (what, figure, target, unit): issue 14's, checked at the end

    def alternated(label: str, t: dict[str, Any], unit: str = "steps/s", extra: str = "") -> None:
        ratio = t["app"] / t["head"]
        pairs = sorted(t["pairs"])
        middle = statistics.median(pairs)
        targets.append((f"flat out, {label}", middle * 100, 90, "% of headless"))
        ui = f"; screen thread {t['ui_ms']:.1f} ms CPU a frame, {t['fps']:.1f} frames/s" if "ui_ms" in t else ""
        spread = f"the slice pairs' median {middle:.0%} (they range {pairs[0]:.0%}-{pairs[-1]:.0%})"
        print(f"alternating slices, {label:<22} app {t['app']:8,.0f} vs headless {t['head']:8,.0f} {unit} = "
              f"{ratio:.0%}; {spread}{ui}{extra}")

    lines = [(1, 0, "default view")] + [(1, a.ghosts, f"{a.ghosts} kept runs")] * bool(a.ghosts) \
        + [(v, 0, f"view {v} {VIEW_NAMES[v]}") for v in range(2, 9) if a.views]
    with one_cpu:  # the ratios: the app and its headless slices on one CPU
        for view, ghosts, label in lines:
            alternated(label, measured(alternating(a.slice, a.slices, view=view, ghosts=ghosts)))
        if a.race:
            alternated("a race of 8 seeds", measured(alternating(a.slice, a.slices, view=8, race=True)),
                       "race steps/s", " (view 8)")
        if not a.skip_tmux and shutil.which("tmux"):
            alternated("in a real terminal", in_terminal_alternating(a.slice, a.slices), extra=" (tmux 120x40, the "
                       f"status line's own steps/s after {RUN_FOR} s of each app slice)")
    where = f"both on CPU {one_cpu.cpu}" if one_cpu.cpu is not None else "on any CPU"
    print(f"(alternating slices: {a.slices} x {a.slice} s of the app flat out, {a.slices + 1} x {a.slice} s of a "
          "headless run around them, so that both see the same load; each app slice against the mean of the two "
          f"headless slices either side of it; Pilot 120x40 unless said; {where}. The target lines below read "
          f"the median of the {a.slices} slice pairs' ratios: a burst of load from elsewhere moves a pair, not "
          "the median)")
    base = headless_rate(a.seconds)
    r = measured(in_app(a.seconds, a.soak_steps, timed))
    after = headless_rate(a.seconds)
    print(f"headless engine            {base:10,.0f} steps/s (again after the app: {after:,.0f})")
    print(ratio_line("in the app, fastest", r["app_rate"], base, r["fps"], r["ui_ms"]) + " [default view; one 8 s "
          "run against one 8 s headless run: this swings with the machine's load, the alternating figure does not]")
    print(f"screen refresh             {r['fps']:10.1f} frames/s (plot redraw median {r['plot_ms_median']:.1f} ms)")
    print(f"after {r['soak_steps']:,.0f} steps       frame {r['frame_ms_after_soak']:.1f} ms (plot + widgets, "
          f"forced), process grew {r['soak_growth_mb']:.1f} MB since the first frame")
    targets.append((f"a frame after {r['soak_steps']:,} steps", r["frame_ms_after_soak"], 10, "ms"))
    if a.ghosts:
        g = measured(in_app(a.seconds, a.soak_steps, timed, a.ghosts))
        print(f"with {a.ghosts} kept runs: frame after {g['soak_steps']:,.0f} steps {g['frame_ms_after_soak']:.1f} ms")
        targets.append((f"a frame after {g['soak_steps']:,} steps, {a.ghosts} kept runs", g["frame_ms_after_soak"],
                        10, "ms"))
    if a.views:
        frames = measured(view_frames_after_soak(a.soak_steps))
        print(f"frame after {a.soak_steps:,} steps with each view (forced: plot + view): "
              + ", ".join(f"{view} {frames[view]:.1f} ms" for view in VIEW_NAMES))
        targets.append((f"a frame after {a.soak_steps:,} steps, the costliest view", max(frames.values()), 10, "ms"))
    if a.race:
        d = race_figures(a.seconds)
        print(f"a race of 8 seeds, one 8 s run: {d['app_rate']:,.0f} race steps/s = {d['app_rate'] / d['head']:.0%} of "
              f"the same race headless ({d['head']:,.0f} just before); v to the variant shown {d['key_ms_max']:.0f} ms "
              f"max of 5; a frame after {d['soak_steps']:,.0f} race steps {d['frame_ms']:.1f} ms")
    if not a.skip_tmux and shutil.which("tmux"):
        base = headless_rate(a.seconds)
        t = in_terminal(a.seconds)
        print(f"in a real terminal, fastest{t['rate']:10,.0f} steps/s = {t['rate'] / base:.0%} of headless "
              f"({base:,.0f} just before; the status line's own figure, tmux 120x40; one 8 s run)")
        print(f"key press -> on screen     {t['key_median']:10.1f} ms median, {t['key_max']:.1f} ms max of 10 "
              f"(tmux send-keys to capture-pane, training flat out)")
        targets.append(("key press to screen, the worst of 10", t["key_max"], 50, "ms"))
        ff = first_frame_seconds()
        print(f"command -> first frame     {statistics.median(ff):10.2f} s median of {len(ff)} (tmux 120x40)")
    if a.growth_steps > 0:
        m = measured(growth(a.growth_steps))
        print(f"after {m['steps']:,.0f} steps flat out ({m['seconds']:.0f} s): the process grew {m['grew_mb']:.1f} MB "
              "since the first frame")
        targets.append((f"process growth after {m['steps']:,.0f} steps", m["grew_mb"], 30, "MB"))
    print("issue 14's targets, this run:")
    for what, figure, target, unit in targets:
        met = figure >= target if unit.startswith("%") else figure <= target
        bound = ">=" if unit.startswith("%") else "<="
        verdict = "met    " if met else "NOT met"
        print(f"  {verdict} {what}: {figure:.1f} {unit} (target {bound} {target} {unit.split()[0]})")


if __name__ == "__main__":
    main()
