"""Issue 11's headless parity, end to end in subprocesses: --holdout and --compare."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine import Config, Run

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "v1-checkpoint.npz"
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60, env=env, stdin=subprocess.DEVNULL)


def one_error(out: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("micromlp-tui: error: "), out.stderr
    assert all(n in lines[0] for n in needles), lines[0]


def test_headless_with_a_holdout_reports_both_losses(tmp_path):
    out = cli("--headless", "--holdout", "0.1", "--steps", "300", "--samples", "0", "--save", str(tmp_path / "h.npz"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("census names (5,163; 516 held out), vocabulary 27 tokens")
    run = Run.resume(tmp_path / "h.npz")
    assert run.config.holdout == 0.1 and len(run.heldout) == 516 and len(run.dataset) == 4647
    assert lines[-1].endswith(f"| held-out loss {run.heldout_loss():.4f} | held-out floor {run.heldout_floor:.4f}")
    # with a held-out set the whole-data loss and the floor are over the training names only, and say so
    assert f"whole-data loss (training names) {run.dataset_loss():.4f}" in lines[-1]
    assert f"bigram floor (training names) {run.reference.floor:.4f}" in lines[-1]


def test_bad_holdouts_are_one_line_errors(tmp_path):
    for value in ("1", "-0.1", "nan", "inf", "1e999"):
        one_error(cli("--headless", "--holdout", value), "--holdout must be a number from 0 up to")
    one_error(cli("--headless", "--holdout", "abc"), "invalid float value")
    Run.new(Config(num_steps=10), DOCS).save(tmp_path / "c.npz")
    (tmp_path / "d.txt").write_text("\n".join(DOCS))
    one_error(cli("--headless", "--load", str(tmp_path / "c.npz"), "--data", str(tmp_path / "d.txt"),
                  "--holdout", "0.2"), "--holdout 0.2 does not match the checkpoint's 0.0")


def test_help_explains_the_holdout_and_compare():
    text = " ".join(cli("--help").stdout.split())
    assert "--holdout F" in text and "min(1000, 10%)" in text and "--compare CKPT [CKPT ...]" in text


def _checkpoints(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS * 3) + "\n")
    a = Run.new(Config(num_steps=40, holdout=0.25, n_embd=4), data)
    for rec in a.steps():
        if rec.step == 19:
            a.scale_lr(0.5)
    b = Run.new(Config(num_steps=60, learning_rate=0.3, seed=7), data)
    list(b.steps())
    return a.save(tmp_path / "a.npz"), b.save(tmp_path / "b.npz"), data


def test_compare_without_data_shows_settings_and_the_recorded_mean(tmp_path):
    a, b, _ = _checkpoints(tmp_path)
    out = cli("--compare", str(a), str(b), str(FIXTURE))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    rows = {line.split("  ")[0]: line.split()[-3:] for line in out.stdout.splitlines()[1:-1]}
    assert out.stdout.splitlines()[0].split() == ["a.npz", "b.npz", "v1-checkpoint.npz"]
    assert rows["steps"] == ["40/40", "60/60", "5/12"]
    assert rows["n_embd"] == ["4", "16", "2"] and rows["seed"] == ["42", "7", "5"]
    assert rows["holdout"] == ["0.25", "0.0", "0.0"]
    # the first step to use 0.5 is the 21st (a's 20 steps at 1.0), as the dashboard's run line says it
    assert "lr changes          1.0, 0.5 from step 21  none" in out.stdout
    ra, rb = Run.resume(a, tmp_path / "names.txt"), Run.resume(b, tmp_path / "names.txt")
    assert rows["last-100 mean loss"][:2] == [f"{r.history.mean_last(100):.4f}" for r in (ra, rb)]
    assert out.stdout.splitlines()[-1].startswith("whole-data and held-out losses need the names")
    table = "\n".join(out.stdout.splitlines()[:-1])
    assert "whole-data loss" not in table and "held-out loss" not in table


def test_compare_names_each_checkpoints_schedule_and_gradient(tmp_path):
    """The decay-vs-constant and one-name-vs-whole-data races' checkpoints differ only there: the table
    showed the same columns for them (its 'lr schedule' row was the rate's changes, not the schedule)."""
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS * 3) + "\n")
    paths = []
    for name, schedule, gradient in (("lin", "linear", "name"), ("cos", "cosine", "name"), ("gd", "constant", "data")):
        run = Run.new(Config(num_steps=10, schedule=schedule, gradient=gradient), data)
        list(run.steps())
        paths.append(str(run.save(tmp_path / f"{name}.npz")))
    out = cli("--compare", *paths)
    assert out.returncode == 0, out.stderr
    rows = {line.split("  ")[0]: line.split()[1:] for line in out.stdout.splitlines()[1:-1]}
    assert rows["schedule"] == ["linear", "cosine", "constant"]
    assert rows["gradient"] == ["name", "name", "data"]


