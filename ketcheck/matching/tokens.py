"""Split an entry once into tokens and label each: what resolution works on, and accounts for."""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from ketcheck.matching import vocabulary as v
from ketcheck.matching.normalise import key_of_clean


class Label(Enum):
    """What a token of a medication line is."""

    NAME = "name"
    WORD = "word"  # not yet accounted for: a name part, a second medicine, or unknown
    STRENGTH = "strength"
    FORM = "form"
    ROUTE = "route"
    FREQUENCY = "frequency"
    SIG = "sig"
    RELEASE = "release"
    SALT = "salt"
    QUALIFIER = "qualifier"
    NUMBER_MARK = "number-mark"  # "#3" in "Tylenol #3"
    SEPARATOR = "separator"
    JOINER = "joiner"  # the "-" or "/" inside one word: "co-codamol", "HYDROCODONE/APAP"
    OPEN = "open"
    CLOSE = "close"
    PUNCT = "punct"

    # Members are singletons compared by identity, so identity hashing is exact, and C-level:
    # Enum's own __hash__ is Python code, called for every label tested against a set.
    __hash__ = object.__hash__


# Labels a resolved entry may keep outside its names without losing a medicine.
INSTRUCTION_LABELS = frozenset(
    {
        Label.STRENGTH,
        Label.FORM,
        Label.ROUTE,
        Label.FREQUENCY,
        Label.SIG,
        Label.RELEASE,
        Label.SALT,
        Label.QUALIFIER,
        Label.SEPARATOR,
        Label.JOINER,
        Label.OPEN,
        Label.CLOSE,
        Label.PUNCT,
    }
)


class Token(NamedTuple):
    """One token: its text, lookup key, vocabulary label and the bracket it sits in.

    A named tuple rather than a dataclass: a line makes one per word, and a tuple is built
    several times faster (it is as immutable).
    """

    text: str
    key: str
    word: str
    label: Label
    bracket: str = ""  # "(" / "[" / "{" when inside brackets, else ""


_BULLET = re.compile(
    r"^\s*(?:[-*•·▪‣◦o+>]\s+|[-*•·▪‣◦]+(?=\S)|\(?\d{1,3}(?:[.:]\s+|\)\s*)|\(?[a-z]\)\s+|#\d+[.):]?\s+)"
)
# Brackets and list separators stand alone; a comma between digits is a decimal ("0,5 mg").
_SPACED_MARKS = str.maketrans({c: f" {c} " for c in "()[]{};"})
_LIST_COMMA = re.compile(r",(?:(?!\d)|(?<!\d,))")  # starts with its literal: a quick scan
_INNER_JOINER = re.compile(r"(?<=[^\W_])([-/+])(?=[^\W_])")
_UNIT_RATE = re.compile(r"^(?:mg|mcg|ug|ml|g|unt|units?|iu|meq|mmol)/[a-z0-9.]+$")
_WORD_EDGES = ".,;:\"'!?*"
# A dose or unit glued to the next word by "/" or ".": "50/Xanax", "mg/oxycodone", "0.5mg.Zoloft".
# Split apart unless the word is one of the vocabulary's ("mg/actuat", "mg/day", "2x/week").
_GLUED_WORD = (
    r"^((?:[~≈<>]?\d[\d.,]*[a-z%µ]*)|mg|mcg|ug|ml|g|unt|units?|iu|meq|mmol)([/.])([a-z][a-z'-]{2,})$"
)
# "w/" ("with"), "w/o" and "w/out" ("without"); "w/oxycodone" is with, and "w/v" and "w/w" are
# concentrations.
_WITH_SHORT = r"(w/(?:o|out)(?![a-z])|w/(?![vw](?![a-z])))"
# Both are compiled on first use (re caches them): only pieces holding a "/" or "." try them.


def strip_bullet(text: str) -> str:
    """Remove list bullets and numbering ("- ", "2. ", "#2 ") from the start of a line."""
    found = _BULLET.match(text)
    while found and found.end():
        text = text[found.end() :]
        found = _BULLET.match(text)
    return text


def word_of(text: str) -> str:
    """A token's comparable word: casefolded, edge punctuation removed."""
    return text.casefold().strip(_WORD_EDGES)


@lru_cache(maxsize=8192)
def vocabulary_label(word: str) -> Label:
    """The label a word has from the instruction vocabulary alone (WORD when none; memoised)."""
    if not word:
        return Label.PUNCT
    if word in v.SEPARATORS:
        return Label.SEPARATOR
    # Every pattern below needs a digit or a mark: a word of letters alone is a look-up.
    plain = word.isalpha()
    if plain and word.isascii():
        return _PLAIN_LABELS.get(word, Label.WORD)
    if not plain and v.NUMBER_MARK.match(word):
        return Label.NUMBER_MARK
    if word in v.UNITS or (not plain and (v.DOSE_TOKEN.match(word) or _UNIT_RATE.match(word))):
        return Label.STRENGTH
    bare = word.replace(".", "") if not word[0].isdigit() else word
    if not plain and v.RXNORM_CODE.match(bare):
        return Label.QUALIFIER
    if bare in v.RELEASE:
        return Label.RELEASE
    if word in v.FORMS:
        return Label.FORM
    if bare in v.ROUTES:
        return Label.ROUTE
    if bare in v.FREQUENCY or (not plain and v.FREQUENCY_TOKEN.match(bare)):
        return Label.FREQUENCY
    if word in v.SALTS:
        return Label.SALT
    if word in v.QUALIFIERS or bare in v.QUALIFIERS:
        return Label.QUALIFIER
    if word in v.SIG:
        return Label.SIG
    if plain:
        return Label.WORD
    if not any(ch.isalnum() for ch in word):
        return Label.PUNCT
    return Label.WORD


