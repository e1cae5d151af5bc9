"""The command line: parse options, load, check, render, exit. No clinical logic lives here."""

# No `from __future__ import annotations` here: Typer reads the options from the annotations, and
# string annotations would be compiled and evaluated again on every run (about 3 ms of startup).
import errno
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ketcheck import __version__
from ketcheck.errors import InputError, KetcheckError, ProtocolError
from ketcheck.render import OutputFormat

if TYPE_CHECKING:
    from datetime import datetime

    from ketcheck.kb.knowledge import KnowledgeBase
    from ketcheck.kb.protocol import Protocol
    from ketcheck.model import Entry, Report
    from ketcheck.options import CheckOptions
    from ketcheck.patient import ConditionEntry
    from ketcheck.sources.patient import Given

_SETTINGS: dict[str, object] = {
    "name": "ketcheck",
    "help": "Check a medication list before a ketamine or esketamine session.",
    "no_args_is_help": True,
    "add_completion": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
    "pretty_exceptions_enable": False,
    "pretty_exceptions_show_locals": False,
    "rich_markup_mode": None,
}
# Shell completion lives on the full app only: one-command apps (the fast path) never complete.
app = typer.Typer(**{**_SETTINGS, "add_completion": True})  # type: ignore[arg-type]
_HELP_ONLY: dict[str, object] = {
    "no_args_is_help": True,
    "context_settings": _SETTINGS["context_settings"],
}
protocol_app = typer.Typer(help="Clinic protocol files.", **_HELP_ONLY)  # type: ignore[arg-type]
data_app = typer.Typer(help="The bundled knowledge base.", **_HELP_ONLY)  # type: ignore[arg-type]
app.add_typer(protocol_app, name="protocol")
app.add_typer(data_app, name="data")


class FailOn(StrEnum):
    """Severity at or above which `check` exits 1; `never` always exits 0 unless an error."""

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"
    NEVER = "never"


class ColorChoice(StrEnum):
    """`--color`: auto follows the terminal, NO_COLOR and FORCE_COLOR; the others override."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class RouteChoice(StrEnum):
    """Route of the session's ketamine or esketamine."""

    IV = "iv"
    IM = "im"
    SUBLINGUAL = "sublingual"
    ORAL = "oral"
    INTRANASAL = "intranasal"


# Options that `check` and `batch` share, declared once.
FailOnOption = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        case_sensitive=False,
        help="Exit 1 at or above this severity (an incomplete check exits 3).",
    ),
]
SessionOption = Annotated[
    str | None,
    typer.Option(
        "--session",
        metavar="WHEN",
        help="Session start: 2026-11-23 09:00 (optional seconds, +01:00), 09:00 (the next one), "
        "'today 9:00' or 'tomorrow 9:00'; holds get clock times.",
    ),
]
RouteOption = Annotated[
    RouteChoice | None,
    typer.Option(
        "--route",
        case_sensitive=False,
        help="Route of ketamine/esketamine [default: iv, or the protocol's].",
    ),
]
ProtocolOption = Annotated[
    Path | None,
    typer.Option("--protocol", metavar="FILE", help="Clinic protocol TOML (see `protocol init`)."),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE, not stdout: a file is replaced atomically when the run succeeds, "
        "a FIFO or character device is written straight.",
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing but errors; the exit code answers.")
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Count fuzzy matches as unresolved (exit 3).")
]


def _err(message: str) -> None:
    """One line on stderr, best effort: a closed or full stderr must not change the exit code."""
    from ketcheck.render.literal import inert

    with suppress(AttributeError, OSError, ValueError):
        sys.stderr.write(f"ketcheck: {inert(message)}\n")
        sys.stderr.flush()


@contextmanager
def _handled() -> Iterator[None]:
    """Turn a ketcheck error into its one-line message and exit code 2."""
    try:
        yield
    except KetcheckError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None


