"""`micromlp-tui --serve` end to end, in a real headless Chromium (Debian's), read through pyte.

In CI (CI=true) a missing Chromium, Playwright or pyte is a failure, not a skip: .ci/run installs them.
Run with -s to see the measured times. The screen patterns live in browser_harness.PATTERNS.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser_harness import (
    CHROMIUM,
    OTHER_SITE,
    PATTERNS,
    REBOUND,
    ROOT,
    Server,
    alive,
    app_pids,
    browser,
    key_to_screen,
    open_dashboard,
    pump_until,
    wait_until,
)

from tui.web import server as serve

IN_CI = os.environ.get("CI") == "true"
PROMPT = 2.0  # seconds: the most a shutdown may take


def _need(what: str, ok: bool) -> None:
    if not ok:
        if IN_CI:
            pytest.fail(f"{what} is missing in CI (.ci/run installs it)")
        pytest.skip(f"{what} is not installed")


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def chromium():
    _need(CHROMIUM, Path(CHROMIUM).is_file())
    for module in ("playwright", "pyte", "textual_serve"):
        _need(module, _importable(module))
    with browser() as b:
        yield b


@pytest.fixture(scope="module")
def module_server():
    s = Server("--steps", "5000")
    apps: list[int] = []
    try:
        yield s
        apps = app_pids(s.pid)
    finally:
        s.stop()
    assert wait_until(lambda: not any(alive(p) for p in apps), PROMPT), "an app outlived its server"


@pytest.fixture
def server(module_server):
    """The module's server, with no tab open when a test starts."""
    assert wait_until(lambda: not app_pids(module_server.pid), 5), "a tab's app outlived its test"
    return module_server


def test_dashboard_in_a_browser(chromium, server):
    page, term, first = open_dashboard(chromium, server.page_url)
    print(f"\nbrowser: page to first frame {first:.2f} s, terminal {term.size[0]}x{term.size[1]}")
    (app,) = app_pids(server.pid)  # one tab, one app process

    start = term.step()
    assert start >= 0, term.text()
    page.keyboard.press(" ")  # space: training runs, the step counter moves
    assert pump_until(page, lambda: term.step() > start, 10), term.text()

    took = key_to_screen(page, term, "+", PATTERNS["temperature_060"])
    print(f"browser: key '+' to 'temperature 0.60' on screen {took * 1000:.0f} ms")

    page.keyboard.press("q")  # the session ends, and its process with it
    assert pump_until(page, lambda: term.closed_at is not None, 10), "the websocket stayed open after q"
    assert wait_until(lambda: not alive(app), 5), "the app process outlived q"
    assert "-closed" in page.evaluate("document.body.className")  # the page says "Session ended."
    page.close()


def test_closing_a_tab_ends_its_process(chromium, server):
    page1, _, _ = open_dashboard(chromium, server.page_url)
    page2, _, _ = open_dashboard(chromium, server.page_url)
    apps = app_pids(server.pid)
    assert len(apps) == 2
    page2.close()
    t0 = time.perf_counter()
    assert wait_until(lambda: len(app_pids(server.pid)) == 1, 5), "closing a tab left its app running"
    print(f"\nbrowser: tab closed to its app gone {time.perf_counter() - t0:.2f} s")
    page1.close()


def test_the_page_loads_nothing_from_outside(chromium, server):
    page = chromium.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("websocket", lambda ws: asked.append(ws.url))
    page.goto(server.page_url)
    page.wait_for_load_state("networkidle")
    host = server.url.split("//", 1)[1].rstrip("/")
    assert asked and all(url.split("//", 1)[1].startswith(host + "/") for url in asked), asked
    assert any(url.endswith("RobotoMono-VariableFont_wght.ttf") for url in asked)
    assert page.evaluate("document.fonts.check('16px \"Roboto Mono\"')")
    page.close()


