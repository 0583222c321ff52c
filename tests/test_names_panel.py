"""The names panel on its own: batches as data, laid out in aligned columns at any width, replaced in
place, cleared for a new run, the final samples in the tutorial's format, in-train / new marks, and
names from data escaped, never parsed as markup."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers import until
from textual.app import App, ComposeResult

import tui
from engine import Config, Dataset, Run
from tui.app import DashboardApp
from tui.plumbing.training_loop import SPEEDS
from tui.widgets.names_panel import CUT_MARK, KNOWN_MARK, NamesPanel, cell_width

ROOT = Path(__file__).resolve().parent.parent
APP_CSS = Path(tui.__file__).parent / "app.tcss"
NAMES = ["emma", "a", "zoltanbartholomew", "ava", "", "kai", "olivia", "mia"]


class NamesApp(App[None]):
    CSS_PATH = APP_CSS
    CSS = "#names { width: 100%; max-width: 100%; height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield NamesPanel(id="names")


def cells_of(line: str, cell: int) -> list[str]:
    """The names in a laid-out line, read cell by cell (a cell is `cell` columns from a multiple of it)."""
    out = []
    for at in range(0, len(line.rstrip()), cell):
        text = line[at : at + cell]
        assert text[0] != " ", f"a name does not start at column {at}: {line!r}"
        out.append(text.rstrip().removesuffix(KNOWN_MARK))
    return out


def names_in(panel: NamesPanel, heading_lines: int = 1) -> list[str]:
    cell = cell_width(NAMES)
    return [n for line in panel.text_lines[heading_lines:] for n in cells_of(line, cell)]


async def test_a_batch_is_aligned_columns_one_name_per_cell():
    app = NamesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 10 · T 0.50", NAMES)
        await pilot.pause()
        width = panel.scrollable_content_region.width
        cell = cell_width(NAMES)
        assert cell == len("zoltanbartholomew") + 2
        lines = panel.text_lines
        assert lines[0].startswith("step 10 · T 0.50")
        assert names_in(panel) == [n or "(empty)" for n in NAMES]
        assert len(lines) == 1 + -(-len(NAMES) // ((width + 1) // cell))  # as many columns as fit
        assert (width + 1) // cell >= 2 and all(len(line) == width for line in lines)


async def test_a_resize_lays_the_names_out_again_uncut_and_scrolled_to_the_newest():
    app = NamesApp()
    async with app.run_test(size=(100, 12)) as pilot:
        panel = app.query_one(NamesPanel)
        for i in range(6):
            panel.add_batch(f"step {i} · T 0.50", NAMES)
        shown_columns = []
        for size in ((100, 12), (40, 12), (26, 12), (100, 12), (60, 30)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            width = panel.scrollable_content_region.width
            lines = panel.text_lines
            assert all(len(line) <= width for line in lines)
            per_batch = len(lines) // 6
            assert [line.rstrip() for line in lines[::per_batch]] == [f"step {i} · T 0.50" for i in range(6)]
            got = [n for b in range(6) for line in lines[b * per_batch + 1 : (b + 1) * per_batch]
                   for n in cells_of(line, cell_width(NAMES))]
            assert got == [n or "(empty)" for n in NAMES] * 6  # every name, whole, in order
            assert panel.max_scroll_y > 0 and panel.scroll_offset.y == panel.max_scroll_y  # the newest in view
            assert panel.render_line(panel.scrollable_content_region.height - 1).text.strip() == lines[-1].strip()
            shown_columns.append(per_batch)
        assert shown_columns[0] < shown_columns[2]  # narrower: fewer columns, more lines


async def test_a_name_wider_than_the_panel_is_shown_in_pieces():
    app = NamesApp()
    async with app.run_test(size=(12, 10)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 1", ["abcdefghijklmno", "ab"])
        await pilot.pause()
        width = panel.scrollable_content_region.width
        assert width < 15
        assert "".join(line.strip() for line in panel.text_lines[1:]) == "abcdefghijklmnoab"


async def test_a_temperature_change_replaces_the_newest_batch_in_place():
    app = NamesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 1 · T 0.50", NAMES)
        panel.add_batch("step 2 · T 0.50", ["bob", "al"])
        before = panel.text_lines
        panel.replace_last("step 2 · T 0.60 · same draws", ["bobby", "alan"])
        await pilot.pause()
        assert panel.batches == 2
        assert panel.last == ("step 2 · T 0.60 · same draws", ["bobby", "alan"])
        after = panel.text_lines
        assert after[:-2] == before[:-2] and len(after) == len(before)
        assert after[-2].startswith("step 2 · T 0.60 · same draws") and after[-1].split() == ["bobby", "alan"]


async def test_clear_starts_a_new_run_with_its_heading():
    app = NamesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 1", NAMES)
        panel.clear("a new run: seed 43")
        panel.add_batch("step 0 · reset", ["x"])
        await pilot.pause()
        assert panel.batches == 1
        assert [line.rstrip() for line in panel.text_lines] == ["a new run: seed 43", "step 0 · reset", "x"]


async def test_the_final_samples_are_listed_in_the_tutorials_format():
    app = NamesApp()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(NamesPanel)
        names = [f"n{i}" for i in range(12)]
        panel.show_final(names, 0.5, known=[i % 3 == 0 for i in range(12)])
        await pilot.pause()
        lines = [line.rstrip() for line in panel.text_lines]
        assert lines[0] == "finished: 12 samples · T 0.50 · 8/12 new"
        assert lines[1] == "sample  1: n0" + KNOWN_MARK and lines[2] == "sample  2: n1"
        assert lines[12] == "sample 12: n11"
        assert panel.last == ("finished: 12 samples · T 0.50", names)


async def test_names_in_the_training_data_are_marked_and_the_new_ones_counted():
    app = NamesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 5", ["emma", "zyx", "ava", "qqq"], known=[True, False, True, False])
        await pilot.pause()
        assert panel.text_lines[0].startswith("step 5 · 2/4 new")
        new = panel.get_component_rich_style("names-panel--new")
        known = panel.get_component_rich_style("names-panel--known")
        assert new.bold and not known.bold and new != known
        segments = [(s.text, s.style) for s in panel.batch_lines(panel._batches[-1], 60)[1]]
        assert ("emma", known) in segments and ("zyx", new) in segments
        assert (KNOWN_MARK + " " * 2, known) in segments  # cell 6 = "emma" + mark + 1 gap
        assert panel.text_lines[1].split() == ["emma" + KNOWN_MARK, "zyx", "ava" + KNOWN_MARK, "qqq"]


async def test_a_heading_is_one_line_the_least_important_parts_left_out():
    app = NamesApp()
    async with app.run_test(size=(24, 12)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.show_final(["emma", "zyx"], 0.5, known=[True, False])
        await pilot.pause()
        width = panel.scrollable_content_region.width
        assert width < len("finished: 2 samples · T 0.50 · 1/2 new")
        assert panel.text_lines[0].rstrip() == "finished · T 0.50"  # shortened: the count of names goes
        assert panel.text_lines[1].startswith("sample  1: emma")
        for w, expected in ((40, "finished: 2 samples · T 0.50 · 1/2 new"), (30, "finished · T 0.50 · 1/2 new"),
                            (18, "finished · T 0.50"), (8, "finished")):
            assert panel.batch_lines(panel._batches[-1], w)[0].text.rstrip() == expected, w
        panel.add_batch("step 212 · T 0.50 · same draws", ["ab", "cd"], known=[False, False])
        lines = [s.text.rstrip() for s in panel.batch_lines(panel._batches[-1], 30)]
        assert lines[0] == "step 212 · T 0.50 · 2/2 new"  # the reason goes first
        lines = [s.text.rstrip() for s in panel.batch_lines(panel._batches[-1], 12)]
        assert lines[0] == "step 212"


async def test_a_first_part_wider_than_the_panel_wraps_between_words():
    app = NamesApp()
    async with app.run_test(size=(14, 12)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.clear("a new run: seed 42, 1,000 steps")
        await pilot.pause()
        width = panel.scrollable_content_region.width
        lines = [line.rstrip() for line in panel.text_lines]
        assert len(lines) >= 2 and all(len(line) <= width for line in lines)
        assert " ".join(lines) == "a new run: seed 42, 1,000 steps"


async def test_a_scrolled_out_heading_is_pinned_over_its_names():
    app = NamesApp()
    async with app.run_test(size=(40, 10)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 5 · T 0.50", ["ab", "cd"], known=[False, False])
        names = [f"n{i}" for i in range(20)]
        panel.show_final(names, 0.5, known=[i % 2 == 0 for i in range(20)])
        await pilot.pause()
        shown = [line.rstrip() for line in panel.shown_lines]
        assert panel.scroll_offset.y > 1  # scrolled to the newest: its heading is above the view
        assert shown[0] == "finished · T 0.50 · 10/20 new"  # pinned on the top row
        assert shown[-1] == "sample 20: n19"
        assert not any(line.startswith("·") for line in shown)
        panel.scroll_to(y=0, animate=False)
        await pilot.pause()
        shown = [line.rstrip() for line in panel.shown_lines]
        assert shown[:2] == ["step 5 · T 0.50 · 2/2 new", "ab  cd"]  # at the top: nothing pinned


async def test_a_name_cut_at_the_samplers_limit_is_marked():
    app = NamesApp()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        assert panel.max_len == 16  # the page's block size
        cut, whole = "abcdefghijklmnop", "abcdefghijklmno"  # 16 tokens: never reached BOS; 15: ended
        panel.add_batch("step 1", [cut, whole, "emma"], known=[False, False, True])
        panel.show_final([cut, whole], 0.5, known=[False, False])
        await pilot.pause()
        lines = [line.rstrip() for line in panel.text_lines]
        assert lines[1].split() == [cut + CUT_MARK, whole, "emma" + KNOWN_MARK]
        assert lines[-2:] == ["sample  1: " + cut + CUT_MARK, "sample  2: " + whole]
        panel.max_len = 20  # another run's limit: 16 letters are a whole name there
        panel.clear()
        panel.add_batch("step 1", [cut])
        assert panel.text_lines[1].rstrip() == cut


async def test_control_characters_are_escaped_and_markup_is_not_parsed():
    app = NamesApp()
    async with app.run_test(size=(80, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 1", ["a\x1b[31mb", "[bold]x[/bold]", "l\u200bm"])
        await pilot.pause()
        text = "\n".join(panel.text_lines)
        assert "a\\x1b[31mb" in text and "[bold]x[/bold]" in text and "l\\u200bm" in text
        assert "\x1b" not in text and "\u200b" not in text
        drawn = "".join(panel.render_line(y).text for y in range(panel.scrollable_content_region.height))
        assert "a\\x1b[31mb" in drawn and "[bold]x[/bold]" in drawn and "\x1b" not in drawn


def test_the_dataset_knows_its_training_names():
    ds = Dataset.from_docs(["emma", "ava", "Zoë"], random.Random(0))
    assert ds.is_training_name("emma") and ds.is_training_name("Zoë")
    assert not ds.is_training_name("em") and not ds.is_training_name("") and not ds.is_training_name("Emma")


async def test_in_the_dashboard_a_temperature_change_resamples_in_place_and_reset_clears():
    app = DashboardApp(Run.new(Config(num_steps=100)), speed_index=SPEEDS.index(100))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("g", "g")
        assert app.names.batches == 3
        await pilot.press("plus", "plus", "minus")
        assert app.names.batches == 3 and app.names.last[0].endswith("T 0.50→0.60")  # drawn at 0.50, now 0.60
        await pilot.press("r")
        for _ in range(100):
            if app.names.batches == 1:
                break
            await pilot.pause(0.05)
        lines = [line.rstrip() for line in app.names.text_lines]
        assert lines[0] == "a new run: same settings" and lines[1] == "step 0 · T 0.60 · 8/8 new"
        assert all(len(line) <= app.names.scrollable_content_region.width for line in lines)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_at_the_end_the_final_heading_stays_in_view_on_one_line(size):
    app = DashboardApp(Run.new(Config(num_steps=60)), speed_index=SPEEDS.index(None))
    async with app.run_test(size=size) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: app.names.last[0].startswith("finished"))
        # the panel scrolls to the newest batch on its next refresh (later under load): wait for it
        await until(pilot, lambda: app.names.shown_lines[-1] == app.names.text_lines[-1])
        width = app.names.scrollable_content_region.width
        shown = [line.rstrip() for line in app.names.shown_lines]
        assert shown[0].startswith("finished · T 0.50"), shown[0]  # pinned, whole
        assert shown[0].endswith("/20 new") or size[0] < 100  # the count of new names where it fits
        final = app.names.text_lines[[line.startswith("finished") for line in app.names.text_lines].index(True) + 1:]
        assert len(final) == 20 and shown[-1] == final[-1].rstrip()  # the 20th sample, on the bottom row
        assert not any(line.startswith("·") for line in shown)
        headings = [line for line in app.names.text_lines if line.startswith(("step ", "finished"))]
        assert headings and all(len(line.rstrip()) <= width for line in headings)
        following = app.names.text_lines[app.names.text_lines.index(headings[0]) + 1]
        assert not following.startswith(("·", "T ")) and "new" not in following  # no heading wrapped


def test_the_help_says_names_are_cut_at_16_and_how_a_cut_name_looks():
    from tui.widgets.help_panel import SECTIONS

    names = " ".join(next(text for title, text in SECTIONS if "names" in title.lower()))
    assert "16 characters" in names and f"'{CUT_MARK}'" in names


async def test_new_batches_under_a_shown_scrollbar_need_no_layout_and_the_newest_is_on_screen():
    """A batch comes every 2 s while training: once the scrollbar shows, a new one scrolls the panel to
    it and moves the scrollbar's thumb to the bottom without a layout of the whole screen."""
    app = NamesApp()
    async with app.run_test(size=(40, 10)) as pilot:
        panel = app.query_one(NamesPanel)
        for i in range(6):
            panel.add_batch(f"step {i} · T 1.00", NAMES, known=[False] * len(NAMES))
        await pilot.pause()
        assert panel.show_vertical_scrollbar
        layouts = []
        original = app.screen._refresh_layout
        app.screen._refresh_layout = lambda *a, **k: layouts.append(1) or original(*a, **k)  # type: ignore
        for i in range(6, 9):
            panel.add_batch(f"step {i} · T 1.00", ["zed", "quinn"], known=[False, False])
            await pilot.pause()
            await pilot.pause()
            shown = [line.rstrip() for line in panel.shown_lines]
            assert shown[-2] == f"step {i} · T 1.00 · 2/2 new" and shown[-1].split() == ["zed", "quinn"]
            bar = panel.vertical_scrollbar
            assert bar.window_virtual_size == len(panel.text_lines)  # the thumb's range is the new length
            assert panel.scroll_offset.y == panel.max_scroll_y > 0  # at the newest
        assert layouts == []


