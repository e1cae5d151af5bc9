"""The patient-context tables (conditions, doses, half-lives): validated, built, cached."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from ketcheck.errors import DataError
from ketcheck.kb.load import PATIENT_TABLES
from ketcheck.kb.spec import Key, Kind, Spec
from ketcheck.model import Route, Severity

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from ketcheck.kb.knowledge import KnowledgeBase

FILES = PATIENT_TABLES
PHRASES_KEY = "phrases"  # the cache also keeps the computed phrase keys
CACHE_FORMAT = 2
_ID = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_SEVERITIES = tuple(s.label for s in Severity)
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ConditionRule:
    """One condition: its vocabulary, codes and what it means on each route."""

    id: str
    ref: str
    label: str
    plain: str
    names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    icd10: tuple[str, ...]
    snomed: tuple[str, ...]
    severity: Mapping[str, Severity]  # "spravato" / "ketamine"
    position: Mapping[str, str]
    effect: str
    management: str
    references: tuple[str, ...]
    verification: str
    disagreement: str | None = None
    history: str | None = None
    family: str | None = None
    history_severity: Severity | None = None
    recent_weeks: float | None = None
    older_severity: Severity | None = None
    lengthens_half_life: bool = False

    def severity_for(self, route: Route) -> Severity:
        """Spravato's label applies to intranasal esketamine, the ketamine labels to the rest."""
        return self.severity[label_for(route)]


def label_for(route: Route) -> str:
    """Which label family governs a route."""
    return "spravato" if route is Route.INTRANASAL else "ketamine"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BpLevel:
    """One step of the blood-pressure ladder: at or above systolic or diastolic."""

    id: str
    systolic: int
    diastolic: int
    severity: Mapping[str, Severity]
    label: str
    effect: str
    management: str
    evidence: str
    verification: str
    disagreement: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BpLadder:
    """The blood-pressure levels, highest first, and the plausible range of a reading."""

    levels: tuple[BpLevel, ...]
    systolic_range: tuple[int, int]
    diastolic_range: tuple[int, int]
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Amplifier:
    """A condition that raises a drug's finding (and may suppress its hold)."""

    id: str
    conditions: tuple[str, ...]
    drugs: tuple[str, ...]
    step: int
    ceiling: Severity
    floor: Severity | None
    suppress_hold: bool
    why: str
    management: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Vocabulary:
    """Phrases that negate, question, assign to family, or date a condition entry."""

    negation: tuple[str, ...]
    negation_suffix: tuple[str, ...]
    qualifier: tuple[str, ...]
    query: tuple[str, ...]
    family: tuple[str, ...]
    history: tuple[str, ...]
    history_suffix: tuple[str, ...]
    filler: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Frequency:
    """What a sig phrase means per day and when the dose is due."""

    per_day: float
    when: str | None
    error_prone: bool


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DiazepamTable:
    """A named benzodiazepine equivalence table."""

    id: str
    label: str
    reference: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Band:
    """A daily-dose band of one ingredient that annotates or raises its finding."""

    id: str
    ingredient: str
    at_least: float | None
    above: float | None
    below: float | None
    with_class: str | None
    action: str
    severity: Severity | None
    text: str
    reference: str

    def contains(self, mg_per_day: float) -> bool:
        """True when a daily dose falls in this band."""
        if self.at_least is not None and mg_per_day < self.at_least:
            return False
        if self.above is not None and mg_per_day <= self.above:
            return False
        return not (self.below is not None and mg_per_day >= self.below)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MorphineFactor:
    """A CDC 2022 MME factor; `per` is "mg" or "mcg/h" (fentanyl patch)."""

    factor: float
    per: str
    note: str | None
    unverified: bool


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Maximum:
    """A label maximum daily dose."""

    mg_per_day: float
    source: str
    tag: str


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class HalfLife:
    """Half-life range of an ingredient (hours) and of an active metabolite."""

    hours: tuple[float, float, float]
    source: str
    tag: str
    metabolite: str | None = None
    metabolite_hours: tuple[float, float] | None = None
    misleads: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PatientTables:
    """Everything the condition, dose and half-life evaluators read."""

    conditions: Mapping[str, ConditionRule]
    vocabulary: Vocabulary
    bp: BpLadder
    amplifiers: tuple[Amplifier, ...]
    frequencies: Mapping[str, Frequency]
    dose_times: Mapping[str, tuple[int, int]]
    diazepam_tables: tuple[DiazepamTable, ...]
    diazepam: Mapping[str, Mapping[str, tuple[float, ...]]]
    diazepam_recalled: frozenset[str]
    diazepam_settings: Mapping[str, Any]
    morphine: Mapping[str, MorphineFactor]
    morphine_settings: Mapping[str, Any]
    bands: tuple[Band, ...]
    maxima: Mapping[str, Maximum]
    halflives: Mapping[str, HalfLife]
    defeated_at_percent: float = 50.0
    washout_half_lives: float = 5.0
    phrases: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    ambiguous: Mapping[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)


