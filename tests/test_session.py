"""`--session WHEN` against an injected clock: every accepted form, errors, DST, TZ rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketcheck.sources.session import (
    ACCEPTED,
    SessionTimeError,
    ZoneError,
    parse_session,
    zone_from_tz,
)

LONDON = ZoneInfo("Europe/London")
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=LONDON)  # a Sunday afternoon
AUTUMN = datetime(2027, 10, 30, 12, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T09:00", "2026-11-23T09:00:00+00:00"),
        ("2026-11-23 09:00", "2026-11-23T09:00:00+00:00"),
        ("2026-11-23T9:00", "2026-11-23T09:00:00+00:00"),
        ("2026-11-23 09:00:30", "2026-11-23T09:00:30+00:00"),
        ("2026-11-23T09:00+01:00", "2026-11-23T09:00:00+01:00"),
        ("2026-11-23T09:00-0500", "2026-11-23T09:00:00-05:00"),
        ("2026-11-23T09:00Z", "2026-11-23T09:00:00+00:00"),
        ("09:00", "2026-11-23T09:00:00+00:00"),  # already past today: tomorrow
        ("9:00", "2026-11-23T09:00:00+00:00"),
        ("16:30", "2026-11-22T16:30:00+00:00"),  # still ahead today
        ("tomorrow 09:00", "2026-11-23T09:00:00+00:00"),
        ("Tomorrow  9:00", "2026-11-23T09:00:00+00:00"),
        ("today 17:00", "2026-11-22T17:00:00+00:00"),
        ("tomorrow 9am", "2026-11-23T09:00:00+00:00"),
        ("9:30 pm", "2026-11-22T21:30:00+00:00"),
        ("12:15 am", "2026-11-23T00:15:00+00:00"),
    ],
)
def test_accepted_forms(text: str, expected: str) -> None:
    got = parse_session(text, now=NOW)
    assert got.moment.isoformat() == expected
    assert got.warnings == ()


def test_naive_time_is_local_in_the_clock_zone() -> None:
    got = parse_session("2026-11-23T09:00", now=NOW.astimezone(NY))
    assert got.moment.tzinfo is NY and got.moment.hour == 9


@pytest.mark.parametrize(
    "bad",
    ["next tuesday-ish", "2026-11-23", "23/11/2026 09:00", "", "9", "25:00", "2026-02-30 09:00"],
)
def test_bad_text_names_the_accepted_forms_in_one_clause(bad: str) -> None:
    with pytest.raises(SessionTimeError) as caught:
        parse_session(bad, now=NOW)
    message = str(caught.value)
    assert message.startswith(f"--session {bad!r}: ") and message.endswith(f"; use {ACCEPTED}")
    assert "isoformat" not in message and "\n" not in message


def test_a_past_session_is_read_with_a_warning() -> None:
    got = parse_session("2020-01-01T09:00", now=NOW)
    assert got.moment.year == 2020
    assert len(got.warnings) == 1 and "in the past" in got.warnings[0]


def test_today_at_an_earlier_time_is_past() -> None:
    assert "in the past" in parse_session("today 9:00", now=NOW).warnings[0]


def test_far_future_is_flagged_and_absurd_years_refused() -> None:
    assert "30 days" in parse_session("2027-06-01 09:00", now=NOW).warnings[0]
    for text in ("0001-01-01 00:00", "9999-12-31 23:59"):
        with pytest.raises(SessionTimeError):
            parse_session(text, now=NOW)


def test_a_time_the_clocks_skip_is_moved_forward_with_a_warning() -> None:
    # London springs forward at 01:00
    got = parse_session("2027-03-28 01:30", now=datetime(2027, 3, 27, 12, tzinfo=LONDON))
    assert got.moment.isoformat() == "2027-03-28T02:30:00+01:00"
    (warning,) = got.warnings
    assert "01:30 does not exist" in warning and "using 02:30 BST" in warning


def test_a_time_the_clocks_repeat_takes_the_first_with_a_warning() -> None:
    got = parse_session("2027-10-31 01:30", now=AUTUMN)  # London falls back at 02:00
    assert got.moment.utcoffset() == timedelta(hours=1)
    (warning,) = got.warnings
    assert "happens twice" in warning and "using the first, 01:30 BST" in warning


def test_an_explicit_offset_never_warns_about_dst() -> None:
    assert parse_session("2027-10-31 01:30+00:00", now=AUTUMN).warnings == ()


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_session("09:00", now=datetime(2026, 11, 22, 15, 0))


@pytest.mark.parametrize(
    ("tz", "july", "january"),
    [
        ("EST5EDT,M3.2.0,M11.1.0", -4, -5),
        ("CET-1CEST,M3.5.0,M10.5.0/3", 2, 1),
        ("UTC0", 0, 0),
        ("<+0530>-5:30", 5.5, 5.5),
        ("Europe/London", 1, 0),
        (":America/New_York", -4, -5),
    ],
)
def test_tz_names_and_posix_rules_are_honoured(tz: str, july: float, january: float) -> None:
    zone = zone_from_tz(tz)
    assert zone is not None
    for month, hours in ((7, july), (1, january)):
        offset = datetime(2026, month, 1, 12, tzinfo=zone).utcoffset()
        assert offset == timedelta(hours=hours)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "not a zone!", "../../etc/passwd", "EST5EDT,M13"])
def test_unusable_tz_is_refused_with_a_message(tz: str) -> None:
    with pytest.raises(ZoneError, match="TZ="):
        zone_from_tz(tz)


def test_unset_tz_means_the_system_zone() -> None:
    assert zone_from_tz("") is None


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_with_a_session_error(text: str) -> None:
    try:
        got = parse_session(text, now=NOW)
    except SessionTimeError as exc:
        assert str(exc).startswith("--session ")
    else:
        assert got.moment.tzinfo is not None
