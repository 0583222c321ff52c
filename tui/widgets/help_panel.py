"""The `?` help: the keys, what every line, colour and figure means, and the panels' conventions.
One Static of paragraphs without hard line breaks, so that it rewraps at any width (not Markdown,
whose many widgets are slow to show)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.race import READY_RACES

KEYS = [
    ("space", "start / pause training (after the end: r or n for a new run)"),
    (".", "one step, while paused; the newest names are drawn again at the new weights, with the same random "
          "numbers, so you see what one step changes"),
    ("r", "reset: the same run again from step 0 (same seed, same settings)"),
    ("n", "a new run with the next seed: see how much runs vary"),
    ("+ -", "temperature up / down by 0.1 (also: click or drag the temperature gauge); the newest names (after "
            "the end, the final samples) are drawn again in place at the new temperature"),
    ("t T", "top-k: names are drawn from fewer (t) or more (T) of the likeliest next tokens: off (every token, "
            "the tutorial), 20, 10, 5, 3, 2, 1; also the ◀ ▶ of 'top-k' beside the temperature. The next-token "
            "chart marks the tokens it cuts with ×"),
    ("← →", "pick the context token of the next-token chart (also: click a bar or its letter)"),
    ("g", "a new batch of names now"),
    ("[ ]", "slower / faster (also: the ◀ ▶ buttons of 'pace'); 100 steps/s shows the tutorial's 1,000 "
            "steps in about 10 s, 'max' is unthrottled (the screen then shows 5 frames a second, not 10)"),
    ("l", "switch the plot between the loss view and the 'left to learn' view (the key bar says which "
          "view is on: View:loss or View:left to learn)"),
    ("1..8", "the lower panel's view: 1 next token, 2 table, 3 embeddings, 4 weights, 5 forward pass, "
             "6 gradient check, 7 runs, 8 race (also: click a tab)"),
    ("u", "view 4: switch between the weights and the last step's update (lr x gradient)"),
    ("c", "view 6: check the gradient of the current step's name at the current weights"),
    (", /", "the plot's cursor: a column left / right (from the newest one); the line above the plot then reads "
            "every line in that column: its steps, the names' low..high, the moving average, whole-data and "
            "held-out loss, each kept run and the lr (the mouse over the plot does the same); escape hides it"),
    ("{ }", "less / more smoothing of the moving average (its weight: 0 = none .. 0.999; 0.98 at the start); the "
            "whole line is recomputed (in a race every variant's), and the key line shows the weight"),
    ("s", "save a checkpoint"),
    ("e", "export: every run of the session (the current one and the kept ones) to micromlp-runs.csv, one row a "
          "step, and the loss plot as a picture to micromlp-plot.svg (beside --save, else in the current folder; "
          "the picture at --plot if given); the note says where"),
    ("o", "settings: learning rate, steps, sizes, seed, temperature, top-k, samples, hold-out fraction, lr "
          "schedule, gradient, data (a "
          "button fills in the tutorial's names); apply starts a new run (escape cancels); the run it replaces "
          "stays on the plot as a line of its own colour, unless the new run would only draw it again"),
    ("< >", "halve / double the learning rate's base from the next step on; the schedule goes on from the new "
            "base (linear: its decay towards 0; constant: the base itself; cosine: its curve towards 0), and "
            "the plot marks the step (╎). After a divergence, < starts a new run at half the rate"),
    ("7", "the runs view: every run of the session; j / k pick a row, h hides or shows its line, x removes it, "
          "b pins the picked kept run as the baseline (again: unpins it): every run's settings and final figures "
          "are then shown as differences from it"),
    ("v V", "in a race: show the next / previous variant (its names, next-token chart, views and its line as "
            "the main one); a click on its row in view 8 does it too"),
    ("ctrl+p", "the command palette: every action, themes, a screenshot, and the ready-made races (type 'race')"),
    ("?", "this help; escape closes it, the arrows scroll it; other keys do nothing until it is closed"),
    ("q", "quit (ctrl+c too)"),
]

SECTIONS = [
    ("The data", [
        "The line under the figures names the current run: its data and how many names it holds, the "
        "learning rate (and each change made with < or >), n_embd, the hidden width, the seed, the steps and "
        "the parameter count (where the line is short of room the steps give way first: the status line "
        "says them, 'step 500/1,000'). By default the names are the embedded 5,163 US Census first names ('census "
        "names'). The tutorial trains on makemore's 32,033 names ('tutorial names': --data tutorial, or the "
        "settings form's button): those give another bigram floor (2.454, not 2.335) and other samples.",
    ]),
    ("The loss plot", [
        "Loss is the average of -ln p(next character), in nats, over the positions of a name. The x axis is "
        "the whole run, from step 0 to its last step, so the curve grows from left to right and a column "
        "the run has passed never changes. The y range is fixed for a run (it grows, in coarse steps, only "
        "if a line leaves it). The axis is exact: its ticks are an equal number of rows apart, each labelled row is "
        "its value, and every line is drawn on the row its value falls in. A one-name loss beyond the axis is "
        "marked on the frame above or below its column (▴ on the top edge, ▾ on the bottom one), not inside "
        "the plot.",
        "• one name (grey dots): each step trains on ONE name and this is its loss before the update. Each "
        "column holds the steps of ~N names (the key says how many) and shows the lowest and the highest of "
        "their losses. They are noisy because names differ: "
        "'ann' is easy, 'xzavier' is hard.",
        "⠒ moving average (braille line, the theme's primary colour): an exponential moving average of "
        "those losses: the trend. It is TensorBoard's smoothing: with weight w (0.98 at the start, about the last "
        "50 names; { and } change it and the key shows it), each step's average is w x the previous one + "
        "(1 - w) x the step's loss, divided by 1 - w^steps so that the first steps are not pulled towards 0. "
        "A new weight recomputes the whole line. The status line shows its last value under the same name.",
        "▀ whole-data loss (half blocks, the warning colour): the exact loss of the current model over "
        "EVERY name, measured at fixed steps. The model sees one token of context, so this is cheap: count "
        "each (token, next) pair once and run the vocabulary's rows. Where it and the moving average share "
        "a cell, the cell shows both (⣿ on the whole-data colour): the average's dots and the whole-data "
        "half as dots.",
        "┄ random guess (red, labelled in the right margin): ln(vocabulary size), the loss of a model that "
        "knows nothing. Training starts here.",
        "┄ bigram floor (green): the loss of Step 0's count table, the best ANY one-token-context model can "
        "do on this data. The whole-data loss creeps towards it and never goes below it; the moving average "
        "can dip below it only because the last names happened to be easy.",
        "The row under the x axis is the learning rate: bright where the run has been, dim ahead; it follows "
        "the run's schedule (--schedule, the form's lr schedule field): linear, the page's, falls in a straight "
        "line from its start towards 0 at the end; constant stays at its start (a full row); cosine falls "
        "along half a cosine, slowly, then fast, then slowly, towards 0. Its value in the right margin is the rate "
        "the last step used, as on the step line. A red ┆ column marks the step where a run diverged.",
        "Under the column the run is in, a small bar on the x axis (▁ .. ▇) fills as its steps come: the "
        "column is drawn as it fills and is final once full. "
        "┴ on the x axis marks where a pass over the training names ends (an epoch), in runs of 2 to 16 "
        "passes (more would fill the axis). The cursor (the mouse over a column, or , and /) draws a line "
        "down the column's empty cells and reads every line there on the key line; escape or moving the mouse "
        "away puts the key back.",
        "A run diverges when the learning rate is too large: the losses grow until one overflows and training "
        "stops. A loss above 1000 is written '> 1000', one that is not a number at all 'NaN'. < starts a new run "
        "at half the learning rate; o opens the settings.",
        "The left-to-learn view (l) plots whole-data loss minus the bigram floor on a log axis: how much "
        "there is left to learn. It is always above 0 and shrinks as the model learns; ┄ marks where the "
        "run started.",
    ]),
    ("Experiments: earlier runs, the learning rate, a held-out set", [
        "When a run is replaced (r, n, or new settings with o) it is kept, unless the new run would only draw "
        "the same curve again (r, or the same settings, data and seed, with the rate never changed mid-run: "
        "the note says so): its moving average stays on the plot "
        "as a braille line in a colour of its own (the same in its label and the runs view), labelled in full "
        "in the right margin with what differs from the current run (e.g. 'lr 0.5', 'seed 43, n_embd 32'), "
        "beside where its line ends (its # alone where the whole label has no room there, none where other "
        "labels fill those rows); a "
        "run marked as the baseline is drawn thicker and its label starts with ◆. { and } redraw the kept runs' "
        "moving averages at the new weight too (a run of over 100,000 steps keeps no losses to do it with: "
        "its label then says '(avg 0.98)', its own weight). The last 8 runs are kept; the runs view (7) lists them "
        "with their final figures, and hides, shows or removes them.",
        "< and > change the learning rate's base from the next step on, and the schedule goes on from the new "
        "base: linear (the page's) lr = base x (1 - step / steps), towards 0; constant lr = base; "
        "cosine lr = base x (1 + cos(pi x step / steps)) / 2, towards 0. "
        "A ╎ marks the step in the plot, the key line gives the new base, "
        "and the lr row under the x axis shows the step in the schedule. A run where it never happens is "
        "exactly the tutorial's.",
        "--holdout F (or the form's hold-out field) keeps the last fraction F of the shuffled names out of "
        "training (makemore holds out min(1000, 10%)); ▪ marks the exact held-out loss beside the whole-data "
        "loss (in a cell they share: ▀, the higher loss's colour on top, the lower's below). The whole-data loss "
        "and the bigram floor then cover the training names only (the status says "
        "'whole-data loss (training names)'). With the default model the two barely part: a model that sees "
        "one token of context can only learn the bigram table, which the held-out names share almost exactly. "
        "A wide model trained "
        "long on a few hundred names shows the gap open.",
    ]),
    ("A race", [
        "A race trains several variants of a run side by side, in lockstep: one step of the race is one step of "
        "every variant, done with one set of numpy calls for all of them, so a race of 8 costs less than 8 "
        "runs. Each variant is exactly the run its settings make alone (the same losses, names and "
        "samples). Start one with --race SETTING=V1,V2,... (lr, seed, n-embd, hidden, schedule, gradient; "
        "repeat it for every combination, at most 16), with the race field of the settings (o), or from the "
        "palette (ctrl+p, 'race'), which has these ready-made ones:",
        *[f"{title} ({spec}): {look}." for title, spec, look in READY_RACES],
        "On the plot the variant shown is drawn as the run always is; every other variant's moving average is "
        "a braille line in its own colour, its number in the key line and its number and what differs in the "
        "right margin beside where its line ends (on that row or the next, never under a reference line's label "
        "when the line ends above it; its number alone where the whole "
        "label has no room; where those rows are other labels', it is left out; a variant's label goes before "
        "a kept run's, the lowest line's first unless that labels fewer). While a race is on, kept runs are "
        "one grey, so that no colour means a kept run and a variant. Up to 8 variants are "
        "drawn at 100 columns or more, 4 below that (spread from the first to the last: 1, 3, 4, 6 of 6, with "
        "the leader, the lowest whole-data loss, in place of the middle one nearest to it: 1, 3, 5, 6 when 5 "
        "leads), and "
        "always the one shown; view 8 lists them all where it has room, else names those it leaves out.",
        "View 8 ranks the variants by their whole-data loss (of their weights at the step shown, as the "
        "status line's), with "
        "their steps and moving average; a variant whose loss stopped being finite stops (it diverged) and "
        "the others go on. v / V or a click on a row picks the variant the names, the next-token chart and "
        "the other views show. s saves the variant shown; when a race is replaced (r races again, o or the "
        "palette starts another) its variants become kept runs (view 7), every one, even where another race "
        "has a variant of the same settings; only the same race again (r, or the same variants in the same order "
        "on the same data) draws them again, so it keeps only a variant whose rate was changed mid-run (< / >).",
    ]),
    ("The step line", [
        "Under the plot: the step, the name it trained on, that name's loss and the learning rate the step "
        "used. At slow speeds every name can be read; at fast speeds it shows the latest. Where it is narrow "
        "the figures come first and the name is cut (…). Beside it: the temperature gauge and the pace.",
        "The temperature gauge's scale is logarithmic, from 0.1 at its left end to 5 at its right: 1 (the "
        "model's probabilities as they are) is marked '1' on it, and 0.5 and 2 (halving and doubling) are "
        "the same distance either side of it. The knob moves by eighths of a cell: at 120 columns each + "
        "from 0.1 to 2 moves it (above 2 a 0.1 step is under an eighth, and some do not). A click or a drag "
        "puts the knob where the pointer is: on the cell of 0.5, 1 or 2 (the page's temperatures), that one; "
        "elsewhere the roundest value whose knob is there (a cell spans several 0.1 steps above 1: at 120 "
        "columns 1.4, 2, 3.2; near 0.1, where a step is wider than a cell, e.g. 0.15). Under 120 columns the "
        "end labels 0.1 and 5 are left out; the scale is the same.",
    ]),
    ("Generated names", [
        "A batch of 8 names every 2 seconds while training runs (and after each . step), each headed by its "
        "step and temperature. + and - draw the newest batch again at the new temperature with the SAME random "
        "numbers, so the change you see is the temperature's doing, not new noise: its heading then says "
        "'T 0.50→0.60'. g, and the batches while training, use new random numbers. Names that are in the "
        "training data are dimmed and end in '·' (the model copied them), new ones are bold (it invented "
        "them); each heading says how many are new, e.g. '5/8 new'. When training ends, the run's own samples "
        "are listed as the tutorial prints them ('sample  1: ...'; in a narrow panel ' 1: ...', then without "
        "the number, before any letter is cut), and + and - draw that list again in "
        "place. With the tutorial's names (--data tutorial) and the default settings they are the tutorial's "
        "own 20 names; the default census names give others.",
        "A name is at most 16 characters, as on the page: the sampler stops after 16 tokens even if BOS has "
        "not come, so a name that long was cut there, not ended by the model; it ends in '…'. '(empty)' is a "
        "name the model ended at once: it drew BOS (the end) as the first token.",
    ]),
    ("The next-token chart", [
        "After the picked context token (BOS is the start and the end of a name), the left bar of each pair "
        "is the model's probability of that next token at the current temperature; the right bar is how "
        "often the data itself continues that way: what the model is trying to learn. Every bar is on one "
        "fixed scale: its height is the square root of the probability, the full height is probability 1 "
        "(the axis on the left labels rows with the probability their top stands for). The square root keeps "
        "the small probabilities visible; nothing is ever cut off, and the data's bars do not move when the "
        "temperature changes. A low temperature sharpens the model's bars (the likeliest grow, the rest "
        "shrink), a high one flattens them. With top-k on (t / T), a × under a model bar marks a token top-k "
        "cuts: names never continue that way, and the kept tokens' probabilities are scaled up to sum to 1.",
    ]),
    ("2 Table", [
        "Left: the model's whole next-token table at the current temperature, one row per context token "
        "(the picked token's row is marked ▶; the rows shown follow it when they do not all fit), one column "
        "per next token, brighter = more likely (square-root scale). Middle: the data's own table (Step 0's "
        "bigram counts, normalised). Right: each row's share of (whole-data loss - bigram floor), its KL "
        "divergence from the data's row weighted by how often that token occurs, and the rows ranked by it "
        "(#1 has the most left to learn). What to look for: the model's rows come to look like the data's; "
        "the rows that stay different are why the whole-data loss is still above the floor.",
    ]),
    ("3 Embeddings", [
        "Each token's embedding (its row of wte) on the two directions in which the embeddings differ most "
        "(principal axes, recomputed every frame and kept from flipping), drawn as its character; vowels "
        "are highlighted, • is BOS. What to look for: tokens that are followed by the same letters end up "
        "pointing the same way from the centre. The vowels gather on one side as training goes (their "
        "'spread', the mean cosine distance between them seen from the centre, falls from about 1.0 at "
        "step 0 to about 0.5 after the tutorial's 1,000 steps, while nine random sets of five consonants "
        "in ten stay above 0.7).",
    ]),
    ("4 Weights", [
        "wte (transposed: one column per token), mlp_fc1 (transposed: one column per hidden unit) and "
        "mlp_fc2 (one column per hidden unit): positive in the theme's primary colour, negative in its "
        "error colour (red), on one scale that only ever grows (by doublings), so a change of colour is "
        "a change of weight. Two rows share a line (▀: the "
        "top one is the character's colour); a matrix too big for its space shows, for each block, its "
        "value of largest magnitude. × under a column marks a dead hidden unit: its ReLU output is 0 for "
        "every token, so it takes no part. u shows the last step's update (lr x gradient) instead: one name "
        "at a time, and only the columns of that name's letters (and BOS) move in wte.",
    ]),
    ("5 Forward pass", [
        "The picked token (← →) through the model, as on the tutorial's page 1.4: its embedding -> mlp_fc1's output -> "
        "ReLU "
        "(· marks the units it cuts to 0) -> mlp_fc2's logits -> the probabilities at the current temperature, "
        "each a strip of coloured cells on its own scale (±: its largest magnitude), the largest values "
        "labelled. What to look for: only some hidden units fire for a token; their mix makes its logits.",
    ]),
    ("6 Gradient check", [
        "c compares, for the current step's name at the current weights, the gradient backpropagation "
        "computes with a numerical one (central differences, two extra forward passes per parameter), for "
        "every parameter of the model (3,184 in the page's; the view says how many), off the screen's "
        "thread. Each ● is a parameter at (analytic, numerical): they "
        "lie on the diagonal. The largest absolute difference is around 1e-10: the backward pass is right.",
    ]),
    ("The figures", [
        "The status line: state, step, the moving average, the whole-data loss (and the held-out loss, with a "
        "held-out set) of the weights at that step, steps per second, time; under them the current run's "
        "line (see The data). A run that diverged says 'diverged at step k/N': step k's loss was not "
        "finite, so its update was not made and the weights are those after step k - 1. The temperature "
        "and the pace are on the step line above the lower panel.",
        "3,184 params (the page's 2,480 is a miscount): wte is 27 x 16, mlp_fc1 64 x 16 and mlp_fc2 27 x 64, "
        "and 432 + 1,024 + 1,728 = 3,184. The tutorial's text says 2,480 in places; that figure does not "
        "match its own shapes (it would need mlp_fc2 to be 16 x 64).",
    ]),
]


def help_keys() -> Table:
    """The keys as a two-column table: a long description wraps under itself, not under the key."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, text in KEYS:
        table.add_row(key, text)
    return table


def help_text() -> str:
    """Everything after the keys, as markup (our own words only: nothing from data or the user)."""
    return "\n\n".join(f"[b]{title}[/b]\n\n" + "\n\n".join(paras) for title, paras in SECTIONS) + "\n"


class HelpSheet(VerticalScroll, can_focus=False):
    """Shown over the dashboard by `?`, hidden by `?` or escape. A panel on the same screen, not a
    screen of its own: keys mashed while a screen is pushed and popped could empty Textual's
    screen stack, and a panel costs nothing to show. It never takes the focus (a change of focus
    makes the footer rebuild itself): the app scrolls it with the arrow and page keys. Not called
    HelpPanel: Textual's own "keys" command finds (and removes) widgets by that type name."""

    def compose(self) -> ComposeResult:
        yield Static(Text("Keys", style="bold"))
        yield Static(help_keys(), classes="help-keys")
        yield Static(help_text())
