"""Usage errors as one line, error first, with a hint and "did you mean" only for near misses."""

from __future__ import annotations

import re
from typing import Any

NEAR = 0.8  # difflib ratio: --rout/--route 0.92, --sesion/--session 0.94, --verbose/--route 0.5
_ALIASES = {"help": "ketcheck -h", "version": "ketcheck -V", "--help": "ketcheck -h"}


def near_misses(word: str, choices: list[str]) -> list[str]:
    """Choices close enough to `word` to be a typo of it."""
    import difflib

    return difflib.get_close_matches(word, choices, n=2, cutoff=NEAR)


def _long_options(ctx: Any) -> list[str]:
    names: list[str] = []
    command = getattr(ctx, "command", None)
    for param in getattr(command, "params", []):
        names += [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
    return names


def _hint(ctx: Any) -> str:
    path = getattr(ctx, "command_path", "ketcheck") or "ketcheck"
    return f"hint: see '{path} -h'"


def describe_usage_error(exc: Exception) -> list[str]:
    """The lines to print for a click usage error: the error, then at most one hint."""
    ctx = getattr(exc, "ctx", None)
    kind = type(exc).__name__
    if kind == "NoSuchOption":
        option = str(getattr(exc, "option_name", ""))
        close = near_misses(option, _long_options(ctx))
        line = f"error: no such option {option}"
        if close:
            line += f" (did you mean {' or '.join(close)}?)"
        return [line, _hint(ctx)]
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    command = re.match(r"No such command '(.+?)'\.", message)
    if command:
        word = command[1]
        line = f"error: no such command {word!r}"
        if word in _ALIASES:
            line += f" (try {_ALIASES[word]})"
        else:
            names = list(getattr(getattr(ctx, "command", None), "commands", {}) or {})
            close = near_misses(word, names)
            if close:
                line += f" (did you mean {' or '.join(close)}?)"
        return [line, _hint(ctx)]
    first = message[:1].lower() + message[1:]
    return [f"error: {first}", _hint(ctx)]
