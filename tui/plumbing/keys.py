"""The dashboard's keys: every binding (the key, the app's action it runs, its name on the key bar), the
keys that still work while the help is open, and the key bar's items for a width (the least needed keys
give way first). The app routes each action and says which apply now (`check_action`); the palette's
entries, each running the same action as its key, are in commands.py."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding, BindingType

from tui.plumbing import wording

KEYS: list[BindingType] = [  # the footer shows what fits in 80 columns; the pairs are clickable controls on screen
    Binding("space", "play", "Run"),
    Binding("space", "pause", "Pause"),
    Binding("space", "finished_hint", "Run", show=False),
    Binding("full_stop", "step", "Step", key_display="."),
    Binding("r", "reset", "Reset"),
    Binding("n", "new_seed", "Seed"),
    Binding("plus,equals_sign", "temperature(1)", "Hotter", show=False),
    Binding("minus", "temperature(-1)", "Colder", show=False),
    Binding("t", "top_k(-1)", "Top-k: fewer tokens", show=False),
    Binding("T", "top_k(1)", "Top-k: more tokens", show=False),
    Binding("left", "token(-1)", "Previous token", show=False),
    Binding("right", "token(1)", "Next token", show=False),
    Binding("g", "sample", "New"),
    Binding("right_square_bracket", "speed(1)", "Faster", show=False),
    Binding("left_square_bracket", "speed(-1)", "Slower", show=False),
    Binding("l", "gap_view", "View:loss"),  # says which view is on (as titled); l switches to the other
    Binding("l", "loss_view", f"View:{wording.LEFT_TO_LEARN}"),
    Binding("s", "save", "Save"),
    Binding("e", "export", "Export", show=False),
    Binding("o", "settings", "Setup", priority=True),  # at once: the keys typed after it go to the form
    Binding("less_than_sign", "scale_lr(0.5)", "Halve lr", show=False),
    Binding("greater_than_sign", "scale_lr(2)", "Double lr", show=False),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
    *[Binding(str(n), f"view({n})", f"View {n}", show=False) for n in range(1, 9)],
    Binding("v", "next_variant(1)", "Next variant", show=False),
    Binding("V", "next_variant(-1)", "Previous variant", show=False),
    Binding("j", "pick_run(1)", "Next run", show=False),
    Binding("k", "pick_run(-1)", "Previous run", show=False),
    Binding("h", "toggle_run", "Hide / show run", show=False),
    Binding("x", "remove_run", "Remove run", show=False),
    Binding("b", "pin_baseline", "Pin / unpin baseline", show=False),
    Binding("u", "weights_update", "Weights / update", show=False),
    Binding("c", "check_gradient", "Gradient check", show=False),
    Binding("comma", "cursor(-1)", "Cursor left", show=False, key_display=","),
    Binding("slash", "cursor(1)", "Cursor right", show=False, key_display="/"),
    Binding("left_curly_bracket", "smoothing(-1)", "Less smoothing", show=False, key_display="{"),
    Binding("right_curly_bracket", "smoothing(1)", "More smoothing", show=False, key_display="}"),
    Binding("escape", "hide_cursor", "Hide the cursor", show=False),  # (else escape closes the help)
    Binding("escape", "close_help", "Close help", show=False),
    Binding("up", "scroll_help(-1)", show=False),
    Binding("down", "scroll_help(1)", show=False),
    Binding("pageup", "scroll_help(-10)", show=False),
    Binding("pagedown", "scroll_help(10)", show=False),
    Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
]

OUR_ACTIONS = {b.action.split("(")[0] for b in KEYS if isinstance(b, Binding)}
HELP_KEYS = {"help", "close_help", "scroll_help", "quit"}  # the only actions while the help is open
KEY_BAR_GIVES_WAY = ("sample", "new_seed", "save", "step")  # in this order, when the key bar is too narrow
PALETTE = ("^p", "Palette", "command_palette")


def key_bar_items(applies: Callable[[str], bool], width: int) -> list[tuple[str, str, str]]:
    """(key, name, action) of each key the bar shows whose action `applies` now, fitted to `width`: too
    narrow, the least needed keys give way (the help lists all), the palette's key last."""
    items = [(b.key_display or b.key, b.description, b.action) for b in KEYS
             if isinstance(b, Binding) and b.show and applies(b.action.split("(")[0])]

    def fits(keys: list[tuple[str, str, str]]) -> bool:
        return sum(len(k) + len(d) + 2 for k, d, _ in keys) <= width

    # the palette's key before those that give way: it holds every action and the ready-made races (QA: at
    # 80 columns it was the one left out); if even without them it does not fit, it gives way too
    for action in KEY_BAR_GIVES_WAY:
        if fits([*items, PALETTE]):
            break
        items = [item for item in items if item[2] != action]
    return [*items, PALETTE] if fits([*items, PALETTE]) else items
