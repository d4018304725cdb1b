"""Chapter 1's generalising claims, re-run on settings the chapter does not show.

Chapter: ``chapters/01_linear_rnns.ipynb``. Claims checked:

1. ``thm-population-loss``: on white inputs the loss at length ``k`` is the squared distance of
   the first ``k`` taps, and the taps from lag ``k`` on do not enter: fresh models and teachers
   (seeds 100-115; the chapter: one model, seed 0, and one teacher), ``k = 15`` (the chapter:
   5), checked exactly by unit impulses and by Monte Carlo (Gaussian and random-sign inputs);
2. ``prop-similarity`` for real **and complex** ``S``: fresh seeds 100-111, ``d = 3..8`` (the
   chapter: ``d = 4``), 500 lags (the chapter: 40);
3. the ``2d`` numbers of a generic model (exercise "How many numbers ..."): the Jacobian of the
   taps has rank ``2d`` for ``d = 2..6`` and fresh seeds (the chapter: ``d = 4``, seed 1);
4. the eigenvalues shape the taps (section "Eigenvalues shape the impulse response"):
   ``|g_j| <= (sum_i |w_i|) rho(A)^j`` over 500 lags (the chapter: 30) on fresh random models,
   and decay, persistence and growth followed out to lag 500.

float64 throughout; no training.
"""

import math

import torch

import rnnbias as rb
from rnnbias import widgets

F64 = torch.float64


def _modal(model):
    """Eigenvalues and modal weights w_i = (CV)_i (V^-1 B)_i of every run (complex)."""
    lam, V = torch.linalg.eig(model.A)
    CV = (model.C.to(V.dtype)[:, None, :] @ V)[:, 0]
    VinvB = torch.linalg.solve(V, model.B.to(V.dtype)[..., None])[..., 0]
    return lam, CV * VinvB


def test_population_loss_is_the_squared_head_distance_for_fresh_models():
    """'On white inputs the population loss at length k is exactly sum_{j<k} (g_j - g*_j)^2
    [...]; the taps from lag k on do not enter at all.' Only second moments enter, so random
    signs give the same loss."""
    rb.set_seed(0)
    k, seeds = 15, list(range(100, 116))
    students = rb.init_gaussian(6, 0.8, seed=seeds)
    teachers = rb.init_gaussian(3, 0.9, seed=[s + 100 for s in seeds])
    g_star = rb.impulse_response(teachers, k + 40)
    L = rb.population_loss(students, g_star[:, :k], k)
    formula = ((rb.impulse_response(students, k) - g_star[:, :k]) ** 2).sum(1)
    assert torch.allclose(L, formula, rtol=1e-13, atol=0)
    # exactly, by the k unit impulses: the errors are delta_{k-1}, ..., delta_0
    eye = torch.eye(k, dtype=F64)
    err = rb.forward(students, eye)[..., -1] - rb.convolve(g_star[:, :k], eye)[..., -1]
    assert torch.allclose((err**2).sum(1), L, rtol=1e-12, atol=0)
    # the tail of the teacher does not enter; a change in the head does (negative control)
    scrambled = g_star.clone()
    scrambled[:, k:] = 100 * torch.randn(len(seeds), 40, dtype=F64)
    assert torch.equal(rb.population_loss(students, scrambled[:, :k], k), L)
    longer = rb.population_loss(students, g_star[:, : k + 1], k + 1)
    assert bool((longer != L).all())  # the same formula with one more tap is a different loss
    # Monte Carlo on 4 runs, Gaussian and random-sign inputs, within 4 standard errors
    n = 50_000
    x_gauss = rb.sample_sequences(n, k, seed=100)
    x_sign = torch.sign(rb.sample_sequences(n, k, seed=101))
    for x in (x_gauss, x_sign):
        sq = (
            rb.forward(students.select([0, 1, 2, 3]), x)[..., -1]
            - rb.convolve(g_star[:4, :k], x)[..., -1]
        ) ** 2
        se = sq.std(1) / math.sqrt(n)
        z = (sq.mean(1) - L[:4]) / se
        assert float(z.abs().max()) < 4, z
        # negative control: the same data reject the loss over k + 1 taps
        assert float(((sq.mean(1) - longer[:4]) / se).abs().max()) > 4


