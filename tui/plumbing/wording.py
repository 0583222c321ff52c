"""How the dashboard and the headless face write what a learner reads: one helper per kind of figure (a
loss, a learning rate, a step count, the parameter count, the data's name, the current run), so that
one thing reads the same, in one form and under one name, wherever it is shown. No Textual here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from engine.config import GRADIENT_WORDS, SCHEDULE_WORDS
from engine.runs import EMBEDDED

MOVING_AVERAGE = "moving average"  # the one name of the exponential moving average of the one-name losses
LEFT_TO_LEARN = "left to learn"  # the plot's second view: whole-data loss minus the bigram floor
LOSS_CAP = 1000.0  # a loss above this is a run gone wrong: written "> 1000", never as 1.693e+180
PAGE_PARAMS = 2480  # the tutorial page's own (mis)count of the parameters
EMBEDDED_LABEL = EMBEDDED  # the embedded default (5,163 US Census first names), named as in exports
TUTORIAL_LABEL = "tutorial names"  # makemore's names.txt, the tutorial's own 32,033


def loss(value: float) -> str:
    """A loss in 6 characters at most: '2.4995', '12.345', '123.45', '> 1000' (huge, or infinite) or 'NaN'."""
    if value != value:
        return "NaN"
    if value >= LOSS_CAP:
        return f"> {LOSS_CAP:.0f}"
    value += 0.0  # never "-0.0000"
    for decimals in (4, 3, 2, 1):  # as many as fit in 6 characters (after rounding: 9.99999 is 10.000)
        text = f"{value:.{decimals}f}"
        if len(text) <= 6:
            break
    return text


def average(value: float) -> str:
    """The moving average as `loss` writes it, or '--' when NaN: no step taken yet (only finite losses
    count, so a run that diverged has the average of the steps before)."""
    return loss(value) if value == value else "--"


def learning_rate(value: float) -> str:
    """A learning rate as every part of the screen writes it: 4 decimals ('0.5100', '0.0010'), two
    significant digits below 0.001 ('0.00050', '0.000010'), scientific when tinier or huge ('2.50e-06');
    at most 9 characters ("1.00e+300")."""
    if not math.isfinite(value):
        return "NaN" if value != value else "inf"
    if value == 0:
        return "0"
    if 0.001 <= abs(value) and len(f"{value:.4f}") <= 8:  # up to 999.9999 once rounded
        return f"{value:.4f}"
    if 1e-5 <= abs(value) < 0.001:
        return f"{value:.{1 - math.floor(math.log10(abs(value)))}f}"
    return f"{value:.2e}"


def count(n: int) -> str:
    """A whole number with thousands separators: 80,805."""
    return f"{n:,}"


def step_of(step: int, total: int) -> str:
    """'80,805/100,000': steps taken of the run's steps."""
    return f"{step:,}/{total:,}"


def first_fit(forms: Sequence[str], width: int) -> str:
    """The first of `forms` (longest and fullest first) that fits in `width` columns, else the last one
    cut with `…`: a line of the app's own words is never cut silently. One column per character (the
    app's words are narrow characters; names from data are not for this)."""
    for form in forms:
        if len(form) <= width:
            return form
    last = forms[-1]
    return last[: max(width - 1, 0)] + "…" if width > 0 else ""


LONG_WORD = 24  # characters: a word this long (a path) is cut inside rather than left out whole


