"""Clinic protocols: validation errors name the key and reason; the default round-trips."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from ketcheck.errors import ProtocolError
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.load import read_protocol
from ketcheck.kb.protocol import default_table, from_table
from ketcheck.model import Route, Severity
from tests.conftest import run


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"holds": {"benzodiazepine": "twelve"}}, "holds.benzodiazepine: hours must be a number"),
        ({"holds": {"benzodiazepine": -1}}, "holds.benzodiazepine: hours must not be negative"),
        ({"holds": {"benzodiazepine": True}}, "holds.benzodiazepine: hours must be a number"),
        ({"holds": {"benzos": 12}}, "holds.benzos: unknown class or ingredient id"),
        ({"severity": {"ssri": "severe"}}, "severity.ssri: unknown severity 'severe'"),
        ({"severity": {"ssri": 3}}, "severity.ssri: severity must be a string"),
        ({"severity": {"ssri": {"iv": "minor"}}}, "must name every route"),
        ({"default_route": "rectal"}, "default_route: 'rectal' is not a route"),
        ({"paper": "B5"}, "paper: 'B5' is not a paper size (auto, a4, letter)"),
        ({"paper": 4}, "paper: 4 is not a paper size"),
        ({"hold": {}}, "hold: unknown key"),
        ({"holds": []}, "holds: must be a table"),
    ],
)
def test_errors_name_file_key_and_reason(
    kb: KnowledgeBase, table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        from_table(table, kb, name="clinic.toml")
    assert str(info.value).startswith("clinic.toml: ")
    assert message in str(info.value)


def test_malformed_toml_names_line(kb: KnowledgeBase, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[holds\nbenzodiazepine = \n")
    with pytest.raises(ProtocolError) as info:
        read_protocol(bad, kb)
    assert str(bad) in str(info.value) and "line 1" in str(info.value)


def test_missing_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="not found"):
        read_protocol(tmp_path / "nope.toml", kb)


def test_valid_protocol(kb: KnowledgeBase) -> None:
    p = from_table(
        {
            "default_route": "intranasal",
            "holds": {"benzodiazepine": 24, "lorazepam": 6},
            "severity": {"ssri": "moderate"},
        },
        kb,
        name="clinic.toml",
    )
    assert p.default_route is Route.INTRANASAL
    assert p.hold_for("lorazepam", "benzodiazepine") == 6
    assert p.hold_for("clonazepam", "benzodiazepine") == 24
    assert p.severity_for("sertraline", "ssri", Route.IV) is Severity.MODERATE
    assert run(kb, "sertraline", protocol=p).route is Route.INTRANASAL


@pytest.mark.parametrize("route", list(Route))
def test_default_protocol_round_trip_changes_no_result(kb: KnowledgeBase, route: Route) -> None:
    text = tomli_w.dumps(default_table(kb))
    loaded = from_table(tomllib.loads(text), kb, name="default.toml")
    names = [
        "Klonopin",
        "Lamictal",
        "clarithromycin",
        "sertraline",
        "phenelzine",
        "metformin",
        "Percocet",
        "gabapentin",
    ]
    plain = run(kb, *names, route=route)
    again = run(kb, *names, route=route, protocol=loaded)
    strip = lambda r: [(f.rule, f.ingredients, f.severity, f.hold) for f in r.findings]  # noqa: E731
    assert strip(plain) == strip(again)
    assert plain.summary.exit_code == again.summary.exit_code


@pytest.mark.parametrize(
    ("paper", "css"), [("A4", "size: A4"), ("letter", "size: letter"), ("auto", "size: auto")]
)
def test_the_protocol_paper_sets_the_handout_page(kb: KnowledgeBase, paper: str, css: str) -> None:
    from ketcheck.render.html import render_html

    protocol = from_table({"paper": paper}, kb, name="clinic")
    report = run(kb, "clonazepam", protocol=protocol)
    assert css in render_html(report)
