"""`micromlp-tui --compare A.npz B.npz ...`: checkpoints' settings and final losses side by side.

The headless form of the dashboard's runs view: one column per checkpoint, one row per setting or
figure. A checkpoint holds its weights but not the names it trained on, so the exact whole-data and
held-out losses (and the floors) are computed only when `--data` gives the names (each checkpoint is
then resumed on them, which checks the vocabulary); without it the table shows the mean of the last
100 recorded one-name losses, a noisy estimate, and says so. Nothing is trained. Numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from engine import checkpoint
from engine.checkpoint import Checkpoint
from engine.errors import MicroMLPError
from engine.printable import printable
from engine.runs import final_mean

NO_DATA_NOTE = ("whole-data and held-out losses need the names the checkpoints were trained on: give --data "
                "(a checkpoint does not hold them); shown instead: the mean of the last 100 recorded losses")


def schedule_text(changes: list[tuple[int, float]]) -> str:
    """'none' for a rate never changed; else '1.0, 0.5 from step 301' (the first step to use the new base,
    1-based: the dashboard's run line says the same)."""
    if len(changes) < 2:
        return "none"
    first = repr(changes[0][1])
    return ", ".join([first, *(f"{base!r} from step {step + 1:,}" for step, base in changes[1:])])


def _figure(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else "-"


def _rows(ckpt: Checkpoint, exact: tuple[float, float, float, float] | None) -> list[tuple[str, str]]:
    c = ckpt.config
    rows = [
        ("steps", f"{ckpt.step:,}/{c.num_steps:,}"), ("lr", repr(c.learning_rate)),
        # the rates the run was given (changed mid-run with < >), and the schedule each falls by (--schedule)
        ("lr changes", schedule_text(ckpt.lr_changes or [(0, c.learning_rate)])),
        ("schedule", c.schedule), ("gradient", c.gradient),
        ("n_embd", str(c.n_embd)), ("hidden", str(c.hidden_size)), ("seed", str(c.seed)),
        ("holdout", repr(c.holdout)), ("temperature", repr(c.temperature)),
        ("top-k", str(c.top_k) if c.top_k else "off"),
        ("vocabulary", f"{len(ckpt.uchars) + 1} tokens"),
        ("last-100 mean loss", _figure(final_mean(ckpt.losses))),
    ]
    if exact is not None:
        whole, floor, held, held_floor = exact
        rows += [("whole-data loss", _figure(whole)), ("bigram floor", _figure(floor)),
                 ("held-out loss", _figure(held)), ("held-out floor", _figure(held_floor))]
    return rows


def _exact(path: str, data: str | Path) -> tuple[float, float, float, float]:
    from engine.run import Run  # here: the rest of the module needs no data

    run = Run.resume(path, data)
    whole, held = run.losses_now()
    return whole, run.reference.floor, held, run.heldout_floor


def compare_table(paths: list[str], data: str | Path | None) -> tuple[list[str], list[str]]:
    """(the table's lines, one-line errors). Every file is read; any error means no table."""
    loaded, errors = [], []
    for path in paths:
        try:
            ckpt = checkpoint.load(path)
            loaded.append((path, ckpt, None if data is None else _exact(path, data)))
        except MicroMLPError as exc:
            errors.append(str(exc))
    if errors:
        return [], errors
    names = [Path(p).name for p in paths]
    heads = names if len(set(names)) == len(names) else list(paths)
    columns = [_rows(ckpt, exact) for _, ckpt, exact in loaded]
    labels = [label for label, _ in columns[0]]
    heads = [printable(h) for h in heads]
    widths = [max(len(head), *(len(value) for _, value in col)) for head, col in zip(heads, columns)]
    first = max(len(label) for label in labels)
    lines = [" " * first + "  " + "  ".join(h.ljust(w) for h, w in zip(heads, widths))]
    for i, label in enumerate(labels):
        lines.append(label.ljust(first) + "  " + "  ".join(col[i][1].ljust(w) for col, w in zip(columns, widths)))
    lines = [line.rstrip() for line in lines]
    if data is None:
        lines.append(NO_DATA_NOTE)
    return lines, []


def run_compare(paths: list[str], data: str | Path | None, say: Callable[[str], None],
                fail: Callable[[str], int]) -> int:
    """Print the table with `say`, or each error with `fail` and return 2."""
    lines, errors = compare_table(paths, data)
    for message in errors:
        fail(message)
    if errors:
        return 2
    for line in lines:
        say(line)
    return 0
