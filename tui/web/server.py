"""`micromlp-tui --serve`: the dashboard in a web browser, with Textualize's textual-serve.

Each browser tab (one websocket) gets its own app process: `python -m tui.console.main FLAGS`, the server's own
flags less `--serve`, `--host`, `--port` and `--tabs`, run by textual-serve's AppService with Textual's web driver.
The routes are ours (textual-serve's own `Server` lets any web page in): `/` the page, `/ws/TOKEN` a tab's
session, `/static/...` textual-serve's files (no folder listings).

Who may open a session (issue 16): only the page this server served, to whoever has the address it printed.
- Every request's Host must name this server: on loopback `localhost`, a loopback address written as an
  address (`127.0.0.1`, `[::1]`, `[::ffff:127.0.0.1]`), or the `--host` given, with this port; a page of another
  site that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own name and is refused.
- Every request that has an Origin (browsers send one with every websocket) must come from this server's
  own page: the same scheme, name and port as the Host. A page of another site, `null` (a sandbox, a
  file:// page) or anything else: refused, and no app process is started.
- Each start of the server draws a secret (`secrets.token_urlsafe`, 32 bytes). The page needs it,
  `/?token=SECRET`, the address the server prints; without it, 403 and a line saying to open that address.
  One exception: on loopback, a connection from a program of the server's own user (its uid, read from
  the kernel's socket table, `client_uid`) gets the page at `/` too; that user can read the server's memory
  anyway. Any other user of the machine (a loopback port is open to all of them) needs the token.
  The websocket's address is `/ws/SECRET`, written once, literally, in the page's
  `data-session-websocket-url`. Both are compared in constant time. Another site's page cannot read our
  page (the browser's same-origin rule, and the Host check against rebinding), so it cannot learn it.
- The page may not be framed by another site (`frame-ancestors 'none'`), and its Content-Security-Policy
  lets in only this server's files, its own inline script and style (by a nonce drawn per response), the
  <style> elements textual.js adds (by their hashes) and its websocket to this server. Every response of
  the app (our 403s, aiohttp's 404 and 405 too) says `X-Content-Type-Options: nosniff`, may not be
  framed, and (but the page) allows nothing (`default-src 'none'`). aiohttp's own 400s for requests it
  cannot parse carry none of these: they never reach the app.
- At most `--tabs` sessions (default 4) run at once, each counted until its app process is gone: one more
  is closed with a reason the page shows.
- `/static/...` serves only the files textual-serve ships, listed once at start (no folder listings; no
  name from a request reaches the file system): any other name is 404.

Connections (a client that opens many and never finishes a request would otherwise hold every file descriptor
and lock every tab out): each must send a whole request head within HEADER_TIMEOUT (5 s; HEADER_TIMEOUT_ENV
gives another) of opening, or of its previous response, else it is closed; a websocket or a response being
sent is never cut. At most MAX_CONNECTIONS (512) are kept at once and MAX_PER_ADDRESS (128) from one address
(on loopback every local program shares 127.0.0.1), fewer when the limit of open files is low
(`connection_caps`); one more is answered 503 and closed. At start the soft limit of open files is raised to
the hard one.

What a tab sends is checked: sizes are clamped (WIDTH x HEIGHT cells; any number, however large),
stdin that no terminal sends is ignored (`stdin_ok`: empty, which Textual reads as the end of its
input; more than KEYS_MAX characters unless one whole bracketed paste of at most PASTE_MAX), anything
malformed too, with one log line per tab; and a tab's key characters have a budget (`KeyBudget`:
KEY_BURST at once, then KEY_RATE a second; a paste counts as one): past it messages are dropped, one line.

The log (stdout): the server's own lines and aiohttp's, asyncio's and textual-serve's warnings, one line
each (no traceback, no file name), the same kind at most once every 10 s (`Log`).

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
import contextvars
import ctypes
import ipaddress
import json
import logging
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
# One stdin message from a tab. textual-serve's page sends each of xterm.js's onData events as one message: a
# key (a few characters; an escape sequence, a mouse report: tens), an IME composition, or a whole paste. A
# paste comes wrapped in PASTE_START ... PASTE_END (the app asks for bracketed paste), and Textual reads it as
# one Paste event; anything else becomes one key event per character (a million characters: >1.6 GB in the
# app). Longer messages are ignored.
KEYS_MAX = 4096  # characters of a message that is not one bracketed paste
PASTE_MAX = 65536  # characters of one bracketed paste, its brackets included (16 x PATH_MAX, for the app's fields)
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
# Key characters a tab may send: KEY_BURST at once, then KEY_RATE a second (a person types tens a second; a
# mouse moved over the page reports ~60 times a second, ~10 characters each). Each is a key event queued in
# the app (a few KB each until it is read): 100 messages of KEYS_MAX in a few seconds took an app from 66 to
# 214 MB. Over the budget a message is dropped, with one log line per tab. A paste counts as one character.
KEY_RATE, KEY_BURST = 4096.0, 16384.0
HEADER_TIMEOUT = 5.0  # seconds a connection has to send a whole request head, from its opening or its last response
HEADER_TIMEOUT_ENV = "MICROMLP_HEADER_TIMEOUT"  # another number of seconds for it (a test on a loaded machine)


def header_timeout() -> float:
    """HEADER_TIMEOUT, or the seconds HEADER_TIMEOUT_ENV gives (a number from 1 to 600; anything else: the
    default)."""
    try:
        seconds = float(os.environ.get(HEADER_TIMEOUT_ENV, ""))
    except ValueError:
        return HEADER_TIMEOUT
    return seconds if 1.0 <= seconds <= 600.0 else HEADER_TIMEOUT
MAX_CONNECTIONS = 512  # connections open at once (each a file descriptor), fewer if the fd limit is lower
MAX_PER_ADDRESS = 128  # of those from one address (on loopback every local program shares 127.0.0.1)
FDS_SPARE, FDS_PER_TAB = 64, 4  # fds kept free of connections: the server's own, and each app's pipes
LINGERING = 16  # connections over the caps being answered 503 at once (each an fd for up to a second); more: cut
BACKLOG = 64  # connections the kernel queues for us; asyncio accepts up to as many at once, each an fd


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
        sock.listen(BACKLOG)
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


def url_of(host: str, sock: socket.socket, token: str) -> str:
    """The address the server prints, the page's: with `?token=SECRET`."""
    return f"http://{_bracketed(host)}:{sock.getsockname()[1]}/?token={token}"


