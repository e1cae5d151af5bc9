"""Name resolution against the fixture lexicon: each tier, and every way a guess is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Ambiguous, Method, Resolved, Unresolved

RESOLVED = [
    # typed, ingredients, method
    ("clonazepam", ("clonazepam",), Method.EXACT),
    ("KLONOPIN", ("clonazepam",), Method.EXACT),
    ("Klonopin 0.5 mg PO BID PRN anxiety", ("clonazepam",), Method.NORMALISED),
    ("paracetamol", ("acetaminophen",), Method.EXACT),
    ("Percocet 5/325 1 tab q6h prn pain", ("acetaminophen", "oxycodone"), Method.NORMALISED),
    ("Adderall XR 20 mg", ("amphetamine", "dextroamphetamine"), Method.NORMALISED),
    ("mixed amphetamine salts 10 mg", ("amphetamine", "dextroamphetamine"), Method.NORMALISED),
    (
        "dextroamphetamine-amphetamine 10 mg",
        ("amphetamine", "dextroamphetamine"),
        Method.COMBINATION,
    ),
    ("oxycodone/acetaminophen 5/325", ("acetaminophen", "oxycodone"), Method.COMBINATION),
    ("klonopn", ("clonazepam",), Method.FUZZY),
    ("lamictl", ("lamotrigine",), Method.FUZZY),
    ("trazadone", ("trazodone",), Method.FUZZY),
    ("buproprion", ("bupropion",), Method.FUZZY),
    ("Lamisil", ("terbinafine",), Method.EXACT),  # typed exactly: that drug, look-alike or not
    ("clonidine", ("clonidine",), Method.EXACT),
]


@pytest.mark.parametrize(("typed", "ingredients", "method"), RESOLVED)
def test_resolves(
    kb: KnowledgeBase, typed: str, ingredients: tuple[str, ...], method: Method
) -> None:
    _, r = Resolver(kb).resolve(typed)
    assert isinstance(r, Resolved), r
    assert r.ingredients == ingredients
    assert r.method is method


@pytest.mark.parametrize(
    ("typed", "reason_part"),
    [
        ("zzz", "too short"),
        ("Xanx", "too short"),  # 4 letters: never guessed, even if close
        ("asdfqwer", "close"),
        ("12 mg", "no drug name"),
    ],
)
def test_unresolved(kb: KnowledgeBase, typed: str, reason_part: str) -> None:
    _, r = Resolver(kb).resolve(typed)
    assert isinstance(r, Unresolved), r
    assert reason_part in r.reason


def test_extra_words_after_a_known_name_are_not_dropped_silently(kb: KnowledgeBase) -> None:
    _, r = Resolver(kb).resolve("Tylenol Cold and Flu")
    assert isinstance(r, Ambiguous)
    assert [c.ingredients for c in r.candidates] == [("acetaminophen",)]


def test_between_two_lookalikes_is_ambiguous_with_both(kb: KnowledgeBase) -> None:
    _, r = Resolver(kb).resolve("clonidepam")
    assert isinstance(r, Ambiguous), r
    found = {c.ingredients for c in r.candidates}
    assert ("clonazepam",) in found and ("clonidine",) in found


def test_lookalike_partner_within_the_window_vetoes_a_clear_winner(kb: KnowledgeBase) -> None:
    # "clonazepan" scores 90 for clonazepam and 40 for its look-alike clonidine: a clear
    # winner by margin, so only the look-alike rule can stop it. With a 50-point window it must.
    wide = replace(kb, matching=replace(kb.matching, lookalike_window=50.0, lookalike_floor=40.0))
    _, r = Resolver(wide).resolve("clonazepan")
    assert isinstance(r, Ambiguous), r
    assert "look-alike" in r.reason
    assert {c.ingredients for c in r.candidates} >= {("clonidine",), ("clonazepam",)}
    _, plain = Resolver(kb).resolve("clonazepan")
    assert isinstance(plain, Resolved) and plain.ingredients == ("clonazepam",)


@pytest.mark.parametrize(
    ("typed", "matched", "runner_up"),
    [
        # a runner-up at or above the suggestion floor is named, with the lead
        ("trazadone", "trazodone", "Razadyne"),
        ("esopiclone", "eszopiclone", "zopiclone"),
        ("lamictl", "Lamictal", "Lamisil"),
        # no other drug that close: neither a runner-up nor a margin is shown
        ("sertralin", "sertraline", None),
        ("wellbutrn", "Wellbutrin", None),
    ],
)
def test_fuzzy_match_reports_score_margin_and_runner_up(
    bundled: KnowledgeBase, typed: str, matched: str, runner_up: str | None
) -> None:
    m = bundled.matching
    _, r = Resolver(bundled).resolve(typed)
    assert isinstance(r, Resolved) and r.method is Method.FUZZY and r.matched == matched
    assert m.threshold <= r.score < 100
    if runner_up is None:
        assert (r.runner_up, r.margin) == (None, None)
    else:
        assert r.runner_up is not None and r.runner_up.name == runner_up
        assert r.runner_up.score >= m.suggest_floor
        assert r.margin == round(r.score - r.runner_up.score, 1) and r.margin >= m.margin


def test_fuzzy_match_names_the_kind_of_name_it_landed_on(kb: KnowledgeBase) -> None:
    _, r = Resolver(kb).resolve("klonopn")
    assert isinstance(r, Resolved) and r.method is Method.FUZZY
    assert (r.matched, r.name_kind, r.source) == ("Klonopin", "brand", "curated")


def test_resolution_is_cached_per_text(kb: KnowledgeBase) -> None:
    resolver = Resolver(kb)
    assert resolver.resolve("klonopn") is resolver.resolve("klonopn")
