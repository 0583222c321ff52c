"""Saving a checkpoint from the dashboard (`s`): what was saved where, or why not, as one note line."""

from __future__ import annotations

from pathlib import Path

from engine import checkpoint
from engine.errors import MicroMLPError

DEFAULT_SAVE = "micromlp-checkpoint.npz"


def save_checkpoint(ckpt: checkpoint.Checkpoint, path: Path) -> tuple[str, bool]:
    """Write `ckpt` to `path` (atomically: engine.checkpoint). Returns the note and whether it failed."""
    try:
        where = checkpoint.save(path, ckpt)
    except MicroMLPError as exc:
        return f"not saved: {exc}", True
    except OSError as exc:
        return f"not saved: {path}: {exc.strerror or exc}", True
    return f"saved step {ckpt.step} to {where.resolve()}", False