def test_compare_with_data_computes_the_exact_losses(tmp_path):
    a, b, data = _checkpoints(tmp_path)
    out = cli("--compare", str(a), str(b), "--data", str(data))
    assert out.returncode == 0, out.stderr
    rows = {line.split("  ")[0]: line.split()[-2:] for line in out.stdout.splitlines()[1:]}
    ra, rb = Run.resume(a, data), Run.resume(b, data)
    assert rows["whole-data loss"] == [f"{ra.dataset_loss():.4f}", f"{rb.dataset_loss():.4f}"]
    assert rows["held-out loss"] == [f"{ra.heldout_loss():.4f}", "-"]
    assert rows["bigram floor"] == [f"{ra.reference.floor:.4f}", f"{rb.reference.floor:.4f}"]
    assert "need the names" not in out.stdout


def test_compare_refuses_bad_files_in_one_line_each(tmp_path):
    a, _, _ = _checkpoints(tmp_path)
    (tmp_path / "text.npz").write_text("not a checkpoint")
    out = cli("--compare", str(a), str(tmp_path / "missing.npz"), str(tmp_path / "text.npz"), str(tmp_path))
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines == [
        f"micromlp-tui: error: {tmp_path / 'missing.npz'}: no such file",
        f"micromlp-tui: error: {tmp_path / 'text.npz'}: not a micromlp-tui checkpoint, or a damaged or truncated "
        "one (File is not a zip file)",
        f"micromlp-tui: error: {tmp_path}: is a directory, not a checkpoint",
    ]
    other = tmp_path / "other.txt"
    other.write_text("xyz\nzzy\n")
    one_error(cli("--compare", str(a), "--data", str(other)), "its vocabulary", "is not the data's")
    one_error(cli("--compare", str(a), "--save", str(tmp_path / "x.npz")), "--compare trains nothing", "--save")
    one_error(cli("--compare"), "expected at least one argument")


def test_a_resumed_run_continues_its_schedule_and_says_so(tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(DOCS) + "\n")
    run = Run.new(Config(num_steps=30), data)
    for rec in run.steps():
        if rec.step == 9:
            run.scale_lr(0.5)
        if rec.step == 14:
            break
    run.save(tmp_path / "c.npz")
    out = cli("--headless", "--load", str(tmp_path / "c.npz"), "--data", str(data), "--samples", "0",
              "--metrics", str(tmp_path / "m.csv"))
    assert out.returncode == 0, out.stderr
    # steps are numbered from 1 as on the step line: step index 10, the 11th step, was the first at 0.5
    assert out.stdout.splitlines()[0].endswith("training steps 16-30 at lr 1.0, 0.5 from step 11")
    rows = [line.split(",") for line in (tmp_path / "m.csv").read_text().splitlines()[1:]]
    assert [float(r[2]) for r in rows] == [0.5 * (1 - s / 30) for s in range(15, 30)]
