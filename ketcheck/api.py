"""The Python API: the same `check` the command line runs, with the bundled data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ketcheck import __version__
from ketcheck.engine.check import run_check
from ketcheck.kb.load import load_bundled
from ketcheck.kb.protocol import Protocol
from ketcheck.matching.resolve import Resolver
from ketcheck.model import Entry, Report, Route, Severity
from ketcheck.options import DEFAULT_OPTIONS, CheckOptions

if TYPE_CHECKING:
    from ketcheck.kb.patient import PatientTables
    from ketcheck.patient import BloodPressure, ConditionEntry

# Entry texts and names the shared resolver keeps between calls: a long-lived caller (a service
# checking patient after patient) would otherwise hold every text it was ever given.
RESOLVER_KEPT = 8192
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
    conditions: Iterable[str | ConditionEntry] = (),
    bp: str | BloodPressure | None = None,
) -> Report:
    """Check medication names (and the patient's conditions and blood pressure) with bundled data.

    Give either `options` or the separate keywords (route, session, protocol, fail_on, strict);
    `conditions` and `bp` may go with either.
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
    options = with_patient(options, conditions, bp)
    if _resolver is None or _resolver.kb is not kb:
        _resolver = Resolver(kb)
    elif _resolver.cached() > RESOLVER_KEPT:
        _resolver.forget()  # between calls: one call's own entries are all kept while it runs
    return run_check(
        list(names),
        kb,
        options,
        tool_version=__version__,
        resolver=_resolver,
        tables=_patient_tables,
    )


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


def with_patient(
    options: CheckOptions,
    conditions: Iterable[str | ConditionEntry] = (),
    bp: str | BloodPressure | None = None,
) -> CheckOptions:
    """The options with these conditions and this reading added to the patient context."""
    items = tuple(conditions)
    if not items and bp is None:
        return options
    from ketcheck.patient import ConditionEntry, PatientContext

    before = options.patient or PatientContext()
    given = tuple(c if isinstance(c, ConditionEntry) else ConditionEntry(text=c) for c in items)
    context = PatientContext(
        conditions=(*before.conditions, *given),
        bp=reading(bp, _patient_tables()) if isinstance(bp, str) else bp or before.bp,
    )
    return replace(options, patient=context)


def _patient_tables() -> PatientTables:
    """The bundled condition, dose and half-life tables, imported and loaded only when used."""
    from ketcheck.kb.patient import load_patient_tables

    return load_patient_tables()


def reading(text: str, tables: PatientTables) -> BloodPressure:
    """A blood-pressure reading from text such as "150/95"; InputError when it is not one."""
    from ketcheck.errors import InputError
    from ketcheck.matching.conditions import parse_bp

    bp = parse_bp(text, tables)
    if isinstance(bp, str):
        raise InputError(f"blood pressure: {bp}")
    return replace(bp, source="bp")
