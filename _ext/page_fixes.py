"""Sphinx extension: small fixes to the built pages, each found by the browser test.

- **Duplicate scripts.** ``sphinx-thebe`` adds its inline configuration (``const THEBE_JS_URL
  = ...``) once per read phase, and a glue reference across documents makes Jupyter Book read
  twice, so every page declared the constant twice and logged a ``SyntaxError``. Identical
  script entries are dropped from each page's context, keeping the first.
- **Launch buttons only with a repository.** ``_config.yml`` keeps one setting,
  ``repository.url``. When it is empty, ``launch_buttons`` are removed from the theme options:
  sphinx-book-theme would otherwise fail on pages without repository information, and any
  button it drew would point nowhere. When it is set, the repository button is turned on too.
- **Widget labels and MathJax 3.** The widget manager typesets labels through the MathJax 2
  API (``MathJax.Hub.Queue``); ``static/mathjax_hub_shim.js`` forwards those calls to MathJax 3,
  which the book ships, instead of letting every widget log a ``TypeError``.
- **One search box, and the map of the book.** ``static/page_fixes.css`` hides the top bar that
  pydata-sphinx-theme 0.17 draws above sphinx-book-theme's page (a second search field; the
  article header has the toggles), and colours the landing page's map (an inline SVG) with the
  theme's variables, so that it reads in light and dark mode.
- **Tables that fit the column.** Wide tables sit in a ``fit-table`` container (the notation
  table, chapter 9's table of regimes, the execution table): fixed column widths, set per table
  in ``static/page_fixes.css``, and code that may wrap inside a cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    kept = []
    for js in scripts:
        # the same inline script is registered once as filename None and once as ""
        key = (
            str(getattr(js, "filename", js) or ""),
            tuple(sorted(getattr(js, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def launch_options(theme_options: dict[str, Any]) -> dict[str, Any]:
    """Theme options with launch buttons kept only if a repository URL is configured."""
    options = dict(theme_options)
    if str(options.get("repository_url") or "").strip():
        options.setdefault("use_repository_button", True)
    else:
        options.pop("launch_buttons", None)
        options.pop("repository_url", None)
    return options


def _configure_launch_buttons(app, config) -> None:
    config.html_theme_options = launch_options(config.html_theme_options or {})


def _add_static(app, config) -> None:
    config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    app.connect("config-inited", _configure_launch_buttons)
    app.connect("config-inited", _add_static)
    # after MathJax (a deferred script of priority 500), before the widgets render
    app.add_js_file("mathjax_hub_shim.js", priority=510, defer="defer")
    app.add_css_file("page_fixes.css")
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
