"""Read `--session WHEN` against an injected clock, and find the machine's time zone."""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path

ACCEPTED = "YYYY-MM-DD HH:MM[:SS][+HH:MM], HH:MM (the next one), today HH:MM or tomorrow HH:MM"
_CLOCK = r"(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::(?P<s>\d{2}))?)?\s*(?P<ampm>[ap]\.?m\.?)?"
_OFFSET = r"(?P<off>z|utc|[+-]\d{2}(?::?\d{2})?)?"
_ABSOLUTE = re.compile(
    rf"(?P<y>\d{{4}})-(?P<mo>\d{{1,2}})-(?P<d>\d{{1,2}})(?:t|\s+){_CLOCK}\s*{_OFFSET}", re.I
)
_RELATIVE = re.compile(rf"(?:(?P<day>today|tomorrow)\s+)?{_CLOCK}", re.I)
FAR_AHEAD = timedelta(days=30)
TOO_FAR = timedelta(days=366 * 50)


class SessionTimeError(ValueError):
    """A --session value in none of the accepted forms, or naming no real time."""


class ZoneError(ValueError):
    """The machine's time zone setting (TZ) cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionTime:
    """The session start, and what the reader should be told about how it was read."""

    moment: datetime
    warnings: tuple[str, ...] = ()


def _posix_zone(rule: str) -> tzinfo:
    """A POSIX TZ rule (EST5EDT,M3.2.0,M11.1.0) as a zone, via a TZif file with only a footer."""
    from zoneinfo import ZoneInfo

    def block() -> bytes:
        header = b"TZif2" + b"\0" * 15 + struct.pack(">6l", 0, 0, 0, 0, 1, 4)
        return header + struct.pack(">lbB", 0, 0, 0) + b"UTC\0"

    data = block() + block() + b"\n" + rule.encode("ascii") + b"\n"
    return ZoneInfo.from_file(io.BytesIO(data), key=rule)


def zone_from_tz(value: str) -> tzinfo | None:
    """The zone named by a TZ value: an IANA name or a POSIX rule; None when TZ is unset."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = value.strip()
    if not name:
        return None
    if name.startswith(":"):
        name = name[1:]
    if not name.startswith("/") and ".." not in name:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError, OSError):
            return ZoneInfo(name)
    if name.startswith("/"):
        with contextlib.suppress(ValueError, OSError), open(name, "rb") as fh:
            return ZoneInfo.from_file(fh, key=name)
    if name.isascii() and re.fullmatch(r"[A-Za-z<][\w<>+\-,./:]*", name) and len(name) < 80:
        try:
            return _posix_zone(name)
        except (ValueError, UnicodeError):
            pass
    raise ZoneError(
        f"TZ={value!r} is neither a time zone name (such as Europe/London) nor a POSIX rule "
        "(such as EST5EDT,M3.2.0,M11.1.0); fix TZ or give --session with an offset"
    )


def local_zone() -> tzinfo:
    """The zone from $TZ (IANA name or POSIX rule) or /etc/localtime, else the current offset."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from_tz = zone_from_tz(os.environ.get("TZ", ""))
    if from_tz is not None:
        return from_tz
    candidates = []
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


def _clock_time(match: re.Match[str], text: str) -> time:
    hour, minute = int(match["h"]), int(match["m"] or 0)
    second = int(match["s"] or 0)
    if match["m"] is None and match["ampm"] is None:
        raise SessionTimeError(f"{text!r} has no minutes: write it as {hour}:00")
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise SessionTimeError(f"{text!r}: a 12-hour time runs from 1 to 12")
        hour = hour % 12 + (12 if match["ampm"][0].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise SessionTimeError(f"{text!r} is not a time of day")
    return time(hour, minute, second)


def _offset(text: str) -> tzinfo:
    if text.lower() in ("z", "utc"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise SessionTimeError(f"offset {text!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _fmt(moment: datetime) -> str:
    return f"{moment:%H:%M} {moment:%Z} (UTC{moment:%z})".replace("  ", " ")


def _localise(wall: datetime, zone: tzinfo) -> tuple[datetime, list[str]]:
    """A wall-clock time in `zone`; a time skipped or repeated by a clock change gets a warning."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, []
    day = f"{wall:%a} {wall.day} {wall:%b %Y}"
    back = first.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != wall:
        # In a gap: read the time with the offset in force before the change, as clocks jump.
        chosen = back
        return chosen, [
            f"--session: {wall:%H:%M} does not exist on {day} (the clocks go forward); "
            f"using {_fmt(chosen)}"
        ]
    return first, [
        f"--session: {wall:%H:%M} happens twice on {day} (the clocks go back); "
        f"using the first, {_fmt(first)}; give an offset to choose the other"
    ]


def parse_session(text: str, *, now: datetime) -> SessionTime:
    """Read WHEN against `now` (aware, in the local zone); a time without an offset is local."""
    value = " ".join(text.split())
    zone = now.tzinfo
    if zone is None:
        raise ValueError("now must carry a time zone")
    try:
        moment, warnings = _read(value, now, zone)
    except SessionTimeError as exc:
        raise SessionTimeError(f"--session {text!r}: {exc}; use {ACCEPTED}") from None
    if abs(moment - now) > TOO_FAR:
        raise SessionTimeError(f"--session {text!r}: more than 50 years from today")
    if moment < now:
        warnings.append(
            f"--session {moment:%a %d %b %Y %H:%M} is in the past; hold times are computed "
            "for it anyway"
        )
    elif moment - now > FAR_AHEAD:
        warnings.append(f"--session {moment:%a %d %b %Y %H:%M} is more than 30 days away")
    return SessionTime(moment=moment, warnings=tuple(warnings))


def _read(value: str, now: datetime, zone: tzinfo) -> tuple[datetime, list[str]]:
    absolute = _ABSOLUTE.fullmatch(value)
    if absolute:
        try:
            day = date(int(absolute["y"]), int(absolute["mo"]), int(absolute["d"]))
        except ValueError:
            raise SessionTimeError("no such date") from None
        clock = _clock_time(absolute, value)
        wall = datetime.combine(day, clock)
        if absolute["off"]:
            return wall.replace(tzinfo=_offset(absolute["off"])), []
        return _bounded(wall, zone)
    relative = _RELATIVE.fullmatch(value)
    if relative is None:
        raise SessionTimeError("not a date and time ketcheck reads")
    clock = _clock_time(relative, value)
    today = now.astimezone(zone).date()
    if relative["day"]:
        offset = 1 if relative["day"].lower() == "tomorrow" else 0
        return _bounded(datetime.combine(today + timedelta(days=offset), clock), zone)
    moment, warnings = _bounded(datetime.combine(today, clock), zone)
    if moment < now:
        moment, warnings = _bounded(datetime.combine(today + timedelta(days=1), clock), zone)
    return moment, warnings


def _bounded(wall: datetime, zone: tzinfo) -> tuple[datetime, list[str]]:
    try:
        moment, warnings = _localise(wall, zone)
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise SessionTimeError("too far from today to be a session") from None
    return moment, warnings
