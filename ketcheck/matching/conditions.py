"""Read condition text: negation and family history first, then exact, normalised, careful fuzzy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING

from ketcheck.matching.normalise import clean_text, name_key
from ketcheck.patient import BloodPressure, ConditionEntry, ConditionStatus, PatientCondition

if TYPE_CHECKING:
    from ketcheck.kb.patient import PatientTables

# British and American spellings meet on one key (applied to the lexicon and to input alike).
_SPELLINGS = (
    ("haem", "hem"),
    ("aemia", "emia"),
    ("oedem", "edem"),
    ("apnoea", "apnea"),
    ("oesoph", "esoph"),
    ("paed", "ped"),
    ("tumour", "tumor"),
    ("ischaem", "ischem"),
    ("toxaem", "toxem"),
    ("ised", "ized"),
    ("isation", "ization"),
    ("goitre", "goiter"),
    ("breathalyser", "breathalyzer"),
)
# Cached phrase keys are invalid when the key rules change: the cache fingerprint includes this.
KEY_RULES = repr(_SPELLINGS)
FUZZY_MIN_LETTERS = 6
FUZZY_THRESHOLD = 85.0
FUZZY_MARGIN = 6.0
SUGGEST_FLOOR = 72.0

_BP_READING = re.compile(
    r"(?:\b(?:bp|b/p|blood\s+pressure|nibp|abp)\b\s*(?:[:=]|was|is|of|today)?\s*)?"
    r"(?P<sys>\d{2,4})\s*/\s*(?P<dia>\d{2,4})\s*(?:mm\s*hg|mmhg)?"
)
_SBP_ONLY = re.compile(
    r"^(?:sbp|systolic(?:\s+bp)?)\s*[:=]?\s*(?P<sys>\d{2,4})\s*(?:mm\s*hg|mmhg)?$"
)
_BP_WORD = re.compile(r"^(?:bp|b/p)(?:\s*[:=])?$")
_BP_BIPOLARISH = re.compile(r"^bp\s*(?:1|2|i|ii|one|two)$")
_AGE = re.compile(
    r"^(?:age[ds]?\s*(?P<a>\d{1,3})|(?P<b>\d{1,3})\s*(?:y/?o|yo|yrs?\s*old|years?\s*old|year\s*old))$"
)
_BMI = re.compile(r"^bmi\s*(?:of|=|:)?\s*(?P<v>\d{2}(?:\.\d)?)$")
_UNITS = r"d|days?|w|wks?|weeks?|mo|mos|months?|y|yrs?|years?"  # a time span's unit, one owner
_AGO = re.compile(rf"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<u>{_UNITS})\s+ago\b")
_LAST = re.compile(r"\b(?:last|past|this)\s+(?P<u>week|month|year)\b")
_YEAR = re.compile(r"\b(?:in\s+|since\s+)?(?P<y>(?:19|20)\d{2})\b")
_DURATION = re.compile(rf"\b\d+(?:\.\d+)?\s*(?:{_UNITS})\b(?:\s+ago)?")
_RECENT = re.compile(r"\b(?:recent|recently|new|just had)\b")
# "OSA on CPAP", "epilepsy (on Keppra)": a treatment after the condition does not change it.
_TREATMENT = re.compile(r"\s*(?:\(\s*)?\b(?:on|using|uses|treated with|with)\s+[^()]+\)?$")
_WEEKS = {"d": 1 / 7, "w": 1.0, "m": 4.35, "y": 52.0}


def treated_head(text: str) -> str | None:
    """The condition named before a treatment ("osa" of "osa on cpap"), or None if none follows.

    The head is the shortest that leaves a treatment after it, as `^(.+?)` before _TREATMENT
    would find; that regex rescans the tail at every head length (quadratic: "x on on … (" of
    300 characters took 1.3 ms, 60 times this). The tail holds no bracket but a last ")", so no
    head ends before the last other bracket (or the spaces ahead of it, for an opening one): the
    search starts there.
    """
    body = text.removesuffix("\n").removesuffix(")")  # `$` may stand before a last line break
    last = max(body.rfind("("), body.rfind(")"))
    start = 1 if last < 0 else last + 1 if text[last] == ")" else len(text[:last].rstrip())
    found = _TREATMENT.search(text, max(start, 1))
    # a head is one line (`.` stops at a line break), like the regex's
    line_end = text.find("\n")
    if found is None or (line_end >= 0 and found.start() > line_end):
        return None
    return text[: found.start()]


def phrase_key(text: str) -> str:
    """The lookup key of a condition phrase: name_key with one spelling of each word."""
    key = name_key(text)
    for british, american in _SPELLINGS:
        if british in key:
            key = key.replace(british, american)
    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reading:
    """Condition text after negation, history and dates were taken off."""

    rest: str
    history: bool
    weeks_ago: float | None
    year: int | None
    recent_word: bool


def resolve_conditions(
    entries: Sequence[ConditionEntry], tables: PatientTables
) -> list[PatientCondition]:
    """Every condition entry read, in input order (an unknown one stays, as unresolved)."""
    return [resolve_condition(e, tables, index=i) for i, e in enumerate(entries)]


def resolve_condition(
    entry: ConditionEntry, tables: PatientTables, *, index: int
) -> PatientCondition:
    """Read one condition entry; one its source doubts is unconfirmed, however it is coded."""
    if entry.doubt:
        inner = _read_entry(replace(entry, doubt=""), tables, index=index)
        result = _unconfirmed(inner, tables, entry.doubt)
    else:
        result = _read_entry(entry, tables, index=index)
    return replace(result, verification=entry.verification) if entry.verification else result


def _read_entry(entry: ConditionEntry, tables: PatientTables, *, index: int) -> PatientCondition:
    """Read one condition entry; codes first, then text."""
    text = entry.text
    base = PatientCondition(
        index=index, input=text, status=ConditionStatus.UNRESOLVED, condition=None, label=""
    )
    coded = _from_codes(entry.codes, tables)
    low = " ".join(clean_text(text).casefold().split())
    if coded is not None:
        result = _resolved(base, tables, coded, method="code", score=100.0, history=entry.history)
        return _negated(result, tables, "the record marks it refuted") if entry.negated else result
    if entry.negated:
        inner = resolve_condition(replace(entry, negated=False), tables, index=index)
        return _negated(inner, tables, "the record marks it refuted or absent")
    reading = _blood_pressure(base, low, tables)
    if reading is not None:
        return reading
    if not low.strip(" .?!-"):
        return replace(base, reason="empty condition")
    lead, rest = _strip_lead(low, tables.vocabulary.negation)
    if lead:
        inner = resolve_condition(ConditionEntry(text=rest), tables, index=index)
        return _negated(replace(inner, input=text), tables, f"'{lead}': the condition is denied")
    lead, rest = _strip_lead(low, tables.vocabulary.family)
    if lead:
        inner = resolve_condition(ConditionEntry(text=rest), tables, index=index)
        rule = tables.conditions.get(inner.condition or "")
        if inner.status is ConditionStatus.RESOLVED and rule is not None and rule.family:
            return _resolved(base, tables, rule.family, method="normalised", score=100.0)
        return _negated(
            replace(inner, input=text), tables, "family history: not the patient's own condition"
        )
    lead, rest = _strip_lead(low, tables.vocabulary.query)
    if lead:
        inner = resolve_condition(ConditionEntry(text=rest), tables, index=index)
        return _unconfirmed(
            replace(inner, input=text),
            tables,
            f"'{lead}': a rule-out or query, not a diagnosis; confirm before the session",
        )
    trail, rest = _strip_trail(low, tables.vocabulary.negation_suffix)
    if trail:
        inner = resolve_condition(ConditionEntry(text=rest), tables, index=index)
        return _negated(replace(inner, input=text), tables, f"'{trail}': the condition is denied")
    special = _age_or_bmi(base, low, tables)
    if special is not None:
        return special
    reading_ = _read(low, tables)
    history = entry.history or reading_.history
    found = _lookup(reading_.rest, tables)
    exact = phrase_key(low) == phrase_key(reading_.rest)
    if not isinstance(found, PatientCondition) and found[1] == "normalised" and exact:
        found = (found[0], "exact", found[2])
    treated = treated_head(reading_.rest)
    if isinstance(found, PatientCondition) and treated is not None:
        head = _lookup(treated, tables)
        if not isinstance(head, PatientCondition) and head[1] != "fuzzy":
            found = (head[0], "normalised", head[2])
    if isinstance(found, PatientCondition):
        return replace(found, index=index, input=text)
    cid, method, score = found
    result = _resolved(base, tables, cid, method=method, score=score, history=history)
    rule = tables.conditions[cid]
    if rule.recent_weeks is not None:
        weeks = entry.weeks_ago if entry.weeks_ago is not None else reading_.weeks_ago
        if weeks is not None:
            result = replace(result, recent=weeks <= rule.recent_weeks)
        elif reading_.recent_word:
            result = replace(result, recent=True)
        elif history or reading_.year is not None:
            result = replace(result, recent=False if history else None)
    return result


def _strip_lead(low: str, phrases: Sequence[str]) -> tuple[str, str]:
    for phrase in sorted(phrases, key=len, reverse=True):
        if not low.startswith(phrase):
            continue
        rest = low[len(phrase) :]
        if phrase[-1].isalnum() and rest[:1].isalnum():
            continue
        rest = rest.strip(" :-,.")
        if rest:
            return phrase, rest
    return "", low


def _strip_trail(low: str, phrases: Sequence[str]) -> tuple[str, str]:
    for phrase in sorted(phrases, key=len, reverse=True):
        if not low.endswith(phrase):
            continue
        rest = low[: len(low) - len(phrase)]
        if rest[-1:].isalnum():
            continue
        rest = rest.strip(" :-,.()")
        if rest:
            return phrase, rest
    return "", low


def _read(low: str, tables: PatientTables) -> _Reading:
    """Take history markers, filler and dates off the text."""
    voc = tables.vocabulary
    text = low
    history = False
    weeks: float | None = None
    m = _AGO.search(text)
    if m is not None:
        weeks = float(m.group("n")) * _WEEKS[m.group("u")[0]]
    m_last = _LAST.search(text)
    if weeks is None and m_last is not None:
        weeks = {"week": 1.0, "month": 4.35, "year": 52.0}[m_last.group("u")]
    m_year = _YEAR.search(text)
    year = int(m_year.group("y")) if m_year else None
    recent_word = bool(_RECENT.search(text))
    text = _DURATION.sub(" ", text)
    text = _LAST.sub(" ", text)
    text = _YEAR.sub(" ", text)
    text = re.sub(r"\b(?:in|since|on|at|ago|approx|approximately|about|around)\s*$", " ", text)
    text = " ".join(text.replace("(", " ").replace(")", " ").split())
    changed = True
    while changed:
        changed = False
        lead, rest = _strip_lead(text, voc.history)
        if lead:
            text, history, changed = rest, True, True
        trail, rest = _strip_trail(text, voc.history_suffix)
        if trail:
            text, history, changed = rest, True, True
        lead, rest = _strip_lead(text, voc.filler)
        if lead:
            text, changed = rest, True
    return _Reading(rest=text, history=history, weeks_ago=weeks, year=year, recent_word=recent_word)


def _lookup(text: str, tables: PatientTables) -> tuple[str, str, float] | PatientCondition:
    """Exact, then normalised (qualifiers dropped), then careful fuzzy; else unresolved."""
    key = phrase_key(text)
    unresolved = PatientCondition(
        index=0, input=text, status=ConditionStatus.UNRESOLVED, condition=None, label=""
    )
    if not key:
        return replace(unresolved, reason="no condition named")
    amb = tables.ambiguous.get(key)
    if amb is not None:
        return replace(
            unresolved,
            status=ConditionStatus.AMBIGUOUS,
            reason=amb[1],
            candidates=amb[0],
            label="ambiguous",
        )
    hit = tables.phrases.get(key)
    if hit is not None:
        return hit[0], "normalised", 100.0
    qualifiers = {phrase_key(q) for q in tables.vocabulary.qualifier}
    words = [w for w in key.split() if w not in qualifiers]
    reduced = " ".join(words)
    if reduced and reduced != key:
        hit = tables.phrases.get(reduced)
        if hit is not None:
            return hit[0], "normalised", 100.0
        key = reduced
    amb = tables.ambiguous.get(key)
    if amb is not None:
        return replace(
            unresolved,
            status=ConditionStatus.AMBIGUOUS,
            reason=amb[1],
            candidates=amb[0],
            label="ambiguous",
        )
    return _fuzzy(key, tables, unresolved)


def _fuzzy(
    key: str, tables: PatientTables, unresolved: PatientCondition
) -> tuple[str, str, float] | PatientCondition:
    from rapidfuzz import fuzz, process

    choices = _fuzzy_choices(tables)
    if sum(ch.isalpha() for ch in key) < FUZZY_MIN_LETTERS:
        return replace(unresolved, reason="not a condition ketcheck knows (too short to guess)")
    ranked = process.extract(key, list(choices), scorer=fuzz.ratio, limit=12)
    best: dict[str, float] = {}
    for phrase, score, _ in ranked:
        cid = choices[phrase]
        best[cid] = max(best.get(cid, 0.0), float(score))
    order = sorted(best.items(), key=lambda kv: -kv[1])
    if not order or order[0][1] < SUGGEST_FLOOR:
        return replace(unresolved, reason="not a condition ketcheck knows")
    top_id, top = order[0]
    runner = order[1][1] if len(order) > 1 else 0.0
    if top >= FUZZY_THRESHOLD and top - runner >= FUZZY_MARGIN:
        return top_id, "fuzzy", round(top, 1)
    near = tuple(cid for cid, score in order[:3] if score >= SUGGEST_FLOOR)
    if top >= FUZZY_THRESHOLD:
        return replace(
            unresolved,
            status=ConditionStatus.AMBIGUOUS,
            reason="close to more than one condition",
            candidates=near,
            label="ambiguous",
        )
    return replace(unresolved, reason="not a condition ketcheck knows", candidates=near)


@cache
def _fuzzy_choices(tables: PatientTables) -> dict[str, str]:
    """Full names and everyday words (never abbreviations) that fuzzy matching may reach."""
    return {
        key: cid
        for key, (cid, kind) in tables.phrases.items()
        if kind != "abbreviation" and sum(ch.isalpha() for ch in key) >= FUZZY_MIN_LETTERS
    }


@cache
def _code_index(tables: PatientTables) -> tuple[dict[str, str], dict[str, str]]:
    snomed: dict[str, str] = {}
    icd: dict[str, str] = {}
    for rule in tables.conditions.values():
        for code in rule.snomed:
            snomed.setdefault(code, rule.id)
        for code in rule.icd10:
            icd.setdefault(code.replace(".", "").upper(), rule.id)
    return snomed, icd


def _from_codes(codes: Sequence[str], tables: PatientTables) -> str | None:
    """The condition a coded entry names: SNOMED exactly, ICD-10-CM by longest prefix."""
    snomed, icd = _code_index(tables)
    for code in codes:
        system, _, value = code.partition(":")
        if system == "snomed" and value in snomed:
            return snomed[value]
        if system == "icd10":
            flat = value.replace(".", "").upper()
            for n in range(len(flat), 2, -1):
                if flat[:n] in icd:
                    return icd[flat[:n]]
    return None


def _resolved(
    base: PatientCondition,
    tables: PatientTables,
    cid: str,
    *,
    method: str,
    score: float,
    history: bool = False,
) -> PatientCondition:
    rule = tables.conditions[cid]
    if history and rule.history is not None:
        rule = tables.conditions[rule.history]
    label = rule.label + (" (history)" if history and rule.history_severity is not None else "")
    return replace(
        base,
        status=ConditionStatus.RESOLVED,
        condition=rule.id,
        label=label,
        method=method,
        score=score,
        history=history,
        plain=rule.plain,
    )


def _negated(inner: PatientCondition, tables: PatientTables, reason: str) -> PatientCondition:
    """The entry denies a condition: reported, never treated as the condition."""
    named = inner.condition if inner.status is ConditionStatus.RESOLVED else None
    rule = tables.conditions.get(named or "")
    label = f"not present: {rule.label}" if rule is not None else "not present"
    return replace(
        inner,
        status=ConditionStatus.NEGATED,
        condition=None,
        label=label,
        negates=named,
        reason=reason,
        bp=None,
        history=False,
    )


def _unconfirmed(inner: PatientCondition, tables: PatientTables, reason: str) -> PatientCondition:
    """The source doubts the condition: reported, neither present nor absent (check incomplete)."""
    named = inner.condition if inner.status is ConditionStatus.RESOLVED else None
    rule = tables.conditions.get(named or "")
    return replace(
        inner,
        status=ConditionStatus.UNCONFIRMED,
        condition=None,
        label=f"unconfirmed: {rule.label}" if rule is not None else "unconfirmed",
        candidates=(named,) if named else inner.candidates,
        negates=None,
        reason=reason,
        bp=None,
    )


def parse_bp(text: str, tables: PatientTables) -> BloodPressure | str:
    """A blood-pressure reading ("150/95", "BP 150/95 mmHg", "SBP 170"), or why it is not one."""
    low = " ".join(clean_text(text).casefold().split())
    m = _BP_READING.fullmatch(low) or _BP_READING.match(low)
    systolic: int
    diastolic: int | None
    if m is not None and m.end() >= len(low.rstrip(" .")) - 0:
        systolic, diastolic = int(m.group("sys")), int(m.group("dia"))
    else:
        m2 = _SBP_ONLY.match(low)
        if m2 is None:
            return f"{text!r} is not a blood pressure reading (expected SYSTOLIC/DIASTOLIC, e.g. 150/95)"
        systolic, diastolic = int(m2.group("sys")), None
    return checked_bp(systolic, diastolic, text, tables)


def checked_bp(
    systolic: int, diastolic: int | None, text: str, tables: PatientTables, *, source: str = ""
) -> BloodPressure | str:
    """The reading if plausible, else why it looks mistyped."""
    lo, hi = tables.bp.systolic_range
    if not lo <= systolic <= hi:
        return f"systolic {systolic} is outside {lo}-{hi} mmHg: mistyped?"
    if diastolic is not None:
        dlo, dhi = tables.bp.diastolic_range
        if not dlo <= diastolic <= dhi:
            return f"diastolic {diastolic} is outside {dlo}-{dhi} mmHg: mistyped?"
        if diastolic >= systolic:
            return f"diastolic {diastolic} is not below systolic {systolic}: swapped or mistyped?"
    return BloodPressure(
        systolic=systolic, diastolic=diastolic, text=text.strip(), source=source or "input"
    )


def _blood_pressure(
    base: PatientCondition, low: str, tables: PatientTables
) -> PatientCondition | None:
    """A reading given as a condition is a blood pressure; "BP" alone never means bipolar."""
    if _BP_WORD.match(low):
        return replace(
            base,
            reason="'BP' is read as blood pressure, never bipolar: give a reading such as "
            "'BP 150/95', or write 'hypertension' or 'bipolar disorder'",
        )
    if _BP_BIPOLARISH.match(low):
        return replace(
            base,
            reason="'BP' is read as blood pressure, never bipolar: write 'bipolar I disorder' "
            "or 'bipolar II disorder'",
        )
    m = _BP_READING.search(low)
    sbp = _SBP_ONLY.match(low)
    has_word = re.search(r"\b(?:bp|b/p|blood pressure|nibp|sbp|systolic)\b", low) is not None
    bare = _BP_READING.fullmatch(low) is not None
    if not ((m is not None and (has_word or bare)) or sbp is not None):
        return None
    if m is not None:
        systolic, diastolic = int(m.group("sys")), int(m.group("dia"))
    else:
        assert sbp is not None
        systolic, diastolic = int(sbp.group("sys")), None
    bp = checked_bp(systolic, diastolic, base.input, tables, source="condition")
    if isinstance(bp, str):
        return replace(base, reason=f"a blood-pressure reading that looks mistyped: {bp}")
    shown = f"{systolic}/{diastolic}" if diastolic is not None else f"systolic {systolic}"
    return replace(
        base,
        status=ConditionStatus.RESOLVED,
        condition="bp-reading",
        label=f"Blood pressure reading {shown} mmHg",
        plain=f"your blood pressure reading was {shown}",
        method="reading",
        score=100.0,
        bp=bp,
    )


def _age_or_bmi(base: PatientCondition, low: str, tables: PatientTables) -> PatientCondition | None:
    m = _AGE.match(low)
    if m is not None:
        age = int(m.group("a") or m.group("b"))
        if age > 120:
            return replace(base, reason=f"age {age} looks mistyped")
        cid = "minor" if age < 18 else "older-adult" if age >= 65 else "adult-age"
        if cid in tables.conditions:
            found = _resolved(base, tables, cid, method="normalised", score=100.0)
            return replace(found, label=f"{found.label} (age {age})")
        return None
    m = _BMI.match(low)
    if m is not None:
        bmi = float(m.group("v"))
        cid = "obesity" if bmi >= 35 else "overweight"
        if cid in tables.conditions:
            found = _resolved(base, tables, cid, method="normalised", score=100.0)
            return replace(found, label=f"{found.label} (BMI {bmi:g})")
    return None
