"""Write the student edition of the book's notebooks: exercises kept, solutions and outputs gone.

Usage: ``python scripts/student_edition.py OUTDIR`` (``make student`` writes to ``_build/student``).

Every notebook listed in ``_toc.yml`` is written to ``OUTDIR`` under the same file name.
The rules, applied to each notebook:

1. Every ``{solution}`` directive block is removed from the markdown. A markdown cell that held
   nothing but solutions is dropped; in a cell that also holds other text (the chapter's last
   paragraph, an ``{exercise}``), only the block and the blank lines after it are removed.
2. An exercise's **check cell** is removed: a code cell tagged ``remove-cell`` that comes
   directly after a markdown cell whose last block is a ``{solution}`` (only whitespace after
   its closing fence). It re-runs the solution and asserts its result, so it gives the answer
   away. Every other ``remove-cell`` cell (the numeric checks of the main text) is kept.
3. Everything else is kept, in order and with its cell id: the exercise statements, the stubs
   (the untagged code cell after an exercise), all other code and markdown, tags and the
   ``mystnb`` cell metadata.
4. Outputs are cleared and execution counts reset; the per-cell ``execution`` timing metadata
   and the notebook's ``widgets`` state (both records of the last run) are dropped.
5. A markdown cell with id ``student-edition-note`` is inserted at the top: it says this is the
   student edition and where the full edition is.
6. A proof or conceptual exercise gets an **answer cell** right after its statement: a
   markdown cell with id ``answer-<label>`` to write the proof or the answer in.

The folder is **runnable on its own**: it also holds a copy of the ``rnnbias`` package (the
notebooks import it from their own folder), ``requirements.txt`` (the pinned packages the
notebooks need: the runtime section of the book's requirements and JupyterLab) and a
``README.md`` whose one line sets everything up and opens JupyterLab.

The output is deterministic (same input, same bytes). Only the standard library and nbformat
are used. The module also provides the exercise parser used by ``exercise_index.py`` and the
tests.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTE_ID = "student-edition-note"
KINDS = ("proof", "coding", "conceptual")  # the kinds, in the order the index lists them

# The opening line of a MyST directive in a backtick or colon fence: ````{name} argument
_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z][\w:-]*)\}(?P<arg>.*)$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")


@dataclass(frozen=True)
class Block:
    """A top-level directive block of a markdown cell; lines are 0-based and inclusive."""

    name: str
    arg: str
    start: int
    end: int
    options: dict = field(hash=False)
    text: str = ""


@dataclass
class Exercise:
    """One exercise of a notebook, with the cells that belong to it (indices into nb.cells)."""

    label: str
    title: str
    kinds: tuple[str, ...]
    notebook: str  # file name, e.g. 01_linear_rnns.ipynb
    cell: int  # the markdown cell of the statement
    statement: str  # the whole {exercise} block
    stub: int | None = None  # the code cell to fill in
    solutions: list[int] = field(default_factory=list)  # markdown cells with its {solution}
    solution_blocks: list[Block] = field(default_factory=list)
    check: int | None = None  # the hidden check cell
    level: int = 0  # 1 routine, 2 several steps or a small idea, 3 needs a real idea
    minutes: int = 0  # time for a student, stated in the title


LEVEL = re.compile(r"(?P<stars>★+)☆*, about (?P<minutes>\d+) min\)\s*$")


def level_and_minutes(title: str) -> tuple[int, int]:
    """Level (1-3) and minutes stated at the end of a title: "(proof; ★★☆, about 25 min)"."""
    m = LEVEL.search(title)
    if not m:
        raise ValueError(f"exercise title without '; ★★☆, about N min)' at its end: {title!r}")
    return len(m["stars"]), int(m["minutes"])


def directive_blocks(text: str) -> list[Block]:
    """The top-level directive blocks of a markdown text, in order.

    A block closes at the first later line made only of its fence character, at least as many
    as in the opening fence (so the shorter ``` code fences inside it do not close it).
    """
    lines = text.split("\n")
    blocks = []
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m["fence"]
        close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), None)
        if end is None:
            raise ValueError(f"unclosed {{{m['name']}}} block: {lines[i]!r}")
        options = {}
        for line in lines[i + 1 : end]:
            opt = _OPTION.match(line)
            if not opt:
                break
            options[opt["key"]] = opt["value"].strip()
        blocks.append(
            Block(
                name=m["name"],
                arg=m["arg"].strip(),
                start=i,
                end=end,
                options=options,
                text="\n".join(lines[i : end + 1]),
            )
        )
        i = end + 1
    return blocks


def kinds_of(title: str) -> tuple[str, ...]:
    """The kinds named in the parenthesis that ends an exercise title.

    Each of the words proof, coding, conceptual in it is a kind; the qualifiers ("then check",
    "predict then run") are not. "(proof, then check)" -> (proof,); "(conceptual, then coding)"
    -> (conceptual, coding).
    """
    m = re.search(r"\(([^()]*)\)\s*$", title)
    if not m:
        raise ValueError(f"exercise title without a (kind) at its end: {title!r}")
    words = re.findall(r"[a-z]+", m[1].lower())
    kinds = tuple(dict.fromkeys(w for w in words if w in KINDS))
    if not kinds:
        raise ValueError(f"no known kind {KINDS} in the title {title!r}")
    return kinds


def title_without_kind(title: str) -> str:
    return re.sub(r"\s*\([^()]*\)\s*$", "", title)


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _last_block_is(cell, name: str) -> Block | None:
    """The cell's last directive block if it is a `name` block with only whitespace after it."""
    if cell.cell_type != "markdown":
        return None
    blocks = directive_blocks(cell.source)
    if not blocks or blocks[-1].name != name:
        return None
    after = cell.source.split("\n")[blocks[-1].end + 1 :]
    return blocks[-1] if not "".join(after).strip() else None


def is_check_cell(nb, i: int) -> bool:
    """Rule 2: a remove-cell code cell directly after a cell that ends with a {solution}."""
    cell = nb.cells[i]
    return (
        cell.cell_type == "code"
        and "remove-cell" in _tags(cell)
        and i > 0
        and _last_block_is(nb.cells[i - 1], "solution") is not None
    )


def find_exercises(nb, name: str = "") -> list[Exercise]:
    """Every exercise of a notebook with its stub, solution cells and check cell.

    Raises ValueError for what the student edition cannot handle: a {solution} without a
    matching exercise, an exercise without a label, or the gated {solution-start} form.
    """
    exercises: dict[str, Exercise] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for block in directive_blocks(cell.source):
            if block.name in ("solution-start", "solution-end"):
                raise ValueError(f"{name}: the gated {{{block.name}}} form is not supported")
            if block.name == "exercise":
                label = block.options.get("label")
                if not label:
                    raise ValueError(f"{name}: exercise without :label: {block.arg!r}")
                if label in exercises:
                    raise ValueError(f"{name}: duplicate exercise label {label}")
                level, minutes = level_and_minutes(block.arg)
                exercises[label] = Exercise(
                    label=label,
                    title=block.arg,
                    kinds=kinds_of(block.arg),
                    notebook=name,
                    cell=i,
                    statement=block.text,
                    level=level,
                    minutes=minutes,
                )
                nxt = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
                if (
                    _last_block_is(cell, "exercise") == block
                    and nxt is not None
                    and nxt.cell_type == "code"
                    and "remove-cell" not in _tags(nxt)
                ):
                    exercises[label].stub = i + 1
            elif block.name == "solution":
                if block.arg not in exercises:
                    raise ValueError(f"{name}: {{solution}} {block.arg!r} before/without exercise")
                ex = exercises[block.arg]
                ex.solutions.append(i)
                ex.solution_blocks.append(block)
                if _last_block_is(cell, "solution") == block and i + 1 < len(nb.cells):
                    if is_check_cell(nb, i + 1):
                        ex.check = i + 1
    return list(exercises.values())


def remove_blocks(text: str, name: str) -> str:
    """`text` without its `name` directive blocks (and the blank lines right after each)."""
    lines = text.split("\n")
    drop = set()
    for block in directive_blocks(text):
        if block.name != name:
            continue
        j = block.end + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        drop.update(range(block.start, j))
    kept = [line for k, line in enumerate(lines) if k not in drop]
    out = "\n".join(kept)
    return out.rstrip() if drop else out


def full_edition_note(name: str) -> str:
    return (
        "> **Student edition.** No solutions and no outputs: run this notebook top to bottom "
        "yourself and work the exercises at the end (a coding exercise has a stub cell to fill "
        "in). The full edition, with the solutions, the outputs and the hidden cells that check "
        f"the solutions, is `chapters/{name}` in the book's repository and the chapter's page in "
        f"the book (`make book` builds it at `_build/html/chapters/{Path(name).stem}.html`). "
        "Generated by `make student` (`scripts/student_edition.py`): edit the full edition, "
        "not this copy."
    )


ANSWER = {
    "proof": "**Your proof.** Double-click this cell and write it here (math between `$` signs).",
    "conceptual": "**Your answer.** Double-click this cell and write it here.",
}


def answer_cell(exercise: Exercise):
    """Rule 6: the cell a student writes a proof or an answer in (None for coding only)."""
    kinds = [k for k in ("proof", "conceptual") if k in exercise.kinds]
    if not kinds:
        return None
    cell = nbformat.v4.new_markdown_cell(ANSWER[kinds[0]])
    cell.id = f"answer-{exercise.label}"[:64]
    return cell


def student_notebook(nb, name: str):
    """The student edition of one notebook (a new object; `nb` is not changed)."""
    answers = {e.cell: answer_cell(e) for e in find_exercises(nb, name)}  # fail early, too
    out = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(out.cells):
        if is_check_cell(nb, i):
            continue
        if cell.cell_type == "markdown":
            if any(b.name == "solution" for b in directive_blocks(cell.source)):
                cell.source = remove_blocks(cell.source, "solution")
                if not cell.source.strip():
                    continue
        elif cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
        if answers.get(i) is not None:
            cells.append(answers[i])
    note = nbformat.v4.new_markdown_cell(full_edition_note(name))
    note.id = NOTE_ID
    out.cells = [note, *cells]
    out.metadata.pop("widgets", None)
    return out


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks listed in _toc.yml, in order (read without a YAML parser)."""
    entries = re.findall(
        r"^\s*(?:-\s*)?(?:root|file):\s*['\"]?([^'\"#\s]+)",
        (root / "_toc.yml").read_text(),
        re.M,
    )
    paths = [root / f"{entry}.ipynb" for entry in entries]
    return [p for p in paths if p.exists()]


SETUP = (
    "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/jupyter lab"
)


def student_requirements(root: Path = ROOT) -> str:
    """The pins the student notebooks need: the runtime and the JupyterLab sections of the
    book's requirements.txt (same versions, so the numbers match the book's)."""
    keep, lines = False, []
    for line in (root / "requirements.txt").read_text().splitlines():
        if line.startswith("# ---"):
            keep = "runtime" in line or "running the notebooks" in line
        if keep:
            lines.append(line)
    return "# Generated by scripts/student_edition.py from the book's requirements.txt.\n" + (
        "\n".join(lines) + "\n"
    )


def student_readme() -> str:
    return (
        "# Student edition\n\n"
        "The chapters of the book as notebooks to run and work through: every exercise, no "
        "solutions, no outputs. Set up and open JupyterLab with one line (Python 3.11 or "
        "newer; about a minute the first time):\n\n"
        f"    {SETUP}\n\n"
        "The notebooks import the helper package `rnnbias` from this folder. Run each one top "
        "to bottom (Run > Run All Cells): the first cells seed every random generator, so your "
        "numbers are the book's. Write your proofs in the cells marked **Your proof.**\n"
    )


def write_student_edition(outdir: Path | str, root: Path = ROOT) -> list[Path]:
    """Write the student edition of every TOC notebook to `outdir`, with a copy of rnnbias,
    requirements.txt and README.md; return the notebook paths written."""
    outdir = Path(outdir).resolve()
    chapters = (root / "chapters").resolve()
    if outdir == chapters or chapters in outdir.parents:
        raise ValueError(
            f"OUTDIR {outdir} is inside {chapters}: the student notebooks would be built and "
            "tested as chapters. Write them elsewhere, e.g. _build/student."
        )
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in toc_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        target = outdir / path.name
        nbformat.write(student_notebook(nb, path.name), target)
        written.append(target)
    shutil.rmtree(outdir / "rnnbias", ignore_errors=True)
    shutil.copytree(
        root / "rnnbias", outdir / "rnnbias", ignore=shutil.ignore_patterns("__pycache__")
    )
    (outdir / "requirements.txt").write_text(student_requirements(root))
    (outdir / "README.md").write_text(student_readme())
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path, help="where to write the notebooks")
    args = parser.parse_args(argv)
    try:
        written = write_student_edition(args.outdir)
    except ValueError as err:
        print(f"student_edition.py: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote the student edition of {len(written)} notebooks to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
