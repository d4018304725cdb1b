"""Every built page, loaded in a real headless browser (Debian's Chromium).

For each page of the table of contents this checks that the math is typeset (no raw ``$``,
``\\(`` or ``\\[`` left in the text), that every dropdown (solutions, expected outputs) is
folded, that every image loads and, outside the live widgets, has alt text and a caption,
that every widget area renders and has a static figure before it, that no JavaScript error is
logged, and that no request leaves the machine. It saves a light and a
dark screenshot of each page to ``_build/screenshots/``.

Needs ``make book`` and Chromium (``make test`` installs Debian's ``chromium`` when it is
missing and it can). Locally the test skips without them; in CI (``RNNBIAS_REQUIRE_BOOK=1``)
it fails instead.
"""

from __future__ import annotations

import os
import time

import pytest
from cdp import Browser, find_chromium
from test_book import HTML, ROOT, toc_files

SHOTS = ROOT / "_build" / "screenshots"
LOCAL = ("file:", "data:", "blob:", "about:")

RAW_TEX = r"""(() => {
  const main = (document.querySelector('main') || document.body).cloneNode(true);
  main.querySelectorAll('pre, code, script, style, mjx-container, textarea')
      .forEach(e => e.remove());
  const found = main.textContent.match(/\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\s][^$\n]{0,60}\$/g);
  return {raw: (found || []).slice(0, 5),
          typeset: document.querySelectorAll('mjx-container').length};
})()"""

MATHJAX_READY = """(window.MathJax && MathJax.startup && MathJax.startup.promise)
  ? MathJax.startup.promise.then(() => 'typeset') : Promise.resolve('no MathJax')"""

IMAGES = """Promise.all([...document.images].map(img => {
  img.loading = 'eager';
  return img.decode().then(() => img.naturalWidth > 0 ? null : img.src, () => img.src);
})).then(bad => {
  const main = document.querySelector('main') || document.body;
  // images drawn inside a live widget are described by the static figure before it
  const undescribed = [...main.querySelectorAll('img')].filter(img => {
    if (img.closest('.jupyter-widgets')) return false;
    const figure = img.closest('figure');
    return !(img.alt || '').trim() || !(figure && figure.querySelector('figcaption'));
  }).map(img => img.src);
  return {count: document.images.length, broken: bad.filter(Boolean), undescribed: undescribed};
})"""

WIDGETS = """(() => {
  const views = [...document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]')];
  return views.map(v => {
    const area = v.closest('.cell_output') || v.parentElement;
    const rendered = [...area.querySelectorAll('.jupyter-widgets, .widget-container')]
        .filter(e => e.getBoundingClientRect().height > 0).length;
    const cell = v.closest('.cell');
    let prev = cell ? cell.previousElementSibling : null, fallback = false;
    for (let i = 0; prev && i < 4 && !fallback; i++, prev = prev.previousElementSibling)
      fallback = prev.querySelector('img') !== null;
    return {rendered: rendered, fallback: fallback};
  });
})()"""

# One search field in sight (pydata-sphinx-theme 0.17 adds a second one in a top bar), the
# licence line under the page, and tables that fit the text column at 1,280 px: none wider than
# its container, no cell whose content overflows it.
FRONT_DOOR = """(() => {
  const shown = e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
  };
  const footer = document.querySelector('.extra_footer');
  const tables = [...document.querySelectorAll('main table')];
  const text = e => e.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60);
  const overflows = e => e.scrollWidth > e.clientWidth + 1;
  const juts = c => {  // drawn past the cell's content box, under its neighbour
    const right = c.getBoundingClientRect().right - parseFloat(getComputedStyle(c).paddingRight);
    return [...c.querySelectorAll('mjx-container, code, img')]
      .some(e => e.getBoundingClientRect().right > right + 1);
  };
  return {search: [...document.querySelectorAll('.search-button-field')].filter(shown).length,
          footer: footer && shown(footer) ? footer.textContent.replace(/\\s+/g, ' ') : null,
          wide_tables: tables.filter(t => overflows(t.parentElement)).map(t => text(t.rows[0])),
          spilling_cells: [...document.querySelectorAll('main td, main th')]
                             .filter(c => overflows(c) || juts(c)).map(text)};
})()"""

