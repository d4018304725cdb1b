"""Chapter 6's generalising claims, re-run on settings the chapter does not show.

Chapter: ``chapters/06_moments.ipynb``. Claims checked:

- gradient descent from a small start concentrates the learned measure on the teacher's atoms
  and extrapolates at ``k = 2 d_hat + 1``, and fits but fails at ``k = 2 d_hat`` (section "A
  learned measure"); at ``k = 2 d_hat + 1`` the residual lies along the coefficients ``s`` of
  ``p^2`` and ``integral p^2 dmu`` is carried by the modes away from the teacher's atoms ("Why
  the last stretch is slow"): fresh seeds 100-107 at ``k = 5`` and 100-101 at ``k = 4`` (the
  chapter uses 0-2), 105,000 steps (the chapter: 100,000; a genuinely longer budget does not fit
  the time limit, as a step costs about 0.1 ms whatever the batch), errors over 3000 lags (the
  chapter: 1000);
- the overshoot construction works for every ``d_hat`` and every mass below the Hankel limit
  (``prop-overshoot``, ``prop-hankel-quadrature``): random teachers with ``d_hat`` up to 4 (the
  chapter shows ``d_hat = 1, 2``), random points ``x0``, masses up to 0.99 of the limit;
- signed interpolators exist for every ``k`` (``prop-signed-interpolators``): ``k`` up to 10 with
  random atoms (the chapter: ``k = 3, 5, 8`` with equally spaced atoms);
- Prony's method recovers a teacher from ``2 d_hat`` moments: ``d_hat = 4`` (the chapter: 1-3).

float64 throughout; each training call batches all its runs (one call per ``k``, so that the
``k = 5`` call never leaves its fast path when the quickly converging ``k = 4`` runs stop).
"""

import torch

import rnnbias as rb
from rnnbias import moments

F64 = torch.float64
TEACHER2 = rb.low_dimensional([0.9, -0.6], [1.0, 1.0])


def _random_teacher(gen, d_hat):
    """Distinct atoms at least 0.15 apart in [-0.9, 0.9], weights in [0.3, 1.5]."""
    grid = torch.linspace(-0.9, 0.9, 13, dtype=F64)
    atoms = grid[torch.randperm(13, generator=gen)[:d_hat]].sort().values
    weights = 0.3 + 1.2 * torch.rand(d_hat, generator=gen, dtype=F64)
    return atoms, weights


def _quadrature(m, n):
    """prop-hankel-quadrature: atoms and weights from 2n numbers with a PD Hankel matrix."""
    H = moments.hankel(m[: 2 * n - 1], n - 1)
    Hs = torch.stack([m[i + 1 : i + 1 + n] for i in range(n)])
    R = torch.linalg.cholesky(H).mT  # H = R^T R; raises if H is not positive definite
    R_inv = torch.linalg.inv(R)
    lam, U = torch.linalg.eigh(R_inv.mT @ Hs @ R_inv)
    V = R.mT @ U
    return lam, V[0] ** 2


