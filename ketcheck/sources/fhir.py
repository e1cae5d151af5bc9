"""Read medication entries out of FHIR R4/R5 resources: every medication record, nothing dropped.

Read: MedicationStatement, MedicationRequest, MedicationDispense and MedicationAdministration
(`medication[x]`: a CodeableConcept, a reference to a Medication in the input or contained, or
an R5 CodeableReference), Medication resources no record refers to, List resources of them,
nested Bundles and contained resources. Skipped, each named in a warning: records marked
entered-in-error, cancelled or not-done, and requests marked doNotPerform. Anything else that
looks like a medication record, a malformed member, a reference that matches two resources, or a
page of search results that was not given becomes an entry that is reported unresolved with the
reason, so the check is incomplete rather than silently short. Wrong JSON types and a bundle of
more than one patient are input errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ketcheck.errors import InputError
from ketcheck.model import Entry

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
LIST_USE = "http://terminology.hl7.org/CodeSystem/list-example-use-codes"
RECORDS = (
    "MedicationStatement",
    "MedicationRequest",
    "MedicationDispense",
    "MedicationAdministration",
)
SKIPPED_STATUSES = frozenset({"entered-in-error", "cancelled", "not-done"})
DO_NOT_PERFORM = "do-not-perform"
# Statuses that mean "no longer current" per record type; a completed dispense was handed over
# and is being taken, while a completed administration was given in the past.
RECENT_STATUSES: Mapping[str, frozenset[str]] = {
    "MedicationStatement": frozenset({"stopped", "completed", "not-taken"}),
    "MedicationRequest": frozenset({"stopped", "completed"}),
    "MedicationDispense": frozenset({"stopped", "declined"}),
    "MedicationAdministration": frozenset({"stopped", "completed"}),
}
# List.code values that say the list is of medicines (LOINC document sections and HL7's use codes).
MEDICATION_LIST_CODES = frozenset(
    {
        (LOINC, "10160-0"),  # History of Medication use Narrative
        (LOINC, "10183-2"),  # Hospital discharge medications Narrative
        (LOINC, "29549-3"),  # Medication administered Narrative
        (LOINC, "42346-7"),  # Medications on admission (narrative)
        (LOINC, "52471-0"),  # Medications
        (LOINC, "56445-0"),  # Medication summary Document
        (LOINC, "57828-6"),  # Prescription list
        (LOINC, "75311-1"),  # Discharge medications Narrative
        (LIST_USE, "medications"),
    }
)
# List.code values that say the list is of something else: its display-only items are not read.
OTHER_LIST_CODES = frozenset(
    {
        (LOINC, "11450-4"),  # Problem list - Reported
        (LOINC, "48765-2"),  # Allergies and adverse reactions Document
        (LOINC, "10157-6"),  # History of family member diseases Narrative
        (LIST_USE, "problems"),
        (LIST_USE, "allergies"),
        (LIST_USE, "alerts"),
        (LIST_USE, "adverserxns"),
        (LIST_USE, "worklist"),
        (LIST_USE, "waiting"),
        (LIST_USE, "protocols"),
        (LIST_USE, "plans"),
    }
)
_MEDICATION_KEYS = ("medicationCodeableConcept", "medicationReference", "medication")
_LIST_WORDS = ("medic", "drug", "prescri", "meds", "rx", "pharm")
# Words of a List's title or code that say it lists something else: only then are its
# display-only items passed over ("Current meds" or "Home list" are read).
_OTHER_LIST_WORDS = (
    "problem",
    "allerg",
    "diagnos",
    "condition",
    "procedure",
    "immuni",
    "vaccin",
    "family",
    "encounter",
    "result",
    "observation",
    "appointment",
    "task",
    "patients",
)
_READS = "MedicationStatement, MedicationRequest, MedicationDispense, MedicationAdministration"
_SHOWN_PATIENTS = 3
# FHIR's RESTful URL: [base]/[Type]/[id], optionally versioned; the base is what a relative
# reference in the same entry is resolved against.
_RESTFUL = re.compile(r"^(https?://\S+?)/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(/_history/\S+)?$")

Rxnorm = Callable[[str], str | None] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FhirMedications:
    """The entries of a FHIR input, and warnings naming the records it holds but skips."""

    entries: list[Entry]
    warnings: tuple[str, ...] = ()


def is_fhir(doc: object) -> bool:
    """True for a FHIR resource or Bundle (anything with a resourceType)."""
    return isinstance(doc, dict) and isinstance(doc.get("resourceType"), str)


def entries_from_fhir(doc: Mapping[str, Any], *, rxnorm: Rxnorm = None) -> list[Entry]:
    """Entries in document order (the warnings of `read_fhir` left out)."""
    return read_fhir(doc, rxnorm=rxnorm).entries


def read_fhir(doc: Mapping[str, Any], *, rxnorm: Rxnorm = None) -> FhirMedications:
    """Entries in document order and the skip warnings; a "no medications" List gives no entries.

    Raises InputError when the input holds no medication at all and does not say so, covers more
    than one patient, or has a field of the wrong JSON type.
    """
    kind = doc.get("resourceType")
    reader = _Reader(rxnorm=rxnorm)
    try:
        reader.index_all(doc, base=None, container=None)
        reader.resolve_references()
        reader.walk(doc, container=None, base=None)
    except RecursionError:
        raise InputError(
            "FHIR input nests bundles, lists or contained resources too deeply"
        ) from None
    warnings = reader.warnings()
    if reader.out:
        return FhirMedications(entries=reader.out, warnings=warnings)
    if reader.nil_known:
        return FhirMedications(entries=[], warnings=warnings)
    if reader.skipped:
        what = ", ".join(f"{len(names)} {why}" for why, names in sorted(reader.skipped.items()))
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
    """Two passes over a document: index resources and references, then entries in order."""

    rxnorm: Rxnorm
    by_url: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    by_local: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    base_of: dict[int, str | None] = field(default_factory=dict)
    url_of: dict[int, str] = field(default_factory=dict)
    # (referring resource's base, reference) of every record's medication and every subject.
    medication_refs: list[tuple[str | None, str]] = field(default_factory=list)
    subject_refs: list[tuple[str | None, str]] = field(default_factory=list)
    patients: list[Mapping[str, Any]] = field(default_factory=list)
    referenced: set[int] = field(default_factory=set)
    self_links: set[str] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    out: list[Entry] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    nil_known: bool = False
    empty_reasons: list[str] = field(default_factory=list)

    def index_all(
        self, resource: Mapping[str, Any], *, base: str | None, container: object
    ) -> None:
        """Index resources by fullUrl and Type/id; note references to medicines and patients."""
        kind = resource.get("resourceType")
        for key in ("subject", "patient"):
            ref = _reference(resource.get(key))
            if ref is not None:
                self.subject_refs.append((base, ref))
        if kind in RECORDS:
            ref = _medication_reference(resource)
            if ref is not None:
                self.medication_refs.append((base, ref))
        elif kind == "Patient" and container is None:
            self.patients.append(resource)
        elif kind == "Bundle":
            for link in _array(resource, "link", _label(resource)):
                if isinstance(link, dict) and link.get("relation") == "self":
                    self.self_links.add(str(link.get("url", "")).strip())
            for e in _array(resource, "entry", _label(resource)):
                if not isinstance(e, dict) or not isinstance(e.get("resource"), dict):
                    continue  # reported by walk
                child, url = e["resource"], e.get("fullUrl")
                child_base = _base(url)
                self.base_of[id(child)] = child_base
                if isinstance(url, str) and url.strip():
                    self.url_of[id(child)] = _unversioned(url.strip())
                    self.by_url.setdefault(self.url_of[id(child)], []).append(child)
                local = _local(child)
                if local is not None:
                    self.by_local.setdefault(local, []).append(child)
                self.index_all(child, base=child_base, container=None)
        for c in _contained(resource):
            self.index_all(c, base=base, container=resource)

    def resolve_references(self) -> None:
        """Mark the Medications a record names, and refuse a bundle of more than one patient."""
        for base, ref in self.medication_refs:
            targets = self._targets(ref, base)
            if len(targets) == 1:
                local = _local(targets[0])
                copies = self.by_local.get(local, []) if local else []
                self.referenced.update(id(c) for c in [targets[0], *copies] if c == targets[0])
        found: dict[str, None] = {}
        for n, patient in enumerate(self.patients, start=1):
            found.setdefault(self._identity(patient, n), None)
        for base, ref in self.subject_refs:
            targets = self._targets(ref, base)
            if len(targets) == 1 and targets[0].get("resourceType") == "Patient":
                found.setdefault(self._identity(targets[0], 0), None)
            elif not targets and _short(ref).startswith("Patient/"):
                found.setdefault(_absolute(ref, base), None)
        # A bare Patient/p1 is the same patient as a full URL ending in it.
        tails = {_short(k) for k in found if "://" in k}
        patients = [k for k in found if "://" in k or k.startswith("urn:") or k not in tails]
        if len(patients) > 1:
            shown = ", ".join(patients[:_SHOWN_PATIENTS])
            more = "" if len(patients) <= _SHOWN_PATIENTS else ", …"
            raise InputError(
                f"the FHIR input covers {len(patients)} patients ({shown}{more}); `ketcheck check` "
                "reads one patient's medicines: split it per patient, or give `ketcheck batch` "
                "one JSON Lines record per patient"
            )

    def warnings(self) -> tuple[str, ...]:
        """One warning per reason a record was skipped, naming each record."""
        out = []
        for why, names in sorted(self.skipped.items()):
            counted = {n: names.count(n) for n in names}
            shown = "; ".join(n if k == 1 else f"{n} (x{k})" for n, k in counted.items())
            noun = "record" if len(names) == 1 else "records"
            out.append(f"FHIR: skipped {len(names)} {why} {noun}: {shown}")
        return tuple(out)

    def walk(
        self, resource: Mapping[str, Any], *, container: Mapping[str, Any] | None, base: str | None
    ) -> None:
        """Add the entries of one resource (and what it holds), each resource once."""
        if id(resource) in self.seen:
            return
        self.seen.add(id(resource))
        kind = resource.get("resourceType")
        if kind == "Bundle":
            self._bundle(resource)
        elif kind == "List":
            self._list(resource, container, base)
        elif kind in RECORDS:
            self._record(resource, container, base)
        elif kind == "Medication":
            if container is None and id(resource) not in self.referenced:
                self._medication(resource, None, base)
        elif _looks_like_medication(resource):
            concept, _ = self._concept(resource, container, base)
            name = _concept_name(concept, None)
            label = _label(resource)
            self.out.append(
                Entry(
                    text=_clean(name) if name and name.strip() else label,
                    problem=f"FHIR {kind} ({label}) is not a resource ketcheck reads; "
                    "check it by hand",
                )
            )
        # A record's contained Medication is read through its reference; anything else it
        # holds (a contained MedicationStatement, a List) is read as the input's own.
        for c in _contained(resource):
            if c.get("resourceType") != "Medication":
                self.walk(c, container=resource, base=base)

    def _bundle(self, bundle: Mapping[str, Any]) -> None:
        label = _label(bundle)
        for n, e in enumerate(_array(bundle, "entry", label), start=1):
            if not isinstance(e, dict):
                self._malformed(f"{label} entry {n}", e, "a Bundle entry")
                continue
            child = e.get("resource")
            if isinstance(child, dict):
                self.walk(child, container=None, base=self.base_of.get(id(child)))
            elif child is not None:
                self._malformed(f"{label} entry {n} resource", child, "a FHIR resource")
        for link in _array(bundle, "link", label):
            if not isinstance(link, dict) or link.get("relation") != "next":
                continue
            url = link.get("url")
            if isinstance(url, str) and url.strip() in self.self_links:
                continue  # that page is in the input too
            total = bundle.get("total")
            given = (
                f" ({total} in all)"
                if isinstance(total, int) and not isinstance(total, bool)
                else ""
            )
            self.out.append(
                Entry(
                    text=f"{label} next page",
                    problem=f"{label} is one page of a search result{given}: more records are on "
                    "a page that was not read (Bundle.link next); give every page",
                )
            )

    def _malformed(self, where: str, value: object, expected: str) -> None:
        self.out.append(
            Entry(
                text=where,
                problem=f"FHIR {where} is {_json_type(value)}, not {expected}: ketcheck cannot "
                "read it; check it by hand",
            )
        )

    def _skip(
        self,
        why: str,
        r: Mapping[str, Any],
        container: Mapping[str, Any] | None,
        base: str | None,
    ) -> None:
        label = _label(r)
        name = None
        if r.get("resourceType") != "List":
            concept, _ = self._concept(r, container, base)
            name = _concept_name(concept, self.rxnorm)
        shown = f"{_clean(name)} ({label})" if name and name.strip() else label
        self.skipped.setdefault(why, []).append(shown)

    def _record(
        self, r: Mapping[str, Any], container: Mapping[str, Any] | None, base: str | None
    ) -> None:
        kind = str(r.get("resourceType"))
        status = str(r.get("status", "")).strip().lower()
        if status in SKIPPED_STATUSES:
            self._skip(status, r, container, base)
            return
        do_not_perform = r.get("doNotPerform")
        if do_not_perform is not None and not isinstance(do_not_perform, bool):
            raise InputError(
                f"FHIR {_label(r)}: doNotPerform must be true or false, not "
                f"{_json_type(do_not_perform)}"
            )
        if do_not_perform:
            self._skip(DO_NOT_PERFORM, r, container, base)
            return
        concept, problem = self._concept(r, container, base)
        recent = status in RECENT_STATUSES.get(kind, frozenset())
        self.out.append(self._entry(r, concept, problem, recent=recent))

    def _medication(
        self, med: Mapping[str, Any], container: Mapping[str, Any] | None, base: str | None
    ) -> None:
        concept, problem = self._medication_concept(med, container, base)
        self.out.append(self._entry(med, concept, problem, recent=False))

    def _entry(
        self, r: Mapping[str, Any], concept: object, problem: str | None, *, recent: bool
    ) -> Entry:
        label = _label(r)
        if problem is None:
            name = _concept_name(concept, self.rxnorm)
            text = _clean(name) if name is not None else ""
            if text:
                return Entry(text=text, recent=recent, rxcui=_rxnorm_code(concept))
            problem = f"{label} names no medication ketcheck can read" + _codes_shown(concept)
        return Entry(text=label, recent=recent, problem=problem)

    def _concept(
        self, r: Mapping[str, Any], container: Mapping[str, Any] | None, base: str | None
    ) -> tuple[object, str | None]:
        """The record's medication as a CodeableConcept, or why it cannot be found."""
        label = _label(r)
        concept = _checked(r.get("medicationCodeableConcept"), f"{label} medicationCodeableConcept")
        reference = r.get("medicationReference")
        medication = r.get("medication")  # R5: a CodeableReference
        if concept is None and isinstance(medication, dict):
            concept = _checked(medication.get("concept"), f"{label} medication.concept")
            reference = reference or medication.get("reference")
        if concept is not None or not isinstance(reference, dict):
            return concept, None
        ref = reference.get("reference")
        targets = self._follow(ref, r, container, base)
        if len(targets) == 1:
            self.seen.add(id(targets[0]))
            return self._medication_concept(targets[0], r, self.base_of.get(id(targets[0]), base))
        if len(targets) > 1:
            return None, _clash(label, ref, targets)
        display = reference.get("display")
        if isinstance(display, str) and display.strip():
            return {"text": display}, None
        return None, f"{label}: its medication {ref!r} is not in the input"

    def _follow(
        self,
        ref: object,
        holder: Mapping[str, Any],
        container: Mapping[str, Any] | None,
        base: str | None,
    ) -> list[Mapping[str, Any]]:
        """Every distinct resource a reference can mean: none, one, or a clash of several."""
        if not isinstance(ref, str) or not ref.strip():
            return []
        ref = ref.strip()
        if ref.startswith("#"):
            found = [
                c for h in (holder, container) for c in _contained(h) if c.get("id") == ref[1:]
            ]
            return _distinct(found)
        return self._targets(ref, base)

    def _targets(self, ref: str, base: str | None) -> list[Mapping[str, Any]]:
        """Resolve as FHIR does: a URL or urn exactly, `Type/id` against the referrer's base.

        A resource given without a server address (no fullUrl, or a urn) also answers to its
        `Type/id`; more than one distinct answer is a clash for the caller to report.
        """
        ref = _unversioned(ref.strip())
        if ref.startswith("urn:"):
            return _distinct(self.by_url.get(ref, []))
        if "://" in ref:
            found = self.by_url.get(ref, [])
            if found:
                return _distinct(found)
            local = _short(ref)
            return _distinct(
                [r for r in self.by_local.get(local, []) if self.base_of.get(id(r)) is None]
            )
        if base is not None:
            found = self.by_url.get(f"{base}/{ref}", [])
            if found:
                return _distinct(found)
            return _distinct(
                [r for r in self.by_local.get(ref, []) if self.base_of.get(id(r)) is None]
            )
        return _distinct(self.by_local.get(ref, []))

    def _identity(self, patient: Mapping[str, Any], n: int) -> str:
        """Who a Patient resource is: its fullUrl, else its Type/id, else its place (n)."""
        url = self.url_of.get(id(patient))
        if url is not None:
            return url
        return _local(patient) or f"Patient resource {n} (no id)"

    def _medication_concept(
        self, med: Mapping[str, Any], container: Mapping[str, Any] | None, base: str | None
    ) -> tuple[object, str | None]:
        """A Medication's name: its code and every ingredient, or why it cannot be read.

        When the ingredients name more than the code ("Tylenol" with acetaminophen and codeine),
        the name is both, so no ingredient is lost and a code that disagrees shows in the check.
        """
        label = _label(med)
        code = _checked(med.get("code"), f"{label} code")
        names = []
        for n, ing in enumerate(_array(med, "ingredient", label), start=1):
            if not isinstance(ing, dict):
                return None, (
                    f"{label}: ingredient {n} is {_json_type(ing)}, not an object, so "
                    "ketcheck cannot read what the medicine holds"
                )
            name, problem = self._ingredient(ing, f"{label} ingredient {n}", med, container, base)
            if problem is not None:
                return None, problem
            names.append(name)
        if not names:
            return code, None
        written = _written_name(code)
        if written is None:
            text = " / ".join(names)
        elif all(n.casefold() in written.casefold() for n in names):
            text = written
        else:
            text = f"{written} ({' / '.join(names)})"
        concept: dict[str, object] = {"text": text}
        if isinstance(code, dict) and "coding" in code:
            concept["coding"] = code["coding"]
        return concept, None

    def _ingredient(
        self,
        ing: Mapping[str, Any],
        where: str,
        med: Mapping[str, Any],
        container: Mapping[str, Any] | None,
        base: str | None,
    ) -> tuple[str, str | None]:
        item = _checked(ing.get("itemCodeableConcept"), f"{where} itemCodeableConcept")
        reference = ing.get("itemReference")
        r5 = ing.get("item")  # R5: a CodeableReference
        if item is None and isinstance(r5, dict):
            item = _checked(r5.get("concept"), f"{where} item.concept")
            reference = reference or r5.get("reference")
        if item is None and isinstance(reference, dict):
            targets = self._follow(reference.get("reference"), med, container, base)
            if len(targets) > 1:
                return "", _clash(where, reference.get("reference"), targets)
            if targets:
                target = targets[0]
                label = _label(target)
                item = _checked(target.get("code"), f"{label} code")
                if target.get("resourceType") == "Medication":
                    item, problem = self._medication_concept(target, med, base)
                    if problem is not None:
                        return "", problem
            elif isinstance(reference.get("display"), str):
                item = {"text": reference["display"]}
        name = _written_name(item)
        if name is not None:
            return _clean(name), None
        code = _rxnorm_code(item)
        if code is not None:
            known = self._code_name(code)
            if known:
                return known, None
            return "", f"{where}: RxNorm code {code} is not in the bundled code list"
        return "", f"{where} names nothing ketcheck can read" + _codes_shown(item)

    def _code_name(self, code: str) -> str | None:
        """The name the bundled RxNorm table gives a code (the caller's lookup when it has one)."""
        if self.rxnorm is not None:
            return self.rxnorm(code)
        from ketcheck.kb.load import load_bundled

        found = load_bundled().rxnorm.get(code)
        return found.name if found else None

    def _list(
        self, lst: Mapping[str, Any], container: Mapping[str, Any] | None, base: str | None
    ) -> None:
        status = str(lst.get("status", "")).strip().lower()
        if status == "entered-in-error":
            self._skip(status, lst, container, base)
            return
        label = _label(lst)
        reason = _checked(lst.get("emptyReason"), f"{label} emptyReason")
        if isinstance(reason, dict):
            codes = [c.get("code") for c in _codings(reason)]
            if "nilknown" in codes:
                self.nil_known = True
            else:
                shown = reason.get("text") or ", ".join(str(c) for c in codes if c) or "no reason"
                self.empty_reasons.append(str(shown))
        about = _list_about_medication(lst)
        for n, item in enumerate(_array(lst, "entry", label), start=1):
            where = f"{label} item {n}"
            if not isinstance(item, dict):
                self._malformed(where, item, "a List entry")
                continue
            if item.get("deleted") is True:
                continue
            ref = item.get("item")
            if not isinstance(ref, dict):
                self._malformed(f"{where} item", ref, "a reference")
                continue
            reference = ref.get("reference")
            targets = self._follow(reference, lst, container, base)
            if len(targets) == 1:
                target = targets[0]
                own = self.base_of.get(id(target), base)
                if target.get("resourceType") == "Medication":
                    if id(target) not in self.seen:
                        self.seen.add(id(target))
                        self._medication(target, lst, own)
                else:
                    self.walk(target, container=lst, base=own)
                continue
            if len(targets) > 1:
                self.out.append(Entry(text=where, problem=_clash(where, reference, targets)))
                continue
            points_to_medication = isinstance(reference, str) and _short(reference).startswith(
                "Medication"
            )
            display = ref.get("display")
            if reference is None:
                if about is False:
                    continue  # a display-only item of a list of something else
                if isinstance(display, str) and display.strip():
                    self.out.append(Entry(text=_clean(display)))
                else:
                    self.out.append(Entry(text=where, problem=f"{where} names nothing"))
            elif about or points_to_medication:
                if isinstance(display, str) and display.strip():
                    self.out.append(Entry(text=_clean(display)))
                else:
                    self.out.append(
                        Entry(
                            text=where,
                            problem=f"the List item refers to {reference!r}, which is not in "
                            "the input",
                        )
                    )


