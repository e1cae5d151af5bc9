"""Fuzzing the plain-text and JSON readers: every entry reaches the report, or exit 2 says why."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ketcheck.cli import app
from ketcheck.sources.text import looks_like_json, says_none

runner = CliRunner()
# Words are compared rather than whole entries, so the property survives readers that split a
# line into several entries (on `;`, or on Unicode line breaks); a word has a letter or digit.
_WORD = re.compile(r"[^\s;,]+")
_MEANINGFUL = re.compile(r"\w")

chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\n")
line = st.one_of(
    st.text(chars, max_size=40),
    st.sampled_from(
        [
            "Klonopin 0.5 mg",
            "  - Zoloft 50 mg daily",
            "2. Nardil",
            "\x1b[31mxanax\x1b[0m",
            "zz\u200b\u202eqx",
            "Lexapro 10mg; Xanax 1mg",
            "# a comment",
            "",
            "\ufeffphenelzine",
            "gabapentin\x00 300mg",
        ]
    ),
)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if _MEANINGFUL.search(w)]


def _run(stdin: bytes) -> tuple[int, str, str]:
    r = runner.invoke(app, ["check", "--format", "json"], input=stdin, env={"NO_COLOR": "1"})
    return r.exit_code, r.stdout, r.stderr


def _assert_kept_or_refused(stdin: bytes, expected: list[str]) -> None:
    code, out, err = _run(stdin)
    assert "internal error" not in err and "Traceback" not in err
    if code == 2:
        assert err.startswith("ketcheck: error: ") and len(err.strip()) > len("ketcheck: error:")
        return
    assert code in (0, 1, 3), err
    report = json.loads(out)
    if not report["medications"] and says_none(expected):
        return  # a list that says "none" is a documented, complete, empty check
    shown = " ".join(m["input"] for m in report["medications"])
    for entry in expected:
        for word in _words(entry):
            assert word in shown, (word, entry, shown)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line, min_size=1, max_size=10), crlf=st.booleans())
def test_plain_text_keeps_every_line_or_exits_2(lines: list[str], crlf: bool) -> None:
    text = ("\r\n" if crlf else "\n").join(lines)
    if looks_like_json(text.replace("\x00", "").lstrip("\ufeff")):
        return  # read as JSON: the JSON property below covers it
    expected = []
    for raw in lines:
        entry = raw.replace("\x00", "").lstrip("\ufeff").strip()
        if entry and not entry.startswith("#"):  # `#` opens a documented comment line
            expected.append(entry)
    _assert_kept_or_refused(text.encode("utf-8"), expected)


name_text = st.text(st.characters(blacklist_categories=()), min_size=1, max_size=40) | st.just("")
item = st.one_of(
    name_text,
    st.builds(
        lambda n, s: {"name": n, "status": s},
        name_text,
        st.sampled_from(["active", "stopped", "completed", "recent", 7, None]),
    ),
)
junk = st.one_of(
    st.integers(),
    st.none(),
    st.booleans(),
    st.just({"foo": 1}),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(st.one_of(item, item, item, junk), min_size=0, max_size=10),
    wrapped=st.booleans(),
)
def test_json_keeps_every_name_or_exits_2(items: list[Any], wrapped: bool) -> None:
    doc: Any = {"medications": items} if wrapped else items
    payload = json.dumps(doc, ensure_ascii=True)  # lone surrogates travel as \ud800 escapes
    expected = []
    for it in items:
        name = it if isinstance(it, str) else it.get("name") if isinstance(it, dict) else None
        if isinstance(name, str):
            expected.append(name.replace("\x00", "").strip())
    if not looks_like_json(payload):
        expected = [payload]  # `[null, …]` or `[1, …]` opens like a text line, and is read as one
    _assert_kept_or_refused(payload.encode("ascii"), expected)


fhir_text = st.text(st.characters(blacklist_categories=()), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(
        st.tuples(
            fhir_text,
            st.sampled_from(["MedicationStatement", "MedicationRequest"]),
            st.sampled_from(["active", "completed", "stopped", "intended"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_fhir_bundle_keeps_every_medication_or_exits_2(
    texts: list[tuple[str, str, str]],
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": kind,
                    "status": status,
                    "medicationCodeableConcept": {"text": text},
                }
            }
            for text, kind, status in texts
        ],
    }
    payload = json.dumps(bundle, ensure_ascii=True)
    _assert_kept_or_refused(
        payload.encode("ascii"), [t.replace("\x00", "").strip() for t, _, _ in texts]
    )
