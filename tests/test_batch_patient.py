"""Batch JSON Lines carry each patient's own conditions and blood pressure into their report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketcheck.cli import app

runner = CliRunner()


def batch(tmp_path: Path, *records: object) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    f = tmp_path / "in.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    r = runner.invoke(app, ["batch", str(f)], env={"NO_COLOR": "1"})
    return r.exit_code, [json.loads(x) for x in r.stdout.splitlines() if x.strip()], r.stderr


def test_each_patient_gets_their_own_conditions_and_reading(tmp_path: Path) -> None:
    code, out, _ = batch(
        tmp_path,
        {
            "patient_id": 1,
            "medications": ["tramadol 50 mg"],
            "conditions": ["seizure disorder; pregnant"],
            "bp": "182/104",
        },
        {"patient_id": 2, "medications": ["tramadol 50 mg"]},
    )
    assert code == 1
    first, second = out
    assert [c["condition"] for c in first["conditions"]] == ["seizure-disorder", "pregnancy"]
    assert first["bp"] is not None
    assert any(f["kind"] == "condition" for f in first["findings"])
    assert second["conditions"] == [] and second["bp"] is None
    assert all(f["kind"] != "condition" for f in second["findings"])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"patient_id": 1, "medications": ["x"], "conditions": "pregnant"}, '"conditions" must'),
        ({"patient_id": 1, "medications": ["x"], "conditions": [3]}, '"conditions" must'),
        ({"patient_id": 1, "medications": ["x"], "bp": 150}, '"bp" must be a string'),
    ],
)
def test_bad_patient_context_stops_with_the_line(
    tmp_path: Path,
    record: dict,
    message: str,  # type: ignore[type-arg]
) -> None:
    code, _, err = batch(tmp_path, record)
    assert code == 2 and "line 1" in err and message in err
