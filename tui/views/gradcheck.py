"""View 6, the gradient check (page 1.8): on a key, the analytic gradient of the current step's name
at the current weights against the central-difference one, every parameter, in a thread worker
(never on the screen's thread, never inside a training step: it works on a copy of the weights).
A scatter of (analytic, numerical): the points lie on the diagonal. Beside it the name, the largest
absolute difference and the largest relative error (engine.inspect.gradient_check's own figures)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from rich.segment import Segment
from textual import work

from engine import Model
from engine.inspect import GradCheck, gradient_check, parameter_name
from engine.printable import printable
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, fit, fmt


class CheckFigures(NamedTuple):
    status: str  # "ready", "running" or "done"
    doc: str
    step: int
    result: GradCheck | None
    where: str  # the parameter with the largest difference, e.g. "mlp_fc2[3, 17]"


def scatter(a: np.ndarray, n: np.ndarray, rows: int, cols: int) -> list[str]:
    """(analytic, numerical) points on a rows x cols grid with the same range on both axes, the
    diagonal drawn first ('·'), each cell with a point '●'. Row 0 is the top."""
    both = np.concatenate([a, n])
    finite = np.abs(both[np.isfinite(both)])
    lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    grid = [[" "] * cols for _ in range(rows)]
    for c in range(cols):
        r = rows - 1 - round(c / max(cols - 1, 1) * (rows - 1))
        grid[r][c] = "·"
    ok = np.isfinite(a) & np.isfinite(n)
    xc = np.rint((a[ok] / lim + 1) / 2 * (cols - 1)).astype(int)
    yr = np.rint((1 - (n[ok] / lim + 1) / 2) * (rows - 1)).astype(int)
    for r, c in set(zip(yr.tolist(), xc.tolist())):
        grid[r][c] = "●"
    return ["".join(line) for line in grid]


def loss_text(loss: float) -> str:
    """A loss as on the status line, 4 decimals; a diverged model's huge or non-finite one kept short."""
    return f"{loss:.4f}" if np.isfinite(loss) and abs(loss) < 1e4 else fmt(loss)


def relative_error(figure: str, room: int) -> str:
    """The largest per-parameter relative error, named with its formula: |a - n| / max(|a|, |n|)."""
    named = f"max relative error          {figure}  (|a − n| / max(|a|, |n|))"
    return named if len(named) <= room else f"max |a − n| / max(|a|, |n|) {figure}"


def render_check(f: CheckFigures, width: int, height: int, pal: Palette) -> list[Row]:
    name = printable(f.doc)
    if f.status == "running":
        head = fit([f"gradient check: running on '{name}' at step {f.step} …", "(page 1.8)"], width, " ")
    elif f.result is None:
        head = fit([f"gradient check: c runs it on '{name}'", "(the current step's name, at the current weights)"],
                   width, " ")
    else:
        head = fit([f"gradient check on '{name}' at step {f.step}", ": analytic vs numerical, every parameter",
                    " (page 1.8)"], width, "")
    rows: list[Row] = [[Segment(head, pal.style["title"])]]
    r = f.result
    if r is None:
        return rows
    h = max(height - 1, 1)
    w = min(max(2 * h + 1, 5), max(width // 3, 5))
    facts = [
        f"name '{printable(r.doc)}' ({len(r.tokens) - 1} positions), loss {loss_text(r.loss)}",
        f"max |analytic − numerical|  {fmt(r.max_abs_diff)}",
        relative_error(fmt(r.max_rel_err), width - w - 3),
        f"{len(r.analytic):,} parameters, central difference eps {r.eps:g}",
        f"largest difference at {f.where}; ● on the diagonal: they agree",
        "x: analytic, y: numerical, same scale; c checks again",
    ]
    plot = scatter(r.analytic, r.numerical, h, w)
    for i in range(h):
        row: Row = [Segment("│" + plot[i], pal.style["hot"])]
        if i < len(facts):
            row.append(Segment("  " + facts[i], pal.style["text" if i not in (1, 2) else "title"]))
        rows.append(row)
    return rows


class GradCheckView(View):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.figures = CheckFigures("ready", "", 0, None, "")
        self.running = False
        self.checked: tuple[np.ndarray, np.ndarray] | None = None  # (weights, tokens) of the last check
        self.checked_on_thread: int | None = None  # the thread the last check ran on
        self._generation = 0
        self._run: int | None = None  # id of the run the figures are about

    def show(self, inputs: ViewInputs) -> None:
        if id(inputs.run) != self._run and not self.running:  # a new run: the last check was another's
            self._run = id(inputs.run)
            self.figures = CheckFigures("ready", "", 0, None, "")
            self.forget()
        super().show(inputs)

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        f = self.figures
        assert isinstance(f, CheckFigures)
        if self.running or f.result is not None:  # the figures wait for the check, not for training
            return self._generation, self.running
        return self._generation, inputs.current_doc(), inputs.step

    def compute(self, inputs: ViewInputs) -> CheckFigures:
        f = self.figures
        assert isinstance(f, CheckFigures)
        if self.running or f.result is not None:
            return f
        return f._replace(doc=inputs.current_doc(), step=inputs.step)

    def start(self, inputs: ViewInputs) -> bool:
        """Check the gradient of `inputs`' current name at its weights; False if one is running."""
        if self.running:
            return False
        doc = inputs.current_doc()
        model = inputs.model.copy()  # the screen's copy changes every frame; the check keeps its own
        tokens = np.asarray(inputs.run.dataset.encode(doc), dtype=np.intp)
        self.running, self._run = True, id(inputs.run)
        self.figures = CheckFigures("running", doc, inputs.step, None, "")
        self.forget()
        self.redraw()
        self._check(model, tokens, doc, inputs.step)
        return True

    @work(thread=True, exclusive=True, group="gradient-check", exit_on_error=False)
    def _check(self, model: Model, tokens: np.ndarray, doc: str, step: int) -> None:
        result = gradient_check(model, tokens, doc)
        name, row, col = parameter_name(model, result.worst)
        self.app.call_from_thread(self._finished, result, model, tokens, step, f"{name}[{row}, {col}]",
                                  threading.get_ident())

    def _finished(self, result: GradCheck, model: Model, tokens: np.ndarray, step: int, where: str,
                  thread: int) -> None:
        self.running = False
        self.checked, self.checked_on_thread = (model.theta, tokens), thread
        self.figures = CheckFigures("done", result.doc, step, result, where)
        self._generation += 1
        self.forget()
        self.redraw()

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        assert isinstance(figures, CheckFigures)
        return render_check(figures, width, height, palette)
