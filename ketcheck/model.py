"""Value types of a check: severities, routes, resolutions, findings, the report and its plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ketcheck.patient import (
        Amount,
        BloodPressure,
        Dose,
        PatientCondition,
        Remaining,
    )


class Severity(IntEnum):
    """How much an interaction matters; ordered so that comparisons read naturally."""

    NONE = 0
    MINOR = 1
    MODERATE = 2
    MAJOR = 3
    CONTRAINDICATED = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name as written in data and options (case-insensitive)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


class Route(StrEnum):
    """How the session's ketamine or esketamine is given."""

    IV = "iv"
    IM = "im"
    SUBLINGUAL = "sublingual"
    ORAL = "oral"
    INTRANASAL = "intranasal"


class Paper(StrEnum):
    """The handout's paper size: the clinic's printer paper, or the printer's own (auto)."""

    AUTO = "auto"
    A4 = "a4"
    LETTER = "letter"


class Effect(StrEnum):
    """Which axis a finding concerns: the patient's safety or ketamine's benefit."""

    SAFETY = "safety"
    EFFICACY = "efficacy"


class FindingKind(StrEnum):
    """What produced a finding: a rule of the drug or its class, none known, or several drugs."""

    INTERACTION = "interaction"
    COMBINED = "combined"
    NO_KNOWN_INTERACTION = "no-known-interaction"
    NOT_REVIEWED = "not-reviewed"  # recognised, but nobody reviewed it for ketamine: unknown
    SESSION_MEDICINE = "session-medicine"  # the drug this session gives, not a duplicate
    CONDITION = "condition"  # from the patient's conditions or blood pressure


class Source(StrEnum):
    """Where a hold or a severity comes from: the bundled data or the clinic's protocol."""

    DATA = "data"
    PROTOCOL = "protocol"


class ExitCode(IntEnum):
    """Exit codes scripts rely on; the README's table is tested against this."""

    CLEARED = 0
    RISK = 1
    ERROR = 2
    INCOMPLETE = 3


class ClassKind(StrEnum):
    """Whether a drug class carries a rule, or is reviewed and known not to interact."""

    INTERACTION = "interaction"
    DESCRIPTIVE = "descriptive"


class ReviewOutcome(StrEnum):
    """What a reviewer concluded about an ingredient and ketamine."""

    INTERACTION = "interaction"
    NO_INTERACTION = "no-interaction"


class Method(StrEnum):
    """How a typed name was matched to the lexicon."""

    EXACT = "exact"
    NORMALISED = "normalised"
    COMBINATION = "combination"
    FUZZY = "fuzzy"
    RXNORM = "rxnorm"


