"""Variant-steps per second: K variants of the default model raced in lockstep (engine.race) against
the same K runs trained one after another, measured side by side in one run.

    python bench/bench_race.py [--data ../shared/data/names.txt] [--steps 2000] [--repeats 5]

Each measurement trains K fresh runs of --steps steps (the run's length is --steps, so the learning
rate decays over them); lockstep and one-after-another alternate within each repeat and the best of
the repeats is printed (the machine is shared: compare the figures of one run). Two kinds of race:
`seed` (seeds 1..K: each variant its own name each step, so the names are padded to the longest)
and `lr` (rates 0.25 .. 2 on seed 42: one name for all). A figure, not a test.
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
        configs = [Config(num_steps=steps, learning_rate=0.25 * 2 ** (4 * i / max(k - 1, 1))) for i in range(k)]
    return [Variant(i + 1, c, "") for i, c in enumerate(configs)]


def lockstep(vs: list[Variant], docs: list[str]) -> float:
    """Seconds to train every variant to its end in one race (set-up excluded)."""
    race = Race.new(vs, docs)
    t0 = time.perf_counter()
    for _ in race.steps():
        pass
    return time.perf_counter() - t0


def one_after_another(vs: list[Variant], docs: list[str]) -> float:
    runs = [Run.new(v.config, docs) for v in vs]
    t0 = time.perf_counter()
    for run in runs:
        for _ in run.steps():
            pass
    return time.perf_counter() - t0


def measure(kind: str, k: int, steps: int, repeats: int, docs: list[str]) -> tuple[float, float]:
    """(lockstep, one after another) variant-steps per second, the best of `repeats`."""
    vs = variants(kind, k, steps)
    race_t, solo_t = [], []
    for _ in range(repeats):
        race_t.append(lockstep(vs, docs))
        solo_t.append(one_after_another(vs, docs))
    return k * steps / min(race_t), k * steps / min(solo_t)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "names.txt")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    docs = Run.new(Config(), a.data).original_docs() if a.data.is_file() else Run.new(Config()).original_docs()
    where = a.data if a.data.is_file() else "the embedded names"
    print(f"data: {where}; default model (n_embd 16, hidden 64); {a.steps} steps per variant; "
          f"best of {a.repeats} repeats; variant-steps per second")
    print()
    print("| K | race | lockstep | one after another | ratio |")
    print("|---|---|---:|---:|---:|")
    for kind in ("seed", "lr"):
        for k in (1, 2, 4, 8, 16):
            race, solo = measure(kind, k, a.steps, a.repeats, docs)
            flag = "  <- 8 variants: target >= 3x" if k == 8 else ""
            print(f"| {k} | {kind} | {race:,.0f} | {solo:,.0f} | {race / solo:.2f}x |{flag}", flush=True)


if __name__ == "__main__":
    main()
