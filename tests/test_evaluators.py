"""The evaluator seam: a new rule kind plugs into the check without touching the others."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ketcheck.engine import evaluators
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Effect, ExitCode, Finding, FindingKind, Medication, Severity
from ketcheck.options import CheckOptions
from tests.conftest import run


def _stub_rule_kind(
    kb: KnowledgeBase, medications: Sequence[Medication], options: CheckOptions
) -> list[Finding]:
    """A stand-in for a new kind (a dose rule): one finding per metformin entry, from data it owns."""
    return [
        Finding(
            rule="test-dose-rule",
            kind=FindingKind.INTERACTION,
            ingredients=("metformin",),
            inputs=(m.input,),
            severity=Severity.MAJOR,
            effects=(Effect.SAFETY,),
            effect="A test effect.",
            mechanism="A test mechanism.",
            management="A test action.",
            evidence="A test.",
            references=("test:1",),
        )
        for m in medications
        if "metformin" in m.ingredients and options.route is not None
    ]


def test_a_new_rule_kind_is_one_entry_in_the_evaluator_table(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = run(kb, "metformin", "sertraline", route="oral")
    assert before.summary.exit_code is ExitCode.CLEARED
    monkeypatch.setattr(evaluators, "EVALUATORS", (*evaluators.EVALUATORS, _stub_rule_kind))
    after = run(kb, "metformin", "sertraline", route="oral")
    assert after.findings[0].rule == "test-dose-rule"  # sorted with the rest, most severe first
    assert set(before.findings) < set(after.findings)  # the other kinds' findings are unchanged
    assert after.summary.highest_severity is Severity.MAJOR
    assert after.summary.exit_code is ExitCode.RISK  # the one exit policy applies to it too


def test_each_evaluator_contributes_only_its_own_findings(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["Klonopin", "oxycodone", "gabapentin", "sertraline"]
    full = run(kb, *names)
    monkeypatch.setattr(evaluators, "EVALUATORS", (evaluators.interactions,))
    pairwise = run(kb, *names)
    assert {f.kind for f in full.findings} - {f.kind for f in pairwise.findings} == {
        FindingKind.COMBINED
    }
    assert [f for f in full.findings if f.kind is not FindingKind.COMBINED] == list(
        pairwise.findings
    )
