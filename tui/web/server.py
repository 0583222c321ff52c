"""`micromlp-tui --serve`: the dashboard in a web browser, with Textualize's textual-serve.

Each browser tab (one websocket) gets its own app process: `python -m tui.console.main FLAGS`, the server's own
flags less `--serve`, `--host`, `--port` and `--tabs`, run by textual-serve's AppService with Textual's web driver.
The routes are ours (textual-serve's own `Server` lets any web page in): `/` the page, `/ws/TOKEN` a tab's
session, `/static/...` textual-serve's files (no folder listings).

Who may open a session (issue 16): only the page this server served.
- Every request's Host must name this server: on loopback `localhost`, a loopback address written as an
  address (`127.0.0.1`, `[::1]`, `[::ffff:127.0.0.1]`), or the `--host` given, with this port; a page of another
  site that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own name and is refused.
- Every request that has an Origin (browsers send one with every websocket) must come from this server's
  own page: the same scheme, name and port as the Host. A page of another site, `null` (a sandbox, a
  file:// page) or anything else: refused, and no app process is started.
- Each start of the server draws a secret (`secrets.token_urlsafe`, 32 bytes): the websocket's address is
  `/ws/SECRET`, written once, literally, in the page's `data-session-websocket-url`, and compared in
  constant time. Another site's page cannot read our page (the browser's same-origin rule, and the Host
  check against rebinding), so it cannot learn the secret. On loopback the page itself is served to
  whoever reaches the port (the processes of this machine); on any other address the page too needs
  the secret, `/?token=SECRET`, and the server prints that address.
- The page may not be framed by another site (`frame-ancestors 'none'`), and at most `--tabs` sessions
  (default 4) run at once: one more is closed with a reason the page shows.

What a tab sends is checked: sizes are clamped (WIDTH x HEIGHT cells), anything malformed is ignored
with one log line per tab.

How it ends (measured figures in the README):
- SIGINT (ctrl+c), SIGTERM or SIGHUP to the server: it sends SIGTERM to every app process it started
  (Textual's web driver exits the app on it), closes the websockets, waits for the apps (SIGKILL after
  `KILL_AFTER` seconds) and returns 0. Nothing is left running. The same signals while the server is
  still setting up (checking flags, downloading `--data tutorial`): one line, 130 / 143 / 129.
- SIGKILL of the server (nothing in the server can act then): each app process asked the kernel, as
  its first act, to be killed (SIGKILL) when its parent dies (`prctl(PR_SET_PDEATHSIG)`, Linux): nobody
  can see its screen any more, and a graceful exit took 1-2 s under load (issue 16 saw 4.2 s). A
  watchdog thread in it does the same where prctl is missing. A save in progress then is abandoned (the
  file saved before stays whole; its temporary file may be left beside it).
- A tab closed in the browser: its app is told to quit; SIGTERM if it is still there after
  `KILL_AFTER` seconds, SIGKILL `KILL_AFTER` / 2 later.

textual-serve is an optional dependency (`pip install 'micromlp-tui[web]'`): it is imported only here,
only when serving.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ipaddress
import json
import math
import os
import re
import secrets
import shlex
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_TABS = 4  # sessions (app processes) at once: each is a process of ~60 MB and a share of the CPU
MAX_TABS = 64
KILL_AFTER = 0.6  # seconds an app process gets to end on SIGTERM (or a closed tab's app on quit) before more
ORPHAN_GRACE = 0.25  # seconds an app whose server has died is left by its watchdog before it ends itself
PARENT_ENV = "MICROMLP_SERVE_PARENT"  # set in each app process: the server's process id
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # textual-serve runs the apps with this driver
TEMPLATES = Path(__file__).resolve().parent  # our page, app_index.html: local files only, no outside font service
PR_SET_PDEATHSIG = 1
WIDTH = (10, 500)  # the terminal sizes a tab may ask for, in cells; others are clamped to these
HEIGHT = (5, 200)
TOKEN_BYTES = 32


def too_many(n: int) -> str:
    """Why one more tab gets no session (shown on its page; a websocket close reason: at most 123 bytes)."""
    return (f"{n} tab{'s are' if n != 1 else ' is'} open on this server, the most it runs at once (--tabs): "
            "close one, then Restart")


class ServeError(Exception):
    """Bad input for the server: one line, exit 2."""


# --- flags --------------------------------------------------------------------------------------------
def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0: any free port), got {value}")
    return value


def _tabs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number of tabs: {text!r}") from None
    if not 1 <= value <= MAX_TABS:
        raise argparse.ArgumentTypeError(f"--tabs is 1 to {MAX_TABS}, got {value}")
    return value


def add_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("in a web browser (needs: pip install 'micromlp-tui[web]')")
    group.add_argument("--serve", action="store_true",
                       help="serve the dashboard to web browsers; each tab runs its own app with the other flags")
    group.add_argument("--host", metavar="HOST",
                       help=f"address to listen on with --serve (default {DEFAULT_HOST}; another than loopback, "
                       "e.g. 0.0.0.0, lets anyone who reaches it and has the printed address start app processes here)")
    group.add_argument("--port", type=_port, metavar="N",
                       help=f"port to listen on with --serve (default {DEFAULT_PORT}; 0: any free port)")
    group.add_argument("--tabs", type=_tabs, metavar="N",
                       help=f"the most tabs served at once with --serve, each its own app process "
                       f"(default {DEFAULT_TABS})")


SERVE_FLAGS = ("--serve", "--host", "--port", "--tabs")
_WITH_VALUE = ("--host", "--port", "--tabs")


def child_argv(argv: list[str]) -> list[str]:
    """The flags each app process gets: `argv` without --serve, --host, --port and --tabs (and their values).
    Only the full spellings are recognised; `check_child_argv` refuses abbreviations."""
    out: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        name = token.split("=", 1)[0]
        if name in SERVE_FLAGS:
            skip = name in _WITH_VALUE and "=" not in token
            continue
        out.append(token)
    return out


def child_command(argv: list[str]) -> str:
    """The shell command textual-serve runs for each tab (`exec`: the app is the server's own child)."""
    return f"exec {shlex.quote(sys.executable)} -m tui.console.main {shlex.join(child_argv(argv))}".rstrip()


# --- the app process side -----------------------------------------------------------------------------
def served_child() -> bool:
    """True in an app process that textual-serve runs for a browser tab: it talks to the server over
    pipes through Textual's web driver, so it has (and needs) no terminal."""
    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


def prepare_child() -> None:
    """In an app process started by our server: end when the server ends, even by SIGKILL."""
    parent = os.environ.get(PARENT_ENV)
    if not parent or not parent.isdigit():
        return  # served by someone else (e.g. `textual serve`): leave it be
    parent_pid = int(parent)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog below still does it, a little later
    if os.getppid() != parent_pid:  # the server died before prctl took effect
        os._exit(1)

    def watchdog() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)  # Textual's web driver quits the app on it
        time.sleep(ORPHAN_GRACE)
        os._exit(1)  # it did not yet: go anyway (nobody reads its screen any more)

    threading.Thread(target=watchdog, name="serve-watchdog", daemon=True).start()


