"""The check itself: resolve every entry, apply the rules, plan the holds, decide the verdict."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ketcheck.engine import evaluators
from ketcheck.engine.codes import ingredients_for_code, with_code
from ketcheck.engine.derived import Derived
from ketcheck.engine.exit_policy import exit_code
from ketcheck.engine.lines import Line, LineMemo
from ketcheck.engine.schedule import plan, standing_notes, with_clock_times
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.resolve import Resolver
from ketcheck.model import (
    Ambiguous,
    Entry,
    Finding,
    FindingKind,
    Medication,
    Method,
    Report,
    Resolved,
    Severity,
    Summary,
)
from ketcheck.options import DEFAULT_OPTIONS, CheckOptions

__all__ = ["ingredients_for_code", "run_check", "summarise", "with_code"]

if TYPE_CHECKING:
    from ketcheck.kb.patient import PatientTables
    from ketcheck.patient import BloodPressure, Dose, PatientCondition, PatientContext


def run_check(
    entries: Sequence[str | Entry],
    kb: KnowledgeBase,
    options: CheckOptions = DEFAULT_OPTIONS,
    *,
    tool_version: str,
    resolver: Resolver | None = None,
    warnings: Sequence[str] = (),
    tables: PatientTables | Callable[[], PatientTables] | None = None,
    lines: LineMemo | None = None,
    derived: Derived | None = None,
) -> Report:
    """Check a medication list against the knowledge base; pure: no files, no clock.

    `lines` and `derived` may carry the lines and the findings worked out by earlier checks (a
    batch run shares them).
    """
    memo = lines if lines is not None else LineMemo(kb, resolver)
    derived = derived if derived is not None else Derived()
    # Long lists repeat the same lines: each distinct line is resolved once (by the memo), and
    # the rules see each distinct (text, ingredients) once; rows are built at the end.
    rows: list[tuple[str, bool, Line]] = []
    distinct: dict[tuple[str, tuple[str, ...]], Medication] = {}
    first_line: dict[str, Line] = {}
    first_seen: dict[str, int] = {}
    get_line = memo.line
    for index, raw in enumerate(entries):
        # Plain names stay strings: an Entry per line of a 20,000-line list costs real time.
        if isinstance(raw, str):
            text, recent, line = raw, False, get_line(raw)
        else:
            text, recent = raw.text, raw.recent
            line = get_line(text, raw.rxcui, raw.problem)
        rows.append((text, recent, line))
        key = (text, line.ingredients)
        if key not in distinct:
            distinct[key] = _medication(index, text, recent, line)
            if text not in first_seen:
                first_seen[text], first_line[text] = index, line
    unique = list(distinct.values())
    findings = [f for apply in evaluators.EVALUATORS for f in apply(kb, unique, options)]
    findings = with_clock_times(findings, options.session, derived=derived)
    extra_warnings: list[str] = []
    doses: dict[str, Dose] = {}
    patient: tuple[tuple[PatientCondition, ...], BloodPressure | None] = ((), None)
    context = options.patient
    if tables is not None and _needs_patient(context, first_line.values(), findings):
        # The one seam for patient context: doses, conditions, blood pressure, half-lives.
        from ketcheck.engine.patient import apply_patient
        from ketcheck.patient import PatientContext

        outcome = apply_patient(
            unique,
            findings,
            kb,
            tables if not callable(tables) else tables(),
            context=context or PatientContext(),
            route=options.effective_route,
            session=options.session,
            lines=first_line,
            derived=derived,
        )
        unique = outcome.medications  # the same medications, each with its line's dose
        doses = {m.input: m.dose for m in unique if m.dose is not None}
        findings = outcome.findings
        patient = (outcome.conditions, outcome.bp)
        extra_warnings = outcome.warnings
    # A list of distinct lines (most lists) reuses the medications the rules saw; repeats of a
    # line get their own (their index differs), with the dose read for its first entry.
    made = {m.index: m for m in unique}
    meds = [
        made.get(index) or _medication(index, text, recent, line, doses.get(text))
        for index, (text, recent, line) in enumerate(rows)
    ]
    if len(findings) > 1:
        findings.sort(
            key=lambda f: (-f.severity, min(first_seen.get(i, 0) for i in f.inputs), f.rule)
        )
    summary = summarise(
        meds, findings, fail_on=options.fail_on, strict=options.strict, conditions=patient[0]
    )
    return Report(
        tool_version=tool_version,
        data_version=kb.version,
        route=options.effective_route,
        session=options.session,
        protocol=options.protocol.name,
        paper=options.protocol.paper,
        fail_on=options.fail_on,
        strict=options.strict,
        medications=tuple(meds),
        findings=tuple(findings),
        schedule=tuple(plan(findings)),
        standing_notes=tuple(standing_notes(findings)),
        summary=summary,
        warnings=(*warnings, *extra_warnings),
        conditions=patient[0],
        bp=patient[1],
    )


def _medication(
    index: int, text: str, recent: bool, line: Line, dose: Dose | None = None
) -> Medication:
    """The medication of one entry, as its line resolved it."""
    return Medication(
        index=index,
        input=text,
        parsed=line.parsed,
        resolution=line.resolution,
        classes=line.classes,
        recent=recent,
        dose=dose,
    )


def _needs_patient(
    context: PatientContext | None, lines: Iterable[Line], findings: Sequence[Finding]
) -> bool:
    """Whether anything could use the patient tables (their loading is skipped otherwise)."""
    if context is not None and (context.conditions or context.bp is not None):
        return True
    if any(f.hold is not None for f in findings):
        return True
    return any(line.sig for line in lines)


def summarise(
    meds: Sequence[Medication],
    findings: Sequence[Finding],
    *,
    fail_on: Severity | None,
    strict: bool,
    conditions: Sequence[PatientCondition] = (),
) -> Summary:
    """Counts, the highest severity, completeness and the exit code for a set of results."""
    resolved = ambiguous = unresolved = fuzzy = 0
    for m in meds:
        r = m.resolution
        if isinstance(r, Resolved):
            resolved += 1
            fuzzy += r.method is Method.FUZZY
        elif isinstance(r, Ambiguous):
            ambiguous += 1
        else:
            unresolved += 1
    highest = max((f.severity for f in findings), default=None)
    c_unresolved = c_ambiguous = c_unconfirmed = c_fuzzy = 0
    for c in conditions:
        c_unresolved += c.status.value == "unresolved"
        c_ambiguous += c.status.value == "ambiguous"
        c_unconfirmed += c.status.value == "unconfirmed"
        c_fuzzy += c.method == "fuzzy"
    # An ingredient nobody reviewed for ketamine is unknown, not safe: the check is incomplete.
    not_reviewed = sum(len(f.ingredients) for f in findings if f.kind is FindingKind.NOT_REVIEWED)
    complete = ambiguous == 0 and unresolved == 0 and not (strict and fuzzy) and not not_reviewed
    # A condition the record doubts (r/o, provisional) is neither present nor absent: unknown.
    complete = complete and not (c_unresolved or c_ambiguous or c_unconfirmed)
    complete = complete and not (strict and c_fuzzy)
    code = exit_code(highest=highest, complete=complete, fail_on=fail_on)
    return Summary(
        highest_severity=highest,
        complete=complete,
        exit_code=code,
        resolved=resolved,
        ambiguous=ambiguous,
        unresolved=unresolved,
        fuzzy=fuzzy,
        not_reviewed=not_reviewed,
        conditions_unresolved=c_unresolved,
        conditions_ambiguous=c_ambiguous,
        conditions_unconfirmed=c_unconfirmed,
    )
