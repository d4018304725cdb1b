"""The ``{eval}`name``` role: a number the notebook computed, shown in the prose.

The chapters write every computed number as ``{eval}`ch1_rho```, a role that two readers know:

- **the book**: this extension replaces myst-nb's ``eval`` role (which needs a live kernel)
  by one that pastes the text glued under ``name``, exactly like ``{glue:text}``; a name of
  another chapter (``ch4_…`` in chapter 9) is looked up in that chapter's notebook;
- **JupyterLab** with jupyterlab-myst: it shows the value stored in the markdown cell's
  ``user_expressions`` metadata (``scripts/lab_view.py`` writes it from the glue outputs),
  and, when the cell is run, the value of the Python name in the kernel (``rnnbias.glue``
  and ``rnnbias.recall`` define it).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from myst_nb.ext.glue.roles import PasteTextRole

_CHAPTER = re.compile(r"ch(\d+)_")


class InlineValueRole(PasteTextRole):
    """``{eval}`name```: the glued text of ``name`` (of this chapter or, by its ``chN_``
    prefix, of chapter N)."""

    def run(self):
        env = self.document.settings.env
        here = PurePosixPath(env.docname)
        match = _CHAPTER.match(self.text)
        if match and not here.name.startswith(f"{int(match.group(1)):02d}_"):
            prefix = f"{int(match.group(1)):02d}_"
            siblings = sorted(
                PurePosixPath(doc).name
                for doc in env.found_docs
                if PurePosixPath(doc).parent == here.parent
                and PurePosixPath(doc).name.startswith(prefix)
            )
            if siblings:
                self.text = f"{siblings[0]}.ipynb::{self.text}:s"  # key, then format
        return super().run()


def setup(app):
    # myst-nb registers its own ``eval`` role when it is set up, before local extensions
    app.add_role("eval", InlineValueRole(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
