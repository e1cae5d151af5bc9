"""The examples that once lost a medicine, end to end through the CLI: report, verdict, JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ketcheck.cli import app
from ketcheck.sources.text import from_arguments, from_lines, says_none

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    r = runner.invoke(
        app,
        ["check", "--format", "json", *args],
        input=stdin,
        env={"NO_COLOR": "1", "COLUMNS": "100"},
    )
    return r.exit_code, (json.loads(r.stdout) if r.stdout.strip() else {}), r.stderr


def ingredients(report: dict) -> set[str]:  # type: ignore[type-arg]
    return {i for m in report["medications"] for i in m["ingredients"]}


@pytest.mark.parametrize(
    ("args", "stdin", "must_include"),
    [
        (["sertraline 100 mg phenelzine 15 mg"], None, {"sertraline", "phenelzine"}),
        ([], "Tylenol 500 mg phenelzine\n", {"acetaminophen", "phenelzine"}),
        (["Zoloft 50 mg and Xanax 1 mg"], None, {"sertraline", "alprazolam"}),
        (["Tylenol (Nardil)"], None, {"acetaminophen", "phenelzine"}),
        ([], "Lexapro 10mg, Xanax 1mg\n", {"escitalopram", "alprazolam"}),
        (
            ["Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet"],
            None,
            {"acetaminophen", "oxycodone"},
        ),
        ([], "#2 Klonopin 1 mg\n", {"clonazepam"}),
        (
            ["Klonopin", "0.5", "mg", "BID,", "Lamictal", "200", "mg"],
            None,
            {"clonazepam", "lamotrigine"},
        ),
    ],
)
def test_no_medicine_vanishes_from_report_verdict_or_json(
    args: list[str], stdin: str | None, must_include: set[str]
) -> None:
    code, report, _ = run(*args, stdin=stdin)
    assert must_include <= ingredients(report)
    # every one of these lines holds a drug with at least a moderate finding
    assert code == 1
    assert report["summary"]["highest_severity"] in ("moderate", "major", "contraindicated")


def test_the_mao_inhibitor_after_a_dose_drives_the_verdict() -> None:
    _, report, _ = run("sertraline 100 mg phenelzine 15 mg")
    (med,) = report["medications"]
    assert med["name_kind"] == "multiple"
    assert [p["matched"] for p in med["parts"]] == ["sertraline", "phenelzine"]
    assert any("phenelzine" in f["ingredients"] for f in report["findings"])


def test_set_aside_words_are_in_the_json() -> None:
    _, report, _ = run("Zoloft 50 mg take with food")
    parsed = report["medications"][0]["parsed"]
    assert parsed["strength"] == "50 mg"
    assert parsed["note"] == "take" and parsed["frequency"] == "food"


@pytest.mark.parametrize("args", [[""], [", ;"], ["  "]])
def test_empty_arguments_are_an_error(args: list[str]) -> None:
    code, report, err = run(*args)
    assert code == 2 and report == {}
    assert "no medications given" in err


@pytest.mark.parametrize("words", ["none", "No medications", "no current medications", "nil"])
def test_a_list_that_says_none_is_a_complete_empty_check(words: str) -> None:
    code, report, _ = run(words)
    assert code == 0
    assert report["medications"] == [] and report["summary"]["complete"] is True


def test_none_beside_a_medicine_is_not_an_empty_list() -> None:
    code, report, _ = run("Zoloft", "none")
    assert len(report["medications"]) == 2
    assert report["summary"]["complete"] is False and code == 3


def test_comment_lines_are_counted_on_stderr() -> None:
    _, report, err = run(stdin="# morning list\n#2 Klonopin 1 mg\n# end\n")
    assert [m["input"] for m in report["medications"]] == ["#2 Klonopin 1 mg"]
    assert "skipped 2 comment line(s)" in err


@pytest.mark.parametrize(
    ("args", "entries"),
    [
        (
            ["Klonopin", "0.5", "mg", "BID,", "Lamictal", "200", "mg"],
            ["Klonopin 0.5 mg BID", "Lamictal 200 mg"],
        ),
        (["Klonopin", "0.5", "mg", "BID"], ["Klonopin 0.5 mg BID"]),
        (["0.5", "mg", "clonazepam", "sertraline"], ["0.5 mg clonazepam", "sertraline"]),
        (["zoloft", "and", "xanax"], ["zoloft", "xanax"]),
        (["gabapentin", "sertraline"], ["gabapentin", "sertraline"]),
        (["Xanax 0,5 mg"], ["Xanax 0,5 mg"]),
        (["lithium 1,200 mg; Zoloft"], ["lithium 1,200 mg", "Zoloft"]),
        (["Klonopin, sertraline", "lithium 300 mg"], ["Klonopin", "sertraline", "lithium 300 mg"]),
    ],
)
def test_arguments_become_entries(args: list[str], entries: list[str]) -> None:
    assert [e.text for e in from_arguments(args)] == entries


def test_hash_starts_a_comment_only_before_a_space() -> None:
    assert from_lines("#2 Klonopin\n# note\n#\n##\nZoloft") == ["#2 Klonopin", "Zoloft"]


def test_says_none_needs_the_whole_list() -> None:
    assert says_none(["None"]) and says_none(["no meds", "nil"])
    assert not says_none(["none", "Zoloft"]) and not says_none([])
