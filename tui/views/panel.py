"""The lower panel: a one-line bar of clickable tabs over a ContentSwitcher of the eight views.

`show(inputs)` forwards the frame's ViewInputs to the view on show only (view 1, the next-token
chart, is drawn by the app's draw_chart); a view switched to is drawn at once from the last inputs."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from tui.views import ViewInputs
from tui.views.embeddings import EmbeddingView
from tui.views.forward import ForwardView
from tui.views.gradcheck import GradCheckView
from tui.views.race import RaceView
from tui.views.runs import RunsView
from tui.views.table import TableView
from tui.views.view import View
from tui.views.weights import WeightsView
from tui.widgets.distribution import DistributionChart

# (number, widget id, tab label, short label, the view's own key hint)
VIEWS = [
    (1, "next-token", "Next token", "Next", ""),
    (2, "table", "Table", "Table", ""),
    (3, "embeddings", "Embeddings", "Embed", ""),
    (4, "weights", "Weights", "Weights", "u update"),
    (5, "forward", "Forward pass", "Forward", ""),
    (6, "gradcheck", "Gradient check", "Grad", "c check"),
    (7, "runs", "Runs", "Runs", "h hide x remove"),
    (8, "race", "Race", "Race", "v pick"),
]
IDS = {n: widget_id for n, widget_id, *_ in VIEWS}


class TabBar(Widget):
    """The views' tabs, each clickable (it runs the app's `view(n)` action, as the keys 1..6 do)."""

    DEFAULT_CSS = """
    TabBar { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    TabBar > .tab-bar--tab { color: $foreground-muted; }
    TabBar > .tab-bar--active { color: $text-primary; text-style: bold reverse; }
    TabBar > .tab-bar--key { color: $text-accent; text-style: bold; }
    """
    COMPONENT_CLASSES = {"tab-bar--tab", "tab-bar--active", "tab-bar--key"}

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.current = 1
        self.racing = False  # is a race on (view 8's `v pick` is offered only then)
        self.spans: dict[int, tuple[int, int]] = {}  # view number -> its tab's columns [start, end)

    def select(self, number: int) -> None:
        self.current = number
        self.refresh()

    def render(self) -> Text:
        short = self.size.width < 100
        key = self.get_component_rich_style("tab-bar--key", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        self.spans = {}
        shown_hint = self._hint(short)
        for n, _, label, brief, hint in VIEWS:
            hint = shown_hint if n == self.current else hint
            active = n == self.current
            style = self.get_component_rich_style("tab-bar--active" if active else "tab-bar--tab", partial=True)
            click = Style(meta={"@click": f"app.view({n})"})
            start = len(text)
            text.append(f" {n}", key + click)
            text.append(f" {brief if short else label} ", style + click)
            self.spans[n] = (start, len(text))
            if active and hint:
                text.append(f"[{hint}] ", key)
        text.rstrip()  # no space after the last tab: at 80 columns "8 Race [v pick]" just fits
        return text

    def _hint(self, short: bool) -> str:
        """The active view's keys as they fit beside the tabs: whole (`h hide x remove`), else the keys
        alone (`h x`: the view's title says what they do), else none; never cut mid-word."""
        hint = next((h for n, _, _, _, h in VIEWS if n == self.current), "")
        if self.current == 8 and not self.racing:  # without a race, v picks nothing
            return ""
        tabs = sum(len(f" {n} {brief if short else label} ") for n, _, label, brief, _ in VIEWS)
        forms = [hint, " ".join(word for word in hint.split() if len(word) == 1)]
        fits = [f for f in forms if f and (self.size.width <= 0 or tabs + len(f) + 2 <= self.size.width)]  # "[f]"
        return fits[0] if fits else ""


class LowerPanel(Vertical):
    DEFAULT_CSS = """
    LowerPanel > ContentSwitcher { height: 1fr; }
    LowerPanel > ContentSwitcher > * { height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.inputs: ViewInputs | None = None

    def compose(self) -> ComposeResult:
        yield TabBar()
        with ContentSwitcher(initial=IDS[1]):
            yield DistributionChart(id=IDS[1])
            yield TableView(id=IDS[2])
            yield EmbeddingView(id=IDS[3])
            yield WeightsView(id=IDS[4])
            yield ForwardView(id=IDS[5])
            yield GradCheckView(id=IDS[6])
            yield RunsView(id=IDS[7])
            yield RaceView(id=IDS[8])

    def on_mount(self) -> None:
        self.tabs = self.query_one(TabBar)
        self.switcher = self.query_one(ContentSwitcher)
        self.views = {n: self.query_one(f"#{IDS[n]}") for n in IDS}

    @property
    def current(self) -> int:
        return self.tabs.current

    @property
    def active(self) -> Widget:
        return self.views[self.current]

    def switch(self, number: int) -> None:
        """Show view `number` (1..8), drawn at once from the last inputs."""
        if number not in IDS or number == self.current:
            return
        self.switcher.current = IDS[number]
        self.tabs.select(number)
        if self.inputs is not None:
            self.show(self.inputs)

    def show(self, inputs: ViewInputs) -> None:
        """This frame's inputs: the view on show recomputes if what it reads changed; the others
        are not touched."""
        self.inputs = inputs
        if self.tabs.racing != (inputs.race is not None):
            self.tabs.racing = inputs.race is not None
            self.tabs.refresh()
        view = self.active
        if isinstance(view, View):
            view.show(inputs)

    def toggle_update(self) -> None:
        """View 4 between the weights and the last step's update."""
        weights = self.views[4]
        assert isinstance(weights, WeightsView)
        weights.toggle_mode()
        self.switch(4)
        if self.inputs is not None:
            self.show(self.inputs)

    def cancel_work(self) -> None:
        """Stop what a view computes in the background (the gradient check); nothing waits for it."""
        check = self.views[6]
        if isinstance(check, GradCheckView):
            check.cancel()

    def check_gradient(self) -> None:
        """View 6, and a gradient check of the current name at the current weights."""
        self.switch(6)
        check = self.views[6]
        assert isinstance(check, GradCheckView)
        if self.inputs is not None:
            check.start(self.inputs)
