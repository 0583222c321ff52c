"""The exported picture's right margin (QA: after three ready-made races, `e` wrote a picture whose run
labels ran down past the frame over the x axis's `1,000`, pushing the floor's label 113 px below its
line): the reference lines' labels sit beside their lines, the runs' and variants' labels within the plot
area's height near where their lines end, none on the wrong side of a reference line, none over another
or over a tick label; a label with no place is left out and its line named in the key instead."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pytest

from engine import Config, Run
from engine.export import ExportRun, Line, PlotSeries, plot_series
from engine.race import Race, race_configs, race_spec
from engine.runs import RunRegistry
from tui.plumbing.exporting import race_runs
from tui.plumbing.line_colours import kept_colour
from tui.plumbing.plot_svg import render_svg

SVG = "{http://www.w3.org/2000/svg}"
CHAR = 7.2  # a character's width at font-size 12 in the picture's monospace font
ASCENT, DESCENT = 9.0, 3.0  # a line of text's ink above and below its baseline at font-size 12 (capitals, commas)
NEAR = 2.0  # px: a reference's label is beside its line (its middle, 4 px above its baseline, on the line)


@dataclass(frozen=True)
class Box:
    x0: float
    x1: float
    y0: float
    y1: float
    text: str

    def meets(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    @property
    def middle(self) -> float:  # where the label points: 4 px above its baseline (the writer's and the reader's)
        return self.y1 - DESCENT - 4


def box(t: ET.Element) -> Box:
    """A text element's ink box, from its own attributes (its anchor, its length in characters)."""
    text = "".join(t.itertext())
    x, y, w = float(t.get("x")), float(t.get("y")), CHAR * len(text)
    x0 = {"middle": x - w / 2, "end": x - w}.get(t.get("text-anchor", "start"), x)
    return Box(x0, x0 + w, y - ASCENT, y + DESCENT, text)


@dataclass
class Picture:
    root: ET.Element
    top: float
    bottom: float
    margin: list[Box]  # the right margin's labels
    ticks: list[Box]  # the x axis's tick labels
    key: list[str]  # the key's words
    key_boxes: list[Box]
    paths: list[ET.Element]

    def line_y(self, kind: str) -> float:
        d = next(p.get("d") for p in self.paths if p.get("data-line") == kind)
        return float(re.match(r"M[\d.]+ ([\d.]+)H", d).group(1))

    def label_of(self, text: str) -> Box | None:
        return next((b for b in self.margin if b.text == text), None)


def picture(svg: str) -> Picture:
    root = ET.fromstring(svg)
    area = root.find(f"{SVG}clipPath/{SVG}rect")
    top = float(area.get("y"))
    texts = list(root.iter(f"{SVG}text"))
    key = [box(t) for g in root.iter(f"{SVG}g") if g.get("class") == "key" for t in g.iter(f"{SVG}text")]
    return Picture(root, top, top + float(area.get("height")), [box(t) for t in texts if t.get("class") == "margin"],
                   [box(t) for t in texts if t.get("class") == "x-tick"], [b.text for b in key], key,
                   list(root.iter(f"{SVG}path")))


def assert_the_margin_is_clean(pic: Picture) -> None:
    assert pic.margin
    for b in pic.margin:
        assert pic.top <= b.y0 and b.y1 <= pic.bottom, (b, pic.top, pic.bottom)  # within the plot's height
        for t in pic.ticks:
            assert not b.meets(t), (b, t)  # clear of the x axis's numbers
    for i, a in enumerate(pic.margin):
        for b in pic.margin[i + 1 :]:
            assert not a.meets(b), (a, b)
    width = float(pic.root.get("width"))
    for b in pic.key_boxes:  # the key, however many rows the lines it names take, stays above the plot
        assert b.y1 <= pic.top and b.x1 <= width, (b, pic.top)


def names_of_lines(pic: Picture) -> dict[str, str]:
    """Each run's or variant's line: its title (what it is) -> what its label says."""
    return {p.find(f"{SVG}title").text: p.get("data-label") or p.find(f"{SVG}title").text
            for p in pic.paths if p.get("data-line") in ("kept", "variant", "baseline")}


def train(run: Run) -> Run:
    for _ in run.steps():
        pass
    return run


@pytest.fixture(scope="module")
def qa_picture(request) -> Picture:
    """The QA's picture, smaller: a race of the five widths (the ready-made "widths 4 .. 64") after the
    eight seeds (kept, as a new race keeps every variant), exported as `e` does."""
    from conftest import SHARED_NAMES

    if not SHARED_NAMES.is_file():
        pytest.skip(f"{SHARED_NAMES} not present")
    names = SHARED_NAMES.read_text().split()
    reg = RunRegistry()
    for seed in range(1, 9):
        reg.keep(train(Run.new(Config(seed=seed, n_embd=16), names)), "names.txt")
    race = Race.new(race_configs(Config(), race_spec("n-embd=4,8,16,32,64")), names)
    for run in race.runs:
        run.track_exact()
    for _ in race.steps():
        pass
    labels = reg.labels(race.runs[0].config, "names.txt")
    kept = [ExportRun.of_summary(r, labels[r.id], False, kept_colour(r.id, True)) for r in reg.list()]
    return picture(render_svg(plot_series([*race_runs(race, 0, "names.txt"), *kept])))


