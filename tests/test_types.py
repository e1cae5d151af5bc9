"""One owner per concept: shared advice, enums instead of strings, records packed from their fields."""

from __future__ import annotations

from dataclasses import fields

import pytest

from ketcheck.engine.exit_policy import worst_of
from ketcheck.errors import DataError, InputError, KetcheckError, ProtocolError
from ketcheck.kb import compiled
from ketcheck.kb.knowledge import Combination, KnowledgeBase, Rule
from ketcheck.model import Advice, ExitCode, Finding, FindingKind, Severity
from ketcheck.render.fhir import fhir_bundle
from tests.conftest import run

C, R, N = ExitCode.CLEARED, ExitCode.RISK, ExitCode.INCOMPLETE


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([], C),
        ([C, C], C),
        ([C, N], N),
        ([N, R, C], R),
        ([R, N], R),
    ],
)
def test_worst_of_many_checks(codes: list[ExitCode], worst: ExitCode) -> None:
    assert worst_of(codes) is worst


@pytest.mark.parametrize("error", [KetcheckError, InputError, DataError, ProtocolError])
def test_every_error_exits_with_the_error_code(error: type[KetcheckError]) -> None:
    assert error.exit_code == ExitCode.ERROR


def test_rules_combinations_and_findings_share_one_advice_declaration() -> None:
    advice = [f.name for f in fields(Advice)]
    for cls in (Rule, Combination, Finding):
        assert issubclass(cls, Advice)
        assert [f.name for f in fields(cls)][: len(advice)] == advice


def test_finding_kinds_are_enum_members(kb: KnowledgeBase) -> None:
    r = run(kb, "sertraline", "metformin", "Spravato", "ketamine troche 100 mg")
    kinds = {f.kind for f in r.findings}
    assert kinds <= set(FindingKind)
    assert {
        FindingKind.INTERACTION,
        FindingKind.NO_KNOWN_INTERACTION,
        FindingKind.COMBINED,
    } <= kinds


def test_duplicate_therapy_comes_from_the_data_row_not_a_rule_id(bundled: KnowledgeBase) -> None:
    combo = next(c for c in bundled.combinations if c.duplicate_therapy)
    r = run(bundled, "Spravato", "ketamine troche 100 mg", "sertraline")
    codes = {
        e["resource"]["code"]["text"]: e["resource"]["code"]["coding"][0]["code"]
        for e in fhir_bundle(r)["entry"]
        if e["resource"]["resourceType"] == "DetectedIssue"
    }
    assert codes[combo.id] == "DUPTHPY"
    assert {code for rule, code in codes.items() if rule != combo.id} == {"DRG"}


def test_every_record_survives_packing_field_by_field(bundled: KnowledgeBase) -> None:
    records: list[object] = [
        *bundled.rules,
        bundled.default_rule,
        *bundled.combinations,
        *bundled.classes.values(),
        *bundled.ingredients.values(),
        bundled.matching,
    ]
    for record in records:
        back = compiled.unpack(type(record), compiled.pack(record))
        for f in fields(type(record)):
            assert getattr(back, f.name) == getattr(record, f.name), (record, f.name)


def test_a_cache_written_for_other_fields_is_rebuilt_not_misread(bundled: KnowledgeBase) -> None:
    packed = compiled.to_compact(bundled)
    packed["layouts"][0] = [*packed["layouts"][0], "a_field_from_an_older_release"]
    with pytest.raises(KeyError):
        compiled.from_compact(packed)


def test_cli_choices_mirror_the_model_enums() -> None:
    # The CLI keeps its own copies so that `--help` need not import the model; they must agree.
    from ketcheck.cli import FailOn, RouteChoice
    from ketcheck.model import Route, Severity

    assert [c.value for c in RouteChoice] == [r.value for r in Route]
    assert [c.value for c in FailOn] == [*(s.label for s in reversed(Severity) if s), "never"]


def test_api_options_and_keywords_give_the_same_report() -> None:
    import ketcheck
    from ketcheck.api import options_from
    from ketcheck.model import Route
    from ketcheck.options import CheckOptions

    names = ["clarithromycin", "zolof"]
    by_keywords = ketcheck.check(names, route="oral", fail_on="major", strict=True)
    by_options = ketcheck.check(
        names, options=CheckOptions(route=Route.ORAL, fail_on=Severity.MAJOR, strict=True)
    )
    assert by_keywords == by_options
    assert options_from(route="oral", fail_on="never").fail_on is None
    with pytest.raises(TypeError):
        ketcheck.check(names, options=CheckOptions(), strict=True)
