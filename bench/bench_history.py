"""The loss history's cost: microseconds per append (the training's hot path) and how much the process
grows over a long headless run (a quick stand-in for bench_dashboard.py --growth-steps, engine only).

    python bench/bench_history.py [--appends 1000000] [--repeats 5] [--steps 2000000] [--trace]

1. LossHistory.append alone, `--appends` times into a fresh history, median of `--repeats` (us/append);
2. Run.steps for `--steps` steps headless (0: skip): how much the process grew (RSS), and what the
   history keeps in memory; with --trace also tracemalloc's figures at the end and at the peak (this
   makes the run 2-3 times slower).
Figures, not tests: the machine may be shared, so compare within one run.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from soak import rss_mb  # noqa: E402  (bench/ is the script's folder, first on sys.path)

from engine import Config, LossHistory, Run  # noqa: E402


def append_us(appends: int, repeats: int) -> list[float]:
    values = [2.0 + (i % 97) / 50 for i in range(4096)]
    out = []
    for _ in range(repeats):
        h = LossHistory()
        append = h.append
        t0 = time.perf_counter()
        for i in range(appends):
            append(values[i & 4095])
        out.append((time.perf_counter() - t0) / appends * 1e6)
        del h
    return out


def growth(steps: int, trace: bool) -> dict[str, float]:
    """Headless training of `steps` steps: RSS growth, and (trace) all allocations made since (tracemalloc)."""
    run = Run.new(Config(num_steps=steps))
    gen = run.steps()
    next(gen)
    rss0, t0 = rss_mb(), time.perf_counter()
    if trace:
        tracemalloc.start()
    for _ in gen:
        pass
    end, peak = tracemalloc.get_traced_memory() if trace else (math.nan, math.nan)
    tracemalloc.stop()
    kept = getattr(run.history, "nbytes_in_memory", math.nan)  # (a version without it: NaN)
    return {"steps": run.step, "rss": rss_mb() - rss0, "traced": end / 2**20, "peak": peak / 2**20,
            "kept": kept / 2**20, "seconds": time.perf_counter() - t0}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--appends", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=2_000_000)
    p.add_argument("--trace", action="store_true", help="tracemalloc's figures too (slower)")
    a = p.parse_args()
    us = append_us(a.appends, a.repeats)
    print(f"LossHistory.append: {statistics.median(us):.3f} us median of {a.repeats} x {a.appends:,} "
          f"(min {min(us):.3f}, max {max(us):.3f})")
    if a.steps > 0:
        g = growth(a.steps, a.trace)
        print(f"headless {g['steps']:,} steps ({g['seconds']:.0f} s): the process grew {g['rss']:.1f} MB; the "
              f"history keeps {g['kept']:.1f} MB of values in memory")
        if a.trace:
            print(f"allocations since the first step (tracemalloc): {g['traced']:.1f} MB at the end, "
                  f"{g['peak']:.1f} MB at the peak")


if __name__ == "__main__":
    main()
