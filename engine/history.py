"""The loss of every step, kept compactly, with its moving average and a plot-sized view.

The moving average is TensorBoard's smoothing: with weight w (0 = none, 0.98 = about the last 50
steps), s_i = w s_(i-1) + (1 - w) x_i from s_(-1) = 0, shown debiased as s_i / (1 - w^(i+1)), so that
the first steps are not pulled towards 0. `set_weight()` recomputes the whole line for a new weight.

Where the values live: each series (the losses, the moving average) is cut into chunks of CHUNK values.
Only the chunk being filled is in memory; a full one is written to an anonymous temporary file (unlinked
at once: nothing outlives the process) and read back when asked for (`_Chunks`). So a run of 10,000,000
steps keeps about 1 MB in memory and 160 MB on disk instead of 160-320 MB in memory. A chunk that cannot
be written (no space, no temporary folder) stays in memory: nothing is lost. `losses` and `ema` are
read-only views (`Series`) of the values taken so far: a slice or an index array gives a numpy array,
np.asarray() the whole series.

Appended to by one thread (the trainer) and read by another (a screen): a reader takes `len()`
first and then reads that many values, which are final once appended (a full chunk is written to the
file before its memory is let go). `set_weight()` must not run while a step is appended (the app holds
the training loop's lock); it builds the new moving average beside the old one and swaps it in whole.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, overload

import numpy as np

SMOOTHING = 0.98  # the moving average's weight w: the newest loss counts 1 - w = 0.02 (about 50 steps)
SMOOTHING_LEVELS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)  # the steps the keys go through
_CHUNK = 4096  # values smoothed at a time: w^-CHUNK stays finite for w >= 0.85; a smaller w uses less
CHUNK_BITS = 16
CHUNK = 1 << CHUNK_BITS  # values per stored chunk (512 KB of float64): the memory one series keeps
_MASK = CHUNK - 1
PIECE = 1 << 20  # values read at a time when a whole series is walked (8 MB)


def _smooth_chunk(weight: float) -> int:
    return max(1, min(_CHUNK, int(280 / -math.log10(weight))))  # w^-chunk < 1e280


def smooth(values: np.ndarray, weight: float) -> tuple[np.ndarray, float]:
    """(the debiased moving average of `values` at `weight`, the last biased s): smooth_pieces' pieces
    end to end."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(0), 0.0
    pieces = list(smooth_pieces(x, weight))
    return np.concatenate([part for part, _ in pieces]), pieces[-1][1]


def smooth_pieces(read: Series | np.ndarray, weight: float) -> Iterator[tuple[np.ndarray, float]]:
    """The debiased moving average of `read` at `weight` a piece at a time, so that nothing but one
    chunk's values is in memory at once: (the next values of the average, the biased s after them).
    Vectorised: within a chunk of m values, s_(c+j) = w^(j+1) s_(c-1) + (1 - w) w^j cumsum(x_i w^-i)."""
    n = len(read)
    if weight <= 0.0:
        for a in range(0, n, PIECE):
            seg = read[a : min(a + PIECE, n)]
            yield seg, float(seg[-1])
        return
    w = float(weight)
    chunk = _smooth_chunk(w)
    lw = math.log(w)
    s = 0.0
    with np.errstate(all="ignore"):
        for c in range(0, n, chunk):
            seg = read[c : min(c + chunk, n)]
            j = np.arange(len(seg), dtype=np.float64)
            wj = w**j
            part = w * wj * s + (1 - w) * wj * np.cumsum(seg / wj)
            s = float(part[-1])
            debias = -np.expm1(np.arange(c + 1, c + len(seg) + 1, dtype=np.float64) * lw)
            yield part / debias, s


def _spill_dir() -> str | None:
    """Where spilled chunks go: $TMPDIR when set, else /var/tmp (on disk where /tmp is in memory), else
    Python's default."""
    if os.environ.get("TMPDIR"):
        return None
    return "/var/tmp" if os.path.isdir("/var/tmp") and os.access("/var/tmp", os.W_OK | os.X_OK) else None


