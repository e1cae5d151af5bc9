"""The installed console script end to end: exit codes, the os._exit path, closed streams."""

from __future__ import annotations

import os
import subprocess
import sys


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
