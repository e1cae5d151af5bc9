"""Entry parsing: the drug name separated from dose, form, route, frequency, salt and release."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketcheck.matching.normalise import combination_parts, is_noise, name_key, parse_entry

CASES = [
    # entry, expected name, expected strength, release, frequency
    ("Klonopin 0.5 mg PO BID PRN anxiety", "Klonopin", "0.5 mg", "", "BID PRN"),
    ("Wellbutrin XL 300mg qAM", "Wellbutrin", "300mg", "XL", "qAM"),
    ("* Seroquel XR 300 mg nightly", "Seroquel", "300 mg", "XR", "nightly"),
    ("2) Lamictal 100 mg twice daily", "Lamictal", "100 mg", "", "twice daily"),
    ("1. sertraline 100 mg P.O. daily", "sertraline", "100 mg", "", "daily"),
    ("- gabapentin 600mg TID", "gabapentin", "600mg", "", "TID"),
    ("• Lexapro 10mg", "Lexapro", "10mg", "", ""),
    ("0.5 mg clonazepam", "clonazepam", "0.5 mg", "", ""),
    ("metoprolol succinate ER 25 mg", "metoprolol", "25 mg", "ER", ""),
    ("divalproex sodium DR 500 mg BID", "divalproex", "500 mg", "DR", "BID"),
    ("Norco 5/325 1 tab q6h prn pain", "Norco", "5/325 1", "", "q6h prn"),
    ("buprenorphine/naloxone 8 mg/2 mg SL film", "buprenorphine/naloxone", "8", "", ""),
    ("lithium carbonate 300 mg three times a day", "lithium", "300 mg", "", ""),
    ("quetiapine extended release 50 mg qhs", "quetiapine", "50 mg", "extended release", "qhs"),
    ("Klonopin (clonazepam) 0.5 mg", "Klonopin", "0.5 mg", "", ""),
    ("take sertraline with food", "sertraline", "", "", "food"),
    ("vitamin D3 2000 IU", "vitamin D3", "2000 IU", "", ""),
    ("Zoloft\u00a050\u00a0mg", "Zoloft", "50 mg", "", ""),
]


@pytest.mark.parametrize(("entry", "name", "strength", "release", "frequency"), CASES)
def test_parse_entry(entry: str, name: str, strength: str, release: str, frequency: str) -> None:
    p = parse_entry(entry)
    assert p.name == name
    assert " ".join(p.strength) == strength
    assert " ".join(p.release) == release
    assert " ".join(p.frequency) == frequency


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("St. John’s Wort", "st johns wort"),
        ("Claritin-D", "claritin d"),
        ("  ZOLOFT ", "zoloft"),
        ("naïve", "naive"),
        ("Tylenol #3", "tylenol 3"),
        ("\x1b[31mzoloft", "zoloft"),
    ],
)
def test_name_key(text: str, key: str) -> None:
    assert name_key(text) == key


@pytest.mark.parametrize(
    ("rest", "noise"),
    [
        (["xl", "300mg", "qam"], True),
        (["succinate", "er", "25", "mg"], True),
        (["with", "food"], True),
        (["cold", "and", "flu"], False),
        (["with", "codeine"], False),
        ([], True),
    ],
)
def test_is_noise(rest: list[str], noise: bool) -> None:
    assert is_noise(rest) is noise


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("buprenorphine/naloxone", ["buprenorphine", "naloxone"]),
        ("dextroamphetamine-amphetamine", ["dextroamphetamine", "amphetamine"]),
        ("oxycodone and acetaminophen", ["oxycodone", "acetaminophen"]),
        ("sertraline", []),
    ],
)
def test_combination_parts(name: str, parts: list[str]) -> None:
    assert combination_parts(name) == parts


@given(st.text(max_size=200))
def test_name_key_is_idempotent(text: str) -> None:
    once = name_key(text)
    assert name_key(once) == once
    assert once == once.strip() and "  " not in once


@given(st.text(max_size=300))
def test_parse_never_fails_and_keeps_a_clean_name(text: str) -> None:
    p = parse_entry(text)
    assert not any(ord(ch) < 0x20 for ch in p.name)
    assert name_key(p.name) == name_key(name_key(p.name))


@given(
    st.lists(
        st.sampled_from(["Zoloft", "50", "mg", "BID", "XR", "sodium", "po", "prn"]), max_size=8
    )
)
def test_parse_is_stable_under_reparse(tokens: list[str]) -> None:
    p = parse_entry(" ".join(tokens))
    assert parse_entry(p.name).name == p.name
