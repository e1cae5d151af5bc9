"""Wording every renderer shares, without Rich: clock times, hold phrases, names, actions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from enum import StrEnum

from ketcheck.model import Finding, Medication, Report, Resolved, ScheduleItem, Severity

FOOTER = "Decision support for clinicians, not a substitute for their judgement."
NO_MEDICATIONS = "No medications reported: the input says the patient takes none."
SESSION_DRUGS = frozenset({"ketamine", "esketamine"})
_CLAUSE_END = re.compile(r"[.;](?:\s|$)")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z])")
_BEDTIME_WORDS = frozenset({"qhs", "hs", "nightly", "bedtime", "night", "nights"})
_MORNING_WORDS = frozenset({"qam", "morning", "mornings"})
# When the usual doses are taken, for turning a hold into "skip the bedtime dose".
_USUAL = {"bedtime": time(22, 0), "morning": time(8, 0)}


class DoseTime(StrEnum):
    """A time of day a frequency names."""

    BEDTIME = "bedtime"
    MORNING = "morning"


def clock(moment: datetime) -> str:
    """A hold time as a clinician reads it: "21:00, Sun 22 Nov"."""
    return f"{moment:%H:%M}, {moment:%a} {moment.day} {moment:%b}"


def day_name(moment: datetime) -> str:
    """The day as "Sun 22 Nov"."""
    return f"{moment:%a} {moment.day} {moment:%b}"


def route_label(report: Report) -> str:
    """IV, IM, or the route's name."""
    value = report.route.value
    return value.upper() if len(value) <= 2 else value


def session_drug(report: Report) -> str:
    """What the session gives, in the patient's words."""
    return "esketamine (Spravato)" if report.route.value == "intranasal" else "ketamine"


def action(f: Finding) -> str:
    """What to do in a few words: the first clause of the rule's advice."""
    text = f.management.strip()
    match = _CLAUSE_END.search(text)
    clause = text[: match.start()] if match else text.rstrip(".")
    if len(clause) > 60 and ":" in clause:
        clause = clause.split(":", 1)[0]  # "Make a blood-pressure plan before dosing: …"
    return clause


def first_sentence(text: str) -> str:
    """The first sentence of a rule's prose (the rest is detail)."""
    match = _SENTENCE_END.search(text)
    return text[: match.start() + 1] if match else text


def usual_dose_time(frequency: tuple[str, ...]) -> DoseTime | None:
    """Bedtime or morning when the sig names only that time of day."""
    words = {w.casefold().strip(".") for w in frequency}
    if words & _BEDTIME_WORDS and not words & _MORNING_WORDS:
        return DoseTime.BEDTIME
    if words & _MORNING_WORDS and not words & _BEDTIME_WORDS:
        return DoseTime.MORNING
    return None


def dose_in_window(kind: DoseTime, last_dose_by: datetime, session: datetime) -> datetime | None:
    """The one usual dose of this kind that falls inside the hold window, if exactly one does."""
    usual = _USUAL[kind.value]
    inside = []
    day = session.date()
    for back in range(0, 4):
        wall = datetime.combine(day - timedelta(days=back), usual, tzinfo=session.tzinfo)
        if last_dose_by < wall < session:
            inside.append(wall)
    return inside[0] if len(inside) == 1 else None


def medications_of(report: Report, item: ScheduleItem) -> list[Medication]:
    """The entries a schedule line is about, in input order."""
    typed = set(item.inputs)
    return [
        m for m in report.medications if item.ingredient in m.ingredients and m.input in typed
    ] or [m for m in report.medications if item.ingredient in m.ingredients]


def frequency_of(report: Report, item: ScheduleItem) -> tuple[str, ...]:
    """The sig words typed with a held medicine (the first entry that has any)."""
    for m in medications_of(report, item):
        if m.parsed.frequency:
            return m.parsed.frequency
    return ()


def hold_phrase(report: Report, item: ScheduleItem) -> str:
    """A schedule line in a few words: "skip the bedtime dose Sun 22 Nov" or "last dose by …"."""
    if item.last_dose_by is None or report.session is None:
        return f"hold {item.hours_before:g} h before"
    kind = usual_dose_time(frequency_of(report, item))
    if kind is not None:
        dose = dose_in_window(kind, item.last_dose_by, report.session)
        if dose is not None:
            return f"skip {kind.value} dose {day_name(dose)}"
    return f"last dose by {item.last_dose_by:%H:%M} {day_name(item.last_dose_by)}"


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:] if name[:1].islower() else name


def known_name(m: Medication) -> str:
    """The name the patient knows, with the generic when it differs: "Klonopin (clonazepam)"."""
    r = m.resolution
    if not isinstance(r, Resolved):
        return m.input
    if r.parts:
        return " and ".join(known_name(replace(m, resolution=p.alone())) for p in r.parts)
    generic = " and ".join(r.ingredients)
    shown = r.matched
    if r.name_kind in ("generic", "code") or shown.casefold() == generic.casefold():
        words = generic.split()
        return " ".join(_capitalised(w) for w in words) if len(words) > 1 else generic
    if r.name_kind == "synonym":
        return shown
    return f"{_capitalised(shown)} ({generic})"


def sentence(text: str) -> str:
    """Text with its first letter in upper case, for the start of a sentence or list item."""
    return _capitalised(text)


def medicines(report: Report) -> list[Medication]:
    """Each medicine once per entry: an entry that names several gives one per medicine."""
    out: list[Medication] = []
    for m in report.medications:
        r = m.resolution
        if isinstance(r, Resolved) and r.parts:
            out += [replace(m, resolution=p.alone()) for p in r.parts]
        else:
            out.append(m)
    return out


def severity_of(report: Report, m: Medication) -> Severity | None:
    """The highest severity of any finding about this entry, None when it was not checked."""
    ings = set(m.ingredients)
    if not ings:
        return None
    found = [f.severity for f in report.findings if ings & set(f.ingredients)]
    return max(found, default=Severity.NONE)
