"""Tests of the book as a whole: the TOC, the committed notebooks, and the built HTML.

The HTML tests need `make book` first. Locally they skip when `_build/html` is missing; in CI
(`RNNBIAS_REQUIRE_BOOK=1`, set by `.ci/run`) a missing build is a failure.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def toc_files() -> list[str]:
    """Every `file:` entry of _toc.yml (root included), without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [entry["file"] for entry in part["chapters"]]
    return files


def toc_notebooks() -> list[Path]:
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def test_every_toc_entry_is_exactly_one_page():
    for f in toc_files():
        sources = [ROOT / f"{f}{ext}" for ext in (".ipynb", ".md")]
        present = [s.name for s in sources if s.exists()]
        assert len(present) == 1, f"{f}: expected one .ipynb or .md page, found {present}"


def test_every_notebook_is_in_the_toc():
    on_disk = {p.relative_to(ROOT) for p in (ROOT / "chapters").glob("*.ipynb")}
    assert on_disk == {p.relative_to(ROOT) for p in toc_notebooks()}


def test_nbval_collects_exactly_the_toc_notebooks():
    """Ask pytest itself which notebooks `make test` would run under nbval."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "--nbval",
            "--nbval-current-env",
            "chapters",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    ).stdout
    collected = {line.split("::")[0] for line in out.splitlines() if ".ipynb::" in line}
    expected = {str(p.relative_to(ROOT)) for p in toc_notebooks()}
    assert expected, "the TOC lists no notebook"
    assert collected == expected


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_notebook_was_executed_top_to_bottom_without_errors(notebook):
    nb = json.loads(notebook.read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}"
    for c in cells:
        tags = c.get("metadata", {}).get("tags", [])
        for o in c.get("outputs", []):
            assert o["output_type"] != "error" or "raises-exception" in tags, (
                f"stored error in a cell: {o.get('ename')}"
            )
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_notebook_follows_the_anatomy(notebook):
    """Title, objectives, a hidden setup cell that seeds, exercises with solutions, summary."""
    nb = json.loads(notebook.read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert md.lstrip().startswith("# "), "a notebook opens with its title"
    for heading in ("Learning objectives", "Summary", "What's next"):
        assert heading in md, f"missing section: {heading}"
    assert "rb.set_seed(" in "".join(code[0]["source"]) and "hide-input" in code[0]["metadata"].get(
        "tags", []
    ), "the first code cell is the hidden setup cell that seeds"
    n_ex = len(re.findall(r"```\{exercise\}", md))
    n_sol = len(re.findall(r"```\{solution\}", md))
    assert n_ex >= 2 and n_sol == n_ex, f"{n_ex} exercises, {n_sol} solutions"
    assert ":class: dropdown" in md


SHOWN_CELL_MAX_LINES = 34  # a code cell a reader sees must fit on a screen with its context
FOLDED = ("remove-cell", "remove-input", "hide-input", "hide-cell")


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_code_cells_a_reader_sees_are_short(notebook):
    """Bulk belongs in rnnbias, in a cell split at a natural step, or folded (plotting code)."""
    nb = json.loads(notebook.read_text())
    long = []
    for i, c in enumerate(nb["cells"]):
        tags = c.get("metadata", {}).get("tags", [])
        n = len("".join(c["source"]).splitlines())
        if c["cell_type"] == "code" and not set(tags) & set(FOLDED) and n > SHOWN_CELL_MAX_LINES:
            long.append((i, n))
    assert not long, f"code cells (index, lines) longer than {SHOWN_CELL_MAX_LINES} lines: {long}"


# --- the built HTML ---------------------------------------------------------------------------


def _need_html():
    if not (HTML / "index.html").exists():
        if os.environ.get("RNNBIAS_REQUIRE_BOOK"):
            pytest.fail("the book is not built: run `make book` before the tests")
        pytest.skip("the book is not built (run `make book`); CI requires it")


def html_pages() -> list[Path]:
    return [HTML / f"{f}.html" for f in toc_files()]


def test_every_toc_page_is_built():
    _need_html()
    missing = [str(p.relative_to(HTML)) for p in html_pages() if not p.exists()]
    assert not missing, missing


def test_pages_load_nothing_from_the_network():
    """Offline rendering: every script is local, and MathJax and the widget JS are shipped."""
    _need_html()
    assert (HTML / "_static" / "mathjax" / "tex-mml-chtml.js").exists()
    assert (HTML / "_static" / "widgets" / "embed-amd.js").exists()
    assert (HTML / "_static" / "widgets" / "require.js").exists()
    for page in html_pages():
        text = page.read_text()
        remote = re.findall(r'<script[^>]+src="((?:https?:)?//[^"]+)"', text)
        assert not remote, f"{page.name} loads scripts from the network: {remote}"
        if 'class="math' in text:  # Sphinx loads MathJax only on pages with math
            assert "_static/mathjax/tex-mml-chtml.js" in text, f"{page.name}: no local MathJax"


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_chapter_html_has_theorems_exercises_glue_and_figures(notebook):
    """Every chapter page renders its propositions, hidden solutions, glued numbers, figures."""
    _need_html()
    page = HTML / "chapters" / f"{notebook.stem}.html"
    text = page.read_text()
    assert re.search(r'class="proof (theorem|proposition) admonition"', text), "no theorem"
    assert 'class="solution dropdown admonition"' in text, "no hidden solution"
    assert '<span class="pasted-text">' in text, "no glued numbers"
    assert "<img" in text and "<figcaption" in text, "no captioned figure"
    assert "Cohen-Karlik" in text, "no citation"  # author-year citation
    assert "pasted-text" in text and "{glue" not in text, "an unresolved glue role"
    cells = json.loads(notebook.read_text())["cells"]
    has_widget = any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        for c in cells
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
    )
    if has_widget:  # the explorer's saved state and the widget JS, beside its static figure
        assert "application/vnd.jupyter.widget-state+json" in text
        assert "widgets/embed-amd.js" in text


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_chapter_numbers_figures_results_and_exercises_per_chapter(notebook):
    """Chapter N's page: its title numbered once ("N. Title"), and every figure, numbered
    result and exercise numbered N.1, N.2, ... in order (as instructors cite them)."""
    _need_html()
    n = int(notebook.name[:2])
    text = (HTML / "chapters" / f"{notebook.stem}.html").read_text()
    h1 = re.search(r'<h1><span class="section-number">([^<]*)</span>([^<]*)<', text)
    assert h1 and h1[1] == f"{n}. " and not re.match(r"\d+\. ", h1[2]), h1 and h1.groups()
    captions = re.findall(r'<span class="caption-number">(\w+)\.? (\d+)\.(\d+) ', text)
    kinds = {kind for kind, _, _ in captions}
    assert {"Fig", "Exercise"} <= kinds, kinds
    for kind in kinds:
        numbers = [(int(c), int(i)) for k, c, i in captions if k == kind]
        assert all(c == n for c, _ in numbers), f"{kind}: {numbers}"
        seen = sorted({i for _, i in numbers})
        assert seen == list(range(1, len(seen) + 1)), f"{kind} numbers {seen}"
    assert f">{n}. {n}. " not in text, "the chapter number shows twice"


def test_figures_are_drawn_with_text_of_10_pt_or_more_and_at_most_10_in_wide():
    """What the browser test's figure check assumes (9 px on screen at 1,280 px): no chapter
    or plotting helper asks for text under 10 pt, the style's sizes resolve to 10 pt or more,
    and no figure is wider than 10 in."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    from rnnbias import plotting

    sources = {p.name: p.read_text() for p in (ROOT / "rnnbias").glob("*.py")}
    for nb in toc_notebooks():
        cells = json.loads(nb.read_text())["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        sources[nb.name] = "\n".join(code)
    for name, code in sources.items():
        sizes = [float(x) for x in re.findall(r"fontsize\s*=\s*([0-9.]+)", code)]
        assert all(size >= 10 for size in sizes), f"{name}: fontsize {sizes}"
        widths = [float(x) for x in re.findall(r"figsize\s*=\s*\(\s*([0-9.]+)", code)]
        assert all(width <= 10 for width in widths), f"{name}: figure widths {widths}"
    with mpl.rc_context():
        plotting.plot_style()
        for key in ("font.size", "axes.titlesize", "axes.labelsize", "legend.fontsize",
                    "xtick.labelsize", "ytick.labelsize"):  # fmt: skip
            points = FontProperties(size=mpl.rcParams[key]).get_size_in_points()
            assert points >= 10, (key, points)
        assert mpl.rcParams["figure.dpi"] == 110


def test_pages_name_a_chapter_with_its_number():
    """A link that names a chapter by its title ({doc} role or Markdown link) shows its
    number too ("4. Which interpolating ..."), as the chapter's own heading does."""
    _need_html()
    titles = {}
    for nb in toc_notebooks():
        first = json.loads(nb.read_text())["cells"][0]["source"][0]
        titles[nb.stem] = re.sub(r"^#\s*\d+\.\s*", "", first).strip()
    for page in html_pages():
        text = page.read_text()
        for stem, title in titles.items():
            bare = re.findall(rf'<span class="(?:std std-)?doc">{re.escape(title)}<', text)
            assert not bare, f"{page.name} names chapter {stem} without its number"


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_a_notebook_without_rnnbias_says_how_to_get_it(notebook):
    """A notebook downloaded on its own: its setup cell stops with a message that names the
    runnable bundle, not with a bare "No module named 'rnnbias'"."""
    nb = json.loads(notebook.read_text())
    setup = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    script = "import sys\nsys.modules['rnnbias'] = None  # as if it were not installed\n" + setup
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: This notebook needs rnnbias"), done.stderr[-500:]
    assert "runnable bundle" in last and "make lab" in last
    assert "ModuleNotFoundError" not in done.stderr  # raised `from None`: no chained traceback
