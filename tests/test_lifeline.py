"""The lifeline (tui/plumbing/lifeline.py) in a real process: a signal ends it with 128 + the signal
even while the main thread is stuck where Textual's was (a full output queue nobody drains), the
outputs' last words are written first, and a quit's deadline ends a process that will not end."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STUCK = """
import queue, sys, time
from pathlib import Path
from tui.plumbing.lifeline import Lifeline
out = Path(sys.argv[1])
def request_exit(code):
    out.with_suffix(".asked").write_text(str(code))  # the app's loop would be asked; it is stuck
lifeline = Lifeline(request_exit, lambda: out.write_text("last words"))
lifeline.start()
q = queue.Queue(1)
q.put("full")
print("stuck", flush=True)
q.put("never")  # as Textual's WriterThread.write once the terminal is gone: blocks for ever
"""


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_ends_a_process_whose_main_thread_is_stuck(tmp_path, sig, code):
    out = tmp_path / "words"
    proc = subprocess.Popen([sys.executable, "-c", STUCK, str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().strip() == "stuck"
        proc.send_signal(sig)
        assert proc.wait(timeout=10) == code
        assert out.with_suffix(".asked").read_text() == str(code)  # asked to end cleanly first
        assert out.read_text() == "last words"  # then ended, after the outputs
    finally:
        proc.kill()
        proc.wait()


DEADLINE = """
import threading
from tui.plumbing.lifeline import Lifeline
lifeline = Lifeline(lambda code: None)
lifeline.start()
lifeline.arm(7, 0.3)
threading.Event().wait()  # a quit that never ends
"""


def test_an_armed_deadline_ends_a_process_that_does_not_end():
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", DEADLINE], cwd=ROOT, timeout=20, stdin=subprocess.DEVNULL)
    assert proc.returncode == 7
    assert time.monotonic() - t0 < 15  # not for ever (the bound itself is 0.3 s + a tick)
