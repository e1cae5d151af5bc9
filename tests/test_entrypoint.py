"""The installed console script end to end: exit codes, the os._exit path, closed streams."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from ketcheck.model import ExitCode


def _python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    return result.stdout.strip()


def test_importing_the_library_changes_nothing_process_wide() -> None:
    code = "import sys, ketcheck; ketcheck.check(['gabapentin']); print(sys.dont_write_bytecode)"
    assert _python(code, PYTHONDONTWRITEBYTECODE="1") == "True"


class Run(NamedTuple):
    """What one run of the script left: its exit code and both streams."""

    code: int
    out: str
    err: str


SCRIPT = Path(sys.executable).with_name("ketcheck")
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed")


def _env() -> dict[str, str]:
    # Read when a test runs, after conftest has pointed the caches at a temporary folder.
    return {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}


def ketcheck(*args: str, stdin: bytes | None = None, shell_redirect: str = "") -> Run:
    """Run the installed `ketcheck` script; `shell_redirect` closes a stream the shell's way."""
    if shell_redirect:
        command = " ".join([shlex.quote(str(SCRIPT)), *map(shlex.quote, args), shell_redirect])
        done = subprocess.run(
            ["/bin/sh", "-c", command], input=stdin, capture_output=True, env=_env()
        )
    else:
        done = subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, env=_env())
    return Run(done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["check", "metformin"], ExitCode.CLEARED),
        (["check", "phenelzine"], ExitCode.RISK),
        (["check", "--fail-on", "never", "phenelzine"], ExitCode.CLEARED),
        (["check", "--session", "next tuesday", "metformin"], ExitCode.ERROR),
        (["check", "--route", "rectal", "metformin"], ExitCode.ERROR),
        (["check", "asdfqwer"], ExitCode.INCOMPLETE),
        (["check", "--strict", "zolof"], ExitCode.INCOMPLETE),
        (["info", "sertraline"], ExitCode.CLEARED),
        (["info", "asdfqwer"], ExitCode.INCOMPLETE),
    ],
)
def test_exit_codes_of_the_installed_script(args: list[str], code: ExitCode) -> None:
    run = ketcheck(*args)
    assert run.code == code, run.err
    assert "Traceback" not in run.err
    if code is ExitCode.ERROR:  # one line saying what is wrong (a usage error adds a hint)
        assert run.err.startswith("ketcheck: error: ")
        assert all(line.startswith("ketcheck: ") for line in run.err.splitlines())


def test_output_is_complete_when_the_process_leaves_through_os_exit() -> None:
    names = "".join(f"sertraline {i} mg\n" for i in range(3000)).encode()
    run = ketcheck("check", "--format", "json", "-i", "-", stdin=names)
    assert run.code == ExitCode.CLEARED
    report = json.loads(run.out)  # every byte was flushed before os._exit
    assert len(report["medications"]) == 3000


def test_help_through_the_single_command_app_and_the_full_app() -> None:
    one = ketcheck("check", "--help")
    assert one.code == 0 and "--fail-on" in one.out
    full = ketcheck("--help")
    assert full.code == 0 and all(c in full.out for c in ("check", "info", "batch", "protocol"))


def test_the_single_command_table_matches_the_full_app() -> None:
    from ketcheck.cli import _TOP_COMMANDS, app

    registered = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    assert set(_TOP_COMMANDS) == registered


def test_a_closed_stdout_is_an_error_not_a_traceback() -> None:
    run = ketcheck("check", "metformin", shell_redirect=">&-")
    assert run.code == ExitCode.ERROR
    assert run.err == (
        "ketcheck: error: standard output is closed; nowhere to write the report. "
        "Nothing was checked.\n"
    )


def test_a_closed_stderr_keeps_the_verdict() -> None:
    assert ketcheck("check", "phenelzine", shell_redirect="2>&-").code == ExitCode.RISK
    assert ketcheck("check", "metformin", shell_redirect="2>&-").code == ExitCode.CLEARED


def test_a_reader_that_goes_away_leaves_no_traceback() -> None:
    proc = subprocess.Popen(
        [SCRIPT, "check", "--format", "json", "-i", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None
    proc.stdout.close()  # like `| head -c0`: the pipe breaks on the first write
    _, err = proc.communicate(b"sertraline\n" * 5000)
    assert proc.returncode != ExitCode.CLEARED
    assert b"Traceback" not in err


def test_the_command_writes_bytecode_and_the_library_does_not(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(
        root / "ketcheck", tmp_path / "ketcheck", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(root / "data", tmp_path / "data")
    env = {**_env(), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)}
    env.pop("KETCHECK_NO_BYTECODE", None)
    cached = tmp_path / "ketcheck" / "__pycache__"

    def python(code: str) -> None:
        subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True)

    python("import ketcheck; ketcheck.check(['metformin'])")
    assert not cached.exists()
    code = (
        "import sys; sys.argv = ['ketcheck', 'check', 'metformin']; import ketcheck.__main__ as m"
    )
    code += "; m.main()"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True)
    written = {p.name.split(".")[0] for p in cached.iterdir()}
    # the package and the entry point too, though they load before writing is turned on
    assert {"cli", "__init__", "__main__"} <= written
