"""The status line: what the run is doing (its figures), then one line that says which run it is
(its data, learning rate, sizes, seed, steps and parameter count).

The figures are packed into the lines the layout reserved, wrapping only between items, never inside
one; what does not fit gives way, least needed first (elapsed, ETA, steps/s). The run's line is always
the last. Built from Text, never markup: nothing shown here is parsed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.text import Text

from tui.plumbing import wording
from tui.widgets.text_rows import TextRows

SEPARATOR = " │ "


def rate(value: float) -> str:
    return f"{value:,.0f}" if value < 1e7 else f"{value:.2e}"


def clock(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds >= 360_000:
        return "--:--"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def pack(items: list[str], width: int) -> list[str]:
    """Items joined by the separator, a new line started only between two items."""
    lines: list[str] = []
    for item in items:
        item = item if len(item) <= width else item[: max(width - 1, 0)] + "…"
        if lines and len(lines[-1]) + len(SEPARATOR) + len(item) <= width:
            lines[-1] += SEPARATOR + item
        else:
            lines.append(item)
    return lines


@dataclass(frozen=True)
class StatusFigures:
    state: str  # idle, running, paused, finished, diverged
    step: int  # steps taken
    total: int  # the run's steps
    ema: float  # the moving average
    exact: float  # the whole-data loss
    rate_now: float  # steps per second
    elapsed: float  # seconds spent running
    heldout: float | None = None  # the held-out loss (None: nothing held out)
    diverged_at: int | None = None  # the 1-based step whose loss was not finite


def essential_items(f: StatusFigures, short: bool = False) -> list[str]:
    """The figures that are always shown: the state and step, the two losses. `short`: their names as the
    plot's key and the race board shorten them, for a line that would otherwise take two rows (80 columns
    and a run of 100,000 steps or more: the plot gave the status a row)."""
    if f.diverged_at is not None:  # one item: "diverged at step 23/1,000", never beside "step 22/1,000"
        head = [f"diverged at step {wording.step_of(f.diverged_at, f.total)}"]
    else:
        head = [f.state, f"step {wording.step_of(f.step, f.total)}"]
    if short:
        average, whole, held = "moving avg", "whole-data" if f.heldout is None else "whole-data (training)", \
            "held-out"
    else:
        average, whole, held = wording.MOVING_AVERAGE, "whole-data loss" if f.heldout is None else \
            "whole-data loss (training names)", "held-out loss"
    return [*head, f"{average} {wording.average(f.ema)}", f"{whole} {wording.loss(f.exact)}",
            *([f"{held} {wording.loss(f.heldout)}"] if f.heldout is not None else [])]


def optional_items(f: StatusFigures) -> list[tuple[str, str]]:
    """(item, its kind) in the order shown; shown only where they fit."""
    eta = math.ceil((f.total - f.step) / f.rate_now) if f.rate_now > 0 else math.inf  # 0:00 only at the end
    # running, before its first second was measured: no rate yet, not 0 (paused or idle it is 0)
    speed = "--" if f.state == "running" and f.rate_now <= 0 else rate(f.rate_now)
    return [("rate", f"{speed} steps/s"), ("elapsed", f"elapsed {clock(f.elapsed)}"),
            ("eta", f"ETA {clock(eta) if f.state == 'running' else '--:--'}")]


GIVE_WAY = ("elapsed", "eta", "rate")  # what goes first when the figures need more lines than reserved
SHORT_BELOW = 100  # columns: narrower, the losses are named short rather than take a second line (a plot row)


def figure_lines(f: StatusFigures, width: int, rows: int) -> list[str]:
    """The figures packed into at most `rows` lines of `width`: optional items give way first; if the
    essential ones would need more at their widest in this run (its last step, its widest losses), they are
    named shorter (essential_items) in every frame of it, so that the words do not change from one step to
    the next; if they still need more, the last line is cut with an ellipsis."""
    widest = worst_case(f.total, f.heldout is not None)
    short = width < SHORT_BELOW and len(pack(essential_items(widest), width)) > rows
    essential = essential_items(f, short)
    optional = optional_items(f)
    lines = pack(essential + [item for _, item in optional], width)
    for kind in GIVE_WAY:
        if len(lines) <= rows:
            break
        optional = [(k, item) for k, item in optional if k != kind]
        lines = pack(essential + [item for _, item in optional], width)
    if len(lines) > rows:
        rest = SEPARATOR.join(lines[rows - 1 :])
        lines = lines[: rows - 1] + [rest if len(rest) <= width else rest[: width - 1] + "…"]
    return lines


def worst_case(total: int, heldout: bool) -> StatusFigures:
    """The widest figures a run of `total` steps can show (the layout reserves room for them)."""
    return StatusFigures("finished", total, total, 999.0, 999.0, 0.0, 0.0, 999.0 if heldout else None, total)


class StatusLine(TextRows):
    """Redrawn every frame; asks for a (costly, whole-screen) layout only when its line count changes."""

    @staticmethod
    def rows_at(width: int, total: int = 1000, heldout: bool = False) -> int:
        """Lines the status needs at a terminal width for a run of `total` steps: the essential figures
        at their widest, named short where that saves a line, then the run's line. The layout reserves them
        once per run, so that the plot never changes height while training runs."""
        return len(pack(essential_items(worst_case(total, heldout), short=width - 2 < SHORT_BELOW),
                        max(width - 2, 20))) + 1

    def show(self, figures: StatusFigures, run: str) -> None:
        """`run`: the run's line (wording.run_line), drawn last, dimmed."""
        screen_width = self.app.size.width  # before the first layout the widget has no size yet
        width = max(self.content_size.width or screen_width - 2, 20)
        rows = max(self.content_size.height or self.rows_at(screen_width, figures.total), 2)
        lines = figure_lines(figures, width, rows - 1)
        run = run if len(run) <= width else run[: width - 1] + "…"
        text = Text("\n".join(lines))
        first = lines[0].split(SEPARATOR)[0] if lines else ""
        text.stylize("bold red" if figures.diverged_at is not None else "bold", 0, len(first))
        text.append("\n" + run, style="dim")
        if text != self._text:
            self.update(text)
