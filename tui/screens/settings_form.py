"""The settings form (issue 11): a modal with every setting of a run, each checked as its flag is.

`SettingsForm(config, data, vocab_size)` is a `ModalScreen[Settings | None]`: push it with a callback,
which gets `Settings(config, data)` on Apply (enter in any field, or the Apply button) or None on
escape / Cancel. Each field is parsed as argparse parses its flag (`int(text)` / `float(text)`: the
same "argument --steps: invalid int value: 'abc'") and then checked by the engine's own rules
(`Config.validate`, the data readers), so a field shows the very message the flag would print, beside
it, as it is typed. Apply checks all the fields again, then the data file (read, as a run would) and
the model's size for that data's vocabulary. Any text at all gives a message, never an exception.

Apply reads the data and builds the new run in a daemon thread, off the screen's thread (a 30 MB file
or a wide model takes seconds): the form says what it is doing, keys go on answering, and escape
cancels (the thread's work is then dropped). The data file is checked against the app's outputs
(`s` / --save, --metrics) as the command line checks --data against them (the same file, links
included, is refused: a save would overwrite the names), and `tutorial` gets the same size and
checksum check as `--data tutorial` (engine.tutorial_data.tutorial_names_path).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static

from engine.config import SCHEDULES, Config
from engine.dataset import MAX_DATA_BYTES, read_text, split_docs
from engine.errors import DataError, MicroMLPError
from engine.outputs import check_distinct
from engine.printable import printable
from engine.race import race_configs, race_spec
from engine.run import Run, embedded_names_path

Outputs = Sequence[tuple[str, "str | Path | None"]]  # ("--save", path), ("--metrics", path): what the app writes
POLL = 0.1  # seconds between looks at the apply's thread
# keys a field takes besides text, and the Input action each runs
EDITING_KEYS = {"backspace": "delete_left", "delete": "delete_right", "left": "cursor_left",
                "right": "cursor_right", "home": "home", "end": "end"}


@dataclass(frozen=True)
class Settings:
    """What the form gives back: the new run's settings and its data (None: the embedded names)."""

    config: Config
    data: str | None
    race: str = ""  # a race of these settings ("lr=0.5,1 seed=1,2", engine.race.race_spec), or "": one run
    run: Run | None = field(default=None, compare=False)  # the new run, built off the screen's thread


def _int(flag: str, text: str) -> int:
    try:
        return int(text)
    except (ValueError, TypeError):  # also: more digits than Python converts (4,300)
        raise MicroMLPError(f"argument {flag}: invalid int value: {text!r}") from None


def _float(flag: str, text: str) -> float:
    try:
        return float(text)
    except (ValueError, TypeError, OverflowError):
        raise MicroMLPError(f"argument {flag}: invalid float value: {text!r}") from None


def _word(flag: str, text: str) -> str:
    """A field of choices (--schedule, --gradient) as its flag takes it: the word as typed (Config.validate
    says, as for the flag, when it is not one of the choices)."""
    return text


@dataclass(frozen=True)
class Field:
    id: str  # the Input's id
    label: str
    flag: str
    setting: str  # the Config field it sets
    parse: Callable[[str, str], object]  # (flag, text) -> value, or MicroMLPError with the flag's message
    hint: str = ""  # shown beside the field: the choices it takes

    def value(self, text: str) -> object:
        if self.setting == "hidden" and not text.strip():
            return None  # empty: 4 x n_embd, as the flag left out
        return self.parse(self.flag, text)

    def text(self, config: Config) -> str:
        value = getattr(config, self.setting)
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)


FIELDS = [
    Field("lr", "learning rate", "--lr", "learning_rate", _float),
    Field("steps", "steps", "--steps", "num_steps", _int),
    Field("n-embd", "n_embd", "--n-embd", "n_embd", _int),
    Field("hidden", "hidden width", "--hidden", "hidden", _int),
    Field("seed", "seed", "--seed", "seed", _int),
    Field("temperature", "temperature", "--temperature", "temperature", _float),
    Field("top-k", "top-k (0: off)", "--top-k", "top_k", _int),
    Field("samples", "final samples", "--samples", "num_samples", _int),
    Field("holdout", "hold-out fraction", "--holdout", "holdout", _float),
    Field("schedule", "lr schedule", "--schedule", "schedule", _word,
          f"{SCHEDULES[0]} (the page's), {', '.join(SCHEDULES[1:])}"),
    Field("gradient", "gradient", "--gradient", "gradient", _word,
          "name (the page's) or data (all names)"),
]