EMPTY_LADDER = BpLadder(
    levels=(), systolic_range=(50, 300), diastolic_range=(20, 200), references=()
)

# --- key specifications ----------------------------------------------------------------------


def _sev_key(name: str, *, required: bool = False) -> Key:
    return Key(name=name, kind=Kind.STR, choices=_SEVERITIES, required=required)


CONDITION_SPEC = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="ref", kind=Kind.STR),
        Key(name="label", kind=Kind.STR, required=True, non_empty=True),
        Key(name="plain", kind=Kind.STR, required=True, non_empty=True),
        Key(name="names", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="abbreviations", kind=Kind.STR_LIST),
        Key(name="everyday", kind=Kind.STR_LIST),
        Key(name="icd10", kind=Kind.STR_LIST),
        Key(name="snomed", kind=Kind.STR_LIST),
        _sev_key("severity_spravato", required=True),
        _sev_key("severity_ketamine", required=True),
        Key(name="position_spravato", kind=Kind.STR, required=True, non_empty=True),
        Key(name="position_ketamine", kind=Kind.STR, required=True, non_empty=True),
        Key(name="effect", kind=Kind.STR, required=True, non_empty=True),
        Key(name="management", kind=Kind.STR, required=True, non_empty=True),
        Key(name="references", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="verification", kind=Kind.STR, required=True, non_empty=True),
        Key(name="disagreement", kind=Kind.STR, non_empty=True),
        Key(name="history", kind=Kind.STR),
        Key(name="family", kind=Kind.STR),
        _sev_key("history_severity"),
        Key(name="recent_weeks", kind=Kind.NUMBER, minimum=0),
        _sev_key("older_severity"),
        Key(name="lengthens_half_life", kind=Kind.BOOL),
    )
)
VOCABULARY_SPEC = Spec(
    keys=tuple(
        Key(name=n, kind=Kind.STR_LIST, required=True)
        for n in (
            "negation",
            "negation_suffix",
            "qualifier",
            "query",
            "family",
            "history",
            "history_suffix",
            "filler",
        )
    )
)
BP_SPEC = Spec(
    keys=(
        Key(name="systolic_min", kind=Kind.INT, required=True, minimum=1),
        Key(name="systolic_max", kind=Kind.INT, required=True, maximum=400),
        Key(name="diastolic_min", kind=Kind.INT, required=True, minimum=1),
        Key(name="diastolic_max", kind=Kind.INT, required=True, maximum=300),
        Key(name="references", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="level", kind=Kind.TABLE_LIST, required=True, non_empty=True),
    )
)
BP_LEVEL_SPEC = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="systolic", kind=Kind.INT, required=True, minimum=1),
        Key(name="diastolic", kind=Kind.INT, required=True, minimum=1),
        _sev_key("severity_spravato", required=True),
        _sev_key("severity_ketamine", required=True),
        Key(name="label", kind=Kind.STR, required=True, non_empty=True),
        Key(name="effect", kind=Kind.STR, required=True, non_empty=True),
        Key(name="management", kind=Kind.STR, required=True, non_empty=True),
        Key(name="evidence", kind=Kind.STR, required=True, non_empty=True),
        Key(name="verification", kind=Kind.STR, required=True, non_empty=True),
        Key(name="disagreement", kind=Kind.STR, non_empty=True),
    )
)
AMPLIFIER_SPEC = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="conditions", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="drugs", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="step", kind=Kind.INT, required=True, minimum=0, maximum=4),
        _sev_key("ceiling"),
        _sev_key("floor"),
        Key(name="suppress_hold", kind=Kind.BOOL),
        Key(name="why", kind=Kind.STR, required=True, non_empty=True),
        Key(name="management", kind=Kind.STR, required=True, non_empty=True),
        Key(name="references", kind=Kind.STR_LIST, required=True, non_empty=True),
    )
)
CONDITIONS_FILE_SPEC = Spec(
    keys=(
        Key(name="vocabulary", kind=Kind.TABLE, required=True),
        Key(name="bp", kind=Kind.TABLE, required=True),
        Key(name="condition", kind=Kind.TABLE_LIST, required=True, non_empty=True),
        Key(name="amplifier", kind=Kind.TABLE_LIST),
        Key(name="ambiguous", kind=Kind.TABLE_LIST),
    )
)
AMBIGUOUS_SPEC = Spec(
    keys=(
        Key(name="phrase", kind=Kind.STR, required=True, non_empty=True),
        Key(name="candidates", kind=Kind.STR_LIST, required=True, non_empty=True),
        Key(name="reason", kind=Kind.STR, required=True, non_empty=True),
    )
)
FREQUENCY_SPEC = Spec(
    keys=(
        Key(name="per_day", kind=Kind.NUMBER, required=True, minimum=0.001, maximum=48),
        Key(name="when", kind=Kind.STR, choices=("morning", "evening", "bedtime")),
        Key(name="error_prone", kind=Kind.BOOL),
    )
)
DOSES_FILE_SPEC = Spec(
    keys=(
        Key(name="frequency", kind=Kind.TABLE, required=True),
        Key(name="dose_times", kind=Kind.TABLE, required=True),
        Key(name="diazepam", kind=Kind.TABLE, required=True),
        Key(name="morphine", kind=Kind.TABLE, required=True),
        Key(name="band", kind=Kind.TABLE_LIST),
        Key(name="maximum", kind=Kind.TABLE),
    )
)
DIAZEPAM_SPEC = Spec(
    keys=(
        Key(name="threshold_mg_per_day", kind=Kind.NUMBER, required=True, minimum=0),
        Key(name="threshold_source", kind=Kind.STR, required=True, non_empty=True),
        Key(name="threshold_reference", kind=Kind.STR, required=True, non_empty=True),
        Key(name="threshold_cite", kind=Kind.STR, required=True, non_empty=True),
        Key(name="band_moderate_above", kind=Kind.NUMBER, required=True, minimum=0),
        Key(name="band_high_above", kind=Kind.NUMBER, required=True, minimum=0),
        Key(name="band_source", kind=Kind.STR, required=True, non_empty=True),
        Key(name="band_reference", kind=Kind.STR, required=True, non_empty=True),
        Key(name="trial_limit_mg_per_day", kind=Kind.NUMBER, required=True, minimum=0),
        Key(name="trial_source", kind=Kind.STR, required=True, non_empty=True),
        Key(name="table", kind=Kind.TABLE_LIST, required=True, non_empty=True),
        Key(name="equivalent", kind=Kind.TABLE, required=True),
    )
)
DIAZEPAM_TABLE_SPEC = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="label", kind=Kind.STR, required=True, non_empty=True),
        Key(name="reference", kind=Kind.STR, required=True, non_empty=True),
    )
)
MORPHINE_SPEC = Spec(
    keys=(
        Key(name="table", kind=Kind.STR, required=True, non_empty=True),
        Key(name="reference", kind=Kind.STR, required=True, non_empty=True),
        Key(name="band_low", kind=Kind.NUMBER, required=True, minimum=0),
        Key(name="band_high", kind=Kind.NUMBER, required=True, minimum=0),
        Key(name="band_low_text", kind=Kind.STR, required=True, non_empty=True),
        Key(name="band_high_text", kind=Kind.STR, required=True, non_empty=True),
        Key(name="caution", kind=Kind.STR, required=True, non_empty=True),
        Key(name="factor", kind=Kind.TABLE, required=True),
    )
)
MORPHINE_FACTOR_SPEC = Spec(
    keys=(
        Key(name="factor", kind=Kind.NUMBER, required=True, minimum=0.001, maximum=1000),
        Key(name="per", kind=Kind.STR, choices=("mg", "mcg/h")),
        Key(name="note", kind=Kind.STR, non_empty=True),
        Key(name="unverified", kind=Kind.BOOL),
    )
)
BAND_SPEC = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="ingredient", kind=Kind.STR, required=True, non_empty=True),
        Key(name="at_least", kind=Kind.NUMBER, minimum=0),
        Key(name="above", kind=Kind.NUMBER, minimum=0),
        Key(name="below", kind=Kind.NUMBER, minimum=0),
        Key(name="with_class", kind=Kind.STR, non_empty=True),
        Key(name="action", kind=Kind.STR, required=True, choices=("note", "raise")),
        _sev_key("severity"),
        Key(name="text", kind=Kind.STR, required=True, non_empty=True),
        Key(name="reference", kind=Kind.STR, required=True, non_empty=True),
    )
)
MAXIMUM_SPEC = Spec(
    keys=(
        Key(name="mg_per_day", kind=Kind.NUMBER, required=True, minimum=0.001),
        Key(name="source", kind=Kind.STR, required=True, non_empty=True),
        Key(
            name="tag", kind=Kind.STR, required=True, choices=("verified", "secondary", "recalled")
        ),
    )
)
HALFLIFE_SPEC = Spec(
    keys=(
        Key(name="hours", kind=Kind.NUMBER_LIST, required=True, non_empty=True),
        Key(name="source", kind=Kind.STR, required=True, non_empty=True),
        Key(
            name="tag", kind=Kind.STR, required=True, choices=("verified", "secondary", "recalled")
        ),
        Key(name="metabolite", kind=Kind.STR, non_empty=True),
        Key(name="metabolite_hours", kind=Kind.NUMBER_LIST, non_empty=True),
        Key(name="misleads", kind=Kind.STR, non_empty=True),
    )
)
HALFLIFE_SETTINGS_SPEC = Spec(
    keys=(
        Key(name="defeated_at_percent", kind=Kind.NUMBER, required=True, minimum=1, maximum=100),
        Key(name="washout_half_lives", kind=Kind.NUMBER, required=True, minimum=1, maximum=10),
    )
)


