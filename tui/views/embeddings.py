"""View 3, the embeddings: every token's row of wte on the two leading principal axes of wte, drawn
as its character at its place. The axes are recomputed each frame and kept oriented like the last
frame's (engine.inspect.project_embeddings), so the map turns smoothly and never mirrors."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from rich.segment import Segment
from rich.style import Style

from engine.inspect import Projection, centred_cosine_distance, project_embeddings
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, char_label, fit

VOWELS = "aeiou"
BOS_MARK = "•"


class MapFigures(NamedTuple):
    projection: Projection
    labels: list[str]  # one cell per token
    vowels: list[int]  # the vowels' token ids (they are highlighted)
    vowel_spread: float  # mean centred cosine distance of the vowels (NaN if fewer than 2)
    token: int


def place(coords: np.ndarray, rows: int, cols: int) -> list[tuple[int, int]]:
    """A distinct cell (row, col) for each point, as near its place as the grid allows: a token's
    character is never hidden by another's. Row 0 is the top (y up); (0, 0) maps to the centre."""
    span = np.nan_to_num(np.abs(coords).max(axis=0), nan=0.0, posinf=0.0) * 1.05
    span[span == 0] = 1.0
    unit = np.nan_to_num(coords / span, nan=0.0, posinf=1.0, neginf=-1.0)  # (V, 2) in -1 .. 1
    want_c = np.rint((unit[:, 0] + 1) / 2 * (cols - 1)).astype(int)
    want_r = np.rint((1 - unit[:, 1]) / 2 * (rows - 1)).astype(int)
    taken: set[tuple[int, int]] = set()
    out = []
    for r, c in zip(want_r.tolist(), want_c.tolist()):
        spot = next(((r2, c2) for d in range(max(rows, cols) + 1) for r2, c2 in _ring(r, c, d)
                     if 0 <= r2 < rows and 0 <= c2 < cols and (r2, c2) not in taken), (r, c))
        taken.add(spot)
        out.append(spot)
    return out


def _ring(r: int, c: int, d: int) -> list[tuple[int, int]]:
    """Cells at distance d: along the row first (cells are tall, so a row is the nearest)."""
    if d == 0:
        return [(r, c)]
    return [(r, c - d), (r, c + d)] + [(r + dr, c + dc) for dr in (-1, 1) for dc in range(-d, d + 1)] + \
        [(r + dr, c + dc) for dr in range(-d, d + 1) if abs(dr) > 1 for dc in range(-d, d + 1)]


def map_title(f: MapFigures, width: int) -> str:
    """The map's title, the longest wording that fits: the vowels' spread and what it means (the mean over
    pairs of vowels of 1 - cos of their angle seen from the centre: 0 when they all point the same way),
    BOS's mark, and the axes (wte's two principal axes) with the share of the variance along each."""
    ex = f.projection.explained
    spread = "" if np.isnan(f.vowel_spread) else f"vowels' spread {f.vowel_spread:.2f}"
    spreads = [f"{spread} (0: all point the same way)", f"{spread} (0: all point one way)"] if spread else [""]
    if not np.isfinite(ex).all():  # diverged: no axes were found (the map says so under the title)
        return fit(["embeddings", spreads[-1], f"{BOS_MARK} BOS"] if spread else ["embeddings", f"{BOS_MARK} BOS"],
                   width)
    axes = [f"x, y: wte's 2 main directions ({ex[0]:.0%}, {ex[1]:.0%} of its variance)",
            f"x, y: wte's 2 main axes ({ex[0]:.0%}, {ex[1]:.0%} of variance)",
            "x, y: wte's 2 main directions", "x, y: wte's 2 main axes"]
    for a in axes:
        for s in spreads:
            parts = [p for p in (s, f"{BOS_MARK} BOS", a) if p]
            if len(" · ".join(parts)) <= width:
                return " · ".join(parts)
    return fit([p for p in (spreads[-1], f"{BOS_MARK} BOS", axes[-1]) if p], width)


def render_map(f: MapFigures, width: int, height: int, pal: Palette) -> list[Row]:
    rows: list[Row] = [[Segment(map_title(f, width), pal.style["title"])]]
    if not np.isfinite(f.projection.coords).all():
        return rows + [[Segment("the embeddings are not finite (a diverged run)", pal.style["mark"])]]
    h, w = max(height - 1, 1), max(width, 1)
    mid_r, mid_c = (h - 1) // 2, (w - 1) // 2
    dim = pal.style["dim"]
    at: list[dict[int, tuple[str, Style]]] = [{} for _ in range(h)]  # each grid row's tokens, by column
    for t, (r, c) in enumerate(place(f.projection.coords, h, w)):
        at[r][c] = (f.labels[t], pal.style["pick" if t == f.token else "hot" if t in f.vowels else "text"])
    for r in range(h):  # the axes in dim, the tokens over them; neighbours of one style share a Segment
        axis = "─" * mid_c + "┼" + "─" * (w - mid_c - 1) if r == mid_r else " " * mid_c + "│" + " " * (w - mid_c - 1)
        row: Row = []
        x = 0
        for c in sorted(at[r]):
            ch, st = at[r][c]
            if c > x:
                row.append(Segment(axis[x:c], dim))
            elif row and row[-1].style is st:
                row[-1] = Segment(row[-1].text + ch, st)
                x = c + 1
                continue
            row.append(Segment(ch, st))
            x = c + 1
        if x < w:
            row.append(Segment(axis[x:], dim))
        rows.append(row)
    return rows


class EmbeddingView(View):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._axes: tuple[int, np.ndarray] | None = None  # (id of the run, the last frame's axes)

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        return id(inputs.run), inputs.step, inputs.token

    def compute(self, inputs: ViewInputs) -> MapFigures:
        ds, wte = inputs.run.dataset, inputs.model.wte
        previous = self._axes[1] if self._axes and self._axes[0] == id(inputs.run) else None
        proj = project_embeddings(wte, previous)
        if np.isfinite(proj.axes).all():
            self._axes = (id(inputs.run), proj.axes)
        labels = [BOS_MARK if i == ds.bos else char_label(ds.uchars[i]) for i in range(ds.vocab_size)]
        vowels = [ds.uchars.index(v) for v in VOWELS if v in ds.uchars]
        spread = centred_cosine_distance(wte, vowels) if len(vowels) >= 2 else float("nan")
        return MapFigures(proj, labels, vowels, spread, inputs.token)

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        assert isinstance(figures, MapFigures)
        return render_map(figures, width, height, palette)
