"""Taking the results away (issue 18): the runs' CSV read back equals the runs' own figures, the SVG
parses and holds one path per line with the key's labels, the files are written atomically, headless
--plot writes the picture, and `e` in the dashboard writes both and says where."""

from __future__ import annotations

import csv
import errno
import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from helpers import until

import engine.export as export
import engine.runs as runs_module
from engine import Config, Run
from engine.export import COLUMNS, ExportRun, Line, plot_series, save_csv, write_csv
from engine.runs import RunRegistry
from tui.plumbing.line_colours import KEPT_IN_RACE, LINE_HEX, line_style
from tui.plumbing.plot_svg import COLOURS, line_colour, render_svg, save_svg

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "ann"]
SVG = "{http://www.w3.org/2000/svg}"


def _train(run: Run, steps: int | None = None, halve_at: int | None = None) -> list[tuple[float, float]]:
    """Train, returning each step's (loss, lr) as the training generator gave them."""
    out = []
    for rec in run.steps():
        out.append((rec.loss, rec.lr))
        if halve_at is not None and rec.step + 1 == halve_at:
            run.scale_lr(0.5)
        if steps is not None and len(out) == steps:
            break
    return out


def _read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def _csv(runs: list[ExportRun]) -> list[dict[str, str]]:
    f = io.BytesIO()
    write_csv(runs, f)
    return _read(f.getvalue())


def _whole_data_by_hand(config: Config, steps: set[int], halve_at: int) -> dict[int, tuple[float, float]]:
    """The same run again, measuring (whole-data, held-out) loss after each of `steps` steps by asking
    the run directly: not through any track or export."""
    run = Run.new(config, DOCS)
    out = {}
    if 0 in steps:
        out[0] = (run.dataset_loss(), run.heldout_loss())
    for rec in run.steps():
        if rec.step + 1 == halve_at:
            run.scale_lr(0.5)
        if rec.step + 1 in steps:
            out[rec.step + 1] = (run.dataset_loss(), run.heldout_loss())
        if rec.step + 1 >= max(steps):
            break
    return out


def test_the_csv_read_back_equals_the_runs_figures():
    config = Config(num_steps=3000, holdout=0.2, seed=3)
    run = Run.new(config, DOCS)
    run.track_exact()  # every 3rd step on a 3,000-step run: whole-data is empty elsewhere
    taken = _train(run, steps=2000, halve_at=700)  # the rate halved mid-run: the lr column follows it
    rows = _csv([ExportRun.of_run(run, "names.txt")])
    assert list(rows[0].keys()) == list(COLUMNS)
    assert {r["run"] for r in rows} == {"current"}
    assert rows[0]["data"] == "names.txt" and rows[0]["seed"] == "3" and rows[0]["lr_start"] == "1.0"
    assert rows[0]["steps"] == "3000" and rows[0]["n_embd"] == "16" and rows[0]["hidden"] == "64"
    assert rows[0]["holdout"] == "0.2"
    steps = [int(r["step"]) for r in rows]
    assert steps == list(range(0, 2001))  # step 0: the losses before training; then every step taken
    by_step = {int(r["step"]): r for r in rows}
    for s in range(1, 2001):
        loss, lr = taken[s - 1]
        assert float(by_step[s]["loss"]) == loss and float(by_step[s]["lr"]) == lr
    assert float(by_step[700]["lr"]) == 1.0 * (1 - 699 / 3000)
    assert float(by_step[701]["lr"]) == 0.5 * (1 - 700 / 3000)
    ema = run.history.ema
    assert all(float(by_step[s]["moving_avg"]) == ema[s - 1] for s in range(1, 2001))
    measured = {s for s in steps if by_step[s]["whole_data"]}
    assert measured == {s for s in range(0, 2001) if s % 3 == 0}  # the track's fixed steps, empty elsewhere
    assert all(bool(by_step[s]["held_out"]) == (s in measured) for s in steps)
    for s, (whole, held) in _whole_data_by_hand(config, {0, 3, 699, 1500}, 700).items():
        assert float(by_step[s]["whole_data"]) == pytest.approx(whole, abs=1e-12)
        assert float(by_step[s]["held_out"]) == pytest.approx(held, abs=1e-12)


