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
    command = f"cd {ROOT} && {sys.executable} -m tui.console.main --steps 2000; echo $? > {exit_file}"
    _tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), command)
    try:
        _wait_for(session, r"idle .*step 0/2,000")
        _tmux("send-keys", "-t", session, "space")
        step = _wait_for(session, r"running .*step ([\d,]+)/2,000")
        assert int(step.group(1).replace(",", "")) > 0
        screen = _screen(session)
        assert "guess" in screen and "floor" in screen and "step" in screen and "┤" in screen  # the plot and its key
        _tmux("send-keys", "-t", session, "q")
        end = time.monotonic() + 5
        while not exit_file.exists() and time.monotonic() < end:
            time.sleep(0.05)
        assert exit_file.read_text().strip() == "0"
    finally:
        _tmux("kill-session", "-t", session)


def _start(tmp_path: Path, args: str, size: tuple[int, int] = (100, 30)) -> tuple[str, Path, Path]:
    if not shutil.which("tmux"):
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is missing in CI (.ci/run installs it)")
        pytest.skip("tmux is not installed")
    session = f"micromlp-{uuid.uuid4().hex[:8]}"
    exit_file, pid_file = tmp_path / "exit", tmp_path / "pid"
    app = f"echo $$ > {pid_file}; exec {sys.executable} -m tui.console.main {args}"  # the app keeps the shell's pid
    command = f"cd {ROOT} && sh -c '{app}'; echo $? > {exit_file}; sleep 30"
    _tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), command)
    return session, exit_file, pid_file


def _wait_file(path: Path, timeout: float) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path.name} was not written within {timeout} s")


def _restored(session: str) -> None:
    flags = _tmux("display", "-p", "-t", session, "#{alternate_on} #{mouse_any_flag} #{cursor_flag}").split()
    assert flags == ["0", "0", "1"], f"terminal not restored: alternate screen, mouse, cursor = {flags}"


@pytest.mark.parametrize("signame,code", [("TERM", 143), ("HUP", 129)])
def test_sigterm_and_sighup_end_the_dashboard_and_restore_the_terminal(tmp_path, signame, code):
    session, exit_file, pid_file = _start(tmp_path, "--steps 100000")
    try:
        _wait_for(session, r"idle .*step 0/100,000")
        _tmux("send-keys", "-t", session, "space")
        _wait_for(session, r"running .*step [1-9]")
        os.kill(int(_wait_file(pid_file, 5)), getattr(__import__("signal"), f"SIG{signame}"))
        assert _wait_file(exit_file, 10) == str(code)
        _restored(session)
    finally:
        _tmux("kill-session", "-t", session)


def test_q_quits_within_seconds_while_a_step_takes_a_second(tmp_path):
    """One name of 1,000,000 characters: a step takes most of a second, and q still quits at once
    (the worker checks for a stop between steps, not every 64)."""
    data = tmp_path / "long.txt"
    data.write_text("ab" * 500_000 + "\nann\n")
    session, exit_file, _ = _start(tmp_path, f"--data {data} --steps 1000")
    try:
        _wait_for(session, r"idle .*step 0/1,000", timeout=30)
        _tmux("send-keys", "-t", session, "]", "]", "]", "]", "]", "]", "space")
        _wait_for(session, r"running", timeout=10)
        time.sleep(1.0)
        t0 = time.monotonic()
        _tmux("send-keys", "-t", session, "q")
        assert _wait_file(exit_file, 10) == "0"
        assert time.monotonic() - t0 < 5
        _restored(session)
    finally:
        _tmux("kill-session", "-t", session)
