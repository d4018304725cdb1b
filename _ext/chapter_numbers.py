"""Chapter numbers from the table of contents, so that everything is numbered per chapter.

The chapter parts of ``_toc.yml`` are ``numbered: 1``: Sphinx numbers the ten chapters and,
with ``numfig_secnum_depth = 1``, numbers figures, propositions, definitions and exercises
within their chapter (Fig. 4.3, Proposition 5.1, Exercise 7.2), as instructors cite them.

The notebooks keep "4. " in their title, so that a notebook opened on its own (JupyterLab,
the student edition) still says which chapter it is. In the book that number would appear
twice ("4. 4. Which interpolating solution ..."), so

- at read time the leading "N. " is taken off a chapter's title, after checking that N is the
  chapter's place in the table of contents (the book fails to build if they disagree);
- when a page is written, a reference to a chapter by its title ({doc}`04_which_solution`,
  ``[](04_which_solution.ipynb)``) gets the number back: "4. Which interpolating solution ...".
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform

_NUMBERED = re.compile(r"^(?P<n>\d+)\.\s+")
_CHAPTER = re.compile(r"(^|/)(?P<n>\d\d)_[^/]*$")


class StripChapterNumber(SphinxTransform):
    """Take the "N. " off the title of chapter N (before the title is collected)."""

    default_priority = 200

    def apply(self, **kwargs) -> None:
        match = _CHAPTER.search(self.env.docname)
        if match is None:
            return
        section = next(iter(self.document.findall(nodes.section)), None)
        if section is None or not isinstance(section[0], nodes.title):
            return
        title = section[0]
        first = title[0] if len(title) else None
        if not isinstance(first, nodes.Text):
            return
        numbered = _NUMBERED.match(first.astext())
        if numbered is None:
            return
        if int(numbered["n"]) != int(match["n"]):
            raise ExtensionError(
                f"{self.env.docname}: the title says chapter {numbered['n']}, "
                f"the file name says {int(match['n'])}"
            )
        title.replace(first, nodes.Text(first.astext()[numbered.end() :]))


def _number_references(app, doctree, docname) -> None:
    """Put "N. " back before a chapter's title where a page refers to the chapter by it."""
    env = app.env
    for ref in doctree.findall(nodes.reference):
        inner = ref.children[0] if len(ref.children) == 1 else None
        classes = inner.get("classes", []) if isinstance(inner, nodes.inline) else []
        if "std-doc" not in classes and "doc" not in classes:  # Markdown link, {doc} role
            continue
        target = ref.get("refuri", "").split("#")[0]
        for doc, numbers in env.toc_secnumbers.items():
            if "" not in numbers or not _CHAPTER.search(doc):
                continue
            if app.builder.get_relative_uri(docname, doc) != target:
                continue
            title = env.titles[doc].astext()
            if inner.astext() == title:
                prefix = ".".join(map(str, numbers[""])) + ". "
                inner.replace(inner[0], nodes.Text(prefix + title))
                inner.children[1:] = []
            break


def setup(app):
    app.add_transform(StripChapterNumber)
    app.connect("doctree-resolved", _number_references)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
