"""Input modes: arguments, plain lines, JSON arrays and FHIR R4 resources and Bundles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ketcheck.errors import InputError
from ketcheck.sources.text import MAX_ENTRY_CHARS, decode, from_arguments, from_lines, from_text


def texts(entries: list[Any]) -> list[str]:
    return [e if isinstance(e, str) else e.text for e in entries]


def test_arguments_split_on_commas_and_semicolons_but_not_thousands() -> None:
    assert texts(from_arguments(["Klonopin, sertraline; gabapentin", "lithium 1,200 mg"])) == [
        "Klonopin",
        "sertraline",
        "gabapentin",
        "lithium 1,200 mg",
    ]


def test_lines_skip_blanks_and_comments_and_keep_order() -> None:
    text = "# my list\nZoloft 50 mg\n\n   \nKlonopin\r\n# end\nZoloft 50 mg\n"
    assert texts(from_lines(text)) == ["Zoloft 50 mg", "Klonopin", "Zoloft 50 mg"]


@pytest.mark.parametrize("brk", ["\r", "\r\n", "\f", "\v", "\u2028", "\x85"])
def test_every_line_break_ends_an_entry(brk: str) -> None:
    text = brk.join(["Zoloft 50mg", "Xanax 1mg", "Lamictal 100mg", ""])
    assert texts(from_lines(text)) == ["Zoloft 50mg", "Xanax 1mg", "Lamictal 100mg"]


def test_decode_repairs_bad_utf8_and_nul() -> None:
    d = decode(b"sertra\x00line\n\xff\xfeabc\n")
    assert d.removed_nul and d.replaced_bytes
    assert d.text.startswith("sertraline\n")


def test_overlong_entry_is_an_input_error() -> None:
    with pytest.raises(InputError, match="characters long"):
        from_lines("a" * (MAX_ENTRY_CHARS + 1))


def test_markup_like_line_is_not_taken_for_json() -> None:
    assert texts(from_text("[blink]xanax[/blink]\n")) == ["[blink]xanax[/blink]"]


@pytest.mark.parametrize(
    "first",
    [
        "{28 (norethindrone 0.35 MG Oral Tablet) } Pack [Jolivette 28 Day]",
        "{21 (ethinyl estradiol 0.02 MG / norethindrone acetate 1 MG Oral Tablet) } Pack",
    ],
)
def test_a_list_opening_with_an_rxnorm_pack_is_read_as_lines(first: str) -> None:
    assert texts(from_text(f"{first}\nsertraline\n")) == [first, "sertraline"]


@pytest.mark.parametrize("doc", ['{"medications": ["x"]', '{\n  "resourceType"', "{", "{}x"])
def test_a_brace_that_opens_an_object_is_still_json(doc: str) -> None:
    with pytest.raises(InputError, match="invalid JSON"):
        from_text(doc)


def test_json_array_of_strings_and_objects() -> None:
    doc = json.dumps(["Zoloft", {"name": "Klonopin 0.5 mg", "status": "stopped"}])
    entries = from_text(doc)
    assert texts(entries) == ["Zoloft", "Klonopin 0.5 mg"]
    assert [e.recent for e in entries] == [False, True]


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(InputError, match=r"line 2, column \d+"):
        from_text('["Zoloft",\n "Klonopin" "x"]')


def statement(text: str | None = None, status: str = "active", **extra: Any) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "MedicationStatement", "status": status}
    if text is not None:
        r["medicationCodeableConcept"] = {"text": text}
    r.update(extra)
    return r


def test_fhir_single_statement() -> None:
    assert texts(from_text(json.dumps(statement("Lamictal 100 mg")))) == ["Lamictal 100 mg"]


def test_fhir_bundle_order_status_and_references() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": statement("sertraline 50 mg")},
            {"resource": statement("oops", status="entered-in-error")},
            {"resource": statement("Klonopin", status="stopped")},
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": "active",
                    "medicationReference": {"reference": "Medication/m1"},
                }
            },
            {
                "resource": statement(
                    None,
                    medicationReference={"reference": "#c1"},
                    contained=[
                        {
                            "resourceType": "Medication",
                            "id": "c1",
                            "code": {"coding": [{"display": "gabapentin"}]},
                        }
                    ],
                )
            },
            {
                "resource": statement(
                    None,
                    medicationCodeableConcept={
                        "coding": [
                            {
                                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                "code": "2598",
                            }
                        ]
                    },
                )
            },
            {
                "fullUrl": "Medication/m1",
                "resource": {
                    "resourceType": "Medication",
                    "id": "m1",
                    "code": {"text": "phenelzine"},
                },
            },
        ],
    }
    entries = from_text(json.dumps(bundle), rxnorm={"2598": "clonazepam"}.get)
    assert texts(entries) == [
        "sertraline 50 mg",
        "Klonopin",
        "phenelzine",
        "gabapentin",
        "clonazepam",
    ]
    assert [e.recent for e in entries] == [False, True, False, False, False]


def test_fhir_unknown_rxnorm_code_is_kept_as_an_unresolvable_entry() -> None:
    doc = statement(
        None,
        medicationCodeableConcept={
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "999999"}]
        },
    )
    assert texts(from_text(json.dumps(doc))) == ["RxNorm 999999"]


def test_fhir_unsupported_resource() -> None:
    with pytest.raises(InputError, match="Patient is not supported"):
        from_text(json.dumps({"resourceType": "Patient"}))


def test_fhir_rxnorm_code_is_kept_with_the_entry() -> None:
    doc = statement(
        None,
        medicationCodeableConcept={
            "text": "Klonopin",
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "2598"}],
        },
    )
    (entry,) = from_text(json.dumps(doc))
    assert entry.text == "Klonopin" and entry.rxcui == "2598"
