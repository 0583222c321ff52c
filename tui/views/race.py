"""View 8, the race: every variant ranked live by its whole-data loss (engine.race.standings), each row
in the colour of its line on the plot and naming what differs. The picked variant (the one the names,
the next-token chart and the other views show, and the plot draws as its main line) is marked ▶; a
click on a row, or `v` / `V`, picks another; its ⠒ is in the moving average's colour, as the plot
draws it. Where the panel has no room for every row, the picked variant's row stays in view and the
head says how many more there are (`+2 more`). A ready race (engine.race.READY_RACES, however started)
says under the rows, where there is room, what to look for in it (the note line cuts it). Outside a race
it says how to start one. Lines of
words that do not fit take a shorter form, or end with `…`."""

from __future__ import annotations

import textwrap
from collections.abc import Hashable

from rich.segment import Segment
from rich.style import Style

from engine.race import READY_RACES, Standing, ready_race_of
from tui.plumbing import wording
from tui.plumbing.line_colours import LINE_STYLES, colour_of, line_style
from tui.views import ViewInputs
from tui.views.view import Palette, Row, View

NO_RACE = ("no race: ctrl+p and 'race' offers ready-made ones, o has a race field, or start with "
           "--race SETTING=V1,V2,...",
           "no race: ctrl+p and 'race' offers ready-made ones, o has a race field",
           "no race: ctrl+p 'race' or o starts one")
TITLE = ("race: ranked by whole-data loss · v / V or a click on a row picks the variant shown · ⠒ its line's "
         "colour on the plot",
         "race: ranked by whole-data loss · v / V or a click picks the one shown · ⠒ its line's colour",
         "race: ranked by whole-data loss · v / V picks the one shown · ⠒ its plot colour",
         "race: ranked by whole-data loss · v / V or a click picks the variant shown",
         "race: ranked by whole-data loss · v / V picks one")


def look_lines(look: str, width: int, rows: int) -> list[str]:
    """A ready race's 'what to look for' in at most `rows` lines of `width`, wrapped between words; the
    last line ends with … if the words need more."""
    lines = textwrap.wrap(f"what to look for: {look}", max(width, 1), break_on_hyphens=False)
    if len(lines) > rows:
        lines = lines[:rows]
        lines[-1] = lines[-1][: max(width - 1, 0)].rstrip() + "…"
    return lines


def _more(rows: list[tuple[int, Standing]], kept: list[tuple[int, Standing]]) -> list[str]:
    """What the board leaves out, longest first: '  +2 more: variants 2, 6 (6 diverged)', '  +2 more: 2, 6
    (6 diverged)', '  +2 more' (a diverged variant is named: in "learning rates 0.1 .. 5" it is what to look
    for, and the last row, QA; 'variants': the numbers are theirs, not ranks)."""
    shown = {s.number for _, s in kept}
    left = [s for _, s in rows if s.number not in shown]
    wild = [str(s.number) for s in left if s.diverged_at is not None]
    numbers = ", ".join(str(s.number) for s in left) + (f" ({', '.join(wild)} diverged)" if wild else "")
    return [f"  +{len(left)} more: variant{'s' if len(left) > 1 else ''} {numbers}", f"  +{len(left)} more: {numbers}",
            f"  +{len(left)} more"]


def _keep_picked(rows: list[tuple[int, Standing]], room: int, picked: int) -> list[tuple[int, Standing]]:
    """The first `room` rows by rank, the picked variant's always among them (in place of the last)."""
    shown = rows[:room]
    if room and all(s.number - 1 != picked for _, s in shown):
        mine = [(place, s) for place, s in rows if s.number - 1 == picked]
        shown = shown[: room - 1] + mine[:1] if mine else shown
    return shown


