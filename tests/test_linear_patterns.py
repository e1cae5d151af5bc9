"""Patterns rewritten so that no input makes them backtrack for long match exactly what their
plain forms matched. Each plain form is kept here as the reference: it is correct, but some
inputs made it exponential (DOSE_TOKEN) or quadratic (the pack items, the treated condition)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ketcheck.matching.conditions import treated_head
from ketcheck.matching.resolve import _PACK_ITEM
from ketcheck.matching.vocabulary import DOSE_TOKEN

_PLAIN_DOSE_TOKEN = re.compile(
    r"^(?:[~≈<>]?\d[\d.,]*(?:[-/x+]\d[\d.,]*)*(?:[a-z%µ/]+[\d.]*)*(?:/[a-z\d.%]+)*|"
    r"[\d.]+-[\d.]+[a-z]*|\d+(?:st|nd|rd|th)|\d+(?:[.,]\d+)?-?(?:mg|mcg|ml|g)s?)$"
)
_PLAIN_PACK_ITEM = re.compile(r"\d+\s*\(([^()]*)\)")
_PLAIN_TREATED = re.compile(
    r"^(?P<head>.+?)\s*(?:\(\s*)?\b(?:on|using|uses|treated with|with)\s+[^()]+\)?$"
)

# Short words: the plain DOSE_TOKEN is quick on them, and every branch of it is reachable.
_DOSE_WORDS = st.text(alphabet="05.,-/x+~<amgls%µt\n", max_size=12)
_PACKS = st.lists(
    st.sampled_from(["5", "12", " ", "(", ")", "x", "/", "{", "}", "0", "mg", "tab"]), max_size=14
).map("".join)
_CONDITIONS = st.lists(
    st.sampled_from(
        [
            *("on", "with", "using", "uses", "treated with", " ", "  ", "(", ")", "(on", "on)"),
            *("osa", "cpap", "won", "onx", "5", "\n", "\t", "\u00a0", "é", "x"),
        ]
    ),
    max_size=10,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_DOSE_WORDS)
def test_dose_token_accepts_exactly_the_words_it_accepted(word: str) -> None:
    assert bool(DOSE_TOKEN.match(word)) == bool(_PLAIN_DOSE_TOKEN.match(word))


@settings(max_examples=2000, deadline=None)
@given(_PACKS)
def test_pack_items_are_those_the_plain_pattern_finds(inner: str) -> None:
    assert _PACK_ITEM.findall(inner) == _PLAIN_PACK_ITEM.findall(inner)


@settings(max_examples=3000, deadline=None)
@given(_CONDITIONS)
def test_treated_head_is_the_head_the_plain_pattern_finds(text: str) -> None:
    plain = _PLAIN_TREATED.match(text)
    assert treated_head(text) == (plain.group("head") if plain else None)


def test_the_shapes_that_backtracked_still_read_as_before() -> None:
    # Their answers, not their speed (speed is measured in bench/): each was slow only when
    # the match failed, so these are the failing shapes, at lengths the plain forms finish.
    assert DOSE_TOKEN.match("5" + "a" * 12 + "!") is None
    assert DOSE_TOKEN.match("5" + "mg" * 6 + "/day") is not None
    assert _PACK_ITEM.findall("5" * 200) == []
    assert treated_head("x " + "on " * 30 + "(") is None
    assert treated_head("epilepsy (on keppra)") == "epilepsy"
    assert treated_head("osa on cpap") == "osa"
