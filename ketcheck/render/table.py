"""The terminal report: what to do first, then the medicines, then each finding; input literal."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.constrain import Constrain
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
    ScheduleItem,
    Severity,
    Source,
    Status,
    Unresolved,
)
from ketcheck.render.hold import after_text
from ketcheck.render.literal import inert
from ketcheck.render.patient_text import (
    bp_text,
    condition_title,
    dose_text,
    finding_extras,
)
from ketcheck.render.text import (
    FOOTER,
    NO_MEDICATIONS,
    action,
    clock,
    first_sentence,
    hold_phrase,
    route_label,
    severity_of,
)

__all__ = ["FOOTER", "NO_MEDICATIONS", "SEVERITY_STYLE", "clock", "render_table"]

SEVERITY_STYLE = {
    Severity.CONTRAINDICATED: "bold white on red",
    Severity.MAJOR: "bold red",
    Severity.MODERATE: "bold yellow",
    Severity.MINOR: "cyan",
    Severity.NONE: "",
}
STATUS_STYLE = {
    Status.RESOLVED: "",
    Status.AMBIGUOUS: "bold yellow",
    Status.UNRESOLVED: "bold red",
}
PROSE_WIDTH = 100  # wide terminals: prose stays readable
NARROW = 80  # below this the medication table drops its Classes column


def _header(report: Report) -> Text:
    session = (
        f"{report.session:%a %d %b %Y %H:%M}"
        + (f" ({report.session:%z})" if report.session.tzinfo else "")
        if report.session
        else "not given"
    )
    t = Text()
    t.append("ketcheck ", style="bold")
    t.append(f"{report.tool_version} · data {report.data_version} · protocol: ")
    t.append(inert(report.protocol))
    t.append("\nRoute: ", style="bold")
    t.append(route_label(report))
    t.append("   Session: ", style="bold")
    t.append(session)
    patient_header(report, t)
    return t


def _badge(severity: Severity, width: int = 0) -> Text:
    badge = Text(f" {severity.label.upper()} ", style=SEVERITY_STYLE[severity])
    badge.pad_right(max(width - len(badge), 0))
    return badge


def _badge_width(findings: list[Finding]) -> int:
    return max((len(f.severity.label) + 2 for f in findings), default=0)


def _typed(inputs: tuple[str, ...], limit: int = 3) -> str:
    shown = " + ".join(inert(i) for i in inputs[:limit])
    return shown + (f" + {len(inputs) - limit} more" if len(inputs) > limit else "")


def _names(report: Report, f: Finding) -> str:
    """The names (without doses) of the entries a combined finding is about, as typed."""
    typed = set(f.inputs)
    names = [inert(m.parsed.name or m.input) for m in report.medications if m.input in typed]
    return " + ".join(dict.fromkeys(names)) or _typed(f.inputs)


def _actionable(report: Report) -> list[Finding]:
    # A severity the clinic's protocol set, even to none, is shown with who set it.
    return [
        f
        for f in report.findings
        if f.severity > Severity.NONE or f.hold is not None or f.severity_source is Source.PROTOCOL
    ]


def _hold_of(report: Report, f: Finding) -> str:
    """The finding's hold in a few words, from the schedule line of its ingredient."""
    if f.hold is None:
        return ""
    items = [i for i in report.schedule if i.ingredient in f.ingredients]
    if not items:
        when = f"last dose by {clock(f.hold.last_dose_by)}" if f.hold.last_dose_by else ""
        phrase = when or f"hold {f.hold.hours_before:g} h before"
    else:
        phrase = "; ".join(hold_phrase(report, i) for i in items)
    return phrase + (f", {f.hold.hours_after:g} h after" if f.hold.hours_after else "")


