"""The check itself: resolve every entry, apply the rules, plan the holds, decide the verdict."""

from __future__ import annotations

from collections.abc import Sequence

from ketcheck.engine import evaluators
from ketcheck.engine.codes import ingredients_for_code, resolve_entry, with_code
from ketcheck.engine.exit_policy import exit_code
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


def run_check(
    entries: Sequence[str | Entry],
    kb: KnowledgeBase,
    options: CheckOptions = DEFAULT_OPTIONS,
    *,
    tool_version: str,
    resolver: Resolver | None = None,
    warnings: Sequence[str] = (),
) -> Report:
    """Check a medication list against the knowledge base; pure: no files, no clock."""
    resolver = resolver or Resolver(kb)
    meds: list[Medication] = []
    classes_by_set: dict[tuple[str, ...], tuple[str, ...]] = {}
    # Long lists repeat the same lines: the rules see each distinct (text, ingredients) once.
    distinct: dict[tuple[str, tuple[str, ...]], Medication] = {}
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(entries):
        # Plain names stay strings: an Entry per line of a 20,000-line list costs real time.
        if isinstance(raw, str):
            text, rxcui, recent, problem = raw, None, False, None
        else:
            text, rxcui, recent, problem = raw.text, raw.rxcui, raw.recent, raw.problem
        parsed, resolution = resolve_entry(kb, resolver, text, rxcui=rxcui, problem=problem)
        classes: tuple[str, ...] = ()
        if isinstance(resolution, Resolved):
            ings = resolution.ingredients
            classes = classes_by_set.get(ings) or classes_by_set.setdefault(
                ings, kb.classes_of(ings)
            )
        med = Medication(
            index=index,
            input=text,
            parsed=parsed,
            resolution=resolution,
            classes=classes,
            recent=recent,
        )
        meds.append(med)
        distinct.setdefault((med.input, med.ingredients), med)
        first_seen.setdefault(med.input, index)
    unique = list(distinct.values())
    findings = [f for apply in evaluators.EVALUATORS for f in apply(kb, unique, options)]
    findings = with_clock_times(findings, options.session)
    findings.sort(key=lambda f: (-f.severity, min(first_seen.get(i, 0) for i in f.inputs), f.rule))
    summary = summarise(meds, findings, fail_on=options.fail_on, strict=options.strict)
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
        warnings=tuple(warnings),
    )


def summarise(
    meds: Sequence[Medication],
    findings: Sequence[Finding],
    *,
    fail_on: Severity | None,
    strict: bool,
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
    # An ingredient nobody reviewed for ketamine is unknown, not safe: the check is incomplete.
    not_reviewed = sum(len(f.ingredients) for f in findings if f.kind is FindingKind.NOT_REVIEWED)
    complete = ambiguous == 0 and unresolved == 0 and not (strict and fuzzy) and not not_reviewed
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
    )