# Every figure of a cell output (outside the live widgets): its size on screen against its
# natural size. The notebooks draw figures at 110 dpi shown size, as PNGs of twice that
# resolution ("retina", rnnbias.plotting.plot_style), with text of at least 10 pt.
FIGURES = """Promise.all([...document.querySelectorAll('main div.cell_output img')]
  .filter(img => !img.closest('.jupyter-widgets'))
  .map(img => img.decode().catch(() => null).then(() => ({
    src: (img.getAttribute('src') || '').slice(-40),
    shown: img.getBoundingClientRect().width, natural: img.naturalWidth,
    filter: getComputedStyle(img).filter, background: getComputedStyle(img).backgroundColor}))))"""
SMALLEST_PT, DPI = 10, 110

# Code and output blocks that scroll sideways (wider content than box) at 1,280 px.
SIDEWAYS = """[...document.querySelectorAll('main pre, main div.highlight, main div.output')]
  .filter(e => e.getBoundingClientRect().height > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.textContent.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 60))"""

# Solutions and the expected outputs of predict-first exercises: folded until clicked.
OPEN_DROPDOWNS = """[...document.querySelectorAll('main .admonition.dropdown')]
  .filter(a => [...a.children].some(c => !c.classList.contains('admonition-title')
                                         && c.getBoundingClientRect().height > 0))
  .map(a => a.querySelector('.admonition-title').innerText.trim().slice(0, 60))"""

# The map of the book (intro.md): every line of text inside its box, its size on screen, and
# the colours of text and box as drawn (theme variables, so light and dark differ).
BOOK_MAP = """(() => {
  const svg = document.querySelector('#book-map svg');
  if (!svg) return null;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const boxes = [...svg.querySelectorAll('a')].map(a => {
    const box = a.querySelector('rect').getBoundingClientRect();
    return [...a.querySelectorAll('text')].map(t => {
      const b = t.getBoundingClientRect();
      return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
              inside: b.left >= box.left && b.right <= box.right && b.top >= box.top
                      && b.bottom <= box.bottom};
    });
  });
  return {links: [...svg.querySelectorAll('a')].map(a => a.getAttribute('href')),
          lines: boxes.flat(),
          text: getComputedStyle(svg.querySelector('text')).fill,
          box: getComputedStyle(svg.querySelector('rect')).fill};
})()"""


