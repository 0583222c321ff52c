"""The `micromlp-tui` console command: parse the flags, then train headless or open the dashboard."""

from __future__ import annotations

import os
import sys

# The model's matrices are tiny: BLAS threads only add overhead and take a core from the UI.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from engine.cli import build_parser, fail, make_run, run_headless  # noqa: E402
from engine.errors import MicroMLPError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    from tui import serve  # --serve (issue 9): its flags, and the app processes it starts

    parser = build_parser()
    serve.add_flags(parser)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    if args.serve or args.host is not None or args.port is not None:
        return serve.main(args, argv, parser) if args.serve else fail("--host and --port go with --serve")
    # Served to a browser tab (textual-serve runs this with Textual's web driver, over pipes): there
    # is no terminal here and none is needed, so such a process is exempt from any terminal check.
    # One started by our own --serve also ends when its server does.
    served = serve.served_child()
    if served:
        serve.prepare_child()
    if args.headless:
        return run_headless(args)
    try:
        run = make_run(args)  # refuse bad input before the dashboard takes over the terminal
    except MicroMLPError as exc:
        return fail(str(exc))
    from tui.app import run_dashboard

    return run_dashboard(run, args)


if __name__ == "__main__":
    sys.exit(main())