class Status(StrEnum):
    """Resolution status of one medication entry, as reported."""

    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One medication as given: its text, and whether the source marks it as no longer current."""

    text: str
    recent: bool = False
    rxcui: str | None = None
    # Why the source record could not be read (e.g. an unknown FHIR type): reported unresolved.
    problem: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """One medication entry split into the name and the parts the parser stripped."""

    text: str
    name: str
    strength: tuple[str, ...] = ()
    form: tuple[str, ...] = ()
    route: tuple[str, ...] = ()
    frequency: tuple[str, ...] = ()
    release: tuple[str, ...] = ()
    salt: tuple[str, ...] = ()
    note: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A possible match offered when a name cannot be resolved safely."""

    name: str
    ingredients: tuple[str, ...]
    classes: tuple[str, ...]
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One medicine found in an entry that names several (a combination, or a list on one line)."""

    text: str
    matched: str
    method: Method
    score: float
    ingredients: tuple[str, ...]
    name_kind: str
    source: str

    @staticmethod
    def of(text: str, r: Resolved) -> Part:
        """The part of a line a resolution was found for (its typed text kept)."""
        return Part(
            text=text,
            matched=r.matched,
            method=r.method,
            score=r.score,
            ingredients=r.ingredients,
            name_kind=r.name_kind,
            source=r.source,
        )

    def alone(self) -> Resolved:
        """This medicine on its own, as the resolution of an entry naming only it."""
        return Resolved(
            matched=self.matched,
            method=self.method,
            score=self.score,
            ingredients=self.ingredients,
            name_kind=self.name_kind,
            source=self.source,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """The entry names these ingredients (with `parts` when it names several medicines)."""

    matched: str
    method: Method
    score: float
    ingredients: tuple[str, ...]
    name_kind: str
    source: str
    margin: float | None = None
    runner_up: Candidate | None = None
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ambiguous:
    """The entry could be one of several drugs; a person must choose."""

    reason: str
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unresolved:
    """The entry names nothing ketcheck knows."""

    reason: str
    suggestions: tuple[Candidate, ...] = ()
    # False when the entry was not read whole or holds several unknown names: it may hide a
    # medicine, so an RxNorm code that names one product does not stand for all of it.
    one_name: bool = True


Resolution = Resolved | Ambiguous | Unresolved


@dataclass(frozen=True, slots=True, kw_only=True)
class Medication:
    """One input entry with its resolution, in input order."""

    index: int
    input: str
    parsed: Parsed
    resolution: Resolution
    classes: tuple[str, ...] = ()
    recent: bool = False
    dose: Dose | None = None

    @property
    def status(self) -> Status:
        match self.resolution:
            case Resolved():
                return Status.RESOLVED
            case Ambiguous():
                return Status.AMBIGUOUS
            case Unresolved():
                return Status.UNRESOLVED
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def ingredients(self) -> tuple[str, ...]:
        return self.resolution.ingredients if isinstance(self.resolution, Resolved) else ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """A pre-session hold: skip or move the dose due within this window."""

    hours_before: float
    basis: str
    source: Source
    last_dose_by: datetime | None = None
    hours_after: float | None = (
        None  # also avoid it this long after the session (alcohol, cannabis)
    )
    remaining: Remaining | None = None
    instruction: str | None = None


# eq=False: rules and combinations (subclasses) are entities compared by identity; Finding
# declares eq=True and compares every field, these included. A base only, never made on its own:
# no __init__ or __repr__ of its own to define at every start (each subclass defines both).
@dataclass(frozen=True, slots=True, kw_only=True, eq=False, init=False, repr=False)
class Advice:
    """What a rule says and a finding reports: how much it matters, what happens, what to do, why."""

    severity: Severity
    effects: tuple[Effect, ...]
    effect: str
    mechanism: str
    management: str
    evidence: str
    references: tuple[str, ...]
    disagreement: str | None = None
    standing_note: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding(Advice):
    """One interaction that applies to this patient, with what to do and why."""

    rule: str
    kind: FindingKind
    ingredients: tuple[str, ...]
    inputs: tuple[str, ...]
    hold: Hold | None = None
    applies_via: str = ""
    severity_source: Source = Source.DATA
    duplicate_therapy: bool = False
    conditions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    raised_from: Severity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleItem:
    """A line of the "before the session" plan."""

    ingredient: str
    inputs: tuple[str, ...]
    hours_before: float
    last_dose_by: datetime | None
    basis: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """The verdict scripts act on."""

    highest_severity: Severity | None
    complete: bool
    exit_code: ExitCode
    resolved: int
    ambiguous: int
    unresolved: int
    fuzzy: int
    not_reviewed: int = 0
    conditions_unresolved: int = 0
    conditions_ambiguous: int = 0
    conditions_unconfirmed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything one check found, ready for any renderer."""

    tool_version: str
    data_version: str
    route: Route
    session: datetime | None
    protocol: str
    fail_on: Severity | None
    strict: bool
    medications: tuple[Medication, ...]
    findings: tuple[Finding, ...]
    schedule: tuple[ScheduleItem, ...]
    standing_notes: tuple[str, ...]
    summary: Summary
    warnings: tuple[str, ...] = field(default=())
    conditions: tuple[PatientCondition, ...] = ()
    bp: BloodPressure | None = None
    paper: Paper = Paper.AUTO

    def to_dict(self) -> dict[str, Any]:
        """The report as plain values, identical to `ketcheck check --format json`."""
        return report_to_dict(self)


