"""Pack the runnable bundle: every chapter notebook with rnnbias and a one-line set-up, as a zip.

The book links to it from the landing page and from every chapter, so that a reader of the
online book can take the notebooks home and run them without cloning the repository:

    rnn-extrapolation-notebooks/
        01_linear_rnns.ipynb ... 09_when_the_bias_breaks.ipynb   (executed, as in the book)
        rnnbias/            the helper package (the notebooks import it from this folder)
        requirements.txt    the book's pins for running and testing the notebooks
        Makefile            `make lab` (set up, open JupyterLab), `make test` (strict nbval)
        README.md, LICENSE, LICENSE-CONTENT.md, nbval_sanitize.cfg

`make book` writes it to ``_build/html/rnn-extrapolation-notebooks.zip``
(``_ext/runnable_bundle.py`` calls :func:`write_bundle` when the HTML build finishes);
``tests/test_bundle.py`` unpacks it and runs chapter 1 from it.

    python scripts/bundle.py OUT.zip
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_edition import student_requirements, toc_notebooks  # noqa: E402

NAME = "rnn-extrapolation-notebooks"

MAKEFILE = """\
# The notebooks of "When do RNNs extrapolate?", runnable on their own (Python 3.11 or newer).
#   make lab    set up a virtual environment (first time: a few minutes) and open JupyterLab
#   make test   run every notebook top to bottom and compare it with its stored outputs
VENV  ?= .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: lab test

$(STAMP): requirements.txt
\t@test -x $(BIN)/python || python3 -m venv $(VENV)
\t$(BIN)/pip install -q -r requirements.txt
\t@touch $@

# JupyterLab refuses to start as root (a container's usual user) without --allow-root
LAB_FLAGS := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(STAMP)
\t$(BIN)/jupyter lab $(LAB_FLAGS) .

test: $(STAMP)
\t$(BIN)/python -m pytest -p no:cacheprovider --nbval --nbval-current-env \\
\t  --nbval-cell-timeout=600 --nbval-sanitize-with nbval_sanitize.cfg *.ipynb
"""

README = """\
# When do RNNs extrapolate? The notebooks

Every chapter of the book as a notebook, executed, with the helper package `rnnbias` beside
them. On a machine with Python 3.11 or newer and `make`:

    make lab     # sets up .venv (the first time: a few minutes), then opens JupyterLab
    make test    # runs every notebook top to bottom and checks its stored outputs (~5 minutes)

Without `make`: `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt &&
.venv/bin/jupyter lab`.

The notebooks import `rnnbias` from this folder, so open them from here. Run each one top to
bottom (Run > Run All Cells): its first cell seeds every random generator, so your numbers are
the book's. Links to the book's other pages (notation, glossary, course page) work in the
online book.

The code is under the MIT licence (LICENSE), the text and figures under CC BY 4.0
(LICENSE-CONTENT.md).
"""


def bundle_requirements(root: Path = ROOT) -> str:
    """The pins for running the notebooks (as the student edition) and for `make test`."""
    pins = {
        line.split("==")[0]: line
        for line in (root / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    text = student_requirements(root).replace("scripts/student_edition.py", "scripts/bundle.py")
    return (
        text
        + "\n# --- make test: the notebooks under strict nbval\n"
        + ("\n".join(pins[name] for name in ("pytest", "nbval")) + "\n")
    )


def write_bundle(out: Path | str, root: Path = ROOT) -> Path:
    """Write the bundle to the zip file ``out``; return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for path in toc_notebooks(root):
        files[path.name] = path.read_bytes()
    for path in sorted((root / "rnnbias").rglob("*.py")):
        files[str(path.relative_to(root))] = path.read_bytes()
    files["requirements.txt"] = bundle_requirements(root).encode()
    files["Makefile"] = MAKEFILE.encode()
    files["README.md"] = README.encode()
    for name in ("LICENSE", "LICENSE-CONTENT.md", "nbval_sanitize.cfg"):
        files[name] = (root / name).read_bytes()
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{NAME}/{name}", date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the zip file to write")
    args = parser.parse_args(argv)
    path = write_bundle(args.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
