"""The colours of the plot's extra lines (kept runs, race variants): each such line carries a colour
index, and the index names the same colour in the plot, the line's label and the runs view. The
colours themselves are LINE_HEX, written out as app.tcss's `$line-0` .. `$line-7` (used by
`.loss-plot--line-N` and `.view--line-N`; a test checks the two agree) and drawn by the exported
picture (plot_svg.py): hues apart from the current run's lines, readable on dark and light."""

from __future__ import annotations

LINE_HEX = ("#2aa198", "#d33682", "#b58900", "#6c71c4", "#859900", "#a0522d", "#c08060", "#93a1a1")
LINE_COLOURS = len(LINE_HEX)
LINE_STYLES = tuple(f"line-{i}" for i in range(LINE_COLOURS))


def line_style(colour: int) -> str:
    """The style name of colour index `colour` (any int: they repeat after LINE_COLOURS)."""
    return LINE_STYLES[colour % LINE_COLOURS]


def run_colour(run_id: int) -> int:
    """A kept run's colour index: by its id (ids are never reused in a session), so a run keeps its
    colour while others come and go."""
    return (run_id - 1) % LINE_COLOURS
