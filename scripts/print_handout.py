"""Print the HTML handout with headless Chromium and count the PDF's pages, per paper size.

    python scripts/print_handout.py                       # the 10-medicine list, A4 and Letter
    python scripts/print_handout.py --meds meds.txt --paper letter --keep out/

The handout's CSS leaves the paper size to the printer (`@page { size: auto }`); to measure a
given paper this script adds `@page { size: A4 }` (or letter) to a copy, as choosing the paper
in the print dialog does. Exits 0 when every paper gives at most --max-pages pages, 1 otherwise,
2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MEDS = ROOT / "tests" / "fixtures" / "handout-10.txt"
SESSION = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/London"))
PAPERS = {"a4": "A4", "letter": "letter"}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """The first Chromium-like browser on PATH."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def handout_html(meds: Path, route: str = "iv") -> str:
    """The handout for the medicines in `meds` (one per line), session 23 Nov 2026 09:00."""
    sys.path.insert(0, str(ROOT))
    import ketcheck
    from ketcheck.render import OutputFormat, render

    names = [
        line.strip()
        for line in meds.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    report = ketcheck.check(names, session=SESSION, route=route)
    out = render(report, OutputFormat.HTML)
    assert isinstance(out, str)
    return out


def page_count(pdf: bytes) -> int:
    """Pages in a PDF: the page objects (Chromium writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def print_pages(browser: str, html: str, paper: str, workdir: Path) -> int:
    """Print `html` on `paper` with headless Chromium and return the page count."""
    page = workdir / f"handout-{paper}.html"
    sized = html.replace("</style>", f"@page {{ size: {PAPERS[paper]}; }}\n</style>", 1)
    page.write_text(sized, encoding="utf-8")
    pdf = workdir / f"handout-{paper}.pdf"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={workdir / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return page_count(pdf.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meds", type=Path, default=DEFAULT_MEDS, help="one medicine per line")
    parser.add_argument("--paper", choices=[*PAPERS, "both"], default="both")
    parser.add_argument("--route", default="iv", help="session route (intranasal: Spravato)")
    parser.add_argument("--max-pages", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the HTML and PDFs in this directory")
    args = parser.parse_args(argv)
    browser = find_browser()
    if browser is None:
        print("print_handout: no Chromium found (apt-get install chromium)", file=sys.stderr)
        return 2
    html = handout_html(args.meds, args.route)
    papers = list(PAPERS) if args.paper == "both" else [args.paper]
    ok = True
    with tempfile.TemporaryDirectory(prefix="ketcheck-print-") as tmp:
        workdir = Path(tmp)
        for paper in papers:
            pages = print_pages(browser, html, paper, workdir)
            ok = ok and pages <= args.max_pages
            print(f"{paper}: {pages} page(s)")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in workdir.glob("handout-*"):
                shutil.copy(f, args.keep / f.name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
