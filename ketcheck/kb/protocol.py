"""A clinic's protocol: its default route and its own hold hours and severities."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ketcheck.errors import ProtocolError
from ketcheck.kb.knowledge import KnowledgeBase, TargetKind
from ketcheck.model import Paper, Route, Severity

SeveritySetting = Severity | Mapping[Route, Severity]


# eq=False: a protocol is loaded once and compared by identity (its tables are not hashable).
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Protocol:
    """Overrides a clinic applies on top of the bundled rules; keys are class or ingredient ids."""

    name: str = "bundled defaults"
    default_route: Route | None = None
    paper: Paper = Paper.AUTO
    holds: Mapping[str, float] = field(default_factory=dict)
    severity: Mapping[str, SeveritySetting] = field(default_factory=dict)

    def hold_for(self, ingredient: str, via: str | None) -> float | None:
        """Protocol hold hours for this ingredient, ingredient key first, then the class key."""
        if ingredient in self.holds:
            return self.holds[ingredient]
        if via and via in self.holds:
            return self.holds[via]
        return None

    def severity_for(self, ingredient: str, via: str | None, route: Route) -> Severity | None:
        """Protocol severity for this ingredient, ingredient key first, then the class key."""
        for key in (ingredient, via):
            if key and key in self.severity:
                setting = self.severity[key]
                if isinstance(setting, Severity):
                    return setting
                return setting.get(route)
        return None


DEFAULT = Protocol()
_TOP_KEYS = ("default_route", "paper", "holds", "severity")


def from_table(table: Mapping[str, Any], kb: KnowledgeBase, *, name: str) -> Protocol:
    """Validate a parsed protocol TOML table; errors name the file, the key and the reason."""

    def fail(key: str, reason: str) -> ProtocolError:
        return ProtocolError(f"{name}: {key}: {reason}")

    for key in table:
        if key not in _TOP_KEYS:
            raise fail(key, f"unknown key (expected {', '.join(_TOP_KEYS)})")
    route: Route | None = None
    if "default_route" in table:
        value = table["default_route"]
        try:
            route = Route(value) if isinstance(value, str) else None
        except ValueError:
            route = None
        if route is None:
            choices = ", ".join(r.value for r in Route)
            raise fail("default_route", f"{value!r} is not a route ({choices})")
    paper = Paper.AUTO
    if "paper" in table:
        value = table["paper"]
        try:
            paper = Paper(value.lower()) if isinstance(value, str) else Paper("")
        except ValueError:
            choices = ", ".join(p.value for p in Paper)
            raise fail("paper", f"{value!r} is not a paper size ({choices})") from None
    known = set(kb.classes) | set(kb.ingredients)
    holds: dict[str, float] = {}
    raw_holds = table.get("holds", {})
    if not isinstance(raw_holds, Mapping):
        raise fail("holds", "must be a table of id = hours")
    for key, value in raw_holds.items():
        where = f"holds.{key}"
        if key not in known:
            raise fail(where, "unknown class or ingredient id (see `ketcheck info NAME`)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(where, f"hours must be a number, got {value!r}")
        if not math.isfinite(value):
            raise fail(where, f"hours must be a finite number, got {value!r}")
        if value < 0:
            raise fail(where, "hours must not be negative")
        if value > 24 * 90:
            raise fail(where, "hours must be at most 2160 (90 days)")
        holds[key] = float(value)
    severity: dict[str, SeveritySetting] = {}
    raw_sev = table.get("severity", {})
    if not isinstance(raw_sev, Mapping):
        raise fail("severity", "must be a table of id = severity")
    for key, value in raw_sev.items():
        where = f"severity.{key}"
        if key not in known:
            raise fail(where, "unknown class or ingredient id (see `ketcheck info NAME`)")
        if isinstance(value, str):
            severity[key] = _parse_severity(value, where, fail)
        elif isinstance(value, Mapping):
            per_route: dict[Route, Severity] = {}
            for route_name, sev in value.items():
                try:
                    r = Route(route_name)
                except ValueError:
                    raise fail(f"{where}.{route_name}", "unknown route") from None
                if not isinstance(sev, str):
                    raise fail(f"{where}.{route_name}", f"severity must be a string, got {sev!r}")
                per_route[r] = _parse_severity(sev, f"{where}.{route_name}", fail)
            if set(per_route) != set(Route):
                raise fail(where, "a per-route severity table must name every route")
            severity[key] = per_route
        else:
            raise fail(where, f"severity must be a string, got {value!r}")
    return Protocol(name=name, default_route=route, paper=paper, holds=holds, severity=severity)


def _parse_severity(value: str, where: str, fail: Any) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise fail(where, str(exc)) from None


def default_table(kb: KnowledgeBase, route: Route = Route.IV) -> dict[str, Any]:
    """The bundled defaults as a protocol table: loading it back changes no result."""
    holds: dict[str, float | int] = {}
    severity: dict[str, Any] = {}
    for rule in sorted(kb.rules, key=lambda r: (r.target_kind is not TargetKind.CLASS, r.target)):
        if rule.hold_hours is not None:
            h = rule.hold_hours
            holds[rule.target] = int(h) if float(h).is_integer() else h
        if rule.route_severity:
            severity[rule.target] = {r.value: rule.severity_for(r).label for r in Route}
        else:
            severity[rule.target] = rule.severity.label
    return {
        "default_route": route.value,
        "paper": Paper.AUTO.value,
        "holds": holds,
        "severity": severity,
    }