def test_the_page_works_under_its_content_security_policy(chromium, server):
    """The page's policy (its own files, its nonce'd inline script and style, its websocket to this
    server) blocks nothing the dashboard needs: no violation reported, the font loaded, keys answered."""
    watch = ("window.violations = []; document.addEventListener('securitypolicyviolation', "
             "(e) => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page, term, _ = open_dashboard(chromium, server.page_url, init_script=watch)
    key_to_screen(page, term, "+", PATTERNS["temperature_060"])
    assert page.evaluate("document.fonts.check('16px \"Roboto Mono\"')")
    assert page.evaluate("window.violations") == []
    page.close()


# --- the door (issue 16): only the page this server served opens a session -------------------------------
ANOTHER_SITES_PAGE = """<!DOCTYPE html><html><body>
<iframe id="framed" src="%(page)s"></iframe>
<script>
  window.result = {opened: 0, bytes: 0, ended: 0, read: "pending"};
  for (const url of %(sockets)s) {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { result.opened += 1; ws.send(JSON.stringify(["stdin", "o"])); };
    ws.onmessage = (event) => { result.bytes += event.data.byteLength || event.data.length || 0; };
    ws.onclose = () => { result.ended += 1; };
  }
  fetch("%(page)s").then((r) => r.text()).then(
    (text) => { result.read = text.includes("ws/") ? "READ THE PAGE" : "read something"; },
    () => { result.read = "refused"; });
</script></body></html>"""


@contextmanager
def another_site(html: str):
    """A second local HTTP server, on another port, serving one page: http://another-site.test:PORT/."""
    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://{OTHER_SITE}:{http.server_address[1]}/"
    finally:
        http.shutdown()
        http.server_close()


def test_another_sites_page_gets_no_session(chromium, server):
    """A page of another site that the user merely visits, in real Chromium: its websockets to our
    server (even one that knew the secret, which it cannot) open nothing and receive no screen; it
    cannot read our page, nor frame it; no app process is started."""
    with urllib.request.urlopen(server.page_url) as r:  # the secret, as only our own page knows it
        ours = re.search(r'data-session-websocket-url="([^"]+)"', r.read().decode()).group(1)
    bare = ours.rsplit("/", 1)[0]
    sockets = [ours + "?width=80&height=24", bare + "?width=80&height=24", bare + "/wrong?width=80&height=24"]
    # the page's own address, secret and all (as if the other site had it): still not framed nor read
    html = ANOTHER_SITES_PAGE % {"page": server.page_url, "sockets": json.dumps(sockets)}
    printed = len(server.printed())
    with another_site(html) as site:
        page = chromium.new_page()
        page.goto(site)
        assert pump_until(page, lambda: page.evaluate("result.ended") == len(sockets), 10), page.evaluate("result")
        page.wait_for_timeout(1500)  # time for a framed page, had it loaded, to open its own session
        result = page.evaluate("result")
        assert result == {"opened": 0, "bytes": 0, "ended": len(sockets), "read": "refused"}, result
        assert not app_pids(server.pid)
        page.close()
    said = server.printed()[printed:]
    assert f"refused a request from Origin 'http://{OTHER_SITE}:" in said, said


def test_a_rebinding_name_gets_nothing(chromium, server):
    """A DNS-rebinding page: its own name now points at 127.0.0.1 (this Chromium maps it), so for the
    browser it is same-origin with our server; the Host it sends is its name: refused."""
    port = server.url.rstrip("/").rsplit(":", 1)[1]
    page = chromium.new_page()
    response = page.goto(f"http://{REBOUND}:{port}/?token={server.token}")
    assert response.status == 403
    assert "ws/" not in page.content()
    page.wait_for_timeout(500)
    assert not app_pids(server.pid)
    page.close()


def test_one_tab_more_than_tabs_is_told_why_on_its_page(chromium):
    s = Server("--tabs", "1")
    try:
        first, _, _ = open_dashboard(chromium, s.page_url)
        second = chromium.new_page()
        second.goto(s.page_url)
        said = ".closed-dialog .message"
        assert pump_until(second, lambda: "-closed" in second.evaluate("document.body.className"), 15)
        text = second.inner_text(said)
        assert text == "1 tab is open on this server, the most it runs at once (--tabs): close one, then Restart"
        assert second.is_visible(said)
        assert len(app_pids(s.pid)) == 1
        first.close()
        second.close()
    finally:
        s.stop()


def test_our_own_page_under_localhost_works(chromium, server):
    page, term, _ = open_dashboard(chromium, server.page_url.replace("127.0.0.1", "localhost"))
    assert term.step() >= 0
    assert len(app_pids(server.pid)) == 1
    page.close()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "ctrl+c", "SIGKILL"])
def test_the_server_stops_promptly_with_its_apps(chromium, how):
    """SIGINT / SIGTERM to the server, ctrl+c (SIGINT to the terminal's whole process group) and even
    SIGKILL of the server end every app process within PROMPT seconds."""
    s = Server()
    try:
        pages = [open_dashboard(chromium, s.page_url)[0] for _ in range(2)]
        pages[0].keyboard.press(" ")  # one of them training
        apps = app_pids(s.pid)
        assert len(apps) == 2
        t0 = time.perf_counter()
        if how == "ctrl+c":
            os.killpg(s.pid, signal.SIGINT)
        else:
            os.kill(s.pid, getattr(signal, how))
        s.proc.wait(10)
        server_s = time.perf_counter() - t0
        assert wait_until(lambda: not any(alive(p) for p in apps), 10)
        all_s = time.perf_counter() - t0
        print(f"\nserver {how}: server exited {server_s:.2f} s, every app gone {all_s:.2f} s")
        assert all_s < PROMPT
        if how != "SIGKILL":
            assert s.proc.returncode == 0
            assert "Traceback" not in s.printed()
        for page in pages:
            page.close()
    finally:
        s.stop()


