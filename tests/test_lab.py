"""The chapters as a learner opens them with ``make lab``: JupyterLab and jupyterlab-myst.

The test does what a learner does. It starts JupyterLab on loopback (on copies of the
notebooks, so that nothing is saved into ``chapters/``), opens chapters in headless Chromium
and asserts on what is on the screen, cell by cell:

- no MyST source in sight: no ``{prf:``, ``{eval}``, ``{doc}``, ``:label:``, fences or ``$$``;
- the math typeset by KaTeX, without a KaTeX error;
- every number of the text shown: each value stored for a markdown cell appears in it;
- every solution folded (a closed ``<details>``), as many as the notebook has, and every
  dropdown too (the expected output of a predict-first exercise);
- every cell the book hides folded (JupyterLab's placeholder bar instead of the code).

For chapter 1 it then runs every cell (Run All) and checks that each number still shows, now
from the kernel, with no ``NameError``. The student edition's chapter 1 is checked the same
way. Screenshots, light and dark, go to ``_build/screenshots/lab-*.png``.

Without a browser: the stored values are current (``scripts/lab_view.py --check``), and every
chapter binds the names of its text (``rb.recall``) before its first ``{eval}``.
Locally the browser part skips without Chromium; in CI (``RNNBIAS_REQUIRE_BOOK=1``) it fails.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from cdp import Browser, find_chromium

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots"
sys.path.insert(0, str(ROOT / "scripts"))
from lab_view import ROLE  # noqa: E402
from student_edition import directive_blocks, remove_blocks, write_student_edition  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
TOKEN = "rnnbias-test"
RAW = re.compile(r"\{(prf:\w+|eval|glue:?\w*|doc|ref|numref|cite:?\w*|term)\}|:label:|```|\$\$")

# every cell as JupyterLab draws it (windowing off, so every cell is in the page)
ON_SCREEN = """(() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(c => {
  const md = c.classList.contains('jp-MarkdownCell');
  const myst = c.querySelector('.myst');
  return {
    markdown: md,
    rendered: md ? !!(myst && myst.innerText.trim()) : true,
    text: md && myst ? myst.innerText : '',
    folded: !!c.querySelector('.jp-InputPlaceholder'),
    katex: c.querySelectorAll('.katex').length,
    katex_errors: c.querySelectorAll('.katex-error, [title^="ParseError"]').length,
    open: c.querySelectorAll('details[open]').length,
    solutions: [...c.querySelectorAll('details')]
      .filter(d => d.querySelector('summary').innerText.trim().startsWith('Solution'))
      .map(d => d.open),
  };
}))()"""


def test_stored_values_are_current():
    """Every {eval} has its value stored, equal to the glued text (else: make notebooks)."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lab_view.py"), "--check", *map(str, CHAPTERS)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_names_are_bound_before_the_text_shows_them(path):
    """Run top to bottom in JupyterLab, a markdown cell asks the kernel for its numbers: the
    chapter's recall cell must come first, name the notebook itself, and be folded."""
    nb = nbformat.read(path, as_version=4)
    recall = [i for i, c in enumerate(nb.cells) if "rb.recall(" in c.source]
    first = min(i for i, c in enumerate(nb.cells) if ROLE.search(c.source))
    assert len(recall) == 1 and recall[0] < first, (recall, first)
    cell = nb.cells[recall[0]]
    assert f'rb.recall("{path.name}")' in cell.source
    assert cell.metadata.get("jupyter", {}).get("source_hidden") is True


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_kernelspec_is_the_one_jupyterlab_writes(path):
    """JupyterLab rewrites a kernelspec whose display name differs from the installed one's,
    and then asks to save a notebook the reader only opened."""
    spec = nbformat.read(path, as_version=4).metadata.kernelspec
    assert (spec.name, spec.display_name) == ("python3", "Python 3 (ipykernel)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(config: Path) -> None:
    """JupyterLab user settings: every cell in the page, no news pop-up."""
    user = config / "lab" / "user-settings" / "@jupyterlab"
    for plugin, values in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = user / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    executable = find_chromium()
    if executable is None:
        if os.environ.get("RNNBIAS_REQUIRE_BOOK"):
            pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    root = tmp_path_factory.mktemp("lab")
    (root / "chapters").mkdir()
    for path in CHAPTERS:
        shutil.copy(path, root / "chapters" / path.name)
    write_student_edition(root / "student")
    _settings(root / "config")
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    cmd = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        f"--LabServerApp.workspaces_dir={root / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: Run All, the theme
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
            time.sleep(0.3)
    browser = Browser(executable, timeout=120)
    yield SimpleNamespace(url=url, root=root, browser=browser)
    browser.close()
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def _wait(page, expression: str, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _open(lab, rel: str):
    """Open a notebook; return the page once every cell is drawn and the drawing is still."""
    nb = nbformat.read(lab.root / rel, as_version=4)
    page = lab.browser.open(1280, 1000)
    page.send("Page.navigate", {"url": f"{lab.url}/lab/tree/{rel}?token={TOKEN}&reset"})
    _wait(
        page,
        f"document.querySelectorAll('.jp-Notebook .jp-Cell').length === {len(nb.cells)}",
        90,
        f"JupyterLab to show the {len(nb.cells)} cells of {rel}",
    )
    last = None
    for _ in range(240):  # the markdown renders asynchronously: wait until it stops changing
        cells = page.evaluate(ON_SCREEN)
        now = [(c["rendered"], len(c["text"]), c["katex"]) for c in cells]
        if all(c["rendered"] for c in cells) and now == last:
            return page, nb, cells
        last = now
        time.sleep(0.5)
    pytest.fail(f"{rel}: the markdown never finished rendering")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    data = page.send("Page.captureScreenshot", {"format": "png"})["data"]
    (SHOTS / f"{name}.png").write_bytes(base64.b64decode(data))


def _scroll_to_the_exercises(page) -> None:
    page.evaluate("""(() => {
      const d = document.querySelector('.jp-Notebook .myst-exercise');
      const outer = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
      if (d && outer) outer.scrollTop += d.getBoundingClientRect().top
                                        - outer.getBoundingClientRect().top - 40;
    })()""")
    time.sleep(0.5)


def _shown_names(source: str) -> list[str]:
    """The {eval} names of a markdown cell outside its folded solutions and dropdowns."""
    return ROLE.findall(remove_blocks(remove_blocks(source, "solution"), "admonition"))


def _check_screen(nb, cells, rel: str) -> None:
    assert len(cells) == len(nb.cells)
    for i, (cell, drawn) in enumerate(zip(nb.cells, cells, strict=True)):
        where = f"{rel}, cell {i}"
        if cell.cell_type == "markdown":
            raw = RAW.findall(drawn["text"])
            assert not raw, f"{where}: MyST source on screen: {raw}: {drawn['text'][:200]!r}"
            if "$" in re.sub(r"`[^`]*`", "", remove_blocks(cell.source, "solution")):
                assert drawn["katex"] > 0, f"{where}: math not typeset"
            assert drawn["katex_errors"] == 0, f"{where}: KaTeX could not typeset"
            stored = {
                e["expression"]: e["result"]["data"]["text/plain"]
                for e in cell.metadata.get("user_expressions", [])
            }
            for name in _shown_names(cell.source):
                assert stored[name] in drawn["text"], f"{where}: {name} = {stored[name]} unseen"
            assert "Error" not in drawn["text"] or "Error" in cell.source, f"{where}: an error"
            solutions = [b for b in directive_blocks(cell.source) if b.name == "solution"]
            assert len(drawn["solutions"]) == len(solutions), f"{where}: solutions missing"
            assert drawn["open"] == 0, f"{where}: a solution or dropdown is open"
        else:
            hidden = bool(cell.metadata.get("jupyter", {}).get("source_hidden"))
            assert drawn["folded"] == hidden, f"{where}: folded={drawn['folded']}, hidden={hidden}"


@pytest.mark.parametrize("name", ["01_linear_rnns", "04_which_solution", "09_when_the_bias_breaks"])
def test_a_chapter_in_jupyterlab_reads_like_the_book(lab, name):
    page, nb, cells = _open(lab, f"chapters/{name}.ipynb")
    try:
        dirty = page.evaluate("window.jupyterapp.shell.currentWidget.context.model.dirty")
        assert dirty is False, "JupyterLab changed the notebook on opening it (save? on close)"
        _check_screen(nb, cells, name)
        assert sum(c["katex"] for c in cells) > 50
        _shot(page, f"lab-{name}")
        _scroll_to_the_exercises(page)
        _shot(page, f"lab-{name}-exercises")
        page.evaluate(
            "window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Dark'})",
            await_promise=True,
        )
        time.sleep(1.5)
        _shot(page, f"lab-{name}-exercises-dark")
        page.evaluate(
            "window.jupyterapp.commands.execute("
            "'apputils:change-theme', {theme: 'JupyterLab Light'})",
            await_promise=True,
        )
    finally:
        page.close()


def test_chapter_1_after_run_all_shows_the_kernels_numbers(lab):
    """Run All runs the markdown cells too: jupyterlab-myst then asks the kernel for every
    number. They must all still show (bound by rb.glue or rb.recall), equal to the saved ones
    (the run is deterministic)."""
    rel = "chapters/01_linear_rnns.ipynb"
    page, nb, _ = _open(lab, rel)
    try:
        for command in ("notebook:clear-all-cell-outputs", "notebook:run-all-cells"):
            page.evaluate(f"window.jupyterapp.commands.execute('{command}')", await_promise=True)
        _wait(
            page,
            """(() => {
          const panel = window.jupyterapp.shell.currentWidget;
          const code = Array.from(panel.content.model.cells).filter(c => c.type === 'code');
          return code.every(c => c.executionCount > 0)
                 && panel.sessionContext.session.kernel.status === 'idle';
        })()""",
            240,
            "Run All to finish",
        )
        time.sleep(2)
        cells = page.evaluate(ON_SCREEN)
        _check_screen(nb, cells, rel + " after Run All")
        _shot(page, "lab-01_linear_rnns-after-run-all")
    finally:
        page.close()


def test_the_student_edition_in_jupyterlab(lab):
    rel = "student/01_linear_rnns.ipynb"
    page, nb, cells = _open(lab, rel)
    try:
        _check_screen(nb, cells, rel)
        assert not any(c["solutions"] for c in cells), "the student edition shows solutions"
        _scroll_to_the_exercises(page)
        _shot(page, "lab-student-01_linear_rnns")
    finally:
        page.close()