_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+(?:%[\w.-]+)?\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?", re.IGNORECASE)


class Door:
    """Who may come in: the Host and Origin checks and the session secret (see the module's docstring)."""

    def __init__(self, host: str, bound: str, port: int, token: str | None = None):
        self.port = port
        self.token = token or secrets.token_urlsafe(TOKEN_BYTES)
        self.loopback = is_loopback_address(bound)
        bound_address = _address(bound.split("%", 1)[0])
        self.wildcard = bound_address is not None and bound_address.is_unspecified
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


# --- who is on the other end of a loopback connection ------------------------------------------------------
PROC_TCP = ("/proc/net/tcp", "/proc/net/tcp6")


def client_uid(client_port: int, server_port: int, tables: list[str] | None = None) -> int | None:
    """The uid owning the client end of a loopback TCP connection to `server_port` from `client_port`, from
    the kernel's socket tables (Linux: /proc/net/tcp and tcp6; `tables` their texts, for tests): the row
    whose local port is the client's and whose remote port is the server's. None where not found or not
    readable (another system): then nobody is taken for the server's user."""
    if tables is None:
        tables = []
        for path in PROC_TCP:
            try:
                with open(path, encoding="ascii", errors="replace") as f:
                    tables.append(f.read())
            except OSError:
                continue
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 8 or ":" not in fields[1] or ":" not in fields[2]:
                continue
            try:
                local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
                if local == client_port and remote == server_port:
                    return int(fields[7])
            except ValueError:
                continue
    return None


# --- what a tab sends ---------------------------------------------------------------------------------
def clamp_size(value: Any, bounds: tuple[int, int]) -> int | None:
    """A size from a tab, clamped into `bounds`; None if it is not a finite number at all.
    Fractions are rounded down; a string of digits (from the page's address) counts. Any int, however
    large (JSON has no bound: 10**310), is clamped as it is, never turned into a float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 40 else math.nan
        except ValueError:
            return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return max(bounds[0], min(bounds[1], value))


class KeyBudget:
    """A tab's key characters (a token bucket): `take(n, now)` says whether a message of n may go on."""

    def __init__(self, rate: float = KEY_RATE, burst: float = KEY_BURST):
        self.rate, self.burst = rate, burst
        self.left = burst  # characters that may go now
        self.at: float | None = None  # when `left` was reckoned

    def take(self, n: int, now: float) -> bool:
        if self.at is not None:
            self.left = min(self.burst, self.left + (now - self.at) * self.rate)
        self.at = now
        if n > self.left:
            return False
        self.left -= n
        return True


