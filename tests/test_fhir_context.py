"""Patient context from FHIR: conditions, status observations, blood pressure and allergies,
read wherever the input holds them, and malformed fields refused by name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from ketcheck.cli import app
from ketcheck.errors import InputError
from ketcheck.sources.fhir_context import context_from_fhir

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
SERTRALINE = {
    "resourceType": "MedicationStatement",
    "status": "active",
    "medicationCodeableConcept": {"text": "sertraline 50 mg"},
}


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


def loinc(code: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code}]}


def pregnancy_condition(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {"coding": [{"system": SNOMED, "code": "77386006"}]},
        **extra,
    }


def bp_panel(systolic: object, diastolic: object, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": loinc("85354-9"),
        "component": [
            {"code": loinc("8480-6"), "valueQuantity": {"value": systolic}},
            {"code": loinc("8462-4"), "valueQuantity": {"value": diastolic}},
        ],
        **extra,
    }


def run_check(doc: object) -> tuple[int, dict[str, Any] | None, str]:
    """Exit code, the JSON report (None on exit 2) and stderr of `check --format json`."""
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=json.dumps(doc))
    report = json.loads(result.stdout) if result.exit_code != 2 else None
    return result.exit_code, report, result.stderr


def test_context_inside_nested_bundles_is_read() -> None:
    """D2: a batch-response Bundle of searchsets carries conditions and readings too."""
    doc = bundle(
        bundle(SERTRALINE, kind="searchset"),
        bundle(pregnancy_condition(), kind="searchset"),
        bundle(bp_panel(192, 124, effectiveDateTime="2025-06-01T08:00:00Z"), kind="searchset"),
        kind="batch-response",
    )
    found = context_from_fhir(doc)
    assert [c.codes for c in found.conditions] == [("snomed:77386006",)] and found.bp == "192/124"
    code, report, _ = run_check(doc)
    assert report is not None and code == 1
    assert {f["rule"] for f in report["findings"]} >= {"condition:pregnancy", "bp:bp-crisis"}


@pytest.mark.parametrize(
    ("resource", "named"),
    [
        ({"resourceType": "Condition", "code": {"coding": 5}}, "code.coding must be an array"),
        ({"resourceType": "Condition", "code": {"coding": [5]}}, r"code.coding\[0\] must be an"),
        ({"resourceType": "Condition", "code": {"text": 5}}, "code.text must be a string"),
        ({"resourceType": "Condition", "code": "pregnant"}, "code must be an object"),
        (
            {"resourceType": "Condition", "verificationStatus": {"coding": [{"code": 3}]}},
            r"verificationStatus.coding\[0\].code must be a string",
        ),
        (
            {"resourceType": "AllergyIntolerance", "code": {"coding": 5}},
            "code.coding must be an array",
        ),
        ({**bp_panel(150, 90), "component": 5}, "component must be an array, not a number"),
        ({**bp_panel(150, 90), "component": [5]}, r"component\[0\] must be an object"),
        (bp_panel(float("nan"), 90), r"component\[0\].valueQuantity.value must be a finite number"),
        (bp_panel(150, float("inf")), "must be a finite number, not Infinity"),
        (bp_panel(True, 90), "must be a finite number, not a boolean"),
        (bp_panel("150", 90), "must be a finite number, not a string"),
        ({**bp_panel(150, 90), "code": {"coding": {}}}, "code.coding must be an array"),
        (
            {"resourceType": "Observation", "code": loinc("63895-7"), "valueCodeableConcept": 4},
            "valueCodeableConcept must be an object",
        ),
        ({**bp_panel(150, 90), "effectiveDateTime": 2025}, "effectiveDateTime must be a string"),
    ],
)
def test_wrong_json_types_name_the_field(resource: dict[str, Any], named: str) -> None:
    """D10: a wrong type is a one-line input error naming resource and field, never a crash."""
    with pytest.raises(InputError, match=named):
        context_from_fhir(bundle(SERTRALINE, {**resource, "id": "x1"}))


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ({"resourceType": "Bundle", "entry": 5}, "FHIR Bundle: entry must be an array"),
        (bundle(SERTRALINE) | {"entry": [{"resource": SERTRALINE}, 3]}, r"entry\[1\] must be an"),
        (
            bundle(SERTRALINE) | {"entry": [{"resource": SERTRALINE}, {"resource": "Condition"}]},
            r"Bundle.entry\[1\].resource must be an object, not a string",
        ),
        (
            bundle(bundle(SERTRALINE), bundle(pregnancy_condition(code={"coding": 7}))),
            r"Condition at Bundle.entry\[1\].resource.entry\[0\].resource: code.coding",
        ),
    ],
)
def test_malformed_containers_name_the_place(doc: dict[str, Any], named: str) -> None:
    with pytest.raises(InputError, match=named):
        context_from_fhir(doc)


def test_nan_in_a_reading_exits_2_with_one_line() -> None:
    """JSON parsing accepts NaN: the reader must refuse it, not crash in round()."""
    text = json.dumps(bundle(SERTRALINE, bp_panel(150, 90))).replace("90", "NaN")
    result = CliRunner().invoke(app, ["check", "--format", "json"], input=text)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "finite number, not NaN" in result.stderr
    assert "internal error" not in result.stderr


def condition_statuses(report: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(c["status"], c["candidates"]) for c in report["conditions"]]


@pytest.mark.parametrize("verification", ["unconfirmed", "provisional", "differential"])
@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": SNOMED, "code": "77386006"}]},
        {"text": "Pregnancy"},
        {"coding": [{"system": SNOMED, "code": "77386006", "display": "Pregnancy"}]},
    ],
    ids=["coded", "text", "both"],
)
def test_a_doubted_condition_is_unconfirmed_however_it_is_coded(
    verification: str, code: dict[str, Any]
) -> None:
    """D12: never read as the condition, never as its absence: the check is incomplete."""
    status = {"coding": [{"code": verification}]}
    doc = bundle(SERTRALINE, pregnancy_condition(code=code, verificationStatus=status))
    exit_code, report, stderr = run_check(doc)
    assert report is not None and exit_code == 3
    assert condition_statuses(report) == [("unconfirmed", ["pregnancy"])]
    assert report["conditions"][0]["verification"] == verification
    assert not any(f["rule"] == "condition:pregnancy" for f in report["findings"])
    assert "1 condition(s) to confirm" in stderr
    fhir = CliRunner().invoke(app, ["check", "--format", "fhir"], input=json.dumps(doc))
    echoed = [
        e["resource"]["verificationStatus"]["coding"][0]["code"]
        for e in json.loads(fhir.stdout)["entry"]
        if e["resource"]["resourceType"] == "Condition"
    ]
    assert echoed == [verification]


@pytest.mark.parametrize("text", ["r/o pregnancy", "? pregnant", "possible pregnancy"])
def test_a_rule_out_given_as_text_is_unconfirmed_too(text: str) -> None:
    """The text reader and FHIR agree: a query is neither the condition nor its absence."""
    result = CliRunner().invoke(
        app, ["check", "--format", "json", "--condition", text, "sertraline"]
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 3
    assert condition_statuses(report) == [("unconfirmed", ["pregnancy"])]
    assert report["summary"]["counts"]["conditions_unconfirmed"] == 1


def test_a_doubted_ketamine_allergy_is_unconfirmed() -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "verificationStatus": {"coding": [{"code": "unconfirmed"}]},
        "code": {"text": "ketamine"},
    }
    exit_code, report, _ = run_check(bundle(SERTRALINE, allergy))
    assert report is not None and exit_code == 3
    assert condition_statuses(report) == [("unconfirmed", ["ketamine-allergy"])]


def status_observation(code: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "status": "final", "code": loinc(code), **value}


def answer(display: str, system: str = "http://loinc.org") -> dict[str, Any]:
    return {"valueCodeableConcept": {"coding": [{"system": system, "display": display}]}}


UNKNOWN = {
    "valueCodeableConcept": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
                "code": "UNK",
                "display": "Unknown",
            }
        ]
    }
}


@pytest.mark.parametrize(
    ("code", "value", "status", "exit_code"),
    [
        ("63895-7", UNKNOWN, "unconfirmed", 3),
        ("63895-7", answer("Not sure"), "unconfirmed", 3),
        ("63895-7", answer("Asked but declined"), "unconfirmed", 3),
        ("63895-7", {}, "unconfirmed", 3),
        ("63895-7", answer("Not breastfeeding"), "negated", 0),
        ("63895-7", {"valueBoolean": False}, "negated", 0),
        ("63895-7", answer("Fully breastfeeding"), "resolved", 1),
        ("63895-7", {"valueBoolean": True}, "resolved", 1),
        ("82810-3", UNKNOWN, "unconfirmed", 3),
        ("82810-3", answer("Possible pregnancy", SNOMED), "unconfirmed", 3),
        ("82810-3", answer("Not pregnant"), "negated", 0),
        ("82810-3", answer("Pregnant"), "resolved", 1),
    ],
)
def test_a_status_observation_must_say_yes_or_no(
    code: str, value: dict[str, Any], status: str, exit_code: int
) -> None:
    """D16b: "Unknown" (or any unclear value) is never asserted, never cleared."""
    got, report, _ = run_check(bundle(SERTRALINE, status_observation(code, **value)))
    assert report is not None
    assert [c["status"] for c in report["conditions"]] == [status] and got == exit_code


def half(code: str, value: int, **when: Any) -> dict[str, Any]:
    """A systolic (8480-6) or diastolic (8462-4) reading as an Observation of its own."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": loinc(code),
        "valueQuantity": {"value": value, "unit": "mm[Hg]"},
        **when,
    }


