"""The JSON report (schema_version 2): stable keys, input order kept, no timestamps."""

from __future__ import annotations

import json
from typing import Any

# The plain values belong to the model (so `Report.to_dict()` needs no renderer); re-exported.
from ketcheck.model import (
    SCHEMA_VERSION,
    Report,
    finding_to_dict,
    iso,
    medication_to_dict,
    report_to_dict,
)

__all__ = [
    "SCHEMA_VERSION",
    "dumps",
    "finding_to_dict",
    "iso",
    "medication_to_dict",
    "render_json",
    "report_to_dict",
]


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Serialise for output: UTF-8 kept readable, terminal-active characters escaped."""
    from ketcheck.render.literal import json_safe

    separators = (",", ": ") if indent is not None else (",", ":")
    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent, separators=separators))


_SLOT = "\x00medications\x00"


def render_json(report: Report, *, pretty: bool = True) -> str:
    """The JSON report as text: indented for people, compact (and much faster) for pipes."""
    doc = report_to_dict(report)
    if pretty:
        return dumps(doc, indent=2) + "\n"
    # Long lists repeat the same lines: encode each distinct row once and splice them in.
    encoded: dict[int, str] = {}
    parts = []
    for row in doc["medications"]:
        text = encoded.get(id(row))
        if text is None:
            text = encoded[id(row)] = dumps(row, indent=None)
        parts.append(text)
    doc["medications"] = _SLOT
    before, _, after = dumps(doc, indent=None).partition(json.dumps(_SLOT))
    return "".join((before, "[", ",".join(parts), "]", after, "\n"))  # one copy of the rows
