"""Resolve typed entries to ingredients: exact first, fuzzy only when the winner is clear."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ketcheck.kb.lexicon import NameEntry
from ketcheck.matching.normalise import (
    combination_parts,
    is_noise,
    letter_count,
    name_key,
    parse_entry,
    prefixes,
)
from ketcheck.model import (
    Ambiguous,
    Candidate,
    Method,
    Parsed,
    Resolution,
    Resolved,
    Unresolved,
)

if TYPE_CHECKING:
    from ketcheck.kb.knowledge import KnowledgeBase

Scorer = Callable[[str, str], float]


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


class Resolver:
    """Resolves entries against one knowledge base, caching by entry text and by name key."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.lexicon = kb.lexicon
        self.matching = kb.matching
        self._cache: dict[str, tuple[Parsed, Resolution]] = {}
        self._fuzzy_cache: dict[str, Resolution] = {}
        self._vocabulary: list[str] | None = None
        self._keys_by_ingredient: dict[str, list[str]] | None = None
        self._scorer: tuple[Callable[..., float], float] | None = None

    def resolve(self, text: str) -> tuple[Parsed, Resolution]:
        """Parse and resolve one entry (cached per exact text)."""
        hit = self._cache.get(text)
        if hit is None:
            parsed = parse_entry(text)
            hit = (parsed, self._resolve(text, parsed))
            self._cache[text] = hit
        return hit

    # --- tiers ---------------------------------------------------------------------------

    def _resolve(self, text: str, parsed: Parsed) -> Resolution:
        full = name_key(parsed.text)
        entries = self.lexicon.exact(full)
        if entries:
            return self._from_entries(entries, Method.EXACT)
        partial: tuple[NameEntry, ...] = ()
        partial_rest: list[str] = []
        for key, rest in prefixes(text):
            entries = self.lexicon.exact(key)
            if not entries:
                continue
            if is_noise(rest):
                return self._from_entries(entries, Method.NORMALISED)
            if not partial:
                partial, partial_rest = entries, rest
        key = name_key(parsed.name)
        if not key:
            return Unresolved(reason="no drug name found in the entry")
        entries = self.lexicon.exact(key)
        if entries:
            return self._from_entries(entries, Method.NORMALISED)
        combined = self._combination(parsed.name)
        if combined is not None:
            return combined
        fuzzy = self._fuzzy(key)
        if partial and not isinstance(fuzzy, Resolved):
            extra = " ".join(partial_rest)
            cands = self._candidates_from_entries(partial)
            return Ambiguous(
                reason=f"recognised {partial[0][0]!r} but not the words after it ({extra!r}); "
                "a combination product may contain more ingredients",
                candidates=cands,
            )
        return fuzzy

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

    def _labels(self, ingredients: Sequence[str]) -> tuple[str, ...]:
        return self.kb.classes_of(ingredients)

    def _combination(self, name: str) -> Resolution | None:
        parts = combination_parts(name)
        if not parts:
            return None
        found: list[str] = []
        shown: list[str] = []
        for part in parts:
            entries = self.lexicon.exact(name_key(part))
            if not entries or len({e[1] for e in entries}) > 1:
                return None
            found.extend(self.lexicon.ingredients(entries[0]))
            shown.append(entries[0][0])
        return Resolved(
            matched=" + ".join(shown),
            method=Method.COMBINATION,
            score=100.0,
            ingredients=tuple(sorted(set(found))),
            name_kind="combination",
            source="parts",
        )

    # --- fuzzy ---------------------------------------------------------------------------

    def _fuzzy(self, key: str) -> Resolution:
        cached = self._fuzzy_cache.get(key)
        if cached is None:
            cached = self._fuzzy_uncached(key)
            self._fuzzy_cache[key] = cached
        return cached

    def _prepare(self) -> tuple[list[str], tuple[Callable[..., float], float]]:
        if self._vocabulary is None or self._scorer is None:
            # Fuzzy matching searches reviewed (curated) names only: the thousands of generated
            # brand names stay available for exact matches but would add noise neighbours.
            self._vocabulary = [
                k
                for k, entries in self.lexicon.names.items()
                if any(e[3] != "fda-unii" for e in entries)
            ]
            self._scorer = make_scorer(self.matching.scorer)
        return self._vocabulary, self._scorer

    def _keys_of(self, ingredient: str) -> list[str]:
        if self._keys_by_ingredient is None:
            index: dict[str, list[str]] = {}
            for k, entries in self.lexicon.names.items():
                for e in entries:
                    ings = self.lexicon.sets[e[1]]
                    if len(ings) == 1:
                        index.setdefault(ings[0], []).append(k)
            self._keys_by_ingredient = index
        return self._keys_by_ingredient.get(ingredient, [])

    def _fuzzy_uncached(self, key: str) -> Resolution:
        from rapidfuzz import process

        m = self.matching
        vocabulary, (scorer, scale) = self._prepare()
        floor = max(0.0, min(m.suggest_floor, m.lookalike_floor) - 10.0)
        hits = process.extract(
            key, vocabulary, scorer=scorer, limit=m.limit * 4, score_cutoff=floor / scale
        )
        best: dict[int, tuple[float, NameEntry]] = {}
        for candidate_key, raw_score, _ in hits:
            score = raw_score * scale
            for e in self.lexicon.exact(candidate_key):
                if e[1] not in best or score > best[e[1]][0]:
                    best[e[1]] = (float(score), e)
        ranked = sorted(best.values(), key=lambda item: (-item[0], item[1][0]))
        # Only the leaders are ever shown (runner-up, up to `limit` suggestions).
        cands = [self._candidate(e, score) for score, e in ranked[: max(m.limit, 3)]]
        if letter_count(key) < m.min_letters:
            return Unresolved(
                reason=f"not a known name, and too short to guess (fewer than {m.min_letters} letters)",
                suggestions=tuple(c for c in cands if c.score >= m.suggest_floor)[:3],
            )
        if not cands:
            return Unresolved(reason="no known drug name is close to this")
        top = cands[0]
        runner = cands[1] if len(cands) > 1 else None
        margin = top.score - (runner.score if runner else 0.0)
        partners = self.lexicon.lookalike_partners(top.ingredients)
        close_partners = self._close_partners(key, partners, top.score, scorer, scale)
        if top.score >= m.threshold and margin >= m.margin and not close_partners:
            entry = ranked[0][1]  # the name matched: its kind (brand, generic…) and source
            return Resolved(
                matched=top.name,
                method=Method.FUZZY,
                score=round(top.score, 1),
                ingredients=top.ingredients,
                name_kind=entry[2],
                source=entry[3],
                margin=round(margin, 1),
                runner_up=runner,
            )
        shown = [c for c in cands if c.score >= m.suggest_floor][: m.limit]
        # When no guess is made, offer every look-alike partner of the leader that is at all
        # close, so the reader sees "clonazepam or clonidine?", not just the leader.
        offered = close_partners or self._close_partners(key, partners, None, scorer, scale)
        for p in offered:
            if all(p.ingredients != c.ingredients for c in shown):
                shown.append(p)
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
        return Unresolved(
            reason="no known drug name is close enough to this",
            suggestions=tuple(cands[:3]) if top.score >= m.suggest_floor - 10 else (),
        )

    def _candidate(self, e: NameEntry, score: float) -> Candidate:
        ings = self.lexicon.ingredients(e)
        return Candidate(
            name=e[0], ingredients=ings, classes=self._labels(ings), score=round(score, 1)
        )

    def _close_partners(
        self,
        key: str,
        partners: frozenset[str],
        top_score: float | None,
        scorer: Callable[..., float],
        scale: float,
    ) -> list[Candidate]:
        """Look-alike partners scoring at least the floor (and, given a top score, within the window)."""
        m = self.matching
        close: list[Candidate] = []
        for ing in sorted(partners):
            best_key, best_score = "", -1.0
            for k in self._keys_of(ing):
                s = float(scorer(key, k)) * scale
                if s > best_score:
                    best_key, best_score = k, s
            if (
                best_key
                and best_score >= m.lookalike_floor
                and (top_score is None or best_score >= top_score - m.lookalike_window)
            ):
                e = self.lexicon.exact(best_key)[0]
                close.append(self._candidate(e, best_score))
        return close
