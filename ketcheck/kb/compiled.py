"""The compiled form of the knowledge base: plain values, quick to load at startup."""

from __future__ import annotations

from array import array
from collections.abc import Callable, ItemsView, Iterator, Mapping, ValuesView
from dataclasses import fields
from enum import Enum
from typing import Any, TypeGuard, TypeVar

from ketcheck.kb.knowledge import (
    Combination,
    DrugClass,
    Ingredient,
    KnowledgeBase,
    Matching,
    Review,
    ReviewOutcome,
    Rule,
    TargetKind,
    by_target,
)
from ketcheck.kb.lexicon import Lexicon, NameEntry
from ketcheck.kb.rxnorm import Code, CodeIndex
from ketcheck.model import ClassKind, Effect, Route, Severity

V = TypeVar("V")
# Separators of the packed tables; none can occur in a key or a name (control characters are
# rejected when the lexicon is built, and keys are normalised names and ingredient ids).
_FIELD = "\x1f"
_ENTRY = "\x1e"
_KEY = "\x1d"
_RECORD = "\x1c"
# Binary searches a table answers before it builds a dict of offsets (well under a ms, once).
_SEARCHES_BEFORE_INDEX = 32


def pack_table(rows: Mapping[str, str]) -> list[Any]:
    """Pack string rows into [text, record starts, key order, keys] for `PackedTable`."""
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
    return ["".join(parts), starts.tobytes(), order.tobytes(), _RECORD.join(keys)]


def is_packed_table(value: object) -> TypeGuard[list[Any]]:
    """Whether a value read back from a cache has the shape `pack_table` gives."""
    return (
        isinstance(value, list)
        and len(value) == 4
        and isinstance(value[0], str)
        and isinstance(value[3], str)
    )


class PackedTable(Mapping[str, V]):
    """A read-only mapping kept as one packed string and searched in place.

    Unpacking thousands of names into a dict at every start would cost more than the check
    itself; one string and two offset arrays load at once, and a lookup is a binary search.
    Each value is built from its packed text on first access and then kept. A caller that
    searches often (a long list, a line of many words) soon gets a dict of offsets instead.
    """

    __slots__ = ("_built", "_keys", "_make", "_offsets", "_order", "_searches", "_starts", "_text")

    def __init__(self, packed: list[Any], make: Callable[[str, str], V]) -> None:
        text, starts, order, keys = packed
        self._text: str = text
        self._keys: str = keys  # in record order: the dict of offsets is built from them in C
        self._starts = memoryview(starts).cast("I")
        self._order = memoryview(order).cast("I")
        self._make = make
        self._built: dict[str, V] = {}
        self._offsets: dict[str, int] | None = None
        self._searches = 0

    def _find(self, key: str) -> int:
        offsets = self._offsets
        if offsets is not None:
            return offsets.get(key, -1)
        self._searches += 1
        if self._searches > _SEARCHES_BEFORE_INDEX:
            keys = self._keys.split(_RECORD) if self._keys else []
            self._offsets = dict(zip(keys, self._starts, strict=True))
            return self._offsets.get(key, -1)
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
        value: V | None = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a key, or the default; a miss costs no exception (lines miss often)."""
        value = self._built.get(key)
        if value is not None:
            return value
        start = self._find(key) if isinstance(key, str) else -1
        if start < 0:
            return default
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
        out.append(NameEntry(display, int(index), kind, source))
    return tuple(out)


# --- records packed from their dataclass fields ---------------------------------------------
# A record is a list of its field values in `fields()` order, each encoded by `_encode`; the
# field names of every record type are stored beside them, so a cache written for other fields
# is rebuilt rather than misread. A field type needs a decoder here only if it is not plain.


def _same(value: Any) -> Any:
    return value


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else decode(value)


def _str_tuple(value: Any) -> tuple[str, ...]:
    return tuple(value)


def _effects(value: Any) -> tuple[Effect, ...]:
    return tuple(Effect(e) for e in value)


def _route_severity(value: Any) -> dict[Route, Severity]:
    return {Route(k): Severity(s) for k, s in value.items()}


# Decoders by field annotation (as written in the dataclass); a missing one fails the build.
_DECODERS: dict[str, Callable[[Any], Any]] = {
    "str": _same,
    "int": _same,
    "float": _same,
    "bool": _same,
    "str | None": _same,
    "float | None": _same,
    "tuple[str, ...]": _str_tuple,
    "tuple[str, ...] | None": _optional(_str_tuple),
    "tuple[Effect, ...]": _effects,
    "Severity": Severity,
    "ClassKind": ClassKind,
    "TargetKind": TargetKind,
    "ReviewOutcome": ReviewOutcome,
    "Review | None": _optional(lambda value: unpack(Review, value)),
    "Mapping[Route, Severity]": _route_severity,
}

R = TypeVar("R")


def _encode(value: Any) -> Any:
    """A field value as plain marshal- and JSON-ready data."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Review):
        return pack(value)
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {_encode(k): _encode(v) for k, v in value.items()}
    return value


