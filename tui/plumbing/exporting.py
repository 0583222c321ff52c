"""Exporting from the dashboard (`e`, or the palette): the session's runs as a CSV in long form and the
loss plot as an SVG picture (engine.export, tui.plumbing.plot_svg), each written atomically; one note line
says where they went, or why not. No widgets here.

`Exporting` gathers the session's runs from the app through `ExportHost`, the few things it needs of it,
so this module never imports the app (the app owns an `Exporting` and routes `e` to it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from engine import Run
from engine.errors import MicroMLPError
from engine.export import CSV_NAME, PLOT_NAME, ExportRun, plot_series, save_csv
from engine.race import Race
from engine.runs import RunRegistry, data_name
from tui.plumbing.line_colours import colour_of, kept_colour
from tui.plumbing.plot_svg import save_svg
from tui.plumbing.training_loop import TrainingLoop

# a browser tab (--serve) of a server started without --save or --plot: `e` writes nothing (fits an 80-column note)
EXPORT_REFUSED = "not exported: a browser tab exports only beside the server's --save or --plot"


def race_runs(race: Race, picked: int, data: str) -> list[ExportRun]:
    """A race's variants as exported (call between two steps): the one shown is drawn as the current
    run is, the others as lines in their colours on screen; each named v1, v2, ... with what differs."""
    out = []
    for i, (v, run) in enumerate(zip(race.variants, race.runs)):
        e = ExportRun.of_run(run, data, name=f"v{v.number}", label=f"race variant {v.number}: {v.label}")
        out.append(e if i == picked else replace(e, current=False, colour=colour_of(v.number), variant=True,
                                                    differs=v.label))
    return out


@dataclass(frozen=True)
class ExportPaths:
    csv: Path
    svg: Path

    @classmethod
    def beside(cls, save_path: Path, plot: str | Path | None = None) -> ExportPaths:
        """micromlp-runs.csv in the folder of --save (the current folder by default), and the picture
        at --plot or as micromlp-plot.svg beside it."""
        folder = save_path.parent
        return cls(folder / CSV_NAME, Path(plot) if plot else folder / PLOT_NAME)


def export_files(runs: list[ExportRun], on_plot: list[ExportRun], paths: ExportPaths) -> tuple[str, bool]:
    """Write every run of `runs` to the CSV and the picture of `on_plot` (the current run first, then the
    kept runs shown on the plot). Returns the note and whether anything failed (the other file is still
    written)."""
    written: list[Path] = []
    errors: list[str] = []
    for write in (lambda: save_csv(paths.csv, runs, str(paths.csv)),
                  lambda: save_svg(paths.svg, plot_series(on_plot), str(paths.svg))):
        try:
            written.append(write())
        except MicroMLPError as exc:
            errors.append(str(exc))
        except OSError as exc:
            errors.append(f"{exc.filename or ''}: {exc.strerror or exc}")
    if errors:
        done = f"; written: {', '.join(map(str, written))}" if written else ""
        return "not exported: " + "; ".join(errors) + done, True
    csv, svg = written
    runs_text = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    if csv.parent == svg.parent:
        return f"exported {runs_text} to {csv.name} and the plot to {svg.name} in {csv.parent}", False
    return f"exported {runs_text} to {csv} and the plot to {svg}", False


class ExportHost(Protocol):
    """What an export needs of the app."""

    training: Run
    race: Race | None
    loop: TrainingLoop
    data: str | None
    runs: RunRegistry

    def set_note(self, note: str, sticky: bool = False) -> None: ...
    def run_worker(self, work: Callable[[], Any], name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True, exclusive: bool = False,
                   thread: bool = False) -> Any: ...
    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...


class Exporting:
    def __init__(self, host: ExportHost, paths: ExportPaths, refused: bool = False):
        self.host = host
        self.paths = paths  # where `e` writes
        self.refused = refused  # in a browser tab of a server started without --save or --plot (tui/app.py)

    def export(self) -> None:
        """`e`: the session's runs (the live run, or a race's variants, then the kept runs) to the CSV and
        those on the plot (hidden kept runs not) to the picture, written in a worker thread."""
        h = self.host
        if self.refused:
            h.set_note(EXPORT_REFUSED, sticky=True)
            return
        with h.loop.lock:  # between two steps
            live = ([ExportRun.of_run(h.training, data_name(h.data))] if h.race is None
                    else race_runs(h.race, h.loop.picked, data_name(h.data)))
        labels = h.runs.labels(h.training.config, data_name(h.data))
        racing = h.race is not None
        kept = [(r, ExportRun.of_summary(r, labels[r.id], r.id == h.runs.baseline_id, kept_colour(r.id, racing)))
                for r in h.runs.list()]
        runs = [*live, *(e for _, e in kept)]
        on_plot = [*live, *(e for r, e in kept if not r.hidden)]
        h.set_note(f"exporting {len(runs)} run{'s' if len(runs) != 1 else ''} ...")
        h.run_worker(partial(self._write, runs, on_plot, self.paths), name="_export", group="export", thread=True)

    def _write(self, runs: list[ExportRun], on_plot: list[ExportRun], paths: ExportPaths) -> None:
        note, failed = export_files(runs, on_plot, paths)
        self.host.call_from_thread(self.host.set_note, note, failed)
