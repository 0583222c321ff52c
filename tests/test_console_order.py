"""The console command's order of checks (issue 16): `--compare` refuses every flag it would silently
ignore, and the dashboard looks for a terminal before it downloads the tutorial's names. Subprocesses,
as a user runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui.console.main import given_flags

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "v1-checkpoint.npz"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env=env or dict(os.environ), stdin=subprocess.DEVNULL)


def one_error(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stdout == "", out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("micromlp-tui: error: "), out.stderr
    assert all(n in lines[0] for n in needles), lines[0]


@pytest.mark.parametrize("flags, named", [
    (["--lr", "-5"], "--lr"),
    (["--holdout", "nan"], "--holdout"),
    (["--steps", "10"], "--steps"),
    (["--seed=3"], "--seed"),
    (["--n-embd", "8", "--hidden", "9"], "--n-embd, --hidden"),
    (["--temperature", "0.5"], "--temperature"),  # the default value, written: still a flag it would ignore
    (["--samples", "20"], "--samples"),
    (["--temp", "0.7"], "--temperature"),  # an abbreviation is named in full
    (["--headless"], "--headless"),
    (["--tabs", "2"], "--tabs"),
])
def test_compare_refuses_the_flags_it_would_ignore(flags, named):
    one_error(cli("--compare", str(FIXTURE), *flags),
              f"--compare trains nothing: it goes with --data only, not {named}")


def test_compare_with_only_data_still_compares():
    done = cli("--compare", str(FIXTURE))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.strip()


def test_given_flags_names_what_was_written_not_the_defaults():
    assert given_flags(["--compare", "a.npz", "--data", "x"]) == ["--data", "--compare"]
    assert given_flags(["--compare", "a.npz", "--temp=0.5", "--st", "3"]) == ["--steps", "--temperature", "--compare"]


def test_the_dashboard_without_a_terminal_does_not_download_first(tmp_path):
    """`micromlp-tui --data tutorial` with no terminal: refused at once, and the address is never asked."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.5)
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"),
                   MICROMLP_TUTORIAL_URL=f"http://127.0.0.1:{listener.getsockname()[1]}/names.txt")
        done = cli("--data", "tutorial", env=env)
        one_error(done, "the dashboard needs a terminal")
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody came: nothing was downloaded
    # a bad flag is still named before the terminal
    one_error(cli("--data", "tutorial", "--steps", "0", env=env), "--steps")


def test_sigterm_while_compare_downloads_is_one_line(tmp_path):
    """`--compare X --data tutorial` while the download waits on a server that never answers: SIGTERM
    ends it with one line and 143, not silently."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONUNBUFFERED="1",
                   MICROMLP_TUTORIAL_URL=f"http://127.0.0.1:{silent.getsockname()[1]}/names.txt")
        argv = [sys.executable, "-m", "tui.console.main", "--compare", str(FIXTURE), "--data", "tutorial"]
        p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert "downloading the tutorial's names.txt" in p.stderr.readline()
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(5)
    assert p.returncode == 143 and out == "" and "Traceback" not in err, (p.returncode, err)
    assert err.strip().splitlines()[-1] == "micromlp-tui: error: interrupted by SIGTERM; nothing was compared"


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_while_textual_is_imported_is_one_line(monkeypatch, capsys, signum, code):
    """A tab closed while its app imports Textual: the signal's exception is raised inside a class's
    __set_name__, which Python 3.11 wraps in a RuntimeError. Still one line and 128 + the signal, no
    traceback (the server copies an app's stderr into its own output)."""
    from tui.console import flags
    from tui.console import main as console_main
    from tui.console.exits import Interrupted

    def interrupted_while_making_a_class(args):
        try:
            raise Interrupted(signum)
        except Interrupted as exc:
            raise RuntimeError("Error calling __set_name__ on 'Reactive' instance 'focused' in 'Screen'") from exc

    monkeypatch.setattr(flags, "make_run", interrupted_while_making_a_class)
    monkeypatch.setattr(console_main, "no_terminal", lambda: None)
    assert console_main.main(["--steps", "10"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"micromlp-tui: error: interrupted by {signal.Signals(signum).name} during set-up; nothing was "
                   "trained or saved"]


def test_another_runtime_error_during_set_up_is_not_called_a_signal(monkeypatch):
    from tui.console import flags
    from tui.console import main as console_main

    def broken(args):
        raise RuntimeError("something else")

    monkeypatch.setattr(flags, "make_run", broken)
    monkeypatch.setattr(console_main, "no_terminal", lambda: None)
    with pytest.raises(RuntimeError, match="something else"):
        console_main.main(["--steps", "10"])
