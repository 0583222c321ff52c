"""The loss plot as an SVG picture, from engine.export.PlotSeries: axes with ticks, every line, the
reference lines labelled, a key, in the dashboard's colours (its default theme, textual-dark).

The right margin's labels stay within the plot area's height, none over another: the reference lines'
on their lines, then the runs' and variants' near where their lines end (see _place_labels); a line
whose label has no place there is named in the key instead.

Written by hand, with no plotting library: about 340 lines that write plain SVG (the same
bytes for the same figures), with one `<path>` per drawn line (its `data-line` attribute says which:
one-name, moving-avg, whole-data, held-out, kept, baseline, guess, floor, ...; a kept run's or variant's
margin label in `data-label`) and nothing else drawn
as a path (axes and ticks are `<line>`; the key's samples `<line>`, `<circle>`, `<polygon>`), so it is easy to read
back. No Textual here: the headless face writes the same picture (`--plot FILE.svg`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from engine.export import Line, PlotSeries
from engine.outputs import resolve_output, write_file
from tui.plumbing.line_colours import LINE_HEX, line_hex
from tui.plumbing.margin_side import on_its_side

BACKGROUND = "#121212"  # textual-dark's background, under the plot
# The plot's colours on screen in the default theme (tui/app.tcss's LossPlot rules resolved in
# textual-dark; tests/test_export.py checks them against the running app)
COLOURS = {
    "axis": "#e0e0e0", "title": "#e0e0e0", "one-name": "#b6b6b6", "beyond": "#b6b6b6", "moving-avg": "#368ae9",
    "whole-data": "#ffc473", "held-out": "#c061cb", "guess": "#d17e92", "floor": "#8ad4a1",
    "diverged": "#b93c5b", "lr-change": "#5684a5", "kept": LINE_HEX[0], "baseline": LINE_HEX[0],
    "variant": LINE_HEX[0],
}  # kept runs, the baseline and a race's other variants: each in its own line's colour (LINE_HEX), as on screen
STROKES = {  # (width, dash) of each kind
    "moving-avg": (2.0, ""), "whole-data": (2.0, ""), "held-out": (2.0, ""), "guess": (1.2, "6 4"),
    "floor": (1.2, "6 4"), "kept": (1.5, ""), "variant": (1.5, ""), "baseline": (2.5, "10 4"),
    "lr-change": (1.2, "2 3"), "diverged": (1.5, "3 2"),
}
KEY_ORDER = ("one-name", "moving-avg", "whole-data", "held-out", "guess", "floor", "kept", "variant", "baseline",
             "beyond",
             "lr-change", "diverged")
KEY_TEXT = {"one-name": "one name (low/high)", "moving-avg": "moving average", "whole-data": "whole-data",
            "held-out": "held-out", "guess": "random guess", "floor": "bigram floor", "kept": "earlier runs",
            "variant": "other variants", "beyond": "beyond the axis"}  # kept: runs before; variant: a race's others
CHAR_PX = 7.2  # a character's width at font-size 12 in a monospace font (0.6 em)
FONT = "font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\""


def line_colour(line: Line) -> str:
    """A line's colour: a kept run's is its run's (line_hex, as on screen), the others' their kind's."""
    return line_hex(line.colour) if line.colour is not None else COLOURS.get(line.kind, COLOURS["axis"])


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _tick_text(value: float, step: float) -> str:
    if step >= 1 and value == int(value):
        return f"{int(value):,}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (0 if round(step / 10 ** math.floor(
        math.log10(step) + 1e-9), 6) in (1, 2, 5) else 1)
    return f"{value:.{decimals}f}"


