"""Make input-derived text inert: control characters become visible, never terminal commands."""

from __future__ import annotations

import re

_C0_C1 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␀..␟ control pictures
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def inert(text: str) -> str:
    """Replace control, line-separator and bidi-override characters with visible stand-ins."""
    text = _C0_C1.sub(_picture, text)
    return _BIDI.sub("\ufffd", text.replace("\t", " ").replace("\n", " ").replace("\r", " "))


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_safe(serialised: str) -> str:
    """Escape characters JSON may carry raw but a terminal could act on (C1, bidi, separators)."""
    if serialised.isascii():
        return serialised  # json.dumps already escaped every ASCII control character
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", serialised)
