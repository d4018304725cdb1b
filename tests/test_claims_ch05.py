"""Chapter 5's generalising claims, re-run on settings the chapter does not show.

Chapter: ``chapters/05_balancedness.ipynb``. Claims checked:

1. gradient flow conserves ``Q`` and gradient descent drifts from it by ``O(eta)`` (section
   "Gradient descent drifts"), with the drift inside the bound ``4 eta L_0`` of
   ``cor-uniform-drift``: fresh seeds 100-104 (the chapter: 0-4), ``d = 12`` and ``k = 6`` (the
   chapter: 10 and 5), a teacher with memory as well as the memoryless one (the flow is
   integrated for the memoryless one), flow time 60 (the chapter: 20);
2. chapter 4's small generic starts end balanced, ``||B - C^T|| / ||B + C^T||`` of order
   ``sigma^2``, with a drift of ``Q`` that is a fraction of ``Q_0`` far below ``4 eta L_0``,
   growing only slowly as ``sigma`` falls (``sum eta^2 r_0^2`` close to ``2 eta ln(1/sigma)``)
   and predicted by the ``r_0^2`` term, while ``A`` barely moves and stays as far from symmetric
   as at the start (section "Chapter 4's small starts, revisited"): fresh seeds, ``k = 3`` as
   well as 5, scales down to 0.0003 (the chapter: 0.001), 4000 steps without early stopping (the
   chapter stops at ``L_5 <= 1e-9``);
3. diagonal students from a small start end with relative imbalance of order ``sigma^2`` and
   non-negative mode weights for a teacher with positive gain, non-positive ones for a negative
   gain (section "The diagonal case, exactly"): fresh seeds, ``d = 30`` (the chapter: 20), 6000
   steps (the chapter: 3000), and the negative-gain teacher the chapter only argues about;
4. balancedness alone is not enough (section "Balancedness alone is not enough"; the chapter
   shows one hand-built student, the cyclic shift at ``k = 4``): students *trained* by gradient
   descent from exactly balanced starts that are not on ``M`` (``A_0`` a scaled random orthogonal
   matrix, ``C_0 = B_0^T``, so ``Q_0 = 0``) fit ``L_5 <= 1e-12``, stay nearly balanced and fail
   over 500 and 1500 lags; fresh seeds 100-103, with a small-``A`` negative control.

float64 throughout; each test trains its runs in one call.
"""

import math

import torch

import rnnbias as rb
from rnnbias import balance

F64 = torch.float64
TEACHER = rb.memoryless()


def _fro(X):
    return X.flatten(1).norm(dim=1)


def _outer(u, v):
    return u.unsqueeze(-1) * v.unsqueeze(-2)


def _slope(x, y):
    """Least-squares slope of log10 y against log10 x (1-D tensors)."""
    lx, ly = torch.log10(x), torch.log10(y)
    xc = lx - lx.mean()
    return float((xc * (ly - ly.mean())).sum() / (xc**2).sum())


def test_flow_conserves_Q_and_gradient_descent_drifts_by_order_eta():
    """'The drift falls on a line of fitted slope 1.01 [...]; each halving of the step divides it
    by 2 to 2.04. [...] The integrated flow itself keeps Q to within 7.2e-13. [...] The drift
    after 500 steps was at most 0.14 times the corollary's bound 4 eta L_0.'

    Here the drift is read at flow time 60 for every step size, so after up to 6000 steps."""
    rb.set_seed(0)
    t_flow, lrs, k = 60.0, [0.04, 0.02, 0.01], 6
    seeds = [100, 101, 102, 103, 104]
    other = rb.low_dimensional([0.8, -0.5], [1.0, 0.7])
    # five students for each of two teachers, the memoryless one and one with memory
    start = rb.init_gaussian(12, 0.5, seeds * 2)
    targets = torch.stack([t.impulse_response(k) for t in [TEACHER] * 5 + [other] * 5])
    Q0 = balance.imbalance(start)
    # the flow, integrated for the memoryless teacher (the other one is stiff and slow)
    flow = rb.integrate_flow(start.select(range(5)), TEACHER, k, t_flow, rtol=1e-10)
    flow_drift = _fro(balance.imbalance(flow.model) - Q0[:5])
    assert float((flow_drift / _fro(Q0[:5])).max()) < 1e-10
    batch = rb.LinearRNN(*(p.repeat(len(lrs), *[1] * (p.ndim - 1)) for p in start))
    res = rb.train_gd(
        batch, targets.repeat(len(lrs), 1), k, lr=[lr for lr in lrs for _ in range(10)],
        tol=0.0, max_steps=round(t_flow / min(lrs)), record_every=round(t_flow / lrs[0]),
        track={"Q": balance.imbalance},
    )  # fmt: skip
    steps = res.history_steps.tolist()
    drift = torch.stack(
        [
            _fro(res.tracked["Q"][steps.index(round(t_flow / lr)), i * 10 : (i + 1) * 10] - Q0)
            for i, lr in enumerate(lrs)
        ]
    )  # (step size, run)
    halving = drift[:-1] / drift[1:]
    # first order in eta: halving the step halves the drift, more exactly as eta shrinks
    assert bool(((halving[-1] > 1.9) & (halving[-1] < 2.1)).all()), halving
    # the larger steps are looser: one run on the teacher with memory halves by 2.59 at the
    # largest step (the others 2.00-2.08), so the bound for all steps is 1.5-3
    assert bool(((halving > 1.5) & (halving < 3)).all()), halving
    eta = torch.tensor(lrs, dtype=F64)
    for runs in (slice(0, 5), slice(5, 10)):
        assert abs(_slope(eta, drift[:, runs].median(-1).values) - 1) < 0.1
    assert float(drift.min()) > 1e5 * float(flow_drift.max())
    L0 = rb.population_loss(start, targets, k)
    # inside the corollary's bound, and well inside it (the chapter: at most 0.14 of it)
    assert float((drift / (4 * eta[:, None] * L0)).max()) < 0.2


