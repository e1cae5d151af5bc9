"""Patient context from FHIR R4: active Conditions, pregnancy and blood-pressure Observations,
and AllergyIntolerance to ketamine or esketamine, in bundles nested at any depth."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NoReturn

from ketcheck.errors import InputError
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
KETAMINES = frozenset({"ketamine", "esketamine"})
INACTIVE = frozenset({"inactive", "resolved"})
HISTORY = frozenset({"remission"})
REFUTED = frozenset({"refuted", "entered-in-error"})
UNCERTAIN = frozenset({"unconfirmed", "provisional", "differential", "presumed"})
# A status observation's value must say yes or no plainly; anything else ("Unknown", "asked but
# declined", "possible pregnancy") is a doubt, never read as either.
_SAYS = {
    PREGNANCY_STATUS: (
        "pregnant",
        re.compile(r"yes|positive|(?:currently )?pregnant"),
        re.compile(r"no|negative|not (?:currently )?pregnant"),
    ),
    BREASTFEEDING_STATUS: (
        "breastfeeding",
        re.compile(
            r"yes|(?:currently |fully |partially |exclusively )?(?:breast ?feeding|lactating|nursing)"
        ),
        re.compile(r"no|not (?:currently )?(?:breast ?feeding|lactating|nursing)"),
    ),
}


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return "an array" if isinstance(value, list) else "a string"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Resource:
    """One resource as read: typed access to its fields, errors naming the resource and field."""

    body: Mapping[str, Any]
    where: str

    def fail(self, field: str, expected: str, value: object) -> NoReturn:
        """A one-line input error: which resource, which field, what it should be."""
        raise InputError(f"FHIR {self.where}: {field} must be {expected}, not {_json_kind(value)}")

    def get(self, path: str, kind: type, expected: str) -> Any:
        """The value at a dotted path (None when absent or null); a wrong type is an input error."""
        value: Any = self.body
        walked: list[str] = []
        for key in path.split("."):
            if value is None:
                return None
            if not isinstance(value, dict):
                self.fail(".".join(walked), "an object", value)
            walked.append(key)
            value = value.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            self.fail(path, expected, value)
        return value

    def concept(self, path: str) -> _Concept:
        """The CodeableConcept at a path (empty when absent)."""
        return _concept(self, path, self.get(path, dict, "an object (a CodeableConcept)"))


def _concept(owner: _Resource, path: str, body: Mapping[str, Any] | None) -> _Concept:
    """A CodeableConcept of a resource, every coding checked: a wrong type names its field."""
    body = body or {}
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        owner.fail(f"{path}.text", "a string", text)
    codings = body.get("coding")
    if codings is None:
        codings = []
    if not isinstance(codings, list):
        owner.fail(f"{path}.coding", "an array", codings)
    out = []
    for i, c in enumerate(codings):
        where = f"{path}.coding[{i}]"
        if not isinstance(c, dict):
            owner.fail(where, "an object", c)
        for key in ("system", "code", "display"):
            if c.get(key) is not None and not isinstance(c[key], str):
                owner.fail(f"{where}.{key}", "a string", c[key])
        out.append((c.get("system"), c.get("code"), c.get("display")))
    return _Concept(text=text.strip() if text and text.strip() else None, codings=tuple(out))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Concept:
    """A CodeableConcept as (system, code, display) codings and its text."""

    text: str | None
    codings: tuple[tuple[str | None, str | None, str | None], ...]

    def codes(self, system: str | tuple[str, ...]) -> list[str]:
        """The codes of the codings in a system (or any of several), in order."""
        systems = (system,) if isinstance(system, str) else system
        return [code for sys_, code, _ in self.codings if sys_ in systems and code]

    def first_code(self) -> str:
        """The first coding's code, lower case ("" when none): how statuses are given."""
        return next((code.lower() for _, code, _ in self.codings if code), "")

    def name(self) -> str | None:
        """The text, else the first coding display."""
        if self.text:
            return self.text
        return next((d.strip() for _, _, d in self.codings if d and d.strip()), None)