Layout = tuple[tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]
_LAYOUTS: dict[type, Layout] = {}


def _layout(cls: type) -> Layout:
    """Field names of a record type, and the decoder of each (None where values are plain)."""
    known = _LAYOUTS.get(cls)
    if known is not None:
        return known
    names, decoders = [], []
    for f in fields(cls):
        decode = _DECODERS.get(str(f.type))
        if decode is None:
            raise TypeError(f"compiled.py: no decoder for {cls.__name__}.{f.name}: {f.type}")
        names.append(f.name)
        decoders.append(None if decode is _same else decode)
    layout = _LAYOUTS[cls] = (tuple(names), tuple(decoders))
    return layout


def pack(record: object) -> list[Any]:
    """A knowledge record as a list of plain values, in field order."""
    names, _ = _layout(type(record))
    return [_encode(getattr(record, n)) for n in names]


def unpack(cls: type[R], values: list[Any]) -> R:
    """The record `pack` wrote."""
    names, decoders = _layout(cls)
    if len(values) != len(names):
        raise ValueError(f"a packed {cls.__name__} has {len(values)} fields, not {len(names)}")
    return cls(
        **{n: v if d is None else d(v) for n, d, v in zip(names, decoders, values, strict=True)}
    )


_RECORDS = (DrugClass, Ingredient, Review, Rule, Combination, Matching)


# Bumped whenever a packed text form changes, so that a cache written by another build is
# rebuilt at load, never misread when a record is first unpacked.
_TEXT_FORMS = "ingredient-text-2; tables-with-keys"


def _layouts() -> list[list[str]]:
    return [*(list(_layout(cls)[0]) for cls in _RECORDS), [_TEXT_FORMS]]


# Ingredients live in a packed table of strings (a thousand of them; only those a check names
# are built). Each field becomes text: plain types by hand, anything else as JSON, loaded lazily
# (add a text form here for a new field type, so the table path need not import json).
def _text_out(annotation: str, value: Any) -> str:
    if annotation == "str":
        return str(value)
    if annotation == "str | None":
        return value or ""  # optional text is never empty when present
    if annotation == "tuple[str, ...]":
        if any("," in v for v in value):
            raise ValueError(f"compiled.py: cannot pack {value!r} (a comma inside an id)")
        return ",".join(value)
    if annotation == "Review | None":
        if value is None:
            return ""
        if any(mark in value.basis for mark in (_FIELD, _ENTRY, _KEY, _RECORD)):
            raise ValueError(
                f"compiled.py: cannot pack a review basis holding a separator: {value!r}"
            )
        return f"{value.outcome.value}{_ENTRY}{value.basis}"
    import json

    return json.dumps(_encode(value))  # JSON escapes control characters: no separator inside


def _text_in(annotation: str, text: str) -> Any:
    if annotation == "str":
        return text
    if annotation == "str | None":
        return text or None
    if annotation == "tuple[str, ...]":
        return tuple(text.split(",")) if text else ()
    if annotation == "Review | None":
        if not text:
            return None
        outcome, _, basis = text.partition(_ENTRY)
        return Review(outcome=ReviewOutcome(outcome), basis=basis)
    import json

    return _DECODERS[annotation](json.loads(text))


def _class_ids(_key: str, packed: str) -> tuple[str, ...]:
    return tuple(packed.split(",")) if packed else ()


def _ingredient_out(i: Ingredient) -> str:
    return _FIELD.join(_text_out(a, getattr(i, n)) for n, a in _INGREDIENT_FIELDS.items())


def _ingredient_in(key: str, packed: str) -> Ingredient:
    values = dict(zip(_INGREDIENT_FIELDS, packed.split(_FIELD), strict=True))
    return Ingredient(id=key, **{n: _text_in(a, values[n]) for n, a in _INGREDIENT_FIELDS.items()})


_INGREDIENT_FIELDS = {f.name: str(f.type) for f in fields(Ingredient)[1:]}


