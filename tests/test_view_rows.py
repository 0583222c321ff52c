"""The embedding map's rows built the quick way (a grid row from its tokens and the axis line) against the
obvious cell-by-cell grid: the same segments, the same styles, on random, constant and degenerate maps."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from rich.style import Style

from engine.inspect import project_embeddings
from tui.views.embeddings import MapFigures, place, render_map

NAMES = ["title", "text", "label", "dim", "mark", "hot", "pick"]


class Palette:
    """The styles a view draws with, one distinct Style object per name (as view.Palette keeps them)."""

    def __init__(self) -> None:
        self.style = {name: Style(color=f"color({i})") for i, name in enumerate(NAMES)}


def merged(cells: list[tuple[str, Style]]) -> list[Segment]:
    """One Segment per run of neighbouring cells of the very same style."""
    out: list[Segment] = []
    for text, style in cells:
        if out and out[-1].style is style:
            out[-1] = Segment(out[-1].text + text, style)
        else:
            out.append(Segment(text, style))
    return out


def slow_map_rows(f: MapFigures, width: int, height: int, pal: Palette) -> list[list[Segment]]:
    """render_map's grid drawn cell by cell: the axes in dim, each token's character over them."""
    h, w = max(height - 1, 1), max(width, 1)
    dim = pal.style["dim"]
    grid = [[(" ", dim) for _ in range(w)] for _ in range(h)]
    mid_r, mid_c = (h - 1) // 2, (w - 1) // 2
    for c in range(w):
        grid[mid_r][c] = ("─", dim)
    for r in range(h):
        grid[r][mid_c] = ("┼" if r == mid_r else "│", dim)
    for t, (r, c) in enumerate(place(f.projection.coords, h, w)):
        grid[r][c] = (f.labels[t], pal.style["pick" if t == f.token else "hot" if t in f.vowels else "text"])
    return [merged(line) for line in grid]


def test_the_embedding_map_s_rows_are_the_grid_cell_by_cell():
    rng = np.random.default_rng(1)
    pal = Palette()
    for vocab in [2, 5, 27, 60]:
        for n_embd in [1, 2, 16]:
            for trial in range(6):
                wte = rng.normal(size=(vocab, n_embd)) * (trial > 0)
                labels = [chr(97 + i % 26) for i in range(vocab)]
                f = MapFigures(project_embeddings(wte), labels, [0, 4] if vocab > 4 else [0], 0.3, trial % vocab)
                for width, height in [(1, 2), (3, 2), (20, 6), (80, 12), (120, 11), (40, 30)]:
                    assert render_map(f, width, height, pal)[1:] == slow_map_rows(f, width, height, pal), \
                        (vocab, n_embd, width, height)
