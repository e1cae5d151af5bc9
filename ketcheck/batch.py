"""`ketcheck batch`: read patients, check each, write one JSON line each; nothing left on disk."""

from __future__ import annotations

import signal
from typing import IO, TYPE_CHECKING, Any

from ketcheck import __version__
from ketcheck.engine.batch import Checker, Tally
from ketcheck.engine.exit_policy import ExitCode
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.options import CheckOptions
from ketcheck.render.jsonl import PatientLines
from ketcheck.sources.batch import Patient, open_source, read_patients
from ketcheck.sources.spill import Spill
from ketcheck.stops import Stopped, stop_on_signals
from ketcheck.workers import default_jobs, in_order

if TYPE_CHECKING:
    from ketcheck.kb.patient import PatientTables


def run_batch(
    path: str,
    kb: KnowledgeBase,
    options: CheckOptions,
    *,
    out: IO[str],
    err: IO[str],
    jobs: int | None = None,
) -> int:
    """Check every patient in the file; writes JSON Lines to `out`, returns the exit code.

    `jobs` worker processes share a long batch (default: one per CPU, up to four); the output
    is the same, byte for byte, with any number of them. Ctrl-C, SIGTERM or SIGHUP stop the run
    with a line on `err` and raise `Stopped` (exit 128 + the signal): what `out` holds is
    incomplete, and whoever opened it must not keep it as a finished report.
    """
    tally = Tally()
    try:
        with stop_on_signals(), Spill() as spill:
            source = open_source(path)
            progress: _Bar | None = None
            try:
                checker: Checker[Patient] = Checker(
                    kb,
                    options,
                    tool_version=__version__,
                    options_of=_patient_options,
                    tables=_patient_tables,
                )
                writer = PatientLines()

                def one(patient: Patient) -> tuple[str, int]:
                    report = checker.check(patient, patient.entries)
                    return writer.line(patient.id, report), report.summary.exit_code

                patients = read_patients(source, spill)
                for line, code in in_order(patients, one, jobs=jobs or default_jobs()):
                    if progress is None:
                        progress = _progress(err, spill.patients or None)
                    out.write(line)
                    tally.add(code)
                    progress.advance()
            finally:
                if progress is not None:
                    progress.stop()
                if path != "-":
                    source.handle.close()
    except (Stopped, KeyboardInterrupt) as stop:
        signum = stop.signum if isinstance(stop, Stopped) else signal.SIGINT
        stopped = Stopped(signum, reported=True)
        err.write(
            f"ketcheck: stopped by {stopped.name} after {tally.patients} "
            "patient(s); the output is incomplete\n"
        )
        raise stopped from None
    c, worst = tally.counts, tally.worst
    err.write(
        f"ketcheck: {tally.patients} patient(s): {c[ExitCode.RISK]} with risk at or above the "
        f"threshold, {c[ExitCode.INCOMPLETE]} incomplete, {c[ExitCode.CLEARED]} cleared; "
        f"exit {int(worst)}\n"
    )
    return int(worst)


class _Bar:
    def __init__(self, progress: Any | None, total: int | None) -> None:
        self._p = progress
        self._task = progress.add_task("checking patients", total=total) if progress else None

    def advance(self) -> None:
        if self._p is not None:
            self._p.advance(self._task)

    def stop(self) -> None:
        if self._p is not None:
            self._p.stop()


def _progress(err: IO[str], total: int | None) -> _Bar:
    if not (hasattr(err, "isatty") and err.isatty()):
        return _Bar(None, None)
    from rich.console import Console
    from rich.progress import Progress

    p = Progress(console=Console(file=err), transient=True)
    p.start()
    return _Bar(p, total)


def _patient_options(patient: Patient, options: CheckOptions) -> CheckOptions:
    """The run's options with this patient's own conditions and blood pressure, if any."""
    if not patient.conditions and patient.bp is None:
        return options
    from ketcheck.api import with_patient

    return with_patient(options, patient.conditions, patient.bp)


def _patient_tables() -> PatientTables:
    from ketcheck.kb.patient import load_patient_tables

    return load_patient_tables()
