"""Resolve typed entries to ingredients: every word accounted for, fuzzy only when the winner is clear."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ketcheck.kb.knowledge import SOURCE_FDA, SOURCE_RXNORM
from ketcheck.kb.lexicon import NameEntry
from ketcheck.matching import vocabulary as vocab
from ketcheck.matching.nearby import NearbyIndex
from ketcheck.matching.normalise import clean_text, key_of_clean, letter_count, name_key
from ketcheck.matching.tokens import INSTRUCTION_LABELS, Label, Token, plain_label, tokenise
from ketcheck.model import (
    Ambiguous,
    Candidate,
    Method,
    Parsed,
    Part,
    Resolution,
    Resolved,
    Unresolved,
)

if TYPE_CHECKING:
    from ketcheck.kb.knowledge import KnowledgeBase

# Label members read once per token, as module constants: on Python 3.11 `Label.WORD` goes
# through the enum metaclass's __getattr__ hook and costs several times a global look-up.
_CLOSE = Label.CLOSE
_JOINER = Label.JOINER
_NAME = Label.NAME
_NUMBER_MARK = Label.NUMBER_MARK
_OPEN = Label.OPEN
_PUNCT = Label.PUNCT
_SALT = Label.SALT
_SEPARATOR = Label.SEPARATOR
_SIG = Label.SIG
_STRENGTH = Label.STRENGTH
_WORD = Label.WORD
Scorer = Callable[[str, str], float]


class _Search(NamedTuple):
    """What fuzzy search uses, made on first need: the vocabulary, scorer and rapidfuzz calls."""

    vocabulary: list[str]
    exact_only: list[str]  # names matched only exactly (generated brands): rivals, never winners
    scorer: Callable[..., float]
    scale: float  # from the scorer's range to 0-100
    extract: Callable[..., list[tuple[str, float, int]]]  # rapidfuzz.process.extract
    extract_one: Callable[..., tuple[str, float, int] | None]  # rapidfuzz.process.extractOne


_PACK = re.compile(r"^\s*\{(?P<inner>.*)\}\s*(?P<rest>.*)$", re.DOTALL)
# Not from inside a run of digits: "{5555…}" would rescan the run from each digit (quadratic).
_PACK_ITEM = re.compile(r"(?<!\d)\d+\s*\(([^()]*)\)")
_BRAND = re.compile(r"\[([^\[\]]*)\]")
# Parsed fields by label; everything set aside that is not a dose, form or the like is a note.
_FIELDS = {
    Label.STRENGTH: "strength",
    Label.FORM: "form",
    Label.ROUTE: "route",
    Label.FREQUENCY: "frequency",
    Label.RELEASE: "release",
    Label.SALT: "salt",
}


def make_scorer(name: str) -> tuple[Callable[..., float], float]:
    """The rapidfuzz scorer named in matching.toml and its scale to 0-100 (imported on use)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

    def blend(a: str, b: str, *, score_cutoff: float | None = None, **_: object) -> float:
        return float((fuzz.ratio(a, b) + 100.0 * JaroWinkler.normalized_similarity(a, b)) / 2.0)

    scorers: dict[str, tuple[Callable[..., float], float]] = {
        "ratio": (Indel.normalized_similarity, 100.0),
        "levenshtein": (Levenshtein.normalized_similarity, 100.0),
        "jaro_winkler": (JaroWinkler.normalized_similarity, 100.0),
        "wratio": (fuzz.WRatio, 1.0),
        "blend": (blend, 1.0),
    }
    if name not in scorers:
        raise ValueError(f"unknown scorer {name!r}")
    return scorers[name]


@dataclass(slots=True, kw_only=True)
class _Found:
    """What the cover of one entry found: its medicines, and anything that stops a clear answer."""

    parts: list[Part] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    ambiguous_name: Ambiguous | None = None
    guesses: int = 0
    unchecked: int = 0  # runs of unknown words left unexamined once the doubts are many
    fuzzy_result: Resolution | None = None
    # bracketed names of several drugs ("(T4)"): confirmation if the rest names one of them
    bracketed: list[tuple[str, tuple[NameEntry, ...]]] = field(default_factory=list)


