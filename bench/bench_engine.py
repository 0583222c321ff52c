"""Microseconds per SGD step: the engine against the tutorial's plain-Python algorithm, one run.

    python bench/bench_engine.py [--data ../shared/data/names.txt] [--steps 20000] [--repeats 7]

Prints the median over repeats for the engine (each repeat a fresh 1000-step-schedule run cycled to
--steps steps), the pure-Python time per step, and their ratio. A figure, not a test: the machine
is shared, so compare the two numbers of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the console command runs

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from tutorial_reference import run_tutorial  # noqa: E402

from engine import Config, Run  # noqa: E402


def engine_us_per_step(data: Path, steps: int, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        run = Run.new(Config(num_steps=steps), data)
        gen = run.steps()
        t0 = time.perf_counter()
        for _ in gen:
            pass
        times.append((time.perf_counter() - t0) / steps * 1e6)
    return times


def python_us_per_step(text: str, steps: int) -> float:
    t0 = time.perf_counter()
    run_tutorial(text, stop_after=0)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_tutorial(text, stop_after=steps)
    return (time.perf_counter() - t0 - setup) / steps * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "names.txt")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--python-steps", type=int, default=200)
    a = p.parse_args()
    eng = engine_us_per_step(a.data, a.steps, a.repeats)
    py = python_us_per_step(a.data.read_text(encoding="utf-8"), a.python_steps)
    med = statistics.median(eng)
    print(f"data: {a.data} ({a.steps} steps x {a.repeats} repeats; pure Python {a.python_steps} steps)")
    print(f"engine      median {med:7.2f} us/step  (min {min(eng):.2f}, max {max(eng):.2f})"
          f"  = {1e6 / med:,.0f} steps/s")
    print(f"pure Python        {py:7.0f} us/step")
    print(f"ratio              {py / med:7.0f}x")


if __name__ == "__main__":
    main()
