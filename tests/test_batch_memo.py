"""What a batch run shares between patients: bounded, and never a different report for anyone."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ketcheck.engine.rules as rules
from ketcheck import __version__
from ketcheck.batch import run_batch
from ketcheck.engine.check import run_check
from ketcheck.engine.derived import Derived
from ketcheck.engine.lines import LineMemo
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.patient import load_patient_tables
from ketcheck.model import Entry, Finding, Route
from ketcheck.options import CheckOptions
from ketcheck.render.json import dumps, report_to_dict
from ketcheck.render.jsonl import PatientLines

OPTIONS = CheckOptions()


def test_line_memo_drops_the_least_recently_used(kb: KnowledgeBase) -> None:
    memo = LineMemo(kb, limit=2)
    first = memo.line("sertraline")
    memo.line("phenelzine")
    assert memo.line("sertraline") is first  # a hit, and now the most recent
    memo.line("metformin")  # over the bound: phenelzine, the least recently used, goes
    assert len(memo) == 2 and memo.misses == 3
    assert memo.line("sertraline") is first and memo.misses == 3
    memo.line("phenelzine")
    assert memo.misses == 4


def test_line_memo_keys_on_code_and_problem(kb: KnowledgeBase) -> None:
    memo = LineMemo(kb)
    plain = memo.line("sertraline")
    problem = memo.line("sertraline", problem="the source says it was entered in error")
    assert plain is not problem and type(problem.resolution).__name__ == "Unresolved"
    assert memo.line("sertraline") is plain


@pytest.mark.parametrize("limit", [1, 3])
def test_line_memo_bound_holds_and_results_do_not_change(kb: KnowledgeBase, limit: int) -> None:
    names = ["sertraline", "asdfqwer", "sertralin", "phenelzine 15 mg", "metformin"] * 4
    memo = LineMemo(kb, limit=limit)
    fresh = LineMemo(kb)
    for name in names:
        got, want = memo.line(name), fresh.line(name)
        assert (got.parsed, got.resolution, got.classes) == (
            want.parsed,
            want.resolution,
            want.classes,
        )
        assert len(memo) <= limit


def _alone(bundled: KnowledgeBase, meds: list[str], options: CheckOptions) -> str:
    """One patient's report as `batch` must write it: checked on its own, nothing shared."""
    tables = load_patient_tables()
    report = run_check(meds, bundled, options, tool_version=__version__, tables=tables)
    return dumps({"patient_id": "p", **report_to_dict(report)}, indent=None) + "\n"


@pytest.mark.parametrize("session", [None, datetime(2026, 12, 5, 9, 0, tzinfo=UTC)])
def test_a_shared_line_gets_the_dose_its_own_check_gives(
    bundled: KnowledgeBase, session: datetime | None
) -> None:
    # "as needed" states a dose (PRN) but alone does not call for the dose tables; beside a sig
    # line it does. A row remembered from the first patient must not lose the second's dose.
    options = CheckOptions(session=session)
    patients = [["sertraline as needed"], ["sertraline as needed", "gabapentin 300 mg TID"]]
    memo = LineMemo(bundled, limit=8)
    writer = PatientLines()
    for meds in patients:
        tables = load_patient_tables()
        report = run_check(
            meds, bundled, options, tool_version=__version__, lines=memo, tables=tables
        )
        assert writer.line("p", report) == _alone(bundled, meds, options)


def test_batch_lines_equal_single_checks(bundled: KnowledgeBase, tmp_path: Path) -> None:
    lists = {
        "a": ["sertraline as needed", "Klonopin 0.5 mg BID", "gabapentin"],
        "b": ["sertraline as needed"],
        "c": ["Adderall XR 20 mg", "Klonopin 0.5 mg BID", "oxycodone 10 mg q6h prn"],
        "d": ["gabapentin", "gabapentin", "Adderall XR 20 mg"],
        "e": ["Klonopin 0.5 mg BID", "asdfqwer"],
    }
    f = tmp_path / "in.csv"
    f.write_text(
        "patient_id,medication\n"
        + "".join(f'{pid},"{m}"\n' for pid, meds in lists.items() for m in meds),
        encoding="utf-8",
    )
    out = io.StringIO()
    run_batch(str(f), bundled, OPTIONS, out=out, err=io.StringIO())
    for line, (pid, meds) in zip(out.getvalue().splitlines(), lists.items(), strict=True):
        expected = json.loads(_alone(bundled, meds, OPTIONS))
        assert json.loads(line) == {**expected, "patient_id": pid}


