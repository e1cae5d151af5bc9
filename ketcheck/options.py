"""The options of a check, as one value passed whole from the CLI or API down to the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ketcheck.kb.protocol import DEFAULT, Protocol
from ketcheck.model import Route, Severity

if TYPE_CHECKING:
    from ketcheck.patient import PatientContext


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOptions:
    """How to check a list: the session's route and time, the clinic protocol, when to fail."""

    route: Route | None = None  # None: the protocol's default route, else IV
    session: datetime | None = None  # holds get clock times when known
    protocol: Protocol = DEFAULT
    fail_on: Severity | None = Severity.MODERATE  # None: never exit 1
    strict: bool = False  # fuzzy matches leave the check incomplete
    patient: PatientContext | None = None  # conditions and a session-day blood pressure

    @property
    def effective_route(self) -> Route:
        """The route the rules are applied for."""
        return self.route or self.protocol.default_route or Route.IV


DEFAULT_OPTIONS = CheckOptions()
