"""The JSON Schema (draft 2020-12) of the JSON report, schema_version 2."""

from __future__ import annotations

from typing import Any

from ketcheck.model import ExitCode, FindingKind, Severity, Source

# Enumerations come from the model, so a new kind or source is in the schema as soon as it exists.
_SEVERITY = {"enum": [s.label for s in reversed(Severity)]}
_STR_OR_NULL = {"type": ["string", "null"]}
_STR_LIST = {"type": "array", "items": {"type": "string"}}
_CANDIDATE = {
    "type": "object",
    "required": ["name", "ingredients", "classes", "score"],
    "properties": {
        "name": {"type": "string"},
        "ingredients": _STR_LIST,
        "classes": _STR_LIST,
        "score": {"type": "number", "minimum": 0, "maximum": 100},
    },
}
_NUM_OR_NULL = {"type": ["number", "null"]}
_AMOUNT = {
    "type": ["object", "null"],
    "required": ["amount", "unit"],
    "properties": {"amount": {"type": "number"}, "unit": {"type": "string"}},
}
_DOSE = {
    "type": ["object", "null"],
    "description": "What the line states about amount; null when nothing could be read.",
    "required": ["per_dose", "doses_per_day", "prn", "daily", "equivalents", "notes"],
    "properties": {
        "ingredient": {**_STR_OR_NULL, "description": "The ingredient per_dose and daily count."},
        "per_dose": _AMOUNT,
        "doses_per_day": _NUM_OR_NULL,
        "prn": {"type": "boolean"},
        "daily": _AMOUNT,
        "equivalents": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "amount", "unit", "table"],
                "properties": {
                    "kind": {"enum": ["diazepam", "morphine"]},
                    "amount": {"type": "number"},
                    "unit": {"type": "string"},
                    "table": {"type": "string"},
                    "low": {"type": "number"},
                    "high": {"type": "number"},
                },
            },
        },
        "notes": _STR_LIST,
        "by_ingredient": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ingredient", "per_dose", "daily"],
                "properties": {
                    "ingredient": {"type": "string"},
                    "per_dose": _AMOUNT,
                    "daily": _AMOUNT,
                },
            },
        },
        "when": {"enum": ["morning", "evening", "bedtime", None]},
    },
}
_BP = {
    "type": ["object", "null"],
    "required": ["systolic", "diastolic", "input", "level", "severity"],
    "properties": {
        "systolic": {"type": "integer"},
        "diastolic": {"type": ["integer", "null"]},
        "input": {"type": "string"},
        "source": {"type": "string"},
        "level": _STR_OR_NULL,
        "label": {"type": "string"},
        "severity": {"enum": [*_SEVERITY["enum"], None]},
    },
}
_CONDITION = {
    "type": "object",
    "required": ["input", "status", "condition", "label"],
    "properties": {
        "input": {"type": "string", "description": "The condition exactly as given."},
        "status": {"enum": ["resolved", "ambiguous", "unresolved", "negated", "unconfirmed"]},
        "condition": {**_STR_OR_NULL, "description": "Condition id when resolved."},
        "label": {"type": "string"},
        "method": _STR_OR_NULL,
        "score": _NUM_OR_NULL,
        "history": {"type": "boolean"},
        "recent": {"type": ["boolean", "null"]},
        "reason": _STR_OR_NULL,
        "candidates": _STR_LIST,
        "negates": {**_STR_OR_NULL, "description": "Negated only: the condition denied."},
        "bp": _BP,
        "verification": {
            **_STR_OR_NULL,
            "description": "The source's verification status (FHIR), as given.",
        },
    },
}
_MEDICATION = {
    "type": "object",
    "required": [
        "input",
        "status",
        "matched",
        "method",
        "score",
        "ingredients",
        "classes",
        "candidates",
        "reason",
        "recent",
        "parsed",
        "parts",
    ],
    "properties": {
        "input": {"type": "string", "description": "The entry exactly as given."},
        "status": {"enum": ["resolved", "ambiguous", "unresolved"]},
        "matched": {**_STR_OR_NULL, "description": "The known name it matched."},
        "method": {"enum": ["exact", "normalised", "combination", "fuzzy", "rxnorm", None]},
        "score": {"type": ["number", "null"]},
        "margin": {"type": "number", "description": "Fuzzy only: lead over the next drug."},
        "runner_up": _CANDIDATE,
        "name_kind": {"type": "string"},
        "source": {"type": "string"},
        "ingredients": _STR_LIST,
        "classes": _STR_LIST,
        "candidates": {"type": "array", "items": _CANDIDATE},
        "reason": _STR_OR_NULL,
        "recent": {"type": "boolean", "description": "Marked stopped/completed by the source."},
        "parsed": {
            "type": "object",
            "description": "How the entry was read: the name words, and every other word "
            "by kind; `note` holds what was set aside as instructions, so nothing vanishes.",
            "required": ["name", "strength", "form", "route", "frequency", "release"],
            "properties": dict.fromkeys(
                ("strength", "form", "route", "frequency", "release", "salt", "note"),
                _STR_OR_NULL,
            )
            | {"name": {"type": "string"}},
        },
        "dose": _DOSE,
        "parts": {
            "type": "array",
            "description": "When one entry names several medicines (a combination product, "
            "or a list on one line): each medicine with its own match; empty otherwise.",
            "items": {
                "type": "object",
                "required": ["text", "matched", "method", "score", "ingredients", "name_kind"],
                "properties": {
                    "text": {"type": "string"},
                    "matched": {"type": "string"},
                    "method": {"enum": ["exact", "normalised", "combination", "fuzzy", "rxnorm"]},
                    "score": {"type": "number"},
                    "ingredients": _STR_LIST,
                    "name_kind": {"type": "string"},
                },
            },
        },
    },
}
_HOLD = {
    "type": ["object", "null"],
    "required": ["hours_before", "last_dose_by", "basis"],
    "properties": {
        "hours_before": {"type": "number", "minimum": 0},
        "hours_after": {
            "type": ["number", "null"],
            "minimum": 0,
            "description": "Also avoid it this many hours after the session.",
        },
        "last_dose_by": {**_STR_OR_NULL, "description": "ISO 8601, when --session is given."},
        "basis": {"type": "string"},
        "source": {"enum": [s.value for s in Source]},
        "remaining": {
            "type": ["object", "null"],
            "description": "How much of the drug is still there at the session after the hold.",
            "properties": {
                "ingredient": {"type": "string"},
                "percent_low": {"type": "number"},
                "percent_typical": {"type": "number"},
                "percent_high": {"type": "number"},
                "half_life": {"type": "string"},
                "source": {"type": "string"},
                "defeated": {"type": "boolean"},
                "text": {"type": "string"},
            },
        },
        "instruction": _STR_OR_NULL,
    },
}
_FINDING = {
    "type": "object",
    "required": [
        "rule",
        "ingredients",
        "inputs",
        "severity",
        "effects",
        "effect",
        "mechanism",
        "management",
        "hold",
        "evidence",
        "references",
    ],
    "properties": {
        "rule": {"type": "string"},
        "kind": {"enum": [k.value for k in FindingKind]},
        "ingredients": {**_STR_LIST, "description": "Empty for a condition finding."},
        "inputs": {**_STR_LIST, "minItems": 1},
        "severity": _SEVERITY,
        "effects": {"type": "array", "items": {"enum": ["safety", "efficacy"]}, "minItems": 1},
        "effect": {"type": "string"},
        "mechanism": {"type": "string"},
        "management": {"type": "string"},
        "hold": _HOLD,
        "evidence": {"type": "string"},
        "references": {**_STR_LIST, "minItems": 1},
        "disagreement": _STR_OR_NULL,
        "standing_note": _STR_OR_NULL,
        "applies_via": {"type": "string"},
        "severity_source": {"type": "string"},
        "conditions": {**_STR_LIST, "description": "Condition ids that made or raised it."},
        "notes": {**_STR_LIST, "description": "Dose and condition facts added to the finding."},
        "raised_from": {"enum": [*_SEVERITY["enum"], None]},
    },
}
REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://ketcheck.invalid/schema/report-2.json",
    "title": "ketcheck report",
    "type": "object",
    "required": [
        "schema_version",
        "tool",
        "data",
        "route",
        "session",
        "conditions",
        "bp",
        "medications",
        "findings",
        "summary",
    ],
    "properties": {
        "schema_version": {"const": 2},
        "tool": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"const": "ketcheck"}, "version": {"type": "string"}},
        },
        "data": {
            "type": "object",
            "required": ["version"],
            "properties": {"version": {"type": "string"}},
        },
        "route": {"enum": ["iv", "im", "sublingual", "oral", "intranasal"]},
        "session": _STR_OR_NULL,
        "protocol": {"type": "string"},
        "patient_id": {"type": "string", "description": "Batch reports only."},
        "conditions": {"type": "array", "items": _CONDITION},
        "bp": _BP,
        "medications": {"type": "array", "items": _MEDICATION},
        "findings": {"type": "array", "items": _FINDING},
        "schedule": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ingredient", "inputs", "hours_before", "last_dose_by", "basis"],
                "properties": {
                    "ingredient": {"type": "string"},
                    "inputs": _STR_LIST,
                    "hours_before": {"type": "number"},
                    "last_dose_by": _STR_OR_NULL,
                    "basis": {"type": "string"},
                },
            },
        },
        "standing_notes": _STR_LIST,
        "warnings": _STR_LIST,
        "summary": {
            "type": "object",
            "required": ["highest_severity", "complete", "exit_code"],
            "properties": {
                "highest_severity": {"enum": [*_SEVERITY["enum"], None]},
                "complete": {"type": "boolean"},
                "exit_code": {"enum": [int(c) for c in ExitCode if c is not ExitCode.ERROR]},
                "fail_on": {"enum": [*(s.label for s in reversed(Severity) if s), "never"]},
                "strict": {"type": "boolean"},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
    },
}