class Resolver:
    """Resolves entries against one knowledge base, caching by entry text and by name key."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lexicon = kb.lexicon
        self.matching = kb.matching
        self._cache: dict[str, tuple[Parsed, Resolution]] = {}
        self._fuzzy_cache: dict[str, Resolution] = {}
        self._keys_by_ingredient: dict[str, list[str]] | None = None
        self._search_with: _Search | None = None
        self._nearby: NearbyIndex | None = None
        self._rivals: NearbyIndex | None = None
        self._candidates: dict[tuple[NameEntry, float], Candidate] = {}
        self._classes: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._prefixes: frozenset[str] | None = None
        self._partners: dict[tuple[str, ...], frozenset[str]] = {}

    def forget(self) -> None:
        """Drop what was cached per entry, per name asked and per ingredient set; keep the tables.

        A long batch, and the Python API between calls, call this to stay within bounded
        memory; the tables (the fuzzy index, name prefixes) depend on the knowledge base alone
        and would cost time to rebuild.
        """
        self._cache.clear()
        self._fuzzy_cache.clear()
        self._candidates.clear()
        self._classes.clear()
        self._partners.clear()

    def cached(self) -> int:
        """How many entry texts and fuzzy names are cached (what `forget` would drop)."""
        return len(self._cache) + len(self._fuzzy_cache)

    def resolve(self, text: str) -> tuple[Parsed, Resolution]:
        """Parse and resolve one entry (cached per exact text)."""
        hit = self._cache.get(text)
        if hit is None:
            hit = self._resolve(clean_text(text).strip())
            self._cache[text] = hit
        return hit

    # --- the whole entry -----------------------------------------------------------------

    def _resolve(self, cleaned: str) -> tuple[Parsed, Resolution]:
        full = key_of_clean(cleaned)
        if not full:
            return Parsed(text=cleaned, name=""), Unresolved(
                reason="no drug name found in the entry"
            )
        entries = self.lexicon.exact(full)
        if entries:
            return Parsed(text=cleaned, name=cleaned), self._from_entries(entries, Method.EXACT)
        if (
            len(cleaned) >= _NEW_ITEM
            and cleaned.isascii()
            and cleaned.isalpha()
            and plain_label(full) is _WORD
        ):
            # One unknown word of plain letters (most typos) is its own only token: the same
            # shortcut as below, without splitting the entry into tokens first.
            return Parsed(text=cleaned, name=cleaned), self._fuzzy(full)
        pack = _PACK.match(cleaned)
        if pack:
            return self._pack(cleaned, pack)
        # every word or mark is at least one character: a short entry is within the limit
        pieces = 0
        if len(cleaned) > MOST_PIECES:
            pieces = len(cleaned.split()) + sum(cleaned.count(mark) for mark in _MARKS)
        if pieces > MOST_PIECES:
            return Parsed(text=cleaned, name=""), Unresolved(
                reason=f"{pieces} words and marks: too long to read as one medicine "
                f"(at most {MOST_PIECES}); give one medicine per line",
                one_name=False,
            )
        tokens = tokenise(cleaned)
        if len(tokens) == 1 and tokens[0].label is _WORD:
            only = tokens[0]
            known = only.key != full and self.lexicon.exact(only.key)
            if letter_count(only.key) >= _NEW_ITEM and not known:
                # One unknown word long enough to doubt: the cover would label it, search it
                # and conclude just what its fuzzy search concludes, so it goes there directly.
                return Parsed(text=cleaned, name=only.text), self._fuzzy(only.key)
        return self._cover(cleaned, tokens)

    def _cover(self, cleaned: str, tokens: list[Token]) -> tuple[Parsed, Resolution]:
        """Find every name on the line, label every other word, and decide."""
        labels = [t.label for t in tokens]
        found = _Found()
        spans = self._name_spans(tokens, labels)
        for start, end, entries in spans:
            self._add_span(found, tokens, start, end, entries)
        self._leftovers(found, tokens, labels, bool(spans))
        parsed = _parsed(cleaned, tokens, labels)
        return parsed, self._decide(found, tokens, labels)

    # --- names ---------------------------------------------------------------------------

    def _name_spans(
        self, tokens: list[Token], labels: list[Label]
    ) -> list[tuple[int, int, tuple[NameEntry, ...]]]:
        """The exact names that cover the most words of the line (linear in its tokens).

        Every exact name starting at each token is a candidate; the chosen set covers the most
        unknown words, then uses the fewest names ("Tylenol with Codeine" over two), then the
        most tokens. So "daily vitamin A" reads "vitamin A", not "daily vitamin" and "A".
        """
        prefixes = self._name_prefixes()
        exact = self.lexicon.exact
        n = len(tokens)
        starts: dict[int, list[tuple[int, tuple[NameEntry, ...]]]] = {}
        for i, t in enumerate(tokens):
            if not t.key or t.key not in prefixes or t.label in _NEVER_STARTS:
                continue
            keys: list[str] = []
            j = i
            while j < n and tokens[j].label is not _OPEN and tokens[j].label is not _CLOSE:
                last = tokens[j]
                j += 1
                if not last.key:
                    continue
                keys.append(last.key)
                joined = " ".join(keys)
                if joined not in prefixes:
                    break  # no known name goes on this way
                if last.label is _JOINER or last.label is _PUNCT:
                    continue
                if t.label is _STRENGTH and j - i == 1:
                    continue  # a number alone is not a name ("5-HTP" is)
                entries = exact(joined)
                if entries:
                    starts.setdefault(i, []).append((j, entries))
        if not starts:
            return []
        # "penicillin G procaine": a salt word right after where a name may end is its salt
        name_ends = {j for spans in starts.values() for j, _ in spans}
        for i, spans in list(starts.items()):
            allowed = [(j, e) for j, e in spans if _name_allowed(tokens, i, j, i in name_ends)]
            if allowed:
                starts[i] = allowed
            else:
                del starts[i]
        if len(starts) == 1 and len(next(iter(starts.values()))) == 1:
            # one candidate name: it covers at least one word, so the choice below takes it
            ((i, ((j, entries),)),) = starts.items()
            chosen = [(i, j, entries)]
        else:
            chosen = _best_cover(tokens, starts)
        for i, j, _ in chosen:
            for k in range(i, j):
                labels[k] = _NAME
        return chosen

    def _name_prefixes(self) -> frozenset[str]:
        """Every known name and each of its leading word sequences: where a name may go on."""
        if self._prefixes is None:
            text = self.lexicon.prefixes
            self._prefixes = frozenset(text.split("\n")) if text else frozenset()
        return self._prefixes

    def _add_span(
        self,
        found: _Found,
        tokens: list[Token],
        start: int,
        end: int,
        entries: tuple[NameEntry, ...],
    ) -> None:
        text = (
            tokens[start].text
            if end == start + 1
            else " ".join([t.text for t in tokens[start:end]])
        )
        if len(entries) > 1 and len({e[1] for e in entries}) > 1:
            if tokens[start].bracket:
                found.bracketed.append((text, entries))
                return
            found.doubts.append(f"{text!r} is used for more than one drug")
            found.candidates.extend(self._candidates_from_entries(entries))
            return
        e = entries[0]
        found.parts.append(
            Part(
                text=text,
                matched=e[0],
                method=Method.NORMALISED,
                score=100.0,
                ingredients=self.lexicon.ingredients(e),
                name_kind=e[2],
                source=e[3],
            )
        )
        found.spans.append((start, end))

    # --- words that are not names --------------------------------------------------------

    def _leftovers(
        self, found: _Found, tokens: list[Token], labels: list[Label], named: bool
    ) -> None:
        """Every word outside the names is an instruction, a second medicine, or a doubt."""
        n = len(tokens)
        i = 0
        while i < n:
            label = labels[i]
            if (
                label is not _NAME
                and tokens[i].word in vocab.PRODUCT_SUFFIXES
                and _follows_name(labels, i)
            ):
                found.doubts.append(_more_ingredients(tokens, labels, i))
                labels[i] = _WORD
                i += 1
                continue
            if label is _NUMBER_MARK and _follows_name(labels, i):
                found.doubts.append(_more_ingredients(tokens, labels, i))
                i += 1
                continue
            if label is _SALT and _previous(labels, i, skip=_PUNCT_ONLY) is _SEPARATOR:
                # "heparin 100 UNT/ML / sodium chloride 0.45 %", "glucose / lactate": salt words
                # that begin a part of the line are an ingredient of their own, not the salt of
                # the name before. After a comma only those holding a cation are: RxNorm writes
                # qualifiers there ("heparin sodium, porcine", "insulin, regular").
                end = _salt_run_end(labels, i)
                after_comma = _previous_token(tokens, i).text == ","
                if not after_comma or any(t.word in vocab.CATIONS for t in tokens[i:end]):
                    text = " ".join([t.text for t in tokens[i:end]])
                    found.doubts.append(f"{text!r} is not a known drug name")
                i = end
                continue
            if (
                label is _SIG
                and tokens[i].word == "no"
                and i + 1 < n
                and tokens[i + 1].text.isdigit()
                and _follows_name(labels, i)
            ):
                # "Empirin No. 3": a combination's number, as "#3" is
                mark = f"{tokens[i].text} {tokens[i + 1].text}"
                found.doubts.append(_more_ingredients(tokens, labels, i, mark))
                i += 2
                continue
            if label is not _WORD:
                i += 1
                continue
            end = i + 1
            while end < n and (
                labels[end] is _WORD
                or (labels[end] is _JOINER and end + 1 < n and labels[end + 1] is _WORD)
            ):
                end += 1
            if len(found.doubts) < _MOST_DOUBTS:
                self._run(found, tokens, labels, i, end, named)
            else:
                found.unchecked += 1  # the entry is in doubt already; more reasons add nothing
            i = end
        if found.bracketed:
            self._bracketed_names(found, tokens)
        _negated_names(found, tokens, labels)
        if named:
            _unnamed_medicines(found, tokens, labels)

    def _run(
        self,
        found: _Found,
        tokens: list[Token],
        labels: list[Label],
        start: int,
        end: int,
        named: bool,
    ) -> None:
        """A run of unknown words: a misspelt medicine, harmless words, or a reason to doubt."""
        run = tokens[start:end]
        if end - start <= 2 and _clock_time(tokens, start, end):
            return  # "at 5 PM": the time of a dose, not the PM of a product
        words = [t for t in run if t.label is not _JOINER]
        text = " ".join([t.text for t in run])
        keys = [t.key for t in words]
        key = " ".join([k for k in keys if k])
        if named and _in_trailing_brackets(tokens, start):
            return  # an RxNorm brand suffix the lexicon lacks: the clinical name already spoke
        strictness = _strictness(tokens, labels, start, end)
        if not vocab.PRODUCT_SUFFIXES.isdisjoint([t.word for t in words]):
            strictness = _RIGHT_AFTER_NAME  # "Cold", "Sinus": a product name, not a sig word
        longest = _most_letters(keys) if words else 0
        outcome: Resolution | None = None
        # Once the entry is in doubt it is held back whatever else is on it: more guesses would
        # only cost time (a 1,000-character line of unknown words stays linear and quick).
        guess = len(found.doubts) < 1 and found.guesses < _MOST_GUESSES
        # A key too short to guess is searched only for the suggestions of the doubt it raises.
        # Nor is a run of one- and two-letter words: it spells no name.
        if guess and longest >= _NEW_ITEM:
            # the run's key holds its longest word's letters, and more: counted only if need be
            least = self.matching.min_letters
            long_enough = longest >= least or letter_count(key) >= least
        else:
            long_enough = guess = False
        if guess and (long_enough or (key and not named and longest >= strictness)):
            found.guesses += 1
            outcome = self._fuzzy(key)
        if isinstance(outcome, Resolved):
            for k in range(start, end):
                labels[k] = _NAME
            found.parts.append(Part.of(text, outcome))
            found.spans.append((start, end))
            if not named and found.fuzzy_result is None:
                found.fuzzy_result = outcome  # keeps margin and runner-up for a one-name entry
            return
        if isinstance(outcome, Ambiguous):
            found.doubts.append(f"{text!r}: {outcome.reason}")
            found.candidates.extend(outcome.candidates)
            if found.ambiguous_name is None:
                found.ambiguous_name = outcome
            return
        if longest >= strictness:
            found.doubts.append(f"{text!r} is not a known drug name")
            if outcome is not None and found.fuzzy_result is None:
                found.fuzzy_result = outcome
        # otherwise a short word of no consequence: kept visibly in the parsed note

    def _bracketed_names(self, found: _Found, tokens: list[Token]) -> None:
        """A bracketed name of several drugs confirms the names outside the brackets when it
        means exactly their drugs ("levothyroxine 50 mcg (T4)"); otherwise it is a doubt."""
        outside = frozenset(
            i
            for p, (start, _) in zip(found.parts, found.spans, strict=True)
            if not tokens[start].bracket
            for i in p.ingredients
        )
        for text, entries in found.bracketed:
            if any(frozenset(self.lexicon.ingredients(e)) == outside for e in entries):
                continue
            found.doubts.append(f"{text!r} is used for more than one drug")
            found.candidates.extend(self._candidates_from_entries(entries))

    # --- the decision --------------------------------------------------------------------

    def _decide(self, found: _Found, tokens: list[Token], labels: list[Label]) -> Resolution:
        parts = _distinct_parts(found, tokens)
        if found.unchecked:
            found.doubts.append(f"{found.unchecked} more runs of unknown words not examined")
        if found.doubts:
            if not parts:
                if len(found.doubts) == 1 and found.ambiguous_name is not None:
                    return found.ambiguous_name
                if len(found.doubts) == 1 and isinstance(found.fuzzy_result, Unresolved):
                    return found.fuzzy_result
                reason = "; ".join(found.doubts)
                if found.candidates:
                    return Ambiguous(reason=reason, candidates=tuple(_unique(found.candidates)))
                return Unresolved(reason=reason, one_name=len(found.doubts) == 1)
            shown = ", ".join(repr(p.text) for p in parts)
            cands = [self._candidate_of(p) for p in parts] + found.candidates
            product_only = all(_PRODUCT_DOUBT in d for d in found.doubts)
            question = "" if product_only else "more than one medicine on this line? "
            return Ambiguous(
                reason=f"{question}recognised {shown}, but " + "; ".join(found.doubts),
                candidates=tuple(_unique(cands)),
            )
        if not parts:
            if isinstance(found.fuzzy_result, Unresolved):
                return found.fuzzy_result
            return Unresolved(reason="no drug name found in the entry")
        if len(parts) == 1:
            p = parts[0]
            miss = found.fuzzy_result
            if p.method is Method.FUZZY and isinstance(miss, Resolved):
                return miss
            return p.alone()
        ingredients = tuple(sorted({i for p in parts for i in p.ingredients}))
        fuzzy = any(p.method is Method.FUZZY for p in parts)
        product = _one_product(tokens, labels)
        return Resolved(
            matched=" + ".join(p.matched for p in parts),
            method=Method.FUZZY if fuzzy else Method.COMBINATION,
            score=min(p.score for p in parts),
            ingredients=ingredients,
            name_kind="combination" if product else "multiple",
            source="parts" if product else "line",
            parts=tuple(parts),
        )

    def _pack(self, cleaned: str, pack: re.Match[str]) -> tuple[Parsed, Resolution]:
        """An RxNorm pack "{n (product) / m (product)} Pack [Brand]": the union of its products."""
        parts: list[Part] = []
        doubts: list[str] = []
        for item in _PACK_ITEM.findall(pack["inner"]):
            if name_key(item).startswith("inert ingredient"):
                continue
            _, res = self.resolve(item)
            if isinstance(res, Resolved):
                parts.append(Part.of(item.strip(), res))
            else:
                doubts.append(f"{item.strip()!r}: {res.reason}")
        brand = _BRAND.search(pack["rest"])
        brand_text = brand[1].strip() if brand else ""
        parsed = Parsed(text=cleaned, name=brand_text or cleaned, form=("pack",))
        union = tuple(sorted({i for p in parts for i in p.ingredients}))
        if brand_text:
            _, named = self.resolve(brand_text)
            if isinstance(named, Resolved) and set(named.ingredients) != set(union):
                doubts.append(
                    f"the pack's brand {brand_text!r} names {'+'.join(named.ingredients)}, "
                    f"its contents {'+'.join(union) or 'nothing known'}"
                )
        if doubts or not parts:
            return parsed, Ambiguous(
                reason="a pack whose contents could not all be read: " + "; ".join(doubts),
                candidates=tuple(self._candidate_of(p) for p in parts),
            )
        return parsed, Resolved(
            matched=brand_text or " + ".join(p.matched for p in parts),
            method=Method.COMBINATION,
            score=min(p.score for p in parts),
            ingredients=union,
            name_kind="pack",
            source="rxnorm-pack",
            parts=tuple(parts) if len({p.ingredients for p in parts}) > 1 else (),
        )

    # --- lexicon helpers -----------------------------------------------------------------

    def _from_entries(self, entries: Sequence[NameEntry], method: Method) -> Resolution:
        if len({e[1] for e in entries}) > 1:
            return Ambiguous(
                reason="this name is used for more than one drug",
                candidates=self._candidates_from_entries(entries),
            )
        e = entries[0]
        return Resolved(
            matched=e[0],
            method=method,
            score=100.0,
            ingredients=self.lexicon.ingredients(e),
            name_kind=e[2],
            source=e[3],
        )

    def _candidates_from_entries(
        self, entries: Sequence[NameEntry], score: float = 100.0
    ) -> tuple[Candidate, ...]:
        seen: dict[int, Candidate] = {}
        for e in entries:
            if e[1] not in seen:
                ings = self.lexicon.ingredients(e)
                seen[e[1]] = Candidate(
                    name=e[0], ingredients=ings, classes=self._labels(ings), score=score
                )
        return tuple(seen.values())

    def _candidate_of(self, part: Part) -> Candidate:
        return Candidate(
            name=part.matched,
            ingredients=part.ingredients,
            classes=self._labels(part.ingredients),
            score=part.score,
        )

    def _labels(self, ingredients: tuple[str, ...]) -> tuple[str, ...]:
        labels = self._classes.get(ingredients)
        if labels is None:
            labels = self._classes[ingredients] = self.kb.classes_of(ingredients)
        return labels

    # --- fuzzy ---------------------------------------------------------------------------

    def _fuzzy(self, key: str) -> Resolution:
        cached = self._fuzzy_cache.get(key)
        if cached is None:
            cached = self._fuzzy_uncached(key)
            self._fuzzy_cache[key] = cached
        return cached

    def _prepare(self) -> _Search:
        """The searched vocabulary, the scorer with its scale, and rapidfuzz's extract calls."""
        if self._search_with is None:
            # Fuzzy matching searches reviewed (curated) names only: the thousands of generated
            # brand names stay available for exact matches but would add noise neighbours.
            from rapidfuzz import process

            text = self.lexicon.searchable
            scorer, scale = make_scorer(self.matching.scorer)
            vocabulary = text.split("\n") if text else []
            searched = set(vocabulary)
            self._search_with = _Search(
                vocabulary=vocabulary,
                exact_only=sorted(k for k in self.lexicon.names if k not in searched),
                scorer=scorer,
                scale=scale,
                extract=process.extract,
                extract_one=process.extractOne,
            )
        return self._search_with

    def _keys_of(self, ingredient: str) -> list[str]:
        """The names of a look-alike partner that name it alone (packed with the lexicon)."""
        if self._keys_by_ingredient is None:
            index: dict[str, list[str]] = {}
            for line in self.lexicon.partner_keys.split("\n"):
                if line:
                    ing, *keys = line.split("\t")
                    index[ing] = keys
            self._keys_by_ingredient = index
        return self._keys_by_ingredient.get(ingredient, [])

    def _search(self, key: str) -> list[tuple[float, NameEntry]]:
        """Every name scoring at least the suggestion floor, best per ingredient set.

        Every decision depends on these names alone: a winner needs the threshold, only a
        runner-up within the margin can stop it, and nothing weaker is ever offered (weaker
        names misled more than they helped: "Errin" drew heroin, "Novalgin" Novolin).
        """
        m = self.matching
        vocabulary, _, scorer, scale, extract, _ = self._prepare()
        cutoff, kept = m.suggest_floor / scale, m.limit * 4
        if m.scorer != "levenshtein":  # the index's bound holds for plain edit distance only
            hits = extract(key, vocabulary, scorer=scorer, limit=kept, score_cutoff=cutoff)
            return self._ranked(hits, scale)
        if self._nearby is None:
            self._nearby = NearbyIndex(vocabulary, m.suggest_floor / 100.0)
        ids, names = self._nearby.candidates(key)
        hits = extract(key, names, scorer=scorer, limit=None, score_cutoff=cutoff)
        # extract breaks ties by place in `names`; a scan of the vocabulary breaks them by
        # vocabulary order, and so does this (sorting the few hits, not every candidate)
        if len(hits) > 1:
            hits.sort(key=lambda hit: (-hit[1], ids[hit[2]]))
        return self._ranked(hits[:kept], scale)

    def _ranked(
        self, hits: Sequence[tuple[str, float, object]], scale: float
    ) -> list[tuple[float, NameEntry]]:
        """The best-scoring name of each distinct ingredient set, best first."""
        best: dict[int, tuple[float, NameEntry]] = {}
        entries_of = self.lexicon.names.get
        for candidate_key, raw_score, _ in hits:
            score = float(raw_score * scale)
            for e in entries_of(candidate_key, ()):
                held = best.get(e[1])
                if held is None or score > held[0]:
                    best[e[1]] = (score, e)
        return sorted(best.values(), key=lambda item: (-item[0], item[1][0]))

    def _fuzzy_uncached(self, key: str) -> Resolution:
        return self._judge(key, self._search(key))

    def _judge(self, key: str, ranked: list[tuple[float, NameEntry]]) -> Resolution:
        """The outcome from the leaders found (best first, one per ingredient set)."""
        m = self.matching
        # Only the leaders are ever shown (runner-up, up to `limit` suggestions).
        leaders = ranked[: max(m.limit, 3)]
        if letter_count(key) < m.min_letters:
            return Unresolved(
                reason=f"not a known name, and too short to guess (fewer than {m.min_letters} letters)",
                suggestions=tuple(
                    self._candidate(e, score) for score, e in leaders if score >= m.suggest_floor
                )[:3],
            )
        if not leaders:
            return Unresolved(reason=_NOTHING_CLOSE)
        top_entry = leaders[0][1]
        # the leader as a Candidate would show it (its score to one decimal); a Candidate is
        # made only when it is shown, not for the name a fuzzy match resolves to
        top_score = round(leaders[0][0], 1)
        ingredients = self.lexicon.ingredients(top_entry)
        runner = self._candidate(leaders[1][1], leaders[1][0]) if len(leaders) > 1 else None
        # With no runner-up, every other drug scores under the floor searched: no margin to show.
        margin = top_score - runner.score if runner else None
        partners = self._partners.get(ingredients)
        if partners is None:
            partners = self._partners[ingredients] = self.lexicon.lookalike_partners(ingredients)
        close_partners = self._close_partners(key, partners, top_score)
        clear = margin is None or margin >= m.margin
        if top_score >= m.threshold and clear and not close_partners:
            rival = self._rival(key, leaders[0][0], ingredients)
            if rival is not None:
                top = self._candidate(top_entry, leaders[0][0])
                return Ambiguous(
                    reason=f"too close to call between {top.name} and {rival.name}",
                    candidates=(top, rival),
                )
            return Resolved(
                matched=top_entry[0],
                method=Method.FUZZY,
                score=top_score,
                ingredients=ingredients,
                name_kind=top_entry[2],  # the name matched: its kind (brand, generic…)
                source=top_entry[3],
                margin=None if margin is None else round(margin, 1),
                runner_up=runner,
            )
        shown = [self._candidate(e, score) for score, e in leaders if score >= m.suggest_floor]
        shown = shown[: m.limit]
        # When no guess is made, offer every look-alike partner of the leader that is at all
        # close, so the reader sees "clonazepam or clonidine?", not just the leader.
        offered = close_partners or self._close_partners(key, partners, None)
        for p in offered:
            if all(p.ingredients != c.ingredients for c in shown):
                shown.append(p)
        top = self._candidate(top_entry, leaders[0][0])
        if top.score >= m.suggest_floor:
            if close_partners:
                names = ", ".join(p.name for p in close_partners)
                reason = f"close to {top.name}, which is a known look-alike of {names}"
            elif top.score >= m.threshold:
                reason = (
                    f"too close to call between {top.name} and {runner.name if runner else '?'}"
                )
            else:
                reason = f"not a known name; closest is {top.name} ({top.score:.0f}/100)"
            return Ambiguous(reason=reason, candidates=tuple(shown))
        return Unresolved(reason=_NOTHING_CLOSE)

    def _rival(self, key: str, top_score: float, ingredients: tuple[str, ...]) -> Candidate | None:
        """An exact-only name at least as close as the winner, naming other drugs: "Miralex" is
        as near MiraLax (a generated brand) as Mirapex, so no guess is safe. Closer curated
        names still win ("ketamin" is ketamine, not the thiamine brand Betamin)."""
        m = self.matching
        _, names, scorer, scale, extract, _ = self._prepare()
        if m.scorer == "levenshtein":
            if self._rivals is None:
                # a rival scores at least the winner, which has the threshold
                self._rivals = NearbyIndex(names, m.threshold / 100.0)
            _, names = self._rivals.candidates(key)
        # a hair under the winner: rapidfuzz turns the cutoff into whole edits, and a tie
        # computed in floating point would round the winner's own edit count away
        cutoff = (top_score - 1e-4) / scale
        hits = extract(key, names, scorer=scorer, limit=None, score_cutoff=cutoff)
        for name, raw, _ in sorted(hits, key=lambda hit: (-hit[1], hit[0])):
            for e in self.lexicon.names.get(name, ()):
                if self.lexicon.ingredients(e) != ingredients:
                    return self._candidate(e, float(raw) * scale)
        return None

    def _candidate(self, e: NameEntry, score: float) -> Candidate:
        made = self._candidates.get((e, score))
        if made is None:
            ings = self.lexicon.ingredients(e)
            made = self._candidates[(e, score)] = Candidate(
                name=e[0], ingredients=ings, classes=self._labels(ings), score=round(score, 1)
            )
        return made

    def _close_partners(
        self,
        key: str,
        partners: frozenset[str],
        top_score: float | None,
    ) -> list[Candidate]:
        """Look-alike partners scoring at least the floor (and, given a top score, within the window)."""
        m = self.matching
        search = self._prepare()
        close: list[Candidate] = []
        for ing in sorted(partners):
            # the first of the partner's best-scoring names
            best = search.extract_one(key, self._keys_of(ing), scorer=search.scorer)
            if best is None:
                continue
            best_key, best_score = best[0], float(best[1]) * search.scale
            if (
                best_key
                and best_score >= m.lookalike_floor
                and (top_score is None or best_score >= top_score - m.lookalike_window)
            ):
                e = self.lexicon.exact(best_key)[0]
                close.append(self._candidate(e, best_score))
        return close