def cut_words(text: str, width: int) -> str:
    """`text` in `width` columns: whole if it fits, else cut after its last whole word that leaves room
    for `…`; inside a word when that word is long (a path: its beginning shows) or the words before it
    fill less than half the line."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:max(width, 0)]
    head = text[: width - 1]
    if text[width - 1] != " " and " " in head:  # the cut falls inside a word: back to the space before it
        words, part = head.rsplit(" ", 1)
        long_word = len(part) + len(text[width - 1 :].split(" ", 1)[0]) > LONG_WORD
        head = words if len(words) >= width // 2 and not long_word else head
    return head.rstrip(" ,;:·(") + "…"


PAGE_SHAPE_PARAMS = 27 * 16 + 64 * 16 + 27 * 64  # the page's model (3,184): the only one its figure is about


def params(n: int, long: bool = True) -> str:
    """The parameter count; when `long` and the model is the page's, with the page's figure and why it
    differs."""
    if not long or n != PAGE_SHAPE_PARAMS:
        return f"{n:,} params"
    return f"{n:,} params (the page's {PAGE_PARAMS:,} is a miscount)"


def is_tutorial_data(data: str | Path | None) -> bool:
    """Is `data` (a path) the tutorial's own names.txt (byte for byte)?"""
    if data is None:
        return False
    from engine.tutorial_data import SIZE, is_tutorial_file

    try:
        path = Path(data)
        return path.is_file() and path.stat().st_size == SIZE and is_tutorial_file(path.read_bytes())
    except (OSError, ValueError):
        return False


def data_label(data: str | Path | None, names: int, heldout: int = 0) -> str:
    """The data's name and how many names it holds: 'census names (5,163)', 'tutorial names (32,033)',
    'mine.txt (400)'; with a held-out set, 'census names (5,163; 516 held out)'."""
    if data is None:
        name = EMBEDDED_LABEL
    elif is_tutorial_data(data):
        name = TUTORIAL_LABEL
    else:
        name = Path(data).name or str(data)
    held = f"; {heldout:,} held out" if heldout else ""
    return f"{name} ({names:,}{held})"


def lr_schedule(changes: Sequence[tuple[int, float]], schedule: str = "linear") -> str:
    """'lr 1.0', or with changes mid-run 'lr 1.0, 0.5 from step 301'. Bases as given (repr). On another
    schedule than the tutorial's linear decay, it is named as an item of its own, in the words a race's
    variant label uses (engine.config.SCHEDULE_WORDS): 'lr 1.0, 0.5 from step 301 · cosine schedule'."""
    first = f"lr {changes[0][1]!r}" if changes else "lr ?"
    text = ", ".join([first, *(f"{base!r} from step {step + 1:,}" for step, base in changes[1:])])
    return text if schedule == "linear" else f"{text} · {SCHEDULE_WORDS.get(schedule, schedule)}"


def run_line(data: str, changes: Sequence[tuple[int, float]], n_embd: int, hidden: int, seed: int,
             num_steps: int, num_params: int, width: int, schedule: str = "linear", gradient: str = "name") -> str:
    """The current run in one line of at most `width` characters: its data, learning rate (and its
    changes), its schedule unless the tutorial's ('cosine schedule'), the gradient unless the tutorial's
    one name a step ('whole-data gradient': the words view 8's variant labels use), sizes, seed, steps
    and parameter count. What does not fit gives way whole, least needed first: the steps (the status
    says them), the page's figure, then the seed, the sizes; then the data's name is cut (with an
    ellipsis) so that the rate, schedule and gradient stay whole; only when even they do not fit is the
    line cut at its end."""
    lr, sizes, seed_ = lr_schedule(changes, schedule), [f"n_embd {n_embd}", f"hidden {hidden}"], f"seed {seed}"
    if gradient != "name":
        lr = f"{lr} · {GRADIENT_WORDS.get(gradient, gradient)}"
    steps, full, short = f"{num_steps:,} steps", params(num_params), params(num_params, False)
    for items in ([data, lr, *sizes, seed_, steps, full], [data, lr, *sizes, seed_, full],
                  [data, lr, *sizes, seed_, steps, short], [data, lr, *sizes, seed_, short],
                  [data, lr, *sizes, short], [data, lr, short], [data, lr]):
        text = " · ".join(items)
        if len(text) <= width:
            return text
    room = width - len(lr) - 3  # the data's share: " · " then the rate and what goes with it
    if room >= 8:  # enough of the data's name to know it
        return f"{data[: room - 1]}… · {lr}"
    return text[: max(width - 1, 0)] + "…"
