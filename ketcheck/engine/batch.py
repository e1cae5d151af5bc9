"""The per-patient loop of a batch run: one check per patient, per-run work shared and bounded."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from ketcheck.engine.check import run_check
from ketcheck.engine.exit_policy import ExitCode, worst_of
from ketcheck.engine.lines import LineMemo
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Entry, Report
from ketcheck.options import CheckOptions

if TYPE_CHECKING:
    from ketcheck.kb.patient import PatientTables

P = TypeVar("P")

# Distinct lines kept across patients (least recently used dropped first): memory stays flat.
LINES_KEPT = 4096


@dataclass(slots=True, kw_only=True)
class Tally:
    """How many patients ended with each exit code."""

    counts: dict[ExitCode, int] = field(
        default_factory=lambda: dict.fromkeys(
            (ExitCode.RISK, ExitCode.INCOMPLETE, ExitCode.CLEARED), 0
        )
    )

    def add(self, code: int) -> None:
        """Count one patient's exit code."""
        self.counts[ExitCode(code)] += 1

    @property
    def patients(self) -> int:
        """Patients counted."""
        return sum(self.counts.values())

    @property
    def worst(self) -> ExitCode:
        """The batch's exit code."""
        return worst_of(code for code, n in self.counts.items() if n)


def check_each(
    lists: Iterable[tuple[P, Sequence[str | Entry]]],
    kb: KnowledgeBase,
    options: CheckOptions,
    *,
    tool_version: str,
    options_of: Callable[[P, CheckOptions], CheckOptions] | None = None,
    tables: Callable[[], PatientTables] | None = None,
    lines_kept: int = LINES_KEPT,
) -> Iterator[tuple[P, Report]]:
    """Check each (patient, entries) in turn; each distinct line is worked out once, boundedly."""
    memo = LineMemo(kb, limit=lines_kept)
    for patient, entries in lists:
        mine = options_of(patient, options) if options_of is not None else options
        yield (
            patient,
            run_check(entries, kb, mine, tool_version=tool_version, lines=memo, tables=tables),
        )
