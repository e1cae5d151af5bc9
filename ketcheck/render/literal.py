"""Make input-derived text inert: control characters become visible, never terminal commands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

# Patterns are compiled on first use: their large character classes cost milliseconds to
# compile, and most text (plain printable ASCII) never needs them.
_C0_C1 = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_BIDI = r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
# Characters a terminal or page draws as nothing (or that reorder text), and lone surrogates
# (undecodable bytes, or a `\udc9b` in JSON): shown as a `\uXXXX` escape, so what is seen is
# what was typed. Format characters (Cf), default-ignorables, variation selectors, tag characters.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u2065"
    "\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_HIDDEN = f"[{_INVISIBLE}]"
_JSON_UNSAFE = f"[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069{_INVISIBLE}]"


@cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀..␟ control pictures
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _class_ranges(char_class: str) -> Iterator[range]:
    """The code points of a regex class body made only of characters and `a-b` ranges."""
    i = 0
    while i < len(char_class):
        if i + 2 < len(char_class) and char_class[i + 1] == "-":
            yield range(ord(char_class[i]), ord(char_class[i + 2]) + 1)
            i += 3
        else:
            yield range(ord(char_class[i]), ord(char_class[i]) + 1)
            i += 1


@cache
def _printable_hidden() -> frozenset[str]:
    """The hidden characters that `str.isprintable` passes (combining marks, fillers…)."""
    return frozenset(
        c for span in _class_ranges(_INVISIBLE) for c in filter(str.isprintable, map(chr, span))
    )


def inert(text: str) -> str:
    """Replace control, line-separator, bidi and invisible characters with visible stand-ins."""
    if text.isprintable() and (text.isascii() or _printable_hidden().isdisjoint(text)):
        # Every character `_replaced` changes is unprintable (a control, tab, line break, bidi
        # or format character, a surrogate) or one of the printable hidden ones: none is here.
        # Most text ketcheck shows is like this, and the patterns cost ms to compile.
        return text
    return _replaced(text)


def _replaced(text: str) -> str:
    text = _pattern(_C0_C1).sub(_picture, text)
    if text.isascii():
        return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    text = _pattern(_HIDDEN).sub(lambda m: _escape(ord(m.group())), text)
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return _pattern(_BIDI).sub("\ufffd", text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_safe(serialised: str) -> str:
    """Escape what JSON may carry raw but a terminal could act on, or would not show.

    DEL, C1, bidi controls, line separators, invisible characters and lone surrogates become
    `\\uXXXX` escapes: the document stays valid UTF-8 and still decodes to the same strings.
    """
    if serialised.isascii() and "\x7f" not in serialised:
        return serialised  # json.dumps already escaped every other ASCII control character
    return _pattern(_JSON_UNSAFE).sub(_json_escape, serialised)
