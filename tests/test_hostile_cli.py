"""The headless mode and the console command under hostile conditions, in subprocesses: a closed or
full stdout, a full disk, signals at every stage, no terminal, control characters in the data, huge
alphabets. Each gives one line on stderr and a documented exit code, never a traceback, and never
loses what was trained."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine import checkpoint
from engine.config import MAX_MODEL_BYTES, MAX_SAMPLES

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
COMMAND = [sys.executable, "-m", "tui.console.main"]


def cli(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess[str]:
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=ENV,
                          **kw)


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert all(line.startswith("micromlp-tui: error: ") for line in lines), stderr
    return lines


def no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- stdout closed or full: the run is still saved ----------------------------------------------
def test_a_closed_pipe_stops_the_printing_not_the_run(tmp_path):
    save, metrics = tmp_path / "bp.npz", tmp_path / "bp.csv"
    proc = subprocess.Popen([*COMMAND, "--headless", "--steps", "100000", "--save", str(save), "--metrics",
                             str(metrics)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=ENV)
    assert proc.stdout is not None and proc.stdout.readline().startswith(b"census names (5,163)")  # `| head -1`
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3
    lines = error_lines(err.decode())
    assert len(lines) == 1 and "standard output could not be written (Broken pipe)" in lines[0]
    assert "--metrics, --save written" in lines[0]
    assert checkpoint.load(save).step == 100_000
    assert len(metrics.read_text().splitlines()) == 100_001
    no_temporaries(tmp_path)


def test_a_full_stdout_does_not_lose_the_run(tmp_path):
    save = tmp_path / "c.npz"
    with open("/dev/full", "w") as full:
        out = subprocess.run([*COMMAND, "--headless", "--steps", "500", "--save", str(save)], stdout=full,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV, timeout=60)
    assert out.returncode == 3
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and "No space left on device" in lines[0]
    assert checkpoint.load(save).step == 500


def test_a_closed_stdout_at_start_does_not_lose_the_run(tmp_path):
    """`micromlp-tui --headless ... >&-`: Python starts with no sys.stdout at all."""
    save = tmp_path / "c.npz"
    out = subprocess.run([*COMMAND, "--headless", "--steps", "50", "--save", str(save)], stdout=None,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV, timeout=60,
                         preexec_fn=lambda: os.close(1))
    assert out.returncode == 3
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and "Bad file descriptor" in lines[0]
    assert checkpoint.load(save).step == 50


def test_a_full_disk_for_the_metrics_still_writes_the_checkpoint(tmp_path):
    """RLIMIT_FSIZE (as `ulimit -f`) at 400 KB: the 20,000-row CSV (~760 KB) cannot be written, the
    checkpoint (~200 KB) can."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    save, metrics = tmp_path / "c.npz", tmp_path / "m.csv"
    out = cli("--headless", "--steps", "20000", "--save", str(save), "--metrics", str(metrics), preexec_fn=limit)
    assert out.returncode == 3
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and f"--metrics {metrics}: not written (File too large)" in lines[0]
    assert checkpoint.load(save).step == 20000
    assert "sample 20:" in out.stdout and "done: 20,000 steps" in out.stdout
    assert not metrics.exists()
    no_temporaries(tmp_path)


