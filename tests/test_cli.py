"""The command line through Typer's CliRunner: every option and exit code, on the bundled data."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketcheck import __version__
from ketcheck.cli import app

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), input=stdin, env={"NO_COLOR": "1", "COLUMNS": "100"})
    return r.exit_code, r.stdout, r.stderr


def report(*args: str, stdin: str | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out, _ = invoke("check", "--format", "json", *args, stdin=stdin)
    return code, json.loads(out)


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith(f"ketcheck {__version__} (data ")


def test_table_report_names_both_drugs_with_footer() -> None:
    code, out, _ = invoke("check", "gabapentin", "sertraline")
    assert code == 1  # gabapentin is moderate, the default threshold
    assert "gabapentin" in out and "sertraline" in out
    assert "not a substitute" in out
    assert "\x1b" not in out  # not a terminal: no ANSI codes


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["phenelzine"], 1),
        (["atorvastatin"], 0),
        (["atorvastatin", "lisinopril", "metformin"], 0),
        (["asdfqwer"], 3),
        (["phenelzine", "asdfqwer"], 1),
        (["--fail-on", "never", "phenelzine"], 0),
        (["--fail-on", "never", "asdfqwer"], 0),
        (["--fail-on", "moderate", "gabapentin"], 1),
        (["--fail-on", "major", "gabapentin"], 0),
        (["--fail-on", "major", "phenelzine"], 1),
        (["--fail-on", "contraindicated", "phenelzine"], 0),
        (["--fail-on", "minor", "sertraline"], 1),
        (["--fail-on", "moderate", "sertraline"], 0),
    ],
)
def test_exit_codes(args: list[str], code: int) -> None:
    assert invoke("check", *args)[0] == code


def test_stdin_lines_become_medications_in_order() -> None:
    code, rep = report(stdin="# list\nKlonopin 0.5 mg BID\n\nsertraline 50mg\n")
    assert [m["input"] for m in rep["medications"]] == ["Klonopin 0.5 mg BID", "sertraline 50mg"]
    assert all(m["status"] == "resolved" for m in rep["medications"])
    assert rep["summary"]["exit_code"] == code == 1
    assert rep["schema_version"] == 2 and rep["summary"]["complete"] is True


def test_arguments_split_on_commas_and_semicolons() -> None:
    _, rep = report("Klonopin, sertraline; gabapentin")
    assert len(rep["medications"]) == 3


def test_unresolved_makes_the_check_incomplete() -> None:
    code, rep = report("asdfqwer", "zoloft")
    assert rep["summary"]["complete"] is False and code == 3
    assert rep["medications"][0]["status"] == "unresolved"


def test_session_gives_clock_times() -> None:
    _, rep = report("--session", "2026-11-23T09:00+00:00", "Klonopin")
    holds = [f["hold"] for f in rep["findings"] if f["hold"]]
    assert holds and holds[0]["last_dose_by"] == "2026-11-22T21:00+00:00"
    assert rep["session"] == "2026-11-23T09:00+00:00"


def test_route_is_reported_and_changes_pharmacokinetic_grading() -> None:
    _, iv = report("--route", "iv", "clarithromycin")
    _, oral = report("--route", "oral", "clarithromycin")
    assert iv["route"] == "iv" and oral["route"] == "oral"
    sev = ["none", "minor", "moderate", "major", "contraindicated"]
    assert sev.index(oral["summary"]["highest_severity"]) > sev.index(
        iv["summary"]["highest_severity"]
    )


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "fhir", "handout", "html"])
def test_every_format_runs(fmt: str) -> None:
    code, out, _ = invoke("check", "--format", fmt, "Klonopin", "sertraline")
    assert code == 1 and "clonazepam" in out.lower()


def test_strict_counts_fuzzy_as_incomplete() -> None:
    assert invoke("check", "--fail-on", "major", "zolof")[0] == 0
    assert invoke("check", "--fail-on", "major", "--strict", "zolof")[0] == 3


def test_input_file_and_json_and_fhir(tmp_path: Path) -> None:
    f = tmp_path / "meds.json"
    f.write_text(
        json.dumps(
            {
                "resourceType": "MedicationStatement",
                "status": "active",
                "medicationCodeableConcept": {"text": "Lamictal 100 mg"},
            }
        )
    )
    code, rep = report("--input", str(f))
    assert rep["medications"][0]["ingredients"] == ["lamotrigine"]
    assert code == 0  # lamotrigine is minor


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["check"], "", "no medications"),
        (["check"], "\n\n  \n# nothing\n", "no medications"),
        (["check", "--session", "next tuesday-ish", "Klonopin"], None, "--session"),
        (["check", "--protocol", "/nonexistent/p.toml", "sertraline"], None, "not found"),
        (["check", "--input", "/nonexistent/meds.txt"], None, "cannot read"),
        (["check", "--format", "json"], '["Zoloft",', "invalid JSON at line 1"),
        (["info"], None, ""),
        (["check", "--frobnicate", "x"], None, ""),
    ],
)
def test_usage_and_input_errors_exit_2(args: list[str], stdin: str | None, message: str) -> None:
    code, out, err = invoke(*args, stdin=stdin)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_protocol_errors_name_file_key_reason(tmp_path: Path) -> None:
    bad = tmp_path / "typed.toml"
    bad.write_text('[holds]\nbenzodiazepine = "twelve"\n')
    code, _, err = invoke("check", "--protocol", str(bad), "sertraline")
    assert code == 2 and str(bad) in err and "holds.benzodiazepine" in err and "number" in err


def test_protocol_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "clinic.toml"
    p.write_text("[holds]\nbenzodiazepine = 24\n")
    monkeypatch.setenv("KETCHECK_PROTOCOL", str(p))
    _, rep = report("Klonopin")
    assert rep["protocol"] == str(p)
    assert [f["hold"]["hours_before"] for f in rep["findings"] if f["hold"]] == [24]


def test_protocol_init_round_trips(tmp_path: Path) -> None:
    code, out, _ = invoke("protocol", "init")
    assert code == 0
    table = tomllib.loads(out)
    assert table["holds"]["benzodiazepine"] == 12
    target = tmp_path / "p.toml"
    assert invoke("protocol", "init", str(target))[0] == 0
    assert invoke("protocol", "init", str(target))[0] == 2  # refuses to overwrite
    names = ["Klonopin", "Lamictal", "sertraline", "phenelzine", "clarithromycin", "gabapentin"]
    for route in ("iv", "oral"):
        _, plain = report("--route", route, *names)
        _, loaded = report("--route", route, "--protocol", str(target), *names)
        strip = lambda r: [(f["rule"], f["severity"], f["hold"]) for f in r["findings"]]  # noqa: E731
        assert strip(plain) == strip(loaded)


def test_info_shows_resolution_and_rules() -> None:
    code, out, _ = invoke("info", "Lamictal")
    assert code == 0
    assert "lamotrigine" in out and "References" in out


def test_info_unknown_name_exits_3() -> None:
    assert invoke("info", "asdfqwer")[0] == 3


def test_data_stats() -> None:
    code, out, _ = invoke("data", "stats", "--json")
    stats = json.loads(out)
    assert code == 0 and stats["ingredients"] >= 1000 and stats["names"] >= 3000


def test_schema_validates_real_reports() -> None:
    import jsonschema

    _, out, _ = invoke("schema")
    schema = json.loads(out)
    for args in (["Klonopin", "asdfqwer", "zolof"], ["--session", "2026-11-23T09:00", "Lamictal"]):
        _, rep = report(*args)
        jsonschema.validate(rep, schema)


def test_batch_command(tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_text("patient_id,medication\nA,atorvastatin\nB,phenelzine\nA,metformin\n")
    code, out, err = invoke("batch", str(f))
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["patient_id"] for x in lines] == ["A", "B"] and code == 1
    assert "2 patient(s)" in err


def test_markup_and_escapes_are_shown_literally() -> None:
    code, out, _ = invoke("check", "[blink]xanax[/blink]", "\x1b[2J\x1b[31mzoloft")
    assert "[blink]xanax[/blink]" in out and "\x1b" not in out
    # "blink" is no drug name: the entry is held for a person to confirm, never read quietly
    assert code == 3 and "'blink' is not a known drug name" in out


def test_protocol_precedence_option_then_environment_then_user_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_dir = tmp_path / "config"
    (user_dir / "ketcheck").mkdir(parents=True)
    (user_dir / "ketcheck" / "protocol.toml").write_text("[holds]\nbenzodiazepine = 6\n")
    env_file = tmp_path / "env.toml"
    env_file.write_text("[holds]\nbenzodiazepine = 18\n")
    option_file = tmp_path / "option.toml"
    option_file.write_text("[holds]\nbenzodiazepine = 30\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user_dir))

    def hold(*args: str) -> float:
        _, rep = report(*args, "Klonopin")
        return next(f["hold"]["hours_before"] for f in rep["findings"] if f["hold"])

    assert hold() == 6
    monkeypatch.setenv("KETCHECK_PROTOCOL", str(env_file))
    assert hold() == 18
    assert hold("--protocol", str(option_file)) == 30
