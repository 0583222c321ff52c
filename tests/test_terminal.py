"""A real-terminal smoke test: the console command in tmux, as a person would use it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, pattern: str, timeout: float = 15) -> re.Match[str]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = re.search(pattern, _screen(session))
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared; the screen:\n{_screen(session)}")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_start_train_and_quit_in_tmux(tmp_path, size):
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is missing in CI (.ci/run installs it)")
        pytest.skip("tmux is not installed")
    session = f"micromlp-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    command = f"cd {ROOT} && {sys.executable} -m tui.cli --steps 2000; echo $? > {exit_file}"
    _tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), command)
    try:
        _wait_for(session, r"idle .*step 0/2000")
        _tmux("send-keys", "-t", session, "space")
        step = _wait_for(session, r"running .*step (\d+)/2000")
        assert int(step.group(1)) > 0
        screen = _screen(session)
        assert "guess" in screen and "floor" in screen and "step" in screen and "┤" in screen  # the plot and its key
        _tmux("send-keys", "-t", session, "q")
        end = time.monotonic() + 5
        while not exit_file.exists() and time.monotonic() < end:
            time.sleep(0.05)
        assert exit_file.read_text().strip() == "0"
    finally:
        _tmux("kill-session", "-t", session)
