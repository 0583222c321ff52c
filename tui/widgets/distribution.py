"""The next-token chart: after the picked (context) token, the model's probability of each next token
at the current temperature (left bar of a pair) beside how often the data itself continues that way
(right bar): what the model is trying to learn. Vertical bars, one column group per next token.

Every bar is on one fixed scale, the same for the model and the data and for every temperature:
height = sqrt(probability), full height = probability 1 (an axis on the left labels rows with the
probability their top stands for). So nothing is ever capped, the data's bars never move when only
the temperature changes, and a lower temperature visibly makes the likeliest bars taller and the rest
shorter (the square root keeps the small probabilities, most of them near 1/V, visible). When the
model's probabilities are not finite (a diverged run) no model bar is drawn and the title says so,
on the first row, whatever the height. A click on a bar or its letter posts `TokenPicked`: the app
makes that token the context, so a learner can walk a name letter by letter.

Drawn with Textual's line API (a Strip of Segments per row), rebuilt when the figures, the size or the
theme change: it is redrawn several times a second while training runs, and only the rows that came
out different are repainted (tui/plumbing/drawn_rows.py)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from engine.printable import printable
from tui.plumbing.drawn_rows import DrawnRows

BLOCKS = " ▁▂▃▄▅▆▇█"
CUT = "×"  # under a next token that top-k sampling cuts (its model bar is 0)
BLOCK = 7  # the block beside the bars: "after" over the context token
AXIS = 6  # the probability axis: a space, a label of up to 4 characters and a tick
MIN_COLUMNS, MAX_COLUMNS = 3, 9  # columns per token: a pair of bars and a gap
DIVERGED = "the model's probabilities are not finite: the run diverged"
DIVERGED_SHORT = "probabilities not finite: diverged"  # for a narrow chart
SCALE = "bar height √p, top = 1"  # what a bar's height means (the axis labels p)


class Figures(NamedTuple):
    labels: list[str]  # a visible label per token
    model: np.ndarray  # the model's next-token probabilities (V,)
    data: np.ndarray  # the data's next-token frequencies (V,)
    context: int  # the picked token
    temperature: float
    cut: np.ndarray | None = None  # (V,) True for the next tokens top-k cuts (None: top-k is off)
    silent: bool = False  # every hidden unit gives 0 after the context (engine.inspect.units_off_after)


class Layout(NamedTuple):
    block: int  # columns of the "after" block (0 or BLOCK)
    axis: int  # columns of the probability axis (0 or AXIS)
    order: np.ndarray  # the tokens shown, in vocabulary order
    cw: int  # columns per token


def number(x: float) -> str:
    """A figure in at most 8 characters, whatever its size (scientific notation for huge or tiny ones)."""
    if not np.isfinite(x):
        return str(x)
    if x == 0 or 0.01 <= abs(x) < 10_000:
        return f"{x:.2f}"
    return f"{x:.1e}"


def tick(p: float, decimals: int | None = None) -> str:
    """A probability on the axis in at most 4 characters: 1, .53, .083, .002; with `decimals`, that many
    (one axis writes all its labels alike: .360 and .040, not .36 and .040)."""
    if p >= 1:
        return "1"
    if decimals is None:
        decimals = 2 if p >= 0.1 else 3
    return f"{p:.{decimals}f}"[1:]


def heights(p: np.ndarray, rows: int) -> np.ndarray:
    """Bar heights in eighths of a row for probabilities `p` on `rows` rows: round(sqrt(p) * rows * 8).
    Non-finite values get 0 (the caller draws no bar from them). Never more than the chart's height."""
    clean = np.clip(np.where(np.isfinite(p), p, 0.0), 0.0, 1.0)
    return np.rint(np.sqrt(clean) * rows * 8).astype(int)


