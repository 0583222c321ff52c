"""Keys typed ahead of a screen that opens: they go to that screen, not to the one it covered.

Textual hands each key that arrives to the screen on top at that moment (to its focused widget, or to the
screen itself). Keys typed quickly after `o` (the settings form) or ctrl+p (the palette) all arrive before
the first is handled: they are handed to the dashboard's screen, and only once it has opened the form do
they come back to the app, unhandled, which then drops them (the dashboard's keys do not apply under a
modal screen). A learner who types `o`, then `0.5` at once, lost the `0.5`. `TypeAhead` notes the screen
each key was handed to as it arrives; a key that comes back unhandled after a modal screen opened over
that screen is one the learner typed for the new screen, and the app hands it on as if it arrived now
(in the order typed: each comes back in turn)."""

from __future__ import annotations

from textual import events
from textual.screen import ModalScreen, Screen

KEPT = 64  # keys noted at most (a key a widget handled never comes back: its note is dropped in turn)


class TypeAhead:
    def __init__(self) -> None:
        self._sent_to: dict[int, Screen] = {}  # id(key event) -> the screen it was handed to

    def arrived(self, event: events.Key, screen: Screen) -> None:
        """A key arrives while `screen` is on top (the screen Textual is about to hand it to)."""
        self._sent_to[id(event)] = screen
        if len(self._sent_to) > KEPT:
            del self._sent_to[next(iter(self._sent_to))]

    def typed_ahead(self, event: events.Key, screen: Screen) -> events.Key | None:
        """A key come back unhandled while `screen` is on top: a copy to hand on as a new key if a modal
        screen opened over the one it was handed to, else None."""
        sent_to = self._sent_to.pop(id(event), None)
        if sent_to is None or sent_to is screen or not isinstance(screen, ModalScreen):
            return None
        return events.Key(event.key, event.character)
