"""`--data tutorial`: the tutorial's own 32,033 names (makemore's names.txt), downloaded once.

Like the tutorial's program, which downloads the file when it has no input.txt, but politely: one
download into the user's cache folder ($XDG_CACHE_HOME, else ~/.cache, then micromlp-tui/names.txt),
checked (size and SHA-256) before it is kept, written atomically (a temporary file in the cache folder,
flushed to disk, renamed into place: never a partial file), and used from there afterwards with no
network, its hash checked again at each use. Standard library only.

Environment: MICROMLP_TUTORIAL_URL replaces the address (a mirror, a local copy as file:///...);
MICROMLP_TUTORIAL_TIMEOUT the seconds a connection or a read may wait (default 30; at most 3,600).

Both the server and the cache are untrusted input (issue 16): the whole download, headers included,
is given up after DEADLINE_FACTOR x the timeout however the bytes trickle in (it runs in a thread that
is abandoned then; each read is one socket read of at most CHUNK bytes, bounded by the timeout and by
what is left of the deadline); the cache file is looked at (its type and size) before it is opened, a
FIFO or device is never read, and at most SIZE + 1 bytes are read from it. The address and the paths
are printed with their control characters escaped.
"""

from __future__ import annotations

import hashlib
import http.client
import math
import os
import stat
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

from engine.checkpoint import temp_file_beside
from engine.errors import DataError
from engine.printable import printable

URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
URL_ENV = "MICROMLP_TUTORIAL_URL"
TIMEOUT_ENV = "MICROMLP_TUTORIAL_TIMEOUT"
TIMEOUT = 30.0  # seconds a connection or one read may wait
MAX_TIMEOUT = 3600.0
DEADLINE_FACTOR = 10  # the whole download may take this many timeouts (a server that trickles is a hang too)
SIZE = 228_145  # bytes
SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
CHUNK = 16 * 1024


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/micromlp-tui, or ~/.cache/micromlp-tui (a relative XDG_CACHE_HOME is ignored,
    as the XDG spec says)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "micromlp-tui"


def cached_path() -> Path:
    return cache_dir() / "names.txt"


def is_tutorial_file(data: bytes) -> bool:
    return len(data) == SIZE and hashlib.sha256(data).hexdigest() == SHA256


def _url() -> str:
    return os.environ.get(URL_ENV) or URL


def _timeout() -> float:
    text = os.environ.get(TIMEOUT_ENV)
    if not text:
        return TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{TIMEOUT_ENV}={text!r}: not a number of seconds") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise DataError(f"{TIMEOUT_ENV}={text!r}: must be more than 0 and at most {MAX_TIMEOUT:,.0f} seconds")
    return value


def _by_hand(url: str, path: Path) -> str:
    return (f"download it by hand (e.g. curl -fL --create-dirs -o {printable(str(path))} {printable(url)}) "
            "or use --data PATH")


