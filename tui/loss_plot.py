"""The loss plot: each step's loss (faint), its moving average, the exact whole-data loss, and the
two reference lines, drawn by plotext from at most about two points per screen column."""

from __future__ import annotations

import numpy as np
from textual_plotext import PlotextPlot

from engine import LossHistory

FAINT, EMA, EXACT, GUESS, FLOOR = "gray", "cyan", "orange", "red", "green"


class LossPlot(PlotextPlot):
    """Attributes down: the app calls `show()` with the figures; the widget only draws them."""

    log_y = False

    def show(self, history: LossHistory, exact: tuple[list[float], list[float]], random_guess: float,
             floor: float, total_steps: int) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        width = max(self.size.width, 20)
        x, loss, ema = history.downsampled(2 * width)
        x = x + 1  # step numbers are 1-based on screen
        plt.title("loss per position (nats)")
        plt.xlabel("step")
        plt.xlim(0, max(total_steps, 1))
        end = [0, max(total_steps, 1)]
        plt.plot(end, [random_guess] * 2, color=GUESS, label=f"random guess ln V = {random_guess:.3f}")
        plt.plot(end, [floor] * 2, color=FLOOR, label=f"bigram floor {floor:.3f}")
        if len(x):
            finite = np.isfinite(loss)
            plt.scatter(x[finite].tolist(), loss[finite].tolist(), marker="dot", color=FAINT,
                        label="one name's loss")
            plt.plot(x.tolist(), ema.tolist(), color=EMA, label=f"moving average (EMA, α={history.alpha})")
        if exact[0]:
            plt.plot(exact[0], exact[1], color=EXACT, marker="hd", label="whole-data loss")
        plt.yscale("log" if self.log_y else "linear")
        self.refresh()
