"""Who may open a session of `micromlp-tui --serve`, and what a session may send (issue 16), with raw
HTTP and websocket clients (aiohttp) against one real server for the module: another site's Origin, a
wrong Host, no secret or a wrong one are all refused with no app started; the page's own websocket gets
the screen; sizes and malformed messages never crash an app nor print a traceback.
The same door in real Chromium (another site's page, a DNS-rebinding name, framing): test_browser.py.
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
import pytest
from browser_harness import Server, alive, app_pids, wait_until
from yarl import URL

from tui.web import server as serve

TABS = 2  # the module's server runs at most two sessions at once


@pytest.fixture(scope="module")
def srv():
    s = Server("--steps", "5000", "--tabs", str(TABS))
    try:
        yield s
    finally:
        apps = app_pids(s.pid)
        s.stop()
        assert wait_until(lambda: not any(alive(p) for p in apps), 2.0), "an app outlived its server"
    assert "Traceback" not in s.printed(), s.printed()


@pytest.fixture
def quiet(srv):
    """Each test starts and ends with no session open on the module's server."""
    assert wait_until(lambda: not app_pids(srv.pid), 5)
    yield srv
    assert wait_until(lambda: not app_pids(srv.pid), 2.5), "a session's app outlived its websocket by 2.5 s"


def _port(s: Server) -> int:
    return int(s.url.rstrip("/").rsplit(":", 1)[1])


async def _page(s: Server, host: str | None = None) -> tuple[int, str, dict]:
    headers = {"Host": host} if host else {}
    async with aiohttp.ClientSession() as cs, cs.get(s.url, headers=headers) as r:
        return r.status, await r.text(), dict(r.headers)


def _ws_url(html: str) -> str:
    """The websocket address as the page names it, one literal, as a browser (or a tool) follows it."""
    found = re.findall(r'data-session-websocket-url="(ws://[^"]+)"', html)
    assert len(found) == 1, html
    return found[0]


