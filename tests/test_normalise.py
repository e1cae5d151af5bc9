"""Lookup keys and the one labelled token pass every entry goes through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketcheck.matching.normalise import name_key
from ketcheck.matching.tokens import Label, tokenise


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("St. John’s Wort", "st johns wort"),
        ("Claritin-D", "claritin d"),
        ("  ZOLOFT ", "zoloft"),
        ("naïve", "naive"),
        ("Tylenol #3", "tylenol 3"),
        ("\x1b[31mzoloft", "zoloft"),
        ("0\u20280", "0 0"),  # a Unicode line separator still separates
    ],
)
def test_name_key(text: str, key: str) -> None:
    assert name_key(text) == key


L = Label
TOKEN_CASES = [
    ("Klonopin 0.5 mg PO BID", [L.WORD, L.STRENGTH, L.STRENGTH, L.ROUTE, L.FREQUENCY]),
    ("Wellbutrin XL 300mg qAM", [L.WORD, L.RELEASE, L.STRENGTH, L.FREQUENCY]),
    ("Xanax 0,5 mg", [L.WORD, L.STRENGTH, L.STRENGTH]),
    ("Lexapro 10mg, Xanax", [L.WORD, L.STRENGTH, L.SEPARATOR, L.WORD]),
    ("Tylenol (Nardil)", [L.WORD, L.OPEN, L.WORD, L.CLOSE]),
    ("HYDROCODONE/APAP 5/325MG TAB", [L.WORD, L.JOINER, L.WORD, L.STRENGTH, L.FORM]),
    ("METOPROLOL SUCC ER", [L.WORD, L.SALT, L.RELEASE]),
    ("120 ACTUAT zed 0.044 MG/ACTUAT", [L.STRENGTH, L.STRENGTH, L.WORD, L.STRENGTH, L.STRENGTH]),
    ("NDA020503 albuterol", [L.QUALIFIER, L.WORD]),
    ("Abuse-Deterrent 12 HR", [L.QUALIFIER, L.STRENGTH, L.FREQUENCY]),
    ("Tylenol #3", [L.WORD, L.NUMBER_MARK]),
    ("heparin sodium, porcine", [L.WORD, L.SALT, L.SEPARATOR, L.SALT]),
    ("zoloft and xanax", [L.WORD, L.SEPARATOR, L.WORD]),
    ("Norinyl 1+50", [L.WORD, L.STRENGTH]),
    ("q4-6h prn pain", [L.FREQUENCY, L.FREQUENCY, L.SIG]),
]


@pytest.mark.parametrize(("text", "labels"), TOKEN_CASES)
def test_every_token_gets_a_label(text: str, labels: list[Label]) -> None:
    assert [t.label for t in tokenise(text)] == labels


def test_bullets_and_numbering_are_not_tokens() -> None:
    assert [t.text for t in tokenise("#2 Klonopin 1 mg")] == ["Klonopin", "1", "mg"]
    assert [t.text for t in tokenise("- 2) Lamictal")] == ["Lamictal"]


def test_brackets_are_recorded_on_the_tokens_inside() -> None:
    tokens = tokenise("Zed (Bee) [Cee]")
    assert [(t.text, t.bracket) for t in tokens if t.label is Label.WORD] == [
        ("Zed", ""),
        ("Bee", "("),
        ("Cee", "["),
    ]


@given(st.text(max_size=200))
def test_name_key_is_idempotent(text: str) -> None:
    once = name_key(text)
    assert name_key(once) == once
    assert once == once.strip() and "  " not in once


@given(st.text(max_size=300))
def test_tokenise_never_fails_and_keeps_every_word(text: str) -> None:
    from ketcheck.matching.normalise import clean_text
    from ketcheck.matching.tokens import strip_bullet

    cleaned = strip_bullet(clean_text(text).strip())
    tokens = tokenise(clean_text(text).strip())
    # Every letter or digit of the (bullet-stripped) entry lands in exactly one token.
    assert name_key(" ".join(t.text for t in tokens)) == name_key(cleaned)


def _first_vocabulary_label(word: str) -> Label:
    """The label of the first vocabulary set holding a word of plain letters (the precedence)."""
    from ketcheck.matching.tokens import PLAIN_PRECEDENCE

    return next((label for words, label in PLAIN_PRECEDENCE if word in words), Label.WORD)


def test_every_plain_vocabulary_word_keeps_its_label() -> None:
    from ketcheck.matching import vocabulary as v
    from ketcheck.matching.tokens import vocabulary_label

    every = set().union(v.SEPARATORS, v.UNITS, v.RELEASE, v.FORMS, v.ROUTES, v.FREQUENCY)
    every |= set().union(v.SALTS, v.QUALIFIERS, v.SIG)
    plain = sorted(w for w in every if w.isascii() and w.isalpha())
    assert len(plain) > 100
    assert [vocabulary_label(w) for w in plain] == [_first_vocabulary_label(w) for w in plain]
    # the precedence itself, on words in more than one set or easily mislabelled
    assert vocabulary_label("mg") is Label.STRENGTH and vocabulary_label("daily") is Label.FREQUENCY
    assert vocabulary_label("and") is Label.SEPARATOR and vocabulary_label("tablet") is Label.FORM


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_a_word_of_plain_letters_is_labelled_by_the_vocabulary_alone(word: str) -> None:
    from ketcheck.matching.tokens import plain_label, vocabulary_label

    assert vocabulary_label(word) is _first_vocabulary_label(word) is plain_label(word)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="aZ9 '-_\t\n\x1c.,()é ß\u2028İﬁ²", max_size=40))
def test_a_key_is_its_letters_and_digits_in_runs_joined_by_one_space(text: str) -> None:
    import re
    import unicodedata

    from ketcheck.matching.normalise import key_of_clean

    folded = text.casefold().replace("'", "")
    folded = "".join(" " if ch.isspace() else ch for ch in folded)
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    assert key_of_clean(text) == " ".join(re.findall(r"[a-z0-9]+", folded))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1,;()[]{} 9", max_size=30))
def test_marks_split_from_words_but_a_comma_between_digits_is_a_decimal(text: str) -> None:
    import re

    from ketcheck.matching.tokens import strip_bullet

    pieces = [t.text for t in tokenise(text)]
    # the reference: every bracket and ';' alone, a comma alone unless it has a digit each side
    spaced = re.sub(r"([()\[\]{};]|,(?!\d)|(?<!\d),)", r" \1 ", strip_bullet(text))
    assert " ".join(pieces) == " ".join(spaced.split())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab1-'é ٣z", max_size=12), min_size=1, max_size=8))
def test_most_letters_is_the_largest_letter_count(keys: list[str]) -> None:
    from ketcheck.matching.normalise import letter_count
    from ketcheck.matching.resolve import _most_letters

    assert _most_letters(keys) == max(map(letter_count, keys))