# --- building --------------------------------------------------------------------------------

# Tables read back from the compiled cache were validated when the cache was written; checking
# them again costs more than the rest of a short check. build_patient_tables sets this per call.
_VALIDATE = [True]


def _check(spec: Spec, table: object, where: str) -> Mapping[str, Any]:
    if _VALIDATE[0]:
        return spec.check(table, where)
    assert isinstance(table, Mapping)
    return table


def _sev(value: object) -> Severity | None:
    return Severity.parse(value) if isinstance(value, str) else None


def _ids(values: object) -> tuple[str, ...]:
    return tuple(values) if isinstance(values, list) else ()


def build_patient_tables(
    sources: Mapping[str, Any], kb: KnowledgeBase | None = None, *, validated: bool = False
) -> PatientTables:
    """Validate the three tables and build them; drug names are checked when a kb is given."""
    _VALIDATE[0] = not validated
    try:
        return _build(sources, kb)
    finally:
        _VALIDATE[0] = True


def _build(sources: Mapping[str, Any], kb: KnowledgeBase | None) -> PatientTables:
    cached = sources.get(PHRASES_KEY) if not _VALIDATE[0] else None
    cached_phrases: dict[str, tuple[str, str]] | None = (
        {k: (v[0], v[1]) for k, v in cached.items()} if isinstance(cached, dict) else None
    )
    from ketcheck.matching.conditions import phrase_key

    cond_src = sources.get("conditions.toml")
    dose_src = sources.get("doses.toml")
    half_src = sources.get("halflives.toml")
    conditions: dict[str, ConditionRule] = {}
    phrases: dict[str, tuple[str, str]] = {}
    vocabulary = Vocabulary(
        negation=(),
        negation_suffix=(),
        qualifier=(),
        query=(),
        family=(),
        history=(),
        history_suffix=(),
        filler=(),
    )
    ambiguous: dict[str, tuple[tuple[str, ...], str]] = {}
    ladder = EMPTY_LADDER
    amplifiers: list[Amplifier] = []
    if cond_src is not None:
        where = "conditions.toml"
        _check(CONDITIONS_FILE_SPEC, cond_src, where)
        voc = _check(VOCABULARY_SPEC, cond_src["vocabulary"], f"{where} [vocabulary]")
        vocabulary = Vocabulary(**{k: tuple(str(v).casefold() for v in voc[k]) for k in voc})
        ladder = _ladder(cond_src["bp"], f"{where} [bp]")
        for i, body in enumerate(cond_src["condition"]):
            rule = _condition(body, f"{where} condition #{i + 1}")
            if rule.id in conditions:
                raise DataError(f"{where} condition {rule.id!r}: duplicate id")
            conditions[rule.id] = rule
            if cached_phrases is not None:
                continue
            kinds = (
                ("name", body["names"]),
                ("everyday", body.get("everyday", [])),
                ("abbreviation", body.get("abbreviations", [])),
            )
            for kind, values in kinds:
                for phrase in values:
                    key = phrase_key(phrase)
                    if not key:
                        raise DataError(f"{where} condition {rule.id!r}: empty phrase {phrase!r}")
                    other = phrases.get(key)
                    if other is not None and other[0] != rule.id:
                        raise DataError(
                            f"{where} condition {rule.id!r}: phrase {phrase!r} already names "
                            f"{other[0]!r}"
                        )
                    phrases[key] = (rule.id, kind)
        if cached_phrases is not None:
            phrases = cached_phrases
        for rule in conditions.values():
            for link in (rule.history, rule.family):
                if link is not None and link not in conditions:
                    raise DataError(f"{where} condition {rule.id!r}: {link!r}: unknown condition")
        for i, body in enumerate(cond_src.get("ambiguous", [])):
            row = _check(AMBIGUOUS_SPEC, body, f"{where} ambiguous #{i + 1}")
            for c in row["candidates"]:
                if c not in conditions:
                    raise DataError(f"{where} ambiguous {row['phrase']!r}: unknown condition {c!r}")
            ambiguous[phrase_key(row["phrase"])] = (tuple(row["candidates"]), row["reason"])
        known = {*conditions, "bp-reading"}
        for i, body in enumerate(cond_src.get("amplifier", [])):
            amp = _amplifier(body, f"{where} amplifier #{i + 1}", known, kb)
            amplifiers.append(amp)
    doses = _doses(dose_src, kb) if dose_src is not None else None
    halflives: dict[str, HalfLife] = {}
    settings = {"defeated_at_percent": 50.0, "washout_half_lives": 5.0}
    if half_src is not None:
        where = "halflives.toml"
        if not isinstance(half_src, Mapping):
            raise DataError(f"{where}: must be a table")
        for key, body in half_src.items():
            if key == "settings":
                table = _check(HALFLIFE_SETTINGS_SPEC, body, f"{where} [settings]")
                settings = {k: float(v) for k, v in table.items()}
                continue
            halflives[key] = _halflife(body, f"{where} [{key}]", key, kb)
    return PatientTables(
        conditions=conditions,
        vocabulary=vocabulary,
        bp=ladder,
        amplifiers=tuple(amplifiers),
        frequencies=doses["frequencies"] if doses else {},
        dose_times=doses["dose_times"] if doses else {},
        diazepam_tables=doses["diazepam_tables"] if doses else (),
        diazepam=doses["diazepam"] if doses else {},
        diazepam_recalled=doses["diazepam_recalled"] if doses else frozenset(),
        diazepam_settings=doses["diazepam_settings"] if doses else {},
        morphine=doses["morphine"] if doses else {},
        morphine_settings=doses["morphine_settings"] if doses else {},
        bands=doses["bands"] if doses else (),
        maxima=doses["maxima"] if doses else {},
        halflives=halflives,
        defeated_at_percent=settings["defeated_at_percent"],
        washout_half_lives=settings["washout_half_lives"],
        phrases=phrases,
        ambiguous=ambiguous,
    )


