"""A plain-language handout for the patient (Markdown); the HTML renderer prints the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ketcheck.model import Finding, FindingKind, Medication, Report, ScheduleItem, Severity, Status
from ketcheck.render.literal import inert
from ketcheck.render.markdown import md
from ketcheck.render.text import (
    SESSION_DRUGS,
    DoseTime,
    dose_in_window,
    frequency_of,
    known_name,
    medications_of,
    medicines,
    sentence,
    session_drug,
    usual_dose_time,
)

# Classes a patient uses rather than takes: never "keep taking", always "do not use".
RECREATIONAL = frozenset(
    {"alcohol", "illicit-stimulant", "psychedelic", "entactogen", "ayahuasca", "cannabinoid"}
)
# The safety notes of three rules, in the patient's words ({name}: the medicine as they know it).
PLAIN_NOTES = {
    "benzodiazepine": "Never stop {name} suddenly: stopping all at once can cause seizures. "
    "Skip or move only the one dose your care team agreed with you.",
    "maoi": "Keep taking {name} every day. Do not stop or start it around your session; "
    "your care team will check your blood pressure closely instead.",
    "lamotrigine": "Do not stop {name} for more than a day: after a break of several days it "
    "has to be started again slowly at a low dose, because of the risk of a serious rash.",
}
BLANKS = "Name: ______________________________    Clinic phone: ____________________"


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One heading of the handout and its bullet points (already in plain text, not escaped)."""

    title: str
    items: list[str] = field(default_factory=list)
    intro: str = ""
    typed: set[str] = field(default_factory=set)  # items the user typed: escape them as literal
    names: bool = False  # the items are bare names (printed in columns)


def _when(moment: datetime) -> str:
    """The time as a patient reads it: "9:00 pm on Sunday 22 November"."""
    return f"{_hour(moment)} on {moment:%A} {moment.day} {moment:%B}"


