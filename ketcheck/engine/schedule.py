"""Turn hold windows into clock times before a session; no clock is read here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ketcheck.engine.derived import Derived
from ketcheck.model import Finding, ScheduleItem


def last_dose_by(session: datetime, hours_before: float) -> datetime:
    """The latest dose time: elapsed hours before the session, correct across DST changes."""
    if session.tzinfo is None:
        return session - timedelta(hours=hours_before)
    instant = session.astimezone(UTC) - timedelta(hours=hours_before)
    return instant.astimezone(session.tzinfo)


def with_clock_times(
    findings: Sequence[Finding], session: datetime | None, *, derived: Derived
) -> list[Finding]:
    """Findings with `last_dose_by` filled in when a session time is known."""
    if session is None:
        return list(findings)
    get = derived.get
    return [f if f.hold is None else get(_timed, f, None, session) for f in findings]


def _timed(f: Finding, _: object, session: datetime) -> Finding:
    """The finding with its hold's last dose time before `session`."""
    assert f.hold is not None
    return replace(f, hold=replace(f.hold, last_dose_by=last_dose_by(session, f.hold.hours_before)))


def plan(findings: Sequence[Finding]) -> list[ScheduleItem]:
    """The "before the session" list: one line per held ingredient, earliest deadline first."""
    items: dict[str, ScheduleItem] = {}
    for f in findings:
        if f.hold is None:
            continue
        for ing in f.ingredients:
            current = items.get(ing)
            if current is None or f.hold.hours_before > current.hours_before:
                items[ing] = ScheduleItem(
                    ingredient=ing,
                    inputs=f.inputs,
                    hours_before=f.hold.hours_before,
                    last_dose_by=f.hold.last_dose_by,
                    basis=f.hold.basis,
                )
    return sorted(items.values(), key=lambda i: (-i.hours_before, i.ingredient))


def standing_notes(findings: Sequence[Finding]) -> list[str]:
    """Safety notes that apply whenever certain rules fire, once each, in finding order."""
    return list(dict.fromkeys(f.standing_note for f in findings if f.standing_note))
