"""How a sig states timing: the patterns the dose reader uses, and a cheap test for any of them.

The dose reader needs the patient tables; a check loads them only when some line could use
them. `states_sig` is that test, so it must say yes to every line the reader would read
(a test holds it to the reader and to every phrase of the frequency table).
"""

from __future__ import annotations

import re

DOTTED = re.compile(r"\b((?:[a-z]\.){2,})")
TIMES = re.compile(
    r"\b(?P<n>\d+|one|two|three|four|five|six)\s*(?:x|times)\s*(?:a|per|/|each)?\s*(?:day|daily|d)\b"
    r"|\bx\s*(?P<m>\d+)\s*/\s*(?:day|d)\b"
)
PRN = re.compile(r"\b(?:prn|as needed|as required|when required|if needed|when needed|sos)\b")
_LETTERS = re.compile(r"[a-z]+")
# Every phrase of the frequency table and of PRN has one of these words; a few extra words
# only cost a table load.
_TIMING_WORDS = frozenset(
    {
        *("qd", "od", "daily", "once", "day", "days", "qam", "am", "morning", "mane"),
        *("qpm", "pm", "evening", "qhs", "hs", "nightly", "night", "bedtime", "nocte"),
        *("qn", "bt", "bid", "bd", "twice", "tid", "tds", "meals", "ac", "qid", "qds"),
        *("qod", "alternate", "weekly", "week", "qwk", "qweek", "biw", "tiw", "monthly", "month"),
        *("times",),
        *("prn", "needed", "required", "sos"),
    }
)


def undot(text: str) -> str:
    """Dotted abbreviations joined up: "b.i.d." reads as "bid"."""
    return DOTTED.sub(lambda m: m.group(1).replace(".", ""), text) if "." in text else text


def states_sig(text: str) -> bool:
    """Whether a cleaned line states a dose or a timing the dose reader could read."""
    if text.isascii():
        # ten substring scans in C beat a digit test at every character
        if any(d in text for d in "0123456789"):
            return True
    elif any(map(str.isdigit, text)):
        return True
    low = undot(text.casefold())
    if not _TIMING_WORDS.isdisjoint(_LETTERS.findall(low)):
        return True
    return "x" in low and TIMES.search(low) is not None