def check_race(text: str, base: Config) -> str | None:
    """None, or why the race field's text is not a race of these settings (empty: no race)."""
    if not text.strip():
        return None
    try:
        race_configs(base, race_spec(text))
    except MicroMLPError as exc:
        return str(exc)
    return None


def check_field(field: Field, text: str, base: Config, vocab_size: int | None = None) -> str | None:
    """None, or the message the flag would give for `text` with the other settings as in `base`."""
    try:
        base.with_(**{field.setting: field.value(text)}).validate(vocab_size)
    except MicroMLPError as exc:
        return str(exc)
    except (MemoryError, OverflowError, ValueError, TypeError) as exc:  # never expected; never a crash
        return f"{field.flag}: {type(exc).__name__}"
    return None


def data_path(text: str) -> str | None:
    """The data field's text as --data reads it: empty is the embedded names; 'tutorial' the tutorial's
    names if already downloaded (the form does not download: run `micromlp-tui --data tutorial` once);
    a leading ~ is the home folder, as the shell expands it for the flag."""
    text = text.strip()
    if not text:
        return None
    if text == "tutorial":
        from engine.tutorial_data import cached_path

        if not cached_path().is_file():
            raise DataError("--data tutorial: not downloaded yet; run `micromlp-tui --data tutorial` once, "
                            "or give a path")
        return str(cached_path())
    return os.path.expanduser(text)  # ~ and ~user as a shell expands them for the flag (~nobody-known stays)


def served_choices(data: str | None) -> tuple[str, ...]:
    """What a browser tab's form may take as its data (--serve): the embedded names (empty), `tutorial`
    and the server's own --data. A tab's keys are anyone's who has its address: a path typed there would
    be read on the server's machine (any file its user may read, shown as names), so none is taken."""
    return tuple(dict.fromkeys(["", "tutorial", *([data] if data else [])]))


def check_data(text: str, choices: tuple[str, ...] | None = None) -> str | None:
    """Cheap checks as the field is typed: the file is there and is a regular file under the size limit.
    With `choices` (a browser tab's, `served_choices`) only those texts, and nothing else is looked at."""
    if choices is not None and text.strip() not in choices:
        server = [c for c in choices if c not in ("", "tutorial")]
        return ("a browser tab cannot read files: the data is the server's, one of the two buttons above"
                + (f" or {printable(server[0])}" if server else ""))
    if choices is not None and text.strip() == "tutorial":
        from engine.tutorial_data import cached_path

        if not cached_path().is_file():  # (a tab cannot run the command the flag's message names)
            return "the server was not started with --data tutorial: the tutorial's names are not on it"
    try:
        path = data_path(text)
        if path is None:
            return None
        p = Path(path)
        if p.is_dir():
            return f"{printable(path)}: is a directory, not a text file"
        if not p.exists():
            return f"{printable(path)}: no such file"
        if not p.is_file():
            return f"{printable(path)}: is not a regular file (a device or a pipe?)"
        size, most = p.stat().st_size, MAX_DATA_BYTES // 1024**2
        if size > MAX_DATA_BYTES:
            return f"{printable(path)}: {size / 1024**2:.0f} MB is over the {most} MB limit"
    except MicroMLPError as exc:
        return printable(str(exc))
    except (OSError, ValueError) as exc:  # a name the system refuses (too long, a NUL byte)
        return f"{printable(text)}: cannot be used ({type(exc).__name__})"
    return None


def check_not_an_output(data: str | None, outputs: Outputs) -> str | None:
    """None, or why the data file may not be used: it is the file an output writes (`s` / --save,
    --metrics), by device and inode (links too) as the command line checks --data."""
    try:
        check_distinct(outputs, [("--data", data if data is not None else embedded_names_path())])
    except MicroMLPError as exc:
        return printable(str(exc))
    return None


