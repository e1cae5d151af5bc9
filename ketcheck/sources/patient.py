"""Conditions and blood pressure as given: --condition values, the JSON object form, FHIR."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ketcheck.errors import InputError

if TYPE_CHECKING:
    from ketcheck.patient import ConditionEntry

MAX_CONDITIONS = 1000
MAX_CONDITION_CHARS = 300
_SPLIT = re.compile(r"[;,]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Given:
    """Patient context found in an input document."""

    conditions: tuple[ConditionEntry, ...] = ()
    bp: str | None = None
    warnings: tuple[str, ...] = ()


def _entry(text: str, where: str) -> ConditionEntry:
    from ketcheck.patient import ConditionEntry

    text = text.replace("\x00", "").strip()
    if len(text) > MAX_CONDITION_CHARS:
        raise InputError(f"{where}: a condition longer than {MAX_CONDITION_CHARS} characters")
    return ConditionEntry(text=text)


def condition_arguments(values: Iterable[str]) -> list[ConditionEntry]:
    """--condition values: each may hold several, split on `,` and `;`; empty pieces dropped."""
    out = [
        _entry(piece, "--condition")
        for value in values
        for piece in _SPLIT.split(value)
        if piece.strip()
    ]
    if len(out) > MAX_CONDITIONS:
        raise InputError(f"too many conditions ({len(out)}; the limit is {MAX_CONDITIONS})")
    return out


def check_object(doc: Mapping[str, Any]) -> Given:
    """The patient context of {"medications": [...], "conditions": [...], "bp": "150/95"}."""
    conditions = doc.get("conditions", [])
    if not isinstance(conditions, list):
        raise InputError('JSON "conditions" must be an array of strings')
    entries = []
    for i, item in enumerate(conditions):
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            item = item["text"]
        if not isinstance(item, str) or not item.strip():
            raise InputError(f"JSON condition {i + 1}: expected a non-empty string")
        entries.append(_entry(item, f"JSON condition {i + 1}"))
    if len(entries) > MAX_CONDITIONS:
        raise InputError(f"too many conditions ({len(entries)}; the limit is {MAX_CONDITIONS})")
    bp = doc.get("bp")
    if isinstance(bp, dict):
        sys_, dia = bp.get("systolic"), bp.get("diastolic")
        if not isinstance(sys_, int) or not (dia is None or isinstance(dia, int)):
            raise InputError('JSON "bp": {"systolic": n, "diastolic": n} with whole numbers')
        bp = f"{sys_}/{dia}" if dia is not None else f"SBP {sys_}"
    if bp is not None and not isinstance(bp, str):
        raise InputError('JSON "bp" must be a string such as "150/95"')
    unknown = set(doc) - {"medications", "conditions", "bp", "patient_id"}
    if unknown:
        raise InputError(
            f"JSON input: unknown key {sorted(unknown)[0]!r} (expected medications, conditions, bp)"
        )
    return Given(conditions=tuple(entries), bp=bp)


def given_in(text: str) -> Given:
    """Conditions and blood pressure carried by a JSON object or a FHIR Bundle (else none)."""
    if not text.lstrip().startswith("{"):
        return Given()
    import json

    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return Given()  # the medication reader reports the JSON error
    if not isinstance(doc, dict):
        return Given()
    if isinstance(doc.get("resourceType"), str):
        from ketcheck.sources.fhir_context import context_from_fhir

        found = context_from_fhir(doc)
        return Given(conditions=found.conditions, bp=found.bp, warnings=found.warnings)
    return check_object(doc)
