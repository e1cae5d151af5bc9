"""The patient handout as one printable HTML page; every piece of text is escaped."""

from __future__ import annotations

from ketcheck.model import Paper, Report
from ketcheck.render.handout import BLANKS, FOOTER, provenance, sections
from ketcheck.render.literal import inert

# One page for about ten medicines on A4 or US Letter: the paper is the clinic protocol's, else
# the printer's own (auto),
# each heading stays with its list, and the type is large enough to read without glasses.
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; max-width: 44rem;
       margin: 1.5rem auto; padding: 0 1rem; line-height: 1.3; color: #111; font-size: 11pt; }
h1 { font-size: 1.35rem; border-bottom: 2px solid #333; padding-bottom: .2rem; margin: 0 0 .4rem; }
h2 { font-size: 1.05rem; margin: .7rem 0 .15rem; break-after: avoid; page-break-after: avoid; }
section { break-inside: avoid; page-break-inside: avoid; }
ul { margin: 0; padding-left: 1.3rem; }
ul.names { columns: 3; column-gap: 2rem; }
li { margin: .15rem 0; }
p { margin: .2rem 0; }
.blanks { margin: .5rem 0 .2rem; white-space: pre-wrap; }
footer { margin-top: .8rem; font-size: .85rem; color: #444; }
footer .version { font-size: .75rem; color: #666; }
@page { size: PAPER; margin: 11mm 12mm; }
@media print { body { margin: 0; max-width: none; padding: 0; font-size: 10.5pt; } }
"""


_PAGE = {Paper.AUTO: "auto", Paper.A4: "A4", Paper.LETTER: "letter"}


def escape(text: str) -> str:
    """Text made safe in HTML content and quoted attributes: exactly what `html.escape` does.

    Written out so the page does not import the `html` package, whose entity table (2,000 names,
    never used here) costs more to load than rendering the page.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#x27;")


def render_html(report: Report) -> str:
    """A self-contained, printable one-page HTML handout."""
    title, parts = sections(report)
    esc = escape
    body = [f"<h1>{esc(title)}</h1>", f'<p class="blanks">{esc(BLANKS)}</p>']
    for s in parts:
        body.append(f"<section>\n<h2>{esc(s.title)}</h2>")
        if s.intro:
            body.append(f"<p>{esc(s.intro)}</p>")
        items = "".join(f"<li>{esc(inert(i))}</li>" for i in s.items)
        names = ' class="names"' if s.names else ""
        body.append(f"<ul{names}>{items}</ul>\n</section>")
    body.append(
        f"<footer><p><em>{esc(FOOTER)}</em> "
        f'<span class="version">{esc(inert(provenance(report)))}</span></p></footer>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_STYLE.replace('PAPER', _PAGE[report.paper])}</style>\n"
        "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
