"""The JSON report (schema_version 2): stable keys, input order kept, no timestamps."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ketcheck.model import (
    Ambiguous,
    Amount,
    BloodPressure,
    Candidate,
    Dose,
    Finding,
    Medication,
    PatientCondition,
    Remaining,
    Report,
    Resolved,
    ScheduleItem,
    Unresolved,
)

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
        },
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
        case Ambiguous():
            row.update(reason=r.reason, candidates=[_candidate(c) for c in r.candidates])
        case Unresolved():
            row.update(reason=r.reason, candidates=[_candidate(c) for c in r.suggestions])
    return row


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """One finding of the report."""
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
                "last_dose_by": iso(f.hold.last_dose_by),
                "basis": f.hold.basis,
                "source": f.hold.source,
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
        "severity_source": f.severity_source,
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
        "findings": [finding_to_dict(f) for f in report.findings],
        "schedule": [_schedule(i) for i in report.schedule],
        "standing_notes": list(report.standing_notes),
        "warnings": list(report.warnings),
        "summary": {
            "highest_severity": s.highest_severity.label
            if s.highest_severity is not None
            else None,
            "complete": s.complete,
            "exit_code": s.exit_code,
            "fail_on": report.fail_on.label if report.fail_on is not None else "never",
            "strict": report.strict,
            "counts": {
                "medications": len(report.medications),
                "resolved": s.resolved,
                "ambiguous": s.ambiguous,
                "unresolved": s.unresolved,
                "fuzzy": s.fuzzy,
                "findings": len(report.findings),
                "conditions": len(report.conditions),
                "conditions_unresolved": s.conditions_unresolved,
                "conditions_ambiguous": s.conditions_ambiguous,
            },
        },
    }


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Serialise for output: UTF-8 kept readable, terminal-active characters escaped."""
    from ketcheck.render.literal import json_safe

    separators = (",", ": ") if indent is not None else (",", ":")
    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent, separators=separators))


_SLOT = "\x00medications\x00"


def render_json(report: Report, *, pretty: bool = True) -> str:
    """The JSON report as text: indented for people, compact (and much faster) for pipes."""
    doc = report_to_dict(report)
    if pretty:
        return dumps(doc, indent=2) + "\n"
    # Long lists repeat the same lines: encode each distinct row once and splice them in.
    encoded: dict[int, str] = {}
    parts = []
    for row in doc["medications"]:
        text = encoded.get(id(row))
        if text is None:
            text = encoded[id(row)] = dumps(row, indent=None)
        parts.append(text)
    doc["medications"] = _SLOT
    head = dumps(doc, indent=None)
    return head.replace(json.dumps(_SLOT), "[" + ",".join(parts) + "]", 1) + "\n"
