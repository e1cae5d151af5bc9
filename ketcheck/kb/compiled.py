"""The compiled form of the knowledge base: plain values, quick to load at startup."""

from __future__ import annotations

from array import array
from collections.abc import Callable, ItemsView, Iterator, Mapping, ValuesView
from typing import Any, TypeVar

from ketcheck.kb.knowledge import (
    Combination,
    DrugClass,
    Ingredient,
    KnowledgeBase,
    Matching,
    Rule,
)
from ketcheck.kb.lexicon import Lexicon, NameEntry
from ketcheck.kb.rxnorm import Code, CodeIndex
from ketcheck.model import Effect, Route, Severity

V = TypeVar("V")
# Separators of the packed tables; none can occur in a key or a name (control characters are
# rejected when the lexicon is built, and keys are normalised names and ingredient ids).
_FIELD = "\x1f"
_ENTRY = "\x1e"
_KEY = "\x1d"
_RECORD = "\x1c"


def pack_table(rows: Mapping[str, str]) -> list[Any]:
    """Pack string rows into [text, record starts, key order] for `PackedTable`."""
    parts: list[str] = []
    starts = array("I")
    pos = 0
    for key, value in rows.items():
        starts.append(pos)
        record = f"{key}{_KEY}{value}{_RECORD}"
        parts.append(record)
        pos += len(record)
    keys = list(rows)
    order = array("I", sorted(range(len(keys)), key=keys.__getitem__))
    return ["".join(parts), starts.tobytes(), order.tobytes()]


class PackedTable(Mapping[str, V]):
    """A read-only mapping kept as one packed string and searched in place.

    Unpacking thousands of names into a dict at every start would cost more than the check
    itself; one string and two offset arrays load at once, and a lookup is a binary search.
    Each value is built from its packed text on first access and then kept.
    """

    __slots__ = ("_built", "_make", "_order", "_starts", "_text")

    def __init__(self, packed: list[Any], make: Callable[[str, str], V]) -> None:
        text, starts, order = packed
        self._text: str = text
        self._starts = memoryview(starts).cast("I")
        self._order = memoryview(order).cast("I")
        self._make = make
        self._built: dict[str, V] = {}

    def _find(self, key: str) -> int:
        text, starts, order = self._text, self._starts, self._order
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) >> 1
            start = starts[order[mid]]
            found = text[start : text.index(_KEY, start)]
            if found < key:
                lo = mid + 1
            elif key < found:
                hi = mid
            else:
                return start
        return -1

    def __getitem__(self, key: str) -> V:
        try:
            return self._built[key]
        except KeyError:
            pass
        start = self._find(key) if isinstance(key, str) else -1
        if start < 0:
            raise KeyError(key)
        begin = start + len(key) + 1
        value = self._built[key] = self._make(
            key, self._text[begin : self._text.index(_RECORD, begin)]
        )
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._built or (isinstance(key, str) and self._find(key) >= 0)

    def __iter__(self) -> Iterator[str]:
        text = self._text
        for start in self._starts:
            yield text[start : text.index(_KEY, start)]

    def __len__(self) -> int:
        return len(self._starts)

    def items(self) -> ItemsView[str, V]:
        """Every (key, value), built in one pass over the text rather than a search per key."""
        return _PackedItems(self)

    def values(self) -> ValuesView[V]:
        """Every value, built in one pass over the text."""
        return _PackedValues(self)

    def _all(self) -> Iterator[tuple[str, V]]:
        built, make = self._built, self._make
        for record in self._text.split(_RECORD)[:-1]:
            key, _, packed = record.partition(_KEY)
            value = built.get(key)
            if value is None:
                value = built[key] = make(key, packed)
            yield key, value


class _PackedItems(ItemsView[str, V]):
    _mapping: PackedTable[V]

    def __iter__(self) -> Iterator[tuple[str, V]]:
        return self._mapping._all()


class _PackedValues(ValuesView[V]):
    _mapping: PackedTable[V]

    def __iter__(self) -> Iterator[V]:
        return (value for _, value in self._mapping._all())


def _pack_names(entries: tuple[NameEntry, ...]) -> str:
    return _ENTRY.join(_FIELD.join((d, str(i), k, s)) for d, i, k, s in entries)


def _unpack_names(_key: str, packed: str) -> tuple[NameEntry, ...]:
    out = []
    for row in packed.split(_ENTRY):
        display, index, kind, source = row.split(_FIELD)
        out.append((display, int(index), kind, source))
    return tuple(out)


def _ingredient_out(i: Ingredient) -> str:
    return _FIELD.join((",".join(i.classes), i.rxcui or ""))


def _ingredient_in(key: str, packed: str) -> Ingredient:
    classes, _, rxcui = packed.partition(_FIELD)
    return Ingredient(
        id=key, classes=tuple(classes.split(",")) if classes else (), rxcui=rxcui or None
    )


def _code_out(c: Code) -> str:
    return _FIELD.join((c.tty, "+".join(c.ingredients), c.name))


def _code_in(key: str, packed: str) -> Code:
    tty, ingredients, name = packed.split(_FIELD)
    return Code(rxcui=key, tty=tty, ingredients=tuple(ingredients.split("+")), name=name)


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


def _lazy_codes(codes: Callable[[], list[Any]] | None) -> Callable[[], Mapping[str, Code]]:
    return lambda: unpack_codes(codes() if codes else pack_table({}))


def to_compact(kb: KnowledgeBase) -> dict[str, Any]:
    """Flatten a knowledge base to plain values (marshal- and JSON-ready)."""
    m = kb.matching
    return {
        "release": kb.release,
        "version": kb.version,
        "licence": kb.licence,
        "classes": [[c.id, c.label, c.kind] for c in kb.classes.values()],
        "ingredients": pack_table({i.id: _ingredient_out(i) for i in kb.ingredients.values()}),
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
        "names": pack_table({k: _pack_names(tuple(v)) for k, v in kb.lexicon.names.items()}),
        "sets": kb.lexicon.sets,
        "partners": kb.lexicon.partners,
        "dropped": kb.lexicon.dropped_generated,
        "rxnorm": pack_codes(kb),
        "rxnorm_dropped": kb.rxnorm.dropped,
    }


def pack_codes(kb: KnowledgeBase) -> list[Any]:
    """The RxNorm code table packed for `unpack_codes` (load.py keeps it in its own file)."""
    return pack_table({k: _code_out(c) for k, c in kb.rxnorm.codes.items()})


def unpack_codes(packed: list[Any]) -> PackedTable[Code]:
    """The code table from `pack_codes`, searched in place."""
    return PackedTable(packed, _code_in)


def from_compact(
    d: dict[str, Any], *, codes: Callable[[], list[Any]] | None = None
) -> KnowledgeBase:
    """Rebuild a knowledge base from `to_compact` output.

    Without "rxnorm" in `d`, `codes` supplies the packed code table when a code is first asked.
    """
    rxnorm = (
        CodeIndex(unpack_codes(d["rxnorm"]), dropped=d["rxnorm_dropped"])
        if "rxnorm" in d
        else CodeIndex(load=_lazy_codes(codes), dropped=d["rxnorm_dropped"])
    )
    rules = tuple(_rule_in(v) for v in d["rules"])
    m = d["matching"]
    return KnowledgeBase(
        release=d["release"],
        version=d["version"],
        licence=d["licence"],
        classes={c[0]: DrugClass(id=c[0], label=c[1], kind=c[2]) for c in d["classes"]},
        ingredients=PackedTable(d["ingredients"], _ingredient_in),
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
            names=PackedTable(d["names"], _unpack_names),
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
        rxnorm=rxnorm,
    )
