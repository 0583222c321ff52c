"""printable(): what comes from the data is shown with every unprintable character escaped."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.printable import HIDDEN, printable


@pytest.mark.parametrize(("raw", "shown"), [
    ("a\x1b[2Jb", "a\\x1b[2Jb"),  # ESC: would clear the screen
    ("bell\x07", "bell\\x07"),
    ("del\x7f", "del\\x7f"),
    ("nul\x00", "nul\\x00"),
    ("c1\x85\x9b", "c1\\x85\\x9b"),  # NEL and CSI in C1
    ("tab\there", "tab\\x09here"),
    ("cr\rx", "cr\\x0dx"),
    ("abc\u202edef", "abc\\u202edef"),  # right-to-left override
    ("\u2066iso\u2069", "\\u2066iso\\u2069"),  # bidi isolates
    ("\u200e\u200f", "\\u200e\\u200f"),  # LRM, RLM
    ("line\u2028para\u2029", "line\\u2028para\\u2029"),
    ("\ufeffbom", "\\ufeffbom"),
    ("surrogate\ud800", "surrogate\\ud800"),
    ("private\ue000", "private\\ue000"),
    ("tag\U000e0041", "tag\\U000e0041"),
    ("unassigned\u0378", "unassigned\\u0378"),
])
def test_unprintable_characters_become_visible_escapes(raw, shown):
    assert printable(raw) == shown


@pytest.mark.parametrize("text", ["emma", "Zoë", "José", "Åsa", "Jean-Luc", "o'Brien", "Mary Ann", "李小龙",
                                  "Ñandú", "e\u0301", "Ολυμπία", "Мария", "محمد", "👩🏽", "a\u00a0b", "x\u3000y",
                                  "back\\slash", ""])
def test_ordinary_text_is_left_alone(text):
    assert printable(text) == text


@given(st.text())
def test_the_result_never_holds_an_unprintable_character(text):
    shown = printable(text)
    assert not any(unicodedata.category(ch) in HIDDEN for ch in shown)
    kept = [ch for ch in text if unicodedata.category(ch) not in HIDDEN]
    assert all(ch in shown for ch in kept)  # everything printable is still there
