"""Generate data/generated/fda-names.tsv from the FDA UNII Names list (public domain).

usage: python scripts/generate_fda_names.py PATH/TO/fda-unii-brand-and-official-names.tsv.gz
       [--rxnorm PATH/TO/rxnorm-prescribable-2025-10.tsv.gz] [--verbose]

Keeps only names whose substance is one of our curated ingredients (after mapping salts to the
parent), so the table adds brand and official names for drugs we have reviewed and never
introduces an unreviewed substance. Curated names always win. The FDA list files a combination
brand under one of its substances (ANORO ELLIPTA -> UMECLIDINIUM BROMIDE), so every name then
passes these rules, each counted in the file's header:

1. components: a brand the list also names as "BRAND COMPONENT SUBSTANCE" is a combination; it
   gets every component, or is dropped when one component (or one of its own rows) is not
   curated. A name whose rows point at substances we do not all curate is dropped too, and so
   is a name the list gives to two different ingredients.
2. rxnorm: a brand RxNorm knows (its BN, by the same name, by the name with its strengths
   ("Dianeal PD-2" for "Dianeal PD-2/4.25"), or by the name's first words, e.g.
   "Anoro" for "Anoro Ellipta") must have RxNorm's ingredient set; where RxNorm's set differs,
   or RxNorm may lack an ingredient (complete = no), the name is dropped.
3. ordinary words: a name made only of words a medication line uses for other things
   (ketcheck/matching/vocabulary.py: forms, routes, sig, salts...), and a one-word stem that
   starts brands of three or more other ingredient sets (Depo: Depo-Medrol, Depo-Provera...).
4. review: data/fda-names-review.toml drops names (ordinary English words, outdated or
   reformulated brands) and sets the whole ingredient set of foreign combination brands, each
   row with its reason and source.

The output is sorted, so regenerating gives a clean diff.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import re
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ketcheck.kb.load import read_sources  # noqa: E402
from ketcheck.matching import vocabulary as vocab  # noqa: E402
from ketcheck.matching.normalise import name_key  # noqa: E402

OUT = ROOT / "data" / "generated" / "fda-names.tsv"
REVIEW_FILE = "fda-names-review.toml"

# Words that name the salt, ester, hydrate or form rather than the parent substance.
SALT_WORDS = frozenset(
    """
    hydrochloride hcl hydrobromide sulfate sulphate bisulfate oxalate tartrate bitartrate
    carbonate citrate sodium potassium maleate mesylate dimesylate besylate besilate
    succinate fumarate hemifumarate acetate diacetate phosphate diphosphate bromide chloride
    lactate gluconate malate napsylate pamoate decanoate enanthate cypionate valerate
    propionate dipropionate furoate monohydrate dihydrate trihydrate hemihydrate
    sesquihydrate anhydrous magnesium calcium hyclate monohydrochloride dihydrochloride
    embonate axetil medoxomil pivoxil lauroxil mofetil disoproxil alafenamide tromethamine
    xinafoate nitrate erbumine hydrate mononitrate disodium dipotassium trisodium tosylate
    benzoate salicylate stearate palmitate acetonide butyrate hexanoate undecanoate estolate
    ethylsuccinate lysine meglumine olamine sulfosalicylate hemisulfate hydroiodide iodide
    methylbromide methylsulfate camsylate edisylate isethionate mucate pivalate tebutate
    trifenatate dimethylsulfate monosodium
    """.split()
)
MAX_NAME_LEN = 40
MIN_NAME_LEN = 4
COMPONENT = re.compile(r"^(?P<brand>.+?) COMPONENT (?P<substance>.+)$", re.IGNORECASE)
# Words of a medication line that are not drug names: a generated name made only of these
# (and numbers) would turn an instruction into a medicine ("Buccal", "Nostril", "Depot").
LINE_WORDS = (
    vocab.INSTRUCTION_WORDS
    | vocab.PRODUCT_SUFFIXES
    | vocab.SALTS
    | vocab.SEPARATORS
    | vocab.NEGATORS
)
# A one-word name that starts brands of this many other ingredient sets is a shared stem.
STEM_SETS = 3

RULES = ("components", "rxnorm", "ordinary words", "review")


@dataclass(frozen=True, slots=True)
class Name:
    """One candidate row: the name as shown, its ingredient ids, kind and UNII."""

    shown: str
    ingredients: tuple[str, ...]
    kind: str
    unii: str


@dataclass(slots=True)
class Result:
    """The rows to write and, per rule, the names it dropped or changed (name -> why)."""

    rows: dict[str, Name]
    changed: dict[str, dict[str, str]] = field(default_factory=lambda: {r: {} for r in RULES})
    not_curated: int = 0
    two_ingredients: int = 0


def parent_key(display: str, known: Mapping[str, str]) -> str | None:
    """The curated ingredient a substance display name belongs to, if any."""
    key = name_key(display)
    if key in known:
        return known[key]
    words = key.split()
    kept = [w for w in words if w not in SALT_WORDS]
    while kept:
        candidate = " ".join(kept)
        if candidate in known:
            return known[candidate]
        if kept[-1] in SALT_WORDS:
            kept.pop()
        else:
            break
    return None


def usable(name: str) -> bool:
    """Skip codes, bracketed qualifiers, very long strings and very short ones."""
    if not (MIN_NAME_LEN <= len(name) <= MAX_NAME_LEN):
        return False
    if re.search(r"[\[\]{}()]|\bkit\b|\bcomponent\b", name, re.IGNORECASE):
        return False
    letters = sum(ch.isalpha() for ch in name)
    return letters >= MIN_NAME_LEN and not re.fullmatch(r"[A-Z]{1,4}[- ]?\d+[A-Z\d-]*", name)


def _rxnorm_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_rxnorm", Path(__file__).resolve().parent / "generate_rxnorm.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_rxnorm", module)
    spec.loader.exec_module(module)
    return module


def rxnorm_brands(
    rows: Iterable[Mapping[str, str]],
    ids: Mapping[str, str],
    synonyms: Mapping[str, set[str]],
) -> dict[str, tuple[str, frozenset[str] | None]]:
    """RxNorm brand key -> (RxNorm's name, our ingredient set), or None for the set when RxNorm
    may lack an ingredient (complete = no) or names one we do not curate."""
    rx = _rxnorm_module()
    out: dict[str, tuple[str, frozenset[str] | None]] = {}
    for r in rows:
        if r["tty"].strip() != "BN":
            continue
        name = r["name"].strip()
        listed = [i for i in r["ingredients"].split("|") if i and i != rx.INERT]
        mapped = [rx.map_ingredient(i, ids, synonyms) for i in listed]
        ours: frozenset[str] | None = frozenset(m[0] for m in mapped if m)
        if r["complete"].strip() != "yes" or not listed or any(m is None for m in mapped):
            ours = None
        key = name_key(name)
        if key in out and out[key][1] != ours:
            ours = None  # two brands of one name with different sets: RxNorm cannot confirm
        out[key] = (name, ours)
    return out


def read_review(path: Path, ingredients: Iterable[str]) -> tuple[dict[str, str], dict[str, Name]]:
    """The reviewed exclusions (key -> reason) and overrides (key -> row) of the review file."""
    known = set(ingredients)
    table = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    excluded: dict[str, str] = {}
    overrides: dict[str, Name] = {}
    for i, row in enumerate(table.get("exclude", [])):
        where = f"{path.name} exclude #{i + 1}"
        if set(row) != {"name", "reason", "source"} or not all(row.values()):
            raise SystemExit(f"{where}: needs exactly name, reason and source")
        excluded[name_key(row["name"])] = f"{row['reason']} ({row['source']})"
    for i, row in enumerate(table.get("override", [])):
        where = f"{path.name} override #{i + 1}"
        if set(row) != {"name", "ingredients", "reason", "source"} or not all(row.values()):
            raise SystemExit(f"{where}: needs exactly name, ingredients, reason and source")
        unknown = [x for x in row["ingredients"] if x not in known]
        if unknown:
            raise SystemExit(f"{where}: not curated ingredients: {', '.join(unknown)}")
        overrides[name_key(row["name"])] = Name(
            row["name"], tuple(sorted(set(row["ingredients"]))), "brand", ""
        )
    both = set(excluded) & set(overrides)
    if both:
        raise SystemExit(f"{path.name}: both excluded and overridden: {', '.join(sorted(both))}")
    return excluded, overrides


_VERSION = re.compile(r"[^a-z]+$")
_VERSIONS: dict[int, dict[str, list[tuple[str, frozenset[str] | None]]]] = {}


def _unversioned(key: str) -> str:
    """A brand key less the digits and marks that end it ("dianeal pd-2/4.25" -> "dianeal pd")."""
    return _VERSION.sub("", key)


def _versions(
    brands: Mapping[str, tuple[str, frozenset[str] | None]],
) -> dict[str, list[tuple[str, frozenset[str] | None]]]:
    """RxNorm brands ending in a version or strength, by their key without it (made once)."""
    made = _VERSIONS.get(id(brands))
    if made is None:
        made = defaultdict(list)
        for k, (name, ours) in sorted(brands.items()):
            bare = _unversioned(k)
            if bare != k:
                made[bare].append((name, ours))
        _VERSIONS[id(brands)] = made
    return made


def _rxnorm_match(
    key: str, brands: Mapping[str, tuple[str, frozenset[str] | None]]
) -> tuple[str, frozenset[str] | None, bool] | None:
    """RxNorm's brand for a name: the same name, else the longest brand its first words spell
    (RxNorm "Anoro" for "Anoro Ellipta"); (RxNorm name, set, exact?)."""
    if key in brands:
        return brands[key][0], brands[key][1], True
    # "Dianeal Pd-2" for RxNorm's "Dianeal PD-2/4.25" and "PD-2/1.5": the same product in
    # strengths; every one must share the set, or RxNorm cannot confirm it
    versions = _versions(brands).get(_unversioned(key), [])
    if versions:
        sets = {s for _name, s in versions}
        return versions[0][0], sets.pop() if len(sets) == 1 else None, False
    words = key.split()
    for n in range(len(words) - 1, 0, -1):
        stem = " ".join(words[:n])
        if stem in brands:
            return brands[stem][0], brands[stem][1], False
    return None


def generate(
    rows: Iterable[tuple[str, str, str, str]],
    substance: Mapping[str, str],
    curated: Mapping[str, tuple[str, ...]],
    brands: Mapping[str, tuple[str, frozenset[str] | None]],
    excluded: Mapping[str, str],
    overrides: Mapping[str, Name],
) -> Result:
    """Apply the rules to the FDA rows; pure, so tests run it on a few rows."""
    rows = list(rows)
    by_unii: dict[str, str] = {}
    for _name, _kind, unii, display in rows:
        ing = parent_key(display, substance)
        if ing is not None:
            by_unii.setdefault(unii, ing)

    def ingredient(unii: str, display: str) -> str | None:
        return by_unii.get(unii) or parent_key(display, substance)

    # every substance each name points at (None: one we do not curate)
    points: dict[str, list[str | None]] = defaultdict(list)
    shown: dict[str, tuple[str, str, str]] = {}
    components: dict[str, list[str | None]] = defaultdict(list)
    component_shown: dict[str, str] = {}
    for name, kind, unii, display in rows:
        m = COMPONENT.match(name)
        if m and kind == "bn":
            brand = m["brand"]
            if name_key(brand) == name_key(display) or parent_key(brand, substance):
                brand = m["substance"]  # "TENOFOVIR ... COMPONENT DELSTRIGO": the other way
            key = name_key(brand)
            components[key].append(ingredient(unii, display))
            component_shown.setdefault(key, brand.title())
            continue
        if not usable(name):
            continue
        key = name_key(name)
        points[key].append(ingredient(unii, display))
        pretty = name.title() if kind == "bn" else name.lower()
        shown.setdefault(key, (pretty, "brand" if kind == "bn" else "official", unii))

    result = Result(rows={})
    why = result.changed
    for key, comps in components.items():
        shown_name = component_shown[key]
        if not usable(shown_name) or key in curated:
            continue
        own = points.pop(key, [])
        found = [*own, *comps]
        kind, unii = (shown[key][1], shown[key][2]) if key in shown else ("brand", "")
        pretty = shown[key][0] if key in shown else shown_name
        if any(i is None for i in found):
            if any(i is not None for i in own):
                why["components"][pretty] = "dropped: a component is not curated"
            continue
        ings = tuple(sorted({i for i in found if i is not None}))
        was = {i for i in own if i is not None}
        before = "+".join(sorted(was)) or "nothing"
        # The list's components are not always complete (Zutripro lists only hydrocodone,
        # Copalia HCT no amlodipine): the set stands only where RxNorm says the same.
        match = _rxnorm_match(key, brands)
        if match is None or match[1] != frozenset(ings):
            if was:
                why["components"][pretty] = (
                    f"dropped: {before}, a combination ({'+'.join(ings)} listed) "
                    "RxNorm does not confirm"
                )
            continue
        if set(ings) != was:
            why["components"][pretty] = f"{before} -> {'+'.join(ings)} (as RxNorm {match[0]!r})"
        result.rows[key] = Name(pretty, ings, kind, unii)
    for key, found in points.items():
        if key in curated or all(i is None for i in found):
            continue
        pretty, kind, unii = shown[key]
        mapped = {i for i in found if i is not None}
        if len(mapped) > 1:
            result.two_ingredients += 1
            continue
        if len(mapped) < len(set(found)):
            result.not_curated += 1  # the name also stands for a substance we do not curate
            continue
        result.rows[key] = Name(pretty, tuple(sorted(mapped)), kind, unii)

    for key, row in list(result.rows.items()):
        if row.kind != "brand":
            continue
        match = _rxnorm_match(key, brands)
        if match is None:
            continue
        rx_name, rx_set, exact = match
        if rx_set == frozenset(row.ingredients):
            continue
        del result.rows[key]
        how = "" if exact else f" (as {rx_name!r})"
        says = "+".join(sorted(rx_set)) if rx_set else "a set we cannot confirm"
        why["rxnorm"][row.shown] = f"{'+'.join(row.ingredients)}: RxNorm{how} says {says}"

    sets_by_first: dict[str, set[frozenset[str]]] = defaultdict(set)
    every = [(k, frozenset(r.ingredients)) for k, r in result.rows.items()]
    every += [(k, s) for k, (_n, s) in brands.items() if s]
    every += [(k, frozenset(v)) for k, v in curated.items()]
    for k, s in every:
        first, _, rest = k.partition(" ")
        if rest:
            sets_by_first[first].add(s)
    for key, row in list(result.rows.items()):
        words = key.split()
        if row.kind != "brand":
            continue  # an official name is a substance's own ("zinc gluconate")
        if all(w in LINE_WORDS or w.isdigit() for w in words):
            why["ordinary words"][row.shown] = "only words a medication line uses otherwise"
            del result.rows[key]
            continue
        if len(words) == 1:
            others = {s for s in sets_by_first.get(key, set()) if not s & set(row.ingredients)}
            if len(others) >= STEM_SETS:
                why["ordinary words"][row.shown] = (
                    f"a stem of brands of {len(others)} other ingredient sets"
                )
                del result.rows[key]

    for key, reason in excluded.items():
        if key in result.rows:
            row = result.rows.pop(key)
            why["review"][row.shown] = f"dropped: {reason}"
    for key, over in overrides.items():
        if key in curated:
            raise SystemExit(f"{REVIEW_FILE}: {over.shown!r} is a curated name: edit it there")
        old = result.rows.get(key)
        before = "+".join(old.ingredients) if old else "nothing"
        why["review"][over.shown] = f"{before} -> {'+'.join(over.ingredients)}"
        unii = old.unii if old else ""
        result.rows[key] = Name(old.shown if old else over.shown, over.ingredients, "brand", unii)
    return result


def curated_tables(data: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]], list[str]]:
    """Substance keys -> ingredient, curated name keys -> ingredient set, and ingredient ids."""
    sources, _ = read_sources(data)
    substance: dict[str, str] = {}
    curated: dict[str, tuple[str, ...]] = {}
    ids: list[str] = []
    for filename, table in sources.items():
        if filename.startswith("ingredients/"):
            for ing, body in table.items():
                ids.append(ing)
                substance[name_key(ing)] = ing
                curated[name_key(ing)] = (ing,)
                for syn in body.get("synonyms", []):
                    substance.setdefault(name_key(syn), ing)
                    curated[name_key(syn)] = (ing,)
                for brand in body.get("brands", []):
                    curated[name_key(brand)] = (ing,)
        if filename.startswith("products/"):
            for prod in table.get("product", []):
                for n in [prod["name"], *prod.get("also", [])]:
                    curated[name_key(n)] = tuple(sorted(prod["ingredients"]))
    for shared in sources.get("shared-names.toml", {}).get("name", []):
        meanings = {i for m in shared["meanings"] for i in m}
        curated[name_key(shared["name"])] = tuple(sorted(meanings))
    return substance, curated, ids


def render(result: Result, *, rxnorm: str) -> str:
    counts = ", ".join(f"{rule} {len(result.changed[rule])}" for rule in RULES)
    lines = [
        "# generated by scripts/generate_fda_names.py from the FDA UNII Names list "
        "(public domain); do not edit by hand",
        f"# cross-checked against RxNorm brand names ({rxnorm}) and data/{REVIEW_FILE}",
        f"# {len(result.rows)} names; dropped {result.two_ingredients} names claimed by two "
        f"ingredients and {result.not_curated} that also name a substance we do not curate; "
        f"names dropped or changed by rule: {counts}",
        "name\tingredient\tkind\tunii",
    ]
    for r in sorted(result.rows.values(), key=lambda r: (r.shown, r.ingredients)):
        lines.append(f"{r.shown}\t{'+'.join(r.ingredients)}\t{r.kind}\t{r.unii}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", type=Path, help="the gzipped FDA UNII names TSV")
    parser.add_argument("--rxnorm", type=Path, default=None, help="the RxNorm extract")
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="the data folder")
    parser.add_argument(
        "--out", type=Path, default=None, help="default: DATA/generated/fda-names.tsv"
    )
    parser.add_argument("--verbose", action="store_true", help="list every name a rule changed")
    args = parser.parse_args(argv)
    out = args.out or args.data / "generated" / "fda-names.tsv"
    rx = _rxnorm_module()
    rx_path = args.rxnorm or args.source.parent / "rxnorm" / rx.EXTRACT
    if not rx_path.is_file():
        rx_path = rx._default_source()
    if not rx_path.is_file():
        print(f"{rx_path}: RxNorm extract not found (--rxnorm PATH)", file=sys.stderr)
        return 2

    substance, curated, ingredient_ids = curated_tables(args.data)
    rx_ids, rx_synonyms, _ = rx.curated_names(args.data)
    brands = rxnorm_brands(rx.read_extract(rx_path), rx_ids, rx_synonyms)
    excluded, overrides = read_review(args.data / REVIEW_FILE, ingredient_ids)
    with gzip.open(args.source, "rt", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        fda = [(r[0], r[1], r[2], r[3]) for r in reader]
    result = generate(fda, substance, curated, brands, excluded, overrides)
    stale = [k for k in excluded if k not in {name_key(n) for n in result.changed["review"]}]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(result, rxnorm=rx_path.name), encoding="utf-8")
    n_ings = len({i for r in result.rows.values() for i in r.ingredients})
    print(f"wrote {len(result.rows)} names for {n_ings} ingredients to {out}")
    print(
        f"  dropped {result.two_ingredients} names claimed by two ingredients, "
        f"{result.not_curated} that also name a substance we do not curate"
    )
    tally = Counter({rule: len(result.changed[rule]) for rule in RULES})
    for rule in RULES:
        print(f"  rule {rule}: {tally[rule]} names dropped or changed")
        if args.verbose:
            for name, reason in sorted(result.changed[rule].items()):
                print(f"    {name}: {reason}")
    for key in stale:
        print(f"  warning: {REVIEW_FILE} excludes {key!r}, which no rule left to exclude")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
