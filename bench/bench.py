"""Benchmarks: startup against the Typer/Rich import floor, stdin scaling, and a 100,000-row batch.

usage: python bench/bench.py [--ketcheck PATH] [--rounds N] [--quick]

Every figure is a ratio or a throughput measured side by side in one run, so the numbers
compare on any machine. Speed targets live here, never in the unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIX = [
    "sertraline 100 mg daily",
    "Klonopin 0.5mg BID",
    "gabapentin",
    "Lamictal 200 mg",
    "lisinopril 10mg",
    "atorvastatin",
    "Wellbutrin XL 300 mg",
    "trazadone 50mg hs",
    "Adderall XR 20 mg",
    "escitalopram",
    "metformin 500 mg BID",
    "quetiapine 25 mg",
    "levothyroxine 75 mcg",
    "buproprion",
    "Percocet 5/325",
    "lorazapam 1 mg",
    "omeprazole 20mg",
    "Vyvanse",
    "duloxetine 60 mg",
    "hydroxyzine 25 mg prn",
]


def wall(cmd: list[str], stdin: str | None = None) -> float:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    t = time.perf_counter()
    subprocess.run(
        cmd,
        input=stdin,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=False,
    )
    return time.perf_counter() - t


def mixed_lines(n: int, seed: int = 7) -> str:
    """A realistic list: repeats, sig lines, and a fresh typo in one line of ten."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        s = rnd.choice(MIX)
        if rnd.random() < 0.1:
            i = rnd.randrange(1, max(2, min(len(s), 8)))
            s = s[:i] + s[i + 1 :]
        out.append(s)
    return "\n".join(out) + "\n"


def startup(kc: str, py: str, rounds: int) -> dict[str, float]:
    a = [kc, "check", "gabapentin", "sertraline"]
    b = [py, "-c", "import typer, rich.console, rich.table"]
    c = [kc, "check", "--format", "json", "gabapentin", "sertraline"]
    d = [py, "-c", "import typer"]
    for cmd in (a, b, c, d):
        wall(cmd)
    ta, tb, tc, td = [], [], [], []
    for _ in range(rounds):
        ta.append(wall(a))
        tb.append(wall(b))
        tc.append(wall(c))
        td.append(wall(d))
    return {
        "table_ms": 1000 * statistics.median(ta),
        "typer_rich_floor_ms": 1000 * statistics.median(tb),
        "json_ms": 1000 * statistics.median(tc),
        "typer_floor_ms": 1000 * statistics.median(td),
        "table_ratio": statistics.median(x / y for x, y in zip(ta, tb, strict=True)),
        "json_ratio": statistics.median(x / y for x, y in zip(tc, td, strict=True)),
    }


def stdin_scaling(kc: str, n: int, rounds: int = 3) -> dict[str, float]:
    big, one = mixed_lines(n), "gabapentin\n"
    cmd = [kc, "check", "--format", "json"]
    wall(cmd, one)
    ratios, tbig = [], []
    for _ in range(rounds):
        a = wall(cmd, big)
        b = wall(cmd, one)
        ratios.append(a / b)
        tbig.append(a)
    t = statistics.median(tbig)
    return {"lines": n, "seconds": t, "lines_per_s": n / t, "ratio": statistics.median(ratios)}


def batch(kc: str, rows: int) -> dict[str, float]:
    """A CSV of `rows` rows, five medications per patient, each patient's rows scattered."""
    rnd = random.Random(11)
    patients = rows // 5
    order = [p for p in range(patients) for _ in range(5)]
    rnd.shuffle(order)
    tmp = Path(tempfile.mkdtemp(prefix="ketcheck-bench-"))
    try:
        src = tmp / "batch.csv"
        lines = mixed_lines(rows, seed=3).splitlines()
        with open(src, "w", encoding="utf-8") as fh:
            fh.write("patient_id,medication\n")
            for pid, med in zip(order, lines, strict=True):
                fh.write(f'P{pid:06d},"{med}"\n')
        probe = (
            "import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "dt = time.perf_counter() - t\n"
            "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe, kc, "batch", str(src)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        seconds, peak_kb, code = float(out[0]), int(out[1]), int(out[2])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "rows": rows,
        "patients": patients,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "peak_rss_mb": peak_kb / 1024,
        "exit_code": code,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ketcheck", default=str(ROOT / ".venv" / "bin" / "ketcheck"))
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="fewer rounds and a 10,000-row batch")
    args = ap.parse_args()
    rounds = 5 if args.quick else args.rounds
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        "startup": startup(args.ketcheck, args.python, rounds),
        "stdin_20000": stdin_scaling(args.ketcheck, 20_000),
        "batch": batch(args.ketcheck, 10_000 if args.quick else 100_000),
    }
    s, sc, b = results["startup"], results["stdin_20000"], results["batch"]
    print(f"machine: {results['machine']}")
    print(
        f"startup  table {s['table_ms']:.0f} ms vs typer+rich floor {s['typer_rich_floor_ms']:.0f} ms "
        f"-> ratio {s['table_ratio']:.2f} (target <= 1.25)"
    )
    print(
        f"startup  json  {s['json_ms']:.0f} ms vs typer floor {s['typer_floor_ms']:.0f} ms "
        f"-> ratio {s['json_ratio']:.2f} (target <= 1.5)"
    )
    print(
        f"stdin    {sc['lines']:,} lines in {sc['seconds']:.2f} s ({sc['lines_per_s']:,.0f} lines/s), "
        f"ratio to one line {sc['ratio']:.2f} (target <= 4)"
    )
    print(
        f"batch    {b['rows']:,} rows / {b['patients']:,} patients in {b['seconds']:.1f} s "
        f"({b['rows_per_s']:,.0f} rows/s), peak RSS {b['peak_rss_mb']:.0f} MB, exit {b['exit_code']}"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
