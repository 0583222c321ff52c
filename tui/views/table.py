"""View 2, the table: the model's whole next-token table (one row per context token, at the current
temperature) beside the data's bigram table, with each row's share of (whole-data loss - floor), which
is at T 1 like the loss itself (the title says both temperatures). The picked token's row is
highlighted; when the rows do not all fit, the rows shown are a window around it and the title says
which (← → move it). Right of a rule `│`, apart from the rows: the rows ranked by what is left to
learn in them, most first (they may be outside the window)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from rich.segment import Segment

from engine.inspect import bigram_table, prob_table, row_gap
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, cells, char_label, fmt, seq_index


class TableFigures(NamedTuple):
    labels: list[str]  # one cell per token
    model: np.ndarray  # (V, V) P(next | row) at the temperature
    data: np.ndarray  # (V, V) the bigram table
    gap: np.ndarray  # (V,) each row's share of whole-data loss - floor (nats)
    token: int
    temperature: float


def window(token: int, count: int, shown: int) -> range:
    """`shown` consecutive rows that contain `token`, centred on it where possible."""
    shown = max(min(shown, count), 0)
    start = min(max(token - shown // 2, 0), count - shown)
    return range(start, start + shown)


RANK = " │ "  # the rule between the rows and the ranking


def nats(value: float) -> str:
    """A left-to-learn figure, as every loss on the screen is written: 4 decimals (0.0050, 0.0006), so that a
    column of them reads alike (QA: `0.005`, `0.0023`, `5.9e-04` in one column); 100 and more (a diverged
    run's) as fmt writes them."""
    if not np.isfinite(value) or abs(value) >= 100:  # a diverged run's: 4.7e+38, never 39 digits
        return fmt(value)
    text = f"{value:.4f}"
    return "0.0000" if text == "-0.0000" else text


def title_line(f: TableFigures, shown: range, width: int) -> str:
    """What the table shows, at which temperatures, and which rows: the wordings that fit, the left-to-
    learn part and the rows part both if they can, each as long as the room allows."""
    v, total = len(f.labels), float(np.nansum(f.gap))
    main = f"P(next | row) at T {f.temperature:.2f}: model │ data"
    gaps = [f" │ left to learn at T 1, as the loss: {nats(total)} nats (whole-data loss − floor, by row)",
            f" │ left to learn at T 1, as the loss: {nats(total)} nats", " │ left to learn at T 1", ""]
    rows = [""]
    if len(shown) < v:
        which = f" · rows {f.labels[shown.start]}–{f.labels[shown.stop - 1]} of {v}"
        rows = [which + ", ← → move", which, ""]
    fitting = [(g, r) for g in gaps for r in rows if len(main) + len(g) + len(r) <= width] or [("", "")]
    g, r = max(fitting, key=lambda c: (bool(c[0]), bool(c[1]), len(c[0]) + len(c[1])))
    return (main + g + r)[:width]


def render_table(f: TableFigures, width: int, height: int, pal: Palette) -> list[Row]:
    v = len(f.labels)
    header = height >= 8
    shown = window(f.token, v, height - 1 - header)
    rows: list[Row] = [[Segment(title_line(f, shown, width), pal.style["title"])]]
    value_w = 7  # nats' longest: 10.1234 (the gaps are a few nats at most)
    rank_w = len(RANK) + len(f"#{v} ") + max(len(lab) for lab in f.labels) + 1 + value_w
    cw = 2 if 4 + 4 * v + 1 + 10 + 1 + value_w + rank_w <= width else 1  # wide cells if a 10-cell bar fits too
    tables = 4 + 2 * v * cw + 1  # the label, the model's cells, a space, the data's cells
    ranking = width - tables - 1 - value_w >= rank_w  # the ranking only where it fits whole
    bar_w = max(min(width - tables - 2 - value_w - (rank_w if ranking else 0), 20), 0)
    if header:
        letters = "".join((lab if len(lab) == 1 else "•").ljust(cw) for lab in f.labels)
        line = f"{'    ' + letters + ' ' + letters:<{tables}} {'left to learn':<{bar_w + 1 + value_w}}"
        line += (f"{RANK}most left to learn" if ranking else "") + "  (• = BOS)"
        rows.append([Segment(line, pal.style["label"])])
    top = float(np.nanmax(f.gap)) if np.isfinite(f.gap).any() else 0.0
    ranked = [int(i) for i in np.argsort(-np.nan_to_num(f.gap, nan=-1.0), kind="stable")]
    model_i, data_i = seq_index(f.model), seq_index(f.data)
    for n, r in enumerate(shown):
        picked = r == f.token
        label = ("▶" if picked else " ") + f.labels[r].ljust(3)
        row: Row = [Segment(label, pal.style["pick" if picked else "label"])]
        row += cells(model_i[r], pal.seq, cw) + [Segment(" ")] + cells(data_i[r], pal.seq, cw)
        filled = int(round(f.gap[r] / top * bar_w)) if top > 0 and np.isfinite(f.gap[r]) else 0
        row += [Segment(" " + "█" * filled, pal.style["hot"]),
                Segment(" " * (bar_w - filled) + f" {nats(f.gap[r]):<{value_w}}")]
        if ranking:  # apart from the rows: the contexts with the most left to learn, most first
            k = ranked[n]
            row += [Segment(RANK, pal.style["label"]),
                    Segment(f"#{n + 1} {f.labels[k]} {nats(f.gap[k])}", pal.style["dim"])]
        rows.append(row)
    return rows


class TableView(View):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._data: tuple[int, np.ndarray] | None = None  # (id of the run, its bigram table)

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        return id(inputs.run), inputs.step, inputs.token, inputs.temperature

    def compute(self, inputs: ViewInputs) -> TableFigures:
        ds = inputs.run.dataset
        if self._data is None or self._data[0] != id(inputs.run):
            self._data = (id(inputs.run), bigram_table(ds.counts))
        labels = [char_label(ds.uchars[i]) if i != ds.bos else "BOS" for i in range(ds.vocab_size)]
        return TableFigures(labels, prob_table(inputs.model, inputs.temperature), self._data[1],
                            row_gap(inputs.model, ds.counts), inputs.token, inputs.temperature)

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        assert isinstance(figures, TableFigures)
        return render_table(figures, width, height, palette)