def test_after_three_races_the_margin_stays_in_the_plot_clear_of_the_x_axis(qa_picture):
    pic = qa_picture
    assert len(names_of_lines(pic)) == 12  # 4 other variants and 8 kept runs
    assert_the_margin_is_clean(pic)


def test_after_three_races_the_references_are_labelled_beside_their_lines(qa_picture):
    pic = qa_picture
    for kind, words in (("floor", "bigram floor"), ("guess", "random guess")):
        label = next(b for b in pic.margin if b.text.startswith(words))
        assert abs(label.middle - pic.line_y(kind)) <= NEAR, (kind, label, pic.line_y(kind))


def test_after_three_races_every_line_is_named_at_right_or_in_the_key(qa_picture):
    pic = qa_picture
    margin = {b.text for b in pic.margin}
    for title, label in names_of_lines(qa_picture).items():
        assert label in margin or label in pic.key, (title, label)


# --- made-up lines: where each ends is exact, on any CPU ---------------------------------------------
FLOOR, GUESS = 2.0, 3.3


def series(ends: list[tuple[str, float]], kind: str = "kept", steps: int = 1000) -> PlotSeries:
    """A picture's figures with a flat current run and a line per (label, where it ends) of `kind`."""
    x = np.arange(1, steps + 1, dtype=np.float64)
    lines = [Line("moving average", "moving-avg", x, np.full(steps, 2.6))]
    for i, (label, end) in enumerate(ends):
        lines.append(Line(label, kind, x, np.linspace(GUESS, end, steps), colour=i + 1))
    return PlotSeries(steps, 1.8, 3.4, lines, [(GUESS, "guess", f"random guess {GUESS:.3f}"),
                                                 (FLOOR, "floor", f"bigram floor {FLOOR:.3f}")],
                      [0, 250, 500, 750, 1000], [1.8, 2.0, 2.2, 2.4, 2.6, 2.8, 3.0, 3.2, 3.4], "made up")


def end_y(pic: Picture, title: str) -> float:
    p = next(p for p in pic.paths if p.find(f"{SVG}title").text == title)
    return float(re.findall(r"(-?[\d.]+) (-?[\d.]+)", p.get("d"))[-1][1])


def test_lines_ending_at_the_bottom_are_labelled_inside_the_frame():
    """Twelve runs ending just above the axis's foot: their labels cannot all be beside their ends; those
    that can are, inside the frame, and the others are named in the key."""
    ends = [(f"#{i} seed {i}", 1.82 + 0.004 * i) for i in range(1, 13)]
    pic = picture(render_svg(series(ends)))
    assert_the_margin_is_clean(pic)
    shown = {b.text for b in pic.margin}
    assert {f"#{i} seed {i}" for i in range(1, 13)} <= shown | set(pic.key)
    assert 2 <= len(shown & {label for label, _ in ends}) < 12  # some fit, not all
    for label, _ in ends:
        b = pic.label_of(label)
        if b is not None:  # near where its line ends: at most three labels' heights away
            assert abs(b.middle - end_y(pic, label)) <= 3 * 13 + 0.5, (label, b, end_y(pic, label))


def test_a_label_never_sits_across_a_reference_line_from_its_lines_end():
    """Runs ending just above and just below the floor, more than fit beside it: each label stays on its
    line's side of the floor (the terminal plot's rule), and the floor's label stays on its line."""
    ends = [(f"#{i} above", FLOOR + 0.004 * i) for i in range(1, 6)] + \
           [(f"#{i} below", FLOOR - 0.004 * (i - 5)) for i in range(6, 11)]
    pic = picture(render_svg(series(ends)))
    assert_the_margin_is_clean(pic)
    floor = pic.line_y("floor")
    assert abs(pic.label_of(f"bigram floor {FLOOR:.3f}").middle - floor) <= NEAR
    placed = 0
    for label, _ in ends:
        b = pic.label_of(label)
        if b is None:
            assert label in pic.key
            continue
        placed += 1
        if end_y(pic, label) < floor:  # ends above the floor (smaller y): labelled wholly above it
            assert b.y1 <= floor, (label, b, floor)
        else:
            assert b.y0 >= floor, (label, b, floor)
    assert placed >= 4


def test_labels_keep_the_order_of_their_lines_ends():
    ends = [(f"#{i} lr {i}", v) for i, v in enumerate((2.5, 2.51, 2.49, 2.52, 2.48, 2.3, 2.9), start=1)]
    pic = picture(render_svg(series(ends)))
    assert_the_margin_is_clean(pic)
    shown = [(end_y(pic, label), pic.label_of(label).middle) for label, _ in ends if pic.label_of(label)]
    assert len(shown) >= 5
    assert [m for _, m in sorted(shown)] == sorted(m for _, m in shown)  # a higher end, a higher label


def test_a_lone_line_is_labelled_where_it_ends():
    pic = picture(render_svg(series([("#1 lr 0.5", 2.7)])))
    assert abs(pic.label_of("#1 lr 0.5").middle - end_y(pic, "#1 lr 0.5")) <= NEAR