def at(moment: str) -> dict[str, str]:
    return {"effectiveDateTime": moment}


@pytest.mark.parametrize(
    ("readings", "bp", "warned"),
    [
        (  # 08:00-05:00 is 13:00Z: later than 10:00Z, though its text sorts first
            [
                bp_panel(120, 80, **at("2025-06-01T10:00:00+00:00")),
                bp_panel(190, 125, **at("2025-06-01T08:00:00-05:00")),
            ],
            "190/125",
            "",
        ),
        (
            [
                bp_panel(120, 80, **at("2024-01-01T10:00:00Z")),
                bp_panel(190, 125, effectivePeriod={"start": "2025-06-01T09:00:00Z"}),
            ],
            "190/125",
            "",
        ),
        (
            [
                bp_panel(190, 125, effectivePeriod={"start": "2024-01-01", "end": "2024-01-02"}),
                bp_panel(120, 80, effectiveInstant="2025-06-01T09:00:00.123+02:00"),
            ],
            "120/80",
            "",
        ),
        (
            [
                bp_panel(120, 80, **at("2024-01-01T10:00:00Z")),
                bp_panel(150, 95, issued="2025-06-01T09:00:00Z"),
            ],
            "150/95",
            "",
        ),
        (  # a date alone counts as its first moment
            [
                bp_panel(150, 95, **at("2025-06-01T09:00:00Z")),
                bp_panel(120, 80, **at("2025-06-01")),
            ],
            "150/95",
            "",
        ),
        (  # no usable time never wins over a dated reading, and is named
            [bp_panel(190, 125), bp_panel(120, 80, **at("2020"))],
            "120/80",
            "not taken as the latest, having no usable time: 190/125",
        ),
        (  # a time without a zone is no usable time
            [
                bp_panel(190, 125, **at("2025-06-01T09:00:00")),
                bp_panel(120, 80, **at("2024-01-01T09:00:00Z")),
            ],
            "120/80",
            "no usable time: 190/125",
        ),
        (  # the latest cannot be told: the highest, said so
            [bp_panel(120, 80), bp_panel(150, 110)],
            "150/110",
            "2 readings with no usable time; the highest, 150/110",
        ),
        (
            [
                bp_panel(150, 85, **at("2025-06-01T09:00:00Z")),
                bp_panel(140, 105, **at("2025-06-01T11:00:00+02:00")),
            ],
            "140/105",
            "2 readings taken at the same time; the highest, 140/105",
        ),
    ],
)
def test_the_latest_reading_is_chosen_by_instant(
    readings: list[dict[str, Any]], bp: str, warned: str
) -> None:
    """D3: parsed instants, zones honoured, every effective[x] read; undated never wins."""
    found = context_from_fhir(bundle(SERTRALINE, *readings))
    assert found.bp == bp
    assert (warned in " ".join(found.warnings)) if warned else found.warnings == ()