def test_small_generic_starts_end_balanced_with_a_relative_drift():
    """'The corollary is no guide here [bound at least 270 times Q_0]. [...] In every run here
    ||Q - Q_0||_F is at most 0.12 of ||Q_0||_F, a fraction that grows only slowly as sigma falls
    [...] the total sum eta^2 r_0^2 should be about 2 eta ln(1/sigma); measured, it is within
    5.8 % of that in every run. [...] The prediction -eta^2 sum r_0^2 (B B^T - C^T C) matches the
    drift of those steps to within a relative 0.025. [...] ||B - C^T|| / ||B + C^T|| ends between
    0.19 sigma^2 and 0.43 sigma^2 (fitted slope 2.07) [...]. A moved by at most 0.075 of its norm
    and stayed as far from symmetric as the random start [changing by at most 0.0039].'

    The chapter's 0.12 is for its scales 0.001-0.01; the fraction grows like ln(1/sigma), to
    0.19 at sigma = 0.0003 here (0.20 at sigma = 0.0001, checked once), hence the bound 0.25."""
    rb.set_seed(0)
    sigmas, seeds, eta, n_loop = [0.0003, 0.001, 0.003], [100, 101, 102, 103], 0.05, 300
    grid = [(k, s, sd) for k in (3, 5) for s in sigmas for sd in seeds]
    k_run = [k for k, _, _ in grid]
    by_k = {k: [r for r, kr in enumerate(k_run) if kr == k] for k in (3, 5)}
    start = rb.init_gaussian(20, [s for _, s, _ in grid], [sd for _, _, sd in grid])
    Q0 = balance.imbalance(start)
    # the first steps written out, summing the predicted drift -eta^2 r_0^2 (BB^T - C^TC)
    m, predicted = start, torch.zeros_like(Q0)
    sum_r0sq = torch.zeros(len(grid), dtype=F64)
    for _ in range(n_loop):
        grads = [rb.population_loss_grad(m.select(by_k[k]), TEACHER, k)[1] for k in (3, 5)]
        A, B, C = m
        r0 = 2 * ((C * B).sum(-1) - 1)
        sum_r0sq += eta**2 * r0**2
        predicted -= eta**2 * r0.view(-1, 1, 1) ** 2 * (_outer(B, B) - _outer(C, C))
        # the grid lists the k = 3 runs first, so the two gradients concatenate in run order
        G = [torch.cat([g[i] for g in grads]) for i in range(3)]
        m = rb.LinearRNN(*(p - eta * g for p, g in zip(m, G, strict=True)))
    pred_err = _fro(balance.imbalance(m) - Q0 - predicted) / _fro(balance.imbalance(m) - Q0)
    assert float(pred_err.max()) < 0.05
    res = rb.train_gd(m, TEACHER, k_run, lr=eta, clip=10.0, tol=0.0, max_steps=4000)
    assert float(res.loss.max()) < 1e-9
    L0 = torch.ones(len(grid), dtype=F64)
    for k, runs in by_k.items():
        L0[runs] = rb.population_loss(start.select(runs), TEACHER, k)
    assert float((4 * eta * L0 / _fro(Q0)).min()) > 250
    rel_drift = (_fro(balance.imbalance(res.model) - Q0) / _fro(Q0)).view(2, 3, 4)
    assert float(rel_drift.max()) < 0.25  # a fraction of Q_0 (see the docstring)
    med = rel_drift.median(-1).values  # (k, sigma), sigma increasing
    assert bool((med[:, :-1] > med[:, 1:]).all())  # larger for smaller sigma ...
    assert float((med[:, 0] / med[:, -1]).max()) < 1.5  # ... slowly: < 1.5x for 10x smaller
    log_law = torch.tensor([2 * eta * math.log(1 / s) for _, s, _ in grid], dtype=F64)
    assert float((sum_r0sq / log_law - 1).abs().max()) < 0.06
    A, B, C = res.model
    imb = ((B - C).norm(dim=1) / (B + C).norm(dim=1)).view(2, 3, 4)
    scaled = imb / torch.tensor(sigmas, dtype=F64)[None, :, None] ** 2
    assert 0.15 < float(scaled.min()) and float(scaled.max()) < 0.5
    for i in range(2):
        assert abs(_slope(torch.tensor(sigmas, dtype=F64), imb[i].median(-1).values) - 2) < 0.1
    assert float((_fro(A - start.A) / _fro(start.A)).max()) < 0.1
    asym0 = _fro(start.A - start.A.mT) / _fro(start.A)
    asym = _fro(A - A.mT) / _fro(A)
    assert float((asym - asym0).abs().max()) < 0.01 and float(asym.min()) > 1.25


