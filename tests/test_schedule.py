"""Hold clock times: across midnight, across DST changes, with explicit offsets kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from ketcheck.engine.schedule import last_dose_by
from ketcheck.kb.knowledge import KnowledgeBase
from tests.conftest import run

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("session", "hours", "expected"),
    [
        # the previous evening, across midnight
        (datetime(2026, 11, 23, 9, 0, tzinfo=LONDON), 12, "2026-11-22T21:00+00:00"),
        # across the first of the month and the year
        (datetime(2027, 1, 1, 8, 0, tzinfo=LONDON), 12, "2026-12-31T20:00+00:00"),
        # US spring forward (2 am -> 3 am on 8 Mar 2026): 12 elapsed hours is 20:00 the day before
        (datetime(2026, 3, 8, 9, 0, tzinfo=NY), 12, "2026-03-07T20:00-05:00"),
        # UK autumn back (2 am -> 1 am on 25 Oct 2026): 12 elapsed hours is 22:00 the day before
        (datetime(2026, 10, 25, 9, 0, tzinfo=LONDON), 12, "2026-10-24T22:00+01:00"),
        # an explicit offset is kept as given
        (
            datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            24,
            "2026-11-22T09:00+05:30",
        ),
        (datetime(2026, 11, 23, 9, 30, tzinfo=LONDON), 6.5, "2026-11-23T03:00+00:00"),
    ],
)
def test_last_dose_by(session: datetime, hours: float, expected: str) -> None:
    assert last_dose_by(session, hours).isoformat(timespec="minutes") == expected


def test_elapsed_hours_are_exact_across_dst() -> None:
    session = datetime(2026, 3, 8, 9, 0, tzinfo=NY)
    held = last_dose_by(session, 12)
    # Same-tzinfo subtraction in Python is wall-clock; compare the instants in UTC.
    assert session.astimezone(UTC) - held.astimezone(UTC) == timedelta(hours=12)


def test_report_schedule_is_ordered_by_deadline(kb: KnowledgeBase) -> None:
    session = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
    from ketcheck.kb.protocol import Protocol

    r = run(
        kb,
        "Lamictal",
        "Xanax",
        "clonazepam",
        session=session,
        protocol=Protocol(holds={"alprazolam": 24}),
    )
    times = [
        (i.ingredient, i.last_dose_by.isoformat(timespec="minutes"))
        for i in r.schedule
        if i.last_dose_by
    ]
    assert times == [
        ("alprazolam", "2026-11-22T09:00+00:00"),
        ("clonazepam", "2026-11-22T21:00+00:00"),
        ("lamotrigine", "2026-11-22T21:00+00:00"),
    ]
    notes = r.standing_notes
    assert any("abruptly" in n for n in notes) and any("lamotrigine" in n for n in notes)
