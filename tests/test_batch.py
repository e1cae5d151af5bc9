"""Batch runs: grouping by patient in first-seen order, JSON Lines out, worst exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ketcheck.errors import InputError
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.options import CheckOptions
from ketcheck.sources.batch import run_batch


def batch(kb: KnowledgeBase, path: Path) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    out, err = io.StringIO(), io.StringIO()
    code = run_batch(str(path), kb, CheckOptions(), out=out, err=err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_csv_groups_non_adjacent_rows_in_first_seen_order(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    f = tmp_path / "list.csv"
    f.write_text(
        "patient_id,medication\nB,metformin\nA,sertraline\nB,atorvastatin\nA,phenelzine\n"
        "C,asdfqwer\n"
    )
    code, reports, err = batch(kb, f)
    assert [r["patient_id"] for r in reports] == ["B", "A", "C"]
    assert [m["input"] for m in reports[0]["medications"]] == ["metformin", "atorvastatin"]
    assert [r["summary"]["exit_code"] for r in reports] == [0, 1, 3]
    assert code == 1  # risk (1) wins over incomplete (3)
    assert "3 patient(s)" in err


def test_jsonl(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = tmp_path / "list.jsonl"
    f.write_text(
        '{"patient_id": "p1", "medications": ["metformin"]}\n'
        '{"patient_id": "p2", "medications": ["asdfqwer", {"name": "Zoloft"}]}\n'
    )
    code, reports, _ = batch(kb, f)
    assert [r["patient_id"] for r in reports] == ["p1", "p2"]
    assert code == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,drug\n1,x\n", "needs 'patient_id' and 'medication'"),
        ("patient_id,medication\n,x\n", "line 2: empty patient_id"),
        ('{"patient_id": 1, "medications": "x"}\n', "line 1"),
        ('{"patient_id": 1,\n', "line 1"),
    ],
)
def test_bad_batch_input(kb: KnowledgeBase, tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(content)
    with pytest.raises(InputError, match=message):
        batch(kb, f)


def test_batch_reads_conditions_from_jsonl_and_a_csv_condition_column(
    tmp_path: Path, bundled: KnowledgeBase
) -> None:
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(
        '{"patient_id": "a", "medications": ["tramadol 50 mg QID"], "conditions": ["epilepsy"], '
        '"bp": "150/95"}\n{"patient_id": "b", "medications": [], "conditions": ["zorbitis"]}\n',
        encoding="utf-8",
    )
    csv_file = tmp_path / "p.csv"
    csv_file.write_text(
        "patient_id,medication,condition\np1,gabapentin,OSA\np2,,pregnant\np3,sertraline,\n",
        encoding="utf-8",
    )
    for path, expect in (
        (jsonl, {"a": ("seizure-disorder", 1), "b": (None, 3)}),
        (csv_file, {"p1": ("osa", 1), "p2": ("pregnancy", 1), "p3": (None, 0)}),
    ):
        out, err = io.StringIO(), io.StringIO()
        run_batch(str(path), bundled, CheckOptions(), out=out, err=err)
        for line in out.getvalue().splitlines():
            rec = json.loads(line)
            cond, code = expect[rec["patient_id"]]
            got = rec["conditions"][0]["condition"] if rec["conditions"] else None
            assert (got, rec["summary"]["exit_code"]) == (cond, code), rec["patient_id"]
    assert json.loads(out.getvalue().splitlines()[0])["findings"]
