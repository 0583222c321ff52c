"""A browser tab's app (--serve): its keys are anyone's who has its address, so it reads and writes only
the files the server's flags name. A security test found a tab could type any path into the settings
form's data field and read the file as generated names (a private key's lines, as names), and that `s`
and `e` wrote files into the server's folder."""

from __future__ import annotations

import argparse
import os

import pytest
from helpers import until
from textual.widgets import Input

from engine import Config, Run
from tui.app import DashboardApp, make_app
from tui.screens.settings_form import SettingsForm


async def until_long(pilot, condition) -> None:  # an Apply reads data and builds a model in a thread
    await until(pilot, condition, timeout=30.0)


DOCS = ["anna", "bob", "carla", "dan", "eve"] * 20


def _served(**kw) -> DashboardApp:
    return DashboardApp(Run.new(Config(num_steps=50), DOCS), served=True, **kw)


async def _apply_data(pilot, app, text: str) -> SettingsForm:
    await pilot.press("o")
    await until_long(pilot, lambda: isinstance(app.screen, SettingsForm))
    form = app.screen
    form.query_one("#data", Input).value = text
    await pilot.pause()
    form.apply()
    await pilot.pause(0.3)
    return form


async def test_a_tab_cannot_read_a_file_by_typing_its_path_in_the_form(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("zqsecretalpha\nzqsecretbravo\n")
    app = _served()
    async with app.run_test(size=(100, 30)) as pilot:
        run = app.training
        form = await _apply_data(pilot, app, str(secret))
        assert app.screen is form and form.result is None  # not applied
        message = form.errors().get("data", "")
        assert "a browser tab cannot read files: the data is the server's" in message
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SettingsForm))
        assert app.training is run and "zqsecret" not in "".join(app.training.dataset.docs)


async def test_a_tab_is_not_told_whether_a_path_exists():
    """The field's message is the same for a file that is there and one that is not (no probing)."""
    app = _served()
    async with app.run_test(size=(100, 30)) as pilot:
        there = (await _apply_data(pilot, app, "/etc/hostname")).errors().get("data")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SettingsForm))
        missing = (await _apply_data(pilot, app, "/etc/no-such-file-here")).errors().get("data")
        assert there == missing and there


async def test_a_tab_may_still_choose_the_embedded_names_or_the_servers_own_data(tmp_path):
    names = tmp_path / "server-names.txt"
    names.write_text("\n".join(["mia", "noah", "olga", "pete"] * 10) + "\n")
    app = DashboardApp(Run.new(Config(num_steps=50), str(names)), served=True, data=str(names))
    async with app.run_test(size=(100, 30)) as pilot:
        await _apply_data(pilot, app, str(names))  # the server's --data, as it was given
        await until_long(pilot, lambda: not isinstance(app.screen, SettingsForm))
        await until(pilot, lambda: "mia" in app.training.dataset.docs)
        await _apply_data(pilot, app, "")  # the embedded census names
        await until_long(pilot, lambda: not isinstance(app.screen, SettingsForm))
        await until(pilot, lambda: len(app.training.dataset.docs) > 5000)


async def test_a_tab_of_a_server_without_save_writes_no_file_on_s_or_e(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = _served()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 1)
        await pilot.press("s")
        await until(pilot, lambda: "not saved: a browser tab" in str(app.note_line.content))
        await pilot.press("e")
        await until(pilot, lambda: "not exported: a browser tab" in str(app.note_line.content))
        await pilot.pause(0.3)
    assert os.listdir(tmp_path) == []


async def test_a_tab_of_a_server_with_save_saves_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save = tmp_path / "given" / "c.npz"
    save.parent.mkdir()
    app = _served(save_path=str(save))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("full_stop")
        await until(pilot, lambda: app.shown_step == 1)
        await pilot.press("s")
        await until_long(pilot, lambda: save.is_file())
        await pilot.press("e")
        await until_long(pilot, lambda: (save.parent / "micromlp-runs.csv").is_file())
    assert sorted(os.listdir(tmp_path)) == ["given"]


async def test_the_palette_screenshot_saves_in_the_export_folder_and_says_where(tmp_path, monkeypatch):
    """Textual's own saved to ~/Downloads, and failed where that folder does not exist (as here)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    app = DashboardApp(Run.new(Config(num_steps=50), DOCS))
    async with app.run_test(size=(100, 30)) as pilot:
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        titles["Screenshot"].callback()
        await until_long(pilot, lambda: any(p.suffix == ".svg" for p in tmp_path.iterdir()))
        svg = next(p for p in tmp_path.iterdir() if p.suffix == ".svg")
        await until(pilot, lambda: "screenshot saved as" in str(app.note_line.content))
        assert svg.name in str(app.note_line.content)  # on screen: the name first
        assert app.note == f"screenshot saved as {svg.name} in {tmp_path.resolve()}"  # the folder whole (it said ./)
        assert "<svg" in svg.read_text()[:2000]


@pytest.mark.parametrize("served", [True, False])
async def test_a_tabs_palette_has_no_screenshot_and_the_terminals_has(served):
    app = DashboardApp(Run.new(Config(num_steps=50), DOCS), served=served)
    async with app.run_test(size=(100, 30)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert ("Screenshot" in titles) is not served


def test_the_console_command_makes_a_served_app_in_a_browser_tab():
    args = argparse.Namespace(save=None, data=None, plot=None, metrics=None, served=True)
    assert make_app(Run.new(Config(num_steps=5), DOCS), args).served
    args.served = False
    assert not make_app(Run.new(Config(num_steps=5), DOCS), args).served


async def test_a_tab_is_not_told_to_run_a_command_or_give_a_path_for_the_tutorial_names(tmp_path, monkeypatch):
    """QA round 2: the tutorial button in a tab, the names not downloaded, said `run micromlp-tui --data
    tutorial once, or give a path`: neither can a tab do. And a refused path pointed at `the two buttons
    below`, which are above the message."""
    import engine.tutorial_data as tutorial_data

    monkeypatch.setattr(tutorial_data, "cached_path", lambda: tmp_path / "not-downloaded.txt")
    app = _served()
    async with app.run_test(size=(100, 30)) as pilot:
        form = await _apply_data(pilot, app, "tutorial")
        message = form.errors().get("data", "")
        assert "not started with --data tutorial" in message and "give a path" not in message, message
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, SettingsForm))
        form = await _apply_data(pilot, app, "/etc/hostname")
        assert "one of the two buttons above" in form.errors().get("data", "")
        box = form.query_one("#data-choices").region  # the buttons' row is above the message's
        assert box.y < form.query_one("#data-error").region.y
