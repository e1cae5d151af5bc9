"""The sig hint: a check loads the patient tables for every line the dose reader could read."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketcheck.api import check
from ketcheck.engine.doses import read_dose
from ketcheck.engine.lines import LineMemo
from ketcheck.engine.sig import PRN, states_sig
from ketcheck.kb.load import load_bundled
from ketcheck.kb.patient import PatientTables, load_patient_tables
from ketcheck.matching.normalise import clean_text

TABLES = load_patient_tables()
_MEMO = LineMemo(load_bundled())
PHRASES = sorted(TABLES.frequencies)
PRN_PHRASES = PRN.pattern.removeprefix(r"\b(?:").removesuffix(r")\b").split("|")


def _no_opioid(_: str) -> bool:
    return False


def reads(text: str, tables: PatientTables = TABLES) -> bool:
    return read_dose(text, ("sertraline",), _no_opioid, tables, name="sertraline") is not None


def test_the_table_has_phrases_to_hold_the_hint_to() -> None:
    assert len(PHRASES) >= 60
    assert "as needed" in PRN_PHRASES


@pytest.mark.parametrize("phrase", PHRASES + PRN_PHRASES)
@pytest.mark.parametrize("shape", ["sertraline {}", "SERTRALINE {}", "sertraline, {}."])
def test_every_timing_phrase_sets_the_hint(phrase: str, shape: str) -> None:
    line = shape.format(phrase.upper() if shape.isupper() else phrase)
    assert reads(line), line
    assert states_sig(clean_text(line)), line


@pytest.mark.parametrize(
    "line",
    ["sertraline b.i.d.", "sertraline Q.H.S.", "sertraline ٣ tabs", "sertraline two times a day"],
)
def test_dotted_and_unusual_forms_set_the_hint(line: str) -> None:
    assert reads(line)
    assert states_sig(clean_text(line))


@pytest.mark.parametrize(
    "line", ["sertraline", "Advil PM", "Lion's Mane", "Wellbutrin XL", "zolpidem tartrate"]
)
def test_a_line_without_timing_reads_no_dose(line: str) -> None:
    """The hint may say yes too often (a table load), but these lines state nothing."""
    assert check([line]).medications[0].dose is None
    assert check([line, "gabapentin 300 mg"]).medications[0].dose is None


_PIECES = st.sampled_from(
    sorted(
        {w for p in PHRASES + PRN_PHRASES for w in p.split()}
        | {"x", "/", ".", "-", " ", "a", "q", "b.i.d", "t.i.d.", "one", "é", "Ⅹ", "sertraline"}
    )
)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(alphabet="abdhimnopqstx .,/-", max_size=4)), max_size=8))
def test_the_hint_says_yes_to_every_line_the_reader_reads(pieces: list[str]) -> None:
    line = "sertraline " + "".join(pieces)
    if reads(line):
        assert states_sig(clean_text(line))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(_PIECES, st.text(alphabet="abdhimnopqstx .,/-0", max_size=4)), max_size=8)
)
def test_a_line_the_hint_passes_over_has_no_dose_to_read(pieces: list[str]) -> None:
    """The patient step skips reading such lines: the reader must find nothing in them."""
    text = "sertraline " + "".join(pieces)
    line = _MEMO.line(text)
    if not line.sig:
        read = read_dose(
            line.parsed.text or text,
            line.ingredients or ("sertraline",),
            _no_opioid,
            TABLES,
            name=line.parsed.name,
        )
        assert read is None, text


@pytest.mark.parametrize(
    ("line", "per_day"),
    [
        ("sertraline twice a day", 2),
        ("sertraline at night", 1),
        ("sertraline every morning", 1),
        ("sertraline at bedtime", 1),
        ("sertraline tds", 3),
        ("sertraline b.i.d.", 2),
        ("sertraline qweek", 0.1428571429),
    ],
)
def test_a_timing_alone_gives_the_dose_it_gives_beside_other_lines(
    line: str, per_day: float
) -> None:
    alone = check([line]).medications[0].dose
    beside = check([line, "gabapentin 300 mg"]).medications[0].dose
    assert alone is not None
    assert alone == beside
    assert alone.doses_per_day == pytest.approx(per_day, abs=1e-3)


# Two table words stay unknown to the parser, so a line with them after a name is ambiguous
# (confirm by hand), never a wrong drug: "mane" is part of names ("lion's mane"), whose
# typos it would split, and "AC" after a brand can mean "with codeine" (Robitussin AC).
_NOT_PARSER_WORDS = {"mane", "ac"}


@pytest.mark.parametrize("phrase", PHRASES)
def test_the_parser_sets_aside_every_word_of_a_timing_phrase(phrase: str) -> None:
    from ketcheck.matching.vocabulary import (
        DOSE_TOKEN,
        FREQUENCY_TOKEN,
        INSTRUCTION_WORDS,
        PRODUCT_SUFFIXES,
    )

    for word in phrase.split():
        assert (
            word in INSTRUCTION_WORDS
            or word in PRODUCT_SUFFIXES
            or word in _NOT_PARSER_WORDS
            or FREQUENCY_TOKEN.match(word)
            or DOSE_TOKEN.match(word)
        ), word


@pytest.mark.parametrize(
    ("line", "ingredients", "when"),
    [
        ("clonazepam nocte", ("clonazepam",), "bedtime"),
        ("quetiapine 50mg nocte", ("quetiapine",), "bedtime"),
        ("temazepam 10 mg nocte prn", ("temazepam",), "bedtime"),
        ("zolpidem 5 mg qn", ("zolpidem",), "bedtime"),
        ("lorazepam 1 mg sos", ("lorazepam",), None),
        ("Noctec 500 mg", ("chloral hydrate",), None),
    ],
)
def test_a_latin_timing_word_is_timing_not_a_drug(
    line: str, ingredients: tuple[str, ...], when: str | None
) -> None:
    """ "nocte" (at night) once matched Noctec by spelling and added chloral hydrate."""
    med = check([line]).medications[0]
    assert med.ingredients == ingredients
    assert med.dose is not None
    assert med.dose.when == when


@pytest.mark.parametrize(
    ("line", "n", "word"),
    [("methotrexate 2.5 mg biw", 2, "BIW"), ("clonazepam 0.5 mg TIW", 3, "TIW")],
)
def test_a_weekly_abbreviation_is_read_per_week_with_its_caution(
    line: str, n: int, word: str
) -> None:
    """BIW and TIW are misread as twice and three times a day (ISMP): read as written, flagged."""
    dose = check([line]).medications[0].dose
    assert dose is not None and dose.doses_per_day == pytest.approx(n / 7, abs=1e-3)
    assert any(
        f"'{word}' is on the ISMP error-prone list: read as {n} a week" in note
        for note in dose.notes
    )


def test_a_timing_word_alone_names_no_drug() -> None:
    assert check(["nocte"]).summary.unresolved == 1


@pytest.mark.parametrize(
    ("line", "ingredients"),
    [
        ("lorazepam 1 mg stat", ("lorazepam",)),
        ("sertraline 50 mg ud", ("sertraline",)),
        ("metformin 500 mg pc", ("metformin",)),
        ("testosterone biw", ("testosterone",)),
        ("phenobarbital elix 20 mg/5 mL", ("phenobarbital",)),
        ("opium tinct 10 mg/mL", ("opium",)),
        ("codeine syr", ("codeine",)),
    ],
)
def test_common_sig_and_form_abbreviations_are_set_aside(
    line: str, ingredients: tuple[str, ...]
) -> None:
    """Each was an unknown word that made its line ambiguous; none is a drug name."""
    med = check([line]).medications[0]
    assert med.ingredients == ingredients
    assert med.status.value == "resolved"
