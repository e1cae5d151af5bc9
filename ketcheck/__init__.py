"""ketcheck: check a medication list before a ketamine or esketamine session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Report", "Route", "Severity", "__version__", "check", "load_bundled"]

if TYPE_CHECKING:
    from ketcheck.api import check
    from ketcheck.kb.load import load_bundled
    from ketcheck.model import Report, Route, Severity


def __getattr__(name: str) -> Any:
    # Lazy, so that `import ketcheck` (and the CLI's startup) costs nothing it does not use.
    if name == "check":
        from ketcheck.api import check

        return check
    if name == "load_bundled":
        from ketcheck.kb.load import load_bundled

        return load_bundled
    if name in ("Report", "Route", "Severity"):
        from ketcheck import model

        return getattr(model, name)
    raise AttributeError(f"module 'ketcheck' has no attribute {name!r}")
