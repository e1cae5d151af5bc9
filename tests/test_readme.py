"""The README works as written: its "Using it" commands run, and its option table is --help's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ketcheck.render import OutputFormat
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV = Path(sys.prefix)


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def using_it_commands() -> list[str]:
    (block,) = re.findall(r"```sh\n(.*?)```", section("Using it"), flags=re.S)
    return [line for line in block.splitlines() if line.strip()]


def help_text(*args: str) -> str:
    out = subprocess.run(
        [str(VENV / "bin" / "ketcheck"), *args, "-h"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    return out.stdout


@pytest.mark.slow
@pytest.mark.skipif(not (VENV / "bin" / "activate").is_file(), reason="needs a virtual environment")
def test_using_it_commands_run_as_written(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(VENV)
    commands = using_it_commands()
    assert commands[0] == "source .venv/bin/activate"
    for command in commands[1:]:
        done = subprocess.run(
            ["bash", "-c", f"source .venv/bin/activate && {command}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode in (0, 1, 3), (command, done.stderr)
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, command
        assert "error:" not in done.stderr, (command, done.stderr)
    assert (tmp_path / "handout.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (tmp_path / "reports.jsonl").read_text(encoding="utf-8").count("\n") == 2


def test_check_option_table_matches_help() -> None:
    table = section("Using it").split("Options of `ketcheck check`:")[1].split("\n\n")[1]
    documented = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        documented |= set(re.findall(r"`(-{1,2}[a-z][\w-]*)", first))
    options = help_text("check").split("Options:")[1].split("Examples:")[0]
    offered = set(re.findall(r"(?:^|[\s,])(-{1,2}[a-z][\w-]*)", options, flags=re.M))
    assert documented == offered


def test_formats_match_help_and_the_formats_list() -> None:
    options = help_text("check")
    listed = re.findall(r"^- `(\w+)` — ", section("Using it"), flags=re.M)
    assert listed == [f.value for f in OutputFormat]
    for fmt in OutputFormat:
        assert fmt.value in options


def test_quick_start_stays_two_commands_and_a_user_install_exists() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", section("Quick start"), flags=re.S)
    assert len(blocks) == 2
    assert "pipx install ." in section("Install for use only")
