"""Show that every claims test can fail: make its claim false and watch it fail.

The claims tests (``tests/test_claims_ch*.py``) re-check each chapter's generalising sentences
on fresh settings. A test that cannot fail proves nothing, so this script keeps the record of how
each one was seen to fail: for every test it applies one *mutation* that makes the checked claim
false (the setting the claim does not cover, a wrong exponent, the wrong quantity), runs the
mutated test alone, and requires it to fail with an ``AssertionError``.

    python scripts/claims_mutations.py            # run every mutant (about 10 minutes on 1 core)
    python scripts/claims_mutations.py ch04 ch06  # only these chapters
    python scripts/claims_mutations.py --check    # only validate the table (a second; in CI)

``make mutations`` runs the first form. ``tests/test_claims_mutations.py`` runs ``--check`` in CI,
so the table cannot silently fall out of step with the tests: every claims test needs a mutation,
and every mutation's text must occur exactly once in its file, inside the function it names.
Exit status 1 if a mutant survives (passes) or a mutation is invalid.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` by ``new`` in ``file`` (inside function ``where``), then run ``test``."""

    file: str
    test: str
    old: str
    new: str
    why: str
    where: str = ""  # the function (test, fixture or helper) that contains ``old``; default: test


M = Mutation
MUTATIONS: list[Mutation] = [
    # chapter 1
    M(
        "test_claims_ch01.py",
        "test_population_loss_is_the_squared_head_distance_for_fresh_models",
        "formula = ((rb.impulse_response(students, k) - g_star[:, :k]) ** 2).sum(1)",
        "formula = ((rb.impulse_response(students, k + 1) - g_star[:, : k + 1]) ** 2).sum(1)",
        "the loss also counts tap k (the tail enters)",
    ),
    M(
        "test_claims_ch01.py",
        "test_similarity_invariance_for_real_and_complex_changes_of_basis",
        "C = (model.C.to(S.dtype)[:, None, :] @ S_inv)[:, 0]",
        "C = (model.C.to(S.dtype)[:, None, :] @ S.mT)[:, 0]",
        "C S^T instead of C S^-1 (invariance only for orthogonal S)",
    ),
    M(
        "test_claims_ch01.py",
        "test_a_generic_model_carries_exactly_2d_numbers",
        "n = 3 * d",
        "n = 2 * d - 1",
        "fewer than 2d taps observed: the map cannot carry 2d numbers",
    ),
    M(
        "test_claims_ch01.py",
        "test_eigenvalues_bound_and_shape_the_taps_over_500_lags",
        "rho = lam.abs().amax(1)",
        "rho = lam.abs().amin(1)",
        "the bound with the smallest eigenvalue modulus instead of rho(A)",
    ),
    # chapter 2
    M(
        "test_claims_ch02.py",
        "test_all_outputs_weights_and_the_same_zeros_for_fresh_students",
        "weights = 1 - torch.arange(k, dtype=F64) / k",
        "weights = 1 - torch.arange(k, dtype=F64) / (k + 1)",
        "weights 1 - j/(k+1) instead of 1 - j/k",
    ),
    M(
        "test_claims_ch02.py",
        "test_k_generic_sequences_pin_the_head_and_fewer_leave_a_blind_student",
        "X_few = X[: k - 1]  # N = k - 1",
        "X_few = X[:k]  # N = k",
        "the 'N < k is singular' statement applied at N = k",
    ),
    M(
        "test_claims_ch02.py",
        "test_the_tail_is_out_of_reach_of_any_training_set",
        "short = constructions.with_tail(k, tails[:, :5])",
        "short = constructions.with_tail(k - 1, tails[:, :5])",
        "a 'tail' that starts at lag k - 1, inside the trained head",
    ),
    # chapter 3
    M(
        "test_claims_ch03.py",
        "test_constructions_fail_at_every_horizon",
        "constructions.cyclic(k), TEACHER, k, [m * k for m in range(1, periods + 1)]",
        "constructions.cyclic(k, 0.999), TEACHER, k, [m * k for m in range(1, periods + 1)]",
        "a cyclic student with rho = 0.999: the error no longer grows like m - 1",
    ),
    M(
        "test_claims_ch03.py",
        "test_an_interpolator_with_d_equal_k_has_its_tail_fixed_by_A",
        "predicted = (-1) ** (k + 1) * det[r] * _h(students.A[r], 200)",
        "predicted = (-1) ** k * det[r] * _h(students.A[r], 200)",
        "the wrong sign in g_k = (-1)^(k+1) det A",
    ),
    M(
        "test_claims_ch03.py",
        "test_the_threshold_from_sigma_09_on_fresh_seeds_and_not_from_small_starts",
        "E, rho, conv = _sweep(0.9, seeds, dims, tol=1e-20, max_steps=6000)",
        "E, rho, conv = _sweep(0.1, seeds, dims, tol=1e-20, max_steps=6000)",
        "the sharp threshold claimed from sigma = 0.1, outside its scope",
    ),
    M(
        "test_claims_ch03.py",
        "test_initial_scale_picks_the_tail_at_equal_loss_and_further_training_keeps_it",
        "scales, seeds = [0.1, 0.3, 0.9], list(range(100, 106))",
        "scales, seeds = [0.1, 0.9, 0.3], list(range(100, 106))",
        "the scales out of order: larger scale, smaller tail",
    ),
    # chapter 4
    M(
        "test_claims_ch04.py",
        "test_small_generic_start_error_scales_like_sigma_to_the_2k",
        "E = rb.extrapolation_error(res.model, TEACHER, k_run, 300).view(3, 3, 4)",
        "E = rb.extrapolation_error(res.model, TEACHER, [k + 1 for k in k_run], 300).view(3, 3, 4)",
        "the error from lag k + 1 on: its exponent is 2k + 2, not 2k",
    ),
    M(
        "test_claims_ch04.py",
        "test_large_generic_start_collapses_exactly_when_A_is_unstable",
        "E300, E900 = rb.extrapolation_error(res.model, TEACHER, k_run, [300, 900]).unbind(-1)",
        "E300, E900 = rb.extrapolation_error(res.model, TEACHER, k_run, [300, 320]).unbind(-1)",
        "'collapse' read over 20 lags: slightly unstable runs do not grow tenfold yet",
    ),
    M(
        "test_claims_ch04.py",
        "test_symmetric_start_stays_balanced_and_beats_generic_by_a_growing_margin",
        'sym = rb.init_gaussian(20, 0.5, [*SEEDS, 0], structure="symmetric").to_full()',
        "sym = rb.init_gaussian(20, 0.5, [s + 50 for s in [*SEEDS, 0]])",
        "a generic start in place of the symmetric one",
    ),
    M(
        "test_claims_ch04.py",
        "test_k2_symmetric_interpolators_do_not_extrapolate",
        "res = rb.train_gd(start.to_full(), TEACHER, 2, lr=0.02",
        "res = rb.train_gd(start.to_full(), TEACHER, 3, lr=0.02",
        "trained on k = 3 >= 3, where prop-M-extrapolates applies",
    ),
    # chapter 5
    M(
        "test_claims_ch05.py",
        "test_flow_conserves_Q_and_gradient_descent_drifts_by_order_eta",
        "lrs, k = 60.0, [0.04, 0.02, 0.01], 6",
        "lrs, k = 60.0, [0.04, 0.04, 0.04], 6",
        "one step size three times: the drift does not halve with the step",
    ),
    M(
        "test_claims_ch05.py",
        "test_small_generic_starts_end_balanced_with_a_relative_drift",
        "log_law = torch.tensor([2 * eta * math.log(1 / s)",
        "log_law = torch.tensor([eta * math.log(1 / s)",
        "the logarithmic law off by a factor 2",
    ),
    M(
        "test_claims_ch05.py",
        "test_diagonal_small_start_ends_balanced_with_weights_of_the_teachers_sign",
        "sign = torch.tensor([g for g, _, _ in grid], dtype=F64)[:, None]",
        "sign = torch.ones(len(grid), 1, dtype=F64)",
        "non-negative weights claimed for the negative-gain teacher too",
    ),
    M(
        "test_claims_ch05.py",
        "test_trained_balanced_students_off_M_fit_and_do_not_extrapolate",
        "seeds, rhos = [100, 101, 102, 103], [0.9, 1.0, 0.1]",
        "seeds, rhos = [100, 101, 102, 103], [0.5, 1.0, 0.1]",
        "a smaller balanced start off M, which does extrapolate",
    ),
    # chapter 6
    M(
        "test_claims_ch06.py",
        "test_gradient_descent_learns_the_measure_at_2dhat_plus_1",
        "TEACHER2,\n        5,",
        "TEACHER2,\n        4,",
        "k = 2 d_hat instead of 2 d_hat + 1",
    ),
    M(
        "test_claims_ch06.py",
        "test_overshoot_construction_for_every_dhat",
        "over = float(g[2 * d_hat] - g_hat[2 * d_hat])",
        "over = float(g[2 * d_hat - 1] - g_hat[2 * d_hat - 1])",
        "the overshoot read one lag early (inside the fitted moments)",
    ),
    M(
        "test_claims_ch06.py",
        "test_signed_interpolators_for_every_k",
        "st = moments.vandermonde_student(teacher, atoms, k, extra=delta)",
        "st = moments.vandermonde_student(teacher, atoms, k, extra=2 * delta)",
        "an interpolator whose jump at lag k is not the Delta asked for",
    ),
    M(
        "test_claims_ch06.py",
        "test_prony_recovers_four_atom_teachers",
        "moments.prony(moments.moments(atoms, weights, 8), 4)",
        "moments.prony(moments.moments(atoms, weights, 8) * (1 + 1e-4 * torch.arange(8)), 4)",
        "moments perturbed by 1e-4 relative: not the teacher's moments",
    ),
    # chapter 7
    M(
        "test_claims_ch07.py",
        "test_small_starts_extrapolate_at_every_lag",
        "for s, sd in [(1e-3, 100), (1.0, 102), (1.0, 103)]]",
        "for s, sd in [(1e-3, 100), (3.0, 102), (3.0, 103)]]",
        "the small starts at sigma = 3, a scale the claim does not cover",
        where="_run_table",
    ),
    M(
        "test_claims_ch07.py",
        "test_threshold_2dhat_plus_one",
        'above = _idx(t, "threshold", lambda r: r[2] in (3, 5))',
        'above = _idx(t, "threshold", lambda r: r[2] in (2, 5))',
        "k = 2 d_hat instead of 2 d_hat + 1 for d_hat = 1",
    ),
    M(
        "test_claims_ch07.py",
        "test_balanced_starts_and_the_unstable_modes_they_keep",
        'assert hz is not None and hz < 100 and float(t["sup100"][u]) > BAR',
        'assert float(t["sup"][u]) <= BAR',
        "'balanced starts extrapolate' asserted on the balanced sigma = 3 start",
    ),
    M(
        "test_claims_ch07.py",
        "test_signed_teacher_learned_at_k6",
        '("signed", "mixed", 6, 0.01, 100, False)',
        '("signed", "mixed", 4, 0.01, 100, False)',
        "k = 4 = 2 d_hat instead of 6",
        where="_run_table",
    ),
    M(
        "test_claims_ch07.py",
        "test_robust_recurrence_bound",
        "return norm_p * (math.sqrt((g0 + neg) * (eps + neg)) + neg)",
        "return norm_p * math.sqrt(g0 * eps)",
        "the bound without its N terms, claimed for signed students",
        where="_bound2",
    ),
    # chapter 8
    M(
        "test_claims_ch08.py",
        "test_small_starts_extrapolate_far",
        "assert bool(_flat_in_length(err_first[SMALL]).all())",
        "assert bool(_flat_in_length(err_first[[0, 1, 2, 3, 4]]).all())",
        "the flat-error claim extended to sigma = 1",
    ),
    M(
        "test_claims_ch08.py",
        "test_large_starts_fail_far",
        "assert float(growth[4]) > 2.6  # sigma = 1",
        "assert float(growth[2]) > 2.6  # sigma = 1",
        "the growth claim applied to a sigma = 0.3 start",
    ),
    M(
        "test_claims_ch08.py",
        "test_converged_small_start_is_not_rank_one",
        "sv1, sv2 = _sv(first.model)[TINY], _sv(second.model)[TINY]",
        "sv1, sv2 = _sv(first.model)[TINY], _sv(first.model)[TINY]",
        "no further training: the 1600-step snapshot, where the second direction is weak",
    ),
    M(
        "test_claims_ch08.py",
        "test_trained_on_spectral_radius_stays_near_teacher",
        'rho = torch.linalg.eigvals(tanh_runs["second"].model.A).abs().max(-1).values',
        'rho = torch.linalg.eigvals(tanh_runs["first"].model.A[LARGE]).abs().max(-1).values',
        "the claim applied to the large starts",
    ),
    M(
        "test_claims_ch08.py",
        "test_fading_memory_part3_and_gap",
        'cases = [(first, tanh_runs["err_first"], r) for r in SMALL]',
        'cases = [(first, tanh_runs["err_first"], r) for r in [*SMALL, 5]]',
        "part 3 applied to the sigma = 3 student (||A|| > 1)",
    ),
    M(
        "test_claims_ch08.py",
        "test_gru_small_flat_large_grows",
        'err, loss, _ = gru_runs["small"]',
        'err, loss, _ = gru_runs["large"]',
        "the flat-error claim applied to the scale-4 GRU",
    ),
    M(
        "test_claims_ch08.py",
        "test_gru_small_start_directions",
        '_, loss_2000, sv_2000 = gru_runs["longer"]',
        '_, loss_2000, sv_2000 = gru_runs["small"]',
        "no further training: the third direction has not grown",
    ),
    # chapter 9
    M(
        "test_claims_ch09.py",
        "test_lazy_training_freezes_the_tail_and_a_small_start_does_not",
        "lazy.init_wide(800, seed, sigma_w=math.sqrt(0.5))",
        "lazy.init_wide(800, seed, sigma_w=math.sqrt(0.7))",
        "sigma_W^2 = 0.7: the mean error is not the predicted 0.25",
    ),
    M(
        "test_claims_ch09.py",
        "test_rho_squared_rises_then_decays_and_the_kernel_follows",
        "j_star = q * (2 * q - 1) / (1 - q)",
        "j_star = q / (1 - q)",
        "a wrong position of the peak of rho_j^2",
    ),
    M(
        "test_claims_ch09.py",
        "test_no_memoryless_interpolant_is_flatter_than_4",
        "lr=0.45,",
        "lr=0.55,",
        "the convergence claim below 1/2 applied at eta = 0.55 > 1/2",
    ),
    M(
        "test_claims_ch09.py",
        "test_complex_counterexample_for_every_k",
        "omega = torch.exp(2j * math.pi * torch.arange(k, dtype=F64) / k)",
        "omega = torch.exp(2j * math.pi * torch.arange(k, dtype=F64) / (k + 1))",
        "the wrong roots of unity: the construction no longer interpolates",
    ),
    M(
        "test_claims_ch09.py",
        "test_complex_students_fit_without_extrapolating",
        "ssm.init_complex(20, 0.01, [100, 101, 102])",
        'ssm.from_linear(rb.init_gaussian(20, 0.01, [100, 101, 102], structure="diagonal"))',
        "real diagonal starts (gradient descent keeps them real): students that extrapolate",
    ),
    # chapter 10
    M(
        "test_claims_ch10.py",
        "test_first_escape_takes_the_predicted_steps_per_decade",
        "predicted = dynamics.steps_per_decade(2 * g0, lr)",
        "predicted = dynamics.steps_per_decade(g0, lr)",
        "the unstable rate at the origin taken as g*_0 instead of 2 g*_0",
    ),
    M(
        "test_claims_ch10.py",
        "test_a_critical_one_unit_student_sits_at_a_double_root_of_the_fit",
        "lr=0.01, max_steps=60_000, tol=0)",
        "lr=0.01, max_steps=600, tol=0)",
        "600 steps: not yet at a critical point, so not at a double root",
    ),
    M(
        "test_claims_ch10.py",
        "test_the_one_unit_set_is_invariant_and_holds_the_one_atom_fit",
        "u[j] = 1.0",
        "u[j], u[0] = 1.0, 1e-3",
        "a start off the coordinate set M_{e_j}: the other entries grow",
    ),
    M(
        "test_claims_ch10.py",
        "test_the_first_atom_is_the_first_minimum_on_its_side",
        "first, _, l_first = dynamics.first_atom(g, k)",
        "first, _, l_first = dynamics.one_atom_fit(g, k)",
        "the global fit taken for the first atom: students stop at the local one",
    ),
    M(
        "test_claims_ch10.py",
        "test_the_second_plateau_lengthens_at_the_saddle_rate",
        "predicted = dynamics.steps_per_decade(-float(eig[0]), lr)",
        "predicted = dynamics.steps_per_decade(-float(eig[1]) + 0.5, lr)",
        "the wrong unstable rate",
    ),
    M(
        "test_claims_ch10.py",
        "test_the_third_direction_ends_at_the_scale_of_the_start",
        "scales = [1e-5, 1e-4, 1e-3, 1.0]",
        "scales = [0.1, 0.3, 0.6, 1.0]",
        "large starts: the third direction is not at the scale sigma^2",
    ),
    M(
        "test_claims_ch10.py",
        "test_moderate_starts_end_low_dimensional_without_a_plateau",
        "scales, seeds = [0.1, 0.3, 1.0], [100, 101, 102, 103, 104]",
        "scales, seeds = [1.0, 0.3, 1.0], [100, 101, 102, 103, 104]",
        "sigma = 1 taken for a moderate start: a third direction of its own",
    ),
]


