"""Let the single-page builder (``jupyter-book build . --builder singlehtml``, used by
``make pdf``) write every node that extensions register for the html builder only (myst-nb's
folded code cells, sphinx-proof's results, sphinx-exercise's exercises): the single page uses
the same html handlers, so it looks like the book's pages."""


def _share_html_handlers(app) -> None:
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app):
    app.connect("builder-inited", _share_html_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
