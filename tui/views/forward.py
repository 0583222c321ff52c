"""View 5, the forward pass (page 1.4): the picked token through the model, one strip of coloured
cells per stage: its embedding (a row of wte) -> mlp_fc1's pre-activation -> ReLU (the units it cuts
to 0 marked ·) -> mlp_fc2's logits -> the probabilities at the current temperature. Each stage has
its own diverging scale (its largest magnitude); the largest values are labelled when there is room."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from rich.segment import Segment

from engine.inspect import Trace, forward_trace, top_k
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, cells, char_label, div_index, finite_max, fit, fmt, seq_index

LABEL_W = 9


class ForwardFigures(NamedTuple):
    trace: Trace
    labels: list[str]  # token labels
    picked: str


def stage_rows(f: ForwardFigures) -> list[tuple[str, np.ndarray, str]]:
    t = f.trace
    return [(f"{f.picked} wte", t.embedding, "div"), ("fc1 pre", t.pre_activation, "div"),
            ("ReLU", t.activation, "relu"), ("logits", t.logits, "div"), ("probs", t.probs, "seq")]


def strip(values: np.ndarray, kind: str, zero: np.ndarray, cw: int, pal: Palette) -> Row:
    if kind == "seq":
        return cells(seq_index(values).tolist(), pal.seq, cw)
    scale = finite_max(values) or 1.0
    idx = div_index(values / scale).tolist()
    if kind != "relu":
        return cells(idx, pal.div, cw)
    out: Row = []
    for i, z in zip(idx, zero.tolist()):  # the units the ReLU cut: a dot on the neutral colour
        out.append(Segment("·".ljust(cw), pal.div[i] + pal.style["dim"]) if z else Segment(" " * cw, pal.div[i]))
    return out


def top_labels(values: np.ndarray, labels: list[str], room: int, digits: str = ".2f") -> str:
    out = ""
    for i in top_k(values, 8).tolist():
        item = f" {labels[i]} {values[i]:{digits}}"
        if len(out) + len(item) > room:
            break
        out += item
    return out


def header(f: ForwardFigures, left_out: list[str], width: int) -> str:
    """What the view shows and what its marks mean: the ReLU's cut units (·). Stages with no room are
    named as not shown; the temperature is said only when the probabilities (the stage it acts on) are."""
    t = f.trace
    lead = f"forward pass of {f.picked}"
    if "probs" not in left_out:
        lead += f" at temperature {t.temperature:.2f}"
    n = len(left_out)
    hidden = [f"{n} row{'s' if n > 1 else ''} not shown: {', '.join(left_out)}"] if n else []
    return fit([lead, f"ReLU cuts {int(t.zero.sum())} of {len(t.zero)} to 0 (·)", *hidden,
                "wte row → mlp_fc1 → ReLU → mlp_fc2 → softmax", "(the tutorial's page 1.4)"], width)


def render_forward(f: ForwardFigures, width: int, height: int, pal: Palette) -> list[Row]:
    """The header line first (it explains the marks); if the stages do not all fit under it, the last
    ones give way and the header names them."""
    t = f.trace
    diverged = not np.isfinite(t.logits).all()
    stages = stage_rows(f)
    longest = max(len(v) for _, v, _ in stages)
    cw = max(1, min(3, (width - LABEL_W - 1) // longest))
    room = max(height - 1 - diverged, 0)
    left_out = [name for name, _, _ in stages[room:]]
    stages = stages[:room]
    spare = room - len(stages)
    rows: list[Row] = [[Segment(header(f, left_out, width), pal.style["title"])]]
    with_letters = spare >= 1
    if diverged:
        rows.append([Segment("the logits are not finite (a diverged run)", pal.style["mark"])])
    for name, values, kind in stages:
        row: Row = [Segment(name[:LABEL_W - 1].ljust(LABEL_W), pal.style["label"])]
        row += strip(values, kind, t.zero, cw, pal)
        used = LABEL_W + len(values) * cw
        if kind in ("seq", "div") and len(values) == len(f.labels):
            digits = ".2f" if kind == "seq" else ".1f"
            row.append(Segment(top_labels(values, f.labels, width - used - 1, digits), pal.style["text"]))
        elif kind != "seq":
            row.append(Segment(f" ±{fmt(finite_max(values))}", pal.style["dim"]))
        rows.append(row)
        if with_letters and len(values) == len(f.labels) and kind == "seq":
            letters = "".join((lab if len(lab) == 1 else "•").ljust(cw) for lab in f.labels)
            rows.append([Segment(" " * LABEL_W + letters + "  (• = BOS)", pal.style["label"])])
    return rows


class ForwardView(View):
    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        return id(inputs.run), inputs.step, inputs.token, inputs.temperature

    def compute(self, inputs: ViewInputs) -> ForwardFigures:
        ds = inputs.run.dataset
        labels = ["BOS" if i == ds.bos else char_label(ds.uchars[i]) for i in range(ds.vocab_size)]
        picked = "BOS" if inputs.token == ds.bos else f"'{labels[inputs.token]}'"
        return ForwardFigures(forward_trace(inputs.model, inputs.token, inputs.temperature), labels, picked)

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        assert isinstance(figures, ForwardFigures)
        return render_forward(figures, width, height, palette)
