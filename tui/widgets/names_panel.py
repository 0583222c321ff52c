"""The names panel: the sampled batches, kept as data and laid out at the panel's width.

A batch is a heading (its step and temperature, and how many of its names are new) over aligned
columns, one name per cell: cell width = the longest name + 2, as many columns as fit. Names that
occur in the training data are dim with a trailing `·` (the model copied them); new ones are bold
(it invented them). A name the sampler cut at its most tokens (16, as on the page) ends in `…`.
The final samples are listed one per line in the tutorial's own format (`sample  1: aylan`) where they
all fit after it; in a narrow panel as `  1: aylan`, then without the number (`final_numbering`); only a
name wider than the panel itself is cut with `…` (a second line would read as another name).
A heading is one line: the parts that do not fit are left out, least important first (it wraps only
when its first part alone is wider than the panel); when a batch's heading has scrolled out of view,
it is pinned on the top row over that batch's names (unless only its last line is left there: the
next heading under it read as two headings). Everything is laid out again when the width changes and
stays scrolled to the newest batch. Names are data: escaped with `printable`, never
parsed as markup.

Drawn with the line API on a ScrollView: the laid-out lines are cached per batch and width."""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.config import Config
from engine.printable import printable

Row = list[Segment]
MAX_BATCHES = 300  # the oldest are dropped beyond this
KNOWN_MARK = "·"  # after a name that is in the training data
CUT_MARK = "…"  # after a name cut at the sampler's most tokens (it never reached BOS)
SEP = " · "  # between the parts of a heading
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

    def parts(self) -> list[str]:
        """The heading's parts (split at " · ") and, when known, how many names are new."""
        parts = self.heading.split(SEP)
        if self.known is not None and not self.run:
            parts.append(f"{self.new}/{len(self.names)} new")
        return parts

    def title(self, width: int | None = None) -> str:
        """The heading in one line of at most `width` cells: its first part always, then the
        temperature, the top-k, the count of new names and the rest while they fit, in their own order. A first
        part "finished: 20 samples" may shorten to "finished" when that lets more parts in."""
        parts = self.parts()
        if width is None:
            return SEP.join(parts)
        rank = sorted(range(1, len(parts)), key=lambda i: (not parts[i].startswith("T "),
                                                            not parts[i].startswith("top-k "),
                                                            not parts[i].endswith(" new"), i))
        best: list[str] = []
        for first in dict.fromkeys([parts[0], parts[0].split(": ")[0]]):
            keep, used = {0: first}, cell_len(first)
            for i in rank:
                for form in _forms(parts[i]):
                    if used + len(SEP) + cell_len(form) <= width:
                        keep[i] = form
                        used += len(SEP) + cell_len(form)
                        break
            chosen = [keep[i] for i in sorted(keep)]
            if len(chosen) > len(best):
                best = chosen
        return SEP.join(best)


def _forms(part: str) -> list[str]:
    """A heading's part, then a shorter form of it to try where it does not fit."""
    if part.startswith("T ") and "→" in part:  # "T 0.50→0.60": the batch as drawn now is at 0.60
        return [part, "T " + part.rsplit("→", 1)[1]]
    return [part]


def fit(text: str, width: int) -> str:
    """`text` in at most `width` cells: cut with `…` where it is wider (so that no continuation line can
    read as another name)."""
    if cell_len(text) <= width:
        return text
    return chop_cells(text, max(width - 1, 1))[0] + CUT_MARK if width > 1 else CUT_MARK[:width]


def final_numbering(count: int, longest: int, width: int) -> Callable[[int], str]:
    """How the final samples are numbered at this width: the tutorial's `sample  1: ` where every one of
    them fits after it, else `  1: `, else no number (the list's order numbers them). Only a name wider
    than the panel itself is then cut, with `…` (so a `…` nowhere stands for a cut that only the width
    made, while a whole name would fit)."""
    digits = max(2, len(str(count)))
    forms: list[Callable[[int], str]] = [lambda i: f"sample {i:{digits}d}: ", lambda i: f"{i:{digits}d}: "]
    for form in forms:
        if cell_len(form(count)) + longest <= width:
            return form
    return lambda i: ""


def display(name: str) -> str:
    return printable(name) or EMPTY


