"""A hostile environment: the security audit's reproductions, run against the installed command.

Each test names the audit defect it reproduces (D4, D8-D11, D13, D16-D19, D21, D22, D24, D25).
Subprocess tests run `.venv/bin/ketcheck` with a private HOME, cache folder and TMPDIR.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ketcheck
from ketcheck.errors import DataError, ProtocolError
from ketcheck.kb import load
from ketcheck.kb.compiled import to_compact
from ketcheck.kb.knowledge import KnowledgeBase
from ketcheck.kb.load import compile_knowledge, data_root, load_bundled
from ketcheck.model import Report
from ketcheck.render import OutputFormat
from ketcheck.render.literal import inert, json_safe
from ketcheck.render.markdown import md
from ketcheck.sources.read import MAX_INPUT_BYTES, MAX_PROTOCOL_BYTES
from tests.conftest import FIXTURE_KB
from tests.test_render import as_text

KETCHECK = Path(sys.executable).parent / "ketcheck"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534
TIMEOUT = 60


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    (tmp_path / "tmp").mkdir()
    return h


@pytest.fixture
def base_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.environ["PYTHONPATH"],  # this checkout (conftest)
        "HOME": str(home),
        "TMPDIR": str(home.parent / "tmp"),
        # One warm, private cache for the whole session (conftest); cache tests use their own.
        "KETCHECK_CACHE_DIR": os.environ["KETCHECK_CACHE_DIR"],
        "XDG_CONFIG_HOME": str(home.parent / "config"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }


Run = Callable[..., subprocess.CompletedProcess[bytes]]


@pytest.fixture
def kc(base_env: dict[str, str], home: Path) -> Run:
    """Run the installed console script; stdin/stdout/stderr may be bytes, files or 'closed'."""

    def run(
        *args: str | bytes,
        stdin: bytes | None = None,
        env: dict[str, str | None] | None = None,
        stdout: object = subprocess.PIPE,
        stderr: object = subprocess.PIPE,
        close: tuple[int, ...] = (),
        umask: int | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        full = dict(base_env)
        for k, v in (env or {}).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v

        def child() -> None:
            if umask is not None:
                os.umask(umask)
            for fd in close:
                os.close(fd)

        return subprocess.run(
            [os.fsencode(KETCHECK), *(os.fsencode(a) if isinstance(a, str) else a for a in args)],
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=stdout,  # type: ignore[arg-type]
            stderr=stderr,  # type: ignore[arg-type]
            env=full,
            cwd=cwd or home,
            preexec_fn=child,
            timeout=TIMEOUT,
            check=False,
        )

    return run


@pytest.fixture
def kcp(kc: Run, home: Path) -> Run:
    """The command with a cache folder of this test's own, `home/../cache`."""

    def run(*args: str | bytes, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        env = {"KETCHECK_CACHE_DIR": str(home.parent / "cache"), **kwargs.pop("env", {})}  # type: ignore[dict-item]
        return kc(*args, env=env, **kwargs)

    return run


def no_crash(result: subprocess.CompletedProcess[bytes]) -> None:
    err = result.stderr or b""
    assert b"Traceback" not in err and b"internal error" not in err, err[-500:]
    assert result.returncode in (0, 1, 2, 3)


def bundled_version() -> str:
    return load_bundled().version


# --- D4, D17, D18, D22, D25: the compiled cache ---------------------------------------------


def _only_cache(folder: Path) -> Path:
    (found,) = [
        p for p in folder.iterdir() if p.name.startswith("kb-") and p.name.endswith(".marshal")
    ]
    return found


def _sealed_foreign_kb() -> bytes:
    """A well-formed, checksummed cache holding a different knowledge base (the test fixture)."""
    return load._sealed(marshal.dumps(to_compact(compile_knowledge(FIXTURE_KB))))


def test_d4_cache_folder_is_created_0700_even_under_umask_000(kcp: Run, home: Path) -> None:
    cache = home.parent / "cache"
    r = kcp("check", "-f", "json", "zoloft", umask=0)
    no_crash(r)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(_only_cache(cache).stat().st_mode) == 0o600
    assert b"compiled cache not used" not in r.stderr


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_d4_shared_or_group_writable_folder_is_not_trusted(kcp: Run, home: Path, mode: int) -> None:
    cache = home.parent / "cache"
    cache.mkdir()
    planted = cache / f"kb-{load._fingerprint(data_root())}.{sys.implementation.cache_tag}.marshal"
    planted.write_bytes(_sealed_foreign_kb())
    planted.chmod(0o600)
    cache.chmod(mode)
    r = kcp("check", "-f", "json", "Nardil")
    assert r.returncode == 1  # phenelzine: the MAOI is still found
    assert json.loads(r.stdout)["data"]["version"] == bundled_version()
    assert b"compiled cache not used" in r.stderr and b"writable by group or others" in r.stderr
    assert r.stderr.count(b"compiled cache not used") == 1


@pytest.mark.skipif(not IS_ROOT, reason="planting as another user needs root")
def test_d4_cache_planted_by_another_user_is_ignored(kcp: Run, home: Path) -> None:
    kcp("check", "zoloft")  # our own private folder and cache
    target = _only_cache(home.parent / "cache")
    target.write_bytes(_sealed_foreign_kb())
    os.chown(target, NOBODY, NOBODY)
    r = kcp("check", "-f", "json", "Nardil")
    assert r.returncode == 1
    assert json.loads(r.stdout)["data"]["version"] == bundled_version()
    assert target.stat().st_uid == os.geteuid()  # replaced by a cache of ours


@pytest.mark.skipif(not IS_ROOT, reason="a folder owned by another user needs root")
def test_d4_cache_folder_owned_by_another_user_is_not_used(kcp: Run, home: Path) -> None:
    cache = home.parent / "cache"
    cache.mkdir(mode=0o700)
    os.chown(cache, NOBODY, NOBODY)
    r = kcp("check", "-f", "json", "Nardil")
    assert r.returncode == 1
    assert b"belongs to another user" in r.stderr
    assert list(cache.iterdir()) == []


def test_d4_group_writable_cache_file_is_rebuilt(kcp: Run, home: Path) -> None:
    kcp("check", "zoloft")
    target = _only_cache(home.parent / "cache")
    target.write_bytes(_sealed_foreign_kb())
    target.chmod(0o666)
    r = kcp("check", "-f", "json", "Nardil")
    assert json.loads(r.stdout)["data"]["version"] == bundled_version()
    assert stat.S_IMODE(_only_cache(home.parent / "cache").stat().st_mode) == 0o600


@pytest.mark.parametrize("plant", ["fifo", "dev-zero", "dangling", "directory"])
def test_d4_fifo_or_device_at_the_cache_name_neither_hangs_nor_floods(
    kcp: Run, home: Path, plant: str
) -> None:
    kcp("check", "zoloft")
    target = _only_cache(home.parent / "cache")
    target.unlink()
    if plant == "fifo":
        os.mkfifo(target)
    elif plant == "dev-zero":
        target.symlink_to("/dev/zero")
    elif plant == "dangling":
        target.symlink_to(home / "nowhere")
    else:
        target.mkdir()
    start = time.monotonic()
    r = kcp("check", "-f", "json", "Klonopin")
    assert time.monotonic() - start < 30
    assert r.returncode == 1
    assert json.loads(r.stdout)["medications"][0]["ingredients"] == ["clonazepam"]
    if plant == "directory":
        assert b"compiled cache not used" in r.stderr  # cannot be replaced: said once
    else:
        assert target.is_file() and not target.is_symlink()


def test_d17_bit_flipped_cache_is_rebuilt(kcp: Run, home: Path) -> None:
    kcp("check", "zoloft")
    target = _only_cache(home.parent / "cache")
    blob = bytearray(target.read_bytes())
    middle = len(blob) // 2
    blob[middle : middle + 64] = bytes(b ^ 0x5A for b in blob[middle : middle + 64])
    target.write_bytes(bytes(blob))
    for _ in range(2):
        r = kcp("check", "-f", "json", "klonopn")  # a typo: needs the fuzzy tables
        no_crash(r)
        assert json.loads(r.stdout)["medications"][0]["ingredients"] == ["clonazepam"]
    assert target.read_bytes() != bytes(blob)


def test_d18_pruning_spares_files_that_are_not_ketcheck_caches(kcp: Run, home: Path) -> None:
    cache = home.parent / "cache"
    cache.mkdir(mode=0o700)
    old_own = cache / f"kb-{'0' * 20}.{sys.implementation.cache_tag}.marshal"
    old_tmp = cache / ".kb-0123456789abcdef.tmp"
    strangers = [cache / "kb-article-draft.md", cache / "kb-backup.tar", cache / "notes.txt"]
    for f in (old_own, old_tmp, *strangers):
        f.write_bytes(b"x")
        forty_days = time.time() - 40 * 86400
        os.utime(f, (forty_days, forty_days))
    kcp("check", "zoloft")
    names = {p.name for p in cache.iterdir()}
    assert {s.name for s in strangers} <= names
    assert old_own.name not in names and old_tmp.name not in names


def test_d22_missing_home_gets_no_folder_tree(kc: Run, home: Path) -> None:
    ghost = home.parent / "nonexistent" / "x"
    r = kc("check", "zoloft", env={"HOME": str(ghost), "KETCHECK_CACHE_DIR": None})
    no_crash(r)
    assert r.returncode == 0
    assert not (home.parent / "nonexistent").exists()
    assert b"does not exist; not creating a folder tree" in r.stderr


def test_d22_relative_xdg_cache_home_is_ignored(kc: Run, home: Path) -> None:
    r = kc(
        "check", "zoloft", env={"XDG_CACHE_HOME": "relcache", "KETCHECK_CACHE_DIR": None}, cwd=home
    )
    assert r.returncode == 0
    assert not (home / "relcache").exists()
    assert _only_cache(home / ".cache" / "ketcheck").is_file()
    assert stat.S_IMODE((home / ".cache" / "ketcheck").stat().st_mode) == 0o700


def test_d22_relative_xdg_config_home_is_ignored(kc: Run, home: Path) -> None:
    rel = home / "relconf" / "ketcheck"
    rel.mkdir(parents=True)
    (rel / "protocol.toml").write_text('[severity]\nssri = "major"\n')
    r = kc("check", "-f", "json", "zoloft", env={"XDG_CONFIG_HOME": "relconf"}, cwd=home)
    assert r.returncode == 0
    assert json.loads(r.stdout)["protocol"] == "bundled defaults"


@pytest.mark.parametrize("writable", ["file", "folder"])
def test_a_found_protocol_others_could_write_is_refused(
    kc: Run, tmp_path: Path, writable: str
) -> None:
    folder = tmp_path / "conf" / "ketcheck"
    folder.mkdir(parents=True)
    protocol = folder / "protocol.toml"
    protocol.write_text('[severity]\nmaoi = "none"\n')
    (protocol if writable == "file" else folder).chmod(0o666 if writable == "file" else 0o777)
    r = kc("check", "-q", "Nardil", env={"XDG_CONFIG_HOME": str(tmp_path / "conf")})
    assert r.returncode == 2
    assert f"its {writable} is writable by group or others".encode() in r.stderr
    assert r.stderr.count(b"\n") == 1
    (protocol if writable == "file" else folder).chmod(0o644 if writable == "file" else 0o755)
    assert kc("check", "-q", "Nardil", env={"XDG_CONFIG_HOME": str(tmp_path / "conf")}).returncode == 0


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "data"
    shutil.copytree(Path(str(data_root())), root)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.setenv("KETCHECK_DATA_DIR", str(root))
    monkeypatch.setenv("KETCHECK_CACHE_DIR", str(cache))
    load_bundled.cache_clear()
    yield root
    load_bundled.cache_clear()


def test_d25_an_edit_that_keeps_size_and_mtime_is_still_seen(data_copy: Path) -> None:
    before = load_bundled().version
    meta = data_copy / "meta.toml"
    st = meta.stat()
    text = meta.read_text()
    meta.write_text(text.replace("# The data release.", "# The data Release.", 1))
    assert meta.stat().st_size == st.st_size
    os.utime(meta, ns=(st.st_atime_ns, st.st_mtime_ns))
    load_bundled.cache_clear()
    assert load_bundled().version != before


def test_an_edit_to_a_patient_table_that_keeps_size_and_mtime_is_seen(data_copy: Path) -> None:
    from ketcheck.kb.patient import load_patient_tables

    load_patient_tables.cache_clear()
    before = load_bundled().version
    htn = load_patient_tables().conditions["htn"].severity["ketamine"]
    table = data_copy / "conditions.toml"
    st = table.stat()
    text = table.read_text()
    start = text.index('id = "htn"')
    at = text.index("severity_ketamine", start)
    line_end = text.index("\n", at)
    line = text[at:line_end]
    other = "major" if htn.label != "major" else "minor"
    edited = line.replace(f'"{htn.label}"', f'"{other}"')
    table.write_text(text[:at] + edited + text[line_end:])
    os.utime(table, ns=(st.st_atime_ns, st.st_mtime_ns))
    load_bundled.cache_clear()
    load_patient_tables.cache_clear()
    try:
        assert load_patient_tables().conditions["htn"].severity["ketamine"].label == other
        assert load_bundled().version != before  # the data version covers every data file
    finally:
        load_patient_tables.cache_clear()


# --- D8, D11, D19, D21: what reaches the terminal and the page --------------------------------

HOSTILE_NAME = "evil\x1b]0;pwned\x07<img src=x onerror=alert(1)>\u202e\u061c.toml"


@pytest.fixture(scope="module")
def hostile_protocol_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    path = tmp_path_factory.mktemp("proto") / HOSTILE_NAME
    path.write_text('[holds]\nbenzodiazepine = 6\n[severity]\nssri = "major"\n')
    protocol = load.read_protocol(path, load_bundled())
    session = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    return ketcheck.check(["Klonopin", "zoloft"], protocol=protocol, session=session)


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_d8_protocol_path_is_escaped_in_every_format(
    hostile_protocol_report: Report, fmt: OutputFormat
) -> None:
    out = as_text(hostile_protocol_report, fmt)
    if fmt not in (OutputFormat.HANDOUT, OutputFormat.HTML):
        assert "pwned" in out  # the path is shown ...
    for raw in ("\x1b", "\x07", "\u202e", "\u061c"):
        assert raw not in out  # ... but nothing in it acts on the terminal
    if fmt in (OutputFormat.MARKDOWN, OutputFormat.HANDOUT, OutputFormat.HTML):
        assert not re.search(r"(?<!\\)<img", out)  # escaped as \<img or &lt;img
    if fmt is OutputFormat.JSON:
        assert json.loads(out)["protocol"].endswith(HOSTILE_NAME)  # escaped, yet exact


def test_d8_table_and_markdown_name_the_protocol_that_set_a_hold(
    hostile_protocol_report: Report,
) -> None:
    import io

    from rich.console import Console

    from ketcheck.render.table import render_table

    buf = io.StringIO()
    Console(file=buf, width=100, color_system=None, markup=False).print(
        render_table(hostile_protocol_report, details=True)  # -v: the hold basis is shown
    )
    for out in (buf.getvalue(), as_text(hostile_protocol_report, OutputFormat.MARKDOWN)):
        assert "clinic protocol" in out and "protocol:" in out
        assert not any(raw in out for raw in ("\x1b", "\x07", "\u202e", "\u061c"))


INVISIBLE = ["\u061c", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u034f", "\U000e0041"]


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_d19_invisible_and_bidi_characters_are_shown_visibly(fmt: OutputFormat) -> None:
    payload = "zz" + "".join(INVISIBLE) + "qx"
    out = as_text(ketcheck.check([payload, "zo\udc9b2Jloft", "zoloft\ud83d"]), fmt)
    assert not any(ch in out for ch in [*INVISIBLE, "\udc9b", "\ud83d", "\x9b"])
    out.encode("utf-8")  # no lone surrogate left: valid UTF-8 whatever the stream does
    if fmt in (OutputFormat.JSON, OutputFormat.FHIR):
        json.loads(out)
    else:
        assert "\\u061c" in out or "\\\\u061c" in out


def test_d19_del_is_escaped_even_in_all_ascii_json(kc: Run) -> None:
    r = kc("check", "-f", "json", "zz\x7fqx")
    assert b"\x7f" not in r.stdout
    assert json.loads(r.stdout)["medications"][0]["input"] == "zz\x7fqx"


def test_d19_click_usage_errors_show_bidi_controls_inertly(kc: Run) -> None:
    r = kc("check", "--\u202efoo\x1b[2J")
    assert r.returncode == 2
    assert "\u202e".encode() not in r.stderr and b"\x1b" not in r.stderr


def test_d19_markdown_escapes_entities_and_line_start_markers() -> None:
    assert md("&lt;b&gt;") == "\\&lt;b\\&gt;"
    assert md("- -") == "\\- -"
    assert md("12. Zoloft") == "12\\. Zoloft"
    assert md("=== x") == "\\=== x"


def test_d19_handout_lists_a_dash_entry_instead_of_drawing_a_rule(kc: Run) -> None:
    r = kc("check", "-f", "handout", stdin=b'["- -"]')
    no_crash(r)
    assert b"- \\- -" in r.stdout


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_d11_lone_surrogates_never_reach_output_raw(kc: Run, fmt: str) -> None:
    r = kc("check", "-f", fmt, stdin=b'["zo\\udc9b2Jloft", "zoloft\\ud83d"]')
    no_crash(r)
    text = r.stdout.decode("utf-8")  # valid UTF-8
    assert "\x9b" not in text
    if fmt == "json":
        inputs = [m["input"] for m in json.loads(text)["medications"]]
        assert inputs == ["zo\udc9b2Jloft", "zoloft\ud83d"]


NOT_UTF8 = "not valid UTF-8; undecodable bytes were replaced with \ufffd"


def _no_surrogates(text: str) -> None:
    """Valid I-JSON: no lone surrogate, raw or escaped, anywhere in the document."""
    assert "\\ud" not in text.lower()
    assert not any(
        "\ud800" <= ch <= "\udfff" for ch in json.dumps(json.loads(text), ensure_ascii=False)
    )


@pytest.mark.parametrize("fmt", ["table", "json", "fhir", "markdown"])
def test_n8_undecodable_argument_bytes_become_replacement_characters(kc: Run, fmt: str) -> None:
    r = kc("check", "-f", fmt, b"zoloft\xff\xfe")
    no_crash(r)
    text = r.stdout.decode("utf-8")
    assert "zoloft\ufffd\ufffd" in text and "udcff" not in text
    assert f"arguments were {NOT_UTF8}" in r.stderr.decode()
    if fmt == "json":
        _no_surrogates(text)
        assert json.loads(text)["warnings"][0] == f"arguments were {NOT_UTF8}"
    if fmt == "fhir":
        _no_surrogates(text)


@pytest.mark.parametrize("fmt", ["json", "fhir"])
def test_n8_undecodable_condition_bytes_become_replacement_characters(kc: Run, fmt: str) -> None:
    r = kc("check", "-f", fmt, "--condition", b"pregnant\xff", "zoloft")
    no_crash(r)
    text = r.stdout.decode("utf-8")
    _no_surrogates(text)
    assert "pregnant\ufffd" in text and f"--condition was {NOT_UTF8}" in r.stderr.decode()


def test_n8_a_lone_surrogate_condition_from_json_still_gives_a_fhir_bundle(kc: Run) -> None:
    r = kc(
        "check",
        "-f",
        "fhir",
        stdin=b'{"medications": ["zoloft"], "conditions": ["pregnant\\udcff"]}',
    )
    no_crash(r)
    assert json.loads(r.stdout)["resourceType"] == "Bundle"


def test_n8_files_with_undecodable_names_are_read_and_named_validly(kc: Run, home: Path) -> None:
    listing = os.fsencode(home) + b"/meds\xff.txt"
    with open(listing, "wb") as fh:
        fh.write(b"zoloft\n")
    protocol = os.fsencode(home) + b"/clinic\xff.toml"
    with open(protocol, "wb") as fh:
        fh.write(kc("protocol", "init").stdout)
    r = kc("check", "-f", "json", "-i", listing, "--protocol", protocol)
    no_crash(r)
    _no_surrogates(r.stdout.decode("utf-8"))
    doc = json.loads(r.stdout)
    assert doc["medications"][0]["input"] == "zoloft"
    assert doc["protocol"] == f"{home}/clinic\ufffd.toml"


def test_d21_zero_columns_still_prints_the_report(kc: Run) -> None:
    r = kc("check", "Klonopin", "nardil", env={"COLUMNS": "0"})
    assert r.returncode == 1
    assert b"clonazepam" in r.stdout and b"phenelzine" in r.stdout


def test_inert_and_json_safe_cover_every_hidden_character() -> None:
    for ch in [*INVISIBLE, "\ud800", "\udc9b", "\u202e", "\u2066", "\u2028"]:
        assert ch not in inert(f"a{ch}b")
        escaped = json_safe(json.dumps(f"a{ch}b", ensure_ascii=False))
        assert ch not in escaped and json.loads(escaped) == f"a{ch}b"


# --- D9, D16: closed and failing streams -------------------------------------------------


def test_d9_closed_stdout_is_an_error_not_a_traceback(kc: Run) -> None:
    for fmt in ("table", "json"):
        r = kc("check", "-f", fmt, "zoloft", stdout=None, close=(1,))
        no_crash(r)
        assert r.returncode == 2
        assert b"standard output is closed" in r.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["check", "-f", "json", "zoloft"], 0),
        (["check", "-f", "json", "Nardil"], 1),
        (["check", "--session", "bad", "x"], 2),
        (["check", "--frobnicate"], 2),
        (["check", "-f", "json", "asdfqwer"], 3),
    ],
)
def test_d9_closed_or_full_stderr_keeps_the_exit_code(kc: Run, args: list[str], code: int) -> None:
    assert kc(*args, stderr=None, close=(2,)).returncode == code
    with open("/dev/full", "wb") as full:
        assert kc(*args, stderr=full).returncode == code


