"""The `micromlp-tui` console command: parse the flags, then train headless or open the dashboard.

Before the dashboard takes over the terminal everything is checked (flags, data, checkpoint, output
paths, that there is a terminal at all), and ctrl+c, SIGTERM or SIGHUP during that set-up end the
command with one line and 128 + the signal (130, 143, 129), never a traceback.
"""

from __future__ import annotations

import os
import sys

# The model's matrices are tiny: BLAS threads only add overhead and take a core from the UI.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# How soon the dashboard's screen is drawn after a change (read once, when Textual is imported). At
# Textual's 60 its update timer, resumed after a pause, next fires 1 to 2 periods later (up to 33 ms);
# at 240, within 8 ms. Measured in tmux, training flat out: a key's answer on screen took 17-58 ms at
# 60, 15-30 ms at 240, and the training's speed was the same (the screen is drawn when something on it
# changed, as often as before). A value set in the environment wins.
os.environ.setdefault("TEXTUAL_FPS", "240")

PROG = "micromlp-tui"


def _say(message: str) -> None:
    try:
        print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def no_terminal() -> str | None:
    """Why the dashboard cannot run here, or None: it reads keys from stdin and draws on stderr, and
    stdout must be a terminal too (a redirected stdout means the caller wanted text: --headless)."""
    missing = [name for name, stream in (("input", sys.stdin), ("output", sys.stdout), ("error", sys.stderr))
               if stream is None or not _isatty(stream)]
    if not missing:
        return None
    return (f"the dashboard needs a terminal, and standard {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not one; use --headless to train without it")


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def given_flags(argv: list[str]) -> list[str]:
    """The flags written in `argv` (whatever their defaults, abbreviated or with =VALUE), each by its full
    name, in the parser's order. `argv` has been parsed once already, so it parses."""
    import argparse

    from tui.console.flags import build_parser
    from tui.web import server as serve

    parser = build_parser()
    serve.add_flags(parser)
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    given = vars(parser.parse_args(argv))
    return [max(action.option_strings, key=len) for action in parser._actions
            if action.dest in given and action.option_strings]


def main(argv: list[str] | None = None) -> int:
    try:  # the engine (numpy) is imported here, so that ctrl+c while it loads is one line too
        from engine.errors import MicroMLPError
        from tui.console.exits import fail, interrupt_code, signal_name, signals_interrupt
        from tui.console.flags import build_parser, config_from_args, make_race, make_run
        from tui.console.headless import compare, run_headless
        from tui.web import server as serve  # --serve (issue 9): its flags, and the app processes it starts
    except KeyboardInterrupt:
        _say("interrupted by ctrl+c during set-up; nothing was trained or saved")
        return 130
    parser = build_parser()
    serve.add_flags(parser)
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        return fail("interrupted by ctrl+c during set-up; nothing was trained or saved", 130)
    if args.compare is not None:
        if args.serve:
            return fail("--compare does not go with --serve")
        others = [flag for flag in given_flags(argv) if flag not in ("--compare", "--data")]
        if others:  # it would silently ignore them (issue 16)
            return fail(f"--compare trains nothing: it goes with --data only, not {', '.join(others)}")
        with signals_interrupt():  # SIGTERM / SIGHUP (e.g. while --data tutorial downloads): one line too
            return compare(args)
    if args.serve or args.host is not None or args.port is not None or args.tabs is not None:
        return serve.main(args, argv, parser) if args.serve else fail("--host, --port and --tabs go with --serve")
    # Served to a browser tab (textual-serve runs this with Textual's web driver, over pipes): there
    # is no terminal here and none is needed, so such a process is exempt from the terminal check.
    # One started by our own --serve also ends when its server does.
    served = args.served = serve.served_child()  # (the dashboard's tab reads and writes only what the flags name)
    if served:
        serve.prepare_child()
    if args.headless:
        return run_headless(args)
    with signals_interrupt():
        try:
            if args.data == "tutorial" and not served:  # no download (up to 30 s) for a dashboard that cannot run
                config_from_args(args)  # a bad flag is still named first
                if reason := no_terminal():
                    return fail(reason)
            # refuse bad input before the dashboard takes over the terminal
            run = make_race(args) if getattr(args, "race", None) else make_run(args)
            reason = None if served else no_terminal()
            if reason:
                return fail(reason)
            from tui.app import run_dashboard
        except MicroMLPError as exc:
            return fail(str(exc))
        except MemoryError:
            return fail("out of memory")
        except KeyboardInterrupt as exc:
            return fail(f"interrupted by {signal_name(exc)} during set-up; nothing was trained or saved",
                        interrupt_code(exc))
        except RuntimeError as exc:  # a signal while a class was made (importing Textual): Python 3.11 wraps
            cause = exc.__cause__      # what __set_name__ raised in "Error calling __set_name__ ..."
            if not isinstance(cause, KeyboardInterrupt):
                raise
            return fail(f"interrupted by {signal_name(cause)} during set-up; nothing was trained or saved",
                        interrupt_code(cause))
    return run_dashboard(run, args)


if __name__ == "__main__":
    sys.exit(main())
