"""Every data table is checked against its declared keys: nothing unknown or malformed is ignored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ketcheck.errors import DataError
from ketcheck.kb.load import compile_knowledge, data_root

# (file, text to find, text to put in its place or "" to append, expected file:key:reason)
UNKNOWN_KEY = [
    ("meta.toml", "", 'relase = "2027.01"\n', "meta.toml: relase: unknown key"),
    (
        "classes.toml",
        "",
        '[new-class]\nkind = "descriptive"\nlabel = "new"\ncolour = "red"\n',
        "classes.toml [new-class]: colour: unknown key",
    ),
    (
        "ingredients/cns.toml",
        '[ketamine]\nclasses = ["ketamine-product"]\n',
        '[ketamine]\nclasses = ["ketamine-product"]\nbrand = ["Ketaject"]\n',
        "ingredients/cns.toml: [ketamine]: brand: unknown key",
    ),
    (
        "products/cns.toml",
        "",
        '[[product]]\nname = "Newcombo"\ningredient = ["ketamine"]\n',
        "products/cns.toml product 'Newcombo': ingredient: unknown key",
    ),
    (
        "products/cns.toml",
        "[[product]]\n",
        'note = "x"\n\n[[product]]\n',
        "products/cns.toml: note: unknown key",
    ),
    ("rules.toml", "", '[[rules]]\nid = "x"\n', "rules.toml: rules: unknown key"),
    (
        "rules.toml",
        'applies_to = "default"\n',
        'applies_to = "default"\nhold_hour = 24\n',
        "hold_hour: unknown key",
    ),
    (
        "combinations.toml",
        'id = "cns-depressant-stack"\n',
        'id = "cns-depressant-stack"\nhold_hours = 24\nhold_basis = "x"\n',
        "combinations.toml combination 'cns-depressant-stack': hold_hours: unknown key",
    ),
    (
        "lookalikes.toml",
        "",
        '[[pair]]\nnames = ["bupropion", "buspirone"]\nsources = "x"\n',
        "sources: unknown key",
    ),
    ("matching.toml", "", "treshold = 80\n", "matching.toml: treshold: unknown key"),
    (
        "shared-names.toml",
        "",
        '[[name]]\nname = "Xyz"\nmeaning = [["sertraline"], ["metformin"]]\nsource = "x"\n',
        "meaning: unknown key",
    ),
]

MALFORMED = [
    (
        "rules.toml",
        'applies_to = "default"\n',
        'applies_to = "default"\nhold_hours = nan\nhold_basis = "x"\n',
        "hold_hours: must be a finite number, got nan",
    ),
    (
        "rules.toml",
        'applies_to = "default"\n',
        'applies_to = "default"\nhold_hours = -1\nhold_basis = "x"\n',
        "hold_hours: must be at least 0, got -1",
    ),
    (
        "combinations.toml",
        "min_distinct = 3\n",
        "min_distinct = 0\n",
        "combinations.toml combination 'cns-depressant-stack': min_distinct: must be at least 1",
    ),
    (
        "combinations.toml",
        "min_distinct = 3\n",
        'min_distinct = "three"\n',
        "min_distinct: must be a whole number, got 'three'",
    ),
    (
        "combinations.toml",
        'effects = ["safety"]\n',
        'effects = ["danger"]\n',
        "effects: 'danger' is not one of: safety, efficacy",
    ),
    (
        "ingredients/zz.toml",
        "",
        '[newdrug]\nclasses = []\nreview = "no-interaction"\n',
        "ingredients/zz.toml: [newdrug]: review: must be a table",
    ),
    (
        "ingredients/cns.toml",
        'review = { outcome = "interaction", basis = "ketamine product',
        'review = { outcome = "interaction", by = "x", basis = "ketamine product',
        "ingredients/cns.toml: [ketamine]: review: by: unknown key",
    ),
    (
        "ingredients/cns.toml",
        'review = { outcome = "interaction", basis = "ketamine product',
        'review = { outcome = "interacts", basis = "ketamine product',
        "review: outcome: 'interacts' is not one of: interaction, no-interaction",
    ),
    (
        "matching.toml",
        "min_letters = 5\n",
        'min_letters = "five"\n',
        "min_letters: must be a whole",
    ),
    ("meta.toml", 'release = "', "release = 2026\n#", "meta.toml: release: must be a string"),
    (
        "lookalikes.toml",
        "",
        '[[pair]]\nnames = ["bupropion", "buspirone"]\n',
        "source: missing (required)",
    ),
]


def _edited(tmp_path: Path, file: str, find: str, put: str) -> Path:
    root = tmp_path / "data"
    shutil.copytree(Path(str(data_root())), root)
    target = root / file
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    if find:
        assert find in text, f"{file} no longer holds {find!r}"
        text = text.replace(find, put, 1)
    else:
        text += "\n" + put
    target.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("file", "find", "put", "message"), UNKNOWN_KEY + MALFORMED)
def test_every_table_rejects_what_it_does_not_declare(
    tmp_path: Path, file: str, find: str, put: str, message: str
) -> None:
    with pytest.raises(DataError) as info:
        compile_knowledge(_edited(tmp_path, file, find, put))
    assert message in str(info.value)
    assert str(info.value).startswith(file)


def test_every_table_file_has_an_unknown_key_case() -> None:
    tables = {"meta.toml", "classes.toml", "rules.toml", "combinations.toml"}
    tables |= {"lookalikes.toml", "matching.toml", "ingredients/cns.toml", "products/cns.toml"}
    tables |= {"shared-names.toml"}
    assert {case[0] for case in UNKNOWN_KEY} == tables


def test_the_advice_keys_are_the_advice_fields() -> None:
    from dataclasses import fields

    from ketcheck.kb.tables import ADVICE_KEYS
    from ketcheck.model import Advice

    assert [k.name for k in ADVICE_KEYS] == [f.name for f in fields(Advice)]