def test_gradient_descent_learns_the_measure_at_2dhat_plus_1():
    """'At k = 5 at least 0.985 of the absolute weight lies within 0.02 of the teacher's atoms,
    the largest error over 1000 lags is at most 6.2e-4 [...], at the end [the negative weight is]
    at most 2e-8: nearly non-negative'; 'the residual lies along s [...] the modes farther than
    0.02 from both atoms [...] hold at least 0.966 of integral p^2 dmu'; 'at k = 4 the students
    fit the data to 1e-12 with measures spread over at least 19 modes [...] and errors of at
    least 0.39'. On fresh seeds the thresholds are the qualitative statement, with the margin
    that 26 fresh seeds (100-115, 200-209) need: share above 0.95 (smallest seen 0.953), error
    below 5e-3 (largest seen 2.7e-3), negative share below 1e-5 (largest seen 1.3e-6)."""
    rb.set_seed(0)
    seeds = list(range(100, 108))
    fit = rb.train_gd(
        rb.init_gaussian(40, 0.01, [100, 101], structure="diagonal"),
        TEACHER2,
        4,
        lr=0.05,
        tol=1e-12,
        max_steps=105_000,
    )
    res = rb.train_gd(
        rb.init_gaussian(40, 0.01, seeds, structure="diagonal"),
        TEACHER2,
        5,
        lr=0.05,
        tol=1e-12,
        max_steps=105_000,
    )

    def measure_stats(model):
        atoms, weights = moments.measure(model)
        near = ((atoms - 0.9).abs() < 0.02) | ((atoms + 0.6).abs() < 0.02)
        share = (weights.abs() * near).sum(-1) / weights.abs().sum(-1)
        return atoms, weights, near, share

    # k = 4 = 2 d_hat: a perfect fit, spread over many modes, that does not extrapolate
    _, weights4, _, share4 = measure_stats(fit.model)
    modes4 = (weights4.abs() > 1e-2 * weights4.abs().amax(-1, keepdim=True)).sum(-1)
    assert bool(fit.converged.all()) and bool((fit.loss <= 1e-12).all())
    assert bool((rb.sup_error(fit.model, TEACHER2, 3000) > 0.05).all())
    assert bool((share4 < 0.1).all()) and int(modes4.min()) >= 10
    # k = 5 = 2 d_hat + 1: the teacher's atoms, a nearly non-negative measure, all lags
    atoms, weights, near, share = measure_stats(res.model)
    neg = weights.clamp(max=0).abs().sum(-1) / weights.abs().sum(-1)
    sup = rb.sup_error(res.model, TEACHER2, 3000)
    assert bool((share > 0.95).all())
    assert float(sup.max()) < 5e-3 and float(atoms.abs().max()) < 1
    assert float(neg.max()) < 1e-5
    found, _ = moments.prony(rb.impulse_response(res.model, 4), 2)
    assert float((found - torch.tensor([-0.6, 0.9], dtype=F64)).abs().max()) < 1e-3
    # the slow last stretch: r = g - g_hat along s (the coefficients of p^2), L_5 = I^2 / |s|^2
    # with I = integral of p^2 dmu, and I carried by the modes away from the atoms
    p = torch.tensor([-0.54, -0.3, 1.0], dtype=F64)  # (x - 0.9)(x + 0.6), ascending
    s = torch.zeros(5, dtype=F64)
    for lag in range(3):
        s[lag : lag + 3] += p[lag] * p
    r = rb.impulse_response(res.model, 5) - TEACHER2.impulse_response(5)
    p_sq = ((atoms - 0.9) * (atoms + 0.6)) ** 2
    integral = (weights * p_sq).sum(-1)
    assert not bool(res.converged.any())
    assert float(((r @ s - integral).abs() / integral).max()) < 1e-9
    excess = res.loss * (s @ s) / integral**2 - 1
    assert float(excess.min()) > -1e-9 and float(excess.max()) < 2e-4
    assert float(((weights * p_sq * ~near).sum(-1) / integral).min()) > 0.9


