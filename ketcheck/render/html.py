"""The patient handout as one printable HTML page; every piece of text is escaped."""

from __future__ import annotations

import html

from ketcheck.model import Report
from ketcheck.render.handout import sections
from ketcheck.render.literal import inert

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; max-width: 42rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #111; font-size: 12pt; }
h1 { font-size: 1.5rem; border-bottom: 2px solid #333; padding-bottom: .3rem; }
h2 { font-size: 1.15rem; margin-top: 1.4rem; }
li { margin: .3rem 0; }
footer { margin-top: 2rem; font-size: .9rem; color: #444; font-style: italic; }
@media print { body { margin: 0; max-width: none; } @page { size: A4; margin: 15mm; } }
"""


def _md_unescape(text: str) -> str:
    # The handout's items are Markdown-escaped for the .md output; undo that before escaping HTML.
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def render_html(report: Report) -> str:
    """A self-contained, printable one-page HTML handout."""
    title, parts = sections(report)
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>"]
    for s in parts:
        body.append(f"<h2>{esc(s.title)}</h2>")
        if s.intro:
            body.append(f"<p>{esc(s.intro)}</p>")
        items = "".join(f"<li>{esc(inert(_md_unescape(i)))}</li>" for i in s.items)
        body.append(f"<ul>{items}</ul>")
    body.append(
        "<footer>This sheet was prepared by your care team with the help of ketcheck. It does not "
        "replace their advice: ask them if anything is unclear.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