# --- addresses and names ------------------------------------------------------------------------------
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`text` as an IP address written in full (dotted quad, or IPv6 with an optional %zone), else None.
    An IPv4 address mapped into IPv6 (::ffff:127.0.0.1) is that IPv4 address."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback_address(text: str) -> bool:
    """127.0.0.0/8, ::1, and either written another way (::ffff:127.0.0.1, a %zone)."""
    address = _address(text.split("%", 1)[0])
    return address is not None and address.is_loopback


def check_host(host: str) -> str:
    """`--host`: an IP address written in full, or a valid host name (labels of 1-63 letters, digits or
    inner hyphens, 253 characters at most, not all digits at the end). Shorthands such as `0`, `127.1` or
    `2130706433`, which the C library reads as addresses nobody wrote (`0` is every interface), are refused."""
    if _address(host) is not None:
        return host
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ServeError(f"--host {host!r}: not a valid host name or IP address")
    if re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1], re.IGNORECASE):
        raise ServeError(f"--host {host}: write the address in full (127.0.0.1 for this machine only, "
                         "0.0.0.0 for every network interface)")
    return host


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line ServeError (invalid or unknown host, address not here, port in use)."""
    check_host(host)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"--host {host}: cannot be resolved ({exc.strerror})") from None
    except (UnicodeError, ValueError):
        raise ServeError(f"--host {host!r}: not a valid host name or IP address") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        import errno

        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"--port {port}: already in use on {host} (try another --port, or 0 for any)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"--host {host}: not an address of this machine") from None
        if exc.errno == errno.EACCES:
            raise ServeError(f"--port {port}: permission denied (ports below 1024 need root)") from None
        raise ServeError(f"--host {host} --port {port}: cannot listen ({exc.strerror})") from None
    sock.setblocking(False)
    return sock


def is_loopback(sock: socket.socket) -> bool:
    return is_loopback_address(sock.getsockname()[0])


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def url_of(host: str, sock: socket.socket, token: str | None = None) -> str:
    """The address the server prints: with `?token=` when the page needs it (not on loopback)."""
    return f"http://{_bracketed(host)}:{sock.getsockname()[1]}/" + (f"?token={token}" if token else "")


_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+(?:%[\w.-]+)?\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?", re.IGNORECASE)


class Door:
    """Who may come in: the Host and Origin checks and the session secret (see the module's docstring)."""

    def __init__(self, host: str, bound: str, port: int, token: str | None = None):
        self.port = port
        self.token = token or secrets.token_urlsafe(TOKEN_BYTES)
        self.loopback = is_loopback_address(bound)
        bound_address = _address(bound.split("%", 1)[0])
        self.wildcard = bound_address is not None and bound_address.is_unspecified
        self.page_needs_token = not self.loopback
        self.names = {host.lower().rstrip("."), "localhost"} if (self.loopback or self.wildcard) else {host.lower()}
        if self.wildcard:
            name = socket.gethostname().lower()
            self.names |= {name, f"{name}.local"}
        self.addresses = {address for address in (_address(host), bound_address) if address is not None}

    def host_ok(self, value: str | None) -> bool:
        """Does a Host header (`name[:port]`) name this server?"""
        if not value:
            return False
        found = _HOST_HEADER.fullmatch(value)
        if not found:
            return False
        name, port = found.group(1).lower(), found.group(2)
        if (int(port) if port else 80) != self.port:
            return False
        if name.startswith("["):
            address = _address(name[1:-1].split("%", 1)[0])
            if address is None:
                return False
        else:
            address = _address(name)
            if address is None:  # a name (only full dotted quads count as IPv4 here)
                return name in self.names
        return (address in self.addresses or self.wildcard
                or (self.loopback and address.is_loopback))

    def origin_ok(self, origin: str | None, host: str | None) -> bool:
        """No Origin (not a browser: the secret still applies), or this server's own page's."""
        if origin is None:
            return True
        return host is not None and origin.lower() == f"http://{host.lower()}" and self.host_ok(host)

    def token_ok(self, given: str | None) -> bool:
        if not given:
            return False
        return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode())


