"""Saving from the dashboard: a checkpoint on `s`, and what the output flags ask for.

`save_checkpoint` writes one checkpoint and says what was saved where, or why not, as one note line.
`FlagOutputs` does what --save and --metrics say in the dashboard, as in --headless: at the end of
the run, and when the app ends (q, ctrl+c, SIGINT / SIGTERM / SIGHUP, a closed terminal) if the run
on screen trained since it was last written, --metrics gets the CSV `step,loss,lr` of the steps this
run took in this session and --save its checkpoint. Each write is atomic (engine.outputs), and a pipe
with no reader is never waited for (engine.checkpoint's `wait_for_reader=False`).
`Saving` is both in the app: it acts on the app through `SavingHost`, the few things it needs of it, so
this module never imports the app (the app owns a `Saving` and routes `s` to it).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import BinaryIO, Protocol

from engine import Run, checkpoint
from engine.errors import MicroMLPError
from engine.outputs import describe, resolve_output, write_file
from engine.train import decay
from tui.plumbing.background import Background
from tui.plumbing.training_loop import TrainingLoop

DEFAULT_SAVE = "micromlp-checkpoint.npz"
# a browser tab (--serve) of a server started without --save: `s` writes nothing (fits an 80-column note)
SAVE_REFUSED = "not saved: a browser tab saves only to the server's --save file (none given)"


def save_checkpoint(ckpt: checkpoint.Checkpoint, path: Path) -> tuple[str, bool]:
    """Write `ckpt` to `path` (atomically: engine.checkpoint; a pipe only if a reader is there).
    Returns the note and whether it failed."""
    try:
        where = checkpoint.save(path, ckpt, wait_for_reader=False)
    except MicroMLPError as exc:
        return _reason_first(str(exc), path), True
    except OSError as exc:
        return _reason_first(f"{path}: {exc.strerror or exc}", path), True
    return f"saved step {ckpt.step:,} to {where.resolve()}", False


def _reason_first(message: str, path: Path) -> str:
    """'not saved: REASON: PATH': the note is one line, and a long path cut at its end still leaves
    the reason on screen."""
    head = f"{path}: "
    if message.startswith(head):
        message = f"{message[len(head):]}: {path}"
    return f"not saved: {message}"


def metrics_csv(run: Run, first: int) -> str:
    """The --metrics CSV of steps first+1 .. run.step (as --headless writes it: the step number, the
    loss, the learning rate that step used)."""
    c, schedule = run.config, run.schedule
    rows = ["step,loss,lr\n"]
    t = first
    for piece in run.history.losses.pieces(first, run.step):  # read a piece at a time (engine.history)
        for loss in piece.tolist():
            lr = schedule.base_at(t) * decay(t, c.num_steps, c.schedule)  # as engine.train computes it
            rows.append(f"{t + 1},{loss!r},{lr!r}\n")
            t += 1
    return "".join(rows)


class FlagOutputs:
    """--save and --metrics of the dashboard (None: not given)."""

    def __init__(self, save: str | None, metrics: str | None):
        self.save, self.metrics = save, metrics
        self.lock = threading.Lock()  # one writer at a time (the end of a run, the app's end)
        self._written: tuple[int, int] | None = None  # (id of the run, step) last written

    @property
    def wanted(self) -> bool:
        return self.save is not None or self.metrics is not None

    def due(self, run: Run, first: int) -> bool:
        """The run trained (this session) and has not been written at this step."""
        return self.wanted and run.step > first and self._written != (id(run), run.step)

    def write(self, run: Run, first: int, run_lock: threading.Lock | None = None) -> list[tuple[str, bool]]:
        """Write what the flags ask for, if due. Returns (line, failed) per output: what was written,
        or why not. Takes `run_lock` (the training loop's) while it copies the run."""
        with self.lock:
            if not self.due(run, first):
                return []
            if run_lock is not None:
                with run_lock:
                    ckpt, csv, step = run.to_checkpoint(), metrics_csv(run, first), run.step
            else:
                ckpt, csv, step = run.to_checkpoint(), metrics_csv(run, first), run.step
            lines = []
            if self.metrics is not None:
                lines.append(self._write_metrics(csv, step, first))
            if self.save is not None:
                note, failed = save_checkpoint(ckpt, Path(self.save))
                lines.append((f"--save: {note}" if failed else f"{note} (--save)", failed))
            self._written = (id(run), step)
            return lines

    def _write_metrics(self, csv: str, step: int, first: int) -> tuple[str, bool]:
        label = f"--metrics {self.metrics}"
        try:
            target = resolve_output(self.metrics or "", label)
            data = csv.encode()

            def write(f: BinaryIO) -> None:
                f.write(data)

            write_file(target, write, wait_for_reader=False)
        except MicroMLPError as exc:
            return f"not written: {exc}", True
        except OSError as exc:
            return f"not written: {label}: {describe(exc)}", True
        return f"wrote steps {first + 1}-{step} to {self.metrics} (--metrics)", False


class SavingHost(Protocol):
    """What saving needs of the app."""

    training: Run
    loop: TrainingLoop

    def set_note(self, note: str, sticky: bool = False) -> None: ...


class Saving:
    """`s` and the output flags of the dashboard: every write in a daemon thread (a pipe nobody reads,
    a slow disk never hold the screen or a quit), its note handed back to the screen."""

    def __init__(self, host: SavingHost, background: Background, save: str | None, metrics: str | None,
                 served: bool = False):
        self.host, self.background = host, background
        # in a browser tab (--serve) `s` writes only where the server's --save says: a tab's keys are anyone's
        # who has its address, and a file written on the server's machine is not theirs to place
        self.refused = served and save is None
        self.outputs = FlagOutputs(save, metrics)  # what --save and --metrics ask for
        self.path = Path(save or DEFAULT_SAVE)  # where `s` writes
        self.first_step = host.training.step  # where the run on screen started in this session (--metrics rows)

    def new_run(self, run: Run) -> None:
        self.first_step = run.step

    def form_outputs(self) -> list[tuple[str, str | None]]:
        """The files the app writes, which the settings form's data file may not be."""
        return [("--save", str(self.path)), ("--metrics", self.outputs.metrics)]

    def save(self) -> None:
        """`s`: the run on screen, as it is between two steps, to the checkpoint file."""
        h = self.host
        if self.refused:
            h.set_note(SAVE_REFUSED, sticky=True)
            return
        with h.loop.lock:  # between two steps
            ckpt = h.training.to_checkpoint()
        h.set_note(f"saving step {ckpt.step:,} to {self.path} ...")
        self.background.start(self._save, ckpt, self.path)

    def _save(self, ckpt: checkpoint.Checkpoint, path: Path) -> None:
        note, failed = save_checkpoint(ckpt, path)
        self.background.hand_back(self.host.set_note, note, failed)  # a failure stays

    def write_outputs(self) -> list[tuple[str, bool]]:
        """--metrics and --save for the run on screen, if it trained since they were last written:
        (line, failed) for each."""
        return self.outputs.write(self.host.training, self.first_step, self.host.loop.lock)

    def unwritten(self) -> bool:
        """--save or --metrics was asked for, and the run on screen trained since they were written."""
        return self.outputs.due(self.host.training, self.first_step)

    def write_at_end(self) -> None:
        """At the run's end: what --save and --metrics ask for, if due, in the background."""
        if self.unwritten():
            self.background.start(self._write_at_end)

    def _write_at_end(self) -> None:
        lines = self.write_outputs()
        if lines:  # a failure stays on screen
            self.background.hand_back(self.host.set_note, "; ".join(line for line, _ in lines),
                                      any(f for _, f in lines))
