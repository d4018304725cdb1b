"""Print the whole book to one PDF with the headless Chromium the browser tests use.

``make pdf`` builds the book as one HTML page (``jupyter-book build . --builder singlehtml``,
from the execution cache that ``make book`` fills), then runs this script: it opens that page in
Chromium, waits until MathJax has typeset every formula and every image has loaded, and prints
it to ``_build/pdf/rnn-extrapolation-book.pdf`` (A4, page numbers in the footer). Figures keep
the resolution of the notebooks' images; the text and the math are vector.

Usage: ``python scripts/print_pdf.py [SINGLE_PAGE_HTML] [OUTPUT_PDF]``.
"""

from __future__ import annotations

import base64
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from cdp import Browser, find_chromium  # noqa: E402

PAGE = ROOT / "_build" / "singlehtml" / "intro.html"
PDF = ROOT / "_build" / "pdf" / "rnn-extrapolation-book.pdf"

READY = """(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.decode().catch(() => null);
  }));
  return {math: document.querySelectorAll('mjx-container').length,
          images: document.images.length,
          broken: [...document.images].filter(img => !img.naturalWidth).length};
})()"""

FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


def print_pdf(page: Path = PAGE, out: Path = PDF) -> dict:
    """Print ``page`` to ``out``; return what was typeset and loaded, and the page count."""
    executable = find_chromium()
    if executable is None:
        raise SystemExit("Chromium is missing (Debian: apt-get install chromium)")
    if not page.exists():
        raise SystemExit(f"{page} is missing: build the single page first (make pdf does)")
    browser = Browser(executable, timeout=300)
    try:
        tab = browser.open(1280, 1000)
        tab.dark(False)
        tab.goto(page)
        found = tab.evaluate(READY, await_promise=True)
        time.sleep(1)
        result = tab.send(
            "Page.printToPDF",
            {
                "printBackground": True,
                "paperWidth": 8.27,
                "paperHeight": 11.69,
                "marginTop": 0.6,
                "marginBottom": 0.7,
                "marginLeft": 0.6,
                "marginRight": 0.6,
                "displayHeaderFooter": True,
                "headerTemplate": "<span></span>",
                "footerTemplate": FOOTER,
            },
        )
    finally:
        browser.close()
    data = base64.b64decode(result["data"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    found["pages"] = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    found["bytes"] = len(data)
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    page = Path(args[0]) if args else PAGE
    out = Path(args[1]) if len(args) > 1 else PDF
    found = print_pdf(page, out)
    print(
        f"wrote {out}: {found['pages']} pages, {found['bytes'] / 1e6:.1f} MB, "
        f"{found['math']} formulas typeset, {found['images']} images "
        f"({found['broken']} not loaded)"
    )
    return 1 if found["broken"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