def test_diagonal_small_start_ends_balanced_with_weights_of_the_teachers_sign():
    """'The relative imbalance ||b - c|| / ||b + c|| at the end is [...] of order sigma^2 [...];
    every run with sigma <= 0.1 has no negative weight at all. [...] For a teacher with negative
    gain the roles swap: b_i - c_i grows, and the weights come out non-positive.'"""
    rb.set_seed(0)
    sigmas, seeds = [0.01, 0.03, 0.1, 0.3], [100, 101, 102, 103]
    gains = [1.0, -1.0]
    grid = [(g, s, sd) for g in gains for s in sigmas for sd in seeds]
    start = rb.init_gaussian(
        30, [s for _, s, _ in grid], [sd for _, _, sd in grid], structure="diagonal"
    )
    targets = torch.stack([rb.memoryless(g).impulse_response(5) for g, _, _ in grid])
    res = rb.train_gd(start, targets, 5, lr=0.05, tol=0.0, max_steps=6000)
    assert float(res.loss.max()) < 1e-4
    _, b, c = res.model
    sign = torch.tensor([g for g, _, _ in grid], dtype=F64)[:, None]
    # relative imbalance in the component the teacher's sign favours: b - sign c
    imb = ((b - sign * c).norm(dim=1) / (b + sign * c).norm(dim=1)).view(2, 4, 4)
    for i in range(2):
        assert abs(_slope(torch.tensor(sigmas, dtype=F64), imb[i].median(-1).values) - 2) < 0.3
    weights = b * c * sign  # weights of the teacher's sign count as positive
    wrong = (weights.clamp(max=0).abs().sum(1) / weights.abs().sum(1)).view(2, 4, 4)
    assert float(wrong[:, :3].max()) == 0.0  # sigma <= 0.1: every weight has the teacher's sign


def test_trained_balanced_students_off_M_fit_and_do_not_extrapolate():
    """'Balancedness is not enough: the cyclic student has Q = 0, fits the data and does not
    extrapolate. [...] Q = 0 is compatible with a tail that never decays.'

    Here the students are trained: gradient descent from Q_0 = 0 with an orthogonal A_0 (not
    symmetric, so not on M) fits the data and ends nearly balanced, and yet fails: with
    rho(A_0) = 0.9 the error stays at several per cent of the teacher's g_0^2 = 1 at T = 500, and
    with rho(A_0) = 1 it grows without limit. A start with rho(A_0) = 0.1, also balanced, does
    extrapolate (its tail is of order 0.1^5): the failure predicate is not vacuous. The
    chapter's horizon for the cyclic student is 9 taps; here it is 500 and 1500 lags."""
    rb.set_seed(0)
    seeds, rhos = [100, 101, 102, 103], [0.9, 1.0, 0.1]
    base = rb.init_gaussian(20, 1.0, seeds * len(rhos))
    q, r = torch.linalg.qr(base.A)
    orth = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    rho = torch.tensor([x for x in rhos for _ in seeds], dtype=F64)
    B0 = 0.1 * base.B
    start = rb.LinearRNN(rho.view(-1, 1, 1) * orth, B0, B0.clone())
    assert float(balance.imbalance(start).abs().max()) < 1e-14  # Q_0 = 0 up to round-off
    assert float((_fro(start.A - start.A.mT) / _fro(start.A)).min()) > 1  # far from M
    res = rb.train_gd(start, TEACHER, 5, lr=0.05, clip=10.0, tol=1e-12, max_steps=3000)
    # the rho(A_0) = 0.9 and 1 runs fit to 1e-12 within a few hundred steps
    assert bool(res.converged[:8].all()) and float(res.loss[:8].max()) <= 1e-12
    assert float(_fro(balance.imbalance(res.model)).max()) < 0.01  # nearly balanced
    E = rb.extrapolation_error(res.model, TEACHER, 5, [500, 1500]).view(3, 4, 2)
    assert float(E[0].min()) > 0.05  # rho(A_0) = 0.9: fails at T = 500 and 1500
    assert float(E[1, :, 0].min()) > 10 and float((E[1, :, 1] / E[1, :, 0]).min()) > 1e3
    # the small balanced start extrapolates, although the slow last stretch of its training
    # is not finished after 3000 steps
    assert float(res.loss[8:].max()) < 1e-6 and float(E[2].max()) < 1e-8