def test_d9_batch_with_closed_stderr_gives_the_worst_patient_code(kc: Run, home: Path) -> None:
    rows = home / "rows.csv"
    rows.write_text("patient_id,medication\np1,zoloft\np2,Nardil\n")
    r = kc("batch", str(rows), stderr=None, close=(2,))
    assert r.returncode == 1


def test_d16_full_stdout_is_a_write_error(kc: Run) -> None:
    with open("/dev/full", "wb") as full:
        for fmt in ("table", "json"):
            r = kc("check", "-f", fmt, "zoloft", stdout=full)
            no_crash(r)
            assert r.returncode == 2 and b"cannot write the report" in r.stderr


BROKEN_PIPE = """
import io, sys
class Broken(io.TextIOBase):
    encoding = "utf-8"
    def write(self, s):
        raise BrokenPipeError(32, "Broken pipe")
    def isatty(self):
        return False
sys.stdout = Broken()
sys.argv = ["ketcheck", *sys.argv[1:]]
from ketcheck.cli import main
main()
"""


@pytest.mark.parametrize(
    "args", [["check", "zoloft"], ["check", "-f", "json", "zoloft"], ["schema"], ["--help"]]
)
def test_d9_broken_pipe_exits_2_with_one_line(args: list[str]) -> None:
    # A real pipe's buffer size varies by system; a stdout that fails like one does not.
    r = subprocess.run(
        [sys.executable, "-c", BROKEN_PIPE, *args],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.count(b"broken pipe") == 1 and b"Traceback" not in r.stderr


def test_d16_closed_stdin_means_no_medications(kc: Run) -> None:
    r = kc("check", close=(0,))
    no_crash(r)
    assert r.returncode == 2 and b"standard input is closed" in r.stderr


@pytest.mark.parametrize(
    ("encoding", "fmt"),
    [
        *(("ascii", f) for f in ("table", "markdown", "json", "fhir", "html", "handout")),
        ("latin-1", "table"),
        ("cp1252", "markdown"),
        ("cp1252", "json"),
    ],
)
def test_d16_non_utf8_output_encoding_still_gets_a_report(kc: Run, encoding: str, fmt: str) -> None:
    r = kc("check", "-f", fmt, "zolöft", "Klonopin", env={"PYTHONIOENCODING": encoding})
    no_crash(r)
    assert r.returncode in (1, 3)
    text = r.stdout.decode(encoding)
    assert "clonazepam" in text or "Klonopin" in text
    if fmt == "json":
        assert json.loads(text)["medications"][0]["input"] == "zolöft"


# --- D10: bounded reads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["check", "-i", "/dev/zero"],
        ["check", "--protocol", "/dev/zero", "Klonopin"],
        ["check", "-i", "/dev/urandom"],
    ],
)
def test_d10_devices_are_refused(kc: Run, args: list[str]) -> None:
    r = kc(*args)
    no_crash(r)
    assert r.returncode == 2 and b"is a device" in r.stderr


