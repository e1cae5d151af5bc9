"""Names from real EHR lines that the bundled data once read wrongly, and the FDA-names rules.

Each row is a name or line as an EHR exports it, with what the bundled knowledge base must make
of it; the generator rules run on a few hand-written FDA and RxNorm rows (never on shared/).
"""

from __future__ import annotations

import pytest

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.matching.normalise import name_key
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Ambiguous, Resolved, Unresolved
from tests.conftest import ROOT, load_script

# typed, the whole ingredient set it must resolve to
RESOLVED = [
    # 1. combination brands the FDA list files under one substance
    ("Anoro Ellipta", ("umeclidinium", "vilanterol")),
    ("Anoro Ellipta 62.5-25 mcg 1 puff daily", ("umeclidinium", "vilanterol")),
    ("Fervex", ("acetaminophen", "ascorbic acid", "pheniramine")),
    ("Ziac 5/6.25", ("bisoprolol", "hydrochlorothiazide")),
    # 3. curated products
    ("Excedrin PM Headache", ("acetaminophen", "aspirin", "diphenhydramine")),
    ("Excedrin PM Triple Action 2 caplets qhs", ("acetaminophen", "aspirin", "diphenhydramine")),
    ("Hycodan 5 mL q4h prn", ("homatropine", "hydrocodone")),
    ("Hydromet syrup", ("homatropine", "hydrocodone")),
    ("Zantac 360 20 mg", ("famotidine",)),
    ("5-ASA 800 mg", ("mesalamine",)),
    ("5-aminosalicylic acid 1.2 g", ("mesalamine",)),
    ("ASA 81 mg", ("aspirin",)),
    ("Tylenol #3", ("acetaminophen", "codeine")),
    ("Lisinopril 10 mg per PCP", ("lisinopril",)),
    ("omeprazole 20 mg - acid", ("omeprazole",)),
    ("folic acid 1 mg", ("folic acid",)),
    ("angel dust", ("phencyclidine",)),
    ("LSD", ("lsd",)),
    # 4. vitamin K
    ("vitamin K2", ("menaquinone",)),
    ("Vitamin K2 (MK-7) 100 mcg", ("menaquinone",)),
    ("vitamin K1", ("phytonadione",)),
    ("phytonadione 5 mg", ("phytonadione",)),
    # RxNorm files these under three enzymes we do not curate: curated brands keep them
    ("Creon 24,000 units with meals", ("pancrelipase",)),
]

# typed, the meanings an ambiguous name must offer (each an ingredient set)
AMBIGUOUS = [
    ("Zantac", {("ranitidine",), ("famotidine",)}),
    ("Zantac 150 mg bid", {("ranitidine",), ("famotidine",)}),
    ("T3", {("liothyronine",), ("acetaminophen", "codeine")}),
    ("T4", {("levothyroxine",), ("acetaminophen", "codeine")}),
    (
        "Excedrin PM",
        {("acetaminophen", "diphenhydramine"), ("acetaminophen", "aspirin", "diphenhydramine")},
    ),
    ("vitamin K", {("phytonadione",), ("menaquinone",)}),
    (
        "Vicks Formula 44",
        {
            ("dextromethorphan",),
            ("dextromethorphan", "phenylephrine"),
            ("dextromethorphan", "guaifenesin"),
            ("acetaminophen", "chlorpheniramine", "dextromethorphan"),
        },
    ),
]

# typed: never resolved to a medicine (ordinary words, street names that are ordinary words)
NOT_A_MEDICINE = ["Depo", "Depot", "Buccal", "Nostril", "Polaris", "PCP", "acid", "Reconcile"]

# typed, the ingredients the line may hold at most: a second word never adds a drug silently
NO_SECOND_DRUG = [
    ("Xanax 0.5mg via Polaris pharmacy", {"alprazolam"}),
    ("Zoloft 50 (PCP)", {"sertraline"}),
    ("Lisinopril 10 mg per PCP", {"lisinopril"}),
    ("omeprazole 20 mg - acid", {"omeprazole"}),
    ("Xanax 0.5 mg, depot", {"alprazolam"}),
    ("Zoloft 50 mg - reconcile", {"sertraline"}),
]


@pytest.fixture(scope="module")
def resolver(bundled: KnowledgeBase) -> Resolver:
    return Resolver(bundled)