def test_kept_runs_go_in_the_same_csv_with_their_own_settings_and_losses(monkeypatch):
    first = Run.new(Config(num_steps=300), DOCS)
    first.track_exact()
    first_taken = _train(first)
    reg = RunRegistry()
    kept = reg.keep(first, None, "reset")
    reg.pin_baseline(kept.id)
    monkeypatch.setattr(runs_module, "LOSSES_KEPT_UP_TO", 100)  # a long run keeps only its curves
    long = Run.new(Config(num_steps=400, learning_rate=0.5), DOCS)
    _train(long)
    long_kept = reg.keep(long)
    assert long_kept.losses is None
    current = Run.new(Config(num_steps=300, n_embd=8), DOCS)
    current.track_exact()
    _train(current, steps=50)
    rows = _csv([ExportRun.of_run(current, "embedded names"),
                 ExportRun.of_summary(reg.get(kept.id), "n_embd 16", baseline=True),
                 ExportRun.of_summary(long_kept, "lr 0.5, n_embd 16")])
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(r["run"], []).append(r)
    assert list(groups) == ["current", "#1", "#2"]
    one = groups["#1"]
    assert one[0]["label"] == "n_embd 16" and one[0]["baseline"] == "yes" and groups["current"][0]["baseline"] == ""
    assert one[0]["n_embd"] == "16" and groups["current"][0]["n_embd"] == "8" and groups["#2"][0]["lr_start"] == "0.5"
    assert [float(r["loss"]) for r in one if r["loss"]] == [loss for loss, _ in first_taken]
    assert [float(r["lr"]) for r in one if r["lr"]] == [lr for _, lr in first_taken]
    track = first.exact_track
    n = len(track)
    assert [(int(r["step"]), float(r["whole_data"])) for r in one if r["whole_data"]] == list(
        zip(track.steps[:n].tolist(), track.values[:n].tolist()))
    two = groups["#2"]  # no per-step losses kept: its moving average at the fixed steps, the loss empty
    assert all(r["loss"] == "" for r in two)
    ema = long.history.ema
    assert [(int(r["step"]), float(r["moving_avg"])) for r in two] == [
        (s, ema[s - 1]) for s in long_kept.curves.ema.steps[: len(long_kept.curves.ema)].tolist()]
    assert [int(r["step"]) for r in groups["current"]] == list(range(0, 51))


def _paths(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}path"))