def render_svg(series: PlotSeries, width: int = 960, height: int = 540) -> str:
    """The picture as SVG text. The right margin is as wide as its longest label needs (a reference's,
    or another run's or variant's name and what differs), from 236 px up to 40% of the width; a label
    longer than that is cut with an ellipsis. The margin's labels stay within the plot area's height
    (see _place_labels); a run or variant left out there is named in the key, which then takes more rows
    above the plot."""
    left, bottom = 64, 50
    margin = [text for _, _, text in series.references] + [
        _label_text(ln) for ln in series.lines if ln.kind in LABELLED]
    right = math.ceil(min(max(236, CHAR_PX * max(map(len, margin), default=0) + 16), width * 0.4))
    pw = width - left - right
    x_hi = max(series.num_steps, 1)
    y_lo, y_hi = series.y_lo, series.y_hi
    top, tries = 70, 0
    while True:  # the key's rows above the plot depend on the labels left out, which depend on the plot's height
        ph = height - top - bottom
        labels, left_out = _place_labels(series, top, ph)
        key, key_end = _key(series, left, 40, width - left - 10, left_out)
        need = max(70, math.ceil(key_end) + 14)
        tries += 1
        if need <= top or tries > 8:
            break
        top = need

    def px(x: np.ndarray | float) -> np.ndarray:
        return left + np.asarray(x, dtype=np.float64) / x_hi * pw

    def py(y: np.ndarray | float) -> np.ndarray:
        return top + (y_hi - np.asarray(y, dtype=np.float64)) / (y_hi - y_lo) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" {FONT} font-size="12">',
           f"<title>{escape(series.title)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="{BACKGROUND}"/>',
           f'<clipPath id="area"><rect x="{left}" y="{top}" width="{pw}" height="{ph}"/></clipPath>',
           f'<text x="{left}" y="20" fill="{COLOURS["title"]}" font-weight="bold">{escape(series.title)}</text>']
    out += key
    # axes, ticks and their labels
    axis = COLOURS["axis"]
    out.append(f'<g class="axes" stroke="{axis}" stroke-width="1" fill="none">')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" stroke-opacity="0.6"/>')
    for v in series.x_ticks:
        x = _num(float(px(v)))
        out.append(f'<line x1="{x}" y1="{top + ph}" x2="{x}" y2="{top + ph + 5}"/>')
    for v in series.y_ticks:
        y = _num(float(py(v)))
        out.append(f'<line x1="{left - 5}" y1="{y}" x2="{left}" y2="{y}"/>')
    out.append("</g>")
    xs = series.x_ticks
    x_step = xs[1] - xs[0] if len(xs) > 1 else 1.0
    for v in xs:
        out.append(f'<text class="x-tick" x="{_num(float(px(v)))}" y="{top + ph + 18}" fill="{axis}" '
                   f'text-anchor="middle">{escape(_tick_text(v, x_step))}</text>')
    out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph + 38}" fill="{axis}" text-anchor="middle">'
               f"{escape(series.x_label)}</text>")
    ys = series.y_ticks
    y_step = ys[1] - ys[0] if len(ys) > 1 else 1.0
    for v in ys:
        out.append(f'<text class="y-tick" x="{left - 8}" y="{_num(float(py(v)) + 4)}" fill="{axis}" '
                   f'text-anchor="end">{escape(_tick_text(v, y_step))}</text>')
    out.append(f'<text x="14" y="{top + ph / 2:.0f}" fill="{axis}" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + ph / 2:.0f})">loss (nats)</text>')
    # the reference lines, then the lines (earlier runs under the current one), each one path
    for value, kind, text in series.references:
        at = float(py(value))
        if top <= at <= top + ph:
            out.append(_path(kind, text, f"M{left} {_num(at)}H{left + pw}"))
    order = {"kept": 0, "variant": 0, "baseline": 1, "lr-change": 2, "diverged": 2, "one-name": 3, "beyond": 4,
             "held-out": 5, "whole-data": 6, "moving-avg": 7}
    for line in sorted(series.lines, key=lambda ln: order.get(ln.kind, 8)):
        if line.kind == "beyond":  # a small triangle at the edge, pointing the way the loss went
            d = "".join(f"M{_num(a)} {_num(b)}l-2.5 {4 if b <= top else -4}h5z"
                        for a, b in zip(px(line.x).tolist(), py(line.y).tolist()))
        elif line.points:
            d = _points(px(line.x), py(line.y))
        else:
            d = _polyline(px(line.x), py(line.y))
        out.append(_path(line.kind, line.key, d, line_colour(line),
                         _label_text(line) if line.kind in LABELLED else None))
    out += _margin_labels(labels, left + pw + 6, right - 16)
    out.append("</svg>")
    return "\n".join(out) + "\n"


LABELLED = ("kept", "variant", "baseline")  # the lines labelled in the right margin beside where they end
LABEL_GAP = 13.0  # px between two margin labels' middles: a 12 px line of text and 1 px
INK_UP, INK_DOWN = 5.0, 7.0  # a margin label's ink above and below its middle (its baseline 4 px below it)
NEAR = 3 * LABEL_GAP  # a run's label is at most this far from where its line ends, else left out (keyed)


def _label_text(line: Line) -> str:
    """What a run's or variant's label says: its margin text (a variant's "v2 lr 0.5"), else its key."""
    return line.margin or line.key


@dataclass(frozen=True)
class _Placed:
    y: float  # its middle (px)
    colour: str
    text: str


