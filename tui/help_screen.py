"""The `?` screen: the keys, and what the loss figures mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# Keys  (escape closes; arrows scroll)

- `space` start / pause training; `.` one step while paused; `r` reset (a fresh run, same settings)
- `+` / `-` temperature up / down: the SAME random draws are re-sampled, so what changes is the
  temperature's doing; `g` a new batch of names with new draws
- `←` / `→` pick the token whose next-token chart is shown
- `[` / `]` slower / faster: 100 steps/s (the default) shows the tutorial's 1,000 steps in about
  10 s; the fastest setting is unthrottled
- `l` log / linear loss axis; `s` save a checkpoint; `?` this help; `q` or `ctrl+c` quit

# What the loss figures mean

Loss is the average of -ln p(next character), in nats, over the positions of a name.

- **one name's loss** (faint dots): each step trains on ONE name, and this is its loss before the
  update. It is noisy because names differ: "ann" is easy, "xzavier" is hard.
- **moving avg**: an exponential moving average of those dots: the trend.
- **whole-data loss**: the exact loss of the current model over EVERY name. The model sees one
  token of context, so this is cheap: count each (token, next) pair once and run 27 rows.
- **random guess**: ln(vocabulary size), the loss of a model that knows nothing. Training starts here.
- **bigram floor**: the loss of the count table of Step 0, the best ANY one-token-context model can do
  on this data. The MLP creeps towards it and can never go below it on training data; the moving
  average can dip below it only because the last names happened to be easy.

# The next-token chart

After the picked token (BOS is the start / end of a name) the left bar of each pair is the model's
probability of that next token at the current temperature; the right bar is how often the data
itself continues that way. Low temperature sharpens the model's bars, high flattens them.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()  # so the arrow keys and page keys scroll it

    def action_close(self) -> None:
        self.dismiss(None)