def test_d10_protocol_from_the_environment_is_bounded_too(kc: Run) -> None:
    r = kc("check", "Klonopin", env={"KETCHECK_PROTOCOL": "/dev/zero"})
    assert r.returncode == 2 and b"is a device" in r.stderr


def test_d10_endless_stdin_stops_at_the_limit(kc: Run) -> None:
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run(
            [KETCHECK, "check"], stdin=zero, capture_output=True, timeout=TIMEOUT, check=False
        )
    assert r.returncode == 2 and b"larger than the limit" in r.stderr


@pytest.mark.parametrize("option", ["--protocol", "--input"])
def test_d10_fifo_is_refused_without_waiting(kc: Run, home: Path, option: str) -> None:
    fifo = home / "p.fifo"
    os.mkfifo(fifo)
    start = time.monotonic()
    r = kc("check", option, str(fifo), *(["Klonopin"] if option == "--protocol" else []))
    assert time.monotonic() - start < 30
    assert r.returncode == 2 and b"FIFO" in r.stderr


@pytest.mark.parametrize(
    ("option", "limit"), [("-i", MAX_INPUT_BYTES), ("--protocol", MAX_PROTOCOL_BYTES)]
)
def test_d10_files_over_the_limit_are_refused_unread(
    kc: Run, home: Path, option: str, limit: int
) -> None:
    big = home / "big"
    with open(big, "wb") as fh:
        fh.truncate(limit + 1)  # sparse: nothing is stored, so nothing need be read
    r = kc("check", option, str(big), *(["Klonopin"] if option == "--protocol" else []))
    assert r.returncode == 2 and b"larger than the limit" in r.stderr


