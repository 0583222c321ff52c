"""Output files (checkpoints, the --metrics CSV): what may be written, and writing it without loss.

Rules, the same for every output:
- a new or existing REGULAR file is written atomically: a temporary file with a short name
  (`.mmlp-XXXXXXXX.tmp`, so it fits wherever the target's name fits) in the target's folder, flushed to
  disk, then renamed over the target. A symbolic link to a regular file (or a dangling one) is kept: the
  file it points to is replaced.
- an existing character device (/dev/null, a terminal, /dev/stdout) or FIFO (a named pipe, a shell's
  `>(...)`), or the regular file this process's stdout/stderr already writes to, is written THROUGH:
  opened for appending, no temporary file and no rename, so the device node, the pipe or the link is
  never replaced.
- a directory, a block device, a socket or anything else is refused.
- `check_output` refuses, before any training, what would fail at the end: a missing or unwritable
  folder, a file name too long for the folder's file system, a read-only target.
- `check_distinct` refuses an output that is the same file as an input (--data, --load) or as the
  other output, but for the pairs it is told are safe (--save onto --load: resume and save back).
Every refusal is an OutputError with one line naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, BinaryIO, NamedTuple, cast

from engine.errors import OutputError

TEMP_PREFIX, TEMP_SUFFIX = ".mmlp-", ".tmp"  # 18 bytes in all: fits where any name fits


class Target(NamedTuple):
    path: Path  # as given
    real: Path  # where the bytes go: symbolic links resolved (for atomic writes)
    stream: bool  # written through (device, pipe, our own stdout), never renamed over
    exists: bool
    std_fd: int | None = None  # the regular file is our own stdin/stdout/stderr: write through this fd

    def open_stream(self, mode: str = "ab", wait_for_reader: bool = True, **kwargs: object) -> IO:
        """Open a stream target for writing. Our own stdout's file is written through a copy of its
        descriptor, so that its offset is shared and nothing already printed is overwritten. With
        `wait_for_reader` False a FIFO is opened without waiting for a reader: none there is an
        OutputError at once (an app must not hang on its own output), not a wait for ever."""
        if self.std_fd is not None:
            return open(os.dup(self.std_fd), mode, **kwargs)  # type: ignore[call-overload]
        if not wait_for_reader:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # a FIFO that nobody reads
                    raise OutputError(f"{self.path}: is a pipe with no reader; start its reader first") from None
                raise
            try:
                os.set_blocking(fd, True)  # a reader is there: write as to any pipe
                return open(fd, mode, **kwargs)  # type: ignore[call-overload]
            except BaseException:
                os.close(fd)
                raise
        return open(self.path, mode, **kwargs)  # type: ignore[call-overload]


def describe(exc: OSError) -> str:
    """An OSError's reason in a few words, without the path (the caller names the path)."""
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return exc.strerror or type(exc).__name__


def _std_streams() -> dict[tuple[int, int], int]:
    ids: dict[tuple[int, int], int] = {}
    for fd in (2, 1):  # stdout wins
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            ids[(st.st_dev, st.st_ino)] = fd
    return ids


def resolve_output(path: str | Path, label: str | None = None) -> Target:
    """Where and how `path` is written, or OutputError (one line, starting with `label`)."""
    label = label or str(path)
    if str(path) == "":
        raise OutputError(f"{label}: give a file name")
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(f"{label}: the folder {p.parent} is not a folder") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise OutputError(f"{label}: {_too_long(p)}") from None
        raise OutputError(f"{label}: {describe(exc)}") from None
    if st is None:
        real = Path(os.path.realpath(p))  # a dangling link: the file it names
        if not real.parent.is_dir():
            raise OutputError(f"{label}: the folder {p.parent if str(p.parent) else '.'} does not exist")
        return Target(p, real, False, False)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise OutputError(f"{label}: is a directory; give a file name")
    if stat.S_ISREG(mode):
        fd = _std_streams().get((st.st_dev, st.st_ino))
        if fd is not None:
            return Target(p, p, True, True, fd)  # e.g. /dev/stdout redirected to a file: add to it
        return Target(p, Path(os.path.realpath(p)), False, True)
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return Target(p, p, True, True)
    kind = "a block device" if stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
    raise OutputError(f"{label}: is {kind}; it is not written to (give a file name)")


def _too_long(p: Path) -> str:
    size, most = len(os.fsencode(p.name)), name_max(p.parent if str(p.parent) else Path("."))
    if size > most:
        return f"the file name is too long ({size} bytes; at most {most} here)"
    return "the path is too long"


def name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_output(flag: str, path: str | Path | None) -> Target | None:
    """Everything about an output path that can be checked before training, checked now."""
    if path is None:
        return None
    label = f"{flag} {path}"
    target = resolve_output(path, label)
    if target.stream:
        if not os.access(target.path, os.W_OK):
            raise OutputError(f"{label}: permission denied")
        return target
    folder = target.real.parent
    size, most = len(os.fsencode(target.real.name)), name_max(folder)
    if size > most:
        raise OutputError(f"{label}: the file name is too long ({size} bytes; at most {most} here)")
    if target.exists and not os.access(target.real, os.W_OK):
        raise OutputError(f"{label}: is read-only; it is not replaced")
    try:  # the temporary file the write will use: proves the folder takes a new file
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = "is not writable" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else describe(exc)
        raise OutputError(f"{label}: the folder {folder} {reason}") from None
    return target


def _identity(path: str | Path) -> tuple[object, ...]:
    try:
        st = os.stat(path)
        return ("inode", st.st_dev, st.st_ino)
    except OSError:
        return ("path", os.path.realpath(path))


def check_distinct(outputs: Iterable[tuple[str, str | Path | None]],
                   inputs: Iterable[tuple[str, str | Path | None]],
                   allowed: Iterable[tuple[str, str]] = ()) -> None:
    """Refuse an output that is the same file as an input or as another output (by device and inode
    when the file exists, by resolved path when it does not yet). `allowed` holds the (output flag,
    input flag) pairs that may be one file: ("--save", "--load") resumes a run and saves it back, which
    the atomic write makes safe (the input was read whole before anything is written)."""
    ok = set(allowed)
    seen: dict[tuple[object, ...], list[tuple[str, str]]] = {}
    for flag, path in inputs:
        if path is not None:
            seen.setdefault(_identity(path), []).append((flag, f"{flag} {path}"))
    for flag, path in outputs:
        if path is None:
            continue
        key = _identity(path)
        clash = next((label for other, label in seen.get(key, []) if (flag, other) not in ok), None)
        if clash is not None:
            raise OutputError(f"{flag} {path}: is the same file as {clash}; it would be overwritten")
        seen.setdefault(key, []).append((flag, f"{flag} {path}"))


def temp_file_in(folder: Path) -> tuple[int, str]:
    """A temporary file in `folder` (so the final rename is atomic), with a short name and the
    permissions a plainly created file would get (mkstemp's are 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    return fd, tmp


def fsync_folder(folder: Path) -> None:
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


def write_file(target: Target, write: Callable[[BinaryIO], None], wait_for_reader: bool = True) -> None:
    """Write through (a stream) or atomically (a regular file). Raises OSError (or OutputError: a
    pipe with no reader, when not `wait_for_reader`); an interrupted or failed atomic write removes
    its temporary file and leaves the previous file whole."""
    if target.stream:
        with target.open_stream("ab", wait_for_reader) as stream:
            write(cast(BinaryIO, stream))  # opened in "ab": binary
            stream.flush()
        return
    folder = target.real.parent
    fd, tmp = temp_file_in(folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target.real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(folder)
