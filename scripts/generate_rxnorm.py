"""Generate data/generated/rxnorm-codes.tsv from NLM's RxNorm Current Prescribable Content.

usage: python scripts/generate_rxnorm.py [PATH/TO/rxnorm-prescribable-2025-10.tsv.gz] [--verbose]

Maps RxNorm codes (SCD, SBD, GPCK, BPCK, SCDC, BN, IN, PIN, MIN) to our curated ingredients.
A code is kept only when every one of its ingredients maps to a curated ingredient: an
unmapped ingredient skips the whole code, never just that ingredient (no silent subset).
Rows the extract marks `complete = no` may be missing an ingredient and are always skipped.
The output is sorted by code, so regenerating gives a clean diff.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ketcheck.kb.load import read_sources  # noqa: E402
from ketcheck.matching.normalise import name_key  # noqa: E402

RELEASE = "2025-10-06"
EXTRACT = "rxnorm-prescribable-2025-10.tsv.gz"
OUT_NAME = "generated/rxnorm-codes.tsv"
TTYS = ("IN", "PIN", "MIN", "SCDC", "SCD", "SBD", "BN", "GPCK", "BPCK")
PACKS = ("GPCK", "BPCK")
# The placebo tablets of a pack; they carry no substance to check.
INERT = "inert ingredients"

# RxNorm ingredient names whose parent is one of ours under another name, reviewed one by one
# (RxNorm name -> our ingredient id). Anything not listed here maps only by our id itself,
# a curated synonym naming exactly one ingredient, or our id plus salt words.
ALIASES: Mapping[str, str] = {
    "glycopyrronium": "glycopyrrolate",
    "insulin, regular, human": "insulin regular",
    "insulin aspart, human": "insulin aspart",
    "insulin glulisine, human": "insulin glulisine",
    "insulin isophane, human": "insulin isophane",
    "isosorbide": "isosorbide mononitrate",  # RxNorm's ingredient of isosorbide mononitrate
    "mefenamate": "mefenamic acid",
    "ursodeoxycholate": "ursodiol",
    "mycophenolic acid": "mycophenolate",
    "penicillin G": "penicillin",
    "penicillin V": "penicillin",
    "vitamin K1": "phytonadione",
    "thyroid (USP)": "thyroid",
    "sennosides, USP": "senna",
    "polyethylene glycol 3350": "polyethylene glycol",
    "estrogens, conjugated (USP)": "conjugated estrogens",
    "cholestyramine resin": "cholestyramine",
    "chondroitin sulfates": "chondroitin",
    "vasopressin (USP)": "vasopressin",
    "salmon calcitonin": "calcitonin",
    "darbepoetin alfa": "darbepoetin",
    "certolizumab pegol": "certolizumab",
    "dabigatran etexilate": "dabigatran",
    "fish oil (containing omega-3 acids)": "fish oil",
}
# Words that name the salt, ester or hydrate of a parent (as in generate_fda_names.py).
SALT_WORDS = frozenset(
    """
    hydrochloride hydrobromide sulfate bisulfate tartrate bitartrate carbonate citrate
    sodium potassium maleate mesylate besylate succinate fumarate acetate phosphate bromide
    lactate gluconate malate pamoate decanoate enanthate cypionate valerate propionate
    dipropionate furoate monohydrate dihydrate hyclate mofetil disoproxil alafenamide
    """.split()
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One code of the output table."""

    rxcui: str
    tty: str
    ingredients: tuple[str, ...]
    canonical: bool
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The rows to write, and why every other row of the extract was skipped."""

    rows: tuple[Row, ...]
    skipped: Mapping[str, int]
    skipped_incomplete: frozenset[str]
    unmapped: Mapping[str, int]
    mapped_by: Mapping[str, str]
    warnings: tuple[str, ...]


def curated_names(data: Path) -> tuple[dict[str, str], dict[str, set[str]], dict[str, set[str]]]:
    """Our ingredient ids by key, synonym keys and brand/product keys to ingredient ids."""
    sources, _ = read_sources(data)
    ids: dict[str, str] = {}
    synonyms: dict[str, set[str]] = defaultdict(set)
    brands: dict[str, set[str]] = defaultdict(set)
    for filename, table in sources.items():
        if filename.startswith("ingredients/"):
            for ing, body in table.items():
                ids[name_key(ing)] = ing
                for syn in body.get("synonyms", []):
                    synonyms[name_key(syn)].add(ing)
                for brand in body.get("brands", []):
                    brands[name_key(brand)].add(ing)
        if filename.startswith("products/"):
            for prod in table.get("product", []):
                for n in [prod["name"], *prod.get("also", [])]:
                    brands[name_key(n)].update(prod["ingredients"])
    return ids, synonyms, brands


def map_ingredient(
    rx_name: str, ids: Mapping[str, str], synonyms: Mapping[str, set[str]]
) -> tuple[str, str] | None:
    """Our ingredient id for an RxNorm ingredient name and how it was found, or None."""
    key = name_key(rx_name)
    if key in ids:
        return ids[key], "id"
    if rx_name in ALIASES:
        return ALIASES[rx_name], "alias"
    hits = synonyms.get(key, set())
    if len(hits) == 1:
        return next(iter(hits)), "synonym"
    words = key.split()
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words.pop()
        if " ".join(words) in ids:
            return ids[" ".join(words)], "salt"
    return None


def _rx_ingredients(tty: str, name: str, listed: list[str]) -> list[str] | None:
    """The RxNorm ingredient names a code stands for, or None when the extract cannot say.

    The extract's lists of MIN and PIN codes are gathered across every product that uses
    them, so for those the code's own name decides: a MIN names its ingredients, and a PIN
    is the salt of exactly one of them.
    """
    if tty == "MIN":
        named = [part.strip() for part in name.split(" / ")]
        return named if set(named) <= set(listed) else None
    if tty == "PIN":
        if len(listed) == 1:
            return listed
        lowered = name.lower()
        parents = [i for i in listed if lowered.startswith(i.lower() + " ")]
        return parents if len(parents) == 1 else None
    return [i for i in listed if i != INERT]


def generate(
    rows: Iterable[Mapping[str, str]],
    ids: Mapping[str, str],
    synonyms: Mapping[str, set[str]],
    brands: Mapping[str, set[str]],
) -> Result:
    """Map every usable code of the extract; pure, so tests run it on a small fixture."""
    skipped: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    incomplete: set[str] = set()
    mapped_by: dict[str, str] = {}
    warnings: list[str] = []
    out: list[Row] = []
    ins_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    seen: set[str] = set()
    for r in rows:
        rxcui, tty, name = r["rxcui"].strip(), r["tty"].strip(), r["name"].strip()
        if not rxcui.isdigit() or rxcui in seen:
            skipped["bad or repeated code"] += 1
            continue
        seen.add(rxcui)
        if tty not in TTYS:
            skipped[f"term type {tty}"] += 1
            continue
        if r["complete"].strip() != "yes":
            skipped["complete=no (may lack an ingredient)"] += 1
            incomplete.add(rxcui)
            continue
        listed = [i for i in r["ingredients"].split("|") if i]
        names = _rx_ingredients(tty, name, listed)
        if names is None:
            skipped[f"{tty} name disagrees with its ingredient list"] += 1
            continue
        if not names:
            skipped["no active ingredient"] += 1
            continue
        ours: set[str] = set()
        missing = []
        for n in names:
            found = map_ingredient(n, ids, synonyms)
            if found is None:
                missing.append(n)
                continue
            ours.add(found[0])
            mapped_by.setdefault(n, f"{found[0]} ({found[1]})")
        if missing:
            skipped["an ingredient is not curated"] += 1
            for n in missing:
                unmapped[n] += 1
            continue
        ings = tuple(sorted(_specific(ours, name, ids)))
        if tty == "BN":
            claimed = brands.get(name_key(name))
            if claimed and claimed != set(ings):
                warnings.append(
                    f"BN {rxcui} {name}: RxNorm says {'+'.join(ings)}, "
                    f"our curated name says {'+'.join(sorted(claimed))}; skipped"
                )
                skipped["BN disagrees with a curated brand"] += 1
                continue
        if tty == "IN":
            ins_of[ings[0]].append((rxcui, name))
        out.append(Row(rxcui=rxcui, tty=tty, ingredients=ings, canonical=False, name=name))
    canonical = {_canonical(ing, codes) for ing, codes in ins_of.items()} - {None}
    rows_out = tuple(
        sorted(
            (
                Row(
                    rxcui=x.rxcui,
                    tty=x.tty,
                    ingredients=x.ingredients,
                    canonical=x.rxcui in canonical,
                    name=x.name,
                )
                for x in out
            ),
            key=lambda x: int(x.rxcui),
        )
    )
    return Result(
        rows=rows_out,
        skipped=dict(skipped),
        skipped_incomplete=frozenset(incomplete),
        unmapped=dict(unmapped),
        mapped_by=mapped_by,
        warnings=tuple(warnings),
    )


def _specific(ours: set[str], name: str, ids: Mapping[str, str]) -> set[str]:
    """Each ingredient, or the more specific curated one the code's name spells out.

    RxNorm files a prodrug ester under its parent (gabapentin enacarbil under gabapentin);
    when we curate the ester separately and the name says it, the name's ingredient is meant.
    """
    key = f" {name_key(name)} "
    out = set()
    for ing in ours:
        longer = [
            v for k, v in ids.items() if k.startswith(name_key(ing) + " ") and f" {k} " in key
        ]
        out.add(max(longer, key=len) if longer else ing)
    return out


def _canonical(ingredient: str, codes: list[tuple[str, str]]) -> str | None:
    """The ingredient's own RxNorm code: the IN named like it, else its only IN."""
    exact = [c for c, n in codes if name_key(n) == name_key(ingredient)]
    if len(exact) == 1:
        return exact[0]
    return codes[0][0] if len(codes) == 1 else None