@pytest.mark.parametrize(("typed", "ingredients"), RESOLVED)
def test_real_names_resolve_to_the_whole_set(
    resolver: Resolver, typed: str, ingredients: tuple[str, ...]
) -> None:
    _, res = resolver.resolve(typed)
    assert isinstance(res, Resolved), res
    assert res.ingredients == tuple(sorted(ingredients))


@pytest.mark.parametrize(("typed", "meanings"), AMBIGUOUS)
def test_names_of_several_drugs_are_ambiguous(
    resolver: Resolver, typed: str, meanings: set[tuple[str, ...]]
) -> None:
    _, res = resolver.resolve(typed)
    assert isinstance(res, Ambiguous), res
    assert {tuple(c.ingredients) for c in res.candidates} == meanings


@pytest.mark.parametrize("typed", NOT_A_MEDICINE)
def test_ordinary_words_are_not_medicines(resolver: Resolver, typed: str) -> None:
    _, res = resolver.resolve(typed)
    assert not isinstance(res, Resolved), res


@pytest.mark.parametrize(("typed", "allowed"), NO_SECOND_DRUG)
def test_a_second_word_never_adds_a_drug_silently(
    resolver: Resolver, typed: str, allowed: set[str]
) -> None:
    _, res = resolver.resolve(typed)
    if isinstance(res, Resolved):
        assert set(res.ingredients) <= allowed, res
    else:
        assert isinstance(res, Ambiguous | Unresolved)


# --- the generator's rules, on hand-written rows ------------------------------------------


gen = load_script("generate_fda_names")

SUBSTANCE = {
    name_key(n): n
    for n in (
        "umeclidinium",
        "vilanterol",
        "hydrocodone",
        "pheniramine",
        "acetaminophen",
        "ascorbic acid",
        "diphenhydramine",
        "estradiol",
        "medroxyprogesterone",
        "testosterone",
        "methylprednisolone",
        "oxytocin",
        "iron",
        "bisoprolol",
        "hydrochlorothiazide",
        "sertraline",
        "valsartan",
        "glucose",
    )
}
FDA = [
    # name, kind, unii, display
    ("ANORO ELLIPTA", "bn", "U1", "UMECLIDINIUM BROMIDE"),
    ("ANORO ELLIPTA COMPONENT VILANTEROL TRIFENATATE", "bn", "V1", "VILANTEROL TRIFENATATE"),
    ("ZUTRIPRO COMPONENT HYDROCODONE BITARTRATE", "bn", "H1", "HYDROCODONE BITARTRATE"),
    ("COPALIA-HCT", "bn", "T1", "HYDROCHLOROTHIAZIDE"),
    ("COPALIA-HCT COMPONENT VALSARTAN", "bn", "S1", "VALSARTAN"),
    ("ABRAXA", "bn", "H1", "HYDROCODONE BITARTRATE"),
    ("ABRAXA COMPONENT NOTCURATEDINE", "bn", "X1", "NOTCURATEDINE"),
    ("ZIAC", "bn", "T1", "HYDROCHLOROTHIAZIDE"),
    ("PERCOLATE", "bn", "H1", "HYDROCODONE BITARTRATE"),
    ("FERVEX", "bn", "P1", "PHENIRAMINE MALEATE"),
    ("DEPO", "bn", "E1", "ESTRADIOL CYPIONATE"),
    ("DEPO-PROVERA", "bn", "M1", "MEDROXYPROGESTERONE ACETATE"),
    ("DEPO-TESTOSTERONE", "bn", "T2", "TESTOSTERONE CYPIONATE"),
    ("DEPO-MEDROL", "bn", "M2", "METHYLPREDNISOLONE ACETATE"),
    ("BUCCAL", "bn", "O1", "OXYTOCIN CITRATE"),
    ("NASAL SPRAY", "bn", "O1", "OXYTOCIN CITRATE"),
    ("POLARIS", "bn", "I1", "IRON"),
    ("ZOLOFT", "bn", "Z1", "SERTRALINE HYDROCHLORIDE"),
    ("ZOLAX", "bn", "Z1", "SERTRALINE HYDROCHLORIDE"),
    ("ZOLAX", "bn", "X1", "NOTCURATEDINE"),
    ("SERTRALINE HYDROCHLORIDE", "of", "Z1", "SERTRALINE HYDROCHLORIDE"),
    ("DIANEAL PD-2", "bn", "G1", "GLUCOSE"),
]
BRANDS = {
    "anoro": ("Anoro", frozenset({"umeclidinium", "vilanterol"})),
    "ziac": ("Ziac", frozenset({"bisoprolol", "hydrochlorothiazide"})),
    "percolate": ("Percolate", None),  # complete = no: RxNorm may lack an "A" ingredient
    "zoloft": ("Zoloft", frozenset({"sertraline"})),
    # the same product in strengths: RxNorm names it with the glucose and its electrolytes
    "dianeal pd 2 4 25": ("Dianeal PD-2/4.25", None),
    "dianeal pd 2 1 5": ("Dianeal PD-2/1.5", None),
}
OVERRIDES = {
    "fervex": gen.Name("Fervex", ("acetaminophen", "ascorbic acid", "pheniramine"), "brand", "")
}


