"""Findings made from findings (clock times, dose notes, half-lives), each made once per run.

The rules give patients with equal entries the same finding objects; each later stage that
copies a finding with a change asks a `Derived` first, so equal inputs keep giving one object:
a batch copies each once, and its writer, which knows findings by identity, encodes each once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ketcheck.model import Finding

# Derived findings kept (the oldest dropped first): a bound that fills within the first
# 10,000 rows of a realistic batch, so memory stays flat after them (bench: RSS at 1,000,000
# rows at most 1.25x that at 10,000; 2,048 would still be filling at 100,000 rows). Each
# keeps its source alive.
DERIVED_KEPT = 512

Make = Callable[..., Finding]


class Derived:
    """At most `limit` findings, each `make(source, anchor, *args)` for the same inputs."""

    __slots__ = ("_kept", "limit")

    def __init__(self, limit: int = DERIVED_KEPT) -> None:
        self.limit = limit
        self._kept: dict[tuple[Make, int, tuple[Hashable, ...]], tuple[Finding, object, Finding]]
        self._kept = {}

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, make: Make, source: Finding, anchor: object, *args: Hashable) -> Finding:
        """`make(source, anchor, *args)`, made once: `make` must depend on nothing else.

        `source` and `anchor` (an input that cannot be hashed, such as the patient tables) are
        matched by identity, `args` by value.
        """
        kept = self._kept
        key = (make, id(source), args)
        hit = kept.get(key)
        if hit is not None and hit[0] is source and hit[1] is anchor:
            return hit[2]
        made = make(source, anchor, *args)
        if len(kept) >= self.limit:
            del kept[next(iter(kept))]
        kept[key] = (source, anchor, made)
        return made