@pytest.mark.parametrize("columns", [14, 18, 21, 24, 30, 40])
async def test_in_a_narrow_panel_the_final_samples_lose_their_number_before_a_letter(columns):
    app = NamesApp()
    cut, names = "abcdefghijklmnop", ["jrieliare", "emma", "abcdefghijklmnop", "li"]  # the third never reached BOS
    async with app.run_test(size=(columns, 20)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.show_final(names * 3, 0.5, known=[n == "emma" for n in names * 3])
        await pilot.pause()
        width = panel.scrollable_content_region.width
        lines = [line.rstrip() for line in panel.text_lines][-12:]
    widest = len(cut + CUT_MARK)
    for i, (line, name) in enumerate(zip(lines, names * 3), start=1):
        shown = name + (CUT_MARK if name == cut else KNOWN_MARK if name == "emma" else "")
        if len(f"sample 12: {cut}{CUT_MARK}") <= width:
            assert line == f"sample {i:2d}: {shown}"  # the tutorial's format
        elif len(f"12: {cut}{CUT_MARK}") <= width:
            assert line == f"{i:2d}: {shown}"
        elif widest <= width:
            assert line == shown  # no number, every letter
        else:
            assert line == shown or (len(line) == width and line.endswith(CUT_MARK)), line


async def test_the_names_follow_a_theme_change_at_once():
    """QA: after a theme change the headings kept the theme before's colour (navy on black once back to
    the dark theme): they are laid out again in the new theme's styles."""
    app = DashboardApp(Run.new(Config(num_steps=300)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        names = app.names

        def heading_colour():
            rows = [list(names.render_line(y)) for y in range(names.scrollable_content_region.height)]
            row = next(row for row in rows if row and row[0].text.startswith("step "))  # a batch's heading
            return row[0].style.color

        for theme in ("textual-light", "textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause(0.3)
            assert heading_colour() == names.get_component_rich_style("names-panel--heading").color, theme


async def test_a_heading_is_not_pinned_over_its_batchs_last_line_when_the_next_heading_is_right_under_it():
    """QA (80x24): two headings stacked on the top rows, the first batch's names all scrolled away: its
    heading was pinned over its last line though nothing of that batch showed under it."""
    app = NamesApp()
    async with app.run_test(size=(40, 10)) as pilot:
        panel = app.query_one(NamesPanel)
        panel.add_batch("step 5 · T 0.50", [f"a{i}" for i in range(40)], known=[False] * 40)
        panel.add_batch("step 9 · T 0.50", [f"b{i}" for i in range(40)], known=[False] * 40)
        await pilot.pause()
        lines = [line.rstrip() for line in panel.text_lines]
        second = lines.index("step 9 · T 0.50 · 40/40 new")
        for top in range(1, second + 1):  # every scroll at which the first batch's heading is above the view
            panel.scroll_to(y=top, animate=False)
            await pilot.pause()
            top = panel.scroll_offset.y  # (as far as it scrolls)
            shown = [line.rstrip() for line in panel.shown_lines]
            if top < second - 1:  # some of its names under the top row: its heading pinned over them
                assert shown[0] == "step 5 · T 0.50 · 40/40 new", (top, shown)
            else:  # its last line alone, the next heading under it (or at the top): no heading pinned
                assert shown[0] == lines[top] and shown[0] != "step 5 · T 0.50 · 40/40 new", (top, shown)


def test_the_help_and_the_readme_say_what_an_empty_name_is():
    """QA: `(empty)` showed in the first batch of every default run and neither said what it was."""
    from tui.widgets.help_panel import SECTIONS
    from tui.widgets.names_panel import EMPTY

    text = " ".join(p for title, paras in SECTIONS if title == "Generated names" for p in paras)
    readme = (ROOT / "README.md").read_text()
    assert f"'{EMPTY}' is a name the model ended at once" in text
    assert f"`{EMPTY}` is a name the model ended at once" in readme
