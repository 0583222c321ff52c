"""The README's picture of the dashboard in a web browser: `micromlp-tui --serve` in headless Chromium.

    python docs/browser_screenshot.py [--out docs] [--at 300]

Starts the server (tests/browser_harness.py: Debian's /usr/bin/chromium through Playwright), opens
the page at the tests' viewport and font size (a 120x40 terminal), trains to about step --at at the
default pace, pauses, and writes browser.png into --out. Needs `pip install '.[test]'`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_harness import Server, browser, open_dashboard, pump_until  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder to write into (default docs/)")
    ap.add_argument("--at", type=int, default=300, help="pause at about this step (default 300)")
    opts = ap.parse_args()
    opts.out.mkdir(parents=True, exist_ok=True)
    server = Server()
    try:
        with browser() as b:
            page, term, _ = open_dashboard(b, server.page_url)
            # open_dashboard clicks the middle of the terminal, which is over the loss plot: there the
            # mouse is the plot's cursor. Rest it over the generated names, where hovering shows nothing.
            box = page.locator(".xterm-screen").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.3)
            page.keyboard.press(" ")
            if not pump_until(page, lambda: term.step() >= opts.at, 60):
                raise SystemExit(f"browser_screenshot.py: step {opts.at} never came:\n{term.text()}")
            page.keyboard.press(" ")
            page.keyboard.press("+")
            page.wait_for_timeout(800)  # the pause and the new temperature drawn
            path = opts.out / "browser.png"
            page.screenshot(path=str(path))
            print(f"wrote {path}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