def _coords(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", d)]


def _texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_svg_parses_and_holds_one_path_per_line_with_the_keys_labels():
    reg = RunRegistry()
    a = Run.new(Config(num_steps=300), DOCS)
    _train(a)
    b = Run.new(Config(num_steps=300, seed=7), DOCS)
    _train(b)
    ka, kb = reg.keep(a, None), reg.keep(b, None)
    current = Run.new(Config(num_steps=300, learning_rate=0.5, holdout=0.2), DOCS)
    current.track_exact()
    _train(current, steps=200, halve_at=100)
    runs = [ExportRun.of_run(current, "embedded names"), ExportRun.of_summary(ka, "lr 1.0, holdout 0.0"),
            ExportRun.of_summary(kb, "lr 1.0, seed 7, holdout 0.0", baseline=True)]
    svg = render_svg(plot_series(runs))
    kinds = [p.get("data-line") for p in _paths(svg)]
    for kind in ("one-name", "moving-avg", "whole-data", "held-out", "guess", "floor", "baseline", "lr-change"):
        assert kinds.count(kind) == 1, kind
    assert kinds.count("kept") == 1  # run #1; #2 is the baseline, drawn as its own kind
    assert set(kinds) <= {"one-name", "beyond", "moving-avg", "whole-data", "held-out", "guess", "floor", "kept",
                          "baseline", "lr-change"}
    titles = {p.get("data-line"): p.find(f"{SVG}title").text for p in _paths(svg)}
    assert titles["kept"] == "#1 lr 1.0, holdout 0.0" and titles["baseline"].endswith("(baseline)")
    texts = _texts(svg)
    for label in ("one name (low/high)", f"moving average, smoothing {current.history.weight:g}", "whole-data",
                  "held-out", "random guess", "bigram floor", "earlier runs", "steps (one name each)"):
        assert label in texts, label
    guess = current.reference.random_guess
    assert f"random guess {guess:.3f}" in texts and f"bigram floor {current.reference.floor:.3f}" in texts
    assert "1,000" not in texts and "300" in texts and "0" in texts  # the x axis is the run's 300 steps
    colours = {p.get("data-line"): p.get("stroke") for p in _paths(svg)}
    assert colours["moving-avg"] == COLOURS["moving-avg"] and colours["whole-data"] == COLOURS["whole-data"]


def test_the_pictures_points_and_lines_are_the_runs_losses():
    """300 steps on an 800-column picture: a column per step, so the one-name points are every step's
    loss; the moving-average line passes through the average after each step."""
    run = Run.new(Config(num_steps=300), DOCS)
    run.track_exact()
    _train(run, steps=120)
    series = plot_series([ExportRun.of_run(run, "x")])
    svg = render_svg(series, width=960, height=540)
    paths = {p.get("data-line"): p.get("d") for p in _paths(svg)}
    area = ET.fromstring(svg).find(f"{SVG}clipPath/{SVG}rect")  # the plot's area, as the picture gives it
    left, top, pw, ph = (float(area.get(k)) for k in ("x", "y", "width", "height"))

    def loss_of(y: float) -> float:
        return series.y_hi - (y - top) / ph * (series.y_hi - series.y_lo)

    def step_of(x: float) -> float:
        return (x - left) / pw * 300

    losses = run.history.losses
    inside = [(s, v) for s, v in enumerate(losses.tolist(), start=1) if series.y_lo <= v <= series.y_hi]
    points = sorted(_coords(paths["one-name"]))
    assert len(points) == len(inside)
    for (x, y), (s, v) in zip(points, inside):
        assert step_of(x) == pytest.approx(s - 0.5, abs=0.01) and loss_of(y) == pytest.approx(v, abs=0.005)
    beyond = paths.get("beyond", "")
    assert len(re.findall("M", beyond)) == len(losses) - len(inside)
    line = _coords(paths["moving-avg"])
    assert [round(step_of(x)) for x, _ in line] == list(range(1, 121))
    assert all(loss_of(y) == pytest.approx(e, abs=0.005) for (_, y), e in zip(line, run.history.ema.tolist()))


async def test_the_svgs_colours_are_the_screens_in_the_default_theme():

    from tui.app import DashboardApp

    app = DashboardApp(Run.new(Config(num_steps=50), DOCS))
    async with app.run_test(size=(120, 40)):
        assert app.theme == "textual-dark"
        styles = app.plot.styles_by_name()

        def hex_of(name: str) -> str:
            return styles[name].color.get_truecolor().hex.lower()

        for kind, style in [("one-name", "dots"), ("moving-avg", "ema"), ("whole-data", "exact"),
                            ("held-out", "heldout"), ("guess", "guess"), ("floor", "floor"),
                            ("diverged", "diverged"), ("lr-change", "lr")]:
            assert COLOURS[kind] == hex_of(style), kind
        for colour in (*range(len(LINE_HEX)), KEPT_IN_RACE):  # each kept run in its own run's colour, as on the plot
            # (or, while a race is on, every kept run in one grey)
            line = Line("#1", "kept", np.zeros(1), np.zeros(1), colour=colour)
            assert line_colour(line) == hex_of(line_style(colour))


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    run = Run.new(Config(num_steps=100), DOCS)
    _train(run)
    runs = [ExportRun.of_run(run, "x")]
    target = tmp_path / "runs.csv"
    target.write_text("the previous export\n")
    real_rows = export.csv_rows

    def rows_then_full(r):
        yield from list(real_rows(r))[:10]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "csv_rows", rows_then_full)
    with pytest.raises(OSError):
        save_csv(target, runs)
    assert target.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.csv"]  # no temporary file left behind
    monkeypatch.setattr(export, "csv_rows", real_rows)
    where = save_csv(target, runs)
    assert where == target.resolve() and len(_read(target.read_bytes())) == 100  # no track: no step-0 row
    picture = tmp_path / "plot.svg"
    save_svg(picture, plot_series(runs))
    ET.fromstring(picture.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.svg", "runs.csv"]


def _headless_plot(*flags: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--samples", "0", *flags],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return out


def test_headless_plot_writes_the_picture_at_the_end(tmp_path):
    out = _headless_plot("--steps", "200", "--holdout", "0.1", "--plot", str(tmp_path / "p.svg"))
    assert f"wrote the loss plot (step 200) to {tmp_path / 'p.svg'}" in out.stdout
    kinds = [p.get("data-line") for p in _paths((tmp_path / "p.svg").read_text())]
    assert {"one-name", "moving-avg", "whole-data", "held-out", "guess", "floor"} <= set(kinds)


def test_a_headless_race_writes_its_plot_with_every_variant(tmp_path):
    """`--headless --race ... --plot F` exited 0 and wrote no picture, saying nothing."""
    out = _headless_plot("--steps", "100", "--race", "lr=0.5,1,2", "--plot", str(tmp_path / "r.svg"))
    assert f"wrote the loss plot of 3 variants (step 100) to {tmp_path / 'r.svg'}" in out.stdout
    text = (tmp_path / "r.svg").read_text()
    kinds = [p.get("data-line") for p in _paths(text)]
    assert {"one-name", "moving-avg", "whole-data", "guess", "floor"} <= set(kinds)  # variant 1, as shown
    assert "lr 1.0" in text and "lr 2.0" in text  # the other two, named by what differs


@pytest.mark.parametrize(("where", "message"), [
    ("missing/p.svg", "--plot {tmp}/missing/p.svg: the folder {tmp}/missing does not exist"),
    ("", "--plot {tmp}: is a directory; give a file name"),
])
def test_headless_plot_is_checked_before_training(tmp_path, where, message):
    path = str(tmp_path / where) if where else str(tmp_path)
    out = subprocess.run([sys.executable, "-m", "tui.console.main", "--headless", "--plot", path],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == f"micromlp-tui: error: {message.format(tmp=tmp_path)}\n"


async def test_the_export_key_writes_both_files_and_says_where(tmp_path):
    from tui.app import DashboardApp
    from tui.plumbing.training_loop import SPEEDS, State

    app = DashboardApp(Run.new(Config(num_steps=100), DOCS), save_path=str(tmp_path / "ck.npz"),
                       speed_index=SPEEDS.index(None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        await pilot.press("n")  # the finished run is kept
        await until(pilot, lambda: app.shown_step == 0 and len(app.runs.list()) == 1)
        await pilot.press("e")
        await until(pilot, lambda: "exported" in app.note)
        assert app.note == f"exported 2 runs to micromlp-runs.csv and the plot to micromlp-plot.svg in {tmp_path}"
        assert "exported 2 runs" in str(app.note_line.render())  # on screen, under the status
        rows = _read((tmp_path / "micromlp-runs.csv").read_bytes())
        assert [r["run"] for r in rows].count("#1") == 101 and rows[-1]["seed"] == "42"
        kinds = [p.get("data-line") for p in _paths((tmp_path / "micromlp-plot.svg").read_text())]
        assert "kept" in kinds and "guess" in kinds
        await pilot.press("7", "j", "h")  # the kept run hidden from the plot: the picture leaves it out too
        await until(pilot, lambda: not app.experiments.ghosts())
        app.note = ""
        await pilot.press("e")
        await until(pilot, lambda: "exported" in app.note)
        kinds = [p.get("data-line") for p in _paths((tmp_path / "micromlp-plot.svg").read_text())]
        assert "kept" not in kinds and "guess" in kinds  # (the current run is at step 0: no line of its own yet)
        assert [r["run"] for r in _read((tmp_path / "micromlp-runs.csv").read_bytes())].count("#1") == 101


async def test_the_palette_exports_too_and_a_failure_says_why(tmp_path):
    from tui.app import DashboardApp

    app = DashboardApp(Run.new(Config(num_steps=100), DOCS), save_path=str(tmp_path / "gone" / "ck.npz"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"export runs")
        await pilot.press("enter")
        await until(pilot, lambda: "not exported" in app.note)
        assert f"{tmp_path}/gone does not exist" in app.note
        assert not (tmp_path / "gone").exists()


def test_the_picture_and_the_csv_need_no_textual():
    code = ("import sys, io; from engine import Config, Run; from engine.export import ExportRun, plot_series, "
            "write_csv; from tui.plumbing.plot_svg import render_svg; r = Run.new(Config(num_steps=20)); "
            "r.track_exact(); "
            "[None for _ in r.steps()]; e = [ExportRun.of_run(r, 'x')]; render_svg(plot_series(e)); "
            "write_csv(e, io.BytesIO()); assert 'textual' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr


def test_plot_series_draws_nothing_it_does_not_have():
    run = Run.new(Config(num_steps=50), DOCS)  # no track, no step yet
    series = plot_series([ExportRun.of_run(run, "x")])
    kinds = [ln.kind for ln in series.lines]
    assert "whole-data" not in kinds and "held-out" not in kinds
    svg = render_svg(series)
    assert {p.get("data-line") for p in _paths(svg)} == {"guess", "floor"}
    assert np.isfinite([series.y_lo, series.y_hi]).all()


def test_a_diverged_run_exports_its_finite_losses_and_marks_the_step():
    run = Run.new(Config(num_steps=200, learning_rate=1e4), DOCS)
    run.track_exact()
    _train(run)
    assert run.diverged_at is not None  # (which step depends on the machine's float paths: not asserted)
    rows = _csv([ExportRun.of_run(run, "x")])
    losses = [float(r["loss"]) for r in rows if r["loss"]]
    assert len(losses) == run.step and all(np.isfinite(losses))  # the non-finite step is not a row
    svg = render_svg(plot_series([ExportRun.of_run(run, "x")]))
    diverged = [p for p in _paths(svg) if p.get("data-line") == "diverged"]
    assert len(diverged) == 1 and diverged[0].find(f"{SVG}title").text == f"diverged at step {run.diverged_at + 1}"


async def test_export_in_a_race_writes_every_variant():
    # a race's point is its variants side by side: the export holds each, not only the one shown
    import tempfile

    from engine.race import Race, race_configs, race_spec
    from tui.app import DashboardApp
    from tui.plumbing.training_loop import State

    race = Race.new(race_configs(Config(num_steps=40), race_spec("lr=0.5,1")), None)
    app = DashboardApp(race)
    async with app.run_test(size=(120, 40)) as pilot:
        app.exporting.paths = type(app.exporting.paths)(Path(tmp_dir := tempfile.mkdtemp()) / "r.csv",
                                                        Path(tmp_dir) / "p.svg")
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED and app.naming.final_names is not None,
                    timeout=60)
        await pilot.pause(0.2)
        await app.run_action("export")  # as the e key (and the palette) do
        await until(pilot, lambda: (Path(tmp_dir) / "p.svg").exists() and "exported" in app.note, timeout=60)
        with open(Path(tmp_dir) / "r.csv", newline="") as f:
            names = {row["run"] for row in csv.DictReader(f)}
        assert names == {"v1", "v2"}
        root = ET.parse(Path(tmp_dir) / "p.svg").getroot()
        titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
        assert any(t and "race variant 2: lr 1.0" in t for t in titles)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_the_lr_column_follows_the_runs_schedule(schedule):
    """A run on another schedule than the tutorial's decay: each step's lr in the CSV is the one its step
    used (the StepRecord's), and the settings columns say which schedule and gradient it trained with."""
    run = Run.new(Config(num_steps=400, learning_rate=0.5, schedule=schedule, gradient="data"), DOCS)
    taken = _train(run, steps=300, halve_at=100)
    rows = _csv([ExportRun.of_run(run, "names.txt")])
    assert rows[0]["schedule"] == schedule and rows[0]["gradient"] == "data"
    got = [float(r["lr"]) for r in rows if r["lr"]]
    assert got == [lr for _, lr in taken]
    assert len(set(got)) == 2 if schedule == "constant" else len(set(got)) > 100  # the halving; cosine's own change


def test_a_whole_data_run_s_picture_says_its_dots_are_whole_data_losses():
    """With --gradient data each step's loss is the whole data's: the picture's key, axis and title say
    so, and nowhere that a step is one name; a schedule other than the tutorial's is named in the title."""
    run = Run.new(Config(num_steps=200, gradient="data", schedule="cosine"), DOCS)
    run.track_exact()
    _train(run, steps=100)
    run.history.set_weight(0.9)
    texts = _texts(render_svg(plot_series([ExportRun.of_run(run, "embedded names")])))
    for label in ("whole-data loss (low/high)", "moving average, smoothing 0.9", "steps (the whole data each)"):
        assert label in texts, label
    assert not [t for t in texts if "one name" in t or "per name" in t]
    assert any(t.startswith("whole-data loss, 100 of 200 steps · lr 1.0 · cosine schedule · ") for t in texts)


def test_a_races_picture_keys_its_other_variants_as_such_and_its_labels_are_whole():
    """QA 14: a race's other variants are not earlier runs: the key says 'other variants' (and both words
    when kept runs are drawn too), and the right margin is as wide as its labels need, none cut."""
    from engine.race import Race, race_configs, race_spec
    from engine.runs import RunSummary
    from tui.plumbing.exporting import race_runs

    race = Race.new(race_configs(Config(num_steps=60), race_spec("schedule=linear,constant gradient=name,data")),
                    DOCS)
    for run in race.runs:
        run.track_exact()
    for _ in race.steps():
        pass
    variants = race_runs(race, 0, "names")
    svg = render_svg(plot_series(variants))
    texts = _texts(svg)
    assert "other variants" in texts and "earlier runs" not in texts
    margin = ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == "margin"]
    assert "v4 constant schedule, whole-data gradient" in margin, margin  # its number and what differs
    assert not [t for t in margin if t.endswith("…")], margin
    width = int(ET.fromstring(svg).get("width"))
    for t in ET.fromstring(svg).iter(f"{SVG}text"):  # every margin label ends inside the picture (7.2 px a char)
        if t.get("class") == "margin":
            assert float(t.get("x")) + 7.2 * len("".join(t.itertext())) <= width, t.text
    kept = Run.new(Config(num_steps=60, seed=3), DOCS)
    _train(kept)
    both = _texts(render_svg(plot_series([*variants, ExportRun.of_summary(RunSummary.of(kept, DOCS), "seed 3")])))
    assert "other variants" in both and "earlier runs" in both


async def test_an_export_names_the_embedded_data_as_the_screen_does(tmp_path):
    """QA: the screen said `census names (5,163)` and the CSV's data column and the picture's title
    `embedded names`: one data, two names."""
    from tui.app import DashboardApp
    from tui.plumbing.training_loop import SPEEDS, State

    app = DashboardApp(Run.new(Config(num_steps=30)), save_path=str(tmp_path / "ck.npz"),
                       speed_index=SPEEDS.index(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.shown_state == State.FINISHED)
        on_screen = app.run_line().split(" (")[0]  # "census names (5,163) · lr ...": the status's run line
        await pilot.press("e")
        await until(pilot, lambda: "exported" in app.note)
    rows = _read((tmp_path / "micromlp-runs.csv").read_bytes())
    assert {r["data"] for r in rows} == {on_screen}
    assert on_screen in (tmp_path / "micromlp-plot.svg").read_text()