class _Chunks:
    """One float64 series in chunks of CHUNK values: `mem[k]` is chunk k's array while it is in memory
    (the last one, being filled, always), None once written to the file at byte k * CHUNK * 8."""

    def __init__(self) -> None:
        self.mem: list[np.ndarray | None] = [np.empty(CHUNK)]
        self.file: IO[bytes] | None = None
        self.spill = True  # False after a write failed: keep every chunk in memory from then on
        self._lock = threading.Lock()  # for seek + read where there is no os.pread

    def roll(self) -> np.ndarray:
        """The last chunk is full: write it out, start the next one (returned)."""
        k = len(self.mem) - 1
        full = self.mem[k]
        new = np.empty(CHUNK)
        self.mem.append(new)
        if full is not None and self._write(k, full):
            self.mem[k] = None  # after the write: a reader finds it in memory or in the file
        return new

    def _write(self, k: int, values: np.ndarray) -> bool:
        if not self.spill:
            return False
        try:
            if self.file is None:
                self.file = tempfile.TemporaryFile(dir=_spill_dir())
            data = values.data.cast("B")
            at = k * CHUNK * 8
            if hasattr(os, "pwrite"):
                fd, done = self.file.fileno(), 0
                while done < len(data):
                    done += os.pwrite(fd, data[done:], at + done)
            else:  # pragma: no cover - (Windows)
                with self._lock:
                    self.file.seek(at)
                    self.file.write(data)
                    self.file.flush()
            return True
        except (OSError, ValueError):
            self.spill = False
            return False

    def chunk(self, k: int, lo: int = 0, hi: int = CHUNK) -> np.ndarray:
        """Values lo .. hi - 1 of chunk k (a view when in memory, read-only when read back)."""
        arr = self.mem[k]  # once: the trainer may let it go just after
        if arr is not None:
            return arr[lo:hi]
        assert self.file is not None
        at, size = (k * CHUNK + lo) * 8, (hi - lo) * 8
        if hasattr(os, "pread"):
            fd, parts, got = self.file.fileno(), [], 0
            while got < size:
                part = os.pread(fd, size - got, at + got)
                if not part:
                    raise OSError(f"the loss history's temporary file ended early ({got} of {size} bytes)")
                parts.append(part)
                got += len(part)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
        else:  # pragma: no cover - (Windows)
            with self._lock:
                self.file.seek(at)
                data = self.file.read(size)
        return np.frombuffer(data, dtype=np.float64)

    def read(self, a: int, b: int) -> np.ndarray:
        """Values a .. b - 1 (0 <= a <= b, below what was written)."""
        if b <= a:
            return np.zeros(0)
        k0, k1 = a >> CHUNK_BITS, (b - 1) >> CHUNK_BITS
        if k0 == k1:
            return self.chunk(k0, a - (k0 << CHUNK_BITS), b - (k0 << CHUNK_BITS))
        out = np.empty(b - a)
        for k in range(k0, k1 + 1):
            lo, hi = max(a, k << CHUNK_BITS), min(b, (k + 1) << CHUNK_BITS)
            out[lo - a : hi - a] = self.chunk(k, lo - (k << CHUNK_BITS), hi - (k << CHUNK_BITS))
        return out

    def gather(self, idx: np.ndarray) -> np.ndarray:
        """Values at the indices `idx` (each 0 <= i, below what was written)."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty(idx.shape)
        flat, res = idx.ravel(), out.reshape(-1)
        ks = flat >> CHUNK_BITS
        for k in np.unique(ks).tolist():
            sel = np.flatnonzero(ks == k)
            within = flat[sel] - (k << CHUNK_BITS)
            if self.mem[k] is not None or len(sel) > 64:
                res[sel] = self.chunk(k)[within] if self.mem[k] is not None else self._read_span(k, within)
            else:  # a few values of a written chunk: read just those
                res[sel] = [self.chunk(k, i, i + 1)[0] for i in within.tolist()]
        return out

    def _read_span(self, k: int, within: np.ndarray) -> np.ndarray:
        lo, hi = int(within.min()), int(within.max()) + 1
        return self.chunk(k, lo, hi)[within - lo]

    def extend(self, values: np.ndarray, n: int) -> None:
        """Append `values` after the first `n` values (as appending them one by one would)."""
        at = 0
        while at < len(values):
            i = n & (CHUNK - 1)
            tail = self.mem[-1]
            if i == 0 and n:
                tail = self.roll()
            assert tail is not None
            m = min(CHUNK - i, len(values) - at)
            tail[i : i + m] = values[at : at + m]
            at, n = at + m, n + m

    @property
    def nbytes_in_memory(self) -> int:
        return sum(a.nbytes for a in self.mem if a is not None)


class Series:
    """The first `n` values of one series of a LossHistory, read where they are kept. Indexing as a
    numpy array's: an int gives a float, a slice (step 1) or an index array a new array; np.asarray()
    and copy() the whole series (n values in memory: for a long run, read it in slices instead)."""

    def __init__(self, chunks: _Chunks, n: int):
        self._chunks, self._n = chunks, n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, key: int | np.integer) -> float: ...

    @overload
    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray: ...

    def __getitem__(self, key: int | np.integer | slice | np.ndarray) -> np.ndarray | float:
        n = self._n
        if isinstance(key, slice):
            a, b, step = key.indices(n)
            if step == 1:
                return self._chunks.read(a, max(a, b))
            return self._chunks.gather(np.arange(a, b, step, dtype=np.int64))
        if isinstance(key, (int, np.integer)):
            i = int(key) + (n if key < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"index {int(key)} is out of range for {n} values")
            return float(self._chunks.chunk(i >> CHUNK_BITS, i & (CHUNK - 1), (i & (CHUNK - 1)) + 1)[0])
        idx = np.asarray(key)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        idx = np.where(idx < 0, idx + n, idx)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"an index is out of range for {n} values")
        return self._chunks.gather(idx)

    @property
    def line(self) -> object:
        """What the values are read from: the same object as long as they are the same line (a LossHistory
        smoothed again with a new weight keeps its moving average in a new one)."""
        return self._chunks

    def head(self, n: int) -> Series:
        """The first min(n, len) values, as a Series (nothing read)."""
        return Series(self._chunks, max(0, min(n, self._n)))

    def pieces(self, a: int = 0, b: int | None = None) -> Iterator[np.ndarray]:
        """Values a .. b - 1 in consecutive arrays of at most PIECE values."""
        b = self._n if b is None else min(b, self._n)
        for p in range(a, b, PIECE):
            yield self._chunks.read(p, min(p + PIECE, b))

    def __iter__(self) -> Iterator[float]:
        for piece in self.pieces():
            yield from piece.tolist()

    def copy(self) -> np.ndarray:
        return np.array(self._chunks.read(0, self._n), dtype=np.float64)  # (always a new array)

    def tolist(self) -> list[float]:
        return list(self)

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        out = self.copy()
        return out if dtype is None else out.astype(dtype)  # type: ignore[call-overload]

    def __repr__(self) -> str:
        return f"Series({self._n} values)"


class LossHistory:
    def __init__(self, losses: np.ndarray | list[float] | tuple[float, ...] = (), weight: float = SMOOTHING):
        values = np.asarray(losses, dtype=np.float64)
        self._loss = _Chunks()
        self._loss.extend(values, 0)
        self._n = len(values)
        self._tl = self._loss.mem[-1]  # the chunk being filled (losses), written to at _n & (CHUNK - 1)
        self._set(weight)

    def _set(self, weight: float) -> None:
        n = self._n
        ema, s, last, done = _Chunks(), 0.0, 0.0, 0
        for part, after in smooth_pieces(self.losses, weight):
            ema.extend(part, done)
            done, s, last = done + len(part), after, float(part[-1])
        # every field the next append reads, then the series (a reader sees the old line or the new)
        self._s = s  # the biased average after the last step (a Python float: numpy scalars are slower)
        self.weight = float(weight)
        self._wpow = self.weight**n  # w^n, for the next step's debias
        self._last_ema = last if n else 0.0
        self._ema, self._te = ema, ema.mem[-1]

    def set_weight(self, weight: float) -> None:
        """Smooth the whole history again with `weight` (0 <= weight < 1)."""
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"a smoothing weight is in [0, 1), got {weight}")
        self._set(weight)

    @property
    def alpha(self) -> float:
        """The newest loss's weight in the (biased) average: 1 - weight."""
        return 1.0 - self.weight

    def __len__(self) -> int:
        return self._n

    def append(self, loss: float) -> None:
        n = self._n
        i = n & _MASK
        if i == 0 and n:  # the chunks are full: write them out, start the next
            self._tl, self._te = self._loss.roll(), self._ema.roll()
        w = self.weight
        s = w * self._s + (1 - w) * loss
        wpow = self._wpow * w
        ema = s / (1 - wpow) if wpow != 1.0 else loss
        self._tl[i] = loss  # type: ignore[index]
        self._te[i] = ema  # type: ignore[index]
        self._s, self._wpow, self._last_ema = s, wpow, ema
        self._n = n + 1

    @property
    def losses(self) -> Series:
        return Series(self._loss, self._n)

    @property
    def ema(self) -> Series:
        return Series(self._ema, self._n)

    @property
    def last_ema(self) -> float:
        return self._last_ema if self._n else float("nan")

    @property
    def nbytes_in_memory(self) -> int:
        """The bytes of values this history holds in memory (the rest are in its temporary files)."""
        return self._loss.nbytes_in_memory + self._ema.nbytes_in_memory

    def downsampled(self, points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At most `points` (step, loss, ema) samples spread evenly over the whole history.

        Plotting a million points costs seconds a frame; a screen column shows about two."""
        n = self._n
        if n == 0:
            empty = np.zeros(0)
            return empty, empty, empty
        idx = np.unique(np.linspace(0, n - 1, num=min(n, max(points, 2))).astype(np.intp))
        return idx.astype(np.float64), self._loss.gather(idx), self._ema.gather(idx)

    def mean_last(self, k: int) -> float:
        n = self._n
        return float(self._loss.read(max(0, n - k), n).mean()) if n else float("nan")
