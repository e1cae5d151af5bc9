"""The Python API: the same `check` the command line runs, with the bundled data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ketcheck import __version__
from ketcheck.engine.check import run_check
from ketcheck.kb.load import load_bundled
from ketcheck.kb.protocol import DEFAULT, Protocol
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Entry, Report, Route, Severity

_resolver: Resolver | None = None


def check(
    names: Iterable[str | Entry],
    *,
    route: Route | str | None = None,
    session: datetime | None = None,
    protocol: Protocol | None = None,
    fail_on: Severity | str | None = Severity.MODERATE,
    strict: bool = False,
) -> Report:
    """Check medication names against the bundled knowledge base and return the report."""
    global _resolver
    kb = load_bundled()
    if _resolver is None or _resolver.kb is not kb:
        _resolver = Resolver(kb)
    if isinstance(fail_on, str):
        fail_on = None if fail_on == "never" else Severity.parse(fail_on)
    return run_check(
        list(names),
        kb,
        tool_version=__version__,
        route=Route(route) if route is not None else None,
        session=session,
        protocol=protocol or DEFAULT,
        fail_on=fail_on,
        strict=strict,
        resolver=_resolver,
    )