def _condition(body: object, where: str) -> ConditionRule:
    table = _check(CONDITION_SPEC, body, where)
    cid = table["id"]
    where = f"{where} ({cid})"
    if not _ID.match(cid):
        raise DataError(f"{where}: id: lowercase letters, digits and hyphens")
    for code in table.get("icd10", []):
        if not _ICD10.match(code):
            raise DataError(f"{where}: icd10: {code!r} is not an ICD-10-CM code")
    for code in table.get("snomed", []):
        if not code.isdigit():
            raise DataError(f"{where}: snomed: {code!r} is not a SNOMED CT concept id")
    if ("recent_weeks" in table) != ("older_severity" in table):
        raise DataError(f"{where}: recent_weeks and older_severity go together")
    return ConditionRule(
        id=cid,
        ref=table.get("ref", ""),
        label=table["label"],
        plain=table["plain"],
        names=tuple(table["names"]),
        abbreviations=tuple(table.get("abbreviations", [])),
        icd10=tuple(table.get("icd10", [])),
        snomed=tuple(table.get("snomed", [])),
        severity={
            "spravato": Severity.parse(table["severity_spravato"]),
            "ketamine": Severity.parse(table["severity_ketamine"]),
        },
        position={"spravato": table["position_spravato"], "ketamine": table["position_ketamine"]},
        effect=table["effect"],
        management=table["management"],
        references=tuple(table["references"]),
        verification=table["verification"],
        disagreement=table.get("disagreement"),
        history=table.get("history"),
        family=table.get("family"),
        history_severity=_sev(table.get("history_severity")),
        recent_weeks=float(table["recent_weeks"]) if "recent_weeks" in table else None,
        older_severity=_sev(table.get("older_severity")),
        lengthens_half_life=bool(table.get("lengthens_half_life", False)),
    )


