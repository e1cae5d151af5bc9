"""Normalise typed medication entries: lookup keys, and names split from dose and sig text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from ketcheck.model import Parsed

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Terminal escape sequences (CSI "ESC [ ... letter", OSC "ESC ] ... BEL|ST", and 8-bit CSI):
# pasted from a terminal they carry no drug name, so they are removed before matching.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u00b5": "u",
        "\u03bc": "u",
        "\u2044": "/",
        "\uff0f": "/",
    }
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_BULLET = re.compile(
    r"^\s*(?:[-*•·▪‣◦o+>]\s+|[-*•·▪‣◦]+(?=\S)|\(?\d{1,3}(?:[.:]\s+|\)\s*)|\(?[a-z]\)\s+|#\d+[.):]?\s+)"
)

# Words that describe how a medicine is given rather than which medicine it is.
_UNITS = frozenset(
    """
    mg mgs mcg mcgs ug g gm gram grams kg ml mls l cc unit units iu u meq mmol % mg/ml mg/kg
    mcg/hr mcg/h ug/h mg/24h mg/day mg/d puff puffs spray sprays drop drops gtt gtts
    actuation actuations dose doses mg/5ml
    """.split()
)
_FORMS = frozenset(
    """
    tab tabs tablet tablets cap caps capsule capsules caplet caplets film films odt sachet
    sachets patch patches injection injections inj solution soln sol susp suspension cream
    ointment oint gel lotion inhaler inh neb nebulizer nebuliser nebs vial vials pen pens
    lozenge lozenges troche troches gum liquid syrup elixir chewable chew drops spray nasal
    suppository suppositories supp powder granules wafer wafers strip strips kit disc diskus
    respimat handihaler ellipta flexpen kwikpen autoinjector pump foam shampoo implant ring
    depot infusion tincture extract tea softgel softgels gummy gummies hfa mdi oral liquid-filled
    """.split()
)
_ROUTES = frozenset(
    """
    po p.o. sl iv im sc sq subq subcut pr top topical td transdermal buccal inhaled
    intranasal nasally orally oral sublingual sublingually vaginal rectal ophthalmic otic
    nostril nostrils eye eyes ear ears mouth ng peg
    """.split()
)
_FREQUENCY = frozenset(
    """
    qd od daily bid tid qid qds tds bd qhs hs qam qpm qod qow prn q1h q2h q3h q4h q6h q8h
    q12h q24h q4-6h q6-8h q4-6 q6-8 q72h qweek qwk weekly monthly nightly once twice thrice
    times time a day days week weeks month every each morning mornings evening evenings
    night nights bedtime noon afternoon hourly hours hour hr hrs h x per as needed when
    required at in the before after meals meal food breakfast lunch dinner supper empty
    stomach then alternate alternating other
    """.split()
)
_SIG_VERBS = frozenset(
    """
    take takes taking took use uses using apply inhale inject give chew dissolve place
    instill insert spray swallow start started stop stopped continue continued hold held rx
    sig
    """.split()
)
_RELEASE = frozenset(
    """
    xr er sr xl cr la cd odt dr ec ir xt sa ir/er zydis relprevv sustenna trinza hafyera
    aristada maintena lai retard mr pa
    """.split()
)
_RELEASE_PHRASES = (
    "extended release",
    "extended-release",
    "sustained release",
    "delayed release",
    "immediate release",
    "controlled release",
    "modified release",
    "long acting",
    "long-acting",
    "orally disintegrating",
    "prolonged release",
    "24 hour",
    "12 hour",
    "24 hr",
    "12 hr",
)
_SALTS = frozenset(
    """
    hydrochloride hcl hydrobromide hbr sulfate sulphate bisulfate oxalate tartrate
    bitartrate carbonate citrate sodium potassium maleate mesylate dimesylate besylate
    besilate succinate fumarate hemifumarate acetate phosphate diphosphate bromide chloride
    lactate gluconate malate napsylate pamoate decanoate enanthate cypionate valerate
    propionate dipropionate furoate monohydrate dihydrate trihydrate hemihydrate anhydrous
    base free salt magnesium calcium hyclate monohydrochloride dihydrochloride embonate
    axetil medoxomil pivoxil probutate lauroxil mofetil disoproxil alafenamide tromethamine
    trometamol xinafoate nitrate erbumine
    """.split()
)
# Words that name no drug but often accompany one on a list.
_FILLER = frozenset(
    """
    generic brand regular extra maximum max strength children's childrens kids junior adult
    adults low dose starter titration pack packs blister supply refill otc prescription rx:
    new old home current currently usual my
    """.split()
)
_INDICATION_MARKERS = frozenset({"for", "prn", "indication", "dx", "reason"})
# Words that join two drug names, or join a name to an instruction ("with food").
_JOINERS = frozenset({"and", "or", "with", "plus", "&"})

_DOSE_TOKEN = re.compile(
    r"^(?:[#~≈<>]?\d[\d.,]*(?:[-/x]\d[\d.,]*)*(?:[a-z%µ/]+[\d.]*)*(?:/[a-z\d.%]+)*|"
    r"[\d.]+-[\d.]+[a-z]*|\d+(?:st|nd|rd|th))$"
)
_FREQ_TOKEN = re.compile(r"^q\d+(?:-\d+)?(?:h|hr|hrs|hours|d|days|w|wk)?$|^\d+x$|^x\d+$")


def clean_text(text: str) -> str:
    """Make typed text safe and comparable: NFKC, plain quotes and spaces, no control bytes."""
    text = _ESCAPES.sub("", text)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return _CONTROL.sub(" ", text)


def name_key(text: str) -> str:
    """The lookup key of a name: lowercase ASCII letters and digits separated by single spaces."""
    text = clean_text(text).casefold().replace("'", "")
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", text).strip()


def letter_count(key: str) -> int:
    """Letters in a key: the minimum-length rule for fuzzy matching counts these."""
    return sum(ch.isalpha() for ch in key)


def _strip_bullet(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _BULLET.sub("", text, count=1)
    return text


def _word(token: str) -> str:
    return token.casefold().strip(".,;:()[]{}\"'")


def classify(token: str) -> str | None:
    """Which kind of non-name word a token is (strength, form, route, ...), or None."""
    word = _word(token)
    if not word:
        return "note"
    bare = word.replace(".", "") if not word[0].isdigit() else word
    if _DOSE_TOKEN.match(word):
        return "strength"
    if word in _UNITS:
        return "strength"
    if bare in _RELEASE:
        return "release"
    if word in _FORMS:
        return "form"
    if bare in _ROUTES:
        return "route"
    if bare in _FREQUENCY or _FREQ_TOKEN.match(bare):
        return "frequency"
    if word in _SIG_VERBS or word in _FILLER:
        return "note"
    return None


def tokens_of(text: str) -> list[str]:
    """Split a cleaned entry into whitespace tokens, with bullets and numbering removed."""
    text = _strip_bullet(text.strip())
    lowered = text.casefold()
    for phrase in _RELEASE_PHRASES:
        if phrase in lowered:
            start = lowered.index(phrase)
            text = text[:start] + phrase.replace(" ", "_") + text[start + len(phrase) :]
            lowered = text.casefold()
    # Glue numbers to following units ("300 mg" stays two tokens; "300mg" one) and split
    # parenthesised notes off as their own tokens.
    text = re.sub(r"([()\[\]])", r" \1 ", text)
    return text.split()


def parse_entry(text: str) -> Parsed:
    """Split an entry into its drug name and the dose, form, route and sig parts around it."""
    cleaned = clean_text(text).strip()
    tokens = tokens_of(cleaned)
    name_tokens: list[str] = []
    parts: dict[str, list[str]] = {
        k: [] for k in ("strength", "form", "route", "frequency", "release", "salt", "note")
    }
    in_sig = False
    depth = 0
    for position, token in enumerate(tokens):
        if token in "([{":
            depth += 1
            continue
        if token in ")]}":
            depth = max(0, depth - 1)
            continue
        if "_" in token and token.replace("_", " ").casefold() in _RELEASE_PHRASES:
            parts["release"].append(token.replace("_", " "))
            continue
        if depth or in_sig:
            parts["note"].append(token)
            continue
        kind = classify(token)
        word = _word(token)
        if word in _JOINERS:
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            kind = "note" if not following or classify(following) is not None else None
        if kind is None and name_tokens and word in _SALTS:
            kind = "salt"
        if kind is None and word in _INDICATION_MARKERS and name_tokens:
            in_sig = True
            parts["frequency" if word == "prn" else "note"].append(token)
            continue
        if kind is None:
            if name_tokens and any(parts[k] for k in ("strength", "frequency")):
                in_sig = True  # words after the dose are instructions or the indication
                parts["note"].append(token)
                continue
            name_tokens.append(token)
            continue
        if kind == "form" and word in ("oral", "nasal") and position == 0:
            name_tokens.append(token)
            continue
        parts[kind].append(token)
    name = " ".join(name_tokens)
    return Parsed(
        text=cleaned,
        name=name,
        strength=tuple(parts["strength"]),
        form=tuple(parts["form"]),
        route=tuple(parts["route"]),
        frequency=tuple(parts["frequency"]),
        release=tuple(parts["release"]),
        salt=tuple(parts["salt"]),
        note=tuple(parts["note"]),
    )


def prefixes(text: str) -> Iterator[tuple[str, list[str]]]:
    """Yield (key of the first k tokens, remaining tokens), longest prefix first."""
    tokens = tokens_of(clean_text(text))
    for k in range(len(tokens), 0, -1):
        key = name_key(" ".join(tokens[:k]))
        if key:
            yield key, tokens[k:]


def is_noise(tokens: list[str]) -> bool:
    """True when every token describes dose or instructions, so dropping them loses no drug."""
    seen_dose = False
    for position, token in enumerate(tokens):
        if token in "()[]{}":
            continue
        if seen_dose:
            return True
        kind = classify(token)
        word = _word(token)
        if word in _JOINERS:
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            if not following or classify(following) is not None:
                continue
            return False
        if kind is None and word in _SALTS:
            kind = "salt"
        if kind is None and word in _INDICATION_MARKERS:
            return True
        if kind is None:
            if "_" in token and token.replace("_", " ").casefold() in _RELEASE_PHRASES:
                continue
            return False
        if kind in ("strength", "frequency"):
            seen_dose = True
    return True


_SPLIT = re.compile(r"\s*(?:/|\+|&|\band\b|\bwith\b|\bplus\b|,|-)\s*", re.IGNORECASE)


def combination_parts(name: str) -> list[str]:
    """Split "buprenorphine/naloxone" or "dextroamphetamine-amphetamine" into its parts."""
    parts = [p for p in _SPLIT.split(name) if p and p.strip()]
    return parts if len(parts) > 1 else []
