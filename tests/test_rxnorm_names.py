"""Real RxNorm names, as FHIR displays and EHR exports print them, resolve to their whole product.

The cases are every multi-ingredient concept (and every clinical and branded drug) in the
committed code table generated from NLM's RxNorm prescribable extract: the text of each name,
resolved without its code, must give exactly RxNorm's ingredient set or be held back as ambiguous
or unresolved. Never a subset, never another drug.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Resolved

TABLE = Path(__file__).resolve().parent.parent / "data" / "generated" / "rxnorm-codes.tsv"
CHECKED = ("SCD", "SBD", "SCDC", "GPCK", "BPCK", "MIN", "BN")
# Known differences, each an extra ingredient reported (the safe side), never a lost one.
EXTRA_ALLOWED = {
    # RxNorm reads the cation as the salt of one oxybate; ketcheck reports calcium (magnesium)
    # as well: one more ingredient checked, none missed.
    "calcium oxybate 234 MG/ML",
    "magnesium oxybate 96 MG/ML",
}


def _rows() -> list[tuple[str, str, frozenset[str]]]:
    out = []
    lines = [ln for ln in TABLE.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    for line in lines[1:]:
        _, tty, ingredients, _, name = line.split("\t")
        if tty in CHECKED and name:
            out.append((tty, name, frozenset(ingredients.split("+"))))
    return out


@pytest.fixture(scope="module")
def outcomes(
    bundled: KnowledgeBase,
) -> list[tuple[str, str, frozenset[str], frozenset[str] | None]]:
    resolver = Resolver(bundled)
    out = []
    for tty, name, want in _rows():
        _, r = resolver.resolve(name)
        out.append((tty, name, want, frozenset(r.ingredients) if isinstance(r, Resolved) else None))
    return out


def test_the_table_holds_real_combinations(
    outcomes: list[tuple[str, str, frozenset[str], frozenset[str] | None]],
) -> None:
    multi = [o for o in outcomes if len(o[2]) > 1]
    assert len(outcomes) > 10_000 and len(multi) > 1_500


def test_no_rxnorm_name_loses_an_ingredient_or_names_another_drug(
    outcomes: list[tuple[str, str, frozenset[str], frozenset[str] | None]],
) -> None:
    wrong = [
        (tty, name, sorted(got), sorted(want))
        for tty, name, want, got in outcomes
        if got is not None and got != want and not (name in EXTRA_ALLOWED and want < got)
    ]
    assert wrong == []


def test_most_rxnorm_names_resolve(
    outcomes: list[tuple[str, str, frozenset[str], frozenset[str] | None]],
) -> None:
    right = Counter(tty for tty, _, want, got in outcomes if got == want)
    total = Counter(tty for tty, *_ in outcomes)
    multi_right = sum(1 for _, _, want, got in outcomes if len(want) > 1 and got == want)
    multi = sum(1 for _, _, want, _ in outcomes if len(want) > 1)
    # the rest are honest: ambiguous or unresolved, never a wrong set (test above)
    assert right["SCD"] / total["SCD"] > 0.9
    assert right["SBD"] / total["SBD"] > 0.9
    assert multi_right / multi > 0.9
