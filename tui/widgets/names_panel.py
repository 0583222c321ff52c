"""The names panel: the sampled batches, kept as data and laid out at the panel's width.

A batch is a heading (its step and temperature, and how many of its names are new) over aligned
columns, one name per cell: cell width = the longest name + 2, as many columns as fit. Names that
occur in the training data are dim with a trailing `·` (the model copied them); new ones are bold
(it invented them). The final samples are listed one per line in the tutorial's own format
(`sample  1: aylan`). Everything is laid out again when the width changes and stays scrolled to the
newest batch. Names are data: escaped with `printable`, never parsed as markup.

Drawn with the line API on a ScrollView: the laid-out lines are cached per batch and width."""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.printable import printable

MAX_BATCHES = 300  # the oldest are dropped beyond this
KNOWN_MARK = "·"  # after a name that is in the training data
EMPTY = "(empty)"  # a name that ended at once


@dataclass(frozen=True, eq=False)
class Batch:
    heading: str
    names: tuple[str, ...]
    known: tuple[bool, ...] | None  # per name: in the training data? (None: not known)
    final: bool = False  # the run's final samples: one per line, numbered
    run: bool = False  # a run's one-line heading, no names

    @property
    def new(self) -> int:
        return 0 if self.known is None else self.known.count(False)

    def title(self) -> str:
        if self.known is None or self.run:
            return self.heading
        return f"{self.heading} ·\xa0{self.new}/{len(self.names)}\xa0new"  # kept together when wrapped


def display(name: str) -> str:
    return printable(name) or EMPTY


def cell_width(names: Sequence[str]) -> int:
    """The width of a batch's cells: its longest (displayed) name + 2 (room for the mark and a gap)."""
    return max((cell_len(display(n)) for n in names), default=0) + 2


