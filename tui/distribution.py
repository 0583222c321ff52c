"""The next-token chart: after the picked token, the model's probability of each next token at the
current temperature (left bar of a pair) beside how often the data itself continues that way
(right bar): what the model is trying to learn. Vertical bars, one pair of columns per token.

Drawn with Textual's line API (a Strip of Segments per row), rebuilt only when the figures or the
size change: it is redrawn several times a second while training runs."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"
MODEL, DATA = Style(color="cyan", bold=True), Style(color="green", dim=True)
BOLD, PLAIN = Style(bold=True), Style()


def visible_tokens(model: np.ndarray, data: np.ndarray, width: int) -> np.ndarray:
    """The tokens that fit, 3 columns each: all of them, or the most likely ones in vocabulary order."""
    fit = max(1, width // 3)
    if len(model) <= fit:
        return np.arange(len(model))
    return np.sort(np.argsort(-np.maximum(model, data), kind="stable")[:fit])


def bar_rows(model: np.ndarray, data: np.ndarray, order: np.ndarray, rows: int) -> list[list[Segment]]:
    """`rows` lines of bar characters, top first, scaled so the tallest bar fills the height."""
    top = max(float(model[order].max()), float(data[order].max()), 1e-12)
    m = np.rint(model[order] / top * rows * 8).astype(int)  # bar heights in eighths of a row
    d = np.rint(data[order] / top * rows * 8).astype(int)
    lines = []
    for r in range(rows, 0, -1):
        mi = np.clip(m - (r - 1) * 8, 0, 8).tolist()
        di = np.clip(d - (r - 1) * 8, 0, 8).tolist()
        line: list[Segment] = []
        for a, b in zip(mi, di):
            line += [Segment(BLOCKS[a], MODEL), Segment(BLOCKS[b], DATA), Segment(" ")]
        lines.append(line)
    return lines


class DistributionChart(Widget):
    """Attributes down: `show()` stores the figures; the rows are built at the widget's size."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._figures: tuple[str, list[str], np.ndarray, np.ndarray] | None = None
        self._strips: list[Strip] = []
        self._built_for: tuple[int, int] = (0, 0)

    def show(self, title: str, labels: list[str], model: np.ndarray, data: np.ndarray) -> None:
        if not np.isfinite(model).all():  # a model whose logits overflowed (a diverged run)
            model, title = np.nan_to_num(model, nan=0.0, posinf=0.0, neginf=0.0), title + " (not finite)"
        self._figures = (title, labels, model, data)
        self._strips = []
        self.refresh()

    def build_strips(self, width: int, height: int) -> list[Strip]:
        if self._figures is None:
            return []
        title, labels, model, data = self._figures
        top5 = np.argsort(-model, kind="stable")[:5]
        likely = "  ".join(f"{labels[i]} {model[i]:.2f}" for i in top5)
        order = visible_tokens(model, data, width)
        shown = "" if len(order) == len(labels) else f" (the {len(order)} likeliest of {len(labels)})"
        head = [
            [Segment(title + shown, BOLD)],
            [Segment("model ▮", MODEL), Segment(" "), Segment("data ▮", DATA), Segment(f"   most likely: {likely}")],
        ]
        feet = [[Segment("".join(f"{labels[i][:3]:<3}" for i in order), BOLD)]]
        lines = head + bar_rows(model, data, order, max(height - 3, 1)) + feet
        return [Strip(line).crop_extend(0, width, PLAIN) for line in lines[:height]]

    def render_line(self, y: int) -> Strip:
        size = (self.content_size.width, self.content_size.height)
        if not self._strips or size != self._built_for:
            self._strips, self._built_for = self.build_strips(*size), size
        return self._strips[y] if y < len(self._strips) else Strip.blank(size[0])
