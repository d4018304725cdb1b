"""Every built page, loaded in a real headless browser (Debian's Chromium).

For each page of the table of contents this checks that the math is typeset (no raw ``$``,
``\\(`` or ``\\[`` left in the text), that every dropdown (solutions, expected outputs) is
folded, that every image loads and, outside the live widgets, has alt text and a caption,
that no ipywidgets control is drawn (the book shows the in-page explorers instead), that every
control on the page belongs to an explorer that has built its figure and has a static figure
before it, that no JavaScript error is logged, and that no request leaves the machine. It saves
a light and a dark screenshot of each page to ``_build/screenshots/``.

``test_explorers_compute_what_rnnbias_computes`` drives every control of every explorer and
compares what the page drew with rnnbias.

Needs ``make book`` and Chromium (``make test`` installs Debian's ``chromium`` when it is
missing and it can). Locally the test skips without them; in CI (``RNNBIAS_REQUIRE_BOOK=1``)
it fails instead.
"""

from __future__ import annotations

import math
import os
import re
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

EXPLORERS = """(() => {
  const main = document.querySelector('main') || document.body;
  const visible = e => e.getBoundingClientRect().height > 0;
  const widgets = [...main.querySelectorAll('.jupyter-widgets, .widget-container')].filter(visible);
  const owned = '.rnb-explorer, .cell_input, .highlight, details, form';
  const article = document.querySelector('article.bd-article') || main;  // the page's content
  const stray = [...article.querySelectorAll('input, select, textarea')]  // value controls
      .filter(e => visible(e) && !e.closest(owned))
      .map(e => e.outerHTML.slice(0, 80));
  const explorers = [...main.querySelectorAll('.rnb-explorer')].map(root => {
    const cell = root.closest('.cell');
    // a static figure (what print and the PDF show) earlier in the same section
    let prev = cell ? cell.previousElementSibling : null, fallback = false;
    for (; prev && !fallback; prev = prev.previousElementSibling)
      fallback = prev.querySelector('img') !== null;
    return {built: !!root.rnbState, panels: root.querySelectorAll('svg.rnb-panel').length,
            fallback: fallback};
  });
  return {widgets: widgets.length, stray: stray, explorers: explorers};
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


def _assert_clean(page) -> None:
    """No JavaScript error was logged and no request left the machine."""
    errors = page.errors()
    assert errors == [], f"JavaScript errors: {errors}"
    remote = [u for u in page.requests() if not u.startswith(LOCAL)]
    assert remote == [], f"requests that leave the machine: {remote[:5]}"


def _set_theme(page, dark: bool) -> None:
    """Switch the emulated system theme and wait until the page follows it."""
    page.dark(dark)
    theme = "dark" if dark else "light"
    deadline = time.monotonic() + 5  # the theme follows the system setting a moment later
    while page.evaluate("document.documentElement.dataset.theme") != theme:
        assert time.monotonic() < deadline, f"the page did not switch to its {theme} theme"
        time.sleep(0.1)


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
        found = page.evaluate(EXPLORERS)
        assert found["widgets"] == 0, "an ipywidgets view is drawn: its controls cannot redraw"
        assert found["stray"] == [], f"controls outside an explorer: {found['stray']}"
        for i, ex in enumerate(found["explorers"]):
            assert ex["built"] and ex["panels"] >= 1, f"explorer {i} drew nothing: {ex}"
            assert ex["fallback"], f"explorer {i} has no static figure before it (for print)"
        name = page_name.replace("/", "_")
        page.screenshot(SHOTS / f"{name}.png")
        _set_theme(page, True)
        for fig in page.evaluate(FIGURES, await_promise=True):  # no light card in the dark
            assert "invert" in fig["filter"] and fig["background"] in ("rgba(0, 0, 0, 0)",), fig
        page.screenshot(SHOTS / f"{name}-dark.png")
        _assert_clean(page)
    finally:
        page.close()


def test_the_map_of_the_book_reads_in_light_and_dark(browser):
    """The landing page's map: one box per chapter, each a link to it, every line of text inside
    its box and at least 11 px on screen at 1,280 px, and text that stands out from its box
    (contrast at least 4.5:1) in both themes."""
    page = browser.open()
    try:
        for dark in (False, True):
            page.dark(dark)
            page.goto(HTML / "intro.html")
            found = page.evaluate(BOOK_MAP)
            assert found is not None, "the map of the book is missing from the landing page"
            chapters = [p for p in pages() if re.match(r"chapters/\d\d_", p)]
            assert len(found["links"]) == len(chapters) == 10
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


# --- the in-page explorers ---------------------------------------------------------------------

EXPLORER_CONFIGS = """[...document.querySelectorAll('.rnb-explorer')].map(root => Object.assign(
    JSON.parse(root.querySelector('script[type="application/json"]').textContent),
    {id: root.id}))"""

DRIVE = """((i, name, value) => {
  const root = document.querySelectorAll('.rnb-explorer')[i];
  // what is drawn: every line and point, its place and colour, and the marked lags
  const geometry = () => [...root.querySelectorAll('.rnb-series, .rnb-point, .rnb-vline')].map(
      e => [e.getAttribute('d') || e.getAttribute('cx') + ',' + e.getAttribute('cy'),
            e.getAttribute('x1'), e.getAttribute('fill'), e.getAttribute('stroke')].join(':')
  ).join(' ');
  const input = root.querySelector('[name="' + name + '"]');
  const before = geometry();
  input.value = String(value);
  input.dispatchEvent(new Event('input', {bubbles: true}));
  const disabled = [...root.querySelectorAll('input')].filter(e => e.disabled).map(e => e.name);
  return {changed: before !== geometry(), value: input.value, state: root.rnbState,
          readout: root.querySelector('.rnb-readout').textContent, disabled: disabled};
})"""


EXPLORER_COLOURS = """[...document.querySelectorAll('.rnb-explorer')].map(root => ({
  background: getComputedStyle(root).backgroundColor,
  card: getComputedStyle(root.parentElement).backgroundColor,
  readout: getComputedStyle(root.querySelector('.rnb-readout')).color,
  axis: getComputedStyle(root.querySelector('svg.rnb-panel text')).fill}))"""


def _settings(control: dict) -> list:
    """Values to drive a control through: every option of a choice; the two ends and a middle
    value of a slider (on its step grid), each different from the one before. A choice among
    precomputed values is driven by position, through every value."""
    if "values" in control:
        start = control["values"].index(control["value"])
        return [i for i in range(len(control["values"])) if i != start] + [start]
    if "options" in control:
        values = [value for _, value in control["options"]]
    else:
        lo, hi, step = control["min"], control["max"], control["step"]
        middle = lo + round(0.37 * (hi - lo) / step) * step
        values = [hi, lo, round(middle, 10)]
    return [v for v in values if v != control["value"]] + [control["value"]]


def _check_against_rnnbias(kind: str, params: dict, values: dict, data: dict) -> None:
    """What the page computed for these parameters equals what rnnbias computes."""
    import torch

    import rnnbias as rb
    from rnnbias import widgets

    n = data.get("n") or data.get("lags")
    if kind == "eigenvalues":
        model = widgets.oscillator(params["r"], params["theta"], params["lam"])
        expected = rb.impulse_response(model, n)[0]
        rho = float(rb.spectral_radius(model)[0])
        assert abs(values["rho"] - rho) <= 1e-12 * max(1.0, rho), (params, values["rho"], rho)
    elif kind == "tails":
        model = widgets.interpolator(
            params["kind"], int(params["k"]), params["alpha"], params["rho"], n
        )
        expected = rb.impulse_response(model, n)[0]
        losses = torch.stack(
            [rb.population_loss(model, rb.memoryless(), T)[0] for T in range(1, n + 1)]
        )
        got_L = torch.tensor(values["L"], dtype=torch.float64)
        torch.testing.assert_close(got_L, losses, rtol=1e-9, atol=1e-12)
    elif kind == "lazy":
        from rnnbias import lazy

        sw2, k = params["sw2"], int(params["k"])
        expected = lazy.rho_squared(range(n), math.sqrt(sw2), data["sf"], data["sc"])
        torch.testing.assert_close(
            torch.tensor(values["rho2"], dtype=torch.float64), expected, rtol=1e-12, atol=0
        )
        if sw2 < 1:  # the expected frozen tail: the sum of sigma_W^(2j) over j >= k
            limit = sum(sw2**j for j in range(k, 20_000))
            assert abs(values["limit"] - limit) <= 1e-9 * limit, (values["limit"], limit)
        else:
            assert values["limit"] is None
        return
    elif kind == "steps":
        # the first 50 steps of gradient descent, with rnnbias's exact gradient
        teacher = torch.tensor(data["teachers"][params["teacher"]], dtype=torch.float64)
        a, b, c = (torch.tensor([[v]], dtype=torch.float64) for v in data["start"])
        model, losses = rb.LinearRNN(a[:, :, None], b, c), []
        for _ in range(51):
            loss, grad = rb.population_loss_grad(model, teacher, data["k"])
            losses.append(float(loss[0]))
            if not math.isfinite(losses[-1]) or losses[-1] > 1e12:
                break
            model = rb.LinearRNN(*(p - params["eta"] * g for p, g in zip(model, grad, strict=True)))
        page = values["loss"][: len(losses)]
        assert len(page) == len(losses), (len(page), len(losses))
        for step, (x, y) in enumerate(zip(page, losses, strict=True)):
            # two float64 codes agree to round-off, which the unstable step sizes (eta lambda
            # above 2) amplify step by step: tight over the first 20 steps, looser after
            rtol = 1e-10 if step < 20 else 1e-6
            assert abs(x - y) <= rtol * abs(y) + 1e-20, (step, x, y, params)
        return
    elif kind == "staircase":
        # the same student trained by rnnbias (the loss at every step, the fit, the drops)
        from rnnbias import dynamics

        entry = widgets._staircase_entry(
            params["sigma"], params["lam1"], params["lam2"], params["w2"], data
        )
        expected_loss = entry["panels"][0]["series"][0]["y"]
        assert values["diverged"] < 0 and len(values["loss"]) == len(expected_loss), params
        for step, (x, y) in enumerate(zip(values["loss"], expected_loss, strict=True)):
            # two float64 codes agree to round-off, which the saddles amplify (as they
            # amplify the start): 1e-5 relative over 3,000 steps, measured at most 3e-6
            assert abs(x - y) <= 1e-5 * abs(y) + 1e-14, (step, x, y, params)
        hsv = [series["y"] for series in entry["panels"][1]["series"]]
        torch.testing.assert_close(
            torch.tensor(values["hsv"], dtype=torch.float64),
            torch.tensor(hsv, dtype=torch.float64),
            rtol=1e-5,
            atol=1e-14 * max(hsv[0]),
        )
        j = torch.arange(data["k"], dtype=torch.float64)
        target = params["lam1"] ** j + params["w2"] * params["lam2"] ** j
        atom, _, fit = (float(v[0]) for v in dynamics.one_atom_fit(target, data["k"]))
        assert abs(values["atom"] - atom) <= 1e-12 and abs(values["fit"] - fit) <= 1e-12, params
        g0 = float(target[0])
        n0 = dynamics.steps_per_decade(2 * abs(g0), data["lr"])
        assert abs(values["n0"] - n0) <= 1e-12 * n0, (values["n0"], n0)
        texts = [value for _, value in entry["readouts"]]
        assert f"step {values['first']}" in texts[1] and (values["second"] < 0) == (
            "not within" in texts[3]
        ), (values, texts)
        return
    elif kind == "table":
        return  # checked against rnnbias by _check_table_entry
    else:
        raise AssertionError(f"no rnnbias check for the explorer {kind!r}")
    got = torch.tensor(values["g"], dtype=torch.float64)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-12)


def _check_readout(kind: str, params: dict, values: dict, readout: str) -> None:
    """The number a reader reads under the figure is the one checked against rnnbias, written
    as rnnbias.format_number writes it."""
    from rnnbias import format_number

    if kind == "eigenvalues":
        shown = values["rho"]
    elif kind == "tails":  # E_{k,n} = L_n - L_k
        shown = values["L"][-1] - values["L"][int(params["k"]) - 1]
    elif kind == "lazy":
        shown = values["limit"]
    elif kind == "table":
        shown = values.get("E100", values.get("sup"))
    elif kind == "staircase":  # the final loss and the step of the first drop
        assert f"step {values['first']}" in readout, (values["first"], readout)
        shown = values["loss"][-1]
    else:  # steps: the final loss, when gradient descent did not diverge
        shown = values["loss"][-1] if values["diverged"] < 0 else None
    if shown is not None:
        digits = 3 if kind in ("steps", "staircase") else 4
        text = "0" if shown == 0 else format_number(shown, digits)
        assert text in readout, (
            kind,
            format_number(shown),
            readout,
        )


def _check_table_entry(explorer: str, state: dict, retrained: dict) -> None:
    """A precomputed setting against rnnbias: the run retrained alone, as the chapter trains
    it (at most four retrained runs per explorer, the first settings driven)."""
    import rnnbias as rb

    p = state["params"]
    if len(retrained) >= 4:
        return
    if explorer == "rnb-sigma-law":  # chapter 4: d = 20, the chapter's training settings
        structure = "symmetric" if p["start"] == "symmetric-balanced" else "full"
        start = rb.init_gaussian(20, p["sigma"], p["seed"], structure=structure).to_full()
        done = rb.train_gd(
            start, rb.memoryless(), int(p["k"]), lr=0.05, clip=10.0, tol=1e-9, max_steps=20_000
        )
        E100 = float(rb.extrapolation_error(done.model, rb.memoryless(), int(p["k"]), 100)[0])
        got = state["values"]["E100"]
        assert abs(got - E100) <= 1e-6 * E100, (p, got, E100)
    elif explorer == "rnb-threshold":  # chapter 7: one diagonal student per setting
        settings, t = state["data"]["settings"], state["data"]["teachers"][p["teacher"]]
        teacher = rb.low_dimensional(t["atoms"], t["weights"])
        start = rb.init_gaussian(settings["d"], p["sigma"], settings["seed"], structure="diagonal")
        if p["start"] == "balanced":
            start = rb.LinearRNN(start.A, start.B, start.B.clone(), "diagonal")
        done = rb.train_gd(
            start,
            teacher,
            int(p["k"]),
            lr=settings["lr"],
            tol=settings["tol"],
            max_steps=settings["max_steps"],
        )
        err = rb.impulse_response(done.model, 1000)[0] - teacher.impulse_response(1000)
        sup = float(err.abs().max())
        got = state["values"]["sup"]
        if got is None:  # the page says the taps overflow float64
            assert not math.isfinite(sup), (p, sup)
        else:
            assert abs(got - sup) <= 1e-6 * sup, (p, got, sup)
    else:
        raise AssertionError(f"no rnnbias check for the explorer {explorer!r}")
    retrained[state["key"]] = True


EXPLORER_PAGES = [
    "chapters/01_linear_rnns",
    "chapters/03_interpolation_without_extrapolation",
    "chapters/04_which_solution",
    "chapters/07_low_dimensional_state_spaces",
    "chapters/09_when_the_bias_breaks",
    "chapters/10_one_mode_at_a_time",
]


@pytest.mark.parametrize("page_name", EXPLORER_PAGES)
def test_explorers_compute_what_rnnbias_computes(browser, page_name):
    """Every control of every explorer on the page, driven as a reader drags it: the figure
    changes at once, the page's numbers equal rnnbias's, and a control the current choice
    does not use is disabled (it could not change the figure)."""
    import json

    page = browser.open()
    try:
        page.goto(HTML / f"{page_name}.html")
        configs = page.evaluate(EXPLORER_CONFIGS)
        assert configs, f"no explorer on {page_name}"
        for i, config in enumerate(configs):
            kind, driven, retrained = config["kind"], 0, {}
            uses, selector = config["data"].get("uses"), config["data"].get("selector")
            choices = [c for c in config["controls"] if "options" in c] or [None]
            for choice in choices:
                for option in [v for _, v in choice["options"]] if choice else [None]:
                    if choice:  # each choice in turn, with every slider it uses
                        page.evaluate(
                            f"{DRIVE}({i}, {json.dumps(choice['name'])}, {json.dumps(option)})"
                        )
                    for control in config["controls"]:
                        if "options" in control:
                            continue
                        gated = uses is not None and any(
                            control["name"] in names for names in uses.values()
                        )  # a control some choice does not use
                        used = not gated or control["name"] in uses[option]
                        for value in _settings(control):
                            out = page.evaluate(
                                f"{DRIVE}({i}, {json.dumps(control['name'])}, {json.dumps(value)})"
                            )
                            state = out["state"]
                            if not used:
                                assert control["name"] in out["disabled"], (option, control)
                                continue
                            assert control["name"] not in out["disabled"], (option, control)
                            assert out["changed"], (
                                f"{kind}: {control['name']} = {value} "
                                f"did not change the figure ({state['params']})"
                            )
                            assert abs(float(out["value"]) - value) < 1e-9, (out["value"], value)
                            _check_against_rnnbias(
                                kind, state["params"], state["values"], config["data"]
                            )
                            _check_readout(kind, state["params"], state["values"], out["readout"])
                            if kind == "table":
                                state["data"] = config["data"]
                                _check_table_entry(config["id"], state, retrained)
                            driven += 1
            assert driven >= 3 * len(config["controls"]) - 3, f"{kind}: only {driven} settings"
            if selector:
                assert selector in [c["name"] for c in config["controls"]]
        for dark in (False, True):  # readable in both themes, and no light card in the dark
            _set_theme(page, dark)
            for colours in page.evaluate(EXPLORER_COLOURS):
                for part in ("readout", "axis"):
                    ratio = _contrast(colours[part], colours["background"])
                    assert ratio >= 4.5, f"{part} contrast {ratio:.2f} (dark={dark}): {colours}"
                if dark:
                    assert colours["card"] == "rgba(0, 0, 0, 0)", colours
        _assert_clean(page)
    finally:
        page.close()
