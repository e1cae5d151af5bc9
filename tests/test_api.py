"""The Python API: the same check as the command line, with a JSON-identical dict."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

import ketcheck
from ketcheck.cli import app
from ketcheck.model import Route, Severity


def test_check_returns_a_report_equal_to_the_cli_json() -> None:
    session = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    report = ketcheck.check(["Klonopin 0.5 mg BID", "sertraline"], route="iv", session=session)
    assert isinstance(report, ketcheck.Report)
    assert report.route is Route.IV and report.summary.highest_severity is Severity.MODERATE
    result = CliRunner().invoke(
        app,
        [
            "check",
            "--format",
            "json",
            "--session",
            "2026-11-23T09:00+00:00",
            "Klonopin 0.5 mg BID",
            "sertraline",
        ],
    )
    assert json.loads(result.stdout) == report.to_dict()


def test_api_options() -> None:
    assert ketcheck.check(["phenelzine"], fail_on="never").summary.exit_code == 0
    assert ketcheck.check(["zolof"], strict=True).summary.complete is False
    oral = ketcheck.check(["clarithromycin"], route="oral").findings[0].severity
    iv = ketcheck.check(["clarithromycin"], route=Route.IV).findings[0].severity
    assert oral > iv


def test_the_shared_resolver_stays_bounded_across_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-lived caller checking patient after patient must not keep every text it gave."""
    import ketcheck.api as api

    monkeypatch.setattr(api, "RESOLVER_KEPT", 4)
    first = ketcheck.check(["sertralin 50 mg", "Klonopin"])
    most = 0
    for name in ["lamotrigine", "gabapentn", "bupropion XL", "zolpidem", "Lamictl", "naltrexone"]:
        ketcheck.check([name, "trazodone"])
        assert api._resolver is not None
        most = max(most, api._resolver.cached())
    # forgotten between calls once past the bound: at most the bound plus one call's entries
    # (a text and its fuzzy name each, for two entries)
    assert most <= 4 + 2 * 2
    assert ketcheck.check(["sertralin 50 mg", "Klonopin"]) == first
