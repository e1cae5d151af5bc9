"""The per-patient loop of a batch run: one check per patient, per-run work shared and bounded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from ketcheck.engine.check import run_check
from ketcheck.engine.derived import Derived
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


class Checker(Generic[P]):
    """Checks one patient after another; each distinct line is worked out once, boundedly."""

    def __init__(
        self,
        kb: KnowledgeBase,
        options: CheckOptions,
        *,
        tool_version: str,
        options_of: Callable[[P, CheckOptions], CheckOptions] | None = None,
        tables: Callable[[], PatientTables] | None = None,
        lines_kept: int = LINES_KEPT,
    ) -> None:
        self.kb = kb
        self.options = options
        self.tool_version = tool_version
        self.options_of = options_of
        self.tables = tables
        self.memo = LineMemo(kb, limit=lines_kept)
        self.derived = Derived()

    def check(self, patient: P, entries: Sequence[str | Entry]) -> Report:
        """One patient's report, with this patient's own options when `options_of` gives them."""
        options = self.options
        mine = self.options_of(patient, options) if self.options_of is not None else options
        return run_check(
            entries,
            self.kb,
            mine,
            tool_version=self.tool_version,
            lines=self.memo,
            derived=self.derived,
            tables=self.tables,
        )