# --- signals --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_training_saves_and_exits_with_its_code(tmp_path, sig, code):
    save, metrics = tmp_path / "c.npz", tmp_path / "m.csv"
    proc = subprocess.Popen([*COMMAND, "--headless", "--steps", "400000", "--save", str(save), "--metrics",
                             str(metrics)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=ENV)
    assert proc.stdout is not None
    proc.stdout.readline()
    assert proc.stdout.readline().startswith("step ")  # training is under way
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    lines = error_lines(err)
    assert len(lines) == 1 and "interrupted" in lines[0] and "--metrics, --save written" in lines[0]
    step = checkpoint.load(save).step
    assert 40_000 <= step < 400_000 and f"interrupted at step {step}" in out
    assert len(metrics.read_text().splitlines()) == step + 1
    no_temporaries(tmp_path)


HARNESS = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import engine.dataset, engine.model, engine.run
    stage, sig = sys.argv[1], getattr(signal, sys.argv[2])

    def hit():
        os.kill(os.getpid(), sig)  # delivered at once: the handler runs right here

    def before(owner, name, wrap=staticmethod):
        original = getattr(owner, name)
        def patched(*args, **kwargs):
            hit()
            return original(*args, **kwargs)
        setattr(owner, name, wrap(patched) if wrap else patched)

    if stage == "data":
        before(engine.dataset, "read_text", None)
    elif stage == "model":
        original_init = engine.model.Model.__init__
        def init(self, *args, **kwargs):
            hit()
            original_init(self, *args, **kwargs)
        engine.model.Model.__init__ = init
    elif stage == "sampling":
        before(engine.run.Run, "sample", None)
    elif stage == "twice":  # two signals in training: the first asks to stop, the second ends it now
        original_steps = engine.run.Run.steps
        def steps(self):
            for record in original_steps(self):
                if record.step == 500:
                    hit()
                    hit()
                yield record
        engine.run.Run.steps = steps
    elif stage == "saving":  # the first signal in training, the second in the middle of the save
        original_steps, original_savez = engine.run.Run.steps, np.savez
        def steps(self):
            for record in original_steps(self):
                yield record
                if record.step == 500:
                    hit()
        def savez(f, **arrays):
            f.write(b"half a checkpoint")
            hit()
            original_savez(f, **arrays)
        engine.run.Run.steps, np.savez = steps, savez
    from tui.console.main import main
    sys.exit(main(sys.argv[3:]))
""")


@pytest.mark.parametrize("stage", ["data", "model", "sampling", "saving", "twice"])
@pytest.mark.parametrize(("sig", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_at_any_stage_is_one_line_and_its_exit_code(tmp_path, stage, sig, code):
    script = tmp_path / "harness.py"
    script.write_text(HARNESS)
    save = tmp_path / "c.npz"
    assert cli("--headless", "--steps", "7", "--samples", "0", "--save", str(save)).returncode == 0  # an older save
    out = subprocess.run([sys.executable, str(script), stage, sig, "--headless", "--steps", "1000", "--save",
                          str(save)], capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=60)
    assert out.returncode == code, out.stderr
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and "interrupted by" in lines[0], out.stderr
    expected_step = {"data": 7, "model": 7, "saving": 7, "sampling": 1000, "twice": 7}[stage]
    assert checkpoint.load(save).step == expected_step  # whole: the old one, or the finished run's
    no_temporaries(tmp_path)


@pytest.mark.parametrize("stage", ["data", "model"])
def test_a_signal_while_the_console_command_sets_up_the_dashboard(tmp_path, stage):
    script = tmp_path / "harness.py"
    script.write_text(HARNESS)
    for sig, code in (("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)):
        out = subprocess.run([sys.executable, str(script), stage, sig, "--steps", "1000"], capture_output=True,
                             text=True, cwd=ROOT, env=ENV, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode == code, out.stderr
        lines = error_lines(out.stderr)
        assert len(lines) == 1 and "during set-up" in lines[0]


# --- no terminal --------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["stdin", "stdout", "both"])
def test_the_dashboard_without_a_terminal_refuses_at_once(missing):
    main, other = os.openpty()
    try:
        stdin = subprocess.DEVNULL if missing in ("stdin", "both") else other
        stdout = subprocess.PIPE if missing in ("stdout", "both") else other
        start = time.monotonic()
        out = subprocess.run([*COMMAND, "--steps", "5"], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                             text=True, cwd=ROOT, env=ENV, timeout=30)
        assert time.monotonic() - start < 20
    finally:
        os.close(main)
        os.close(other)
    assert out.returncode == 2
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and "needs a terminal" in lines[0] and "--headless" in lines[0]
    assert "\x1b" not in out.stderr  # no screen was drawn
    if missing != "stdout":
        assert "standard input" in lines[0]


# --- what comes from the data is escaped --------------------------------------------------------
def test_names_with_control_characters_are_printed_escaped(tmp_path):
    data = tmp_path / "evil.txt"
    data.write_text("\n".join(["a\x1b[2Jb", "\x07\x07", "x\u202ey", "q\x9bz", "\x7fd"] * 20) + "\n")
    out = cli("--headless", "--data", str(data), "--steps", "300", "--samples", "200", "--lr", "0.5")
    assert out.returncode == 0, out.stderr
    samples = "\n".join(line for line in out.stdout.splitlines() if line.startswith("sample"))
    for raw in ("\x1b", "\x07", "\u202e", "\x9b", "\x7f"):
        assert raw not in out.stdout
    assert "\\x1b" in samples or "\\x07" in samples or "\\u202e" in samples  # shown, escaped


def test_paths_in_error_messages_are_escaped(tmp_path):
    out = cli("--headless", "--data", str(tmp_path / "no\x1b[31mpe\u202e.txt"))
    assert out.returncode == 2 and "\x1b" not in out.stderr and "\u202e" not in out.stderr
    assert "no\\x1b[31mpe\\u202e.txt: no such file" in error_lines(out.stderr)[0]


def test_samples_have_a_sane_upper_bound():
    out = cli("--headless", "--steps", "1", "--samples", str(MAX_SAMPLES + 1))
    assert out.returncode == 2 and "--samples must be a whole number from 0 to 10,000" in error_lines(out.stderr)[0]
    out = cli("--headless", "--steps", "1", "--samples", "10000000")
    assert out.returncode == 2 and out.stdout == ""
    out = cli("--headless", "--steps", "1", "--samples", str(MAX_SAMPLES))
    assert out.returncode == 0 and f"sample {MAX_SAMPLES}:" in out.stdout


# --- memory limits kept before memory is spent ---------------------------------------------------
# The peak is this process's own high-water mark (VmHWM, reset by exec), not ru_maxrss: that one
# survives exec and can report the forking test runner's size instead.
PEAK = textwrap.dedent("""
    import sys
    from tui.console.main import main
    try:
        code = main(sys.argv[2:])
    finally:
        hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        with open(sys.argv[1], "w") as f:
            f.write(str(int(hwm.split()[1]) * 1024))
    sys.exit(code)
""")


def _alphabet_file(folder: Path, size: int) -> Path:
    chars = [chr(0x10000 + i) for i in range(size)]  # planes 1 and 2: no whitespace, no surrogates
    path = folder / f"alphabet{size}.txt"
    path.write_text("\n".join("".join(chars[i : i + 10]) for i in range(0, size, 10)) + "\n", encoding="utf-8")
    return path


def _peak(tmp_path: Path, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], int]:
    script, report = tmp_path / "peak.py", tmp_path / "peak.txt"
    script.write_text(PEAK)
    out = subprocess.run([sys.executable, str(script), str(report), *args], capture_output=True, text=True,
                         cwd=ROOT, env=ENV, timeout=timeout, stdin=subprocess.DEVNULL)
    return out, int(report.read_text())


@pytest.mark.parametrize("size", [100_000, 20_000, 8_000])
@pytest.mark.parametrize("headless", [True, False])
def test_a_huge_alphabet_is_refused_before_memory_is_spent(tmp_path, size, headless):
    data = _alphabet_file(tmp_path, size)
    out, peak = _peak(tmp_path, *(["--headless"] if headless else []), "--data", str(data))
    assert out.returncode == 2
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and f"and {size + 1} tokens would need about" in lines[0]
    assert peak < 300 * 1024**2, f"peak {peak / 1024**2:.0f} MB before refusing"


def test_a_data_file_over_the_size_limit_is_refused_unread(tmp_path):
    data = tmp_path / "huge.txt"
    with data.open("wb") as f:
        f.truncate(33 * 1024**2)  # sparse: costs no disk
    out, peak = _peak(tmp_path, "--headless", "--data", str(data))
    assert out.returncode == 2
    assert error_lines(out.stderr) == [f"micromlp-tui: error: {data}: 33 MB is over the 32 MB limit"]
    assert peak < 150 * 1024**2


def test_the_largest_alphabet_accepted_stays_within_the_limit(tmp_path):
    """The estimate is honest: a run at the edge of the limit (4,400 characters) trains, samples and
    reports within MAX_MODEL_BYTES."""
    data = _alphabet_file(tmp_path, 4_400)
    out, peak = _peak(tmp_path, "--headless", "--data", str(data), "--steps", "20", "--samples", "3")
    assert out.returncode == 0, out.stderr
    assert peak < MAX_MODEL_BYTES, f"peak {peak / 1024**3:.2f} GiB"
    print(f"peak {peak / 1024**3:.2f} GiB")
