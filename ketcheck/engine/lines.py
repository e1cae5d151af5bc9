"""What a medication line decides on its own (parse, resolution, classes, sig, dose), once.

A check of a long list, and a batch run across its patients, meets the same lines again and
again; a `LineMemo` resolves each distinct line once and keeps it, least recently used first
out when a bound is set, so a batch of any size holds at most that many lines.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ketcheck.engine.codes import resolve_entry
from ketcheck.engine.sig import states_sig
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Parsed, Resolution, Resolved

if TYPE_CHECKING:
    from ketcheck.patient import Dose

# Ingredient sets whose classes are kept (a line may name any mix, so this is bounded too).
CLASS_SETS = 4096
_UNREAD = object()  # a line whose dose has not been read yet (None means it states none)


@dataclass(slots=True, kw_only=True, eq=False)
class Line:
    """One distinct line: its parse, resolution and classes; its dose once someone asks."""

    parsed: Parsed
    resolution: Resolution
    ingredients: tuple[str, ...]
    classes: tuple[str, ...]
    sig: bool  # a dose or a timing word: something the patient tables could use
    _dose: object = _UNREAD

    def dose(self, read: Callable[[], Dose | None]) -> Dose | None:
        """The line's dose, read by `read` the first time and kept."""
        if self._dose is _UNREAD:
            self._dose = read()
        return self._dose  # type: ignore[return-value]


LineKey = str | tuple[str, str | None, str | None]


class LineMemo:
    """Lines by (text, code, source problem); at most `limit` kept, the least recently used go.

    The resolver caches every name it is asked, so with a bound it forgets them after `limit`
    new lines (keeping its search tables): memory stays flat however many lines pass through.
    """

    def __init__(
        self, kb: KnowledgeBase, resolver: Resolver | None = None, *, limit: int | None = None
    ) -> None:
        self.kb = kb
        self.limit = limit
        self._resolver = resolver or Resolver(kb)
        self._lines: OrderedDict[LineKey, Line] = OrderedDict()
        self._classes: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._fresh = 0  # lines the current resolver has seen
        self.misses = 0

    def __len__(self) -> int:
        return len(self._lines)

    def line(self, text: str, rxcui: str | None = None, problem: str | None = None) -> Line:
        """The line for this entry, resolved now if it is new (or was dropped)."""
        key: LineKey = text if rxcui is None and problem is None else (text, rxcui, problem)
        lines = self._lines
        hit = lines.get(key)
        if hit is not None:
            lines.move_to_end(key)
            return hit
        hit = lines[key] = self._new(text, rxcui, problem)
        if self.limit is not None and len(lines) > self.limit:
            lines.popitem(last=False)
        return hit

    def _new(self, text: str, rxcui: str | None, problem: str | None) -> Line:
        self.misses += 1
        if self.limit is not None:
            self._fresh += 1
            if self._fresh > self.limit:
                self._resolver.forget()
                self._fresh = 1
        parsed, resolution = resolve_entry(
            self.kb, self._resolver, text, rxcui=rxcui, problem=problem
        )
        ingredients: tuple[str, ...] = ()
        classes: tuple[str, ...] = ()
        if isinstance(resolution, Resolved):
            ingredients = resolution.ingredients
            known = self._classes
            classes = known.get(ingredients) or known.setdefault(
                ingredients, self.kb.classes_of(ingredients)
            )
            if len(known) > CLASS_SETS:
                known.clear()
        return Line(
            parsed=parsed,
            resolution=resolution,
            ingredients=ingredients,
            classes=classes,
            sig=states_sig(parsed.text or text),
        )
