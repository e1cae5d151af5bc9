"""The bundled knowledge base: valid, consistent, sourced and at clinic scale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ketcheck.engine.rules import rules_for
from ketcheck.errors import DataError
from ketcheck.kb.compiled import from_compact, to_compact
from ketcheck.kb.knowledge import KnowledgeBase, unresolved_lookalikes
from ketcheck.kb.load import compile_knowledge, data_root, read_sources
from ketcheck.matching.normalise import name_key
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Resolved, Route, Severity

# Every drug and brand the five seed articles name.
SEED_DRUGS = {
    "gabapentin": "gabapentin",
    "Neurontin": "gabapentin",
    "ketamine": "ketamine",
    "esketamine": "esketamine",
    "Spravato": "esketamine",
    "Wellbutrin": "bupropion",
    "bupropion": "bupropion",
    "Lamictal": "lamotrigine",
    "Klonopin": "clonazepam",
    "Xanax": "alprazolam",
    "Valium": "diazepam",
    "Ativan": "lorazepam",
    "alcohol": "alcohol",
    "sertraline": "sertraline",
    "fluoxetine": "fluoxetine",
    "escitalopram": "escitalopram",
    "Zoloft": "sertraline",
    "Prozac": "fluoxetine",
    "Lexapro": "escitalopram",
}
# Ordinary drugs with no interaction: must be recognised, and reported as no known interaction.
EVERYDAY = [
    "atorvastatin",
    "lisinopril",
    "metformin",
    "omeprazole",
    "simvastatin",
    "losartan",
    "pantoprazole",
    "montelukast",
    "rosuvastatin",
    "semaglutide",
    "apixaban",
    "insulin glargine",
    "cetirizine",
    "vitamin D",
    "fish oil",
]


def test_bundled_data_validates(bundled: KnowledgeBase) -> None:
    assert bundled.version.startswith(bundled.release + "+")


def test_clinic_scale(bundled: KnowledgeBase) -> None:
    assert len(bundled.ingredients) >= 1000
    assert len(bundled.lexicon.names) >= 3000
    assert sum(1 for c in bundled.classes.values() if c.kind == "interaction") >= 30


def test_every_interaction_class_with_members_has_a_rule(bundled: KnowledgeBase) -> None:
    used = {c for i in bundled.ingredients.values() for c in i.classes}
    for cid in used:
        cls = bundled.classes[cid]
        assert cls.kind == "descriptive" or bundled.rule_for(f"class:{cid}") is not None, cid


def test_every_rule_is_sourced_and_says_what_to_do(bundled: KnowledgeBase) -> None:
    for rule in (*bundled.rules, bundled.default_rule):
        assert rule.references, rule.id
        assert rule.management.strip() and rule.effect.strip() and rule.evidence.strip(), rule.id
        if rule.hold_hours:
            assert rule.hold_basis, rule.id


def test_no_rule_advises_abrupt_stops(bundled: KnowledgeBase) -> None:
    for rule in bundled.rules:
        text = f"{rule.management} {rule.standing_note or ''}".lower()
        assert "stop abruptly" not in text.replace("never stop abruptly", "")
        assert "discontinue the maoi" not in text


def test_lookalike_list_is_complete_and_resolvable(bundled: KnowledgeBase) -> None:
    sources, _ = read_sources(data_root())
    pairs = sources["lookalikes.toml"]["pair"]
    assert len(pairs) >= 80
    assert unresolved_lookalikes(sources, bundled.lexicon) == []


@pytest.mark.parametrize(("name", "ingredient"), sorted(SEED_DRUGS.items()))
def test_every_seed_drug_resolves(bundled: KnowledgeBase, name: str, ingredient: str) -> None:
    _, r = Resolver(bundled).resolve(name)
    assert isinstance(r, Resolved) and ingredient in r.ingredients


@pytest.mark.parametrize("name", EVERYDAY)
def test_everyday_drugs_are_recognised_with_no_known_interaction(
    bundled: KnowledgeBase, name: str
) -> None:
    _, r = Resolver(bundled).resolve(name)
    assert isinstance(r, Resolved), name
    for ing in r.ingredients:
        worst = max(
            (a.rule.severity_for(route) for a in rules_for(bundled, ing) for route in Route),
            default=Severity.NONE,
        )
        assert worst <= Severity.MINOR, (name, ing, worst)


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("clonazepam", "benzodiazepine"),
        ("alprazolam", "benzodiazepine"),
        ("zolpidem", "z-drug"),
        ("pregabalin", "gabapentinoid"),
        ("phenelzine", "maoi"),
        ("tranylcypromine", "maoi"),
        ("sertraline", "ssri"),
        ("venlafaxine", "snri"),
        ("oxycodone", "opioid"),
        ("naltrexone", "opioid-antagonist"),
        ("lisdexamfetamine", "stimulant"),
        ("levothyroxine", "thyroid-hormone"),
        ("theophylline", "methylxanthine"),
        ("memantine", "nmda-antagonist"),
        ("esketamine", "ketamine-product"),
        ("pseudoephedrine", "sympathomimetic"),
        ("clarithromycin", "cyp3a4-inhibitor"),
        ("rifampin", "cyp-inducer"),
        ("quetiapine", "antipsychotic"),
        ("clonidine", "alpha-2-agonist"),
    ],
)
def test_class_membership(bundled: KnowledgeBase, name: str, cls: str) -> None:
    assert cls in bundled.ingredients[name].classes


def test_compiled_form_round_trips(bundled: KnowledgeBase) -> None:
    again = from_compact(to_compact(bundled))
    assert again.version == bundled.version
    assert to_compact(again) == to_compact(bundled)
    assert [r.management for r in again.rules] == [r.management for r in bundled.rules]
    assert again.ingredients["clonazepam"].classes == bundled.ingredients["clonazepam"].classes
    assert {k: [list(e) for e in v] for k, v in again.lexicon.names.items()} == {
        k: [list(e) for e in v] for k, v in bundled.lexicon.names.items()
    }


def test_compiled_lookups_behave_as_mappings(bundled: KnowledgeBase) -> None:
    again = from_compact(to_compact(bundled))
    names, ingredients = again.lexicon.names, again.ingredients
    assert len(names) == len(bundled.lexicon.names)
    assert "klonopin" in names and "no such name" not in names
    assert names.get("no such name") is None
    assert names.get("no such name", ()) == ()
    assert [e[0] for e in names["klonopin"]] == ["Klonopin"]
    assert ingredients.get("clonazepam") is ingredients["clonazepam"]  # built once, then kept
    assert "benzodiazepine" in ingredients["clonazepam"].classes
    with pytest.raises(KeyError):
        ingredients["unobtainium"]
    assert list(ingredients) == list(bundled.ingredients)
    assert 42 not in ingredients


def test_every_packed_name_is_found_by_search(bundled: KnowledgeBase) -> None:
    again = from_compact(to_compact(bundled)).lexicon.names
    expected = {k: tuple(tuple(e) for e in v) for k, v in bundled.lexicon.names.items()}
    assert {k: again[k] for k in expected} == expected  # one binary search per key
    fresh = from_compact(to_compact(bundled)).lexicon.names
    assert dict(fresh.items()) == expected  # one pass over the packed text
    assert list(fresh) == list(expected)  # authored order kept
    for missing in ("", "a", "zzzzzzzz", "klonopi", "klonopinn", "~"):
        assert missing not in again


def test_data_version_changes_when_data_changes(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(Path(str(data_root())), root)
    before = compile_knowledge(root).version
    meta = root / "meta.toml"
    meta.write_text(meta.read_text() + "\n# edited\n")
    assert compile_knowledge(root).version != before


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("classes.toml", '[x]\nkind = "weird"\nlabel = "x"\n', "kind: 'weird' is not one of"),
        ("ingredients/zz.toml", '[newdrug]\nclasses = ["no-such-class"]\n', "unknown class"),
        ("ingredients/zz.toml", "[sertraline]\nclasses = []\n", "already defined"),
        ("ingredients/zz.toml", '[newdrug]\nclasses = []\nbrands = ["Zoloft"]\n', "already to"),
        (
            "products/zz.toml",
            '[[product]]\nname = "X"\ningredients = ["unobtainium"]\n',
            "unknown ingredient",
        ),
        ("rules.toml", "[[rule]]\nid = 3\n", "id: must be a string (non-empty), got 3"),
        (
            "ingredients/zz.toml",
            '[newdrug]\nclasses = []\nbrands = ["New\\u001fdrug"]\n',
            "control character",
        ),
    ],
)
def test_broken_data_is_rejected_naming_file_and_key(
    tmp_path: Path, file: str, text: str, message: str
) -> None:
    root = tmp_path / "data"
    shutil.copytree(Path(str(data_root())), root)
    target = root / file
    if file == "rules.toml":
        target.write_text(text)
    else:
        target.write_text(target.read_text() + "\n" + text if target.exists() else text)
    with pytest.raises(DataError) as info:
        compile_knowledge(root)
    assert message in str(info.value)
    assert file.split("/")[0] in str(info.value) or file in str(info.value)


def test_no_name_maps_to_two_ingredient_sets(bundled: KnowledgeBase) -> None:
    import tomllib

    shared = tomllib.loads((Path(str(data_root())) / "shared-names.toml").read_text("utf-8"))
    declared = {name_key(n["name"]) for n in shared["name"]}
    for key, entries in bundled.lexicon.names.items():
        # only the declared shared names (one brand, different drugs by country) have several
        assert (len({e[1] for e in entries}) == 1) == (key not in declared), key
        assert key == name_key(key)