class _Summary:
    """One line per finding: severity, the medicine as typed, the hold, the action.

    From 90 columns each finding takes one line (the action cut to fit: the full advice follows
    in the finding); narrower, the action goes on its own indented line.
    """

    __slots__ = ("findings", "report")

    def __init__(self, report: Report, findings: list[Finding]) -> None:
        self.report = report
        self.findings = findings

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        badge = _badge_width(self.findings)
        rows = [
            (
                f,
                _typed(f.inputs) if f.kind is not FindingKind.COMBINED else _names(self.report, f),
                _hold_of(self.report, f),
                action(f) + (" (combined risk)" if f.kind is FindingKind.COMBINED else ""),
            )
            for f in self.findings
        ]
        room = options.max_width - badge - 3
        wide = options.max_width >= 90
        typed_w = max(min(max(cell_len(r[1]) for r in rows), 22), 1)
        hold_w = max((cell_len(r[2]) for r in rows), default=0)
        grid = Table.grid(padding=(0, 1), pad_edge=False)
        grid.add_column(no_wrap=True, width=badge)
        grid.add_column(overflow="fold", width=typed_w)
        if wide:
            hold_w = min(hold_w, max(room - typed_w - 30, 1))
            grid.add_column(style="bold", overflow="fold", width=max(hold_w, 1))
            grid.add_column(
                overflow="ellipsis", no_wrap=True, width=max(room - typed_w - hold_w, 1)
            )
            for f, typed, hold, what in rows:
                grid.add_row(_badge(f.severity, badge), Text(typed), hold, Text(what))
        else:
            grid = Table.grid(padding=(0, 1), pad_edge=False)
            grid.add_column(no_wrap=True, width=badge)
            grid.add_column(overflow="fold", width=max(options.max_width - badge - 1, 1))
            for f, typed, hold, what in rows:
                line = Text(typed)
                if hold:
                    line.append(" · ")
                    line.append(hold, style="bold")
                grid.add_row(_badge(f.severity, badge), line)
                grid.add_row("", Text(what))
        yield grid


def _summary(report: Report) -> list[RenderableType]:
    """What to do: the summary lines, and a hint when holds have no clock time yet."""
    findings = _actionable(report)
    if not findings:
        return [Text("Nothing to act on: no finding above 'none'.", style="bold")]
    out: list[RenderableType] = [
        Text("What to do", style="bold underline"),
        _Summary(report, findings),
    ]
    if report.session is None and report.schedule:
        out.append(Text("Give --session WHEN (e.g. 09:00) to see clock times.", style="dim"))
    return out


def _not_checked(report: Report) -> list[RenderableType]:
    problems = [m for m in report.medications if m.status is not Status.RESOLVED]
    if not problems:
        return []
    t = Text("Not checked — confirm by hand: ", style="bold red")
    t.append(", ".join(repr(inert(m.input)) for m in problems[:10]), style="red")
    if len(problems) > 10:
        t.append(f" and {len(problems) - 10} more", style="red")
    return [t]


def _not_reviewed(report: Report) -> list[RenderableType]:
    """Recognised drugs nobody has reviewed for ketamine: unknown, so not checked."""
    unreviewed = [f for f in report.findings if f.kind is FindingKind.NOT_REVIEWED]
    if not unreviewed:
        return []
    t = Text("NOT REVIEWED for ketamine — confirm by hand: ", style="bold red")
    t.append(", ".join(ing for f in unreviewed for ing in f.ingredients), style="red")
    return [t, _Rows([("  ", Text(unreviewed[0].management, style="red"))])]


def _verdict(report: Report) -> _Rows:
    """The verdict line; wrapped lines stay indented under its text."""
    return _Rows([(Text("Verdict:", style="bold"), _verdict_text(report))])


def _verdict_text(report: Report) -> Text:
    s = report.summary
    t = Text()
    top = s.highest_severity
    drivers = [f for f in report.findings if top is not None and f.severity == top]
    ings = list(dict.fromkeys(i for f in drivers for i in f.ingredients))
    names = ", ".join(ings[:3]) + (f" +{len(ings) - 3} more" if len(ings) > 3 else "")
    if top is not None and report.fail_on is not None and s.exit_code is ExitCode.RISK:
        t.append(f"{top.label} risk found", style=SEVERITY_STYLE[top])
        t.append(f" ({names})" if names else "")
    elif top is not None and top > Severity.NONE:
        t.append(f"highest severity {top.label}", style=SEVERITY_STYLE[top])
        t.append(f" ({names})" if names else "")
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
        for count, what in (
            (s.conditions_unresolved + s.conditions_ambiguous, "condition(s) not read"),
            (s.conditions_unconfirmed, "condition(s) to confirm"),
        ):
            if count:
                problems.append(f"{count} {what}")
        t.append(" · CHECK INCOMPLETE: ", style="bold red")
        t.append(", ".join(problems) + " — confirm these by hand", style="red")
    t.append(f" · exit {s.exit_code}", style="dim")
    return t