def _ladder(body: object, where: str) -> BpLadder:
    table = _check(BP_SPEC, body, where)
    levels = []
    for i, raw in enumerate(table["level"]):
        lv = _check(BP_LEVEL_SPEC, raw, f"{where} level #{i + 1}")
        levels.append(
            BpLevel(
                id=lv["id"],
                systolic=lv["systolic"],
                diastolic=lv["diastolic"],
                severity={
                    "spravato": Severity.parse(lv["severity_spravato"]),
                    "ketamine": Severity.parse(lv["severity_ketamine"]),
                },
                label=lv["label"],
                effect=lv["effect"],
                management=lv["management"],
                evidence=lv["evidence"],
                verification=lv["verification"],
                disagreement=lv.get("disagreement"),
            )
        )
    for family in ("spravato", "ketamine"):
        grades = [lv.severity[family] for lv in levels]
        if grades != sorted(grades, reverse=True):
            raise DataError(f"{where}: levels must be listed most severe first ({family})")
    return BpLadder(
        levels=tuple(levels),
        systolic_range=(table["systolic_min"], table["systolic_max"]),
        diastolic_range=(table["diastolic_min"], table["diastolic_max"]),
        references=tuple(table["references"]),
    )


def _check_drug(member: str, where: str, kb: KnowledgeBase | None) -> None:
    kind, _, target = member.partition(":")
    if kind not in ("class", "ingredient") or not target:
        raise DataError(f"{where}: {member!r}: drugs are 'class:<id>' or 'ingredient:<id>'")
    if kb is None or not _VALIDATE[0]:
        return
    known = kb.classes if kind == "class" else kb.ingredients
    if target not in known:
        raise DataError(f"{where}: {member!r}: unknown {kind}")


