"""The README stays in step with the code: exit codes, formats, quick start, test command."""

from __future__ import annotations

import re
from pathlib import Path

from ketcheck.engine.exit_policy import ExitCode
from ketcheck.render import OutputFormat

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_exit_code_table_matches_exit_codes() -> None:
    rows = re.findall(r"^\| (\d) \| ", section("Exit codes"), flags=re.M)
    assert [int(r) for r in rows] == [int(c) for c in ExitCode]


def test_every_format_is_documented() -> None:
    formats = section("Using it")
    for fmt in OutputFormat:
        assert f"`{fmt.value}`" in formats, fmt


def test_quick_start_has_exactly_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", section("Quick start"), flags=re.S)
    assert len(blocks) == 2
    assert "ketcheck check gabapentin sertraline" in blocks[0]
    assert blocks[1].strip() == ".venv/bin/python -m pytest"


def test_ci_runs_the_readme_test_command() -> None:
    command = re.findall(r"```sh\n(.*?)```", section("Quick start"), flags=re.S)[1].strip()
    assert command in CI