# --- pure helpers over the labelled tokens ---------------------------------------------------

_PUNCT_ONLY = frozenset({_PUNCT})
_NEVER_STARTS = frozenset({_OPEN, _CLOSE, _SEPARATOR, _JOINER, _NUMBER_MARK, _PUNCT})
# How many letters an unknown word needs before it casts doubt, by where it stands.
_RIGHT_AFTER_NAME = 1  # "Tylenol Cold": part of the product's name
_NEW_ITEM = 3  # after a separator, a bracket or at the start: where a medicine would stand
_IN_INSTRUCTIONS = 5  # among dose and sig words: long unknown words only
_ORDINARY_WORD_LETTERS = 6
_MOST_GUESSES = 8  # fuzzy searches for one entry; a longer list of unknown words is in doubt
_MOST_DOUBTS = 6  # reasons given for one entry in doubt; the rest are counted, not examined
# Words and marks one entry may have: real lines and RxNorm names have at most about 30 (an
# RxNorm pack, up to 80, is read item by item); a longer entry is reported unread.
MOST_PIECES = 80
_MARKS = "()[]{};,-/+"
_PRODUCT_DOUBT = "may be a product with more ingredients"
_CLOCK = r"^(1[0-2]|0?[1-9])(:[0-5]\d)?$"  # compiled on first use: few lines end in a time
_NOTHING_CLOSE = "no known drug name is close to this"


