"""Patient context in every format: conditions and BP in the header, doses, condition findings."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from rich.console import Console

from ketcheck.api import check
from ketcheck.model import Report
from ketcheck.render import OutputFormat, render


@pytest.fixture(scope="module")
def report() -> Report:
    return check(
        ["Klonopin 0.5 mg qhs", "gabapentin 600 mg TID", "Norco 10/325 QID"],
        conditions=["6 weeks pregnant", "OSA", "denies mania", "zorbitis <b>"],
        bp="150/95",
        session=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )


def text_of(report: Report, fmt: OutputFormat) -> str:
    out = render(report, fmt)
    if isinstance(out, str):
        return out
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None, highlight=False, markup=False).print(out)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN])
def test_clinician_formats_show_conditions_bp_doses_and_holds(
    report: Report, fmt: OutputFormat
) -> None:
    text = " ".join(text_of(report, fmt).replace("\\", "").split())
    for expected in (
        "6 weeks pregnant",
        "denies mania",
        "150/95",
        "Pregnancy",
        "≈ 10 mg diazepam",
        "≈ 40 mg morphine",
        "skip the bedtime dose on Sunday 22 Nov",
        "still there",
    ):
        assert expected in text, (fmt, expected)


@pytest.mark.parametrize("fmt", [OutputFormat.HANDOUT, OutputFormat.HTML])
def test_handout_speaks_plainly(report: Report, fmt: OutputFormat) -> None:
    text = text_of(report, fmt)
    assert "Because you are pregnant" in text
    assert "Because you have sleep apnoea" in text
    assert "bedtime dose of Klonopin (clonazepam) on Sunday" in text
    assert "zorbitis" in text


def test_html_escapes_condition_text(report: Report) -> None:
    assert "zorbitis &lt;b&gt;" in text_of(report, OutputFormat.HTML)


def test_json_contract(report: Report) -> None:
    doc = json.loads(text_of(report, OutputFormat.JSON))
    assert doc["schema_version"] == 2
    assert [c["status"] for c in doc["conditions"]] == [
        "resolved",
        "resolved",
        "negated",
        "unresolved",
    ]
    assert doc["bp"]["systolic"] == 150 and doc["bp"]["diastolic"] == 95
    dose = doc["medications"][0]["dose"]
    assert dose["daily"] == {"amount": 0.5, "unit": "mg"} and dose["doses_per_day"] == 1
    assert {e["table"] for e in dose["equivalents"]} >= {"Ashton 2002/2007", "VA/DoD 2021"}
    kinds = {f["kind"] for f in doc["findings"]}
    assert "condition" in kinds
    assert any("osa" in f["conditions"] and f["ingredients"] for f in doc["findings"])
    assert doc["summary"]["complete"] is False


def test_fhir_carries_conditions_as_implicated_and_evidence(report: Report) -> None:
    bundle = json.loads(text_of(report, OutputFormat.FHIR))
    resources = [e["resource"] for e in bundle["entry"]]
    conditions = [r for r in resources if r["resourceType"] == "Condition"]
    assert {c["code"]["text"] for c in conditions} >= {"6 weeks pregnant", "OSA"}
    issues = [r for r in resources if r["resourceType"] == "DetectedIssue"]
    pregnancy = next(i for i in issues if i["code"]["text"] == "condition:pregnancy")
    assert any(x["display"] == "6 weeks pregnant" for x in pregnancy["implicated"])
    assert any("condition:" in d["display"] for e in pregnancy["evidence"] for d in e["detail"])
    outcomes = [r for r in resources if r["resourceType"] == "OperationOutcome"]
    assert any("zorbitis" in i["diagnostics"] for o in outcomes for i in o["issue"])
