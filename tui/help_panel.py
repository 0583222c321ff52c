"""The `?` help: the keys, and what the loss figures mean. One Static (not Markdown, whose many
widgets are slow to show)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

HELP = """\
[b]Keys[/b]  ([b]escape[/b] closes; the arrows scroll)

  [b]space[/b]   start / pause training
  [b].[/b]       one step, while paused
  [b]r[/b]       reset: a fresh run with the same settings
  [b]+ -[/b]     temperature up / down: the SAME random draws are re-sampled, so what changes is
          the temperature's doing
  [b]g[/b]       a new batch of names, with new draws
  [b]← →[/b]     pick the token whose next-token chart is shown
  [b][ ][/b]     slower / faster: 100 steps/s (the default) shows the tutorial's 1,000 steps in
          about 10 s; the fastest setting is unthrottled
  [b]l[/b]       log / linear loss axis
  [b]s[/b]       save a checkpoint
  [b]?[/b]       this help
  [b]q[/b]       quit (ctrl+c too)

[b]What the loss figures mean[/b]

Loss is the average of -ln p(next character), in nats, over the positions of a name.

  [b]one name's loss[/b] (faint dots): each step trains on ONE name; this is its loss before the
    update. It is noisy because names differ: "ann" is easy, "xzavier" is hard.
  [b]moving average[/b]: an exponential moving average of those dots: the trend.
  [b]whole-data loss[/b]: the exact loss of the current model over EVERY name. The model sees one
    token of context, so this is cheap: count each (token, next) pair once, run the vocabulary's rows.
  [b]random guess[/b]: ln(vocabulary size), the loss of a model that knows nothing. Training starts here.
  [b]bigram floor[/b]: the loss of Step 0's count table, the best ANY one-token-context model can do
    on this data. The MLP creeps towards it and can never go below it on training data; the moving
    average can dip below it only because the last names happened to be easy.

[b]The next-token chart[/b]

After the picked token (BOS is the start / end of a name) the left bar of each pair is the model's
probability of that next token at the current temperature; the right bar is how often the data
itself continues that way: what the model is trying to learn. A low temperature sharpens the
model's bars, a high one flattens them.
"""


class HelpPanel(VerticalScroll, can_focus=False):
    """Shown over the dashboard by `?`, hidden by `?` or escape. A panel on the same screen, not a
    screen of its own: keys mashed while a screen is pushed and popped could empty Textual's
    screen stack, and a panel costs nothing to show. It never takes the focus (a change of focus
    makes the footer rebuild itself): the app scrolls it with the arrow and page keys."""

    def compose(self) -> ComposeResult:
        yield Static(HELP)
