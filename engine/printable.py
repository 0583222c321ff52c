"""Text from the data, made safe to show: control and invisible characters become visible escapes."""

from __future__ import annotations

import unicodedata

HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def printable(text: str) -> str:
    """`text` with every control, format (bidi overrides ...) or unassigned character escaped."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in HIDDEN:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)
