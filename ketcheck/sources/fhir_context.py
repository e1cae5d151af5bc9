"""Patient context from FHIR R4: active Conditions, pregnancy and blood-pressure Observations,
and AllergyIntolerance to ketamine or esketamine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ketcheck.patient import ConditionEntry

SNOMED = "http://snomed.info/sct"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PREGNANCY_STATUS = "82810-3"
BREASTFEEDING_STATUS = "63895-7"
BP_PANEL = ("85354-9", "55284-4")
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
PREGNANT, NOT_PREGNANT = "77386006", "60001007"
KETAMINE_RXCUI = ("6130", "2283383")
INACTIVE = frozenset({"inactive", "resolved"})
HISTORY = frozenset({"remission"})
REFUTED = frozenset({"refuted", "entered-in-error"})
UNCERTAIN = frozenset({"unconfirmed", "provisional", "differential"})


def _codes(concept: object) -> tuple[str, ...]:
    if not isinstance(concept, dict):
        return ()
    out = []
    for c in concept.get("coding", []) or []:
        if not isinstance(c, dict) or not isinstance(c.get("code"), str):
            continue
        if c.get("system") == SNOMED:
            out.append(f"snomed:{c['code']}")
        elif c.get("system") in ICD10:
            out.append(f"icd10:{c['code']}")
    return tuple(out)


def _text(concept: object) -> str | None:
    if not isinstance(concept, dict):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return str(concept["text"]).strip()
    for c in concept.get("coding", []) or []:
        if isinstance(c, dict) and isinstance(c.get("display"), str) and c["display"].strip():
            return str(c["display"]).strip()
    return None


def _status(resource: Mapping[str, Any], key: str) -> str:
    concept = resource.get(key)
    if isinstance(concept, dict):
        for c in concept.get("coding", []) or []:
            if isinstance(c, dict) and isinstance(c.get("code"), str):
                return str(c["code"]).lower()
    return ""


def _loinc(concept: object) -> set[str]:
    if not isinstance(concept, dict):
        return set()
    return {
        str(c.get("code"))
        for c in concept.get("coding", []) or []
        if isinstance(c, dict) and c.get("system") == LOINC
    }


def _resources(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if doc.get("resourceType") == "Bundle":
        return [
            e["resource"]
            for e in doc.get("entry", []) or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
    return [doc]


def _condition(r: Mapping[str, Any]) -> ConditionEntry | None:
    clinical = _status(r, "clinicalStatus")
    verification = _status(r, "verificationStatus")
    if clinical in INACTIVE or verification == "entered-in-error":
        return None
    code = r.get("code")
    text = _text(code) or f"Condition/{r.get('id', '?')} (no text)"
    if verification in UNCERTAIN:
        text = f"r/o {text}"
    return ConditionEntry(
        text=text,
        codes=_codes(code),
        history=clinical in HISTORY,
        negated=verification == "refuted",
    )


def _observation(r: Mapping[str, Any]) -> tuple[ConditionEntry | None, str | None, str]:
    """(condition, blood pressure text, effective time) from one Observation."""
    if str(r.get("status", "")).lower() in ("entered-in-error", "cancelled"):
        return None, None, ""
    when = str(r.get("effectiveDateTime") or r.get("issued") or "")
    codes = _loinc(r.get("code"))
    value = r.get("valueCodeableConcept")
    if PREGNANCY_STATUS in codes:
        snomed = {c.split(":", 1)[1] for c in _codes(value) if c.startswith("snomed:")}
        if PREGNANT in snomed:
            return ConditionEntry(text="pregnant", codes=(f"snomed:{PREGNANT}",)), None, when
        if NOT_PREGNANT in snomed:
            return ConditionEntry(text="pregnant", negated=True), None, when
        text = _text(value)
        return (ConditionEntry(text=f"pregnancy status: {text}") if text else None), None, when
    if BREASTFEEDING_STATUS in codes:
        text = (_text(value) or "").lower()
        if text and ("not" in text or text.strip() == "no"):
            return ConditionEntry(text="breastfeeding", negated=True), None, when
        return (ConditionEntry(text="breastfeeding") if text else None), None, when
    if codes & set(BP_PANEL) or codes & {SYSTOLIC}:
        systolic = diastolic = None
        for comp in r.get("component", []) or []:
            if not isinstance(comp, dict):
                continue
            q = comp.get("valueQuantity")
            value_ = q.get("value") if isinstance(q, dict) else None
            if not isinstance(value_, int | float):
                continue
            c = _loinc(comp.get("code"))
            if SYSTOLIC in c:
                systolic = round(value_)
            elif DIASTOLIC in c:
                diastolic = round(value_)
        q = r.get("valueQuantity")
        if systolic is None and SYSTOLIC in codes and isinstance(q, dict):
            v = q.get("value")
            systolic = round(v) if isinstance(v, int | float) else None
        if systolic is not None:
            bp = f"{systolic}/{diastolic}" if diastolic is not None else f"SBP {systolic}"
            return None, bp, when
    return None, None, when


def _allergy(r: Mapping[str, Any]) -> ConditionEntry | None:
    if _status(r, "clinicalStatus") in INACTIVE or _status(r, "verificationStatus") in REFUTED:
        return None
    code = r.get("code")
    rxcuis = {
        str(c.get("code"))
        for c in (code.get("coding", []) if isinstance(code, dict) else []) or []
        if isinstance(c, dict) and c.get("system") == RXNORM
    }
    text = (_text(code) or "").lower()
    if rxcuis & set(KETAMINE_RXCUI) or any(w in text for w in ("ketamine", "spravato", "ketalar")):
        return ConditionEntry(text="allergic to ketamine")
    return None


def context_from_fhir(doc: Mapping[str, Any]) -> tuple[tuple[ConditionEntry, ...], str | None]:
    """Conditions (document order) and the latest blood pressure found in a FHIR resource."""
    conditions: list[ConditionEntry] = []
    readings: list[tuple[str, str]] = []
    for r in _resources(doc):
        kind = r.get("resourceType")
        if kind == "Condition":
            entry = _condition(r)
        elif kind == "AllergyIntolerance":
            entry = _allergy(r)
        elif kind == "Observation":
            entry, bp, when = _observation(r)
            if bp is not None:
                readings.append((when, bp))
        else:
            continue
        if entry is not None:
            conditions.append(entry)
    bp = max(readings)[1] if readings else None
    return tuple(conditions), bp
