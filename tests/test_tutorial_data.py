"""`--data tutorial`: downloaded once, checked, cached atomically; all against a local HTTP server.

Never the real network, never the real ~/.cache: every test gets its own XDG_CACHE_HOME, and the
address points at 127.0.0.1 unless a test's own server replaces it.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine import tutorial_data as td
from engine.errors import DataError
from tui.console.flags import build_parser
from tui.console.headless import run_headless

ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nobody listens there


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Each test's own cache folder, and an address on this machine where nothing answers."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv(td.URL_ENV, f"http://127.0.0.1:{_closed_port()}/names.txt")
    monkeypatch.setenv(td.TIMEOUT_ENV, "0.5")


class Names:
    """A local HTTP server whose answer a test picks: the file, a cut-off one, another file, a hang."""

    def __init__(self, body: bytes):
        self.body, self.mode, self.requests = body, "ok", 0
        self.release = threading.Event()
        names = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                names.requests += 1
                body = names.body
                if names.mode == "hang":  # accepts, then never answers
                    names.release.wait(10)
                    return
                if names.mode == "404":
                    self.send_error(404)
                    return
                if names.mode == "short":  # a complete answer holding half the file
                    body = body[: len(body) // 2]
                if names.mode == "wrong":  # another file of the same size
                    body = body.replace(b"emma", b"anna", 1)
                if names.mode == "huge":
                    body = body * 3
                self.send_response(200)
                self.send_header("Content-Length", str(len(names.body) if names.mode == "cut" else len(body)))
                self.end_headers()
                if names.mode == "cut":  # the connection drops halfway
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/names.txt"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def names_server(shared_names, monkeypatch):
    server = Names(shared_names.read_bytes())
    monkeypatch.setenv(td.URL_ENV, server.url)
    try:
        yield server
    finally:
        server.close()


def _cache_files() -> list[str]:
    folder = td.cache_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_cache_folder_follows_xdg(tmp_path, monkeypatch):
    assert td.cached_path() == tmp_path / "cache" / "micromlp-tui" / "names.txt"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert td.cached_path() == tmp_path / "home" / ".cache" / "micromlp-tui" / "names.txt"


def test_downloaded_once_then_used_with_no_network(names_server, shared_names, monkeypatch):
    err = io.StringIO()
    path = td.tutorial_names_path(progress=err)
    assert Path(path) == td.cached_path()
    assert Path(path).read_bytes() == shared_names.read_bytes()
    assert "downloading the tutorial's names.txt from " + names_server.url in err.getvalue()
    assert names_server.requests == 1
    assert _cache_files() == ["names.txt"]  # no temporary file left

    monkeypatch.setenv(td.URL_ENV, f"http://127.0.0.1:{_closed_port()}/gone")  # no network any more
    err = io.StringIO()
    assert td.tutorial_names_path(progress=err) == path
    assert names_server.requests == 1 and err.getvalue() == ""


@pytest.mark.parametrize("mode, said", [("cut", "sent 114,072 bytes that are not"),
                                        ("short", "sent 114,072 bytes that are not"),
                                        ("wrong", "sent 228,145 bytes that are not"),
                                        ("huge", "more than 228,145 bytes"),
                                        ("404", "answered 404")])
def test_a_bad_answer_is_refused_and_nothing_is_saved(names_server, mode, said):
    names_server.mode = mode
    with pytest.raises(DataError, match=re.escape(said)) as exc:
        td.tutorial_names_path(progress=io.StringIO())
    message = str(exc.value)
    assert "\n" not in message and message.startswith("--data tutorial: ")
    assert "by hand" in message
    assert _cache_files() == []  # not even a temporary file


def test_a_wrong_download_leaves_the_cache_untouched(names_server):
    td.tutorial_names_path(progress=io.StringIO())
    good = td.cached_path().read_bytes()
    td.cached_path().write_bytes(good[:-1])  # damaged since: it is fetched again...
    names_server.mode = "wrong"  # ...but what comes is not the file: refused, the cache as it was
    with pytest.raises(DataError, match="not the tutorial's names.txt"):
        td.tutorial_names_path(progress=io.StringIO())
    assert td.cached_path().read_bytes() == good[:-1]
    assert _cache_files() == ["names.txt"]
    names_server.mode = "ok"
    err = io.StringIO()
    td.tutorial_names_path(progress=err)  # a good download replaces the damaged copy
    assert td.cached_path().read_bytes() == good
    assert "downloading it again" in err.getvalue()


def test_a_server_that_hangs_times_out(names_server):
    names_server.mode = "hang"
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"no answer within 0\.5 s") as exc:
        td.tutorial_names_path(progress=io.StringIO())
    assert time.perf_counter() - t0 < 5
    assert names_server.url in str(exc.value) and "curl -fL --create-dirs -o" in str(exc.value)
    assert _cache_files() == []


def test_no_network_is_one_line_and_exit_2(tmp_path):
    """The console command, with nothing answering at the address (the offline fixture's)."""
    done = subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--data", "tutorial"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert done.returncode == 2 and done.stdout == ""
    error = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(error) == 1, done.stderr
    assert re.match(r"micromlp-tui: error: --data tutorial: could not download http://127\.0\.0\.1:\d+/names\.txt "
                    r"\(.*\); download it by hand \(e\.g\. curl -fL --create-dirs -o .*/micromlp-tui/names\.txt ",
                    error[0]), error[0]
    assert not (tmp_path / "cache" / "micromlp-tui" / "names.txt").exists()


def _without_timing(text: str) -> str:
    return re.sub(r"in [\d.]+ s \([\d,]+ steps/s\)", "in T", text)


def test_data_tutorial_is_the_tutorials_run(names_server, shared_names):
    """With default flags, `--data tutorial` prints what `--data <the tutorial's names.txt>` prints."""
    outputs = []
    for data in ("tutorial", str(shared_names)):
        out = io.StringIO()
        assert run_headless(build_parser().parse_args(["--headless", "--data", data]), out=out) == 0
        outputs.append(_without_timing(out.getvalue()))
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith("tutorial names (32,033), vocabulary 27 tokens, 3,184 params (the page's 2,480 is a "
                                 "miscount)")
    assert "sample  1: " in outputs[0] and names_server.requests == 1
