"""The loss plot: each step's loss (faint), its moving average, the exact whole-data loss, and the
two reference lines. plotext draws it from at most one point per screen column.

A frame of this widget is the costliest part of the screen, and the screen refreshes ten times a
second while training shares the interpreter with it. So instead of handing plotext's ANSI text to
Rich (Text.from_ansi) and Textual (conversion to strips) every frame, the widget parses it straight
into Strips with a small cached table of styles, and rebuilds only when its data or size changed."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual_plotext import PlotextPlot

from engine import LossHistory

FAINT, EMA, EXACT, GUESS, FLOOR = "gray", "cyan", "orange", "red", "green"
_RUN = re.compile(r"((?:\x1b\[[0-9;]*m)*)([^\x1b]*)")


@lru_cache(maxsize=256)
def _style(codes: str) -> Style:
    """The Rich style of a run of SGR escape codes (plotext uses a handful: cached)."""
    text = Text.from_ansi(codes + "x")
    return Style.combine([text.style if isinstance(text.style, Style) else Style()]
                         + [span.style for span in text.spans if isinstance(span.style, Style)])


def ansi_strips(ansi: str, width: int) -> list[Strip]:
    """plotext's output (full SGR codes before every run, reset after it) as one Strip per line."""
    strips = []
    for line in ansi.split("\n"):
        segments = [Segment(text, _style(codes)) for codes, text in _RUN.findall(line) if text]
        strips.append(Strip(segments).crop_extend(0, width, None))
    return strips


class LossPlot(PlotextPlot):
    """Attributes down: the app calls `show()` with the figures; the widget only draws them."""

    log_y = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._strips: list[Strip] = []
        self._built_for = (0, 0, "")
        self.builds = 0  # plotext redraws so far

    def show(self, history: LossHistory, exact: tuple[list[float], list[float]], random_guess: float,
             floor: float, total_steps: int) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        width = max(self.size.width - 6, 10)  # the plot area: the y-axis labels take about 6 columns
        x, loss, ema = history.downsampled(width)  # one point per column: plotext's cost grows with points
        x = x + 1  # step numbers are 1-based on screen
        legend = self.size.height >= 16  # plotext's legend box would hide a small plot
        plt.title("loss per position (nats)" if legend else
                  "loss (nats): dots one name · cyan moving avg · orange whole data")
        plt.xlabel("step")
        plt.xlim(0, max(total_steps, 1))
        right = max(total_steps, 1)
        plt.hline(random_guess, GUESS)  # thin lines, labelled at their right end: cheaper than plot()
        plt.hline(floor, FLOOR)
        plt.text(f"random guess {random_guess:.3f}", right, random_guess, color=GUESS, alignment="right")
        plt.text(f"bigram floor {floor:.3f}", right, floor, color=FLOOR, alignment="right")
        if len(x):
            finite = np.isfinite(loss)
            plt.scatter(x[finite].tolist(), loss[finite].tolist(), marker="dot", color=FAINT,
                        label="one name's loss" if legend else None)
            plt.plot(x.tolist(), ema.tolist(), color=EMA,
                     label=f"moving average (EMA, α={history.alpha})" if legend else None)
        if exact[0]:
            every = max(1, len(exact[0]) // (width // 2))
            plt.plot(exact[0][::every] + exact[0][-1:], exact[1][::every] + exact[1][-1:], color=EXACT,
                     marker="hd", label="whole-data loss" if legend else None)
        plt.yscale("log" if self.log_y else "linear")
        self._strips = []
        self.refresh()

    def build_strips(self) -> list[Strip]:
        """Have plotext draw the figure at the widget's size, as strips."""
        w, h = max(self.size.width, 1), max(self.size.height, 1)
        self.plt.plotsize(w, h)
        self.plt._set_size(w, h)  # as PlotextPlot.render does (textual-plotext issue 5)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        self.builds += 1
        return ansi_strips(self.plt.build(), w)

    def render_line(self, y: int) -> Strip:
        key = (self.size.width, self.size.height, self.app.theme)
        if not self._strips or key != self._built_for:
            self._strips, self._built_for = self.build_strips(), key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)
