"""Bounded reads of stdin and of input and protocol files: never more than a limit, never a FIFO."""

from __future__ import annotations

import os
import stat
import sys
from typing import BinaryIO

from ketcheck.errors import InputError, KetcheckError

# One check holds at most 100,000 entries of 1,000 characters; a file larger than that many bytes
# (one per character plus a line break) cannot be a valid list, however it is laid out.
MAX_INPUT_BYTES = 100_000 * 1_001
MAX_PROTOCOL_BYTES = 1 << 20  # 1 MiB: the bundled defaults written by `protocol init` are ~20 KB


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_large(name: str, what: str, limit: int) -> str:
    return f"{name}: {what} is larger than the limit of {limit:,} bytes"


def _read_upto(fh: BinaryIO | int, limit: int) -> bytes:
    """At most limit + 1 bytes: one more than allowed is enough to know the limit was passed."""
    chunks: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = os.read(fh, min(left, 1 << 20)) if isinstance(fh, int) else fh.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_file(
    path: str | os.PathLike[str],
    *,
    limit: int,
    what: str,
    error: type[KetcheckError] = InputError,
) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is `error`, one line."""
    name = os.fspath(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of hanging.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{name}: cannot read {what}: file not found") from None
    except IsADirectoryError:
        raise error(f"{name}: is a directory, not {what}") from None
    except OSError as exc:
        raise error(f"{name}: cannot read {what}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            hint = " (to read stdin, give -)" if error is InputError else ""
            raise error(f"{name}: is {_kind(st.st_mode)}, not {what}{hint}")
        if st.st_size > limit:
            raise error(_too_large(name, what, limit))
        try:
            raw = _read_upto(fd, limit)
        except OSError as exc:
            raise error(f"{name}: cannot read {what}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > limit:  # the file grew while it was read
        raise error(_too_large(name, what, limit))
    return raw


def read_stdin(*, limit: int, what: str = "the input") -> bytes:
    """Standard input, at most `limit` bytes; a closed stdin is an input error, not a crash."""
    stream = sys.stdin
    if stream is None:
        raise InputError("standard input is closed: no medications given")
    try:
        buffer = getattr(stream, "buffer", None)
        raw = _read_upto(buffer, limit) if buffer is not None else stream.read(limit + 1).encode()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read standard input: {reason}") from None
    if len(raw) > limit:
        raise InputError(_too_large("stdin", what, limit))
    return raw
