"""Text from the data or the user made safe to show in a terminal: `printable(text)`.

Names are data: they may hold ESC, BEL, DEL, C1 controls, bidi overrides (U+202E turns the rest of a
line around) or line separators, and printed raw they move the cursor, switch terminal modes or hide
what follows. `printable` replaces each such character with a visible escape (`\\x1b`, `\\u202e`,
`\\U000e0001`) and leaves everything else alone: letters, accents and combining marks, CJK, emoji,
spaces. Only the display changes; the data and the model keep the characters as they are.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that are never shown as themselves: controls (C0, DEL, C1), format characters
# (bidi marks, embeddings, overrides and isolates, zero-width characters, soft hyphen), line and
# paragraph separators, surrogates, private-use and unassigned code points.
HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def escape_char(ch: str) -> str:
    """The visible escape of one character, as Python writes it: \\x1b, \\u202e, \\U000e0001."""
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_hidden(ch: str) -> bool:
    return unicodedata.category(ch) in HIDDEN


def printable(text: str) -> str:
    """`text` with every control, format, separator, surrogate, private-use or unassigned character
    replaced by its visible escape. Spaces (including other space characters such as U+00A0 and
    U+3000) are kept; a backslash is kept as it is."""
    if text.isprintable():  # the usual case, at C speed: nothing but printable characters and ' '
        return text
    return "".join(escape_char(ch) if unicodedata.category(ch) in HIDDEN else ch for ch in text)
