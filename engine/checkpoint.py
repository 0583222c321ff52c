"""Checkpoints: one .npz file with all a run needs to go on training or to sample.

Holds the weights, the vocabulary, every setting, the step reached, the loss of every step so far and
the state of the run's `random.Random` (so the samples after a resumed run are the ones an
uninterrupted run draws), and (format version 2) the learning rate's schedule: (step, base) pairs.
Version 1 files (before the schedule and the `holdout` setting existed) still load: their schedule is
the fixed --lr and their holdout 0; version 2 files (before `top_k`, format version 3) load with
top_k 0. Files without the `schedule` and `gradient` settings (added later) load as the tutorial's:
linear decay, one name per step. Written as engine.outputs says: atomically (a temporary file in the
same folder, flushed to disk, then renamed over the target) for a regular file, straight through for a
device or a pipe. Loading checks every field's type, shape and range from the .npy headers BEFORE
reading an array, so a small file claiming huge arrays is refused at once; any problem is a
CheckpointError with a one-line reason. No pickles.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy

from engine.config import Config, check_lr, parameter_count
from engine.errors import CheckpointError, ConfigError, OutputError
from engine.outputs import describe, fsync_folder, resolve_output, temp_file_in, write_file

MAGIC = "micromlp-tui checkpoint"
VERSION = 3  # 2: + lr_steps / lr_bases, and the `holdout` setting; 3: + the `top_k` setting; older files load
READABLE = (1, 2, 3)
MAX_TEXT = 1 << 20  # characters in the settings' or the vocabulary's JSON
RNG_STATE_SIZE = 625  # random.Random's Mersenne Twister state: 624 words and an index
RngState = tuple[int, tuple[int, ...], float | None]  # what random.Random.getstate() returns

# field -> (allowed dtype kinds, number of dimensions); shapes are checked against the settings
FIELDS = {
    "magic": ("U", 0), "version": ("iu", 0), "config": ("U", 0), "vocab": ("U", 0), "step": ("iu", 0),
    "theta": ("f", 1), "losses": ("f", 1), "rng_version": ("iu", 0), "rng_internal": ("iu", 1),
    "rng_gauss_next": ("f", 0),
}
FIELDS_V2 = {"lr_steps": ("iu", 1), "lr_bases": ("f", 1)}  # required from version 2 on
# settings a version-1 file may lack, and the value that reproduces what that file's run did
OPTIONAL_SETTINGS = {"holdout": 0.0}
# ... and those a version-2 file lacks: top_k 0 samples as those files' runs did (no cut)
OPTIONAL_SETTINGS_V3 = {"top_k": 0}
# settings added later (the learning rate's schedule, the gradient's data): a file written before them
# lacks them, and its run was the tutorial's linear decay on one name per step
LATER_SETTINGS = {"schedule": "linear", "gradient": "name"}


@dataclass
class Checkpoint:
    config: Config
    uchars: list[str]
    theta: np.ndarray  # (num_params,) float64, all finite
    step: int  # steps taken; the next step to take
    losses: np.ndarray  # (step,) float64: the loss of every step taken
    rng_state: RngState
    # [(step, base), ...] (engine.train.LrSchedule): (0, base at the start), then each change at the
    # first step to use it; None means [(0, config.learning_rate)], a rate never changed
    lr_changes: list[tuple[int, float]] | None = None

    def __post_init__(self) -> None:
        if self.lr_changes is None:
            self.lr_changes = [(0, self.config.learning_rate)]


def save(path: str | Path, ckpt: Checkpoint, wait_for_reader: bool = True) -> Path:
    """Write `ckpt` to `path` (see engine.outputs). Refuses weights that are not finite. Any failure is
    a CheckpointError with one line naming the path; nothing else is raised (but KeyboardInterrupt,
    after which the previous file is whole and no temporary file is left). `wait_for_reader` False:
    a FIFO with no reader is refused at once instead of waited on (engine.outputs.Target.open_stream)."""
    if not np.isfinite(ckpt.theta).all():
        raise CheckpointError(f"{path}: the weights are not finite (the run diverged); nothing was saved")
    changes = ckpt.lr_changes or []
    steps = [at for at, _ in changes]
    if not (1 <= len(steps) <= ckpt.step + 1 and steps[0] == 0 and all(a < b for a, b in zip(steps, steps[1:]))
            and steps[-1] <= ckpt.step):  # what load() reads back: never write a file it would refuse
        raise CheckpointError(f"{path}: the learning-rate schedule ({len(steps):,} changes) is not one a "
                              f"checkpoint at step {ckpt.step} can hold; nothing was saved")
    try:
        target = resolve_output(path)
        version, internal, gauss_next = ckpt.rng_state
        arrays: dict[str, Any] = {  # (Any: numpy's stubs read a dict's keys as savez's own arguments)
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
            "lr_steps": np.array([at for at, _ in ckpt.lr_changes or ()], dtype=np.int64),
            "lr_bases": np.array([base for _, base in ckpt.lr_changes or ()], dtype=np.float64),
        }
        if target.stream:  # a device or a pipe: the zip is made in memory, then written in one go
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            data = buffer.getvalue()

            def write(f: BinaryIO) -> None:
                f.write(data)

            write_file(target, write, wait_for_reader)
        else:
            write_file(target, lambda f: np.savez(f, **arrays))
    except OutputError as exc:
        raise CheckpointError(str(exc)) from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot save checkpoint ({describe(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - a one-line message, never a traceback (MemoryError, ...)
        raise CheckpointError(f"{path}: cannot save checkpoint ({type(exc).__name__}: {_first_line(exc)})") from None
    return Path(path)


def temp_file_beside(path: Path) -> tuple[int, str]:
    """A temporary file in `path`'s folder with a short name (engine.outputs.temp_file_in)."""
    return temp_file_in(path.parent if str(path.parent) else Path("."))


