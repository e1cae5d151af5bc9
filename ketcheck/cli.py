"""The command line: parse options, load, check, render, exit. No clinical logic lives here."""

# No `from __future__ import annotations` here: Typer reads the options from the annotations, and
# string annotations would be compiled and evaluated again on every run (about 3 ms of startup).
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from ketcheck import __version__
from ketcheck.errors import InputError, KetcheckError
from ketcheck.render import OutputFormat

if TYPE_CHECKING:
    from datetime import datetime

    from ketcheck.kb.knowledge import KnowledgeBase
    from ketcheck.kb.protocol import Protocol
    from ketcheck.model import Entry, Report
    from ketcheck.options import CheckOptions
    from ketcheck.sources.patient import Given

_SETTINGS: dict[str, object] = {
    "name": "ketcheck",
    "help": "Check a medication list before a ketamine or esketamine session.",
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "pretty_exceptions_show_locals": False,
    "rich_markup_mode": None,
}
app = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]
protocol_app = typer.Typer(help="Clinic protocol files.", no_args_is_help=True)
data_app = typer.Typer(help="The bundled knowledge base.", no_args_is_help=True)
app.add_typer(protocol_app, name="protocol")
app.add_typer(data_app, name="data")


class FailOn(StrEnum):
    """Severity at or above which `check` exits 1; `never` always exits 0 unless an error."""

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    MINOR = "minor"
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
    FailOn, typer.Option("--fail-on", help="Exit 1 at or above this severity.")
]
SessionOption = Annotated[
    str | None,
    typer.Option(
        "--session", help="Session start, ISO 8601 (2026-11-23T09:00); holds get clock times."
    ),
]
RouteOption = Annotated[
    RouteChoice | None,
    typer.Option("--route", help="Route of ketamine/esketamine [default: iv, or the protocol's]."),
]
ProtocolOption = Annotated[
    Path | None, typer.Option("--protocol", help="Clinic protocol TOML (see `protocol init`).")
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Count fuzzy matches as unresolved (exit 3).")
]


def _err(message: str) -> None:
    from ketcheck.render.literal import inert

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
            help="Show the package and data version.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Check a medication list before a ketamine or esketamine session."""


def _read_stdin() -> bytes:
    return sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()


def _gather(
    names: list[str], input_file: str | None, kb: "KnowledgeBase", *, allow_empty: bool = False
) -> tuple[Sequence["Entry | str"], list[str], "Given"]:
    from ketcheck.sources import text as inputs
    from ketcheck.sources.patient import Given, given_in

    warnings: list[str] = []
    if names and input_file:
        raise InputError("give medication names or --input, not both")
    if names:
        return inputs.from_arguments(names), warnings, Given()
    if allow_empty and not input_file and sys.stdin.isatty():
        return [], warnings, Given()
    if input_file and input_file != "-":
        try:
            raw = Path(input_file).read_bytes()
        except OSError as exc:
            raise InputError(f"{input_file}: cannot read: {exc.strerror}") from None
    elif input_file == "-" or not sys.stdin.isatty():
        raw = _read_stdin()
    else:
        raise InputError("no medications given: name them as arguments or pipe a list on stdin")
    decoded = inputs.decode(raw)
    if decoded.replaced_bytes:
        warnings.append("input was not valid UTF-8; undecodable bytes were replaced with \ufffd")
    if decoded.removed_nul:
        warnings.append("input contained NUL bytes; they were removed")
    if allow_empty and not decoded.text.strip():
        return [], warnings, Given()  # conditions or a blood pressure alone: nothing else to read
    entries = inputs.from_text(decoded.text)  # RxNorm codes resolve in the check
    if not inputs.looks_like_json(decoded.text):
        comments = inputs.comment_lines(decoded.text)
        if comments:
            warnings.append(f"skipped {comments} comment line(s) starting with '# '")
    return entries, warnings, given_in(decoded.text)


def _protocol(path: Path | None, kb: "KnowledgeBase") -> "Protocol":
    from ketcheck.kb.load import default_protocol_path, read_protocol
    from ketcheck.kb.protocol import DEFAULT

    if path is not None:
        return read_protocol(path, kb)
    env = os.environ.get("KETCHECK_PROTOCOL")
    if env:
        return read_protocol(env, kb)
    user = default_protocol_path()
    if user.is_file():
        return read_protocol(user, kb)
    return DEFAULT


def _session_time(session: str | None) -> "datetime | None":
    """The --session value as a datetime (naive input is local time), or None."""
    if session is None:
        return None
    from ketcheck.sources.session import parse_session

    try:
        return parse_session(session)
    except ValueError as exc:
        raise InputError(
            f"--session {session!r} is not an ISO 8601 date and time (e.g. 2026-11-23T09:00): {exc}"
        ) from None


def _options(
    kb: "KnowledgeBase",
    fail_on: FailOn,
    session: str | None,
    route: RouteChoice | None,
    protocol: Path | None,
    strict: bool,
) -> "CheckOptions":
    """The options `check` and `batch` share, read once into one value."""
    from ketcheck.model import Route, Severity
    from ketcheck.options import CheckOptions

    return CheckOptions(
        route=Route(route.value) if route else None,
        session=_session_time(session),
        protocol=_protocol(protocol, kb),
        fail_on=None if fail_on is FailOn.NEVER else Severity.parse(fail_on.value),
        strict=strict,
    )


def _emit(report: "Report", fmt: OutputFormat) -> None:
    from ketcheck.render import renderer

    render = renderer(fmt)
    if fmt in (OutputFormat.JSON, OutputFormat.FHIR):
        out = render(report, pretty=sys.stdout.isatty() or len(report.medications) <= 200)
    else:
        out = render(report)
    if isinstance(out, str):
        sys.stdout.write(out)
        sys.stdout.flush()
        return
    from rich.console import Console

    console = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
    console.print(out)


