"""Seeded, reproducible benchmark inputs: realistic lists drawn from the lexicon, and the old mix.

Realistic means what clinic lists look like: names drawn from ketcheck's own curated lexicon
(generics, brands, synonyms, products) with a few common drugs repeated often (Zipf popularity),
about 1 line in 5 a sig line ("sertraline 50 mg BID"), about 1 in 10 a fresh typo (a new
misspelling, never cached), and per-patient list lengths from 1 to 25 (median about 5).
The cache-hit mix is the 20-line set bench used before; it repeats the same 156 distinct lines.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path

# The old bench mix, kept to measure the cache-hit case (156 distinct lines in 20,000).
CACHE_HIT_MIX = [
    "sertraline 100 mg daily",
    "Klonopin 0.5mg BID",
    "gabapentin",
    "Lamictal 200 mg",
    "lisinopril 10mg",
    "atorvastatin",
    "Wellbutrin XL 300 mg",
    "trazadone 50mg hs",
    "Adderall XR 20 mg",
    "escitalopram",
    "metformin 500 mg BID",
    "quetiapine 25 mg",
    "levothyroxine 75 mcg",
    "buproprion",
    "Percocet 5/325",
    "lorazapam 1 mg",
    "omeprazole 20mg",
    "Vyvanse",
    "duloxetine 60 mg",
    "hydroxyzine 25 mg prn",
]

TYPO_RATE = 0.10
SIG_RATE = 0.20
_STRENGTHS = ["0.5", "1", "2", "5", "10", "20", "25", "50", "100", "200", "300", "500"]
_UNITS = ["mg", "mg", "mg", "mcg"]
_SIGS = ["daily", "BID", "TID", "qhs", "PRN", "once daily", "twice daily", "at bedtime", "prn"]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


_PYTHON: list[str] = []


def use_python(python: str) -> None:
    """Read the lexicon through this interpreter (the ketcheck install being measured)."""
    _PYTHON[:] = [python]
    lexicon_names.cache_clear()


_NAMES = (
    "import json\n"
    "from ketcheck.kb.load import load_bundled\n"
    "names = {e[0] for es in load_bundled().lexicon.names.values() for e in es if e[3] != 'fda-unii'}\n"
    "print(json.dumps(sorted(names)))\n"
)


@cache
def lexicon_names() -> tuple[str, ...]:
    """Display names of every curated lexicon entry (the generated FDA names are left out)."""
    if _PYTHON:
        out = subprocess.run([*_PYTHON, "-c", _NAMES], capture_output=True, text=True, check=True)
        return tuple(json.loads(out.stdout))
    scope: dict[str, object] = {}
    with contextlib.redirect_stdout(io.StringIO()) as buf:
        exec(_NAMES, scope)
    return tuple(json.loads(buf.getvalue()))


@dataclass(slots=True)
class Lines:
    """A stream of realistic medication lines; one generator per seed."""

    rnd: random.Random
    names: list[str]
    cum_weights: list[float]

    @classmethod
    def seeded(cls, seed: int) -> Lines:
        """Names in a seeded popularity order: the i-th most common is drawn with weight 1/i."""
        rnd = random.Random(seed)
        names = list(lexicon_names())
        rnd.shuffle(names)
        return cls(
            rnd=rnd,
            names=names,
            cum_weights=list(accumulate(1.0 / (i + 1) for i in range(len(names)))),
        )

    def typo(self, name: str) -> str:
        """One fresh edit (delete, substitute, insert, transpose) after the first letter."""
        rnd = self.rnd
        if len(name) < 4:
            return name + rnd.choice(_LETTERS)
        i = rnd.randrange(1, len(name) - 1)
        kind = rnd.randrange(4)
        if kind == 0:
            return name[:i] + name[i + 1 :]
        if kind == 1:
            return name[:i] + rnd.choice(_LETTERS) + name[i + 1 :]
        if kind == 2:
            return name[:i] + rnd.choice(_LETTERS) + name[i:]
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]

    def line(self) -> str:
        """One medication line."""
        rnd = self.rnd
        name = rnd.choices(self.names, cum_weights=self.cum_weights)[0]
        if rnd.random() < TYPO_RATE:
            name = self.typo(name)
        if rnd.random() < SIG_RATE:
            name = f"{name} {rnd.choice(_STRENGTHS)} {rnd.choice(_UNITS)} {rnd.choice(_SIGS)}"
        return name

    def list_length(self) -> int:
        """Medicines on one patient's list: 1 to 25, median about 5."""
        return max(1, min(25, round(self.rnd.lognormvariate(1.6, 0.6))))


def realistic_lines(n: int, seed: int = 7) -> list[str]:
    """`n` realistic lines."""
    gen = Lines.seeded(seed)
    return [gen.line() for _ in range(n)]


def cache_hit_lines(n: int, seed: int = 7) -> list[str]:
    """The old mix: 20 lines, with one in ten losing a letter among its first eight."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        s = rnd.choice(CACHE_HIT_MIX)
        if rnd.random() < 0.1:
            i = rnd.randrange(1, max(2, min(len(s), 8)))
            s = s[:i] + s[i + 1 :]
        out.append(s)
    return out


def patients(rows: int, seed: int = 11, reappear: float = 0.05) -> Iterator[tuple[str, str]]:
    """(patient_id, medication) rows: each patient's rows together, but in `reappear` of patients
    one row turns up again later in the file (a second export appended, a late addition)."""
    gen = Lines.seeded(seed)
    late: list[tuple[str, str]] = []
    made = number = 0
    while made < rows:
        number += 1
        pid = f"P{number:07d}"
        for _ in range(min(gen.list_length(), rows - made)):
            made += 1
            row = (pid, gen.line())
            if gen.rnd.random() < reappear / 5:
                late.append(row)
            else:
                yield row
        if len(late) > 50 or made >= rows:
            yield from late
            late.clear()


def write_csv(path: Path, rows: int, seed: int = 11) -> dict[str, int]:
    """A batch CSV of `rows` realistic rows; returns its counts."""
    distinct: set[str] = set()
    ids: set[str] = set()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("patient_id,medication\n")
        for pid, med in patients(rows, seed):
            fh.write(f'{pid},"{med}"\n')
            if len(distinct) < 2_000_000:
                distinct.add(med)
            ids.add(pid)
    return {"rows": rows, "patients": len(ids), "distinct_lines": len(distinct)}


def write_jsonl(path: Path, rows: int, seed: int = 11) -> dict[str, int]:
    """The same rows as JSON Lines, one record per patient (reappearing rows join their patient)."""
    by_patient: dict[str, list[str]] = {}
    for pid, med in patients(rows, seed):
        by_patient.setdefault(pid, []).append(med)
    distinct = {m for meds in by_patient.values() for m in meds}
    with open(path, "w", encoding="utf-8") as fh:
        for pid, meds in by_patient.items():
            fh.write(json.dumps({"patient_id": pid, "medications": meds}) + "\n")
    return {"rows": rows, "patients": len(by_patient), "distinct_lines": len(distinct)}
