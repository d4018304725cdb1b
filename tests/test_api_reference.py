"""The API reference page documents every public name of every rnnbias module.

`chapters/api_reference.md` is generated from the docstrings by Sphinx autodoc at build time.
These tests read the built HTML, so they need `make book` first. Locally they skip when
`_build/html` is missing; in CI (`RNNBIAS_REQUIRE_BOOK=1`, set by `.ci/run`) a missing build is a
failure.
"""

import importlib
import os
import pkgutil
import re
from pathlib import Path

import pytest

import rnnbias

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
PAGE = HTML / "chapters" / "api_reference.html"


def _need_html():
    if not (HTML / "index.html").exists():
        if os.environ.get("RNNBIAS_REQUIRE_BOOK"):
            pytest.fail("the book is not built: run `make book` before the tests")
        pytest.skip("the book is not built (run `make book`); CI requires it")


def public_modules() -> list[str]:
    """Every public submodule of rnnbias (found on disk, so a new module is not forgotten)."""
    names = [m.name for m in pkgutil.iter_modules(rnnbias.__path__) if not m.name.startswith("_")]
    assert names, "no rnnbias modules found"
    return sorted(names)


def test_every_public_module_has_an_all():
    for name in public_modules():
        module = importlib.import_module(f"rnnbias.{name}")
        assert getattr(module, "__all__", None), f"rnnbias.{name} has no __all__"


def documented_ids() -> set[str]:
    """The ids of the object descriptions on the API page (`<dt ... id="rnnbias.x.y">`)."""
    text = PAGE.read_text()
    return set(re.findall(r'<dt[^>]*\bid="(rnnbias\.[^"]+)"', text))


@pytest.mark.parametrize("module", public_modules())
def test_api_reference_documents_every_public_name(module):
    _need_html()
    assert PAGE.exists(), "chapters/api_reference.html was not built"
    ids = documented_ids()
    names = importlib.import_module(f"rnnbias.{module}").__all__
    missing = [name for name in names if f"rnnbias.{module}.{name}" not in ids]
    assert not missing, f"rnnbias.{module}: not on the API reference page: {missing}"


def test_api_reference_documents_reexports_only_in_their_module():
    """`rnnbias.train_gd` and friends are documented once, as `rnnbias.train.train_gd`."""
    _need_html()
    ids = documented_ids()
    top_level = [name for name in rnnbias.__all__ if f"rnnbias.{name}" in ids]
    assert not top_level, f"documented twice, also at top level: {top_level}"


def test_reexport_table_lists_every_top_level_name():
    """The table of re-exports on the API page names each one, with the module defining it."""
    text = (ROOT / "chapters" / "api_reference.md").read_text()
    missing = []
    for name in rnnbias.__all__:
        obj = getattr(rnnbias, name)
        if name.startswith("__") or type(obj).__name__ == "module":
            continue
        module = obj.__module__
        if f"{{py:obj}}`~{module}.{name}`" not in text:
            missing.append(f"{module}.{name}")
    assert not missing, f"not in the re-export table of chapters/api_reference.md: {missing}"
