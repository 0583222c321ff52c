"""The colours of the plot's extra lines (kept runs, race variants): each such line carries a colour
index, and the index names the same colour in the plot, the line's label and the runs view. The
colours themselves are LINE_HEX, written out as app.tcss's `$line-0` .. `$line-7` (used by
`.loss-plot--line-N` and `.view--line-N`; a test checks the two agree) and drawn by the exported
picture (plot_svg.py): hues apart from the current run's lines, readable on dark and light.

While a race is on, its variants have those colours (variant k the k-th) and every kept run is one grey,
KEPT_IN_RACE (`$line-kept`): by id a kept run would share a variant's colour (in a race after a race,
'#2 seed 2' and '2 constant schedule' did), and there are only eight."""

from __future__ import annotations

LINE_HEX = ("#2aa198", "#d33682", "#b58900", "#6c71c4", "#859900", "#a0522d", "#c08060", "#93a1a1")
LINE_COLOURS = len(LINE_HEX)
KEPT_IN_RACE = -1  # the colour index of a kept run while a race is on
KEPT_IN_RACE_HEX = "#586e75"  # a grey darker than line-7's, apart from every variant's hue
LINE_STYLES = (*(f"line-{i}" for i in range(LINE_COLOURS)), "line-kept")


def line_style(colour: int) -> str:
    """The style name of colour index `colour` (any int: they repeat after LINE_COLOURS; KEPT_IN_RACE)."""
    return "line-kept" if colour == KEPT_IN_RACE else LINE_STYLES[colour % LINE_COLOURS]


def line_hex(colour: int) -> str:
    """The colour of index `colour` as the exported picture draws it."""
    return KEPT_IN_RACE_HEX if colour == KEPT_IN_RACE else LINE_HEX[colour % LINE_COLOURS]


def run_colour(run_id: int) -> int:
    """A kept run's colour index: by its id (ids are never reused in a session), so a run keeps its
    colour while others come and go."""
    return (run_id - 1) % LINE_COLOURS


def kept_colour(run_id: int, racing: bool) -> int:
    """A kept run's colour index on the plot, in the runs view and in an export: its own (run_colour), or
    KEPT_IN_RACE while a race is on."""
    return KEPT_IN_RACE if racing else run_colour(run_id)


def colour_of(number: int) -> int:
    """The colour index of race variant `number` (1..K): on the plot, its label, the board, an export."""
    return number - 1
