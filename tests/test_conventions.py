"""CLI conventions: -h, -V, --color, -q, -o, completion, case-insensitive choices, help text,
near-miss suggestions, the stderr summary line and --session WHEN through the command line."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketcheck import __version__, cli
from ketcheck.cli import ColorChoice, app

runner = CliRunner()
SUMMARY = "medication(s), highest severity"


def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):  # type: ignore[no-untyped-def]
    base = {"NO_COLOR": None, "FORCE_COLOR": None, "COLUMNS": "100"}
    r = runner.invoke(app, list(args), input=stdin, env={**base, **(env or {})})  # type: ignore[dict-item]
    return r.exit_code, r.stdout, r.stderr


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli._run(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["check", "-h"], ["batch", "-h"]])
def test_short_and_long_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(args, capsys)
    assert code == 0 and "Usage: ketcheck" in out and "-h, --help" in out


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_flags(flag: str) -> None:
    code, out, _ = invoke(flag)
    assert code == 0 and out.startswith(f"ketcheck {__version__} (data ")


@pytest.mark.parametrize("command", ["check", "batch"])
def test_help_has_examples_and_metavars(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_main([command, "-h"], capsys)
    assert "Examples:" in out and f"ketcheck {command} " in out.split("Examples:")[1]
    assert "--session WHEN" in out and "--protocol FILE" in out and "-o, --output FILE" in out
    assert "<str>" not in out and "TEXT" not in out


def test_check_help_lists_every_option_documented(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_main(["check", "-h"], capsys)
    for option in ("--format", "--fail-on", "--route", "--input", "--strict", "--details"):
        assert option in out
    assert "--color" in out and "--quiet" in out


@pytest.mark.parametrize(
    ("args", "key", "value"),
    [
        (["--route", "IV"], "route", "iv"),
        (["--route", "Intranasal"], "route", "intranasal"),
        (["--fail-on", "MAJOR"], "fail_on", "major"),
    ],
)
def test_choices_are_case_insensitive(args: list[str], key: str, value: str) -> None:
    code, out, _ = invoke("check", "--format", "JSON", *args, "sertraline")
    rep = json.loads(out)
    got = rep["summary"][key] if key == "fail_on" else rep[key]
    assert code == 0 and got == value


def test_color_always_never_and_the_environment() -> None:
    red = "\x1b["
    assert red in invoke("check", "--color", "always", "phenelzine")[1]
    assert red in invoke("check", "--color", "ALWAYS", "phenelzine", env={"NO_COLOR": "1"})[1]
    assert red not in invoke("check", "--color", "never", "phenelzine", env={"FORCE_COLOR": "1"})[1]
    assert red in invoke("check", "phenelzine", env={"FORCE_COLOR": "1"})[1]
    assert red not in invoke("check", "phenelzine", env={"NO_COLOR": "1"})[1]
    assert red not in invoke("check", "phenelzine")[1]  # not a terminal


@pytest.mark.parametrize("fmt", ["table", "json", "handout"])
def test_quiet_prints_nothing_and_keeps_the_exit_code(fmt: str) -> None:
    code, out, err = invoke("check", "-q", "-f", fmt, "--session", "2020-01-01 09:00", "phenelzine")
    assert code == 1 and out == "" and err == ""
    assert invoke("check", "--quiet", "asdfqwer")[0] == 3


def test_quiet_still_reports_errors() -> None:
    code, _, err = invoke("check", "-q", "--session", "someday", "phenelzine")
    assert code == 2 and "--session" in err


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "fhir", "handout", "html"])
def test_output_file_for_every_format(fmt: str, tmp_path: Path) -> None:
    target = tmp_path / f"report.{fmt}"
    code, out, err = invoke("check", "-f", fmt, "-o", str(target), "Klonopin", "sertraline")
    assert code == 1 and out == ""
    text = target.read_text(encoding="utf-8")
    assert "clonazepam" in text.lower()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # patient data
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    assert SUMMARY in err  # the report went to a file: the summary line says how it went
    if fmt == "json":
        assert json.loads(text)["summary"]["exit_code"] == 1
    if fmt == "table":
        assert "\x1b" not in text and all(line == line.rstrip() for line in text.splitlines())


def test_output_replaces_a_file_only_when_the_run_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous", encoding="utf-8")
    code, _, err = invoke("check", "-f", "json", "-o", str(target), "--protocol", "/nope.toml", "x")
    assert code == 2 and target.read_text(encoding="utf-8") == "previous"
    code, _, err = invoke("check", "-o", str(tmp_path / "missing" / "r.txt"), "sertraline")
    assert code == 2 and "cannot write" in err


def test_batch_output_file(tmp_path: Path) -> None:
    rows = tmp_path / "b.csv"
    rows.write_text("patient_id,medication\np1,Klonopin\np2,sertraline\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    code, out, _ = invoke("batch", "-q", "-o", str(target), str(rows))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert code == 1 and out == "" and [json.loads(x)["patient_id"] for x in lines] == ["p1", "p2"]


def test_stderr_summary_line_follows_the_readme() -> None:
    _, _, err = invoke("check", "-f", "json", "sertraline")
    assert SUMMARY in err
    _, out, err = invoke("check", "sertraline")
    assert SUMMARY not in err and "Verdict:" in out  # the table carries its own verdict


def test_html_to_a_terminal_warns_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    from ketcheck.kb.load import load_bundled
    from ketcheck.render import OutputFormat
    from tests.conftest import run

    monkeypatch.setattr(sys, "stdout", Tty())
    report = run(load_bundled(), "sertraline")
    cli._emit(
        report, OutputFormat.HTML, output=None, color=ColorChoice.AUTO, details=False, quiet=False
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HTML" in err and "-o" in err


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["check", "--rout", "iv", "x"], "did you mean --route?"),
        (["check", "--sesion", "09:00", "x"], "did you mean --session?"),
        (["chek", "x"], "did you mean check?"),
        (["help"], "try ketcheck -h"),
    ],
)
def test_near_misses_get_a_suggestion(
    argv: list[str], suggestion: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(argv, capsys)
    assert code == 2 and suggestion in err
    assert err.splitlines()[0].startswith("ketcheck: error: ")


@pytest.mark.parametrize("argv", [["check", "--verbose", "x"], ["check", "--version", "x"]])
def test_far_misses_get_no_odd_suggestion(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(argv, capsys)
    assert code == 2 and "did you mean" not in err and "Possible options" not in err


def test_shell_completion_is_available(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli._run(["--show-completion", "bash"])
    assert done.value.code == 0 and "_KETCHECK_COMPLETE" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("when", "session"),
    [
        ("2026-11-23T09:00+00:00", "2026-11-23T09:00+00:00"),
        ("2026-11-23 09:00", "2026-11-23T09:00+00:00"),
        ("2026-11-23T9:00:00", "2026-11-23T09:00+00:00"),
    ],
)
def test_session_forms_through_the_cli(when: str, session: str) -> None:
    code, out, _ = invoke("check", "-f", "json", "--session", when, "sertraline", env={"TZ": "UTC"})
    assert code == 0 and json.loads(out)["session"] == session


def test_relative_session_is_in_the_next_day() -> None:
    code, out, _ = invoke("check", "-f", "json", "--session", "tomorrow 9:00", "Klonopin")
    assert code == 1 and "T09:00" in json.loads(out)["session"]


def test_past_session_warns_and_bad_session_names_the_forms() -> None:
    code, _, err = invoke("check", "--session", "2020-01-01 09:00", "sertraline")
    assert code == 0 and "warning: --session" in err and "in the past" in err
    code, _, err = invoke("check", "--session", "23/11/2026 09:00", "sertraline")
    assert code == 2 and err.count("\n") == 1 and "use YYYY-MM-DD HH:MM" in err


def test_posix_tz_rule_is_honoured_and_a_bad_tz_refused() -> None:
    env = {"TZ": "EST5EDT,M3.2.0,M11.1.0"}
    _, out, _ = invoke("check", "-f", "json", "--session", "2026-07-01 09:00", "x", env=env)
    assert json.loads(out)["session"] == "2026-07-01T09:00-04:00"
    code, _, err = invoke("check", "--session", "09:00", "x", env={"TZ": "Mars/Olympus"})
    assert code == 2 and "TZ=" in err


def test_dst_gap_warns_through_the_cli() -> None:
    env = {"TZ": "Europe/London"}
    _, out, err = invoke("check", "-f", "json", "--session", "2027-03-28 01:30", "x", env=env)
    assert json.loads(out)["session"] == "2027-03-28T02:30+01:00"
    assert "does not exist" in err


@pytest.mark.parametrize("fmt", ["markdown", "handout", "html", "json"])
def test_non_table_formats_never_import_rich(fmt: str) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ketcheck", "check", "-f", fmt, "zoloft"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert done.returncode == 0
    assert fmt == "json" or "ketcheck.render.text" in imported
    assert not [m for m in imported if m == "rich" or m.startswith("rich.")]


def test_medication_names_complete_in_the_shell() -> None:
    from ketcheck.cli import _complete_name

    assert "Klonopin" in _complete_name("Klon") and "klonopin" in _complete_name("klon")
    assert "Zoloft" in _complete_name("Zol") and _complete_name("k") == []
    env = {
        **os.environ,
        "_KETCHECK_COMPLETE": "complete_bash",
        "COMP_WORDS": "ketcheck check Klon",
        "COMP_CWORD": "2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ketcheck"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "Klonopin" in done.stdout.split()
