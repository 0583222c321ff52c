"""A line widget's rows as last drawn, so that a new frame repaints only the rows that changed.

While training runs flat out the plot and the next-token chart get new figures ten times a second,
yet most of their rows come out the same (an empty top of the chart, the axes, the plot's frame).
Repainting a whole widget makes Textual's compositor render, filter and style every row again on the
screen's thread, the same thread-time the training worker needs (they share the GIL). `DrawnRows`
keeps each row's segments and its Strip: a row built the same as before keeps its Strip and is not
marked dirty; only the rows that differ are handed back, for `Widget.refresh(Region(...))`. A row handed in
as the very list object kept from the last frame (a view that caches its rows) is not even compared, and
a changed row's Strip is made in one pass (its segments on the base style, padded to the width) rather
than through three intermediate Strips."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip


class DrawnRows:
    """The rows last drawn at one size and base style (the widget's own colours under them)."""

    def __init__(self) -> None:
        self.rows: list[list[Segment]] = []
        self.strips: list[Strip] = []
        self.size: tuple[int, int] = (0, 0)
        self.base: Style | None = None

    def clear(self) -> None:
        """Forget the rows (a new size or theme): the next `take` redraws every row."""
        self.rows, self.strips, self.size, self.base = [], [], (0, 0), None

    @property
    def ready(self) -> bool:
        return bool(self.strips)

    def take(self, rows: Sequence[list[Segment]], size: tuple[int, int], base: Style) -> list[Region]:
        """Keep `rows` (each cut or padded to the width, on `base`) and return the regions that changed:
        every row's if the size or the base style is not the one last drawn, else only the rows whose
        segments differ from the last ones (merged into runs of adjacent rows)."""
        width = size[0]
        same = size == self.size and base == self.base and len(rows) == len(self.rows)
        if not same:
            self.rows = list(rows)  # kept as given: a caller never changes a row it handed in
            self.strips = [self.strip(r, width, base) for r in self.rows]
            self.size, self.base = size, base
            return [Region(0, 0, width, max(len(rows), size[1]))]
        changed: list[int] = []
        kept = self.rows
        for y, row in enumerate(rows):
            old = kept[y]
            if row is not old and row != old:
                kept[y] = row
                self.strips[y] = self.strip(row, width, base)
                changed.append(y)
        regions: list[Region] = []
        for y in changed:
            last = regions[-1] if regions else None
            if last is not None and last.y + last.height == y:
                regions[-1] = Region(0, last.y, width, last.height + 1)
            else:
                regions.append(Region(0, y, width, 1))
        return regions

    @staticmethod
    def strip(row: list[Segment], width: int, base: Style) -> Strip:
        """`Strip(row).crop_extend(0, width, Style()).apply_style(base)`, the same segments, in one pass
        when the row is not wider than `width` (the cut of a wider row is left to Strip.crop)."""
        length = sum(cell_len(seg.text) for seg in row if not seg.control)
        if length > width:
            return Strip(row).crop_extend(0, width, Style()).apply_style(base)
        if not base:  # a null style changes nothing (Strip.apply_style's own rule)
            out = list(row)
            if length < width:
                out.append(Segment(" " * (width - length), Style()))
            return Strip(out, width)
        add = base.__add__
        out = [Segment(text, None if control else add(style), control) for text, style, control in row]
        if length < width:
            out.append(Segment(" " * (width - length), add(Style())))
        return Strip(out, width)

    def line(self, y: int, blank: Style | None = None) -> Strip:
        """Row `y` as drawn; below the last row a blank one (in `blank`'s colours)."""
        return self.strips[y] if 0 <= y < len(self.strips) else Strip.blank(self.size[0], blank)
