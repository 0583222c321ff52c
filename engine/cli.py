"""The command line: flags -> Config, and the headless front end (`micromlp-tui --headless`).

Shared by both front ends so that a flag means the same in each. Nothing here imports Textual.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import NoReturn, TextIO

from engine.checkpoint import temp_file_beside
from engine.config import Config
from engine.errors import ConfigError, MicroMLPError
from engine.run import Run

PROG = "micromlp-tui"
D = Config()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + line
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Watch a tiny MLP language model learn names, live in the "
                "terminal (MicroGPT Visualized, Step 1: training & inference).")
    p.add_argument("--headless", action="store_true", help="train and sample with no UI")
    p.add_argument("--data", metavar="PATH", help="UTF-8 text file, one name per line, or 'tutorial': the "
                   "tutorial's 32,033 names, downloaded once into the cache folder "
                   "(default: the embedded 5,163 US Census first names)")
    p.add_argument("--steps", type=int, metavar="N", help=f"SGD steps, one name each (default {D.num_steps})")
    p.add_argument("--lr", type=float, metavar="F", help=f"learning rate at step 0, decays linearly to 0 "
                   f"(default {D.learning_rate})")
    p.add_argument("--seed", type=int, metavar="N", help=f"random seed (default {D.seed})")
    p.add_argument("--temperature", type=float, metavar="F", default=D.temperature,
                   help=f"sampling temperature > 0 (default {D.temperature})")
    p.add_argument("--samples", type=int, metavar="N", default=D.num_samples,
                   help=f"names sampled at the end (default {D.num_samples})")
    p.add_argument("--n-embd", type=int, metavar="N", help=f"embedding width (default {D.n_embd})")
    p.add_argument("--hidden", type=int, metavar="N", help="hidden width (default 4 x n-embd)")
    p.add_argument("--metrics", metavar="PATH", help="write a CSV 'step,loss,lr', one row per step")
    p.add_argument("--save", metavar="PATH", help="save a checkpoint at the end of training")
    p.add_argument("--load", metavar="PATH", help="start from a checkpoint")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's settings from the flags; flags left out keep the defaults."""
    given = {"n_embd": args.n_embd, "hidden": args.hidden, "num_steps": args.steps,
             "learning_rate": args.lr, "seed": args.seed}
    changes = {k: v for k, v in given.items() if v is not None}
    return Config(temperature=args.temperature, num_samples=args.samples, **changes).validate()


def check_writable(flag: str, path: str | None) -> None:
    """Refuse an output path that cannot be written BEFORE training, not after it."""
    if not path:
        return
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ConfigError(f"{flag} {path}: is a directory; give a file name")
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"{flag} {path}: the folder {folder} is not writable")


def make_run(args: argparse.Namespace) -> Run:
    """A new run from the flags, or one resumed from --load (whose sizes, seed and rate must agree
    with any flag given for them)."""
    config = config_from_args(args)
    if args.data == "tutorial":  # the tutorial's names.txt, downloaded once (engine/tutorial_data.py)
        from engine.tutorial_data import tutorial_names_path

        args.data = tutorial_names_path()
    check_writable("--save", args.save)
    check_writable("--metrics", getattr(args, "metrics", None))
    if not args.load:
        return Run.new(config, args.data)
    run = Run.resume(args.load, args.data, num_steps=args.steps)
    saved = run.config
    for flag, value, have in (("--n-embd", args.n_embd, saved.n_embd), ("--hidden", args.hidden, saved.hidden_size),
                              ("--seed", args.seed, saved.seed), ("--lr", args.lr, saved.learning_rate)):
        if value is not None and value != have:
            raise ConfigError(f"{flag} {value} does not match the checkpoint's {have}; leave it out with --load")
    run.config = saved.with_(temperature=config.temperature, num_samples=config.num_samples)
    return run


def fail(message: str, code: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


class MetricsWriter:
    """The --metrics CSV, written to a temporary file and renamed into place when closed."""

    def __init__(self, path: str):
        self.path = Path(path)
        fd, self._tmp = temp_file_beside(self.path)
        self._f: TextIO = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._f.write("step,loss,lr\n")

    def row(self, step: int, loss: float, lr: float) -> None:
        self._f.write(f"{step},{loss!r},{lr!r}\n")

    def close(self) -> None:
        self._f.close()
        os.replace(self._tmp, self.path)

    def discard(self) -> None:
        self._f.close()
        Path(self._tmp).unlink(missing_ok=True)


def run_headless(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Train to the end, print progress, the samples and a summary. Returns the exit code."""
    try:
        run = make_run(args)
        metrics = MetricsWriter(args.metrics) if args.metrics else None
    except MicroMLPError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{args.metrics}: cannot write ({exc.strerror})")
    c = run.config
    print(f"{len(run.dataset)} names, vocabulary {run.dataset.vocab_size} tokens, {run.model.num_params:,} "
          f"parameters; training steps {run.step + 1}-{c.num_steps} at lr {c.learning_rate}", file=out)
    every = max(1, c.num_steps // 10)
    start, first = time.perf_counter(), run.step
    code = 0
    try:
        for rec in run.steps():
            if rec.diverged:
                print(f"diverged at step {rec.step + 1}: the loss is {rec.loss}; training stopped "
                      f"(try a smaller --lr than {c.learning_rate})", file=out)
                code = 1
                break
            if metrics:
                metrics.row(rec.step + 1, rec.loss, rec.lr)
            if (rec.step + 1) % every == 0:
                print(f"step {rec.step + 1:>{len(str(c.num_steps))}}/{c.num_steps} | loss {rec.loss:.4f} | "
                      f"avg {run.history.last_ema:.4f} | lr {rec.lr:.4f}", file=out)
    except KeyboardInterrupt:
        print(f"interrupted at step {run.step}", file=out)
        code = 130
    elapsed = time.perf_counter() - start
    if metrics:
        metrics.close()
    if args.save:
        try:
            print(f"saved checkpoint (step {run.step}) to {run.save(args.save)}", file=out)
        except MicroMLPError as exc:
            return fail(str(exc))
        except OSError as exc:
            return fail(f"{args.save}: cannot save checkpoint ({exc.strerror})")
    if code == 0:
        for i, name in enumerate(run.sample()):
            print(f"sample {i + 1:2d}: {name}", file=out)
    done = run.step - first
    rate = done / elapsed if elapsed > 0 else math.inf
    print(f"done: {done} steps in {elapsed:.2f} s ({rate:,.0f} steps/s) | step {run.step}/{c.num_steps} | "
          f"last-100 mean loss {run.history.mean_last(100):.4f} | whole-data loss {run.dataset_loss():.4f} | "
          f"bigram floor {run.reference.floor:.4f} | random guess {run.reference.random_guess:.4f}", file=out)
    return code