# Which vocabulary set labels a word of plain letters: the first set holding it wins (the order
# `vocabulary_label` tests them in).
PLAIN_PRECEDENCE: tuple[tuple[frozenset[str], Label], ...] = (
    (v.SEPARATORS, Label.SEPARATOR),
    (v.UNITS, Label.STRENGTH),
    (v.RELEASE, Label.RELEASE),
    (v.FORMS, Label.FORM),
    (v.ROUTES, Label.ROUTE),
    (v.FREQUENCY, Label.FREQUENCY),
    (v.SALTS, Label.SALT),
    (v.QUALIFIERS, Label.QUALIFIER),
    (v.SIG, Label.SIG),
)


def _plain_labels() -> dict[str, Label]:
    """The label of each vocabulary word of plain letters, by `PLAIN_PRECEDENCE`."""
    out: dict[str, Label] = {}
    for words, label in PLAIN_PRECEDENCE:
        for word in words:
            out.setdefault(word, label)
    return out


_PLAIN_LABELS = _plain_labels()


def plain_label(word: str) -> Label:
    """The label of a lowercase word of plain ASCII letters (what `vocabulary_label` gives it)."""
    return _PLAIN_LABELS.get(word, Label.WORD)


# The same tuple as Token(...), made without the named tuple's Python-level __new__.
_new_token = tuple.__new__


def tokenise(text: str) -> list[Token]:
    """Tokens of a cleaned entry, in order; words joined by "-", "/" or "+" are split apart."""
    text = strip_bullet(text)
    spaced = text.translate(_SPACED_MARKS)
    if "," in spaced:
        spaced = _LIST_COMMA.sub(" , ", spaced)
    out: list[Token] = []
    stack: list[str] = []
    bracket = ""
    plain_labels, unknown, new = _PLAIN_LABELS, Label.WORD, _new_token
    for piece in spaced.split():
        if piece.isalpha() and piece.isascii():
            # most words, and every new one: made directly (a memo would only churn)
            word = piece.lower()  # what word_of and key_of_clean make of plain letters
            out.append(new(Token, (piece, word, word, plain_labels.get(word, unknown), bracket)))
        elif piece in v.OPEN:
            out.append(_token(piece, Label.OPEN, bracket))
            stack.append(piece)
            bracket = piece
        elif piece in v.CLOSE:
            if stack:
                stack.pop()
            bracket = stack[-1] if stack else ""
            out.append(_token(piece, Label.CLOSE, bracket))
        else:
            out.extend(_piece(piece, bracket))
    return out


@lru_cache(maxsize=8192)
def _piece(piece: str, bracket: str) -> tuple[Token, ...]:
    """The tokens of a piece that is not plain letters (memoised: doses and units recur)."""
    marked = "/" in piece or "." in piece
    glued = re.match(_GLUED_WORD, piece, re.IGNORECASE) if marked else None
    if glued and vocabulary_label(word_of(glued[3])) is Label.WORD:
        mark = Label.JOINER if glued[2] == "/" else Label.PUNCT
        return (
            *_piece(glued[1], bracket),
            _token(glued[2], mark, bracket),
            *_piece(glued[3], bracket),
        )
    short = re.match(_WITH_SHORT, piece, re.IGNORECASE) if "/" in piece else None
    if short:
        # "w/" is "with" and "w/o" "without", also written onto the next word ("w/codeine")
        negated = short[1].casefold() != "w/"
        word = "without" if negated else "with"
        label = Label.SIG if negated else Label.SEPARATOR
        rest = piece[short.end() :]
        head = Token(text=short[1], key=word, word=word, label=label, bracket=bracket)
        return (head, *_piece(rest, bracket)) if rest else (head,)
    label = Label.SEPARATOR if piece in (",", ";") else vocabulary_label(word_of(piece))
    if label is Label.WORD and _INNER_JOINER.search(piece):
        return tuple(
            _token(part, Label.JOINER, bracket)
            if part in ("-", "/", "+")
            else _token(part, vocabulary_label(word_of(part)), bracket)
            for part in _INNER_JOINER.split(piece)
            if part
        )
    return (_token(piece, label, bracket),)


def _token(text: str, label: Label, bracket: str) -> Token:
    if text.isascii() and text.isalpha():
        word = text.lower()  # what word_of and key_of_clean make of plain letters
        return Token(text=text, key=word, word=word, label=label, bracket=bracket)
    return Token(
        text=text,
        key=key_of_clean(text) if label not in (Label.OPEN, Label.CLOSE, Label.JOINER) else "",
        word=word_of(text),
        label=label,
        bracket=bracket,
    )
