"""The nearby-name index never misses a name that can reach its floor, and one unknown word
resolves exactly as the full cover of its line would resolve it."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.nearby import NearbyIndex, most_edits
from ketcheck.matching.normalise import clean_text, name_key
from ketcheck.matching.resolve import Resolver
from ketcheck.matching.tokens import tokenise

_LETTERS = "abcdeilmnorstz -"
_words = st.text(alphabet=_LETTERS, min_size=0, max_size=24)


def _brute(query: str, names: list[str], floor: float) -> list[tuple[str, float]]:
    hits = process.extract(
        query, names, scorer=Levenshtein.normalized_similarity, limit=None, score_cutoff=floor
    )
    return [(name, score) for name, score, _ in hits]


def _indexed(query: str, index: NearbyIndex, floor: float) -> list[tuple[str, float]]:
    ids, names = index.candidates(query)
    hits = process.extract(
        query, names, scorer=Levenshtein.normalized_similarity, limit=None, score_cutoff=floor
    )
    hits.sort(key=lambda hit: (-hit[1], ids[hit[2]]))  # ranked as a scan in name order ranks
    return [(name, score) for name, score, _ in hits]


@pytest.mark.parametrize(
    ("length", "floor", "edits"),
    [(10, 0.7, 3), (10, 0.77, 2), (9, 0.6, 3), (5, 0.83, 0), (6, 0.83, 1), (0, 0.7, 0)],
)
def test_most_edits_is_the_largest_distance_that_still_reaches_the_floor(
    length: int, floor: float, edits: int
) -> None:
    assert most_edits(length, floor) == edits
    if length:
        assert 1 - edits / length >= floor - 1e-9 > 1 - (edits + 1) / length


@settings(max_examples=300, deadline=None)
@given(
    names=st.lists(_words, min_size=1, max_size=40, unique=True),
    query=_words,
    floor=st.sampled_from([0.6, 0.7, 0.77, 0.83, 0.9]),
)
def test_index_finds_exactly_what_a_full_scan_finds(
    names: list[str], query: str, floor: float
) -> None:
    index = NearbyIndex(names, floor)
    assert _indexed(query, index, floor) == _brute(query, names, floor)


@pytest.fixture(scope="module")
def sample_indexes(bundled: KnowledgeBase) -> dict[float, tuple[list[str], NearbyIndex]]:
    names = sorted(bundled.lexicon.names)[::7]  # a fixed sample keeps each full scan quick
    return {floor: (names, NearbyIndex(names, floor)) for floor in (0.6, 0.7, 0.77)}


@settings(max_examples=200, deadline=None)
@given(
    query=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=16),
    floor=st.sampled_from([0.6, 0.7, 0.77]),
)
def test_index_over_the_bundled_vocabulary_matches_a_full_scan(
    sample_indexes: dict[float, tuple[list[str], NearbyIndex]], query: str, floor: float
) -> None:
    names, index = sample_indexes[floor]
    assert _indexed(query, index, floor) == _brute(query, names, floor)


@pytest.fixture(scope="module")
def two_resolvers(bundled: KnowledgeBase) -> tuple[Resolver, Resolver]:
    return Resolver(bundled), Resolver(bundled)


def _both_ways(resolvers: tuple[Resolver, Resolver], typed: str) -> None:
    quick, full = resolvers
    cleaned = clean_text(typed).strip()
    assert quick.resolve(typed) == full._cover(cleaned, tokenise(cleaned))


@pytest.mark.parametrize(
    "typed",
    ["sertralin", "klonopn", "Zfacco", "asdfqwer", "trazadone", "abc", "wellbutrn", "Lamictl"],
)
def test_one_unknown_word_resolves_as_the_full_cover_would(
    two_resolvers: tuple[Resolver, Resolver], typed: str
) -> None:
    _both_ways(two_resolvers, typed)


@settings(max_examples=150, deadline=None)
@given(word=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC", min_size=1, max_size=14))
def test_any_single_word_resolves_as_the_full_cover_would(
    two_resolvers: tuple[Resolver, Resolver], bundled: KnowledgeBase, word: str
) -> None:
    assume(not bundled.lexicon.exact(name_key(word)))  # an exact name never reaches the cover
    _both_ways(two_resolvers, word)
