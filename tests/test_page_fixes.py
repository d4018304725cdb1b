"""Tests of the Sphinx extension ``_ext/page_fixes.py``: launch buttons, duplicate scripts."""

import sys

import pytest
from test_book import HTML, ROOT, toc_files

sys.path.insert(0, str(ROOT / "_ext"))
from page_fixes import _drop_duplicate_scripts, launch_options

BUTTONS = {
    "binderhub_url": "https://mybinder.org",
    "colab_url": "https://colab.research.google.com",
}


def test_launch_buttons_need_a_repository_url():
    for unset in ("", "  ", None):
        options = launch_options({"repository_url": unset, "launch_buttons": BUTTONS, "x": 1})
        assert "launch_buttons" not in options and "repository_url" not in options
        assert options["x"] == 1
    repo = "https://github.com/owner/repo"
    options = launch_options({"repository_url": repo, "launch_buttons": BUTTONS})
    assert options["launch_buttons"] == BUTTONS and options["use_repository_button"] is True
    assert launch_options({}) == {}


def test_identical_scripts_are_kept_once():
    class JS:
        def __init__(self, filename, **attributes):
            self.filename, self.attributes = filename, attributes

    scripts = [JS(None, body="const A = 1"), JS("a.js"), JS("", body="const A = 1"), JS("a.js")]
    context = {"script_files": scripts}
    _drop_duplicate_scripts(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes) for s in context["script_files"]] == [
        (None, {"body": "const A = 1"}),
        ("a.js", {}),
    ]


def test_built_pages_have_no_launch_links_while_the_repository_is_unset():
    config = (ROOT / "_config.yml").read_text()
    if 'url: ""' not in config:
        pytest.skip("a repository URL is configured, so launch buttons are expected")
    if not (HTML / "index.html").exists():
        pytest.skip("the book is not built (run `make book`)")
    for page in toc_files():
        html = (HTML / f"{page}.html").read_text()
        assert "mybinder.org" not in html and "colab.research.google.com" not in html, page
        assert html.count("const THEBE_JS_URL") <= 1, page
