"""The patient handout: the patient's names, plain words, one section per medicine, route-aware
wording, hold wording from the frequency, and an HTML page that prints on one sheet."""

from __future__ import annotations

import html
import re
import shutil
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Entry, Report, Route
from ketcheck.render.handout import render_handout, sections
from ketcheck.render.html import escape, render_html
from ketcheck.render.text import known_name
from tests.conftest import ROOT, run

SESSION = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/London"))
TEN = (ROOT / "tests" / "fixtures" / "handout-10.txt").read_text(encoding="utf-8").splitlines()
TWENTY_FIVE = [
    *TEN,
    "oxycodone 5 mg q6h prn",
    "diphenhydramine 25 mg qhs",
    "cyclobenzaprine 10 mg",
    "levothyroxine 50 mcg",
    "St John's wort",
    "metformin 500 mg bid",
    "atorvastatin 20 mg",
    "omeprazole 20 mg",
    "Seroquel 50 mg qhs",
    "trazodone 50 mg qhs",
    "ibuprofen",
    "Tylenol",
    "Adderall 10 mg",
    "zzyzx",
    "melatonin",
]
JARGON = (r"\bMAOI", r"washout", r"titrat", r"benzodiazepine", r"\bGABA\b", r"\bCYP", r"\bhold")


def handout(bundled: KnowledgeBase, names: list[str], **kw: object) -> Report:
    return run(bundled, *names, session=SESSION, **kw)


def subjects(report: Report) -> list[str]:
    """The medicine each item of the medicine sections is about (its first known name)."""
    _, parts = sections(report)
    names = sorted({known_name(m) for m in report.medications}, key=len, reverse=True)
    found = []
    for s in parts:
        if s.title in ("Important", "On the day of your session"):
            continue
        for item in s.items:
            hits = [(item.casefold().find(n.casefold()), n) for n in names]
            found.append(min((i, n) for i, n in hits if i >= 0)[1])
    return found


@pytest.mark.parametrize("names", [TEN, TWENTY_FIVE], ids=["10", "25"])
def test_every_medicine_is_in_exactly_one_section(bundled: KnowledgeBase, names: list[str]) -> None:
    report = handout(bundled, names)
    got = subjects(report)
    expected = {known_name(m) for m in report.medications}
    assert sorted(got, key=str.casefold) == sorted(expected, key=str.casefold)


def test_names_the_patient_knows_and_plain_words(bundled: KnowledgeBase) -> None:
    text = render_handout(handout(bundled, TEN))
    assert "Klonopin \\(clonazepam\\)" not in text  # lexicon names are not escaped as input
    assert "Klonopin (clonazepam)" in text and "Vitamin D3" in text
    assert "cholecalciferol" not in text
    for word in JARGON:
        assert re.search(word, text, flags=re.I) is None, word


def test_title_has_the_session_day_and_time(bundled: KnowledgeBase) -> None:
    title, _ = sections(handout(bundled, TEN))
    assert title == "Your medicines and your ketamine session on Monday 23 November at 9:00 am"


def test_bedtime_sig_becomes_skip_the_bedtime_dose(bundled: KnowledgeBase) -> None:
    text = render_handout(handout(bundled, ["Ambien 10 mg qhs"]))
    assert "Skip your bedtime dose of Ambien (zolpidem) on Sunday night" in text


def test_morning_sig_becomes_take_it_after_the_session(bundled: KnowledgeBase) -> None:
    from ketcheck.kb.protocol import Protocol

    r = handout(
        bundled, ["Klonopin 0.5 mg every morning"], protocol=Protocol(holds={"clonazepam": 2})
    )
    assert "Do not take your morning dose of Klonopin (clonazepam) on Monday" in render_handout(r)


def test_spravato_at_a_spravato_session_is_the_session_medicine(bundled: KnowledgeBase) -> None:
    report = handout(bundled, ["Spravato 56 mg", "sertraline"], route=Route.INTRANASAL)
    title, parts = sections(report)
    assert "esketamine (Spravato) session" in title
    by_title = {s.title: s.items for s in parts}
    assert any("Spravato" in i for i in by_title["Your session medicine"])
    assert not any("Spravato" in i for i in by_title.get("Keep taking as usual", []))
    assert any("2 hours" in i for i in by_title["On the day of your session"])


