"""Read the bundled tables and protocol files; compile the tables once into a cache."""

from __future__ import annotations

import marshal
import os
import stat
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
# The patient-context tables (read by kb/patient.py): parsed apart, but part of the data version.
PATIENT_TABLES = ("conditions.toml", "doses.toml", "halflives.toml")
# Bump when the packing, the file layout or what is compiled from the same files changes (8:
# main's packing 7 behind a header with the payload's CRC-32; 9: RxNorm pack brands are names);
# record fields are checked by layout.
CACHE_FORMAT = 9


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
    """Parse every data file; returns the parsed sources and a hash of their bytes (the
    patient-context tables' bytes too, so the data version covers every file)."""
    import hashlib
    import tomllib

    digest = hashlib.sha256()
    sources: dict[str, Any] = {}
    for name, f in source_files(root):
        raw = f.read_bytes()
        digest.update(name.encode() + b"\0" + raw + b"\0")
        if name.endswith(".tsv"):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"data/{name}: not UTF-8 text (byte {exc.start})") from None
            lines = [ln.rstrip("\r") for ln in text.split("\n")]
            rows = [(n, ln) for n, ln in enumerate(lines, 1) if ln and not ln.startswith("#")]
            table = [(n, ln.split("\t")) for n, ln in rows[1:]]  # the first row is the header
            width = len(rows[0][1].split("\t")) if rows else 0
            for n, cells in table:
                if len(cells) < width:
                    raise DataError(f"data/{name}: line {n}: {len(cells)} of {width} columns")
            sources[name] = [cells for _, cells in table]
            continue
        try:
            sources[name] = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"data/{name}: invalid TOML: {exc}") from None
        except RecursionError:
            raise DataError(f"data/{name}: invalid TOML: nested too deeply") from None
    for name in PATIENT_TABLES:
        f = root / name
        if f.is_file():
            digest.update(name.encode() + b"\0" + f.read_bytes() + b"\0")
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

    def stamp(st: os.stat_result) -> str:
        # ctime as well as mtime: `touch -r` can restore an mtime, but not the change time.
        return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"

    for name in (*_TABLES, *_GENERATED, *PATIENT_TABLES):
        try:
            st = os.stat(os.path.join(base, name))
        except OSError:
            continue
        parts.append(f"{name}:{stamp(st)}")
    for folder in _FOLDERS:
        try:
            with os.scandir(os.path.join(base, folder)) as it:
                found = sorted((e.name, e.stat()) for e in it if e.name.endswith(".toml"))
        except OSError:
            continue
        parts.extend(f"{folder}/{n}:{stamp(st)}" for n, st in found)
    # A cache key, not a security boundary (the checks in _read_cache are): names and stat data.
    from zlib import crc32

    text = "\n".join(parts).encode()
    return f"{crc32(text):08x}{crc32(text[::-1]):08x}{len(parts):04x}"


