"""Dose arithmetic: per dose and per day from the sig, equivalents, and what dose facts add."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from ketcheck.engine.derived import Derived
from ketcheck.engine.sig import PRN, TIMES, undot
from ketcheck.kb.patient import PatientTables
from ketcheck.matching.normalise import clean_text
from ketcheck.model import Finding, FindingKind, Medication, Severity
from ketcheck.patient import Amount, Dose, Equivalent, EquivalentKind, IngredientDose

_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)"
_MASS = re.compile(
    rf"(?<![\d.])(?P<first>{_NUM})(?P<more>(?:\s*[/-]\s*{_NUM})*)\s*"
    r"(?P<unit>mg|mgs|mcg|mcgs|ug|g|gm|grams?|milligrams?|micrograms?)(?![a-z])"
    rf"(?:\s*/\s*(?P<per_n>{_NUM})?\s*(?P<per>ml|cc|kg|h|hr|hrs|hour|24\s*h(?:r|rs|ours?)?|day|d)\b)?"
)
_BARE_COMBO = re.compile(
    rf"(?<![\d./])(?P<a>{_NUM})\s*/\s*(?P<b>{_NUM})(?![\d.]|\s*(?:ml|cc|h\b|hr))"
)
_VOLUME = re.compile(rf"(?<![\d./])(?P<n>{_NUM})\s*(?:ml|cc|mls)\b")
_COUNT = re.compile(
    rf"(?<![\d./])(?:(?P<fa>\d+)\s*/\s*(?P<fb>\d+)|(?P<n>{_NUM}|half(?:\s+a)?|one|two|three|four))"
    rf"(?:\s*(?:-|to|or)\s*(?P<hi>{_NUM}|two|three|four))?\s*"
    r"(?P<what>tabs?|tablets?|caps?|capsules?|pills?|puffs?|sprays?|films?|lozenges?|troches?|"
    r"patch(?:es)?|drops?|sachets?|wafers?)\b"
)
_QH = re.compile(
    rf"\b(?:q|every)\s*(?P<a>{_NUM})(?:\s*(?:-|to)\s*(?P<b>{_NUM}))?\s*(?:h|hr|hrs|hours?)\b"
)
_MAX = re.compile(
    rf"\b(?:max(?:imum)?|not more than|no more than|up to|do not exceed)\s*(?:of\s*)?(?P<n>{_NUM})\s*"
    r"(?P<u>mg|mcg|tabs?|tablets?|caps?|capsules?|doses?|times|x|pills?)?\s*"
    r"(?:/|per|a|in|each|every)\s*(?:day|24\s*h(?:ours?|rs?)?|d)\b"
)
_RELEASE = re.compile(r"\b(?:er|xr|xl|sr|cr|la|cd|extended|sustained|controlled|24\s*hr?)\b")
_WORDS = {
    "half": 0.5,
    "half a": 0.5,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Sig:
    per_day: float | None
    when: str | None
    prn: bool
    notes: tuple[str, ...]


def _number(text: str) -> float:
    text = text.strip()
    return float(_WORDS[text]) if text in _WORDS else float(text)


def _to_mg(value: float, unit: str) -> float:
    if unit.startswith(("mcg", "ug", "micro")):
        return value / 1000.0
    if unit in ("g", "gm", "gram", "grams"):
        return value * 1000.0
    return value


def _fmt(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def _frequency(t: str, tables: PatientTables) -> tuple[float | None, str | None, list[str]]:
    """Administrations per day (the most the sig allows) and when a once-daily dose is due."""
    notes: list[str] = []
    found: list[tuple[int, float, str | None, str]] = []
    for m in _QH.finditer(t):
        a = float(m.group("a"))
        b = float(m.group("b")) if m.group("b") else a
        if a > 0:
            found.append((m.start(), 24.0 / min(a, b), None, m.group(0)))
    for m in TIMES.finditer(t):
        n = m.group("n") or m.group("m")
        found.append((m.start(), _number(n), None, m.group(0)))
    for m in _phrases(tables).finditer(t):
        phrase = m.group(0)
        if any(s <= m.start() < s + len(txt) for s, _, _, txt in found):
            continue
        freq = tables.frequencies[phrase]
        found.append((m.start(), freq.per_day, freq.when, phrase))
        if freq.error_prone:
            notes.append(
                f"'{phrase.upper()}' is on the ISMP error-prone list: read as "
                f"{_how_often(freq.per_day)}"
            )
    if not found:
        return None, None, notes
    found.sort()
    _start, per_day, when, _ = found[0]
    others = {round(f[1], 4) for f in found[1:] if f[1] != per_day and f[2] is None}
    if others:
        notes.append("the sig gives more than one frequency: the first was used")
    return per_day, when, notes


@cache
def _phrases(tables: PatientTables) -> re.Pattern[str]:
    """One pattern for every sig phrase in the table, longest first."""
    alternatives = "|".join(
        re.escape(p) for p in sorted(tables.frequencies, key=lambda p: (-len(p), p))
    )
    return re.compile(rf"(?<![a-z0-9/])(?:{alternatives})(?![a-z0-9])")


def _max_cap(t: str) -> tuple[float | None, str | None]:
    m = _MAX.search(t)
    if m is None:
        return None, None
    unit = (m.group("u") or "doses").rstrip("s")
    kind = (
        "mg"
        if unit in ("mg", "mcg")
        else "units"
        if unit in ("tab", "tablet", "cap", "capsule", "pill")
        else "doses"
    )
    value = float(m.group("n"))
    if unit == "mcg":
        value /= 1000.0
    return value, kind


def _normal(text: str) -> str:
    t = " ".join(clean_text(text).casefold().replace("µg", "mcg").split())
    return undot(t)


def _how_often(per_day: float) -> str:
    """A frequency as a reader checks it: "2 a week" for BIW, not "0.286 a day"."""
    per_week = per_day * 7
    if per_day < 1 and abs(per_week - round(per_week)) < 1e-6:
        return f"{round(per_week)} a week"
    return f"{_fmt(per_day)} a day"


def read_dose(
    text: str,
    ingredients: Sequence[str],
    opioid: Callable[[str], bool],
    tables: PatientTables,
    *,
    name: str = "",
) -> Dose | None:
    """The dose a medication line states, or None when it states nothing about amount or timing.

    `name` is the drug name as the line gives it: its words are never read as timing ("Advil
    PM" is not an evening dose, "lion's mane" not a morning one).
    """
    if not ingredients:
        return None
    t = _normal(text)
    timing = t
    if name:
        own = _normal(name)
        if own and own in t:
            timing = t.replace(own, " " * len(own), 1)  # places kept: they order what is found
    notes: list[str] = []
    per_day, when, fnotes = _frequency(timing, tables)
    notes += fnotes
    prn = PRN.search(timing) is not None
    if per_day is None and not prn and not any(map(str.isdigit, t)):
        return None
    mass = _MASS.search(t)
    numbers: list[float] = []
    rate: str | None = None
    concentration: float | None = None
    if mass is not None:
        numbers = [float(mass.group("first"))]
        numbers += [float(x) for x in re.findall(_NUM, mass.group("more") or "")]
        raw_unit = mass.group("unit")
        per = (mass.group("per") or "").replace(" ", "")
        if per in ("ml", "cc"):
            per_n = float(mass.group("per_n") or 1)
            concentration = _to_mg(numbers[0], raw_unit) / per_n
        elif per == "kg":
            notes.append("weight-based dose (per kg): the amount per dose is unknown")
            numbers = []
        elif per in ("h", "hr", "hrs", "hour"):
            rate = "mcg/h" if raw_unit.startswith(("mcg", "ug", "micro")) else "mg/h"
        elif per.startswith("24") or per in ("day", "d"):
            rate = "per-day"
        if (rate is None and concentration is None) or rate == "per-day":
            numbers = [_to_mg(n, raw_unit) for n in numbers]
    elif len(ingredients) > 1:
        combo = _BARE_COMBO.search(t)
        if combo is not None:
            numbers = [float(combo.group("a")), float(combo.group("b"))]
            notes.append(f"'{combo.group(0)}' has no unit: read as mg")
    count_hi = 1.0
    count = _COUNT.search(t)
    if count is not None:
        if count.group("fa"):
            low = float(count.group("fa")) / max(float(count.group("fb")), 1.0)
        else:
            low = _number(count.group("n"))
        count_hi = _number(count.group("hi")) if count.group("hi") else low
        if count.group("hi"):
            notes.append(
                f"{_fmt(low)}-{_fmt(count_hi)} {count.group('what')} per dose: the upper bound is used"
            )
    volume_m = _VOLUME.search(t[mass.end() :] if mass is not None else t)
    volume = float(volume_m.group("n")) if volume_m is not None else None
    cap, cap_kind = _max_cap(t)
    if cap is not None and cap_kind == "doses":
        per_day = cap if per_day is None else min(per_day, cap)
    by_ingredient: list[IngredientDose] = []
    per_dose: Amount | None = None
    daily: Amount | None = None
    primary: str | None = ingredients[0] if len(ingredients) == 1 else None
    if rate is not None and numbers:
        value = max(numbers) if len(ingredients) == 1 else numbers[0]
        if rate == "per-day":
            per_dose = Amount(amount=value, unit="mg/24 h")
            daily = Amount(amount=value, unit="mg")
            notes.append("a patch or 24-hour rate: the strength is the amount delivered per day")
        else:
            per_dose = Amount(amount=value, unit=rate)
            daily = Amount(amount=value, unit=rate)
            notes.append(
                f"a patch is a rate ({_fmt(value)} {rate}), not a dose: the change interval "
                "does not multiply it"
            )
        per_day = None
    elif concentration is not None:
        if volume is None:
            notes.append("a liquid without a volume per dose: the amount per dose is unknown")
        else:
            per_dose = Amount(amount=concentration * volume, unit="mg")
            notes.append(
                f"liquid: {_fmt(concentration)} mg/mL × {_fmt(volume)} mL = "
                f"{_fmt(concentration * volume)} mg per dose; confirm mL against mg (concentrates "
                "are a known 10-20× error)"
            )
    elif numbers:
        if len(ingredients) == 1:
            value = numbers[0]
            if len(numbers) > 1:
                sep = "-" if "-" in (mass.group("more") if mass else "") else "/"
                if sep == "-":
                    value = max(numbers)
                    notes.append(
                        f"a range of strengths ({'-'.join(_fmt(n) for n in numbers)} mg): the "
                        "upper bound is used"
                    )
                else:
                    notes.append("a strength with several numbers for one ingredient: first used")
            per_dose = Amount(amount=value * count_hi, unit="mg")
        else:
            order = _ingredient_order(t, ingredients, opioid)
            if len(numbers) == len(ingredients) and order is not None:
                shares = dict(zip(order, numbers, strict=True))
                primary = order[0]
                for ing in ingredients:
                    by_ingredient.append(
                        IngredientDose(
                            ingredient=ing,
                            per_dose=Amount(amount=shares[ing] * count_hi, unit="mg"),
                            daily=None,
                        )
                    )
                per_dose = Amount(amount=shares[primary] * count_hi, unit="mg")
            elif len(numbers) == 1:
                per_dose = Amount(amount=numbers[0] * count_hi, unit="mg")
                notes.append(
                    f"the strength is for the whole product ({len(ingredients)} ingredients)"
                )
            else:
                notes.append(
                    "a combination strength whose numbers cannot be matched to ingredients"
                )
    else:
        notes.append("dose not stated")
    if cap is not None and cap_kind == "units" and per_dose is not None and per_day is not None:
        allowed = cap / max(count_hi, 1e-9)
        per_day = min(per_day, allowed)
    if per_dose is not None and per_day is not None and daily is None:
        daily = Amount(amount=round(per_dose.amount * per_day, 9), unit=per_dose.unit)
        if by_ingredient:
            by_ingredient = [
                replace(
                    b,
                    daily=Amount(amount=round(b.per_dose.amount * per_day, 9), unit="mg")
                    if b.per_dose
                    else None,
                )
                for b in by_ingredient
            ]
    if cap is not None and cap_kind == "mg" and daily is not None and daily.unit == "mg":
        daily = Amount(amount=min(daily.amount, cap), unit="mg")
    if per_dose is not None and per_day is None and rate is None:
        notes.append(
            "as needed, how often not stated: the daily dose is unknown"
            if prn
            else "how often not stated: the daily dose is unknown"
        )
    if prn and daily is not None:
        notes.append(
            f"as needed: actual use unknown; graded on the most the sig allows "
            f"({_fmt(daily.amount)} {daily.unit}/day)"
        )
    if per_day is not None and per_day >= 3 and _RELEASE.search(t) and not prn:
        notes.append("an extended-release form taken 3 or more times a day is unusual: confirm")
    return _dose(primary, per_dose, per_day, prn, daily, notes, by_ingredient, when)


def _dose(
    primary: str | None,
    per_dose: Amount | None,
    per_day: float | None,
    prn: bool,
    daily: Amount | None,
    notes: list[str],
    by_ingredient: list[IngredientDose],
    when: str | None,
) -> Dose:
    return Dose(
        ingredient=primary,
        per_dose=per_dose,
        doses_per_day=round(per_day, 4) if per_day is not None else None,
        prn=prn,
        daily=daily,
        notes=tuple(dict.fromkeys(notes)),
        by_ingredient=tuple(by_ingredient),
        when=when,
    )


def _ingredient_order(
    t: str, ingredients: Sequence[str], opioid: Callable[[str], bool]
) -> list[str] | None:
    """Which number belongs to which ingredient: names in the text, else the opioid first."""
    positions = {ing: t.find(ing) for ing in ingredients}
    if all(p >= 0 for p in positions.values()):
        return sorted(ingredients, key=lambda i: positions[i])
    opioids = [i for i in ingredients if opioid(i)]
    if len(ingredients) == 2 and len(opioids) == 1:
        return [opioids[0], *[i for i in ingredients if i != opioids[0]]]
    return None


def daily_mg(dose: Dose, ingredient: str) -> float | None:
    """The daily amount of one ingredient in mg, when the dose states it."""
    for b in dose.by_ingredient:
        if b.ingredient == ingredient:
            return b.daily.amount if b.daily is not None and b.daily.unit == "mg" else None
    if dose.ingredient == ingredient and dose.daily is not None and dose.daily.unit == "mg":
        return dose.daily.amount
    return None


def equivalents(
    dose: Dose, ingredients: Sequence[str], tables: PatientTables
) -> tuple[Equivalent, ...]:
    """Diazepam equivalents by each table that lists the drug, and CDC 2022 morphine equivalents."""
    out: list[Equivalent] = []
    for ing in ingredients:
        mg = daily_mg(dose, ing)
        row = tables.diazepam.get(ing)
        if row is not None and mg is not None:
            for table in tables.diazepam_tables:
                if table.id not in row:
                    continue
                values = row[table.id]
                low, high = mg * 10.0 / max(values), mg * 10.0 / min(values)
                out.append(
                    Equivalent(
                        kind=EquivalentKind.DIAZEPAM,
                        amount=round(high, 2),
                        unit="mg",
                        table=table.label,
                        low=round(low, 2) if low != high else None,
                        high=round(high, 2) if low != high else None,
                    )
                )
        factor = tables.morphine.get(ing)
        if factor is None:
            continue
        name = str(tables.morphine_settings.get("table", "CDC 2022"))
        if factor.per == "mcg/h":
            if dose.daily is not None and dose.daily.unit == "mcg/h" and dose.ingredient == ing:
                out.append(
                    Equivalent(
                        kind=EquivalentKind.MORPHINE,
                        amount=round(dose.daily.amount * factor.factor, 2),
                        unit="mg",
                        table=name,
                    )
                )
        elif mg is not None:
            out.append(
                Equivalent(
                    kind=EquivalentKind.MORPHINE,
                    amount=round(mg * factor.factor, 2),
                    unit="mg",
                    table=name + (" (factor unverified)" if factor.unverified else ""),
                )
            )
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseFacts:
    """What the doses add to the findings, and warnings for the report."""

    findings: list[Finding]
    warnings: list[str]


def apply_doses(
    findings: Sequence[Finding],
    medications: Sequence[Medication],
    tables: PatientTables,
    *,
    has_class: Callable[[str, str], bool],
    derived: Derived,
) -> DoseFacts:
    """Annotate or raise findings with dose facts; a grade is never lowered."""
    notes_for: dict[tuple[str, str], list[str]] = {}
    raise_to: dict[tuple[str, str], tuple[Severity, str]] = {}
    warnings: list[str] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    dz = tables.diazepam_settings
    mo = tables.morphine_settings
    for m in medications:
        key = (m.input, m.ingredients)
        if m.dose is None or key in seen:
            continue
        seen.add(key)
        d = m.dose

        def note(ing: str, text: str, *, m: Medication = m) -> None:
            notes_for.setdefault((m.input, ing), []).append(text)

        def raise_(ing: str, sev: Severity, why: str, *, m: Medication = m) -> None:
            k = (m.input, ing)
            if k not in raise_to or raise_to[k][0] < sev:
                raise_to[k] = (sev, why)

        for text in d.notes:
            if text.startswith("as needed") or "unknown" in text or "confirm" in text:
                for ing in m.ingredients:
                    note(ing, text)
        dz_eq = [e for e in d.equivalents if e.kind is EquivalentKind.DIAZEPAM]
        if dz_eq:
            ing = next(i for i in m.ingredients if i in tables.diazepam)
            mg = daily_mg(d, ing)
            groups: dict[str, list[str]] = {}
            for e in dz_eq:
                value = (
                    f"{_fmt(e.low)}-{_fmt(e.high)} mg"
                    if e.low is not None and e.high is not None
                    else f"{_fmt(e.amount)} mg"
                )
                groups.setdefault(value, []).append(e.table)
            shown = " or ".join(f"{v} ({', '.join(t)})" for v, t in groups.items())
            threshold = float(dz.get("threshold_mg_per_day", 8))
            top = max(e.amount for e in dz_eq)
            bottom = min(e.low if e.low is not None else e.amount for e in dz_eq)
            head = f"{ing} {_fmt(mg or 0)} mg/day ≈ {shown} diazepam-equivalent"
            if bottom > threshold:
                note(
                    ing,
                    f"{head}: above the {_fmt(threshold)} mg/day level linked to a blunted "
                    f"response ({dz.get('threshold_cite', '')})",
                )
            elif top > threshold:
                note(
                    ing,
                    f"{head}: the tables disagree on whether this is above the "
                    f"{_fmt(threshold)} mg/day level linked to a blunted response "
                    f"({dz.get('threshold_cite', '')})",
                )
            else:
                note(
                    ing,
                    f"{head}: at or below the {_fmt(threshold)} mg/day level linked to a "
                    f"blunted response ({dz.get('threshold_cite', '')})",
                )
            if top > float(dz.get("band_high_above", 15)):
                note(
                    ing,
                    f"high daily dose for withdrawal risk: {dz.get('band_source', '')} Any "
                    "skipped dose must be agreed with the prescriber; never stop abruptly.",
                )
            if top > float(dz.get("trial_limit_mg_per_day", 60)):
                note(ing, f"outside the trial population: {dz.get('trial_source', '')}")
            if ing in tables.diazepam_recalled:
                note(ing, f"the {ing} equivalent is recalled, not re-read in a source")
        for e in d.equivalents:
            if e.kind is not EquivalentKind.MORPHINE:
                continue
            ing = next(i for i in m.ingredients if i in tables.morphine)
            text = f"{ing}: {_fmt(e.amount)} morphine mg equivalents/day ({e.table})"
            if e.amount >= float(mo.get("band_high", 90)):
                raise_(ing, Severity.MAJOR, f"{text}. {mo.get('band_high_text', '')}")
            elif e.amount >= float(mo.get("band_low", 50)):
                note(ing, f"{text}. {mo.get('band_low_text', '')}")
            else:
                note(ing, f"{text}: below the {_fmt(float(mo.get('band_low', 50)))} MME/day band")
        for ing in m.ingredients:
            factor = tables.morphine.get(ing)
            if (
                factor is not None
                and factor.note
                and any(e.kind is EquivalentKind.MORPHINE for e in d.equivalents)
            ):
                note(ing, f"MME factor note: {factor.note}")
            if ing in ("buprenorphine",) and d.daily is not None:
                note(
                    ing,
                    "buprenorphine is not in the CDC 2022 MME table (partial agonist): no "
                    "MME computed",
                )
            mg = daily_mg(d, ing)
            if mg is None:
                continue
            for band in tables.bands:
                if band.ingredient != ing or not band.contains(mg):
                    continue
                if band.with_class is not None and not any(
                    has_class(other, band.with_class)
                    for med in medications
                    for other in med.ingredients
                    if other != ing
                ):
                    continue
                text = f"{ing} {_fmt(mg)} mg/day: {band.text}"
                if band.action == "raise" and band.severity is not None:
                    raise_(ing, band.severity, text)
                else:
                    note(ing, text)
            cap = tables.maxima.get(ing)
            if cap is not None and mg > cap.mg_per_day:
                text = (
                    f"{ing} {_fmt(mg)} mg/day is above the label maximum of "
                    f"{_fmt(cap.mg_per_day)} mg/day ({cap.source}; {cap.tag}): the entry may be "
                    "mistyped — confirm the dose"
                )
                note(ing, text)
                warnings.append(f"{m.input!r}: {text}")
    if not notes_for and not raise_to:
        return DoseFacts(findings=list(findings), warnings=list(dict.fromkeys(warnings)))
    out: list[Finding] = []
    for f in findings:
        if f.kind not in ("interaction", "no-known-interaction"):
            out.append(f)
            continue
        extra: list[str] = []
        best: tuple[Severity, str] | None = None
        for inp in f.inputs:
            for ing in f.ingredients:
                extra += notes_for.get((inp, ing), [])
                r = raise_to.get((inp, ing))
                if r is not None and (best is None or r[0] > best[0]):
                    best = r
        if best is None and not extra:
            out.append(f)
        else:
            out.append(derived.get(_with_dose_facts, f, None, best, tuple(extra)))
    return DoseFacts(findings=out, warnings=list(dict.fromkeys(warnings)))


def _with_dose_facts(
    f: Finding, _: object, best: tuple[Severity, str] | None, extra: tuple[str, ...]
) -> Finding:
    """A finding raised to the highest dose grade above its own, with the dose notes added."""
    notes = list(extra)
    if best is not None and best[0] > f.severity:
        notes.insert(0, f"Raised from {f.severity.label} to {best[0].label}: {best[1]}")
        f = replace(
            f,
            severity=best[0],
            raised_from=f.raised_from or f.severity,
            kind=FindingKind.INTERACTION if f.kind is FindingKind.NO_KNOWN_INTERACTION else f.kind,
        )
    elif best is not None:
        notes.insert(0, best[1])
    return replace(f, notes=tuple(dict.fromkeys((*f.notes, *notes)))) if notes else f
