"""FHIR R4 output: a collection Bundle of DetectedIssue resources plus an OperationOutcome."""

from __future__ import annotations

import uuid
from typing import Any

from ketcheck.model import Finding, FindingKind, Method, Report, Resolved, Severity, Status
from ketcheck.render.hold import after_text
from ketcheck.render.json import dumps, iso

# How ketcheck severities map onto the HL7 DetectedIssue severity code system.
FHIR_SEVERITY = {
    Severity.CONTRAINDICATED: "high",
    Severity.MAJOR: "high",
    Severity.MODERATE: "moderate",
    Severity.MINOR: "low",
}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_NS = uuid.UUID("6f1c0c5e-4b7e-4d9a-9a53-6b0e2f9d3c11")


def _ref_url(ref: str) -> str | None:
    kind, _, value = ref.partition(":")
    if kind.upper() == "PMID" and value.strip().isdigit():
        return f"https://pubmed.ncbi.nlm.nih.gov/{value.strip()}/"
    if kind.lower() == "doi":
        return f"https://doi.org/{value.strip()}"
    return None


def _uuid(name: str) -> uuid.UUID:
    # A lone surrogate (an undecodable byte) cannot be UTF-8 encoded; name it by its escape.
    return uuid.uuid5(
        _NS, name.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
    )


def _med_url(index: int, text: str) -> str:
    return f"urn:uuid:{_uuid(f'{index}:{text}')}"


def _issue(f: Finding, report: Report, urls: dict[str, str]) -> dict[str, Any]:
    fuzzy_inputs = {
        m.input
        for m in report.medications
        if isinstance(m.resolution, Resolved) and m.resolution.method is Method.FUZZY
    }
    code = "DUPTHPY" if f.duplicate_therapy else "DRG"
    display = "Duplicate Therapy Alert" if code == "DUPTHPY" else "Drug Interaction Alert"
    detail = f"{', '.join(f.ingredients)} with ketamine/esketamine: {f.effect} {f.mechanism}"
    mitigation = [{"action": {"text": f.management}}]
    if f.hold is not None:
        when = f"; last dose by {iso(f.hold.last_dose_by)}" if f.hold.last_dose_by else ""
        mitigation.append(
            {
                "action": {
                    "text": f"Hold {f.hold.hours_before:g} h before the session"
                    f"{when}{after_text(f.hold)} ({f.hold.basis})"
                }
            }
        )
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "status": "preliminary" if fuzzy_inputs & set(f.inputs) else "final",
        "code": {
            "coding": [{"system": ACT_CODE, "code": code, "display": display}],
            "text": f.rule,
        },
        "severity": FHIR_SEVERITY[f.severity],
        "implicated": [{"reference": urls[i], "display": i} for i in f.inputs if i in urls],
        "detail": detail,
        "mitigation": mitigation,
        "evidence": [{"detail": [{"display": r} for r in f.references]}],
    }
    condition_detail(issue, f, report, urls)
    first_url = next((u for u in map(_ref_url, f.references) if u), None)
    if first_url:
        issue["reference"] = first_url
    return issue


def condition_detail(
    issue: dict[str, Any], f: Finding, report: Report, urls: dict[str, str]
) -> None:
    """Conditions behind a finding: implicated Condition resources and evidence detail."""
    if not f.conditions:
        return
    if f.kind == "condition":
        issue["code"] = {"text": f.rule}
        issue["detail"] = f"{f.effect} {f.mechanism}"
    labels = {c.condition: c.label for c in report.conditions if c.condition}
    for c in report.conditions:
        if c.condition in f.conditions and f"condition:{c.index}" in urls:
            issue["implicated"].append(
                {"reference": urls[f"condition:{c.index}"], "display": c.input}
            )
    issue["evidence"].insert(
        0,
        {
            "detail": [
                {"display": f"condition: {labels.get(cid, cid)} ({cid})"} for cid in f.conditions
            ]
        },
    )
    if f.notes:
        issue["mitigation"] += [{"action": {"text": n}} for n in f.notes]


# The verification status of a condition read from text (FHIR input keeps its own).
VERIFICATION = {"resolved": "confirmed", "negated": "refuted", "unconfirmed": "unconfirmed"}


def condition_entries(report: Report, urls: dict[str, str]) -> list[dict[str, Any]]:
    """One Condition resource per condition read (resolved, negated or unconfirmed given).

    Its verificationStatus is the input's own when the input had one (FHIR), so a provisional
    diagnosis is never written back as confirmed or refuted.
    """
    out = []
    for c in report.conditions:
        if c.status.value not in VERIFICATION:
            continue
        url = f"urn:uuid:{_uuid(f'condition:{c.index}:{c.input}')}"
        urls[f"condition:{c.index}"] = url
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": c.verification or VERIFICATION[c.status.value],
                    }
                ]
            },
            "code": {"text": c.input},
            "subject": {"display": "patient"},
        }
        out.append({"fullUrl": url, "resource": resource})
    return out


def fhir_bundle(report: Report) -> dict[str, Any]:
    """The report as a FHIR R4 Bundle (type collection)."""
    entries: list[dict[str, Any]] = []
    urls: dict[str, str] = {}
    for m in report.medications:
        url = _med_url(m.index, m.input)
        urls.setdefault(m.input, url)
        statement: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "status": "completed" if m.recent else "active",
            "medicationCodeableConcept": {"text": m.input},
            "subject": {"display": "patient"},
        }
        entries.append({"fullUrl": url, "resource": statement})
    entries += condition_entries(report, urls)
    for f in report.findings:
        if f.severity > Severity.NONE:
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{_uuid(f.rule + '|' + '|'.join(f.inputs))}",
                    "resource": _issue(f, report, urls),
                }
            )
    problems = [m for m in report.medications if m.status is not Status.RESOLVED]
    unreviewed = [f for f in report.findings if f.kind is FindingKind.NOT_REVIEWED]
    if problems or unreviewed:
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "warning",
                    "code": "not-found" if m.status is Status.UNRESOLVED else "multiple-matches",
                    "diagnostics": f"{m.input!r} was not checked: {getattr(m.resolution, 'reason', '')}",
                    "expression": [f"Bundle.entry[{m.index}]"],
                }
                for m in problems
            ]
            + [
                {
                    "severity": "warning",
                    "code": "incomplete",
                    "diagnostics": f"{', '.join(f.ingredients)}: not reviewed for ketamine",
                }
                for f in unreviewed
            ],
        }
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid5(_NS, 'outcome')}", "resource": outcome})
    unread = [
        c for c in report.conditions if c.status.value in ("unresolved", "ambiguous", "unconfirmed")
    ]
    if unread:
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(_NS, 'condition-outcome')}",
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "warning",
                            "code": {
                                "unresolved": "not-found",
                                "ambiguous": "multiple-matches",
                            }.get(c.status.value, "incomplete"),
                            "diagnostics": f"condition {c.input!r} is not confirmed: {c.reason}"
                            if c.status.value == "unconfirmed"
                            else f"condition {c.input!r} was not read: {c.reason or ''}",
                        }
                        for c in unread
                    ],
                },
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "meta": {"tag": [{"system": "urn:ketcheck", "code": f"data-{report.data_version}"}]},
        "entry": entries,
    }


def render_fhir(report: Report, *, pretty: bool = True) -> str:
    """The FHIR Bundle as JSON text."""
    return dumps(fhir_bundle(report), indent=2 if pretty else None) + "\n"
