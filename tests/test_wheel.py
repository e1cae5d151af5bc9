"""The built wheel carries the data tables, and an installed copy loads them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_the_data_tables(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(tmp_path.glob("ketcheck-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "ketcheck/data/classes.toml",
        "ketcheck/data/rules.toml",
        "ketcheck/data/meta.toml",
        "ketcheck/data/lookalikes.toml",
        "ketcheck/data/generated/fda-names.tsv",
        "ketcheck/cli.py",
    ):
        assert required in names, required
    assert any(n.startswith("ketcheck/data/ingredients/") for n in names)
    # Installed from the wheel into a plain folder, the package finds its own data.
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "import ketcheck.kb.load as l; r = l.data_root(); "
        "assert 'site' in str(r), r; kb = l.compile_knowledge(r); print(len(kb.ingredients))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert int(out.stdout) >= 1000
