"""Find the machine's time zone, so naive session times are read as local time."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, tzinfo
from pathlib import Path


def local_zone() -> tzinfo:
    """The IANA zone from $TZ or /etc/localtime (DST-aware), else the current fixed offset."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = os.environ.get("TZ", "").lstrip(":")
    candidates = [name] if name else []
    with contextlib.suppress(OSError):
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for cand in candidates:
        if not cand:
            continue
        try:
            return ZoneInfo(cand)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    fallback = datetime.now().astimezone().tzinfo
    assert fallback is not None
    return fallback


def parse_session(text: str, zone: tzinfo | None = None) -> datetime:
    """Read an ISO 8601 session time; a time without an offset is local time in `zone`."""
    value = text.strip()
    if not any(sep in value for sep in ("T", "t", " ")):
        raise ValueError("give a date and a time, e.g. 2026-11-23T09:00")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or local_zone())
    return moment