def _hints(report: "Report", fmt: OutputFormat) -> None:
    from ketcheck.render.literal import inert

    for w in report.warnings:
        _err(f"warning: {w}")
    s = report.summary
    if fmt is not OutputFormat.TABLE and not s.complete:
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
        elif report.strict and s.fuzzy:
            _err(f"check incomplete: {s.fuzzy} fuzzy match(es) under --strict")
    if fmt is not OutputFormat.TABLE:
        top = s.highest_severity.label if s.highest_severity is not None else "none"
        _err(f"{len(report.medications)} medication(s), highest severity {top}, exit {s.exit_code}")


@app.command()
def check(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Medication names; each argument may hold several, split on , and ;. "
            "With none, the list is read from stdin (one per line).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Report format.")
    ] = OutputFormat.TABLE,
    fail_on: FailOnOption = FailOn.MODERATE,
    session: SessionOption = None,
    route: RouteOption = None,
    protocol: ProtocolOption = None,
    input_file: Annotated[
        str | None, typer.Option("--input", "-i", help="Read the list from FILE (- for stdin).")
    ] = None,
    strict: StrictOption = False,
    condition: Annotated[
        list[str] | None,
        typer.Option(
            "--condition",
            metavar="TEXT",
            help="A condition of the patient (repeatable; split on , and ;), e.g. pregnant, OSA.",
            show_default=False,
        ),
    ] = None,
    bp: Annotated[
        str | None,
        typer.Option("--bp", metavar="SYS/DIA", help="Session-day blood pressure, e.g. 150/95."),
    ] = None,
) -> None:
    """Check medications against ketamine and esketamine; exit 0 clear, 1 risk, 2 error, 3 incomplete."""
    with _handled():
        from ketcheck.api import check as run
        from ketcheck.kb.load import load_bundled
        from ketcheck.sources.patient import condition_arguments
        from ketcheck.sources.text import says_none as inputs_say_none

        kb = load_bundled()
        options = _options(kb, fail_on, session, route, protocol, strict)
        conditions = condition_arguments(condition or [])
        entries, warnings, given = _gather(
            names or [], input_file, kb, allow_empty=bool(conditions or bp)
        )
        if inputs_say_none(entries):
            entries = []  # "none" / "no medications": a complete check of an empty list
        if given.bp is not None and bp is not None:
            warnings.append("--bp given: the blood pressure in the input was not used")
        report = run(
            entries,
            options=options,
            conditions=(*given.conditions, *conditions),
            bp=bp if bp is not None else given.bp,
        )
        if warnings:
            from dataclasses import replace

            report = replace(report, warnings=tuple(warnings) + report.warnings)
        _emit(report, fmt)
        _hints(report, fmt)
    raise typer.Exit(report.summary.exit_code)


@app.command()
def info(
    name: Annotated[
        str, typer.Argument(help="A drug name as a patient or clinician would type it.")
    ],
    route: Annotated[
        RouteChoice, typer.Option("--route", help="Route for route-specific severities.")
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
    path: Annotated[Path | None, typer.Argument(help="Write here instead of stdout.")] = None,
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
            if path.exists() and not force:
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


@app.command()
def batch(
    file: Annotated[
        str, typer.Argument(help="CSV (patient_id,medication) or JSON Lines; - for stdin.")
    ],
    fail_on: FailOnOption = FailOn.MODERATE,
    session: SessionOption = None,
    route: RouteOption = None,
    protocol: ProtocolOption = None,
    strict: StrictOption = False,
) -> None:
    """Check many patients: one JSON report per line on stdout, worst exit code wins."""
    with _handled():
        from ketcheck.kb.load import load_bundled
        from ketcheck.sources.batch import run_batch

        kb = load_bundled()
        options = _options(kb, fail_on, session, route, protocol, strict)
        code = run_batch(file, kb, options, out=sys.stdout, err=sys.stderr)
    raise typer.Exit(code)


_TOP_COMMANDS: dict[str, Callable[..., None]] = {
    "check": check,
    "info": info,
    "schema": schema,
    "batch": batch,
}


def _app_for(argv: list[str]) -> typer.Typer:
    """The full app, or for a top-level command just that command (Typer builds less: faster)."""
    name = argv[0] if argv else ""
    func = _TOP_COMMANDS.get(name)
    if func is None:
        return app
    one = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]
    one.callback()(_root)
    one.command(name)(func)
    return one


def main() -> NoReturn:
    """Console entry point: the last-resort handler that keeps tracebacks off the terminal."""
    # An editable install run under PYTHONDONTWRITEBYTECODE would compile every module it loads
    # on every run (tens of ms). The command owns its process; `import ketcheck` changes nothing.
    if sys.dont_write_bytecode and not os.environ.get("KETCHECK_NO_BYTECODE"):
        sys.dont_write_bytecode = False
    code = 0
    try:
        _app_for(sys.argv[1:])(prog_name="ketcheck")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if exc.code is not None and not isinstance(exc.code, int):
            _err(str(exc.code))
    except KeyboardInterrupt:
        _err("interrupted")
        code = 130
    except BrokenPipeError:
        code = 1
    except Exception as exc:
        _err(f"internal error ({type(exc).__name__}); please report it. Nothing was checked.")
        code = 2
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    """Flush and leave without tearing the interpreter down (which costs more than the check)."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        code = code or 1
    with suppress(BrokenPipeError, ValueError, OSError):
        sys.stderr.flush()
    os._exit(code)