def _match_text(m: Medication) -> Text:
    r = m.resolution
    t = Text()
    match r:
        case Resolved():
            if r.method is Method.FUZZY:
                t.append("≈ ", style="bold yellow")
                t.append(inert(r.matched))
                t.append(f" ({r.score:.0f})", style="yellow")
            else:
                t.append(inert(r.matched), style="dim")
            t.append(" → ", style="dim")
            t.append(", ".join(r.ingredients))
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
                t.append(_candidates(r.suggestions[:2]))
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


def _severity_cell(report: Report, m: Medication) -> Text:
    if m.status is not Status.RESOLVED:
        return Text(m.status.value, style=STATUS_STYLE[m.status])
    kinds = {f.kind for f in report.findings if set(m.ingredients) & set(f.ingredients)}
    if FindingKind.NOT_REVIEWED in kinds:
        return Text("not reviewed", style="bold red")
    sev = severity_of(report, m)
    if FindingKind.SESSION_MEDICINE in kinds and (sev is None or sev is Severity.NONE):
        return Text("session", style="cyan")
    if sev is None or sev is Severity.NONE:
        return Text("none", style="dim")
    return Text(sev.label, style=SEVERITY_STYLE[sev])


class _Medications:
    """The medication table; below 80 columns it drops the Classes column."""

    __slots__ = ("report",)

    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = options.max_width >= NARROW
        table = Table(box=None, expand=False, pad_edge=False, header_style="bold underline")
        table.add_column("#", justify="right", style="dim", no_wrap=True)
        table.add_column("As typed", overflow="fold", max_width=28 if wide else 18)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Matched → ingredients", overflow="fold")
        if wide:
            table.add_column("Classes", overflow="fold", max_width=24, style="dim")
        for m in self.report.medications:
            typed = Text(inert(m.input))
            if m.recent:
                typed.append(" (recent)", style="dim")
            row: list[RenderableType] = [
                str(m.index + 1),
                typed,
                _severity_cell(self.report, m),
                _match_text(m),
            ]
            if wide:
                row.append(", ".join(m.classes) or "—")
            table.add_row(*row)
        yield table


class _Rows:
    """Label/value rows whose wrapped values keep a hanging indent.

    The column widths are fixed from the label lengths and the console width, so Rich need not
    measure every cell of every finding before drawing it (most of the table report's cost).
    """

    __slots__ = ("label_style", "min_label", "rows")

    def __init__(
        self, rows: list[tuple[str | Text, Text]], *, min_label: int = 0, label_style: str = ""
    ) -> None:
        self.rows = rows
        self.min_label = min_label
        self.label_style = label_style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label = max(
            [
                self.min_label,
                *(cell_len(r[0] if isinstance(r[0], str) else r[0].plain) for r in self.rows),
            ]
        )
        longest = max(
            (cell_len(line) for r in self.rows for line in r[1].plain.split("\n")), default=1
        )
        grid = Table.grid(padding=(0, 1), pad_edge=False)
        grid.add_column(style=self.label_style, no_wrap=True, width=label)
        grid.add_column(overflow="fold", width=max(min(longest, options.max_width - label - 1), 1))
        for name, value in self.rows:
            grid.add_row(name, value)
        yield grid


def _hold_line(report: Report, f: Finding) -> Text | None:
    if f.hold is None:
        return None
    t = Text(f"{f.hold.hours_before:g} h before the session{after_text(f.hold)}")
    phrase = _hold_of(report, f)
    if f.hold.last_dose_by is not None and phrase:
        t.append(" — ")
        t.append(phrase, style="bold")
    return t


