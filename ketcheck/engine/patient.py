"""The patient-context seam: doses, conditions, blood pressure and half-lives, applied in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from ketcheck.engine.conditions import (
    amplify,
    bp_finding,
    condition_findings,
    grade_bp,
    present_conditions,
)
from ketcheck.engine.derived import Derived
from ketcheck.engine.doses import apply_doses, equivalents, read_dose
from ketcheck.engine.halflife import with_remaining
from ketcheck.engine.lines import Line
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.patient import PatientTables
from ketcheck.matching.conditions import resolve_conditions
from ketcheck.model import Finding, Medication, Route
from ketcheck.patient import BloodPressure, Dose, PatientCondition, PatientContext


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The medications with their doses, the findings after patient context, and what was read."""

    medications: list[Medication]
    findings: list[Finding]
    conditions: tuple[PatientCondition, ...]
    bp: BloodPressure | None
    warnings: list[str]


def with_doses(
    medications: Sequence[Medication],
    kb: KnowledgeBase,
    tables: PatientTables,
    *,
    lines: Mapping[str, Line] | None = None,
) -> tuple[list[Medication], list[Medication]]:
    """Each medication with the dose its line states, and the first of each input (read once).

    `lines` holds the line of each input, which keeps its dose for later checks (a batch).
    """
    dose_of: dict[str, Dose | None] = {}
    out: list[Medication] = []
    firsts: list[Medication] = []
    for m in medications:
        first = m.input not in dose_of
        if first:
            line = lines.get(m.input) if lines is not None else None
            read = partial(_read, m, kb, tables)
            if line is None:
                dose_of[m.input] = read()
            else:
                # A line with no digit and no timing word states no dose (tests/test_sig.py).
                dose_of[m.input] = line.dose(read) if line.sig else None
        dose = dose_of[m.input]
        if dose is not None:
            m = Medication(
                index=m.index,
                input=m.input,
                parsed=m.parsed,
                resolution=m.resolution,
                classes=m.classes,
                recent=m.recent,
                dose=dose,
            )
        out.append(m)
        if first:
            firsts.append(m)
    return out, firsts


def _read(m: Medication, kb: KnowledgeBase, tables: PatientTables) -> Dose | None:
    """The dose an entry states, with its equivalents."""

    def opioid(ing: str) -> bool:
        info = kb.ingredients.get(ing)
        return info is not None and "opioid" in info.classes

    ings = m.ingredients
    dose = read_dose(m.parsed.text or m.input, ings, opioid, tables, name=m.parsed.name)
    if dose is not None:
        found = equivalents(dose, ings, tables)
        if found:  # most drugs have none, and a Dose has none unless given
            dose = replace(dose, equivalents=found)
    return dose


def apply_patient(
    medications: Sequence[Medication],
    findings: Sequence[Finding],
    kb: KnowledgeBase,
    tables: PatientTables,
    *,
    context: PatientContext,
    route: Route,
    session: datetime | None,
    lines: Mapping[str, Line] | None = None,
    derived: Derived,
) -> Outcome:
    """Doses raise or annotate, conditions add findings and raise drug findings, holds get t½."""
    meds, unique = with_doses(medications, kb, tables, lines=lines)

    def has_class(ingredient: str, cls: str) -> bool:
        info = kb.ingredients.get(ingredient)
        return info is not None and cls in info.classes

    def matches(member: str, ingredient: str) -> bool:
        kind, _, target = member.partition(":")
        return ingredient == target if kind == "ingredient" else has_class(ingredient, target)

    facts = apply_doses(findings, unique, tables, has_class=has_class, derived=derived)
    out = facts.findings
    warnings = list(facts.warnings)
    read: list[PatientCondition] = []
    bp: BloodPressure | None = None
    long_end = False
    if context.conditions or context.bp is not None:
        read = [
            replace(pc, bp=grade_bp(pc.bp, tables, route)) if pc.bp is not None else pc
            for pc in resolve_conditions(context.conditions, tables)
        ]
        bp = grade_bp(context.bp, tables, route) if context.bp is not None else None
        if bp is None:
            bp = next((pc.bp for pc in read if pc.bp is not None), None)
        readings = [pc.bp for pc in read if pc.bp is not None and pc.bp is not bp]
        for reading in (bp, *readings):
            if reading is not None:
                f = bp_finding(reading, tables, route)
                if f is not None:
                    out.append(f)
        out += condition_findings(read, tables, route)
        present = present_conditions(read, bp)
        out = amplify(out, present, tables, matches=matches)
        long_end = any(
            tables.conditions[c].lengthens_half_life for c in present if c in tables.conditions
        )
    out = with_remaining(out, unique, tables, session=session, long_end=long_end, derived=derived)
    for pc in read:
        if pc.status.value == "unconfirmed":
            warnings.append(f"condition {pc.input!r}: {pc.reason}")
    return Outcome(medications=meds, findings=out, conditions=tuple(read), bp=bp, warnings=warnings)
