"""`--data tutorial`: the tutorial's own 32,033 names (makemore's names.txt), downloaded once.

Like the tutorial's program, which downloads the file when it has no input.txt, but politely: one
download into the user's cache folder ($XDG_CACHE_HOME, else ~/.cache, then micromlp-tui/names.txt),
checked (size and SHA-256) before it is kept, written atomically (a temporary file in the cache folder,
flushed to disk, renamed into place: never a partial file), and used from there afterwards with no
network, its hash checked again at each use. Standard library only.

Environment: MICROMLP_TUTORIAL_URL replaces the address (a mirror, a local copy as file:///...);
MICROMLP_TUTORIAL_TIMEOUT the seconds a connection or a read may wait (default 30).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TextIO

from engine.checkpoint import temp_file_beside
from engine.errors import DataError

URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
URL_ENV = "MICROMLP_TUTORIAL_URL"
TIMEOUT_ENV = "MICROMLP_TUTORIAL_TIMEOUT"
TIMEOUT = 30.0  # seconds a connection or one read may wait
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
    if not value > 0:
        raise DataError(f"{TIMEOUT_ENV}={text!r}: must be > 0 seconds")
    return value


def _by_hand(url: str, path: Path) -> str:
    return f"download it by hand (e.g. curl -fL --create-dirs -o {path} {url}) or use --data PATH"


def _download(url: str, timeout: float, progress: TextIO) -> bytes:
    """The file's bytes (at most SIZE + 1 of them), or DataError saying what was tried."""
    live = progress.isatty()
    tell = f"downloading the tutorial's names.txt from {url}"
    print(f"{tell} ...", end="\r" if live else "\n", file=progress, flush=True)
    chunks, got = [], 0
    deadline = time.monotonic() + 10 * timeout  # a server that sends a byte now and then is a hang too
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a fixed or user-given URL)
            while got <= SIZE:
                chunk = response.read(min(CHUNK, SIZE + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
                if live:
                    print(f"{tell}: {got // 1024} of {SIZE // 1024} KiB", end="\r", file=progress, flush=True)
                if time.monotonic() > deadline:
                    raise TimeoutError("the download took too long")
    except urllib.error.HTTPError as exc:
        raise DataError(f"--data tutorial: {url} answered {exc.code} {exc.reason}; "
                        f"{_by_hand(url, cached_path())}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, OSError) and "timed out" in str(reason):
            reason = f"no answer within {timeout:g} s"
        elif isinstance(reason, OSError) and reason.strerror:
            reason = reason.strerror
        raise DataError(f"--data tutorial: could not download {url} ({reason}); "
                        f"{_by_hand(url, cached_path())}") from None
    finally:
        if live:
            print(file=progress, flush=True)
    return b"".join(chunks)


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


def tutorial_names_path(progress: TextIO | None = None) -> str:
    """The path of a checked copy of the tutorial's names.txt, downloading it the first time.
    Raises DataError (one line: what was tried, and how to do it by hand) when that cannot be done."""
    progress = progress or sys.stderr
    path = cached_path()
    try:
        if is_tutorial_file(path.read_bytes()):
            return str(path)
        print(f"micromlp-tui: {path} is not the tutorial's names.txt (changed or damaged); downloading it again",
              file=progress)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise DataError(f"--data tutorial: cannot read {path} ({exc.strerror})") from None
    url = _url()
    data = _download(url, _timeout(), progress)
    if not is_tutorial_file(data):
        what = f"{len(data):,} bytes" if len(data) <= SIZE else f"more than {SIZE:,} bytes"
        raise DataError(f"--data tutorial: {url} sent {what} that are not the tutorial's names.txt "
                        f"({SIZE:,} bytes, SHA-256 {SHA256[:16]}...); nothing was saved; {_by_hand(URL, path)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save(path, data)
    except OSError as exc:
        raise DataError(f"--data tutorial: cannot save {path} ({exc.strerror}); "
                        f"save it there by hand or use --data PATH") from None
    print(f"micromlp-tui: saved the tutorial's names.txt to {path}", file=progress)
    return str(path)
