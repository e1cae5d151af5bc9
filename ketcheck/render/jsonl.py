"""Batch output: one compact JSON report per patient, each distinct part encoded once."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import fields, replace
from operator import attrgetter
from typing import Any, Generic, TypeVar

from ketcheck.model import Finding, Medication, Report
from ketcheck.render.json import (
    dumps,
    dumps_strings,
    finding_to_dict,
    medication_to_dict,
    report_to_dict,
)

# Bounds, each filled within the first 10,000 rows of a realistic batch: anything a cache fills
# later shows as peak memory at 1,000,000 rows (bench: at most 1.25x the peak at 10,000).
# Encoded rows (a few hundred bytes each); each keeps its medication alive.
ROWS = 2048
# Findings by identity, with their encoded inputs; each keeps its finding alive.
FINDINGS = 512
# Encoded finding templates: a rule's advice, hold and source (about a kilobyte each, the
# advice text shared between them), without the finding's own lists.
BODIES = 512
# Encoded reports without their rows and findings (under a kilobyte each).
SHELLS = 512

# A finding's own lists and its "applies via" differ from patient to patient; the rest of it
# (the rule's advice, hold and source) is shared by many, so it is encoded once around them.
_OWN = ("ingredients", "inputs", "applies_via", "notes")
_FINDING_KEY = attrgetter(*(f.name for f in fields(Finding) if f.name not in _OWN))
# Every quote inside a JSON string is escaped, so these can only be the finding's own keys.
_OWN_MARKS = ('"ingredients":[]', '"inputs":[]', '"applies_via":""', '"notes":[]')
# The encoded text before, between and after those: five pieces.
_Template = tuple[str, str, str, str, str]
_ROWS_AND_FINDINGS = ("medications", "findings")
_SHELL_KEY = attrgetter(*(f.name for f in fields(Report) if f.name not in _ROWS_AND_FINDINGS))
# Every quote inside a JSON string is escaped, so these can only be the report's own keys.
_NO_ROWS, _NO_FINDINGS = '"medications":[]', '"findings":[]'

K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """At most `limit` values by key, the least recently used dropped first."""

    __slots__ = ("_kept", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: K) -> V | None:
        """The value kept for `key` (now the most recently used), or None."""
        value = self._kept.get(key)
        if value is not None:
            self._kept.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> V:
        """Keep `value` for `key`, dropping the least recently used beyond the limit."""
        self._kept[key] = value
        if len(self._kept) > self.limit:
            self._kept.popitem(last=False)
        return value


class PatientLines:
    """Encodes `{"patient_id": …, **report}` exactly as `dumps(…, indent=None)` would, faster."""

    def __init__(
        self,
        *,
        rows: int = ROWS,
        findings: int = FINDINGS,
        bodies: int = BODIES,
        shells: int = SHELLS,
    ) -> None:
        # A row is keyed by the ids of its parts and holds the medication, so the ids stay theirs.
        self._rows: _Recent[tuple[str, bool, int, int, int], tuple[Medication, str]] = _Recent(rows)
        self._bodies: _Recent[tuple[str, tuple[object, ...]], _Template] = _Recent(bodies)
        self._shells: _Recent[tuple[object, ...], tuple[str, str, str]] = _Recent(shells)
        self._same: _Recent[int, tuple[Finding, str, str, str, str]] = _Recent(findings)
        # Equal texts of different entries, one copy each (sys.intern would keep them forever on
        # Python 3.12, where interned strings are immortal).
        self._texts: _Recent[str, str] = _Recent(bodies + 2)

    def line(self, patient_id: str | int, report: Report) -> str:
        """One JSON line (with its newline) for one patient."""
        before, between, after = self._shell(report)
        protocol = report.protocol
        return "".join(
            (
                '{"patient_id":',
                dumps(patient_id, indent=None),
                ",",
                before,
                ",".join([self._row(m) for m in report.medications]),
                between,
                ",".join([self._finding(f, protocol) for f in report.findings]),
                after,
            )
        )

    def _shell(self, report: Report) -> tuple[str, str, str]:
        """The report without its rows and findings: the text before, between and after them."""
        key = (_SHELL_KEY(report), len(report.medications), len(report.findings))
        parts = self._shells.get(key)
        if parts is not None:
            return parts
        shell: dict[str, Any] = report_to_dict(replace(report, medications=(), findings=()))
        counts = shell["summary"]["counts"]
        counts["medications"], counts["findings"] = len(report.medications), len(report.findings)
        # Past the opening brace, where the patient id goes first.
        text = dumps(shell, indent=None)[1:]
        before, _, rest = text.partition(_NO_ROWS)
        between, _, after = rest.partition(_NO_FINDINGS)
        # The text before and between is the same for every patient of a run: kept once.
        return self._shells.put(
            key,
            (
                self._shared(before + _NO_ROWS[:-1]),
                self._shared(_NO_ROWS[-1] + between + _NO_FINDINGS[:-1]),
                _NO_FINDINGS[-1] + after + "\n",
            ),
        )

    def _row(self, m: Medication) -> str:
        key = (m.input, m.recent, id(m.parsed), id(m.resolution), id(m.dose))
        hit = self._rows.get(key)
        if hit is None:
            hit = self._rows.put(key, (m, dumps(medication_to_dict(m), indent=None)))
        return hit[1]

    def _finding(self, f: Finding, protocol: str) -> str:
        # The engine shares a finding between patients with the same entries: one look-up. Each
        # holds its finding, so the id stays its own.
        same = self._same.get(id(f))
        if same is None or same[1] != protocol:
            head, tail = self._body(f, protocol)
            same = self._same.put(id(f), (f, protocol, head, dumps_strings(f.inputs), tail))
        return same[2] + same[3] + same[4]

    def _body(self, f: Finding, protocol: str) -> tuple[str, str]:
        """A finding encoded around its inputs, from the encoded rest of its rule's advice."""
        a, b, c, d, e = self._template(f, protocol)
        notes = dumps_strings(f.notes) if f.notes else "[]"
        return (
            a + dumps_strings(f.ingredients) + b,
            c + dumps(f.applies_via, indent=None) + d + notes + e,
        )

    def _template(self, f: Finding, protocol: str) -> _Template:
        """The encoded text of a finding between its own lists and "applies via"."""
        key = (protocol, _FINDING_KEY(f))
        parts = self._bodies.get(key)
        if parts is None:
            plain = finding_to_dict(f, protocol=protocol)
            plain.update(ingredients=[], inputs=[], applies_via="", notes=[])
            pieces, rest = [], dumps(plain, indent=None)
            for mark in _OWN_MARKS:
                before, _, rest = rest.partition(mark)
                pieces.append(before + mark[: mark.index(":") + 1])
            a, b, c, d = pieces
            # Findings of one rule often differ only in their lists: one copy of the advice.
            parts = self._bodies.put(key, (a, b, self._shared(c), d, rest))
        return parts

    def _shared(self, text: str) -> str:
        """The copy of `text` already kept, if one is; else `text`, kept from now."""
        return self._texts.get(text) or self._texts.put(text, text)
