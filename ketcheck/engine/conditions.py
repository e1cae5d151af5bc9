"""Condition findings, the blood-pressure grade, and conditions that raise drug findings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ketcheck.kb.patient import BpLevel, ConditionRule, PatientTables, label_for
from ketcheck.model import Effect, Finding, FindingKind, Route, Severity
from ketcheck.patient import BloodPressure, ConditionStatus, PatientCondition

READING = "bp-reading"


def grade_bp(bp: BloodPressure, tables: PatientTables, route: Route) -> BloodPressure:
    """The reading with the highest ladder level it reaches (either number counts)."""
    family = label_for(route)
    for level in tables.bp.levels:
        over = bp.systolic >= level.systolic or (
            bp.diastolic is not None and bp.diastolic >= level.diastolic
        )
        if over:
            return replace(bp, level=level.id, label=level.label, severity=level.severity[family])
    return replace(bp, level=None, label="below 140/90", severity=Severity.NONE)


def _level(tables: PatientTables, level_id: str | None) -> BpLevel | None:
    return next((lv for lv in tables.bp.levels if lv.id == level_id), None)


def bp_finding(bp: BloodPressure, tables: PatientTables, route: Route) -> Finding | None:
    """A finding for a graded reading at or above the first level; None below it."""
    level = _level(tables, bp.level)
    if level is None or bp.severity is None or bp.severity <= Severity.NONE:
        return None
    shown = (
        f"{bp.systolic}/{bp.diastolic}" if bp.diastolic is not None else f"systolic {bp.systolic}"
    )
    other = "ketamine" if label_for(route) == "spravato" else "spravato"
    disagreement = level.disagreement
    if level.severity[other] != bp.severity:
        where = "IV/IM/oral/sublingual ketamine" if other == "ketamine" else "Spravato (intranasal)"
        note = f"For {where} this level is {level.severity[other].label}."
        disagreement = f"{disagreement} {note}" if disagreement else note
    note = "" if bp.diastolic is not None else " Only the systolic number was given."
    return Finding(
        rule=f"bp:{level.id}",
        kind=FindingKind.CONDITION,
        ingredients=(),
        inputs=(bp.text,),
        severity=bp.severity,
        effects=(Effect.SAFETY,),
        effect=f"Blood pressure {shown} mmHg, {level.label}. {level.effect}{note}",
        mechanism="Ketamine and esketamine raise blood pressure through sympathetic stimulation, "
        "peaking about 40 minutes after the dose.",
        management=level.management,
        evidence=f"{level.evidence} ({level.verification})",
        references=tables.bp.references,
        disagreement=disagreement,
        applies_via=READING,
        conditions=(READING,),
    )


def _severity(
    rule: ConditionRule, pc: PatientCondition, route: Route
) -> tuple[Severity, list[str]]:
    notes: list[str] = []
    severity = rule.severity_for(route)
    if pc.history and rule.history_severity is not None:
        severity = rule.history_severity
        notes.append(f"Graded as a past condition ({severity.label}): confirm it is not current.")
    if rule.recent_weeks is not None and rule.older_severity is not None:
        if pc.recent is False:
            severity = rule.older_severity
            notes.append(
                f"More than {rule.recent_weeks:g} weeks ago: graded {severity.label}; within "
                f"{rule.recent_weeks:g} weeks it would be {rule.severity_for(route).label}."
            )
        elif pc.recent is None:
            notes.append(
                f"No date (or only a year) given: graded as within {rule.recent_weeks:g} "
                f"weeks; give the date (more than {rule.recent_weeks:g} weeks ago is "
                f"{rule.older_severity.label})."
            )
    return severity, notes


def condition_findings(
    conditions: Sequence[PatientCondition], tables: PatientTables, route: Route
) -> list[Finding]:
    """One finding per resolved condition with a caution, merged across repeated entries."""
    by_id: dict[str, Finding] = {}
    family = label_for(route)
    other = "ketamine" if family == "spravato" else "spravato"
    for pc in conditions:
        if pc.status is not ConditionStatus.RESOLVED or pc.condition in (None, READING):
            continue
        rule = tables.conditions.get(pc.condition or "")
        if rule is None:
            continue
        severity, notes = _severity(rule, pc, route)
        if severity <= Severity.NONE:
            continue
        prev = by_id.get(rule.id)
        if prev is not None:
            worse = max(prev.severity, severity)
            by_id[rule.id] = replace(
                prev,
                inputs=(*prev.inputs, pc.input),
                severity=worse,
                notes=tuple(dict.fromkeys((*prev.notes, *notes))),
            )
            continue
        disagreement = rule.disagreement
        if rule.severity[other] != rule.severity[family]:
            where = (
                "IV/IM/oral/sublingual ketamine" if other == "ketamine" else "Spravato (intranasal)"
            )
            extra = f"For {where} the labels grade this {rule.severity[other].label}: {rule.position[other]}"
            disagreement = f"{disagreement} {extra}" if disagreement else extra
        which = "Spravato label (intranasal)" if family == "spravato" else "Ketamine labels"
        by_id[rule.id] = Finding(
            rule=f"condition:{rule.id}",
            kind=FindingKind.CONDITION,
            ingredients=(),
            inputs=(pc.input,),
            severity=severity,
            effects=(Effect.SAFETY,),
            effect=rule.effect,
            mechanism=f"{which}: {rule.position[family]}",
            management=rule.management,
            evidence=f"{rule.label} ({rule.ref or 'reviewed'}): {rule.verification}.",
            references=rule.references,
            disagreement=disagreement,
            applies_via=rule.id,
            conditions=(rule.id,),
            notes=tuple(notes),
        )
    return list(by_id.values())


def present_conditions(
    conditions: Sequence[PatientCondition], bp: BloodPressure | None
) -> dict[str, str]:
    """Condition ids in effect (a reading at or above the first level counts), with labels."""
    out: dict[str, str] = {}
    for pc in conditions:
        if pc.status is ConditionStatus.RESOLVED and pc.condition and pc.condition != READING:
            out.setdefault(pc.condition, pc.label)
    readings = [pc.bp for pc in conditions if pc.bp is not None]
    if bp is not None:
        readings.append(bp)
    for r in readings:
        if r.severity is not None and r.severity >= Severity.MODERATE:
            out.setdefault(READING, f"blood pressure {r.systolic}/{r.diastolic or '?'} ({r.label})")
    return out


def amplify(
    findings: Sequence[Finding],
    present: dict[str, str],
    tables: PatientTables,
    *,
    matches: Callable[[str, str], bool],
) -> list[Finding]:
    """Raise drug findings where a listed condition makes them worse, and say why."""
    if not present:
        return list(findings)
    out = []
    for f in findings:
        if f.kind not in ("interaction", "combined"):
            out.append(f)
            continue
        for amp in tables.amplifiers:
            hit = [c for c in amp.conditions if c in present]
            if not hit:
                continue
            if not any(matches(d, ing) for d in amp.drugs for ing in f.ingredients):
                continue
            names = ", ".join(present[c] for c in hit)
            target = f.severity + amp.step
            if amp.floor is not None:
                target = max(target, amp.floor)
            target = min(target, max(amp.ceiling, f.severity))
            new = Severity(max(f.severity, target))
            notes = list(f.notes)
            if new > f.severity:
                notes.append(
                    f"Raised from {f.severity.label} to {new.label} because of {names}: {amp.why}"
                )
            else:
                notes.append(f"Because of {names}: {amp.why}")
            notes.append(f"With {names}: {amp.management}")
            hold = f.hold
            if amp.suppress_hold and hold is not None:
                hold = None
                notes.append(f"No hold is suggested because of {names}.")
            f = replace(
                f,
                severity=new,
                raised_from=(f.raised_from or f.severity) if new > f.severity else f.raised_from,
                conditions=tuple(dict.fromkeys((*f.conditions, *hit))),
                notes=tuple(dict.fromkeys(notes)),
                references=tuple(dict.fromkeys((*f.references, *amp.references))),
                hold=hold,
            )
        out.append(f)
    return out