class RaceView(View):
    COMPONENT_CLASSES = View.COMPONENT_CLASSES | {f"view--{name}" for name in LINE_STYLES} | {"view--ema"}
    STYLE_NAMES = (*View.STYLE_NAMES, *LINE_STYLES, "ema")  # looked up once a theme (Palette), not once a row

    def inputs_key(self, inputs: ViewInputs) -> Hashable:
        race = inputs.race
        # and the smoothing weight (the variants share it): a new one changes every average, no step taken
        weight = race.runs[0].history.weight if race is not None else None
        return (id(race), inputs.race_step, inputs.picked, inputs.race_drawn, inputs.state, weight)

    def compute(self, inputs: ViewInputs) -> object:
        if inputs.race is None:
            return None, (), inputs.picked, inputs.race_drawn, False, None
        held = inputs.race.runs[0].heldout is not None  # a column for the held-out loss
        ready = ready_race_of(inputs.race.variants)
        # the places as the snapshot took them, between two steps: read live, one row could be a step
        # ahead of the others (each variant's step is noted in turn)
        return (inputs.race.num_steps, list(inputs.standings), inputs.picked, inputs.race_drawn, held,
                None if ready is None else ready[2])

    def render_rows(self, figures: object, width: int, height: int, palette: Palette) -> list[Row]:
        total: int | None
        table: list[Standing]
        picked: int
        drawn: tuple[int, ...]
        held: bool
        look: str | None
        total, table, picked, drawn, held, look = figures  # type: ignore[misc]
        title, label, dim, pick = (palette.style[n] for n in ("title", "label", "dim", "pick"))
        if total is None:
            out: list[Row] = [[Segment(wording.first_fit(NO_RACE, width), title)]]
            room = max(height - 1, 0)
            shown = READY_RACES if len(READY_RACES) <= room else READY_RACES[: max(room - 1, 0)]
            for name, spec, _ in shown:
                out.append([Segment(wording.first_fit([f"  {name:<38} {spec}", f"  {name} {spec}"], width), label)])
            if len(shown) < len(READY_RACES) and room:  # the rest are in the palette (QA: one went unsaid)
                rest = len(READY_RACES) - len(shown)
                out.append([Segment(wording.first_fit([f"  +{rest} more in the palette (ctrl+p, 'race')",
                                                       f"  +{rest} more: ctrl+p"], width), label)])
            return out
        what = max([len(s.label) for s in table] + [7]) + 2
        head = f"{'':4}{'#':>2} {'variant':<{what}}{'steps':>13}{'whole-data':>11}" + \
            (f"{'held-out':>10}" if held else "") + f"{'avg':>8}"
        out = [[Segment(head, label)]]
        if height >= len(table) + 2:  # the title where there is room: every variant's row comes first
            out.insert(0, [Segment(wording.first_fit(TITLE, width), title)])
        rows = list(enumerate(table, start=1))
        room = max(height - len(out), 0)
        if len(rows) > room:  # no room for every row: the shown variant's stays, and what is left out is said:
            kept = _keep_picked(rows, room, picked)  # beside the head if it fits there whole, else on a row of
            forms = _more(rows, kept)  # its own (a row fewer), else the count alone beside the head
            if len(head) + len(forms[-2]) > width and room > 1:  # (the numbers at least)
                room -= 1
                kept = _keep_picked(rows, room, picked)
                out += [self._row(s, place, total, what, held, s.number - 1 == picked, s.number in drawn, palette,
                                  pick, dim) for place, s in kept]
                return out + [[Segment(wording.first_fit([m.strip() for m in _more(rows, kept)], width), label)]]
            out[-1] = [Segment(wording.first_fit([head + m for m in forms] + [m.strip() for m in forms], width),
                               label)]  # the count first
            rows = kept
        for place, s in rows:
            out.append(self._row(s, place, total, what, held, s.number - 1 == picked, s.number in drawn, palette,
                                 pick, dim))
        room = height - len(out)
        if look is not None and room >= 2:  # a ready race: what to look for (under a blank row if it fits)
            lines = look_lines(look, width, room)
            gap = [[Segment("", label)]] if len(lines) < room and not lines[-1].endswith("…") else []
            out += gap + [[Segment(line, label)] for line in lines]
        return out

    def _row(self, s: Standing, place: int, total: int, what: int, held: bool, is_picked: bool, drawn: bool,
             palette: Palette, pick: Style, dim: Style) -> Row:
        colour = palette.style[line_style(colour_of(s.number))]
        click = Style(meta={"@click": f"app.pick_variant({s.number - 1})"})
        steps = f"diverged {s.diverged_at + 1:,}" if s.diverged_at is not None else f"{s.step:,}/{total:,}"
        mark = "▶" if is_picked else " "
        glyph = "⠒" if drawn or is_picked else " "
        if is_picked:  # the plot draws the variant shown as the current run: in the moving average's colour
            colour = palette.style["ema"]
        # as the status line writes them (a diverged one's: measured at the weights it stopped with, and the
        # average of its finite losses)
        text = f"{s.number:>2} {s.label:<{what}}{steps:>13}{wording.loss(s.whole):>11}"
        if held:
            text += f"{wording.loss(s.heldout):>10}"
        text += f"{wording.average(s.ema):>8}"
        if s.dead:  # stuck at the guess: nothing on the row said why (QA: lr 2 on the tutorial's names)
            text += "  every hidden unit dead"
        return [Segment(f"{mark}{place:>2}", (pick if is_picked else palette.style["label"]) + click),
                Segment(f"{glyph}", colour + click),
                Segment(text, (pick if is_picked else (dim if s.diverged_at is not None else colour)) + click)]
