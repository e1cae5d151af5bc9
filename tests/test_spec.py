"""Key specifications reject unknown keys, wrong types, non-finite and out-of-range values."""

from __future__ import annotations

import pytest

from ketcheck.errors import DataError
from ketcheck.kb.spec import Key, Kind, Spec
from ketcheck.kb.tables import MATCHING as MATCHING_SPEC

SPEC = Spec(
    keys=(
        Key(name="id", kind=Kind.STR, required=True, non_empty=True),
        Key(name="hours", kind=Kind.NUMBER, minimum=0, maximum=2160),
        Key(name="count", kind=Kind.INT, minimum=1),
        Key(name="flag", kind=Kind.BOOL),
        Key(name="names", kind=Kind.STR_LIST),
        Key(name="kind", kind=Kind.STR, choices=("a", "b")),
    )
)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"id": "x", "hold_hours": 4}, "t: hold_hours: unknown key"),
        ({}, "t: id: missing (required)"),
        ({"id": "  "}, "t: id: must be a string (non-empty)"),
        ({"id": "x", "hours": "four"}, "t: hours: must be a number, got 'four'"),
        ({"id": "x", "hours": float("nan")}, "t: hours: must be a finite number"),
        ({"id": "x", "hours": float("inf")}, "t: hours: must be a finite number"),
        ({"id": "x", "hours": 1e308}, "t: hours: must be at most 2160"),
        ({"id": "x", "hours": -1}, "t: hours: must be at least 0"),
        ({"id": "x", "hours": True}, "t: hours: must be a number, got True"),
        ({"id": "x", "count": 1.5}, "t: count: must be a whole number"),
        ({"id": "x", "flag": "yes"}, "t: flag: must be true or false"),
        ({"id": "x", "names": ["ok", ""]}, "t: names: must be a list of non-empty strings"),
        ({"id": "x", "kind": "c"}, "t: kind: 'c' is not one of: a, b"),
        ([1, 2], "t: must be a table"),
    ],
)
def test_spec_rejects(table: object, message: str) -> None:
    with pytest.raises(DataError) as err:
        SPEC.check(table, "t")
    assert str(err.value).startswith(message)


def test_spec_accepts_valid_table() -> None:
    table = {"id": "x", "hours": 12, "count": 2, "flag": False, "names": ["a"], "kind": "b"}
    assert SPEC.check(table, "t") is table


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"min_letters": "five"}, "matching.toml: min_letters: must be a whole number"),
        ({"scorer": "levenstein"}, "matching.toml: scorer: 'levenstein' is not one of"),
        ({"treshold": 80}, "matching.toml: treshold: unknown key"),
        ({"threshold": 0}, "matching.toml: threshold: must be at least 1"),
    ],
)
def test_matching_table_is_validated(table: dict[str, object], message: str) -> None:
    with pytest.raises(DataError) as err:
        MATCHING_SPEC.check(table, "matching.toml")
    assert str(err.value).startswith(message)


def test_a_shared_name_is_ambiguous_and_its_table_is_validated(bundled: object) -> None:
    from ketcheck.kb.knowledge import KnowledgeBase, _build_shared_names
    from ketcheck.matching.resolve import Resolver
    from ketcheck.model import Ambiguous

    assert isinstance(bundled, KnowledgeBase)
    _, r = Resolver(bundled).resolve("Sominex")
    assert isinstance(r, Ambiguous)
    assert {c.ingredients for c in r.candidates} == {("diphenhydramine",), ("promethazine",)}
    known = bundled.ingredients
    bad = [
        ({"name": [{"name": "X", "meanings": [["sertraline"]], "source": "s"}]}, "two meanings"),
        ({"name": [{"name": "X", "meanings": [["nope"], ["sertraline"]], "source": "s"}]}, "known"),
        ({"name": [{"name": "X", "meanings": [["a"]], "source": "s", "x": 1}]}, "x: unknown key"),
        ({"names": []}, "names: unknown key"),
    ]
    for table, message in bad:
        with pytest.raises(DataError, match=message):
            _build_shared_names(table, known)
