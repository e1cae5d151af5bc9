"""A plain-language handout for the patient (Markdown); the HTML renderer prints the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ketcheck.model import Finding, FindingKind, Report, Severity, Status
from ketcheck.render.literal import inert
from ketcheck.render.markdown import md


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One heading of the handout and its bullet points."""

    title: str
    items: list[str] = field(default_factory=list)
    intro: str = ""


def _when(moment: datetime) -> str:
    hour = moment.strftime("%I:%M %p").lstrip("0").lower()
    return f"{hour} on {moment:%A} {moment.day} {moment:%B}"


def _which_dose(report: Report, ingredient: str) -> str:
    """The sentence naming the dose to skip, when the sig says when the dose is due."""
    for f in report.findings:
        if f.hold is not None and f.hold.instruction and ingredient in f.ingredients:
            text = f.hold.instruction.split(" (assuming")[0]
            return f" That means: {text}."
    return ""


def _drug(f: Finding) -> str:
    return " and ".join(f.ingredients)


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
                f"Because {because}, {_drug(f)} needs extra care with ketamine. Keep taking it "
                "unless your prescriber tells you otherwise."
            )
    for c in report.conditions:
        if c.status.value in ("unresolved", "ambiguous"):
            section.items.append(
                f'We could not read the health condition "{md(c.input)}": please tell your '
                "clinic exactly what it is."
            )
    return section


def sections(report: Report) -> tuple[str, list[Section]]:
    """The handout's title and sections, shared by the Markdown and HTML renderers."""
    title = "Your medicines and your ketamine session"
    if report.session is not None:
        title += f" on {report.session:%A} {report.session.day} {report.session:%B}"
    hold = Section(title="Before your session")
    for item in report.schedule:
        if item.last_dose_by is not None:
            hold.items.append(
                f"Take your last dose of {item.ingredient} no later than {_when(item.last_dose_by)}. "
                "Skip or move only the dose that falls in that window; do not stop the medicine."
                + _which_dose(report, item.ingredient)
            )
        else:
            hold.items.append(
                f"Do not take {item.ingredient} in the {item.hours_before:g} hours before your session. "
                "Skip or move only that dose; do not stop the medicine."
            )
    talk = Section(title="Talk to your care team about")
    keep = Section(title="Keep taking as usual")
    held = {i.ingredient for i in report.schedule}
    for f in report.findings:
        name = _drug(f)
        if f.kind in (FindingKind.NOT_REVIEWED, FindingKind.SESSION_MEDICINE):
            continue  # listed under "Medicines we could not check" / not a medicine to hold
        if f.kind is FindingKind.CONDITION:
            continue
        if f.kind is FindingKind.COMBINED:
            talk.items.append(
                f"Taking {name} together: the combination needs extra care on session day. "
                "Your team will plan for it."
            )
        elif f.severity >= Severity.MAJOR:
            talk.items.append(
                f"{name}: your team needs to plan around this medicine before your "
                "session. Keep taking it unless your prescriber tells you otherwise."
            )
        elif f.severity is Severity.MODERATE and not (set(f.ingredients) & held):
            talk.items.append(
                f"{name}: this can add to ketamine's effects. Your team may adjust "
                "the timing of your dose."
            )
        elif f.severity <= Severity.MINOR and not (set(f.ingredients) & held):
            keep.items.append(f"{name}")
    keep = Section(title=keep.title, items=sorted(dict.fromkeys(keep.items)))
    unknown = Section(
        title="Medicines we could not check",
        intro="Please tell your clinic exactly what these are (bring the box or bottle):",
        items=[md(m.input) for m in report.medications if m.status is not Status.RESOLVED]
        + [
            f"{_drug(f)} (recognised, but not yet reviewed for use with ketamine)"
            for f in report.findings
            if f.kind is FindingKind.NOT_REVIEWED
        ],
    )
    notes = Section(title="Important", items=list(report.standing_notes))
    day = Section(
        title="On the day of your session",
        items=[
            "Do not drink alcohol or use cannabis or other recreational drugs on the day of your "
            "session or the day after.",
            "Do not drive, cycle or operate machinery until the next day after a good night's sleep. "
            "Arrange a ride home.",
            "Bring this list and all your medicines, including vitamins and herbal products.",
        ],
    )
    health = health_section(report)
    chosen = [s for s in (health, hold, talk, keep, unknown, notes) if s.items] + [day]
    return title, chosen


def render_handout(report: Report) -> str:
    """The handout as Markdown."""
    title, parts = sections(report)
    lines = [f"# {title}", ""]
    for s in parts:
        lines += [f"## {s.title}", ""]
        if s.intro:
            lines += [s.intro, ""]
        lines += [f"- {inert(item)}" for item in s.items] + [""]
    lines += [
        "_This sheet was prepared by your care team with the help of ketcheck. It does not replace "
        "their advice: ask them if anything is unclear._",
        "",
    ]
    return "\n".join(lines)
