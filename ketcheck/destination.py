"""Where a report goes: stdout or a file replaced atomically, and whether it gets colour."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ketcheck.errors import InputError


def console_options(color: str) -> dict[str, Any]:
    """Rich Console arguments for `--color` (auto leaves NO_COLOR and FORCE_COLOR to Rich)."""
    if color == "always":
        return {"force_terminal": True, "no_color": False}
    if color == "never":
        return {"color_system": None, "no_color": True}
    return {}


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[IO[str]]:
    """A text stream for `-o path`: a file replaced only when the block succeeds (mode 0600:
    patient data), or a FIFO or character device (`/dev/null`, a pipe) written straight."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None  # a new file (or a dangling symlink, which is replaced)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    if mode is None or stat.S_ISREG(mode):
        with _replaced(path) as fh:
            yield fh
    elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        with _straight(path) as fh:
            yield fh
    else:
        raise InputError(f"{path}: is {_kind(mode)}; give a file, a FIFO or a character device")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


@contextlib.contextmanager
def _replaced(path: str) -> Iterator[IO[str]]:
    """A temporary file beside `path`, renamed over it only when the block succeeds.

    SIGTERM and SIGHUP raise `Stopped` while the temporary file exists, so it is removed on
    the way out instead of being left behind with the patient data in it.
    """
    import tempfile

    from ketcheck.stops import stop_on_signals

    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    with stop_on_signals():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise InputError(f"{path}: cannot write: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise InputError(f"{path}: cannot write: {exc.strerror}") from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


@contextlib.contextmanager
def _straight(path: str) -> Iterator[IO[str]]:
    """`path` opened for writing as it is, as a shell's `>` would: a FIFO waits for its reader."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):  # swapped for a file since it was looked at: never write into it
            raise InputError(f"{path}: changed while it was opened; nothing was written")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as fh:
            fd = -1  # closed with fh
            yield fh
            fh.flush()  # a full device (ENOSPC) or a reader gone (EPIPE) fails here at the latest
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
