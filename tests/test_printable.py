"""Names from data are shown with control and invisible characters escaped."""

from __future__ import annotations

import unicodedata

from engine.printable import HIDDEN, printable


def test_plain_text_is_unchanged():
    for text in ("emma", "Zoë", "Jean-Luc", "Mary Ann", "o'Brien", "Åsa", "名前", "a\u00a0b", ""):
        assert printable(text) == text


def test_control_and_invisible_characters_are_escaped():
    assert printable("a\x1b[31mb") == "a\\x1b[31mb"  # an escape sequence cannot reach the terminal
    assert printable("x\ty\rz\x7f") == "x\\x09y\\x0dz\\x7f"
    assert printable("l\u200bm") == "l\\u200bm"  # Cf: zero-width space
    assert printable("p\u2028q\u2029") == "p\\u2028q\\u2029"  # Zl, Zp
    assert printable("\ud800") == "\\ud800"  # Cs: a lone surrogate
    assert printable("\ue000") == "\\ue000"  # Co: private use
    assert printable("\U000f0000") == "\\U000f0000"  # Co, above the BMP
    assert printable("\u0378") == "\\u0378"  # Cn: unassigned
    assert printable("\x85") == "\\x85"  # C1 control


def test_nothing_hidden_is_left():
    text = "".join(chr(c) for c in range(0, 0x3000, 3))
    shown = printable(text)
    assert not [ch for ch in shown if unicodedata.category(ch) in HIDDEN]
    assert shown.count("\\") >= 65  # the C0 and C1 controls among them, at least
