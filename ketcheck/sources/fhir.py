"""Read medication entries out of FHIR R4/R5 resources: every medication record, nothing dropped.

Read: MedicationStatement, MedicationRequest, MedicationDispense and MedicationAdministration
(`medication[x]`: a CodeableConcept, a reference to a Medication in the input or contained, or
an R5 CodeableReference), Medication resources no record refers to, List resources of them,
nested Bundles and contained resources. Skipped: records marked entered-in-error, cancelled or
not-done. Anything else that looks like a medication record becomes an entry that is reported
unresolved with the reason, so the check is incomplete rather than silently short.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ketcheck.errors import InputError
from ketcheck.model import Entry

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
RECORDS = (
    "MedicationStatement",
    "MedicationRequest",
    "MedicationDispense",
    "MedicationAdministration",
)
SKIPPED_STATUSES = frozenset({"entered-in-error", "cancelled", "not-done"})
# Statuses that mean "no longer current" per record type; a completed dispense was handed over
# and is being taken, while a completed administration was given in the past.
RECENT_STATUSES: Mapping[str, frozenset[str]] = {
    "MedicationStatement": frozenset({"stopped", "completed", "not-taken"}),
    "MedicationRequest": frozenset({"stopped", "completed"}),
    "MedicationDispense": frozenset({"stopped", "declined"}),
    "MedicationAdministration": frozenset({"stopped", "completed"}),
}
_MEDICATION_KEYS = ("medicationCodeableConcept", "medicationReference", "medication")
_LIST_WORDS = ("medic", "drug", "prescri")
_READS = "MedicationStatement, MedicationRequest, MedicationDispense, MedicationAdministration"

Rxnorm = Callable[[str], str | None] | None


def is_fhir(doc: object) -> bool:
    """True for a FHIR resource or Bundle (anything with a resourceType)."""
    return isinstance(doc, dict) and isinstance(doc.get("resourceType"), str)


def entries_from_fhir(doc: Mapping[str, Any], *, rxnorm: Rxnorm = None) -> list[Entry]:
    """Entries in document order; an explicit "no medications" List gives an empty list.

    Raises InputError when the input holds no medication at all and does not say so.
    """
    kind = doc.get("resourceType")
    reader = _Reader(rxnorm=rxnorm)
    try:
        reader.index_all(doc)
        reader.walk(doc, container=None)
    except RecursionError:
        raise InputError(
            "FHIR input nests bundles, lists or contained resources too deeply"
        ) from None
    if reader.out:
        return reader.out
    if reader.nil_known:
        return []
    if reader.skipped:
        what = ", ".join(f"{n} {status}" for status, n in sorted(reader.skipped.items()))
        raise InputError(f"FHIR {kind} holds no current medication (skipped: {what})")
    if reader.empty_reasons:
        raise InputError(
            f"FHIR List is empty ({'; '.join(reader.empty_reasons)}), which does not say the "
            "patient takes no medications"
        )
    if kind in ("Bundle", "List"):
        raise InputError(f"FHIR {kind} holds no medication resource ({_READS} or Medication)")
    raise InputError(f"FHIR {kind} is not supported; send a {_READS}, List or Bundle")


@dataclass(slots=True, kw_only=True)
class _Reader:
    """One pass over a document: resources by reference, then entries in document order."""

    rxnorm: Rxnorm
    index: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)
    keys_of: dict[int, set[str]] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    out: list[Entry] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    nil_known: bool = False
    empty_reasons: list[str] = field(default_factory=list)

    def index_all(self, resource: Mapping[str, Any], full_url: object = None) -> None:
        """Index every resource by fullUrl and Type/id, and note which are referred to."""
        kind, rid = resource.get("resourceType"), resource.get("id")
        local = f"{kind}/{rid}" if isinstance(kind, str) and isinstance(rid, str) else None
        if isinstance(full_url, str):
            self.index.setdefault(full_url, resource)
        if local is not None:
            self.index.setdefault(local, resource)
        if kind == "Medication":  # only a Medication needs to know whether it is referred to
            keys = {local} if local else set()
            if isinstance(full_url, str):
                keys.add(_short(full_url))
            self.keys_of[id(resource)] = keys
        elif kind in RECORDS:
            reference = _medication_reference(resource)
            if reference is not None:
                self.referenced.add(_short(reference))
        elif kind == "Bundle":
            for e in _entries(resource):
                if isinstance(e.get("resource"), dict):
                    self.index_all(e["resource"], e.get("fullUrl"))

    def walk(self, resource: Mapping[str, Any], *, container: Mapping[str, Any] | None) -> None:
        """Add the entries of one resource (and what it holds), each resource once."""
        if id(resource) in self.seen:
            return
        self.seen.add(id(resource))
        kind = resource.get("resourceType")
        if kind == "Bundle":
            for e in _entries(resource):
                if isinstance(e.get("resource"), dict):
                    self.walk(e["resource"], container=None)
        elif kind == "List":
            self._list(resource, container)
        elif kind in RECORDS:
            self._record(resource, container)
        elif kind == "Medication":
            if not self._is_referenced(resource, container):
                self._medication(resource, container)
        elif _looks_like_medication(resource):
            concept, _ = self._concept(resource, container)
            name = _concept_name(concept, None)
            label = f"{kind}/{resource.get('id', '?')}"
            self.out.append(
                Entry(
                    text=name.replace("\x00", "").strip() if name and name.strip() else label,
                    problem=f"FHIR {kind} ({label}) is not a resource ketcheck reads; "
                    "check it by hand",
                )
            )
        if kind not in RECORDS:
            for c in _contained(resource):
                if c.get("resourceType") != "Medication":
                    self.walk(c, container=resource)

    def _is_referenced(self, med: Mapping[str, Any], container: Mapping[str, Any] | None) -> bool:
        if container is not None:
            return True  # a contained Medication is its container's to name
        return bool(self.keys_of.get(id(med), set()) & self.referenced)

    def _record(self, r: Mapping[str, Any], container: Mapping[str, Any] | None) -> None:
        kind = str(r.get("resourceType"))
        status = str(r.get("status", "")).strip().lower()
        if status in SKIPPED_STATUSES:
            self.skipped[status] = self.skipped.get(status, 0) + 1
            return
        concept, problem = self._concept(r, container)
        recent = status in RECENT_STATUSES.get(kind, frozenset())
        self.out.append(self._entry(r, concept, problem, recent=recent))

    def _medication(self, med: Mapping[str, Any], container: Mapping[str, Any] | None) -> None:
        concept = _medication_concept(med)
        self.out.append(self._entry(med, concept, None, recent=False))

    def _entry(
        self, r: Mapping[str, Any], concept: object, problem: str | None, *, recent: bool
    ) -> Entry:
        if problem is None:
            name = _concept_name(concept, self.rxnorm)
            text = name.replace("\x00", "").strip() if name is not None else ""
            if text:
                return Entry(text=text, recent=recent, rxcui=_rxnorm_code(concept))
        label = f"{r.get('resourceType')}/{r.get('id', '?')}"
        if problem is None:
            problem = f"{label} names no medication ketcheck can read" + _codes_shown(concept)
        return Entry(text=label, recent=recent, problem=problem)

    def _concept(
        self, r: Mapping[str, Any], container: Mapping[str, Any] | None
    ) -> tuple[object, str | None]:
        """The record's medication as a CodeableConcept, or why it cannot be found."""
        concept = r.get("medicationCodeableConcept")
        reference = r.get("medicationReference")
        medication = r.get("medication")  # R5: a CodeableReference
        if concept is None and isinstance(medication, dict):
            concept = medication.get("concept")
            reference = reference or medication.get("reference")
        if concept is not None or not isinstance(reference, dict):
            return concept, None
        target = self._follow(reference.get("reference"), r, container)
        if target is not None:
            self.seen.add(id(target))
            return _medication_concept(target), None
        if isinstance(reference.get("display"), str) and reference["display"].strip():
            return {"text": reference["display"]}, None
        label = f"{r.get('resourceType')}/{r.get('id', '?')}"
        return None, f"{label}: its medication {reference.get('reference')!r} is not in the input"

    def _follow(
        self, ref: object, r: Mapping[str, Any], container: Mapping[str, Any] | None
    ) -> Mapping[str, Any] | None:
        if not isinstance(ref, str) or not ref.strip():
            return None
        if ref.startswith("#"):
            for holder in (r, container):
                for c in _contained(holder):
                    if c.get("id") == ref[1:]:
                        return c
            return None
        return self.index.get(ref) or self.index.get(_short(ref))

    def _list(self, lst: Mapping[str, Any], container: Mapping[str, Any] | None) -> None:
        status = str(lst.get("status", "")).strip().lower()
        if status == "entered-in-error":
            self.skipped[status] = self.skipped.get(status, 0) + 1
            return
        reason = lst.get("emptyReason")
        if isinstance(reason, dict):
            codes = [c.get("code") for c in _codings(reason)]
            if "nilknown" in codes:
                self.nil_known = True
            else:
                shown = reason.get("text") or ", ".join(str(c) for c in codes if c) or "no reason"
                self.empty_reasons.append(str(shown))
        about_medication = _names_medication(lst)
        for n, item in enumerate(lst.get("entry", []) or [], start=1):
            if not isinstance(item, dict) or item.get("deleted") is True:
                continue
            ref = item.get("item")
            if not isinstance(ref, dict):
                continue
            target = self._follow(ref.get("reference"), lst, container)
            if target is not None:
                if target.get("resourceType") == "Medication":
                    if id(target) not in self.seen:
                        self.seen.add(id(target))
                        self._medication(target, lst)
                else:
                    self.walk(target, container=lst)
                continue
            reference = ref.get("reference")
            points_to_medication = isinstance(reference, str) and _short(reference).startswith(
                "Medication"
            )
            if not (about_medication or points_to_medication):
                continue
            display = ref.get("display")
            if isinstance(display, str) and display.strip():
                self.out.append(Entry(text=display.replace("\x00", "").strip()))
            else:
                self.out.append(
                    Entry(
                        text=f"List/{lst.get('id', '?')} item {n}",
                        problem=f"the List item refers to {reference!r}, which is not in the input",
                    )
                )


