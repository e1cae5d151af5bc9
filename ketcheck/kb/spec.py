"""Key specifications for data tables: one declaration per table, checked with file:key:reason."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ketcheck.errors import DataError


class Kind(Enum):
    """The value types a data key may hold."""

    STR = "a string"
    INT = "a whole number"
    NUMBER = "a number"
    BOOL = "true or false"
    STR_LIST = "a list of non-empty strings"
    NUMBER_LIST = "a list of numbers"
    TABLE = "a table"
    TABLE_LIST = "a list of tables"
    LIST = "a list"


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One key of a table: its type, whether it is required, and the values it allows."""

    name: str
    kind: Kind
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    non_empty: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """The keys one table may carry; anything else is an error, never silently ignored."""

    keys: tuple[Key, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    def check(self, table: object, where: str) -> Mapping[str, Any]:
        """The table itself when every key is known and valid; else DataError naming the key."""
        if not isinstance(table, Mapping):
            raise DataError(f"{where}: must be a table")
        known = {k.name: k for k in self.keys}
        for name in table:
            if name not in known:
                raise DataError(
                    f"{where}: {name}: unknown key (expected one of: {', '.join(known)})"
                )
        for key in self.keys:
            if key.name not in table:
                if key.required:
                    raise DataError(f"{where}: {key.name}: missing (required)")
                continue
            _check_value(key, table[key.name], where)
        return table


def _check_value(key: Key, value: object, where: str) -> None:
    at = f"{where}: {key.name}"
    ok: bool
    match key.kind:
        case Kind.STR:
            ok = isinstance(value, str) and (not key.non_empty or bool(value.strip()))
        case Kind.INT:
            ok = isinstance(value, int) and not isinstance(value, bool)
        case Kind.NUMBER:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and not math.isfinite(float(value)):  # type: ignore[arg-type]
                raise DataError(f"{at}: must be a finite number, got {value!r}")
        case Kind.BOOL:
            ok = isinstance(value, bool)
        case Kind.STR_LIST:
            ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
            ok = ok and (not key.non_empty or bool(value))
        case Kind.NUMBER_LIST:
            ok = isinstance(value, list) and all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in value
            )
            ok = ok and (not key.non_empty or bool(value))
        case Kind.TABLE:
            ok = isinstance(value, Mapping)
        case Kind.TABLE_LIST:
            ok = isinstance(value, list) and all(isinstance(v, Mapping) for v in value)
        case Kind.LIST:
            ok = isinstance(value, list) and (not key.non_empty or bool(value))
    if not ok:
        empty = " (non-empty)" if key.non_empty else ""
        raise DataError(f"{at}: must be {key.kind.value}{empty}, got {_shown(value)}")
    if key.kind in (Kind.INT, Kind.NUMBER):
        number = float(value)  # type: ignore[arg-type]
        if key.minimum is not None and number < key.minimum:
            raise DataError(f"{at}: must be at least {key.minimum:g}, got {value!r}")
        if key.maximum is not None and number > key.maximum:
            raise DataError(f"{at}: must be at most {key.maximum:g}, got {value!r}")
    if key.choices:
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v not in key.choices:
                raise DataError(f"{at}: {v!r} is not one of: {', '.join(key.choices)}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{type(value).__name__} {text[:37]}..."
