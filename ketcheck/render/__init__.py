"""Output formats: one renderer per format, each returning a value and never writing."""

from __future__ import annotations

from enum import StrEnum
from importlib import import_module
from typing import Any

from ketcheck.model import Report


class OutputFormat(StrEnum):
    """Formats `ketcheck check --format` accepts."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    FHIR = "fhir"
    HANDOUT = "handout"
    HTML = "html"


# Module and function per format; imported on use so the JSON path never loads Rich.
RENDERERS: dict[OutputFormat, tuple[str, str]] = {
    OutputFormat.TABLE: ("ketcheck.render.table", "render_table"),
    OutputFormat.JSON: ("ketcheck.render.json", "render_json"),
    OutputFormat.MARKDOWN: ("ketcheck.render.markdown", "render_markdown"),
    OutputFormat.FHIR: ("ketcheck.render.fhir", "render_fhir"),
    OutputFormat.HANDOUT: ("ketcheck.render.handout", "render_handout"),
    OutputFormat.HTML: ("ketcheck.render.html", "render_html"),
}


def renderer(fmt: OutputFormat) -> Any:
    """The render function for a format: Report -> str (or a Rich renderable for the table)."""
    module, func = RENDERERS[fmt]
    return getattr(import_module(module), func)


def render(report: Report, fmt: OutputFormat) -> Any:
    """Render a report in the given format."""
    return renderer(fmt)(report)