def _hour(moment: datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0").lower()


def title(report: Report) -> str:
    """The title, with the session's day and time when known."""
    text = f"Your medicines and your {session_drug(report)} session"
    if report.session is not None:
        s = report.session
        text += f" on {s:%A} {s.day} {s:%B} at {_hour(s)}"
    return text


def _is_recreational(m: Medication) -> bool:
    return bool(set(m.classes) & RECREATIONAL)


def _plain_name(m: Medication) -> str:
    """The known name; a substance a patient uses (beer, weed) reads in lower case."""
    name = known_name(m)
    return name[:1].lower() + name[1:] if _is_recreational(m) and name[1:2].islower() else name


def _hold_line(report: Report, item: ScheduleItem, m: Medication) -> str:
    name = _plain_name(m)
    use = ("drink" if "alcohol" in m.classes else "use") if _is_recreational(m) else "take"
    if item.last_dose_by is None or report.session is None:
        return f"Do not {use} {name} in the {item.hours_before:g} hours before your session." + (
            "" if _is_recreational(m) else " Skip or move only that one dose."
        )
    if _is_recreational(m):
        return f"Do not {use} {name} after {_when(item.last_dose_by)}, or on the day after."
    kind = usual_dose_time(frequency_of(report, item))
    dose = dose_in_window(kind, item.last_dose_by, report.session) if kind else None
    if kind is DoseTime.BEDTIME and dose is not None:
        return (
            f"Skip your bedtime dose of {name} on {dose:%A} night ({dose.day} {dose:%B}). "
            "Take your next bedtime dose as usual after the session."
        )
    if kind is DoseTime.MORNING and dose is not None:
        return (
            f"Do not take your morning dose of {name} on {dose:%A} before the session; "
            "take it after the session instead."
        )
    return (
        f"Take your last dose of {name} by {_when(item.last_dose_by)}. After that, skip or "
        "delay doses until your session is over, but do not stop the medicine."
    )


def _talk_line(m: Medication, findings: list[Finding], report: Report) -> str:
    name = sentence(known_name(m))
    worst = max(f.severity for f in findings)
    combined = [f for f in findings if f.kind is FindingKind.COMBINED]
    if _is_recreational(m):
        return (
            f"{name}: do not use it on the day of your session or the day after, and tell your "
            "care team when you last used it."
        )
    if set(m.ingredients) & SESSION_DRUGS:
        return (
            f"{name}: you have this medicine as well as your {session_drug(report)} session. "
            "Do not use it on your session day, and tell your care team before the session."
        )
    if worst >= Severity.MAJOR:
        text = f"{name}: your care team needs to plan for this medicine before your session."
    else:
        text = f"{name}: it can add to the effects of {session_drug(report)}."
    if combined:
        others = {
            known_name(o)
            for f in combined
            for o in report.medications
            if o.input in f.inputs and o is not m and o.status is Status.RESOLVED
        }
        if others:
            text += f" It needs extra care together with {', '.join(sorted(others))}."
    return text + " Keep taking it as usual unless your care team tells you otherwise."


def _stopped_line(m: Medication, findings: list[Finding]) -> str:
    """A medicine the record says was stopped: never "keep taking", always "tell us when"."""
    name = sentence(known_name(m))
    if not findings or max(f.severity for f in findings) < Severity.MODERATE:
        return name
    return (
        f"{name}: tell your care team the date of your last dose, because it can still matter "
        "for your session. Do not start it again before your session unless they tell you to."
    )


def _findings_for(report: Report, m: Medication) -> list[Finding]:
    ings = set(m.ingredients)
    return [f for f in report.findings if ings & set(f.ingredients)]


_PLAIN_ADVICE = {
    Severity.CONTRAINDICATED: "ketamine or esketamine is not usually given. Your care team will talk "
    "with you about this before any session.",
    Severity.MAJOR: "your care team needs to check this with you before your session, and may "
    "decide to wait.",
    Severity.MODERATE: "your care team will take extra care before and during your session.",
    Severity.MINOR: "your care team will keep an eye on this during your session.",
}


def health_section(report: Report) -> Section:
    """Conditions in plain words: "Because you are pregnant, ..."."""
    section = Section(title="Your health and your session")
    plain = {
        c.condition: c.plain or f"of your {c.label.lower()}"
        for c in report.conditions
        if c.condition and c.status.value == "resolved"
    }
    for f in report.findings:
        if not f.conditions or f.severity <= Severity.NONE:
            continue
        because = " and ".join(dict.fromkeys(plain.get(c, "of your health") for c in f.conditions))
        if f.kind == "condition":
            if "bp-reading" in f.conditions and report.bp is not None:
                because = f"your blood pressure reading was {report.bp.systolic}" + (
                    f"/{report.bp.diastolic}" if report.bp.diastolic is not None else ""
                )
            section.items.append(f"Because {because}, {_PLAIN_ADVICE[f.severity]}")
        else:
            section.items.append(
                f"Because {because}, {' and '.join(f.ingredients)} needs extra care with "
                "ketamine. Keep taking it unless your prescriber tells you otherwise."
            )
    for c in report.conditions:
        if c.status.value in ("unresolved", "ambiguous"):
            item = (
                f'We could not read the health condition "{c.input}": please tell your '
                "clinic exactly what it is."
            )
            section.items.append(item)
            section.typed.add(item)  # it holds what the user typed: escaped when rendered
        elif c.status.value == "unconfirmed":
            item = (
                f'Your record says "{c.input}" but it is not confirmed: please tell your '
                "clinic whether it applies to you."
            )
            section.items.append(item)
            section.typed.add(item)
    return section


def sections(report: Report) -> tuple[str, list[Section]]:
    """The handout's title and sections: each medicine in exactly one of the first six."""
    held: dict[tuple[str, str], ScheduleItem] = {}
    for item in report.schedule:
        for m in medications_of(report, item):
            held.setdefault((m.input, item.ingredient), item)
    session = Section(title="Your session medicine")
    before = Section(title="Before your session")
    talk = Section(title="Talk to your care team about")
    keep = Section(title="Keep taking as usual", names=True)
    stopped = Section(
        title="Medicines you stopped recently",
        intro="Some medicines still act for days or weeks after the last dose.",
    )
    unknown = Section(
        title="Medicines we could not check",
        intro="Please tell your clinic exactly what these are (bring the box or bottle):",
        names=True,
    )
    seen: set[tuple[str, bool]] = set()
    for m in medicines(report):
        key = (known_name(m).casefold() if m.status is Status.RESOLVED else m.input, m.recent)
        if key in seen:
            continue
        seen.add(key)
        findings = _findings_for(report, m)
        kinds = {f.kind for f in findings}
        if m.status is not Status.RESOLVED:
            unknown.items.append(m.input)
            unknown.typed.add(m.input)
        elif FindingKind.NOT_REVIEWED in kinds:
            unknown.items.append(
                f"{known_name(m)} (recognised, but not yet reviewed for use with ketamine)"
            )
        elif m.recent:
            stopped.items.append(_stopped_line(m, findings))
        elif FindingKind.SESSION_MEDICINE in kinds or _is_session_medicine(report, m):
            session.items.append(
                f"{sentence(known_name(m))}: this is the medicine you are given at your session. The clinic "
                "gives it to you; do not use any of your own on the session day."
            )
        elif hold := next(
            (held[(m.input, i)] for i in m.ingredients if (m.input, i) in held), None
        ):
            before.items.append(_hold_line(report, hold, m))
        elif any(f.severity >= Severity.MODERATE for f in findings) or _is_recreational(m):
            talk.items.append(_talk_line(m, findings, report))
        else:
            keep.items.append(sentence(known_name(m)))
    important = Section(title="Important", items=_plain_notes(report))
    day = Section(title="On the day of your session", items=_day_items(report))
    health = health_section(report)
    chosen = [
        s for s in (health, session, before, talk, keep, stopped, unknown, important) if s.items
    ]
    return title(report), [*chosen, day]


def _is_session_medicine(report: Report, m: Medication) -> bool:
    """Esketamine on the list of a Spravato (intranasal) session is the treatment itself."""
    return report.route.value == "intranasal" and set(m.ingredients) == {"esketamine"}


def _plain_notes(report: Report) -> list[str]:
    """The standing safety notes, once each, naming every medicine they are about."""
    about: dict[tuple[str, str], set[str]] = {}
    for f in report.findings:
        if f.standing_note:
            about.setdefault((f.rule, f.standing_note), set()).update(f.ingredients)
    notes: list[str] = []
    for (rule, note), ingredients in about.items():
        template = PLAIN_NOTES.get(rule)
        if template is None:
            notes.append(note)
            continue
        names = [
            known_name(m)
            for m in medicines(report)
            if m.status is Status.RESOLVED and not m.recent and set(m.ingredients) & ingredients
        ]
        if names:  # about taking a medicine: nothing to say when every one was stopped
            notes.append(template.format(name=" or ".join(dict.fromkeys(names))))
    return list(dict.fromkeys(notes))


def _day_items(report: Report) -> list[str]:
    items = [
        "Do not drink alcohol or use cannabis or other recreational drugs on the day of your "
        "session or the day after.",
        "Do not drive, cycle or use machinery until the next day, after a good night's sleep. "
        "Arrange a ride home.",
    ]
    if report.route.value == "intranasal":
        items.append(
            "You will stay at the clinic for at least 2 hours after your dose. If you use a "
            "steroid or decongestant nose spray, use it at least 1 hour before your session."
        )
    else:
        items.append("Follow your clinic's advice about eating and drinking before the session.")
    items.append("Bring this sheet and all your medicines, including vitamins and herbal products.")
    return items


FOOTER = (
    "This sheet was prepared by your care team with the help of ketcheck. It does not replace "
    "their advice: ask them if anything is unclear."
)


def provenance(report: Report) -> str:
    """A small line for the chart copy: tool and data version."""
    return f"ketcheck {report.tool_version} · data {report.data_version}"


def render_handout(report: Report) -> str:
    """The handout as Markdown; everything the user typed is escaped."""
    heading, parts = sections(report)
    lines = [f"# {heading}", "", md(BLANKS), ""]
    for s in parts:
        lines += [f"## {s.title}", ""]
        if s.intro:
            lines += [s.intro, ""]
        lines += [f"- {md(item) if item in s.typed else inert(item)}" for item in s.items] + [""]
    lines += [f"_{FOOTER}_", "", f"<sub>{md(provenance(report))}</sub>", ""]
    return "\n".join(lines)
