"""A training run: the data, the model, the run's random generator, the step reached and the losses.

This is the object a front end (headless CLI, dashboard, notebook) holds. `Run.new` starts from the
seed exactly as the tutorial (shuffle, then initial weights, from one `random.Random`); `Run.resume`
goes on from a checkpoint; `run.steps()` is the training generator, recording each step's loss.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from engine import checkpoint
from engine.config import Config, check_lr, holdout_count
from engine.curve import EXACT_POINTS, ExactTrack
from engine.dataset import Dataset
from engine.errors import CheckpointError, ConfigError
from engine.history import LossHistory
from engine.model import Model
from engine.reference import Reference, log_probs
from engine.sampling import sample_names
from engine.train import WHOLE_DATA, LrSchedule, StepRecord, decay, train


def embedded_names_path() -> Path:
    """The embedded default names: inside the installed package, or data/ in a source checkout."""
    installed = resources.files("engine") / "embedded" / "names.txt"
    if installed.is_file():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / "data" / "names.txt"


class Run:
    def __init__(self, config: Config, dataset: Dataset, model: Model, rng: random.Random,
                 step: int = 0, history: LossHistory | None = None, heldout: Dataset | None = None,
                 lr_changes: list[tuple[int, float]] | None = None):
        self.config = config
        self.dataset = dataset  # the TRAINING documents (all of them when nothing is held out)
        self.heldout = heldout  # the held-out documents (the last `config.holdout` of the shuffle), or None
        self.model = model
        self.rng = rng  # after the shuffle and the initialisation: where the samples come from
        self.step = step  # steps taken so far: the index of the next step
        self.history = history or LossHistory()
        self.reference = Reference(dataset.counts)  # over the training documents
        self.heldout_reference = Reference(heldout.counts) if heldout is not None else None
        self.schedule = LrSchedule.of(lr_changes) if lr_changes else LrSchedule(config.learning_rate)
        self.diverged_at: int | None = None  # the step whose loss was not finite, if any
        self.exact_track: ExactTrack | None = None  # whole-data loss at fixed steps, once asked for

    def track_exact(self, points: int = EXACT_POINTS) -> ExactTrack:
        """Measure the whole-data loss at fixed steps from now on (a plot's curve; ~50 us a time);
        with a held-out set the track holds its loss too (`ExactTrack.heldout_at`)."""
        self.exact_track = ExactTrack(self.config.num_steps, points, heldout=self.heldout is not None)
        self.exact_track.record(self.step, *self.losses_now())
        return self.exact_track

    # --- held-out data ------------------------------------------------------------------------------
    @property
    def num_docs(self) -> int:
        """All the names read, training and held out."""
        return len(self.dataset) + (len(self.heldout) if self.heldout is not None else 0)

    def heldout_loss(self) -> float:
        """The exact loss over every position of the held-out names (NaN when none is held out)."""
        ref = self.heldout_reference
        return ref.dataset_loss(self.model) if ref is not None else math.nan

    @property
    def heldout_floor(self) -> float:
        """The held-out data's own count-table loss (NaN when none is held out). Note: a floor for
        a model fitted to the held-out names; one trained on other names stays above it."""
        ref = self.heldout_reference
        return ref.floor if ref is not None else math.nan

    def losses_now(self) -> tuple[float, float]:
        """(whole-data training loss, held-out loss or NaN), from one forward pass over the vocabulary."""
        logp = log_probs(self.model)
        ref = self.heldout_reference
        return self.reference.loss_of(logp), (ref.loss_of(logp) if ref is not None else math.nan)

    # --- learning rate changed mid-run --------------------------------------------------------------
    @property
    def lr_base(self) -> float:
        """The base the next step uses: its lr is lr_base times the schedule's factor (engine.train.decay;
        linear, the tutorial's: 1 - step / num_steps)."""
        return self.schedule.base

    def set_lr_base(self, base: float) -> float:
        """From the NEXT step on, follow the schedule from `base` (the --lr rules: finite and > 0; else
        ConfigError). Safe from another thread while the generator runs: the step that first uses it
        records the change. Returns the new base."""
        self.schedule.base = check_lr(base)
        return self.schedule.base

    def scale_lr(self, factor: float) -> float:
        """set_lr_base(lr_base * factor): 0.5 halves, 2 doubles."""
        return self.set_lr_base(self.schedule.base * factor)

    @property
    def lr_changes(self) -> list[tuple[int, float]]:
        """[(step, base), ...]: (0, the starting base) then each change at the first step to use it
        (a change not used yet shows at the next step). One entry when the rate was never changed."""
        return self.schedule.recorded(self.step)

    @classmethod
    def new(cls, config: Config, data: str | Path | list[str] | None = None) -> Run:
        """A fresh run. `data` is a text file, a list of documents, or None for the embedded names."""
        config.validate()
        rng = random.Random(config.seed)
        dataset = _dataset(data, rng, config.validate)  # the size check runs before any (V, V) table
        if config.holdout > 0 and len(dataset) < 2:  # nothing can be held out and still train
            raise ConfigError(f"--holdout {config.holdout!r}: the data holds {len(dataset)} name; holding some "
                              f"out needs at least 2 (one to train on); give more names or --holdout 0")
        model = Model.init(dataset.vocab_size, config, rng)
        train, heldout = dataset.split(holdout_count(len(dataset), config.holdout))
        return cls(config, train, model, rng, heldout=heldout)

    @classmethod
    def resume(cls, path: str | Path, data: str | Path | list[str] | None = None,
               num_steps: int | None = None) -> Run:
        """Go on from a checkpoint, training on `data` (which must give the checkpoint's vocabulary).
        `num_steps` changes the length of the run (and so its learning-rate schedule)."""
        ckpt = checkpoint.load(path)
        config = ckpt.config
        if num_steps is not None:
            if num_steps < ckpt.step:
                raise CheckpointError(f"{path}: is at step {ckpt.step}, beyond --steps {num_steps}")
            config = config.with_(num_steps=num_steps).validate()
        rng = random.Random(config.seed)

        def same_size(vocab_size: int) -> None:  # before the data's (V, V) tables are made
            if vocab_size != len(ckpt.uchars) + 1:
                raise CheckpointError(
                    f"{path}: its vocabulary ({len(ckpt.uchars)} characters) is not the data's "
                    f"({vocab_size - 1} characters); use the data it was trained on"
                )

        dataset = _dataset(data, rng, same_size)  # the same shuffle as the run that wrote the checkpoint
        if dataset.uchars != ckpt.uchars:
            raise CheckpointError(
                f"{path}: its vocabulary ({len(ckpt.uchars)} characters) is not the data's "
                f"({len(dataset.uchars)} characters); use the data it was trained on"
            )
        rng.setstate(ckpt.rng_state)
        model = Model(dataset.vocab_size, config.n_embd, config.hidden_size, ckpt.theta)
        train, heldout = dataset.split(holdout_count(len(dataset), config.holdout))
        return cls(config, train, model, rng, ckpt.step, LossHistory(ckpt.losses), heldout, ckpt.lr_changes)

    def fresh(self) -> Run:
        """A new run with the same settings and data, from step 0, as `Run.new` would make it
        (the shuffle's random draws are replayed, not the reading and tokenising). Its learning rate
        starts again from config.learning_rate."""
        rng = random.Random(self.config.seed)
        rng.shuffle(list(range(self.num_docs)))  # the draws depend on the length alone
        model = Model.init(self.dataset.vocab_size, self.config, rng)
        return Run(self.config, self.dataset, model, rng, heldout=self.heldout)

    def original_docs(self) -> list[str]:
        """All the names in the order the file gave them (the shuffle undone, its draws replayed)."""
        docs = self.dataset.docs + (self.heldout.docs if self.heldout is not None else [])
        order = list(range(len(docs)))
        random.Random(self.config.seed).shuffle(order)  # docs[i] is the file's order[i]-th name
        original = [""] * len(order)
        for i, j in enumerate(order):
            original[j] = docs[i]
        return original

    def reseeded(self, seed: int) -> Run:
        """A new run of the same data and settings but another seed, as `Run.new` with that seed would
        make it from the file: the old shuffle is undone (its draws replayed), then redone."""
        return Run.new(self.config.with_(seed=seed), self.original_docs())

    @property
    def finished(self) -> bool:
        return self.step >= self.config.num_steps or self.diverged_at is not None

    def steps(self) -> Iterator[StepRecord]:
        """Train from the current step to the end, one step per next(), recording each loss."""
        note = self.note
        for record in train(self.model, self.dataset, self.config, self.step, self.schedule):
            note(record)
            yield record

    def note(self, record: StepRecord) -> None:
        """Record a step just taken on this run's model (by `steps()`, or by a race, engine.race): its
        loss, the step reached, the whole-data loss when due; a non-finite loss marks the divergence."""
        loss = record.loss
        if loss != loss or loss == math.inf:  # diverged: NaN or inf
            track = self.exact_track
            if track is not None:  # the weights it stops with (its last finite step's), measured once more
                self.measure_stopped(track)
            self.diverged_at = record.step  # last: a reader that sees it finds that measurement
        else:
            track = self.exact_track
            if track is not None and track.due(record.step + 1):  # before the loss: see CurveBuckets
                track.record(record.step + 1, *self.losses_now())
            self.history.append(loss)
            self.step = record.step + 1

    def measure_stopped(self, track: ExactTrack) -> None:
        """At a divergence: the whole-data (and held-out) loss at the weights the run stops with, put in
        its track at the steps taken, so that whatever reads the track (a status, a race's board, a plot,
        a kept run, an export) shows the figure of those weights, as `losses_now()` gives it, and not one
        measured some steps before. NaN, inf or huge, as those weights make it (quietly: engine.reference)."""
        track.record(self.step, *self.losses_now())

    def last_record(self) -> StepRecord | None:
        """The record of the last step this run took, or of the step where it diverged (its loss NaN),
        rebuilt from what the run keeps: as the training generator gave it (None before any step). For a
        screen that shows a race's variant picked after it stopped."""
        if self.diverged_at is not None:
            t, loss = self.diverged_at, math.nan
        elif self.step > 0:
            t, loss = self.step - 1, float(self.history.losses[self.step - 1])
        else:
            return None
        c = self.config
        lr = self.schedule.base_at(t) * decay(t, c.num_steps, c.schedule)
        doc = WHOLE_DATA if c.gradient == "data" else self.dataset.docs[t % len(self.dataset.docs)]
        return StepRecord(t, loss, lr, doc)

    def sample(self, temperature: float | None = None, count: int | None = None,
               top_k: int | None = None) -> list[str]:
        """Names drawn with the run's own generator, as the tutorial does after training (with top-k
        when config.top_k, or `top_k`, is above 0)."""
        c = self.config
        return sample_names(self.model, self.dataset, c.temperature if temperature is None else temperature,
                            c.num_samples if count is None else count, self.rng, c.max_len,
                            c.top_k if top_k is None else top_k)

    def dataset_loss(self) -> float:
        return self.reference.dataset_loss(self.model)

    def to_checkpoint(self) -> checkpoint.Checkpoint:
        return checkpoint.Checkpoint(self.config, list(self.dataset.uchars), self.model.theta.copy(),
                                     self.step, self.history.losses.copy(), self.rng.getstate(),
                                     self.lr_changes)

    def save(self, path: str | Path, wait_for_reader: bool = True) -> Path:
        """The run as a checkpoint at `path` (engine.checkpoint.save; `wait_for_reader` False: a pipe
        with no reader is refused at once, not waited on)."""
        return checkpoint.save(path, self.to_checkpoint(), wait_for_reader)


def _dataset(data: str | Path | list[str] | None, rng: random.Random,
             check: Callable[[int], object] | None = None) -> Dataset:
    if isinstance(data, list):
        return Dataset.from_docs(data, rng, check)
    return Dataset.from_file(embedded_names_path() if data is None else data, rng, check)
