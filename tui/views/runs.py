"""View 7, the runs: every run of the session, the current one first, with what tells it apart, its
steps, final moving average / whole-data / held-out losses and steps/s. A kept run can be hidden from the
plot, shown again, or removed: by a click on its row's [shown]/[hidden] or [x], or with the keys
`j`/`k` (pick a row), `h` (hide / show) and `x` (remove). A kept run's label is in its line's colour,
the same as on the plot (tui/plumbing/line_colours.py). `b` pins the picked kept run as the baseline
(again: unpins it): then every other row shows its settings as baseline→run and its final figures as
run − baseline, and the baseline's row its own figures. The figures come from engine.runs."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, replace

from rich.segment import Segment
from rich.style import Style

from engine.runs import Difference, RunFigures, RunSummary, compare_with
from tui.plumbing.line_colours import LINE_STYLES, kept_colour, line_style
from tui.plumbing.wording import MOVING_AVERAGE, average, first_fit, loss
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, fit


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
    diff: Difference | None = None  # beside the baseline, when one is pinned (None: none, or this is it)
    baseline: bool = False  # this row is the baseline
    whole_measured: bool = True  # `whole` is a measurement (a NaN one: the weights a diverged run stopped with)
    heldout_measured: bool = False  # `heldout` likewise (False: no held-out set)


def with_baseline(rows: list[RunRow], figures: dict[int, RunFigures], baseline_id: int) -> list[RunRow]:
    """Each row as differences from the baseline's (engine.runs.compare_with); the baseline's row marked."""
    base = figures[baseline_id]
    out = []
    for row in rows:
        if row.id == baseline_id:
            out.append(replace(row, label=f"#{row.id} baseline", baseline=True))
        else:
            diff = compare_with(base, figures[row.id])
            name = "current" if row.id == 0 else f"#{row.id}"
            out.append(replace(row, label=f"{name}: {diff.settings_text()}", diff=diff))
    return out


def rows_of(current: RunRow, kept: list[RunSummary], labels: dict[int, str]) -> list[RunRow]:
    out = [current]
    for r in reversed(kept):  # the newest first
        steps = steps_text(r.steps_taken, r.num_steps, r.diverged_at)
        out.append(RunRow(r.id, f"#{r.id} {labels.get(r.id, '')}", steps, r.smoothed,
                          r.whole_data, r.heldout, r.steps_per_s, r.hidden,
                          heldout_measured=r.heldout_floor == r.heldout_floor))  # (a floor: a held-out set)
    return out


def steps_text(taken: int, total: int, diverged_at: int | None) -> str:
    """The steps column: `567/300,000`, or for a run that diverged `diverged 568` (the step where its
    loss stopped being finite, numbered as the status and view 8 number it)."""
    return f"diverged {diverged_at + 1:,}" if diverged_at is not None else f"{taken:,}/{total:,}"


def _measured(value: float, measured: bool) -> str:
    """A loss measured (wording.loss: NaN is 'NaN', as the status line writes it), or '--' where none was."""
    return loss(value) if measured else "--"


def _signed(value: float) -> str:
    """A difference from the baseline: always signed, '--' when either figure is not measured."""
    return f"{value:+.4f}" if math.isfinite(value) and abs(value) < 1e4 else ("--" if not math.isfinite(value)
                                                                           else f"{value:+.2e}")


class RunsView(View):
    COMPONENT_CLASSES = View.COMPONENT_CLASSES | {f"view--{name}" for name in LINE_STYLES}
    STYLE_NAMES = (*View.STYLE_NAMES, *LINE_STYLES)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.selected = 0  # index into the rows (0: the current run)
        self.table: list[RunRow] = []

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        return (id(inputs.run), inputs.step, inputs.runs_version, self.selected, inputs.baseline_id,
                inputs.race is not None)

    def compute(self, inputs: ViewInputs) -> object:
        run = inputs.run
        track = run.exact_track
        measured = track is not None and len(track) > 0
        # the figures of the step shown, as the snapshot took them (the live run is steps further on)
        held = inputs.heldout if inputs.heldout is not None else math.nan
        current = RunRow(0, "current run", steps_text(inputs.step, run.config.num_steps, run.diverged_at),
                         inputs.ema, inputs.exact, held, None, False,
                         whole_measured=measured, heldout_measured=measured and run.heldout is not None)
        self.table = rows_of(current, list(inputs.runs), dict(inputs.run_labels))
        base = inputs.baseline_id
        if base is not None and any(r.id == base for r in inputs.runs):
            figures = {r.id: RunFigures.of_summary(r) for r in inputs.runs}
            figures[0] = RunFigures(run.config, inputs.data_name, current.smoothed, current.whole, current.heldout)
            self.table = with_baseline(self.table, figures, base)
        self.selected = min(self.selected, len(self.table) - 1)
        return self.table, inputs.race is not None  # (kept runs are grey while a race is on)

    def move(self, delta: int) -> None:
        if self.table:
            self.selected = (self.selected + delta) % len(self.table)
            self.forget()

    @property
    def selected_id(self) -> int:
        return self.table[self.selected].id if self.table else 0

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        table: list[RunRow]
        racing: bool
        table, racing = figures  # type: ignore[misc]
        title, label, dim, pick = (palette.style[n] for n in ("title", "label", "dim", "pick"))
        wide = width >= 100
        compared = any(row.baseline for row in table)
        least = 28 if wide else 23  # the label's column: narrower where the figures need the room (80 columns)
        lw = max(least, max((len(row.label) + 1 for row in table), default=0))  # labels whole: the column grows
        # below 100 columns the figures' columns are as wide as their contents, the moving average is `avg` (as
        # on the board) and the held-out column only where a run has a held-out set, so that a row's [shown]
        # [x] fit at 80 (QA: they were cut, and the head's `held-out`)
        held_col = wide or any(row.heldout_measured for row in table)
        sw = 16 if wide else max([len(row.steps) for row in table] + [5]) + 2
        aw, average_word = (15, MOVING_AVERAGE) if wide else (8, "avg")
        head = f"{'':2}{'run: settings baseline→run' if compared else 'run':<{lw}}{'steps':>{sw}}{average_word:>{aw}}"
        head += f"{'whole-data':>11}" + (f"{'held-out':>10}" if held_col else "")
        head += f"{'steps/s':>10}" if wide else ""
        top = ("runs vs the baseline: figures as run − baseline · b unpins it · j/k pick · h hide/show · x remove"
               if compared else "runs: j/k pick · h hide/show on the plot · x remove · b baseline · o new settings")
        out: list[Row] = [[Segment(first_fit([fit(top.split(" · "), width)], width), title)],
                          [Segment(head, label)]]
        room = max(height - 2, 0)
        window, more = range(min(len(table), room)), ""
        if len(table) > room >= 2:  # not every row fits (80x24): the picked one always shows, the rest are counted
            rows_shown = room - 1
            start = min(max(self.selected - rows_shown + 1, 0), len(table) - rows_shown)
            window = range(start, start + rows_shown)
            above, below = start, len(table) - start - rows_shown
            more = "  " + ", ".join(p for p in (f"{above} more above" if above else "",
                                                 f"{below} more below" if below else "") if p) + ": j / k"
        for i in window:
            row = table[i]
            mark = "▶ " if i == self.selected else "  "
            d = row.diff
            smoothed, whole, held = ((_signed(d.smoothed), _signed(d.whole_data), _signed(d.heldout)) if d is not None
                                     else (average(row.smoothed), _measured(row.whole, row.whole_measured),
                                           _measured(row.heldout, row.heldout_measured)))
            text = f"{row.steps:>{sw}}{smoothed:>{aw}}{whole:>11}" + (f"{held:>10}" if held_col else "")
            if wide:
                text += f"{'' if row.rate is None else f'{row.rate:,.0f}':>10}"
            style = pick if i == self.selected else (dim if row.hidden else title if row.baseline else Style())
            colour = palette.style[line_style(kept_colour(row.id, racing))] if row.id and not row.hidden else style
            cells: Row = [Segment(mark, style), Segment(f"{row.label:<{lw}}", colour if i != self.selected
                                                        else style + Style(color=colour.color)), Segment(text, style)]
            if row.id:
                cells += [Segment("  "), Segment("[hidden]" if row.hidden else "[shown]",
                                                 Style(meta={"@click": f"app.toggle_run({row.id})"}) + label),
                          Segment(" "), Segment("[x]", Style(meta={"@click": f"app.remove_run({row.id})"}) + label)]
            out.append(cells)
        if more:
            out.append([Segment(first_fit([more], width), label)])
        if len(table) == 1 and height > 3:
            out.append([Segment(first_fit(
                ["  (no earlier runs yet: n or o start another and keep every variant of this race)",
                 "  (no earlier runs yet: n or o keep this race's variants)", "  (no earlier runs yet)"] if racing else
                ["  (no earlier runs yet: n or o start another and keep this one; r keeps it only if the new run "
                 "would differ)", "  (no earlier runs yet: n or o start another and keep this one)",
                 "  (no earlier runs yet)"], width), dim)])
        return out
