"""The headless face (`micromlp-tui --headless`, and `--compare`): train and sample with no UI,
printing progress lines, writing --metrics and --save. Nothing here imports Textual."""

from __future__ import annotations

import argparse
import errno
import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, cast

from engine.config import Config
from engine.errors import CheckpointError, ConfigError, MicroMLPError, OutputError
from engine.inspect import all_units_dead
from engine.outputs import describe, fsync_folder, resolve_output, temp_file_in
from engine.printable import printable
from engine.race import Race
from engine.run import Run
from tui.console.exits import Interrupted, fail, interrupt_code, signal_name, signals_interrupt
from tui.console.flags import make_race, make_run, variant_path
from tui.plumbing import wording

ALL_DEAD = ("every hidden unit is dead (dead ReLUs): each gives 0 after every token, so the gradient is 0 and "
            "no weight changes again; the model guesses every next token alike (its whole-data loss is the "
            "random guess)")
EXIT_OUTPUT_LOST = 3  # the run went to its end, but stdout, --metrics or --save could not be written


def compare(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """--compare: the checkpoints' table on stdout (engine.compare), or one line per bad file and 2."""
    from engine.compare import run_compare

    others = [flag for flag, value in (("--load", args.load), ("--save", args.save), ("--metrics", args.metrics),
                                       ("--plot", getattr(args, "plot", None)), ("--headless", args.headless)) if value]
    if others:
        return fail(f"--compare trains nothing: it goes with --data only, not {', '.join(others)}")
    say = Printer(out if out is not None else sys.stdout)
    try:
        data = args.data
        if data == "tutorial":
            from engine.tutorial_data import tutorial_names_path

            data = tutorial_names_path()
        code = run_compare(args.compare, data, say, fail)
    except KeyboardInterrupt as exc:
        return fail(f"interrupted by {signal_name(exc)}; nothing was compared", interrupt_code(exc))
    except MicroMLPError as exc:
        return fail(str(exc))
    except MemoryError:
        return fail("out of memory")
    if code == 0 and say.error is not None:
        return fail(f"standard output could not be written ({describe(say.error)})", EXIT_OUTPUT_LOST)
    return code



# --- output ----------------------------------------------------------------------------------------
class Printer:
    """Progress lines to stdout, flushed one by one. The first failed write (a closed pipe, a full
    device) is remembered and printing stops; training and saving go on."""

    def __init__(self, out: TextIO | None):
        self.out = out
        self.error: OSError | None = None
        self.failed_at: int | None = None  # the step reached when stdout failed
        if out is None:  # started with stdout closed (`>&-`): Python has no sys.stdout at all
            self.error = OSError(errno.EBADF, os.strerror(errno.EBADF))

    def __call__(self, text: str, step: int | None = None) -> None:
        if self.error is not None or self.out is None:
            return
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except (OSError, ValueError) as exc:  # ValueError: the stream was closed
            self.error = exc if isinstance(exc, OSError) else OSError(errno.EBADF, os.strerror(errno.EBADF))
            self.failed_at = step
            self._silence()

    def _silence(self) -> None:
        """Point the broken stream at /dev/null, so the interpreter's own last flush is quiet."""
        if self.out is None:
            return
        try:
            fd = self.out.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass


class MetricsWriter:
    """The --metrics CSV: written to a temporary file renamed into place when closed, or straight
    through to a device or a pipe (engine.outputs). A write that fails mid-run (the disk is full, a
    file-size limit) stops the CSV, not the run: `error` says why, and `close()` returns it."""

    def __init__(self, path: str, flag: str = "--metrics", header: str = "step,loss,lr"):
        self.path, self.label = Path(path), f"{flag} {path}"
        self.error: str | None = None
        self._tmp: str | None = None
        self.target = resolve_output(path, self.label)
        if self.target.stream:
            # a line at a time, so that rows never interleave with other output mid-line
            # (a pipe with no reader is refused at once: the command never hangs on its own output)
            self._f = cast(TextIO, self.target.open_stream("a", wait_for_reader=False, encoding="utf-8", newline="",
                                                           buffering=1))  # opened in "a": text
        else:
            fd, self._tmp = temp_file_in(self.target.real.parent)
            try:
                self._f = os.fdopen(fd, "w", encoding="utf-8", newline="")
            except BaseException:
                os.close(fd)
                Path(self._tmp).unlink(missing_ok=True)
                raise
        self._write(header + "\n")

    def _write(self, text: str) -> None:
        try:
            self._f.write(text)
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.error = f"{self.label}: not written ({describe(exc)})"
        self.discard()

    def row(self, step: int, loss: float, lr: float) -> None:
        if self.error is None:
            self._write(f"{step},{loss!r},{lr!r}\n")

    def variant_row(self, variant: int, step: int, loss: float, lr: float) -> None:
        """A race's row: `variant,step,loss,lr` (header "variant,step,loss,lr")."""
        if self.error is None:
            self._write(f"{variant},{step},{loss!r},{lr!r}\n")

    def close(self) -> str | None:
        """Finish the file (rename it into place). Returns None, or the one-line reason it failed."""
        if self.error is not None:
            return self.error
        try:
            self._f.flush()
            if self._tmp:
                os.fsync(self._f.fileno())
            self._f.close()
            if self._tmp:
                os.replace(self._tmp, self.target.real)
                fsync_folder(self.target.real.parent)
                self._tmp = None
        except OSError as exc:
            self._fail(exc)
        except BaseException:
            self.discard()
            raise
        return self.error

    def discard(self) -> None:
        try:
            self._f.close()
        except OSError:
            pass
        if self._tmp:
            Path(self._tmp).unlink(missing_ok=True)


# --- headless --------------------------------------------------------------------------------------
@dataclass
class _Progress:
    stage: str = "set-up"  # set-up, training, saving, sampling
    step: int = 0
    stop: int | None = None  # a signal that arrived during training: stop after the current step

    def defer(self, signum: int) -> bool:
        """During training the first signal only asks to stop, so the step in progress finishes and
        the weights, the step count and the loss history saved always agree; any other signal
        (a second one, or one in another stage) interrupts at once."""
        if self.stage == "training" and self.stop is None:
            self.stop = signum
            return True
        return False
    saved: list[str] = field(default_factory=list)  # what was written, for the last line


def run_headless(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Train to the end, print progress, the samples and a summary. Returns the exit code:
    0 done, 1 diverged, 2 bad input (refused before training), 3 finished but an output was lost
    (stdout closed or full, --save or --metrics failed at the end), 128 + signal when interrupted
    (130 ctrl+c, 143 SIGTERM, 129 SIGHUP). Never a traceback for any of these."""
    progress = _Progress()
    say = Printer(out if out is not None else sys.stdout)  # sys.stdout is None after `>&-`
    with signals_interrupt((signal.SIGINT, signal.SIGTERM, signal.SIGHUP), progress.defer):
        try:
            return _headless(args, say, progress)
        except KeyboardInterrupt as exc:
            return fail(_interrupted_message(exc, progress), interrupt_code(exc))
        except MicroMLPError as exc:
            return fail(str(exc))
        except MemoryError:
            return fail("out of memory")


def _interrupted_message(exc: BaseException, p: _Progress) -> str:
    how = f"interrupted by {signal_name(exc)}"
    if p.stage == "set-up":
        return f"{how} during set-up; nothing was trained or saved"
    if p.stage == "training":
        return f"{how} a second time before training had stopped; nothing was saved"
    if p.stage == "saving":
        done = f" ({', '.join(p.saved)} written)" if p.saved else ""
        return f"{how} while saving{done}; an output not written keeps its previous file whole"
    return f"{how} while sampling at step {p.step}; {', '.join(p.saved) or 'nothing'} written"


def _headless(args: argparse.Namespace, say: Printer, progress: _Progress) -> int:
    if getattr(args, "race", None):
        return _headless_race(args, say, progress)
    run = make_run(args)
    if getattr(args, "plot", None):
        run.track_exact()  # the picture's whole-data (and held-out) line, measured at fixed steps
    try:
        metrics = MetricsWriter(args.metrics) if args.metrics else None
    except OutputError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"--metrics {args.metrics}: cannot write ({describe(exc)})") from None
    c = run.config
    every = max(1, c.num_steps // 10)
    width = len(f"{c.num_steps:,}")
    start, first = time.perf_counter(), run.step
    code = 0
    interruption: BaseException | None = None
    try:
        progress.stage, progress.step = "training", run.step
        held = len(run.heldout) if run.heldout is not None else 0
        todo = (f"training steps {run.step + 1:,}-{c.num_steps:,} at {wording.lr_schedule(run.lr_changes)}"
                f"{_kind_text(c)}" if run.step < c.num_steps else f"already at step "
                f"{wording.step_of(run.step, c.num_steps)}: nothing left to train (--steps N makes the run longer)")
        say(f"{wording.data_label(args.data, run.num_docs, held)}, vocabulary {run.dataset.vocab_size} tokens, "
            f"{wording.params(run.model.num_params)}; {todo}", run.step)
        for rec in run.steps():
            if rec.diverged:
                say(f"diverged at step {rec.step + 1:,}: the loss is {wording.loss(rec.loss)}; training stopped "
                    f"(try a smaller --lr than {c.learning_rate})", run.step)
                code = 1
                break
            if metrics:
                metrics.row(rec.step + 1, rec.loss, rec.lr)
            if (rec.step + 1) % every == 0:
                say(f"step {rec.step + 1:>{width},}/{c.num_steps:,} | loss {wording.loss(rec.loss)} | "
                    f"{wording.MOVING_AVERAGE} {wording.loss(run.history.last_ema)} | "
                    f"lr {wording.learning_rate(rec.lr)}", run.step)
            if progress.stop is not None:
                break
        if progress.stop is not None:
            interruption = Interrupted(progress.stop)
            code = interrupt_code(interruption)
            say(f"interrupted at step {run.step}", run.step)
        elapsed = time.perf_counter() - start
        progress.stage, progress.step = "saving", run.step
        lost = _write_outputs(args, run, metrics, say, progress)
    except BaseException:
        if metrics:
            metrics.discard()
        raise
    if interruption is not None:
        return _stopped(interruption, run.step, lost, progress)
    progress.stage = "sampling"
    if code == 0:
        for i, name in enumerate(run.sample()):
            say(f"sample {i + 1:2d}: {printable(name)}", run.step)
    done = run.step - first
    rate = done / elapsed if elapsed > 0 else math.inf
    training = " (training names)" if run.heldout is not None else ""  # with a held-out set: over those only
    say(f"done: {done:,} steps in {elapsed:.2f} s ({rate:,.0f} steps/s) | "
        f"step {wording.step_of(run.step, c.num_steps)} | "
        f"last-100 mean loss {wording.loss(run.history.mean_last(100))} | whole-data loss{training} "
        f"{wording.loss(run.dataset_loss())} | bigram floor{training} {run.reference.floor:.4f} | "
        f"random guess {run.reference.random_guess:.4f}"
        + (f" | held-out loss {run.heldout_loss():.4f} | held-out floor {run.heldout_floor:.4f}"
           if run.heldout is not None else ""), run.step)
    if code == 0 and run.step > 0 and all_units_dead(run.model):  # why the loss stayed at the guess
        say(f"{ALL_DEAD}; try a smaller --lr than {c.learning_rate} or another --seed", run.step)
    if say.error is not None:
        at = "" if say.failed_at is None else f" at step {say.failed_at}"
        lost.append(f"standard output could not be written ({describe(say.error)}){at}; training went on to "
                    f"step {run.step}; {', '.join(progress.saved) or 'nothing else'} written")
    for message in lost:
        fail(message)
    return code if code or not lost else EXIT_OUTPUT_LOST


def _kind_text(c: Config) -> str:
    """The schedule and the gradient, said when they are not the tutorial's (linear, one name)."""
    parts = [] if c.schedule == "linear" else [f"{c.schedule} schedule"]
    if c.gradient == "data":
        parts.append("whole-data gradient: full-batch gradient descent")
    return f" ({', '.join(parts)})" if parts else ""


def _write_plot(args: argparse.Namespace, runs: list, what: str, step: int, say: Printer, progress: _Progress,
                lost: list[str]) -> None:
    """--plot: the picture of `runs` (engine.export.ExportRun); a failure goes to `lost`."""
    from engine.export import plot_series
    from tui.plumbing.plot_svg import save_svg

    try:
        where = save_svg(args.plot, plot_series(runs), f"--plot {args.plot}")
    except MicroMLPError as exc:
        lost.append(str(exc))
    except OSError as exc:
        lost.append(f"--plot {args.plot}: not written ({describe(exc)})")
    else:
        progress.saved.append("--plot")
        say(f"wrote the loss plot {what} to {printable(str(where))}", step)


def _write_outputs(args: argparse.Namespace, run: Run, metrics: MetricsWriter | None, say: Printer,
                   progress: _Progress) -> list[str]:
    """--metrics, --plot, then --save; a failure of one does not stop the others. Returns the failures."""
    lost = []
    if metrics:
        error = metrics.close()
        if error:
            lost.append(error)
        else:
            progress.saved.append("--metrics")
    if getattr(args, "plot", None):
        from engine.export import ExportRun
        from engine.runs import data_name

        _write_plot(args, [ExportRun.of_run(run, data_name(args.data))], f"(step {run.step:,})", run.step, say,
                    progress, lost)
    if args.save:
        try:
            where = run.save(args.save, wait_for_reader=False)
        except CheckpointError as exc:
            lost.append(str(exc))
        else:
            progress.saved.append("--save")
            say(f"saved checkpoint (step {run.step:,}) to {printable(str(where))}", run.step)
    return lost


# --- a race, headless ------------------------------------------------------------------------------
def _headless_race(args: argparse.Namespace, say: Printer, progress: _Progress) -> int:
    """--race: every variant in lockstep (engine.race); one progress line for the race every tenth of
    it, then a table, a row per variant: what differs, where it ended, its whole-data (and held-out)
    loss and its floor; its samples when --samples is given. Exit 0 when the race ran to its end,
    even if variants diverged (the table says which and where); 128 + signal when interrupted."""
    race = make_race(args, samples=0)  # a race's samples on request only: 16 x 20 names is a lot to read
    if getattr(args, "plot", None):
        for run in race.runs:
            run.track_exact()  # the picture's whole-data (and held-out) lines, measured at fixed steps
    header = "variant,step,loss,lr"
    try:
        metrics = MetricsWriter(args.metrics, header=header) if args.metrics else None
    except OutputError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"--metrics {args.metrics}: cannot write ({describe(exc)})") from None
    runs, total = race.runs, race.num_steps
    every, width = max(1, total // 10), len(f"{total:,}")
    first = runs[0]
    start = time.perf_counter()
    interruption: BaseException | None = None
    try:
        progress.stage, progress.step = "training", race.step
        held = len(first.heldout) if first.heldout is not None else 0
        say(f"{wording.data_label(args.data, first.num_docs, held)}, vocabulary {first.dataset.vocab_size} tokens; "
            f"a race of {len(runs)} variants in lockstep, steps 1-{total:,}: " + "; ".join(
                f"{v.number} {v.label}" for v in race.variants), race.step)
        for records in race.steps():
            if metrics:
                for k, rec in enumerate(records, start=1):
                    if rec is not None and not rec.diverged:
                        metrics.variant_row(k, rec.step + 1, rec.loss, rec.lr)
            for k, rec in enumerate(records, start=1):
                if rec is not None and rec.diverged:
                    say(f"variant {k} ({race.variants[k - 1].label}) diverged at step {rec.step + 1}: the loss is "
                        f"{wording.loss(rec.loss)}; it stops, the others go on", race.step)
            if race.step % every == 0 or race.step == total:
                say(_race_progress(race, width), race.step)
            if progress.stop is not None:
                break
        if progress.stop is not None:
            interruption = Interrupted(progress.stop)
            say(f"interrupted at step {race.step}", race.step)
        elapsed = time.perf_counter() - start
        progress.stage, progress.step = "saving", race.step
        lost = _write_race_outputs(args, race, metrics, say, progress)
    except BaseException:
        if metrics:
            metrics.discard()
        raise
    if interruption is not None:
        return _stopped(interruption, race.step, lost, progress)
    progress.stage = "sampling"
    for line in race_table(race):
        say(line, race.step)
    for v, run in zip(race.variants, runs):
        if run.diverged_at is None and run.step > 0 and all_units_dead(run.model):
            say(f"variant {v.number} ({v.label}): {ALL_DEAD}", race.step)
    for v, run in zip(race.variants, runs):
        if run.config.num_samples and run.diverged_at is None:
            say(f"variant {v.number} ({v.label}) samples: " + ", ".join(printable(n) for n in run.sample()),
                race.step)
    done = sum(r.step for r in runs)
    rate = done / elapsed if elapsed > 0 else math.inf
    say(f"done: {len(runs)} variants, {done:,} variant-steps in {elapsed:.2f} s ({rate:,.0f} variant-steps/s)",
        race.step)
    if say.error is not None:
        lost.append(f"standard output could not be written ({describe(say.error)}); the race went on to step "
                    f"{race.step}; {', '.join(progress.saved) or 'nothing else'} written")
    for message in lost:
        fail(message)
    return EXIT_OUTPUT_LOST if lost else 0


def _stopped(interruption: BaseException, step: int, lost: list[str], progress: _Progress) -> int:
    """A run or race stopped by a signal at `step`: a line per output lost, then what was written; 128 +
    the signal."""
    for message in lost:
        fail(message)
    return fail(f"interrupted by {signal_name(interruption)} at step {step}; "
                f"{', '.join(progress.saved) or 'nothing'} written", interrupt_code(interruption))


def _race_progress(race: Race, width: int) -> str:
    """One line for the whole race: the step, the best and worst moving average of the variants that have
    not diverged, how many still run (`finished` at the end) and how many diverged."""
    live = [(r.history.last_ema, v) for r, v in zip(race.runs, race.variants) if r.diverged_at is None]
    diverged = len(race.runs) - len(live)
    text = f"step {race.step:>{width},}/{race.num_steps:,} | "
    if live:
        best, worst = min(live, key=lambda p: p[0]), max(live, key=lambda p: p[0])
        text += f"moving average best {best[0]:.4f} ({best[1].number}: {best[1].label}), " \
            f"worst {worst[0]:.4f} ({worst[1].number}: {worst[1].label})" if len(live) > 1 else \
            f"moving average {best[0]:.4f} ({best[1].number}: {best[1].label})"
        text += f"{' of those not diverged' if diverged and len(live) > 1 else ''} | "
    state = "finished" if race.finished else f"{len(live)}/{len(race.runs)} running"
    return text + state + (f", {diverged} diverged" if diverged else "")


def race_table(race: Race) -> list[str]:
    """The race's result, a row per variant: what differs, where it ended, the exact whole-data loss at
    its final weights (and the held-out loss), and its data's floor (the best a one-token model can do)."""
    held = race.runs[0].heldout is not None
    what = max(len("variant"), *(len(v.label) for v in race.variants)) + 4
    head = f"{'variant':<{what}} {'steps':>15} {'whole-data':>10}" + (f" {'held-out':>9}" if held else "") + \
        f" {'floor':>7}"
    lines = [head]
    for v, run in zip(race.variants, race.runs):
        steps = f"{run.step:,}/{race.num_steps:,}"
        if run.diverged_at is not None:
            steps = f"diverged at {run.diverged_at + 1:,}"
        whole, heldout = run.losses_now()  # a diverged one's: at the weights it stopped with, as its board says
        row = f"{f'{v.number:>2} {v.label}':<{what}} {steps:>15} {wording.loss(whole):>10}"
        if held:
            row += f" {wording.loss(heldout):>9}"
        lines.append(row + f" {run.reference.floor:>7.4f}")
    ranked = sorted((r.losses_now()[0], v.number) for v, r in zip(race.variants, race.runs)
                    if r.diverged_at is None)
    if ranked:
        lines.append(f"lowest whole-data loss: variant {ranked[0][1]} "
                     f"({race.variants[ranked[0][1] - 1].label}), {ranked[0][0]:.4f}")
    return lines


def _write_race_outputs(args: argparse.Namespace, race: Race, metrics: MetricsWriter | None, say: Printer,
                        progress: _Progress) -> list[str]:
    """--metrics, --plot (every variant, variant 1 drawn as the dashboard draws the one shown), then each
    variant's --save (PATH-vN.suffix); one failure does not stop the others."""
    lost = []
    if metrics:
        error = metrics.close()
        if error:
            lost.append(error)
        else:
            progress.saved.append("--metrics")
    if getattr(args, "plot", None):
        from engine.runs import data_name
        from tui.plumbing.exporting import race_runs

        what = f"of {len(race.runs)} variants (step {race.step:,})"
        _write_plot(args, race_runs(race, 0, data_name(args.data)), what, race.step, say, progress, lost)
    if args.save:
        written = []
        for v, run in zip(race.variants, race.runs):
            try:
                written.append(run.save(variant_path(args.save, v.number), wait_for_reader=False))
            except CheckpointError as exc:
                lost.append(str(exc))
        if written:
            progress.saved.append(f"--save ({len(written)} of {len(race.runs)} variants)")
            say(f"saved {len(written)} checkpoints (step {race.step:,}): {printable(str(written[0]))} .. "
                f"{printable(str(written[-1]))}", race.step)
    return lost
