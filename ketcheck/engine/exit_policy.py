"""The one place that decides the exit code of a check."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from ketcheck.model import Severity


class ExitCode(IntEnum):
    """Exit codes scripts rely on; the README's table is tested against this."""

    CLEARED = 0
    RISK = 1
    ERROR = 2
    INCOMPLETE = 3


def exit_code(*, highest: Severity | None, complete: bool, fail_on: Severity | None) -> ExitCode:
    """Risk at or above the threshold wins; then an incomplete check; `fail_on=None` is "never"."""
    if fail_on is None:
        return ExitCode.CLEARED
    if highest is not None and highest > Severity.NONE and highest >= fail_on:
        return ExitCode.RISK
    if not complete:
        return ExitCode.INCOMPLETE
    return ExitCode.CLEARED


def worst(codes: Iterable[ExitCode]) -> ExitCode:
    """The exit code of many checks (a batch): risk over incomplete over cleared."""
    present = set(codes)
    for code in (ExitCode.ERROR, ExitCode.RISK, ExitCode.INCOMPLETE):
        if code in present:
            return code
    return ExitCode.CLEARED
