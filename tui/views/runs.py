"""View 7, the runs: every run of the session, the current one first, with what tells it apart, its
steps, final moving average / whole-data / held-out losses and steps/s. A kept run can be hidden from the
plot, shown again, or removed: by a click on its row's [shown]/[hidden] or [x], or with the keys
`j`/`k` (pick a row), `h` (hide / show) and `x` (remove). The figures come from engine.runs."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style

from engine.runs import RunSummary
from tui.plumbing.wording import MOVING_AVERAGE, loss
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View


@dataclass(frozen=True)
class RunRow:
    id: int  # 0: the current run
    label: str  # what differs from the current run
    steps: str
    smoothed: float
    whole: float
    heldout: float
    rate: float | None
    hidden: bool


def rows_of(current: RunRow, kept: list[RunSummary], labels: dict[int, str]) -> list[RunRow]:
    out = [current]
    for r in reversed(kept):  # the newest first
        out.append(RunRow(r.id, f"#{r.id} {labels.get(r.id, '')}", f"{r.steps_taken:,}/{r.num_steps:,}", r.smoothed,
                          r.whole_data, r.heldout, r.steps_per_s, r.hidden))
    return out


def _num(value: float) -> str:
    """A loss as everywhere (wording.loss); "--" where there is none (NaN: no held-out set, no step yet)."""
    return "--" if value != value else loss(value)


class RunsView(View):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.selected = 0  # index into the rows (0: the current run)
        self.table: list[RunRow] = []

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        return (id(inputs.run), inputs.step, inputs.runs_version, self.selected)

    def compute(self, inputs: ViewInputs) -> object:
        run = inputs.run
        track = run.exact_track
        held = track.heldout_last if track is not None and track.heldout_values is not None else math.nan
        current = RunRow(0, "current run", f"{run.step:,}/{run.config.num_steps:,}", run.history.last_ema,
                         track.last if track is not None else math.nan, held, None, False)
        self.table = rows_of(current, list(inputs.runs), dict(inputs.run_labels))
        self.selected = min(self.selected, len(self.table) - 1)
        return self.table

    def move(self, delta: int) -> None:
        if self.table:
            self.selected = (self.selected + delta) % len(self.table)
            self.forget()

    @property
    def selected_id(self) -> int:
        return self.table[self.selected].id if self.table else 0

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        table: list[RunRow] = figures  # type: ignore[assignment]
        title, label, dim, pick = (palette.style[n] for n in ("title", "label", "dim", "pick"))
        wide = width >= 100
        lw = 28 if wide else 23  # the label's column: narrower where the figures need the room (80 columns)
        head = f"{'':2}{'run':<{lw}}{'steps':>16}{MOVING_AVERAGE:>15}{'whole-data':>11}{'held-out':>10}"
        head += f"{'steps/s':>10}" if wide else ""
        out: list[Row] = [[Segment("runs: j/k pick · h hide/show on the plot · x remove · o new settings", title)],
                          [Segment(head, label)]]
        for i, row in enumerate(table[: max(height - 2, 0)]):
            mark = "▶ " if i == self.selected else "  "
            text = (f"{mark}{row.label[: lw - 1]:<{lw}}{row.steps:>16}{_num(row.smoothed):>15}{_num(row.whole):>11}"
                    f"{_num(row.heldout):>10}")
            if wide:
                text += f"{'' if row.rate is None else f'{row.rate:,.0f}':>10}"
            style = pick if i == self.selected else (dim if row.hidden else Style())
            cells: Row = [Segment(text, style)]
            if row.id:
                cells += [Segment("  "), Segment("[hidden]" if row.hidden else "[shown]",
                                                 Style(meta={"@click": f"app.toggle_run({row.id})"}) + label),
                          Segment(" "), Segment("[x]", Style(meta={"@click": f"app.remove_run({row.id})"}) + label)]
            out.append(cells)
        if len(table) == 1 and height > 3:
            out.append([Segment("  (no earlier runs yet: r, n or o start another, and this one is kept)", dim)])
        return out
