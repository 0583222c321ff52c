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
        self._on_base: dict[Style | None, Style] = {}  # a segment's style -> it on the base style

    def clear(self) -> None:
        """Forget the rows (a new size or theme): the next `take` redraws every row."""
        self.rows, self.strips, self.size, self.base = [], [], (0, 0), None
        self._on_base = {}

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
            if base != self.base:
                self._on_base = {}
            self.rows = list(rows)  # kept as given: a caller never changes a row it handed in
            self.strips = [self.strip(r, width, base, self._on_base) for r in self.rows]
            self.size, self.base = size, base
            return [Region(0, 0, width, max(len(rows), size[1]))]
        changed: list[int] = []
        kept = self.rows
        for y, row in enumerate(rows):
            old = kept[y]
            if row is not old and row != old:
                kept[y] = row
                self.strips[y] = self.strip(row, width, base, self._on_base)
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
    def strip(row: list[Segment], width: int, base: Style, on_base: dict[Style | None, Style] | None = None) -> Strip:
        """`Strip(row).crop_extend(0, width, Style()).apply_style(base)`: the same segments, made in one
        pass (a wider row cut as Strip.crop cuts it; one with a double-width character there by Strip.crop).
        `on_base` keeps each style combined with `base` (for the next rows on the same base)."""
        lengths = [0 if seg.control else cell_len(seg.text) for seg in row]
        length = sum(lengths)
        out: list[Segment] = list(row)
        if length > width and width <= 0:
            return Strip([], 0)
        if length > width:  # Strip.crop(0, width): leading empty segments dropped, the last one cut
            out, at = [], 0
            for seg, n in zip(row, lengths):
                if not out and not n:
                    continue
                if at + n >= width:
                    if at + n > width:
                        if n != len(seg.text):
                            return Strip(row).crop_extend(0, width, Style()).apply_style(base)
                        seg = Segment(seg.text[: width - at], seg.style, seg.control)
                    out.append(seg)
                    break
                out.append(seg)
                at += n
            length = width
        elif length < width:
            out.append(Segment(" " * (width - length), Style()))
        if base:  # a null style changes nothing (Strip.apply_style's own rule)
            known = {} if on_base is None else on_base
            styled = []
            for text, style, control in out:
                if control:
                    styled.append(Segment(text, None, control))
                    continue
                combined = known.get(style)
                if combined is None:
                    combined = known[style] = base + style
                styled.append(Segment(text, combined, control))
            out = styled
        return Strip(out, width)

    def line(self, y: int, blank: Style | None = None) -> Strip:
        """Row `y` as drawn; below the last row a blank one (in `blank`'s colours)."""
        return self.strips[y] if 0 <= y < len(self.strips) else Strip.blank(self.size[0], blank)
