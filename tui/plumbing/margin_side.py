"""The rule for a line's label in a plot's right margin beside the reference lines (the bigram floor, the
random guess), shared by the terminal plot (tui/plumbing/plot_render.py, in rows) and the exported
picture (tui/plumbing/plot_svg.py, in pixels): a label stays on the side of each reference line that its
line ends on, so it never reads as having ended across the floor (QA: a variant that ended above the
floor was labelled under the floor's label)."""

from __future__ import annotations

from collections.abc import Iterable


def on_its_side(first: float, last: float, end: float, refs: Iterable[float]) -> bool:
    """Does a label spanning `first`..`last` down the margin (first <= last) lie wholly on the side of every
    reference line (its position in `refs`) that its line ends on (`end`)? Positions grow downwards (rows,
    pixels) in one unit; a line ending exactly on a reference line may be labelled on either side."""
    return all(last < ref if end < ref else first > ref if end > ref else True for ref in refs)
