"""The console command, end to end in subprocesses: headless runs, metrics, checkpoints, errors."""

import csv
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Config, Run, embedded_names_path
from engine.race import Race, race_configs, race_spec
from tui.console import headless
from tui.console.flags import build_parser

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def test_headless_default_run_prints_the_tutorials_samples_and_a_summary(tmp_path):
    out = cli("--headless", "--metrics", str(tmp_path / "m.csv"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    samples = [line for line in lines if line.startswith("sample ")]
    assert [line[:10] for line in samples] == [f"sample {i:2d}:" for i in range(1, 21)]
    assert lines[-1].startswith("done: 1,000 steps") and "steps/s" in lines[-1]
    assert "whole-data loss" in lines[-1] and "bigram floor" in lines[-1]
    rows = list(csv.reader((tmp_path / "m.csv").open()))
    assert rows[0] == ["step", "loss", "lr"] and len(rows) == 1001
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 1001))
    assert float(rows[1][2]) == 1.0 and math.isclose(float(rows[1][1]), math.log(27), abs_tol=0.01)


def test_headless_does_not_import_textual():
    code = ("import sys; from tui.console.main import main;"
            "rc = main(['--headless', '--steps', '5', '--samples', '1']);"
            "assert 'textual' not in sys.modules and 'plotext' not in sys.modules, 'textual imported';"
            "sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr


def test_save_then_load_continues_the_run(tmp_path):
    ck = str(tmp_path / "c.npz")
    half = cli("--headless", "--steps", "300", "--save", ck)
    assert half.returncode == 0 and "saved checkpoint (step 300)" in half.stdout
    # --load goes on from step 300; --steps 400 makes it a 400-step run with that schedule
    more = cli("--headless", "--load", ck, "--steps", "400", "--metrics", str(tmp_path / "b.csv"))
    assert more.returncode == 0, more.stderr
    rows = list(csv.reader((tmp_path / "b.csv").open()))[1:]
    assert [int(r[0]) for r in rows] == list(range(301, 401))
    assert float(rows[0][2]) == 1.0 * (1 - 300 / 400)
    assert "step 400/400" in more.stdout.splitlines()[-1]
    assert more.stdout.splitlines()[0].endswith("training steps 301-400 at lr 1.0")


def test_loading_a_finished_run_says_there_is_nothing_left_to_train(tmp_path):
    ck = str(tmp_path / "c.npz")
    assert cli("--headless", "--steps", "50", "--save", ck).returncode == 0
    again = cli("--headless", "--load", ck, "--samples", "2")
    assert again.returncode == 0, again.stderr
    first = again.stdout.splitlines()[0]
    assert "training steps 51-50" not in first and first.endswith("already at step 50/50: nothing left to train "
                                                                   "(--steps N makes the run longer)")
    assert again.stdout.splitlines()[-1].startswith("done: 0 steps")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "abc"], "invalid int value"),
        (["--steps", "0"], "--steps must be"),
        (["--steps", "-5"], "--steps must be"),
        (["--lr", "0"], "--lr must be"),
        (["--lr", "nan"], "--lr must be"),
        (["--lr", "inf"], "--lr must be"),
        (["--temperature", "0"], "--temperature must be"),
        (["--temperature", "-1"], "--temperature must be"),
        (["--samples", "-1"], "--samples must be"),
        (["--n-embd", "0"], "--n-embd must be"),
        (["--hidden", "0"], "--hidden must be"),
        (["--n-embd", "100000", "--hidden", "100000"], "would need about"),
        (["--data", "/nonexistent/names.txt"], "no such file"),
        (["--load", "/nonexistent/c.npz"], "no such file"),
    ],
)
def test_bad_flags_give_one_line_errors_and_exit_2(args, message):
    out = cli("--headless", *args)
    assert out.returncode == 2
    assert out.stdout == ""
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in out.stderr


def test_a_checkpoint_from_other_sizes_or_data_is_refused(tmp_path):
    ck = str(tmp_path / "c.npz")
    assert cli("--headless", "--steps", "3", "--save", ck).returncode == 0
    out = cli("--headless", "--load", ck, "--n-embd", "8")
    assert out.returncode == 2 and "does not match the checkpoint" in out.stderr
    other = tmp_path / "other.txt"
    other.write_text("ÄÖÜ\nxyz\n")
    out = cli("--headless", "--load", ck, "--data", str(other))
    assert out.returncode == 2 and "vocabulary" in out.stderr


def test_divergence_is_reported_and_exits_non_zero(tmp_path):
    ck = tmp_path / "c.npz"
    out = cli("--headless", "--lr", "1e150", "--save", str(ck))
    assert out.returncode == 1
    assert "diverged at step" in out.stdout
    assert ck.exists()  # the last finite weights
    again = cli("--headless", "--load", str(ck), "--samples", "2")
    assert again.returncode != 2 and "error" not in again.stderr  # it loads: no NaN was written


def test_embedded_names_exist():
    assert embedded_names_path().is_file()


def test_the_installed_command_finds_the_embedded_names(tmp_path):
    """After a plain `pip install .`, from any folder (CI installs it so; a bare checkout skips)."""
    script = Path(sys.executable).parent / "micromlp-tui"
    if not script.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI installs the project, so the console script must exist")
        pytest.skip("the project is not installed in this environment")
    out = subprocess.run([str(script), "--headless", "--steps", "3", "--samples", "2"], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("census names (5,163), vocabulary 27 tokens")


def _dead(run):
    """Every hidden unit dead: positive embeddings, negative first layer (each pre-activation < 0)."""
    run.model.fc1[:] = -np.abs(run.model.fc1)
    run.model.wte[:] = np.abs(run.model.wte) + 0.01
    return run


def test_headless_says_when_every_hidden_unit_is_dead(tmp_path):
    """A run stuck with every unit dead ends at the random guess: the end says why, in one line."""
    ck = tmp_path / "dead.npz"
    _dead(Run.new(Config(num_steps=40))).save(ck)
    out = cli("--headless", "--load", str(ck), "--steps", "80", "--samples", "2")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    done = next(i for i, line in enumerate(lines) if line.startswith("done: "))
    assert lines[done + 1].startswith("every hidden unit is dead (dead ReLUs): ") and len(lines) == done + 2
    assert "the gradient is 0" in lines[done + 1] and "try a smaller --lr than 1.0" in lines[done + 1]
    guess = lines[done].split("random guess ")[1]
    assert lines[done].split("whole-data loss ")[1].split()[0] == guess  # what the line says, the figures show
    live = cli("--headless", "--steps", "80", "--samples", "0")
    assert live.returncode == 0 and "dead" not in live.stdout


def test_a_headless_race_says_which_variant_has_every_hidden_unit_dead(monkeypatch):
    def dead_second(args, samples=None):
        variants = race_configs(Config(num_steps=60, num_samples=0), race_spec("seed=1,2"))
        runs = [Run.new(variants[0].config), _dead(Run.new(variants[1].config))]
        return Race(variants, runs)

    monkeypatch.setattr(headless, "make_race", dead_second)
    out = io.StringIO()
    assert headless.run_headless(build_parser().parse_args(["--headless", "--race", "seed=1,2"]), out) == 0
    said = [line for line in out.getvalue().splitlines() if "every hidden unit is dead" in line]
    assert [line.split(":")[0] for line in said] == ["variant 2 (seed 2)"]