def _version_callback(value: bool) -> None:
    if value:
        with _handled():
            from ketcheck.kb.load import load_bundled

            kb = load_bundled()
        typer.echo(f"ketcheck {__version__} (data {kb.version})")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Show the package and data version.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Check a medication list before a ketamine or esketamine session."""


def _gather(
    names: list[str], input_file: str | None, kb: "KnowledgeBase", *, allow_empty: bool = False
) -> tuple[Sequence["Entry | str"], list[str], "Given | None"]:
    """The entries, warnings about the input, and the patient context it carries (None: none)."""
    from ketcheck.sources import text as inputs

    warnings: list[str] = []
    if names and input_file:
        raise InputError("give medication names or --input, not both")
    if names:  # arguments carry no patient context: sources/patient is not even imported
        return inputs.from_arguments(names), warnings, None
    from ketcheck.sources import read

    if allow_empty and not input_file and sys.stdin is not None and sys.stdin.isatty():
        return [], warnings, None
    if input_file and input_file != "-":
        raw = read.read_file(input_file, limit=read.MAX_INPUT_BYTES, what="a medication list")
    elif input_file == "-" or sys.stdin is None or not sys.stdin.isatty():
        raw = read.read_stdin(limit=read.MAX_INPUT_BYTES, what="the medication list")
    else:
        raise InputError("no medications given: name them as arguments or pipe a list on stdin")
    decoded = inputs.decode(raw)
    if decoded.replaced_bytes:
        warnings.append("input was not valid UTF-8; undecodable bytes were replaced with \ufffd")
    if decoded.removed_nul:
        warnings.append("input contained NUL bytes; they were removed")
    if allow_empty and not decoded.text.strip():
        return [], warnings, None  # conditions or a blood pressure alone: nothing else to read
    from ketcheck.sources.patient import given_in

    got = inputs.read_text(decoded.text)  # RxNorm codes resolve in the check
    entries = got.entries
    warnings.extend(got.warnings)
    if not inputs.looks_like_json(decoded.text):
        comments = inputs.comment_lines(decoded.text)
        if comments:
            warnings.append(f"skipped {comments} comment line(s) starting with '# '")
    return entries, warnings, given_in(decoded.text)


def _repaired(values: Sequence[str]) -> tuple[list[str], bool]:
    """Arguments with undecodable bytes repaired to U+FFFD, as stdin is; and whether any were.

    The OS hands such bytes over as lone surrogates, which no JSON or FHIR reader accepts.
    """
    out = [v if v.isascii() else _repair(v) for v in values]
    return out, out != list(values)


def _repair(value: str) -> str:
    try:
        raw = os.fsencode(value)  # the bytes that were given, surrogateescape undone
    except UnicodeEncodeError:  # a surrogate that no byte made (Windows' wide argv)
        raw = value.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", errors="replace")


def _not_utf8(what: str) -> str:
    return f"{what} not valid UTF-8; undecodable bytes were replaced with \ufffd"


def _protocol(path: Path | None, kb: "KnowledgeBase") -> "Protocol":
    from ketcheck.kb.load import default_protocol_path, read_protocol, untrusted
    from ketcheck.kb.protocol import DEFAULT

    if path is not None:
        protocol = read_protocol(path, kb)
    elif env := os.environ.get("KETCHECK_PROTOCOL"):
        protocol = read_protocol(env, kb)
    elif (user := default_protocol_path()).is_file():
        # as the compiled cache is: a file another user could write never changes the result
        reason = untrusted(user)
        if reason is not None:
            raise ProtocolError(
                f"{user}: clinic protocol not used: {reason}; chmod go-w it, or name a "
                "protocol with --protocol"
            )
        protocol = read_protocol(user, kb)
    else:
        return DEFAULT
    (shown,), _ = _repaired([protocol.name])  # the report names it; the file was read as named
    return protocol if shown == protocol.name else replace(protocol, name=shown)


def _session_time(session: str | None) -> tuple["datetime | None", tuple[str, ...]]:
    """The --session value read against the clock (naive input is local time), and warnings."""
    if session is None:
        return None, ()
    from datetime import datetime

    from ketcheck.sources.session import ZoneError, local_zone, parse_session

    try:
        now = datetime.now(local_zone())
        when = parse_session(session, now=now)
    except (ZoneError, ValueError) as exc:
        raise InputError(str(exc)) from None
    return when.moment, when.warnings


def _options(
    kb: "KnowledgeBase",
    fail_on: FailOn,
    session: str | None,
    route: RouteChoice | None,
    protocol: Path | None,
    strict: bool,
) -> tuple["CheckOptions", tuple[str, ...]]:
    """The options `check` and `batch` share, read once into one value; and WHEN's warnings."""
    from ketcheck.model import Route, Severity
    from ketcheck.options import CheckOptions

    when, session_warnings = _session_time(session)
    options = CheckOptions(
        route=Route(route.value) if route else None,
        session=when,
        protocol=_protocol(protocol, kb),
        fail_on=None if fail_on is FailOn.NEVER else Severity.parse(fail_on.value),
        strict=strict,
    )
    return options, session_warnings


