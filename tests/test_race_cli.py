"""`--race` on the command line (headless): the CSV equals solo runs' to 1e-9, the table, the
checkpoints each variant saves, and one-line refusals."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import Config, Run

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui.console.main", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_a_learning_rate_race_writes_what_four_solo_runs_write(tmp_path):
    out = cli("--headless", "--race", "lr=0.25,0.5,1,2", "--metrics", str(tmp_path / "m.csv"))
    assert out.returncode == 0, out.stderr
    rows = _rows(tmp_path / "m.csv")
    assert rows[0] == ["variant", "step", "loss", "lr"] and len(rows) == 1 + 4 * 1000
    for number, lr in enumerate(["0.25", "0.5", "1", "2"], start=1):
        solo = cli("--headless", "--lr", lr, "--samples", "0", "--metrics", str(tmp_path / f"s{number}.csv"))
        assert solo.returncode == 0, solo.stderr
        want = _rows(tmp_path / f"s{number}.csv")
        got = [r[1:] for r in rows[1:] if r[0] == str(number)]
        assert want[0] == ["step", "loss", "lr"] and len(got) == len(want) - 1 == 1000
        assert [r[0] for r in got] == [r[0] for r in want[1:]]  # steps 1..1000
        assert [float(r[2]) for r in got] == [float(r[2]) for r in want[1:]]  # the rates, exactly
        g, w = np.array([float(r[1]) for r in got]), np.array([float(r[1]) for r in want[1:]])
        assert np.all(np.abs(g - w) <= 1e-9 * w)
        # the table's row: what differs, and the whole-data loss the solo run ends with
        whole = solo.stdout.split("whole-data loss ")[1].split()[0]
        floor = solo.stdout.split("bigram floor ")[1].split()[0]
        row = next(line for line in out.stdout.splitlines() if line.startswith(f"{number:>2} lr "))
        assert row.split()[1:] == ["lr", str(float(lr)), "1,000/1,000", whole, floor]
    lines = out.stdout.splitlines()
    assert lines[0].endswith("a race of 4 variants in lockstep, steps 1-1,000: 1 lr 0.25; 2 lr 0.5; 3 lr 1.0; 4 lr 2.0")
    assert sum(line.startswith("step ") for line in lines) == 10  # one progress line for the race
    assert "sample" not in out.stdout  # samples only on request


def test_each_variant_saves_a_checkpoint_that_resumes_as_a_solo_run(tmp_path):
    out = cli("--headless", "--race", "seed=3,4", "--race", "n-embd=4,8", "--steps", "60",
              "--save", str(tmp_path / "run.npz"), "--samples", "2")
    assert out.returncode == 0, out.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["run-v1.npz", "run-v2.npz", "run-v3.npz", "run-v4.npz"]
    for number, (seed, n_embd) in enumerate([(3, 4), (3, 8), (4, 4), (4, 8)], start=1):
        config = Config(num_steps=60, seed=seed, n_embd=n_embd, num_samples=2)
        solo = Run.new(config)
        losses = [rec.loss for rec in solo.steps()]
        loaded = Run.resume(tmp_path / f"run-v{number}.npz", num_steps=90)
        assert loaded.config.seed == seed and loaded.config.n_embd == n_embd and loaded.step == 60
        assert np.allclose(loaded.history.losses, losses, rtol=1e-9, atol=0)
        assert np.allclose(loaded.model.theta, solo.model.theta, rtol=0, atol=1e-9)
        names = solo.sample()
        line = next(x for x in out.stdout.splitlines() if x.startswith(f"variant {number} ("))
        assert line == f"variant {number} (seed {seed}, n_embd {n_embd}) samples: {', '.join(names)}"
        assert len(list(loaded.steps())) == 30  # and it trains on, as a solo run


def test_a_diverging_variant_is_said_in_its_row_and_the_race_ends_normally(tmp_path):
    out = cli("--headless", "--race", "lr=0.5,1000", "--schedule", "constant", "--steps", "300")
    assert out.returncode == 0, out.stderr
    assert "variant 2 (lr 1000.0) diverged at step" in out.stdout
    row2 = next(line for line in out.stdout.splitlines() if line.startswith(" 2 lr 1000.0"))
    row1 = next(line for line in out.stdout.splitlines() if line.startswith(" 1 lr 0.5"))
    assert "diverged at" in row2 and "300/300" in row1
    assert "lowest whole-data loss: variant 1 (lr 0.5)" in out.stdout


def test_a_held_out_set_adds_its_column():
    out = cli("--headless", "--race", "gradient=name,data", "--holdout", "0.1", "--steps", "50")
    assert out.returncode == 0, out.stderr
    head = next(line for line in out.stdout.splitlines() if line.startswith("variant "))
    assert head.split() == ["variant", "steps", "whole-data", "held-out", "floor"]
    solo = Run.new(Config(num_steps=50, gradient="data", holdout=0.1))
    for _ in solo.steps():
        pass
    row = next(line for line in out.stdout.splitlines() if line.startswith(" 2 whole-data gradient"))
    assert row.split()[-3:] == [f"{solo.dataset_loss():.4f}", f"{solo.heldout_loss():.4f}",
                                f"{solo.reference.floor:.4f}"]


@pytest.mark.parametrize(("args", "message"), [
    (("--race", "lr=1,2", "--race", "seed=1,2,3,4,5,6,7,8,9"),
     "--race makes 2 x 9 = 18 variants; at most 16 race at once"),
    (("--race", "lr=1,2", "--lr", "0.5"), "--lr and --race lr=... both set it; give its values in --race only"),
    (("--race", "width=1,2"), "--race takes SETTING=V1,V2,... with SETTING one of lr, seed, n-embd, hidden"),
    (("--race", "lr=1,x"), "--race lr: 'x' is not a number"),
    (("--race", "seed=1,2", "--load", "x.npz"), "--race starts new runs; it does not go with --load"),
])
def test_bad_races_are_one_line_and_exit_2(args, message):
    out = cli("--headless", *args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("micromlp-tui: error: ") and message in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_the_help_says_how_the_checkpoints_are_named():
    out = cli("--help")
    text = " ".join(out.stdout.split())
    assert "run.npz -> run-v1.npz, run-v2.npz" in text and "'variant,step,loss,lr'" in text


def test_the_last_progress_line_of_a_race_with_a_diverged_variant_says_so_and_that_it_finished():
    """QA round 2: `--race lr=0.1,5` ended with `moving average best 2.9996 (1: lr 0.1), worst 2.9996 (1: lr
    0.1) | 1/2 running`: the race was over, and 'worst' left out the variant that diverged without a word."""
    out = cli("--headless", "--race", "lr=0.5,50", "--steps", "200", "--samples", "0")
    assert out.returncode == 0, out.stderr
    last = next(line for line in reversed(out.stdout.splitlines()) if line.startswith("step"))
    assert last.startswith("step 200/200 | moving average ") and "worst" not in last, last
    assert "(1: lr 0.5)" in last and last.endswith("| finished, 1 diverged"), last
