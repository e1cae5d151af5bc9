"""Batch input: patients read from CSV (grouped through the spill) or JSON Lines (streamed)."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from ketcheck.errors import InputError
from ketcheck.model import Entry
from ketcheck.sources.spill import Spill
from ketcheck.sources.text import MAX_ENTRIES, MAX_ENTRY_CHARS

PatientId = str | int
_RECENT = frozenset({"stopped", "completed", "recent"})
_BREAKS = ("\n", "\r")
# Longest lines read (characters): a CSV row holds two fields of 1,000 and whatever else the
# export carries; a JSON Lines record may hold a whole list at the per-patient limit.
MAX_CSV_LINE = 1 << 20
MAX_JSONL_LINE = MAX_ENTRIES * (MAX_ENTRY_CHARS + 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class Patient:
    """One patient's medication list as read; plain strings are entries with no status."""

    id: PatientId
    entries: tuple[str | Entry, ...]
    line: int
    conditions: tuple[str, ...] = ()  # JSON Lines "conditions"
    bp: str | None = None  # JSON Lines "bp", the session-day reading


@dataclass(slots=True, kw_only=True)
class Source:
    """An opened batch input: its display name and its lines, the first non-blank one first."""

    name: str
    first: str
    first_line: int
    handle: IO[str]

    @property
    def is_jsonl(self) -> bool:
        """JSON Lines when the first non-blank line opens an object; CSV otherwise."""
        return self.first.lstrip().startswith("{")

    def lines(self, limit: int) -> Iterator[str]:
        """Every line from the first non-blank one on; a line of `limit` characters stops."""
        number, line, readline = self.first_line, self.first, self.handle.readline
        while line:
            if len(line) >= limit and not line.endswith(_BREAKS):
                raise InputError(f"{self.name}: line {number}: longer than {limit:,} characters")
            yield line
            number += 1
            line = readline(limit)


def open_source(path: str) -> Source:
    """Open a batch file (or stdin for "-"), decoding UTF-8 and dropping a leading BOM."""
    name = "stdin" if path == "-" else path
    if path == "-" and sys.stdin is None:
        raise InputError("standard input is closed: no rows given")
    try:
        raw = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    handle = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
    number, first = 1, handle.readline(MAX_JSONL_LINE)
    while first and not first.strip():
        number, first = number + 1, handle.readline(MAX_JSONL_LINE)
    if not first:
        raise InputError(f"{name}: no rows")
    return Source(name=name, first=first, first_line=number, handle=handle)


def read_patients(source: Source, spill: Spill) -> Iterator[Patient]:
    """Every patient in the input, in first-seen order; stops with InputError at a bad line.

    JSON Lines are streamed: one record is one patient, and an id seen twice is refused.
    CSV rows are grouped per patient through `spill`, so nothing is yielded before the end.
    """
    if source.is_jsonl:
        yield from _jsonl_patients(source, spill)
        return
    name = source.name
    runs = spill.grouped(
        _csv_runs(source),
        limit=MAX_ENTRIES,
        too_many=lambda pid, line: InputError(_too_many(name, line, pid)),
    )
    for pid, line, rows in runs:
        yield Patient(
            id=pid,
            line=line,
            entries=tuple(Entry(text=m, recent=True) if r else m for m, r in rows),
        )


# --- CSV --------------------------------------------------------------------------------


def _header(row: list[str], name: str, line: int) -> tuple[int, int, int | None]:
    header = [h.strip().lstrip("\ufeff").lower() for h in row]
    for column in ("patient_id", "medication", "status"):
        if header.count(column) > 1:
            raise InputError(
                f"{name}: line {line}: the CSV header has more than one {column!r} column"
            )
    if "patient_id" not in header or "medication" not in header:
        raise InputError(
            f"{name}: line {line}: the CSV header needs 'patient_id' and 'medication' columns"
        )
    status = header.index("status") if "status" in header else None
    return header.index("patient_id"), header.index("medication"), status