MIN_WIDTH = 40


def _emit(
    report: "Report",
    fmt: OutputFormat,
    *,
    output: str | None,
    color: ColorChoice,
    details: bool,
    quiet: bool,
) -> None:
    from ketcheck.render import renderer

    if output is None and quiet:
        return
    render = renderer(fmt)
    if fmt in (OutputFormat.JSON, OutputFormat.FHIR):
        out = render(report, pretty=sys.stdout.isatty() or len(report.medications) <= 200)
    elif fmt is OutputFormat.TABLE:
        out = render(report, details=details)
    else:
        out = render(report)
    if output is None:
        if fmt is OutputFormat.HTML and sys.stdout.isatty():
            _err("warning: writing HTML to the terminal; save it with -o handout.html")
        _write(out, sys.stdout, color=color, to_file=False)
        return
    from ketcheck.destination import atomic_output

    with atomic_output(output) as fh:
        _write(out, fh, color=color, to_file=True)


def _write(out: object, stream: "IO[str]", *, color: ColorChoice, to_file: bool) -> None:
    from ketcheck.streams import OutputFailed, output_failure

    try:
        _write_out(out, stream, color=color, to_file=to_file)
    except OSError as exc:
        if to_file:
            raise
        raise OutputFailed(output_failure(exc) or f"cannot write the report: {exc}") from None


def _write_out(out: object, stream: "IO[str]", *, color: ColorChoice, to_file: bool) -> None:
    if isinstance(out, str):
        stream.write(out)
        stream.flush()
        return
    from rich.console import Console

    from ketcheck.streams import OutputFailed, output_failure

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise OutputFailed(output_failure(BrokenPipeError(errno.EPIPE, "broken pipe")))

    from ketcheck.destination import console_options

    extra = console_options(color.value)
    if to_file:
        extra = {"width": 100, **extra}
    console = _Console(
        file=stream, highlight=False, markup=False, emoji=False, soft_wrap=False, **extra
    )
    if console.width < MIN_WIDTH:  # COLUMNS=0 (or 3) would print nothing readable
        console.width = MIN_WIDTH
    if console.color_system is not None:
        console.print(out)
        return
    with console.capture() as captured:
        console.print(out)
    stream.write("\n".join(line.rstrip(" ") for line in captured.get().split("\n")))
    stream.flush()


def _hints(report: "Report", fmt: OutputFormat, *, to_file: bool = False) -> None:
    from ketcheck.render.literal import inert

    for w in report.warnings:
        _err(f"warning: {w}")
    s = report.summary
    if (fmt is not OutputFormat.TABLE or to_file) and not s.complete:
        bad = [m.input for m in report.medications if m.status.value != "resolved"]
        shown = ", ".join(repr(inert(b)) for b in bad[:5]) + (" …" if len(bad) > 5 else "")
        unread = [
            c.input for c in report.conditions if c.status.value in ("unresolved", "ambiguous")
        ]
        if bad:
            _err(f"check incomplete: {len(bad)} name(s) not resolved: {shown}")
        if unread:
            names = ", ".join(repr(inert(c)) for c in unread[:5])
            _err(f"check incomplete: {len(unread)} condition(s) not read: {names}")
        doubted = [c.input for c in report.conditions if c.status.value == "unconfirmed"]
        if doubted:
            names = ", ".join(repr(inert(c)) for c in doubted[:5])
            _err(f"check incomplete: {len(doubted)} condition(s) to confirm: {names}")
        if not (unread or doubted) and report.strict and s.fuzzy:
            _err(f"check incomplete: {s.fuzzy} fuzzy match(es) under --strict")
    if fmt is not OutputFormat.TABLE or to_file:
        top = s.highest_severity.label if s.highest_severity is not None else "none"
        _err(f"{len(report.medications)} medication(s), highest severity {top}, exit {s.exit_code}")


CHECK_EXAMPLES = """Examples:

\b
  ketcheck check gabapentin sertraline
  ketcheck check "Klonopin 0.5 mg BID, Lamictal 200 mg; Zoloft"
  ketcheck check --session 09:00 --route IV Klonopin Lamictal
  ketcheck check -v "Nardil 15 mg tid"          # with mechanism, evidence, references
  ketcheck check -f html -o handout.html --session "tomorrow 9:00" < meds.txt
  ketcheck check -q -f json -o report.json -i meds.json; echo $?

Exit codes: 0 cleared, 1 risk at or above --fail-on, 2 error, 3 incomplete.
"""