def _amplifier(body: object, where: str, known: set[str], kb: KnowledgeBase | None) -> Amplifier:
    table = _check(AMPLIFIER_SPEC, body, where)
    where = f"{where} ({table['id']})"
    for c in table["conditions"]:
        if c not in known:
            raise DataError(f"{where}: conditions: unknown condition {c!r}")
    for d in table["drugs"]:
        _check_drug(d, where, kb)
    if table["step"] == 0 and not table.get("suppress_hold", False):
        raise DataError(f"{where}: step 0 does nothing unless suppress_hold is true")
    return Amplifier(
        id=table["id"],
        conditions=tuple(table["conditions"]),
        drugs=tuple(table["drugs"]),
        step=table["step"],
        ceiling=Severity.parse(table.get("ceiling", "major")),
        floor=_sev(table.get("floor")),
        suppress_hold=bool(table.get("suppress_hold", False)),
        why=table["why"],
        management=table["management"],
        references=tuple(table["references"]),
    )


def _ingredient(name: str, where: str, kb: KnowledgeBase | None) -> None:
    if kb is not None and _VALIDATE[0] and name not in kb.ingredients:
        raise DataError(f"{where}: {name!r}: unknown ingredient")


def _doses(src: object, kb: KnowledgeBase | None) -> dict[str, Any]:
    where = "doses.toml"
    table = _check(DOSES_FILE_SPEC, src, where)
    frequencies = {}
    for phrase, body in table["frequency"].items():
        f = _check(FREQUENCY_SPEC, body, f"{where} [frequency] {phrase!r}")
        frequencies[phrase.casefold()] = Frequency(
            per_day=float(f["per_day"]), when=f.get("when"), error_prone=bool(f.get("error_prone"))
        )
    times: dict[str, tuple[int, int]] = {}
    for when, text in table["dose_times"].items():
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text))
        if when not in ("morning", "evening", "bedtime") or m is None:
            raise DataError(f'{where} [dose_times] {when}: a time of day such as "22:00"')
        times[when] = (int(m.group(1)), int(m.group(2)))
    dz = _check(DIAZEPAM_SPEC, table["diazepam"], f"{where} [diazepam]")
    tables = tuple(
        DiazepamTable(**_check(DIAZEPAM_TABLE_SPEC, t, f"{where} [[diazepam.table]] #{i + 1}"))
        for i, t in enumerate(dz["table"])
    )
    table_ids = {t.id for t in tables}
    eq_spec = Spec(
        keys=(
            *(Key(name=t, kind=Kind.NUMBER_LIST, non_empty=True) for t in sorted(table_ids)),
            Key(name="recalled", kind=Kind.BOOL),
        )
    )
    equivalents: dict[str, dict[str, tuple[float, ...]]] = {}
    recalled: set[str] = set()
    for ing, body in dz["equivalent"].items():
        at = f"{where} [diazepam.equivalent] {ing}"
        row = _check(eq_spec, body, at)
        _ingredient(ing, at, kb)
        values = {t: tuple(float(v) for v in row[t]) for t in row if t in table_ids}
        if not values or any(len(v) > 2 or min(v) <= 0 for v in values.values()):
            raise DataError(f"{at}: each table gives [mg] or [low, high] of positive numbers")
        equivalents[ing] = values
        if row.get("recalled"):
            recalled.add(ing)
    mo = _check(MORPHINE_SPEC, table["morphine"], f"{where} [morphine]")
    factors = {}
    for ing, body in mo["factor"].items():
        at = f"{where} [morphine.factor] {ing}"
        row = _check(MORPHINE_FACTOR_SPEC, body, at)
        _ingredient(ing, at, kb)
        factors[ing] = MorphineFactor(
            factor=float(row["factor"]),
            per=row.get("per", "mg"),
            note=row.get("note"),
            unverified=bool(row.get("unverified", False)),
        )
    bands = []
    for i, body in enumerate(table.get("band", [])):
        at = f"{where} [[band]] #{i + 1}"
        row = _check(BAND_SPEC, body, at)
        _ingredient(row["ingredient"], at, kb)
        if row["action"] == "raise" and "severity" not in row:
            raise DataError(f"{at}: action 'raise' needs a severity")
        if kb is not None and "with_class" in row and row["with_class"] not in kb.classes:
            raise DataError(f"{at}: with_class: unknown class {row['with_class']!r}")
        bands.append(
            Band(
                id=row["id"],
                ingredient=row["ingredient"],
                at_least=row.get("at_least"),
                above=row.get("above"),
                below=row.get("below"),
                with_class=row.get("with_class"),
                action=row["action"],
                severity=_sev(row.get("severity")),
                text=row["text"],
                reference=row["reference"],
            )
        )
    maxima = {}
    for ing, body in table.get("maximum", {}).items():
        at = f"{where} [maximum] {ing}"
        row = _check(MAXIMUM_SPEC, body, at)
        _ingredient(ing, at, kb)
        maxima[ing] = Maximum(
            mg_per_day=float(row["mg_per_day"]), source=row["source"], tag=row["tag"]
        )
    return {
        "frequencies": frequencies,
        "dose_times": times,
        "diazepam_tables": tables,
        "diazepam": equivalents,
        "diazepam_recalled": frozenset(recalled),
        "diazepam_settings": {k: v for k, v in dz.items() if k not in ("table", "equivalent")},
        "morphine": factors,
        "morphine_settings": {k: v for k, v in mo.items() if k != "factor"},
        "bands": tuple(bands),
        "maxima": maxima,
    }


