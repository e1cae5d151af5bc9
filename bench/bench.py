"""Benchmarks for the targets of issue 17, each a ratio against its baseline in the same run.

usage: python bench/bench.py [--ketcheck PATH] [--python PATH] [--rounds N] [--quick] [--full-worst]

Every command runs as a subprocess, alternating with its baseline round by round, and each
ratio is reported as min / median / max over the rounds, so the figures compare on any
machine. Inputs come from bench/workload.py (seeded): realistic lists drawn from the lexicon,
and the old 20-line mix, labelled as the cache-hit case. Speed targets live here, never in the
unit tests. `--quick` uses fewer rounds and smaller inputs (its batch memory ratio compares
100,000 rows with 10,000, standing in for 1,000,000).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workload

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
MAX_ENTRIES = 100_000  # the documented input limits (README "Input formats")
MAX_ENTRY_CHARS = 1000
JOBS = min(
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4
)  # batch default (ketcheck/workers.py)


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One subprocess: wall seconds, peak RSS in MiB, exit code."""

    seconds: float
    peak_mib: float
    code: int


# Linux carries the peak RSS of the process that spawns a command into the command's own
# ru_maxrss (exec keeps the larger of the two), so a command spawned by this bench, which grows
# while it generates the inputs, would report at least the bench's own peak. Commands are
# therefore spawned by a small helper started first, whose own peak stays far below any of
# theirs; it measures each one exactly as this bench used to.
_SPAWNER = """
import json, os, subprocess, sys, threading, time
for request in sys.stdin:
    job = json.loads(request)
    with open(job["stdin"] or os.devnull, "rb") as handle:
        t = time.perf_counter()
        proc = subprocess.Popen(job["cmd"], stdin=handle, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=job["env"])
        timer = threading.Timer(job["timeout"], proc.kill) if job["timeout"] else None
        if timer is not None:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        if timer is not None:
            timer.cancel()
    print(json.dumps({"seconds": seconds, "peak_kib": usage.ru_maxrss,
                      "code": os.waitstatus_to_exitcode(status)}), flush=True)
"""
_spawner: list[subprocess.Popen[str]] = []