BATCH_EXAMPLES = """Examples:

\b
  ketcheck batch tomorrow.csv > reports.jsonl
  ketcheck batch --session "tomorrow 9:00" -o reports.jsonl tomorrow.csv
  ketcheck batch - < patients.jsonl

The CSV needs patient_id and medication columns; JSON Lines hold
{"patient_id": ..., "medications": [...]}. The worst exit code wins (1 over 3 over 0).
"""


def _complete_name(incomplete: str) -> list[str]:
    """Shell completion of medication names: known names starting with what was typed."""
    key = incomplete.casefold()
    if len(key) < 2:
        return []
    from ketcheck.kb.load import load_bundled

    names = load_bundled().lexicon.names
    found = {entry[0] for k in names if k.startswith(key) for entry in names[k]}
    # Shells keep only candidates that start with what was typed: keep the user's case for it.
    shown = {incomplete + n[len(incomplete) :] for n in found if " " not in n}
    return sorted(shown, key=str.casefold)[:40]


# How each command is registered, kept so the one-command fast path registers it the same way.
_CHECK: dict[str, Any] = {"epilog": CHECK_EXAMPLES}
_INFO: dict[str, Any] = {"short_help": "How a name resolves, and every rule that applies to it."}
_BATCH: dict[str, Any] = {
    "epilog": BATCH_EXAMPLES,
    "short_help": "Check many patients: one JSON report per line.",
}


@app.command(**_CHECK)
def check(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[NAME]...",
            autocompletion=_complete_name,
            help="Medication names; each argument may hold several, split on , and ;. "
            "With none, the list is read from stdin (one per line).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="Report format: table, json, markdown or fhir for the clinic; handout "
            "(Markdown) or html for the patient.",
        ),
    ] = OutputFormat.TABLE,
    fail_on: FailOnOption = FailOn.MODERATE,
    session: SessionOption = None,
    route: RouteOption = None,
    protocol: ProtocolOption = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input", "-i", metavar="FILE", help="Read the list from FILE (- for stdin)."
        ),
    ] = None,
    strict: StrictOption = False,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            metavar="CONDITION",
            help="A condition of the patient (repeatable; split on , and ;), e.g. pregnant, OSA.",
            show_default=False,
        ),
    ] = None,
    bp: Annotated[
        str | None,
        typer.Option("--bp", metavar="SYS/DIA", help="Session-day blood pressure, e.g. 150/95."),
    ] = None,
    output: OutputOption = None,
    details: Annotated[
        bool,
        typer.Option(
            "--details", "-v", help="Table: add mechanism, hold basis, evidence and references."
        ),
    ] = False,
    color: Annotated[
        ColorChoice,
        typer.Option(
            "--color",
            case_sensitive=False,
            help="Colour the table: auto follows the terminal, NO_COLOR and FORCE_COLOR.",
        ),
    ] = ColorChoice.AUTO,
    quiet: QuietOption = False,
) -> None:
    """Check medications against ketamine and esketamine."""
    with _handled():
        from ketcheck.api import check as run
        from ketcheck.kb.load import load_bundled
        from ketcheck.sources.text import says_none as inputs_say_none

        kb = load_bundled()
        options, session_warnings = _options(kb, fail_on, session, route, protocol, strict)
        names, names_repaired = _repaired(names or [])
        condition, conditions_repaired = _repaired(condition or [])
        conditions: Sequence[ConditionEntry] = ()
        if condition:
            from ketcheck.sources.patient import condition_arguments

            conditions = condition_arguments(condition)
        entries, warnings, given = _gather(
            names, input_file, kb, allow_empty=bool(conditions or bp)
        )
        if names_repaired:
            warnings.insert(0, _not_utf8("arguments were"))
        if conditions_repaired:
            warnings.insert(names_repaired, _not_utf8("--condition was"))
        if inputs_say_none(entries):
            entries = []  # "none" / "no medications": a complete check of an empty list
        given_conditions, given_bp = (given.conditions, given.bp) if given else ((), None)
        warnings += given.warnings if given else ()
        if given_bp is not None and bp is not None:
            warnings.append("--bp given: the blood pressure in the input was not used")
        report = run(
            entries,
            options=options,
            conditions=(*given_conditions, *conditions),
            bp=bp if bp is not None else given_bp,
        )
        if not quiet:  # about how WHEN was read against today's clock: not part of the report
            for w in session_warnings:
                _err(f"warning: {w}")
        if warnings:
            report = replace(report, warnings=tuple(warnings) + report.warnings)
        _emit(report, fmt, output=output, color=color, details=details, quiet=quiet)
        if not quiet:
            _hints(report, fmt, to_file=output is not None)
    raise typer.Exit(report.summary.exit_code)


