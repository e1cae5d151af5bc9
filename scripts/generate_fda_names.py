"""Generate data/generated/fda-names.tsv from the FDA UNII Names list (public domain).

usage: python scripts/generate_fda_names.py PATH/TO/fda-unii-brand-and-official-names.tsv.gz

Keeps only names whose substance is one of our curated ingredients (after mapping salts to the
parent), so the table adds brand and official names for drugs we have reviewed and never
introduces an unreviewed substance. Curated names always win; a name the FDA list gives to two
different ingredients is dropped. The output is sorted, so regenerating gives a clean diff.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ketcheck.kb.load import read_sources  # noqa: E402
from ketcheck.matching.normalise import name_key  # noqa: E402

OUT = ROOT / "data" / "generated" / "fda-names.tsv"

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


def parent_key(display: str, known: dict[str, str]) -> str | None:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the gzipped FDA UNII names TSV")
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="the data folder")
    parser.add_argument(
        "--out", type=Path, default=None, help="default: DATA/generated/fda-names.tsv"
    )
    args = parser.parse_args()
    args.out = args.out or args.data / "generated" / "fda-names.tsv"

    sources, _ = read_sources(args.data)
    sources.pop("generated/fda-names.tsv", None)
    # Generic names and synonyms identify substances; brand names of our own are kept to
    # make sure the generated table never contradicts them.
    substance: dict[str, str] = {}
    curated: dict[str, str] = {}
    for filename, table in sources.items():
        if filename.startswith("ingredients/"):
            for ing, body in table.items():
                substance[name_key(ing)] = ing
                curated[name_key(ing)] = ing
                for syn in body.get("synonyms", []):
                    substance.setdefault(name_key(syn), ing)
                    curated[name_key(syn)] = ing
                for brand in body.get("brands", []):
                    curated[name_key(brand)] = ing
        if filename.startswith("products/"):
            for prod in table.get("product", []):
                for n in [prod["name"], *prod.get("also", [])]:
                    curated[name_key(n)] = "+".join(sorted(prod["ingredients"]))

    by_unii: dict[str, str] = {}
    rows: list[tuple[str, str, str, str]] = []
    with gzip.open(args.source, "rt", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        for name, kind, unii, display in reader:
            rows.append((name, kind, unii, display))
            ing = parent_key(display, substance)
            if ing is not None:
                by_unii.setdefault(unii, ing)

    targets: dict[str, set[str]] = defaultdict(set)
    shown: dict[str, tuple[str, str, str]] = {}
    for name, kind, unii, display in rows:
        ing = by_unii.get(unii) or parent_key(display, substance)
        if ing is None or not usable(name):
            continue
        key = name_key(name)
        if key in curated:
            continue
        targets[key].add(ing)
        pretty = name.title() if kind == "bn" else name.lower()
        shown.setdefault(key, (pretty, "brand" if kind == "bn" else "official", unii))

    out_rows = sorted(
        (shown[k][0], next(iter(v)), shown[k][1], shown[k][2])
        for k, v in targets.items()
        if len(v) == 1
    )
    dropped = sum(len(v) > 1 for v in targets.values())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# generated by scripts/generate_fda_names.py from the FDA UNII Names list "
            "(public domain); do not edit by hand\n"
        )
        fh.write("name\tingredient\tkind\tunii\n")
        for r in out_rows:
            fh.write("\t".join(r) + "\n")
    print(
        f"wrote {len(out_rows)} names for {len({r[1] for r in out_rows})} ingredients "
        f"to {args.out}; dropped {dropped} names claimed by two ingredients"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