@pytest.mark.parametrize(
    ("readings", "bp", "warned"),
    [
        (
            [
                half("8480-6", 132, **at("2025-06-01T09:00:00Z")),
                half("8462-4", 118, **at("2025-06-01T09:00:00Z")),
            ],
            "132/118",
            "",
        ),
        (
            [
                half("8462-4", 118, **at("2025-06-01T04:00:00-05:00")),
                half("8480-6", 132, **at("2025-06-01T09:00:00Z")),
            ],
            "132/118",
            "",
        ),
        (  # a panel with only its systolic, and the diastolic apart, taken together
            [
                {
                    **bp_panel(150, 90, **at("2025-06-01T09:00:00Z")),
                    "component": [{"code": loinc("8480-6"), "valueQuantity": {"value": 150}}],
                },
                half("8462-4", 104, **at("2025-06-01T09:00:00Z")),
            ],
            "150/104",
            "",
        ),
        ([half("8480-6", 150, **at("2025-06-01T09:00:00Z"))], "SBP 150", ""),
        (
            [
                half("8480-6", 132, **at("2025-06-01T09:05:00Z")),
                half("8462-4", 118, **at("2025-06-01T09:00:00Z")),
            ],
            "SBP 132",
            "diastolic 118 (Observation/x1, 2025-06-01 09:00 UTC) has no systolic",
        ),
    ],
)
def test_separate_systolic_and_diastolic_are_paired(
    readings: list[dict[str, Any]], bp: str, warned: str
) -> None:
    """D4: 132/118 given as two Observations is 132/118, never SBP 132 alone in silence."""
    found = context_from_fhir(bundle(SERTRALINE, *({**r, "id": "x1"} for r in readings)))
    assert found.bp == bp
    assert (warned in " ".join(found.warnings)) if warned else found.warnings == ()