def _place_labels(series: PlotSeries, top: float, ph: float) -> tuple[list[_Placed], list[Line]]:
    """The right margin's labels, each at a middle (px) within the plot area's height (so never beside
    the x axis's numbers), none over another: each reference line's label first, on its line (or the
    nearest free place); then each run's and variant's beside where its line ends, or as near as a free
    place allows within NEAR; never across a reference line from its line's end (tui.plumbing.margin_side,
    the terminal plot's rule), and in the order of their lines' ends (a higher end, a higher label). A race's
    variants are placed before the baseline and kept runs; of the orders tried (the lowest end first, the
    highest first, the lines' own), the one placing the most variants, then the most labels, is kept. Returns
    the labels placed and the lines left out (also those ending off the axis or with no finite value)."""
    lo, hi = top + INK_UP, top + ph - INK_DOWN  # the range of a label's middle

    def py(value: float) -> float:
        return top + (series.y_hi - value) / (series.y_hi - series.y_lo) * ph

    refs: list[_Placed] = []
    ref_lines: list[float] = []
    for value, kind, text in series.references:
        at = py(value)
        if top <= at <= top + ph:
            ref_lines.append(at)
            y = _nearest_free(min(max(at, lo), hi), lo, hi, [r.y for r in refs], lambda _: True)
            if y is not None:
                refs.append(_Placed(y, COLOURS[kind], text))
    wanted: list[tuple[float, Line]] = []
    left_out: list[Line] = []
    for line in series.lines:
        if line.kind not in LABELLED:
            continue
        finite = line.y[np.isfinite(line.y)]
        last = float(finite[-1]) if len(finite) else math.nan
        if series.y_lo <= last <= series.y_hi:
            wanted.append((py(last), line))
        else:
            left_out.append(line)

    def place(order: list[tuple[float, Line]]) -> tuple[list[_Placed], list[Line]]:
        placed: list[tuple[float, _Placed, Line]] = []  # (where its line ends, the label, the line)
        for end, line in order:
            def allowed(y: float, end: float = end) -> bool:
                return (abs(y - end) <= NEAR + 1e-9 and on_its_side(y - INK_UP, y + INK_DOWN, end, ref_lines)
                        and all((y - p.y) * (end - e) >= 0 for e, p, _ in placed))  # never out of order

            y = _nearest_free(end, lo, hi, [r.y for r in refs] + [p.y for _, p, _ in placed], allowed,
                              [end - NEAR, end + NEAR] + [r - INK_DOWN - 0.5 for r in ref_lines]
                              + [r + INK_UP + 0.5 for r in ref_lines])
            if y is not None:
                placed.append((end, _Placed(y, line_colour(line), _label_text(line)), line))
        shown = {id(line) for _, _, line in placed}
        return [p for _, p, _ in placed], [line for _, line in wanted if id(line) not in shown]

    group = {"variant": 0, "baseline": 1, "kept": 2}
    orders = [sorted(wanted, key=lambda w: (group[w[1].kind], -w[0])),  # the lowest loss first: a race's best
              sorted(wanted, key=lambda w: (group[w[1].kind], w[0])),
              sorted(wanted, key=lambda w: group[w[1].kind])]
    tries = [place(o) for o in orders]
    best = min(tries, key=lambda t: (sum(ln.kind == "variant" for ln in t[1]), len(t[1])))  # the first on a tie
    where = {id(line): i for i, line in enumerate(series.lines)}  # (a Line's == compares arrays)
    return refs + best[0], sorted(left_out + best[1], key=lambda ln: where[id(ln)])  # in the lines' order


def _nearest_free(want: float, lo: float, hi: float, taken: list[float], allowed: Callable[[float], bool],
                  edges: list[float] | None = None) -> float | None:
    """The middle nearest `want` in [lo, hi], at least LABEL_GAP from each of `taken`, that `allowed`
    accepts (on a tie the higher one); None if there is none. The free places are intervals whose ends are
    among lo, hi, each taken middle +- LABEL_GAP and `edges` (where `allowed` starts or stops holding)."""
    points = [want, lo, hi, *(t + d for t in taken for d in (-LABEL_GAP, LABEL_GAP)), *(edges or [])]
    return next((y for y in sorted(points, key=lambda y: (abs(y - want), y))
                 if lo - 1e-9 <= y <= hi + 1e-9 and all(abs(y - t) >= LABEL_GAP - 1e-9 for t in taken)
                 and allowed(y)), None)


