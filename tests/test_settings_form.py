"""The settings form (tui/settings_form.py): the flags' rules and messages, hostile text, and Pilot runs
of a tiny app that pushes it (type, enter, read the dismissed result; escape; errors shown, not dismissed)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import until
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App
from textual.widgets import Input

from engine import Config
from engine.errors import MicroMLPError
from tui.console.flags import build_parser, config_from_args
from tui.screens.settings_form import FIELDS, Settings, SettingsForm, check_data, check_field, data_path, read_settings

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "1e999", "-1e999", "0x10", "1_000", "9" * 5000,
           str(10**30), "١٢", "１０", "½", "\x00", "\x1b[31m", "\r\n", "[bold]x[/]", "[red", "1.5.2", "--", "None",
           "\u202e42", "💥", "1e-400", "  7  ", "+3"]


def flag_message(flag: str, text: str) -> str | None:
    """What the command line says for `flag text`: argparse's type error, or Config's check, or None."""
    parser = build_parser()
    parser.error = lambda message: (_ for _ in ()).throw(MicroMLPError(message))  # type: ignore[method-assign]
    try:
        config_from_args(parser.parse_args([f"{flag}={text}"]))
    except MicroMLPError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("field", FIELDS, ids=[f.id for f in FIELDS])
@pytest.mark.parametrize("text", HOSTILE)
def test_each_field_gives_the_flags_message_for_hostile_text(field, text):
    message = check_field(field, text, Config())
    if field.id == "hidden" and not text.strip():
        assert message is None  # empty: the default width, as leaving the flag out
        return
    if text == "--" and field.id in ("schedule", "gradient"):  # argparse makes it [] ("got []"); the form reads it
        choices = "linear, constant, cosine" if field.id == "schedule" else "name, data"
        assert message == f"{field.flag} must be one of {choices}, got '--'"
        return
    if text == "--":  # argparse strips a "--" value to [] (`--lr=--` says "got []"); the form reads the text
        assert message == f"argument {field.flag}: invalid {'float' if field.parse.__name__ == '_float' else 'int'} " \
            "value: '--'"
        return
    assert message == flag_message(field.flag, text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_no_text_ever_raises(text):
    for field in FIELDS:
        check_field(field, text, Config(), vocab_size=27)
    check_data(text)


def test_apply_reads_every_field_and_the_data(tmp_path):
    data = tmp_path / "d.txt"
    data.write_text("ann\nbob\n")
    texts = {"lr": "0.5", "steps": "2000", "n-embd": "8", "hidden": "", "seed": "7", "temperature": "0.8",
             "top-k": "3", "samples": "5", "holdout": "0.1", "schedule": "cosine", "gradient": "data",
             "data": str(data)}
    got, errors = read_settings(texts, Config(num_samples=5))
    assert errors == {} and got == Settings(Config(learning_rate=0.5, num_steps=2000, n_embd=8, seed=7,
                                                   temperature=0.8, holdout=0.1, num_samples=5, top_k=3,
                                                   schedule="cosine", gradient="data"), str(data))
    _, errors = read_settings({**texts, "schedule": "Cosine", "gradient": "batch"}, Config())
    assert errors == {"schedule": "--schedule must be one of linear, constant, cosine, got 'Cosine'",
                      "gradient": "--gradient must be one of name, data, got 'batch'"}
    _, errors = read_settings({**texts, "n-embd": "100000"}, Config())
    assert "would need about" in errors["n-embd"]
    for bad, message in [(tmp_path / "none.txt", "no such file"), (tmp_path, "is a directory")]:
        _, errors = read_settings({**texts, "data": str(bad)}, Config())
        assert message in errors["data"]
    (tmp_path / "blank.txt").write_text("\n \n")
    assert "holds no names" in read_settings({**texts, "data": str(tmp_path / "blank.txt")}, Config())[1]["data"]
    (tmp_path / "bin.txt").write_bytes(b"a\x00b")
    assert "NUL bytes" in read_settings({**texts, "data": str(tmp_path / "bin.txt")}, Config())[1]["data"]
    assert read_settings({**texts, "data": ""}, Config())[0].data is None  # the embedded names
    missing = Path.home() / "no-such-micromlp-names.txt"
    assert check_data("~/no-such-micromlp-names.txt") == f"{missing}: no such file"  # ~ as the shell expands it
    assert data_path("~/x.txt") == str(Path.home() / "x.txt") and data_path("  ") is None
    assert data_path("~0") == "~0" and check_data("~0") == "~0: no such file"  # an unknown user: as typed
    assert check_data("/dev/null") is not None and check_data("x" * 5000) is not None and check_data("a\x00b")


class FormApp(App):
    def __init__(self, config: Config, data: str | None = None, outputs: tuple = ()):
        super().__init__()
        self.config, self.data, self.outputs = config, data, outputs
        self.results: list[Settings | None] = []

    def on_mount(self) -> None:
        self.push_screen(SettingsForm(self.config, self.data, 27, self.outputs), self.results.append)


async def _type(pilot, field_id: str, text: str) -> None:
    await pilot.click(f"#{field_id}")  # focusing selects the whole value: typing replaces it
    inp = pilot.app.screen.query_one(f"#{field_id}", Input)
    inp.action_select_all()
    await pilot.press("backspace", *text) if text else await pilot.press("backspace")
    await pilot.pause()


async def test_typing_values_and_enter_dismisses_with_the_new_settings():
    app = FormApp(Config(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        assert isinstance(form, SettingsForm)
        assert form.query_one("#lr", Input).value == "1.0" and form.query_one("#hidden", Input).value == ""
        await _type(pilot, "lr", "0.5")
        await _type(pilot, "n-embd", "32")
        await _type(pilot, "holdout", "0.1")
        await pilot.press("enter")
        await until(pilot, lambda: app.results)
        assert app.results == [Settings(Config(learning_rate=0.5, n_embd=32, holdout=0.1), None)]
        assert not isinstance(app.screen, SettingsForm)


async def test_an_invalid_value_shows_the_flags_message_and_does_not_dismiss():
    app = FormApp(Config(num_steps=300), None)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        await _type(pilot, "steps", "0")
        assert form.errors() == {"steps": "--steps must be a whole number > 0, got 0"}  # as typed
        await _type(pilot, "lr", "abc")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [] and app.screen is form
        assert form.errors() == {"steps": "--steps must be a whole number > 0, got 0",
                                 "lr": "argument --lr: invalid float value: 'abc'"}
        assert form.query_one("#lr", Input).has_focus  # the first bad field (the form lists lr first)
        await _type(pilot, "steps", "400")
        await _type(pilot, "lr", "0.25")
        assert form.errors() == {}
        await pilot.click("#apply")
        await until(pilot, lambda: app.results)
        assert app.results == [Settings(Config(num_steps=400, learning_rate=0.25), None)]


async def test_escape_dismisses_with_none():
    app = FormApp(Config(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await _type(pilot, "seed", "7")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None] and not isinstance(app.screen, SettingsForm)


async def test_hostile_text_in_every_field_never_crashes_and_is_never_applied():
    app = FormApp(Config(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        for field in [f.id for f in FIELDS] + ["data"]:
            for text in ["nan", "1e999", "0x10", "[red", "\x1b[31m", "9" * 5000, "\x00"]:
                form.query_one(f"#{field}", Input).value = text
                await pilot.pause()
                form.apply()
                await pilot.pause()
                assert app.screen is form and app.results == [] and field in form.errors()
            form.query_one(f"#{field}", Input).value = "" if field in ("hidden", "data") else FIELDS[
                [f.id for f in FIELDS].index(field)].text(Config())
            await pilot.pause()
        form.apply()
        await until(pilot, lambda: app.results)
        assert app.results == [Settings(Config(), None)]


async def test_the_form_fits_at_80x24_with_an_error_shown(tmp_path):
    app = FormApp(Config(), str(tmp_path / "missing.txt"))
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        form.apply()
        await pilot.pause()
        assert "no such file" in form.errors()["data"]
        box = form.query_one("#settings-box")
        assert box.region.bottom <= 24 and form.query_one("#apply").region.bottom <= 24


async def test_samples_are_in_the_form_and_the_tutorials_names_are_one_press_away(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no tutorial file downloaded: the form says how
    app = FormApp(Config(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        form = app.screen
        assert form.query_one("#samples", Input).value == "20"
        await _type(pilot, "samples", "20000")
        assert form.errors() == {"samples": "--samples must be a whole number from 0 to 10,000, got 20000"}
        await _type(pilot, "samples", "5")
        tutorial = form.query_one("#data-tutorial")
        assert "tutorial names (32,033)" in str(tutorial.render())
        await pilot.click("#data-tutorial")
        await pilot.pause()
        assert form.query_one("#data", Input).value == "tutorial"
        assert "not downloaded yet" in form.errors()["data"]  # its message, as --data tutorial would need
        await pilot.click("#data-embedded")
        await pilot.pause()
        assert form.query_one("#data", Input).value == "" and form.errors() == {}
        assert form.query_one("#data-tutorial").region.bottom <= 24
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [Settings(Config(num_samples=5), None)]


def test_settings_form_is_outside_the_engine():
    code = "import sys, engine, tui.console.headless, engine.runs; assert 'textual' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0


# --- issue 16: the data file against the outputs, tutorial, --holdout with one name, apply off-thread --
@pytest.mark.parametrize("how", ["same path", "hard link", "symlink"])
async def test_the_data_file_may_not_be_the_file_a_save_writes(tmp_path, how):
    """--save N, then the form's data set to N, then s: the names would be overwritten by a
    checkpoint (issue 16 §4). The form checks the data against the outputs as the command line does."""
    names = tmp_path / "names.txt"
    names.write_text("anna\nbob\ncarl\n")
    data = {"same path": names, "hard link": tmp_path / "hard.txt", "symlink": tmp_path / "soft.txt"}[how]
    if how == "hard link":
        os.link(names, data)
    elif how == "symlink":
        data.symlink_to(names)
    app = FormApp(Config(), None, [("--save", str(names)), ("--metrics", None)])
    async with app.run_test(size=(100, 30)) as pilot:
        form = app.screen
        await _type(pilot, "data", str(data))
        form.apply()
        await until(pilot, lambda: "data" in form.errors())
        assert f"--save {names}: is the same file as --data {data}" in form.errors()["data"]
        assert app.results == [] and app.screen is form
    assert names.read_text() == "anna\nbob\ncarl\n"


async def test_the_data_file_may_not_be_the_metrics_file(tmp_path):
    metrics = tmp_path / "m.csv"
    metrics.write_text("anna\nbob\n")
    app = FormApp(Config(), None, [("--save", str(tmp_path / "c.npz")), ("--metrics", str(metrics))])
    async with app.run_test(size=(100, 30)) as pilot:
        form = app.screen
        await _type(pilot, "data", str(metrics))
        form.apply()
        await until(pilot, lambda: "data" in form.errors())
        assert "--metrics" in form.errors()["data"] and "is the same file as --data" in form.errors()["data"]


async def test_holdout_with_one_name_is_refused_in_the_form(tmp_path):
    one = tmp_path / "one.txt"
    one.write_text("anna\n")
    app = FormApp(Config(), None)
    async with app.run_test(size=(100, 30)) as pilot:
        form = app.screen
        await _type(pilot, "data", str(one))
        await _type(pilot, "holdout", "0.5")
        form.apply()
        await until(pilot, lambda: "holdout" in form.errors())
        assert form.errors() == {"holdout": "--holdout 0.5: the data holds 1 name; holding some out needs at "
                                            "least 2 (one to train on); give more names or --holdout 0"}
        assert app.results == []
        await _type(pilot, "holdout", "0")
        form.apply()
        await until(pilot, lambda: app.results)
        assert app.results[0].run is not None and app.results[0].run.num_docs == 1


async def test_tutorial_in_the_form_is_checked_as_the_flag_checks_it(tmp_path, monkeypatch):
    """A file in the cache that is not the tutorial's names.txt is not trained on as if it were: the
    form calls the flag's own check (size and SHA-256), which fetches it again (here: from a local
    copy that is not it either, so the form says why)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tmp_path / "micromlp-tui"
    cache.mkdir()
    (cache / "names.txt").write_text("not\nthe\ntutorial\n")
    fake = tmp_path / "fake.txt"
    fake.write_text("also\nnot\n")
    monkeypatch.setenv("MICROMLP_TUTORIAL_URL", fake.as_uri())
    app = FormApp(Config(), None)
    async with app.run_test(size=(100, 30)) as pilot:
        form = app.screen
        await _type(pilot, "data", "tutorial")
        form.apply()
        await until(pilot, lambda: "data" in form.errors())
        assert "not the tutorial's names.txt" in form.errors()["data"]
        assert app.results == []


