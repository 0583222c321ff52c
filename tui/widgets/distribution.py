"""The next-token chart: after the picked (context) token, the model's probability of each next token
at the current temperature (left bar of a pair) beside how often the data itself continues that way
(right bar): what the model is trying to learn. Vertical bars, one column group per next token.

The bars are scaled to the DATA alone (its likeliest next token fills the height), so the data's bars
never move when only the temperature changes; a model bar taller than that is capped with a mark and
its value is printed above it. A click on a bar or its letter posts `TokenPicked`: the app makes that
token the context, so a learner can walk a name letter by letter.

Drawn with Textual's line API (a Strip of Segments per row), rebuilt only when the figures, the size
or the theme change: it is redrawn several times a second while training runs."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from engine.printable import printable

BLOCKS = " ▁▂▃▄▅▆▇█"
CAP = "▲"  # the top of a model bar that is taller than the chart
CUT = "×"  # under a next token that top-k sampling cuts (its model bar is 0)
GUTTER = 7  # the left-hand block: "after" over the context token, "next →" beside the letters
MIN_COLUMNS, MAX_COLUMNS = 3, 9  # columns per token: a pair of bars and a gap
DIVERGED = "the model's probabilities are not finite: the run diverged"
DIVERGED_SHORT = "probabilities not finite: diverged"  # for a narrow chart


class Figures(NamedTuple):
    labels: list[str]  # a visible label per token
    model: np.ndarray  # the model's next-token probabilities (V,)
    data: np.ndarray  # the data's next-token frequencies (V,)
    context: int  # the picked token
    temperature: float
    cut: np.ndarray | None = None  # (V,) True for the next tokens top-k cuts (None: top-k is off)


def number(x: float) -> str:
    """A figure in at most 8 characters, whatever its size (scientific notation for huge or tiny ones)."""
    if not np.isfinite(x):
        return str(x)
    if x == 0 or 0.01 <= abs(x) < 10_000:
        return f"{x:.2f}"
    return f"{x:.1e}"


def probability(p: float, width: int) -> str:
    """A probability in at most `width` (>= 3) characters: 0.42, .42, 1.0."""
    text = f"{p:.2f}"
    if len(text) <= width:
        return text
    return "1.0" if text.startswith("1") else text[1:]


def visible_tokens(model: np.ndarray, data: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """The tokens that fit in `width` and the columns each gets: all of them, wider as the width
    allows; or, when even 3 columns each do not fit, the most likely ones in vocabulary order."""
    fit = max(1, width // MIN_COLUMNS)
    if len(model) <= fit:
        return np.arange(len(model)), int(min(MAX_COLUMNS, width // max(len(model), 1)))
    likely = np.maximum(np.nan_to_num(model, nan=0.0), data)
    return np.sort(np.argsort(-likely, kind="stable")[:fit]), MIN_COLUMNS


class DistributionChart(Widget):
    """Attributes down: `show()` stores the figures; the rows are built at the widget's size.
    Message up: `TokenPicked(token)` when a bar or its letter is clicked."""

    COMPONENT_CLASSES = {
        "distribution-chart--title",
        "distribution-chart--context",
        "distribution-chart--model",
        "distribution-chart--data",
        "distribution-chart--label",
        "distribution-chart--error",
    }

    class TokenPicked(Message):
        """A bar or its letter was clicked: make `token` the context."""

        def __init__(self, token: int) -> None:
            super().__init__()
            self.token = token

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._gw = GUTTER  # the left-hand block's width as last drawn (0 when narrow)
        self.figures: Figures | None = None
        self._strips: list[Strip] = []
        self._built_for: tuple[int, int] = (0, 0)
        self._tokens_at: list[int | None] = []  # the token drawn in each column (None: gutter, gaps)

    def show(self, labels: list[str], model: np.ndarray, data: np.ndarray, context: int, temperature: float,
             cut: np.ndarray | None = None) -> None:
        self.figures = Figures(labels, model, data, context, temperature, cut)
        self._strips = []
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = []  # a theme change: the styles baked into the strips are stale

    # --- drawing ------------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"distribution-chart--{name}")

    def build_strips(self, width: int, height: int) -> list[Strip]:
        """`height` rows of `width` cells: title, capped values, bars, the next tokens' letters."""
        if self.figures is None or width <= 0 or height <= 0:
            return [Strip.blank(width) for _ in range(max(height, 0))]
        model, data = self.figures.model, self.figures.data
        finite = bool(np.isfinite(model).all())
        order, cw = visible_tokens(model, data, max(width - GUTTER, 1))
        self._gw = GUTTER
        if len(order) < len(model):  # rather every token without the left-hand block than some with it
            for columns in (MIN_COLUMNS, 2):
                if columns * len(model) - 1 <= width:  # the last token needs no gap after it
                    self._gw, order, cw = 0, np.arange(len(model)), columns
                    break
        title, value_row = self._title(width, len(order), finite), height >= 5
        rows = max(height - 2 - value_row, 1)
        lines = self._bars(order, cw, rows, finite)
        if value_row:
            lines.insert(0, self._values(order, cw, rows, finite))
        lines.insert(0, title)
        lines.append(self._letters(order, cw))
        if height < 3:  # too low for everything: the bars' bottom row and the letters
            lines = lines[-height:]
        self._tokens_at = [None] * self._gw + [int(t) for t in order for _ in range(cw)]
        return [Strip(line).crop_extend(0, width, Style()) for line in lines[:height]]

    def _label(self, token: int) -> str:
        assert self.figures is not None
        return printable(self.figures.labels[token])  # a token from data: never a raw control character

    def _title(self, width: int, shown: int, finite: bool) -> list[Segment]:
        labels, model, _, context, temperature, cut = self.figures  # type: ignore[misc]
        title, error = self._style("title"), self._style("error")
        token = Segment(f" {self._label(context)} ", self._style("context"))
        if not finite:  # said plainly, on the one row that is always there
            if width >= len(DIVERGED) + 12:
                return [Segment("after "), token, Segment("  "), Segment(DIVERGED, error)]
            return [Segment(DIVERGED_SHORT, error)]
        line = [Segment("next token after " if width >= 60 else "after ", title), token, Segment("   "),
                Segment("▮ model", self._style("model")), Segment(f" at T {number(temperature)}  "),
                Segment("▮ data", self._style("data"))]
        if cut is not None and cut.any():
            line.append(Segment(f"   {CUT} cut by top-k ({int((~cut).sum())} kept)", self._style("model")))
        if shown < len(labels):
            line.append(Segment(f"   the {shown} likeliest of {len(labels)}"))
        top = np.argsort(-model, kind="stable")[:5]
        line.append(Segment("   likeliest: " + "  ".join(f"{self._label(i)} {model[i]:.2f}" for i in top)))
        return line

    def _values(self, order: np.ndarray, cw: int, rows: int, finite: bool) -> list[Segment]:
        """The row above the bars: each capped model bar's value over its column, or the divergence."""
        figures = self.figures
        assert figures is not None
        capped = self._heights(order, rows, finite)[2].tolist()
        row = [" "] * (len(order) * cw)
        free = 0  # the first column a value may start at: neighbouring values never run together
        for i, (t, cap) in enumerate(zip(order.tolist(), capped)):
            if cap and i * cw >= free:
                text = probability(float(figures.model[t]), max(cw - 1, 3))
                row[i * cw : i * cw + len(text)] = list(text)
                free = i * cw + len(text) + 1
        return [Segment(" " * self._gw), Segment("".join(row[: len(order) * cw]), self._style("model"))]

    def _heights(self, order: np.ndarray, rows: int, finite: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The model's and the data's bar heights in eighths of a row, and which model bars are capped."""
        figures = self.figures
        assert figures is not None
        top = _scale(figures.data)
        d = np.rint(figures.data[order] / top * rows * 8).astype(int)
        m = np.rint(figures.model[order] / top * rows * 8).astype(int) if finite else np.zeros_like(d)
        return m, d, m > rows * 8

    def _bars(self, order: np.ndarray, cw: int, rows: int, finite: bool) -> list[list[Segment]]:
        """`rows` lines of bar characters, top first; the data's largest fills the height."""
        m, d, capped_ = self._heights(order, rows, finite)
        capped = capped_.tolist()
        gap = 1 if cw >= 3 else 0  # the model's bar, the data's bar, then a gap when there is room
        mw, dw = (cw - gap + 1) // 2, (cw - gap) // 2
        ms, ds = self._style("model"), self._style("data")
        cut = self.figures.cut[order].tolist() if self.figures.cut is not None else [False] * len(order)
        gutter = self._gutter(rows)
        lines = []
        for r in range(rows, 0, -1):
            mi = np.clip(m - (r - 1) * 8, 0, 8).tolist()
            di = np.clip(d - (r - 1) * 8, 0, 8).tolist()
            line = list(gutter[rows - r])
            for a, b, cap, gone in zip(mi, di, capped, cut):
                bar = CAP if cap and r == rows else CUT if gone and r == 1 else BLOCKS[a]
                line += [Segment(bar * mw, ms), Segment(BLOCKS[b] * dw, ds), Segment(" " * gap)]
            lines.append(line)
        return lines

    def _gutter(self, rows: int) -> list[list[Segment]]:
        """The left-hand block beside the bars: "after" over the context token in reverse video."""
        figures = self.figures
        assert figures is not None
        token = f" {self._label(figures.context)} "[: GUTTER - 1]
        if not self._gw:
            return [[] for _ in range(rows)]
        block = [[Segment(" " * GUTTER)] for _ in range(rows)]
        at = max(rows - 2, 0)  # low in the block, near the letters
        block[at] = [Segment(token, self._style("context")), Segment(" " * (GUTTER - len(token)))]
        if at > 0:
            block[at - 1] = [Segment(f"{'after':<{GUTTER}}", self._style("title"))]
        return block

    def _letters(self, order: np.ndarray, cw: int) -> list[Segment]:
        figures = self.figures
        assert figures is not None
        label = self._style("label")
        return [Segment(f"{'next →':<{self._gw}}"[: self._gw], self._style("title"))] + [
            Segment(f"{self._label(t)[:cw]:<{cw}}", label) for t in order
        ]

    def render_line(self, y: int) -> Strip:
        size = (self.content_size.width, self.content_size.height)
        if not self._strips or size != self._built_for:
            base = self.rich_style  # the widget's own colours under the bars (a light theme stays light)
            self._strips, self._built_for = [s.apply_style(base) for s in self.build_strips(*size)], size
        return self._strips[y] if y < len(self._strips) else Strip.blank(size[0])

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


def _scale(data: np.ndarray) -> float:
    """The probability that fills the chart's height: the data's largest (never the model's)."""
    top = float(data.max()) if len(data) else 0.0
    return top if top > 0 else 1.0
