"""Property tests: any list of strings gives one status per entry and a schema-valid report."""

from __future__ import annotations

import json

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Severity
from ketcheck.render.json import render_json
from ketcheck.render.schema import REPORT_SCHEMA
from tests.conftest import run

names = st.one_of(
    st.text(min_size=1, max_size=60),
    st.sampled_from(
        [
            "Klonopin 0.5 mg",
            "zolof",
            "phenelzine",
            "Percocet",
            "\x1b[31mxanax",
            "[bold]x[/bold]",
            "gabapentin 300mg TID",
            "qwertyuiop",
            "Lamictal XR",
        ]
    ),
)
fail_on = st.sampled_from(
    [None, Severity.MINOR, Severity.MODERATE, Severity.MAJOR, Severity.CONTRAINDICATED]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(names, min_size=1, max_size=8), threshold=fail_on, strict=st.booleans())
def test_any_input_gives_a_valid_report(
    kb: KnowledgeBase, entries: list[str], threshold: Severity | None, strict: bool
) -> None:
    report = run(kb, *entries, fail_on=threshold, strict=strict)
    assert [m.input for m in report.medications] == entries
    text = render_json(report)
    assert "\x1b" not in text
    doc = json.loads(text)
    jsonschema.validate(doc, REPORT_SCHEMA)
    # the exit code agrees with the findings and completeness
    s = report.summary
    at_risk = threshold is not None and any(
        f.severity >= threshold and f.severity > Severity.NONE for f in report.findings
    )
    if threshold is None:
        assert s.exit_code == 0
    elif at_risk:
        assert s.exit_code == 1
    else:
        assert s.exit_code == (0 if s.complete else 3)
    assert s.complete == all(m.status.value == "resolved" for m in report.medications) or strict


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=12))
def test_inert_quick_path_leaves_only_what_the_replacements_would(text: str) -> None:
    from ketcheck.render.literal import _replaced, inert

    assert inert(text) == _replaced(text)
