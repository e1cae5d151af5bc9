"""Name resolution on the labelled evaluation set: no silent wrong answer, a floor per category."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ketcheck.kb.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import measure_matching as mm  # noqa: E402

CASES = mm.load_cases(ROOT / "tests" / "eval" / "names.tsv")


@pytest.fixture(scope="module")
def score(bundled: KnowledgeBase) -> mm.Score:
    return mm.score(bundled, CASES)


def test_the_set_is_large_and_covers_every_category() -> None:
    assert len(CASES) >= 300
    assert {c.kind for c in CASES} >= set(mm.FLOORS)


def test_no_silent_wrong_resolution(score: mm.Score) -> None:
    assert score.silent_wrong == []


@pytest.mark.parametrize("kind", sorted(mm.FLOORS))
def test_accuracy_floor(score: mm.Score, kind: str) -> None:
    ok, total = score.per_kind[kind]
    misses = [m for m in score.misses if m.startswith(f"{kind}:")]
    assert ok / total >= mm.FLOORS[kind], misses
