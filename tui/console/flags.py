"""The command line's flags, shared by both faces (the dashboard and --headless): flags -> Config,
output paths checked before anything trains, and the run the flags describe. Nothing here imports Textual."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from engine.config import MAX_SAMPLES, SCHEDULES, Config
from engine.errors import ConfigError, OutputError
from engine.outputs import check_distinct, check_output
from engine.race import MAX_VARIANTS, RACE_SETTINGS, Race, race_axis, race_configs
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
    p.add_argument("--lr", type=float, metavar="F", help=f"learning rate at step 0; by the schedule it then "
                   f"decays linearly to 0 (the tutorial's), stays, or follows a cosine (default {D.learning_rate})")
    p.add_argument("--seed", type=int, metavar="N", help=f"random seed (default {D.seed})")
    p.add_argument("--temperature", type=float, metavar="F", default=D.temperature,
                   help=f"sampling temperature > 0 (default {D.temperature})")
    p.add_argument("--top-k", type=int, metavar="K", default=D.top_k,
                   help="sample only from the K likeliest next tokens (ties with the K-th kept), as makemore's "
                   "--top-k; 0 is off: every token may be drawn, as the tutorial (default 0)")
    p.add_argument("--samples", type=int, metavar="N",
                   help=f"names sampled at the end, 0 to {MAX_SAMPLES:,} (default {D.num_samples}; in a --race 0, "
                   "else that many for each variant)")
    p.add_argument("--n-embd", type=int, metavar="N", help=f"embedding width (default {D.n_embd})")
    p.add_argument("--hidden", type=int, metavar="N", help="hidden width (default 4 x n-embd)")
    p.add_argument("--holdout", type=float, metavar="F",
                   help="keep the last fraction F of the shuffled names out of training, 0 <= F < 1, and report "
                   "their exact loss beside the training loss (default 0: train on every name, as the tutorial). "
                   "F x names is rounded to the nearest whole number, at least 1 held out and 1 left to train; "
                   "makemore holds out min(1000, 10%%), e.g. 0.1")
    p.add_argument("--schedule", metavar="KIND", help="the learning rate over the run: linear (from --lr down "
                   "to 0 at the last step, the tutorial's), constant (--lr throughout), cosine (from --lr down to 0 "
                   f"along half a cosine); one of {', '.join(SCHEDULES)} (default {D.schedule})")
    p.add_argument("--gradient", metavar="KIND", help="each step's gradient: name (one name per step, the "
                   "tutorial's stochastic gradient descent) or data (the exact gradient of the whole-data loss, "
                   f"full-batch gradient descent; a step costs about as much as one name's) (default {D.gradient})")
    p.add_argument("--race", action="append", metavar="SETTING=V1,V2,...",
                   help="train variants side by side, in lockstep: SETTING one of " + ", ".join(RACE_SETTINGS)
                   + f"; repeat it to race every combination (at most {MAX_VARIANTS} variants, numbered 1..K "
                   "with the first setting varying slowest), e.g. --race lr=0.25,0.5,1,2. Every variant is "
                   "exactly the run its settings make alone. With --race, --metrics writes 'variant,step,loss,lr' "
                   "and --save PATH writes one checkpoint per variant: PATH's name with -v1, -v2, ... before "
                   "its suffix (run.npz -> run-v1.npz, run-v2.npz, ...)")
    p.add_argument("--metrics", metavar="PATH", help="write a CSV 'step,loss,lr', one row per step (the "
                   "dashboard: at the run's end and when it ends)")
    p.add_argument("--save", metavar="PATH", help="save a checkpoint at the end of training (the dashboard: also "
                   "when it ends, and on s); may be the --load file")
    p.add_argument("--plot", metavar="FILE.svg", help="headless: write the loss plot as an SVG picture at the end of "
                   "the run; in the dashboard: where the export key (e) writes the picture (default "
                   "micromlp-plot.svg beside --save, or in the current folder)")
    p.add_argument("--load", metavar="PATH", help="start from a checkpoint")
    p.add_argument("--compare", nargs="+", metavar="CKPT",
                   help="print the checkpoints' settings and final losses side by side, then exit; the exact "
                   "whole-data and held-out losses need --data (the names they were trained on), else the "
                   "mean of the last 100 recorded losses is shown")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's settings from the flags; flags left out keep the defaults."""
    given = {"n_embd": args.n_embd, "hidden": args.hidden, "num_steps": args.steps,
             "learning_rate": args.lr, "seed": args.seed, "holdout": getattr(args, "holdout", None),
             "schedule": getattr(args, "schedule", None), "gradient": getattr(args, "gradient", None)}
    changes = {k: v for k, v in given.items() if v is not None}
    samples = D.num_samples if getattr(args, "samples", None) is None else args.samples
    return Config(temperature=args.temperature, num_samples=samples, top_k=getattr(args, "top_k", 0),
                  **changes).validate()


def check_writable(flag: str, path: str | None) -> None:
    """Refuse an output path that cannot be written BEFORE training, not after it (engine.outputs)."""
    try:
        check_output(flag, path)
    except OutputError as exc:
        raise ConfigError(str(exc)) from None


def variant_path(path: str, number: int) -> str:
    """A race variant's checkpoint: PATH's file name with -vN before its suffix (run.npz -> run-v2.npz)."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}-v{number}{p.suffix}")) if p.name else f"{path}-v{number}"


def check_outputs(args: argparse.Namespace, variants: int = 0) -> None:
    """Every output flag checked before anything is loaded or trained: writable, a name that fits, not a
    directory / block device / socket, and not the same file as an input or as the other output
    (but --save may be --load's file: a resumed run saved back). In a race (`variants` > 0) --save is
    checked as each variant's file."""
    saves = [("--save", args.save)] if not variants or args.save is None else [
        ("--save", variant_path(args.save, k)) for k in range(1, variants + 1)]
    outputs = [*saves, ("--metrics", getattr(args, "metrics", None)), ("--plot", getattr(args, "plot", None))]
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
                              ("--holdout", getattr(args, "holdout", None), saved.holdout),
                              ("--schedule", getattr(args, "schedule", None), saved.schedule),
                              ("--gradient", getattr(args, "gradient", None), saved.gradient)):
        if value is not None and value != have:
            raise ConfigError(f"{flag} {value} does not match the checkpoint's {have}; leave it out with --load")
    run.config = saved.with_(temperature=config.temperature, num_samples=config.num_samples, top_k=config.top_k)
    return run



def make_race(args: argparse.Namespace, samples: int | None = None) -> Race:
    """A new race from the flags: the other flags give every variant's settings, each --race one setting's
    values. Refused with one line: --load (a race starts new runs), a flag for a setting that is raced.
    `samples`: each variant's --samples when the flag is not given (default: the solo default)."""
    axes = [race_axis(text) for text in args.race]
    if args.load:
        raise ConfigError("--race starts new runs; it does not go with --load (load a variant's checkpoint alone)")
    flags = {"lr": args.lr, "seed": args.seed, "n-embd": args.n_embd, "hidden": args.hidden,
             "schedule": getattr(args, "schedule", None), "gradient": getattr(args, "gradient", None)}
    for name, _ in axes:
        if flags[name] is not None:
            raise ConfigError(f"--{name} and --race {name}=... both set it; give its values in --race only")
    base = config_from_args(args)
    if getattr(args, "samples", None) is None and samples is not None:
        base = base.with_(num_samples=samples)
    variants = race_configs(base, axes)
    if args.data == "tutorial":
        from engine.tutorial_data import tutorial_names_path

        args.data = tutorial_names_path()
    check_outputs(args, len(variants))
    return Race.new(variants, args.data)