# --- D13, D16: validation and honest error classes -----------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308"])
def test_d13_protocol_hold_must_be_finite_and_bounded(kc: Run, home: Path, value: str) -> None:
    p = home / "p.toml"
    p.write_text(f"[holds]\nbenzodiazepine = {value}\n")
    r = kc("check", "--protocol", str(p), "--session", "2026-11-23T09:00+00:00", "Klonopin")
    no_crash(r)
    assert r.returncode == 2 and b"holds.benzodiazepine" in r.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "-1"])
def test_d13_data_hold_hours_must_be_finite_and_bounded(data_copy: Path, value: str) -> None:
    rules = data_copy / "rules.toml"
    text = rules.read_text()
    assert "hold_hours = 12" in text
    rules.write_text(text.replace("hold_hours = 12", f"hold_hours = {value}", 1))
    with pytest.raises(DataError, match="hold_hours"):
        compile_knowledge(data_copy)


def test_d16_non_utf8_generated_table_is_a_data_error(data_copy: Path) -> None:
    tsv = data_copy / "generated" / "fda-names.tsv"
    tsv.write_bytes(tsv.read_bytes() + b"\xff\xfe broken\n")
    with pytest.raises(DataError, match="not UTF-8"):
        compile_knowledge(data_copy)


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, b"nested too deeply"),
        (b'{"medications": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", b"nested too deeply"),
        (b'[{"name": "zoloft", "status": ' + b"9" * 5_000 + b"}]", b"invalid JSON"),
    ],
)
def test_d16_hostile_json_is_an_input_error(kc: Run, stdin: bytes, message: bytes) -> None:
    r = kc("check", stdin=stdin)
    no_crash(r)
    assert r.returncode == 2 and message in r.stderr


