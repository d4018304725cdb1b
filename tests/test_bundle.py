"""The runnable bundle that the built book carries (scripts/bundle.py, written by `make book`).

It is unpacked into a temporary folder and used as a reader would: `rnnbias` is imported from
the bundle, its Makefile's targets exist, and chapter 1 runs from it under strict nbval. (Every
notebook is run under strict nbval from the repository by `make test`; from the bundle, one
is run, the fastest, to keep CI short.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from test_book import HTML, ROOT, toc_notebooks

BUNDLE = HTML / "rnn-extrapolation-notebooks.zip"
NAME = "rnn-extrapolation-notebooks"


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    import os

    if not BUNDLE.exists():
        if os.environ.get("RNNBIAS_REQUIRE_BOOK"):
            pytest.fail("the bundle is missing: run `make book` before the tests")
        pytest.skip("the book is not built (run `make book`); CI requires it")
    folder = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(BUNDLE) as z:
        z.extractall(folder)
    return folder / NAME


def test_the_bundle_holds_every_chapter_rnnbias_and_the_set_up(unpacked):
    for nb in toc_notebooks():
        assert (unpacked / nb.name).read_bytes() == nb.read_bytes(), f"{nb.name} differs"
    for py in (ROOT / "rnnbias").glob("*.py"):
        assert (unpacked / "rnnbias" / py.name).read_bytes() == py.read_bytes(), py.name
    pins = {line for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    theirs = [
        line for line in (unpacked / "requirements.txt").read_text().splitlines() if "==" in line
    ]
    assert set(theirs) <= pins, "the bundle pins versions the book does not use"
    for package in ("torch==", "jupyterlab==", "jupyterlab-myst==", "nbval==", "ipywidgets=="):
        assert any(line.startswith(package) for line in theirs), f"no pin for {package}"
    for name in ("README.md", "LICENSE", "LICENSE-CONTENT.md", "nbval_sanitize.cfg"):
        assert (unpacked / name).exists(), name
    readme = (unpacked / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


def test_the_bundle_imports_its_own_rnnbias_and_its_make_targets_exist(unpacked):
    where = subprocess.run(
        [sys.executable, "-c", "import rnnbias; print(rnnbias.__file__)"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(unpacked)), f"rnnbias imported from {where}, not the bundle"
    for target in ("lab", "test"):
        dry = subprocess.run(["make", "-n", target], cwd=unpacked, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr
        assert "pip install -q -r requirements.txt" in dry.stdout
    lab = subprocess.run(["make", "-n", "lab"], cwd=unpacked, capture_output=True, text=True).stdout
    root = os.getuid() == 0  # JupyterLab refuses to start as root without --allow-root
    assert ("jupyter lab --allow-root ." if root else "jupyter lab .") in lab, lab


def test_chapter_1_runs_from_the_bundle_under_strict_nbval(unpacked):
    import os

    env = dict(os.environ, PYTHONPATH=str(unpacked))  # the kernel imports the bundle's rnnbias
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval",
            "--nbval-current-env",
            "--nbval-cell-timeout=600",
            "--nbval-sanitize-with",
            "nbval_sanitize.cfg",
            "01_linear_rnns.ipynb",
        ],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