def _contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS colours given as ``rgb(r, g, b)``."""

    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def pages() -> list[str]:
    return toc_files()


@pytest.fixture(scope="module")
def browser():
    required = bool(os.environ.get("RNNBIAS_REQUIRE_BOOK"))
    if not (HTML / "index.html").exists():
        if required:
            pytest.fail("the book is not built: run `make book` before the tests")
        pytest.skip("the book is not built (run `make book`); CI requires it")
    executable = find_chromium()
    if executable is None:
        if required:
            pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    b = Browser(executable)
    yield b
    b.close()


@pytest.mark.parametrize("page_name", pages())
def test_page_in_a_real_browser(browser, page_name):
    path = HTML / f"{page_name}.html"
    assert path.exists(), f"{path} was not built"
    page = browser.open()
    try:
        page.dark(False)
        page.goto(path)
        assert page.evaluate(MATHJAX_READY, await_promise=True) in ("typeset", "no MathJax")
        tex = page.evaluate(RAW_TEX)
        assert tex["raw"] == [], f"raw TeX left in the page: {tex['raw']}"
        images = page.evaluate(IMAGES, await_promise=True)
        assert images["broken"] == [], f"images that did not load: {images['broken']}"
        assert images["undescribed"] == [], f"images without alt text or caption: {images}"
        front = page.evaluate(FRONT_DOOR)
        assert front["search"] == 1, f"{front['search']} search fields in sight, expected one"
        assert front["footer"] and "CC BY 4.0" in front["footer"], front["footer"]
        assert front["wide_tables"] == [], f"tables wider than the column: {front['wide_tables']}"
        assert front["spilling_cells"] == [], f"cells that overflow: {front['spilling_cells']}"
        for fig in page.evaluate(FIGURES, await_promise=True):
            scale = fig["shown"] / (fig["natural"] / 2)  # shown size / the size it was drawn at
            text_px = SMALLEST_PT * DPI / 72 * scale
            assert text_px >= 9, f"figure text {text_px:.1f} px on screen: {fig}"
            assert fig["natural"] >= 1.9 * fig["shown"], f"figure not at 2x resolution: {fig}"
        sideways = page.evaluate(SIDEWAYS)
        assert sideways == [], f"blocks that scroll sideways: {sideways[:3]}"
        opened = page.evaluate(OPEN_DROPDOWNS)
        assert opened == [], f"dropdowns open on load: {opened}"
        widgets = page.evaluate(WIDGETS)
        deadline = time.monotonic() + 15  # the widget manager renders after the load event
        while any(w["rendered"] == 0 for w in widgets) and time.monotonic() < deadline:
            time.sleep(0.25)
            widgets = page.evaluate(WIDGETS)
        for i, w in enumerate(widgets):
            assert w["rendered"] > 0, f"widget {i} rendered nothing"
            assert w["fallback"], f"widget {i} has no static figure before it"
        name = page_name.replace("/", "_")
        page.screenshot(SHOTS / f"{name}.png")
        page.dark(True)
        deadline = time.monotonic() + 5  # the theme follows the system setting a moment later
        while page.evaluate("document.documentElement.dataset.theme") != "dark":
            assert time.monotonic() < deadline, "the page did not switch to its dark theme"
            time.sleep(0.1)
        for fig in page.evaluate(FIGURES, await_promise=True):  # no light card in the dark
            assert "invert" in fig["filter"] and fig["background"] in ("rgba(0, 0, 0, 0)",), fig
        page.screenshot(SHOTS / f"{name}-dark.png")
        errors = page.errors()
        assert errors == [], f"JavaScript errors: {errors}"
        remote = [u for u in page.requests() if not u.startswith(LOCAL)]
        assert remote == [], f"requests that leave the machine: {remote[:5]}"
    finally:
        page.close()


def test_the_map_of_the_book_reads_in_light_and_dark(browser):
    """The landing page's map: nine boxes that link to the chapters, every line of text inside
    its box and at least 11 px on screen at 1,280 px, and text that stands out from its box
    (contrast at least 4.5:1) in both themes."""
    page = browser.open()
    try:
        for dark in (False, True):
            page.dark(dark)
            page.goto(HTML / "intro.html")
            found = page.evaluate(BOOK_MAP)
            assert found is not None, "the map of the book is missing from the landing page"
            assert len(found["links"]) == 9
            for href in found["links"]:
                assert (HTML / href).exists(), f"the map links to a missing page: {href}"
            outside = [line["text"] for line in found["lines"] if not line["inside"]]
            assert outside == [], f"text that spills out of its box: {outside}"
            smallest = min(line["px"] for line in found["lines"])
            assert smallest >= 11, f"map text {smallest:.1f} px on screen"
            ratio = _contrast(found["text"], found["box"])
            assert ratio >= 4.5, f"map text contrast {ratio:.2f} (dark={dark})"
    finally:
        page.close()


def test_printing_a_page_to_pdf_typesets_its_math(browser, tmp_path):
    """scripts/print_pdf.py, which `make pdf` runs on the single-page build of the whole book,
    here on chapter 1's page: every formula typeset, every image loaded, several A4 pages."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import print_pdf

    out = tmp_path / "chapter1.pdf"
    found = print_pdf.print_pdf(HTML / "chapters" / "01_linear_rnns.html", out)
    assert out.read_bytes().startswith(b"%PDF")
    assert found["broken"] == 0 and found["images"] >= 3, found
    assert found["math"] > 200 and found["pages"] >= 10, found
