"""Batch runs: many patients from CSV or JSON Lines, one JSON report per patient, streamed."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

from ketcheck import __version__
from ketcheck.engine.check import run_check
from ketcheck.engine.exit_policy import ExitCode, worst_of
from ketcheck.errors import InputError
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Entry
from ketcheck.options import CheckOptions
from ketcheck.patient import ConditionEntry, PatientContext
from ketcheck.render.json import dumps, report_to_dict
from ketcheck.sources.text import MAX_ENTRY_CHARS

if TYPE_CHECKING:
    from ketcheck.kb.patient import PatientTables

_CHUNK = 5000


def _open(path: str) -> IO[str]:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
    try:
        return open(path, encoding="utf-8", errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


# --- patient context (conditions, blood pressure): kept per patient beside the rows ----------


@dataclass(slots=True)
class _Patient:
    """Conditions and a blood pressure given for one patient in a batch file."""

    conditions: list[str] = field(default_factory=list)
    bp: str | None = None


def _context_of(
    context: dict[str, _Patient] | None, pid: str, conditions: object, bp: object, where: str
) -> bool:
    """Record a row's conditions and bp; True when it carried any (it may then have no medicine)."""
    if context is None or (not conditions and bp in (None, "")):
        return False
    items = conditions if isinstance(conditions, list) else [conditions] if conditions else []
    texts = [c for c in items if isinstance(c, str)]
    if len(texts) != len(items) or not (bp is None or isinstance(bp, str)):
        raise InputError(f'{where}: "conditions" must be strings and "bp" a string like "150/95"')
    entry = context.setdefault(pid, _Patient())
    for c in texts:
        entry.conditions += [p.strip() for p in c.split(";") if p.strip()]
    if bp:
        entry.bp = bp.strip()
    return True


def _patient_options(options: CheckOptions, patient: _Patient | None) -> CheckOptions:
    if patient is None:
        return options
    from ketcheck.api import reading
    from ketcheck.kb.patient import load_patient_tables

    bp = reading(patient.bp, load_patient_tables()) if patient.bp else None
    context = PatientContext(
        conditions=tuple(ConditionEntry(text=c) for c in patient.conditions), bp=bp
    )
    return replace(options, patient=context)


def _tables() -> PatientTables:
    from ketcheck.kb.patient import load_patient_tables

    return load_patient_tables()


# --- rows ------------------------------------------------------------------------------------


def _rows_csv(
    handle: IO[str], first: str, name: str, context: dict[str, _Patient] | None = None
) -> Iterator[tuple[str, str, bool]]:
    reader = csv.reader(_chain(first, handle))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    if "patient_id" not in header or "medication" not in header:
        raise InputError(
            f"{name}: line 1: the CSV header needs 'patient_id' and 'medication' columns"
        )
    pid_col, med_col = header.index("patient_id"), header.index("medication")
    status_col = header.index("status") if "status" in header else None
    cond_col = header.index("condition") if "condition" in header else None
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        if len(row) <= max(pid_col, med_col):
            raise InputError(f"{name}: line {line}: expected a patient_id and a medication")
        pid, med = row[pid_col].strip(), row[med_col].replace("\x00", "").strip()
        if not pid:
            raise InputError(f"{name}: line {line}: empty patient_id")
        cond = row[cond_col].strip() if cond_col is not None and len(row) > cond_col else ""
        if _context_of(context, pid, cond, None, f"{name}: line {line}") and not med:
            yield pid, "", False  # a condition-only row: the patient is still checked
            continue
        if not med:
            raise InputError(f"{name}: line {line}: empty medication for patient {pid!r}")
        if len(med) > MAX_ENTRY_CHARS:
            raise InputError(
                f"{name}: line {line}: medication longer than {MAX_ENTRY_CHARS} characters"
            )
        recent = (
            status_col is not None
            and len(row) > status_col
            and row[status_col].strip().lower() in ("stopped", "completed", "recent")
        )
        yield pid, med, recent


def _rows_jsonl(
    handle: IO[str], first: str, name: str, context: dict[str, _Patient] | None = None
) -> Iterator[tuple[str, str, bool]]:
    for number, line in enumerate(_chain(first, handle), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}: line {number}, column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        if (
            not isinstance(obj, dict)
            or "patient_id" not in obj
            or not isinstance(obj.get("medications"), list)
        ):
            raise InputError(
                f'{name}: line {number}: expected {{"patient_id": ..., "medications": [...]}}'
            )
        pid = str(obj["patient_id"]).strip()
        if not pid:
            raise InputError(f"{name}: line {number}: empty patient_id")
        given = obj.get("conditions"), obj.get("bp")
        if _context_of(context, pid, *given, f"{name}: line {number}") and not obj["medications"]:
            yield pid, "", False  # conditions only: the patient is still checked
        for med in obj["medications"]:
            recent = False
            if isinstance(med, dict):
                recent = str(med.get("status", "")).lower() in ("stopped", "completed", "recent")
                med = med.get("name")
            if not isinstance(med, str) or not med.strip():
                raise InputError(f"{name}: line {number}: each medication must be a non-empty name")
            if len(med) > MAX_ENTRY_CHARS:
                raise InputError(
                    f"{name}: line {number}: medication longer than {MAX_ENTRY_CHARS} characters"
                )
            yield pid, med.replace("\x00", "").strip(), recent