def key_cost(text: str) -> int:
    """What a stdin message costs of a tab's KeyBudget: its characters, but 1 for a bracketed paste (one
    event in the app, whatever its length)."""
    return 1 if text.startswith(PASTE_START) and text.endswith(PASTE_END) else len(text)


def stdin_ok(text: str) -> bool:
    """Is `text` what a terminal client sends as one stdin message? Not empty (Textual reads an empty
    feed as the end of its input: the app would never read a key again), at most KEYS_MAX characters,
    or one whole bracketed paste of at most PASTE_MAX with no escape inside (an escape inside would end
    the paste early, and what follows would be read as keys again)."""
    if not text:
        return False
    if len(text) <= KEYS_MAX:
        return True
    return (len(text) <= PASTE_MAX and text.startswith(PASTE_START) and text.endswith(PASTE_END)
            and "\x1b" not in text[len(PASTE_START):-len(PASTE_END)])


def parse_message(text: str | bytes) -> tuple[str, Any] | None:
    """One websocket message from a tab, checked: ("stdin", str) (see `stdin_ok`), ("resize", (width, height)),
    ("ping", str), ("blur", None), ("focus", None); None for anything else."""
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        return None
    kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
    if kind == "stdin":
        return (kind, data) if isinstance(data, str) and stdin_ok(data) else None
    if kind == "ping":
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
    short, and the same kind of line at most once every `every` seconds: a flood stays one line, and
    the next line of its kind says how many were left out."""

    KINDS = 256  # kinds remembered; beyond them (never seen yet) all are one kind

    def __init__(self, every: float = 10.0):
        self.every = every
        self.last: dict[str, float] = {}
        self.left_out: dict[str, int] = {}

    def __call__(self, kind: str, text: str) -> None:
        if kind not in self.last and len(self.last) >= self.KINDS:
            kind = "(others)"
        now = time.monotonic()
        if now - self.last.get(kind, -math.inf) < self.every:
            self.left_out[kind] = self.left_out.get(kind, 0) + 1
            return
        self.last[kind] = now
        more = self.left_out.pop(kind, 0)
        if more:
            text += f" ({more} more like it since the last such line, not shown)"
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


def error_text(exc: BaseException | None) -> str:
    """An exception in a few words for a log line: its type and message; an OSError's reason only (its
    message would name a file of this machine, e.g. one built from a requested path)."""
    if exc is None:
        return ""
    if isinstance(exc, OSError) and exc.strerror:
        return f" ({type(exc).__name__}: {exc.strerror})"
    return f" ({type(exc).__name__}: {exc})"


class _Tab:
    """One tab's session as textual-serve's log lines see it (through `_TAB`, a context variable that
    the tab's textual-serve task inherits): has the tab gone?"""

    closed = False


_TAB: contextvars.ContextVar[_Tab | None] = contextvars.ContextVar("micromlp_tab", default=None)


class LogLines(logging.Handler):
    """aiohttp's and textual-serve's log lines (warnings and worse) through `Log`: one line each, no
    traceback, no file names, the same kind at most once every `Log.every` seconds. textual-serve's
    "Application failed to start" is said only when the app ended on its own while its tab was there
    (a tab closed before its app was ready had its app ended by this server: nothing failed)."""

    def __init__(self, log: Log):
        super().__init__(logging.WARNING)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if record.name == "textual-serve" and record.msg == "Application failed to start":
                tab = _TAB.get()
                if tab is None or not tab.closed:
                    self.log("app start", "a tab's app ended before it drew its first screen")
                return
            exc = record.exc_info[1] if record.exc_info else None
            line = f"{record.name}: {record.getMessage()}{error_text(exc)}"
            self.log(f"{record.name}: {record.msg}"[:80], shown(line, 300)[1:-1])
        except Exception:  # noqa: BLE001 (a log line that cannot be made is left out, never a traceback)
            pass


def loop_errors(log: Log) -> Any:
    """asyncio's error lines (e.g. `socket.accept() out of system resource`, once per try while no file
    descriptor is free) through `Log`: one line per kind every `Log.every` seconds."""
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message") or "an error")
        line = f"asyncio: {message}{error_text(context.get('exception'))}"
        log(f"asyncio: {message}"[:60], shown(line, 300)[1:-1])
    return handler


# --- connections --------------------------------------------------------------------------------------
BUSY_TEXT = b"micromlp-tui: too many connections to this server at once; try again in a few seconds\n"
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\nRetry-After: %d\r\nConnection: close\r\nX-Content-Type-Options: nosniff\r\n"
        b"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n\r\n%s"
        % (len(BUSY_TEXT), math.ceil(HEADER_TIMEOUT), BUSY_TEXT))