# --- no browser needed ----------------------------------------------------------------------------------
def _serve(*flags: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.console.main", "--serve", *flags], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_bad_input_is_refused_before_the_server_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        cases = {
            ("--port", port): "already in use",
            ("--host", "192.0.2.1", "--port", "0"): "not an address of this machine",  # TEST-NET: never routed
            ("--port", "70000"): "0-65535",
            ("--bogus",): "unrecognized arguments",
            ("--steps", "0"): "--steps",
            ("--headless",): "do not go together",
            ("--ser",): "in full",
            ("--tabs", "0"): "--tabs is 1 to 64",
            ("--host", "a..b"): "not a valid host name",  # not a UnicodeError traceback (more below)
            ("--host", "exa\x1bmple"): "not a valid host name",
            ("--host", "0"): "write the address in full",  # not silently every interface
        }
        for flags, said in cases.items():
            done = _serve(*flags)
            assert done.returncode == 2, (flags, done)
            assert done.stdout == "" and done.stderr.count("\n") == 1, (flags, done.stderr)
            assert done.stderr.startswith("micromlp-tui: error: ") and said in done.stderr, (flags, done.stderr)
            assert "\x1b" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "tui.console.main", "--port", "8000"], cwd=ROOT, capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 2 and "go with --serve" in done.stderr


@pytest.mark.parametrize("host, said", [
    ("a..b", "not a valid host name"), (".", "not a valid host name"), ("a" * 64, "not a valid host name"),
    ("-a.example", "not a valid host name"), ("bücher.example", "not a valid host name"),
    ("x" * 254, "not a valid host name"), ("", "not a valid host name"),
    # shorthands the C library reads as addresses nobody wrote: `0` is every interface
    ("0", "write the address in full"), ("127.1", "write the address in full"),
    ("2130706433", "write the address in full"), ("0x7f.1", "write the address in full"),
])
def test_hosts_that_are_not_names_nor_whole_addresses_are_refused(host, said):
    with pytest.raises(serve.ServeError, match=said):
        serve.bind(host, 0)


def test_loopback_however_written():
    for address in ("127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"):
        assert serve.is_loopback_address(address), address
    for address in ("0.0.0.0", "::", "192.0.2.1", "::ffff:192.0.2.1", "localhost"):
        assert not serve.is_loopback_address(address), address
    for host in ("localhost", "127.0.0.1", "::ffff:127.0.0.1", "my-host.example", "0.0.0.0", "::"):
        assert serve.check_host(host) == host


def test_a_host_that_is_not_loopback_gets_a_warning_and_its_page_needs_the_secret():
    """On every interface anyone may reach the page: then the page too needs the secret, which only the
    printed address carries."""
    s = subprocess.Popen([sys.executable, "-m", "tui.console.main", "--serve", "--host", "0.0.0.0", "--port", "0"],
                         cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = ""
        end = time.monotonic() + 20
        while "serving" not in line and time.monotonic() < end:
            line = s.stdout.readline()
        found = re.search(r"serving the dashboard at http://0\.0\.0\.0:(\d+)/\?token=([\w-]+) ", line)
        assert found, line
        port, token = found.groups()
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/")
        assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token[:-1]}")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}") as page:
            assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws/{token}"' in page.read().decode()
    finally:
        os.kill(s.pid, signal.SIGTERM)
        _, err = s.communicate(timeout=10)
    assert "warning: --host 0.0.0.0 is not a loopback address" in err
    assert s.returncode == 0


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_server_sets_up_is_one_line(tmp_path, sig, code):
    """ctrl+c or SIGTERM while `--serve --data tutorial` downloads (from a server that never answers):
    one line and 128 + the signal, as everywhere else; no traceback, nothing served."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are queued, never answered
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONUNBUFFERED="1",
                   MICROMLP_TUTORIAL_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/names.txt")
        s = subprocess.Popen([sys.executable, "-m", "tui.console.main", "--serve", "--port", "0", "--data", "tutorial"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            assert "downloading the tutorial's names.txt" in s.stderr.readline()
            time.sleep(0.3)
            os.kill(s.pid, sig)
            out, err = s.communicate(timeout=10)
        finally:
            if s.poll() is None:
                os.killpg(s.pid, signal.SIGKILL)
                s.wait(5)
    assert s.returncode == code, err
    assert out == "" and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert line.startswith("micromlp-tui: error: interrupted by ") and "nothing was served" in line


def test_each_tab_gets_the_other_flags():
    argv = ["--serve", "--steps", "50", "--host", "::1", "--port=8001", "--data", "my names.txt", "--port", "9"]
    assert serve.child_argv(argv) == ["--steps", "50", "--data", "my names.txt"]
    command = serve.child_command(argv)
    assert command.endswith(" -m tui.console.main --steps 50 --data 'my names.txt'") and command.startswith("exec ")