# --- the report as plain values: the JSON report, schema_version 2 ---------------------------
# Stable keys, input order kept, no timestamps. They live here, beside the types, so that the
# model imports nothing from the renderers; render/json.py turns them into text.


SCHEMA_VERSION = 2


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 to the minute, with the UTC offset when known."""
    return moment.isoformat(timespec="minutes") if moment is not None else None


def _candidate(c: Candidate) -> dict[str, Any]:
    return {
        "name": c.name,
        "ingredients": list(c.ingredients),
        "classes": list(c.classes),
        "score": c.score,
    }


def _part(p: Part) -> dict[str, Any]:
    return {
        "text": p.text,
        "matched": p.matched,
        "method": p.method.value,
        "score": p.score,
        "ingredients": list(p.ingredients),
        "name_kind": p.name_kind,
    }


def medication_to_dict(m: Medication) -> dict[str, Any]:
    """One medication row of the report."""
    r = m.resolution
    row: dict[str, Any] = {
        "input": m.input,
        "status": m.status.value,
        "matched": None,
        "method": None,
        "score": None,
        "ingredients": [],
        "classes": list(m.classes),
        "candidates": [],
        "reason": None,
        "recent": m.recent,
        "parsed": {
            "name": m.parsed.name,
            "strength": " ".join(m.parsed.strength) or None,
            "form": " ".join(m.parsed.form) or None,
            "route": " ".join(m.parsed.route) or None,
            "frequency": " ".join(m.parsed.frequency) or None,
            "release": " ".join(m.parsed.release) or None,
            "salt": " ".join(m.parsed.salt) or None,
            "note": " ".join(m.parsed.note) or None,
        },
        "parts": [],
        "dose": dose_to_dict(m.dose),
    }
    match r:
        case Resolved():
            row.update(
                matched=r.matched,
                method=r.method.value,
                score=r.score,
                ingredients=list(r.ingredients),
                name_kind=r.name_kind,
                source=r.source,
            )
            if r.margin is not None:
                row["margin"] = r.margin
            if r.runner_up is not None:
                row["runner_up"] = _candidate(r.runner_up)
            row["parts"] = [_part(p) for p in r.parts]
        case Ambiguous():
            row.update(reason=r.reason, candidates=[_candidate(c) for c in r.candidates])
        case Unresolved():
            row.update(reason=r.reason, candidates=[_candidate(c) for c in r.suggestions])
    return row


def finding_to_dict(f: Finding, *, protocol: str) -> dict[str, Any]:
    """One finding of the report; `protocol` names the protocol that may have set its severity."""
    return {
        "rule": f.rule,
        "kind": f.kind,
        "ingredients": list(f.ingredients),
        "inputs": list(f.inputs),
        "severity": f.severity.label,
        "effects": [e.value for e in f.effects],
        "effect": f.effect,
        "mechanism": f.mechanism,
        "management": f.management,
        "hold": (
            {
                "hours_before": f.hold.hours_before,
                "hours_after": f.hold.hours_after,
                "last_dose_by": iso(f.hold.last_dose_by),
                "basis": f.hold.basis,
                "source": f.hold.source.value,
                "remaining": remaining_to_dict(f.hold.remaining),
                "instruction": f.hold.instruction,
            }
            if f.hold is not None
            else None
        ),
        "evidence": f.evidence,
        "references": list(f.references),
        "disagreement": f.disagreement,
        "standing_note": f.standing_note,
        "applies_via": f.applies_via,
        "severity_source": (
            f"protocol: {protocol}" if f.severity_source is Source.PROTOCOL else Source.DATA.value
        ),
        "conditions": list(f.conditions),
        "notes": list(f.notes),
        "raised_from": f.raised_from.label if f.raised_from is not None else None,
    }


def _amount(a: Amount | None) -> dict[str, Any] | None:
    return {"amount": a.amount, "unit": a.unit} if a is not None else None


def dose_to_dict(d: Dose | None) -> dict[str, Any] | None:
    """A medication's dose as the contract gives it (null when nothing could be read)."""
    if d is None:
        return None
    return {
        "ingredient": d.ingredient,
        "per_dose": _amount(d.per_dose),
        "doses_per_day": d.doses_per_day,
        "prn": d.prn,
        "daily": _amount(d.daily),
        "equivalents": [
            {
                "kind": e.kind.value,
                "amount": e.amount,
                "unit": e.unit,
                "table": e.table,
                **({"low": e.low, "high": e.high} if e.low is not None else {}),
            }
            for e in d.equivalents
        ],
        "notes": list(d.notes),
        "by_ingredient": [
            {"ingredient": b.ingredient, "per_dose": _amount(b.per_dose), "daily": _amount(b.daily)}
            for b in d.by_ingredient
        ],
        "when": d.when,
    }


