"""The `?` screen: the keys, and what the loss figures mean."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# micromlp-tui: keys

| key | does |
|---|---|
| `space` | start / pause training |
| `.` | one step (while paused) |
| `r` | reset: a fresh run with the same settings |
| `+` / `-` | temperature up / down (re-samples the same draws) |
| `←` / `→` | pick the token whose next-token chart is shown |
| `g` | generate a new batch of names now |
| `[` / `]` | slower / faster (the default makes 1,000 steps take ~10 s; the last is flat out) |
| `l` | log / linear loss axis |
| `s` | save a checkpoint |
| `?` | this help; `escape` closes it |
| `q`, `ctrl+c` | quit |

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

    def action_close(self) -> None:
        self.dismiss(None)