def read_settings(texts: dict[str, str], base: Config, outputs: Outputs = (), choices: tuple[str, ...] | None = None
                  ) -> tuple[Settings | None, dict[str, str]]:
    """(Settings, {}) or (None, {field id: message}): every field, then the data (read as a run reads it)
    and the model's size for its vocabulary. `texts` maps field ids (and "data") to their text.
    The data may not be an output's file (`outputs`); `tutorial` is checked (size, SHA-256)."""
    errors = {f.id: m for f in FIELDS if (m := check_field(f, texts.get(f.id, ""), base)) is not None}
    if (m := check_data(texts.get("data", ""), choices)) is not None:
        errors["data"] = m
    if errors:
        return None, errors
    config = base.with_(**{f.setting: f.value(texts.get(f.id, "")) for f in FIELDS})
    race = texts.get("race", "").strip()
    if (m := check_race(race, config)) is not None:
        return None, {"race": m}
    try:
        config.validate()
        data = data_path(texts.get("data", ""))
        if texts.get("data", "").strip() == "tutorial":  # as --data tutorial: size and checksum
            from engine.tutorial_data import tutorial_names_path

            data = tutorial_names_path(io.StringIO())
        if (m := check_not_an_output(data, outputs)) is not None:
            return None, {"data": m}
        docs = split_docs(read_text(embedded_names_path() if data is None else data))
        if not docs:
            return None, {"data": f"{printable(str(data))}: holds no names (it is empty or only blank lines)"}
        config.validate(len(set("".join(docs))) + 1)  # the model's size for this data's vocabulary
    except DataError as exc:
        return None, {"data": printable(str(exc))}
    except MicroMLPError as exc:
        return None, {"n-embd": printable(str(exc))}
    except MemoryError:
        return None, {"data": "out of memory reading the data"}
    return Settings(config, data, race), {}


def prepare(texts: dict[str, str], base: Config, outputs: Outputs = (), choices: tuple[str, ...] | None = None
            ) -> tuple[Settings | None, dict[str, str]]:
    """read_settings, then the new run itself (Run.new: the data read, the model built): what Apply
    runs off the screen's thread. A setting the data refuses (--holdout with one name) is that field's."""
    settings, errors = read_settings(texts, base, outputs, choices)
    if settings is None or settings.race:  # a race is built by the app (engine.race)
        return settings, errors
    try:
        run = Run.new(settings.config, settings.data)
    except MicroMLPError as exc:
        message = printable(str(exc))
        where = next((f.id for f in FIELDS if message.startswith(f.flag + " ")), "data")
        return None, {where: message}
    except MemoryError:
        return None, {"data": "out of memory building the run"}
    return Settings(settings.config, settings.data, run=run), {}


class _Field(Input):
    """A field that runs its editing keys (EDITING_KEYS) in turn with the text typed around them. An Input
    leaves them to its bindings, which run only once the key has gone up to the app unhandled: in a burst
    of keys (typed fast, a paste of keys, a browser tab's batch) the letters after a backspace were in the
    field before it ran (QA: backspaces then `1.5` turned `50.25` into `50.`)."""

    async def _on_key(self, event: events.Key) -> None:
        action = EDITING_KEYS.get(event.key)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)


class _FieldValidator(Validator):
    def __init__(self, check: Callable[[str], str | None]):
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        message = self.check(value)
        return self.success() if message is None else self.failure(message)


