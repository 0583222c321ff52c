"""The step line: which name the last step trained on, its loss and the learning rate it used.

The page's point is "one name at a time": at slow speeds every step's name can be read here, at
fast speeds the latest. Names come from the data, so they are shown escaped and never as markup."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine import StepRecord
from engine.printable import printable
from tui.widgets.status_line import figure


class StepLine(Static):
    DEFAULT_CSS = "StepLine { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }"

    def show_record(self, record: StepRecord | None, finished: bool, diverged: bool) -> None:
        if record is None:
            text = Text.assemble(("step 0", "bold"), " · space trains on one name per step")
        elif diverged:
            text = Text.assemble((f"diverged at step {record.step + 1}", "bold red"),
                                 f" · '{printable(record.doc)}' · loss {figure(record.loss)}")
        else:
            text = Text.assemble((f"step {record.step + 1}", "bold"), " · ", (f"'{printable(record.doc)}'", "bold"),
                                 f" · loss {figure(record.loss)} · lr {record.lr:.4f}")
        if text.plain != str(self.content):
            self.update(text, layout=False)  # one row always: never a layout of the whole screen