def raise_fd_limit() -> int:
    """The soft limit of open files raised to the hard one (each connection takes a file descriptor);
    returns the soft limit now in force."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return 1 << 20
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
        if soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        return soft
    except (ImportError, ValueError, OSError):
        return 1024


def connection_caps(fd_limit: int, tabs: int) -> tuple[int, int]:
    """(connections at once, of them from one address): MAX_CONNECTIONS and MAX_PER_ADDRESS, fewer when
    the file descriptors left beside the server's own, the apps' pipes, LINGERING and one batch of
    accepted connections (BACKLOG) are fewer."""
    total = max(16, min(MAX_CONNECTIONS, fd_limit - FDS_SPARE - FDS_PER_TAB * tabs - LINGERING - BACKLOG))
    return total, min(MAX_PER_ADDRESS, total)


class Gate:
    """The connections this server keeps (each a file descriptor: a client that opened many and never
    finished a request would otherwise hold them all, and lock every tab out). At most `total` at once
    and `per_address` from one address: one more is answered 503 and closed at once. Each must send a
    whole request head within `timeout` seconds of opening (its timer stops when a request reaches the
    routes: `arrived`), else it is closed; after a request, aiohttp's keep-alive timeout (the same
    seconds) closes a connection that is idle or half-sends its next request. A websocket, or a response
    being sent, is a request in progress: never cut. `make` is aiohttp's protocol factory."""

    def __init__(self, total: int, per_address: int, log: Log, timeout: float = HEADER_TIMEOUT):
        self.total, self.per_address, self.log, self.timeout = total, per_address, log, timeout
        self.make: Any = None
        self.count = 0
        self.lingering = 0  # refused connections being closed
        self.by_address: dict[str, int] = {}
        self.waiting: dict[Any, asyncio.TimerHandle] = {}  # transport -> its timer, until a request arrives

    def __call__(self) -> asyncio.Protocol:
        return _Gated(self)

    def arrived(self, transport: Any) -> None:
        """A request reached the routes over `transport`: its connection's timer is done with."""
        timer = self.waiting.pop(transport, None)
        if timer is not None:
            timer.cancel()


class _Gated(asyncio.Protocol):
    """One connection: aiohttp's own protocol (its RequestHandler) behind the Gate. One over the caps is
    answered 503 and closed; what it sends meanwhile is read and dropped (closing with unread data would
    reset the connection, and the client might never see why), for LINGER seconds at most."""

    LINGER = 1.0

    def __init__(self, gate: Gate):
        self.gate = gate
        self.inner: Any = None
        self.transport: Any = None
        self.address: str | None = None
        self.refused: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        gate = self.gate
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        from_it = gate.by_address.get(address, 0)
        if gate.count >= gate.total or from_it >= gate.per_address:
            gate.log("connections", f"refused connections: {gate.count} are open ({from_it} from {address}), the most "
                     f"this server keeps is {gate.total} ({gate.per_address} from one address)")
            transport.write(BUSY)
            if gate.lingering >= LINGERING or transport.is_closing():
                transport.close()
                return
            try:
                transport.write_eof()
            except OSError:  # the client is gone already
                transport.abort()
                return
            gate.lingering += 1
            self.transport = transport
            self.refused = asyncio.get_running_loop().call_later(self.LINGER, transport.abort)
            return
        gate.count += 1
        gate.by_address[address] = from_it + 1
        self.transport, self.address = transport, address
        gate.waiting[transport] = asyncio.get_running_loop().call_later(gate.timeout, self._too_slow)
        self.inner = gate.make()
        self.inner.connection_made(transport)

    def _too_slow(self) -> None:
        """No whole request head within the gate's timeout (said nowhere: browsers open spare connections)."""
        self.gate.waiting.pop(self.transport, None)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        gate = self.gate
        if self.refused is not None:
            self.refused.cancel()
            self.refused = None
            gate.lingering -= 1
            return
        if self.address is None:
            return
        timer = gate.waiting.pop(self.transport, None)
        if timer is not None:
            timer.cancel()
        gate.count -= 1
        left = gate.by_address.get(self.address, 1) - 1
        if left:
            gate.by_address[self.address] = left
        else:
            gate.by_address.pop(self.address, None)
        self.address = None
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self.inner is None:
            return None  # refused, and the client is done: the transport closes
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()


