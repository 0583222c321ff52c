"""The top-k control beside the temperature gauge: `top-k [◀ off ▶]`. Sampling draws only from the k
likeliest next tokens (engine.sampling); off (k = 0) is the tutorial's sampling. ◀ cuts to fewer
tokens, ▶ allows more, as the keys `t` and `T` do; the app decides the value (attributes down)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

TOP_K_LADDER = (1, 2, 3, 5, 10, 20)  # what t / T step through, strictest first; beyond the last: off


def next_top_k(k: int, direction: int, vocab_size: int) -> int:
    """The top-k after `t` (direction -1: fewer tokens) or `T` (+1: more; 0 is off, the most): along
    TOP_K_LADDER (the values below the vocabulary's size), then off. A value off the ladder (--top-k 7)
    moves to the next one on it."""
    ladder = [v for v in TOP_K_LADDER if v < vocab_size] + [0]
    rank = [v if v else vocab_size for v in ladder]  # off allows every token
    at = k if 0 < k < vocab_size else vocab_size
    if direction > 0:
        return next((v for v, r in zip(ladder, rank) if r > at), 0)
    return next((v for v, r in zip(reversed(ladder), reversed(rank)) if r < at), ladder[0])


def k_label(k: int) -> str:
    return "off" if k <= 0 else str(k)


class TopKControl(Static):
    DEFAULT_CSS = "TopKControl { width: auto; height: 1; padding: 0 0 0 1; }"

    def show(self, k: int, compact: bool = False) -> None:
        """`compact`: without the brackets and spaces (a narrow terminal)."""
        value = k_label(k)
        fewer = Style(reverse=True, meta={"@click": "app.top_k(-1)"})
        more = Style(reverse=True, meta={"@click": "app.top_k(1)"})
        if compact:
            text = Text.assemble(("top-k", "bold"), ("◀", fewer), f"{value:>3}", ("▶", more))
        else:
            text = Text.assemble(("top-k ", "bold"), ("[◀", fewer), f" {value:>3} ", ("▶]", more))
        shown = str(self.content)
        if shown != text.plain:
            self.update(text, layout=len(shown) != len(text.plain))  # compact or not: laid out again
