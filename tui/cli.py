"""The `micromlp-tui` console command: parse the flags, then train headless or open the dashboard."""

from __future__ import annotations

import os
import sys

# The model's matrices are tiny: BLAS threads only add overhead and take a core from the UI.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from engine.cli import build_parser, fail, make_run, run_headless  # noqa: E402
from engine.errors import MicroMLPError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
