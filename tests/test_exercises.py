"""Tests of the exercises: their anatomy in the full edition, the student edition, the index page.

The student edition is written by `scripts/student_edition.py` (`make student`) and the index page
`chapters/exercises.md` by `scripts/exercise_index.py`. Everything here is fast except
`test_student_notebook_runs_top_to_bottom`, which executes the ten student notebooks (a few
minutes); CI runs it. Locally, skip it with `-k "not runs_top_to_bottom"`.
"""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
sys.path.insert(0, str(ROOT / "scripts"))

import exercise_index  # noqa: E402
import student_edition as se  # noqa: E402
from kernels import PromptKernelManager  # noqa: E402

NOTEBOOKS = se.toc_notebooks()
FULL = {p.name: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
EXERCISES = [e for name, nb in FULL.items() for e in se.find_exercises(nb, name)]


def _ids(exercises):
    return [e.label for e in exercises]


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _solution_check_cells(nb):
    """Ids of the hidden cells that check a solution: a remove-cell code cell right after a
    markdown cell whose text ends with a {solution} block (independent of the script's parser)."""
    ids = set()
    for prev, cell in zip(nb.cells, nb.cells[1:], strict=False):
        if (
            cell.cell_type == "code"
            and "remove-cell" in _tags(cell)
            and prev.cell_type == "markdown"
        ):
            last_directive = re.findall(r"^`{3,}\{([\w-]+)\}", prev.source, re.M)[-1:]
            if last_directive == ["solution"] and re.search(r"\n`{4,}\s*$", prev.source):
                ids.add(cell.id)
    return ids


def _solution_code(nb, exercise):
    """The lines of code of an exercise's solution: its ```python blocks and its check cell."""
    chunks = [
        code
        for block in exercise.solution_blocks
        for code in re.findall(r"^```python\n(.*?)^```", block.text, re.M | re.S)
    ]
    if exercise.check is not None:
        chunks.append(nb.cells[exercise.check].source)
    return {line.strip() for chunk in chunks for line in chunk.splitlines() if line.strip()}


# --- (a) the full edition ---------------------------------------------------------------------


def test_the_book_has_its_exercises_and_labels_are_unique():
    labels = [e.label for e in EXERCISES]
    assert len(labels) == 30, f"{len(labels)} exercises"
    assert len(set(labels)) == len(labels), "duplicate exercise labels"
    raw = sum(
        len(re.findall(r"^`{3,}\{exercise\}", c.source, re.M))
        for nb in FULL.values()
        for c in nb.cells
        if c.cell_type == "markdown"
    )
    assert raw == len(labels), "the parser missed an {exercise} block"


@pytest.mark.parametrize("exercise", EXERCISES, ids=_ids(EXERCISES))
def test_exercise_has_exactly_one_dropdown_solution(exercise):
    nb = FULL[exercise.notebook]
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    raw = re.findall(rf"^`{{3,}}\{{solution\}}\s*{re.escape(exercise.label)}\s*$", md, re.M)
    assert len(raw) == 1, f"{len(raw)} {{solution}} blocks for {exercise.label}"
    assert len(exercise.solution_blocks) == 1
    (block,) = exercise.solution_blocks
    assert block.options.get("class") == "dropdown", f"options {block.options}"
    assert exercise.solutions[0] >= exercise.cell, "the solution comes before its exercise"


CODING = [e for e in EXERCISES if "coding" in e.kinds]


@pytest.mark.parametrize("exercise", CODING, ids=_ids(CODING))
def test_coding_exercise_states_its_expected_output(exercise):
    assert re.search(r"\*\*Expected output:\*\*|\{admonition\} Expected output", exercise.statement)


PREDICT = [e for e in EXERCISES if re.search("predict|before running", e.statement, re.I)]


@pytest.mark.parametrize("exercise", PREDICT, ids=_ids(PREDICT))
def test_predict_first_exercise_folds_its_expected_output(exercise):
    """An exercise that asks for a prediction does not print the answer under the question:
    the expected output is in a dropdown, folded in the book and in JupyterLab."""
    assert "**Expected" not in exercise.statement, "the expected output is printed open"
    folded = re.search(
        r"^```\{admonition\} Expected (output|result)[^\n]*\n:class: dropdown$",
        exercise.statement,
        re.M,
    )
    assert folded, "no folded 'Expected output' admonition"


def test_the_predict_first_exercises_are_found():
    labels = {e.label for e in PREDICT}
    named = {
        "ex-ch1-count",
        "ex-ch2-sampling",
        "ex-ch3-sup",
        "ex-ch5-other-teacher",
        "ex-ch6-prony-noise",
    }
    assert named <= labels and len(PREDICT) >= 6, sorted(labels)


# an exercise to run: coding, or a proof or question with a numerical check ("then check")
RUN = [e for e in EXERCISES if "coding" in e.kinds or "check" in e.title]


@pytest.mark.parametrize("exercise", RUN, ids=_ids(RUN))
def test_exercise_with_code_to_write_is_followed_by_a_stub(exercise):
    nb = FULL[exercise.notebook]
    assert exercise.stub == exercise.cell + 1, "no stub code cell right after the exercise"
    stub = nb.cells[exercise.stub]
    assert stub.cell_type == "code" and "remove-cell" not in _tags(stub)
    assert stub.source.lstrip().startswith("# Exercise"), "a stub opens with '# Exercise: ...'"


def test_kinds_are_read_from_the_title():
    assert se.kinds_of("T (proof, then check)") == ("proof",)
    assert se.kinds_of("T (conceptual, then coding)") == ("conceptual", "coding")
    assert se.kinds_of("T (coding, predict then run)") == ("coding",)
    assert se.kinds_of("Does $A = 0$ stay put? (conceptual)") == ("conceptual",)
    with pytest.raises(ValueError):
        se.kinds_of("no kind at all")


# --- (b) the student edition --------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    se.write_student_edition(out)
    return out


def test_student_edition_has_every_toc_notebook_and_is_deterministic(student_dir, tmp_path):
    bundle = ["README.md", "requirements.txt", "rnnbias"]
    assert sorted(p.name for p in student_dir.iterdir()) == sorted([*FULL, *bundle])
    se.write_student_edition(tmp_path)
    for name in [*FULL, "README.md", "requirements.txt"]:
        assert (tmp_path / name).read_bytes() == (student_dir / name).read_bytes(), name


def test_student_folder_is_runnable_on_its_own(student_dir):
    """It bundles rnnbias (imported from the folder, not from the book's checkout), the pins
    the notebooks need, and a README whose one line sets up and opens JupyterLab."""
    here = subprocess.run(
        [sys.executable, "-c", "import rnnbias; print(rnnbias.__file__)"],
        cwd=student_dir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(here).resolve().parent == (student_dir / "rnnbias").resolve()
    package = {p.name for p in (ROOT / "rnnbias").glob("*.py")}
    assert {p.name for p in (student_dir / "rnnbias").glob("*.py")} == package
    pins = (student_dir / "requirements.txt").read_text()
    book = (ROOT / "requirements.txt").read_text().splitlines()
    for name in ("torch", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab-myst"):
        (line,) = [x for x in book if x.startswith(f"{name}==")]
        assert line in pins.splitlines(), f"{name}: not pinned as in the book"
    assert se.SETUP in (student_dir / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(FULL))
def test_student_proofs_and_questions_have_an_answer_cell(student_dir, name):
    student = nbformat.read(student_dir / name, as_version=4)
    ids = [c.id for c in student.cells]
    for exercise in (e for e in EXERCISES if e.notebook == name):
        statement = FULL[name].cells[exercise.cell].id
        answer = f"answer-{exercise.label}"
        if {"proof", "conceptual"} & set(exercise.kinds):
            assert ids[ids.index(statement) + 1] == answer, f"{exercise.label}: no answer cell"
            assert "**Your" in student.cells[ids.index(answer)].source
        else:
            assert answer not in ids


def test_student_edition_refuses_to_write_into_chapters(capsys):
    with pytest.raises(ValueError, match="inside"):
        se.write_student_edition(CHAPTERS / "student")
    assert se.main([str(CHAPTERS)]) == 2
    assert "inside" in capsys.readouterr().err
    assert not (CHAPTERS / "student").exists()


@pytest.mark.parametrize("name", sorted(FULL))
def test_student_notebook_keeps_exercises_and_stubs_and_drops_solutions(student_dir, name):
    full = FULL[name]
    student = nbformat.read(student_dir / name, as_version=4)
    cells = {c.id: c for c in student.cells}
    md = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")

    assert student.cells[0].id == se.NOTE_ID and "Student edition" in student.cells[0].source
    assert "{solution" not in md, "a {solution} block is left"
    for exercise in (e for e in EXERCISES if e.notebook == name):
        assert exercise.statement in md, f"{exercise.label}: statement changed or missing"
        if exercise.stub is not None:
            stub = full.cells[exercise.stub]
            assert cells[stub.id].source == stub.source, f"{exercise.label}: stub changed"

    checks = _solution_check_cells(full)
    assert checks and not checks & cells.keys(), "a solution check cell is left"
    # everything else stays, in order: other cells unchanged, solution-only cells dropped
    kept = [c for c in full.cells if c.id not in checks and c.id in cells]
    added = [c.id for c in student.cells[1:] if c.id.startswith("answer-")]
    assert [c.id for c in student.cells[1:] if c.id not in added] == [c.id for c in kept]
    for c in full.cells:
        if c.id in checks:
            continue
        if "{solution}" not in c.source:
            assert c.id in cells and cells[c.id].source == c.source, f"cell {c.id} changed"
            assert _tags(cells[c.id]) == _tags(c), f"cell {c.id}: tags changed"
        elif c.id not in cells:
            assert re.fullmatch(r"(?s)\s*````\{solution\}.*````\s*", c.source), c.id
    for c in student.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None
    hidden_main_text = [c for c in kept if c.cell_type == "code" and "remove-cell" in _tags(c)]
    assert len(hidden_main_text) == sum(
        "remove-cell" in _tags(c) for c in full.cells if c.cell_type == "code"
    ) - len(checks), "a hidden check of the main text was removed"
    assert "widgets" not in student.metadata


@pytest.mark.parametrize("name", sorted(FULL))
def test_student_notebook_contains_no_line_of_solution_code(student_dir, name):
    full = FULL[name]
    checks = _solution_check_cells(full)
    # lines the student is given anyway: the visible code and the stubs of the full edition
    given = {
        line.strip()
        for c in full.cells
        if c.cell_type == "code" and c.id not in checks
        for line in c.source.splitlines()
    }
    student = json.loads((student_dir / name).read_text())
    text = {line.strip() for c in student["cells"] for line in "".join(c["source"]).splitlines()}
    secret_lines = 0
    for exercise in (e for e in EXERCISES if e.notebook == name):
        secret = {line for line in _solution_code(full, exercise) - given if re.search(r"\w", line)}
        secret_lines += len(secret)
        leaked = secret & text
        assert not leaked, f"{exercise.label}: solution code in the student edition: {leaked}"
    assert secret_lines > 0  # the check is not vacuous


# --- (c) the student notebooks run --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FULL))
def test_student_notebook_runs_top_to_bottom(student_dir, name):
    """Execute the student notebook as a student would, in the handed-out folder (slow)."""
    from nbclient import NotebookClient

    nb = nbformat.read(student_dir / name, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(student_dir)}},
        kernel_manager_class=PromptKernelManager,  # (no stall on a missed reply: see kernels.py)
    ).execute()  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"{name}: executed in {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("ename")]
    assert not errors


# --- (d) the index page ---------------------------------------------------------------------------


def test_exercise_index_is_up_to_date(capsys):
    assert exercise_index.main(["--check"]) == 0, capsys.readouterr().err


def test_exercise_index_lists_every_exercise_once():
    page = exercise_index.PAGE.read_text()
    for e in EXERCISES:
        assert page.count(f"](#{e.label})") == 1, e.label


def test_exercise_index_check_fails_on_a_stale_page(tmp_path, capsys):
    stale = tmp_path / "exercises.md"
    stale.write_text(exercise_index.render().replace("coding", "proof", 1))
    assert exercise_index.main(["--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert exercise_index.main(["--check", "--output", str(tmp_path / "missing.md")]) == 1


# --- (e) the instructors' answer key -------------------------------------------------------------


def test_answer_key_has_every_exercise_its_solution_and_its_check(tmp_path):
    import answer_key

    assert answer_key.main([str(tmp_path)]) == 0
    key = (tmp_path / "answer-key.md").read_text()
    for exercise in EXERCISES:
        assert f"`{exercise.label}`" in key, exercise.label
        assert f"about {exercise.minutes} min" in key
        for block in exercise.solution_blocks:
            body = answer_key._inner(block.text)
            assert body and body in key, f"{exercise.label}: solution missing"
        if exercise.check is not None:
            check = FULL[exercise.notebook].cells[exercise.check].source.rstrip()
            assert check in key, f"{exercise.label}: check missing"
    assert key.count("\n### Exercise ") == len(EXERCISES)
    assert "answer-key" not in (ROOT / "_toc.yml").read_text()  # not part of the book


def test_the_course_pages_typical_exercise_times_hold():
    """course_module.md: "most proofs take 20-30 minutes, most coding exercises 15-20"."""
    text = " ".join((ROOT / "chapters" / "course_module.md").read_text().split())
    assert "most proofs take 20–30 minutes, most coding exercises 15–20" in text
    proofs = [e.minutes for e in EXERCISES if "proof" in e.kinds]
    coding = [e.minutes for e in EXERCISES if "coding" in e.kinds]
    assert sum(20 <= m <= 30 for m in proofs) > len(proofs) / 2, proofs
    assert sum(15 <= m <= 20 for m in coding) > len(coding) / 2, coding
