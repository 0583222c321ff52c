"""Checkpoints: one .npz file with all a run needs to go on training or to sample.

Holds the weights, the vocabulary, every setting, the step reached, the loss of every step so far and
the state of the run's `random.Random` (so the samples after a resumed run are the ones an
uninterrupted run draws). Written atomically: a temporary file in the same folder, flushed to disk,
then renamed over the target, so a crash mid-save leaves the previous file whole. Loading checks
everything and raises CheckpointError with a one-line reason. No pickles: `allow_pickle=False`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import Config, parameter_count
from engine.errors import CheckpointError, ConfigError

MAGIC = "micromlp-tui checkpoint"
MAX_UNPACKED = 4 * 1024**3
VERSION = 1
RngState = tuple[int, tuple[int, ...], float | None]  # what random.Random.getstate() returns


@dataclass
class Checkpoint:
    config: Config
    uchars: list[str]
    theta: np.ndarray  # (num_params,) float64, all finite
    step: int  # steps taken; the next step to take
    losses: np.ndarray  # (step,) float64: the loss of every step taken
    rng_state: RngState


def save(path: str | Path, ckpt: Checkpoint) -> Path:
    """Write `ckpt` to `path` atomically. Refuses weights that are not finite."""
    if not np.isfinite(ckpt.theta).all():
        raise CheckpointError("the weights are not finite (the run diverged); nothing was saved")
    path = Path(path)
    version, internal, gauss_next = ckpt.rng_state
    arrays = {
        "magic": np.array(MAGIC),
        "version": np.array(VERSION),
        "config": np.array(json.dumps(dataclasses.asdict(ckpt.config))),
        "vocab": np.array(json.dumps(ckpt.uchars)),
        "theta": np.asarray(ckpt.theta, dtype=np.float64),
        "step": np.array(ckpt.step),
        "losses": np.asarray(ckpt.losses, dtype=np.float64),
        "rng_version": np.array(version),
        "rng_internal": np.array(internal, dtype=np.int64),
        "rng_gauss_next": np.array(math.nan if gauss_next is None else gauss_next),
    }
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = temp_file_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    return path


def temp_file_beside(path: Path) -> tuple[int, str]:
    """A temporary file in `path`'s folder (so the final rename is atomic), with the permissions a
    plainly created file would get (mkstemp's are 0600)."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    return fd, tmp


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path: str | Path) -> Checkpoint:
    """Read and check a checkpoint, or raise CheckpointError saying what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, not a checkpoint")
    if path.exists() and not path.is_file():
        raise CheckpointError(f"{path}: is not a regular file")
    try:
        with zipfile.ZipFile(path) as z:  # refuse what would unpack to more than a checkpoint can hold
            unpacked = sum(info.file_size for info in z.infolist())
        if unpacked > MAX_UNPACKED:
            raise CheckpointError(f"{path}: would unpack to {unpacked / 1024**2:.0f} MB; not a checkpoint")
        with np.load(path, allow_pickle=False) as npz:
            fields = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except PermissionError:
        raise CheckpointError(f"{path}: permission denied") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"{path}: not a micromlp-tui checkpoint, or a damaged or truncated one ({exc})") from None
    except (ValueError, OSError, KeyError) as exc:
        raise CheckpointError(f"{path}: not a micromlp-tui checkpoint ({_first_line(exc)})") from None
    if not isinstance(fields, dict) or fields.get("magic", np.array("")).tolist() != MAGIC:
        raise CheckpointError(f"{path}: not a micromlp-tui checkpoint")
    try:
        return _decode(fields)
    except CheckpointError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (KeyError, ValueError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint ({_first_line(exc)})") from None


def _decode(f: dict[str, np.ndarray]) -> Checkpoint:
    if int(f["version"]) != VERSION:
        raise CheckpointError(f"checkpoint format version {int(f['version'])}, expected {VERSION}")
    config = Config(**json.loads(str(f["config"]))).validate()
    uchars = json.loads(str(f["vocab"]))
    if not (isinstance(uchars, list) and all(isinstance(c, str) and len(c) == 1 for c in uchars)):
        raise CheckpointError("damaged vocabulary")
    theta = f["theta"].astype(np.float64)
    size = parameter_count(len(uchars) + 1, config.n_embd, config.hidden_size)
    if theta.shape != (size,):
        raise CheckpointError(f"holds {theta.size} weights, its settings need {size}")
    if not np.isfinite(theta).all():
        raise CheckpointError("holds weights that are not finite (NaN or inf)")
    step, losses = int(f["step"]), f["losses"].astype(np.float64)
    if not 0 <= step <= config.num_steps or losses.shape != (step,):
        raise CheckpointError(f"step {step} and {losses.size} recorded losses do not agree")
    internal = tuple(int(v) for v in f["rng_internal"].tolist())
    gauss = float(f["rng_gauss_next"])
    rng_state = (int(f["rng_version"]), internal, None if math.isnan(gauss) else gauss)
    random.Random().setstate(rng_state)  # raises ValueError / TypeError if it is not a valid state
    return Checkpoint(config, uchars, theta, step, losses, rng_state)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
