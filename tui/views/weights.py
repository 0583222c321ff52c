"""View 4, the weights: wte (shown transposed: one column per token), mlp_fc1 (transposed: one
column per hidden unit) and mlp_fc2 (one column per hidden unit) as heatmaps on a diverging scale
that only ever grows, by doublings (engine.inspect.weight_scale): a change of colour is a change of
weight. Dead hidden units (ReLU output 0 for every token) are marked under their columns. `u`
switches to the last step's update (lr x gradient): only the rows of that name's letters move in wte.

Two matrix rows share a terminal row (half blocks '▀'); a matrix larger than its space is pooled
into blocks, each showing its value of largest magnitude (so a single large weight stays visible), and
says so: its label gives the shape drawn (`fc2 27×64 → 16×64`) and the title what a cell then shows.
The first row carries the colour scale (-L, the colours, +L); wte's columns have their tokens' letters
under them."""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from rich.segment import Segment

from engine.inspect import applied_update, dead_units, to_unit, weight_scale
from engine.printable import printable
from tui.views import ViewInputs
from tui.views.view import LEVELS, Palette, Row, View, char_label, div_index, finite_max, fit, fmt

WEIGHTS, UPDATE = "weights", "update"


class WeightFigures(NamedTuple):
    mode: str
    title: list[str]  # its parts, most important first
    blocks: list[tuple[str, np.ndarray]]  # (name, values / scale in -1 .. 1), as drawn (rows, cols)
    dead: np.ndarray  # (H,) bool
    finite: bool
    scale: float = 1.0  # the colour scale's half range: -scale .. +scale
    letters: tuple[str, ...] = ()  # one visible character per token: wte's columns


@lru_cache(maxsize=64)
def _starts(length: int, parts: int) -> tuple[int, ...]:
    """Where each of np.array_split's `parts` groups of range(length) begins."""
    return tuple(int(g[0]) for g in np.array_split(np.arange(length), parts))