def columns(width: int, cell: int) -> int:
    """Cells per line: the last one needs only its name and mark, not the gap after them."""
    return max(1, (width + 1) // cell)


def wrap(text: str, width: int) -> list[str]:
    """Wrap between words; a word wider than the line is cut into pieces (never lost)."""
    lines = textwrap.wrap(text, max(width, 1), break_long_words=False, break_on_hyphens=False) or [""]
    return [piece for line in lines for piece in chop_cells(line, max(width, 1))]


class NamesPanel(ScrollView, can_focus=False):
    """Attributes down: the app adds, replaces and clears batches. Not focusable, so the arrow keys
    stay with the app (they pick the token)."""

    COMPONENT_CLASSES = {"names-panel--heading", "names-panel--run", "names-panel--new", "names-panel--known"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._batches: deque[Batch] = deque(maxlen=MAX_BATCHES)
        self._cache: dict[int, tuple[int, list[Strip]]] = {}  # id(batch) -> (width, its lines)
        self._lines: list[Strip] = []
        self._laid_for = -1

    # --- the data -----------------------------------------------------------------------------------
    @property
    def batches(self) -> int:
        """Batches of names held (a run's heading is not one)."""
        return sum(not b.run for b in self._batches)

    @property
    def last(self) -> tuple[str, list[str]]:
        """The newest batch: its heading and names."""
        for b in reversed(self._batches):
            if not b.run:
                return b.heading, list(b.names)
        return "", []

    def add_batch(self, heading: str, names: Sequence[str], known: Sequence[bool] | None = None) -> None:
        """A new batch under the others. `known[i]`: name i is in the training data."""
        self._add(Batch(heading, tuple(names), _known(names, known)))

    def replace_last(self, heading: str, names: Sequence[str], known: Sequence[bool] | None = None) -> None:
        """The newest batch re-sampled (the same draws at another temperature): replaced in place."""
        if self._batches and not self._batches[-1].run and not self._batches[-1].final:
            self._cache.pop(id(self._batches.pop()), None)
        self._add(Batch(heading, tuple(names), _known(names, known)))

    def show_final(self, names: Sequence[str], temperature: float, known: Sequence[bool] | None = None,
                   replace: bool = False) -> None:
        """The run's final samples, one per line as the tutorial prints them. `replace`: in place of the
        final samples shown (the same list drawn again at another temperature)."""
        if replace and self._batches and self._batches[-1].final:
            self._cache.pop(id(self._batches.pop()), None)
        heading = f"finished: {len(names)} samples, T {temperature:.2f}"
        self._add(Batch(heading, tuple(names), _known(names, known), final=True))

    def clear(self, heading: str = "") -> None:
        """A new run: the previous run's batches go; `heading`, if given, is the new run's first line."""
        self._batches.clear()
        self._cache.clear()
        if heading:
            self._batches.append(Batch(heading, (), None, run=True))
        self._lay_out()

    def _add(self, batch: Batch) -> None:
        if len(self._batches) == self._batches.maxlen:
            self._cache.pop(id(self._batches[0]), None)
        self._batches.append(batch)
        self._lay_out()

    # --- the layout ---------------------------------------------------------------------------------
    def batch_lines(self, batch: Batch, width: int) -> list[Strip]:
        """One batch laid out at `width`: its heading, then its names in aligned cells."""
        style = self.get_component_rich_style
        heading = style("names-panel--run" if batch.run else "names-panel--heading")
        lines = [[Segment(line.replace("\xa0", " "), heading)] for line in wrap(batch.title(), width)]
        known = batch.known or (False,) * len(batch.names)
        new, old = style("names-panel--new"), style("names-panel--known")
        entries = [(display(n), k) for n, k in zip(batch.names, known)]
        marked = batch.known is not None
        if batch.final:
            for i, (name, k) in enumerate(entries):
                text = f"sample {i + 1:2d}: " + name + (KNOWN_MARK if k else "")
                for piece in chop_cells(text, width):
                    lines.append([Segment(piece, old if k else new if marked else Style())])
        elif entries:
            cell = cell_width(batch.names)
            if cell - 1 > width:  # a name wider than the panel: one per line, cut into pieces
                for name, k in entries:
                    mark = KNOWN_MARK if k else ""
                    lines += [[Segment(p, old if k else new)] for p in chop_cells(name + mark, width)]
            else:
                per_line = columns(width, cell)
                for at in range(0, len(entries), per_line):
                    line: list[Segment] = []
                    for name, k in entries[at : at + per_line]:
                        pad = " " * (cell - cell_len(name) - 1)
                        line += [Segment(name, old if k else new), Segment((KNOWN_MARK if k else " ") + pad,
                                                                           old if k else Style())]
                    lines.append(line)
        return [Strip(line).crop_extend(0, width, None) for line in lines]

    def _lay_out(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:  # not laid out yet: done on the first resize
            self._laid_for = -1
            return
        lines: list[Strip] = []
        for batch in self._batches:
            cached = self._cache.get(id(batch))
            if cached is None or cached[0] != width:
                cached = (width, self.batch_lines(batch, width))
                self._cache[id(batch)] = cached
            lines += cached[1]
        self._lines, self._laid_for = lines, width
        self.virtual_size = Size(width, len(lines))
        self.scroll_end(animate=False, x_axis=False)  # after the refresh that shows the scrollbar
        self.refresh()

    def on_resize(self) -> None:
        self._lay_out()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()  # a theme change: the styles baked into the lines are stale
        if self.is_mounted:
            self._lay_out()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._laid_for:
            self._lay_out()
        i = self.scroll_offset.y + y
        line = self._lines[i] if 0 <= i < len(self._lines) else Strip.blank(width)
        return line.crop_extend(0, width, None).apply_style(self.rich_style)

    @property
    def text_lines(self) -> list[str]:
        """Every laid-out line as plain text (for tests and terminal checks)."""
        return [line.text for line in self._lines]


def _known(names: Sequence[str], known: Sequence[bool] | None) -> tuple[bool, ...] | None:
    if known is None:
        return None
    if len(known) != len(names):
        raise ValueError(f"{len(known)} marks for {len(names)} names")
    return tuple(bool(k) for k in known)
