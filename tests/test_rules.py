"""Rules: class inheritance, ingredient overrides, routes, protocols and combined risks."""

from __future__ import annotations

from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.protocol import Protocol
from ketcheck.model import Effect, Route, Severity, Source
from tests.conftest import run


def severities(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.rule: f.severity.label for f in report.findings}


def test_class_members_inherit_the_class_rule(kb: KnowledgeBase) -> None:
    for name in ("clonazepam", "Xanax", "lorazepam"):
        r = run(kb, name)
        assert [f.rule for f in r.findings] == ["benzodiazepine"]
        assert r.findings[0].hold is not None and r.findings[0].hold.hours_before == 12


def test_ingredient_rule_replaces_its_class_rule(kb: KnowledgeBase) -> None:
    r = run(kb, "Lamictal")
    assert [f.rule for f in r.findings] == ["lamotrigine"]
    assert r.findings[0].effects == (Effect.EFFICACY,)


def test_drug_with_no_rule_is_no_known_interaction_not_unknown(kb: KnowledgeBase) -> None:
    r = run(kb, "metformin")
    assert r.medications[0].status.value == "resolved"
    assert [(f.rule, f.severity) for f in r.findings] == [("no-known-interaction", Severity.NONE)]
    assert r.summary.exit_code == 0 and r.summary.complete


def test_route_specific_severity(kb: KnowledgeBase) -> None:
    assert severities(run(kb, "clarithromycin", route=Route.IV)) == {"cyp3a4": "minor"}
    assert severities(run(kb, "clarithromycin", route=Route.ORAL)) == {"cyp3a4": "moderate"}
    assert severities(run(kb, "clarithromycin", route=Route.SUBLINGUAL)) == {"cyp3a4": "moderate"}


def test_protocol_ingredient_key_beats_class_key(kb: KnowledgeBase) -> None:
    p = Protocol(name="clinic.toml", holds={"benzodiazepine": 24, "lorazepam": 6})
    r = run(kb, "lorazepam", "clonazepam", protocol=p)
    holds = {f.ingredients[0]: f.hold.hours_before for f in r.findings if f.hold}
    assert holds == {"lorazepam": 6, "clonazepam": 24}
    assert all(f.hold and f.hold.source == "protocol" for f in r.findings)


def test_protocol_zero_hours_removes_a_hold(kb: KnowledgeBase) -> None:
    r = run(kb, "clonazepam", protocol=Protocol(holds={"clonazepam": 0}))
    assert r.findings[0].hold is None and not r.schedule


def test_protocol_severity_override(kb: KnowledgeBase) -> None:
    r = run(kb, "sertraline", protocol=Protocol(name="p", severity={"ssri": Severity.MODERATE}))
    assert r.findings[0].severity is Severity.MODERATE
    assert r.findings[0].severity_source is Source.PROTOCOL
    assert r.to_dict()["findings"][0]["severity_source"] == "protocol: p"
    assert r.summary.exit_code == 1


def test_three_depressants_give_one_combined_finding_naming_all(kb: KnowledgeBase) -> None:
    r = run(kb, "Klonopin", "gabapentin", "Percocet")
    combined = [f for f in r.findings if f.kind == "combined"]
    assert [f.rule for f in combined] == ["cns-depressant-stack"]
    assert set(combined[0].ingredients) == {"clonazepam", "gabapentin", "oxycodone"}
    assert combined[0].severity >= Severity.MAJOR


def test_two_depressants_are_not_a_stack(kb: KnowledgeBase) -> None:
    r = run(kb, "Klonopin", "gabapentin")
    assert not [f for f in r.findings if f.kind == "combined"]


def test_one_combination_product_is_one_pressor_agent(kb: KnowledgeBase) -> None:
    assert not [f for f in run(kb, "Adderall").findings if f.kind == "combined"]
    r = run(kb, "Adderall", "phenelzine")
    assert [f.rule for f in r.findings if f.kind == "combined"] == ["pressor-stack"]


def test_esketamine_plus_ketamine_is_duplicate_therapy(kb: KnowledgeBase) -> None:
    r = run(kb, "Spravato", "ketamine troche 100 mg")
    dup = [f for f in r.findings if f.rule == "duplicate-ketamine"]
    assert dup and dup[0].severity is Severity.MAJOR
    assert set(dup[0].ingredients) == {"ketamine", "esketamine"}


def test_same_drug_twice_is_one_finding_with_both_inputs(kb: KnowledgeBase) -> None:
    r = run(kb, "Klonopin", "clonazepam 0.5 mg")
    assert len(r.findings) == 1
    assert r.findings[0].inputs == ("Klonopin", "clonazepam 0.5 mg")


def test_findings_sorted_by_severity(kb: KnowledgeBase) -> None:
    r = run(kb, "sertraline", "phenelzine", "clonazepam")
    sev = [f.severity for f in r.findings]
    assert sev == sorted(sev, reverse=True)


def test_medications_keep_input_order_and_count(kb: KnowledgeBase) -> None:
    names = ["zzz", "Zoloft", "asdfqwer", "Zoloft", "Percocet"]
    r = run(kb, *names)
    assert [m.input for m in r.medications] == names


def test_rxnorm_code_resolves_and_conflicts_are_ambiguous(kb: KnowledgeBase) -> None:
    from ketcheck.model import Entry

    coded = run(kb, Entry(text="some clinic free text", rxcui="2598"))
    assert coded.medications[0].ingredients == ("clonazepam",)
    agree = run(kb, Entry(text="Klonopin", rxcui="2598"))
    assert agree.medications[0].status.value == "resolved"
    clash = run(kb, Entry(text="Zoloft", rxcui="2598"))
    assert clash.medications[0].status.value == "ambiguous"
    unknown_code = run(kb, Entry(text="Zoloft", rxcui="999999"))
    assert unknown_code.medications[0].ingredients == ("sertraline",)
