"""Text from data made safe to show: control and other invisible characters escaped, once, here."""

from __future__ import annotations

import unicodedata

HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})  # control, format, separators, unassigned


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` with every character of a hidden category shown as \\xNN, \\uNNNN or \\UNNNNNNNN."""
    if text.isprintable():  # the common case: nothing to escape (fast)
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in HIDDEN else ch for ch in text)