def test_a_lone_latest_diastolic_makes_the_check_incomplete() -> None:
    doc = bundle(
        SERTRALINE,
        bp_panel(120, 80, **at("2025-06-01T08:00:00Z")),
        half("8462-4", 125, **at("2025-06-01T09:00:00Z")),
    )
    exit_code, report, _ = run_check(doc)
    assert report is not None and exit_code == 3 and report["bp"] is None
    assert [c["status"] for c in report["conditions"]] == ["unconfirmed"]
    assert "cannot be graded; re-measure" in report["conditions"][0]["reason"]
    assert any("has no systolic taken at the same time" in w for w in report["warnings"])


def test_separate_readings_reach_the_verdict() -> None:
    doc = bundle(
        SERTRALINE,
        half("8480-6", 132, **at("2025-06-01T09:00:00Z")),
        half("8462-4", 118, **at("2025-06-01T09:00:00Z")),
    )
    exit_code, report, _ = run_check(doc)
    assert report is not None and exit_code == 1 and report["bp"]["diastolic"] == 118


@pytest.mark.parametrize("moment", ["yesterday", "2025-13-01", "2025-06-01T25:00:00Z"])
def test_a_malformed_time_is_an_input_error(moment: str) -> None:
    with pytest.raises(InputError, match="effectiveDateTime"):
        context_from_fhir(bundle(SERTRALINE, bp_panel(150, 90, **at(moment))))


def rxnorm_allergy(*codes: str, **extra: Any) -> dict[str, Any]:
    system = "http://www.nlm.nih.gov/research/umls/rxnorm"
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": system, "code": c} for c in codes]},
        **extra,
    }


@pytest.mark.parametrize(
    ("rxcui", "allergic"),
    [
        ("2119365", True),  # esketamine IN
        ("2119382", True),  # Spravato BN
        ("2119381", True),  # esketamine 140 MG/ML Nasal Spray (SCD)
        ("2119387", True),  # ... [Spravato] (SBD)
        ("6130", True),  # ketamine IN
        ("6129", True),  # Ketalar BN
        ("238083", True),  # ketamine 100 MG/ML Injectable Solution (SCD)
        ("2283383", False),  # not esketamine, whatever the old constant said
        ("7980", False),  # penicillin G
    ],
)
def test_an_allergy_coded_only_by_rxnorm_is_read_by_its_ingredients(
    rxcui: str, allergic: bool
) -> None:
    """D11: every code whose ingredients include ketamine or esketamine, by the bundled table."""
    found = context_from_fhir(bundle(SERTRALINE, rxnorm_allergy(rxcui)))
    assert [c.text for c in found.conditions] == (["allergic to ketamine"] if allergic else [])


def test_the_rxnorm_allergy_contraindicates() -> None:
    exit_code, report, _ = run_check(bundle(SERTRALINE, rxnorm_allergy("2119365")))
    assert report is not None and exit_code == 1
    assert any(f["rule"] == "condition:ketamine-allergy" for f in report["findings"])


def test_the_allergy_codes_come_from_the_code_table() -> None:
    """No hard-coded list: what the table says a code holds decides."""
    table = {"999": ("esketamine",), "998": ("sertraline",)}
    found = context_from_fhir(
        bundle(SERTRALINE, rxnorm_allergy("998"), rxnorm_allergy("999")),
        ingredients_of=lambda c: table.get(c, ()),
    )
    assert [c.text for c in found.conditions] == ["allergic to ketamine"]
