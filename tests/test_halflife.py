"""Half-life-aware holds: what remains at the session, defeated holds, and qhs/qAM wording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketcheck.api import check
from ketcheck.engine.halflife import fraction_left, remaining
from ketcheck.kb.patient import PatientTables, load_patient_tables
from ketcheck.model import Finding

SESSION = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tables() -> PatientTables:
    return load_patient_tables()


def held(line: str, *, session: datetime | None = SESSION, **kw: object) -> Finding:
    rep = check([line], session=session, **kw)  # type: ignore[arg-type]
    return next(f for f in rep.findings if f.hold is not None)


@given(st.floats(0.1, 500), st.floats(0.1, 500))
def test_fraction_is_first_order(hours: float, half_life: float) -> None:
    f = fraction_left(hours, half_life)
    assert 0 <= f <= 1
    assert fraction_left(half_life, half_life) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("ingredient", "low", "high", "defeated"),
    [
        ("clonazepam", 63, 85, True),  # the reference: 63 / 76-79 / 85 % at 12 h
        ("lorazepam", 44, 66, True),
        ("alprazolam", 27, 73, False),
        ("temazepam", 9, 64, False),
        ("triazolam", 0, 22, False),
        ("zolpidem", 0, 16, False),
        ("lamotrigine", 49, 87, True),
        ("gabapentin", 19, 30, False),
        ("methadone", 35, 87, True),
    ],
)
def test_twelve_hour_hold_matches_the_reference_table(
    tables: PatientTables, ingredient: str, low: float, high: float, defeated: bool
) -> None:
    r = remaining(ingredient, 12, tables.halflives[ingredient], tables)
    assert (r.percent_low, r.percent_high) == (
        pytest.approx(low, abs=1),
        pytest.approx(high, abs=1),
    )
    assert r.defeated is defeated
    assert ("does not wash the drug out" in r.text) is defeated


def test_active_metabolite_decides(tables: PatientTables) -> None:
    r = remaining("diazepam", 12, tables.halflives["diazepam"], tables)
    assert "desmethyldiazepam" in r.text and r.defeated


def test_long_end_when_a_condition_slows_clearance(tables: PatientTables) -> None:
    info = tables.halflives["alprazolam"]
    assert not remaining("alprazolam", 12, info, tables).defeated
    slow = remaining("alprazolam", 12, info, tables, long_end=True)
    assert slow.defeated and "slows clearance" in slow.text


def test_every_half_life_row_is_plausible(tables: PatientTables) -> None:
    for ing, info in tables.halflives.items():
        r = remaining(ing, 12, info, tables)
        assert 0 <= r.percent_low <= r.percent_typical <= r.percent_high <= 100, ing


def test_hold_reports_what_remains() -> None:
    f = held("Valium 5 mg BID")
    assert f.hold is not None and f.hold.remaining is not None
    assert f.hold.remaining.defeated and "%" in f.hold.remaining.text


def test_qhs_hold_names_the_bedtime_dose_to_skip() -> None:
    f = held("Klonopin 0.5 mg qhs")
    assert f.hold is not None
    assert f.hold.instruction is not None
    assert f.hold.instruction.startswith("skip the bedtime dose on Sunday 22 Nov")


def test_bedtime_dose_before_the_window_is_taken_as_usual() -> None:
    f = held("Klonopin 0.5 mg qhs", session=SESSION + timedelta(hours=6))  # 15:00
    assert f.hold is not None and f.hold.instruction is not None
    assert "can be taken as usual" in f.hold.instruction


def test_qam_hold_names_the_morning_dose() -> None:
    f = held("zolpidem 5 mg qAM", session=SESSION + timedelta(hours=5))  # 14:00, dose 08:00
    assert f.hold is not None and f.hold.instruction is not None
    assert "skip the morning dose on Monday 23 Nov" in f.hold.instruction


def test_no_session_no_instruction_but_remaining() -> None:
    f = held("Klonopin 0.5 mg qhs", session=None)
    assert f.hold is not None and f.hold.instruction is None and f.hold.remaining is not None


def test_maoi_half_life_is_flagged_as_misleading(tables: PatientTables) -> None:
    r = remaining("phenelzine", 12, tables.halflives["phenelzine"], tables)
    assert "Never stop an MAOI" in r.text
