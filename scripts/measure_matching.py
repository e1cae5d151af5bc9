"""Measure name resolution on the labelled evaluation set, and compare fuzzy-matching policies.

usage: python scripts/measure_matching.py [tests/eval/names.tsv] [--sweep] [--verbose]

Prints accuracy per category and the number of *silent wrong* resolutions: entries resolved to
ingredients other than the label (or resolved at all when the label is UNRESOLVED). A wrong
answer that is shown as ambiguous or unresolved is a miss, not a silent error.
With --sweep, tries each scorer and a grid of thresholds and margins and prints a table, which
is how data/matching.toml was chosen.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ketcheck.kb.knowledge import KnowledgeBase  # noqa: E402
from ketcheck.matching.resolve import Resolver  # noqa: E402
from ketcheck.model import Resolved  # noqa: E402

DEFAULT_SET = ROOT / "tests" / "eval" / "names.tsv"
# Minimum accuracy per category that the test suite holds the bundled data to.
FLOORS = {
    "brand": 0.97,
    "combo": 0.9,
    "intl": 0.85,
    "misspell": 0.85,
    "sig": 0.94,
    "supplement": 0.85,
    "lasa": 0.8,
    "unknown": 1.0,
    "common": 0.95,
}
# Label spellings that name the same parent substance as our ingredient ids.
ALIASES = {
    "paracetamol": "acetaminophen",
    "rifampicin": "rifampin",
    "pethidine": "meperidine",
    "divalproex": "valproate",
    "valproic acid": "valproate",
    "divalproex sodium": "valproate",
    "ethanol": "alcohol",
    "marijuana": "cannabis",
    "thc": "cannabis",
    "grapefruit juice": "grapefruit",
    "hypericum": "st johns wort",
    "st john's wort": "st johns wort",
    "oxybate": "sodium oxybate",
    "midomafetamine": "mdma",
    "salbutamol": "albuterol",
    "frusemide": "furosemide",
    "glibenclamide": "glyburide",
    "dexamfetamine": "dextroamphetamine",
    "lithium carbonate": "lithium",
}


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    text: str
    expected: frozenset[str] | None  # None = must stay unresolved or ambiguous
    forbidden: str


def canon(name: str) -> str:
    n = " ".join(name.strip().lower().replace("’", "'").split())
    return ALIASES.get(n, n)


def load_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, text, exp, forbid = ([*line.split("\t"), "", "", ""])[:4]
        expected = None if exp == "UNRESOLVED" else frozenset(canon(e) for e in exp.split("+"))
        cases.append(Case(kind=kind, text=text, expected=expected, forbidden=canon(forbid)))
    return cases


@dataclass(frozen=True, slots=True)
class Score:
    per_kind: dict[str, tuple[int, int]]
    silent_wrong: list[str]
    misses: list[str]

    def accuracy(self, kind: str) -> float:
        ok, total = self.per_kind[kind]
        return ok / total if total else 1.0


def score(kb: KnowledgeBase, cases: list[Case]) -> Score:
    resolver = Resolver(kb)
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    silent, misses = [], []
    for c in cases:
        _, r = resolver.resolve(c.text)
        got = frozenset(canon(i) for i in r.ingredients) if isinstance(r, Resolved) else None
        per[c.kind][1] += 1
        if c.expected is None:
            ok = got is None
            if not ok:
                silent.append(
                    f"{c.kind}: {c.text!r} -> {sorted(got or [])} (should stay unresolved)"
                )
        else:
            ok = got == c.expected
            if got is not None and not ok:
                silent.append(f"{c.kind}: {c.text!r} -> {sorted(got)} (want {sorted(c.expected)})")
        if c.forbidden and got is not None and c.forbidden in got:
            silent.append(f"{c.kind}: {c.text!r} -> look-alike {c.forbidden}")
        if ok:
            per[c.kind][0] += 1
        else:
            shown = sorted(got) if got is not None else type(r).__name__.lower()
            misses.append(
                f"{c.kind}: {c.text!r} -> {shown}; want "
                f"{sorted(c.expected) if c.expected else 'UNRESOLVED'}"
            )
    return Score(
        per_kind={k: (v[0], v[1]) for k, v in per.items()}, silent_wrong=silent, misses=misses
    )


def report(s: Score) -> str:
    lines = []
    for kind in sorted(s.per_kind):
        ok, total = s.per_kind[kind]
        floor = FLOORS.get(kind, 0.9)
        mark = "ok" if ok / total >= floor else "SHORT"
        lines.append(f"{kind:10s} {ok:4d}/{total:<4d} {ok / total:6.1%}  floor {floor:.0%}  {mark}")
    ok = sum(v[0] for v in s.per_kind.values())
    total = sum(v[1] for v in s.per_kind.values())
    lines.append(
        f"overall    {ok:4d}/{total:<4d} {ok / total:6.1%}; silent wrong: {len(s.silent_wrong)}"
    )
    return "\n".join(lines)


def sweep(kb: KnowledgeBase, cases: list[Case]) -> None:
    print(
        f"{'scorer':13s} {'thr':>4s} {'margin':>6s} {'window':>6s}  accuracy  silent  misspell  lasa"
    )
    for scorer in ("ratio", "levenshtein", "jaro_winkler", "blend", "wratio"):
        for threshold in (80.0, 85.0, 88.0):
            for margin in (4.0, 6.0, 8.0):
                for window in (10.0, 15.0, 20.0):
                    m = replace(
                        kb.matching,
                        scorer=scorer,
                        threshold=threshold,
                        margin=margin,
                        lookalike_window=window,
                    )
                    s = score(replace(kb, matching=m), cases)
                    ok = sum(v[0] for v in s.per_kind.values())
                    total = sum(v[1] for v in s.per_kind.values())
                    print(
                        f"{scorer:13s} {threshold:4.0f} {margin:6.0f} {window:6.0f}  "
                        f"{ok / total:8.1%}  {len(s.silent_wrong):6d}  "
                        f"{s.accuracy('misspell'):8.1%}  {s.accuracy('lasa'):5.1%}"
                    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="?", type=Path, default=DEFAULT_SET)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    from ketcheck.kb.load import compile_knowledge, data_root

    kb = compile_knowledge(data_root())
    cases = load_cases(args.cases)
    if args.sweep:
        sweep(kb, cases)
        return 0
    s = score(kb, cases)
    print(report(s))
    for line in s.silent_wrong:
        print("SILENT WRONG", line)
    if args.verbose:
        for line in s.misses:
            print("miss", line)
    short = any(s.accuracy(k) < FLOORS.get(k, 0.9) for k in s.per_kind)
    return 1 if s.silent_wrong or short else 0


if __name__ == "__main__":
    raise SystemExit(main())
