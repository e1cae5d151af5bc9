"""Shared wording: the action in a few words, hold phrases from the sig, the names patients know."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Finding, FindingKind, Severity
from ketcheck.render.text import (
    DoseTime,
    action,
    dose_in_window,
    hold_phrase,
    known_name,
    usual_dose_time,
)
from tests.conftest import run

LONDON = ZoneInfo("Europe/London")
SESSION = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)


def finding(management: str) -> Finding:
    return Finding(
        rule="r", kind=FindingKind.INTERACTION, ingredients=("x",), inputs=("x",), severity=Severity.MINOR,
        effects=(), effect="", mechanism="", management=management, evidence="", references=(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("management", "expected"),
    [
        ("Continue. Check blood pressure.", "Continue"),
        ("Continue; monitor sedation.", "Continue"),
        ("Usual doses: continue.", "Usual doses: continue"),
        (
            "Make a blood-pressure plan before dosing: controlled baseline, frequent readings.",
            "Make a blood-pressure plan before dosing",
        ),
        ("Ask about use", "Ask about use"),
    ],
)
def test_action_is_the_first_clause(management: str, expected: str) -> None:
    assert action(finding(management)) == expected


@pytest.mark.parametrize(
    ("sig", "kind"),
    [
        (("qhs",), DoseTime.BEDTIME),
        (("at", "bedtime"), DoseTime.BEDTIME),
        (("every", "morning"), DoseTime.MORNING),
        (("qam",), DoseTime.MORNING),
        (("bid",), None),
        (("morning", "and", "night"), None),
    ],
)
def test_usual_dose_time_from_the_sig(sig: tuple[str, ...], kind: DoseTime | None) -> None:
    assert usual_dose_time(sig) is kind


def test_only_a_dose_inside_the_window_is_named() -> None:
    by = datetime(2026, 11, 22, 21, 0, tzinfo=LONDON)
    assert dose_in_window(DoseTime.BEDTIME, by, SESSION) == datetime(
        2026, 11, 22, 22, 0, tzinfo=LONDON
    )
    assert dose_in_window(DoseTime.MORNING, by, SESSION) == datetime(
        2026, 11, 23, 8, 0, tzinfo=LONDON
    )
    late = datetime(2026, 11, 23, 3, 0, tzinfo=LONDON)
    assert dose_in_window(DoseTime.BEDTIME, late, SESSION) is None


def test_hold_phrases(bundled: KnowledgeBase) -> None:
    r = run(bundled, "Ambien 10 mg qhs", "Klonopin 0.5 mg BID", session=SESSION)
    phrases = {i.ingredient: hold_phrase(r, i) for i in r.schedule}
    assert phrases == {
        "zolpidem": "skip bedtime dose Sun 22 Nov",
        "clonazepam": "last dose by 21:00 Sun 22 Nov",
    }
    unscheduled = run(bundled, "Klonopin")
    assert hold_phrase(unscheduled, unscheduled.schedule[0]) == "hold 12 h before"


def test_known_names(bundled: KnowledgeBase) -> None:
    r = run(bundled, "Klonopin", "Vitamin D3", "sertraline", "Klonopin 1 mg nardil", "zzyzx")
    assert [known_name(m) for m in r.medications] == [
        "Klonopin (clonazepam)",
        "vitamin D3",
        "sertraline",
        "Klonopin (clonazepam) and Nardil (phenelzine)",
        "zzyzx",
    ]
