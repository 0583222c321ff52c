"""View 2, the table: the model's whole next-token table (one row per context token, at the current
temperature) beside the data's bigram table, with each row's share of (whole-data loss - floor).
The picked token's row is highlighted; the rows shown are a window around it when they do not all fit."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from rich.segment import Segment

from engine.inspect import bigram_table, prob_table, row_gap
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, cells, char_label, fit, fmt, seq_index


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


def render_table(f: TableFigures, width: int, height: int, pal: Palette) -> list[Row]:
    v = len(f.labels)
    cw = 2 if 4 + 4 * v + 24 <= width else 1
    total = float(np.nansum(f.gap))
    title = fit([f"P(next | row): model at T {f.temperature:.2f} │ data │ left to learn {fmt(total)} nats",
                 "(whole-data loss − floor, by row)"], width, " ")
    rows: list[Row] = [[Segment(title, pal.style["title"])]]
    header = height >= 8
    if header:
        letters = "".join((lab if len(lab) == 1 else "•").ljust(cw) for lab in f.labels)
        rows.append([Segment("    " + letters + " " + letters + "  (• = BOS)", pal.style["label"])])
    top = float(np.nanmax(f.gap)) if np.isfinite(f.gap).any() else 0.0
    ranked = [int(i) for i in np.argsort(-np.nan_to_num(f.gap, nan=-1.0), kind="stable")]
    bar_w = max(min(width - (4 + 2 * v * cw + 2) - 20, 20), 0)
    model_i, data_i = seq_index(f.model), seq_index(f.data)
    for n, r in enumerate(window(f.token, v, height - len(rows))):
        picked = r == f.token
        label = ("▶" if picked else " ") + f.labels[r].ljust(3)
        row: Row = [Segment(label, pal.style["pick" if picked else "label"])]
        row += cells(model_i[r], pal.seq, cw) + [Segment(" ")] + cells(data_i[r], pal.seq, cw)
        filled = int(round(f.gap[r] / top * bar_w)) if top > 0 and np.isfinite(f.gap[r]) else 0
        row += [Segment(" " + "█" * filled, pal.style["hot"]), Segment(" " * (bar_w - filled) + f" {fmt(f.gap[r])}")]
        if n < len(ranked):  # beside the rows: the contexts with the most left to learn, most first
            k = ranked[n]
            row.append(Segment(f"  #{n + 1} {f.labels[k]} {fmt(f.gap[k])}", pal.style["dim"]))
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
