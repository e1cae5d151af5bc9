"""SIGTERM and SIGHUP as an exception, so a stopped run unwinds (and cleans up) like Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A signal stopped the run; `reported`: its stderr line is written already."""

    def __init__(self, signum: int, *, reported: bool = False) -> None:
        super().__init__(signum)
        self.signum = signum
        self.reported = reported

    @property
    def name(self) -> str:
        """The signal's name, as the stderr line gives it: SIGTERM, SIGHUP, SIGINT."""
        return signal.Signals(self.signum).name


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Stopped` instead of ending the process."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def stop(signum: int, _: FrameType | None) -> None:
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
