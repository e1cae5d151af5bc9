"""Turn what a user or script supplies into medication entries, keeping every entry in order."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ketcheck.errors import InputError
from ketcheck.model import Entry

E = TypeVar("E", str, Entry)

MAX_ENTRY_CHARS = 1000
MAX_ENTRIES = 100_000
_ARG_SPLIT = re.compile(r"[;,](?!\d{3}\b)")
_JSON_START = re.compile(r"^\s*(?:\{|\[\s*(?:[\"{\[\]]|$))")


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """Input text decoded from bytes, with what had to be repaired."""

    text: str
    replaced_bytes: bool
    removed_nul: bool


def decode(raw: bytes) -> Decoded:
    """Decode bytes as UTF-8 with replacement, and drop NUL bytes."""
    text = raw.decode("utf-8", errors="replace")
    replaced = "\ufffd" in text and b"\xef\xbf\xbd" not in raw
    removed_nul = "\x00" in text
    if removed_nul:
        text = text.replace("\x00", "")
    if text.startswith("\ufeff"):
        text = text[1:]
    return Decoded(text=text, replaced_bytes=replaced, removed_nul=removed_nul)


def from_arguments(args: Iterable[str]) -> list[Entry]:
    """Entries from command-line arguments: each may hold several, split on `,` and `;`."""
    out: list[Entry] = []
    for arg in args:
        for piece in _ARG_SPLIT.split(arg.replace("\x00", "")):
            if piece.strip():
                out.append(Entry(text=piece.strip()))
    return _limited(out)


def from_lines(text: str) -> list[str]:
    """Entries from plain text: one per line; blank lines and `#` comments are skipped.

    Plain lines carry nothing but their text, so they stay strings (`check` accepts both).
    """
    stripped = (line.strip() for line in text.split("\n"))
    return _limited([line for line in stripped if line and not line.startswith("#")])


def looks_like_json(text: str) -> bool:
    """True when the text opens like a JSON document rather than a medication line."""
    return bool(_JSON_START.match(text))


def from_text(
    text: str, *, rxnorm: Callable[[str], str | None] | None = None
) -> Sequence[str | Entry]:
    """Entries from stdin or a file: JSON (array or FHIR) when it looks like JSON, else lines."""
    if not looks_like_json(text):
        return from_lines(text)
    import json  # only JSON and FHIR input need it

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return from_json(doc, rxnorm=rxnorm)


def from_json(doc: object, *, rxnorm: Callable[[str], str | None] | None = None) -> list[Entry]:
    """Entries from parsed JSON: an array of names or objects, or FHIR R4 resources."""
    from ketcheck.sources.fhir import entries_from_fhir, is_fhir

    if is_fhir(doc):
        assert isinstance(doc, dict)
        return _limited(entries_from_fhir(doc, rxnorm=rxnorm))
    if isinstance(doc, dict) and isinstance(doc.get("medications"), list):
        from ketcheck.sources.patient import check_object

        check_object(doc)  # the object form may carry "conditions" and "bp" (read by the CLI)
        doc = doc["medications"]
    if not isinstance(doc, list):
        raise InputError(
            "JSON input must be an array of names, an array of objects with a "
            '"name", or a FHIR MedicationStatement, MedicationRequest or Bundle'
        )
    out: list[Entry] = []
    for i, item in enumerate(doc):
        if isinstance(item, str):
            text = item
            recent = False
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            text = item["name"]
            recent = str(item.get("status", "")).lower() in ("stopped", "completed", "recent")
        else:
            raise InputError(f'JSON item {i + 1}: expected a string or an object with a "name"')
        text = text.replace("\x00", "").strip()
        if not text:
            raise InputError(f"JSON item {i + 1}: empty medication name")
        out.append(Entry(text=text, recent=recent))
    return _limited(out)


def _limited(entries: Sequence[E]) -> list[E]:
    if len(entries) > MAX_ENTRIES:
        raise InputError(
            f"too many entries ({len(entries):,}; the limit for one check is {MAX_ENTRIES:,}); "
            "use `ketcheck batch` for large files"
        )
    for i, e in enumerate(entries):
        text = e if isinstance(e, str) else e.text
        if len(text) > MAX_ENTRY_CHARS:
            raise InputError(
                f"entry {i + 1} is {len(text):,} characters long; the limit is "
                f"{MAX_ENTRY_CHARS:,} (is this really a medication list?)"
            )
    return list(entries)