def _resources(doc: Mapping[str, Any]) -> Iterator[_Resource]:
    """Every resource in document order, entering Bundles nested at any depth (no recursion)."""
    stack: list[tuple[Mapping[str, Any], str]] = [(doc, "")]
    while stack:
        body, path = stack.pop()
        kind = body.get("resourceType")
        rid = body.get("id")
        named = f"{kind}/{rid}" if isinstance(rid, str) and rid else f"{kind} at {path}"
        resource = _Resource(body=body, where=named if path or rid else str(kind))
        if kind != "Bundle":
            yield resource
            continue
        entries = resource.get("entry", list, "an array")
        children = []
        for i, e in enumerate(entries or []):
            at = f"{path}.entry[{i}]" if path else f"Bundle.entry[{i}]"
            if not isinstance(e, dict):
                raise InputError(f"FHIR {at} must be an object, not {_json_kind(e)}")
            inner = e.get("resource")
            if inner is None:
                continue  # a batch-response entry may carry only a response
            if not isinstance(inner, dict):
                raise InputError(f"FHIR {at}.resource must be an object, not {_json_kind(inner)}")
            children.append((inner, f"{at}.resource"))
        stack.extend(reversed(children))


def _number(r: _Resource, body: Mapping[str, Any], path: str) -> int | None:
    """A valueQuantity's value rounded to a whole number (None when absent)."""
    quantity = body.get("valueQuantity")
    if quantity is None:
        return None
    if not isinstance(quantity, dict):
        r.fail(f"{path}valueQuantity", "an object", quantity)
    value = quantity.get("value")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        r.fail(f"{path}valueQuantity.value", "a finite number", value)
    return round(value)


def _condition(r: _Resource) -> ConditionEntry | None:
    clinical = r.concept("clinicalStatus").first_code()
    verification = r.concept("verificationStatus").first_code()
    if clinical in INACTIVE or verification == "entered-in-error":
        return None
    code = r.concept("code")
    rid = r.get("id", str, "a string")
    text = code.name() or f"Condition/{rid or '?'} (no text)"
    return ConditionEntry(
        text=text,
        codes=(
            *(f"snomed:{c}" for c in code.codes(SNOMED)),
            *(f"icd10:{c}" for c in code.codes(ICD10)),
        ),
        history=clinical in HISTORY,
        negated=verification == "refuted",
        doubt=_doubt(verification),
        verification=verification,
    )


def _doubt(verification: str) -> str:
    if verification not in UNCERTAIN:
        return ""
    return f"the record's verification status is '{verification}': not a diagnosis; confirm it"


