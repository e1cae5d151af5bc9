"""RxNorm codes: the generator (on a small fixture), the bundled table, and resolution by code."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketcheck.engine.codes import code_in_text, ingredients_for_code
from ketcheck.errors import DataError
from ketcheck.kb.compiled import from_compact, to_compact
from ketcheck.kb.knowledge import Ingredient, KnowledgeBase
from ketcheck.kb.load import compile_knowledge
from ketcheck.kb.rxnorm import CODES_FILE, build_codes
from ketcheck.model import Ambiguous, Entry, Method, Resolved, Unresolved
from tests.conftest import FIXTURE_KB, ROOT, load_script, run

EXTRACT = Path(__file__).parent / "fixtures" / "rxnorm" / "extract.tsv"


gen = load_script("generate_rxnorm")


@pytest.fixture(scope="module")
def fixture_result() -> object:
    ids, synonyms, brands = gen.curated_names(FIXTURE_KB)
    return gen.generate(gen.read_extract(EXTRACT), ids, synonyms, brands)


def _by_code(result: object) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {r.rxcui: (r.tty, r.ingredients) for r in result.rows}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("rxcui", "tty", "ingredients"),
    [
        ("2598", "IN", ("clonazepam",)),
        ("7814", "PIN", ("oxycodone",)),  # the extract's list is gathered across products
        ("90002", "MIN", ("acetaminophen", "oxycodone")),  # the name decides, not the list
        ("197527", "SCD", ("clonazepam",)),  # tall-man name, same code
        ("206396", "SBD", ("clonazepam",)),
        ("90004", "SCD", ("acetaminophen", "oxycodone")),
        ("90006", "GPCK", ("sertraline",)),  # placebo tablets carry no ingredient
        ("90007", "BPCK", ("sertraline",)),
        ("90008", "SCDC", ("sertraline",)),
        ("82728", "BN", ("sertraline",)),
        ("90009", "BN", ("acetaminophen", "oxycodone")),
    ],
)
def test_generator_maps_each_term_type(
    fixture_result: object, rxcui: str, tty: str, ingredients: tuple[str, ...]
) -> None:
    assert _by_code(fixture_result)[rxcui] == (tty, ingredients)


@pytest.mark.parametrize(
    ("rxcui", "why"),
    [
        ("1049221", "complete=no (may lack an ingredient)"),
        ("90013", "complete=no (may lack an ingredient)"),
        ("90005", "an ingredient is not curated"),  # butalbital: never shortened to APAP
        ("1819", "an ingredient is not curated"),
        ("90001", "PIN name disagrees with its ingredient list"),
        ("90003", "MIN name disagrees with its ingredient list"),
        ("90010", "BN disagrees with a curated brand"),  # Klonopin is clonazepam here
        ("90011", "no active ingredient"),
        ("90012", "term type SY"),
    ],
)
def test_generator_skips_what_it_cannot_map_whole(
    fixture_result: object, rxcui: str, why: str
) -> None:
    assert rxcui not in _by_code(fixture_result)
    assert fixture_result.skipped[why] >= 1  # type: ignore[attr-defined]


def test_generator_never_uses_an_incomplete_row(fixture_result: object) -> None:
    incomplete = fixture_result.skipped_incomplete  # type: ignore[attr-defined]
    assert incomplete == {"1049221", "90013"}
    assert not incomplete & set(_by_code(fixture_result))


def test_generator_marks_each_ingredients_own_code(fixture_result: object) -> None:
    canonical = {r.rxcui for r in fixture_result.rows if r.canonical}  # type: ignore[attr-defined]
    assert canonical == {"2598", "36437", "8123", "7804", "161"}


def test_generator_is_deterministic_whatever_the_input_order(tmp_path: Path) -> None:
    lines = EXTRACT.read_text(encoding="utf-8").splitlines()
    body = [ln for ln in lines[1:] if not ln.startswith("2598\t")] + [lines[1]]
    random.Random(7).shuffle(body)
    shuffled = tmp_path / "shuffled.tsv"
    shuffled.write_text("\n".join([lines[0], lines[1], *body]) + "\n", encoding="utf-8")
    outputs = []
    for i, source in enumerate((EXTRACT, EXTRACT, shuffled)):
        out = tmp_path / f"out{i}.tsv"
        assert gen.main([str(source), "--data", str(FIXTURE_KB), "--out", str(out)]) == 0
        outputs.append(out.read_text(encoding="utf-8").replace(source.name, "SOURCE"))
    assert outputs[0] == outputs[1] == outputs[2]
    rows = [ln for ln in outputs[0].splitlines() if not ln.startswith("#")]
    assert rows[0] == "rxcui\ttty\tingredients\tcanonical\tname"
    codes = [int(ln.split("\t")[0]) for ln in rows[1:]]
    assert codes == sorted(codes)
    assert "release 2025-10-06" in outputs[0] and "complete=no" in outputs[0]


def test_generated_table_loads_into_a_knowledge_base(tmp_path: Path) -> None:
    data = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, data)
    assert gen.main([str(EXTRACT), "--data", str(data)]) == 0
    kb = compile_knowledge(data)
    assert kb.rxnorm.get("90004") is not None
    assert kb.rxnorm.get("1049221") is None
    assert kb.ingredients["sertraline"].rxcui == "36437"
    report = run(kb, Entry(text="RxNorm 90004"))
    assert report.medications[0].ingredients == ("acetaminophen", "oxycodone")


# --- the bundled table ------------------------------------------------------------------------


def _bundled_rows() -> list[list[str]]:
    text = (ROOT / "data" / CODES_FILE).read_text(encoding="utf-8")
    return [ln.split("\t") for ln in text.splitlines()[1:] if ln and not ln.startswith("#")][1:]


def test_bundled_table_names_its_release_and_gap() -> None:
    head = (ROOT / "data" / CODES_FILE).read_text(encoding="utf-8")[:2000]
    assert "release 2025-10-06" in head and "scripts/generate_rxnorm.py" in head
    assert "complete=no" in head and "begin with A" in head


def test_every_bundled_code_maps_only_to_known_ingredients(bundled: KnowledgeBase) -> None:
    rows = _bundled_rows()
    assert len(rows) > 10_000
    for row in rows:
        assert all(i in bundled.ingredients for i in row[2].split("+")), row
    assert bundled.rxnorm.dropped == 0
    assert {r[1] for r in rows} == {"IN", "PIN", "MIN", "SCDC", "SCD", "SBD", "BN", "GPCK", "BPCK"}


def test_no_bundled_code_keeps_a_placebo_or_drops_an_a_ingredient() -> None:
    rows = _bundled_rows()
    for rxcui, _tty, ingredients, _canonical, name in rows:
        assert "inert" not in ingredients
        if "acetaminophen" in name.lower():  # the extract's gap: such rows are complete=no
            assert "acetaminophen" in ingredients.split("+"), (rxcui, name)
    # Percocet (BN, SCD and SBD) is marked complete=no in the extract: never a code here.
    assert not {"42844", "1049221", "1049640"} & {r[0] for r in rows}


@pytest.mark.parametrize(
    ("rxcui", "ingredients"),
    [
        ("197591", ("diazepam",)),  # SCD diazepam 5 MG Oral Tablet
        ("104700", ("diazepam",)),  # SBD ... [Valium]
        ("748856", ("drospirenone", "ethinyl estradiol")),  # BPCK Yaz, less its placebo
        ("748798", ("drospirenone", "ethinyl estradiol")),  # GPCK
        ("10734", ("tranylcypromine",)),  # IN
        ("103990", ("carbidopa", "levodopa")),  # MIN
        ("82728", ("sertraline",)),  # BN Zoloft
        ("1599803", ("donepezil", "memantine")),  # SCD, two ingredients
    ],
)
def test_bundled_code_resolves_to_exactly_its_ingredients(
    bundled: KnowledgeBase, rxcui: str, ingredients: tuple[str, ...]
) -> None:
    (med,) = run(bundled, Entry(text=f"RxNorm {rxcui}", rxcui=rxcui)).medications
    assert isinstance(med.resolution, Resolved)
    assert med.resolution.method is Method.RXNORM
    assert med.ingredients == ingredients


def test_ingredient_codes_come_from_the_generated_table(bundled: KnowledgeBase) -> None:
    assert bundled.ingredients["diazepam"].rxcui == "3322"
    assert bundled.ingredients["tranylcypromine"].rxcui == "10734"
    # The TOML's 11118 is RxNorm's PIN valproic acid; the ingredient code is valproate's IN.
    assert bundled.ingredients["valproate"].rxcui == "40254"
    assert bundled.ingredients["alprazolam"].rxcui is None or bundled.rxnorm.get(
        bundled.ingredients["alprazolam"].rxcui or ""
    )
    filled = sum(1 for i in bundled.ingredients.values() if i.rxcui)
    assert filled > 700


def test_code_index_survives_the_compiled_cache(bundled: KnowledgeBase) -> None:
    compiled = from_compact(to_compact(bundled))
    code = compiled.rxnorm.get("197591")
    assert code is not None and code.ingredients == ("diazepam",)
    assert code.name == "diazepam 5 MG Oral Tablet" and code.tty == "SCD"
    assert len(compiled.rxnorm.codes) == len(bundled.rxnorm.codes)
    assert compiled.rxnorm.get("0") is None


# --- hand-written codes -----------------------------------------------------------------------


def _ingredients(**rxcuis: str | None) -> dict[str, Ingredient]:
    return {k: Ingredient(id=k, classes=(), rxcui=v) for k, v in rxcuis.items()}


TABLE = [
    ["3322", "IN", "diazepam", "yes", "diazepam"],
    ["40254", "IN", "valproate", "yes", "valproate"],
    ["11118", "PIN", "valproate", "", "valproic acid"],
    ["197591", "SCD", "diazepam", "", "diazepam 5 MG Oral Tablet"],
]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({"diazepam": "3323"}, "disagrees with RxNorm"),
        ({"diazepam": "197591"}, "disagrees with RxNorm"),  # a product code, not the ingredient
        ({"valproate": "3322"}, "RxNorm's code for diazepam"),
    ],
)
def test_a_hand_written_rxcui_that_disagrees_fails_the_data(
    written: dict[str, str], message: str
) -> None:
    ingredients = _ingredients(diazepam=None, valproate=None) | _ingredients(**written)
    with pytest.raises(DataError, match=message):
        build_codes(TABLE, ingredients)


def test_hand_written_rxcuis_that_agree_or_fill_the_gap_are_kept() -> None:
    ingredients = _ingredients(diazepam="3322", valproate="11118", alprazolam="596")
    out, index = build_codes(TABLE, ingredients)
    assert out["valproate"].rxcui == "40254"  # the generated IN wins over the salt PIN
    assert out["alprazolam"].rxcui == "596"
    alprazolam = index.get("596")
    assert alprazolam is not None and alprazolam.ingredients == ("alprazolam",)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["x1", "IN", "diazepam", "yes", "diazepam"], "must be digits"),
        (["1", "XX", "diazepam", "", "diazepam"], "is not one of"),
        (["1", "SCD", "diazepam", "maybe", "d"], "canonical"),
        (["1", "SCD", "diazepam", "yes", "d"], "only a one-ingredient IN row"),
        (["1", "SCD", "diazepam"], "expected 5 columns"),
        (["3322", "IN", "diazepam", "", "again"], "listed twice"),
    ],
)
def test_malformed_generated_rows_are_data_errors(row: list[str], message: str) -> None:
    with pytest.raises(DataError, match=message):
        build_codes([*TABLE, row], _ingredients(diazepam=None, valproate=None))


def test_a_row_naming_an_unknown_ingredient_is_dropped_whole() -> None:
    rows = [*TABLE, ["5", "SCD", "diazepam+unknownium", "", "diazepam / unknownium"]]
    _, index = build_codes(rows, _ingredients(diazepam=None, valproate=None))
    assert index.get("5") is None and index.dropped == 1


# --- resolution by code -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("RxNorm 197591", "197591"),
        ("rxnorm:197591", "197591"),
        ("RXCUI 197591", "197591"),
        ("  RxNorm code 42 ", "42"),
        ("RxNorm", None),
        ("RxNorm 197591 daily", None),
        ("OxyNorm 10", None),
    ],
)
def test_code_in_text(text: str, code: str | None) -> None:
    assert code_in_text(text) == code


def test_unknown_code_alone_is_unresolved_without_name_guesses(bundled: KnowledgeBase) -> None:
    for entry in (Entry(text="RxNorm 12345", rxcui="12345"), "RxNorm 12345"):
        (med,) = run(bundled, entry).medications
        assert isinstance(med.resolution, Unresolved)
        assert med.resolution.reason == "RxNorm code 12345 is not in the bundled code list"
        assert med.resolution.suggestions == ()


def test_code_and_text_that_disagree_are_ambiguous_showing_both(bundled: KnowledgeBase) -> None:
    (med,) = run(bundled, Entry(text="Zoloft 50 mg", rxcui="197591")).medications
    assert isinstance(med.resolution, Ambiguous)
    assert {c.ingredients for c in med.resolution.candidates} == {("sertraline",), ("diazepam",)}
    assert "197591" in med.resolution.reason and "disagree" in med.resolution.reason


def test_code_and_text_that_agree_resolve(bundled: KnowledgeBase) -> None:
    (med,) = run(bundled, Entry(text="Valium 5 mg", rxcui="104700")).medications
    assert med.ingredients == ("diazepam",)


def test_a_known_code_decides_an_unreadable_label(bundled: KnowledgeBase) -> None:
    (med,) = run(bundled, Entry(text="see pharmacy note", rxcui="197591")).medications
    assert isinstance(med.resolution, Resolved) and med.resolution.method is Method.RXNORM


@pytest.mark.parametrize(
    "text",
    [
        "Frobnozam 10 mg and phenelzna 15 mg",  # two unknown names: the code names one
        "takes " + "she says " * 40 + "and also phenelzine 15 mg",  # too long to be read
    ],
)
def test_a_code_never_stands_for_a_label_that_may_hold_more(
    bundled: KnowledgeBase, text: str
) -> None:
    (med,) = run(bundled, Entry(text=text, rxcui="197591")).medications
    assert isinstance(med.resolution, Ambiguous), med.resolution
    assert "197591" in med.resolution.reason and "more medicines" in med.resolution.reason
    assert [c.ingredients for c in med.resolution.candidates] == [("diazepam",)]


def test_an_unknown_code_leaves_the_text_to_decide(bundled: KnowledgeBase) -> None:
    (med,) = run(bundled, Entry(text="Zoloft", rxcui="12345")).medications
    assert med.ingredients == ("sertraline",)


# --- the compiled cache -----------------------------------------------------------------------


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from ketcheck.kb.load import load_bundled

    monkeypatch.setenv("KETCHECK_CACHE_DIR", str(tmp_path / "cache"))
    load_bundled.cache_clear()
    yield tmp_path / "cache"
    load_bundled.cache_clear()


def test_codes_have_their_own_cache_file_read_only_when_asked(fresh_cache: Path) -> None:
    from ketcheck.kb.load import load_bundled

    load_bundled()
    (sidecar,) = fresh_cache.glob("rxnorm-*")
    load_bundled.cache_clear()
    kb = load_bundled()
    assert kb.rxnorm._codes is None  # a check without codes never reads them
    assert ingredients_for_code(kb, "197591") == ("diazepam",)
    sidecar.unlink()  # a lost or corrupt code cache is rebuilt from the data, never trusted
    load_bundled.cache_clear()
    assert ingredients_for_code(load_bundled(), "10734") == ("tranylcypromine",)
    assert len(list(fresh_cache.glob("rxnorm-*"))) == 1


def test_cli_never_offers_a_name_for_an_unknown_code() -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    runner = CliRunner()
    checked = runner.invoke(app, ["check", "--format", "json"], input="RxNorm 12345\n")
    assert checked.exit_code == 3
    assert "OxyNorm" not in checked.stdout
    assert "RxNorm code 12345 is not in the bundled code list" in checked.stdout
    explained = runner.invoke(app, ["info", "RxNorm 12345"])
    assert explained.exit_code == 3 and "OxyNorm" not in explained.stdout
    known = runner.invoke(app, ["info", "--json", "rxnorm:197591"])
    assert known.exit_code == 0 and '"method": "rxnorm"' in known.stdout


def test_no_coded_rxnorm_product_name_resolves_to_another_set(bundled: KnowledgeBase) -> None:
    """The resolver and the code table agree on every multi-ingredient product both know.

    The names are RxNorm's own (release 2025-10-06); the resolver may doubt one (ambiguous or
    unresolved) but never settle on a set its code does not name, subsets included.
    """
    from ketcheck.matching.resolve import Resolver

    resolver = Resolver(bundled)
    checked, wrong = 0, []
    for code in bundled.rxnorm.codes.values():
        if code.tty not in ("SCD", "SBD", "GPCK", "BPCK") or len(code.ingredients) < 2:
            continue
        checked += 1
        _, resolution = resolver.resolve(code.name)
        if isinstance(resolution, Resolved) and set(resolution.ingredients) != set(
            code.ingredients
        ):
            wrong.append((code.rxcui, code.name, resolution.ingredients, code.ingredients))
    assert checked > 1500
    assert wrong == [], wrong[:5]