_fsync_folder = fsync_folder  # kept for callers of the old name


def load(path: str | Path) -> Checkpoint:
    """Read and check a checkpoint, or raise CheckpointError saying what is wrong with it."""
    path = Path(path)
    try:
        if path.is_dir():
            raise CheckpointError(f"{path}: is a directory, not a checkpoint")
        if path.exists() and not path.is_file():
            raise CheckpointError(f"{path}: is not a regular file")
        with zipfile.ZipFile(path) as z:
            return _read(z)
    except CheckpointError as exc:
        message = str(exc)
        raise CheckpointError(message if message.startswith(f"{path}: ") else f"{path}: {message}") from None
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except PermissionError:
        raise CheckpointError(f"{path}: permission denied") from None
    except (zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"{path}: not a micromlp-tui checkpoint, or a damaged or truncated one ({exc})") from None
    except (ConfigError, KeyError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint: {_first_line(exc)}") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({describe(exc)})") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, MemoryError) as exc:
        raise CheckpointError(f"{path}: not a micromlp-tui checkpoint ({_first_line(exc)})") from None


def _header(f: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    version = npy.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = npy.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = npy.read_array_header_2_0(f)
    else:
        raise CheckpointError(f"damaged checkpoint: array format {version}")
    return shape, dtype


def _read(z: zipfile.ZipFile) -> Checkpoint:
    names = set(z.namelist())
    if "magic.npy" not in names:
        raise CheckpointError("not a micromlp-tui checkpoint")
    headers = {}
    fields = {**FIELDS, **FIELDS_V2} if {f"{k}.npy" for k in FIELDS_V2} <= names else FIELDS
    for key, (kinds, ndim) in fields.items():  # every header, before any array is read
        if f"{key}.npy" not in names:
            raise CheckpointError(f"damaged checkpoint: no {key!r}")
        with z.open(f"{key}.npy") as f:
            shape, dtype = _header(f)
        if dtype.hasobject or dtype.kind not in kinds or len(shape) != ndim:
            if key == "magic":
                raise CheckpointError("not a micromlp-tui checkpoint")
            raise CheckpointError(f"damaged checkpoint: {key!r} holds {dtype} values of shape {shape}")
        if dtype.kind == "U" and dtype.itemsize // 4 > MAX_TEXT:
            raise CheckpointError(f"damaged checkpoint: {key!r} is {dtype.itemsize // 4:,} characters long")
        headers[key] = shape

    def read(key: str) -> np.ndarray:
        with z.open(f"{key}.npy") as f:
            return npy.read_array(f, allow_pickle=False)

    if str(read("magic")) != MAGIC:
        raise CheckpointError("not a micromlp-tui checkpoint")
    version = int(read("version"))
    if version not in READABLE:
        raise CheckpointError(f"checkpoint format version {version}, expected {READABLE[0]} to {READABLE[-1]}")
    if version >= 2 and fields is FIELDS:
        missing = next(k for k in FIELDS_V2 if f"{k}.npy" not in names)
        raise CheckpointError(f"damaged checkpoint: no {missing!r}")
    uchars = json.loads(str(read("vocab")))
    if not (isinstance(uchars, list) and uchars and all(isinstance(c, str) and len(c) == 1 for c in uchars)
            and all(a < b for a, b in zip(uchars, uchars[1:]))):
        raise CheckpointError("damaged checkpoint: damaged vocabulary")
    config = _config(json.loads(str(read("config"))), len(uchars) + 1, version)
    size = parameter_count(len(uchars) + 1, config.n_embd, config.hidden_size)
    if headers["theta"] != (size,):
        raise CheckpointError(f"holds {math.prod(headers['theta']):,} weights, its settings need {size:,}")
    step = int(read("step"))
    if not 0 <= step <= config.num_steps or headers["losses"] != (step,):
        raise CheckpointError(f"step {step} and {math.prod(headers['losses']):,} recorded losses do not agree")
    if headers["rng_internal"] != (RNG_STATE_SIZE,):
        raise CheckpointError("damaged checkpoint: damaged random state")
    theta = read("theta").astype(np.float64)
    if not np.isfinite(theta).all():
        raise CheckpointError("holds weights that are not finite (NaN or inf)")
    losses = read("losses").astype(np.float64)
    if not (np.isfinite(losses).all() and (losses >= 0).all()):
        raise CheckpointError("damaged checkpoint: holds losses that are not finite numbers >= 0")
    internal = tuple(int(v) for v in read("rng_internal").tolist())
    gauss = float(read("rng_gauss_next"))
    rng_state = (int(read("rng_version")), internal, None if math.isnan(gauss) else gauss)
    random.Random().setstate(rng_state)  # raises ValueError / TypeError if it is not a valid state
    changes = _lr_changes(headers, read, step) if version >= 2 else None
    return Checkpoint(config, uchars, theta, step, losses, rng_state, changes)


def _lr_changes(headers: dict, read: Callable[[str], np.ndarray], step: int) -> list[tuple[int, float]]:
    """The schedule: 1 to step + 1 pairs (no more can be made: one per step at most, each key press
    between two steps replacing the last; so every schedule a run writes is read back, and the
    bound is the losses' own), steps from 0 rising and at most `step` (a change made
    while paused shows at the next step), every base the --lr rules' (finite, > 0)."""
    n = headers["lr_steps"]
    if n != headers["lr_bases"] or not 1 <= n[0] <= step + 1:
        raise CheckpointError(f"damaged checkpoint: a learning-rate schedule of {n[0]:,} steps and "
                              f"{headers['lr_bases'][0]:,} bases")
    steps = [int(s) for s in read("lr_steps").tolist()]
    bases = [float(b) for b in read("lr_bases").astype(np.float64).tolist()]
    if steps[0] != 0 or any(a >= b for a, b in zip(steps, steps[1:])) or steps[-1] > step:
        raise CheckpointError(f"damaged checkpoint: learning-rate changes at steps that do not rise from 0 "
                              f"to at most {step}")
    for base in bases:
        check_lr(base)
    return list(zip(steps, bases))


def _config(fields: object, vocab_size: int, version: int = VERSION) -> Config:
    """The settings, every field present, of the right type and in range: the flags' own checks.
    A version-1 file may lack the settings added since (OPTIONAL_SETTINGS), which take their old value."""
    if not isinstance(fields, dict):
        raise CheckpointError("damaged checkpoint: the settings are not a mapping")
    if version < 2:
        fields = {**OPTIONAL_SETTINGS, **fields}
    if version < 3:
        fields = {**OPTIONAL_SETTINGS_V3, **fields}
    fields = {**LATER_SETTINGS, **fields}
    expected = Config.field_names()
    missing = [k for k in expected if k not in fields]
    extra = [k for k in fields if k not in expected]
    if missing or extra:
        raise CheckpointError(f"damaged checkpoint: settings {'missing' if missing else 'unknown'}: "
                              f"{', '.join(map(str, missing or extra))}")
    return Config(**fields).validate(vocab_size)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["MAGIC", "VERSION", "Checkpoint", "load", "save", "temp_file_beside"]
