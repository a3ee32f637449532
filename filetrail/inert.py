"""Make a user-controlled string safe to show on a terminal (imported by every human output,
and cheap to import: the error path uses it before anything else is loaded)."""

from __future__ import annotations

_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def inert(value: object) -> str:
    """`value` as text a terminal only displays: each character that is not printable
    (C0/C1 controls such as ESC and CSI, DEL, bidi overrides and other format characters,
    line and paragraph separators, lone surrogates) becomes a visible escape such as
    `\\x1b` or `\\u202e`, so an object key cannot drive the terminal or reorder what it shows."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