def test_a_ketamine_product_at_an_iv_session_is_never_keep_taking(bundled: KnowledgeBase) -> None:
    _, parts = sections(handout(bundled, ["Spravato", "sertraline"]))
    for s in parts:
        for item in s.items:
            if "Spravato" in item:
                assert "Keep taking" not in item and "Do not use it on your session day" in item


def test_alcohol_reads_as_use_not_take(bundled: KnowledgeBase) -> None:
    text = render_handout(handout(bundled, ["beer", "sertraline"]))
    assert "Keep taking" not in text.split("## Keep taking as usual")[0].split("beer")[-1][:60]
    assert "Do not drink beer" in text


def test_blanks_provenance_and_footer(bundled: KnowledgeBase) -> None:
    text = render_handout(handout(bundled, TEN))
    assert "Name: " in text and "Clinic phone: " in text
    assert "ketcheck test · data " in text


def test_html_prints_well(bundled: KnowledgeBase) -> None:
    page = render_html(handout(bundled, TEN))
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@page { size: auto;" in page and "size: A4" not in page
    assert "break-after: avoid" in page and "section { break-inside: avoid" in page
    assert page.count("<section>") == page.count("<h2>")


def test_typed_names_stay_literal_in_html(bundled: KnowledgeBase) -> None:
    page = render_html(handout(bundled, ["<img src=x onerror=alert(1)>", "sertraline"]))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@given(st.text())
def test_the_page_escapes_exactly_as_html_escape(text: str) -> None:
    assert escape(text) == html.escape(text)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs headless Chromium")
def test_ten_medicines_print_on_one_page_on_a4_and_letter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import print_handout

    assert print_handout.main(["--paper", "both"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"^(\w+): (\d+) page", out, flags=re.M) == [("a4", "1"), ("letter", "1")]


def test_page_counter_reads_page_objects() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import print_handout

    pdf = b"<< /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page /Parent 1 0 R >>"
    assert print_handout.page_count(pdf) == 2
    assert Path(print_handout.DEFAULT_MEDS).is_file()


def test_a_line_naming_two_medicines_puts_each_where_it_belongs(bundled: KnowledgeBase) -> None:
    _, parts = sections(handout(bundled, ["Klonopin 1 mg nardil 15 mg tid"]))
    by_title = {s.title: " ".join(s.items) for s in parts}
    assert "Klonopin (clonazepam)" in by_title["Before your session"]
    assert "Nardil" not in by_title["Before your session"]
    assert by_title["Talk to your care team about"].startswith("Nardil (phenelzine):")


STOPPED = [
    # a medicine the record says was stopped, and the words that must never be said of it
    ("phenelzine 15 mg tid", ("Keep taking phenelzine", "Keep taking it as usual")),
    ("clonazepam 0.5 mg bid", ("Take your last dose", "Never stop clonazepam")),
    ("sertraline 50 mg", ("Keep taking as usual",)),
]


@pytest.mark.parametrize(("line", "never"), STOPPED)
def test_a_stopped_medicine_is_never_keep_taking(
    bundled: KnowledgeBase, line: str, never: tuple[str, ...]
) -> None:
    report = handout(bundled, [Entry(text=line, recent=True)])
    by_title = {s.title: s.items for s in sections(report)[1]}
    name = line.split()[0]
    assert [i for i in by_title["Medicines you stopped recently"] if name in i.casefold()]
    text = render_handout(report)
    for words in never:
        assert words not in text, words


def test_the_same_medicine_current_and_stopped_is_in_both_sections(bundled: KnowledgeBase) -> None:
    report = handout(bundled, [Entry(text="phenelzine", recent=True), "phenelzine 15 mg"])
    by_title = {s.title: s.items for s in sections(report)[1]}
    assert any("Phenelzine" in i for i in by_title["Medicines you stopped recently"])
    assert any("Phenelzine" in i for i in by_title["Talk to your care team about"])
    assert "Keep taking phenelzine every day" in render_handout(report)