def _label(r: Mapping[str, Any]) -> str:
    """`Type/id`, or the type alone for a resource without an id."""
    rid = r.get("id")
    return (
        f"{r.get('resourceType')}/{rid}"
        if isinstance(rid, str) and rid
        else str(r.get("resourceType"))
    )


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _array(resource: Mapping[str, Any], key: str, where: str) -> list[object]:
    """A field that FHIR makes an array; another JSON type is an input error naming it."""
    value = resource.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"FHIR {where}: {key} must be an array, not {_json_type(value)}")
    return value


def _checked(concept: object, where: str) -> object:
    """A CodeableConcept as given, after its field types are checked (an error names the field)."""
    if concept is None:
        return None
    if not isinstance(concept, dict):
        raise InputError(f"FHIR {where} must be an object, not {_json_type(concept)}")
    text = concept.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError(f"FHIR {where}.text must be a string, not {_json_type(text)}")
    for n, c in enumerate(_array(concept, "coding", where), start=1):
        if not isinstance(c, dict):
            raise InputError(f"FHIR {where}.coding item {n} must be an object, not {_json_type(c)}")
    return concept


def _contained(resource: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if resource is None:
        return []
    out: list[Mapping[str, Any]] = []
    for n, c in enumerate(_array(resource, "contained", _label(resource)), start=1):
        if not isinstance(c, dict):
            raise InputError(
                f"FHIR {_label(resource)}: contained item {n} must be a resource, not "
                f"{_json_type(c)}"
            )
        out.append(c)
    return out


def _distinct(found: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The resources, a copy given twice (the same content) counted once."""
    out: list[Mapping[str, Any]] = []
    for r in found:
        if not any(r is o or r == o for o in out):
            out.append(r)
    return out


def _clash(where: str, ref: object, targets: list[Mapping[str, Any]]) -> str:
    names = "; ".join(_concept_name(t.get("code"), None) or _label(t) for t in targets[:3])
    return (
        f"{where}: {ref!r} matches {len(targets)} different resources in the input ({names}); "
        "which one is meant cannot be told"
    )


def _unversioned(ref: str) -> str:
    return ref.split("/_history/")[0].rstrip("/")


def _base(full_url: object) -> str | None:
    """The server base of a RESTful fullUrl (None for a urn, or no fullUrl)."""
    if not isinstance(full_url, str):
        return None
    found = _RESTFUL.match(full_url.strip())
    return found.group(1) if found else None


def _absolute(ref: str, base: str | None) -> str:
    ref = _unversioned(ref.strip())
    if ref.startswith("urn:") or "://" in ref or base is None:
        return ref
    return f"{base}/{ref}"


def _local(resource: Mapping[str, Any]) -> str | None:
    kind, rid = resource.get("resourceType"), resource.get("id")
    return f"{kind}/{rid}" if isinstance(kind, str) and isinstance(rid, str) else None


def _short(ref: str) -> str:
    """`Type/id` of a reference (a full URL or a versioned one), else the reference itself."""
    parts = _unversioned(ref).split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else ref


def _reference(value: object) -> str | None:
    ref = value.get("reference") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) and ref.strip() and not ref.startswith("#") else None


def _medication_reference(resource: Mapping[str, Any]) -> str | None:
    reference = resource.get("medicationReference")
    medication = resource.get("medication")
    if not isinstance(reference, dict) and isinstance(medication, dict):
        reference = medication.get("reference")
    return _reference(reference)


def _looks_like_medication(resource: Mapping[str, Any]) -> bool:
    kind = str(resource.get("resourceType", ""))
    return kind.startswith("Medication") or any(k in resource for k in _MEDICATION_KEYS)


def _list_about_medication(lst: Mapping[str, Any]) -> bool | None:
    """True when a List says it is of medicines, False when it says it lists something else
    (problems, allergies...), None otherwise: its display-only items are read unless False."""
    code = _checked(lst.get("code"), f"{_label(lst)} code")
    words = [lst.get("title")]
    codes = set()
    if isinstance(code, dict):
        words.append(code.get("text"))
        for c in _codings(code):
            words.append(c.get("display"))
            codes.add((c.get("system"), c.get("code")))
    if codes & MEDICATION_LIST_CODES:
        return True
    text = " ".join(w for w in words if isinstance(w, str)).lower()
    if any(w in text for w in _LIST_WORDS):
        return True
    if codes & OTHER_LIST_CODES or any(w in text for w in _OTHER_LIST_WORDS):
        return False
    return None


def _codings(concept: object) -> list[Mapping[str, Any]]:
    if not isinstance(concept, dict):
        return []
    coding = concept.get("coding")
    return [c for c in coding if isinstance(c, dict)] if isinstance(coding, list) else []


def _rxnorm_code(concept: object) -> str | None:
    for c in _codings(concept):
        if c.get("system") == RXNORM and isinstance(c.get("code"), str) and c["code"].strip():
            return str(c["code"]).strip()
    return None


def _codes_shown(concept: object) -> str:
    shown = [f"{c.get('system', '?')} {c.get('code')}" for c in _codings(concept) if c.get("code")]
    return f" (coded only as {'; '.join(shown[:3])})" if shown else ""


def _written_name(concept: object) -> str | None:
    """The concept's text, else a coding's display (RxNorm first): a name, not a bare code."""
    if not isinstance(concept, dict):
        return None
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text
    codings = sorted(_codings(concept), key=lambda c: c.get("system") != RXNORM)
    for c in codings:
        if isinstance(c.get("display"), str) and c["display"].strip():
            return str(c["display"])
    return None


def _concept_name(concept: object, rxnorm: Rxnorm) -> str | None:
    written = _written_name(concept)
    if written is not None:
        return written
    code = _rxnorm_code(concept)
    if code is not None:
        known = rxnorm(code) if rxnorm else None
        return known or f"RxNorm {code}"
    return None
