"""The command line's flags, shared by both faces (the dashboard and --headless): flags -> Config,
output paths checked before anything trains, and the run the flags describe. Nothing here imports Textual."""

from __future__ import annotations

import argparse
from typing import NoReturn

from engine.config import MAX_SAMPLES, Config
from engine.errors import ConfigError, OutputError
from engine.outputs import check_distinct, check_output
from engine.run import Run, embedded_names_path

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
                   help=f"names sampled at the end, 0 to {MAX_SAMPLES:,} (default {D.num_samples})")
    p.add_argument("--n-embd", type=int, metavar="N", help=f"embedding width (default {D.n_embd})")
    p.add_argument("--hidden", type=int, metavar="N", help="hidden width (default 4 x n-embd)")
    p.add_argument("--holdout", type=float, metavar="F",
                   help="keep the last fraction F of the shuffled names out of training, 0 <= F < 1, and report "
                   "their exact loss beside the training loss (default 0: train on every name, as the tutorial). "
                   "F x names is rounded to the nearest whole number, at least 1 held out and 1 left to train; "
                   "makemore holds out min(1000, 10%%), e.g. 0.1")
    p.add_argument("--metrics", metavar="PATH", help="write a CSV 'step,loss,lr', one row per step (the "
                   "dashboard: at the run's end and when it ends)")
    p.add_argument("--save", metavar="PATH", help="save a checkpoint at the end of training (the dashboard: also "
                   "when it ends, and on s); may be the --load file")
    p.add_argument("--load", metavar="PATH", help="start from a checkpoint")
    p.add_argument("--compare", nargs="+", metavar="CKPT",
                   help="print the checkpoints' settings and final losses side by side, then exit; the exact "
                   "whole-data and held-out losses need --data (the names they were trained on), else the "
                   "mean of the last 100 recorded losses is shown")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's settings from the flags; flags left out keep the defaults."""
    given = {"n_embd": args.n_embd, "hidden": args.hidden, "num_steps": args.steps,
             "learning_rate": args.lr, "seed": args.seed, "holdout": getattr(args, "holdout", None)}
    changes = {k: v for k, v in given.items() if v is not None}
    return Config(temperature=args.temperature, num_samples=args.samples, **changes).validate()


def check_writable(flag: str, path: str | None) -> None:
    """Refuse an output path that cannot be written BEFORE training, not after it (engine.outputs)."""
    try:
        check_output(flag, path)
    except OutputError as exc:
        raise ConfigError(str(exc)) from None


def check_outputs(args: argparse.Namespace) -> None:
    """Every output flag checked before anything is loaded or trained: writable, a name that fits, not a
    directory / block device / socket, and not the same file as an input or as the other output
    (but --save may be --load's file: a resumed run saved back)."""
    outputs = [("--save", args.save), ("--metrics", getattr(args, "metrics", None))]
    for flag, path in outputs:
        check_writable(flag, path)
    inputs = [("--data", args.data if args.data is not None else embedded_names_path()), ("--load", args.load)]
    try:  # --save onto --load is resuming a run and saving it back: allowed (the save is atomic)
        check_distinct(outputs, inputs, allowed=[("--save", "--load")])
    except OutputError as exc:
        raise ConfigError(str(exc)) from None


def make_run(args: argparse.Namespace) -> Run:
    """A new run from the flags, or one resumed from --load (whose sizes, seed and rate must agree
    with any flag given for them)."""
    config = config_from_args(args)
    if args.data == "tutorial":  # the tutorial's names.txt, downloaded once (engine/tutorial_data.py)
        from engine.tutorial_data import tutorial_names_path

        args.data = tutorial_names_path()
    check_outputs(args)
    if not args.load:
        return Run.new(config, args.data)
    run = Run.resume(args.load, args.data, num_steps=args.steps)
    saved = run.config
    for flag, value, have in (("--n-embd", args.n_embd, saved.n_embd), ("--hidden", args.hidden, saved.hidden_size),
                              ("--seed", args.seed, saved.seed), ("--lr", args.lr, saved.learning_rate),
                              ("--holdout", getattr(args, "holdout", None), saved.holdout)):
        if value is not None and value != have:
            raise ConfigError(f"{flag} {value} does not match the checkpoint's {have}; leave it out with --load")
    run.config = saved.with_(temperature=config.temperature, num_samples=config.num_samples)
    return run