def cut(name: str, max_len: int) -> bool:
    """Was the name cut at the sampler's limit? A name of max_len tokens never reached BOS (one token
    is one character)."""
    return len(name) == max_len


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
        # id(batch) -> (width, its lines, how many of them its heading takes)
        self._cache: dict[int, tuple[int, list[Row], int]] = {}
        self._lines: list[Row] = []  # every laid-out line; made a Strip only when drawn
        self._pins: list[Row | None] = []  # per line: its batch's heading, to pin when scrolled out
        self._strips: dict[int, Strip] = {}  # the lines drawn so far at this layout
        self._laid_for = -1
        self.max_len = Config.max_len  # the sampler's most tokens in a name: a name this long was cut

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
                   replace: bool = False, top_k: int = 0) -> None:
        """The run's final samples, one per line as the tutorial prints them. `replace`: in place of the
        final samples shown (the same list drawn again at another temperature or top-k)."""
        if replace and self._batches and self._batches[-1].final:
            self._cache.pop(id(self._batches.pop()), None)
        heading = f"finished: {len(names)} samples{SEP}T {temperature:.2f}" + (f"{SEP}top-k {top_k}" if top_k else "")
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
        return [_strip(line, width) for line in self._batch_rows(batch, width)]

    def _batch_rows(self, batch: Batch, width: int) -> list[Row]:
        """batch_lines as lists of Segments (thousands of final samples are laid out in one go: a Strip
        is made only for a line that is drawn)."""
        style = self.get_component_rich_style
        heading = style("names-panel--run" if batch.run else "names-panel--heading")
        lines = [[Segment(line, heading)] for line in wrap(batch.title(width), width)]
        known = batch.known or (False,) * len(batch.names)
        new, old = style("names-panel--new"), style("names-panel--known")
        entries = [(display(n), k, self._mark(n, k)) for n, k in zip(batch.names, known)]
        marked = batch.known is not None
        if batch.final:
            number = final_numbering(len(entries), max((cell_len(n + m.strip()) for n, _, m in entries), default=0),
                                     width)
            for i, (name, k, mark) in enumerate(entries):
                text = fit(number(i + 1) + name + mark.strip(), width)  # one line each, as numbered
                lines.append([Segment(text, old if k else new if marked else Style())])
        elif entries:
            cell = cell_width(batch.names)
            if cell - 1 > width:  # a name wider than the panel: one per line, cut into pieces
                for name, k, mark in entries:
                    lines += [[Segment(p, old if k else new)] for p in chop_cells(name + mark.strip(), width)]
            else:
                per_line = columns(width, cell)
                for at in range(0, len(entries), per_line):
                    line: list[Segment] = []
                    for name, k, mark in entries[at : at + per_line]:
                        pad = " " * (cell - cell_len(name) - 1)
                        after = old if k else new if mark != " " else Style()
                        line += [Segment(name, old if k else new), Segment(mark + pad, after)]
                    lines.append(line)
        return lines

    def _mark(self, name: str, known: bool) -> str:
        """The one cell after a name: cut at the limit, in the training data, or neither."""
        return CUT_MARK if cut(name, self.max_len) else KNOWN_MARK if known else " "

    def _lay_out(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:  # not laid out yet: done on the first resize
            self._laid_for = -1
            return
        lines: list[Row] = []
        pins: list[Row | None] = []
        for batch in self._batches:
            cached = self._cache.get(id(batch))
            if cached is None or cached[0] != width:
                cached = (width, self._batch_rows(batch, width), len(wrap(batch.title(width), width)))
                self._cache[id(batch)] = cached
            heading = cached[2]  # (wrapping every heading again each time took ~4 ms with 300 batches)
            lines += cached[1]
            pins += [None] * heading + [cached[1][0]] * (len(cached[1]) - heading)
        self._lines, self._pins, self._laid_for, self._strips = lines, pins, width, {}
        size = Size(width, len(lines))
        if size.width == self.virtual_size.width and self.show_vertical_scrollbar:
            # only longer or shorter, its scrollbar already on show (in its stable gutter): the scrollbar
            # is updated without a layout of the whole screen (a new batch comes every 2 s while training)
            self.set_reactive(NamesPanel.virtual_size, size)
            self._scroll_update(size)
        elif (size.width == self.virtual_size.width and not self.show_vertical_scrollbar
              and size.height <= self.scrollable_content_region.height):
            # still no scrollbar needed (the first batches of a run): nothing moves, no layout either
            self.set_reactive(NamesPanel.virtual_size, size)
        else:
            self.virtual_size = size
        self.scroll_end(animate=False, x_axis=False)  # after the refresh that shows the scrollbar
        self.refresh()

    def on_resize(self) -> None:
        self._lay_out()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()  # a theme change: the styles baked into the lines are stale
        # laid out again when next drawn, not now: the component classes' styles (the headings', the names')
        # are updated after this widget's own, and read now they were the theme before's (QA)
        self._laid_for = -1
        if self.is_mounted:
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._laid_for:
            self._lay_out()
        i = self.scroll_offset.y + y
        if not 0 <= i < len(self._lines):
            line = Strip.blank(width)
        elif y == 0 and i > 0 and self._pins[i] is not None and i + 1 < len(self._pins) and \
                self._pins[i + 1] is self._pins[i]:  # its heading scrolled out: pinned over its names
            # (not over its last line with the next heading right under it: that read as two headings, QA)
            line = _strip(self._pins[i], width)  # type: ignore[arg-type]
        else:
            line = self._strips.get(i) or self._strips.setdefault(i, _strip(self._lines[i], width))
        return line.crop_extend(0, width, None).apply_style(self.rich_style)

    @property
    def shown_lines(self) -> list[str]:
        """The rows as drawn now, scrolled and with a pinned heading (for tests and terminal checks)."""
        return [self.render_line(y).text for y in range(self.scrollable_content_region.height)]

    @property
    def text_lines(self) -> list[str]:
        """Every laid-out line as plain text (for tests and terminal checks)."""
        return [_strip(line, self._laid_for).text for line in self._lines]


def _strip(line: Row, width: int) -> Strip:
    """A line as a Strip of exactly `width` cells."""
    used = sum(cell_len(seg.text) for seg in line)
    if used > width:
        return Strip(line).crop_extend(0, width, None)
    return Strip([*line, Segment(" " * (width - used))] if used < width else line, width)


def _known(names: Sequence[str], known: Sequence[bool] | None) -> tuple[bool, ...] | None:
    if known is None:
        return None
    if len(known) != len(names):
        raise ValueError(f"{len(known)} marks for {len(names)} names")
    return tuple(bool(k) for k in known)
