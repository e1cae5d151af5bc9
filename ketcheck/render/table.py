"""The terminal report: Rich renderables, coloured by severity, input always shown literally."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from ketcheck.model import (
    Ambiguous,
    ExitCode,
    Finding,
    FindingKind,
    Medication,
    Method,
    Report,
    Resolved,
    Severity,
    Source,
    Status,
    Unresolved,
)
from ketcheck.render.hold import after_text
from ketcheck.render.literal import inert

if TYPE_CHECKING:
    from ketcheck.patient import BloodPressure, Dose

SEVERITY_STYLE = {
    Severity.CONTRAINDICATED: "bold white on red",
    Severity.MAJOR: "bold red",
    Severity.MODERATE: "bold yellow",
    Severity.MINOR: "cyan",
    Severity.NONE: "green",
}
STATUS_STYLE = {
    Status.RESOLVED: "green",
    Status.AMBIGUOUS: "bold yellow",
    Status.UNRESOLVED: "bold red",
}
NO_MEDICATIONS = "No medications reported: the input says the patient takes none."
FOOTER = "Decision support for clinicians, not a substitute for their judgement."


def clock(moment: datetime) -> str:
    """A hold time as a clinician reads it: "21:00, Sun 22 Nov"."""
    return f"{moment:%H:%M}, {moment:%a} {moment.day} {moment:%b}"


def _header(report: Report) -> Text:
    session = (
        f"{report.session:%a %d %b %Y %H:%M}"
        + (f" ({report.session:%z})" if report.session.tzinfo else "")
        if report.session
        else "not given"
    )
    t = Text()
    t.append("ketcheck ", style="bold")
    t.append(f"{report.tool_version} · data {report.data_version}\n")
    t.append("Route: ", style="bold")
    t.append(report.route.value.upper() if len(report.route.value) <= 2 else report.route.value)
    t.append("   Session: ", style="bold")
    t.append(session)
    t.append("\nProtocol: ", style="bold")
    t.append(inert(report.protocol))
    patient_header(report, t)
    return t


def patient_header(report: Report, t: Text) -> None:
    """Conditions and blood pressure as header lines (only when given)."""
    if report.conditions:
        t.append("\nConditions: ", style="bold")
        t.append("; ".join(inert(c.input) for c in report.conditions))
    if report.bp is not None:
        t.append("\nBlood pressure: ", style="bold")
        t.append(f"{bp_text(report.bp)}")


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


def patient_sections(report: Report) -> list[RenderableType]:
    """The conditions table and the dose facts, each only when there is something to show."""
    out: list[RenderableType] = []
    if report.conditions:
        table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, show_edge=False)
        table.add_column("#", justify="right", style="dim", no_wrap=True)
        table.add_column("Condition as given", overflow="fold", max_width=30)
        table.add_column("Status", no_wrap=True)
        table.add_column("Read as", overflow="fold")
        for c in report.conditions:
            style = {"resolved": "green", "negated": "cyan"}.get(c.status.value, "bold red")
            read = " — ".join(x for x in (c.label, c.reason) if x) or "—"
            table.add_row(
                str(c.index + 1),
                Text(inert(c.input)),
                Text(c.status.value, style=style),
                Text(inert(read)),
            )
        out += [table, Text("")]
    doses = [m for m in report.medications if m.dose is not None]
    if doses:
        lines = []
        seen: set[str] = set()
        for m in doses:
            if m.input in seen or m.dose is None:
                continue
            seen.add(m.input)
            t = Text()
            t.append(inert(m.input), style="bold")
            t.append(f": {dose_text(m.dose)}")
            for note in m.dose.notes:
                t.append(f"; {note}", style="dim")
            lines.append(t)
            if len(lines) >= 50:
                break
        out += [Text("Doses", style="bold underline"), _bullets(lines), Text("")]
    return out


def _match_text(m: Medication) -> Text:
    r = m.resolution
    t = Text()
    match r:
        case Resolved():
            if r.method is Method.FUZZY:
                t.append("≈ ", style="bold yellow")
                t.append(inert(r.matched))
                t.append(f" ({r.score:.0f})", style="dim")
            else:
                t.append(inert(r.matched))
            t.append(" → ")
            t.append(", ".join(r.ingredients), style="bold")
            if r.name_kind == "multiple":
                t.append(f" ({len(r.parts)} medicines on this line)", style="bold yellow")
        case Ambiguous():
            t.append(inert(r.reason) + "; ", style="yellow")
            t.append("did you mean ", style="yellow")
            t.append(_candidates(r.candidates))
            t.append("?", style="yellow")
        case Unresolved():
            t.append(inert(r.reason), style="red")
            if r.suggestions:
                t.append("; closest: ")
                t.append(_candidates(r.suggestions))
    if m.parsed.note:
        t.append(" · set aside: " + inert(" ".join(m.parsed.note)), style="dim")
    return t


def _candidates(cands: tuple[object, ...]) -> str:
    parts = []
    for c in cands[:4]:
        name = getattr(c, "name", "")
        ings = ", ".join(getattr(c, "ingredients", ()))
        classes = ", ".join(getattr(c, "classes", ())) or "no interaction class"
        shown = inert(name) if name.casefold() == ings.casefold() else f"{inert(name)} = {ings}"
        parts.append(f"{shown} ({classes})")
    return " or ".join(parts)


def _medications(report: Report) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("As typed", overflow="fold", max_width=28)
    table.add_column("Status", no_wrap=True)
    table.add_column("Matched → ingredients", overflow="fold")
    table.add_column("Classes", overflow="fold", max_width=22)
    for m in report.medications:
        status = Text(m.status.value, style=STATUS_STYLE[m.status])
        if m.recent:
            status.append(" (recent)", style="dim")
        table.add_row(
            str(m.index + 1),
            Text(inert(m.input)),
            status,
            _match_text(m),
            Text(", ".join(m.classes) or "—", style="dim"),
        )
    return table


class _Rows:
    """Label/value rows whose wrapped values keep a hanging indent.

    The column widths are fixed from the label lengths and the console width, so Rich need not
    measure every cell of every finding before drawing it (most of the table report's cost).
    """

    __slots__ = ("label_style", "min_label", "rows")

    def __init__(
        self, rows: list[tuple[str, Text]], *, min_label: int = 0, label_style: str = ""
    ) -> None:
        self.rows = rows
        self.min_label = min_label
        self.label_style = label_style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label = max([self.min_label, *(cell_len(r[0]) for r in self.rows)])
        longest = max(
            (cell_len(line) for r in self.rows for line in r[1].plain.split("\n")), default=1
        )
        grid = Table.grid(padding=(0, 1), pad_edge=False)
        grid.add_column(style=self.label_style, no_wrap=True, width=label)
        grid.add_column(overflow="fold", width=max(min(longest, options.max_width - label - 1), 1))
        for name, value in self.rows:
            grid.add_row(name, value)
        yield grid


def _finding(f: Finding, protocol: str, report: Report | None = None) -> Group:
    head = Text()
    head.append(f" {f.severity.label.upper()} ", style=SEVERITY_STYLE[f.severity])
    head.append(" ")
    head.append(condition_title(f, report) if report else ", ".join(f.ingredients), style="bold")
    shown_inputs = [inert(i) for i in f.inputs[:3]]
    head.append(
        f" (as typed: {'; '.join(shown_inputs)}{'; …' if len(f.inputs) > 3 else ''})", style="dim"
    )
    head.append(f" · {'/'.join(e.value for e in f.effects)}", style="italic")
    if f.kind is FindingKind.COMBINED:
        head.append(" · combined risk", style="bold magenta")
    if f.kind is FindingKind.CONDITION:
        head.append(" · condition", style="bold magenta")
    rows: list[tuple[str, Text]] = []

    def field(label: str, value: str | None, style: str = "") -> None:
        if value:
            rows.append((f"  {label}", Text(value, style=style)))

    field("What happens", f.effect)
    field("Why", f.mechanism)
    field("What to do", f.management)
    if f.hold is not None:
        when = f", last dose by {clock(f.hold.last_dose_by)}" if f.hold.last_dose_by else ""
        field(
            "Hold",
            f"{f.hold.hours_before:g} h before the session{when}{after_text(f.hold)}"
            f" — {f.hold.basis}",
            "bold",
        )
    for label, value in finding_extras(f):
        field(label, value)
    field("Disagreement", f.disagreement)
    field("Evidence", f.evidence, "dim")
    field("References", "; ".join(f.references), "dim")
    if f.severity_source is Source.PROTOCOL:
        field("Severity set by", f"protocol: {protocol}", "dim")
    return Group(head, _Rows(rows, min_label=13, label_style="bold"))


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


def _bullets(items: list[Text]) -> _Rows:
    """Bullet points whose wrapped lines stay indented under their text."""
    return _Rows([("  •", item) for item in items])


def _schedule(report: Report) -> list[RenderableType]:
    if not report.schedule:
        return []
    out: list[RenderableType] = [Text("Before the session", style="bold underline")]
    lines: list[Text] = []
    for item in report.schedule:
        t = Text()
        if item.last_dose_by is not None:
            t.append(f"last {item.ingredient} dose by {clock(item.last_dose_by)}", style="bold")
            t.append(f" ({item.hours_before:g} h before)")
        else:
            t.append(
                f"last {item.ingredient} dose {item.hours_before:g} h before the session",
                style="bold",
            )
        t.append(f" — {item.basis}", style="dim")
        for extra in schedule_extras(report, item.ingredient):
            t.append(f"\n{extra}")
        lines.append(t)
    out.append(_bullets(lines))
    if report.session is None:
        out.append(Text("  Give --session 2026-11-23T09:00 to see clock times.", style="dim"))
    return out


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


def _verdict(report: Report) -> Text:
    s = report.summary
    t = Text()
    t.append("Verdict: ", style="bold")
    if (
        s.highest_severity is not None
        and report.fail_on is not None
        and s.exit_code is ExitCode.RISK
    ):
        t.append(f"{s.highest_severity.label} risk found", style=SEVERITY_STYLE[s.highest_severity])
    elif s.highest_severity is not None and s.highest_severity > Severity.NONE:
        t.append(
            f"highest severity {s.highest_severity.label}", style=SEVERITY_STYLE[s.highest_severity]
        )
    elif s.not_reviewed:
        t.append("no known interaction among the reviewed medicines", style="yellow")
    else:
        t.append("no known interaction", style="green")
    if not s.complete:
        problems = []
        if s.unresolved:
            problems.append(f"{s.unresolved} unresolved")
        if s.ambiguous:
            problems.append(f"{s.ambiguous} ambiguous")
        if report.strict and s.fuzzy:
            problems.append(f"{s.fuzzy} fuzzy (--strict)")
        if s.not_reviewed:
            problems.append(f"{s.not_reviewed} not reviewed for ketamine")
        if s.conditions_unresolved or s.conditions_ambiguous:
            problems.append(
                f"{s.conditions_unresolved + s.conditions_ambiguous} condition(s) not read"
            )
        t.append(" · CHECK INCOMPLETE: ", style="bold red")
        t.append(", ".join(problems) + " — confirm these by hand", style="red")
    t.append(f" · exit {s.exit_code}", style="dim")
    return t


def render_table(report: Report) -> RenderableType:
    """The full terminal report as one Rich renderable."""
    if not report.medications:
        return Group(
            _header(report),
            Text(""),
            Text(NO_MEDICATIONS, style="bold"),
            Text(""),
            _verdict(report),
            Text(FOOTER, style="dim italic"),
        )
    parts: list[RenderableType] = [_header(report), Text(""), _medications(report), Text("")]
    parts += patient_sections(report)
    problems = [m for m in report.medications if m.status is not Status.RESOLVED]
    if problems:
        t = Text("Not checked — confirm by hand: ", style="bold red")
        t.append(", ".join(repr(inert(m.input)) for m in problems[:10]), style="red")
        if len(problems) > 10:
            t.append(f" and {len(problems) - 10} more", style="red")
        parts += [t, Text("")]
    unread = [c for c in report.conditions if c.status.value in ("unresolved", "ambiguous")]
    if unread:
        t = Text("Conditions not read — confirm by hand: ", style="bold red")
        t.append(", ".join(repr(inert(c.input)) for c in unread[:10]), style="red")
        parts += [t, Text("")]
    real = [f for f in report.findings if f.severity > Severity.NONE or f.hold is not None]
    unreviewed = [f for f in report.findings if f.kind is FindingKind.NOT_REVIEWED]
    session = [f for f in report.findings if f.kind is FindingKind.SESSION_MEDICINE]
    none = [
        f for f in report.findings if f not in real and f not in unreviewed and f not in session
    ]
    if unreviewed:
        t = Text("NOT REVIEWED for ketamine — confirm by hand: ", style="bold red")
        t.append(", ".join(ing for f in unreviewed for ing in f.ingredients), style="red")
        parts += [t, _Rows([("  ", Text(unreviewed[0].management, style="red"))]), Text("")]
    if real:
        parts.append(Text("Findings", style="bold underline"))
        for f in real:
            parts += [_finding(f, report.protocol, report), Text("")]
    if session:
        t = Text("The session medicine (not a duplicate): ", style="cyan")
        t.append(", ".join(ing for f in session for ing in f.ingredients))
        parts += [t, Text("")]
    if none:
        t = Text("No known interaction with ketamine: ", style="green")
        t.append(", ".join(ing for f in none for ing in f.ingredients))
        parts += [t, Text("")]
    sched = _schedule(report)
    if sched:
        parts += [*sched, Text("")]
    if report.standing_notes:
        parts.append(Text("Always", style="bold underline"))
        parts.append(_bullets([Text(note) for note in report.standing_notes]))
        parts.append(Text(""))
    parts += [_verdict(report), Text(FOOTER, style="dim italic")]
    return Group(*parts)
