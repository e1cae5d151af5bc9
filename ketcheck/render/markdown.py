"""A Markdown report for pasting into notes and tickets: pipe tables, input escaped."""

from __future__ import annotations

import re

from ketcheck.model import (
    Ambiguous,
    Finding,
    FindingKind,
    Medication,
    Method,
    Report,
    Resolved,
    Severity,
    Source,
    Unresolved,
)
from ketcheck.render.hold import after_text
from ketcheck.render.literal import inert
from ketcheck.render.patient_text import (
    bp_text,
    condition_title,
    dose_text,
    finding_extras,
    schedule_extras,
)
from ketcheck.render.text import FOOTER, NO_MEDICATIONS, clock, route_label

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")
_LINE_START = re.compile(r"^(\s*)(-|=|\d+(?=[.)]))")


def _line_start(m: re.Match[str]) -> str:
    lead, marker = m.group(1), m.group(2)
    return f"{lead}\\{marker}" if marker in "-=" else f"{lead}{marker}\\"


def md(text: str) -> str:
    """Input-derived text as literal Markdown: no markup, no HTML, no entities, no table breaks."""
    escaped = _MD_SPECIAL.sub(r"\\\1", inert(text))
    # A leading `-`, `=` or `1.` would open a list, a rule or a heading when the text starts a line.
    return _LINE_START.sub(_line_start, escaped, count=1)


def _match(m_res: Resolved | Ambiguous | Unresolved) -> str:
    match m_res:
        case Resolved():
            mark = "≈ " if m_res.method is Method.FUZZY else ""
            score = f" ({m_res.score:.0f})" if m_res.method is Method.FUZZY else ""
            several = (
                f" ({len(m_res.parts)} medicines on this line)"
                if m_res.name_kind == "multiple"
                else ""
            )
            return f"{mark}{md(m_res.matched)}{score} → {', '.join(m_res.ingredients)}{several}"
        case Ambiguous():
            opts = " or ".join(
                f"{md(c.name)} ({', '.join(c.ingredients)})" for c in m_res.candidates[:4]
            )
            return f"**ambiguous**: {md(m_res.reason)}; did you mean {opts}?"
        case Unresolved():
            return f"**unresolved**: {md(m_res.reason)}"


def _aside(m: Medication) -> str:
    return f" (set aside: {md(' '.join(m.parsed.note))})" if m.parsed.note else ""


def _finding(f: Finding, report: Report) -> list[str]:
    label = f"**{f.severity.label.upper()}**"
    inputs = "; ".join(md(i) for i in f.inputs[:5])
    out = [
        f"### {label} — {md(condition_title(f, report))} ({'/'.join(e.value for e in f.effects)})",
        "",
        f"- As typed: {inputs}",
        f"- What happens: {f.effect}",
        f"- Why: {f.mechanism}",
        f"- What to do: {f.management}",
    ]
    if f.hold is not None:
        when = f", last dose by {clock(f.hold.last_dose_by)}" if f.hold.last_dose_by else ""
        out.append(
            f"- Hold: {f.hold.hours_before:g} h before the session{when}{after_text(f.hold)}"
            f" ({md(f.hold.basis)})"
        )
    out += [f"- {name}: {md(value)}" for name, value in finding_extras(f)]
    if f.disagreement:
        out.append(f"- Sources disagree: {f.disagreement}")
    if f.severity_source is Source.PROTOCOL:
        out.append(f"- Severity set by: protocol: {md(report.protocol)}")
    out.append(f"- Evidence: {f.evidence}")
    out.append(f"- References: {'; '.join(f.references)}")
    return [*out, ""]


def patient_lines(report: Report) -> list[str]:
    """Blood pressure, the conditions table and dose facts, each only when there is one."""
    lines: list[str] = []
    if report.bp is not None:
        lines += [f"Blood pressure: **{md(bp_text(report.bp))}**", ""]
    if report.conditions:
        lines += ["| # | Condition as given | Status | Read as |", "|---|---|---|---|"]
        for c in report.conditions:
            read = " — ".join(x for x in (c.label, c.reason) if x) or "—"
            lines.append(f"| {c.index + 1} | {md(c.input)} | {c.status.value} | {md(read)} |")
        lines.append("")
    doses = {m.input: m.dose for m in report.medications if m.dose is not None}
    if doses:
        lines += ["## Doses", ""]
        for text, d in list(doses.items())[:50]:
            notes = "".join(f"; {md(n)}" for n in d.notes)
            lines.append(f"- {md(text)}: {md(dose_text(d))}{notes}")
        lines.append("")
    return lines


def render_markdown(report: Report) -> str:
    """The report as GitHub-flavoured Markdown."""
    s = report.summary
    session = report.session.isoformat(timespec="minutes") if report.session else "not given"
    lines = [
        "# ketcheck report",
        "",
        f"Route: **{route_label(report)}** · Session: **{session}** · Protocol: {md(report.protocol)}"
        f" · ketcheck {report.tool_version} · data {report.data_version}",
        "",
        "| # | As typed | Status | Matched → ingredients | Classes |",
        "|---|---|---|---|---|",
    ]
    if not report.medications:
        lines[-2:] = [NO_MEDICATIONS]
    for m in report.medications:
        status = m.status.value + (" (recent)" if m.recent else "")
        lines.append(
            f"| {m.index + 1} | {md(m.input)} | {status} | {_match(m.resolution)}{_aside(m)} | "
            f"{', '.join(m.classes) or '—'} |"
        )
    lines.append("")
    lines += patient_lines(report)
    # A severity the clinic's protocol set, even to none, is shown with who set it.
    real = [
        f
        for f in report.findings
        if f.severity > Severity.NONE or f.hold is not None or f.severity_source is Source.PROTOCOL
    ]
    unreviewed = [f for f in report.findings if f.kind is FindingKind.NOT_REVIEWED]
    own = [f for f in report.findings if f.kind is FindingKind.SESSION_MEDICINE]
    none = [f for f in report.findings if f not in real and f not in unreviewed and f not in own]
    if unreviewed:
        names = ", ".join(i for f in unreviewed for i in f.ingredients)
        lines += [
            f"**NOT REVIEWED for ketamine — confirm by hand:** {names}. {unreviewed[0].management}",
            "",
        ]
    if real:
        lines += ["## Findings", ""]
        for f in real:
            lines += _finding(f, report)
    if own:
        names = ", ".join(i for f in own for i in f.ingredients)
        lines += [f"The session medicine (not a duplicate): {names}.", ""]
    if none:
        names = ", ".join(i for f in none for i in f.ingredients)
        lines += [f"No known interaction with ketamine: {names}.", ""]
    if report.schedule:
        lines += ["## Before the session", ""]
        for item in report.schedule:
            when = (
                f"by {clock(item.last_dose_by)}"
                if item.last_dose_by
                else f"{item.hours_before:g} h before the session"
            )
            lines.append(f"- Last {item.ingredient} dose {when} ({md(item.basis)})")
            lines += [f"  {md(x)}" for x in schedule_extras(report, item.ingredient)]
        lines.append("")
    if report.standing_notes:
        lines += ["## Always", ""] + [f"- {n}" for n in report.standing_notes] + [""]
    verdict = s.highest_severity.label if s.highest_severity is not None else "no findings"
    complete = (
        "complete"
        if s.complete
        else "**INCOMPLETE — confirm unresolved or not-reviewed names by hand**"
    )
    lines += [
        f"**Verdict:** highest severity {verdict}; check {complete}; exit {s.exit_code}.",
        "",
        f"_{FOOTER}_",
        "",
    ]
    return "\n".join(lines)