class SettingsForm(ModalScreen[Settings | None]):
    """Every setting of a new run; enter or Apply starts it, escape cancels."""

    DEFAULT_CSS = """
    SettingsForm { align: center middle; }
    SettingsForm #settings-box {
        width: 90%; max-width: 110; height: auto; max-height: 100%;
        border: round $primary; background: $panel; padding: 0 1;
    }
    SettingsForm #settings-title { text-style: bold; width: 1fr; }
    SettingsForm .settings-row { height: auto; }
    SettingsForm .settings-label { width: 18; }
    SettingsForm Input { width: 14; }
    SettingsForm #data, SettingsForm #race { width: 1fr; }
    SettingsForm #schedule, SettingsForm #gradient { width: 10; }  /* a word: its choices fit beside it at 80 */
    SettingsForm .field-error { width: 1fr; height: auto; color: $error; padding-left: 1; }
    SettingsForm .field-hint { width: auto; color: $text-muted; padding-left: 1; }
    SettingsForm #data-error, SettingsForm #race-error, SettingsForm #form-error { padding-left: 18; }
    SettingsForm #data-choices { height: auto; padding-left: 17; }
    SettingsForm #settings-buttons { height: auto; align-horizontal: right; }
    SettingsForm Button { min-width: 10; height: 1; border: none; margin-left: 1; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, config: Config, data: str | None = None, vocab_size: int | None = None,
                 outputs: Outputs = (), race: str = "", choices: tuple[str, ...] | None = None):
        """`config` and `data` fill the fields (the current run's), `race` the race field (the current
        race's, engine.race.race_text; "": one run); `vocab_size` (the current data's) lets each field check
        the model's size as it is typed (Apply checks it for the chosen data anyway); `outputs` are the files
        the app writes, which the data may not be; `choices`, in a browser tab, the only data it may take
        (`served_choices`)."""
        self.choices = choices
        super().__init__()
        self.race = race
        self.base = config
        self.data = data
        self.vocab_size = vocab_size
        self.outputs = tuple(outputs)
        self.result: Settings | None = None  # what Apply dismissed with (tests read it too)
        self.applying: threading.Event | None = None  # set while Apply's thread works: cancelled when set
        self._outcome: tuple[Settings | None, dict[str, str]] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="settings-box"):
            yield Static("New run: settings (enter: apply, escape: cancel)", id="settings-title")
            for f in FIELDS:
                check = lambda t, f=f: check_field(f, t, self.base, self.vocab_size)  # noqa: E731
                yield self._row(f.label, f.id, f.text(self.base), check,
                                placeholder="4 x n_embd" if f.id == "hidden" else "", hint=f.hint)
            yield self._row("data file", "data", self.data or "", lambda t: check_data(t, self.choices),
                            placeholder="text file, one name per line; empty: census names" if self.choices is None
                            else "the server's data: a button below", error=False)
            with Horizontal(id="data-choices"):  # the two lists a learner means most, one press away
                yield Button("census names (embedded)", id="data-embedded", compact=True)
                yield Button("tutorial names (32,033)", id="data-tutorial", compact=True)
            yield Label("", id="data-error", classes="field-error")  # below: the path takes the row
            yield self._row("race", "race", self.race, lambda t: check_race(t, self.base),
                            placeholder="e.g. lr=0.5,1,2 seed=1,2 (empty: one run)", error=False)
            yield Label("", id="race-error", classes="field-error")
            yield Label("", id="form-error", classes="field-error")
            with Horizontal(id="settings-buttons"):
                yield Button("Apply", id="apply", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _row(self, label: str, field_id: str, value: str, check: Callable[[str], str | None],
             placeholder: str = "", error: bool = True, hint: str = "") -> Horizontal:
        """A label, the field and (beside it) the choices it takes, if it says them, and its message."""
        return Horizontal(
            Label(label, classes="settings-label"),
            _Field(value, placeholder=placeholder, id=field_id, compact=True, validators=[_FieldValidator(check)],
                  validate_on=["changed", "submitted"]),
            *([Label(hint, id=f"{field_id}-hint", classes="field-hint")] if hint else []),
            *([Label("", id=f"{field_id}-error", classes="field-error")] if error else []),
            classes="settings-row",
        )

    def on_key(self, event: events.Key) -> None:
        """A key typed while the form is still opening (no field has the focus yet: Textual gives it once
        the form is drawn, 0.1-0.3 s after `o` while training runs) was handed to the form itself, and
        would go on to the dashboard's keys under it (a digit there switched the view; the text was
        lost). It goes to the first field instead, which gets the focus at once, so that the keys typed
        after it follow it there, in order. Keys typed together are all handed to the form before it
        sees the first: a printable one that comes while a field has the focus was one of those (a field
        takes every printable key itself), and goes to that field."""
        field = self.focused if isinstance(self.focused, Input) else None
        early = self.focused is None and (event.is_printable or event.key in EDITING_KEYS)
        if not (early or (field is not None and event.is_printable)):
            return
        event.stop()
        event.prevent_default()
        if field is None:
            field = self.query_one(f"#{FIELDS[0].id}", Input)
            self.set_focus(field)  # now (Widget.focus waits a turn)
        field.post_message(events.Key(event.key, event.character))

    def _show(self, field_id: str, message: str | None) -> None:
        self.query_one(f"#{field_id}-error", Label).update(Text(message or ""))
        for hint in self.query(f"#{field_id}-hint"):  # the choices give way to the message (one row)
            hint.display = not message

    def errors(self) -> dict[str, str]:
        """The messages shown now, by field id (for tests and the caller)."""
        ids = [f.id for f in FIELDS] + ["data", "race", "form"]
        return {i: str(self.query_one(f"#{i}-error", Label).content) for i in ids
                if str(self.query_one(f"#{i}-error", Label).content)}

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        if event.input.id:
            self._show(event.input.id, None if result is None or result.is_valid else result.failure_descriptions[0])

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.apply()

    @on(Button.Pressed, "#data-embedded, #data-tutorial")
    def _data_chosen(self, event: Button.Pressed) -> None:
        """Fill the data field: empty (the embedded census names) or `tutorial` (its message, if any, shows)."""
        event.stop()
        field = self.query_one("#data", Input)
        field.value = "tutorial" if event.button.id == "data-tutorial" else ""
        field.focus()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def apply(self) -> None:
        """Check everything; dismiss with the new Settings (and its run), or show why not (and stay).
        The cheap checks run here; the data is read and the run built in a thread (see the module)."""
        if self.applying is not None:
            return  # already applying
        texts = {i: self.query_one(f"#{i}", Input).value for i in [f.id for f in FIELDS] + ["data", "race"]}
        errors = {f.id: m for f in FIELDS if (m := check_field(f, texts.get(f.id, ""), self.base)) is not None}
        if (m := check_data(texts.get("data", ""), self.choices)) is not None:
            errors["data"] = m
        if (m := check_race(texts.get("race", "").strip(), self.base)) is not None:
            errors["race"] = m
        if errors:
            self._show_errors(texts, errors)
            return
        for i in [f.id for f in FIELDS] + ["data", "race"]:
            self._show(i, None)
        what = printable(texts.get("data", "").strip() or "the embedded names")
        self._show("form", f"reading {what} and building the model … (escape cancels)")
        self.applying = cancelled = threading.Event()
        self._outcome = None
        threading.Thread(target=self._prepare, args=(texts, cancelled), name="settings-apply", daemon=True).start()
        self._timer = self.set_interval(POLL, self._poll)

    def _prepare(self, texts: dict[str, str], cancelled: threading.Event) -> None:
        try:
            outcome = prepare(texts, self.base, self.outputs, self.choices)
        except Exception as exc:  # noqa: BLE001 - a form never crashes the app; say what happened
            outcome = None, {"form": f"cannot apply: {type(exc).__name__}: {printable(str(exc))}"}
        if not cancelled.is_set():
            self._outcome = outcome

    def _poll(self) -> None:
        if self._outcome is None:
            return
        self._timer.stop()
        (settings, errors), self._outcome, self.applying = self._outcome, None, None
        if settings is None:
            texts = {i: self.query_one(f"#{i}", Input).value for i in [f.id for f in FIELDS] + ["data", "race"]}
            self._show_errors(texts, errors)
            return
        self._show("form", None)
        self.result = settings
        self.dismiss(settings)

    def _show_errors(self, texts: dict[str, str], errors: dict[str, str]) -> None:
        for i in [f.id for f in FIELDS] + ["data", "race"]:
            self._show(i, errors.get(i))
        self._show("form", errors.get("form"))
        first = next((i for i in texts if i in errors), None)
        if first is not None:
            self.query_one(f"#{first}", Input).focus()

    def action_cancel(self) -> None:
        if self.applying is not None:  # the thread's work is dropped; nothing waits for it
            self.applying.set()
            self.applying = None
            self._timer.stop()
        self.dismiss(None)
