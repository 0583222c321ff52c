"""Microseconds per call of each see-inside figure (engine/inspect.py) on the tutorial's model.

    python bench/bench_inspect.py [--data ../shared/data/names.txt] [--steps 1000] [--calls 2000]

The model is trained for --steps steps first (V=27, E=16, H=64 on the tutorial's names). Each figure
is timed as the median over --calls calls (the gradient check over 7). A figure, not a test: the
machine is shared, so compare figures of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the console command runs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import Config, Run  # noqa: E402
from engine import inspect as ins  # noqa: E402


def median_us(fn: Callable[[], object], calls: int) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def figures(run: Run) -> dict[str, Callable[[], object]]:
    m, counts, tokens = run.model, run.dataset.counts, run.dataset.doc_tokens(0)
    axes = ins.project_embeddings(m.wte).axes
    return {
        "prob_table": lambda: ins.prob_table(m, 0.5),
        "bigram_table": lambda: ins.bigram_table(counts),
        "row_gap": lambda: ins.row_gap(m, counts),
        "project_embeddings": lambda: ins.project_embeddings(m.wte, axes),
        "weight_scale": lambda: ins.weight_scale(m, 0.08, 1.28),
        "dead_units": lambda: ins.dead_units(m),
        "last_update": lambda: ins.last_update(m, tokens, 0.5),
        "applied_update": lambda: ins.applied_update(m),
        "rows_touched": lambda: ins.rows_touched(tokens, m.vocab_size),
        "forward_trace": lambda: ins.forward_trace(m, 0, 0.5),
        "top_k": lambda: ins.top_k(ins.forward_trace(m, 0, 0.5).probs, 5),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "names.txt")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--calls", type=int, default=2000)
    a = p.parse_args()
    run = Run.new(Config(num_steps=a.steps), a.data)
    for _ in run.steps():
        pass
    print(f"data: {a.data}; model V={run.model.vocab_size} E={run.model.n_embd} H={run.model.hidden}, "
          f"{run.model.num_params} parameters, after {run.step} steps; median of {a.calls} calls")
    for name, fn in figures(run).items():
        print(f"  {name:20s} {median_us(fn, a.calls):9.1f} us")
    tokens, doc = run.dataset.doc_tokens(0), run.dataset.docs[0]
    check = ins.gradient_check(run.model, tokens, doc)
    ms = median_us(lambda: ins.gradient_check(run.model, tokens, doc), 7) / 1e3
    print(f"  {'gradient_check':20s} {ms:9.1f} ms  ({doc!r}: max |a-n| {check.max_abs_diff:.2e}, "
          f"max rel {check.max_rel_err:.2e}, scaled {check.scaled_err:.2e}; median of 7)")


if __name__ == "__main__":
    main()
