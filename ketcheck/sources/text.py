"""Turn what a user or script supplies into medication entries, keeping every entry in order."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from ketcheck.errors import InputError
from ketcheck.matching.tokens import Label, vocabulary_label, word_of
from ketcheck.model import Entry

E = TypeVar("E", str, Entry)

MAX_ENTRY_CHARS = 1000
MAX_ENTRIES = 100_000
# A separator between entries: `;`, or a comma that is not between two digits.
_ARG_SPLIT = re.compile(r";|,(?!\d)|(?<!\d),")
# Arguments made only of these are a dose or sig that belongs to the name before them.
_INSTRUCTION_ONLY = frozenset(
    {
        Label.STRENGTH,
        Label.FORM,
        Label.ROUTE,
        Label.FREQUENCY,
        Label.RELEASE,
        Label.SIG,
        Label.PUNCT,
    }
)
NONE_PHRASES = frozenset(
    {
        "none",
        "nil",
        "nothing",
        "no medications",
        "no medication",
        "no medicines",
        "no meds",
        "no current medications",
        "no current medicines",
        "no current meds",
        "no regular medications",
        "no known medications",
        "not taking any medications",
        "none reported",
    }
)
# An object opens with a key or closes at once; an RxNorm pack name ("{28 (norethindrone …)}
# Pack") opens with a brace too, and is a medication line.
_JSON_START = re.compile(r"^\s*(?:\{\s*(?:[\"}]|$)|\[\s*(?:[\"{\[\]]|$))")


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
    """Entries from command-line arguments: split on `,` and `;`; lone doses join their name.

    `ketcheck check Klonopin 0.5 mg BID, Lamictal 200 mg` (unquoted) is two entries: when any
    argument holds a separator the arguments are joined and split on the separators. A comma
    between digits is a decimal or thousands mark ("Xanax 0,5 mg", "lithium 1,200 mg").
    """
    cleaned = [a.replace("\x00", "") for a in args]
    if any(_ARG_SPLIT.search(a) for a in cleaned):
        # Unquoted words arrive one per argument and are joined; a quoted argument (it holds a
        # space) is an entry boundary of its own.
        joined = cleaned[0] if cleaned else ""
        for before, arg in itertools.pairwise(cleaned):
            quoted = any(ch.isspace() for ch in before.strip() + arg.strip())
            joined += ("; " if quoted else " ") + arg
        pieces = [p.strip() for p in _ARG_SPLIT.split(joined)]
    else:
        pieces = _attach_lone_instructions([a.strip() for a in cleaned])
    out = [Entry(text=p) for p in pieces if p]
    if not out:
        raise InputError("no medications given: the arguments are empty")
    return _limited(out)


def _attach_lone_instructions(args: list[str]) -> list[str]:
    """["Klonopin", "0.5", "mg", "BID"] -> ["Klonopin 0.5 mg BID"]; a lone "and" only separates."""
    out: list[str] = []
    pending: list[str] = []  # instructions typed before any name ("0.5 mg clonazepam")
    for arg in args:
        if not arg:
            continue
        labels = {vocabulary_label(word_of(w)) for w in arg.split()}
        if labels == {Label.SEPARATOR}:
            pending = []
            out.append("")  # a lone "and" / "+" ends the entry before it
            continue
        if labels <= _INSTRUCTION_ONLY:
            if out and out[-1]:
                out[-1] = f"{out[-1]} {arg}"
            else:
                pending.append(arg)
            continue
        out.append(" ".join([*pending, arg]))
        pending = []
    if pending:
        out.append(" ".join(pending))
    return [a for a in out if a]


def from_lines(text: str) -> list[str]:
    """Entries from plain text: one per line (any line break); blank lines and `# ` comments are skipped.

    `#` starts a comment only before a space or at the end of the line, so a numbered
    "#2 Klonopin 1 mg" is an entry. Plain lines carry nothing but their text, so they stay
    strings (`check` accepts both).
    """
    stripped = (line.strip() for line in text.splitlines())
    return _limited([line for line in stripped if line and not is_comment(line)])


def is_comment(line: str) -> bool:
    """A `# note` line (or a lone `#`), never `#2 Klonopin`."""
    return line == "#" or line.startswith(("# ", "#\t", "##"))


def comment_lines(text: str) -> int:
    """How many lines of plain-text input are comments (stderr reports the count)."""
    return sum(1 for line in text.splitlines() if is_comment(line.strip()))


def says_none(entries: Sequence[str | Entry]) -> bool:
    """True when the whole list says there are no medicines ("none", "no medications", "nil")."""
    from ketcheck.matching.normalise import name_key

    texts = [e if isinstance(e, str) else e.text for e in entries]
    return bool(texts) and all(name_key(t) in NONE_PHRASES for t in texts)


def looks_like_json(text: str) -> bool:
    """True when the text opens like a JSON document rather than a medication line."""
    return bool(_JSON_START.match(text))


class Read(NamedTuple):
    """Entries from stdin or a file, and warnings about records the input holds but skips.

    A named tuple rather than a dataclass: defined on every start, where a dataclass's
    generated methods cost a millisecond or more.
    """

    entries: Sequence[str | Entry]
    warnings: tuple[str, ...] = ()


def from_text(
    text: str, *, rxnorm: Callable[[str], str | None] | None = None
) -> Sequence[str | Entry]:
    """Entries from stdin or a file: JSON (array or FHIR) when it looks like JSON, else lines."""
    return read_text(text, rxnorm=rxnorm).entries


def read_text(text: str, *, rxnorm: Callable[[str], str | None] | None = None) -> Read:
    """Entries and input warnings from stdin or a file (FHIR names the records it skips)."""
    if not looks_like_json(text):
        lines = from_lines(text)
        if not lines:
            raise InputError("no medications found in the input (blank lines and # comments only)")
        return Read(entries=lines)
    import json  # only JSON and FHIR input need it

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer longer than Python's 4,300-digit limit
        raise InputError(f"invalid JSON: {exc}") from None
    return read_json(doc, rxnorm=rxnorm)


def from_json(doc: object, *, rxnorm: Callable[[str], str | None] | None = None) -> list[Entry]:
    """Entries from parsed JSON: an array of names or objects, or FHIR R4 resources."""
    return _json_entries(doc, rxnorm=rxnorm)[0]


def read_json(doc: object, *, rxnorm: Callable[[str], str | None] | None = None) -> Read:
    """Entries and input warnings from parsed JSON: names, objects, or FHIR resources."""
    entries, warnings = _json_entries(doc, rxnorm=rxnorm)
    return Read(entries=entries, warnings=warnings)


def _json_entries(
    doc: object, *, rxnorm: Callable[[str], str | None] | None
) -> tuple[list[Entry], tuple[str, ...]]:
    from ketcheck.sources.fhir import is_fhir, read_fhir

    if is_fhir(doc):
        assert isinstance(doc, dict)
        got = read_fhir(doc, rxnorm=rxnorm)
        return _limited(got.entries), got.warnings
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
    return _limited(out), ()


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
