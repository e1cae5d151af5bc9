"""Patient-context text shared by the report formats: BP, dose arithmetic, condition titles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ketcheck.model import Finding, Report

if TYPE_CHECKING:
    from ketcheck.patient import BloodPressure, Dose


def bp_text(bp: BloodPressure) -> str:
    """A reading with the level it reaches: "150/95 mmHg — at or above the 140/90 guide (moderate)"."""
    shown = (
        f"{bp.systolic}/{bp.diastolic}" if bp.diastolic is not None else f"systolic {bp.systolic}"
    )
    grade = f" ({bp.severity.label})" if bp.severity is not None else ""
    return f"{shown} mmHg — {bp.label}{grade}" if bp.label else f"{shown} mmHg"


def dose_text(d: Dose) -> str:
    """One line of dose arithmetic: per dose × per day = daily, and the equivalents."""
    parts = []
    if d.per_dose is not None:
        parts.append(f"{_num(d.per_dose.amount)} {d.per_dose.unit}")
    if d.doses_per_day is not None:
        parts.append(f"× {_num(d.doses_per_day)}/day")
    if d.daily is not None:
        parts.append(f"= {_num(d.daily.amount)} {d.daily.unit}/day")
    text = " ".join(parts) or "dose not stated"
    if d.prn:
        text += " (as needed: the most the sig allows)"
    eq: dict[str, list[str]] = {}
    for e in d.equivalents:
        value = (
            f"{_num(e.low)}-{_num(e.high)}"
            if e.low is not None and e.high is not None
            else _num(e.amount)
        )
        eq.setdefault(f"≈ {value} mg {e.kind.value}", []).append(e.table)
    if eq:
        text += "; " + "; ".join(f"{k} ({', '.join(v)})" for k, v in eq.items())
    return text


def _num(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def condition_title(f: Finding, report: Report) -> str:
    """What a finding is about: its ingredients, or for a condition finding the condition."""
    if f.ingredients:
        return ", ".join(f.ingredients)
    labels = {c.condition: c.label for c in report.conditions if c.condition}
    if report.bp is not None:
        labels.setdefault("bp-reading", "Blood pressure")
    return ", ".join(labels.get(c, c) for c in f.conditions) or "condition"


def finding_extras(f: Finding) -> list[tuple[str, str]]:
    """Rows patient context adds to a finding: what remains after the hold, dose and condition facts."""
    rows: list[tuple[str, str]] = []
    if f.hold is not None and f.hold.instruction:
        rows.append(("Which dose", f.hold.instruction))
    if f.hold is not None and f.hold.remaining is not None:
        rows.append(("Remaining", f.hold.remaining.text))
    if f.raised_from is not None:
        rows.append(("Raised", f"from {f.raised_from.label} to {f.severity.label}"))
    rows.extend(("Note", n) for n in f.notes)
    return rows


def schedule_extras(report: Report, ingredient: str) -> list[str]:
    """The dose to skip and what remains at the session, for one held ingredient."""
    for f in report.findings:
        if f.hold is not None and ingredient in f.ingredients:
            out = []
            if f.hold.instruction:
                out.append(f.hold.instruction[:1].upper() + f.hold.instruction[1:] + ".")
            if f.hold.remaining is not None:
                r = f.hold.remaining
                out.append(
                    f"About {r.percent_low:.0f}-{r.percent_high:.0f}% remains at the session"
                    + (": not a washout." if r.defeated else ".")
                )
            return out
    return []
