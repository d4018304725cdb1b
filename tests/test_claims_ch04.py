"""Chapter 4's generalising claims, re-run on settings the chapter does not show.

Chapter: ``chapters/04_which_solution.ipynb``. Claims checked:

1. the ``sigma^(2k)`` law of a small generic start, and its premise that training leaves ``A``
   where it was (section "A random start: the scale decides"): fresh seeds 100-103 (the chapter:
   0-3), a smaller scale 0.001 (the chapter's smallest is 0.003), 2000 steps without early
   stopping (the chapter stops at ``L_k <= 1e-9``: at its scales 0.003 and 0.01 after 102 to
   3,365 steps), horizon ``T = 300`` (the chapter: 100);
2. at ``sigma in {0.8, 1, 1.3}`` a generic run collapses exactly when its trained ``A`` is
   unstable; grouped by ``rho(A_0)``, most runs with ``rho(A_0) > 1`` end unstable and none
   with ``rho(A_0) <= 1``; without clipping large starts diverge: fresh seeds, training to
   ``L_k <= 1e-12`` (the chapter: ``1e-9``; one ``sigma = 0.8`` run ends at ``4.8e-11``),
   growth measured between ``T = 300`` and ``T = 900`` (the chapter: 100 and 300);
3. the symmetric-balanced start stays on the set ``M``; a run that ends with ``rho(A) < 1``
   extrapolates and one that ends with ``rho(A) > 1`` collapses; it beats the generic start at
   ``sigma = 0.5``, ``k = 5`` by a margin that grows with training (section "A structured
   start"), with the finite-tolerance bound of ``prop-tolerance``: fresh seeds, flow time
   ``eta * steps = 1600`` (the chapter: ``0.05 * 20,000 = 1000``; here step size 0.1), horizon
   ``T = 500`` (the chapter: 100);
4. gradient descent finds symmetric-balanced interpolators at ``k = 2`` that do not extrapolate
   (section "Why k >= 3"), while the same starts trained at ``k = 3`` do: fresh seeds 100-104,
   also ``sigma = 0.3`` (the chapter: 0.1, 0.5, 1).

float64 throughout, ``d = 20`` as in the chapter; each test trains its runs in one call.
"""

import warnings

import torch

import rnnbias as rb

F64 = torch.float64
TEACHER = rb.memoryless()
SEEDS = [100, 101, 102, 103]


def _slopes(E, sigmas):
    """Least-squares slope of log10 E against log10 sigma along dimension 1."""
    x = torch.log10(torch.tensor(sigmas, dtype=F64))
    xc = x - x.mean()
    y = torch.log10(E)
    return (xc[None, :, None] * (y - y.mean(1, keepdim=True))).sum(1) / (xc**2).sum()


def test_small_generic_start_error_scales_like_sigma_to_the_2k():
    """'Over the three smallest scales [...] the sigma^(2k) law holds well: median slope 5.95,
    9.74 and 19.7 for k = 3, 5, 10 [...]. Training changes A by only 0.022 to 0.096 of its
    initial norm.' The slope is also near 2k at moderate scales, so this test checks the
    exponent (it rules out 2k - 2 and 2k + 2), not where the law stops."""
    rb.set_seed(0)
    ks, sigmas = [3, 5, 10], [0.001, 0.003, 0.01]
    grid = [(k, s, sd) for k in ks for s in sigmas for sd in SEEDS]
    k_run = [k for k, _, _ in grid]
    start = rb.init_gaussian(20, [s for _, s, _ in grid], [sd for _, _, sd in grid])
    res = rb.train_gd(start, TEACHER, k_run, lr=0.05, clip=10.0, tol=0.0, max_steps=2000)
    assert float(res.loss.max()) < 1e-9  # trained past the chapter's tolerance
    E = rb.extrapolation_error(res.model, TEACHER, k_run, 300).view(3, 3, 4)
    slopes = _slopes(E, sigmas)  # (k, seed)
    for i, k in enumerate(ks):
        median = float(slopes[i].quantile(0.5))
        assert abs(median - 2 * k) <= 0.05 * 2 * k, (k, slopes[i])
        assert bool(((slopes[i] - 2 * k).abs() <= 0.1 * 2 * k).all()), (k, slopes[i])
        # the fit separates the law from its neighbours sigma^(2k -+ 2): not a loose tolerance
        assert abs(median - 2 * (k - 1)) > 0.05 * 2 * k and abs(median - 2 * (k + 1)) > 0.05 * 2 * k
    moved = (res.model.A - start.A).flatten(1).norm(dim=1) / start.A.flatten(1).norm(dim=1)
    assert float(moved.max()) < 0.1