def _best_cover(
    tokens: list[Token], starts: Mapping[int, list[tuple[int, tuple[NameEntry, ...]]]]
) -> list[tuple[int, int, tuple[NameEntry, ...]]]:
    """The names, among those starting at each token, that cover the line best (see _name_spans)."""
    n = len(tokens)
    # unknown[k], keyed[k]: unknown words and words before token k, so a span counts in O(1)
    unknown = [0] * (n + 1)
    keyed = [0] * (n + 1)
    for k, t in enumerate(tokens):
        unknown[k + 1] = unknown[k] + (t.label is _WORD)
        keyed[k + 1] = keyed[k] + bool(t.key)
    # best[i], from token i on: (unknown words covered, words covered, -names starting on
    # an instruction word, -names used)
    best: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)] * (n + 1)
    choice: list[tuple[int, tuple[NameEntry, ...]] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i] = best[i + 1]
        spans = starts.get(i)
        if spans is None:
            continue
        on_vocab = tokens[i].label not in (_WORD, _SALT, _STRENGTH)
        for j, entries in spans:
            r = best[j]
            score = (
                unknown[j] - unknown[i] + r[0],
                keyed[j] - keyed[i] + r[1],
                r[2] - on_vocab,
                r[3] - 1,
            )
            if score > best[i]:
                best[i], choice[i] = score, (j, entries)
    chosen: list[tuple[int, int, tuple[NameEntry, ...]]] = []
    i = 0
    while i < n:
        picked = choice[i]
        if picked is None:
            i += 1
            continue
        j, entries = picked
        chosen.append((i, j, entries))
        i = j
    return chosen


