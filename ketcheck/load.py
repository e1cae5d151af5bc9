"""Read the bundled tables and protocol files; compile the tables once into a cache."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from ketcheck import __version__
from ketcheck.errors import DataError, ProtocolError
from ketcheck.knowledge import KnowledgeBase, build
from ketcheck.protocol import Protocol, from_table

_TABLES = (
    "meta.toml",
    "classes.toml",
    "rules.toml",
    "combinations.toml",
    "matching.toml",
    "lookalikes.toml",
)
_FOLDERS = ("ingredients", "products")
_GENERATED = "generated/fda-names.tsv"
CACHE_FORMAT = 3


def data_root() -> Traversable:
    """The data folder: inside the installed package, else the source checkout's `data/`."""
    packaged = resources.files("ketcheck") / "data"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "data"
    if checkout.is_dir():
        return checkout
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
    g = root / _GENERATED
    if g.is_file():
        yield _GENERATED, g


def read_sources(root: Traversable) -> tuple[dict[str, Any], str]:
    """Parse every data file; returns the parsed sources and a hash of their bytes."""
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
    sources, digest = read_sources(root)
    release = str(sources.get("meta.toml", {}).get("release", "unreleased"))
    return build(sources, version=f"{release}+{digest[:10]}")


def _fingerprint(root: Traversable) -> str | None:
    if not isinstance(root, Path):
        return None
    h = hashlib.sha256(f"{__version__}:{CACHE_FORMAT}:{root}".encode())
    for name, f in source_files(root):
        st = os.stat(f)  # type: ignore[arg-type]
        h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


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
    from ketcheck.compiled import from_compact, to_compact

    root = data_root()
    fingerprint = _fingerprint(root)
    target = cache_dir() / f"kb-{fingerprint}.json" if fingerprint else None
    if target is not None:
        try:
            with open(target, "rb") as fh:
                return from_compact(json.load(fh))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    kb = compile_knowledge(root)
    if target is not None:
        _write_atomic(target, json.dumps(to_compact(kb), separators=(",", ":")).encode())
    return kb


def _write_atomic(target: Path, payload: bytes) -> None:
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


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    text = str(exc)
    if "(at line " in text:
        reason, _, where = text.rpartition(" (at ")
        return f"{where.rstrip(')')}: {reason}"
    return text


def default_protocol_path() -> Path:
    """The per-user protocol file ketcheck looks for when none is given."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ketcheck" / "protocol.toml"
