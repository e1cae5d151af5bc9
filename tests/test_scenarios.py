"""The scenario corpus: medication lists a clinician can read, each with the expected verdict.

Each tests/scenarios/*.toml file holds:

    title = "..."                      what the scenario is about
    medications = ["...", ...]         the list as a patient or clinic would give it
    route = "iv"                       optional
    session = "2026-11-23T09:00+00:00" optional
    [expect]
    exit_code = 1
    highest_severity = "major"         optional
    complete = true                    optional
    statuses = ["resolved", ...]       optional, one per medication
    [[expect.finding]]                 each must be present (others may be too)
    rule = "benzodiazepine"            optional; any of these keys narrows the match
    ingredients = ["clonazepam"]
    severity = "moderate"
    hold_hours = 12
    last_dose_by = "2026-11-22T21:00+00:00"
    absent_rules = ["..."]             optional: rules that must NOT fire
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Finding, Route
from tests.conftest import run

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.toml"))


def matches(f: Finding, want: dict[str, Any]) -> bool:
    if "rule" in want and f.rule != want["rule"]:
        return False
    if "ingredients" in want and sorted(f.ingredients) != sorted(want["ingredients"]):
        return False
    if "severity" in want and f.severity.label != want["severity"]:
        return False
    if "hold_hours" in want and (f.hold.hours_before if f.hold else None) != want["hold_hours"]:
        return False
    if "last_dose_by" in want:
        got = (
            f.hold.last_dose_by.isoformat(timespec="minutes")
            if f.hold and f.hold.last_dose_by
            else None
        )
        if got != want["last_dose_by"]:
            return False
    return True


def test_there_is_a_corpus() -> None:
    assert len(SCENARIOS) >= 12


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(bundled: KnowledgeBase, path: Path) -> None:
    sc = tomllib.loads(path.read_text(encoding="utf-8"))
    session = datetime.fromisoformat(sc["session"]) if "session" in sc else None
    report = run(bundled, *sc["medications"], route=Route(sc.get("route", "iv")), session=session)
    exp = sc["expect"]
    detail = [(f.rule, f.ingredients, f.severity.label) for f in report.findings]
    assert report.summary.exit_code == exp["exit_code"], detail
    if "highest_severity" in exp:
        top = report.summary.highest_severity
        assert (top.label if top is not None else None) == exp["highest_severity"], detail
    if "complete" in exp:
        assert report.summary.complete is exp["complete"]
    if "statuses" in exp:
        assert [m.status.value for m in report.medications] == exp["statuses"]
    for want in exp.get("finding", []):
        assert any(matches(f, want) for f in report.findings), (want, detail)
    for rule in exp.get("absent_rules", []):
        assert rule not in {f.rule for f in report.findings}, (rule, detail)
