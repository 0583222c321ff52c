"""The colours of the plot's extra lines (kept runs, race variants): each such line carries a colour
index, and the index names the same colour in the plot, the line's label and the runs view. The
colours themselves are app.tcss's `$line-0` .. `$line-7` (used by `.loss-plot--line-N` and
`.view--line-N`), chosen apart from the current run's lines and readable on dark and light themes."""

from __future__ import annotations

LINE_COLOURS = 8
LINE_STYLES = tuple(f"line-{i}" for i in range(LINE_COLOURS))


def line_style(colour: int) -> str:
    """The style name of colour index `colour` (any int: they repeat after LINE_COLOURS)."""
    return LINE_STYLES[colour % LINE_COLOURS]


def run_colour(run_id: int) -> int:
    """A kept run's colour index: by its id (ids are never reused in a session), so a run keeps its
    colour while others come and go."""
    return (run_id - 1) % LINE_COLOURS