# --- what a tab sends ---------------------------------------------------------------------------------
def clamp_size(value: Any, bounds: tuple[int, int]) -> int | None:
    """A size from a tab, clamped into `bounds`; None if it is not a finite number at all.
    Fractions are rounded down; a string of digits (from the page's address) counts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 40 else math.nan
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return max(bounds[0], min(bounds[1], int(value)))


def parse_message(text: str | bytes) -> tuple[str, Any] | None:
    """One websocket message from a tab, checked: ("stdin", str), ("resize", (width, height)),
    ("ping", str), ("blur", None), ("focus", None); None for anything else."""
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        return None
    kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
    if kind in ("stdin", "ping"):
        return (kind, data) if isinstance(data, str) else None
    if kind == "resize":
        if not isinstance(data, dict):
            return None
        width, height = clamp_size(data.get("width"), WIDTH), clamp_size(data.get("height"), HEIGHT)
        return None if width is None or height is None else ("resize", (width, height))
    if kind in ("blur", "focus"):
        return (kind, None)
    return None


# --- the server side ----------------------------------------------------------------------------------
def app_pids() -> list[int]:
    """Process ids of this server's children (the app processes), read from /proc (none without it:
    there the apps end with their websockets, and by their watchdog)."""
    me, pids = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(me) and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


async def _end_apps() -> None:
    """SIGTERM to every app process, then SIGKILL to those still there after KILL_AFTER seconds."""
    _signal_all(app_pids(), signal.SIGTERM)
    deadline = time.monotonic() + KILL_AFTER
    while (left := app_pids()) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    _signal_all(left, signal.SIGKILL)
    deadline = time.monotonic() + KILL_AFTER
    while app_pids() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


class Log:
    """The server's own lines on stdout: `micromlp-tui: ...`, with what a client sent escaped and cut
    short, and the same kind of line at most once every `every` seconds (a flood stays one line)."""

    def __init__(self, every: float = 10.0):
        self.every = every
        self.last: dict[str, float] = {}

    def __call__(self, kind: str, text: str) -> None:
        now = time.monotonic()
        if now - self.last.get(kind, -math.inf) < self.every:
            return
        self.last[kind] = now
        try:
            print(f"micromlp-tui: {text}", flush=True)
        except (OSError, ValueError):
            pass


def shown(value: str | None, limit: int = 80) -> str:
    """A client's value (a header, a message) fit for one log line."""
    from engine.printable import printable

    if value is None:
        return "none"
    text = printable(value[:limit])
    return repr(text + ("..." if len(value) > limit else ""))


