"""Conditions: reading the text, every condition rule by route, the BP ladder, every amplifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from ketcheck.api import check, reading
from ketcheck.errors import DataError, InputError
from ketcheck.kb.patient import PatientTables, build_patient_tables, load_patient_tables
from ketcheck.matching.conditions import parse_bp, resolve_condition
from ketcheck.model import Route, Severity
from ketcheck.patient import ConditionEntry, ConditionStatus
from ketcheck.sources.fhir_context import context_from_fhir
from ketcheck.sources.patient import check_object, condition_arguments

CLEAN = "atorvastatin"  # no known interaction: any finding comes from the patient context


@pytest.fixture(scope="module")
def tables() -> PatientTables:
    return load_patient_tables()


def read(text: str, tables: PatientTables) -> tuple[str, str | None]:
    got = resolve_condition(ConditionEntry(text=text), tables, index=0)
    return got.status.value, got.condition


@pytest.mark.parametrize(
    ("text", "status", "condition"),
    [
        ("pregnant", "resolved", "pregnancy"),
        ("6 weeks pregnant", "resolved", "pregnancy"),
        ("Pregnant", "resolved", "pregnancy"),
        ("pregnent", "resolved", "pregnancy"),  # careful fuzzy: a clear single winner
        ("lactating", "resolved", "breastfeeding"),
        ("obstructive sleep apnoea", "resolved", "osa"),
        ("OSA on CPAP", "resolved", "osa"),
        ("severe OSA", "resolved", "osa"),
        ("schizoaffective disorder", "resolved", "psychosis-history"),
        ("hx of psychosis", "resolved", "psychosis-history"),
        ("psychosis in remission", "resolved", "psychosis-history"),
        ("mother has schizophrenia", "resolved", "psychosis-family"),
        ("family history of psychosis", "resolved", "psychosis-family"),
        ("seizures", "resolved", "seizure-disorder"),
        ("epilepsy (on Keppra)", "resolved", "seizure-disorder"),
        ("haemorrhagic stroke", "resolved", "ich-history"),
        ("high BP", "resolved", "htn"),
        ("age 70", "resolved", "older-adult"),
        ("17 y/o", "resolved", "minor"),
        ("BMI 42", "resolved", "obesity"),
        ("PTSD", "resolved", "anxiety"),
        ("BP 138/88", "resolved", "bp-reading"),
        ("150/95 mmHg", "resolved", "bp-reading"),
        ("SBP 172", "resolved", "bp-reading"),
        ("denies mania", "negated", None),
        ("no history of psychosis", "negated", None),
        ("denies SI", "negated", None),
        ("not pregnant", "negated", None),
        ("r/o bipolar", "unconfirmed", None),
        ("? psychosis", "unconfirmed", None),
        ("family history of bipolar", "negated", None),
        ("psychosis: no", "negated", None),
        ("zorbitis", "unresolved", None),
        ("BP", "unresolved", None),
        ("BP1", "unresolved", None),
        ("bp 1650/100", "unresolved", None),
        ("IC", "ambiguous", None),
        ("stroke", "ambiguous", None),
        ("", "unresolved", None),
    ],
)
def test_condition_text_is_read_safely(
    tables: PatientTables, text: str, status: str, condition: str | None
) -> None:
    assert read(text, tables) == (status, condition)


@pytest.mark.parametrize("text", ["BP", "BP1", "bp 2", "BP 138/88", "bp: 150 / 95", "BP II"])
def test_bp_never_means_bipolar(tables: PatientTables, text: str) -> None:
    got = resolve_condition(ConditionEntry(text=text), tables, index=0)
    assert got.condition not in ("bipolar", "mania-current")


def test_negated_entry_says_what_it_denies(tables: PatientTables) -> None:
    got = resolve_condition(ConditionEntry(text="denies mania"), tables, index=0)
    assert got.negates == "mania-current" and got.condition is None and got.reason


def test_codes_win_and_icd10_matches_by_longest_prefix(tables: PatientTables) -> None:
    def coded(*codes: str) -> str | None:
        entry = ConditionEntry(text="(no text)", codes=codes)
        return resolve_condition(entry, tables, index=0).condition

    assert coded("icd10:F31.13") == "mania-current"  # F31.1 beats F31
    assert coded("icd10:F31.9") == "bipolar"
    assert coded("snomed:77386006") == "pregnancy"
    assert coded("icd10:I71.40") == "aneurysm"


def test_every_phrase_resolves_to_its_own_condition(tables: PatientTables) -> None:
    for rule in tables.conditions.values():
        for phrase in (*rule.names, *rule.abbreviations):
            got = resolve_condition(ConditionEntry(text=phrase), tables, index=0)
            assert got.status is ConditionStatus.RESOLVED, phrase
            expected = {rule.id, rule.history, rule.family} - {None}
            assert got.condition in expected, (phrase, got.condition)


def _condition_severity(text: str, route: str) -> Severity | None:
    rep = check([CLEAN], conditions=[text], route=route)
    found = [f.severity for f in rep.findings if f.kind == "condition"]
    return max(found) if found else None


def test_every_condition_rule_grades_by_the_label_of_its_route(tables: PatientTables) -> None:
    for rule in tables.conditions.values():
        for route in Route:
            want = rule.severity_for(route)
            got = _condition_severity(rule.names[0], route.value)
            if rule.history is not None and rule.names[0].startswith("history"):
                continue
            expected = want if want > Severity.NONE else None
            if rule.recent_weeks is not None:
                continue  # graded by date below
            assert got == expected, (rule.id, route, got, want)


@pytest.mark.parametrize(
    ("text", "route", "severity"),
    [
        ("cerebral aneurysm", "intranasal", "contraindicated"),
        ("pregnant", "iv", "contraindicated"),
        ("lactating", "intranasal", "major"),
        ("schizophrenia", "iv", "major"),
        ("ischaemic stroke", "iv", "contraindicated"),
        ("ischaemic stroke", "intranasal", "major"),
        ("uncontrolled hypertension", "iv", "contraindicated"),
        ("uncontrolled hypertension", "intranasal", "major"),
        ("NSTEMI 3 weeks ago", "intranasal", "contraindicated"),
        ("MI 20 weeks ago", "iv", "major"),
        ("history of MI", "iv", "major"),
        ("MI", "iv", "contraindicated"),  # undated: graded as recent until dated
        ("ketamine abuse", "iv", "contraindicated"),
        ("history of ketamine abuse", "iv", "major"),
        ("alcohol use disorder", "iv", "contraindicated"),
        ("alcoholism in recovery", "iv", "moderate"),
        ("glaucoma", "iv", "major"),
        ("depression", "iv", None),
    ],
)
def test_condition_grades(text: str, route: str, severity: str | None) -> None:
    got = _condition_severity(text, route)
    assert (got.label if got is not None else None) == severity


def test_condition_finding_says_what_to_do_cites_and_shows_disagreement() -> None:
    rep = check([CLEAN], conditions=["uncontrolled hypertension"], route="iv")
    (f,) = [f for f in rep.findings if f.kind == "condition"]
    assert f.management and f.references and f.conditions == ("htn-uncontrolled",)
    assert f.disagreement and "Spravato" in f.disagreement
    assert not f.ingredients and f.inputs == ("uncontrolled hypertension",)


@pytest.mark.parametrize(
    ("bp", "route", "severity"),
    [
        ("118/76", "iv", None),
        ("139/89", "iv", None),
        ("140/80", "iv", "moderate"),
        ("130/90", "iv", "moderate"),
        ("165/95", "iv", "major"),
        ("150/101", "iv", "contraindicated"),
        ("150/101", "intranasal", "major"),
        ("182/104", "iv", "contraindicated"),
        ("182/104", "intranasal", "contraindicated"),
        ("SBP 172", "iv", "major"),
    ],
)
def test_bp_ladder(bp: str, route: str, severity: str | None) -> None:
    rep = check([CLEAN], bp=bp, route=route)
    assert rep.bp is not None
    found = [f.severity for f in rep.findings if "bp-reading" in f.conditions]
    got = max(found).label if found else None
    assert got == severity


@pytest.mark.parametrize("bad", ["1650/100", "100/165", "abc", "120/", "90/90", "20/10"])
def test_implausible_bp_is_rejected(tables: PatientTables, bad: str) -> None:
    assert isinstance(parse_bp(bad, tables), str)
    with pytest.raises(InputError):
        reading(bad, tables)


def test_unknown_condition_makes_the_check_incomplete() -> None:
    rep = check([CLEAN], conditions=["zorbitis"])
    assert rep.summary.complete is False and rep.summary.exit_code == 3
    assert rep.conditions[0].status is ConditionStatus.UNRESOLVED


def test_negated_condition_keeps_the_check_complete() -> None:
    rep = check([CLEAN], conditions=["denies mania"])
    assert rep.summary.complete is True and rep.summary.exit_code == 0


AMPLIFIED = [
    # (amplifier id, condition, drug)
    ("pressor-with-cardiovascular-risk", "uncontrolled hypertension", "Adderall"),
    ("pressor-with-cardiovascular-risk", "aortic aneurysm", "pseudoephedrine"),
    ("pressor-smaller-with-cardiovascular-risk", "heart failure", "bupropion"),
    ("pressor-with-controlled-hypertension", "hypertension", "methylphenidate"),
    ("thyroid-with-thyrotoxicosis", "hyperthyroidism", "levothyroxine"),
    ("seizure-threshold", "epilepsy", "tramadol"),
    ("seizure-threshold", "seizures", "bupropion"),
    ("depressants-with-respiratory-risk", "OSA", "gabapentin"),
    ("depressants-with-respiratory-risk", "COPD", "oxycodone"),
    ("depressants-with-respiratory-risk", "age 70", "zolpidem"),
    ("stimulants-with-psychosis-or-mania", "schizophrenia", "Adderall"),
    ("stimulants-with-psychosis-or-mania", "bipolar disorder", "cannabis"),
    ("sedatives-with-hepatic-impairment", "cirrhosis", "diazepam"),
    ("gabapentinoids-with-renal-impairment", "CKD 4", "pregabalin"),
    ("misuse-with-substance-use", "opioid use disorder", "alprazolam"),
]


def _drug_severity(rep: Any, ingredient: str) -> Severity:
    return max(f.severity for f in rep.findings if ingredient in f.ingredients)


@pytest.mark.parametrize(
    ("amp", "condition", "drug"), AMPLIFIED, ids=[a[0] + ":" + a[2] for a in AMPLIFIED]
)
def test_amplifier_raises_the_drug_finding_and_names_the_condition(
    amp: str, condition: str, drug: str
) -> None:
    alone = check([drug])
    withc = check([drug], conditions=[condition])
    ing = alone.medications[0].ingredients[0]
    assert _drug_severity(withc, ing) > _drug_severity(alone, ing), (amp, condition, drug)
    named = [f for f in withc.findings if ing in f.ingredients and f.conditions]
    assert named and any(f.raised_from is not None for f in named)


def test_every_amplifier_has_a_test(tables: PatientTables) -> None:
    tested = {a[0] for a in AMPLIFIED} | {"seizure-no-hold"}
    assert {a.id for a in tables.amplifiers} <= tested


def test_seizure_disorder_suppresses_benzodiazepine_hold() -> None:
    rep = check(["Klonopin 0.5 mg BID"], conditions=["epilepsy"])
    (f,) = [f for f in rep.findings if "clonazepam" in f.ingredients and f.kind == "interaction"]
    assert f.hold is None and "seizure-disorder" in f.conditions
    assert not rep.schedule


def test_amplifier_never_lowers_a_grade() -> None:
    rep = check(["phenelzine"], conditions=["uncontrolled hypertension"])
    f = next(f for f in rep.findings if "phenelzine" in f.ingredients)
    assert f.severity >= Severity.MAJOR


def test_high_reading_amplifies_a_stimulant() -> None:
    rep = check(["Adderall"], bp="165/100")
    assert any("bp-reading" in f.conditions and f.ingredients for f in rep.findings)


def test_condition_arguments_split_on_comma_and_semicolon() -> None:
    got = [c.text for c in condition_arguments(["pregnant, OSA; epilepsy", " ", "HTN"])]
    assert got == ["pregnant", "OSA", "epilepsy", "HTN"]


def test_json_object_form_is_validated() -> None:
    given = check_object({"medications": [], "conditions": ["lactating"], "bp": "145/92"})
    assert [c.text for c in given.conditions] == ["lactating"] and given.bp == "145/92"
    assert (
        check_object({"medications": [], "bp": {"systolic": 150, "diastolic": 95}}).bp == "150/95"
    )
    for bad in ({"conditions": "x"}, {"conditions": [3]}, {"bp": 150}, {"medications": [], "x": 1}):
        with pytest.raises(InputError):
            check_object(bad)


def test_fhir_context_reads_conditions_observations_and_allergy() -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "Condition",
                    "clinicalStatus": {"coding": [{"code": "active"}]},
                    "code": {
                        "coding": [
                            {
                                "system": "http://snomed.info/sct",
                                "code": "78275009",
                                "display": "Obstructive sleep apnea syndrome",
                            }
                        ]
                    },
                }
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "clinicalStatus": {"coding": [{"code": "resolved"}]},
                    "code": {"text": "pregnant"},
                }
            },
            {
                "resource": {
                    "resourceType": "Condition",
                    "verificationStatus": {"coding": [{"code": "refuted"}]},
                    "code": {"text": "epilepsy"},
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
                    },
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "effectiveDateTime": "2026-11-23T08:00:00Z",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                    "component": [
                        {
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                            "valueQuantity": {"value": 152},
                        },
                        {
                            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                            "valueQuantity": {"value": 96},
                        },
                    ],
                }
            },
            {"resource": {"resourceType": "AllergyIntolerance", "code": {"text": "Ketamine"}}},
        ],
    }
    found = context_from_fhir(bundle)
    conditions, bp = found.conditions, found.bp
    assert bp == "152/96"
    texts = [(c.text, c.negated) for c in conditions]
    assert ("Obstructive sleep apnea syndrome", False) in texts
    assert ("epilepsy", True) in texts and ("allergic to ketamine", False) in texts
    assert all(t != "pregnant" or n is False for t, n in texts)  # the resolved one is dropped
    rep = check([CLEAN], conditions=conditions, bp=bp)
    read = {c.condition or c.negates for c in rep.conditions}
    assert {"osa", "pregnancy", "ketamine-allergy", "seizure-disorder"} <= read
    assert rep.summary.highest_severity is Severity.CONTRAINDICATED


def test_unknown_table_key_is_rejected(tables: PatientTables) -> None:
    from ketcheck.kb.load import data_root
    from ketcheck.kb.patient import read_patient_sources

    sources = read_patient_sources(data_root())
    sources["conditions.toml"]["condition"][0]["severty"] = "major"
    with pytest.raises(DataError, match="severty: unknown key"):
        build_patient_tables(sources)


def _cli(*args: str, stdin: str | None = None) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "NO_COLOR": "1"}
    p = subprocess.run(
        [sys.executable, "-m", "ketcheck", "check", "--format", "json", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    return p.returncode, json.loads(p.stdout) if p.stdout else {}


def test_cli_condition_and_bp_options() -> None:
    code, rep = _cli(
        "--condition", "pregnant; OSA", "--condition", "denies mania", "--bp", "150/95", CLEAN
    )
    assert [c["input"] for c in rep["conditions"]] == ["pregnant", "OSA", "denies mania"]
    assert rep["bp"]["systolic"] == 150 and rep["bp"]["severity"] == "moderate"
    assert code == 1


def test_cli_rejects_a_bad_bp_with_exit_2() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "ketcheck", "check", "--bp", "1650/100", CLEAN],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_cli_json_object_input() -> None:
    doc = {"medications": ["escitalopram 10 mg daily"], "conditions": ["lactating"], "bp": "145/92"}
    _, rep = _cli(stdin=json.dumps(doc))
    assert rep["conditions"][0]["condition"] == "breastfeeding"
    assert rep["bp"]["diastolic"] == 92
