"""The top-k control beside the temperature gauge: `top-k [◀ off ▶]`. Sampling draws only from the k
likeliest next tokens (engine.sampling); off (k = 0) is the tutorial's sampling. ◀ cuts to fewer
tokens, ▶ allows more, as the keys `t` and `T` do; the app decides the value (attributes down)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


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
        if str(self.content) != text.plain:
            self.update(text, layout=False)
