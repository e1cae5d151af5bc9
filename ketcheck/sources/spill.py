"""The batch spill: what grouping needs, in SQLite's private temporary database.

`sqlite3.connect("")` is a private on-disk database that SQLite creates in $TMPDIR only when
its page cache overflows, with mode 0600, and unlinks as soon as it is opened: no name ever
points to it, so it is gone when the process ends, however it ends (even SIGKILL).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from hashlib import blake2b
from types import TracebackType

_BITS = 1 << 22  # a fixed 512 KiB filter: most new ids never need a look-up
_CHUNK = 2000

Run = tuple[str, int, list[tuple[str, bool]]]  # patient id, first line, [(medication, recent)]


class Spill:
    """Rows of patients held until the input ends, and the ids seen so far; memory stays flat."""

    def __init__(self) -> None:
        db = self._db = sqlite3.connect("")
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-1024")  # KiB: what stays in memory; the rest is on disk
        db.execute(
            "CREATE TABLE patients (pid TEXT PRIMARY KEY, ord INTEGER, rows INTEGER) WITHOUT ROWID"
        )
        db.execute(
            "CREATE TABLE runs (ord INTEGER, seq INTEGER, line INTEGER, pid TEXT, meds TEXT, "
            "PRIMARY KEY (ord, seq)) WITHOUT ROWID"
        )
        db.execute("CREATE TABLE seen (digest BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._bits = bytearray(_BITS // 8)
        self._key = os.urandom(16)  # ids are kept only as digests under a key that dies with us
        self._pending_seen: list[tuple[bytes, int]] = []
        self.patients = 0

    def __enter__(self) -> Spill:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Drop everything (SQLite removes its temporary file, already unlinked, on close)."""
        self._db.close()

    def _maybe_seen(self, value: object) -> bool:
        i = hash(value) & (_BITS - 1)
        byte, bit = i >> 3, 1 << (i & 7)
        seen = self._bits[byte] & bit
        self._bits[byte] |= bit
        return bool(seen)

    # --- JSON Lines: ids only, as keyed digests ----------------------------------------------

    def first_seen(self, pid: str | int, line: int) -> int | None:
        """The line where this id was first seen, or None (and the id is remembered from now)."""
        tag = ("i" if isinstance(pid, int) else "s") + str(pid)
        digest = blake2b(
            tag.encode("utf-8", "surrogatepass"), key=self._key, digest_size=16
        ).digest()
        if self._maybe_seen(digest):
            self._flush_seen()
            hit = self._db.execute("SELECT line FROM seen WHERE digest = ?", (digest,)).fetchone()
            if hit is not None:
                return int(hit[0])
        self._pending_seen.append((digest, line))
        if len(self._pending_seen) >= _CHUNK:
            self._flush_seen()
        return None

    def _flush_seen(self) -> None:
        self._db.executemany("INSERT INTO seen VALUES (?, ?)", self._pending_seen)
        self._pending_seen.clear()

    # --- CSV: runs of consecutive rows, grouped per patient ----------------------------------

    def grouped(
        self, runs: Iterable[Run], *, limit: int, too_many: Callable[[str, int], Exception]
    ) -> Iterator[Run]:
        """Every patient once, in first-seen order, with the rows of all its runs in file order.

        Reads all of `runs` first (a later row may belong to any earlier patient); raises
        `too_many(pid, line)` when a patient's rows exceed `limit`.
        """
        db = self._db
        new: list[tuple[str, int, int]] = []
        held: list[tuple[int, int, int, str | None, str]] = []

        def flush() -> None:
            db.executemany("INSERT INTO patients VALUES (?, ?, ?)", new)
            db.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?)", held)
            new.clear()
            held.clear()

        for seq, (pid, line, rows) in enumerate(runs):
            meds = "\n".join(("1" if recent else "0") + med for med, recent in rows)
            if self._maybe_seen(pid):
                flush()
                hit = db.execute("SELECT ord, rows FROM patients WHERE pid = ?", (pid,)).fetchone()
                if hit is not None:
                    total = hit[1] + len(rows)
                    if total > limit:
                        raise too_many(pid, line)
                    db.execute("UPDATE patients SET rows = ? WHERE pid = ?", (total, pid))
                    held.append((hit[0], seq, line, None, meds))
                    continue
            new.append((pid, self.patients, len(rows)))
            held.append((self.patients, seq, line, pid, meds))
            self.patients += 1
            if len(held) >= _CHUNK:
                flush()
        flush()
        current: Run | None = None
        number = -1
        for ord_, line, pid, meds in db.execute(
            "SELECT ord, line, pid, meds FROM runs ORDER BY ord, seq"
        ):
            rows = [(m[1:], m[0] == "1") for m in meds.split("\n")]
            if ord_ != number:
                if current is not None:
                    yield current
                number, current = ord_, (pid, line, rows)
            elif current is not None:
                current[2].extend(rows)
        if current is not None:
            yield current