def test_large_generic_start_collapses_exactly_when_A_is_unstable():
    """'Once the initial spectral radius exceeds 1 [...] the trained A is mostly unstable too
    (19 of the 21 runs with rho(A_0) > 1 [...], and 0 of the 87 with rho(A_0) <= 1 [...]), and
    exactly those runs collapse: their tail grows with the lag instead of decaying.'
    And: 'Without clipping, 6 of the 36 starts with sigma >= 0.8 diverge.'"""
    rb.set_seed(0)
    grid = [(k, s, sd) for k in (3, 5, 10) for s in (0.8, 1.0, 1.3) for sd in SEEDS]
    k_run = [k for k, _, _ in grid]
    start = rb.init_gaussian(20, [s for _, s, _ in grid], [sd for _, _, sd in grid])
    res = rb.train_gd(start, TEACHER, k_run, lr=0.05, clip=10.0, tol=1e-12, max_steps=20_000)
    assert not bool(res.diverged.any()) and float(res.loss.max()) < 1e-10
    E300, E900 = rb.extrapolation_error(res.model, TEACHER, k_run, [300, 900]).unbind(-1)
    unstable = rb.spectral_radius(res.model) > 1
    assert bool(((E900 > 10 * E300) == unstable).all())
    rho0 = rb.spectral_radius(start)
    assert int(unstable[rho0 > 1].sum()) >= 0.75 * int((rho0 > 1).sum())
    assert not bool(unstable[rho0 <= 1].any()) and int((rho0 <= 1).sum()) > 0
    # the clipping is needed: without it some of these starts diverge within 20 steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        raw = rb.train_gd(start, TEACHER, k_run, lr=0.05, tol=1e-12, max_steps=20)
    assert int(raw.diverged.sum()) > 0


def test_symmetric_start_stays_balanced_and_beats_generic_by_a_growing_margin():
    """'Gradient descent kept every run with sigma <= 0.5 on M to round-off [...]. At T = 100 [...],
    at sigma = 0.5 and k = 5 its median E_(5,100) is [...] 3.1e5 times smaller than the generic
    start's [...]. Every symmetric run that ended with rho(A) < 1 has E_(k,100) at most 1.1e-9;
    [the runs that] end with rho(A) slightly above 1 [...] keep growing beyond T = 100. [...] The
    median ratio between the two grows [...].' And prop-tolerance's bound holds. The four fresh
    seeds all end stable, so the chapter's seed 0 (rho(A_0) = 1.09, which ends slightly unstable)
    is added to check the collapse clause; the ratio uses the fresh seeds only."""
    rb.set_seed(0)
    sym = rb.init_gaussian(20, 0.5, [*SEEDS, 0], structure="symmetric").to_full()
    gen = rb.init_gaussian(20, 0.5, SEEDS)
    both = rb.LinearRNN(*(torch.cat([p, q]) for p, q in zip(sym, gen, strict=True)))

    def e500(m):
        return rb.extrapolation_error(m, TEACHER, 5, 500)

    res = rb.train_gd(
        both, TEACHER, 5, lr=0.1, clip=10.0, tol=1e-12, max_steps=16_000,
        record_every=8000, track={"E": e500},
    )  # fmt: skip
    A, B, C = res.model.select(range(5))
    structure = (A - A.mT).abs().amax((1, 2)) + (B - C).abs().amax(1)
    assert float(structure.max()) < 1e-13
    E_sym, E_gen = res.tracked["E"][-1, :5], res.tracked["E"][-1, 5:]
    E1500 = rb.extrapolation_error(res.model.select(range(5)), TEACHER, 5, 1500)
    stable = rb.spectral_radius(res.model.select(range(5))) < 1
    assert int(stable[:4].sum()) >= 2  # the comparison below needs a stable majority
    assert int((~stable).sum()) >= 1  # the collapse clause is checked on at least one run
    assert float(E_sym[stable].max()) < 2e-9  # stable runs extrapolate ...
    assert bool((E1500[~stable] > 10 * E_sym[~stable]).all())  # ... unstable ones collapse
    ratio_end = E_gen.quantile(0.5) / E_sym[:4].quantile(0.5)
    ratio_mid = res.tracked["E"][1, 5:].quantile(0.5) / res.tracked["E"][1, :4].quantile(0.5)
    assert float(ratio_end) > 1e5 and float(ratio_end) > 2 * float(ratio_mid)
    # prop-tolerance at T = 500: E <= eps * sum_{k <= j < T} ||A||^(2(j-2))
    nA = torch.linalg.matrix_norm(A, ord=2)
    j = torch.arange(5, 500, dtype=F64)
    bound = res.loss[:5] * (nA[:, None] ** (2 * (j - 2))).sum(-1)
    assert bool((E_sym <= bound).all())


def test_k2_symmetric_interpolators_do_not_extrapolate():
    """'Every run reaches L_2 <= 1e-12 [...], on M, and yet the median E_(2,4) is [...] 0.089
    and 1.4 for sigma = 0.5, 1 [...]; E_(2,4) > 1e-3 in 5 of 5 seeds.' Negative control: the
    same starts trained at k = 3 (prop-M-extrapolates) reach E_(2,4) < 1e-6."""
    rb.set_seed(0)
    seeds = [*SEEDS, 104]
    start = rb.init_gaussian(20, [0.5] * 5 + [1.0] * 5, seeds * 2, structure="symmetric")
    res = rb.train_gd(start.to_full(), TEACHER, 2, lr=0.02, clip=10.0, tol=1e-12, max_steps=20_000)
    assert bool(res.converged.all())
    A, B, C = res.model
    assert float(((A - A.mT).abs().amax((1, 2)) + (B - C).abs().amax(1)).max()) < 1e-14
    E4 = rb.extrapolation_error(res.model, TEACHER, 2, 4)
    assert bool((E4 > 1e-3).all())
    k3 = rb.train_gd(start.to_full(), TEACHER, 3, lr=0.05, clip=10.0, tol=1e-14, max_steps=5000)
    assert float(rb.extrapolation_error(k3.model, TEACHER, 2, 4).max()) < 1e-6
