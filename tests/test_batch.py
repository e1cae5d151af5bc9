"""Batch runs: grouping by patient in first-seen order, input integrity, the spill, the writer."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ketcheck.sources.batch as batch_source
import ketcheck.sources.spill as spill_module
from ketcheck.api import with_patient
from ketcheck.batch import run_batch
from ketcheck.engine.batch import Checker, Tally
from ketcheck.engine.check import run_check
from ketcheck.engine.exit_policy import ExitCode
from ketcheck.errors import InputError
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.patient import load_patient_tables
from ketcheck.model import Entry, Route, Severity
from ketcheck.options import CheckOptions
from ketcheck.render.json import dumps, report_to_dict
from ketcheck.render.jsonl import PatientLines
from ketcheck.sources.spill import Spill


def batch(kb: KnowledgeBase, path: Path) -> tuple[int, list[dict], str]:  # type: ignore[type-arg]
    out, err = io.StringIO(), io.StringIO()
    code = run_batch(str(path), kb, CheckOptions(fail_on=Severity.MODERATE), out=out, err=err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def write(tmp_path: Path, content: str | bytes, name: str = "in.txt") -> Path:
    f = tmp_path / name
    if isinstance(content, bytes):
        f.write_bytes(content)
    else:
        f.write_text(content, encoding="utf-8")
    return f


def test_csv_groups_non_adjacent_rows_in_first_seen_order(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    f = write(
        tmp_path,
        "patient_id,medication\nB,metformin\nA,sertraline\nB,atorvastatin\nA,phenelzine\n"
        "C,asdfqwer\n",
    )
    code, reports, err = batch(kb, f)
    assert [r["patient_id"] for r in reports] == ["B", "A", "C"]
    assert [m["input"] for m in reports[0]["medications"]] == ["metformin", "atorvastatin"]
    assert [r["summary"]["exit_code"] for r in reports] == [0, 1, 3]
    assert code == 1  # risk (1) wins over incomplete (3)
    assert "3 patient(s)" in err


def test_jsonl(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write(
        tmp_path,
        '{"patient_id": "p1", "medications": ["metformin"]}\n'
        '{"patient_id": "p2", "medications": ["asdfqwer", {"name": "Zoloft"}]}\n',
    )
    code, reports, _ = batch(kb, f)
    assert [r["patient_id"] for r in reports] == ["p1", "p2"]
    assert code == 3


def test_utf8_bom_is_accepted(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write(tmp_path, b"\xef\xbb\xbfpatient_id,medication\r\np1,sertraline\r\n")
    code, reports, _ = batch(kb, f)
    assert [r["patient_id"] for r in reports] == ["p1"] and code == 0


def test_jsonl_integer_and_string_ids_are_different_patients(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    f = write(
        tmp_path,
        '{"patient_id": 1, "medications": ["metformin"]}\n'
        '{"patient_id": "1", "medications": ["phenelzine"]}\n',
    )
    code, reports, _ = batch(kb, f)
    assert [r["patient_id"] for r in reports] == [1, "1"]  # the JSON type is kept
    assert [r["summary"]["exit_code"] for r in reports] == [0, 1] and code == 1


def test_recent_status_is_kept(kb: KnowledgeBase, tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "patient_id,medication,status\np1,sertraline,stopped\np1,metformin,active\n",
    )
    _, reports, _ = batch(kb, f)
    assert [m["recent"] for m in reports[0]["medications"]] == [True, False]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,drug\n1,x\n", "needs 'patient_id' and 'medication'"),
        ("patient_id,medication\n,x\n", "line 2: empty patient_id"),
        ('{"patient_id": 1, "medications": "x"}\n', "line 1"),
        ('{"patient_id": 1,\n', "line 1"),
        # a stray quote swallows the rows after it: stop at the line where it opened
        (
            'patient_id,medication\np1,"Tylenol 500 mg\np2,Nardil 15 mg\np3,Xanax 1 mg\n',
            "line 2: a field holds a line break",
        ),
        ('patient_id,medication\np1,sertraline\np2,"a\nb"\n', "line 3: a field holds a line break"),
        ("patient_id,medication,medication\np1,zoloft,Klonopin\n", "more than one 'medication'"),
        ("patient_id,PATIENT_ID,medication\np1,p2,zoloft\n", "more than one 'patient_id'"),
        ("patient_id,medication\n", "no rows after the CSV header"),
        ("\n\npatient_id,medication\n,\n", "no rows after the CSV header"),
        ("patient_id,medication\np1,zoloft\np2,  \n", "line 3: empty medication for patient 'p2'"),
        ("patient_id,medication\np1\n", "line 2: expected a patient_id and a medication"),
        # an unquoted comma would cut the row's last medicine off: never read a subset
        (
            "patient_id,medication\np1,zoloft\np1,Zoloft 50 mg,Nardil 15 mg\n",
            "line 3: 3 fields, but the header has 2; quote a field that holds a comma",
        ),
        (f"patient_id,medication\np1,{'x' * 200_000}\n", "line 2: unreadable CSV"),
        ("patient_id,medication\np1,zoloft\np1," + "y" * 1001 + "\n", "line 3: medication longer"),
        ('{"patient_id": null, "medications": ["Xanax"]}\n', "line 1: patient_id must be"),
        ('{"patient_id": 1.0, "medications": ["Xanax"]}\n', "not float"),
        ('{"patient_id": true, "medications": ["Xanax"]}\n', "not bool"),
        ('{"patient_id": {"a": 1}, "medications": ["Xanax"]}\n', "not dict"),
        ('{"patient_id": "  ", "medications": ["Xanax"]}\n', "not empty"),
        (
            '{"patient_id": "p", "medications": ["a"]}\n{"patient_id": NaN, "medications": ["b"]}\n',
            "line 2",
        ),
        ('{"patient_id": "p", "medications": []}\n', "line 1: patient 'p' has an empty medication"),
        ('{"patient_id": ' + "9" * 5000 + ', "medications": ["a"]}\n', "line 1: unreadable JSON"),
        ('{"patient_id": "p", "medications": ' + "[" * 5000 + "]" * 5000 + "}\n", "line 1"),
        (
            '{"patient_id": "a", "medications": ["x"]}\n\n{"patient_id": "a", "medications": ["y"]}\n',
            "line 3: patient 'a' already appeared on line 1",
        ),
        ("\n \n", "no rows"),
        (
            'patient_id,medication,notes\np1,zoloft,"' + "n," * 600_000 + '"\n',
            "line 2: longer than",
        ),
    ],
)
def test_bad_batch_input(kb: KnowledgeBase, tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        batch(kb, write(tmp_path, content))


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("patient_id,medication\np1,a\np1,b\np1,c\np1,d\n", 5),  # one run
        ("patient_id,medication\np1,a\np1,b\np2,x\np1,c\np1,d\n", 5),  # the rows come back later
        ('{"patient_id": "p1", "medications": ["a", "b", "c", "d"]}\n', 1),
    ],
)
def test_per_patient_row_limit(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, line: int
) -> None:
    monkeypatch.setattr(batch_source, "MAX_ENTRIES", 3)
    with pytest.raises(InputError, match=f"line {line}: patient 'p1' has more than 3 medications"):
        batch(kb, write(tmp_path, content))


def test_cli_exit_code_2_and_line_number_for_a_stray_quote(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ketcheck.cli import app

    f = write(tmp_path, 'patient_id,medication\np1,"Tylenol 500 mg\np2,Nardil 15 mg\n')
    r = CliRunner().invoke(app, ["batch", str(f)], env={"NO_COLOR": "1"})
    assert r.exit_code == int(ExitCode.ERROR) and r.stdout == ""
    assert "line 2: a field holds a line break" in r.stderr


# --- the spill groups exactly as a dictionary would ----------------------------------------


def reference_grouping(rows: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for pid, med in rows:
        groups.setdefault(pid, []).append(med)
    return list(groups.items())


def runs_of(rows: list[tuple[str, str]]) -> list[tuple[str, int, list[tuple[str, bool]]]]:
    runs: list[tuple[str, int, list[tuple[str, bool]]]] = []
    for line, (pid, med) in enumerate(rows, start=2):
        if runs and runs[-1][0] == pid:
            runs[-1][2].append((med, False))
        else:
            runs.append((pid, line, [(med, False)]))
    return runs


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from("abcdefg"),
            st.text(min_size=1, max_size=8).filter(lambda s: "\n" not in s and "\r" not in s),
        ),
        min_size=1,
        max_size=60,
    ),
    tiny_filter=st.booleans(),
)
def test_spill_groups_like_a_dict(rows: list[tuple[str, str]], tiny_filter: bool) -> None:
    bits = spill_module._BITS
    if tiny_filter:
        spill_module._BITS = 8  # every id collides in the filter: the look-up path decides
    try:
        with Spill() as spill:
            grouped = [
                (pid, [m for m, _ in meds])
                for pid, _, meds in spill.grouped(
                    runs_of(rows), limit=10_000, too_many=lambda p, n: AssertionError()
                )
            ]
    finally:
        spill_module._BITS = bits
    assert grouped == reference_grouping(rows)


def test_spill_remembers_ids_by_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill_module, "_BITS", 8)
    with Spill() as spill:
        assert spill.first_seen(1, 1) is None
        assert spill.first_seen("1", 2) is None
        assert spill.first_seen(1, 3) == 1
        assert spill.first_seen("1", 4) == 2


def _spill_files(pid: int) -> list[tuple[str, int]]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            mode = os.stat(f"/proc/{pid}/fd/{fd}").st_mode
        except OSError:
            continue
        if "etilqs" in target:
            found.append((target, mode & 0o777))
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_spill_file_is_unlinked_and_private() -> None:
    with Spill() as spill:
        runs = (
            (f"P{i:06d}", i, [(f"medication number {i} " + "x" * 60, False)] * 3)
            for i in range(40_000)
        )
        for _ in spill.grouped(runs, limit=10, too_many=lambda p, n: AssertionError()):
            break
        files = _spill_files(os.getpid())
    assert files, "the spill overflowed SQLite's page cache, so it must have a file"
    assert all(target.endswith("(deleted)") and mode == 0o600 for target, mode in files)


# --- signals: the real console script, killed mid-run ---------------------------------------


def _console_script() -> Path:
    script = Path(sys.executable).parent / "ketcheck"
    if not script.exists():
        pytest.skip("the ketcheck console script is not installed next to this Python")
    return script


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [
        (signal.SIGTERM, 128 + signal.SIGTERM, "stopped by SIGTERM"),
        (signal.SIGHUP, 128 + signal.SIGHUP, "stopped by SIGHUP"),
        (signal.SIGINT, 130, "stopped by SIGINT"),
    ],
)
def test_signals_leave_no_patient_data(
    tmp_path: Path, sig: signal.Signals, code: int, message: str
) -> None:
    private = tmp_path / "tmp"
    private.mkdir(mode=0o700)
    env = {**os.environ, "TMPDIR": str(private), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [str(_console_script()), "batch", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    rows = "".join(f"patient-{i:06d},sertraline {i} mg daily\n" for i in range(60_000))
    proc.stdin.write(b"patient_id,medication\n" + rows.encode())
    proc.stdin.flush()  # stdin stays open: the run is mid-way through reading
    deadline = time.monotonic() + 120
    files: list[tuple[str, int]] = []
    while not files and time.monotonic() < deadline and proc.poll() is None:
        files = _spill_files(proc.pid)
        time.sleep(0.05)
    assert files, "the spill never reached disk"
    assert all(t.endswith("(deleted)") and m == 0o600 for t, m in files)
    assert list(private.iterdir()) == []  # nothing with a name, even while running
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code
    assert message in err.decode()
    assert "Traceback" not in err.decode() and out == b""
    assert list(private.iterdir()) == []


# --- the per-patient loop and the writer ---------------------------------------------------


def test_tally_uses_the_exit_policy() -> None:
    tally = Tally()
    assert tally.worst is ExitCode.CLEARED
    for code in (0, 3, 0):
        tally.add(code)
    assert tally.worst is ExitCode.INCOMPLETE and tally.patients == 3
    tally.add(1)
    assert tally.worst is ExitCode.RISK


LISTS = [
    ["metformin"],
    ["sertraline", "phenelzine", "Zoloft 50 mg daily"],
    ["asdfqwer", "sertralin", "metformin", "metformin"],
    ["clonazepam", "clonidine", "oxycodone", "gabapentin"],
    ["sertraline", "phenelzine", "Zoloft 50 mg daily"],  # the same list again: all from cache
    ["\x1b[2Jzoloft", "phenelzine\u202e", "«metformin»"],
]


@pytest.mark.parametrize("session", [None, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)])
def test_writer_matches_the_json_report(kb: KnowledgeBase, session: datetime | None) -> None:
    options = CheckOptions(session=session)
    patients = [
        (pid, [Entry(text=t, recent=True) if i % 3 == 2 else t for i, t in enumerate(meds)])
        for pid, meds in zip([1, "1", "p\x00id", 'q"x', 5, "«é»"], LISTS, strict=True)
    ]
    writer = PatientLines(rows=4, findings=2, bodies=2, shells=2)  # entries drop out
    checker: Checker[object] = Checker(kb, options, tool_version="test")
    for pid, entries in patients:
        report = checker.check(pid, entries)
        expected = dumps({"patient_id": pid, **report_to_dict(report)}, indent=None) + "\n"
        assert writer.line(pid, report) == expected


def test_one_writer_serves_every_option_and_patient_context(kb: KnowledgeBase) -> None:
    # A batch has one writer: reports that differ only outside their rows and findings (session,
    # threshold, route, conditions, blood pressure) must each get their own text.
    session = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    runs = [  # each differs from the first in one thing only
        CheckOptions(),
        CheckOptions(session=session),
        CheckOptions(fail_on=Severity.MAJOR),
        CheckOptions(fail_on=None),
        CheckOptions(strict=True),
        CheckOptions(route=Route.INTRANASAL),
        with_patient(CheckOptions(), ("hypertension",)),
        with_patient(CheckOptions(), ("epilepsy",)),
        with_patient(CheckOptions(), (), "128/80"),
        with_patient(CheckOptions(), (), "130/82"),
    ]
    tables = load_patient_tables()
    writer = PatientLines(rows=2, bodies=2)  # every shell kept: a wrong hit would show
    for meds in LISTS[:4]:
        for i, options in enumerate(runs * 2):
            report = run_check(meds, kb, options, tool_version="test", tables=tables)
            expected = dumps({"patient_id": i, **report_to_dict(report)}, indent=None) + "\n"
            assert writer.line(i, report) == expected


@pytest.mark.parametrize("kept", [1, 2, 5])
def test_bounded_line_memo_keeps_results(kb: KnowledgeBase, kept: int) -> None:
    options = CheckOptions()
    lists = [(i, meds) for i, meds in enumerate(LISTS * 3)]
    default: Checker[int] = Checker(kb, options, tool_version="test")
    bounded: Checker[int] = Checker(kb, options, tool_version="test", lines_kept=kept)
    before = [report_to_dict(default.check(i, meds)) for i, meds in lists]
    after = [report_to_dict(bounded.check(i, meds)) for i, meds in lists]
    assert after == before