def _halflife(body: object, where: str, ing: str, kb: KnowledgeBase | None) -> HalfLife:
    row = _check(HALFLIFE_SPEC, body, where)
    _ingredient(ing, where, kb)
    hours = tuple(float(h) for h in row["hours"])
    if len(hours) != 3 or not 0 < hours[0] <= hours[1] <= hours[2]:
        raise DataError(f"{where}: hours: [low, typical, high], positive and ascending")
    meta = row.get("metabolite_hours")
    if meta is not None and (len(meta) != 2 or not 0 < meta[0] <= meta[1]):
        raise DataError(f"{where}: metabolite_hours: [low, high], positive and ascending")
    if meta is not None and "metabolite" not in row:
        raise DataError(f"{where}: metabolite_hours needs the metabolite's name")
    return HalfLife(
        hours=(hours[0], hours[1], hours[2]),
        source=row["source"],
        tag=row["tag"],
        metabolite=row.get("metabolite"),
        metabolite_hours=(float(meta[0]), float(meta[1])) if meta is not None else None,
        misleads=row.get("misleads"),
    )


# --- loading ---------------------------------------------------------------------------------


def read_patient_sources(root: Traversable) -> dict[str, Any]:
    """Parse the tables that exist under the data root (a missing file is an empty table)."""
    import tomllib

    out: dict[str, Any] = {}
    for name in FILES:
        f = root / name
        if not f.is_file():
            continue
        try:
            out[name] = tomllib.loads(f.read_bytes().decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"data/{name}: invalid TOML: {exc}") from None
    return out


