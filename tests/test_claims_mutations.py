"""The record of how each claims test can fail stays in step with the tests.

``scripts/claims_mutations.py`` holds one claim-breaking mutation per test in
``tests/test_claims_ch*.py``; ``make mutations`` runs them (minutes). Here only the table is
validated (a second): every claims test is covered, and every mutation's text occurs exactly
once in its file, inside the function it names, so that it still applies.
"""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "claims_mutations.py"


def _load():
    spec = importlib.util.spec_from_file_location("claims_mutations", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_claims_test_has_a_valid_mutation():
    problems = _load().check()
    assert problems == [], "\n".join(problems)


def test_the_check_finds_a_stale_mutation():
    cm = _load()
    stale = cm.Mutation("test_claims_ch01.py", "test_a_generic_model_carries_exactly_2d_numbers",
                        "this text is not in the file", "x", "a stale mutation")  # fmt: skip
    cm.MUTATIONS.append(stale)
    assert any("occurs 0 times" in p for p in cm.check(["ch01"]))
