"""Checkpoints: one .npz file with all a run needs to go on training or to sample.

Holds the weights, the vocabulary, every setting, the step reached, the loss of every step so far and
the state of the run's `random.Random` (so the samples after a resumed run are the ones an
uninterrupted run draws). Written as engine.outputs says: atomically (a temporary file in the same
folder, flushed to disk, then renamed over the target) for a regular file, straight through for a
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy

from engine.config import Config, parameter_count
from engine.errors import CheckpointError, ConfigError, OutputError
from engine.outputs import describe, fsync_folder, resolve_output, temp_file_in, write_file

MAGIC = "micromlp-tui checkpoint"
VERSION = 1
MAX_TEXT = 1 << 20  # characters in the settings' or the vocabulary's JSON
RNG_STATE_SIZE = 625  # random.Random's Mersenne Twister state: 624 words and an index
RngState = tuple[int, tuple[int, ...], float | None]  # what random.Random.getstate() returns

# field -> (allowed dtype kinds, number of dimensions); shapes are checked against the settings
FIELDS = {
    "magic": ("U", 0), "version": ("iu", 0), "config": ("U", 0), "vocab": ("U", 0), "step": ("iu", 0),
    "theta": ("f", 1), "losses": ("f", 1), "rng_version": ("iu", 0), "rng_internal": ("iu", 1),
    "rng_gauss_next": ("f", 0),
}


@dataclass
class Checkpoint:
    config: Config
    uchars: list[str]
    theta: np.ndarray  # (num_params,) float64, all finite
    step: int  # steps taken; the next step to take
    losses: np.ndarray  # (step,) float64: the loss of every step taken
    rng_state: RngState


def save(path: str | Path, ckpt: Checkpoint) -> Path:
    """Write `ckpt` to `path` (see engine.outputs). Refuses weights that are not finite. Any failure is
    a CheckpointError with one line naming the path; nothing else is raised (but KeyboardInterrupt,
    after which the previous file is whole and no temporary file is left)."""
    if not np.isfinite(ckpt.theta).all():
        raise CheckpointError(f"{path}: the weights are not finite (the run diverged); nothing was saved")
    try:
        target = resolve_output(path)
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
        if target.stream:  # a device or a pipe: the zip is made in memory, then written in one go
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            data = buffer.getvalue()
            write_file(target, lambda f: f.write(data))
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
    for key, (kinds, ndim) in FIELDS.items():  # every header, before any array is read
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
    if int(read("version")) != VERSION:
        raise CheckpointError(f"checkpoint format version {int(read('version'))}, expected {VERSION}")
    uchars = json.loads(str(read("vocab")))
    if not (isinstance(uchars, list) and uchars and all(isinstance(c, str) and len(c) == 1 for c in uchars)
            and all(a < b for a, b in zip(uchars, uchars[1:]))):
        raise CheckpointError("damaged checkpoint: damaged vocabulary")
    config = _config(json.loads(str(read("config"))), len(uchars) + 1)
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
    return Checkpoint(config, uchars, theta, step, losses, rng_state)


def _config(fields: object, vocab_size: int) -> Config:
    """The settings, every field present, of the right type and in range: the flags' own checks."""
    if not isinstance(fields, dict):
        raise CheckpointError("damaged checkpoint: the settings are not a mapping")
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
