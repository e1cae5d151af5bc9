"""Value types of a check: severities, routes, resolutions, findings and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any


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


class Effect(StrEnum):
    """Which axis a finding concerns: the patient's safety or ketamine's benefit."""

    SAFETY = "safety"
    EFFICACY = "efficacy"


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
class Resolved:
    """The entry names these ingredients."""

    matched: str
    method: Method
    score: float
    ingredients: tuple[str, ...]
    name_kind: str
    source: str
    margin: float | None = None
    runner_up: Candidate | None = None


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


Resolution = Resolved | Ambiguous | Unresolved


class ConditionStatus(StrEnum):
    """How one condition entry was read."""

    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNRESOLVED = "unresolved"
    NEGATED = "negated"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionEntry:
    """One condition as given: its text and any codes the source carries ("icd10:F20.9")."""

    text: str
    codes: tuple[str, ...] = ()
    history: bool = False
    negated: bool = False
    weeks_ago: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BloodPressure:
    """A blood-pressure reading and, once graded, the level it reaches."""

    systolic: int
    diastolic: int | None
    text: str
    source: str
    level: str | None = None
    label: str = ""
    severity: Severity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientCondition:
    """One condition entry with how it was read, in input order."""

    index: int
    input: str
    status: ConditionStatus
    condition: str | None
    label: str
    method: str | None = None
    score: float | None = None
    history: bool = False
    recent: bool | None = None
    reason: str | None = None
    candidates: tuple[str, ...] = ()
    negates: str | None = None
    bp: BloodPressure | None = None
    plain: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientContext:
    """What the patient brings besides the list: conditions and a session-day reading."""

    conditions: tuple[ConditionEntry, ...] = ()
    bp: BloodPressure | None = None


class EquivalentKind(StrEnum):
    """Which reference drug a dose is expressed in."""

    DIAZEPAM = "diazepam"
    MORPHINE = "morphine"


@dataclass(frozen=True, slots=True, kw_only=True)
class Amount:
    """A quantity with its unit ("mg", "mcg/h")."""

    amount: float
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Equivalent:
    """A daily dose expressed as diazepam or morphine, by a named table."""

    kind: EquivalentKind
    amount: float
    unit: str
    table: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngredientDose:
    """The share of one ingredient in a dose (combination strengths such as 5/325)."""

    ingredient: str
    per_dose: Amount | None
    daily: Amount | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Dose:
    """What a sig says about amount: per dose, doses per day, daily total and equivalents."""

    ingredient: str | None
    per_dose: Amount | None
    doses_per_day: float | None
    prn: bool
    daily: Amount | None
    equivalents: tuple[Equivalent, ...] = ()
    notes: tuple[str, ...] = ()
    by_ingredient: tuple[IngredientDose, ...] = ()
    when: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Remaining:
    """How much of a held drug is still present at the session, from its half-life range."""

    ingredient: str
    percent_low: float
    percent_high: float
    percent_typical: float
    half_life: str
    source: str
    defeated: bool
    text: str


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
    source: str
    last_dose_by: datetime | None = None
    remaining: Remaining | None = None
    instruction: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One interaction that applies to this patient, with what to do and why."""

    rule: str
    kind: str
    ingredients: tuple[str, ...]
    inputs: tuple[str, ...]
    severity: Severity
    effects: tuple[Effect, ...]
    effect: str
    mechanism: str
    management: str
    evidence: str
    references: tuple[str, ...]
    hold: Hold | None = None
    disagreement: str | None = None
    standing_note: str | None = None
    applies_via: str = ""
    severity_source: str = "data"
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
    exit_code: int
    resolved: int
    ambiguous: int
    unresolved: int
    fuzzy: int
    conditions_unresolved: int = 0
    conditions_ambiguous: int = 0


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

    def to_dict(self) -> dict[str, Any]:
        """The report as plain values, identical to `ketcheck check --format json`."""
        from ketcheck.render.json import report_to_dict

        return report_to_dict(self)