@app.command(**_INFO)
def info(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="A drug name as a patient or clinician would type it."),
    ],
    route: Annotated[
        RouteChoice,
        typer.Option("--route", case_sensitive=False, help="Route for route-specific severities."),
    ] = RouteChoice.IV,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show how a name resolves and every rule that applies to it, with references."""
    with _handled():
        from ketcheck.describe import describe, describe_text
        from ketcheck.engine.codes import resolve_entry
        from ketcheck.kb.load import load_bundled
        from ketcheck.matching.resolve import Resolver
        from ketcheck.model import ExitCode, Route

        kb = load_bundled()
        (name,), repaired = _repaired([name])
        if repaired:
            _err(f"warning: {_not_utf8('the name was')}")
        parsed, resolution = resolve_entry(kb, Resolver(kb), name)  # a name or "RxNorm N"
        detail = describe(kb, name, parsed, resolution, Route(route.value))
        if as_json:
            from ketcheck.render.json import dumps

            typer.echo(dumps(detail))
        else:
            sys.stdout.write(describe_text(detail))
    raise typer.Exit(ExitCode.CLEARED if detail["status"] == "resolved" else ExitCode.INCOMPLETE)


@protocol_app.command("init")
def protocol_init(
    path: Annotated[
        Path | None, typer.Argument(metavar="[FILE]", help="Write here instead of stdout.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the default clinic protocol (holds and severities in effect) as TOML."""
    with _handled():
        import tomli_w

        from ketcheck.kb.load import load_bundled
        from ketcheck.kb.protocol import default_table

        kb = load_bundled()
        header = (
            "# ketcheck clinic protocol: the bundled defaults, written by `ketcheck protocol init`.\n"
            f"# Data version {kb.version}. Edit to match your clinic; loading this file unchanged\n"
            "# gives the same results as no protocol. Keys are class or ingredient ids as shown by\n"
            "# `ketcheck info NAME`; an ingredient key beats its class key.\n"
            "# [holds]: hours before the session to hold a dose (0 = no hold).\n"
            "# [severity]: contraindicated | major | moderate | minor | none, or one per route.\n\n"
        )
        text = header + tomli_w.dumps(default_table(kb))
        if path is None:
            sys.stdout.write(text)
        else:
            if (path.exists() or path.is_symlink()) and not force:  # a dangling link too
                raise InputError(f"{path}: already exists (use --force to overwrite)")
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{path}: cannot write: {exc.strerror}") from None
            _err(f"wrote {path}")


@data_app.command("stats")
def data_stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Counts of ingredients, names, classes and rules in the bundled knowledge base."""
    with _handled():
        from ketcheck.describe import stats
        from ketcheck.kb.load import load_bundled

        counts = stats(load_bundled())
        if as_json:
            from ketcheck.render.json import dumps

            typer.echo(dumps(counts))
        else:
            width = max(len(k) for k in counts)
            for k, v in counts.items():
                typer.echo(f"{k.replace('_', ' '):<{width}}  {v}")


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the JSON report."""
    from ketcheck.render.json import dumps
    from ketcheck.render.schema import REPORT_SCHEMA

    typer.echo(dumps(REPORT_SCHEMA))


@app.command(**_BATCH)
def batch(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="CSV (patient_id,medication) or JSON Lines; - for stdin."
        ),
    ],
    fail_on: FailOnOption = FailOn.MODERATE,
    session: SessionOption = None,
    route: RouteOption = None,
    protocol: ProtocolOption = None,
    strict: StrictOption = False,
    output: OutputOption = None,
    quiet: QuietOption = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Worker processes for a long batch [default: one per CPU, at most 4]; "
            "the output is the same with any N.",
        ),
    ] = None,
) -> None:
    """Check many patients: one JSON report per line on stdout, worst exit code wins."""
    with _handled():
        from ketcheck.batch import run_batch
        from ketcheck.kb.load import load_bundled

        kb = load_bundled()
        options, session_warnings = _options(kb, fail_on, session, route, protocol, strict)
        if not quiet:
            for w in session_warnings:
                _err(f"warning: {w}")
        with _batch_streams(output, quiet) as (out, err):
            code = run_batch(file, kb, options, out=out, err=err, jobs=jobs)
    raise typer.Exit(code)


