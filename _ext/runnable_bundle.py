"""Sphinx extension: put the runnable bundle next to the HTML pages.

When an HTML build finishes, ``scripts/bundle.py`` packs every chapter notebook (executed),
``rnnbias``, the pinned requirements and a Makefile (``make lab``, ``make test``) into
``rnn-extrapolation-notebooks.zip`` at the top of the built book. The landing page links to
it, and a line under the title of every chapter page (added here) does too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

BUNDLE = "rnn-extrapolation-notebooks.zip"
RUN_IT = (
    '<p class="rnb-run-it">Run this chapter yourself: <a href="{href}" download>the runnable '
    "bundle</a> holds every notebook with <code>rnnbias</code> and a one-line set-up "
    "(<code>make lab</code>). The notebook alone (the download button above) needs "
    "<code>rnnbias</code> too.</p>"
)


def _link_from_chapters(app, pagename, templatename, context, doctree) -> None:
    """Under the title of every chapter page: a link to the bundle."""
    if not re.fullmatch(r"chapters/\d\d_.*", pagename) or "body" not in context:
        return
    link = RUN_IT.format(href="../" + BUNDLE)
    context["body"] = re.sub(r"(</h1>)", lambda m: m.group(1) + link, context["body"], count=1)


def _write_bundle(app, exc) -> None:
    if exc is not None or app.builder.format != "html" or app.builder.name != "html":
        return
    sys.path.insert(0, str(Path(app.srcdir) / "scripts"))
    try:
        from bundle import write_bundle
    finally:
        sys.path.pop(0)
    write_bundle(Path(app.outdir) / BUNDLE, Path(app.srcdir))


def setup(app):
    app.connect("build-finished", _write_bundle)
    app.connect("html-page-context", _link_from_chapters)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
