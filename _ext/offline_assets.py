"""Sphinx extension: make the built book render completely without network access.

At the end of an HTML build it copies MathJax 3 (from the ``django-static-mathjax`` wheel,
import name ``mathjax``) and the vendored widget JavaScript (``_vendor/widgets``) into the
built ``_static`` folder, where ``mathjax_path`` and ``nb_ipywidgets_js`` in ``_config.yml``
point. Copying into the *built* folder (not a source ``_static``) keeps Sphinx from adding
every MathJax file as a script tag on every page.

The widget manager also loads its icon fonts (Font Awesome, ``_vendor/widgets/fonts``) from
``@jupyter-widgets/html-manager/dist/`` *relative to the page*, so they are copied next to the
pages, at the top level and in ``chapters/``; without them every page with a widget logged
failed requests (found by the browser test).
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _copy_assets(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    import mathjax  # provided by django-static-mathjax

    static = Path(app.outdir) / "_static"
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    widgets = Path(app.srcdir) / "_vendor" / "widgets"
    if not (es5 / "tex-mml-chtml.js").exists():
        raise FileNotFoundError(f"MathJax not found at {es5}; is django-static-mathjax installed?")
    if not (widgets / "embed-amd.js").exists():
        raise FileNotFoundError(f"widget JavaScript not found at {widgets}")
    shutil.copytree(es5, static / "mathjax", dirs_exist_ok=True)
    shutil.copytree(widgets, static / "widgets", dirs_exist_ok=True, ignore=_fonts_and_docs)
    for pages in (Path(app.outdir), Path(app.outdir) / "chapters"):
        fonts = pages / "@jupyter-widgets" / "html-manager" / "dist"
        shutil.copytree(widgets / "fonts", fonts, dirs_exist_ok=True)


def _fonts_and_docs(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("fonts", "README.md")]


def setup(app):
    app.connect("build-finished", _copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