def axis_rows(rows: int) -> dict[int, str]:
    """The bar rows (1 = the bottom one) that carry a label: the top row and every k-th below it. A
    row's label is the probability its top edge stands for, (row / rows)**2."""
    k = max(1, math.ceil(rows / 4))
    ps = {r: (r / rows) ** 2 for r in range(rows, 0, -k)}
    decimals = 3 if any(p < 0.1 for p in ps.values()) else 2  # one form for the axis's labels below 1
    return {r: tick(p, decimals) for r, p in ps.items()}


def likeliest(model: np.ndarray, data: np.ndarray, fit: int) -> np.ndarray:
    """The `fit` tokens most likely under the model (finite values only) or the data, in vocabulary order."""
    likely = np.maximum(np.where(np.isfinite(model), model, 0.0), data)
    return np.sort(np.argsort(-likely, kind="stable")[:fit])


def layout(model: np.ndarray, data: np.ndarray, width: int) -> Layout:
    """Every token if it fits with at least 3 columns each (with the "after" block and the axis, the
    axis alone, or neither, in that order of preference), else every token in 2 columns, else the
    likeliest that fit with 3 columns and the axis. The last token needs no gap after its bars."""
    v = len(model)
    for block, axis in ((BLOCK, AXIS), (0, AXIS), (0, 0)):
        cw = min(MAX_COLUMNS, (width - block - axis + 1) // max(v, 1))
        if cw >= MIN_COLUMNS:
            return Layout(block, axis, np.arange(v), cw)
    if 2 * v - 1 <= width:
        return Layout(0, 0, np.arange(v), 2)
    axis = AXIS if width >= AXIS + 4 * MIN_COLUMNS else 0
    fit = max(1, (width - axis + 1) // MIN_COLUMNS)
    return Layout(0, axis, likeliest(model, data, fit), MIN_COLUMNS)


def visible_tokens(model: np.ndarray, data: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """The tokens shown at `width` and the columns each gets."""
    lay = layout(model, data, width)
    return lay.order, lay.cw


class DistributionChart(Widget):
    """Attributes down: `show()` stores the figures; the rows are built at the widget's size.
    Message up: `TokenPicked(token)` when a bar or its letter is clicked."""

    COMPONENT_CLASSES = {
        "distribution-chart--title",
        "distribution-chart--context",
        "distribution-chart--model",
        "distribution-chart--data",
        "distribution-chart--label",
        "distribution-chart--axis",
        "distribution-chart--error",
    }

    class TokenPicked(Message):
        """A bar or its letter was clicked: make `token` the context."""

        def __init__(self, token: int) -> None:
            super().__init__()
            self.token = token

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.figures: Figures | None = None
        self._lay = Layout(0, 0, np.arange(0), MIN_COLUMNS)  # as last drawn
        self._drawn = DrawnRows()
        self._tokens_at: list[int | None] = []  # the token drawn in each column (None: gutter, gaps)
        self._styles: dict[str, Style] = {}  # the component styles, looked up once a theme

    def show(self, labels: list[str], model: np.ndarray, data: np.ndarray, context: int, temperature: float,
             cut: np.ndarray | None = None, silent: bool = False) -> None:
        self.figures = Figures(labels, model, data, context, temperature, cut, silent)
        size = (self.content_size.width, self.content_size.height)
        if not self._drawn.ready or size != self._drawn.size or 0 in size:
            self._drawn.clear()
            self.refresh()
            return
        for region in self._drawn.take(self.build_rows(*size), size, self.rich_style):
            self.refresh(region)  # only the rows that changed are repainted

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn.clear()  # a theme change: the styles baked into the strips are stale
        self._styles = {}

    @property
    def finite(self) -> bool:
        """Are the model's probabilities all finite (false after a diverged run on some CPUs)?"""
        return self.figures is not None and bool(np.isfinite(self.figures.model).all())

    # --- drawing ------------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(f"distribution-chart--{name}")
        return style

    def build_strips(self, width: int, height: int) -> list[Strip]:
        """`height` rows of `width` cells: the title, the bars, the next tokens' letters. When the
        model's probabilities are not finite the title (which says so) is the first row at any height."""
        return [Strip(line).crop_extend(0, width, Style()) for line in self.build_rows(width, height)]

    def build_rows(self, width: int, height: int) -> list[list[Segment]]:
        """build_strips' rows as lists of Segments (not yet cut or padded to the width)."""
        if self.figures is None or width <= 0 or height <= 0:
            return [[Segment(" " * max(width, 0))] for _ in range(max(height, 0))]
        finite = self.finite
        lay = self._lay = layout(self.figures.model, self.figures.data, width)
        title, letters = self._title(width, len(lay.order), finite), self._letters(lay, width)
        if height >= 3:
            lines = [title, *self._bars(lay, height - 2, finite), letters]
        elif not finite:  # the divergence message wins the rows there are
            lines = [title, letters][:height]
        else:  # too low for the title: the bars' one row and the letters
            lines = [*self._bars(lay, 1, finite), letters][-height:]
        self._tokens_at = [None] * (lay.block + lay.axis) + [int(t) for t in lay.order for _ in range(lay.cw)]
        return lines

    def _label(self, token: int) -> str:
        assert self.figures is not None
        return printable(self.figures.labels[token])  # a token from data: never a raw control character

    def _title(self, width: int, shown: int, finite: bool) -> list[Segment]:
        """The context token, the key, what a bar's height means, then the likeliest next tokens: each
        part only if it fits whole. Or, when the model's probabilities are not finite, that."""
        labels, model, _, context, temperature, cut, silent = self.figures  # type: ignore[misc]
        title, error = self._style("title"), self._style("error")
        token = Segment(f" {self._label(context)} ", self._style("context"))
        if not finite:  # said plainly, on the one row that is always there
            if width >= len(DIVERGED) + 8 + token.cell_length:
                return [Segment("after "), token, Segment("  "), Segment(DIVERGED, error)]
            return [Segment(DIVERGED_SHORT, error)]
        line = [Segment("next token after " if width >= 80 else "after ", title), token]
        parts = [[Segment("▮ model", self._style("model")), Segment(f" at T {number(temperature)}")],
                 [Segment("▮ data", self._style("data"))], [Segment(SCALE)]]
        if cut is not None and cut.any():
            parts.insert(2, [Segment(f"{CUT} cut by top-k ({int((~cut).sum())} kept)", self._style("model"))])
        if shown < len(labels):
            parts.append([Segment(f"the {shown} likeliest of {len(labels)}")])
        top = np.argsort(-model, kind="stable")[:5].tolist()
        used = sum(s.cell_length for s in line)
        if silent:  # a flat chart, and why: in place of the likeliest (they are all alike)
            room = width - used - 3
            forms = [f"every hidden unit is 0 after it, so every next token gets 1/{len(labels)}",
                     f"all hidden units 0 here: 1/{len(labels)} each", f"no unit on: 1/{len(labels)} each"]
            said = next((f for f in forms if len(f) <= room), None)
            if said is not None:  # first, so that it is the part that stays
                line += [Segment("   "), Segment(said, self._style("title"))]
                used += 3 + len(said)
        else:
            parts.append([Segment("likeliest:")])
        for part in parts:
            size = 3 + sum(s.cell_length for s in part)
            if used + size <= width:
                line += [Segment("   "), *part]
                used += size
        if line[-1].text == "likeliest:":  # as many of the likeliest as fit, whole
            for i in top:
                more = f" {self._label(i)} {model[i]:.2f} "
                if used + len(more) > width:
                    break
                line.append(Segment(more))
                used += len(more)
            if line[-1].text == "likeliest:":
                line = line[:-2]
        return line

    def _bars(self, lay: Layout, rows: int, finite: bool) -> list[list[Segment]]:
        """`rows` lines of bar characters, top first, on the fixed square-root scale."""
        figures = self.figures
        assert figures is not None
        d = heights(figures.data[lay.order], rows)
        m = heights(figures.model[lay.order], rows) if finite else np.zeros_like(d)
        cw = lay.cw
        gap = 1 if cw >= 3 else 0  # the model's bar, the data's bar, then a gap when there is room
        mw, dw = (cw - gap + 1) // 2, (cw - gap) // 2
        ms, ds = self._style("model"), self._style("data")
        gutter = self._gutter(lay, rows)
        cut = figures.cut[lay.order].tolist() if figures.cut is not None else [False] * len(lay.order)
        # one Segment per block height (made once a redraw): rows then share them, and compare fast
        model_bar = [Segment(ch * mw, ms) for ch in BLOCKS]
        data_bar = [Segment(ch * dw, ds) for ch in BLOCKS]
        cut_bar, space = Segment(CUT * mw, ms), Segment(" " * gap)
        lines = []
        for r in range(rows, 0, -1):
            mi = np.clip(m - (r - 1) * 8, 0, 8).tolist()
            di = np.clip(d - (r - 1) * 8, 0, 8).tolist()
            line = list(gutter[rows - r])
            for a, b, gone in zip(mi, di, cut):
                line += [cut_bar if gone and r == 1 else model_bar[a], data_bar[b], space]
            lines.append(line)
        return lines

    def _gutter(self, lay: Layout, rows: int) -> list[list[Segment]]:
        """The left-hand block beside the bars, top row first: "after" over the context token in
        reverse video, then the axis (a row's label is the probability its top stands for)."""
        figures = self.figures
        assert figures is not None
        block: list[list[Segment]] = [[] for _ in range(rows)]
        if lay.block:
            token = f" {self._label(figures.context)} "[: lay.block - 1]
            block = [[Segment(" " * lay.block)] for _ in range(rows)]
            at = max(rows - 2, 0)  # low in the block, near the letters
            block[at] = [Segment(token, self._style("context")), Segment(" " * (lay.block - len(token)))]
            if at > 0:
                block[at - 1] = [Segment(f"{'after':<{lay.block}}", self._style("title"))]
        if lay.axis:
            labels, axis = axis_rows(rows), self._style("axis")
            for r in range(rows, 0, -1):
                text = f"{labels[r]:>{lay.axis - 1}}┤" if r in labels else " " * (lay.axis - 1) + "│"
                block[rows - r].append(Segment(text, axis))
        return block

    def _letters(self, lay: Layout, width: int) -> list[Segment]:
        """The next tokens' labels under their bars, each whole: a label wider than its columns runs
        into the free columns after the last bars, or the last label moves left into its neighbour's gap."""
        gutter = lay.block + lay.axis
        row = [" "] * max(width, gutter + len(lay.order) * lay.cw)
        free = gutter  # the first column a label may use
        tokens = lay.order.tolist()
        for i, t in enumerate(tokens):
            text, at = self._label(t), gutter + i * lay.cw
            if i < len(tokens) - 1:
                text = text[: lay.cw]
            else:  # the last: into the free columns after it, or moved left as far as its neighbour allows
                if at + len(text) > width:
                    at = max(free, width - len(text))
                text = text[: max(width - at, 0)]
            row[at : at + len(text)] = list(text)
            free = at + len(text) + 1
        text = "".join(row[gutter:width])
        head = f"{'next →':<{gutter}}" if gutter >= 7 else f"{'→':>{gutter - 1}} " if gutter else ""
        return [Segment(head, self._style("title")), Segment(text, self._style("label"))]

    def render_line(self, y: int) -> Strip:
        size = (self.content_size.width, self.content_size.height)
        if not self._drawn.ready or size != self._drawn.size:
            # on the widget's own colours under the bars (a light theme stays light)
            self._drawn.clear()
            self._drawn.take(self.build_rows(*size), size, self.rich_style)
        return self._drawn.line(y)

    # --- the mouse ----------------------------------------------------------------------------------
    def token_at(self, x: int) -> int | None:
        """The token drawn in content column `x` (None: the left-hand block, or past the last bar)."""
        return self._tokens_at[x] if 0 <= x < len(self._tokens_at) else None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        token = None if offset is None else self.token_at(offset.x)
        if token is not None:
            event.stop()
            self.post_message(self.TokenPicked(token))
