"""Patient-context value types: conditions as given and as read, blood pressure, doses, holds' t½."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ketcheck.model import Severity


class ConditionStatus(StrEnum):
    """How one condition entry was read."""

    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNRESOLVED = "unresolved"
    NEGATED = "negated"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionEntry:
    """One condition as given: its text and any codes the source carries ("icd10:F20.9").

    `doubt` says why the source is unsure of it (an unconfirmed FHIR Condition, a status of
    "Unknown"): such an entry is reported as unconfirmed, neither present nor absent.
    `verification` is the source's own verification status, echoed in FHIR output.
    """

    text: str
    codes: tuple[str, ...] = ()
    history: bool = False
    negated: bool = False
    weeks_ago: float | None = None
    doubt: str = ""
    verification: str = ""


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
    verification: str = ""


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
