"""Make the chapter notebooks read like the book when opened in JupyterLab (``make lab``).

JupyterLab with jupyterlab-myst renders the MyST of the markdown cells (math, proofs,
exercises, solutions folded). Two things it needs from the notebook itself, written here:

1. **The numbers in the prose.** A chapter writes a computed number as ``{eval}`ch1_rho```.
   jupyterlab-myst shows the value stored in the markdown cell's ``user_expressions``
   metadata until the cell is run; then it asks the kernel for the name (bound by
   ``rb.glue``, or by the chapter's ``rb.recall`` cell to the saved value). This script
   stores, for every such role, the text the notebook glued under that name (or, for a
   ``chN_`` name of another chapter, the text glued in chapter N's notebook).
2. **Hidden cells stay folded.** A code cell the book hides (tagged ``remove-cell``: the
   checks after each claim; ``hide-input``: plotting code) is marked
   ``jupyter.source_hidden``, so JupyterLab shows it collapsed, one click away.

Run it after executing notebooks (``make notebooks`` does)::

    python scripts/lab_view.py chapters/*.ipynb          # update in place
    python scripts/lab_view.py --check chapters/*.ipynb  # exit 1 if any notebook is stale

``tests/test_lab.py`` runs ``--check`` on the committed notebooks and looks at the result in
JupyterLab in headless Chromium.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rnnbias.book import glued_values

ROLE = re.compile(r"\{eval\}`([^`]+)`")
HIDDEN_TAGS = ("remove-cell", "hide-input")
_CHAPTER = re.compile(r"ch(\d+)_")


def values_for(path: Path) -> dict[str, str]:
    """Every glued text a notebook can show, from glue outputs only (a value stored earlier
    must not outlive its glue): its own, then other chapters' by prefix."""
    own = glued_values(json.loads(path.read_text(encoding="utf-8")), stored=False)
    values: dict[str, str] = {}
    for other in sorted(path.parent.glob("[0-9][0-9]_*.ipynb")):
        if other != path:
            text = other.read_text(encoding="utf-8")
            values.update(glued_values(json.loads(text), stored=False))
    values.update(own)
    return values


def _value(name: str, path: Path, values: dict[str, str]) -> str:
    if name in values:
        return values[name]
    match = _CHAPTER.match(name)
    where = f"chapter {int(match.group(1))}" if match else "this notebook"
    raise KeyError(f"{path.name}: {{eval}}`{name}` has no glued value in {where}")


def lab_view(nb, path: Path, values: dict[str, str]):
    """The notebook with stored expression values and folded hidden cells (a new object)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            names = list(dict.fromkeys(ROLE.findall(cell.source)))
            if names:
                cell.metadata["user_expressions"] = [
                    {
                        "expression": name,
                        "result": {
                            "status": "ok",
                            "data": {"text/plain": _value(name, path, values)},
                            "metadata": {},
                        },
                    }
                    for name in names
                ]
            else:
                cell.metadata.pop("user_expressions", None)
        elif cell.cell_type == "code":
            hidden = any(tag in cell.metadata.get("tags", []) for tag in HIDDEN_TAGS)
            jupyter = cell.metadata.get("jupyter", {})
            if hidden:
                jupyter["source_hidden"] = True
                cell.metadata["jupyter"] = jupyter
            elif "source_hidden" in jupyter:
                del jupyter["source_hidden"]
                if not jupyter:
                    del cell.metadata["jupyter"]
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        new = lab_view(nb, path, values_for(path))
        if new != nb:
            stale.append(path)
            if not args.check:
                nbformat.write(new, path)
    verb = "stale (run: python scripts/lab_view.py chapters/*.ipynb)" if args.check else "updated"
    for path in stale:
        print(f"{path}: {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