def _previous(labels: list[Label], i: int, *, skip: frozenset[Label] = frozenset()) -> Label | None:
    j = i - 1
    while j >= 0 and labels[j] in skip:
        j -= 1
    return labels[j] if j >= 0 else None


def _name_allowed(tokens: list[Token], start: int, end: int, after_name: bool) -> bool:
    """A name made only of instruction words ("magnesium") counts only where a name can stand."""
    for k in range(start, end):
        if tokens[k].label is _WORD:
            return True
    j = start - 1
    while j >= 0 and tokens[j].label is _PUNCT:
        j -= 1
    before = tokens[j].label if j >= 0 else None
    if tokens[start].label is _SALT:
        # "losartan potassium" is a salt; "sertraline 50 mg magnesium 400 mg" a second medicine,
        # and so is a name of several words ("savella potassium citrate")
        return end - start > 1 or not (after_name or before in (_WORD, _SALT))
    return before in (None, _SEPARATOR, _OPEN)


def _in_trailing_brackets(tokens: list[Token], i: int) -> bool:
    """Inside the "[Brand]" that ends an RxNorm branded-drug name."""
    if tokens[i].bracket != "[":
        return False
    rest = tokens[i:]
    close = (
        next(k for k, t in enumerate(rest) if t.label is _CLOSE)
        if any(t.label is _CLOSE for t in rest)
        else len(rest)
    )
    return all(t.label in (_CLOSE, _PUNCT) for t in rest[close:])


