"""FHIR input: every medication record reaches the report, or is reported as not read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import ketcheck
from ketcheck.errors import InputError
from ketcheck.model import Entry, Method, Resolved, Unresolved
from ketcheck.sources.fhir import entries_from_fhir, read_fhir
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


def searchset(server: str, *resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{server}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


def collection(*bundles: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": b} for b in bundles],
    }


def medication(rid: str, text: str) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": rid, "code": {"text": text}}


def by_reference(rid: str, ref: str, **extra: Any) -> dict[str, Any]:
    return record(
        "MedicationRequest", None, id=rid, medicationReference={"reference": ref}, **extra
    )


def test_relative_references_resolve_against_their_own_server() -> None:
    doc = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": searchset(
                    "https://a.example/fhir",
                    by_reference("1", "Medication/1"),
                    medication("1", "sertraline 50 mg"),
                )
            },
            {
                "resource": searchset(
                    "https://b.example/fhir",
                    by_reference("1", "Medication/1"),
                    medication("1", "phenelzine 15 mg"),
                )
            },
        ],
    }
    assert texts(read(doc)) == ["sertraline 50 mg", "phenelzine 15 mg"]


@pytest.mark.parametrize(
    ("ref", "full_url"),
    [
        (
            "urn:uuid:6b2d0c3e-1f7a-4c8e-9d51-0a9b7c3e2f10",
            "urn:uuid:6b2d0c3e-1f7a-4c8e-9d51-0a9b7c3e2f10",
        ),
        ("https://a.example/fhir/Medication/1", "https://a.example/fhir/Medication/1"),
        ("https://a.example/fhir/Medication/1/_history/2", "https://a.example/fhir/Medication/1"),
    ],
)
def test_urn_and_absolute_references_resolve_exactly(ref: str, full_url: str) -> None:
    other = "https://b.example/fhir/Medication/1"
    doc = bundle(
        by_reference("r", ref),
        **{full_url: medication("1", "Nardil"), other: medication("1", "Zoloft")},
    )
    assert texts(read(doc)) == ["Nardil", "Zoloft"]  # Zoloft: named by no record, read alone


def test_a_reference_two_different_resources_answer_is_unresolved_and_both_are_read() -> None:
    doc = bundle(
        by_reference("r", "Medication/1"),
        medication("1", "sertraline 50 mg"),
        medication("1", "phenelzine 15 mg"),
    )
    first, *rest = read(doc)
    assert first.problem is not None and "matches 2 different resources" in first.problem
    assert texts(rest) == ["sertraline 50 mg", "phenelzine 15 mg"]
    report = ketcheck.check([first, *rest])
    assert report.summary.complete is False
    assert "phenelzine" in {i for m in report.medications for i in m.ingredients}


def test_the_same_resource_given_twice_is_one_resource() -> None:
    doc = bundle(
        by_reference("r", "Medication/1"), medication("1", "Nardil"), medication("1", "Nardil")
    )
    assert texts(read(doc)) == ["Nardil"]


PATIENT_1 = {"resourceType": "Patient", "id": "p1"}
PATIENT_2 = {"resourceType": "Patient", "id": "p2"}


def about(text: str, patient: str) -> dict[str, Any]:
    return record("MedicationStatement", text, subject={"reference": patient})


@pytest.mark.parametrize(
    "doc",
    [
        bundle(
            PATIENT_1, PATIENT_2, about("sertraline", "Patient/p1"), about("Nardil", "Patient/p2")
        ),
        bundle(about("sertraline", "Patient/p1"), about("Nardil", "Patient/p2")),
        bundle(PATIENT_1, about("Nardil", "Patient/p2")),
        collection(  # the same id on two servers: two patients
            searchset("https://a.example/fhir", {**about("Zoloft", "Patient/p1"), "id": "s1"}),
            searchset("https://b.example/fhir", {**about("Nardil", "Patient/p1"), "id": "s2"}),
        ),
    ],
)
def test_a_bundle_of_more_than_one_patient_is_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=r"covers 2 patients.*ketcheck batch"):
        read(doc)


@pytest.mark.parametrize(
    "doc",
    [
        bundle(PATIENT_1, about("sertraline", "Patient/p1"), about("Nardil", "Patient/p1")),
        bundle(
            about("sertraline", "Patient/p1"), **{"https://a.example/fhir/Patient/p1": PATIENT_1}
        ),
        bundle(about("sertraline", "urn:uuid:p"), **{"urn:uuid:p": PATIENT_1}),
    ],
)
def test_one_patient_named_several_ways_is_one_patient(doc: dict[str, Any]) -> None:
    assert read(doc)


def test_cli_refuses_two_patients_with_one_line_and_exit_2() -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    doc = bundle(
        PATIENT_1, PATIENT_2, about("sertraline", "Patient/p1"), about("Nardil", "Patient/p2")
    )
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=json.dumps(doc))
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "2 patients" in line and "internal error" not in line


def contained_medication(med: dict[str, Any]) -> dict[str, Any]:
    return by_reference("r", "#m", contained=[{"resourceType": "Medication", "id": "m", **med}])


def ingredient(concept: dict[str, Any]) -> dict[str, Any]:
    return {"itemCodeableConcept": concept}


@pytest.mark.parametrize(
    ("med", "text", "ingredients"),
    [
        (  # the brand names less than the ingredient list: both, never the code's subset
            {
                "code": {"text": "Tylenol"},
                "ingredient": [
                    ingredient({"text": "acetaminophen"}),
                    ingredient({"text": "codeine phosphate"}),
                ],
            },
            "Tylenol (acetaminophen / codeine phosphate)",
            ("acetaminophen", "codeine"),
        ),
        (  # a name that already says every ingredient is kept as it is
            {
                "code": {"text": "buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet"},
                "ingredient": [
                    ingredient({"text": "buprenorphine"}),
                    ingredient({"text": "naloxone"}),
                ],
            },
            "buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet",
            ("buprenorphine", "naloxone"),
        ),
        (  # ingredients coded only by RxNorm resolve by the bundled code table
            {
                "ingredient": [
                    ingredient({"coding": [{"system": RXNORM, "code": "1819"}]}),
                    ingredient({"coding": [{"system": RXNORM, "code": "7242"}]}),
                ]
            },
            "buprenorphine / naloxone",
            ("buprenorphine", "naloxone"),
        ),
        (  # R5: an ingredient's item is a CodeableReference
            {
                "code": {"text": "Tylenol"},
                "ingredient": [
                    {"item": {"concept": {"text": "acetaminophen"}}},
                    {"item": {"concept": {"coding": [{"system": RXNORM, "code": "2670"}]}}},
                ],
            },
            "Tylenol (acetaminophen / codeine)",
            ("acetaminophen", "codeine"),
        ),
    ],
)
def test_a_medication_is_named_by_its_code_and_every_ingredient(
    med: dict[str, Any], text: str, ingredients: tuple[str, ...]
) -> None:
    (entry,) = read(contained_medication(med))
    assert entry.text == text and entry.problem is None
    (checked,) = ketcheck.check([entry]).medications
    assert set(checked.ingredients) == set(ingredients)


def test_a_code_only_medication_with_ingredients_keeps_its_code_to_compare() -> None:
    med = {
        "code": {"coding": [{"system": RXNORM, "code": "197591"}]},
        "ingredient": [ingredient({"text": "sertraline"})],
    }
    (entry,) = read(contained_medication(med))
    assert (entry.text, entry.rxcui) == ("sertraline", "197591")
    (checked,) = ketcheck.check([entry]).medications
    assert checked.status.value == "ambiguous"  # the code is diazepam: a person decides


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (
            {
                "resourceType": "Bundle",
                "entry": [
                    {"resource": "MedicationStatement Nardil"},
                    {"resource": record("MedicationStatement", "Zoloft")},
                ],
            },
            "Bundle entry 1 resource is a string, not a FHIR resource",
        ),
        (
            {
                "resourceType": "Bundle",
                "entry": [7, {"resource": record("MedicationStatement", "Zoloft")}],
            },
            "Bundle entry 1 is a number, not a Bundle entry",
        ),
        (
            contained_medication(
                {"ingredient": [ingredient({"text": "buprenorphine"}), "naloxone"]}
            ),
            "ingredient 2 is a string, not an object",
        ),
        (
            contained_medication(
                {
                    "code": {"text": "Suboxone"},
                    "ingredient": [ingredient({"text": "buprenorphine"}), {}],
                }
            ),
            "Medication/m ingredient 2 names nothing ketcheck can read",
        ),
        (
            contained_medication(
                {"ingredient": [ingredient({"coding": [{"system": RXNORM, "code": "999999"}]})]}
            ),
            "RxNorm code 999999 is not in the bundled code list",
        ),
        (
            {
                "resourceType": "List",
                "title": "Medications",
                "entry": [{"item": {"display": "Zoloft"}}, "Nardil 15 mg"],
            },
            "List item 2 is a string, not a List entry",
        ),
        (
            {
                "resourceType": "List",
                "title": "Medications",
                "entry": [{"item": {"display": "Zoloft"}}, {"item": "Nardil 15 mg"}],
            },
            "List item 2 item is a string, not a reference",
        ),
    ],
)
def test_a_malformed_member_is_an_unresolved_entry(doc: dict[str, Any], reason: str) -> None:
    entries = read(doc)
    problems = [e.problem for e in entries if e.problem]
    assert len(problems) == 1 and reason in problems[0], problems
    assert ketcheck.check(entries).summary.exit_code == 3


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"resourceType": "Bundle", "entry": 5}, "Bundle: entry must be an array, not a number"),
        ({"resourceType": "Bundle", "link": 5, "entry": []}, "link must be an array"),
        (
            record("MedicationStatement", None, medicationCodeableConcept={"coding": 5}),
            "medicationCodeableConcept: coding must be an array",
        ),
        (
            record("MedicationStatement", None, medicationCodeableConcept={"coding": [5]}),
            "medicationCodeableConcept.coding item 1 must be an object",
        ),
        (
            record("MedicationStatement", None, medicationCodeableConcept={"text": 5}),
            "medicationCodeableConcept.text must be a string",
        ),
        (
            record("MedicationStatement", None, medicationCodeableConcept="Zoloft"),
            "medicationCodeableConcept must be an object, not a string",
        ),
        (record("MedicationStatement", "Zoloft", contained=5), "contained must be an array"),
        (
            record("MedicationStatement", "Zoloft", contained=["x"]),
            "contained item 1 must be a resource",
        ),
        (contained_medication({"ingredient": 5}), "Medication/m: ingredient must be an array"),
        (
            contained_medication({"code": {"coding": 7}}),
            "Medication/m code: coding must be an array",
        ),
        ({"resourceType": "List", "entry": 3}, "List: entry must be an array"),
        (
            {"resourceType": "List", "emptyReason": {"coding": 4}},
            "emptyReason: coding must be an array",
        ),
        ({"resourceType": "List", "emptyReason": "nilknown"}, "emptyReason must be an object"),
        (
            record("MedicationRequest", "Nardil", doNotPerform="yes"),
            "doNotPerform must be true or false",
        ),
    ],
)
def test_a_field_of_the_wrong_json_type_is_an_input_error_naming_it(
    doc: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError, match=re.escape(field)):
        read(doc)


def test_cli_wrong_json_type_is_a_one_line_input_error() -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    doc = bundle(record("MedicationStatement", None, medicationCodeableConcept={"coding": 5}))
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=json.dumps(doc))
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "coding must be an array" in line and "internal error" not in line


@pytest.mark.parametrize(
    ("resource", "warning"),
    [
        (
            record("MedicationRequest", "Nardil 15 mg", status="cancelled", id="r"),
            "skipped 1 cancelled record: Nardil 15 mg (MedicationRequest/r)",
        ),
        (
            record("MedicationStatement", "Nardil", status="entered-in-error", id="s"),
            "skipped 1 entered-in-error record: Nardil (MedicationStatement/s)",
        ),
        (
            record("MedicationAdministration", "Nardil", status="not-done", id="a"),
            "skipped 1 not-done record: Nardil (MedicationAdministration/a)",
        ),
        (
            record("MedicationRequest", "Nardil 15 mg", doNotPerform=True, id="r"),
            "skipped 1 do-not-perform record: Nardil 15 mg (MedicationRequest/r)",
        ),
        (
            bundle(
                by_reference("r", "Medication/m", status="cancelled"), medication("m", "Nardil")
            ),
            "skipped 1 cancelled record: Nardil (MedicationRequest/r)",
        ),
        (
            {
                "resourceType": "List",
                "id": "l",
                "status": "entered-in-error",
                "entry": [{"item": {"display": "Nardil"}}],
            },
            "skipped 1 entered-in-error record: List/l",
        ),
    ],
)
def test_a_skipped_record_is_named_in_a_warning(resource: dict[str, Any], warning: str) -> None:
    # A Medication named only by a skipped record is skipped with it.
    got = read_fhir(bundle(record("MedicationStatement", "sertraline"), resource))
    assert texts(got.entries) == ["sertraline"]
    assert got.warnings == (f"FHIR: {warning}",)


def test_cli_reports_the_skipped_records_in_the_warnings() -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    doc = bundle(
        record("MedicationStatement", "sertraline"),
        record("MedicationRequest", "Nardil", status="cancelled", id="r1"),
        record("MedicationRequest", "Nardil", status="cancelled", id="r1"),
    )
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=json.dumps(doc))
    report = json.loads(result.stdout)
    assert report["warnings"] == [
        "FHIR: skipped 2 cancelled records: Nardil (MedicationRequest/r1) (x2)"
    ]
    assert "skipped 2 cancelled records" in result.stderr


def paged(page: int, *, next_page: bool) -> dict[str, Any]:
    url = "https://x.example/fhir/MedicationStatement?patient=1"
    links = [{"relation": "self", "url": f"{url}&page={page}"}]
    if next_page:
        links.append({"relation": "next", "url": f"{url}&page={page + 1}"})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 2,
        "link": links,
        "entry": [{"resource": record("MedicationStatement", ["Zoloft", "Nardil"][page - 1])}],
    }


def test_a_page_of_search_results_makes_the_check_incomplete() -> None:
    entries = read(paged(1, next_page=True))
    assert texts(entries) == ["Zoloft", "Bundle next page"]
    assert entries[1].problem is not None and "a page that was not read" in entries[1].problem
    assert ketcheck.check(entries).summary.exit_code == 3


def test_every_page_given_together_is_whole() -> None:
    doc = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": paged(1, next_page=True)}, {"resource": paged(2, next_page=False)}],
    }
    assert texts(read(doc)) == ["Zoloft", "Nardil"]


def a_list(code: dict[str, Any] | None, title: str | None = None) -> dict[str, Any]:
    lst: dict[str, Any] = {
        "resourceType": "List",
        "status": "current",
        "mode": "snapshot",
        "entry": [{"item": {"display": "Nardil 15 mg TID"}}],
    }
    if code is not None:
        lst["code"] = code
    if title is not None:
        lst["title"] = title
    return lst


@pytest.mark.parametrize(
    ("lst", "read_items"),
    [
        (a_list({"coding": [{"system": "http://loinc.org", "code": "10160-0"}]}), True),
        (a_list({"coding": [{"system": "http://loinc.org", "code": "52471-0"}]}), True),
        (
            a_list(
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/list-example-use-codes",
                            "code": "medications",
                        }
                    ]
                }
            ),
            True,
        ),
        (a_list(None), True),  # a list that does not say what it lists: its items are read
        (a_list({"coding": [{"system": "http://example.org/lists", "code": "x1"}]}), True),
        (a_list(None, title="Current medications"), True),
        (a_list({"coding": [{"system": "http://loinc.org", "code": "11450-4"}]}), False),
        (a_list(None, title="Problem list"), False),
        (a_list(None, title="Current meds"), True),
        (a_list(None, title="Home list"), True),  # says nothing of what it lists: read
        (a_list(None, title="Allergies"), False),
    ],
)
def test_display_only_items_of_a_medication_list_are_read(
    lst: dict[str, Any], read_items: bool
) -> None:
    entries = read(bundle(record("MedicationStatement", "sertraline"), lst))
    assert texts(entries) == ["sertraline", "Nardil 15 mg TID"][: 2 if read_items else 1]


def test_a_record_contained_in_a_record_is_read() -> None:
    outer = record("MedicationStatement", "Zoloft 50 mg")
    outer["contained"] = [{**record("MedicationStatement", "Nardil 15 mg"), "id": "c1"}]
    assert texts(read(bundle(outer))) == ["Zoloft 50 mg", "Nardil 15 mg"]