def start_spawner() -> None:
    """Start the helper that spawns and measures every command (call before the bench grows)."""
    if not _spawner:
        _spawner.append(
            subprocess.Popen(
                [sys.executable, "-c", _SPAWNER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )


def run(cmd: Sequence[str], stdin: Path | None = None, timeout: float | None = None) -> Run:
    """Run a command with stdin from a file and stdout/stderr discarded; measure it."""
    start_spawner()
    helper = _spawner[0]
    assert helper.stdin is not None and helper.stdout is not None
    job = {"cmd": list(cmd), "stdin": str(stdin) if stdin else None, "timeout": timeout, "env": ENV}
    helper.stdin.write(json.dumps(job) + "\n")
    helper.stdin.flush()
    got = json.loads(helper.stdout.readline())
    return Run(seconds=got["seconds"], peak_mib=got["peak_kib"] / 1024, code=got["code"])


@dataclass(slots=True)
class Spread:
    """Values over rounds: min / median / max."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, fmt: str = ".2f", unit: str = "×") -> str:
        v = self.values
        return (
            f"{format(self.median, fmt)}{unit} ({format(min(v), fmt)}–{format(max(v), fmt)}, "
            f"n={len(v)})"
        )


@dataclass(slots=True)
class Target:
    """A target of issue 17: measured spread, limit, and whether the median holds it."""

    name: str
    measured: Spread
    limit: float
    unit: str = "×"
    fmt: str = ".2f"
    note: str = ""

    @property
    def holds(self) -> bool:
        return self.measured.median <= self.limit


def alternate(
    commands: dict[str, tuple[list[str], Path | None]],
    rounds: int,
    timeout: float | None = None,
    cold: Sequence[str] = (),
) -> dict[str, list[Run]]:
    """Each command once per round, in turn, after one warm-up run of each (except `cold`)."""
    runs: dict[str, list[Run]] = {k: [] for k in commands}
    for key, (cmd, stdin) in commands.items():
        if key not in cold:
            run(cmd, stdin, timeout)
    for _ in range(rounds):
        for key, (cmd, stdin) in commands.items():
            runs[key].append(run(cmd, stdin, timeout))
    return runs


def ratios(runs: dict[str, list[Run]], a: str, b: str) -> Spread:
    """Per-round wall-time ratio a / b."""
    return Spread([x.seconds / y.seconds for x, y in zip(runs[a], runs[b], strict=True)])


def ms(runs: list[Run]) -> str:
    return f"{1000 * statistics.median(r.seconds for r in runs):.0f} ms"


def startup(kc: str, py: str, rounds: int, targets: list[Target]) -> dict[str, object]:
    """Start-up of each format against the import floors it is judged by."""
    names = ["gabapentin", "sertraline"]
    commands: dict[str, tuple[list[str], Path | None]] = {
        "rich_floor": ([py, "-c", "import typer, rich.console, rich.table"], None),
        "table": ([kc, "check", *names], None),
        "typer_floor": ([py, "-c", "import typer"], None),
        "json": ([kc, "check", "--format", "json", *names], None),
        "markdown": ([kc, "check", "--format", "markdown", *names], None),
        "handout": ([kc, "check", "--format", "handout", *names], None),
        "html": ([kc, "check", "--format", "html", *names], None),
    }
    runs = alternate(commands, rounds)
    print(
        "startup  "
        + ", ".join(f"{k} {ms(v)}" for k, v in runs.items())
        + f" (medians of {rounds} alternating rounds)"
    )
    targets.append(
        Target("start-up: table / import typer+rich", ratios(runs, "table", "rich_floor"), 1.25)
    )
    targets.append(
        Target("start-up: json / import typer", ratios(runs, "json", "typer_floor"), 1.5)
    )
    for fmt in ("markdown", "handout", "html"):
        targets.append(
            Target(f"start-up: {fmt} / import typer", ratios(runs, fmt, "typer_floor"), 1.4)
        )
    return {k: [r.seconds for r in v] for k, v in runs.items()}


_RESOLVE_PROBE = """
import json, random, sys, time
sys.path.insert(0, sys.argv[1])
import workload
from ketcheck.kb.load import load_bundled
from ketcheck.matching.resolve import Resolver
n = int(sys.argv[2])
kb = load_bundled()
gen = workload.Lines.seeded(23)
names = list(workload.lexicon_names())
random.Random(5).shuffle(names)
typos, seen = [], set(names)
while len(typos) < 2 * n + 1:
    t = gen.typo(gen.rnd.choice(names))
    if t not in seen:
        seen.add(t)
        typos.append(t)
resolver = Resolver(kb)
t0 = time.perf_counter_ns(); resolver.resolve(typos[0]); first = time.perf_counter_ns() - t0
novel, warm = [], []
for t in typos[1 : n + 1]:
    t0 = time.perf_counter_ns(); resolver.resolve(t); novel.append(time.perf_counter_ns() - t0)
for t in typos[n + 1 :]:
    t0 = time.perf_counter_ns(); resolver.resolve(t); warm.append(time.perf_counter_ns() - t0)
exact = []
for name in names[:n]:
    t0 = time.perf_counter_ns(); resolver.resolve(name); exact.append(time.perf_counter_ns() - t0)
print(json.dumps({"first_ns": first, "novel_ns": novel, "warm_ns": warm, "exact_ns": exact}))
"""


def misspellings(py: str, n: int, rounds: int, targets: list[Target]) -> dict[str, object]:
    """Median cost of resolving a novel misspelling (never seen by the process) vs an exact name."""
    medians, warm, exact, first = Spread(), Spread(), Spread(), Spread()
    for _ in range(rounds):
        out = subprocess.run(
            [py, "-c", _RESOLVE_PROBE, str(Path(__file__).resolve().parent), str(n)],
            capture_output=True,
            text=True,
            check=True,
            env=ENV,
        ).stdout
        data = json.loads(out)
        medians.values.append(statistics.median(data["novel_ns"]) / 1000)
        warm.values.append(statistics.median(data["warm_ns"]) / 1000)
        exact.values.append(statistics.median(data["exact_ns"]) / 1000)
        first.values.append(data["first_ns"] / 1e6)
    print(
        f"resolve  novel misspelling {medians.show('.0f', ' µs')} median per name over the first "
        f"{n} fresh typos of a process ({warm.show('.0f', ' µs')} over the next {n}, once its "
        f"search tables are built); exact name {exact.show('.1f', ' µs')}; first fuzzy lookup "
        f"in a process {first.show('.1f', ' ms')}"
    )
    targets.append(
        Target("novel misspelling, median", medians, 60.0, unit=" µs", fmt=".0f", note="absolute")
    )
    return {
        "novel_us": medians.values,
        "warm_us": warm.values,
        "exact_us": exact.values,
        "first_ms": first.values,
    }


MOST_PIECES = 80  # words and marks one entry may have (README "Input formats"); over it, unread


def _fit(words: Iterator[str]) -> str:
    """Words joined into one line within the limits: 1,000 characters, under the piece cap."""
    out: list[str] = []
    size = pieces = 0
    for w in words:
        more = 1 + sum(w.count(c) for c in "()[]{};,-/+")
        if size + len(w) + 1 > MAX_ENTRY_CHARS or pieces + more > MOST_PIECES:
            break
        out.append(w)
        size += len(w) + 1
        pieces += more
    return " ".join(out)


def worst_shapes(seed: int, n: int) -> dict[str, list[str]]:
    """Lines of each shape found slow, distinct so that no cache helps; the bench keeps the slowest."""
    import random

    rnd = random.Random(seed)
    gen = workload.Lines.seeded(seed)
    names = list(workload.lexicon_names())
    letters = "abcdefghijklmnopqrstuvwxyz"

    def word(k: int) -> str:
        return "".join(rnd.choice(letters) for _ in range(k))

    makers: dict[str, Callable[[], str]] = {
        "1,000 characters of one-letter words": lambda: " ".join(
            rnd.choice(letters) for _ in range(500)
        )[:MAX_ENTRY_CHARS],
        "one-letter words, at the word cap": lambda: _fit(
            rnd.choice(letters) for _ in range(MOST_PIECES)
        ),
        "unknown 9-letter words, at the word cap": lambda: _fit(word(9) for _ in range(200)),
        "unknown words and doses": lambda: _fit(
            w for _ in range(200) for w in (word(8), str(rnd.randint(1, 500)), "mg")
        ),
        "misspelt names and doses": lambda: _fit(
            w for _ in range(200) for w in (gen.typo(rnd.choice(names)), "50", "mg")
        ),
        "known names": lambda: _fit(rnd.choice(names) for _ in range(200)),
        "sig words": lambda: _fit(
            rnd.choice(["mg", "daily", "tablet", "oral", "take", "by", "mouth", "bid", "prn"])
            for _ in range(200)
        ),
        "numbers": lambda: _fit(str(rnd.randint(1, 999)) for _ in range(200)),
        # a dose token's pattern once tried exponentially many splits of such a word
        "a number run into a long word": lambda: (
            f"{rnd.randint(1, 9)}{word(rnd.randint(40, 90))}-x0"
        ),
        # pack items were once rescanned from every digit of the run
        "a pack of digits": lambda: (
            "{" + "".join(rnd.choice("0123456789") for _ in range(MAX_ENTRY_CHARS - 8)) + "} Pack"
        ),
    }
    return {label: [make() for _ in range(n)] for label, make in makers.items()}


def worst_case(
    kc: str, tmp: Path, sample: int, full: bool, targets: list[Target]
) -> dict[str, object]:
    """The worst input at the documented limits (100,000 entries of up to 1,000 characters).

    Each shape's cost per further line is the slope between runs of `sample` and 10 × `sample`
    distinct lines (no cache helps: every line is new), so that what a run pays once (search
    tables, the patient tables some lines ask for) cancels out; the slowest shape is then
    extrapolated linearly to 100,000 lines. `--full-worst` runs the whole input of that shape
    instead (stopped after 600 s).
    """
    cmd = [kc, "check", "--format", "json"]
    per_line: dict[str, Spread] = {}
    few, many = tmp / "few.txt", tmp / "many.txt"
    more = 10 * sample  # enough further lines that their cost stands out of start-up noise
    biggest: dict[str, float] = {}
    for label, lines in worst_shapes(2, more).items():
        few.write_text("\n".join(lines[:sample]) + "\n")
        many.write_text("\n".join(lines) + "\n")
        runs = alternate({"few": (cmd, few), "many": (cmd, many)}, 3)
        per_line[label] = Spread(
            [
                max(0.0, a.seconds - b.seconds) / (more - sample)
                for a, b in zip(runs["many"], runs["few"], strict=True)
            ]
        )
        biggest[label] = statistics.median(r.seconds for r in runs["many"])
    slowest = max(per_line, key=lambda k: per_line[k].median)
    shown = ", ".join(f"{k} {1e6 * v.median:.0f} µs" for k, v in per_line.items())
    print(f"worst    per further line, by shape ({sample} vs {more} distinct lines): {shown}")
    estimate = Spread()
    if full:
        many = tmp / "worst.txt"
        many.write_text("\n".join(worst_shapes(3, MAX_ENTRIES)[slowest]) + "\n")
        runs = alternate({"many": (cmd, many)}, 1, timeout=600, cold=("many",))
        estimate.values.append(runs["many"][0].seconds)
        how = f"measured: {MAX_ENTRIES:,} lines, {slowest}"
    else:
        estimate.values.extend(
            biggest[slowest] + v * (MAX_ENTRIES - more) for v in per_line[slowest].values
        )
        how = f"extrapolated: {slowest}"
    print(f"worst    at {MAX_ENTRIES:,} lines of the slowest shape: {estimate.show('.1f', ' s')}")
    targets.append(
        Target("worst input at the limits", estimate, 60.0, unit=" s", fmt=".1f", note=how)
    )
    return {
        "per_line_us": {k: [1e6 * x for x in v.values] for k, v in per_line.items()},
        "slowest": slowest,
        "estimate_s": estimate.values,
    }


def stdin_lists(
    kc: str, tmp: Path, lines: int, rounds: int, targets: list[Target]
) -> dict[str, object]:
    """`check` on a long stdin list, realistic and cache-hit, against a one-line check."""
    real, hit, one = tmp / "realistic.txt", tmp / "cachehit.txt", tmp / "one.txt"
    real_lines, hit_lines = workload.realistic_lines(lines), workload.cache_hit_lines(lines)
    real.write_text("\n".join(real_lines) + "\n")
    hit.write_text("\n".join(hit_lines) + "\n")
    one.write_text("gabapentin\n")
    cmd = [kc, "check", "--format", "json"]
    runs = alternate({"one": (cmd, one), "realistic": (cmd, real), "cache_hit": (cmd, hit)}, rounds)
    r_real, r_hit = ratios(runs, "realistic", "one"), ratios(runs, "cache_hit", "one")
    print(
        f"stdin    {lines:,} realistic lines ({len(set(real_lines)):,} distinct): {ms(runs['realistic'])}, "
        f"{r_real.show()} a one-line check ({ms(runs['one'])})"
    )
    print(
        f"stdin    {lines:,} cache-hit lines (old mix, {len(set(hit_lines)):,} distinct): "
        f"{ms(runs['cache_hit'])}, {r_hit.show()} a one-line check"
    )
    targets.append(
        Target(f"stdin {lines:,} cache-hit lines / one line", r_hit, 4.0, note="cache-hit case")
    )
    return {k: [r.seconds for r in v] for k, v in runs.items()}


def batches(
    kc: str, tmp: Path, small: int, large: int, timed: int, rounds: int, targets: list[Target]
) -> dict[str, object]:
    """Batch memory (large vs small file) and time (a realistic file vs a one-line check)."""
    one = tmp / "one.txt"
    one.write_text("gabapentin\n")
    files: dict[str, Path] = {}
    for label, rows in (("small", small), ("large", large), ("timed", timed)):
        files[label] = tmp / f"batch-{rows}.csv"
        if not files[label].exists():
            counts = workload.write_csv(files[label], rows)
            print(
                f"input    batch CSV {counts['rows']:,} rows, {counts['patients']:,} patients, "
                f"{counts['distinct_lines']:,} distinct lines"
            )
    jsonl = tmp / f"batch-{timed}.jsonl"
    workload.write_jsonl(jsonl, timed)
    hit = tmp / "cachehit.csv"
    with open(hit, "w", encoding="utf-8") as fh:
        fh.write("patient_id,medication\n")
        for i, med in enumerate(workload.cache_hit_lines(timed, seed=3)):
            fh.write(f'P{i // 5:06d},"{med}"\n')
    batch = [kc, "batch", "-"]
    memory = alternate(
        {"small": (batch, files["small"]), "large": (batch, files["large"])},
        rounds,
        cold=("large",),
    )
    rss = Spread(
        [x.peak_mib / y.peak_mib for x, y in zip(memory["large"], memory["small"], strict=True)]
    )
    print(
        f"batch    peak RSS {statistics.median(r.peak_mib for r in memory['small']):.0f} MiB at "
        f"{small:,} rows, {statistics.median(r.peak_mib for r in memory['large']):.0f} MiB at "
        f"{large:,} rows ({ms(memory['large'])}, exit {memory['large'][0].code}): {rss.show()}"
    )
    targets.append(Target(f"batch peak RSS {large:,} / {small:,} rows", rss, 1.25))
    check = [kc, "check", "--format", "json"]
    runs = alternate(
        {
            "one": (check, one),
            "csv": (batch, files["timed"]),
            "jsonl": (batch, jsonl),
            "cache_hit": (batch, hit),
            "csv_one_process": ([kc, "batch", "--jobs", "1", "-"], files["timed"]),
        },
        rounds,
    )
    for key, label in (
        ("csv", f"CSV ({JOBS} workers)"),
        ("csv_one_process", "CSV, one process (--jobs 1)"),
        ("jsonl", "JSON Lines"),
        ("cache_hit", "cache-hit CSV (old mix)"),
    ):
        r, secs = ratios(runs, key, "one"), statistics.median(x.seconds for x in runs[key])
        peak = statistics.median(x.peak_mib for x in runs[key])
        print(
            f"batch    {timed:,} realistic rows, {label}: {secs:.2f} s ({timed / secs:,.0f} rows/s), "
            f"peak RSS {peak:.0f} MiB, {r.show()} a one-line check, exit {runs[key][0].code}"
        )
    targets.append(
        Target(f"batch {timed:,} realistic rows / one-line check", ratios(runs, "csv", "one"), 30.0)
    )
    return {
        "memory": {k: [(r.seconds, r.peak_mib) for r in v] for k, v in memory.items()},
        "time": {k: [(r.seconds, r.peak_mib) for r in v] for k, v in runs.items()},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ketcheck", default=str(ROOT / ".venv" / "bin" / "ketcheck"))
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--rounds", type=int, default=15, help="start-up rounds")
    ap.add_argument("--quick", action="store_true", help="fewer rounds, smaller inputs")
    ap.add_argument("--full-worst", action="store_true", help="run the whole worst-case input")
    args = ap.parse_args()
    start_spawner()  # before the bench itself grows: see _SPAWNER
    quick = args.quick
    workload.use_python(args.python)
    rounds = 5 if quick else args.rounds
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    print(f"machine: {machine}; ketcheck: {args.ketcheck}")
    targets: list[Target] = []
    results: dict[str, object] = {"machine": machine, "quick": quick}
    with tempfile.TemporaryDirectory(prefix="ketcheck-bench-") as name:
        tmp = Path(name)
        results["startup"] = startup(args.ketcheck, args.python, rounds, targets)
        results["resolve"] = misspellings(args.python, 300 if quick else 2000, 3, targets)
        results["worst"] = worst_case(
            args.ketcheck, tmp, 40 if quick else 200, args.full_worst, targets
        )
        results["stdin"] = stdin_lists(args.ketcheck, tmp, 20_000, 3 if quick else 5, targets)
        results["batch"] = batches(
            args.ketcheck,
            tmp,
            10_000,
            100_000 if quick else 1_000_000,
            100_000,
            1 if quick else 2,
            targets,
        )
    print()
    print(
        f"{'target (issue 17)':<44} {'measured: median (min–max, rounds)':<36} {'limit':>8}  holds"
    )
    for t in targets:
        limit = f"≤ {format(t.limit, t.fmt)}{t.unit}"
        note = f"  [{t.note}]" if t.note else ""
        holds = "yes" if t.holds else "NO"
        print(f"{t.name:<44} {t.measured.show(t.fmt, t.unit):<36} {limit:>8}  {holds}{note}")
    results["targets"] = [
        {"name": t.name, "values": t.measured.values, "limit": t.limit, "holds": t.holds}
        for t in targets
    ]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / ("quick.json" if quick else "latest.json")).write_text(
        json.dumps(results, indent=2) + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