def test_d16_deep_toml_protocol_is_a_protocol_error(kb: KnowledgeBase, tmp_path: Path) -> None:
    p = tmp_path / "deep.toml"
    p.write_text("x = " + "[" * 5_000 + "]" * 5_000 + "\n")
    with pytest.raises(ProtocolError, match="nested too deeply"):
        load.read_protocol(p, kb)


# --- D24 ---------------------------------------------------------------------------------


def test_d24_import_keeps_the_hosts_bytecode_setting() -> None:
    r = subprocess.run(
        [sys.executable, "-B", "-c", "import ketcheck, sys; print(sys.dont_write_bytecode)"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    )
    assert r.stdout.strip() == "True"


# --- D15 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.MARKDOWN])
def test_d15_a_protocol_downgrade_to_none_says_who_set_it(
    fmt: OutputFormat, tmp_path: Path
) -> None:
    path = tmp_path / "down.toml"
    path.write_text('[severity]\nmaoi = "none"\n')
    report = ketcheck.check(["Nardil"], protocol=load.read_protocol(path, load_bundled()))
    out = as_text(report, fmt)
    assert "Severity set by" in out and "down.toml" in out


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("long.csv", "patient_id,medication\np1," + "x" * 200_000 + "\n", b"unreadable CSV"),
        (
            "deep.jsonl",
            '{"patient_id": "p", "medications": ' + "[" * 5_000 + "]" * 5_000 + "}\n",
            b"unreadable JSON",
        ),
        ("int.jsonl", '{"patient_id": ' + "9" * 5_000 + ', "medications": ["x"]}\n', b"4300"),
    ],
)
def test_d16_hostile_batch_files_are_input_errors(
    kc: Run, home: Path, name: str, content: str, message: bytes
) -> None:
    (home / name).write_text(content)
    r = kc("batch", str(home / name))
    no_crash(r)
    assert r.returncode == 2 and message in r.stderr


