"""`micromlp-tui --serve`: the dashboard in a web browser, with Textualize's textual-serve.

Each browser tab (one websocket) gets its own app process: `python -m tui.console.main FLAGS`, the server's own
flags less `--serve`, `--host` and `--port`, run by textual-serve with Textual's web driver.

How it ends (measured figures in the README):
- SIGINT (ctrl+c), SIGTERM or SIGHUP to the server: it sends SIGTERM to every app process it started
  (Textual's web driver exits the app on it), closes the websockets, waits for the apps (SIGKILL after
  `KILL_AFTER` seconds) and returns 0. Nothing is left running.
- SIGKILL of the server (nothing in the server can act then): each app process asked the kernel, as
  its first act, for SIGTERM when its parent dies (`prctl(PR_SET_PDEATHSIG)`, Linux), and a watchdog
  thread in it ends it outright if it is still there `KILL_AFTER` seconds after the server has gone.
- A tab closed in the browser: textual-serve tells its app to quit (~0.3-0.5 s).

textual-serve is an optional dependency (`pip install 'micromlp-tui[web]'`): it is imported only here,
only when serving.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ipaddress
import os
import shlex
import signal
import socket
import sys
import threading
import time
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
KILL_AFTER = 1.0  # seconds an app process gets to end on SIGTERM before SIGKILL
PARENT_ENV = "MICROMLP_SERVE_PARENT"  # set in each app process: the server's process id
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"  # textual-serve runs the apps with this driver
TEMPLATES = Path(__file__).resolve().parent  # our page (app_index.html beside this file): local files only, no outside font service
PR_SET_PDEATHSIG = 1


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


def add_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("in a web browser (needs: pip install 'micromlp-tui[web]')")
    group.add_argument("--serve", action="store_true",
                       help="serve the dashboard to web browsers; each tab runs its own app with the other flags")
    group.add_argument("--host", metavar="HOST",
                       help=f"address to listen on with --serve (default {DEFAULT_HOST}; another than loopback "
                       "lets anyone who reaches it start app processes here)")
    group.add_argument("--port", type=_port, metavar="N",
                       help=f"port to listen on with --serve (default {DEFAULT_PORT}; 0: any free port)")


SERVE_FLAGS = ("--serve", "--host", "--port")
_WITH_VALUE = ("--host", "--port")


def child_argv(argv: list[str]) -> list[str]:
    """The flags each app process gets: `argv` without --serve, --host and --port (and their values).
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
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the watchdog below still does it, a little later
    if os.getppid() != parent_pid:  # the server died before prctl took effect
        os._exit(1)

    def watchdog() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.25)
        os.kill(os.getpid(), signal.SIGTERM)  # Textual's web driver quits the app on it
        time.sleep(KILL_AFTER)
        os._exit(1)  # it did not: go anyway

    threading.Thread(target=watchdog, name="serve-watchdog", daemon=True).start()


# --- the server side ----------------------------------------------------------------------------------
def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line ServeError (unknown host, address not here, port in use)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"--host {host}: cannot be resolved ({exc.strerror})") from None
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
    try:
        return ipaddress.ip_address(sock.getsockname()[0].split("%")[0]).is_loopback
    except ValueError:
        return False


def url_of(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = host if ":" not in host else f"[{host}]"
    return f"http://{shown}:{port}/"


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


async def _serve(command: str, sock: socket.socket, url: str) -> None:
    from aiohttp import web
    from textual_serve.server import Server

    class _Server(Server):
        def initialize_logging(self) -> None:  # textual-serve's own log: warnings and errors only
            import logging

            logging.basicConfig(level=logging.WARNING, format="micromlp-tui: textual-serve: %(message)s")

        async def on_startup(self, app: web.Application) -> None:  # our line instead of its logo
            print(f"micromlp-tui: serving the dashboard at {url} (ctrl+c to stop)", flush=True)

    server = _Server(command, host="127.0.0.1", port=sock.getsockname()[1], title="micromlp-tui",
                     templates_path=TEMPLATES)
    server.initialize_logging()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    # textual-serve's own routes (/, /ws, /static, /download) on our socket and with our shutdown;
    # _make_app is its internal method (textual-serve is pinned below 2)
    runner = web.AppRunner(await server._make_app(), handle_signals=False, access_log=None,
                           shutdown_timeout=KILL_AFTER)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
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
    """`micromlp-tui --serve ...`: check everything, then serve until a signal. Returns the exit code."""
    from engine.errors import MicroMLPError
    from tui.console.exits import fail
    from tui.console.flags import make_race, make_run

    if args.headless:
        return fail("--serve and --headless do not go together")
    rest = child_argv(argv)
    again = parser.parse_args(rest)
    if again.serve or again.host is not None or again.port is not None:
        return fail("write --serve, --host and --port in full")
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        return fail("--serve needs textual-serve: pip install 'micromlp-tui[web]'")
    try:
        # the flags each tab's app gets: refuse bad ones now, not in every tab
        make_race(args) if getattr(args, "race", None) else make_run(args)
    except MicroMLPError as exc:
        return fail(str(exc))
    host = args.host if args.host is not None else DEFAULT_HOST
    port = args.port if args.port is not None else DEFAULT_PORT
    try:
        sock = bind(host, port)
    except ServeError as exc:
        return fail(str(exc))
    if not is_loopback(sock):
        print(f"micromlp-tui: warning: --host {host} is not a loopback address: anyone who can reach it "
              "can open the dashboard and start app processes on this machine", file=sys.stderr)
    os.environ[PARENT_ENV] = str(os.getpid())  # the apps inherit it (see prepare_child)
    try:
        asyncio.run(_serve(child_command(rest), sock, url_of(host, sock)))
    except KeyboardInterrupt:  # ctrl+c before the server's own handler was in place
        pass
    return 0