def test_overshoot_construction_for_every_dhat():
    """'For every 0 < alpha < 1 / (v^T H^{-1} v) the remainder has d_hat distinct real atoms with
    positive weights [...] and the construction works', overshooting by the integral of p^2."""
    rb.set_seed(0)
    gen = torch.Generator().manual_seed(100)
    checked = 0
    for d_hat in [1, 2, 3, 4]:
        for _ in range(5):
            atoms, weights = _random_teacher(gen, d_hat)
            teacher = rb.low_dimensional(atoms.tolist(), weights.tolist())
            g_hat = teacher.impulse_response(2 * d_hat + 1)
            x0 = float(2.4 * torch.rand(1, generator=gen, dtype=F64) - 1.2)
            v = x0 ** torch.arange(d_hat, dtype=F64)
            H = moments.hankel(g_hat[: 2 * d_hat - 1], d_hat - 1)
            limit = 1 / float(v @ torch.linalg.solve(H, v))
            for frac in [0.3, 0.9, 0.99]:
                alpha = frac * limit
                m = g_hat[: 2 * d_hat] - alpha * x0 ** torch.arange(2 * d_hat, dtype=F64)
                lam, w = _quadrature(m, d_hat)
                assert bool((w > 0).all()) and bool((lam.diff() > 0).all())
                mu_atoms = torch.cat([torch.tensor([x0], dtype=F64), lam])
                mu_w = torch.cat([torch.tensor([alpha], dtype=F64), w])
                g = moments.moments(mu_atoms, mu_w, 2 * d_hat + 1)[0]
                scale = float(g_hat.abs().max())
                assert float((g[: 2 * d_hat] - g_hat[: 2 * d_hat]).abs().max()) < 1e-8 * scale
                p_at = torch.ones_like(mu_atoms)
                for a in atoms:
                    p_at = p_at * (mu_atoms - a)
                integral = float((mu_w * p_at**2).sum())
                over = float(g[2 * d_hat] - g_hat[2 * d_hat])
                assert abs(over - integral) < 1e-8 * max(1.0, integral)
                # the balanced student (c = b) itself: L_{2 d_hat} = 0 and it overshoots lag 2 d_hat
                # by at least alpha p(x0)^2, read off its impulse response, not from the moments
                b = mu_w.sqrt().unsqueeze(0)
                student = rb.LinearRNN(mu_atoms.unsqueeze(0), b, b.clone(), "diagonal")
                taps = rb.impulse_response(student, 2 * d_hat + 1)[0]
                assert float((taps[: 2 * d_hat] - g_hat[: 2 * d_hat]).abs().max()) < 1e-8 * scale
                over_rnn = float(taps[2 * d_hat] - g_hat[2 * d_hat])
                assert over_rnn >= alpha * float(p_at[0]) ** 2 - 1e-8 * max(1.0, integral)
                checked += 1
            # negative control: beyond the limit the Hankel matrix is not positive definite
            m_bad = g_hat[: 2 * d_hat] - 1.01 * limit * x0 ** torch.arange(2 * d_hat, dtype=F64)
            H_bad = moments.hankel(m_bad[: 2 * d_hat - 1], d_hat - 1)
            assert float(torch.linalg.eigvalsh(H_bad).min()) < 0
    assert checked == 60


def test_signed_interpolators_for_every_k():
    """'Signed interpolators exist for every k': L_k = 0, g_k - g*_k = Delta, and weights of both
    signs once k >= 2 d_hat + 1."""
    rb.set_seed(0)
    gen = torch.Generator().manual_seed(101)
    teacher = rb.low_dimensional([0.9])
    for k in range(3, 11):
        atoms = (torch.rand(k + 1, generator=gen, dtype=F64) * 1.8 - 0.9).sort().values
        delta = float(torch.randn(1, generator=gen, dtype=F64))
        st = moments.vandermonde_student(teacher, atoms, k, extra=delta)
        assert float(rb.population_loss(st, teacher, k)[0]) < 1e-16
        jump = float(rb.impulse_response(st, k + 1)[0, k] - teacher.impulse_response(k + 1)[k])
        assert abs(jump - delta) < 1e-6 * max(1.0, abs(delta))
        _, w = moments.measure(st)
        assert bool((w > 0).any()) and bool((w < 0).any())
    # negative control: at k = 2 = 2 d_hat the same construction can have weights of one sign
    st = moments.vandermonde_student(
        teacher, torch.tensor([0.5, 0.9, 0.95], dtype=F64), 2, extra=0.01
    )
    _, w = moments.measure(st)
    assert float(rb.population_loss(st, teacher, 2)[0]) < 1e-16 and bool((w > 0).all())


def test_prony_recovers_four_atom_teachers():
    """'Prony's method recovers a teacher from its first 2 d_hat moments' (the chapter checks
    d_hat = 1, 2, 3 to 1e-9), here d_hat = 4."""
    rb.set_seed(0)
    gen = torch.Generator().manual_seed(102)
    pairs = [_random_teacher(gen, 4) for _ in range(30)]
    atoms = torch.stack([a for a, _ in pairs])
    weights = torch.stack([w for _, w in pairs])
    found_atoms, found_weights = moments.prony(moments.moments(atoms, weights, 8), 4)
    assert float((found_atoms - atoms).abs().max()) < 1e-7
    assert float((found_weights - weights).abs().max()) < 1e-7
