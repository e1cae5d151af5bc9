"""Read medication entries out of FHIR R4 MedicationStatement, MedicationRequest and Bundle."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ketcheck.errors import InputError
from ketcheck.model import Entry

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MED_TYPES = ("MedicationStatement", "MedicationRequest")
RECENT_STATUSES = frozenset({"stopped", "completed", "cancelled", "not-taken"})


def is_fhir(doc: object) -> bool:
    """True for a FHIR resource or Bundle (anything with a resourceType)."""
    return isinstance(doc, dict) and isinstance(doc.get("resourceType"), str)


def entries_from_fhir(
    doc: Mapping[str, Any], *, rxnorm: Callable[[str], str | None] | None = None
) -> list[Entry]:
    """Entries in document order; entered-in-error is skipped, stopped/completed marked recent."""
    kind = doc.get("resourceType")
    if kind == "Bundle":
        index = _bundle_index(doc)
        resources = [e.get("resource") for e in doc.get("entry", []) or [] if isinstance(e, dict)]
        meds = [r for r in resources if isinstance(r, dict) and r.get("resourceType") in MED_TYPES]
        if not meds:
            raise InputError("FHIR Bundle holds no MedicationStatement or MedicationRequest")
        out = []
        for r in meds:
            entry = _entry(r, index, rxnorm)
            if entry is not None:
                out.append(entry)
        return out
    if kind in MED_TYPES:
        entry = _entry(doc, {}, rxnorm)
        return [entry] if entry is not None else []
    raise InputError(
        f"FHIR {kind} is not supported; send a MedicationStatement, MedicationRequest or Bundle"
    )


def _bundle_index(bundle: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for e in bundle.get("entry", []) or []:
        if not isinstance(e, dict):
            continue
        r = e.get("resource")
        if not isinstance(r, dict) or r.get("resourceType") != "Medication":
            continue
        if isinstance(e.get("fullUrl"), str):
            index[e["fullUrl"]] = r
        if isinstance(r.get("id"), str):
            index[f"Medication/{r['id']}"] = r
    return index


def _entry(
    resource: Mapping[str, Any],
    index: Mapping[str, Mapping[str, Any]],
    rxnorm: Callable[[str], str | None] | None,
) -> Entry | None:
    status = str(resource.get("status", "")).lower()
    if status == "entered-in-error":
        return None
    concept = resource.get("medicationCodeableConcept")
    medication = resource.get("medication")  # R5: a CodeableReference
    reference = resource.get("medicationReference")
    if concept is None and isinstance(medication, dict):
        concept = medication.get("concept")
        reference = reference or medication.get("reference")
    if concept is None and isinstance(reference, dict):
        target = _follow(reference.get("reference"), resource, index)
        if target is not None:
            concept = target.get("code")
        elif isinstance(reference.get("display"), str):
            concept = {"text": reference["display"]}
    name = _concept_name(concept, rxnorm)
    if name is None:
        rid = resource.get("id", "?")
        name = f"{resource.get('resourceType')}/{rid} (no medication name)"
    return Entry(
        text=name.replace("\x00", "").strip(),
        recent=status in RECENT_STATUSES,
        rxcui=_rxnorm_code(concept),
    )


def _rxnorm_code(concept: object) -> str | None:
    if not isinstance(concept, dict):
        return None
    for c in concept.get("coding", []) or []:
        if isinstance(c, dict) and c.get("system") == RXNORM and isinstance(c.get("code"), str):
            return str(c["code"])
    return None


def _follow(
    ref: object, resource: Mapping[str, Any], index: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    if not isinstance(ref, str):
        return None
    if ref.startswith("#"):
        for c in resource.get("contained", []) or []:
            if isinstance(c, dict) and c.get("id") == ref[1:]:
                return c
        return None
    return index.get(ref)


def _concept_name(concept: object, rxnorm: Callable[[str], str | None] | None) -> str | None:
    if not isinstance(concept, dict):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text
    codings = [c for c in concept.get("coding", []) or [] if isinstance(c, dict)]
    codings.sort(key=lambda c: c.get("system") != RXNORM)
    for c in codings:
        if isinstance(c.get("display"), str) and c["display"].strip():
            return str(c["display"])
    for c in codings:
        code = c.get("code")
        if c.get("system") == RXNORM and isinstance(code, str):
            known = rxnorm(code) if rxnorm else None
            return known or f"RxNorm {code}"
    return None