def _fingerprint(root: Traversable) -> str | None:
    from pathlib import Path
    from zlib import crc32

    from ketcheck import __version__

    if not isinstance(root, Path):
        return None
    from ketcheck.matching.conditions import KEY_RULES

    parts = [f"{__version__}:{CACHE_FORMAT}:{os.fspath(root)}:{crc32(KEY_RULES.encode())}"]
    for name in FILES:
        try:
            st = os.stat(os.path.join(os.fspath(root), name))
        except OSError:
            continue
        # ctime as well as mtime: `touch -r` can restore an mtime, but not the change time
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}")
    text = "\n".join(parts).encode()
    return f"{crc32(text):08x}{crc32(text[::-1]):08x}"


@cache
def load_patient_tables() -> PatientTables:
    """The bundled patient-context tables; parsed TOML is cached (TOML parsing is slow)."""
    import sys

    from ketcheck.kb.load import data_root, load_bundled, read_cached, write_cached

    root = data_root()
    fingerprint = _fingerprint(root)
    tag = sys.implementation.cache_tag or "py"
    name = f"patient-{fingerprint}.{tag}.marshal" if fingerprint else None
    loaded = read_cached(name) if name is not None else None
    sources: dict[str, Any] | None = loaded if isinstance(loaded, dict) else None
    kb = load_bundled()
    if sources is not None:
        try:
            return build_patient_tables(sources, kb, validated=True)
        except (DataError, KeyError, TypeError, ValueError, AssertionError):
            sources = None  # a stale or damaged cache: rebuild from the files
    sources = read_patient_sources(root)
    tables = build_patient_tables(sources, kb)
    if name is not None:
        write_cached(
            name, {**sources, PHRASES_KEY: {k: list(v) for k, v in tables.phrases.items()}}
        )
    return tables
