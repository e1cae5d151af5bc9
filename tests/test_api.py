"""The Python API: the same check as the command line, with a JSON-identical dict."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