@pytest.fixture(scope="module")
def generated() -> object:
    return gen.generate(FDA, SUBSTANCE, {}, BRANDS, {"polaris": "a star"}, OVERRIDES)


@pytest.mark.parametrize(
    ("name", "ingredients"),
    [
        ("anoro ellipta", ("umeclidinium", "vilanterol")),  # components, confirmed by RxNorm
        ("fervex", ("acetaminophen", "ascorbic acid", "pheniramine")),  # reviewed override
        ("zoloft", ("sertraline",)),  # RxNorm agrees
        ("sertraline hydrochloride", ("sertraline",)),  # an official name is never "ordinary"
        ("depo provera", ("medroxyprogesterone",)),
    ],
)
def test_generator_keeps_whole_sets(generated: object, name: str, ingredients: tuple) -> None:
    assert generated.rows[name].ingredients == ingredients  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("zutripro", None),  # components listed incompletely, RxNorm silent: never a subset
        ("copalia hct", "components"),  # hydrochlorothiazide alone before
        ("abraxa", "components"),  # a component we do not curate
        ("ziac", "rxnorm"),  # RxNorm: bisoprolol + hydrochlorothiazide
        ("percolate", "rxnorm"),  # RxNorm may lack an ingredient
        ("dianeal pd 2", "rxnorm"),  # RxNorm's Dianeal PD-2/4.25 holds more than glucose
        ("depo", "ordinary words"),  # stem of three other ingredient sets
        ("buccal", "ordinary words"),  # a route word
        ("nasal spray", "ordinary words"),
        ("polaris", "review"),
        ("zolax", None),  # also names a substance we do not curate
    ],
)
def test_generator_drops_what_it_cannot_vouch_for(
    generated: object, name: str, rule: str | None
) -> None:
    assert name not in generated.rows  # type: ignore[attr-defined]
    if rule is not None:
        changed = generated.changed[rule]  # type: ignore[attr-defined]
        assert name in {name_key(n) for n in changed}, changed


def test_generator_writes_one_row_per_name_with_counts_in_the_header(generated: object) -> None:
    text = gen.render(generated, rxnorm="fixture")
    rows = [ln.split("\t") for ln in text.splitlines() if ln and not ln.startswith("#")][1:]
    keys = [name_key(r[0]) for r in rows]
    assert len(keys) == len(set(keys))  # the loader keeps only a name's first row
    assert ["Anoro Ellipta", "umeclidinium+vilanterol", "brand", "U1"] in rows
    header = text.splitlines()[2]
    assert "components 3" in header and "rxnorm 3" in header and "review 2" in header


def test_review_file_rows_carry_a_reason_and_a_source(bundled: KnowledgeBase) -> None:
    excluded, overrides = gen.read_review(ROOT / "data" / gen.REVIEW_FILE, bundled.ingredients)
    assert "polaris" in excluded and "fervex" in overrides
    assert all("(" in why for why in excluded.values())  # reason (source)


def test_bundled_table_has_none_of_the_dropped_names() -> None:
    path = ROOT / "data" / "generated" / "fda-names.tsv"
    rows = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()]
    names = {name_key(r[0]): r[1] for r in rows if r and not r[0].startswith("#")}
    for gone in ("depo", "depot", "buccal", "nostril", "polaris", "vicks formula 44", "hycodan"):
        assert gone not in names
    assert names["anoro ellipta"] == "umeclidinium+vilanterol"
    assert names["fervex"] == "acetaminophen+ascorbic acid+pheniramine"