def _status_answer(r: _Resource, code: str) -> ConditionEntry:
    """A pregnancy or breastfeeding status: yes, no, or (any other value) a doubt to confirm."""
    condition, yes, no = _SAYS[code]
    value = r.concept("valueCodeableConcept")
    snomed = set(value.codes(SNOMED))
    if code == PREGNANCY_STATUS and PREGNANT in snomed:
        return ConditionEntry(text=condition, codes=(f"snomed:{PREGNANT}",))
    if code == PREGNANCY_STATUS and NOT_PREGNANT in snomed:
        return ConditionEntry(text=condition, negated=True)
    flag = r.get("valueBoolean", bool, "a boolean")
    said = value.name() or r.get("valueString", str, "a string")
    plain = " ".join(re.sub(r"[^a-z]+", " ", (said or "").lower()).split())
    if flag is True or (flag is None and yes.fullmatch(plain)):
        return ConditionEntry(text=condition)
    if flag is False or (flag is None and no.fullmatch(plain)):
        return ConditionEntry(text=condition, negated=True)
    shown = f"'{said}'" if said else "given without a value"
    return ConditionEntry(
        text=condition, doubt=f"{condition} status {shown}: not a clear yes or no; ask the patient"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reading:
    """Blood-pressure numbers of one Observation (either may be missing) and when it was taken."""

    systolic: int | None
    diastolic: int | None
    when: datetime | None
    where: str

    def shown(self) -> str:
        """The reading as the user should see it, with its time and resource."""
        if self.systolic is not None and self.diastolic is not None:
            value = f"{self.systolic}/{self.diastolic}"
        elif self.systolic is not None:
            value = f"systolic {self.systolic}"
        else:
            value = f"diastolic {self.diastolic}"
        when = self.when.strftime("%Y-%m-%d %H:%M UTC") if self.when else "no usable time"
        return f"{value} ({self.where}, {when})"


def _observation(r: _Resource) -> tuple[ConditionEntry | None, _Reading | None]:
    """The condition or the blood-pressure reading one Observation states (or neither)."""
    if (r.get("status", str, "a string") or "").lower() in ("entered-in-error", "cancelled"):
        return None, None
    codes = set(r.concept("code").codes(LOINC))
    for status in (PREGNANCY_STATUS, BREASTFEEDING_STATUS):
        if status in codes:
            return _status_answer(r, status), None
    systolic = _number(r, r.body, "") if SYSTOLIC in codes else None
    diastolic = _number(r, r.body, "") if DIASTOLIC in codes else None
    for i, comp in enumerate(r.get("component", list, "an array") or []):
        where = f"component[{i}]"
        if not isinstance(comp, dict):
            r.fail(where, "an object", comp)
        value = _number(r, comp, f"{where}.")
        c = set(_concept(r, f"{where}.code", _component_code(r, comp, where)).codes(LOINC))
        if SYSTOLIC in c and value is not None:
            systolic = value
        elif DIASTOLIC in c and value is not None:
            diastolic = value
    if systolic is None and diastolic is None:
        return None, None
    return None, _Reading(systolic=systolic, diastolic=diastolic, when=_taken(r), where=r.where)


# FHIR dateTime: a year, year-month, date, or a date and time, which must then carry a zone.
_DATE_TIME = re.compile(
    r"(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})(?:T(?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?"
)


def _taken(r: _Resource) -> datetime | None:
    """When a reading was taken, as an instant in UTC; None when the resource gives no usable time.

    effectiveDateTime, effectiveInstant, effectivePeriod (its end, else its start), else issued.
    A date without a time counts as its first moment (UTC); a time without a zone is unusable.
    """
    for field in (
        "effectiveDateTime",
        "effectiveInstant",
        "effectivePeriod.end",
        "effectivePeriod.start",
        "issued",
    ):
        text = r.get(field, str, "a string")
        if text is None:
            continue
        m = _DATE_TIME.fullmatch(text.strip())
        if m is None:
            raise InputError(f"FHIR {r.where}: {field} {text!r} is not a FHIR date or dateTime")
        if m["h"] is not None and m["tz"] is None:
            return None
        zone = m["tz"] or "Z"
        offset = UTC
        if zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            offset = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        try:
            local = datetime(
                int(m["y"]),
                int(m["mo"] or 1),
                int(m["d"] or 1),
                int(m["h"] or 0),
                int(m["mi"] or 0),
                int(m["s"] or 0),
                tzinfo=offset,
            )
        except ValueError as exc:
            raise InputError(f"FHIR {r.where}: {field} {text!r}: {exc}") from None
        return local.astimezone(UTC)
    return None


def _paired(readings: list[_Reading]) -> tuple[list[_Reading], list[str]]:
    """Separate systolic and diastolic Observations joined when taken at the same instant.

    What cannot be paired stays a half reading, and a warning says so.
    """
    whole = [x for x in readings if x.systolic is not None and x.diastolic is not None]
    lows = [x for x in readings if x.systolic is None]
    out = list(whole)
    warnings = []
    for x in readings:
        if x.systolic is None or x.diastolic is not None:
            continue
        match = next((d for d in lows if d.when is not None and d.when == x.when), None)
        if match is None:
            out.append(x)
            if lows:
                warnings.append(
                    f"blood pressure: {x.shown()} has no diastolic taken at the same time; "
                    "a systolic alone is graded on its own"
                )
            continue
        lows.remove(match)
        out.append(
            _Reading(
                systolic=x.systolic,
                diastolic=match.diastolic,
                when=x.when,
                where=f"{x.where} with {match.where}",
            )
        )
    for d in lows:
        out.append(d)
        warnings.append(
            f"blood pressure: {d.shown()} has no systolic taken at the same time; "
            "a diastolic alone cannot be graded"
        )
    return out, warnings


def _height(x: _Reading) -> float:
    """How close a reading comes to 180/120, by whichever number is nearer."""
    return max((x.systolic or 0) / 180, (x.diastolic or 0) / 120)


def _latest(readings: list[_Reading]) -> tuple[_Reading | None, list[str]]:
    """The latest reading by instant; a reading with no usable time never beats a dated one.

    When the latest cannot be told (several at the same instant, or none dated), the highest
    is used and a warning says so: a clinician re-measures; a lower guess could clear a crisis.
    """
    dated = [x for x in readings if x.when is not None]
    undated = [x for x in readings if x.when is None]
    warnings = []
    if dated and undated:
        warnings.append(
            "blood pressure: not taken as the latest, having no usable time: "
            + "; ".join(x.shown() for x in undated)
        )
    if dated:
        last = max(x.when for x in dated if x.when is not None)
        pool = [x for x in dated if x.when == last]
        why = "taken at the same time"
    else:
        pool, why = undated, "with no usable time"
    if not pool:
        return None, warnings
    chosen = max(pool, key=_height)
    if len({(x.systolic, x.diastolic) for x in pool}) > 1:
        warnings.append(
            f"blood pressure: {len(pool)} readings {why}; the highest, {chosen.shown()}, is used"
        )
    return chosen, warnings


def _component_code(r: _Resource, comp: Mapping[str, Any], where: str) -> Mapping[str, Any] | None:
    code = comp.get("code")
    if code is not None and not isinstance(code, dict):
        r.fail(f"{where}.code", "an object (a CodeableConcept)", code)
    return code


def bundled_ingredients(rxcui: str) -> Sequence[str]:
    """The ingredients of an RxNorm code by the bundled code table (none when it is not listed)."""
    from ketcheck.kb.load import load_bundled

    code = load_bundled().rxnorm.get(rxcui)
    return code.ingredients if code is not None else ()


def _allergy(r: _Resource, ingredients_of: Callable[[str], Sequence[str]]) -> ConditionEntry | None:
    """An allergy to ketamine or esketamine: by name, or by any RxNorm code that contains one."""
    clinical = r.concept("clinicalStatus").first_code()
    verification = r.concept("verificationStatus").first_code()
    if clinical in INACTIVE or verification in REFUTED:
        return None
    code = r.concept("code")
    text = (code.name() or "").lower()
    coded = any(KETAMINES.intersection(ingredients_of(c)) for c in code.codes(RXNORM))
    if coded or any(w in text for w in ("ketamine", "spravato", "ketalar")):
        return ConditionEntry(
            text="allergic to ketamine", doubt=_doubt(verification), verification=verification
        )
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class FhirContext:
    """The patient context a FHIR document carries, and what the user must be told about it."""

    conditions: tuple[ConditionEntry, ...] = ()
    bp: str | None = None
    warnings: tuple[str, ...] = ()


def context_from_fhir(
    doc: Mapping[str, Any],
    *,
    ingredients_of: Callable[[str], Sequence[str]] = bundled_ingredients,
) -> FhirContext:
    """Conditions (document order) and the latest blood pressure found in a FHIR resource.

    `ingredients_of` maps an RxNorm code to its ingredients (the bundled table by default).
    """
    conditions: list[ConditionEntry] = []
    readings: list[_Reading] = []
    for r in _resources(doc):
        kind = r.body.get("resourceType")
        entry: ConditionEntry | None = None
        if kind == "Condition":
            entry = _condition(r)
        elif kind == "AllergyIntolerance":
            entry = _allergy(r, ingredients_of)
        elif kind == "Observation":
            entry, reading = _observation(r)
            if reading is not None:
                readings.append(reading)
        if entry is not None:
            conditions.append(entry)
    paired, warnings = _paired(readings)
    chosen, more = _latest(paired)
    bp = None
    if chosen is not None and chosen.systolic is not None:
        bp = (
            f"{chosen.systolic}/{chosen.diastolic}"
            if chosen.diastolic is not None
            else f"SBP {chosen.systolic}"
        )
    elif chosen is not None:
        conditions.append(
            ConditionEntry(
                text=f"diastolic {chosen.diastolic} mmHg",
                doubt=f"the latest blood pressure, {chosen.shown()}, has no systolic taken at "
                "the same time and cannot be graded; re-measure",
            )
        )
    return FhirContext(conditions=tuple(conditions), bp=bp, warnings=(*warnings, *more))