async def _session(url: str, origin: str | None, host: str | None = None, seconds: float = 20.0,
                   send: list | None = None, enough: int = 500) -> tuple[int, aiohttp.ClientWebSocketResponse | None]:
    """Open a websocket, send `send` (strings or bytes), read for `seconds` or until `enough` bytes:
    (screen bytes, the socket) or (-status, None) when the upgrade is refused."""
    headers = {k: v for k, v in (("Origin", origin), ("Host", host)) if v is not None}
    got = 0
    async with aiohttp.ClientSession() as cs:
        try:
            ws = await cs.ws_connect(url, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return -exc.status, None
        async with ws:
            for message in send or []:
                await (ws.send_bytes(message) if isinstance(message, bytes) else ws.send_str(message))
            end = time.monotonic() + seconds
            while time.monotonic() < end and got < enough:
                try:
                    m = await ws.receive(timeout=max(0.05, end - time.monotonic()))
                except TimeoutError:
                    break
                if m.type == aiohttp.WSMsgType.BINARY:
                    got += len(m.data)
                elif m.type != aiohttp.WSMsgType.TEXT:
                    break
        return got, ws


async def test_the_page_names_its_websocket_with_this_starts_secret(quiet):
    status, html, headers = await _page(quiet)
    assert status == 200
    url = _ws_url(html)
    port = _port(quiet)
    found = re.fullmatch(rf"ws://127\.0\.0\.1:{port}/ws/([A-Za-z0-9_-]+)", url)
    assert found and len(found.group(1)) >= 40, url  # 32 random bytes, base64
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    # each start draws its own secret
    assert serve.Door("127.0.0.1", "127.0.0.1", port).token != serve.Door("127.0.0.1", "127.0.0.1", port).token


async def test_the_right_page_gets_a_session_and_its_app_ends_with_it(quiet):
    _, html, _ = await _page(quiet)
    got, _ = await _session(_ws_url(html) + "?width=80&height=24", origin=quiet.url.rstrip("/"))
    assert got >= 500  # the screen
    # and no Origin at all (not a browser: a tool that read the page) with the secret: a session too
    got, _ = await _session(_ws_url(html), origin=None)
    assert got >= 500


async def test_another_site_a_wrong_host_no_secret_or_a_wrong_one_are_refused(quiet):
    _, html, _ = await _page(quiet)
    url, port = _ws_url(html), _port(quiet)
    token = url.rsplit("/", 1)[1]
    own = quiet.url.rstrip("/")
    base = f"ws://127.0.0.1:{port}/ws"
    cases = {
        "another site's Origin": (url, "http://another-site.example", None),
        "another port's Origin (another local page)": (url, f"http://127.0.0.1:{port + 1}", None),
        "a sandboxed page's Origin": (url, "null", None),
        "https of the same name": (url, f"https://127.0.0.1:{port}", None),
        "a rebinding page's name as Host and Origin": (url, f"http://rebound.example:{port}",
                                                        f"rebound.example:{port}"),
        "a wrong Host": (url, None, f"evil.example:{port}"),
        "a wrong port in Host": (url, None, f"127.0.0.1:{port + 1}"),
        "a shorthand address as Host": (url, None, f"127.1:{port}"),
        "no secret": (base, own, None),
        "an empty secret": (base + "/", own, None),
        "a wrong secret": (f"{base}/{'A' * len(token)}", own, None),
        "the secret cut short": (f"{base}/{token[:-1]}", own, None),
        "the secret and more": (f"{base}/{token}x", own, None),
        "a secret with non-ASCII": (f"{base}/{token[:-1]}%C3%A9", own, None),
        "the secret as a query instead": (f"{base}?token={token}", own, None),
    }
    for what, (ws_url, origin, host) in cases.items():
        got, _ = await _session(ws_url, origin, host, seconds=3)
        assert got in (-403, -404), (what, got)
        assert not app_pids(quiet.pid), f"{what}: an app process was started"
    for host in (f"evil.example:{port}", f"localhost.evil.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1",
                 f"0x7f.1:{port}", f"2130706433:{port}"):
        status, _, _ = await _page(quiet, host)
        assert status == 403, host


async def test_loopback_written_another_way_and_localhost_are_this_server(quiet):
    port = _port(quiet)
    for host in (f"localhost:{port}", f"[::ffff:127.0.0.1]:{port}", f"LOCALHOST:{port}"):
        status, html, _ = await _page(quiet, host)
        assert status == 200, host
        assert _ws_url(html).startswith(f"ws://{host}/ws/")


async def test_no_folder_listings(quiet):
    async with aiohttp.ClientSession() as cs:
        for path in ("static/", "static/js/", "static/js", "static/fonts/", "static/%2e%2e/", "static/..%2f..%2f"):
            async with cs.get(URL(quiet.url + path, encoded=True)) as r:
                body = await r.text()
                assert r.status in (403, 404), (path, r.status)
                assert "textual.js" not in body and "Index of" not in body
        async with cs.get(quiet.url + "static/js/textual.js") as r:
            assert r.status == 200  # the page's own files are there


async def test_at_most_tabs_sessions_and_one_more_is_told_why(quiet):
    _, html, _ = await _page(quiet)
    url, origin = _ws_url(html), quiet.url.rstrip("/")
    async with aiohttp.ClientSession() as cs:
        held = [await cs.ws_connect(url, headers={"Origin": origin}) for _ in range(TABS)]
        assert wait_until(lambda: len(app_pids(quiet.pid)) == TABS, 10)
        extra = await cs.ws_connect(url, headers={"Origin": origin})
        m = await extra.receive(timeout=5)
        assert m.type == aiohttp.WSMsgType.CLOSE and m.data == 1013
        assert f"{TABS} tabs are open on this server" in m.extra
        assert len(app_pids(quiet.pid)) == TABS
        for ws in held:
            await ws.close()


async def test_a_closed_tabs_app_ends_within_2s_even_if_it_does_not_listen(quiet):
    """The tab goes while its app cannot answer (stopped here with SIGSTOP: it neither reads the quit
    message nor acts on SIGTERM): the server ends it anyway, SIGKILL 0.9 s after the tab closed."""
    import os
    import signal

    _, html, _ = await _page(quiet)
    async with aiohttp.ClientSession() as cs:
        ws = await cs.ws_connect(_ws_url(html), headers={"Origin": quiet.url.rstrip("/")})
        assert await _screen_bytes(ws, 20, enough=500) >= 500
        (app,) = app_pids(quiet.pid)
        os.kill(app, signal.SIGSTOP)
        try:
            t0 = time.perf_counter()
            await ws.close()
            gone = await asyncio.to_thread(wait_until, lambda: not alive(app), 10)
            took = time.perf_counter() - t0
        finally:
            if alive(app):
                os.kill(app, signal.SIGKILL)
    print(f"\na stopped app after its tab closed: gone {took:.2f} s")
    assert gone and took < 2.0, took


# sizes a tab may send: all clamped or refused, none crashes its app
HOSTILE = [
    '["resize", {"width": -5, "height": -5}]',
    '["resize", {"width": 80.5, "height": 24.7}]',
    '["resize", {"width": 1e308, "height": 99999999999999999999999}]',
    '["resize", {"width": 0, "height": 0}]',
    '["resize", {"width": NaN, "height": Infinity}]',
    '["resize", {"width": "80", "height": "x"}]',
    '["resize", {"width": true, "height": null}]',
    '["resize", [80, 24]]',
    '["resize"]',
    "not json",
    "[]",
    "{}",
    '[1, 2]',
    '["stdin", 5]',
    '["stdin", "\\ud800"]',
    '["ping", {"a": 1}]',
    '["bogus", 1]',
    "[" * 100_000,
    b"\x00\xff binary",
]


async def _screen_bytes(ws: aiohttp.ClientWebSocketResponse, seconds: float, enough: int = 1 << 30) -> int:
    """Screen bytes received within `seconds` (or until `enough`)."""
    got, end = 0, time.monotonic() + seconds
    while time.monotonic() < end and got < enough:
        try:
            m = await ws.receive(timeout=max(0.05, end - time.monotonic()))
        except TimeoutError:
            break
        if m.type == aiohttp.WSMsgType.BINARY:
            got += len(m.data)
        elif m.type != aiohttp.WSMsgType.TEXT:
            break
    return got


@pytest.mark.parametrize("query", ["?width=-5&height=-5", "?width=1e309&height=abc", "?width=99999&height=0.5"])
async def test_no_size_or_message_crashes_an_app_nor_prints_a_traceback(quiet, query):
    _, html, _ = await _page(quiet)
    before = len(quiet.printed())
    async with aiohttp.ClientSession() as cs:
        ws = await cs.ws_connect(_ws_url(html) + query, headers={"Origin": quiet.url.rstrip("/")})
        async with ws:
            assert await _screen_bytes(ws, 15, enough=500) >= 500  # the app started at a clamped size
            for message in HOSTILE:
                await (ws.send_bytes(message) if isinstance(message, bytes) else ws.send_str(message))
            await _screen_bytes(ws, 1.0)  # whatever the valid (clamped) resizes redraw
            (app,) = app_pids(quiet.pid)
            assert alive(app)
            await ws.send_str('["stdin", "?"]')  # the help screen: the app still reads keys and draws
            assert await _screen_bytes(ws, 10, enough=500) >= 500
            await ws.send_str('["ping", "still there?"]')
            m = await ws.receive(timeout=5)
            while m.type == aiohttp.WSMsgType.BINARY:
                m = await ws.receive(timeout=5)
            assert m.json() == ["pong", "still there?"]
    time.sleep(0.3)
    said = quiet.printed()[before:]
    assert "Traceback" not in said and "Error" not in said, said
    assert said.count("ignored a malformed message") == 1, said  # one line for the tab, however many


def test_sizes_are_clamped():
    assert serve.clamp_size(-5, serve.WIDTH) == serve.WIDTH[0]
    assert serve.clamp_size(10**30, serve.HEIGHT) == serve.HEIGHT[1]
    assert serve.clamp_size(80.9, serve.WIDTH) == 80
    assert serve.clamp_size("24", serve.HEIGHT) == 24
    for bad in (float("nan"), float("inf"), "abc", None, True, [80], "9" * 100):
        assert serve.clamp_size(bad, serve.WIDTH) is None, bad
    assert serve.parse_message('["resize", {"width": -5, "height": 1e9}]') == ("resize", (10, 200))
    assert serve.parse_message('["stdin", "q"]') == ("stdin", "q")
    assert serve.parse_message('["resize", {"width": NaN, "height": 24}]') is None


async def test_sigkill_of_the_server_with_every_tab_open_ends_every_app_within_2s():
    """Issue 16 saw 4.2 s with 20 tabs; now at most --tabs (4 by default) run, one of them training, and
    each app ends by itself once its server is gone (PR_SET_PDEATHSIG and a watchdog)."""
    import os
    import signal

    s = Server("--steps", "100000")
    try:
        _, html, _ = await _page(s)
        async with aiohttp.ClientSession() as cs:
            held = [await cs.ws_connect(_ws_url(html), headers={"Origin": s.url.rstrip("/")})
                    for _ in range(serve.DEFAULT_TABS)]
            for ws in held:
                assert await _screen_bytes(ws, 20, enough=500) >= 500
            await held[0].send_str('["stdin", " "]')  # training
            apps = app_pids(s.pid)
            assert len(apps) == serve.DEFAULT_TABS
            t0 = time.perf_counter()
            os.kill(s.pid, signal.SIGKILL)
            gone = wait_until(lambda: not any(alive(p) for p in apps), 10)
            took = time.perf_counter() - t0
            print(f"\nserver SIGKILL with {len(apps)} tabs: every app gone {took:.2f} s")
            assert gone and took < 2.0, took
    finally:
        s.stop()
