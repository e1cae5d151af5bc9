"""Batch output: one compact JSON report per patient, each distinct row and finding encoded once."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from ketcheck.model import Finding, Medication, Parsed, Report, Resolution
from ketcheck.render.json import dumps, finding_to_dict, medication_to_dict, report_to_dict

# Encoded rows and findings kept for reuse; the caches start afresh when they reach this size.
CACHE_LIMIT = 3000
_FINDING_FIELDS = tuple(f.name for f in fields(Finding) if f.name != "inputs")


class PatientLines:
    """Encodes `{"patient_id": …, **report}` exactly as `dumps(…, indent=None)` would, faster."""

    def __init__(self, *, cache_limit: int = CACHE_LIMIT) -> None:
        self._limit = cache_limit
        # The parsed entry and resolution are held with the text, so their ids stay theirs.
        self._rows: dict[tuple[str, bool, int, int], tuple[Parsed, Resolution, str]] = {}
        self._findings: dict[tuple[object, ...], tuple[str, str]] = {}
        self._inputs: dict[tuple[str, ...], str] = {}

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
        key = (m.input, m.recent, id(m.parsed), id(m.resolution))
        hit = self._rows.get(key)
        if hit is None:
            if len(self._rows) >= self._limit:
                self._rows.clear()
            hit = self._rows[key] = (
                m.parsed,
                m.resolution,
                dumps(medication_to_dict(m), indent=None),
            )
        return hit[2]

    def _finding(self, f: Finding, protocol: str) -> str:
        # Findings differ between patients mostly by their inputs: encode the rest once.
        key = (protocol, *[getattr(f, name) for name in _FINDING_FIELDS])
        parts = self._findings.get(key)
        if parts is None:
            if len(self._findings) >= self._limit:
                self._findings.clear()
            bare = replace(f, inputs=())
            encoded = dumps(finding_to_dict(bare, protocol=protocol), indent=None)
            head, _, tail = encoded.partition('"inputs":[]')
            parts = self._findings[key] = (head + '"inputs":', tail)
        inputs = self._inputs.get(f.inputs)
        if inputs is None:
            if len(self._inputs) >= self._limit:
                self._inputs.clear()
            inputs = self._inputs[f.inputs] = dumps(list(f.inputs), indent=None)
        return parts[0] + inputs + parts[1]
