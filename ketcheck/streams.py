"""Standard streams for the CLI: stdout failures are errors, stderr is best effort."""

from __future__ import annotations

import errno
import io
import sys
from contextlib import suppress
from typing import Any

# Errors that mean the output could not be delivered (not that an input could not be read).
_OUTPUT_ERRNOS = frozenset(
    {errno.EPIPE, errno.EBADF, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG}
)


class _ClosedStdout(io.TextIOBase):
    """Stands in for a closed stdout (`>&-`): every write fails as writing to fd 1 would."""

    encoding = "utf-8"

    def write(self, s: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def isatty(self) -> bool:
        return False


class _BestEffortStderr(io.TextIOBase):
    """Stderr that a closed, full or failing stream only silences, and that shows input inertly."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._inner, "encoding", None) or "utf-8")

    def write(self, s: str) -> int:
        from ketcheck.render.literal import inert

        # Messages ketcheck did not write itself (Click's usage errors) may quote what was typed.
        shown = "\n".join(inert(line) for line in s.split("\n"))
        with suppress(AttributeError, OSError, ValueError):
            self._inner.write(shown)
        return len(s)

    def flush(self) -> None:
        with suppress(AttributeError, OSError, ValueError):
            self._inner.flush()

    def isatty(self) -> bool:
        with suppress(AttributeError, OSError, ValueError):
            return bool(self._inner.isatty())
        return False

    def fileno(self) -> int:
        if self._inner is None:
            raise io.UnsupportedOperation("stderr is closed")
        return int(self._inner.fileno())


_ESCAPE = "ketcheck-escape"


def _escape_unencodable(exc: UnicodeError) -> tuple[str, int]:
    """`\\uXXXX` for what the encoding cannot hold: readable text, and still valid JSON."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        code = ord(ch)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), exc.end


def prepare_streams() -> None:
    """Make stdout report its failures and always encode; make stderr best effort."""
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()
    elif isinstance(sys.stdout, io.TextIOWrapper):
        # Whatever the encoding (ascii, latin-1, or UTF-8 with surrogateescape), what cannot be
        # encoded is written as a \\u escape: never a crash, never a raw undecodable byte, and
        # JSON output (in any format, batch included) stays valid JSON.
        import codecs

        codecs.register_error(_ESCAPE, _escape_unencodable)
        sys.stdout.reconfigure(errors=_ESCAPE)
    if not isinstance(sys.stderr, _BestEffortStderr):
        sys.stderr = _BestEffortStderr(sys.stderr)


class OutputFailed(Exception):
    """The report could not be written to stdout; not an OSError, so Click passes it through."""


def output_failure(exc: BaseException) -> str | None:
    """The one-line message when exc means the report could not be written, else None."""
    if isinstance(exc, OutputFailed):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:
        if exc.errno == errno.EPIPE:
            return "output closed before the report was complete (broken pipe)"
        return f"cannot write the report: {exc.strerror or exc}"
    return None


def pipe_closed_by_click() -> bool:
    """True when Click met a broken pipe on stdout and turned it into exit 1 (it swaps stdout)."""
    return type(sys.stdout).__name__ == "PacifyFlushWrapper"