# RxNorm codes: eighteen thousand rows, one packed string searched in place (see load.py: they
# are kept in a file of their own and read only when a check meets a code).
def _code_out(c: Code) -> str:
    return _FIELD.join((c.tty, "+".join(c.ingredients), c.name))


def _code_in(key: str, packed: str) -> Code:
    tty, ingredients, name = packed.split(_FIELD)
    return Code(rxcui=key, tty=tty, ingredients=tuple(ingredients.split("+")), name=name)


def pack_codes(kb: KnowledgeBase) -> list[Any]:
    """The RxNorm code table packed for `unpack_codes`."""
    return pack_table({k: _code_out(c) for k, c in kb.rxnorm.codes.items()})


def unpack_codes(packed: list[Any]) -> PackedTable[Code]:
    """The code table from `pack_codes`, searched in place."""
    return PackedTable(packed, _code_in)


def _lazy_codes(codes: Callable[[], list[Any]] | None) -> Callable[[], Mapping[str, Code]]:
    return lambda: unpack_codes(codes() if codes else pack_table({}))


def to_compact(kb: KnowledgeBase) -> dict[str, Any]:
    """Flatten a knowledge base to plain values (marshal- and JSON-ready)."""
    assert fields(Ingredient)[0].name == "id"  # the packed table's key
    return {
        "layouts": _layouts(),
        "release": kb.release,
        "version": kb.version,
        "licence": kb.licence,
        "classes": [pack(c) for c in kb.classes.values()],
        "ingredients": pack_table({i.id: _ingredient_out(i) for i in kb.ingredients.values()}),
        "ingredient_classes": pack_table(
            {i.id: ",".join(i.classes) for i in kb.ingredients.values()}
        ),
        "rules": [pack(r) for r in kb.rules],
        "default_rule": pack(kb.default_rule),
        "not_reviewed_rule": pack(kb.not_reviewed_rule),
        "session_rule": pack(kb.session_rule),
        "combinations": [pack(c) for c in kb.combinations],
        "matching": pack(kb.matching),
        "names": pack_table({k: _pack_names(tuple(v)) for k, v in kb.lexicon.names.items()}),
        "sets": kb.lexicon.sets,
        "partners": kb.lexicon.partners,
        "dropped": kb.lexicon.dropped_generated,
        "searchable": kb.lexicon.searchable,
        "prefixes": kb.lexicon.prefixes,
        "partner_keys": kb.lexicon.partner_keys,
        "rxnorm": pack_codes(kb),
        "rxnorm_dropped": kb.rxnorm.dropped,
    }


def from_compact(
    d: dict[str, Any], *, codes: Callable[[], list[Any]] | None = None
) -> KnowledgeBase:
    """Rebuild a knowledge base from `to_compact` output; KeyError when its layout is stale.

    Without "rxnorm" in `d`, `codes` supplies the packed code table when a code is first asked.
    """
    if d.get("layouts") != _layouts():
        raise KeyError("layouts")
    rxnorm = (
        CodeIndex(unpack_codes(d["rxnorm"]), dropped=d["rxnorm_dropped"])
        if "rxnorm" in d
        else CodeIndex(load=_lazy_codes(codes), dropped=d["rxnorm_dropped"])
    )
    rules = tuple(unpack(Rule, v) for v in d["rules"])
    classes = (unpack(DrugClass, c) for c in d["classes"])
    return KnowledgeBase(
        release=d["release"],
        version=d["version"],
        licence=d["licence"],
        classes={c.id: c for c in classes},
        ingredients=PackedTable(d["ingredients"], _ingredient_in),
        rules=rules,
        default_rule=unpack(Rule, d["default_rule"]),
        not_reviewed_rule=unpack(Rule, d["not_reviewed_rule"]),
        session_rule=unpack(Rule, d["session_rule"]),
        combinations=tuple(unpack(Combination, c) for c in d["combinations"]),
        lexicon=Lexicon(
            names=PackedTable(d["names"], _unpack_names),
            sets=tuple(tuple(s) for s in d["sets"]),
            partners=d["partners"],
            dropped_generated=d["dropped"],
            searchable=d["searchable"],
            prefixes=d["prefixes"],
            partner_keys=d["partner_keys"],
        ),
        matching=unpack(Matching, d["matching"]),
        rules_by_target=by_target(rules),
        rxnorm=rxnorm,
        ingredient_classes=PackedTable(d["ingredient_classes"], _class_ids),
    )
