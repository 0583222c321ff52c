"""Variant-steps per second: K variants of the default model raced in lockstep (engine.race) against
the same K runs trained one after another, measured side by side in one run.

    python bench/bench_race.py [--data ../shared/data/names.txt] [--steps 100] [--rounds 40]
                               [--dashboard] [--seconds 6] [--soak-steps 125000]

Lockstep and one-after-another are timed in alternating slices (see `measure`), so that both see the
same load on a shared machine; compare the figures of one run. Two kinds of race:
`seed` (seeds 1..K: each variant its own name each step, so the names are padded to the longest)
and `lr` (rates 0.25 .. 2 on seed 42: one name for all). A figure, not a test.

With --dashboard: a race of 8 seeds in the dashboard (Pilot, 120x40, view 8 on show) flat out against
the same race headless: race steps per second and their ratio; how long `v` (pick the next variant)
takes to show; and a forced frame (the plot with its 7 variant lines, the board) after the race has
taken --soak-steps steps (8 x that many variant-steps).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the console command runs

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from engine import Config, Run  # noqa: E402
from engine.race import Race, Variant  # noqa: E402


def variants(kind: str, k: int, steps: int) -> list[Variant]:
    if kind == "seed":
        configs = [Config(num_steps=steps, seed=s) for s in range(1, k + 1)]
    else:
        configs = [Config(num_steps=steps, learning_rate=0.25 * 2 ** (3 * i / max(k - 1, 1))) for i in range(k)]
    return [Variant(i + 1, c, "") for i, c in enumerate(configs)]


def measure(kind: str, k: int, steps: int, rounds: int, docs: list[str]) -> tuple[float, float]:
    """(lockstep, one after another) variant-steps per second. The machine is shared and its load swings,
    so the two are measured in alternating slices: each round times `steps` race steps, then `steps`
    steps of each of the K runs one after another (as K whole runs would, a slice at a time); the
    rates are the totals over `rounds` rounds, each side's slowest quarter of rounds left out."""
    vs = variants(kind, k, steps * rounds)
    race = Race.new(vs, docs)
    runs = [Run.new(v.config, docs) for v in vs]
    race_steps, solo_steps = race.steps(), [r.steps() for r in runs]
    race_t, solo_t = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            next(race_steps)
        t1 = time.perf_counter()
        for gen in solo_steps:
            for _ in range(steps):
                next(gen)
        t2 = time.perf_counter()
        race_t.append(t1 - t0)
        solo_t.append(t2 - t1)
    keep = max(1, rounds - rounds // 4)
    race_time, solo_time = sum(sorted(race_t)[:keep]), sum(sorted(solo_t)[:keep])
    return k * steps * keep / race_time, k * steps * keep / solo_time


def products(k: int, length: int) -> float:
    """us for the 7 batched matrix products of one race step of k variants of the default model on names
    padded to `length` positions (engine.race._Group._names' shapes): the arithmetic a race step cannot do
    without; best of 5 x 2,000."""
    import timeit

    import numpy as np

    v, e, h = 27, 16, 64
    rng = np.random.default_rng(0)
    x, probs, dh = (rng.standard_normal((k, length, n)) for n in (e, v, h))
    fc1, fc2, one_hot = rng.standard_normal((k, h, e)), rng.standard_normal((k, v, h)), rng.random((k, length, v))
    hid = rng.standard_normal((k, length, h))
    g2, g1, g0 = np.empty((k, v, h)), np.empty((k, h, e)), np.empty((k, v, e))
    mm = np.matmul

    def batched() -> None:
        mm(x, fc1.transpose(0, 2, 1)), mm(hid, fc2.transpose(0, 2, 1)), mm(probs.transpose(0, 2, 1), hid, out=g2)
        mm(probs, fc2), mm(dh.transpose(0, 2, 1), x, out=g1), mm(dh, fc1), mm(one_hot.transpose(0, 2, 1), x, out=g0)

    return min(timeit.repeat(batched, number=2000, repeat=5)) / 2000 * 1e6


def headless_race_rate(docs: list[str], seconds: float) -> float:
    race = Race.new(variants("seed", 8, 10_000_000), docs)
    steps = race.steps()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(64):
            next(steps)
    return race.step / (time.perf_counter() - t0)


async def dashboard(docs: list[str], seconds: float, soak_steps: int) -> dict[str, float]:
    import asyncio
    import statistics

    import tui.console.main  # noqa: F401  (the console command's settings, e.g. Textual's update rate, first)
    from tui.app import DashboardApp
    from tui.plumbing.training_loop import SPEEDS, State

    race = Race.new(variants("seed", 8, soak_steps), docs)
    app = DashboardApp(race, speed_index=SPEEDS.index(None))
    app.collector.wanted = True  # as the console command's app (tui/plumbing/collector.py)
    out: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("8")
        await pilot.press("space")
        await pilot.pause(1.0)
        s0, t0 = race.step, time.perf_counter()
        await asyncio.sleep(seconds)
        out["app_rate"] = (race.step - s0) / (time.perf_counter() - t0)
        keys = []
        for _ in range(5):
            want = (app.loop.picked + 1) % 8
            t0 = time.perf_counter()
            await app.run_action("next_variant(1)")  # v's action (Pilot's press waits for an idle app: seconds)
            while app.loop.picked != want:  # picked: the screen was redrawn for it in the same call
                await asyncio.sleep(0.002)
            keys.append(time.perf_counter() - t0)
            await asyncio.sleep(0.3)
        out["key_ms_median"], out["key_ms_max"] = statistics.median(keys) * 1e3, max(keys) * 1e3
        while app.shown_state != State.FINISHED:
            await asyncio.sleep(0.5)
        out["soak_steps"] = race.step
        frame = []
        for _ in range(10):
            t0 = time.perf_counter()
            app.refresh_view(force=True)
            app.plot.build_strips()
            app.panel.views[8].build_strips(110, 12)
            frame.append(time.perf_counter() - t0)
        out["frame_ms"] = statistics.median(frame) * 1e3
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "names.txt")
    p.add_argument("--steps", type=int, default=100, help="steps per slice")
    p.add_argument("--rounds", type=int, default=40, help="alternating slices per K")
    p.add_argument("--dashboard", action="store_true", help="the dashboard's figures (only them)")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--soak-steps", type=int, default=125_000)
    a = p.parse_args()
    docs = Run.new(Config(), a.data).original_docs() if a.data.is_file() else Run.new(Config()).original_docs()
    where = a.data if a.data.is_file() else "the embedded names"
    if a.dashboard:
        import asyncio

        head = headless_race_rate(docs, a.seconds)
        d = asyncio.run(dashboard(docs, a.seconds, a.soak_steps))
        head2 = headless_race_rate(docs, a.seconds)
        print(f"data: {where}; a race of 8 seeds, default model")
        print(f"headless race            {head:10,.0f} race steps/s (again after: {head2:,.0f})")
        print(f"dashboard, flat out      {d['app_rate']:10,.0f} race steps/s = "
              f"{d['app_rate'] / ((head + head2) / 2):.0%} of headless (120x40, view 8 on show)")
        print(f"v (its action) to the variant shown {d['key_ms_median']:.0f} ms median, {d['key_ms_max']:.0f} ms "
              "max of 5 (names, chart, plot and views redrawn for it)")
        print(f"after {d['soak_steps']:,.0f} race steps: a forced frame (plot, 7 variant lines, board) "
              f"{d['frame_ms']:.1f} ms")
        return
    print(f"data: {where}; default model (n_embd 16, hidden 64); {a.rounds} alternating slices of {a.steps} "
          f"steps (the slowest quarter of each side's left out); variant-steps per second")
    print()
    eight: dict[str, tuple[float, float]] = {}
    print("| K | race | lockstep | one after another | ratio |")
    print("|---|---|---:|---:|---:|")
    for kind in ("seed", "lr"):
        for k in (1, 2, 4, 8, 16):
            race, solo = measure(kind, k, a.steps, a.rounds, docs)
            flag = "  <- 8 variants: target >= 3x" if k == 8 else ""
            print(f"| {k} | {kind} | {race:,.0f} | {solo:,.0f} | {race / solo:.2f}x |{flag}", flush=True)
            if k == 8:
                eight[kind] = (race, solo)
    race, solo = eight["seed"]
    step_us, solo_us = 8e6 / race, 1e6 / solo
    longest, mean = padding(docs, 8, 20_000)
    batched = products(8, 9)
    rate = product_flops(8, 9) / batched / 1e3  # GFLOP/s
    best = max(product_flops(8, n) / products(8, n) / 1e3 for n in (18, 36))
    print()
    print(f"8 seeds: a race step {step_us:.0f} us, a solo step {solo_us:.1f} us; 3x needs a race step within "
          f"{8 * solo_us / 3:.0f} us. Its 7 batched matrix products alone (K 8, names padded to 9 positions, "
          f"about the mean longest of 8 names: {longest:.2f}; a name has {mean:.2f} on average): {batched:.0f} us; "
          f"everything else a step does (~20 numpy calls on the padded arrays, the 8 records) has "
          f"{8 * solo_us / 3 - batched:.0f} us left.")
    print(f"Those products are arithmetic, not call overhead: {product_flops(8, 9) / 1e6:.2f} million floating-point "
          f"operations at {rate:.0f} GFLOP/s; the same products on 2x and 4x the rows reach {best:.0f} GFLOP/s "
          f"on this CPU, so even unpadded names ({mean:.2f} positions) at that rate would take "
          f"{product_flops(8, mean) / best / 1e3:.0f} us of the {8 * solo_us / 3:.0f}.")


def product_flops(k: int, length: float) -> float:
    """Floating-point operations of the 7 products of a race step (default model: V 27, E 16, H 64) on
    names padded to `length` positions: 2 per multiply-add."""
    v, e, h = 27, 16, 64
    return 2 * k * length * (3 * e * h + 3 * h * v + v * e)


def padding(docs: list[str], k: int, steps: int) -> tuple[float, float]:
    """(the mean over `steps` race steps of the longest of the k seeds' names, the mean name), in positions
    (a name's letters + 1)."""
    import numpy as np

    runs = [Run.new(v.config, docs) for v in variants("seed", k, steps)]
    sizes = np.array([[len(r.dataset.docs[i]) + 1 for i in range(steps)] for r in runs])  # (k, steps)
    return float(sizes.max(axis=0).mean()), float(sizes.mean())

if __name__ == "__main__":
    main()