def test_d16_batch_from_a_closed_stdin_is_an_input_error(kc: Run) -> None:
    r = kc("batch", "-", close=(0,))
    no_crash(r)
    assert r.returncode == 2 and b"standard input is closed" in r.stderr


def test_d16_batch_json_lines_stay_valid_under_an_ascii_encoding(kc: Run) -> None:
    rows = "patient_id,medication\np1,zolöft\np2,Klonopin\n".encode()
    r = kc("batch", "-", stdin=rows, env={"PYTHONIOENCODING": "ascii"})
    no_crash(r)
    lines = [json.loads(line) for line in r.stdout.decode("ascii").splitlines()]
    assert [doc["medications"][0]["input"] for doc in lines] == ["zolöft", "Klonopin"]


def test_d16_short_row_in_the_generated_table_is_a_data_error(data_copy: Path) -> None:
    tsv = data_copy / "generated" / "fda-names.tsv"
    tsv.write_text(tsv.read_text(encoding="utf-8") + "shortrow\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"fda-names.tsv: line \d+: 1 of 4 columns"):
        compile_knowledge(data_copy)


def test_protocol_init_does_not_write_through_a_dangling_symlink(kc: Run, home: Path) -> None:
    link = home / "protocol.toml"
    link.symlink_to(home / "elsewhere.toml")
    r = kc("protocol", "init", str(link))
    assert r.returncode == 2 and b"already exists" in r.stderr
    assert not (home / "elsewhere.toml").exists()


@pytest.mark.parametrize("plant", ["fifo", "bit-flip", "foreign-mode"])
def test_d4_rxnorm_code_cache_is_checked_like_the_main_cache(
    kcp: Run, home: Path, plant: str
) -> None:
    kcp("check", "zoloft")
    cache = home.parent / "cache"
    (codes,) = [p for p in cache.iterdir() if p.name.startswith("rxnorm-")]
    if plant == "fifo":
        codes.unlink()
        os.mkfifo(codes)
    elif plant == "bit-flip":
        blob = bytearray(codes.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        codes.write_bytes(bytes(blob))
    else:
        codes.chmod(0o666)
    r = kcp("check", "-f", "json", "RxNorm 197591")
    no_crash(r)
    med = json.loads(r.stdout)["medications"][0]
    assert med["ingredients"] == ["diazepam"] and med["method"] == "rxnorm"


def test_inert_skips_only_text_its_replacements_would_leave_as_it_is() -> None:
    """The quick path (no pattern compiled) for text with nothing to replace changes nothing."""
    from ketcheck.render.literal import _INVISIBLE, _class_ranges, _replaced

    every = [chr(c) for span in _class_ranges(_INVISIBLE) for c in span]
    every += [*map(chr, range(0x00, 0x20)), *map(chr, range(0x7F, 0xA0))]
    every += ["\u200e", "\u202e", "\u2066", "\u2028", "\u2029", "\u00a0", "\u3000", "\t"]
    for ch in every:
        for text in (f"a{ch}b", f"é{ch}", f"→ {ch} ≥"):
            assert inert(text) == _replaced(text), repr(text)
    for text in ("plain", "Klonopin → clonazepam ≥ 0.5 mg", "naïve µg — ok", "日本語", ""):
        assert inert(text) == _replaced(text) == text


# --- N1: -o onto a device node or FIFO ------------------------------------------------------


def _device(folder: Path, name: str, kind: int, major: int, minor: int) -> Path:
    node = folder / name
    try:
        os.mknod(node, kind | 0o666, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("making device nodes needs root")
    return node


def _report_to(
    kc: Run, home: Path, command: str, target: Path
) -> subprocess.CompletedProcess[bytes]:
    if command == "check":
        return kc("check", "-f", "json", "-o", str(target), "zoloft")
    rows = home / "rows.csv"
    rows.write_text("patient_id,medication\np1,zoloft\n")
    return kc("batch", "-o", str(target), str(rows))


def _no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("command", ["check", "batch"])
def test_n1_a_null_device_is_written_not_replaced(kc: Run, home: Path, command: str) -> None:
    null = _device(home, "null", stat.S_IFCHR, 1, 3)
    r = _report_to(kc, home, command, null)
    no_crash(r)
    assert r.returncode == 0
    assert stat.S_ISCHR(null.lstat().st_mode) and null.lstat().st_rdev == os.makedev(1, 3)
    assert _no_temporary_files(home)


@pytest.mark.parametrize("command", ["check", "batch"])
def test_n1_a_full_device_is_a_one_line_write_error(kc: Run, home: Path, command: str) -> None:
    full = _device(home, "full", stat.S_IFCHR, 1, 7)
    r = _report_to(kc, home, command, full)
    no_crash(r)
    assert r.returncode == 2
    errors = [line for line in r.stderr.decode().splitlines() if "error" in line]
    assert errors == [f"ketcheck: error: {full}: cannot write: No space left on device"]
    assert stat.S_ISCHR(full.lstat().st_mode) and _no_temporary_files(home)


def test_n1_a_block_device_is_refused_untouched(kc: Run, home: Path) -> None:
    disk = _device(home, "disk", stat.S_IFBLK, 7, 250)  # a loop device number nobody uses
    r = kc("check", "-o", str(disk), "zoloft")
    no_crash(r)
    assert r.returncode == 2 and b"is a block device" in r.stderr
    assert stat.S_ISBLK(disk.lstat().st_mode)


@pytest.mark.parametrize("command", ["check", "batch"])
def test_n1_a_fifo_gets_the_report_and_stays_a_fifo(kc: Run, home: Path, command: str) -> None:
    import threading

    fifo = home / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        r = _report_to(kc, home, command, fifo)
        reader.join(timeout=TIMEOUT)
    finally:
        if reader.is_alive():  # ketcheck never opened it: release the blocked reader
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=TIMEOUT)
    no_crash(r)
    assert r.returncode == 0
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _no_temporary_files(home)
    (report,) = got
    first, _ = json.JSONDecoder().raw_decode(report.decode())  # a report, or a batch's first line
    assert first["medications"][0]["input"] == "zoloft"


# --- N2: a stopped run never commits a partial -o FILE --------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_n2_a_stopped_batch_leaves_the_output_file_as_it_was(
    base_env: dict[str, str], home: Path, sig: signal.Signals
) -> None:
    target = home / "reports.jsonl"
    target.write_text('{"previous": "good report"}\n')
    proc = subprocess.Popen(
        [KETCHECK, "batch", "--jobs", "1", "-o", str(target), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=base_env,
        cwd=home,
    )
    try:
        assert proc.stdin is not None
        records = "".join(f'{{"patient_id": {i}, "medications": ["zoloft"]}}\n' for i in range(300))
        proc.stdin.write(records.encode())
        proc.stdin.flush()  # stdin stays open: the run waits for more, its output unfinished
        deadline = time.monotonic() + TIMEOUT
        partial: list[Path] = []
        while not partial and time.monotonic() < deadline and proc.poll() is None:
            partial = [p for p in home.glob(".reports.jsonl.*.tmp") if p.stat().st_size]
            time.sleep(0.05)
        assert partial, "the run never wrote its temporary file"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + sig
    assert err.decode().count(f"stopped by {sig.name}") == 1 and b"Traceback" not in err
    assert target.read_text() == '{"previous": "good report"}\n'
    assert sorted(p.name for p in home.iterdir()) == ["reports.jsonl"]  # no temporary file


def test_n2_a_signal_while_a_report_file_is_written_removes_its_temporary_file(
    tmp_path: Path,
) -> None:
    from ketcheck.destination import atomic_output
    from ketcheck.stops import Stopped

    class NotCaught(Exception):
        pass

    def not_caught(signum: int, frame: object) -> None:
        raise NotCaught  # what the default action would do: end the run, leaving the file

    target = tmp_path / "report.json"
    target.write_text("previous report")
    previous = signal.signal(signal.SIGTERM, not_caught)
    try:
        with pytest.raises(Stopped) as stopped, atomic_output(str(target)) as fh:
            fh.write("half a report")
            fh.flush()
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.signum == signal.SIGTERM and not stopped.value.reported
    assert target.read_text() == "previous report"
    assert list(tmp_path.iterdir()) == [target]