def _path(kind: str, key: str, d: str, colour: str | None = None, label: str | None = None) -> str:
    """One drawn line: its kind, its key as its title, and (a run's or variant's) what its label says."""
    colour = colour or COLOURS.get(kind, COLOURS["axis"])
    label_attr = f" data-label={quoteattr(label)}" if label is not None else ""
    width, dash = STROKES.get(kind, (1.0, ""))
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    fill = "none"
    if kind == "one-name":
        width = 3.0  # points: zero-length segments with round caps
    elif kind == "beyond":
        width, fill = 0.5, colour
    return (f'<path data-line="{kind}"{label_attr} d="{d or "M0 0"}" fill="{fill}" stroke="{colour}" '
            f'stroke-width="{width}"{dash_attr} stroke-linecap="round" stroke-linejoin="round" clip-path="url(#area)">'
            f"<title>{escape(key)}</title></path>")


def _polyline(x: np.ndarray, y: np.ndarray) -> str:
    """A line through the finite points; a NaN breaks it (the next point starts a new piece)."""
    parts, pen = [], False
    for a, b in zip(x.tolist(), y.tolist()):
        if not (math.isfinite(a) and math.isfinite(b)):
            pen = False
            continue
        parts.append(("L" if pen else "M") + f"{_num(a)} {_num(b)}")
        pen = True
    return "".join(parts)


def _points(x: np.ndarray, y: np.ndarray) -> str:
    return "".join(f"M{_num(a)} {_num(b)}h0" for a, b in zip(x.tolist(), y.tolist())
                   if math.isfinite(a) and math.isfinite(b))


def _margin_labels(labels: list[_Placed], x: float, room: int) -> list[str]:
    """The labels placed (_place_labels), each cut with an ellipsis to the margin's room."""
    chars = max(int(room / CHAR_PX + 1e-9), 4)
    out = []
    for label in sorted(labels, key=lambda p: p.y):
        shown = _cut(label.text, chars)
        out.append(f'<text class="margin" x="{x:.0f}" y="{_num(label.y + 4)}" fill="{label.colour}">'
                   f"{escape(shown)}</text>")
    return out


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def _key(series: PlotSeries, x0: float, y0: float, room: float, named: list[Line]) -> tuple[list[str], float]:
    """One entry per kind of line drawn, in KEY_ORDER: a sample of the line and its label; then one per
    line of `named` (a run or variant with no label at the right) by its label, so that every line is named.
    Entries wrap onto rows 16 px apart. Returns the elements and the last row's baseline."""
    kinds = {ln.kind: ln for ln in series.lines} | {kind: None for _, kind, _ in series.references}
    said = {"one-name": series.dots_label, "moving-avg": series.ema_label}  # what this picture's run says
    entries: list[tuple[str, Line | None, str]] = []  # (kind, its line, its text)
    for kind in KEY_ORDER:
        if kind in kinds:
            line = kinds[kind]
            entries.append((kind, line, said.get(kind) or KEY_TEXT.get(kind)
                            or (line.key if isinstance(line, Line) else kind)))
    chars = max(int((room - 42) / CHAR_PX), 4)
    entries += [(line.kind, line, _cut(_label_text(line), chars)) for line in named]
    out = ['<g class="key">']
    x, y = x0, y0
    for kind, line, text in entries:
        w = 26 + CHAR_PX * len(text) + 16
        if x + w > x0 + room and x > x0:
            x, y = x0, y + 16
        colour = line_colour(line) if isinstance(line, Line) else COLOURS[kind]
        if kind == "one-name":
            sample = f'<circle cx="{x + 10:.0f}" cy="{y - 4:.0f}" r="1.8" fill="{colour}"/>'
        elif kind == "beyond":
            corners = f"{x + 7:.0f},{y - 1:.0f} {x + 13:.0f},{y - 1:.0f} {x + 10:.0f},{y - 7:.0f}"
            sample = f'<polygon points="{corners}" fill="{colour}"/>'
        else:
            width, dash = STROKES.get(kind, (1.0, ""))
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            sample = (f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 20:.0f}" y2="{y - 4:.0f}" stroke="{colour}" '
                      f'stroke-width="{width}"{dash_attr}/>')
        out.append(f'<g class="key-item" data-line={quoteattr(kind)}>{sample}<text x="{x + 26:.0f}" y="{y:.0f}" '
                   f'fill="{colour}">{escape(text)}</text></g>')
        x += w
    out.append("</g>")
    return out, y


def save_svg(path: str | Path, series: PlotSeries, label: str | None = None) -> Path:
    """Write the picture to `path` atomically (engine.outputs: a temporary file renamed into place; a
    device or a pipe is written through, and a pipe with no reader is refused at once, never waited
    on). Raises OutputError (one line) or OSError. Returns where."""
    target = resolve_output(path, label)
    data = render_svg(series).encode("utf-8")

    def write(f: BinaryIO) -> None:
        f.write(data)

    write_file(target, write, wait_for_reader=False)
    return target.real
