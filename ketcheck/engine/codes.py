"""Resolution by RxNorm code: a known code names exactly its ingredients; text and code must agree."""

from __future__ import annotations

import re

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.rxnorm import Code
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Ambiguous, Candidate, Method, Parsed, Resolution, Resolved, Unresolved

# "RxNorm 197591", "rxnorm:197591", "RXCUI 197591": a code written where a name would be.
_FIRST = "rR \t"
# Compiled on first use (re caches it): most checks never meet an entry that starts like one.
_CODE_TEXT = r"^\s*(?:rxnorm|rxcui)\s*(?:code\s*)?[:#=]?\s*(\d{1,10})\s*$"


def code_in_text(text: str) -> str | None:
    """The RxNorm code when the whole entry is one (as a FHIR coding without text becomes)."""
    if not text or text[0] not in _FIRST:
        return None  # most entries: a quick no before the pattern (20,000-line lists)
    found = re.match(_CODE_TEXT, text, re.IGNORECASE)
    return found.group(1) if found else None


def resolve_entry(
    kb: KnowledgeBase,
    resolver: Resolver,
    text: str,
    *,
    rxcui: str | None = None,
    problem: str | None = None,
) -> tuple[Parsed, Resolution]:
    """Resolve one entry: a source problem, a code written as the text, or the text and its code."""
    if problem:
        return Parsed(text=text, name=text), Unresolved(reason=problem)
    written = code_in_text(text)
    if written:
        resolution = by_code(kb, written)
        if rxcui and rxcui != written:
            resolution = with_code(kb, resolution, rxcui)
        return Parsed(text=text, name=text), resolution
    parsed, resolution = resolver.resolve(text)
    return parsed, with_code(kb, resolution, rxcui) if rxcui else resolution


def ingredients_for_code(kb: KnowledgeBase, rxcui: str) -> tuple[str, ...]:
    """The ingredient ids of an RxNorm code (empty when the bundled list does not hold it)."""
    code = kb.rxnorm.get(rxcui)
    return code.ingredients if code else ()


def by_code(kb: KnowledgeBase, rxcui: str) -> Resolution:
    """A code on its own: exactly its ingredients, or unresolved (never a name guess)."""
    code = kb.rxnorm.get(rxcui)
    if code is None:
        return Unresolved(reason=f"RxNorm code {rxcui} is not in the bundled code list")
    return _resolved(code)


def with_code(kb: KnowledgeBase, resolution: Resolution, rxcui: str) -> Resolution:
    """Combine a resolved text with its RxNorm code; when they disagree the entry is ambiguous."""
    code = kb.rxnorm.get(rxcui)
    if code is None:
        return resolution  # a code we do not hold says nothing: the text decides
    coded = _candidate(kb, code)
    match resolution:
        case Resolved() if set(resolution.ingredients) == set(code.ingredients):
            return resolution
        case Resolved():
            text = Candidate(
                name=resolution.matched,
                ingredients=resolution.ingredients,
                classes=kb.classes_of(resolution.ingredients),
                score=resolution.score,
            )
            return Ambiguous(
                reason=(
                    f"the name says {'+'.join(resolution.ingredients)} but its RxNorm code "
                    f"{rxcui} is {'+'.join(code.ingredients)} ({code.name}): they disagree"
                ),
                candidates=(text, coded),
            )
        case Ambiguous():
            # The text may hold more than the code (a second medicine): a person decides.
            others = tuple(
                c for c in resolution.candidates if set(c.ingredients) != set(code.ingredients)
            )
            return Ambiguous(
                reason=f"{resolution.reason}; its RxNorm code {rxcui} is {code.name}",
                candidates=(*others, coded),
            )
        case Unresolved() if resolution.one_name:
            return _resolved(code)  # the text is only a label; the code names the product
        case Unresolved():
            return Ambiguous(
                reason=(
                    f"{resolution.reason}; its RxNorm code {rxcui} is {code.name}, but the "
                    "name may hold more medicines than the code"
                ),
                candidates=(coded,),
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _resolved(code: Code) -> Resolved:
    return Resolved(
        matched=f"RxNorm {code.rxcui}: {code.name}",
        method=Method.RXNORM,
        score=100.0,
        ingredients=code.ingredients,
        name_kind="code",
        source="rxnorm",
    )


def _candidate(kb: KnowledgeBase, code: Code) -> Candidate:
    return Candidate(
        name=f"RxNorm {code.rxcui}: {code.name}",
        ingredients=code.ingredients,
        classes=kb.classes_of(code.ingredients),
        score=100.0,
    )