@contextmanager
def _batch_streams(output: str | None, quiet: bool) -> Iterator[tuple["IO[str]", "IO[str]"]]:
    """Batch's stdout (or an atomically written FILE) and stderr (or nothing, with -q)."""
    import io

    err: IO[str] = io.StringIO() if quiet else sys.stderr
    if output is None:
        yield sys.stdout, err
        return
    from ketcheck.destination import atomic_output

    with atomic_output(output) as fh:
        yield fh, err


_TOP_COMMANDS: dict[str, tuple[Callable[..., None], dict[str, Any]]] = {
    "check": (check, _CHECK),
    "info": (info, _INFO),
    "schema": (schema, {}),
    "batch": (batch, _BATCH),
}


def _app_for(argv: list[str]) -> typer.Typer:
    """The full app, or for a top-level command just that command (Typer builds less: faster)."""
    name = argv[0] if argv else ""
    known = _TOP_COMMANDS.get(name)
    if known is None:
        return app
    func, settings = known
    one = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]
    one.callback()(_root)
    one.command(name, **settings)(func)
    return one


def main() -> NoReturn:
    """Console entry point: the last-resort handler that keeps tracebacks off the terminal."""
    if sys.stderr is None:  # started with stderr closed: messages are lost, the exit code is not
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives until the process exits)
    if sys.stdout is None:
        from ketcheck.model import ExitCode

        _err("error: standard output is closed; nowhere to write the report. Nothing was checked.")
        _exit_now(ExitCode.ERROR)
    from ketcheck.stops import Stopped
    from ketcheck.streams import pipe_closed_by_click, prepare_streams

    prepare_streams()
    code = 0
    try:
        code = _run(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            _err(str(exc.code))
        if pipe_closed_by_click():
            code = 2
            _err("error: output closed before the report was complete (broken pipe)")
    except KeyboardInterrupt:
        _err("interrupted")
        code = 130
    except Stopped as stop:  # SIGTERM or SIGHUP while an output file was being written
        if not stop.reported:
            _err(f"stopped by {stop.name}; the output was not written")
        code = 128 + stop.signum
    except Exception as exc:
        code = 2
        if not _output_failed(exc):
            _err(f"internal error ({type(exc).__name__}); please report it. Nothing was checked.")
    loader = sys.modules.get("ketcheck.kb.load")
    problem = loader.cache_problem() if loader is not None else None
    if problem:
        _err(f"note: {problem}")
    _exit_now(code)


def _output_failed(exc: BaseException) -> bool:
    """Say so when stdout could not take the report (closed, full, broken pipe): exit 2."""
    from ketcheck.streams import output_failure

    message = output_failure(exc)
    if message is not None:
        _err(f"error: {message}")
        return True
    return False


def _run(argv: list[str]) -> int:
    """Run the app; a usage error is one line, error first, with a hint and exit 2."""
    try:
        result = _app_for(argv)(args=argv, prog_name="ketcheck", standalone_mode=False)
    except Exception as exc:
        if not any(c.__name__ == "ClickException" for c in type(exc).__mro__):
            raise  # not a usage error: main's last-resort handler decides
        from ketcheck.usage import describe_usage_error

        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stderr.write(exc.format_message() + "\n")  # type: ignore[attr-defined]
            return 2
        for line in describe_usage_error(exc):
            _err(line)
        return int(getattr(exc, "exit_code", 2))
    return result if isinstance(result, int) else 0


def _exit_now(code: int) -> NoReturn:
    """Flush and leave without tearing the interpreter down (which costs more than the check)."""
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError, OSError) as exc:
        # The report did not reach its reader: that is an error, whatever the check found.
        if code != 2 and not _output_failed(exc):
            _err("error: cannot write the report")
        code = 2
    with suppress(AttributeError, ValueError, OSError):
        sys.stderr.flush()
    os._exit(code)
