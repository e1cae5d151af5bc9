"""Read the bundled tables and protocol files; compile the tables once into a cache."""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterator
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ketcheck import __version__
from ketcheck.errors import DataError, ProtocolError
from ketcheck.kb.knowledge import KnowledgeBase

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from ketcheck.kb.protocol import Protocol

_TABLES = (
    "meta.toml",
    "classes.toml",
    "rules.toml",
    "combinations.toml",
    "matching.toml",
    "lookalikes.toml",
    "shared-names.toml",
)
_FOLDERS = ("ingredients", "products")
_GENERATED = ("generated/fda-names.tsv", "generated/rxnorm-codes.tsv")
CACHE_FORMAT = 8  # bump when the packing itself changes; record fields are checked by layout


def data_root() -> Traversable:
    """The data folder: $KETCHECK_DATA_DIR, else inside the package, else the checkout's `data/`."""
    override = os.environ.get("KETCHECK_DATA_DIR")
    if override:
        path = Path(override)
        if not path.is_dir():
            raise DataError(f"KETCHECK_DATA_DIR={override}: not a directory")
        return path
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "data", package.parent / "data"):  # installed wheel, then checkout
        if candidate.is_dir():
            return candidate
    from importlib import resources  # a zipped install: read through importlib.resources

    packaged = resources.files("ketcheck") / "data"
    if packaged.is_dir():
        return packaged
    raise DataError("bundled data not found: the package is missing its data/ folder")


def source_files(root: Traversable) -> Iterator[tuple[str, Traversable]]:
    """Every data file the knowledge base is built from, as (relative name, file)."""
    for name in _TABLES:
        f = root / name
        if f.is_file():
            yield name, f
    for folder in _FOLDERS:
        d = root / folder
        if d.is_dir():
            for f in sorted(d.iterdir(), key=lambda t: t.name):
                if f.name.endswith(".toml"):
                    yield f"{folder}/{f.name}", f
    for name in _GENERATED:
        g = root / name
        if g.is_file():
            yield name, g


def read_sources(root: Traversable) -> tuple[dict[str, Any], str]:
    """Parse every data file; returns the parsed sources and a hash of their bytes."""
    import hashlib
    import tomllib

    digest = hashlib.sha256()
    sources: dict[str, Any] = {}
    for name, f in source_files(root):
        raw = f.read_bytes()
        digest.update(name.encode() + b"\0" + raw + b"\0")
        if name.endswith(".tsv"):
            rows = [ln for ln in raw.decode("utf-8").splitlines() if ln and not ln.startswith("#")]
            sources[name] = [r.split("\t") for r in rows[1:]]  # the first row is the header
            continue
        try:
            sources[name] = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"data/{name}: invalid TOML: {exc}") from None
    return sources, digest.hexdigest()


def compile_knowledge(root: Traversable) -> KnowledgeBase:
    """Build the knowledge base from the authored TOML (slow path; validates everything)."""
    from ketcheck.kb.knowledge import build

    sources, digest = read_sources(root)
    release = str(sources.get("meta.toml", {}).get("release", "unreleased"))
    return build(sources, version=f"{release}+{digest[:10]}")


def _fingerprint(root: Traversable) -> str | None:
    if not isinstance(root, Path):
        return None
    # Plain os calls on str paths: this runs on every start, and pathlib costs a millisecond here.
    base = os.fspath(root)
    parts = [f"{__version__}:{CACHE_FORMAT}:{base}"]
    for name in (*_TABLES, *_GENERATED):
        try:
            st = os.stat(os.path.join(base, name))
        except OSError:
            continue
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    for folder in _FOLDERS:
        try:
            with os.scandir(os.path.join(base, folder)) as it:
                found = sorted((e.name, e.stat()) for e in it if e.name.endswith(".toml"))
        except OSError:
            continue
        parts.extend(f"{folder}/{n}:{st.st_size}:{st.st_mtime_ns}" for n, st in found)
    # A cache key, not a security boundary: a fast stable hash of names, sizes and mtimes.
    from zlib import crc32

    text = "\n".join(parts).encode()
    return f"{crc32(text):08x}{crc32(text[::-1]):08x}{len(parts):04x}"


