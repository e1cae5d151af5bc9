"""The one place that decides the exit code of a check."""

from __future__ import annotations

from collections.abc import Iterable

from ketcheck.model import ExitCode, Severity

__all__ = ["ExitCode", "exit_code", "worst_of"]


def exit_code(*, highest: Severity | None, complete: bool, fail_on: Severity | None) -> ExitCode:
    """Risk at or above the threshold wins; then an incomplete check; `fail_on=None` is "never"."""
    if fail_on is None:
        return ExitCode.CLEARED
    if highest is not None and highest > Severity.NONE and highest >= fail_on:
        return ExitCode.RISK
    if not complete:
        return ExitCode.INCOMPLETE
    return ExitCode.CLEARED


# Which verdict wins when several checks are summed up (a batch): risk, then incomplete, then clear.
_RANK = (ExitCode.CLEARED, ExitCode.INCOMPLETE, ExitCode.RISK)


def worst_of(codes: Iterable[ExitCode]) -> ExitCode:
    """The exit code of many checks: any risk exits 1, else any incomplete exits 3, else 0."""
    return max(codes, key=_RANK.index, default=ExitCode.CLEARED)
