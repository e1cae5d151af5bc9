"""The Python API: the same `check` the command line runs, with the bundled data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ketcheck import __version__
from ketcheck.engine.check import run_check
from ketcheck.kb.load import load_bundled
from ketcheck.kb.protocol import Protocol
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Entry, Report, Route, Severity
from ketcheck.options import DEFAULT_OPTIONS, CheckOptions

_resolver: Resolver | None = None


def check(
    names: Iterable[str | Entry],
    *,
    options: CheckOptions | None = None,
    route: Route | str | None = None,
    session: datetime | None = None,
    protocol: Protocol | None = None,
    fail_on: Severity | str | None = Severity.MODERATE,
    strict: bool = False,
) -> Report:
    """Check medication names against the bundled knowledge base and return the report.

    Give either `options` or the separate keywords (route, session, protocol, fail_on, strict).
    """
    global _resolver
    if options is None:
        options = options_from(
            route=route, session=session, protocol=protocol, fail_on=fail_on, strict=strict
        )
    elif (route, session, protocol, fail_on, strict) != (
        None,
        None,
        None,
        Severity.MODERATE,
        False,
    ):
        raise TypeError("check(): give options or the separate keywords, not both")
    kb = load_bundled()
    if _resolver is None or _resolver.kb is not kb:
        _resolver = Resolver(kb)
    return run_check(list(names), kb, options, tool_version=__version__, resolver=_resolver)


def options_from(
    *,
    route: Route | str | None = None,
    session: datetime | None = None,
    protocol: Protocol | None = None,
    fail_on: Severity | str | None = Severity.MODERATE,
    strict: bool = False,
) -> CheckOptions:
    """Check options from plain values: route and severity names as strings, "never" for no fail."""
    if isinstance(fail_on, str):
        fail_on = None if fail_on == "never" else Severity.parse(fail_on)
    return CheckOptions(
        route=Route(route) if route is not None else None,
        session=session,
        protocol=protocol or DEFAULT_OPTIONS.protocol,
        fail_on=fail_on,
        strict=strict,
    )