def _socket_of(response: object) -> object | None:
    """The socket under an HTTP(S) response (None for file:// and others): http.client keeps it as
    response.fp (a buffered reader) -> .raw (a SocketIO) -> ._sock."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def _fetch(url: str, timeout: float, deadline: float, got: list[int], stop: threading.Event) -> bytes:
    """The file's bytes (at most SIZE + 1 of them), read one socket read at a time, each bounded by
    `timeout` and by what is left until `deadline` (time.monotonic()). Raises what urllib raises, or
    TimeoutError; `got[0]` counts the bytes so far (for the progress line)."""
    chunks = []
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a fixed or user-given URL)
        sock = _socket_of(response)
        read = getattr(response, "read1", None) or response.read
        while got[0] <= SIZE and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the download took too long")
            if sock is not None:
                sock.settimeout(min(timeout, left))  # type: ignore[attr-defined]
            chunk = read(min(CHUNK, SIZE + 1 - got[0]))
            if not chunk:
                break
            chunks.append(chunk)
            got[0] += len(chunk)
    return b"".join(chunks)


def _download(url: str, timeout: float, progress: TextIO) -> bytes:
    """The file's bytes (at most SIZE + 1 of them), or DataError saying what was tried. The whole
    download (connection and headers included) ends by DEADLINE_FACTOR x `timeout`: it runs in a
    thread, abandoned at the deadline (it ends by itself within one more `timeout`)."""
    live = progress.isatty()
    shown = printable(url)
    tell = f"downloading the tutorial's names.txt from {shown}"
    print(f"{tell} ...", end="\r" if live else "\n", file=progress, flush=True)
    limit = DEADLINE_FACTOR * timeout
    deadline = time.monotonic() + limit
    got, stop = [0], threading.Event()
    data: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            data.append(_fetch(url, timeout, deadline, got, stop))
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
            errors.append(exc)

    worker = threading.Thread(target=work, name="tutorial-download", daemon=True)
    worker.start()
    try:
        while worker.is_alive() and time.monotonic() < deadline:
            worker.join(min(0.1, max(0.0, deadline - time.monotonic())))
            if live:
                print(f"{tell}: {got[0] // 1024} of {SIZE // 1024} KiB", end="\r", file=progress, flush=True)
    finally:
        stop.set()  # the worker stops at its next read; a ctrl+c here leaves it to die with the process
        if live:
            print(file=progress, flush=True)
    if worker.is_alive():
        errors[:] = [TimeoutError("the download took too long")]
    if not errors:
        return data[0]
    exc = errors[0]
    if isinstance(exc, urllib.error.HTTPError):
        raise DataError(f"--data tutorial: {shown} answered {exc.code} {exc.reason}; "
                        f"{_by_hand(url, cached_path())}") from None
    if isinstance(exc, TimeoutError) and "took too long" in str(exc):
        raise DataError(f"--data tutorial: could not download {shown} (not all of it within {limit:g} s); "
                        f"{_by_hand(url, cached_path())}") from None
    if isinstance(exc, (urllib.error.URLError, OSError, ValueError, http.client.HTTPException)):
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, OSError) and "timed out" in str(reason):
            reason = f"no answer within {timeout:g} s"
        elif isinstance(reason, OSError) and reason.strerror:
            reason = reason.strerror
        raise DataError(f"--data tutorial: could not download {shown} ({reason}); "
                        f"{_by_hand(url, cached_path())}") from None
    raise exc


def _save(path: Path, data: bytes) -> None:
    fd, tmp = temp_file_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)  # the rename itself, on disk
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _read_cache(path: Path) -> bytes | None:
    """The cached copy's bytes, None when there is none, b"" when it is a regular file of another size
    (not read: downloaded again); DataError when something else sits there (a folder, a FIFO, a device,
    or a link to one): it is never opened for reading, nor replaced."""
    def refuse(what: str) -> DataError:
        return DataError(f"--data tutorial: the cached copy {printable(str(path))} is {what}, not the file; "
                         "remove it (it is then downloaded again) or use --data PATH")

    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataError(f"--data tutorial: cannot read {printable(str(path))} ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise refuse(_kind(info.st_mode))
    if info.st_size != SIZE:
        return b""
    try:  # O_NONBLOCK: should a FIFO be swapped in after the stat, opening and reading it do not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DataError(f"--data tutorial: cannot read {printable(str(path))} ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise refuse(_kind(mode))
        chunks, left = [], SIZE + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise DataError(f"--data tutorial: cannot read {printable(str(path))} ({exc.strerror})") from None
    finally:
        os.close(fd)


def tutorial_names_path(progress: TextIO | None = None) -> str:
    """The path of a checked copy of the tutorial's names.txt, downloading it the first time.
    Raises DataError (one line: what was tried, and how to do it by hand) when that cannot be done."""
    progress = progress or sys.stderr
    path = cached_path()
    cached = _read_cache(path)
    if cached is not None:
        if is_tutorial_file(cached):
            return str(path)
        print(f"micromlp-tui: {printable(str(path))} is not the tutorial's names.txt (changed or damaged); "
              "downloading it again", file=progress)
    url = _url()
    data = _download(url, _timeout(), progress)
    if not is_tutorial_file(data):
        what = f"{len(data):,} bytes" if len(data) <= SIZE else f"more than {SIZE:,} bytes"
        raise DataError(f"--data tutorial: {printable(url)} sent {what} that are not the tutorial's names.txt "
                        f"({SIZE:,} bytes, SHA-256 {SHA256[:16]}...); nothing was saved; {_by_hand(URL, path)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save(path, data)
    except OSError as exc:
        raise DataError(f"--data tutorial: cannot save {printable(str(path))} ({exc.strerror}); "
                        f"save it there by hand or use --data PATH") from None
    print(f"micromlp-tui: saved the tutorial's names.txt to {printable(str(path))}", file=progress)
    return str(path)
