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
        self._figures: tuple[LossHistory, tuple[list[float], list[float]], float, float, int] | None = None
        self.builds = 0  # plotext redraws so far

    def show(self, history: LossHistory, exact: tuple[list[float], list[float]], random_guess: float,
             floor: float, total_steps: int) -> None:
        """Take the figures to draw; the drawing itself waits for the widget's size."""
        self._figures = (history, exact, random_guess, floor, total_steps)
        self._strips = []
        self.refresh()

    def _draw(self, w: int, h: int) -> None:
        """The plotext calls for a w x h plot (the title, the legend and the point count depend on it)."""
        history, exact, random_guess, floor, total_steps = self._figures
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        width = max(w - 6, 10)  # the plot area: the y-axis labels take about 6 columns
        x, loss, ema = history.downsampled(width)  # one point per column: plotext's cost grows with points
        x = x + 1  # step numbers are 1-based on screen
        legend = h >= 16  # plotext's legend box would hide a small plot
        title = ("loss per position (nats)" if legend
                 else "loss (nats): dots one name · cyan moving avg · orange whole data")
        plt.title(title if len(title) <= w - 2 else "loss (nats)")  # a longer title would wrap
        plt.xlabel("step")
        right = max(total_steps, 1)
        plt.xlim(0, right)
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
        if len(exact[0]) >= 2:  # plotext mis-draws a one-point line (an IndexError in a log plot)
            every = max(1, len(exact[0]) // (width // 2))
            xs, ys = exact[0][::every], exact[1][::every]
            if xs[-1] != exact[0][-1]:
                xs, ys = xs + exact[0][-1:], ys + exact[1][-1:]
            plt.plot(xs, ys, color=EXACT, marker="hd", label="whole-data loss" if legend else None)
        plt.yscale("log" if self.log_y else "linear")

    def build_strips(self, width: int | None = None, height: int | None = None) -> list[Strip]:
        """Have plotext draw the figure at the widget's size (or the one given), as strips."""
        w, h = max(width or self.size.width, 1), max(height or self.size.height, 1)
        if self._figures is None:
            return [Strip.blank(w)] * h
        self.builds += 1
        try:
            self._draw(w, h)
            self.plt.plotsize(w, h)
            self.plt._set_size(w, h)  # as PlotextPlot.render does (textual-plotext issue 5)
            self.plt.theme(self._get_plotext_theme_name(self.app.theme))
            return ansi_strips(self.plt.build(), w)[:h]
        except Exception as exc:  # plotext has corner cases; a plot glitch must not end the app
            self.log.error(f"plotext could not draw the loss plot at {w}x{h}: {exc!r}")
            return [Strip([Segment(f"(the loss plot cannot be drawn at {w}x{h})")]).crop_extend(0, w, None)]

    def render_line(self, y: int) -> Strip:
        key = (self.size.width, self.size.height, self.app.theme)
        if not self._strips or key != self._built_for:
            self._strips, self._built_for = self.build_strips(), key
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)