def _functions(path: Path) -> dict[str, str]:
    """Source of every top-level function of a test file, by name."""
    text = path.read_text()
    tree = ast.parse(text)
    return {
        node.name: ast.get_source_segment(text, node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def check(chapters: list[str] | None = None) -> list[str]:
    """Validate the table; return a list of problems (empty when it is sound)."""
    problems = []
    files = sorted(TESTS.glob("test_claims_ch*.py"))
    for path in files:
        if chapters and not any(c in path.name for c in chapters):
            continue
        funcs = _functions(path)
        tests = [name for name in funcs if name.startswith("test_")]
        covered = {m.test for m in MUTATIONS if m.file == path.name}
        problems += [f"{path.name}::{t} has no mutation" for t in tests if t not in covered]
    for m in MUTATIONS:
        if chapters and not any(c in m.file for c in chapters):
            continue
        path = TESTS / m.file
        if not path.exists():
            problems.append(f"{m.file} does not exist")
            continue
        funcs, text = _functions(path), path.read_text()
        where = m.where or m.test
        if m.test not in funcs:
            problems.append(f"{m.file}::{m.test} is not a test in the file")
        if text.count(m.old) != 1:
            problems.append(f"{m.file}::{m.test}: {m.old!r} occurs {text.count(m.old)} times")
        elif m.old not in funcs.get(where, ""):
            problems.append(f"{m.file}::{m.test}: {m.old!r} is not inside {where}()")
        if m.old == m.new:
            problems.append(f"{m.file}::{m.test}: the mutation changes nothing")
    return problems


def run(chapters: list[str] | None = None) -> int:
    """Run every mutant; return the number that survived (or could not run)."""
    chosen = [m for m in MUTATIONS if not chapters or any(c in m.file for c in chapters)]
    survivors = 0
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    print(f"{'test':<78} {'result':<22} {'s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for m in chosen:
            work = Path(tmp) / "tests"
            if work.exists():
                shutil.rmtree(work)
            shutil.copytree(TESTS, work, ignore=shutil.ignore_patterns("__pycache__"))
            target = work / m.file
            target.write_text(target.read_text().replace(m.old, m.new))
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                 "-W", "ignore::pytest.PytestAssertRewriteWarning",
                 f"{target}::{m.test}", "--rootdir", str(work)],
                cwd=tmp, env=env, capture_output=True, text=True,
            )  # fmt: skip
            seconds = time.perf_counter() - start
            out = proc.stdout + proc.stderr
            if proc.returncode == 0:
                result, survivors = "SURVIVED (bad)", survivors + 1
            elif "AssertionError" in out or "\nE       assert" in out:
                result = "failed: assertion"
            else:
                result, survivors = "failed: error (bad)", survivors + 1
            name = f"{m.file.removeprefix('test_claims_').removesuffix('.py')}::{m.test}"
            print(f"{name[:78]:<78} {result:<22} {seconds:6.1f}", flush=True)
            print(f"    mutation: {m.why}", flush=True)
            if result.endswith("(bad)"):
                print("\n".join(out.splitlines()[-15:]))
    print(f"{len(chosen)} mutants, {len(chosen) - survivors} killed by an assertion, "
          f"{survivors} survived or errored")  # fmt: skip
    return survivors


def main(argv: list[str]) -> int:
    chapters = [a for a in argv if not a.startswith("--")] or None
    problems = check(chapters)
    for p in problems:
        print("INVALID:", p)
    if problems or "--check" in argv:
        if not problems:
            print(f"{len(MUTATIONS)} mutations, every claims test covered")
        return 1 if problems else 0
    return 1 if run(chapters) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