def render(result: Result, *, source: str) -> str:
    """The output file: header comments naming source, release and gap, then sorted rows."""
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(result.skipped.items()))
    lines = [
        f"# generated by scripts/generate_rxnorm.py from {source}: RxNorm Current Prescribable "
        f"Content, release {RELEASE} (RxNorm, U.S. National Library of Medicine; SAB=RXNORM, no "
        "licence restriction); do not edit by hand",
        "# gap: the extract lacks single-ingredient products of ingredients whose names begin "
        "with A (e.g. alprazolam); codes marked complete=no are never used",
        f"# release {RELEASE}; {len(result.rows)} codes; skipped: {skipped}",
        "rxcui\ttty\tingredients\tcanonical\tname",
    ]
    for r in result.rows:
        flag = "yes" if r.canonical else ""
        lines.append(f"{r.rxcui}\t{r.tty}\t{'+'.join(r.ingredients)}\t{flag}\t{r.name}")
    return "\n".join(lines) + "\n"


def read_extract(path: Path) -> list[dict[str, str]]:
    """The extract's rows as dicts (gzip or plain TSV)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _default_source() -> Path:
    for shared in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        candidate = shared / "data" / "rxnorm" / EXTRACT
        if candidate.is_file():
            return candidate
    return ROOT.parent / "shared" / "data" / "rxnorm" / EXTRACT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("source", type=Path, nargs="?", default=_default_source())
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="the data folder")
    parser.add_argument("--out", type=Path, default=None, help=f"default: DATA/{OUT_NAME}")
    parser.add_argument("--verbose", action="store_true", help="list every non-identity mapping")
    args = parser.parse_args(argv)
    out = args.out or args.data / OUT_NAME
    if not args.source.is_file():
        print(f"{args.source}: not found", file=sys.stderr)
        return 2
    ids, synonyms, brands = curated_names(args.data)
    result = generate(read_extract(args.source), ids, synonyms, brands)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(result, source=args.source.name), encoding="utf-8")
    by_tty = Counter(r.tty for r in result.rows)
    covered = {i for r in result.rows for i in r.ingredients}
    print(f"wrote {len(result.rows)} codes to {out} for {len(covered)} ingredients")
    print("  mapped by term type: " + ", ".join(f"{t} {by_tty[t]}" for t in TTYS))
    for why, n in sorted(result.skipped.items(), key=lambda kv: -kv[1]):
        print(f"  skipped {n}: {why}")
    top = sorted(result.unmapped.items(), key=lambda kv: -kv[1])[:15]
    print("  most frequent uncurated ingredients: " + ", ".join(f"{n} ({c})" for n, c in top))
    for w in result.warnings:
        print(f"  warning: {w}")
    if args.verbose:
        for rx, ours in sorted(result.mapped_by.items()):
            if not ours.endswith("(id)"):
                print(f"  {rx} -> {ours}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