def cache_dir() -> Path | None:
    """Where compiled knowledge is kept: $KETCHECK_CACHE_DIR, else the user cache folder.

    A relative $XDG_CACHE_HOME is ignored, as the XDG spec asks; None when there is no home.
    """
    explicit = os.environ.get("KETCHECK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "ketcheck"
    home = os.path.expanduser("~")
    if not os.path.isabs(home):
        return None
    return Path(home) / ".cache" / "ketcheck"


MAX_CACHE_BYTES = 64 << 20
_MAGIC = b"ketcheck-kb\x00"
_HEADER = len(_MAGIC) + 12  # magic, payload length (8 bytes), CRC-32 of the payload (4 bytes)
_problems: list[str] = []


class _Unusable(Exception):
    """The cache folder cannot be trusted or written; the message says why."""


def cache_problem() -> str | None:
    """Why the compiled cache could not be used in this process, if it could not (said once)."""
    return _problems[0] if _problems else None


def _unusable(reason: str) -> None:
    if not _problems:
        _problems.append(
            f"compiled cache not used ({reason}); running from the source tables, which is "
            "slower. Set KETCHECK_CACHE_DIR to a folder only you can write."
        )


def _open_private_dir(path: Path) -> int:
    """A descriptor of a folder owned by this user that no one else can write into."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _Unusable(f"{name}: {exc.strerror}") from None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        os.close(fd)
        raise _Unusable(f"{name} belongs to another user")
    if st.st_mode & 0o022:
        os.close(fd)
        raise _Unusable(f"{name} is writable by group or others; chmod 700 it")
    return fd


def _make_private_dir(path: Path) -> int:
    """Create the folder (mode 0700), at most its last two levels, and open it."""
    missing: list[Path] = []
    base = path
    while not os.path.lexists(base) and len(missing) < 2:
        missing.append(base)
        base = base.parent
    if not os.path.isdir(base):
        raise _Unusable(f"{base} does not exist; not creating a folder tree under it")
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise _Unusable(f"cannot create {folder}: {exc.strerror}") from None
    try:
        return _open_private_dir(path)
    except FileNotFoundError:
        raise _Unusable(f"{path} vanished while it was created") from None


def _read_cache(dir_fd: int, name: str) -> memoryview | None:
    """The verified payload of a cache file, or None when it is missing or not to be trusted."""
    try:
        # No symlinks, and no waiting on a FIFO; then only a regular file of ours passes.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & 0o022
            or not _HEADER < st.st_size <= MAX_CACHE_BYTES
        ):
            return None
        chunks = []
        left = st.st_size + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        blob = b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
    from zlib import crc32

    head, payload = blob[:_HEADER], memoryview(blob)[_HEADER:]
    if not head.startswith(_MAGIC) or len(blob) != st.st_size:
        return None
    length = int.from_bytes(head[len(_MAGIC) : len(_MAGIC) + 8], "big")
    checksum = int.from_bytes(head[len(_MAGIC) + 8 :], "big")
    if length != len(payload) or crc32(payload) != checksum:
        return None
    return payload


def _sealed(payload: bytes) -> bytes:
    from zlib import crc32

    return _MAGIC + len(payload).to_bytes(8, "big") + crc32(payload).to_bytes(4, "big") + payload


@cache
def load_bundled() -> KnowledgeBase:
    """The bundled knowledge base, from the compiled cache when the sources are unchanged."""
    from ketcheck.kb.compiled import from_compact, to_compact

    _problems.clear()
    root = data_root()
    fingerprint = _fingerprint(root)
    # marshal is the fastest safe reader of plain values; its format is per Python version.
    tag = sys.implementation.cache_tag or "py"
    folder = cache_dir() if fingerprint else None
    name = f"kb-{fingerprint}.{tag}.marshal"
    # The RxNorm codes are most of the bytes and few checks ask: they have their own file.
    codes_name = f"rxnorm-{fingerprint}.{tag}.marshal"
    dir_fd: int | None = None
    if folder is None and fingerprint:
        _unusable("no home folder to keep it in")
    elif folder is not None:
        try:
            dir_fd = _open_private_dir(folder)
        except FileNotFoundError:
            pass
        except _Unusable as exc:
            _unusable(str(exc))
            folder = None
    try:
        if dir_fd is not None and folder is not None:
            payload = _read_cache(dir_fd, name)
            if payload is not None:
                where = folder
                try:
                    compact = marshal.loads(payload)
                    return from_compact(compact, codes=lambda: _codes(where, codes_name))
                except (ValueError, EOFError, KeyError, TypeError, IndexError):
                    pass  # a cache from a build that packed differently: rebuild it
        kb = compile_knowledge(root)
        if folder is not None:
            try:
                if dir_fd is None:
                    dir_fd = _make_private_dir(folder)
                compact = to_compact(kb)
                codes = _sealed(marshal.dumps(compact.pop("rxnorm")))
                _write_atomic(dir_fd, codes_name, codes)
                _write_atomic(dir_fd, name, _sealed(marshal.dumps(compact)))
            except _Unusable as exc:
                _unusable(str(exc))
            except OSError as exc:
                _unusable(f"cannot write in {folder}: {exc.strerror}")
            else:
                _prune(dir_fd, keep=(name, codes_name))
        return kb
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _codes(folder: Path, name: str) -> list[Any]:
    """The packed RxNorm code table from its cache file (trusted as the main one), else rebuilt."""
    dir_fd: int | None = None
    try:
        dir_fd = _open_private_dir(folder)
        payload = _read_cache(dir_fd, name)
        if payload is not None:
            from ketcheck.kb.compiled import is_packed_table

            packed = marshal.loads(payload)
            if is_packed_table(packed):
                return packed
    except (OSError, _Unusable, ValueError, EOFError, TypeError):
        pass
    try:
        from ketcheck.kb.compiled import pack_codes

        packed = pack_codes(compile_knowledge(data_root()))
        if dir_fd is not None:
            with suppress(OSError):
                _write_atomic(dir_fd, name, _sealed(marshal.dumps(packed)))
        return packed
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def read_cached(name: str) -> Any | None:
    """A value another loader cached under `name`, trusted as the main cache is; else None."""
    folder = cache_dir()
    if folder is None:
        return None
    dir_fd: int | None = None
    try:
        dir_fd = _open_private_dir(folder)
        payload = _read_cache(dir_fd, name)
        return marshal.loads(payload) if payload is not None else None
    except (OSError, _Unusable, ValueError, EOFError, TypeError):
        return None
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def write_cached(name: str, value: Any) -> None:
    """Keep `value` under `name` in the private cache folder (silently skipped when unusable)."""
    folder = cache_dir()
    if folder is None:
        return
    dir_fd: int | None = None
    try:
        dir_fd = _open_private_dir(folder)
        _write_atomic(dir_fd, name, _sealed(marshal.dumps(value)))
    except (OSError, _Unusable, ValueError):
        pass  # a cache only costs speed; the main loader already says why it is unusable
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


STALE_AFTER_DAYS = 30
# Only ketcheck's own files: compiled caches and the temporary files they are written through.
_OWN_FILE = r"(?:kb|rxnorm|patient)-[0-9a-f]{20}\.[A-Za-z0-9_-]+\.marshal|\.kb-[0-9a-f]{16}\.tmp"


def _prune(dir_fd: int, *, keep: tuple[str, ...]) -> None:
    """Remove ketcheck's compiled caches untouched for a month (left by older data or releases)."""
    import re
    import time

    own = re.compile(_OWN_FILE)
    cutoff = time.time() - STALE_AFTER_DAYS * 86400
    try:
        with os.scandir(dir_fd) as it:
            for entry in it:
                if entry.name in keep or not own.fullmatch(entry.name):
                    continue
                with suppress(OSError):
                    st = entry.stat(follow_symlinks=False)
                    if (
                        stat.S_ISREG(st.st_mode)
                        and st.st_uid == os.geteuid()
                        and st.st_mtime < cutoff
                    ):
                        os.unlink(entry.name, dir_fd=dir_fd)
    except OSError:
        pass  # pruning is housekeeping; never a reason to fail a check


def _write_atomic(dir_fd: int, name: str, blob: bytes) -> None:
    """Write through a private temporary file, then rename it over the cache name."""
    tmp = f".kb-{os.urandom(8).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError:
        with suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def read_protocol(path: str | os.PathLike[str], kb: KnowledgeBase) -> Protocol:
    """Load and validate a clinic protocol file; errors name the file, line or key, and reason."""
    import tomllib

    from ketcheck.kb.protocol import from_table
    from ketcheck.sources.read import MAX_PROTOCOL_BYTES, read_file

    name = os.fspath(path)
    raw = read_file(name, limit=MAX_PROTOCOL_BYTES, what="a protocol file", error=ProtocolError)
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError(f"{name}: protocol file is not UTF-8 text") from None
    except RecursionError:
        raise ProtocolError(f"{name}: invalid TOML: nested too deeply") from None
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
    """The per-user protocol file ketcheck looks for when none is given (relative XDG ignored)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "ketcheck" / "protocol.toml"


def untrusted(path: Path) -> str | None:
    """Why a protocol found without being named may not be used: someone else could write it."""
    for place, what in ((path, "file"), (path.parent, "folder")):
        st = os.stat(place)
        if st.st_uid != os.geteuid():
            return f"its {what} belongs to another user"
        if st.st_mode & 0o022:
            return f"its {what} is writable by group or others"
    return None
