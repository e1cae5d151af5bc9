"""Worker processes: results in input order, errors where a one-process run gives them, output
byte-identical to one process, and no worker outliving its run."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ketcheck import workers
from ketcheck.batch import run_batch
from ketcheck.errors import WorkerError
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.model import Severity
from ketcheck.options import CheckOptions
from ketcheck.workers import WORKERS_FROM, in_order

forks = pytest.mark.skipif(not workers.can_fork(), reason="workers need fork")
LONG = WORKERS_FROM * 4 + 7  # past the head, and not a whole number of chunks


def square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@forks
def test_results_keep_input_order_and_come_from_workers() -> None:
    out = list(in_order(range(LONG), square_and_pid, jobs=2))
    assert [v for v, _ in out] == [x * x for x in range(LONG)]
    pids = {pid for _, pid in out}
    assert os.getpid() in pids  # the head, checked here before the fork
    assert len(pids - {os.getpid()}) == 2
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("n", [0, 1, WORKERS_FROM - 1, WORKERS_FROM, LONG])
def test_every_item_once_whatever_the_length(jobs: int, n: int) -> None:
    assert [v for v, _ in in_order(range(n), square_and_pid, jobs=jobs)] == [
        x * x for x in range(n)
    ]


def fail_at(bad: int) -> Callable[[int], int]:
    def work(x: int) -> int:
        if x == bad:
            raise ValueError(f"item {x}")
        return x

    return work


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("bad", [3, WORKERS_FROM + 5, LONG - 1])
def test_an_error_in_the_work_comes_out_at_its_item(jobs: int, bad: int) -> None:
    got: list[int] = []
    with pytest.raises(ValueError, match=f"item {bad}"):
        got.extend(in_order(range(LONG), fail_at(bad), jobs=jobs))  # keeps what came first
    assert got == list(range(bad))
    assert multiprocessing.active_children() == []


def items_then_error(n: int) -> Iterator[int]:
    yield from range(n)
    raise LookupError("bad line")


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("n", [10, WORKERS_FROM + 40, LONG])
def test_an_error_reading_comes_out_after_everything_read_before_it(jobs: int, n: int) -> None:
    got: list[int] = []
    with pytest.raises(LookupError, match="bad line"):
        for v, _ in in_order(items_then_error(n), square_and_pid, jobs=jobs):
            got.append(v)
    assert got == [x * x for x in range(n)]
    assert multiprocessing.active_children() == []


@forks
def test_leaving_early_stops_the_workers() -> None:
    results = in_order(range(LONG * 4), square_and_pid, jobs=2)
    seen = [next(results) for _ in range(WORKERS_FROM + 50)]
    assert len({pid for _, pid in seen}) > 1
    results.close()
    assert multiprocessing.active_children() == []


PARENT = os.getpid()


def die_in_a_worker_at(bad: int) -> Callable[[int], int]:
    def work(x: int) -> int:
        if x == bad and os.getpid() != PARENT:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        return x

    return work


@forks
def test_a_worker_that_dies_stops_the_run_with_a_message() -> None:
    bad = WORKERS_FROM + 3 * workers.CHUNK + 5
    got: list[int] = []
    with pytest.raises(WorkerError, match="worker process ended"):
        got.extend(in_order(range(LONG), die_in_a_worker_at(bad), jobs=2))
    assert got == list(range(len(got)))  # in order, nothing skipped
    assert WORKERS_FROM <= len(got) <= bad
    assert multiprocessing.active_children() == []


@forks
def test_no_processes_to_be_had_stops_before_any_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(workers.ProcessPoolExecutor, "submit", refuse)
    got: list[tuple[int, int]] = []
    with pytest.raises(WorkerError, match=r"cannot start worker processes.*--jobs 1"):
        got.extend(in_order(range(LONG), square_and_pid, jobs=2))
    assert got == []  # nothing written that the run could not finish


def test_default_jobs_is_bounded() -> None:
    assert 1 <= workers.default_jobs() <= workers.MOST_JOBS


# --- the batch: the same bytes with any number of workers ------------------------------------

LINES = [
    "sertraline 50 mg daily",
    "Klonopin 0.5mg BID",
    "phenelzine",
    "lamotrgine 200 mg",
    "asdfqwer",
    "Percocet 5/325 q6h prn",
    "gabapentin 300 mg TID",
    "Adderall XR 20 mg",
    "naltrexone",
    "lisinopril 10mg",
]


def _patients(n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for i in range(n):
        meds = [LINES[(i * 7 + k * 3) % len(LINES)] for k in range(1 + i % 5)]
        record: dict[str, object] = {"patient_id": f"P{i:05d}", "medications": meds}
        if i % 9 == 0:
            record["conditions"] = ["pregnant", "no history of psychosis"]
        if i % 11 == 0:
            record["bp"] = "165/102"
        out.append(record)
    return out


def _run(kb: KnowledgeBase, path: Path, jobs: int) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = CheckOptions(fail_on=Severity.MAJOR)
    code = run_batch(str(path), kb, options, out=out, err=err, jobs=jobs)
    return code, out.getvalue(), err.getvalue()


@forks
def test_batch_output_is_identical_with_workers(kb: KnowledgeBase, tmp_path: Path) -> None:
    records = _patients(LONG)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    csv = tmp_path / "in.csv"
    csv.write_text(
        "patient_id,medication\n"
        + "".join(f'{r["patient_id"]},"{m}"\n' for r in records for m in r["medications"]),  # type: ignore[attr-defined]
        encoding="utf-8",
    )
    for path in (jsonl, csv):
        one = _run(kb, path, jobs=1)
        assert one[1].count("\n") == LONG
        assert _run(kb, path, jobs=2) == one
        assert _run(kb, path, jobs=3) == one


@forks
def test_a_bad_record_after_the_head_stops_after_the_reports_before_it(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    records = _patients(LONG)
    lines = [json.dumps(r) + "\n" for r in records]
    bad = WORKERS_FROM + 100
    lines[bad] = '{"patient_id": "X", "medications": []}\n'
    path = tmp_path / "in.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    outs = []
    for jobs in (1, 2):
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(Exception, match=f"line {bad + 1}"):
            run_batch(str(path), kb, CheckOptions(), out=out, err=err, jobs=jobs)
        outs.append(out.getvalue())
    assert outs[0].count("\n") == bad
    assert outs[1] == outs[0]


# --- a signal while workers run -------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@forks
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc")
@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)]
)
def test_a_signal_mid_run_stops_every_worker(sig: signal.Signals, code: int) -> None:
    script = Path(sys.executable).parent / "ketcheck"
    if not script.exists():
        pytest.skip("the ketcheck console script is not installed next to this Python")
    proc = subprocess.Popen(
        [str(script), "batch", "--jobs", "2", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    records = _patients(WORKERS_FROM * 3)
    proc.stdin.write("".join(json.dumps(r) + "\n" for r in records).encode())
    proc.stdin.flush()  # stdin stays open: the workers wait for more
    first = proc.stdout.readline()
    assert first.startswith(b"{")
    out = proc.stdout
    drained = threading.Thread(target=lambda: out.read(), daemon=True)  # never a full pipe
    drained.start()
    deadline = time.monotonic() + 60
    kids: set[int] = set()
    while len(kids) < 2 and time.monotonic() < deadline:
        kids = _children(proc.pid)
        time.sleep(0.05)
    assert len(kids) >= 2
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == code
    drained.join(timeout=10)
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert f"stopped by {sig.name}" in err.decode()
    assert "Traceback" not in err.decode()
    deadline = time.monotonic() + 10
    while any(_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(k) for k in kids)