class Sessions:
    """The aiohttp application: routes, the door, the count of sessions, each tab's app process."""

    def __init__(self, command: str, door: Door, tabs: int, title: str = "micromlp-tui"):
        import jinja2
        import textual_serve

        self.command, self.door, self.tabs, self.title = command, door, tabs, title
        self.open = 0
        self.log = Log()
        self.statics = Path(textual_serve.__file__).resolve().parent / "static"
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)

    def make_app(self) -> Any:
        from aiohttp import web

        @web.middleware
        async def guard(request: Any, handler: Any) -> Any:  # every request passes the door first
            return await self._guard(request, handler)

        app = web.Application(middlewares=[guard])
        app.add_routes([
            web.get("/", self.page),
            web.get("/ws/{token}", self.websocket),
            web.get("/ws", self.websocket),
            web.static("/static", self.statics, show_index=False, follow_symlinks=False),
        ])
        return app

    async def _guard(self, request: Any, handler: Any) -> Any:
        """The Host and Origin checks, before any route; the page may not be framed by another site."""
        from aiohttp import web

        host, origin = request.headers.get("Host"), request.headers.get("Origin")
        if not self.door.host_ok(host):
            self.log("host", f"refused a request for Host {shown(host)}: not this server's name "
                     "(another site's page whose name was pointed here?)")
            return web.Response(status=403, text="micromlp-tui: this server does not answer to that name\n")
        if not self.door.origin_ok(origin, host):
            self.log("origin", f"refused a request from Origin {shown(origin)}: only this server's own page may "
                     "open a session")
            return web.Response(status=403, text="micromlp-tui: only this server's own page may do that\n")
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    async def page(self, request: Any) -> Any:
        from aiohttp import web

        if self.door.page_needs_token and not self.door.token_ok(request.query.get("token")):
            self.log("page", "refused the page to a request without the printed address's token")
            return web.Response(status=403, text="micromlp-tui: open the address the server printed, "
                                "with its ?token=...\n")
        font_size = clamp_size(request.query.get("fontsize", "16"), (6, 64)) or 16
        html = self.templates.get_template("app_index.html").render(
            application={"name": self.title}, font_size=font_size,
            websocket_url=f"ws://{request.headers['Host']}/ws/{self.door.token}")
        return web.Response(text=html, content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    async def websocket(self, request: Any) -> Any:
        from aiohttp import WSMsgType, web

        if not self.door.token_ok(request.match_info.get("token")):
            self.log("token", "refused a session without this server's secret (not opened from its page)")
            return web.Response(status=403, text="micromlp-tui: only this server's own page may open a session\n")
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 20)
        await ws.prepare(request)
        if self.open >= self.tabs:
            self.log("full", f"refused a tab: {self.open} are open, the most --tabs allows")
            await ws.close(code=1013, message=too_many(self.open).encode())
            return ws
        self.open += 1
        service = None
        try:
            width = clamp_size(request.query.get("width", "80"), WIDTH) or 80
            height = clamp_size(request.query.get("height", "24"), HEIGHT) or 24
            service = self._service(ws)
            await service.start(width, height)
            bad = False
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                parsed = parse_message(message.data)
                if parsed is None:
                    if not bad:
                        bad = True
                        print(f"micromlp-tui: ignored a malformed message from a tab: {shown(str(message.data))} "
                              "(and any more from it)", flush=True)
                    continue
                await self._deliver(ws, service, *parsed)
        except asyncio.CancelledError:
            await ws.close()
        except Exception as exc:  # noqa: BLE001 (one line, never a traceback; the tab's app is ended below)
            print(f"micromlp-tui: a tab's session failed: {type(exc).__name__}: {shown(str(exc))}", flush=True)
        finally:
            self.open -= 1
            if service is not None:
                await self._end(service)
        return ws

    def _service(self, ws: Any) -> Any:
        from textual_serve.app_service import AppService
        from textual_serve.download_manager import DownloadManager

        return AppService(self.command, write_bytes=ws.send_bytes, write_str=ws.send_str, close=ws.close,
                          download_manager=DownloadManager())

    @staticmethod
    async def _deliver(ws: Any, service: Any, kind: str, data: Any) -> None:
        if kind == "stdin":
            await service.send_bytes(data.encode("utf-8", "replace"))
        elif kind == "resize":
            await service.set_terminal_size(*data)
        elif kind == "ping":
            await ws.send_json(["pong", data[:100]])
        elif kind == "blur":
            await service.blur()
        elif kind == "focus":
            await service.focus()

    @staticmethod
    async def _end(service: Any) -> None:
        """A tab gone: its app is told to quit; SIGTERM after KILL_AFTER s, SIGKILL half a second later."""
        process = service._process
        try:
            await service.send_meta({"type": "quit"})
        except Exception:  # noqa: BLE001 (its stdin is already gone)
            pass
        if process is not None:
            for sig, wait in ((None, KILL_AFTER), (signal.SIGTERM, KILL_AFTER / 2), (signal.SIGKILL, 2.0)):
                if sig is not None:
                    try:
                        process.send_signal(sig)
                    except ProcessLookupError:
                        break
                try:
                    await asyncio.wait_for(process.wait(), wait)
                    break
                except TimeoutError:
                    continue
        task = service._task
        if task is not None:
            try:
                await asyncio.wait_for(task, 2.0)
            except (TimeoutError, asyncio.CancelledError):
                pass