def test_finding_caches_stay_bounded_and_change_nothing(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    lists = [
        ["sertraline", "phenelzine"],
        ["clonazepam 1 mg BID", "oxycodone 30 mg q4h", "gabapentin 900 mg TID"],
        ["sertraline"],
        ["clonazepam", "oxycodone", "Zoloft 50 mg", "sertraline"],
        [Entry(text="phenelzine", recent=True), "sertraline"],
        ["gabapentin 900 mg TID", "ketamine", "sertraline as needed"],
    ] * 3
    tables = load_patient_tables()

    def reports() -> list[dict[str, object]]:
        return [
            report_to_dict(run_check(m, kb, OPTIONS, tool_version="t", tables=tables))
            for m in lists
        ]

    before = reports()
    monkeypatch.setattr(rules, "FINDINGS_KEPT", 1)
    monkeypatch.setattr(rules, "ENTRIES_KEPT", 1)
    for kept in (rules._kept(kb), rules._kept_combined(kb), rules._kept_entries(kb)):
        kept.clear()
    assert reports() == before
    assert len(rules._kept(kb)) <= 1 and len(rules._kept_combined(kb)) <= 1
    assert len(rules._kept_entries(kb)) <= 1


def test_derived_findings_are_made_once_per_source_and_inputs(kb: KnowledgeBase) -> None:
    made: list[tuple[str, ...]] = []

    def noted(f: Finding, anchor: object, note: str) -> Finding:
        made.append((f.rule, note))
        return replace(f, notes=(*f.notes, note))

    (a,) = run_check(["sertraline"], kb, OPTIONS, tool_version="t").findings
    (b,) = run_check(["phenelzine"], kb, OPTIONS, tool_version="t").findings
    derived = Derived(limit=2)
    tables, other_tables = object(), object()
    first = derived.get(noted, a, tables, "x")
    assert first.notes[-1] == "x" and derived.get(noted, a, tables, "x") is first
    assert derived.get(noted, a, tables, "y").notes[-1] == "y"  # other inputs: made anew
    assert derived.get(noted, a, other_tables, "x") is not first  # another anchor: made anew
    assert derived.get(noted, replace(a), tables, "x") is not first  # an equal copy is not a
    assert len(made) == 4 and len(derived) == 2  # hit by identity; the bound holds
    assert derived.get(noted, b, tables, "x").rule == b.rule


@pytest.mark.parametrize("limit", [1, 3, 2048])
def test_derived_bound_changes_no_report(kb: KnowledgeBase, limit: int) -> None:
    lists = [
        ["clonazepam 1 mg qhs", "oxycodone 30 mg q4h", "gabapentin 900 mg TID"],
        ["Klonopin 0.5 mg BID", "lorazepam 1 mg qAM"],
        ["clonazepam 1 mg qhs", "sertraline"],
        ["phenelzine", "clonazepam 1 mg qhs", "oxycodone 30 mg q4h"],
    ] * 3
    tables = load_patient_tables()
    options = CheckOptions(session=datetime(2026, 11, 23, 9, tzinfo=UTC))
    memo, derived = LineMemo(kb), Derived(limit=limit)

    def report(meds: list[str], shared: bool) -> dict[str, object]:
        kw = {"lines": memo, "derived": derived} if shared else {}
        return report_to_dict(run_check(meds, kb, options, tool_version="t", tables=tables, **kw))

    assert [report(m, True) for m in lists] == [report(m, False) for m in lists]
    assert len(derived) <= limit


def test_writer_caches_stay_bounded(kb: KnowledgeBase) -> None:
    writer = PatientLines(rows=3, findings=2, bodies=2, shells=2)
    for i in range(12):
        meds = [f"sertraline {10 * i} mg", "phenelzine", "clonazepam", "oxycodone"][: 1 + i % 4]
        report = run_check(meds, kb, OPTIONS, tool_version="t")
        expected = dumps({"patient_id": i, **report_to_dict(report)}, indent=None) + "\n"
        assert writer.line(i, report) == expected
        assert len(writer._rows) <= 3 and len(writer._same) <= 2 and len(writer._bodies) <= 2
        assert len(writer._shells) <= 2 and len(writer._texts) <= 4


def test_one_finding_template_serves_findings_that_differ_in_their_own_parts(
    kb: KnowledgeBase,
) -> None:
    # A template keeps a rule's advice without the finding's own lists and "applies via": two
    # findings of one rule that differ only there (quotes, controls, text of any kind) must each
    # come out exactly as the general encoder writes them.
    report = run_check(["clonazepam", "oxycodone 10 mg q6h"], kb, OPTIONS, tool_version="t")
    base = report.findings[0]
    odd = ('a "quoted" \\ name', "\x1b[2J\u202e«é»", "")
    variants = [
        replace(base, ingredients=(name,), applies_via=via, notes=notes, inputs=(name, via))
        for name in odd
        for via in odd
        for notes in [(), (name,), (name, via)]
    ]
    writer = PatientLines(bodies=1)  # one template, kept or rebuilt: either way the same text
    for i, f in enumerate(variants):
        shown = replace(report, findings=(f, base) if i % 2 else (f,))
        expected = dumps({"patient_id": i, **report_to_dict(shown)}, indent=None) + "\n"
        assert writer.line(i, shown) == expected


@pytest.mark.parametrize(
    "meds",
    [
        ["Adderall XR 20 mg", "ketamine", "sertraline", "phenelzine"],
        ["Spravato", "ketamine troches", "clonazepam", "zolpidem", "oxycodone"],
        ["asdfqwer", "Klonopin 0.5 mg BID", "metformin"],
    ],
)
@pytest.mark.parametrize("route", [Route.IV, Route.INTRANASAL])
def test_entries_that_share_nothing_get_what_the_general_merge_gives(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, meds: list[str], route: Route
) -> None:
    options = CheckOptions(route=route)
    shortcut = report_to_dict(run_check(meds, kb, options, tool_version="t"))
    monkeypatch.setattr(rules, "_apart", lambda medications: False)
    assert report_to_dict(run_check(meds, kb, options, tool_version="t")) == shortcut
