"""Issue 13: every ingredient reviewed, the not-reviewed status, the session medicine, and the
examples the external audit found, each as a test against the bundled data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ketcheck.errors import DataError
from ketcheck.kb.knowledge import KnowledgeBase, ReviewOutcome
from ketcheck.kb.load import compile_knowledge, data_root
from ketcheck.model import Finding, Report, Route, Severity
from ketcheck.render.handout import render_handout
from ketcheck.render.json import report_to_dict
from ketcheck.render.markdown import render_markdown
from tests.conftest import FIXTURE_KB, run


def interactions(report: Report) -> list[Finding]:
    return [f for f in report.findings if f.kind == "interaction"]


def top(report: Report) -> Finding:
    return max(interactions(report), key=lambda f: f.severity)


# --- the review data test ----------------------------------------------------------------


def test_every_bundled_ingredient_carries_a_review(bundled: KnowledgeBase) -> None:
    missing = sorted(i.id for i in bundled.ingredients.values() if i.review is None)
    assert not missing, f"{len(missing)} ingredients without a review: {', '.join(missing)}"


def test_every_review_says_why(bundled: KnowledgeBase) -> None:
    for ing in bundled.ingredients.values():
        if ing.review is not None:
            assert len(ing.review.basis) >= 10, ing.id


# --- the not-reviewed path (fixture ingredient without a review) -------------------------


def test_an_unreviewed_ingredient_is_not_reviewed_and_incomplete(kb: KnowledgeBase) -> None:
    r = run(kb, "novexitol")
    assert [(f.rule, f.kind) for f in r.findings] == [("not-reviewed", "not-reviewed")]
    assert r.medications[0].status.value == "resolved"
    assert not r.summary.complete and r.summary.not_reviewed == 1
    assert r.summary.exit_code == 3


def test_a_risk_finding_still_wins_over_not_reviewed(kb: KnowledgeBase) -> None:
    r = run(kb, "novexitol", "phenelzine")
    assert r.summary.exit_code == 1 and not r.summary.complete


def test_not_reviewed_is_visibly_different_in_every_format(kb: KnowledgeBase) -> None:
    from rich.console import Console

    from ketcheck.render.fhir import fhir_bundle
    from ketcheck.render.table import render_table

    r = run(kb, "novexitol", "metformin")
    console = Console(width=120, record=True, no_color=True)
    console.print(render_table(r))
    table = console.export_text()
    assert "NOT REVIEWED for ketamine" in table and "novexitol" in table
    assert "No known interaction with ketamine: metformin" in table
    assert "not reviewed for ketamine" in " ".join(table.split("Verdict:")[1].split())
    markdown = render_markdown(r)
    assert "NOT REVIEWED for ketamine" in markdown and "INCOMPLETE" in markdown
    assert "No known interaction with ketamine: metformin." in markdown
    doc = report_to_dict(r)
    assert {f["kind"] for f in doc["findings"]} == {"not-reviewed", "no-known-interaction"}
    assert doc["summary"]["counts"]["not_reviewed"] == 1
    assert "novexitol (recognised, but not yet reviewed" in render_handout(r)
    issues = [
        e["resource"]
        for e in fhir_bundle(r)["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    ]
    assert "novexitol: not reviewed for ketamine" in str(issues)


def _broken(tmp_path: Path, text: str) -> str:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, root)
    target = root / "ingredients" / "test.toml"
    target.write_text(target.read_text() + "\n" + text)
    with pytest.raises(DataError) as info:
        compile_knowledge(root)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[newdrug]\nclasses = ["benzodiazepine"]\n'
            'review = { outcome = "no-interaction", basis = "wrongly cleared" }\n',
            "ingredients/test.toml: [newdrug]: review: outcome: 'no-interaction', but",
        ),
        (
            '[newdrug]\nclasses = ["statin"]\n'
            'review = { outcome = "interaction", basis = "says interaction, has none" }\n',
            "ingredients/test.toml: [newdrug]: review: outcome: 'interaction', but",
        ),
        (
            '[newdrug]\nclasses = []\nreview = { outcome = "none", basis = "x" }\n',
            "review: outcome: 'none' is not one of",
        ),
        (
            '[newdrug]\nclasses = []\nreview = { outcome = "no-interaction", basis = " " }\n',
            "review: basis: must be a string (non-empty)",
        ),
        (
            '[newdrug]\nclasses = []\nreview = { outcome = "no-interaction" }\n',
            "review: basis: missing (required)",
        ),
        (
            '[newdrug]\nclasses = []\nreview = { outcome = "no-interaction", basis = "b", by = "me" }\n',
            "review: by: unknown key",
        ),
        ("[newdrug]\nclasses = []\nreviewed = true\n", "[newdrug]: reviewed: unknown key"),
    ],
)
def test_a_wrong_review_is_rejected_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    assert message in _broken(tmp_path, text)


def test_a_missing_review_loads(kb: KnowledgeBase) -> None:
    assert kb.ingredients["novexitol"].review is None
    assert kb.ingredients["clonazepam"].review is not None
    assert kb.ingredients["clonazepam"].review.outcome is ReviewOutcome.INTERACTION


def test_a_new_lexicon_entry_without_review_is_caught_at_run_time(tmp_path: Path) -> None:
    root = tmp_path / "data"
    shutil.copytree(Path(str(data_root())), root)
    (root / "ingredients" / "zz.toml").write_text("[zelquistinel]\nclasses = []\n")
    report = run(compile_knowledge(root), "zelquistinel")
    assert [f.kind for f in report.findings] == ["not-reviewed"]
    assert report.summary.exit_code == 3


# --- the session medicine ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "route", "session", "duplicate"),
    [
        (["Spravato"], Route.INTRANASAL, ["esketamine"], False),
        (["Spravato 56 mg nasal spray"], Route.INTRANASAL, ["esketamine"], False),
        (["esketamine"], Route.INTRANASAL, ["esketamine"], False),
        (["ketamine"], Route.IV, ["ketamine"], False),
        (["Ketalar"], Route.IM, ["ketamine"], False),
        (["ketamine infusion"], Route.IV, ["ketamine"], False),
        (["ketamine 100 mg sublingual"], Route.SUBLINGUAL, ["ketamine"], False),
        (["ketamine troche"], Route.ORAL, ["ketamine"], False),
        # a second supply stays a duplicate
        (["Spravato"], Route.IV, [], True),
        (["ketamine"], Route.INTRANASAL, [], True),
        (["ketamine troche"], Route.IV, [], True),
        (["ketamine lozenges"], Route.IM, [], True),
        (["ketamine nasal spray"], Route.IV, [], True),
        (["ketamine", "ketamine troche"], Route.IV, ["ketamine"], True),
        (["Spravato", "ketamine troche"], Route.INTRANASAL, ["esketamine"], True),
    ],
)
def test_the_session_medicine_is_not_a_duplicate_of_itself(
    bundled: KnowledgeBase, names: list[str], route: Route, session: list[str], duplicate: bool
) -> None:
    r = run(bundled, *names, route=route)
    shown = [i for f in r.findings if f.kind == "session-medicine" for i in f.ingredients]
    assert shown == session
    dup = [f for f in r.findings if f.rule in ("ketamine-product", "duplicate-ketamine")]
    assert bool(dup) is duplicate, [(f.rule, f.inputs) for f in r.findings]
    if dup:
        assert max(f.severity for f in dup) is Severity.MAJOR
    else:
        assert r.summary.exit_code == 0 and r.summary.highest_severity is Severity.NONE


# --- the audit's examples ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "route", "rule", "severity", "hold"),
    [
        ("ramelteon", Route.IV, "hypnotic", Severity.MODERATE, 12),
        ("Rozerem", Route.IV, "hypnotic", Severity.MODERATE, 12),
        ("tasimelteon", Route.IV, "hypnotic", Severity.MODERATE, 12),
        ("kava", Route.IV, "kava", Severity.MODERATE, None),
        ("valerian", Route.IV, "herbal-sedative", Severity.MINOR, None),
        ("cannabidiol", Route.IV, "cannabidiol", Severity.MINOR, None),
        ("Epidiolex", Route.ORAL, "cannabidiol", Severity.MODERATE, None),
        ("atazanavir", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("atazanavir", Route.IV, "cyp3a4-inhibitor", Severity.MINOR, None),
        ("nelfinavir", Route.SUBLINGUAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("Crixivan", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("Prezcobix", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("Evotaz", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("Symtuza", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("idelalisib", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("goldenseal", Route.ORAL, "cyp3a4-inhibitor", Severity.MODERATE, None),
        ("nevirapine", Route.ORAL, "cyp-inducer", Severity.MODERATE, None),
        ("Intelence", Route.ORAL, "cyp-inducer", Severity.MODERATE, None),
        ("Orkambi", Route.ORAL, "cyp-inducer", Severity.MODERATE, None),
        ("zuranolone", Route.IV, "gaba-neurosteroid", Severity.MODERATE, 12),
        ("Zurzuvae", Route.INTRANASAL, "gaba-neurosteroid", Severity.MODERATE, 12),
        ("brexanolone", Route.IV, "gaba-neurosteroid", Severity.MODERATE, 12),
        ("xylazine", Route.IV, "illicit-sedative", Severity.MAJOR, None),
        ("tranq", Route.IV, "illicit-sedative", Severity.MAJOR, None),
        ("procarbazine", Route.IV, "maoi", Severity.MAJOR, None),
        ("Matulane", Route.INTRANASAL, "maoi", Severity.MAJOR, None),
        ("Seville orange", Route.ORAL, "grapefruit-like", Severity.MODERATE, None),
        ("pomelo", Route.ORAL, "grapefruit-like", Severity.MODERATE, None),
        ("memantine", Route.IV, "memantine", Severity.MAJOR, None),
        ("levothyroxine", Route.IV, "thyroid-hormone", Severity.MODERATE, None),
        ("liothyronine", Route.IV, "thyroid-hormone", Severity.MODERATE, None),
        ("linezolid", Route.IV, "maoi-antimicrobial", Severity.MODERATE, None),
        ("methylene blue", Route.IV, "maoi-antimicrobial", Severity.MODERATE, None),
        ("ephedra", Route.IV, "sympathomimetic", Severity.MODERATE, None),
        ("ma huang", Route.IV, "sympathomimetic", Severity.MODERATE, None),
        ("yohimbine", Route.IV, "sympathomimetic", Severity.MODERATE, None),
        ("bitter orange", Route.IV, "sympathomimetic", Severity.MODERATE, None),
        ("terbutaline", Route.IV, "sympathomimetic", Severity.MODERATE, None),
        ("phencyclidine", Route.IV, "illicit-dissociative", Severity.MODERATE, None),
        ("propofol", Route.IV, "general-anaesthetic", Severity.MODERATE, None),
        ("melatonin", Route.IV, "melatonin-agonist", Severity.MINOR, None),
        ("tetrabenazine", Route.IV, "cns-depressant-other", Severity.MINOR, None),
    ],
)
def test_audit_example(
    bundled: KnowledgeBase,
    name: str,
    route: Route,
    rule: str,
    severity: Severity,
    hold: int | None,
) -> None:
    r = run(bundled, name, route=route)
    assert r.medications[0].status.value == "resolved", name
    found = {f.rule: f for f in interactions(r)}
    assert rule in found, (name, sorted(found))
    f = found[rule]
    assert f.severity is severity, (name, f.severity)
    assert (f.hold.hours_before if f.hold else None) == hold, name
    assert top(r).severity >= Severity.MINOR


@pytest.mark.parametrize("name", ["zuranolone", "brexanolone", "trazodone", "mirtazapine"])
def test_no_nefazodone_sentence_and_no_bedtime_advice_for_neurosteroids(
    bundled: KnowledgeBase, name: str
) -> None:
    for f in run(bundled, name).findings:
        assert "Nefazodone" not in f.effect
        if name in ("zuranolone", "brexanolone"):
            assert "bedtime dose the night before is fine" not in f.management


@pytest.mark.parametrize("name", ["xylazine", "medetomidine"])
def test_illicit_sedatives_are_not_told_to_continue(bundled: KnowledgeBase, name: str) -> None:
    f = top(run(bundled, name))
    assert not f.management.startswith("Continue") and "fentanyl" in f.management


@pytest.mark.parametrize("name", ["linezolid", "methylene blue", "furazolidone"])
def test_antibiotic_and_dye_maois_get_no_washout_note(bundled: KnowledgeBase, name: str) -> None:
    r = run(bundled, name)
    assert all("14 days" not in n for n in r.standing_notes)
    assert all("washout" not in f.management.lower() for f in r.findings)
    assert "serotonin syndrome" in top(r).effect


def test_linezolid_with_an_ssri_raises_the_serotonin_syndrome_finding(
    bundled: KnowledgeBase,
) -> None:
    r = run(bundled, "linezolid", "sertraline")
    assert [f.rule for f in r.findings if f.kind == "combined"] == [
        "serotonin-syndrome-maoi-antimicrobial"
    ]


def test_memantine_grade_follows_its_label_and_amantadine_deviation_is_recorded(
    bundled: KnowledgeBase,
) -> None:
    assert top(run(bundled, "memantine")).severity is Severity.MAJOR
    amantadine = top(run(bundled, "amantadine"))
    assert amantadine.severity is Severity.MODERATE and "memantine" in (
        amantadine.disagreement or ""
    )


@pytest.mark.parametrize(
    ("rule", "absent", "present"),
    [
        ("ssri", "approved for use with an oral antidepressant", "monotherapy"),
        ("serotonin-modulator", "approved for use with", "monotherapy"),
        ("alcohol", "the labels ask for caution", "coma"),
        ("antihypertensive", "case report of amlodipine rescue", "review"),
        ("sedating-antidepressant", "Nefazodone", "sedation"),
    ],
)
def test_rule_texts_the_audit_corrected(
    bundled: KnowledgeBase, rule: str, absent: str, present: str
) -> None:
    r = next(x for x in bundled.rules if x.id == rule)
    text = " ".join((r.effect, r.management, r.evidence, r.disagreement or ""))
    assert absent not in text and present in text


def test_alcohol_and_cannabis_rows_record_the_after_session_windows(
    bundled: KnowledgeBase,
) -> None:
    for rid in ("alcohol", "cannabinoid"):
        r = next(x for x in bundled.rules if x.id == rid)
        assert "24 h after" in r.management and "after" in (r.hold_basis or "")
        assert r.disagreement and "72 h before and after" in r.disagreement
        assert r.after_hours == 24
    f = top(run(bundled, "alcohol"))
    assert f.hold is not None and f.hold.hours_after == 24
    assert report_to_dict(run(bundled, "cannabis"))["findings"][0]["hold"]["hours_after"] == 24


def test_lamotrigine_has_no_default_hold(bundled: KnowledgeBase) -> None:
    f = top(run(bundled, "Lamictal"))
    assert f.hold is None and f.severity is Severity.MINOR


def test_info_and_stats_show_the_review(kb: KnowledgeBase) -> None:
    from ketcheck.describe import describe, describe_text, stats
    from ketcheck.matching.resolve import Resolver

    resolver = Resolver(kb)
    for name, shown in (
        ("novexitol", "NOT REVIEWED for ketamine"),
        ("metformin", "Review:     no-interaction"),
    ):
        parsed, resolution = resolver.resolve(name)
        text = describe_text(describe(kb, name, parsed, resolution, Route.IV))
        assert shown in text, text
    counts = stats(kb)
    assert counts["not_reviewed"] == 1 and counts["not_reviewed_ingredients"] == "novexitol"
    assert counts["reviewed"] == len(kb.ingredients) - 1
    assert int(counts["reviewed_interaction"]) + int(counts["reviewed_no_interaction"]) == int(
        counts["reviewed"]
    )
