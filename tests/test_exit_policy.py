"""The exit code for every severity, threshold and completeness."""

from __future__ import annotations

import pytest

from ketcheck.engine.exit_policy import ExitCode, exit_code
from ketcheck.model import Severity

THRESHOLDS = [Severity.CONTRAINDICATED, Severity.MAJOR, Severity.MODERATE, Severity.MINOR, None]
HIGHEST = [None, *Severity]


def expected(highest: Severity | None, complete: bool, fail_on: Severity | None) -> ExitCode:
    if fail_on is None:
        return ExitCode.CLEARED
    if highest is not None and highest != Severity.NONE and highest >= fail_on:
        return ExitCode.RISK
    return ExitCode.CLEARED if complete else ExitCode.INCOMPLETE


@pytest.mark.parametrize("fail_on", THRESHOLDS)
@pytest.mark.parametrize("highest", HIGHEST)
@pytest.mark.parametrize("complete", [True, False])
def test_every_combination(
    highest: Severity | None, complete: bool, fail_on: Severity | None
) -> None:
    assert exit_code(highest=highest, complete=complete, fail_on=fail_on) == expected(
        highest, complete, fail_on
    )


@pytest.mark.parametrize(
    ("highest", "complete", "fail_on", "code"),
    [
        (Severity.MAJOR, True, Severity.MODERATE, 1),
        (Severity.MAJOR, False, Severity.MODERATE, 1),  # risk wins over incomplete
        (Severity.MINOR, False, Severity.MODERATE, 3),
        (Severity.MINOR, True, Severity.MODERATE, 0),
        (Severity.NONE, True, Severity.MINOR, 0),  # "no known interaction" never fails
        (None, False, Severity.MINOR, 3),
        (Severity.CONTRAINDICATED, False, None, 0),  # --fail-on never
        (Severity.MODERATE, True, Severity.MAJOR, 0),
    ],
)
def test_named_cases(
    highest: Severity | None, complete: bool, fail_on: Severity | None, code: int
) -> None:
    assert exit_code(highest=highest, complete=complete, fail_on=fail_on) == code
