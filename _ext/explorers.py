"""Sphinx extension: the in-page explorers (``static/explorers.js`` and ``explorers.css``).

An explorer is a ``<div class="rnb-explorer">`` written into a cell output by
:func:`rnnbias.widgets.page_explorer` (for chapters 1 and 3, inside the same output as the
ipywidgets version, which JupyterLab shows instead). The script builds its controls and draws
its SVG figure in the page: no kernel, no network. In the HTML book the ipywidgets view of such
an output is not rendered (``nb_mime_priority_overrides`` in ``_config.yml``), so that no
control appears that cannot change its figure.
"""

from __future__ import annotations


def setup(app):
    # page_fixes adds _ext/static to html_static_path
    app.add_js_file("explorers.js", defer="defer")
    app.add_css_file("explorers.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