def _finding(report: Report, f: Finding, *, details: bool, width: int) -> Group:
    head = Text()
    head.append(condition_title(f, report), style="bold")
    typed = _typed(f.inputs)
    if typed.casefold() != ", ".join(f.ingredients).casefold():
        head.append(f" ({typed})", style="dim")
    head.append(f" · {'/'.join(e.value for e in f.effects)}", style="italic")
    if f.kind is FindingKind.COMBINED:
        head.append(" · combined risk", style="bold magenta")
    if f.kind is FindingKind.CONDITION:
        head.append(" · condition", style="bold magenta")
    rows: list[tuple[str | Text, Text]] = []

    def field(label: str, value: str | Text | None, style: str = "") -> None:
        if value:
            rows.append(
                (f"  {label}", value if isinstance(value, Text) else Text(value, style=style))
            )

    field("What happens", f.effect if details else first_sentence(f.effect))
    field("What to do", f.management)
    field("Hold", _hold_line(report, f))
    for label, value in finding_extras(f):
        field(label, value)
    if details:
        field("Why", f.mechanism)
        if f.hold is not None:
            field("Hold basis", inert(f.hold.basis), "dim")
        field("Disagreement", f.disagreement)
        field("Evidence", f.evidence, "dim")
        field("References", "; ".join(f.references), "dim")
    if f.severity_source is Source.PROTOCOL:
        field("Severity set by", f"protocol: {inert(report.protocol)}", "dim")
    return Group(
        _Rows([(_badge(f.severity, width), head)]),
        _Rows(rows, min_label=13, label_style="bold"),
    )


def _bullets(items: list[Text]) -> _Rows:
    """Bullet points whose wrapped lines stay indented under their text."""
    return _Rows([("  •", item) for item in items])


def _schedule_without_findings(report: Report) -> list[ScheduleItem]:
    """Holds whose finding is not shown (never in practice; kept so no hold is ever lost)."""
    shown = {i for f in _actionable(report) for i in f.ingredients}
    return [i for i in report.schedule if i.ingredient not in shown]


def render_table(report: Report, *, details: bool = False) -> RenderableType:
    """The terminal report: summary, medications, findings (mechanism and sources on request)."""
    if not report.medications:
        return Group(
            _header(report),
            Text(""),
            Text(NO_MEDICATIONS, style="bold"),
            Text(""),
            _verdict(report),
            Text(FOOTER, style="dim italic"),
        )
    parts: list[RenderableType] = [_header(report), Text("")]
    parts += _summary(report)
    for item in _schedule_without_findings(report):
        parts.append(Text(f"  {item.ingredient}: {hold_phrase(report, item)}", style="bold"))
    parts += _not_checked(report)
    parts += _not_reviewed(report)
    parts += [_verdict(report), Text(""), _Medications(report)]
    extra = patient_sections(report)
    if extra:
        parts += [Text(""), *extra[:-1]]
    real = _actionable(report)
    if real:
        parts.append(Text(""))
        parts.append(Text("Findings", style="bold underline"))
        width = _badge_width(real)
        parts += [_finding(report, f, details=details, width=width) for f in real]
    tail: list[RenderableType] = []
    session = [f for f in report.findings if f.kind is FindingKind.SESSION_MEDICINE]
    if session:
        t = Text("The session medicine (not a duplicate): ", style="cyan")
        t.append(", ".join(ing for f in session for ing in f.ingredients))
        tail.append(t)
    quiet = {FindingKind.NOT_REVIEWED, FindingKind.SESSION_MEDICINE}
    none = [f for f in report.findings if f not in real and f.kind not in quiet]
    if none:
        t = Text("No known interaction with ketamine: ", style="green")
        t.append(", ".join(ing for f in none for ing in f.ingredients))
        tail.append(t)
    if tail:
        parts += [Text(""), *tail]
    if report.standing_notes:
        parts.append(Text("Always", style="bold underline"))
        parts.append(_bullets([Text(note) for note in report.standing_notes]))
    hint = "" if details else " More: -v."
    parts += [Text(FOOTER + hint, style="dim italic")]
    return Constrain(Group(*parts), width=PROSE_WIDTH)


# --- patient context: conditions, blood pressure, doses (self-contained, movable) -------


def patient_header(report: Report, t: Text) -> None:
    """Conditions and blood pressure as header lines (only when given)."""
    if report.conditions:
        t.append("\nConditions: ", style="bold")
        t.append("; ".join(inert(c.input) for c in report.conditions))
    if report.bp is not None:
        t.append("\nBlood pressure: ", style="bold")
        t.append(f"{bp_text(report.bp)}")


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
            style = {"resolved": "green", "negated": "cyan", "unconfirmed": "bold yellow"}.get(
                c.status.value, "bold red"
            )
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
