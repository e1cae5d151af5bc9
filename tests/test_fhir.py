"""FHIR input: every medication record reaches the report, or is reported as not read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import ketcheck
from ketcheck.errors import InputError
from ketcheck.model import Entry, Method, Resolved, Unresolved
from ketcheck.sources.fhir import entries_from_fhir
from ketcheck.sources.text import from_text

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NILKNOWN = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": "nilknown"}
    ]
}


def record(kind: str, text: str | None, status: str = "active", **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": kind, "status": status}
    if text is not None:
        r["medicationCodeableConcept"] = {"text": text}
    r.update(extra)
    return r


def bundle(*resources: dict[str, Any], **urls: dict[str, Any]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [{"resource": r} for r in resources]
    entries += [{"fullUrl": url, "resource": r} for url, r in urls.items()]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def read(doc: dict[str, Any]) -> list[Entry]:
    return entries_from_fhir(doc)


def texts(entries: list[Entry]) -> list[str]:
    return [e.text for e in entries]


def test_zoloft_statement_and_nardil_dispense_both_reach_the_report() -> None:
    doc = bundle(
        record("MedicationStatement", "Zoloft 50 mg"),
        record("MedicationDispense", "Nardil 15 mg", status="completed"),
    )
    entries = read(doc)
    assert texts(entries) == ["Zoloft 50 mg", "Nardil 15 mg"]
    assert [e.recent for e in entries] == [False, False]  # a completed dispense is current
    report = ketcheck.check(entries)
    assert [m.ingredients for m in report.medications] == [("sertraline",), ("phenelzine",)]
    assert report.summary.exit_code == 1  # the MAOI is not lost


@pytest.mark.parametrize(
    ("kind", "status", "recent"),
    [
        ("MedicationStatement", "active", False),
        ("MedicationStatement", "completed", True),
        ("MedicationStatement", "stopped", True),
        ("MedicationStatement", "not-taken", True),
        ("MedicationRequest", "active", False),
        ("MedicationRequest", "on-hold", False),
        ("MedicationRequest", "completed", True),
        ("MedicationDispense", "completed", False),
        ("MedicationDispense", "in-progress", False),
        ("MedicationDispense", "declined", True),
        ("MedicationAdministration", "in-progress", False),
        ("MedicationAdministration", "completed", True),
    ],
)
def test_each_record_type_and_status_is_read(kind: str, status: str, recent: bool) -> None:
    (entry,) = read(bundle(record(kind, "sertraline", status=status)))
    assert entry.text == "sertraline" and entry.recent is recent and entry.problem is None


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "not-done"])
@pytest.mark.parametrize(
    "kind",
    ["MedicationStatement", "MedicationRequest", "MedicationDispense", "MedicationAdministration"],
)
def test_records_that_never_happened_are_skipped(kind: str, status: str) -> None:
    doc = bundle(record(kind, "Xanax", status=status), record(kind, "sertraline"))
    assert texts(read(doc)) == ["sertraline"]


def test_only_skipped_records_is_an_input_error_not_an_empty_list() -> None:
    with pytest.raises(InputError, match=r"no current medication.*1 entered-in-error"):
        read(bundle(record("MedicationStatement", "Xanax", status="entered-in-error")))


@pytest.mark.parametrize(
    "medication",
    [
        {"medicationCodeableConcept": {"text": "Nardil"}},
        {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "display": "Nardil"}]}},
        {"medication": {"concept": {"text": "Nardil"}}},  # R5 CodeableReference
        {"medicationReference": {"reference": "Medication/m1"}},
        {"medicationReference": {"reference": "urn:uuid:0b1c"}},
        {"medicationReference": {"reference": "https://ehr.example/fhir/Medication/m1"}},
        {"medication": {"reference": {"reference": "Medication/m1"}}},  # R5 by reference
        {"medicationReference": {"reference": "Medication/absent", "display": "Nardil"}},
    ],
)
def test_medication_x_in_every_form(medication: dict[str, Any]) -> None:
    nardil = {"resourceType": "Medication", "id": "m1", "code": {"text": "Nardil"}}
    dispense = record("MedicationDispense", None, **medication)
    referenced = "m1" in json.dumps(medication) or "0b1c" in json.dumps(medication)
    doc = bundle(dispense, **{"urn:uuid:0b1c": nardil}) if referenced else bundle(dispense)
    assert texts(read(doc)) == ["Nardil"]  # the referenced Medication is not read twice


def test_a_medication_nothing_refers_to_is_still_read() -> None:
    nardil = {"resourceType": "Medication", "id": "m9", "code": {"text": "Nardil"}}
    doc = bundle(record("MedicationStatement", "sertraline"), nardil)
    assert texts(read(doc)) == ["sertraline", "Nardil"]
    assert texts(read(nardil)) == ["Nardil"]


def test_nested_bundles_keep_document_order() -> None:
    inner = bundle(record("MedicationAdministration", "ketamine", status="in-progress"))
    doc = bundle(
        record("MedicationStatement", "sertraline"),
        inner,
        record("MedicationRequest", "Klonopin"),
    )
    assert texts(read(doc)) == ["sertraline", "ketamine", "Klonopin"]


def test_contained_medications_and_records() -> None:
    med = {
        "resourceType": "Medication",
        "id": "c1",
        "code": {"coding": [{"display": "gabapentin"}]},
    }
    statement = record(
        "MedicationStatement", None, medicationReference={"reference": "#c1"}, contained=[med]
    )
    holder = {
        "resourceType": "Encounter",
        "id": "e1",
        "contained": [record("MedicationAdministration", "midazolam", status="completed")],
    }
    assert texts(read(bundle(statement, holder))) == ["gabapentin", "midazolam"]


def test_a_compounded_medication_is_named_by_all_its_ingredients() -> None:
    med = {
        "resourceType": "Medication",
        "id": "m1",
        "ingredient": [
            {"itemCodeableConcept": {"text": "ketamine"}},
            {"item": {"concept": {"text": "lidocaine"}}},
        ],
    }
    doc = bundle(
        record("MedicationRequest", None, medicationReference={"reference": "#m1"}, contained=[med])
    )
    assert texts(read(doc)) == ["ketamine / lidocaine"]


def test_a_list_of_medications() -> None:
    lst = {
        "resourceType": "List",
        "id": "meds",
        "status": "current",
        "mode": "snapshot",
        "code": {"text": "Current medication list"},
        "contained": [record("MedicationStatement", "lithium", id="s1")],
        "entry": [
            {"item": {"reference": "#s1"}},
            {"item": {"reference": "MedicationStatement/s2"}},
            {"item": {"reference": "Medication/m3"}},
            {"item": {"display": "Lamictal 100 mg"}},
            {"item": {"reference": "MedicationStatement/gone"}, "deleted": True},
        ],
    }
    doc = bundle(
        lst,
        record("MedicationStatement", "Zoloft", id="s2"),
        {"resourceType": "Medication", "id": "m3", "code": {"text": "Nardil"}},
    )
    assert texts(read(doc)) == ["lithium", "Zoloft", "Nardil", "Lamictal 100 mg"]


def test_a_list_alone_is_a_valid_input() -> None:
    lst = {
        "resourceType": "List",
        "status": "current",
        "contained": [record("MedicationRequest", "Xanax", id="r1")],
        "entry": [{"item": {"reference": "#r1"}}],
    }
    assert texts(read(lst)) == ["Xanax"]


def test_an_explicit_nilknown_list_gives_no_entries() -> None:
    lst = {"resourceType": "List", "status": "current", "mode": "snapshot", "emptyReason": NILKNOWN}
    assert read(lst) == []
    assert read(bundle({"resourceType": "Patient", "id": "p"}, lst)) == []


def test_nilknown_does_not_hide_medications_that_are_there() -> None:
    lst = {"resourceType": "List", "status": "current", "emptyReason": NILKNOWN}
    assert texts(read(bundle(lst, record("MedicationStatement", "Nardil")))) == ["Nardil"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"resourceType": "Patient"}, "Patient is not supported"),
        (bundle({"resourceType": "Patient", "id": "p"}), "Bundle holds no medication resource"),
        ({"resourceType": "Bundle", "type": "collection"}, "Bundle holds no medication"),
        (
            {"resourceType": "List", "status": "current", "emptyReason": {"text": "not asked"}},
            "List is empty \\(not asked\\)",
        ),
        ({"resourceType": "List", "status": "current", "entry": []}, "List holds no medication"),
    ],
)
def test_input_with_no_medication_at_all_is_an_error(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        read(doc)


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        (
            {
                "resourceType": "MedicationUsage",
                "id": "u1",
                "medication": {"concept": {"text": "Xanax"}},
            },
            "MedicationUsage",
        ),
        ({"resourceType": "MedicationKnowledge", "id": "k1"}, "MedicationKnowledge"),
        (record("MedicationRequest", None, id="r1"), "names no medication"),
        (
            record(
                "MedicationRequest",
                None,
                id="r1",
                medicationReference={"reference": "Medication/x"},
            ),
            "'Medication/x' is not in the input",
        ),
        (
            record(
                "MedicationRequest",
                None,
                id="r1",
                medicationCodeableConcept={
                    "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0049-4960"}]
                },
            ),
            "coded only as http://hl7.org/fhir/sid/ndc 0049-4960",
        ),
        (
            {
                "resourceType": "List",
                "id": "l1",
                "code": {"text": "Medications"},
                "entry": [{"item": {"reference": "urn:uuid:missing"}}],
            },
            "'urn:uuid:missing', which is not in the input",
        ),
    ],
)
def test_an_unreadable_medication_record_is_an_unresolved_entry(
    resource: dict[str, Any], reason: str
) -> None:
    entries = read(bundle(record("MedicationStatement", "sertraline"), resource))
    assert len(entries) == 2 and entries[1].problem is not None
    assert reason in entries[1].problem
    report = ketcheck.check(entries)
    unread = report.medications[1].resolution
    assert isinstance(unread, Unresolved) and reason in unread.reason
    assert report.summary.complete is False and report.summary.exit_code == 3


def test_non_medication_resources_are_ignored() -> None:
    doc = bundle(
        {"resourceType": "Patient", "id": "p"},
        {"resourceType": "Condition", "id": "c"},
        record("MedicationStatement", "sertraline"),
    )
    assert texts(read(doc)) == ["sertraline"]


def test_a_code_only_request_resolves_by_its_rxnorm_code(tmp_path: Path) -> None:
    coded = {"coding": [{"system": RXNORM, "code": "197591"}]}
    doc = bundle(record("MedicationRequest", None, medicationCodeableConcept=coded))
    (entry,) = from_text(json.dumps(doc))
    assert isinstance(entry, Entry) and entry.rxcui == "197591"
    (med,) = ketcheck.check([entry]).medications
    assert isinstance(med.resolution, Resolved) and med.resolution.method is Method.RXNORM
    assert med.ingredients == ("diazepam",)


def test_a_display_and_code_that_disagree_are_ambiguous() -> None:
    coded = {"coding": [{"system": RXNORM, "code": "197591", "display": "Zoloft 50 mg"}]}
    (entry,) = read(bundle(record("MedicationRequest", None, medicationCodeableConcept=coded)))
    (med,) = ketcheck.check([entry]).medications
    assert med.status.value == "ambiguous"


def test_input_nested_past_the_recursion_limit_is_an_input_error() -> None:
    import sys

    doc: dict[str, Any] = record("MedicationStatement", "Xanax")
    for _ in range(sys.getrecursionlimit() + 10):
        doc = {"resourceType": "Bundle", "entry": [{"resource": doc}]}
    with pytest.raises(InputError, match="too deeply"):
        read(doc)


def test_cli_reads_every_record_of_a_bundle_on_stdin() -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    doc = bundle(
        record("MedicationStatement", "Zoloft 50 mg"),
        record("MedicationDispense", "Nardil 15 mg", status="completed"),
        {"resourceType": "MedicationUsage", "id": "u1", "medication": {"concept": {"text": "X"}}},
    )
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=json.dumps(doc))
    report = json.loads(result.stdout)
    assert [m["ingredients"] for m in report["medications"]] == [["sertraline"], ["phenelzine"], []]
    assert report["medications"][2]["status"] == "unresolved"
    assert report["summary"]["complete"] is False
    assert result.exit_code == 1  # the MAOI finding decides; the check is also incomplete


def test_cli_nilknown_list_is_a_complete_empty_report() -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    lst = {"resourceType": "List", "status": "current", "emptyReason": NILKNOWN}
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=json.dumps(lst))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["medications"] == [] and report["summary"]["complete"] is True
