"""Normalise typed text: safe, comparable characters and the lookup key of a name."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Terminal escape sequences (CSI "ESC [ ... letter", OSC "ESC ] ... BEL|ST", and 8-bit CSI):
# pasted from a terminal they carry no drug name, so they are removed before matching.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u00b5": "u",
        "\u03bc": "u",
        "\u2044": "/",
        "\uff0f": "/",
    }
)
_SPACE_NON_WORD = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isdigit() or "a" <= chr(c) <= "z")}
)


def clean_text(text: str) -> str:
    """Make typed text safe and comparable: NFKC, plain quotes and spaces, no control bytes."""
    if text.isascii() and text.isprintable():
        return text.replace("`", "'")  # NFKC leaves printable ASCII as it is
    text = _ESCAPES.sub("", text)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _CONTROL.sub(" ", text)


def name_key(text: str) -> str:
    """The lookup key of a name: lowercase ASCII letters and digits separated by single spaces."""
    return key_of_clean(clean_text(text))


def key_of_clean(text: str) -> str:
    """`name_key` of text that `clean_text` has already made safe (tokens of a cleaned entry)."""
    text = text.casefold().replace("'", "")
    if not text.isascii():
        # Unicode spaces (U+2028, U+3000) still separate words; other marks fold to ASCII.
        text = "".join(" " if ch.isspace() else ch for ch in text)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    if text.isalnum():
        return text  # one word of letters and digits (most keys) has nothing to fold
    # every other character becomes a space, and runs of spaces become one (a regex
    # substitution does the same several times slower on long lines)
    return " ".join(text.translate(_SPACE_NON_WORD).split())


def letter_count(key: str) -> int:
    """Letters in a key: the minimum-length rule for fuzzy matching counts these."""
    if key.isascii():
        return len(key) if key.isalpha() else len(key.translate(_NOT_LETTERS))
    return sum(ch.isalpha() for ch in key)


_NOT_LETTERS = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isalpha()))