# --- the routes ---------------------------------------------------------------------------------------
# The page's Content-Security-Policy: its own files only, its inline script and style by this response's
# nonce, the <style> elements textual.js adds by their hashes (see `bundled_styles`), its websocket to this
# server ('self' covers ws:// of the same host and port); any other response: nothing at all. Neither may be
# framed.
PAGE_CSP = ("default-src 'self'; connect-src 'self'; script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'nonce-{nonce}'{styles}; object-src 'none'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
_BUNDLED_STYLE = re.compile(r'\.push\(\[e\.id,"((?:[^"\\]|\\.)*)",""\]\)')


def bundled_styles(js: str) -> list[str]:
    """CSP hash sources of the <style> elements textual-serve's textual.js adds to the page (webpack's
    style-loader: an empty one, then its CSS text, a constant of the bundle). A bundle written otherwise
    gives fewer: its styles are then blocked (the page's own style sets the same rules)."""
    import base64
    import hashlib

    texts = [""]
    for found in _BUNDLED_STYLE.finditer(js):
        try:
            texts.append(json.loads(f'"{found.group(1)}"'))
        except ValueError:
            continue
    return [f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'" for text in texts]


class Sessions:
    """The aiohttp application: routes, the door, the count of sessions, each tab's app process."""

    def __init__(self, command: str, door: Door, tabs: int, title: str = "micromlp-tui"):
        import jinja2
        import textual_serve

        self.command, self.door, self.tabs, self.title = command, door, tabs, title
        self.open = 0
        self.log = Log()
        self.gate: Gate | None = None
        statics = Path(textual_serve.__file__).resolve().parent / "static"
        # the files textual-serve ships, listed once: no name from a request ever reaches the file system
        self.files = {path.relative_to(statics).as_posix(): path for path in sorted(statics.rglob("*"))
                      if path.is_file() and not path.is_symlink()}
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        script = self.files.get("js/textual.js")
        self.styles = "".join(f" {source}" for source in bundled_styles(script.read_text("utf-8", "replace"))) \
            if script is not None else ""

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
            web.get("/static/{name:.+}", self.static),
        ])
        app.on_response_prepare.append(self._headers)
        return app

    async def _guard(self, request: Any, handler: Any) -> Any:
        """The Host and Origin checks, before any route."""
        from aiohttp import web

        if self.gate is not None:
            self.gate.arrived(request.transport)
        host, origin = request.headers.get("Host"), request.headers.get("Origin")
        if not self.door.host_ok(host):
            self.log("host", f"refused a request for Host {shown(host)}: not this server's name "
                     "(another site's page whose name was pointed here?)")
            return web.Response(status=403, text="micromlp-tui: this server does not answer to that name\n")
        if not self.door.origin_ok(origin, host):
            self.log("origin", f"refused a request from Origin {shown(origin)}: only this server's own page may "
                     "open a session")
            return web.Response(status=403, text="micromlp-tui: only this server's own page may do that\n")
        return await handler(request)

    @staticmethod
    async def _headers(request: Any, response: Any) -> None:
        """On every response of the app (ours, its 403s, aiohttp's 404 and 405): not to be framed, nor
        read as another type than it says, nor to pass its address on."""
        headers = response.headers
        headers.setdefault("Content-Security-Policy", OTHER_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Content-Type-Options", "nosniff")

    def _own_user(self, request: Any) -> bool:
        """On loopback: is the client a program of the server's own user (`client_uid`)?"""
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        if not self.door.loopback or not peer:
            return False
        return client_uid(int(peer[1]), self.door.port) == os.getuid()

    async def page(self, request: Any) -> Any:
        from aiohttp import web

        if not (self.door.token_ok(request.query.get("token")) or self._own_user(request)):
            self.log("page", "refused the page to a request without the printed address's token")
            return web.Response(status=403, text="micromlp-tui: open the address the server printed, "
                                "with its ?token=...\n")
        font_size = clamp_size(request.query.get("fontsize", "16"), (6, 64)) or 16
        nonce = secrets.token_urlsafe(16)
        html = self.templates.get_template("app_index.html").render(
            application={"name": self.title}, font_size=font_size, nonce=nonce,
            websocket_url=f"ws://{request.headers['Host']}/ws/{self.door.token}")
        policy = PAGE_CSP.format(nonce=nonce, styles=self.styles)
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": policy}
        return web.Response(text=html, content_type="text/html", headers=headers)

    async def static(self, request: Any) -> Any:
        """One of textual-serve's files by its name under static/; any other name: 404."""
        from aiohttp import web

        path = self.files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)  # an OSError while sending it: aiohttp answers 404 (403 if not readable)

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
        self.open += 1  # until its app is gone, below
        tab = _Tab()
        _TAB.set(tab)  # textual-serve's task for this tab inherits it
        service = None
        try:
            width = clamp_size(request.query.get("width", "80"), WIDTH) or 80
            height = clamp_size(request.query.get("height", "24"), HEIGHT) or 24
            service = self._service(ws)
            await service.start(width, height)
            bad = flooded = False
            budget = KeyBudget()
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                parsed = parse_message(message.data)
                if parsed is None:
                    if not bad:
                        bad = True
                        print("micromlp-tui: ignored a malformed or oversized message from a tab: "
                              f"{shown(str(message.data))} (and any more from it)", flush=True)
                    continue
                if parsed[0] == "stdin" and not budget.take(key_cost(parsed[1]), time.monotonic()):
                    if not flooded:
                        flooded = True
                        print(f"micromlp-tui: dropped keys from a tab sending more than {KEY_RATE:,.0f} "
                              "characters a second (and any more it sends too fast)", flush=True)
                    continue
                await self._deliver(ws, service, *parsed)
        except asyncio.CancelledError:
            await ws.close()
        except Exception as exc:  # noqa: BLE001 (one line, never a traceback; the tab's app is ended below)
            print(f"micromlp-tui: a tab's session failed: {type(exc).__name__}: {shown(str(exc))}", flush=True)
        finally:
            tab.closed = True
            try:
                if service is not None:
                    await self._end(service)
            finally:
                self.open -= 1
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


