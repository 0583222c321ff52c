"""The lower panel's views: what the model outputs (1), what is inside it (2..6), the runs (7), a race (8).

The app hands the panel one `ViewInputs` per frame; the panel forwards it to the view on show only,
and a view recomputes (with engine.inspect, never its own maths) only when the inputs it reads changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import Model, Run, StepRecord
from engine.race import Race, Standing
from engine.runs import EMBEDDED
from tui.plumbing.training_loop import State


@dataclass(frozen=True, eq=False)
class ViewInputs:
    """What the views draw from, as the screen shows it (never the live training model)."""

    model: Model  # the screen's copy of the weights (app.view_model)
    run: Run  # the dataset, the config, the reference figures
    token: int  # the picked context token
    temperature: float
    step: int  # steps taken
    state: State
    record: StepRecord | None  # the last step's record (its name and learning rate)
    grad: np.ndarray | None = None  # the last step's lr * gradient, copied with the weights
    runs: tuple = ()  # the session's kept runs (engine.runs.RunSummary), oldest first
    run_labels: tuple = ()  # (id, what differs from the current run) of each
    runs_version: int = 0  # changes whenever the kept runs or their flags change
    baseline_id: int | None = None  # the kept run pinned as the baseline, if any
    data_name: str = EMBEDDED  # the current run's data, as engine.runs.data_name names it
    race: Race | None = None  # the race being trained (engine.race), or None
    race_step: int = 0  # the race's steps taken
    picked: int = 0  # the variant shown (0-based)
    race_drawn: tuple[int, ...] = ()  # the variant numbers whose lines the plot draws
    # read with `step`, between two steps (tui/plumbing/training_loop.Snapshot): the live run is further on
    ema: float = math.nan  # the moving average after `step` steps
    exact: float = math.nan  # the whole-data loss last measured
    heldout: float | None = None  # the held-out loss last measured (None: no held-out set)
    standings: tuple[Standing, ...] = ()  # in a race: every variant's place

    def current_doc(self) -> str:
        """The name of the current step: the one just trained on, or at step 0 the first to come."""
        if self.record is not None:
            return self.record.doc
        docs = self.run.dataset.docs
        return docs[self.step % len(docs)]
