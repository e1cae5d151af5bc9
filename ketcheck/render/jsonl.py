"""Batch output: one compact JSON report per patient, each distinct row and finding encoded once."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import fields, replace
from operator import attrgetter
from typing import Any

from ketcheck.model import Finding, Medication, Report
from ketcheck.render.json import dumps, finding_to_dict, medication_to_dict, report_to_dict

# Encoded rows, findings and input lists kept for reuse, the least recently used dropped first.
CACHE_LIMIT = 2048
# Encoded finding bodies (each the size of its advice text, a kilobyte or two) kept.
BODIES = 512
_FINDING_KEY = attrgetter(*(f.name for f in fields(Finding) if f.name != "inputs"))


class PatientLines:
    """Encodes `{"patient_id": …, **report}` exactly as `dumps(…, indent=None)` would, faster."""

    def __init__(self, *, cache_limit: int = CACHE_LIMIT, bodies: int = BODIES) -> None:
        self._limit = cache_limit
        self._bodies = bodies
        # A row is keyed by the ids of its parts and holds the medication, so the ids stay theirs.
        self._rows: OrderedDict[tuple[str, bool, int, int, int], tuple[Medication, str]] = (
            OrderedDict()
        )
        self._findings: OrderedDict[tuple[object, ...], tuple[str, str]] = OrderedDict()
        self._inputs: OrderedDict[tuple[str, ...], str] = OrderedDict()
        # Encoded findings by identity; each holds its finding, so the id stays its own.
        self._same: OrderedDict[int, tuple[Finding, str, tuple[str, str], str]] = OrderedDict()

    def line(self, patient_id: str | int, report: Report) -> str:
        """One JSON line (with its newline) for one patient."""
        shell: dict[str, Any] = report_to_dict(replace(report, medications=(), findings=()))
        counts = shell["summary"]["counts"]
        counts["medications"], counts["findings"] = len(report.medications), len(report.findings)
        text = dumps({"patient_id": patient_id, **shell}, indent=None)
        # Every quote inside a JSON string is escaped, so these keys can only be the report's own.
        findings = ",".join([self._finding(f, report.protocol) for f in report.findings])
        text = text.replace('"findings":[]', f'"findings":[{findings}]', 1)
        rows = ",".join([self._row(m) for m in report.medications])
        return text.replace('"medications":[]', f'"medications":[{rows}]', 1) + "\n"

    def _row(self, m: Medication) -> str:
        key = (m.input, m.recent, id(m.parsed), id(m.resolution), id(m.dose))
        rows = self._rows
        hit = rows.get(key)
        if hit is not None:
            rows.move_to_end(key)
            return hit[1]
        text = dumps(medication_to_dict(m), indent=None)
        rows[key] = (m, text)
        if len(rows) > self._limit:
            rows.popitem(last=False)
        return text

    def _finding(self, f: Finding, protocol: str) -> str:
        # The engine shares a finding between patients with the same entries: one look-up.
        same = self._same
        hit = same.get(id(f))
        if hit is not None and hit[0] is f and hit[1] == protocol:
            same.move_to_end(id(f))
        else:
            hit = same[id(f)] = (f, protocol, self._body(f, protocol), self._inputs_of(f.inputs))
            if len(same) > self._bodies:  # each holds its body: no more of them than bodies
                same.popitem(last=False)
        head, tail = hit[2]
        return head + hit[3] + tail

    def _body(self, f: Finding, protocol: str) -> tuple[str, str]:
        """A finding encoded around its inputs; findings differ mostly by their inputs."""
        key = (protocol, _FINDING_KEY(f))
        found = self._findings
        parts = found.get(key)
        if parts is not None:
            found.move_to_end(key)
            return parts
        encoded = dumps(finding_to_dict(replace(f, inputs=()), protocol=protocol), indent=None)
        head, _, tail = encoded.partition('"inputs":[]')
        parts = found[key] = (head + '"inputs":', tail)
        if len(found) > self._bodies:
            found.popitem(last=False)
        return parts

    def _inputs_of(self, inputs: tuple[str, ...]) -> str:
        known = self._inputs
        text = known.get(inputs)
        if text is not None:
            known.move_to_end(inputs)
            return text
        text = known[inputs] = dumps(list(inputs), indent=None)
        if len(known) > self._limit:
            known.popitem(last=False)
        return text
