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

from engine import checkpoint

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
        # "running" shows at once, at step 0 (the key's answer); then the steps go up
        step = _wait_for(session, r"running .*step ([1-9][\d,]*)/2,000")
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


@pytest.mark.parametrize("signame,code", [("TERM", 143), ("HUP", 129), ("INT", 130)])
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


def _gone(pid: int, timeout: float) -> bool:
    """The process has ended (a zombie waiting for its new parent counts: it runs nothing)."""
    end = time.monotonic() + timeout
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.02)


def _kill_if_alive(pid: int) -> None:
    if not _gone(pid, 0):
        os.kill(pid, 9)


CHECK_ARGS = "--n-embd 512 --steps 100000"  # 1.1 million parameters: the gradient check takes seconds


@pytest.mark.parametrize("state,args,keys,shows", [
    ("training at the default pace", "--steps 100000", ["space"], r"running .*step [1-9]"),
    ("training flat out", "--steps 10000000", ["space", *"]]]]]]]]]"], r"\[◀ +max ▶\]"),
    ("during the gradient check", CHECK_ARGS, ["space", "c"], r"gradient check: running"),
    ("with the help open", "--steps 100000", ["space", "?"], r"Keys"),
])
def test_closing_the_terminal_ends_the_app_within_2_seconds(tmp_path, state, args, keys, shows):
    """tmux kill-session, as a closed window: the app must not outlive its terminal (issue 16: four
    of ten did, stuck in Textual's full output queue, or spinning on a read that returns nothing)."""
    session, _, pid_file = _start(tmp_path, args)
    pid = None
    try:
        _wait_for(session, r"idle .*step 0/", timeout=30)
        pid = int(_wait_file(pid_file, 5))
        for key in keys:
            _tmux("send-keys", "-t", session, key)
        _wait_for(session, shows, timeout=15)
        time.sleep(0.5)  # it goes on for a while: the output queue fills, the check computes
        _tmux("kill-session", "-t", session)
        assert _gone(pid, 2.0), f"the app ({state}) outlived its terminal by 2 s"
    finally:
        _tmux("kill-session", "-t", session)
        if pid is not None:
            _kill_if_alive(pid)


@pytest.mark.parametrize("how,code", [("q", 0), ("HUP", 129), ("TERM", 143), ("INT", 130)])
def test_q_and_signals_end_the_app_during_the_gradient_check(tmp_path, how, code):
    """While the gradient check computes (seconds, for 1.1 million parameters) q and every signal
    end the app at once with its code, and the terminal is restored (it used to hold the app 20 s+)."""
    session, exit_file, pid_file = _start(tmp_path, CHECK_ARGS)
    try:
        _wait_for(session, r"idle .*step 0/", timeout=30)
        _tmux("send-keys", "-t", session, "c")
        _wait_for(session, r"gradient check: running", timeout=15)
        time.sleep(0.5)
        _wait_for(session, r"gradient check: running")  # still running
        if how == "q":
            _tmux("send-keys", "-t", session, "q")
        else:
            os.kill(int(_wait_file(pid_file, 5)), getattr(__import__("signal"), f"SIG{how}"))
        assert _wait_file(exit_file, 4) == str(code)
        _restored(session)
    finally:
        _tmux("kill-session", "-t", session)


def test_keys_answer_while_the_gradient_check_computes(tmp_path):
    """The check runs beside the screen: a key pressed meanwhile shows at once (it took 10 s)."""
    session, exit_file, _ = _start(tmp_path, CHECK_ARGS)
    try:
        _wait_for(session, r"idle .*step 0/", timeout=30)
        _tmux("send-keys", "-t", session, "c")
        _wait_for(session, r"gradient check: running", timeout=15)
        _tmux("send-keys", "-t", session, "1")  # back to the chart: the check goes on unseen
        _wait_for(session, r"next token after", timeout=3)
        _tmux("send-keys", "-t", session, "6")
        _wait_for(session, r"gradient check: running .* \d+%", timeout=3)
        _tmux("send-keys", "-t", session, "q")
        assert _wait_file(exit_file, 4) == "0"
    finally:
        _tmux("kill-session", "-t", session)