def pool(m: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """`m` shrunk to at most rows x cols by blocks, each keeping its entry of largest magnitude."""
    rs, cs = list(_starts(m.shape[0], min(rows, m.shape[0]))), list(_starts(m.shape[1], min(cols, m.shape[1])))
    hi = np.maximum.reduceat(np.maximum.reduceat(m, rs, axis=0), cs, axis=1)
    lo = np.minimum.reduceat(np.minimum.reduceat(m, rs, axis=0), cs, axis=1)
    return np.where(np.abs(hi) >= np.abs(lo), hi, lo)


def pool_mask(mask: np.ndarray, cols: int) -> np.ndarray:
    groups = np.array_split(np.arange(len(mask)), min(cols, len(mask)))
    return np.array([mask[g].any() for g in groups])


def half_block_rows(unit: np.ndarray, pal: Palette) -> list[Row]:
    """Two matrix rows per terminal row: the top one as the '▀' colour, the bottom as its background.
    (Cell by cell: for rows this short it is quicker than finding the runs with numpy, measured.)"""
    idx = div_index(unit)
    if idx.shape[0] % 2:
        idx = np.vstack([idx, np.full((1, idx.shape[1]), LEVELS)])  # an odd last row over neutral
    out = []
    for top, bottom in zip(idx[0::2].tolist(), idx[1::2].tolist()):
        row: Row = []
        for a, b in zip(top, bottom):
            st = pal.pair(a, b)
            if row and row[-1].style is st:
                row[-1] = Segment(row[-1].text + "▀", st)
            else:
                row.append(Segment("▀", st))
        out.append(row)
    return out


CONDENSED = "→ condensed: a cell shows its block's largest |x|"
BOS_NOTE = "• = BOS"  # wte's letters: said over wte (its label) when there is room, else in the title


def legend(f: WeightFigures, pal: Palette, every: int = 1) -> Row:
    """What is drawn, then its colour scale: -L, a cell of each colour (or of every other one) from the
    most negative to the most positive, +L."""
    cells = [Segment(" ", pal.div[i]) for i in range(0, len(pal.div), every)]
    return [Segment(f"{f.title[0]} -{fmt(f.scale)} ", pal.style["title"]), *cells,
            Segment(f" +{fmt(f.scale)}", pal.style["title"])]


def labels(f: WeightFigures, drawn: list[np.ndarray], gap: int) -> tuple[list[str], bool]:
    """Each block's label, over its columns: its matrix's name and shape (and the shape drawn, when
    condensed), shortened to what fits, whole words; wte's says what its letters' • is when it fits.
    Also whether one did (then the title need not)."""
    out, bos = [], False
    for (name, b), d in zip(f.blocks, drawn):
        room = d.shape[1] + gap - 1
        shape = f"{name} {b.shape[0]}×{b.shape[1]}"
        long = shape + (f" → {d.shape[0]}×{d.shape[1]}" if d.shape != b.shape else "")
        tries = [long, shape, name]
        if name.startswith("wte") and d.shape[1] == b.shape[1] == len(f.letters):
            tries[:0] = [f"{long} ({BOS_NOTE})"]
        label = next((t for t in tries if len(t) <= room), name)
        bos |= BOS_NOTE in label
        out.append(label[:room])
    return out, bos


def render_weights(f: WeightFigures, width: int, height: int, pal: Palette) -> list[Row]:
    names = height >= 4  # the blocks' names come before their rows: the rows are pooled to make room
    lines = max(height - 1 - names - 1, 1)  # title, names, letters and dead-unit marks
    gap = 2
    want = [b.shape[1] for _, b in f.blocks]
    room = max(width - gap * (len(want) - 1), len(want))
    if sum(want) <= room:
        cols = want
    else:  # wte keeps a column per token if it can; the two hidden-unit matrices share the rest
        first = min(want[0], max(room - 32, room // 3))
        cols = [first] + [max(1, min(c, c * (room - first) // sum(want[1:]))) for c in want[1:]]
    drawn = [pool(np.nan_to_num(b), 2 * lines, c) for (_, b), c in zip(f.blocks, cols)]
    condensed = [name for (name, b), d in zip(f.blocks, drawn) if d.shape != b.shape]
    head = legend(f, pal, 1 if width >= 100 else 2)
    used = sum(s.cell_length for s in head)
    parts = f.title[1:] if f.finite else ["not finite (a diverged step)", *f.title[1:]]
    label_texts, bos_said = labels(f, drawn, gap)
    if names and bos_said:
        parts = [p for p in parts if p != BOS_NOTE]
    if condensed:  # said in full if it fits, else which are condensed (the labels say how, when shown)
        which = "all" if len(condensed) == len(f.blocks) else ", ".join(condensed)
        long = CONDENSED if names else f"{CONDENSED}: {which}"
        short = "→ condensed" if names else f"condensed: {which}"
        at = 1 if f.finite else 2  # after the dead units (and the divergence)
        before = used + sum(3 + len(p) for p in parts[:at])
        parts.insert(at, long if before + 3 + len(long) <= width else short)
    rest = fit(["", *parts], max(width - used, 0))
    rows: list[Row] = [head + [Segment(rest, pal.style["title"])]]
    grids = [half_block_rows(d, pal) for d in drawn]
    if names:
        label_row: Row = []
        for label, d in zip(label_texts, drawn):
            label_row.append(Segment(label.ljust(d.shape[1] + gap), pal.style["label"]))
        rows.append(label_row)
    pad = [Segment(" " * gap)]
    for i in range(max(len(g) for g in grids)):
        row: Row = []
        for g, d in zip(grids, drawn):
            row += (g[i] if i < len(g) else [Segment(" " * d.shape[1])]) + pad
        rows.append(row)
    marks: Row = []
    for (name, b), d in zip(f.blocks, drawn):
        if name.startswith("wte"):  # the tokens' letters under their columns (when each has its own)
            text = "".join(f.letters) if d.shape[1] == b.shape[1] == len(f.letters) else ""
            marks.append(Segment(text.ljust(d.shape[1] + gap), pal.style["label"]))
            continue
        dead = pool_mask(f.dead, d.shape[1])
        marks.append(Segment("".join("×" if x else " " for x in dead) + " " * gap, pal.style["mark"]))
    rows.append(marks)
    return rows


class WeightsView(View):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.mode = WEIGHTS
        self._scale: tuple[int, float] | None = None  # (id of the run, the weights' colour scale)

    def toggle_mode(self) -> None:
        self.mode = UPDATE if self.mode == WEIGHTS else WEIGHTS
        self.forget()

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        return id(inputs.run), inputs.step, self.mode

    def compute(self, inputs: ViewInputs) -> WeightFigures:
        model = inputs.model
        dead = dead_units(model)
        n_dead = int(dead.sum())
        dead_text = f"{n_dead} of {len(dead)} hidden units dead ×"
        if self.mode == UPDATE:
            return self._update(inputs, dead, dead_text)
        current = self._scale[1] if self._scale and self._scale[0] == id(inputs.run) else None
        scale = weight_scale(model, inputs.run.config.init_std, current)
        self._scale = (id(inputs.run), scale)
        title = ["weights", dead_text, "u: the last step's update",
                 "(× : ReLU 0 for every token; the scale only grows)", BOS_NOTE]
        return WeightFigures(WEIGHTS, title, self._blocks(model.wte, model.fc1, model.fc2, scale), dead,
                             bool(np.isfinite(model.theta).all()), scale, self._letters(inputs))

    def _update(self, inputs: ViewInputs, dead: np.ndarray, dead_text: str) -> WeightFigures:
        model = inputs.model.copy()
        if inputs.grad is None or inputs.record is None:
            model.grad[:] = 0.0
        else:
            model.grad[:] = inputs.grad
        up = applied_update(model)
        scale = finite_max(np.concatenate([up.wte.ravel(), up.fc1.ravel(), up.fc2.ravel()])) or 1.0
        if inputs.record is None:
            title = ["update: no step taken yet", dead_text, "u: the weights", BOS_NOTE]
        else:
            ds = inputs.run.dataset
            moved = np.flatnonzero(np.any(up.wte != 0, axis=1))
            letters = " ".join("BOS" if i == ds.bos else char_label(ds.uchars[i]) for i in moved)
            title = [f"update of step {inputs.record.step + 1:,} on '{printable(inputs.record.doc)}'",
                     f"wte moved: {letters}", dead_text, "lr × gradient", "u: the weights", BOS_NOTE]
        blocks = self._blocks(up.wte, up.fc1, up.fc2, scale)
        return WeightFigures(UPDATE, title, blocks, dead, bool(np.isfinite(model.grad).all()), scale,
                             self._letters(inputs))

    @staticmethod
    def _letters(inputs: ViewInputs) -> tuple[str, ...]:
        ds = inputs.run.dataset
        return tuple("•" if i == ds.bos else char_label(ds.uchars[i]) for i in range(ds.vocab_size))

    @staticmethod
    def _blocks(wte: np.ndarray, fc1: np.ndarray, fc2: np.ndarray, scale: float) -> list[tuple[str, np.ndarray]]:
        return [("wteᵀ", to_unit(wte.T, scale)), ("fc1ᵀ", to_unit(fc1.T, scale)), ("fc2", to_unit(fc2, scale))]

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        assert isinstance(figures, WeightFigures)
        return render_weights(figures, width, height, palette)
