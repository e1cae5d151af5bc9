"""Where a report goes: stdout or a file replaced atomically, and whether it gets colour."""

from __future__ import annotations

import contextlib
import os
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
    """A text stream that replaces `path` only when the block succeeds (mode 0600: patient data)."""
    import tempfile

    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError(f"{path}: is a directory")
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
