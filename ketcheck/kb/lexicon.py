"""The name index: every known name key mapped to the ingredient sets it stands for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple


class NameEntry(NamedTuple):
    """One known name: as written, its ingredient set, its kind and where it comes from."""

    display: str
    set_index: int  # index into Lexicon.sets
    kind: str  # generic | brand | synonym | product
    source: str  # curated | fda-unii


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Lexicon:
    """Exact lookup by normalised key, plus the vocabulary fuzzy matching searches."""

    names: Mapping[str, tuple[NameEntry, ...]]
    sets: tuple[tuple[str, ...], ...]
    partners: Mapping[str, tuple[str, ...]]
    dropped_generated: int = 0
    # Kept packed ("\n"-joined) and split on first use, so an exact-name check never pays:
    searchable: str = ""  # the keys fuzzy matching searches (reviewed names), in key order
    prefixes: str = ""  # every known name and each of its leading word sequences
    partner_keys: str = ""  # per look-alike partner: "ingredient\tkey\tkey…", its one-drug names

    def exact(self, key: str) -> tuple[NameEntry, ...]:
        """Entries whose normalised key equals this key (empty when none)."""
        return self.names.get(key, ())

    def ingredients(self, entry: NameEntry) -> tuple[str, ...]:
        """The ingredient set a name entry stands for."""
        return self.sets[entry.set_index]

    def lookalike_partners(self, ingredients: tuple[str, ...]) -> frozenset[str]:
        """Ingredients that are known look-alikes of any of these."""
        out: set[str] = set()
        for ing in ingredients:
            out.update(self.partners.get(ing, ()))
        return frozenset(out - set(ingredients))


def search_texts(
    names: Mapping[str, tuple[NameEntry, ...]],
    sets: tuple[tuple[str, ...], ...],
    partners: Mapping[str, tuple[str, ...]],
    searched: str,
) -> tuple[str, str, str]:
    """`Lexicon.searchable`, `.prefixes` and `.partner_keys` for these names; `searched` is the
    source whose names fuzzy matching searches (the generated brands stay exact-only)."""
    keys = [k for k, entries in names.items() if any(e.source == searched for e in entries)]
    leading: set[str] = set()
    for key in names:
        words = key.split(" ")
        leading.update(" ".join(words[:k]) for k in range(1, len(words) + 1))
    wanted = {p for others in partners.values() for p in others}
    alone: dict[str, list[str]] = {}
    for key, entries in names.items():
        for e in entries:
            ings = sets[e.set_index]
            if len(ings) == 1 and ings[0] in wanted:
                alone.setdefault(ings[0], []).append(key)
    partner_keys = "\n".join("\t".join((ing, *found)) for ing, found in sorted(alone.items()))
    return "\n".join(keys), "\n".join(sorted(leading)), partner_keys
