"""The compiled form of the knowledge base: plain values, quick to load at startup."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ketcheck.knowledge import (
    Combination,
    DrugClass,
    Ingredient,
    KnowledgeBase,
    Matching,
    Rule,
)
from ketcheck.lexicon import Lexicon, NameEntry
from ketcheck.model import Effect, Route, Severity

V = TypeVar("V")
# Separators inside a packed name row; neither can occur in a name (control characters are
# rejected when the lexicon is built).
_FIELD = "\x1f"
_ENTRY = "\x1e"


class LazyRecords(Mapping[str, V]):
    """A read-only mapping that builds each value from its compact row on first access.

    A check looks up a handful of the thousands of names and ingredients; building them all
    at startup would cost more than the check itself.
    """

    __slots__ = ("_built", "_make", "_rows")

    def __init__(self, rows: dict[str, Any], make: Callable[[str, Any], V]) -> None:
        self._rows = rows
        self._make = make
        self._built: dict[str, V] = {}

    def __getitem__(self, key: str) -> V:
        try:
            return self._built[key]
        except KeyError:
            value = self._built[key] = self._make(key, self._rows[key])
            return value

    def get(self, key: str, default: Any = None) -> Any:
        """The value for key, else default (without raising)."""
        if key in self._rows:
            return self[key]
        return default

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def _pack_names(entries: tuple[NameEntry, ...]) -> str:
    return _ENTRY.join(_FIELD.join((d, str(i), k, s)) for d, i, k, s in entries)


def _unpack_names(_key: str, packed: str) -> tuple[NameEntry, ...]:
    out = []
    for row in packed.split(_ENTRY):
        display, index, kind, source = row.split(_FIELD)
        out.append((display, int(index), kind, source))
    return tuple(out)


def _ingredient_in(key: str, row: list[Any]) -> Ingredient:
    return Ingredient(id=key, classes=tuple(row[0]), rxcui=row[1])


def _rule_out(r: Rule) -> list[Any]:
    return [
        r.id,
        r.target_kind,
        r.target,
        int(r.severity),
        [e.value for e in r.effects],
        r.effect,
        r.mechanism,
        r.management,
        r.evidence,
        list(r.references),
        r.hold_hours,
        r.hold_basis,
        r.disagreement,
        r.standing_note,
        {k.value: int(v) for k, v in r.route_severity.items()},
        list(r.replaces) if r.replaces is not None else None,
    ]


def _rule_in(v: list[Any]) -> Rule:
    return Rule(
        id=v[0],
        target_kind=v[1],
        target=v[2],
        severity=Severity(v[3]),
        effects=tuple(Effect(e) for e in v[4]),
        effect=v[5],
        mechanism=v[6],
        management=v[7],
        evidence=v[8],
        references=tuple(v[9]),
        hold_hours=v[10],
        hold_basis=v[11],
        disagreement=v[12],
        standing_note=v[13],
        route_severity={Route(k): Severity(s) for k, s in v[14].items()},
        replaces=tuple(v[15]) if v[15] is not None else None,
    )


def to_compact(kb: KnowledgeBase) -> dict[str, Any]:
    """Flatten a knowledge base to plain values (marshal- and JSON-ready)."""
    m = kb.matching
    return {
        "release": kb.release,
        "version": kb.version,
        "licence": kb.licence,
        "classes": [[c.id, c.label, c.kind] for c in kb.classes.values()],
        "ingredients": {i.id: [list(i.classes), i.rxcui] for i in kb.ingredients.values()},
        "rules": [_rule_out(r) for r in kb.rules],
        "default_rule": _rule_out(kb.default_rule),
        "combinations": [
            [
                c.id,
                list(c.members),
                c.min_distinct,
                list(c.require),
                int(c.severity),
                [e.value for e in c.effects],
                c.effect,
                c.mechanism,
                c.management,
                c.evidence,
                list(c.references),
            ]
            for c in kb.combinations
        ],
        "matching": [
            m.min_letters,
            m.threshold,
            m.margin,
            m.lookalike_floor,
            m.lookalike_window,
            m.suggest_floor,
            m.scorer,
            m.limit,
        ],
        "names": {k: _pack_names(tuple(v)) for k, v in kb.lexicon.names.items()},
        "sets": kb.lexicon.sets,
        "partners": kb.lexicon.partners,
        "dropped": kb.lexicon.dropped_generated,
    }


def from_compact(d: dict[str, Any]) -> KnowledgeBase:
    """Rebuild a knowledge base from `to_compact` output."""
    rules = tuple(_rule_in(v) for v in d["rules"])
    m = d["matching"]
    return KnowledgeBase(
        release=d["release"],
        version=d["version"],
        licence=d["licence"],
        classes={c[0]: DrugClass(id=c[0], label=c[1], kind=c[2]) for c in d["classes"]},
        ingredients=LazyRecords(d["ingredients"], _ingredient_in),
        rules=rules,
        default_rule=_rule_in(d["default_rule"]),
        combinations=tuple(
            Combination(
                id=c[0],
                members=tuple(c[1]),
                min_distinct=c[2],
                require=tuple(c[3]),
                severity=Severity(c[4]),
                effects=tuple(Effect(e) for e in c[5]),
                effect=c[6],
                mechanism=c[7],
                management=c[8],
                evidence=c[9],
                references=tuple(c[10]),
            )
            for c in d["combinations"]
        ),
        lexicon=Lexicon(
            names=LazyRecords(d["names"], _unpack_names),
            sets=tuple(tuple(s) for s in d["sets"]),
            partners=d["partners"],
            dropped_generated=d["dropped"],
        ),
        matching=Matching(
            min_letters=m[0],
            threshold=m[1],
            margin=m[2],
            lookalike_floor=m[3],
            lookalike_window=m[4],
            suggest_floor=m[5],
            scorer=m[6],
            limit=m[7],
        ),
        rules_by_target={f"{r.target_kind}:{r.target}": r for r in rules},
    )
