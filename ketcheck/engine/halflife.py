"""Half-life-aware holds: how much remains at the session, and hold wording that fits the sig."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ketcheck.engine.derived import Derived
from ketcheck.kb.patient import HalfLife, PatientTables
from ketcheck.model import Finding, Hold, Medication
from ketcheck.patient import Remaining


def fraction_left(hours: float, half_life: float) -> float:
    """First-order elimination: the fraction of the level at the last dose left after `hours`."""
    return float(2.0 ** (-hours / half_life))


def _pct(x: float) -> float:
    return round(100.0 * x, 0)


def remaining(
    ingredient: str, hours: float, info: HalfLife, tables: PatientTables, *, long_end: bool = False
) -> Remaining:
    """The share of the drug (and of an active metabolite) still present after a hold."""
    low_t, typical_t, high_t = info.hours
    if long_end:
        typical_t = high_t
    lo, typ, hi = (fraction_left(hours, h) for h in (low_t, typical_t, high_t))
    parent = f"{_fmt(low_t)}-{_fmt(high_t)} h" if low_t != high_t else f"{_fmt(low_t)} h"
    text = (
        f"about {_range(lo, hi)} of the {ingredient} level is still there at the session after a "
        f"{_fmt(hours)} h hold (half-life {parent}; {info.source})"
    )
    worst = typ
    if info.metabolite_hours is not None and info.metabolite:
        m_lo = fraction_left(hours, info.metabolite_hours[0])
        m_hi = fraction_left(hours, info.metabolite_hours[1])
        if m_hi > hi:
            text += f", and about {_range(m_lo, m_hi)} of its active metabolite {info.metabolite}"
            worst = max(worst, (m_lo + m_hi) / 2.0)
    defeated = 100.0 * worst >= tables.defeated_at_percent
    if defeated:
        text += ": the hold avoids the peak, it does not wash the drug out"
        washout = tables.washout_half_lives * max(
            typical_t, info.metabolite_hours[0] if info.metabolite_hours else 0.0
        )
        text += f" (about {_fmt(washout)} h, {_fmt(tables.washout_half_lives)} half-lives, would)"
    else:
        text += ": most of the drug is gone by the session"
    if long_end:
        text += "; the long end of the range is used because of a condition that slows clearance"
    if info.tag != "verified":
        text += f" [{info.tag}]"
    if info.misleads:
        text += f". {info.misleads}"
    span = f"{_fmt(low_t)}-{_fmt(high_t)} h"
    return Remaining(
        ingredient=ingredient,
        percent_low=_pct(lo),
        percent_high=_pct(hi),
        percent_typical=_pct(typ),
        half_life=span,
        source=info.source,
        defeated=defeated,
        text=text,
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _range(lo: float, hi: float) -> str:
    a, b = _pct(lo), _pct(hi)
    return f"{a:.0f}%" if a == b else f"{a:.0f}-{b:.0f}%"


def with_remaining(
    findings: Sequence[Finding],
    medications: Sequence[Medication],
    tables: PatientTables,
    *,
    session: datetime | None,
    long_end: bool,
    derived: Derived,
) -> list[Finding]:
    """Holds annotated with what remains at the session and, for qhs/qAM sigs, the dose to skip."""
    if all(f.hold is None for f in findings):
        return list(findings)
    when_of: dict[str, set[str | None]] = {}
    for m in medications:
        when_of.setdefault(m.input, set()).add(m.dose.when if m.dose is not None else None)
    out = []
    for f in findings:
        if f.hold is None:
            out.append(f)
            continue
        whens = frozenset(w for i in f.inputs for w in when_of.get(i, {None}))
        out.append(derived.get(_held, f, tables, session, long_end, whens))
    return out


def _held(
    f: Finding,
    tables: PatientTables,
    session: datetime | None,
    long_end: bool,
    whens: frozenset[str | None],
) -> Finding:
    """One finding with a hold, given what remains at the session and the dose to skip."""
    assert f.hold is not None
    hold = f.hold
    for ing in f.ingredients:
        info = tables.halflives.get(ing)
        if info is not None:
            hold = replace(
                hold,
                remaining=remaining(ing, hold.hours_before, info, tables, long_end=long_end),
            )
            break
    if session is not None and hold.last_dose_by is not None and len(whens) == 1:
        (when,) = whens
        if when is not None and when in tables.dose_times:
            hold = replace(hold, instruction=_instruction(hold, session, when, tables.dose_times))
    return replace(f, hold=hold)


def _instruction(
    hold: Hold, session: datetime, when: str, times: Mapping[str, tuple[int, int]]
) -> str:
    """Which usual dose falls inside the hold window, as a day and date."""
    assert hold.last_dose_by is not None
    hour, minute = times[when]
    word = {"bedtime": "bedtime", "morning": "morning", "evening": "evening"}[when]
    start = hold.last_dose_by
    skipped: list[datetime] = []
    day = (session - timedelta(days=int(hold.hours_before // 24) + 2)).date()
    while day <= session.date():
        moment = datetime.combine(day, datetime.min.time(), tzinfo=session.tzinfo).replace(
            hour=hour, minute=minute
        )
        if start < moment < session:
            skipped.append(moment)
        day += timedelta(days=1)
    assumed = f"assuming the {word} dose is taken around {hour:02d}:{minute:02d}"
    if not skipped:
        before = [
            datetime.combine(d, datetime.min.time(), tzinfo=session.tzinfo).replace(
                hour=hour, minute=minute
            )
            for d in ((session - timedelta(days=1)).date(), session.date())
        ]
        last = max((b for b in before if b <= start), default=None)
        if last is not None:
            return f"the {word} dose on {_day(last)} can be taken as usual ({assumed})"
        return f"no {word} dose falls inside the hold window ({assumed})"
    days = " and ".join(_day(s) for s in skipped)
    plural = "doses" if len(skipped) > 1 else "dose"
    after = (
        " (it can be taken after the session if the prescriber agrees)" if when == "morning" else ""
    )
    return f"skip the {word} {plural} on {days}{after} ({assumed})"


def _day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%b}"
