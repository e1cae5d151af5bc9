"""Every vocabulary name close to a query by edit similarity, found exactly without scanning all names.

A name of length n within k edits of the query keeps one of k + 1 segments of itself intact,
shifted by at most k places (the pigeonhole behind PassJoin). So each name is split once, for
the most edits any query could be allowed against it, and a query looks up only its own
substrings at those places. The names found are then scored by rapidfuzz as before; the index
only skips names that cannot reach the floor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import call, itemgetter

_EPSILON = 1e-9
# Per query length: one table per distinct substring looked up (the piece tables of every name
# length that looks there, merged), and the cut making those substrings in the same order.
_Lookup = Callable[[str], list[int] | None]
_Plan = tuple[tuple[_Lookup, ...], Callable[[str], tuple[str, ...]]] | None


def most_edits(length: int, floor: float) -> int:
    """The most edits a pair whose longer side has this length may have and still reach the floor.

    The floor is a normalised similarity on a 0-1 scale: 1 - edits / longer length.
    """
    return int((1.0 - floor) * length + _EPSILON)


def _segments(length: int, parts: int) -> list[tuple[int, int]]:
    """(start, length) of `parts` near-equal pieces of a string of this length, longer ones last."""
    base, extra = divmod(length, parts)
    out, start = [], 0
    for i in range(parts):
        size = base + (1 if i >= parts - extra else 0)
        out.append((start, size))
        start += size
    return out


class NearbyIndex:
    """Finds the names whose normalised Levenshtein similarity to a query can reach a floor."""

    __slots__ = ("_always", "_by_length", "_floor", "_lengths", "_names", "_plans")

    def __init__(self, names: Sequence[str], floor: float) -> None:
        self._names = names
        self._floor = floor
        self._always: list[int] = []  # names too short to split: every query checks them
        # Names by length; each length is split the first time a query needs it (one typo
        # needs a few lengths, so a single check never pays for the whole index).
        self._lengths: dict[int, list[int]] = {}
        for ident, name in enumerate(names):
            n = len(name)
            longest_query = int(n / floor + _EPSILON) if floor > 0 else n
            if n == 0 or floor <= 0 or most_edits(longest_query, floor) >= n:
                self._always.append(ident)
            else:
                self._lengths.setdefault(n, []).append(ident)
        # length -> most edits allowed -> the pieces of that split: (start, size, piece -> names)
        self._by_length: dict[int, dict[int, list[tuple[int, int, dict[str, list[int]]]]]] = {}
        self._plans: dict[int, _Plan] = {}

    def _splits(self, n: int) -> dict[int, list[tuple[int, int, dict[str, list[int]]]]]:
        """The names of length n split into pieces, once for each number of edits allowed."""
        splits = self._by_length.get(n)
        if splits is None:
            splits = self._by_length[n] = {}
            floor, names = self._floor, self._names
            longest_query = int(n / floor + _EPSILON)
            for edits in {most_edits(m, floor) for m in range(n, longest_query + 1)}:
                pieces: list[tuple[int, int, dict[str, list[int]]]] = [
                    (s, k, {}) for s, k in _segments(n, edits + 1)
                ]
                for ident in self._lengths.get(n, ()):
                    name = names[ident]
                    for start, size, table in pieces:
                        table.setdefault(name[start : start + size], []).append(ident)
                splits[edits] = pieces
        return splits

    def near(self, query: str) -> list[int]:
        """Indexes of every name that may reach the floor against the query, in no set order.

        Never misses such a name; may include some that fall short (the caller scores them).
        """
        la = len(query)
        try:
            plan = self._plans[la]
        except KeyError:  # once per query length
            plan = self._plans[la] = self._plan(la)
        if plan is None:
            return list(self._always)
        gets, cut = plan
        # each distinct substring is cut once and looked up once, in C: some ten look-ups
        hits = filter(None, map(call, gets, cut(query)))
        return list(set(self._always).union(*hits))

    def _plan(self, la: int) -> _Plan:
        """Where a query of this length is looked up: a table per distinct substring, and the cut."""
        floor = self._floor
        # the piece tables each distinct substring (start, end) of the query is looked up in
        looked: dict[tuple[int, int], list[dict[str, list[int]]]] = {}
        # only names whose length difference alone leaves the floor within reach
        lowest, highest = int(floor * la - _EPSILON) or 1, int(la / floor + _EPSILON)
        for n in sorted(self._lengths):  # a few dozen lengths, where a long query spans hundreds
            if n < lowest or n > highest:
                continue
            splits = self._splits(n)
            shorter, longer = (la, n) if la < n else (n, la)
            if shorter < floor * longer - _EPSILON:
                continue
            edits = most_edits(longer, floor)
            pieces = splits.get(edits)
            if pieces is None:
                continue
            grow = la - n
            # Some intact piece i has at most i edits before it and edits - i after it, so
            # it stands within i places of its own start, and within edits - i of the
            # start the length difference predicts (PassJoin's multi-match-aware window).
            for i, (start, size, table) in enumerate(pieces):
                first = max(0, start - i, start + grow - edits + i)
                last = min(la - size, start + i, start + grow + edits - i)
                for s in range(first, last + 1):
                    looked.setdefault((s, s + size), []).append(table)
        if not looked:
            return None
        # Several piece tables looked up with one substring become one table: the same names
        # in a third of the look-ups (a query of 8 letters makes some 26 look-ups in 10 places).
        gets = tuple(_merged(tables).get for tables in looked.values())
        cuts = [slice(a, b) for a, b in looked]
        # itemgetter of one item returns it bare, not in a tuple: give each at least two
        if len(cuts) == 1:
            return (gets[0], gets[0]), itemgetter(cuts[0], cuts[0])
        return gets, itemgetter(*cuts)

    def candidates(self, query: str) -> tuple[list[int], list[str]]:
        """The indexes `near` finds and their names, in the same (unset) order."""
        found = self.near(query)
        return found, list(map(self._names.__getitem__, found))


def _merged(tables: list[dict[str, list[int]]]) -> dict[str, list[int]]:
    """One table holding, for each piece, the names of every table given (the table itself if one).

    A name may be listed twice under a piece; `near` takes the union, so that costs nothing.
    """
    if len(tables) == 1:
        return tables[0]
    tables = sorted(tables, key=len, reverse=True)
    # the lists are shared, never changed: a piece met again gets a new list
    merged = dict(tables[0])
    for table in tables[1:]:
        for piece, idents in table.items():
            held = merged.get(piece)
            merged[piece] = idents if held is None else held + idents
    return merged
