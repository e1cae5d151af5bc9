"""ketcheck: check a medication list before a ketamine or esketamine session."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

# pip writes bytecode for installed packages; an editable install under PYTHONDONTWRITEBYTECODE
# would otherwise recompile every ketcheck module on every run (tens of milliseconds). Only for
# the `ketcheck` command itself: a program using the Python API keeps its own setting.
_argv0 = (getattr(sys, "argv", None) or [""])[0]
if (
    sys.dont_write_bytecode
    and not os.environ.get("KETCHECK_NO_BYTECODE")
    and os.path.basename(_argv0) in ("ketcheck", "ketcheck.exe")
):
    sys.dont_write_bytecode = False

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
