"""View 6, the gradient check (page 1.8): on a key, the analytic gradient of the current step's name
at the current weights against the central-difference one, every parameter, in a thread worker
(never on the screen's thread, never inside a training step: it works on a copy of the weights).
A scatter of (analytic, numerical): the points lie on the diagonal. Beside it the name, the largest
absolute difference and the largest relative error (engine.inspect.gradient_check's own figures).

The check runs in a daemon thread of its own (not a Textual worker, which a quit would wait for): it
works in chunks, shows its progress, stops between two chunks when asked (a new check, the view
unmounted at quit) and never delays an exit. A gradient that is exactly zero everywhere (every hidden
unit dead for this name) is said to be zero, not "they agree"."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import NamedTuple

import numpy as np
from rich.segment import Segment

from engine import Model
from engine.inspect import GradCheck, gradient_check, parameter_name
from engine.model import Stopped
from engine.printable import printable
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View, fit, fmt

POLL = 0.1  # seconds between looks at a running check (its progress, its result)


class CheckFigures(NamedTuple):
    status: str  # "ready", "running", "done" or "failed" (then `where` says why)
    doc: str
    step: int
    result: GradCheck | None
    where: str  # the parameter with the largest difference, e.g. "mlp_fc2[3, 17]"
    done: float = 0.0  # the fraction of the numerical gradient computed (while running)


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
        head = fit([f"gradient check: running on '{name}' at step {f.step:,} … {f.done:.0%}",
                    "(the tutorial's page 1.8)"], width, " ")
    elif f.status == "failed":
        head = fit([f"gradient check on '{name}' not done: {f.where}", "c tries again"], width, " · ")
    elif f.result is None:
        head = fit([f"gradient check: c runs it on '{name}'", "(the current step's name, at the current weights)"],
                   width, " ")
    else:
        head = fit([f"gradient check on '{name}' at step {f.step:,}", ": analytic vs numerical, every parameter",
                    " (the tutorial's page 1.8)"], width, "")
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
    if r.zero:  # nothing to compare: a zero gradient agrees with anything (said first: small screens)
        facts = [facts[0], "the gradient is ZERO everywhere: no hidden unit is active",
                 "for this name (dead ReLUs), so no step changes a weight", *facts[1:4],
                 "nothing to compare; c checks again"]
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
        self.thread: threading.Thread | None = None  # the running check's thread
        self._stop = threading.Event()  # set: the running check stops at its next chunk
        self._outcome: tuple | None = None  # the thread's result, picked up by _poll on the screen's thread
        self._done = 0.0  # the running check's progress, written by its thread
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
            return self._generation, self.running, f.done
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
        self._stop = stop = threading.Event()
        self._outcome, self._done = None, 0.0
        self.thread = threading.Thread(target=self._check, args=(model, tokens, doc, inputs.step, stop),
                                       name="gradient-check", daemon=True)
        self.thread.start()
        self._timer = self.set_interval(POLL, self._poll)
        return True

    def cancel(self) -> None:
        """Stop a running check at its next chunk (within ~10 ms); nothing waits for it."""
        self._stop.set()

    def on_unmount(self) -> None:
        self.cancel()

    def _check(self, model: Model, tokens: np.ndarray, doc: str, step: int, stop: threading.Event) -> None:
        """The check's thread: never touches a widget; _poll picks up what it leaves in _outcome."""
        def progress(done: float) -> None:
            self._done = done

        try:
            result = gradient_check(model, tokens, doc, stop=stop.is_set, progress=progress)
            name, row, col = parameter_name(model, result.worst)
            outcome: tuple = ("done", result, model, tokens, step, f"{name}[{row}, {col}]", threading.get_ident())
        except Stopped:
            outcome = ("stopped",)
        except MemoryError:
            outcome = ("failed", "out of memory")
        except Exception as exc:  # noqa: BLE001 - said on screen, never a crash of the app
            outcome = ("failed", f"{type(exc).__name__}: {exc}")
        if not stop.is_set():
            self._outcome = outcome

    def _poll(self) -> None:
        outcome, f = self._outcome, self.figures
        assert isinstance(f, CheckFigures)
        if outcome is None:
            if self.running and self._done != f.done:
                self.figures = f._replace(done=self._done)
                self.forget()
                self.redraw()
            return
        self._timer.stop()
        self._outcome = None
        self.running = False
        if outcome[0] == "done":
            self._finished(*outcome[1:])
        else:
            self.figures = CheckFigures("failed", f.doc, f.step, None, outcome[1])
            self._generation += 1
            self.forget()
            self.redraw()

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
