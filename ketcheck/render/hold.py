"""How every format words the after-session part of a hold."""

from __future__ import annotations

from ketcheck.model import Hold


def after_text(hold: Hold) -> str:
    """The after-session part of a hold ("" when the hold is before the session only)."""
    return f", and for {hold.hours_after:g} h after it" if hold.hours_after else ""