def _previous_token(tokens: list[Token], i: int) -> Token:
    """The token before `i` that is not punctuation (there is one: the caller saw its label)."""
    j = i - 1
    while tokens[j].label is _PUNCT:
        j -= 1
    return tokens[j]


def _salt_run_end(labels: list[Label], i: int) -> int:
    """Where the salt words from `i` end ("sodium chloride", "sodium-potassium")."""
    n, end = len(labels), i + 1
    while end < n and (
        labels[end] is _SALT
        or (labels[end] is _JOINER and end + 1 < n and labels[end + 1] is _SALT)
    ):
        end += 1
    return end


def _unnamed_medicines(found: _Found, tokens: list[Token], labels: list[Label]) -> None:
    """A part of the line with no name but a word for a medicine ("and pain meds") is a doubt."""
    unnamed, forms = vocab.UNNAMED_MEDICINES, vocab.UNNAMED_FORMS
    words = [t.word for t in tokens]
    if unnamed.isdisjoint(words) and forms.isdisjoint(words) and "birth" not in words:
        return
    cuts = [i for i, label in enumerate(labels) if label is _SEPARATOR]
    start = 0
    for end in [*cuts, len(tokens)]:
        part = range(start, end)
        after = words[start - 1] if start else ""
        start = end + 1
        if not part or any(labels[k] is _NAME for k in part):
            continue
        dosed = any(labels[k] is _STRENGTH for k in part)
        if any(
            words[k] in unnamed
            or (words[k] == "birth" and k + 1 < end and words[k + 1] == "control")
            or (words[k] in forms and after in vocab.WORD_SEPARATORS and not dosed)
            for k in part
        ):
            text = " ".join([tokens[k].text for k in part])
            found.doubts.append(f"{text!r} may be a medicine without its name")


