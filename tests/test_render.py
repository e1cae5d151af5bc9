"""Golden output per format for one fixed report, and properties every renderer must keep."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Report
from ketcheck.render import RENDERERS, OutputFormat, render, renderer
from tests.conftest import run

GOLDEN = Path(__file__).parent / "golden"
SESSION = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/London"))
LIST = [
    "Klonopin 0.5 mg PO BID PRN anxiety",
    "sertraline 50mg daily",
    "phenelzine",
    "lamictl",
    "Percocet 5/325 q6h prn",
    "gabapentin 300 mg",
    "metformin",
    "asdfqwer",
    "[blink]xanax[/blink]",
]
SUFFIX = {
    OutputFormat.TABLE: "table.txt",
    OutputFormat.JSON: "report.json",
    OutputFormat.MARKDOWN: "report.md",
    OutputFormat.FHIR: "fhir.json",
    OutputFormat.HANDOUT: "handout.md",
    OutputFormat.HTML: "handout.html",
}


@pytest.fixture(scope="module")
def report(kb: KnowledgeBase) -> Report:
    return run(kb, *LIST, session=SESSION)


def as_text(report: Report, fmt: OutputFormat, *, width: int = 100, details: bool = False) -> str:
    out = (
        renderer(fmt)(report, details=details) if fmt is OutputFormat.TABLE else render(report, fmt)
    )
    if isinstance(out, str):
        return out
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, highlight=False, markup=False).print(out)
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))


def test_every_format_has_a_renderer() -> None:
    assert set(RENDERERS) == set(OutputFormat)
    for fmt in OutputFormat:
        assert callable(renderer(fmt))


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_golden(report: Report, fmt: OutputFormat, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / SUFFIX[fmt]
    text = as_text(report, fmt)
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs (run pytest --update-golden)"
    )


@pytest.mark.parametrize("details", [False, True], ids=["compact", "details"])
@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_table_golden_at_each_width(
    report: Report, width: int, details: bool, request: pytest.FixtureRequest
) -> None:
    name = f"table-{width}{'-details' if details else ''}.txt"
    path = GOLDEN / ("table.txt" if name == "table-100.txt" else name)
    text = as_text(report, OutputFormat.TABLE, width=width, details=details)
    if request.config.getoption("--update-golden"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs"
    assert all(len(line) <= width for line in text.splitlines())


def test_table_opens_with_what_to_do_then_verdict(report: Report) -> None:
    lines = as_text(report, OutputFormat.TABLE).splitlines()
    assert lines[3] == "What to do"
    verdict = next(i for i, line in enumerate(lines) if line.startswith("Verdict:"))
    table = next(i for i, line in enumerate(lines) if line.lstrip().startswith("#"))
    findings = lines.index("Findings")
    assert verdict < table < findings
    summary = lines[4:verdict]
    assert summary[0].startswith(" MAJOR") and "phenelzine" not in summary[0]  # as typed
    assert any("last dose by 21:00 Sun 22 Nov" in line for line in summary)
    assert any(line.startswith("Not checked") and "asdfqwer" in line for line in summary)


def test_details_add_mechanism_evidence_and_references(report: Report) -> None:
    compact = as_text(report, OutputFormat.TABLE)
    detailed = as_text(report, OutputFormat.TABLE, details=True)
    for label in ("Why", "Hold basis", "Evidence", "References"):
        assert f"  {label} " not in compact and f"  {label} " in detailed


def test_resolution_is_quiet_unless_it_needs_attention(report: Report) -> None:
    text = as_text(report, OutputFormat.TABLE)
    rows = text[text.index("#  As typed") : text.index("Findings")]
    assert re.search(r"\bresolved\b", rows) is None
    assert "unresolved" in rows and "≈" in rows  # the unknown and the fuzzy match stand out


def test_three_medicines_fit_one_screen(bundled: KnowledgeBase) -> None:
    three = run(bundled, "Klonopin 0.5 mg BID", "Lamictal 200 mg", "Zoloft 100mg", session=SESSION)
    lines = as_text(three, OutputFormat.TABLE, width=100).rstrip("\n").splitlines()
    assert len(lines) <= 40, len(lines)
    top = "\n".join(lines[:8])
    assert "MODERATE  Klonopin 0.5 mg BID" in top and "last dose by 21:00 Sun 22 Nov" in top
    assert "MINOR     Lamictal 200 mg" in top and "MINOR     Zoloft 100mg" in top


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_input_is_shown_literally_and_inert(kb: KnowledgeBase, fmt: OutputFormat) -> None:
    hostile = [
        "[blink]xanax[/blink]",
        "\x1b]0;pwned\x07klonopin",
        "\x1b[2J\x1b[31mzoloft",
        "<script>x</script>",
    ]
    text = as_text(run(kb, *hostile), fmt)
    assert "\x1b" not in text and "\x07" not in text
    if fmt is OutputFormat.HTML:
        assert "<script>" not in text and "&lt;script&gt;" in text
    elif fmt in (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.FHIR):
        assert "[blink]xanax[/blink]" in text


def test_json_matches_to_dict(report: Report) -> None:
    assert json.loads(render(report, OutputFormat.JSON)) == report.to_dict()


def test_json_keeps_every_entry_in_order(report: Report) -> None:
    meds = report.to_dict()["medications"]
    assert [m["input"] for m in meds] == LIST


def test_fhir_bundle_shape(report: Report) -> None:
    bundle = json.loads(render(report, OutputFormat.FHIR))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("MedicationStatement") == len(LIST)
    issues = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DetectedIssue"
    ]
    assert {i["severity"] for i in issues} <= {"high", "moderate", "low"}
    assert any(i["severity"] == "high" for i in issues)  # phenelzine: major
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert all(ref["reference"] in urls for i in issues for ref in i["implicated"])
    assert all(i["mitigation"] for i in issues)
    outcome = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    ]
    assert len(outcome) == 1 and "asdfqwer" in outcome[0]["issue"][0]["diagnostics"]


def test_handout_has_no_internal_ids_or_jargon(report: Report) -> None:
    text = render(report, OutputFormat.HANDOUT)
    for jargon in ("cns-depressant-stack", 'benzodiazepine"', "GABA", "CYP", "class:", "rule"):
        assert jargon not in text
    assert "9:00 pm on Sunday 22 November" in text


def test_compact_json_is_the_same_document(kb: KnowledgeBase) -> None:
    from ketcheck.render.json import render_json

    r = run(kb, "Zoloft", "Zoloft", "klonopn", "asdfqwer", "Zoloft", "\x1b[31mxanax")
    assert json.loads(render_json(r, pretty=False)) == json.loads(render_json(r)) == r.to_dict()
    assert "\n" not in render_json(r, pretty=False).rstrip("\n")


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON_VALUES)
def test_compact_dumps_is_json_dumps_made_safe(value: object) -> None:
    from ketcheck.render.json import dumps
    from ketcheck.render.literal import json_safe

    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert dumps(value, indent=None) == json_safe(plain)


@given(st.lists(st.text()))
def test_string_lists_encode_as_dumps_does(values: list[str]) -> None:
    from ketcheck.render.json import dumps, dumps_strings

    assert dumps_strings(tuple(values)) == dumps(values, indent=None)