def test_similarity_invariance_for_real_and_complex_changes_of_basis():
    """'For every invertible S, real or complex, the model (SAS^-1, SB, CS^-1) has the same
    impulse response as (A, B, C).'"""
    rb.set_seed(0)
    n = 500
    gen = torch.Generator().manual_seed(100)
    for d in range(3, 9):
        model = rb.init_gaussian(d, 0.7, seed=list(range(100, 112)))
        g = rb.impulse_response(model, n)
        scale = g.abs().amax(1, keepdim=True)
        S_real = torch.eye(d, dtype=F64) + 0.5 * torch.randn(12, d, d, generator=gen, dtype=F64)
        S_cplx = S_real + 0.5j * torch.randn(12, d, d, generator=gen, dtype=F64)
        for S in (S_real, S_cplx):
            S_inv = torch.linalg.inv(S)
            A = S @ model.A.to(S.dtype) @ S_inv
            state = (S @ model.B.to(S.dtype)[..., None])[..., 0]
            C = (model.C.to(S.dtype)[:, None, :] @ S_inv)[:, 0]
            taps = []
            for _ in range(n):
                taps.append((C * state).sum(1))
                state = (A @ state[..., None])[..., 0]
            taps = torch.stack(taps, 1)
            assert float(((taps - g).abs() / scale).max()) < 1e-10
            if S is S_cplx:
                assert float(A.imag.abs().amax((1, 2)).min()) > 0.01  # genuinely complex
        # negative control: transforming A and C but not B changes the taps
        S_inv = torch.linalg.inv(S_real)
        wrong = rb.LinearRNN(S_real @ model.A @ S_inv, model.B, (model.C[:, None, :] @ S_inv)[:, 0])
        assert float(((rb.impulse_response(wrong, n) - g).abs() / scale).max()) > 1e-3


def test_a_generic_model_carries_exactly_2d_numbers():
    """'The d^2 + 2d parameters carry only 2d numbers' worth of function': the Jacobian of the
    taps has rank 2d (the chapter's d = 4 model shows a gap of more than ten orders after the
    2d-th singular value; ill-conditioned fresh models still show more than six)."""
    rb.set_seed(0)
    for d in range(2, 7):
        for seed in (100, 101):
            m = rb.init_gaussian(d, 0.8, seed=seed)
            n = 3 * d

            def taps(A, B, C, n=n):
                return rb.impulse_response(rb.LinearRNN(A, B, C), n)[0]

            J = torch.cat(
                [j.reshape(n, -1) for j in torch.autograd.functional.jacobian(taps, tuple(m))], 1
            )
            sv = torch.linalg.svdvals(J)
            assert int(torch.linalg.matrix_rank(J)) == 2 * d
            assert float(sv[2 * d] / sv[2 * d - 1]) < 1e-6  # a gap of more than six orders
    # negative control: a non-minimal model (an unreachable second block) has a lower rank
    A = torch.block_diag(torch.tensor([[0.5, 0.2], [0.1, -0.3]]), torch.tensor([[0.7]])).to(F64)
    m = rb.LinearRNN(
        A[None],
        torch.tensor([[1.0, 0.5, 0.0]], dtype=F64),
        torch.tensor([[1.0, -1.0, 2.0]], dtype=F64),
    )

    def taps3(A, B, C):
        return rb.impulse_response(rb.LinearRNN(A, B, C), 9)[0]

    J = torch.cat(
        [j.reshape(9, -1) for j in torch.autograd.functional.jacobian(taps3, tuple(m))], 1
    )
    assert int(torch.linalg.matrix_rank(J)) < 2 * 3


def test_eigenvalues_bound_and_shape_the_taps_over_500_lags():
    """'|g_j| <= (sum_i |w_i|) rho(A)^j'; 'inside the circle the taps decay, on it they persist,
    outside it they grow' (the three rows of the eigenvalue figure, and random models)."""
    rb.set_seed(0)
    n = 500
    j = torch.arange(n, dtype=F64)
    models = rb.init_gaussian(4, [0.6, 0.9, 1.2, 1.5] * 5, seed=list(range(100, 120)))
    lam, w = _modal(models)
    rho = lam.abs().amax(1)
    g = rb.impulse_response(models, n)
    bound = w.abs().sum(1, keepdim=True) * rho[:, None] ** j
    assert bool((g.abs() <= bound * (1 + 1e-9) + 1e-12).all())
    # negative control: a bound with a slightly smaller rate fails on the growing models
    assert not bool((g.abs() <= w.abs().sum(1, keepdim=True) * (0.95 * rho[:, None]) ** j).all())
    # decay and growth, far out, for the models away from the circle
    early, late = g[:, :50].abs().amax(1), g[:, 450:].abs().amax(1)
    assert bool((late[rho < 0.95] < 1e-6 * early[rho < 0.95]).all())
    assert bool((late[rho > 1.05] > 1e6 * early[rho > 1.05]).all())
    assert int((rho < 0.95).sum()) >= 3 and int((rho > 1.05).sum()) >= 3
    # the chapter's three rows, 500 lags: decays, persists (envelope 1), grows like 1.12^j
    rows = [(0.8, 0.6, 0.5), (1.0, 0.6, 0.5), (1.12, 0.6, -0.5)]
    g_rows = [rb.impulse_response(widgets.oscillator(*s), n)[0] for s in rows]
    assert float(g_rows[0][450:].abs().max()) < 1e-40
    assert 0.9 < float(g_rows[1][450:].abs().max()) <= 1.0 + 1e-9
    growth = (
        math.log(float(g_rows[2][450:].abs().max()) / float(g_rows[2][200:250].abs().max())) / 250
    )
    assert abs(growth - math.log(1.12)) < 0.01 * math.log(1.12)
