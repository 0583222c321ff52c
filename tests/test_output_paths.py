"""Output paths (--save, --metrics, checkpoint.save) never destroy what is not ours.

Regular files are replaced atomically (through a symbolic link: its target); devices, pipes and our
own stdout are written through; directories, block devices and sockets are refused; an output that is
the same file as an input or the other output is refused; all of it before training."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from engine import CheckpointError, Config, Run, checkpoint, embedded_names_path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia"]


def cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=timeout, env=env)


def one_error(out: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> str:
    assert out.returncode == code, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("micromlp-tui: error: "), out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


# --- devices, pipes, links: written through or to their target, never replaced --------------------
def test_a_character_device_is_written_through_and_stays_a_device(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mknod of a character device needs root (CI runs as root)")
    for name in ("m", "s"):
        os.mknod(tmp_path / name, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a copy of /dev/null
    out = cli("--headless", "--steps", "20", "--samples", "1", "--metrics", str(tmp_path / "m"),
              "--save", str(tmp_path / "s"))
    assert out.returncode == 0, out.stderr
    for name in ("m", "s"):
        mode = os.lstat(tmp_path / name).st_mode
        assert stat.S_ISCHR(mode), f"{name} was replaced by a regular file"
    no_temporaries(tmp_path)


def test_a_link_to_our_own_stdout_writes_the_csv_there_and_stays_a_link(tmp_path):
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    out = cli("--headless", "--steps", "7", "--samples", "1", "--metrics", str(link))
    assert out.returncode == 0, out.stderr
    assert os.path.islink(link) and os.readlink(link) == "/proc/self/fd/1"
    assert "step,loss,lr" in out.stdout and "\n7,3." in out.stdout  # the CSV went to stdout


def test_our_own_stdout_redirected_to_a_file_is_appended_to_not_replaced(tmp_path):
    log, link = tmp_path / "log.txt", tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")  # as /dev/stdout, but a regression could only replace this link
    with log.open("w") as f:
        out = subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--steps", "5", "--samples", "1",
                              "--metrics", str(link)], stdout=f, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                             timeout=60)
    assert out.returncode == 0, out.stderr
    assert link.is_symlink()
    text = log.read_text()
    assert "step,loss,lr\n" in text and "\n5,3." in text and "done: 5 steps" in text  # all: not renamed over
    assert text.index("step,loss,lr") < text.index("done: 5 steps")  # nothing printed was overwritten


def test_a_fifo_is_written_through_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    out = cli("--headless", "--steps", "9", "--samples", "1", "--metrics", str(fifo))
    reader.join(10)
    assert out.returncode == 0, out.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    rows = got[0].decode().splitlines()
    assert rows[0] == "step,loss,lr" and len(rows) == 10


def test_a_link_to_a_regular_file_replaces_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.npz"
    real.write_text("old")
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "made.csv")
    out = cli("--headless", "--steps", "4", "--samples", "1", "--save", str(link), "--metrics", str(dangling))
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and dangling.is_symlink()
    assert checkpoint.load(real).step == 4
    assert (tmp_path / "made.csv").read_text().startswith("step,loss,lr")
    no_temporaries(tmp_path)


# --- refused up front ----------------------------------------------------------------------------
def test_a_directory_a_socket_or_a_missing_folder_is_refused_before_training(tmp_path):
    sock_path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        for flag in ("--save", "--metrics"):
            for target, needle in ((tmp_path, "is a directory"), (sock_path, "is a socket"),
                                   (tmp_path / "no" / "x", "does not exist"), (tmp_path / "", "is a directory")):
                out = cli("--headless", "--steps", "3", flag, str(target))
                one_error(out, f"{flag} {target}", needle)
                assert out.stdout == ""  # nothing was trained
        assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    finally:
        server.close()
    one_error(cli("--headless", "--save", ""), "--save", "give a file name")


@pytest.mark.parametrize("case", ["save=data", "save=metrics", "metrics=load", "hard link", "symlink",
                                  "embedded", "relative"])
def test_an_output_that_is_an_input_or_the_other_output_is_refused(tmp_path, case):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS) + "\n")
    ck = tmp_path / "c.npz"
    Run.new(Config(num_steps=5), data).save(ck)
    before = (data.read_bytes(), ck.read_bytes())
    args = {
        "save=data": ["--data", str(data), "--save", str(data)],
        "save=metrics": ["--save", str(tmp_path / "x"), "--metrics", str(tmp_path / "x")],
        "metrics=load": ["--data", str(data), "--load", str(ck), "--metrics", str(ck)],
        "hard link": ["--data", str(data), "--save", str(tmp_path / "hard")],
        "symlink": ["--data", str(data), "--metrics", str(tmp_path / "soft")],
        "embedded": ["--save", str(embedded_names_path())],
        "relative": ["--data", "names.txt", "--save", f"../{tmp_path.name}/names.txt"],
    }[case]
    os.link(data, tmp_path / "hard")
    (tmp_path / "soft").symlink_to(data)
    embedded = embedded_names_path().read_bytes()
    out = cli("--headless", "--steps", "5", *args, cwd=tmp_path)
    one_error(out, "is the same file as")
    assert out.stdout == ""
    assert (data.read_bytes(), ck.read_bytes()) == before
    assert embedded_names_path().read_bytes() == embedded
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("how", ["same path", "symlink"])
def test_resuming_a_checkpoint_and_saving_it_back_is_allowed(tmp_path, how):
    """--load ck.npz --save ck.npz: the most ordinary use of a checkpoint (issue 16 §4); the save is
    atomic, so the file is replaced whole by the longer run, never half-written."""
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS) + "\n")
    ck = tmp_path / "c.npz"
    Run.new(Config(num_steps=40), data).save(ck)
    target = ck
    if how == "symlink":
        target = tmp_path / "link.npz"
        target.symlink_to(ck)
    out = cli("--headless", "--data", str(data), "--steps", "40", "--load", str(ck), "--save", str(target),
              "--samples", "1")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert checkpoint.load(ck).step == 40  # was 0: trained 40 steps and saved back
    no_temporaries(tmp_path)


def test_save_onto_load_is_allowed_but_metrics_onto_load_is_not(tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS) + "\n")
    ck = tmp_path / "c.npz"
    Run.new(Config(num_steps=5), data).save(ck)
    before = ck.read_bytes()
    out = cli("--headless", "--data", str(data), "--load", str(ck), "--save", str(ck), "--metrics", str(ck))
    one_error(out, "--metrics", "is the same file as --load")
    assert ck.read_bytes() == before


def test_the_dashboard_refuses_the_same_outputs_before_it_starts(tmp_path):
    out = cli("--save", str(tmp_path / "x"), "--metrics", str(tmp_path / "x"))
    one_error(out, "is the same file as")


# --- long names ----------------------------------------------------------------------------------
@pytest.mark.parametrize("length", [254, 255])
def test_names_that_fit_the_file_system_work_for_both_outputs(tmp_path, length):
    save, metrics = tmp_path / ("s" * length), tmp_path / ("m" * length)
    out = cli("--headless", "--steps", "50", "--samples", "1", "--save", str(save), "--metrics", str(metrics))
    assert out.returncode == 0, out.stderr
    assert checkpoint.load(save).step == 50 and len(metrics.read_text().splitlines()) == 51
    no_temporaries(tmp_path)


@pytest.mark.parametrize("flag", ["--save", "--metrics"])
@pytest.mark.parametrize("headless", [True, False])
def test_a_name_too_long_is_refused_before_training_naming_the_path(tmp_path, flag, headless):
    target = tmp_path / ("n" * 256)
    out = cli(*(["--headless"] if headless else []), "--steps", "100000", flag, str(target))
    line = one_error(out, f"{flag} {target}: the file name is too long (256 bytes; at most 255")
    assert "None" not in line and out.stdout == ""


def test_checkpoint_save_raises_checkpoint_errors_naming_the_path_only(tmp_path, monkeypatch):
    run = Run.new(Config(num_steps=5), DOCS)
    for target, needle in ((tmp_path / ("n" * 256), "too long"), (tmp_path / "no" / "c.npz", "does not exist"),
                           (tmp_path, "is a directory")):
        with pytest.raises(CheckpointError) as info:
            run.save(target)
        assert str(target) in str(info.value) and needle in str(info.value)
        assert "\n" not in str(info.value)

    diverged = Run.new(Config(num_steps=5), DOCS)
    diverged.model.theta[0] = np.nan
    with pytest.raises(CheckpointError, match=r"c\.npz: the weights are not finite"):
        diverged.save(tmp_path / "c.npz")

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "savez", no_memory)
    with pytest.raises(CheckpointError, match=r"c\.npz: cannot save checkpoint \(MemoryError"):
        run.save(tmp_path / "c.npz")
    assert not list(tmp_path.iterdir())  # no temporary file left behind


def test_temporary_names_are_short_whatever_the_target(tmp_path, monkeypatch):
    seen: list[str] = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    Run.new(Config(num_steps=5), DOCS).save(tmp_path / ("c" * 255))
    assert seen and all(len(name) <= 20 and name.startswith(".mmlp-") for name in seen)


@pytest.mark.parametrize("flag, code", [("--save", 3), ("--metrics", 2), ("--plot", 3)])
def test_headless_never_waits_on_a_pipe_with_no_reader(tmp_path, flag, code):
    # an output that is a FIFO nobody reads: refused at once (set-up for --metrics, the end for the
    # others, exit 3 as any lost output), never a wait for ever (the subprocess timeout would raise)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    out = subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--steps", "5", "--samples", "0",
                          flag, str(fifo)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == code and "is a pipe with no reader" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