def cache_dir() -> Path:
    """Where compiled knowledge is kept: $KETCHECK_CACHE_DIR, else the user cache folder."""
    explicit = os.environ.get("KETCHECK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ketcheck"


@cache
def load_bundled() -> KnowledgeBase:
    """The bundled knowledge base, from the compiled cache when the sources are unchanged."""
    from ketcheck.kb.compiled import from_compact, to_compact

    root = data_root()
    fingerprint = _fingerprint(root)
    # marshal is the fastest safe reader of plain values; its format is per Python version.
    tag = sys.implementation.cache_tag or "py"
    target = cache_dir() / f"kb-{fingerprint}.{tag}.marshal" if fingerprint else None
    if target is not None:
        # The RxNorm codes are most of the bytes and few checks ask: they have their own file.
        codes_file = target.with_name(f"rxnorm-{fingerprint}.{tag}.marshal")
        try:
            with open(target, "rb") as fh:
                return from_compact(marshal.loads(fh.read()), codes=lambda: _codes(codes_file))
        except (OSError, ValueError, EOFError, KeyError, TypeError, IndexError):
            pass
    kb = compile_knowledge(root)
    if target is not None:
        compact = to_compact(kb)
        _write_atomic(codes_file, marshal.dumps(compact.pop("rxnorm")))
        _write_atomic(target, marshal.dumps(compact))
        _prune(target.parent, keep=(target.name, codes_file.name))
    return kb


def _codes(path: Path) -> list[Any]:
    """The packed RxNorm code table from its cache file, rebuilt from the data if unreadable."""
    try:
        with open(path, "rb") as fh:
            packed = marshal.loads(fh.read())
        if isinstance(packed, list) and len(packed) == 3:
            return packed
    except (OSError, ValueError, EOFError, TypeError):
        pass
    from ketcheck.kb.compiled import pack_codes

    packed = pack_codes(compile_knowledge(data_root()))
    _write_atomic(path, marshal.dumps(packed))
    return packed


STALE_AFTER_DAYS = 30


def _prune(folder: Path, *, keep: tuple[str, ...]) -> None:
    """Remove compiled caches untouched for a month (left by older data or releases)."""
    import time

    cutoff = time.time() - STALE_AFTER_DAYS * 86400
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.startswith(("kb-", "rxnorm-")) and entry.name not in keep:
                    with suppress(OSError):
                        if entry.stat().st_mtime < cutoff:
                            os.unlink(entry.path)
    except OSError:
        pass  # pruning is housekeeping; never a reason to fail a check


def _write_atomic(target: Path, payload: bytes) -> None:
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".kb-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache only costs speed


def read_protocol(path: str | os.PathLike[str], kb: KnowledgeBase) -> Protocol:
    """Load and validate a clinic protocol file; errors name the file, line or key, and reason."""
    import tomllib

    from ketcheck.kb.protocol import from_table

    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except FileNotFoundError:
        raise ProtocolError(f"{name}: protocol file not found") from None
    except IsADirectoryError:
        raise ProtocolError(f"{name}: is a directory, not a protocol file") from None
    except OSError as exc:
        raise ProtocolError(f"{name}: cannot read protocol file: {exc.strerror}") from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError(f"{name}: protocol file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProtocolError(f"{name}: invalid TOML: {_toml_reason(exc)}") from None
    return from_table(table, kb, name=name)


def _toml_reason(exc: Exception) -> str:
    text = str(exc)
    if "(at line " in text:
        reason, _, where = text.rpartition(" (at ")
        return f"{where.rstrip(')')}: {reason}"
    return text


def default_protocol_path() -> Path:
    """The per-user protocol file ketcheck looks for when none is given."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ketcheck" / "protocol.toml"
