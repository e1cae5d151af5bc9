"""Dose arithmetic: the sig parser, equivalents, and every dose rule that annotates or raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketcheck.api import check
from ketcheck.engine.doses import read_dose
from ketcheck.kb.patient import PatientTables, load_patient_tables
from ketcheck.model import Severity
from ketcheck.patient import Dose


@pytest.fixture(scope="module")
def tables() -> PatientTables:
    return load_patient_tables()


def dose_of(line: str) -> Dose | None:
    return check([line]).medications[0].dose


@pytest.mark.parametrize(
    ("line", "per_dose", "per_day", "daily", "prn"),
    [
        ("Klonopin 0.5 mg BID", 0.5, 2, 1.0, False),
        ("Klonopin 0.5mg twice daily", 0.5, 2, 1.0, False),
        ("clonazepam 0.5 mg b.i.d.", 0.5, 2, 1.0, False),
        ("Klonopin 1 mg qhs", 1, 1, 1, False),
        ("diazepam 2 mg three times a day", 2, 3, 6, False),
        ("diazepam 2 mg TID", 2, 3, 6, False),
        ("sertraline 50 mg QD", 50, 1, 50, False),
        ("gabapentin 300 mg QID", 300, 4, 1200, False),
        ("oxycodone 5 mg q4h", 5, 6, 30, False),
        ("oxycodone 5 mg q4-6h prn", 5, 6, 30, True),
        ("oxycodone 5 mg every 6 hours", 5, 4, 20, False),
        ("tramadol 50mg q6h prn pain, max 4/day", 50, 4, 200, True),
        ("tramadol 50 mg q4h prn max 3 doses per day", 50, 3, 150, True),
        ("Xanax 0.5 mg TID PRN", 0.5, 3, 1.5, True),
        ("Norco 5/325 1-2 tabs q4-6h prn", 10, 6, 60, True),
        ("lorazepam 0.5 mg 1/2 tab BID", 0.25, 2, 0.5, False),
        ("Lamictal 25 mg 2 tabs daily", 50, 1, 50, False),
        ("methotrexate 15 mg weekly", 15, 1 / 7, 15 / 7, False),
        ("aspirin 81 mg every other day", 81, 0.5, 40.5, False),
        ("Klonopin 500 mcg BID", 0.5, 2, 1.0, False),
        ("lithium 0.3 g BID", 300, 2, 600, False),
        ("oxycodone 20 mg/mL 0.5 mL q4h prn", 10, 6, 60, True),
        ("methadone 10 mg/5 mL 5 mL daily", 10, 1, 10, False),
        ("lorazepam 0.5-1 mg BID", 1, 2, 2, False),
        ("Klonopin 1 mg 2x/day", 1, 2, 2, False),
        ("Klonopin 1 mg 3 times a day", 1, 3, 3, False),
    ],
)
def test_sig_arithmetic(
    line: str, per_dose: float, per_day: float, daily: float, prn: bool
) -> None:
    d = dose_of(line)
    assert d is not None and d.per_dose is not None and d.daily is not None, d
    assert d.per_dose.amount == pytest.approx(per_dose)
    assert d.doses_per_day == pytest.approx(per_day, rel=1e-3)
    assert d.daily.amount == pytest.approx(daily, rel=1e-3)
    assert d.prn is prn


# A drug's own name is never read as its timing: "PM", "AC", "mane", "Bid" and "daily" here
# belong to the product. Each list has a line with a digit, so the patient step reads doses.
@pytest.mark.parametrize(
    ("line", "per_day", "when"),
    [
        ("Advil PM", None, None),
        ("Tylenol PM", None, None),
        ("lion's mane", None, None),
        ("Z Tuss AC", None, None),
        ("Nitro-Bid", None, None),
        ("daily vitamin", None, None),
        ("Advil PM 10 mg BID", 2, None),
        ("lion's mane 100 mcg BID", 2, None),
        ("daily vitamin 2 mg at bedtime", 1, "bedtime"),
        ("Z Tuss AC 5 mL qhs", 1, "bedtime"),
        ("Tylenol PM 2 tablets at bedtime", 1, "bedtime"),
    ],
)
def test_a_name_is_never_read_as_its_timing(
    line: str, per_day: float | None, when: str | None
) -> None:
    d = check([line, "lisinopril 10 mg"]).medications[0].dose
    if per_day is None:
        assert d is None or (d.doses_per_day is None and d.when is None), d
    else:
        assert d is not None and d.doses_per_day == pytest.approx(per_day), d
        assert d.when == when


@pytest.mark.parametrize("line", ["escitalopram", "Lipitor", "metformin with food"])
def test_nothing_stated_is_null(line: str) -> None:
    assert dose_of(line) is None


@pytest.mark.parametrize(
    ("line", "note"),
    [
        ("Klonopin 0.5 mg", "how often not stated"),
        ("Klonopin PRN", "dose not stated"),
        ("Xanax 0.5 mg prn", "as needed, how often not stated"),
        ("oxycodone 20 mg/mL q4h", "without a volume"),
        ("methadone 5 mL daily", "dose not stated"),
        ("ketamine 0.5 mg/kg", "weight-based"),
        ("Klonopin 0.5 mg QD", "error-prone"),
        ("oxycodone ER 10 mg TID", "extended-release"),
    ],
)
def test_what_cannot_be_computed_says_so(line: str, note: str) -> None:
    d = dose_of(line)
    assert d is not None and any(note in n for n in d.notes), d
    if "not stated" in note or "unknown" in note:
        assert d.daily is None


def test_combination_strength_is_split_per_ingredient_opioid_first() -> None:
    d = dose_of("Norco 10/325 QID")
    assert d is not None and d.ingredient == "hydrocodone" and d.daily is not None
    assert d.daily.amount == 40
    shares = {b.ingredient: b.daily.amount for b in d.by_ingredient if b.daily}
    assert shares == {"hydrocodone": 40, "acetaminophen": 1300}
    sub = dose_of("Suboxone 8/2 mg SL BID")
    assert sub is not None and sub.ingredient == "buprenorphine"
    assert sub.per_dose is not None and sub.per_dose.amount == 8


def test_whole_product_strength_is_labelled() -> None:
    d = dose_of("Adderall 20 mg BID")
    assert d is not None and d.daily is not None and d.daily.amount == 40
    assert any("whole product" in n for n in d.notes)


def test_patches_are_rates() -> None:
    fent = dose_of("fentanyl 25 mcg/hr patch q72h")
    assert fent is not None and fent.daily is not None and fent.daily.unit == "mcg/h"
    assert fent.doses_per_day is None
    assert [e.amount for e in fent.equivalents if e.kind.value == "morphine"] == [60]
    emsam = dose_of("Emsam 6 mg/24h")
    assert emsam is not None and emsam.daily is not None and emsam.daily.amount == 6


@pytest.mark.parametrize(
    ("line", "tables_dz"),
    [
        ("Ativan 0.5 mg BID", {"Ashton 2002/2007": 10, "VA/DoD 2021": 5}),
        ("Klonopin 0.5 mg BID", {"Ashton 2002/2007": 20, "VA/DoD 2021": 10}),
        ("Xanax 1 mg BID", {"Ashton 2002/2007": 40, "VA/DoD 2021": 20}),
        ("temazepam 30 mg qhs", {"Ashton 2002/2007": 15, "VA/DoD 2021": 20}),
        ("Valium 5 mg BID", {"Ashton 2002/2007": 10, "VA/DoD 2021": 10}),
        ("zolpidem 10 mg qhs", {"Ashton 2002/2007": 5}),
        ("oxazepam 15 mg TID", {"Ashton 2002/2007": 22.5, "VA/DoD 2021": 15}),
        ("triazolam 0.25 mg qhs", {"Ashton 2002/2007": 5, "VA/DoD 2021": 10}),
    ],
)
def test_diazepam_equivalents_name_their_table(line: str, tables_dz: dict[str, float]) -> None:
    d = dose_of(line)
    assert d is not None
    got = {e.table: e.amount for e in d.equivalents if e.kind.value == "diazepam"}
    for table, value in tables_dz.items():
        assert got[table] == pytest.approx(value)


def test_range_table_gives_both_ends() -> None:
    d = dose_of("estazolam 2 mg qhs")
    assert d is not None
    ashton = next(e for e in d.equivalents if e.table.startswith("Ashton"))
    assert (ashton.low, ashton.high) == (10, 20)


@pytest.mark.parametrize(
    ("line", "mme"),
    [
        ("Norco 10/325 QID", 40),
        ("oxycodone 10 mg BID", 30),  # the CDC 2022 example
        ("hydromorphone 2 mg q4h", 60),
        ("tramadol 50 mg QID", 40),
        ("methadone 10 mg BID", 94),
        ("codeine 30 mg q6h", 18),
        ("tapentadol 50 mg q6h", 80),
        ("morphine 15 mg BID", 30),
        ("oxymorphone 5 mg BID", 30),
    ],
)
def test_cdc_2022_mme(line: str, mme: float) -> None:
    d = dose_of(line)
    assert d is not None
    got = [e.amount for e in d.equivalents if e.kind.value == "morphine"]
    assert got == [pytest.approx(mme)]


def test_buprenorphine_has_no_mme() -> None:
    rep = check(["buprenorphine 8 mg SL daily"])
    d = rep.medications[0].dose
    assert d is not None and not [e for e in d.equivalents if e.kind.value == "morphine"]
    assert any("not in the CDC 2022" in n for f in rep.findings for n in f.notes)


def _finding(line: str, ingredient: str, *others: str):  # type: ignore[no-untyped-def]
    rep = check([line, *others])
    return next(f for f in rep.findings if ingredient in f.ingredients and f.kind == "interaction")


def test_diazepam_threshold_note() -> None:
    above = _finding("Klonopin 0.5 mg BID", "clonazepam")
    assert any("above the 8 mg/day level" in n and "Andrashko 2020" in n for n in above.notes)
    below = _finding("Klonopin 0.25 mg qhs", "clonazepam")
    assert any("at or below the 8 mg/day" in n for n in below.notes)
    split = _finding("Ativan 0.5 mg BID", "lorazepam")
    assert any("tables disagree" in n for n in split.notes)


def test_diazepam_high_band_and_trial_limit_notes() -> None:
    f = _finding("Xanax 2 mg QID", "alprazolam")
    assert any("never stop abruptly" in n for n in f.notes)
    assert any("outside the trial population" in n for n in f.notes)


def test_dose_never_lowers_a_grade() -> None:
    low = _finding("Klonopin 0.125 mg qhs", "clonazepam")
    assert low.severity is Severity.MODERATE


def test_mme_bands() -> None:
    low = _finding("oxycodone 5 mg BID", "oxycodone")
    assert low.severity is Severity.MODERATE and any("below the 50" in n for n in low.notes)
    mid = _finding("oxycodone 10 mg QID", "oxycodone")  # 60 MME
    assert mid.severity is Severity.MODERATE and any("naloxone" in n for n in mid.notes)
    high = _finding("oxycodone 20 mg QID", "oxycodone")  # 120 MME
    assert high.severity is Severity.MAJOR and high.raised_from is Severity.MODERATE


def test_gabapentinoid_bands() -> None:
    mod = _finding("gabapentin 300 mg TID", "gabapentin")
    assert any("Moderate band" in n for n in mod.notes) and mod.severity is Severity.MODERATE
    high = _finding("gabapentin 600 mg TID", "gabapentin")
    assert any("High band" in n for n in high.notes)
    with_opioid = _finding("gabapentin 300 mg TID", "gabapentin", "oxycodone")
    assert with_opioid.severity is Severity.MAJOR
    lyrica = _finding("pregabalin 200 mg BID", "pregabalin")
    assert any("High band" in n for n in lyrica.notes) and lyrica.severity is Severity.MODERATE
    lyrica_opioid = _finding("pregabalin 200 mg BID", "pregabalin", "tramadol")
    assert lyrica_opioid.severity is Severity.MAJOR
    low = _finding("pregabalin 150 mg BID", "pregabalin", "tramadol")
    assert low.severity is Severity.MODERATE


def test_lamotrigine_band_is_a_note_only() -> None:
    f = _finding("Lamictal 200 mg BID", "lamotrigine")
    assert f.severity is Severity.MINOR and any("No outcome study" in n for n in f.notes)
    assert not _finding("Lamictal 100 mg BID", "lamotrigine").notes


def test_label_maximum_warns_that_the_entry_may_be_mistyped(tables: PatientTables) -> None:
    rep = check(["Klonopin 20 mg TID"])
    assert any("label maximum" in w for w in rep.warnings)
    f = next(f for f in rep.findings if "clonazepam" in f.ingredients)
    assert any("may be mistyped" in n for n in f.notes)
    for ing, cap in tables.maxima.items():
        below = check([f"{ing} {cap.mg_per_day:g} mg daily"])
        assert not any("label maximum" in w for w in below.warnings), ing
        above = check([f"{ing} {cap.mg_per_day * 2:g} mg daily"])
        assert any("label maximum" in w for w in above.warnings), ing


def test_prn_is_graded_on_the_most_the_sig_allows() -> None:
    f = _finding("Xanax 0.5 mg TID PRN", "alprazolam")
    assert any("as needed: actual use unknown" in n for n in f.notes)


def test_every_band_has_a_test(tables: PatientTables) -> None:
    tested = {
        "gabapentin-high",
        "gabapentin-moderate",
        "gabapentin-with-opioid",
        "pregabalin-high",
        "pregabalin-with-opioid",
        "lamotrigine-above-target",
    }
    assert {b.id for b in tables.bands} <= tested


_SIG = st.sampled_from(["", "BID", "TID", "q6h", "qhs", "prn", "q4-6h prn", "daily", "weekly", "x"])
_STRENGTH = st.one_of(
    st.just(""),
    st.builds(
        lambda n, u: f"{n}{u}",
        st.floats(0.01, 5000).map(lambda x: f"{x:.3g}"),
        st.sampled_from([" mg", "mg", " mcg", " g", " mg/mL", " mcg/hr", "/325"]),
    ),
)


@settings(max_examples=200, deadline=None)
@given(strength=_STRENGTH, sig=_SIG, noise=st.text(max_size=12))
def test_dose_reader_never_crashes_and_stays_consistent(
    tables: PatientTables, strength: str, sig: str, noise: str
) -> None:
    d = read_dose(f"clonazepam {strength} {sig} {noise}", ("clonazepam",), lambda _: False, tables)
    if d is None:
        return
    if d.daily is not None and d.per_dose is not None and d.doses_per_day is not None:
        assert d.daily.amount == pytest.approx(d.per_dose.amount * d.doses_per_day, rel=1e-2)
    assert all(e.amount >= 0 for e in d.equivalents)
