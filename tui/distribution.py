"""The next-token chart: after the picked token, the model's probability of each next token at the
current temperature (left bar of a pair) beside how often the data itself continues that way
(right bar): what the model is trying to learn. Vertical bars, one pair of columns per token."""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

BLOCKS = " ▁▂▃▄▅▆▇█"
MODEL_STYLE, DATA_STYLE = "bold cyan", "dim green"


def bar_chart(labels: list[str], model: np.ndarray, data: np.ndarray, width: int, height: int) -> Text:
    """Bars for as many tokens as fit in `width` (the most likely ones, in vocabulary order)."""
    fit = max(1, width // 3)
    order = np.arange(len(labels))
    if len(labels) > fit:
        order = np.sort(np.argsort(-np.maximum(model, data), kind="stable")[:fit])
    top = max(float(model[order].max()), float(data[order].max()), 1e-12)
    rows = max(height - 1, 1)
    text = Text(no_wrap=True, overflow="crop")
    for r in range(rows, 0, -1):  # top row first
        for i in order:
            for value, style in ((model[i], MODEL_STYLE), (data[i], DATA_STYLE)):
                eighths = int(round(value / top * rows * 8)) - (r - 1) * 8
                text.append(BLOCKS[min(max(eighths, 0), 8)], style)
            text.append(" ")
        text.append("\n")
    for i in order:
        text.append(f"{labels[i][:3]:<3}", "bold")
    return text


class DistributionChart(Widget):
    """Attributes down: `show()` stores the figures; `render()` draws them at the widget's size."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._figures: tuple[str, list[str], np.ndarray, np.ndarray] | None = None

    def show(self, title: str, labels: list[str], model: np.ndarray, data: np.ndarray) -> None:
        self._figures = (title, labels, model, data)
        self.refresh()

    def render(self) -> Text:
        if self._figures is None:
            return Text("")
        title, labels, model, data = self._figures
        top = np.argsort(-model, kind="stable")[:5]
        likely = "  ".join(f"{labels[i]} {model[i]:.2f}" for i in top)
        head = Text.assemble((title, "bold"), "\n", ("model ▮", MODEL_STYLE), " ", ("data ▮", DATA_STYLE),
                             f"   most likely: {likely}\n", no_wrap=True, overflow="ellipsis")
        width, height = max(self.content_size.width, 3), max(self.content_size.height - 2, 2)
        return head + bar_chart(labels, model, data, width, height)