def _clock_time(tokens: list[Token], start: int, end: int) -> bool:
    """True for "10:30 pm", or the "PM" of "at 5 PM": a time of day, not a product word."""
    last = end - 1
    if tokens[last].word not in ("am", "pm", "a.m", "p.m") or last == 0 or last - 1 < start - 1:
        return False
    hour = re.match(_CLOCK, tokens[last - 1].text)
    if hour is None or (end - start == 2) != (last - 1 == start):
        return False
    return bool(hour[2]) or (last >= 2 and tokens[last - 2].word in ("at", "@", "by", "around"))


def _negated_names(found: _Found, tokens: list[Token], labels: list[Label]) -> None:
    """A name right after "without", "no" or "not" is one the line says is not taken: a doubt."""
    for start, end in found.spans:
        before = start - 1
        if before >= 0 and labels[before] is not _NAME and tokens[before].word in vocab.NEGATORS:
            text = " ".join([t.text for t in tokens[before:end]])
            found.doubts.append(f"{text!r} says a medicine is not taken")


def _follows_name(labels: list[Label], i: int) -> bool:
    before = _previous(labels, i)
    if before is _JOINER:
        before = _previous(labels, i - 1)
    return before is _NAME


def _strictness(tokens: list[Token], labels: list[Label], start: int, end: int) -> int:
    if _follows_name(labels, start):
        return _RIGHT_AFTER_NAME
    if end < len(labels) and labels[end] is _STRENGTH:
        return _NEW_ITEM  # "Zoloft 50 mg Xanx 1 mg": a word with its own dose is a medicine
    before = _previous(labels, start, skip=_PUNCT_ONLY)
    if before in (None, _SEPARATOR, _OPEN):
        return _NEW_ITEM
    return _IN_INSTRUCTIONS


def _more_ingredients(
    tokens: list[Token], labels: list[Label], i: int, mark: str | None = None
) -> str:
    j = i - 1
    while j >= 0 and labels[j] is not _NAME:
        j -= 1
    k = j
    while k > 0 and labels[k - 1] is _NAME:
        k -= 1
    name = " ".join(t.text for t in tokens[k : j + 1])
    return f"{name} {mark or tokens[i].text!r} {_PRODUCT_DOUBT} than {name} alone"