def remaining_to_dict(r: Remaining | None) -> dict[str, Any] | None:
    """What a hold leaves at the session, from the half-life range."""
    if r is None:
        return None
    return {
        "ingredient": r.ingredient,
        "percent_low": r.percent_low,
        "percent_typical": r.percent_typical,
        "percent_high": r.percent_high,
        "half_life": r.half_life,
        "source": r.source,
        "defeated": r.defeated,
        "text": r.text,
    }


def bp_to_dict(bp: BloodPressure | None) -> dict[str, Any] | None:
    """A blood-pressure reading and the level it reaches."""
    if bp is None:
        return None
    return {
        "systolic": bp.systolic,
        "diastolic": bp.diastolic,
        "input": bp.text,
        "source": bp.source,
        "level": bp.level,
        "label": bp.label,
        "severity": bp.severity.label if bp.severity is not None else None,
    }


def condition_to_dict(c: PatientCondition) -> dict[str, Any]:
    """One condition entry as read."""
    return {
        "input": c.input,
        "status": c.status.value,
        "condition": c.condition,
        "label": c.label,
        "method": c.method,
        "score": c.score,
        "history": c.history,
        "recent": c.recent,
        "reason": c.reason,
        "candidates": list(c.candidates),
        "negates": c.negates,
        "bp": bp_to_dict(c.bp),
        "verification": c.verification or None,
    }


def _schedule(s: ScheduleItem) -> dict[str, Any]:
    return {
        "ingredient": s.ingredient,
        "inputs": list(s.inputs),
        "hours_before": s.hours_before,
        "last_dose_by": iso(s.last_dose_by),
        "basis": s.basis,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The whole report as plain JSON values; `Report.to_dict()` and `--format json` agree."""
    s = report.summary
    rows: dict[tuple[str, bool, int], dict[str, Any]] = {}
    medications = []
    for m in report.medications:
        # Long lists repeat the same lines; identical entries share one (read-only) row.
        key = (m.input, m.recent, id(m.resolution))
        row = rows.get(key)
        if row is None:
            row = rows[key] = medication_to_dict(m)
        medications.append(row)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ketcheck", "version": report.tool_version},
        "data": {"version": report.data_version},
        "route": report.route.value,
        "session": iso(report.session),
        "protocol": report.protocol,
        "conditions": [condition_to_dict(c) for c in report.conditions],
        "bp": bp_to_dict(report.bp),
        "medications": medications,
        "findings": [finding_to_dict(f, protocol=report.protocol) for f in report.findings],
        "schedule": [_schedule(i) for i in report.schedule],
        "standing_notes": list(report.standing_notes),
        "warnings": list(report.warnings),
        "summary": {
            "highest_severity": s.highest_severity.label
            if s.highest_severity is not None
            else None,
            "complete": s.complete,
            "exit_code": int(s.exit_code),
            "fail_on": report.fail_on.label if report.fail_on is not None else "never",
            "strict": report.strict,
            "counts": {
                "medications": len(report.medications),
                "resolved": s.resolved,
                "ambiguous": s.ambiguous,
                "unresolved": s.unresolved,
                "fuzzy": s.fuzzy,
                "not_reviewed": s.not_reviewed,
                "findings": len(report.findings),
                "conditions": len(report.conditions),
                "conditions_unresolved": s.conditions_unresolved,
                "conditions_ambiguous": s.conditions_ambiguous,
                "conditions_unconfirmed": s.conditions_unconfirmed,
            },
        },
    }
