"""The dashboard in a web browser (`micromlp-tui --serve`), measured in a real headless Chromium.

    python bench/bench_browser.py [--runs 5]

1. page load to the first drawn frame (goto -> the status line on the screen), per fresh tab;
2. key to screen: `+` -> "temperature 0.60", `-` -> back to 0.50 (timed from the press to the new value
   drawn, the old one having gone from the screen first), while training runs at the default pace;
3. server shutdown with two tabs open (one training): SIGINT, SIGTERM, ctrl+c (SIGINT to the process
   group) and SIGKILL of the server -> seconds until the server and every app process are gone.

Needs Debian's /usr/bin/chromium and `pip install '.[test]'` (Playwright, pyte, textual-serve).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_harness import PATTERNS, Server, alive, app_pids, browser, key_to_screen, open_dashboard, pump_until  # noqa: E402


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms of {len(values)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    with browser() as b:
        server = Server("--steps", "100000")
        try:
            first, keys = [], []
            for _ in range(runs):
                page, term, took = open_dashboard(b, server.page_url)
                first.append(took)
                page.keyboard.press(" ")
                page.wait_for_timeout(300)
                for _ in range(3):
                    for key, now in (("+", "now_060"), ("-", "now_050")):
                        if not pump_until(page, lambda n=now, t=term: not re.search(PATTERNS[n], t.text()), 5):
                            raise SystemExit(f"the screen still shows {PATTERNS[now]!r}:\n{term.text()}")
                        keys.append(key_to_screen(page, term, key, PATTERNS[now]))
                page.close()
                while app_pids(server.pid):  # each tab measured alone
                    time.sleep(0.02)
            print(f"page load to first frame: {ms(first)}")
            print(f"key to screen while training: {ms(keys)}")
        finally:
            server.stop()

        for how in ("SIGINT", "SIGTERM", "ctrl+c", "SIGKILL") * 2:
            server = Server()
            try:
                pages = [open_dashboard(b, server.page_url)[0] for _ in range(2)]
                pages[0].keyboard.press(" ")
                pages[0].wait_for_timeout(300)
                apps = app_pids(server.pid)
                t0 = time.perf_counter()
                if how == "ctrl+c":
                    os.killpg(server.pid, signal.SIGINT)
                else:
                    os.kill(server.pid, getattr(signal, how))
                server.proc.wait(30)
                t_server = time.perf_counter() - t0
                while any(alive(p) for p in apps) and time.perf_counter() - t0 < 30:
                    time.sleep(0.005)
                t_apps = time.perf_counter() - t0
                print(f"shutdown by {how:7s} with {len(apps)} tabs open: server gone {t_server:.2f} s, "
                      f"every app process gone {t_apps:.2f} s")
                for page in pages:
                    page.close()
            finally:
                server.stop()


if __name__ == "__main__":
    main()