async def _serve(sessions: Sessions, sock: socket.socket, url: str) -> None:
    import logging

    from aiohttp import web

    class OneLine(logging.Formatter):  # aiohttp's and textual-serve's warnings: one line each, no traceback
        def format(self, record: logging.LogRecord) -> str:
            line = f"micromlp-tui: {record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                line += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            return shown(line, 300)[1:-1]

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(OneLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(sessions.make_app(), handle_signals=False, access_log=None, shutdown_timeout=KILL_AFTER)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    print(f"micromlp-tui: serving the dashboard at {url} (ctrl+c to stop)", flush=True)
    try:
        await stop.wait()
    finally:
        await _end_apps()  # the apps first: their websockets then close by themselves
        try:
            await asyncio.wait_for(runner.cleanup(), timeout=3 * KILL_AFTER)
        except TimeoutError:
            pass  # a connection that would not close: the process ends anyway
        await _end_apps()  # any started while shutting down


def main(args: argparse.Namespace, argv: list[str], parser: argparse.ArgumentParser) -> int:
    """`micromlp-tui --serve ...`: check everything, then serve until a signal. Returns the exit code.
    A signal before the server is serving (e.g. while `--data tutorial` downloads): one line, 128 + it."""
    from tui.console.exits import fail, interrupt_code, signal_name, signals_interrupt

    with signals_interrupt():
        try:
            return _main(args, argv, parser)
        except KeyboardInterrupt as exc:
            return fail(f"interrupted by {signal_name(exc)} while the server was setting up; nothing was served",
                        interrupt_code(exc))


def _main(args: argparse.Namespace, argv: list[str], parser: argparse.ArgumentParser) -> int:
    from engine.errors import MicroMLPError
    from tui.console.exits import fail
    from tui.console.flags import make_race, make_run

    if args.headless:
        return fail("--serve and --headless do not go together")
    rest = child_argv(argv)
    again = parser.parse_args(rest)
    if again.serve or again.host is not None or again.port is not None or again.tabs is not None:
        return fail("write --serve, --host, --port and --tabs in full")
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        return fail("--serve needs textual-serve: pip install 'micromlp-tui[web]'")
    host = args.host if args.host is not None else DEFAULT_HOST
    port = args.port if args.port is not None else DEFAULT_PORT
    try:
        check_host(host)
        make_race(args) if getattr(args, "race", None) else make_run(args)  # the flags each tab's app gets
        sock = bind(host, port)
    except (MicroMLPError, ServeError) as exc:
        return fail(str(exc))
    except MemoryError:
        return fail("out of memory")
    door = Door(host, sock.getsockname()[0], sock.getsockname()[1])
    if not door.loopback:
        print(f"micromlp-tui: warning: --host {host} is not a loopback address: anyone who can reach it and "
              "has the printed address (its token) can open the dashboard and start app processes on this machine",
              file=sys.stderr)
    os.environ[PARENT_ENV] = str(os.getpid())  # the apps inherit it (see prepare_child)
    sessions = Sessions(child_command(rest), door, args.tabs or DEFAULT_TABS)
    url = url_of(host, sock, door.token if door.page_needs_token else None)
    try:
        asyncio.run(_serve(sessions, sock, url))
    except KeyboardInterrupt:  # a signal before the server's own handlers were in place
        pass
    return 0