def _chain(first: str, handle: IO[str]) -> Iterator[str]:
    if first:
        yield first
    yield from handle


def _spill(path: str, db: sqlite3.Connection, context: dict[str, _Patient] | None = None) -> int:
    """Read every row once into a temporary table; returns the number of patients."""
    handle = _open(path)
    name = "stdin" if path == "-" else path
    try:
        first = handle.readline()
        while first and not first.strip():
            first = handle.readline()
        if not first:
            raise InputError(f"{name}: no rows")
        rows = (
            _rows_jsonl(handle, first, name, context)
            if first.lstrip().startswith("{")
            else _rows_csv(handle, first, name, context)
        )
        order: dict[str, int] = {}
        chunk: list[tuple[int, int, str, int]] = []
        for seq, (pid, med, recent) in enumerate(rows):
            if pid not in order:
                order[pid] = len(order)
                db.execute("INSERT INTO patients VALUES (?, ?)", (order[pid], pid))
            chunk.append((order[pid], seq, med, int(recent)))
            if len(chunk) >= _CHUNK:
                db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", chunk)
                chunk.clear()
        db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", chunk)
        return len(order)
    finally:
        if path != "-":
            handle.close()


def run_batch(
    path: str,
    kb: KnowledgeBase,
    options: CheckOptions,
    *,
    out: IO[str],
    err: IO[str],
) -> int:
    """Check every patient in the file; writes JSON Lines to `out`, returns the worst exit code."""
    with tempfile.TemporaryDirectory(prefix="ketcheck-batch-") as tmp:
        db = sqlite3.connect(f"{tmp}/rows.db")
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE patients (idx INTEGER PRIMARY KEY, id TEXT)")
        db.execute("CREATE TABLE rows (patient INTEGER, seq INTEGER, med TEXT, recent INTEGER)")
        context: dict[str, _Patient] = {}
        patients = _spill(path, db, context)
        db.execute("CREATE INDEX rows_by_patient ON rows (patient, seq)")
        resolver = Resolver(kb)
        counts = dict.fromkeys((ExitCode.CLEARED, ExitCode.RISK, ExitCode.INCOMPLETE), 0)
        progress = _progress(err, patients)
        try:
            for idx, pid in db.execute("SELECT idx, id FROM patients ORDER BY idx"):
                entries = [
                    Entry(text=med, recent=bool(recent))
                    for med, recent in db.execute(
                        "SELECT med, recent FROM rows WHERE patient = ? ORDER BY seq", (idx,)
                    )
                    if med
                ]
                report = run_check(
                    entries,
                    kb,
                    _patient_options(options, context.get(pid)),
                    tool_version=__version__,
                    resolver=resolver,
                    tables=_tables,
                )
                record: dict[str, Any] = {"patient_id": pid, **report_to_dict(report)}
                out.write(dumps(record, indent=None) + "\n")
                counts[report.summary.exit_code] += 1
                if progress is not None:
                    progress.advance(0)
        finally:
            if progress is not None:
                progress.stop()
            db.close()
    worst = worst_of(code for code, n in counts.items() if n)
    err.write(
        f"ketcheck: {patients} patient(s): {counts[ExitCode.RISK]} with risk at or above the "
        f"threshold, {counts[ExitCode.INCOMPLETE]} incomplete, {counts[ExitCode.CLEARED]} cleared; "
        f"exit {int(worst)}\n"
    )
    return int(worst)


class _Bar:
    def __init__(self, progress: Any, total: int) -> None:
        self._p = progress
        self._task = progress.add_task("checking patients", total=total)

    def advance(self, _: int) -> None:
        self._p.advance(self._task)

    def stop(self) -> None:
        self._p.stop()


def _progress(err: IO[str], total: int) -> _Bar | None:
    if not (hasattr(err, "isatty") and err.isatty()):
        return None
    from rich.console import Console
    from rich.progress import Progress

    p = Progress(console=Console(file=err), transient=True)
    p.start()
    return _Bar(p, total)
