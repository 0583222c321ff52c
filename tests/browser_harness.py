"""Drive `micromlp-tui --serve` in a real headless Chromium (Playwright + Debian's /usr/bin/chromium).

xterm.js draws on a canvas, so the page's DOM holds no text: the screen is read by feeding the
websocket's frames into a pyte terminal emulator of the same size. Used by tests/test_browser.py,
bench/bench_browser.py and docs/browser_screenshot.py.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Two names that this Chromium (only) resolves to 127.0.0.1: another site's page (test_browser.py), and a
# DNS-rebinding page whose own name points at our server.
OTHER_SITE, REBOUND = "another-site.test", "rebound.test"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--host-resolver-rules=MAP {OTHER_SITE} 127.0.0.1, MAP {REBOUND} 127.0.0.1"]
VIEWPORT = {"width": 1088, "height": 850}  # with FONT_SIZE: a terminal of about 120 x 40
FONT_SIZE = 16

# What the test looks for on the screen. The dashboard's text may change: adjust these, in one place.
PATTERNS = {
    "first_frame": r"step\s+0\b",  # the status line, drawn at start
    "step": r"step\s+(\d[\d,]*)",  # step counters (with separators: 1,234): the largest on the screen is the run's
    "temperature_060": r"temperature\s*0\.60|T\s*0\.60",  # after one `+` from 0.50
    # bench_browser.py presses + and - in turn: only text that shows the current temperature will do
    "now_060": r"temperature\s*0\.60",
    "now_050": r"temperature\s*0\.50",
}


def app_pids(server_pid: int) -> list[int]:
    """The server's live children (its app processes), from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 1 and fields[1] == str(server_pid) and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def wait_until(predicate, timeout: float, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def pump_until(page, predicate, timeout: float) -> bool:
    """`wait_until` that lets Playwright deliver its events (websocket frames) while it waits."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        page.wait_for_timeout(10)
    return predicate()


class Server:
    """`micromlp-tui --serve --port 0 ...` in its own process group (session), ended by `stop()`.
    `url` is the server's root (`http://127.0.0.1:PORT/`), `page_url` the page's address it printed, with
    its secret (`...?token=SECRET`), `token` that secret. `nofile`: (soft, hard) limits of open files to
    start it with; `env`: more of its environment."""

    def __init__(self, *flags: str, cwd: Path = ROOT, nofile: tuple[int, int] | None = None,
                 env: dict[str, str] | None = None):
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))

        def limits() -> None:
            if nofile is not None:
                import resource

                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

        self.proc = subprocess.Popen([sys.executable, "-m", "tui.console.main", "--serve", "--port", "0", *flags],
                                     cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=limits if nofile is not None else None)
        self.output = ""
        self._drain: threading.Thread | None = None
        self.page_url = self._read_url(timeout=30)
        self.url, self.token = self.page_url.split("?token=", 1)  # the root (ending in /), the secret

    def _read_url(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline().decode("utf-8", "replace")
                if not line:
                    break
                self.output += line
                found = re.search(r"(http://\S+/\?token=[\w-]+)", line)
                if found:
                    self._drain = threading.Thread(target=self._read_rest, daemon=True)
                    self._drain.start()
                    return found.group(1)
        self.stop()
        raise AssertionError(f"the server never printed its URL; it printed:\n{self.output}")

    def _read_rest(self) -> None:
        """Everything the server prints after its URL, into `output` (so that its pipe never fills)."""
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            self.output += raw.decode("utf-8", "replace")

    def printed(self) -> str:
        """What the server has printed so far (all of it, once it has exited)."""
        if self.proc.poll() is not None and self._drain is not None:
            self._drain.join(5)
        return self.output

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> float:
        """Send `sig`; returns the seconds until the server exited. Its whole group is then killed
        anyway, so that nothing is ever left behind."""
        t0 = time.perf_counter()
        try:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, sig)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
            return time.perf_counter() - t0
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.proc.poll() is None:
                self.proc.wait(5)
            if self._drain is not None:
                self._drain.join(5)
            elif self.proc.stdout:
                self.proc.stdout.close()


class Terminal:
    """The browser tab's terminal screen, rebuilt from the websocket frames with pyte."""

    def __init__(self, page) -> None:
        import pyte

        self._pyte = pyte
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.frames = 0
        self.first_frame_at: float | None = None
        self.closed_at: float | None = None
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        query = parse_qs(urlparse(ws.url).query)
        if "width" in query and "height" in query:
            self.screen.resize(int(query["height"][0]), int(query["width"][0]))
        ws.on("framereceived", self._on_frame)
        ws.on("framesent", self._on_sent)
        ws.on("close", lambda *_: setattr(self, "closed_at", time.perf_counter()))

    def _on_sent(self, payload) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"'):
            size = json.loads(payload)[1]
            self.screen.resize(size["height"], size["width"])

    def _on_frame(self, payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            if self.first_frame_at is None:
                self.first_frame_at = time.perf_counter()
            self.frames += 1
            self.stream.feed(bytes(payload))

    @property
    def size(self) -> tuple[int, int]:
        return self.screen.columns, self.screen.lines

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def step(self) -> int:
        """The largest step number on the screen (the names panel also shows older ones)."""
        return max((int(n.replace(",", "")) for n in re.findall(PATTERNS["step"], self.text())), default=-1)

    def wait_for(self, page, pattern: str, timeout: float = 15) -> re.Match[str]:
        """Wait (letting Playwright deliver events) until `pattern` is on the screen."""
        end = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text())
            if found:
                return found
            if time.monotonic() > end:
                raise AssertionError(f"{pattern!r} never appeared; the screen:\n{self.text()}")
            page.wait_for_timeout(10)


@contextmanager
def browser() -> Iterator[object]:
    """A headless Debian Chromium through Playwright (never Playwright's own download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def open_dashboard(b, url: str, init_script: str | None = None):
    """A new page on the dashboard at `url`, the page's address (Server.page_url, with its token), with
    `init_script` run in it before the page's own; returns (page, terminal, seconds from goto to the
    first frame)."""
    page = b.new_page(viewport=VIEWPORT)
    if init_script:
        page.add_init_script(init_script)
    term = Terminal(page)
    t0 = time.perf_counter()
    page.goto(f"{url}&fontsize={FONT_SIZE}")
    term.wait_for(page, PATTERNS["first_frame"], timeout=30)
    page.click(".xterm-screen")  # keys reach the app only after a click on the terminal
    return page, term, time.perf_counter() - t0


def key_to_screen(page, term: Terminal, key: str, pattern: str, timeout: float = 10) -> float:
    """Press `key`; the seconds until `pattern` is on the screen."""
    t0 = time.perf_counter()
    page.keyboard.press(key)
    term.wait_for(page, pattern, timeout)
    return time.perf_counter() - t0