def test_q_ends_the_app_after_a_storm_of_resizes(tmp_path):
    session, exit_file, _ = _start(tmp_path, "--steps 100000")
    try:
        _wait_for(session, r"idle .*step 0/")
        _tmux("send-keys", "-t", session, "space")
        for i in range(150):
            _tmux("resize-window", "-t", session, "-x", str(60 + i % 70), "-y", str(15 + i % 30))
        _tmux("resize-window", "-t", session, "-x", "100", "-y", "30")
        _tmux("send-keys", "-t", session, "q")
        assert _wait_file(exit_file, 8) == "0"
        _restored(session)
    finally:
        _tmux("kill-session", "-t", session)


@pytest.mark.parametrize("how,code", [("q", 0), ("TERM", 143)])
def test_save_and_metrics_are_written_when_the_dashboard_ends(tmp_path, how, code):
    """--save and --metrics do what they say in the dashboard too: the run on screen is written when
    the app ends (it was written only by s, and the CSV never)."""
    save, metrics = tmp_path / "c.npz", tmp_path / "m.csv"
    session, exit_file, pid_file = _start(tmp_path, f"--steps 100000 --save {save} --metrics {metrics}")
    try:
        _wait_for(session, r"idle .*step 0/100,000")
        _tmux("send-keys", "-t", session, "space")
        _wait_for(session, r"running .*step [1-9]")
        _tmux("send-keys", "-t", session, "space")  # paused: the step on screen is the step saved
        _wait_for(session, r"paused")
        if how == "q":
            _tmux("send-keys", "-t", session, "q")
        else:
            os.kill(int(_wait_file(pid_file, 5)), getattr(__import__("signal"), f"SIG{how}"))
        assert _wait_file(exit_file, 10) == str(code)
        _restored(session)
        step = checkpoint.load(save).step
        assert step > 0
        rows = metrics.read_text().splitlines()
        assert rows[0] == "step,loss,lr" and len(rows) == step + 1 and rows[-1].startswith(f"{step},")
        screen = re.sub(r"\s", "", _screen(session))  # said on stderr at the end (wrapped at 100 columns)
        assert re.sub(r"\s", "", f"saved step {step} to {save} (--save)") in screen
    finally:
        _tmux("kill-session", "-t", session)


def test_save_to_a_pipe_with_no_reader_then_q_ends_at_once(tmp_path):
    """s to a FIFO nobody reads, then q: the app hung (killed after 150 s). The save now says the pipe
    has no reader, and q ends the app: with exit 3, since what --save asked for was never written."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    session, exit_file, _ = _start(tmp_path, f"--steps 1000 --save {fifo}")
    try:
        _wait_for(session, r"idle .*step 0/1,000")
        _tmux("send-keys", "-t", session, ".")
        _wait_for(session, r"step 1/1,000")
        _tmux("send-keys", "-t", session, "s")
        _wait_for(session, r"not saved: .*no reader", timeout=5)
        _tmux("send-keys", "-t", session, "q")
        assert _wait_file(exit_file, 5) == "3"
        _restored(session)
    finally:
        _tmux("kill-session", "-t", session)


def test_a_save_lost_when_the_dashboard_ends_gives_exit_3_as_headless(tmp_path):
    """--save /dev/full: the run trains, q ends the app, the save at the end fails: one line on stderr
    and exit 3 (what a flag asked for was not written), as the headless face does."""
    session, exit_file, _ = _start(tmp_path, "--steps 100000 --save /dev/full")
    try:
        _wait_for(session, r"idle .*step 0/100,000")
        _tmux("send-keys", "-t", session, "space")
        _wait_for(session, r"running .*step [1-9]")
        _tmux("send-keys", "-t", session, "q")
        assert _wait_file(exit_file, 15) == "3"
        _restored(session)
        assert "notsaved" in re.sub(r"\s", "", _screen(session))
    finally:
        _tmux("kill-session", "-t", session)