def site_class() -> Any:
    """aiohttp's SockSite with a Gate in front of aiohttp's protocol factory (aiohttp is imported only
    when serving)."""
    from aiohttp import web

    class GatedSite(web.SockSite):
        def __init__(self, runner: Any, sock: socket.socket, gate: Gate):
            super().__init__(runner, sock, shutdown_timeout=KILL_AFTER, backlog=BACKLOG)
            self.gate = gate

        async def start(self) -> None:
            await web.BaseSite.start(self)  # registers the site with its runner (which stops it)
            self.gate.make = self._runner.server
            self._server = await asyncio.get_running_loop().create_server(self.gate, sock=self._sock,
                                                                          backlog=self._backlog)

    return GatedSite


async def _serve(sessions: Sessions, sock: socket.socket, url: str, caps: tuple[int, int]) -> None:
    from aiohttp import web

    logging.basicConfig(level=logging.WARNING, handlers=[LogLines(sessions.log)], force=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(loop_errors(sessions.log))
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    timeout = header_timeout()
    runner = web.AppRunner(sessions.make_app(), handle_signals=False, access_log=None, shutdown_timeout=KILL_AFTER,
                           keepalive_timeout=timeout)
    await runner.setup()
    sessions.gate = Gate(*caps, sessions.log, timeout)
    site = site_class()(runner, sock, sessions.gate)
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
    tabs = args.tabs or DEFAULT_TABS
    sessions = Sessions(child_command(rest), door, tabs)
    url = url_of(host, sock, door.token)
    caps = connection_caps(raise_fd_limit(), tabs)
    try:
        asyncio.run(_serve(sessions, sock, url, caps))
    except KeyboardInterrupt:  # a signal before the server's own handlers were in place
        pass
    return 0