def _distinct_parts(found: _Found, tokens: list[Token]) -> list[Part]:
    """The medicines of the line, with doubts added where a name may not be a second medicine.

    A bracketed name that only confirms the others is dropped ("ALPRAZolam (XANAX)"), and so is
    a repeat. A second name is doubted, not added, when it is a trailing "[Brand]" that names
    other ingredients than the clinical name before it, a one-word generated brand ("Choice"),
    or it follows "for" ("omeprazole for acid reflux": what it treats, or a medicine?).
    """
    if len(found.parts) == 1:
        return list(found.parts)  # one name: nothing it could repeat, confirm or be taken for
    pairs = list(zip(found.parts, found.spans, strict=True))
    outside = {i for p, (a, _) in pairs if not tokens[a].bracket for i in p.ingredients}
    several = len({p.ingredients for p in found.parts}) > 1
    markers = _indication_markers(tokens) if several else []
    kept: list[Part] = []
    for n, (p, (a, b)) in enumerate(pairs):
        mine = set(p.ingredients)
        if tokens[a].bracket and outside and mine <= outside:
            continue
        if several and tokens[a].bracket == "[" and outside and _in_trailing_brackets(tokens, a):
            found.doubts.append(
                f"the brand {p.text!r} names {'+'.join(p.ingredients)}, "
                f"the name before it {'+'.join(sorted(outside))}"
            )
            continue
        if several and _ordinary_word(p, tokens, a, b):
            found.doubts.append(f"{p.text!r} is also a brand name of {'+'.join(p.ingredients)}")
            continue
        marker = markers[a] if several else None
        if several and n and marker:
            found.doubts.append(
                f"{p.text!r} follows {marker!r}: what the medicine treats, or a second medicine?"
            )
            continue
        kept.append(p)
    out: list[Part] = []
    combined = [set(q.ingredients) for q in kept if len(q.ingredients) > 1]
    seen: set[tuple[str, ...]] = set()
    for p in kept:
        mine = set(p.ingredients)
        if p.ingredients in seen or any(mine < other for other in combined):
            continue  # "hydrocodone (Norco)": Norco says it all; a repeat says nothing new
        seen.add(p.ingredients)
        out.append(p)
    return out


def _ordinary_word(part: Part, tokens: list[Token], start: int, end: int) -> bool:
    """A short one-word generated brand ("Choice", "Depo") reads like an ordinary word."""
    return (
        part.source in (SOURCE_FDA, SOURCE_RXNORM)
        and part.method is not Method.FUZZY
        and end - start == 1
        and len(tokens[start].key) <= _ORDINARY_WORD_LETTERS
    )


def _indication_markers(tokens: list[Token]) -> list[str | None]:
    """For each token, the "for" (or "dx", "indication") earlier in its item of the line, if any."""
    out: list[str | None] = []
    marker: str | None = None
    for t in tokens:
        out.append(marker)
        if t.label in (_OPEN, _CLOSE) or (t.label is _SEPARATOR and t.word not in ("with",)):
            marker = None
        elif t.word in vocab.INDICATION_MARKERS:
            marker = t.text
    return out


def _one_product(tokens: list[Token], labels: list[Label]) -> bool:
    """True when the names are joined as one product ("A 5 MG / B 10 MG", "co-codamol")."""
    names = [i for i, label in enumerate(labels) if label is _NAME]
    gaps: list[list[int]] = []
    for a, b in itertools.pairwise(names):
        if b > a + 1:
            gaps.append(list(range(a + 1, b)))
    if not gaps:
        return True
    for gap in gaps:
        joiners = [
            k
            for k in gap
            if labels[k] is _JOINER
            or (labels[k] is _SEPARATOR and tokens[k].word in vocab.PRODUCT_JOINERS)
        ]
        rest = [k for k in gap if k not in joiners and labels[k] is not _STRENGTH]
        if len(joiners) != 1 or rest:
            return False
        if tokens[joiners[0]].word == "with" and len(gap) != 1:
            return False
    return True


def _most_letters(keys: list[str]) -> int:
    """The most letters of any key: `max(map(letter_count, keys))`, counting one key in most runs.

    A key never has more letters than characters, so when the longest key is all letters, no
    other key can have more (a run of 80 unknown words need not count each).
    """
    longest = max(keys, key=len)
    count = letter_count(longest)
    return count if count == len(longest) else max(map(letter_count, keys))


def _parsed(cleaned: str, tokens: list[Token], labels: list[Label]) -> Parsed:
    fields: dict[str, list[str]] = {}
    where = _PARSED_FIELD
    for t, label in zip(tokens, labels, strict=True):
        field_name = where[label]
        if field_name:
            fields.setdefault(field_name, []).append(t.text)
    got = fields.get
    name, note = got("name", []), got("note", [])
    if not name:  # nothing known: the unclaimed words are what was tried as a name
        name = [t.text for t, label in zip(tokens, labels, strict=True) if label is _WORD]
        tried = set(name)
        note = [w for w in note if w not in tried]
    return Parsed(
        text=cleaned,
        name=" ".join(name),
        strength=tuple(got("strength", ())),
        form=tuple(got("form", ())),
        route=tuple(got("route", ())),
        frequency=tuple(got("frequency", ())),
        release=tuple(got("release", ())),
        salt=tuple(got("salt", ())),
        note=tuple(note),
    )


_UNCLAIMED = frozenset({Label.WORD, Label.NUMBER_MARK})
_QUIET = frozenset({Label.OPEN, Label.CLOSE, Label.JOINER, Label.PUNCT, Label.SEPARATOR})


def _parse_field(label: Label) -> str:
    """Where a label's words go in the parse: the name, a dose or form field, the note, or ""."""
    if label is Label.NAME:
        return "name"
    if label in _FIELDS:
        return _FIELDS[label]
    if label not in _QUIET and (label in INSTRUCTION_LABELS or label in _UNCLAIMED):
        return "note"
    return ""


_PARSED_FIELD = {label: _parse_field(label) for label in Label}


def _unique(cands: list[Candidate]) -> list[Candidate]:
    seen: set[tuple[str, ...]] = set()
    out: list[Candidate] = []
    for c in cands:
        if c.ingredients not in seen:
            seen.add(c.ingredients)
            out.append(c)
    return out