async def test_apply_builds_off_the_screens_thread_and_escape_cancels(tmp_path, monkeypatch):
    """Apply says what it does while it reads and builds (keys go on answering), and escape cancels:
    the slow build (made slow here) is dropped and the form closes at once."""
    import tui.screens.settings_form as form_module

    started, release = threading.Event(), threading.Event()
    real = form_module.prepare

    def slow(*args, **kwargs):
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(form_module, "prepare", slow)
    app = FormApp(Config(), None)
    async with app.run_test(size=(100, 30)) as pilot:
        form = app.screen
        form.apply()
        await until(pilot, started.is_set)
        await pilot.pause(0.2)
        assert "reading the embedded names and building the model … (escape cancels)" in form.errors()["form"]
        assert form.loading is False  # the form stays in sight (Textual's `loading` would hide it under dots)
        seed = form.query_one("#seed", Input)
        seed.focus()
        await pilot.press("end", "9")  # the screen answers keys meanwhile
        await pilot.pause()
        assert seed.value == "429"
        await pilot.press("escape")
        await until(pilot, lambda: app.results)
        assert app.results == [None] and not isinstance(app.screen, SettingsForm)
        release.set()
        await pilot.pause(0.3)
        assert app.results == [None]  # the build that finished later is dropped


def _form_text(app) -> str:
    from rich.console import Console

    console = Console(width=app.size.width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_schedule_and_the_gradient_are_fields_filled_with_the_runs_and_applied(size):
    """QA 2: a run on a cosine schedule with the whole data's gradient opens the form with both said (and
    their choices), changed like any field, checked as their flags are; the form still fits at 80x24."""
    app = FormApp(Config(schedule="cosine", gradient="data"), None)
    async with app.run_test(size=size) as pilot:
        form = app.screen
        text = _form_text(app)
        rows = {line.split("│")[1].split()[0] + " " + line.split("│")[1].split()[1]: line
                for line in text.splitlines() if line.count("│") >= 2 and len(line.split("│")[1].split()) >= 2}
        assert "cosine" in rows["lr schedule"] and "linear (the page's), constant, cosine" in rows["lr schedule"]
        assert "data" in rows["gradient data"] and "or data (all names)" in rows["gradient data"], rows
        await _type(pilot, "schedule", "sine")
        assert form.errors() == {"schedule": "--schedule must be one of linear, constant, cosine, got 'sine'"}
        assert "got 'sine'" in _form_text(app) and "linear (the page's), constant" not in _form_text(app)
        await _type(pilot, "schedule", "linear")
        await _type(pilot, "gradient", "name")
        assert form.errors() == {} and "linear (the page's), constant, cosine" in _form_text(app)
        assert form.query_one("#apply").region.bottom <= size[1]
        await pilot.press("enter")
        await until(pilot, lambda: app.results)
        assert app.results == [Settings(Config(schedule="linear", gradient="name"), None)]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_data_fields_hint_is_whole_in_its_box(size):
    """QA: at 80x24 the empty data field read `a text file, one name per line; empty: the embedde`."""
    app = FormApp(Config(), None)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        data = app.screen.query_one("#data", Input)
        shown = "".join(data.render_line(y).text for y in range(data.size.height)).strip()
        assert data.placeholder and data.placeholder in shown, (data.content_size.width, shown)


def _typed_fast(app: App, keys: str) -> None:
    """Keys as a terminal delivers them when typed fast: all queued before the first is handled."""
    from textual import events

    for key in keys.split():
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def test_keys_typed_while_the_form_opens_go_to_its_first_field():
    """The form takes a moment to open: keys typed in it (before a field has the focus) are the first
    field's, in order, and never the dashboard's (a digit there switches the view under the form). `o`
    is a priority binding: handled as it arrives, before the keys after it are handed to a screen."""
    from engine import Run
    from tui.app import DashboardApp

    app = DashboardApp(Run.new(Config(num_steps=1000)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        _typed_fast(app, "o 2 5")  # `o` is handled after both digits arrived, by the dashboard's screen
        await until(pilot, lambda: isinstance(app.screen, SettingsForm) and app.screen.query_one("#lr", Input).value
                    != "1.0", timeout=3)
        assert app.screen.query_one("#lr", Input).value == "25" and app.panel.current == 1


async def test_keys_that_reach_the_form_before_its_focus_are_typed_in_order():
    app = FormApp(Config())
    async with app.run_test(size=(120, 40)) as pilot:
        form = app.screen
        assert isinstance(form, SettingsForm)
        await pilot.pause()
        form.set_focus(None)  # as between the form's opening and Textual's first focus
        _typed_fast(app, "0 . 2 5")
        await until(pilot, lambda: form.query_one("#lr", Input).value != "1.0", timeout=3)
        await pilot.pause(0.2)
        assert form.query_one("#lr", Input).value == "0.25"


async def test_o_types_an_o_in_the_forms_fields_and_the_palette():
    """`o` opens the form as a priority binding (handled before the focused widget sees the key). In a
    text field it is a letter like any other: Textual leaves out of the binding chain the keys a focused
    Input takes (its check_consume_key), priority bindings too."""
    from engine import Run
    from tui.app import DashboardApp

    app = DashboardApp(Run.new(Config(num_steps=300)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, SettingsForm) and app.focused is not None)
        form = app.screen
        await pilot.click("#data")
        await pilot.press(*"tutorial")
        await pilot.pause(0.2)
        assert form.query_one("#data", Input).value == "tutorial" and app.screen is form
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SettingsForm))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")
        await pilot.press(*"decay vs constant")
        await pilot.pause(0.2)
        assert [i.value for i in app.screen.query(Input)] == ["decay vs constant"]


@pytest.mark.parametrize(("start", "keys", "expected"), [
    ("50.25", ["backspace"] * 5 + ["1", "full_stop", "5"], "1.5"),
    ("0.7", ["backspace", "8"], "0.8"),
    ("1.0", ["end", "backspace", "backspace", "backspace", "2", "full_stop", "0"], "2.0"),
    ("123", ["home", "delete", "9", "end", "left", "backspace", "7"], "973"),
])
async def test_keys_typed_in_one_burst_edit_the_field_in_their_order(start, keys, expected):
    """QA round 3: keys that arrive together (typed fast, or a browser tab's batch) were applied out of order:
    the letters went into the field before the backspaces ran (`50.25`, backspace x5, `1.5` gave `50.`),
    so Apply could start a run with another value than the one typed."""
    from textual import events

    app = FormApp(Config(), None)
    async with app.run_test(size=(100, 30)) as pilot:
        field = app.screen.query_one("#lr", Input)
        await pilot.click("#lr")
        field.value, field.cursor_position = start, len(start)
        await pilot.pause()
        chars = {"full_stop": "."}
        for key in keys:  # posted at once: one burst, as a terminal delivers keys typed together
            character = chars.get(key, key if len(key) == 1 else None)
            app.post_message(events.Key(key, character))
        await pilot.pause(0.3)
        assert field.value == expected