def _csv_runs(source: Source) -> Iterator[tuple[str, int, list[tuple[str, bool]]]]:
    """Runs of consecutive rows of one patient: (patient id, first line, [(medication, recent)])."""
    name, offset = source.name, source.first_line - 1
    reader = csv.reader(source.lines(MAX_CSV_LINE))
    end = offset
    try:
        head = next(reader)
        end = offset + reader.line_num
        pid_col, med_col, status_col = _header(head, name, end)
        need = max(pid_col, med_col)
        run_pid: str | None = None
        run_line = 0
        run: list[tuple[str, bool]] = []
        count = 0
        for row in reader:
            start, end = end + 1, offset + reader.line_num
            if not any(row):
                continue
            if end != start and any(b in cell for cell in row for b in _BREAKS):
                raise InputError(
                    f"{name}: line {start}: a field holds a line break (an unbalanced quote?); "
                    f"lines {start}-{end} would be read as one row"
                )
            if len(row) <= need:
                if not any(cell.strip() for cell in row):
                    continue
                raise InputError(f"{name}: line {start}: expected a patient_id and a medication")
            if len(row) > len(head) and any(cell.strip() for cell in row[len(head) :]):
                # "p1,Zoloft 50 mg,Nardil 15 mg": the field after the last column would be lost
                raise InputError(
                    f"{name}: line {start}: {len(row)} fields, but the header has {len(head)}; "
                    "quote a field that holds a comma"
                )
            pid, med = row[pid_col].strip(), row[med_col].replace("\x00", "").strip()
            if not pid:
                if not med and not any(cell.strip() for cell in row):
                    continue
                raise InputError(f"{name}: line {start}: empty patient_id")
            if not med:
                raise InputError(f"{name}: line {start}: empty medication for patient {pid!r}")
            if len(med) > MAX_ENTRY_CHARS:
                raise InputError(
                    f"{name}: line {start}: medication longer than {MAX_ENTRY_CHARS} characters"
                )
            if len(pid) > MAX_ENTRY_CHARS:
                raise InputError(
                    f"{name}: line {start}: patient_id longer than {MAX_ENTRY_CHARS} characters"
                )
            recent = (
                status_col is not None
                and len(row) > status_col
                and row[status_col].strip().lower() in _RECENT
            )
            count += 1
            if pid != run_pid:
                if run_pid is not None:
                    yield run_pid, run_line, run
                run_pid, run_line, run = pid, start, []
            elif len(run) >= MAX_ENTRIES:
                raise InputError(_too_many(name, start, pid))
            run.append((med, recent))
        if run_pid is not None:
            yield run_pid, run_line, run
    except csv.Error as exc:
        raise InputError(f"{name}: line {end + 1}: unreadable CSV: {exc}") from None
    if not count:
        raise InputError(f"{name}: no rows after the CSV header (line {offset + 1})")


def _too_many(name: str, line: int, pid: PatientId) -> str:
    return (
        f"{name}: line {line}: patient {pid!r} has more than {MAX_ENTRIES:,} medications "
        "(the per-patient limit)"
    )


# --- JSON Lines ---------------------------------------------------------------------------


def _jsonl_patients(source: Source, spill: Spill) -> Iterator[Patient]:
    name = source.name
    for number, line in enumerate(source.lines(MAX_JSONL_LINE), start=source.first_line):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}: line {number}, column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        except (ValueError, RecursionError) as exc:
            raise InputError(f"{name}: line {number}: unreadable JSON ({exc})") from None
        if (
            not isinstance(obj, dict)
            or "patient_id" not in obj
            or not isinstance(obj.get("medications"), list)
        ):
            raise InputError(
                f'{name}: line {number}: expected {{"patient_id": ..., "medications": [...]}}'
            )
        pid = _patient_id(obj["patient_id"], name, number)
        meds = obj["medications"]
        if not meds:
            raise InputError(f"{name}: line {number}: patient {pid!r} has an empty medication list")
        if len(meds) > MAX_ENTRIES:
            raise InputError(_too_many(name, number, pid))
        entries: list[str | Entry] = []
        for med in meds:
            recent = False
            if isinstance(med, dict):
                recent = str(med.get("status", "")).strip().lower() in _RECENT
                med = med.get("name")
            if not isinstance(med, str) or not med.strip():
                raise InputError(f"{name}: line {number}: each medication must be a non-empty name")
            if len(med) > MAX_ENTRY_CHARS:
                raise InputError(
                    f"{name}: line {number}: medication longer than {MAX_ENTRY_CHARS} characters"
                )
            text = _scrub(med.replace("\x00", "").strip())
            entries.append(Entry(text=text, recent=True) if recent else text)
        first = spill.first_seen(pid, number)
        if first is not None:
            raise InputError(
                f"{name}: line {number}: patient {pid!r} already appeared on line {first}; "
                "one JSON Lines record must hold a patient's whole list"
            )
        conditions, bp = _patient_context(obj, name, number)
        yield Patient(id=pid, line=number, entries=tuple(entries), conditions=conditions, bp=bp)


def _patient_context(
    obj: dict[str, object], name: str, line: int
) -> tuple[tuple[str, ...], str | None]:
    """A JSON Lines record's "conditions" (strings; each may hold several, split on , and ;)
    and "bp" ("150/95")."""
    raw = obj.get("conditions", [])
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise InputError(f'{name}: line {line}: "conditions" must be a list of strings')
    conditions = tuple(
        piece.strip() for c in raw for piece in re.split(r"[;,]", c) if piece.strip()
    )
    bp = obj.get("bp")
    if bp is not None and not (isinstance(bp, str) and bp.strip()):
        raise InputError(f'{name}: line {line}: "bp" must be a string such as "150/95"')
    return conditions, bp.strip() if isinstance(bp, str) else None


def _patient_id(value: object, name: str, line: int) -> PatientId:
    """A non-empty string or an integer (kept as such: 1 and "1" are different patients)."""
    if isinstance(value, str) and value.strip():
        if len(value) > MAX_ENTRY_CHARS:
            raise InputError(
                f"{name}: line {line}: patient_id longer than {MAX_ENTRY_CHARS} characters"
            )
        return _scrub(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    shown = (
        "null" if value is None else type(value).__name__ if not isinstance(value, str) else "empty"
    )
    raise InputError(
        f"{name}: line {line}: patient_id must be a non-empty string or an integer, not {shown}"
    )


def _scrub(text: str) -> str:
    """Lone surrogates (from JSON escapes) become U+FFFD, so output stays valid UTF-8."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
