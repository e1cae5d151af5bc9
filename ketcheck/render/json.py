"""The JSON report (schema_version 2): stable keys, input order kept, no timestamps."""

from __future__ import annotations

import json
from collections.abc import Iterable
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
from ketcheck.render.literal import json_safe

__all__ = [
    "SCHEMA_VERSION",
    "dumps",
    "dumps_strings",
    "finding_to_dict",
    "iso",
    "medication_to_dict",
    "render_json",
    "report_to_dict",
]


# What `json.dumps(…, ensure_ascii=False, separators=(",", ":"))` builds on every call, built
# once. The values are plain trees made here, never cyclic: no need to watch for cycles.
_COMPACT = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Serialise for output: UTF-8 kept readable, terminal-active characters escaped."""
    if indent is None:
        return json_safe(_COMPACT.encode(value))
    return json_safe(json.dumps(value, ensure_ascii=False, indent=indent, separators=(",", ": ")))


def dumps_strings(values: Iterable[str]) -> str:
    """`dumps(list(values), indent=None)`, without the general encoder's set-up per call."""
    encode = _COMPACT.encode  # a string is encoded directly, with no container set-up
    return json_safe("[" + ",".join([encode(v) for v in values]) + "]")


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
