"""The step line: which name the last step trained on, its loss and the learning rate it used.

The page's point is "one name at a time": at slow speeds every step's name can be read here, at
fast speeds the latest. Where the line is narrow (80 columns) the figures come first and the name
gives way, so the loss and the learning rate are never cut. A step on the whole data's gradient
trained on no one name: its line says `all names` (unquoted: it is not a name) and keeps its `·` and
its step number in every form, giving up `all names`, then the rate (the plot's lr label says it),
where narrow. Names come from the data, so they are shown escaped and never as markup."""

from __future__ import annotations

from rich.text import Text

from engine import StepRecord
from engine.printable import printable
from engine.train import WHOLE_DATA
from tui.plumbing import wording
from tui.widgets.text_rows import TextRows

REFERENCE_NAME = 10  # letters: the line's form is the one a name this long fits (longer ones are cut in it)


def step_text(record: StepRecord | None, diverged: bool, width: int, start: int = 0, total: int = 0,
              running: bool = False) -> Text:
    """The line at `width` characters. `start`: the steps the run had taken when it was shown (a run
    loaded from a checkpoint starts there); `total`: the run's steps (the form is chosen for its last
    step's number, so that it holds from the first step to the last); `running`: training has started
    (or gone on) and its first step is not shown yet, so the line no longer says what space does."""
    if record is None:
        head = f"step {start:,}"
        if running:
            hints = [" · training, its first step on the way", " · training", ""]
        elif start == 0:
            hints = [" · space starts training, one name per step", " · space starts training", " · space: start"]
        else:
            hints = [" · space goes on training", " · space goes on", " · space: go on"]
        rest = next((h for h in hints if len(head) + len(h) <= width), "")  # whole words, or none
        return Text.assemble((head, "bold"), rest)
    if record.doc == WHOLE_DATA:
        return _whole_data_text(record, diverged, width, total)
    name = f"'{printable(record.doc)}'"
    if diverged:
        head, style = f"diverged at step {record.step + 1:,}", "bold red"
        parts = [f"loss {wording.loss(record.loss)}"]
    else:
        head, style = _step_head(record.step + 1, total), "bold"
        parts = [f"loss {wording.loss(record.loss)}", f"lr {wording.learning_rate(record.lr)}"]
    if diverged:
        forms = [Text.assemble((head, style), sep, (name, "bold"), *[sep + p for p in parts]) for sep in (" · ", " ")]
        fits = next((t for t in forms if t.cell_len <= width), None)
        if fits is not None:
            return fits
    else:  # the form a name of REFERENCE_NAME letters fits at the run's last step, for every step: names of
        # other lengths would switch the line between forms from one step to the next (a longer one is cut)
        widest = len(f"step {max(total, record.step + 1):,}") + REFERENCE_NAME + 2 + sum(map(len, parts))
        sep = next((sep for sep in (" · ", " ") if widest + len(sep) * (1 + len(parts)) <= width), None)
        if sep is not None:
            room = width - (len(head) + len(sep) * (1 + len(parts)) + sum(map(len, parts)))
            cut = _padded(name, room) if len(name) <= room else name[: room - 1] + "…"
            return Text.assemble((head, style), sep, (cut, "bold"), *[sep + p for p in parts])
    # narrow (80 columns): the status says the step; the figures stay whole and the name is cut to fit
    figures = " ".join(parts)
    room = width - len(figures) - 1
    if diverged:  # the step where it diverged, if it fits; the status line says it anyway
        forms = [Text.assemble((h, style), sep, figures) for h in (head, "diverged") for sep in (" · ", " ")]
        return next((t for t in forms if t.cell_len <= width), forms[-1])
    if room < 4:
        return Text(figures)
    cut = _padded(name, room) if len(name) <= room else name[: room - 1] + "…"
    return Text.assemble((cut, "bold"), " ", figures)


def _padded(name: str, room: int) -> str:
    """A quoted name padded to REFERENCE_NAME letters (as room allows), so that the figures after it stay
    in their columns from one step to the next (QA: `loss` began anywhere from column 19 to 28)."""
    return name.ljust(min(room, REFERENCE_NAME + 2))


def _step_head(step: int, total: int) -> str:
    """'step    9': the number right-aligned to the run's last step's, so that what follows it stays in its
    columns from step 9 to step 10 (QA: the figures moved a column at 10, 100 and 1,000)."""
    return f"step {step:>{len(f'{max(total, step):,}')},}"


def _whole_data_text(record: StepRecord, diverged: bool, width: int, total: int = 0) -> Text:
    """A whole-data step's line: `step N · all names · loss L · lr R`, the least needed part left out
    first where it does not fit; the step and the `·` always stay."""
    if diverged:
        head, style = f"diverged at step {record.step + 1:,}", "bold red"
        forms = [["all names", f"loss {wording.loss(record.loss)}"], [f"loss {wording.loss(record.loss)}"], []]
    else:
        head, style = _step_head(record.step + 1, total), "bold"
        loss, lr = f"loss {wording.loss(record.loss)}", f"lr {wording.learning_rate(record.lr)}"
        forms = [["all names", loss, lr], [loss, lr], [loss], []]
    for parts in forms:
        text = Text.assemble((head, style), *[" · " + p for p in parts])
        if text.cell_len <= width:
            return text
    return text


class StepLine(TextRows):
    DEFAULT_CSS = "StepLine { height: 1; width: 1fr; }"

    _shown: tuple[StepRecord | None, bool, bool, int, int] = (None, False, False, 0, 0)

    def show_record(self, record: StepRecord | None, running: bool, diverged: bool, start: int = 0,
                    total: int = 0) -> None:
        self._shown = (record, running, diverged, start, total)
        text = step_text(record, diverged, self.content_size.width or 200, start, total, running)
        if text != self._text:
            self.update(text)  # one row always: never a layout of the whole screen

    def on_resize(self) -> None:
        self.show_record(*self._shown)