def _entries(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if resource.get("resourceType") != "Bundle":
        return []
    return [e for e in resource.get("entry", []) or [] if isinstance(e, dict)]


def _contained(resource: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if resource is None:
        return []
    return [c for c in resource.get("contained", []) or [] if isinstance(c, dict)]


def _short(ref: str) -> str:
    """`Type/id` of a reference (a full URL or a versioned one), else the reference itself."""
    parts = ref.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else ref


def _medication_reference(resource: Mapping[str, Any]) -> str | None:
    reference = resource.get("medicationReference")
    medication = resource.get("medication")
    if not isinstance(reference, dict) and isinstance(medication, dict):
        reference = medication.get("reference")
    ref = reference.get("reference") if isinstance(reference, dict) else None
    return ref if isinstance(ref, str) and not ref.startswith("#") else None


def _looks_like_medication(resource: Mapping[str, Any]) -> bool:
    kind = str(resource.get("resourceType", ""))
    return kind.startswith("Medication") or any(k in resource for k in _MEDICATION_KEYS)


def _names_medication(lst: Mapping[str, Any]) -> bool:
    words = [str(lst.get("title", ""))]
    code = lst.get("code")
    if isinstance(code, dict):
        words.append(str(code.get("text", "")))
        words.extend(str(c.get("display", "")) for c in _codings(code))
    text = " ".join(words).lower()
    return any(w in text for w in _LIST_WORDS)


def _medication_concept(med: Mapping[str, Any]) -> object:
    """A Medication's code, or a name built from its ingredients when it has none."""
    code = med.get("code")
    if isinstance(code, dict) and (code.get("text") or code.get("coding")):
        return code
    names = []
    for ing in med.get("ingredient", []) or []:
        if not isinstance(ing, dict):
            continue
        item = ing.get("itemCodeableConcept")
        if item is None and isinstance(ing.get("item"), dict):
            item = ing["item"].get("concept")  # R5: a CodeableReference
        name = _concept_name(item, None)
        if name is None:
            return None  # one unnamed ingredient: never a name for part of the product
        names.append(name)
    return {"text": " / ".join(names)} if names else code


def _codings(concept: object) -> list[Mapping[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding", []) or [] if isinstance(c, dict)]


def _rxnorm_code(concept: object) -> str | None:
    for c in _codings(concept):
        if c.get("system") == RXNORM and isinstance(c.get("code"), str) and c["code"].strip():
            return str(c["code"]).strip()
    return None


def _codes_shown(concept: object) -> str:
    shown = [f"{c.get('system', '?')} {c.get('code')}" for c in _codings(concept) if c.get("code")]
    return f" (coded only as {'; '.join(shown[:3])})" if shown else ""


def _concept_name(concept: object, rxnorm: Rxnorm) -> str | None:
    if not isinstance(concept, dict):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text
    codings = sorted(_codings(concept), key=lambda c: c.get("system") != RXNORM)
    for c in codings:
        if isinstance(c.get("display"), str) and c["display"].strip():
            return str(c["display"])
    code = _rxnorm_code(concept)
    if code is not None:
        known = rxnorm(code) if rxnorm else None
        return known or f"RxNorm {code}"
    return None
