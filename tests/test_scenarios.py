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

Patient context (optional):

    conditions = ["6 weeks pregnant"]  as --condition would give them
    bp = "150/95"                      the session-day reading
    [[expect.condition]]               one per condition, in order
    status = "resolved"                resolved | ambiguous | unresolved | negated
    condition = "pregnancy"            the id (omit for "any")
    [[expect.finding]] may also say
    kind = "condition"
    conditions = ["osa"]               condition ids the finding names
    raised_from = "moderate"
    remaining_at_least = 60            % of the drug still there at the session (low end)
    instruction = "skip the bedtime dose on Sunday 22 Nov"   (a substring)
    note = "8 mg/day"                  a substring of one of the finding's notes
    no_hold = true                     the finding carries no hold
    [[expect.dose]]                    per medication, in order (index from 0)
    index = 0
    daily = 1.0
    doses_per_day = 2
    prn = false
    diazepam = [10, 5]                 every diazepam equivalent, in table order
    morphine = 40
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ketcheck.api import reading
from ketcheck.engine.check import run_check
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.patient import load_patient_tables
from ketcheck.model import Finding, Route
from ketcheck.options import CheckOptions
from ketcheck.patient import ConditionEntry, PatientContext

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.toml"))


def matches(f: Finding, want: dict[str, Any]) -> bool:
    if "rule" in want and f.rule != want["rule"]:
        return False
    if "kind" in want and f.kind != want["kind"]:
        return False
    if "conditions" in want and not set(want["conditions"]) <= set(f.conditions):
        return False
    if (
        "raised_from" in want
        and (f.raised_from.label if f.raised_from else None) != want["raised_from"]
    ):
        return False
    remaining = f.hold.remaining if f.hold else None
    if "remaining_at_least" in want and (
        remaining is None or remaining.percent_low < want["remaining_at_least"]
    ):
        return False
    if "instruction" in want and (
        f.hold is None or want["instruction"] not in (f.hold.instruction or "")
    ):
        return False
    if "note" in want and not any(want["note"] in n for n in f.notes):
        return False
    if want.get("no_hold") and f.hold is not None:
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
    context = PatientContext(
        conditions=tuple(ConditionEntry(text=c) for c in sc.get("conditions", [])),
        bp=reading(sc["bp"], load_patient_tables()) if "bp" in sc else None,
    )
    options = CheckOptions(route=Route(sc.get("route", "iv")), session=session, patient=context)
    report = run_check(
        list(sc["medications"]),
        bundled,
        options,
        tool_version="test",
        tables=load_patient_tables(),
    )
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
    read = [(c.input, c.status.value, c.condition) for c in report.conditions]
    for i, want in enumerate(exp.get("condition", [])):
        got = report.conditions[i]
        assert got.status.value == want["status"], read
        if "condition" in want:
            assert got.condition == want["condition"], read
    for want in exp.get("dose", []):
        dose = report.medications[want["index"]].dose
        assert dose is not None, want
        if "daily" in want:
            assert dose.daily is not None and dose.daily.amount == pytest.approx(want["daily"])
        if "doses_per_day" in want:
            assert dose.doses_per_day == pytest.approx(want["doses_per_day"])
        if "prn" in want:
            assert dose.prn is want["prn"]
        for kind in ("diazepam", "morphine"):
            if kind in want:
                got_eq = [e.amount for e in dose.equivalents if e.kind.value == kind]
                expected = want[kind] if isinstance(want[kind], list) else [want[kind]]
                assert got_eq == pytest.approx(expected), (kind, got_eq)
