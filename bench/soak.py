"""Headless soak: train N steps (default 1,000,000) through the same generator as the console
command and print how much the process grew (a figure, not a test; the test suite runs 200,000).

    python bench/soak.py [--steps 1000000] [--data PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Config, Run  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--data", default=None)
    a = p.parse_args()
    run = Run.new(Config(num_steps=a.steps), a.data)
    gen = run.steps()
    next(gen)
    start, t0 = rss_mb(), time.perf_counter()
    marks = {a.steps // 4, a.steps // 2, 3 * a.steps // 4}
    for rec in gen:
        if rec.step + 1 in marks:
            print(f"step {rec.step + 1:>9,}: +{rss_mb() - start:6.1f} MB")
    dt = time.perf_counter() - t0
    print(f"step {run.step:>9,}: +{rss_mb() - start:6.1f} MB after {dt:.0f} s ({run.step / dt:,.0f} steps/s); "
          f"the loss history keeps {run.history.nbytes_in_memory / 1024**2:.1f} MB in memory (the chunks being "
          f"filled; the rest, 16 bytes a step, is in its temporary files)")


if __name__ == "__main__":
    main()
