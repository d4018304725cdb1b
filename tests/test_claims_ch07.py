"""Chapter 7's generalising claims, re-run on settings the chapter does not show.

Chapter: ``chapters/07_low_dimensional_state_spaces.ipynb``. Claims checked: small starts
(``sigma <= 1``) extrapolate at every lag, with an error of order ``sqrt(L_5)`` only at small
scales (``sigma <= 0.1``), not at ``sigma = 1``; the threshold ``k > 2 d_hat`` in trained
students; balanced versus unbalanced starts at a large scale, the shrinking weight of the unstable
modes that a balanced start keeps, and a balanced ``sigma = 3`` start that fails within the first
100 lags (a negative control of "balanced starts extrapolate"); the signed teacher learned at
``k = 6``; and the robust version of the uniqueness theorem (``prop-robust``) on every trained
student whose hypotheses hold, with a negative control where they do not (an eigenvalue beyond 1).

Settings: diagonal students with ``d = 40`` and the chapter's step sizes, but **fresh seeds**
(100 and up; the chapter uses 0-7), a **longer budget** (120,000 steps, 1.2 times the chapter's
100,000; the runs that do not reach the tolerance use all of it), and a **longer horizon** (3000
lags instead of 1000). All 17 runs are trained in one call of ``rb.train_gd`` (a module fixture),
float64. The budget is set by the file's time limit (20 s): the trainer's cost is per step.
"""

import math

import pytest
import torch

import rnnbias as rb
from rnnbias import moments

F64 = torch.float64
D = 40
STEPS = 120_000  # the chapter trains for 100,000 steps
T_LONG = 3000  # the chapter measures over 1000 lags
BAR = 0.05  # the chapter's error bar

TEACHER1 = rb.low_dimensional([0.9])
TEACHER2 = rb.low_dimensional([0.9, -0.6], [1.0, 1.0])
MIXED = rb.low_dimensional([0.8, -0.5], [1.0, -0.6])
P_OF = {"t1": [-0.9, 1.0], "t2": [-0.54, -0.3, 1.0], "mixed": [-0.4, -0.3, 1.0]}
TEACHERS = {"t1": TEACHER1, "t2": TEACHER2, "mixed": MIXED}


def _run_table():
    """(group, teacher key, k, sigma, seed, balanced start) for every run."""
    runs = [("small", "t1", 5, s, sd, False) for s, sd in [(1e-3, 100), (1.0, 102), (1.0, 103)]]
    runs += [("large", "t1", 5, 3.0, sd, False) for sd in range(100, 103)]
    runs += [("threshold", "t1", k, 0.01, 100, False) for k in (2, 3)]
    runs += [("threshold", "t2", 4, 0.01, sd, False) for sd in (100, 101)]
    runs += [("threshold", "t2", 5, 0.01, 100, False)]
    runs += [("balanced", "t1", 5, 2.0, sd, bal) for bal in (True, False) for sd in (100, 101)]
    # a balanced start at sigma = 3 that keeps an eigenvalue beyond 1
    runs += [("unstable", "t1", 5, 3.0, 100, True)]
    runs += [("signed", "mixed", 6, 0.01, 100, False)]
    return runs


def _train():
    rb.set_seed(0)
    runs = _run_table()
    ks = [r[2] for r in runs]
    targets = torch.stack([TEACHERS[r[1]].impulse_response(max(ks)) for r in runs])
    start = rb.init_gaussian(D, [r[3] for r in runs], [r[4] for r in runs], structure="diagonal")
    bal = torch.tensor([r[5] for r in runs])
    start = rb.LinearRNN(start.A, start.B, torch.where(bal[:, None], start.B, start.C), "diagonal")
    lr = [0.05 if r[3] <= 1.0 else 0.01 for r in runs]
    res = rb.train_gd(
        start,
        targets,
        ks,
        lr=lr,
        tol=1e-12,
        max_steps=STEPS,
        record_every=STEPS // 2,
        track={"a": lambda m: m.A, "w": lambda m: m.B * m.C},
    )
    taps = torch.stack([TEACHERS[r[1]].impulse_response(T_LONG) for r in runs])
    err = (rb.impulse_response(res.model, T_LONG) - taps).abs()
    atoms, weights = moments.measure(res.model)
    return {
        "runs": runs,
        "res": res,
        "err": err,
        "sup": err.amax(1),
        "sup100": err[:, :100].amax(1),
        "rho": atoms.abs().amax(1),
        "atoms": atoms,
        "weights": weights,
    }


@pytest.fixture(scope="module")
def trained():
    return _train()


def _idx(t, name, pred=lambda r: True):
    return [i for i, r in enumerate(t["runs"]) if r[0] == name and pred(r)]


def _horizon(err):
    over = torch.nonzero(~(err <= BAR)).flatten()
    return int(over[0]) if len(over) else None


def test_small_starts_extrapolate_at_every_lag(trained):
    """'Up to sigma = 1 every student extrapolates' (error within the bar 0.05), with every
    eigenvalue inside (-1, 1), so the error cannot grow at later lags; for sigma <= 0.1 the error
    is a few times sqrt(L_5), while at sigma = 1 the loss no longer sets it; 'from large
    unbalanced starts it often fails', and an error above 1 comes with an eigenvalue beyond 1."""
    rb.set_seed(0)
    t = trained
    small = _idx(t, "small")
    assert float(t["sup"][small].max()) < BAR
    assert float(t["rho"][small].max()) < 0.92  # chapter: at most 0.911
    # after lag T_LONG the taps change by at most rho^T_LONG sum |w|: nothing
    tail = t["rho"][small] ** T_LONG * t["weights"][small].abs().sum(1)
    assert float(tail.max()) < 1e-100
    ratio = t["sup"] / t["res"].loss.sqrt()
    tiny = _idx(t, "small", lambda r: r[3] <= 0.1)
    one = _idx(t, "small", lambda r: r[3] == 1.0)
    assert 1 <= float(ratio[tiny].min()) and float(ratio[tiny].max()) <= 20  # chapter: 2.5-11
    assert float(ratio[one].max()) > 10 * float(ratio[tiny].max())
    large = _idx(t, "large")
    assert int((t["sup"][large] > BAR).sum()) >= 2  # sigma = 3: most runs fail
    assert bool(((t["sup100"][large] > 1) == (t["rho"][large] > 1)).all())
    # negative control: the same predicate fails on the large scale
    assert not float(t["sup"][large].max()) < BAR


def test_threshold_2dhat_plus_one(trained):
    """'At k = 2 d_hat every student fits the data to 1e-12 and fails; at k = 2 d_hat + 1 every
    student extrapolates', for d_hat = 1 and 2."""
    rb.set_seed(0)
    t = trained
    at_2d = _idx(t, "threshold", lambda r: r[2] in (2, 4))
    above = _idx(t, "threshold", lambda r: r[2] in (3, 5))
    assert bool((t["res"].loss[at_2d] <= 1e-12).all())
    assert bool((t["sup"][at_2d] > BAR).all())
    assert float(t["sup"][above].max()) < BAR
    assert float(t["rho"][above].max()) < 0.91  # chapter: at most 0.907
    assert float(t["res"].loss[above].max()) < 1e-6


def test_balanced_starts_and_the_unstable_modes_they_keep(trained):
    """'Balanced starts at the same large scales fail far less often' than unbalanced ones; a
    balanced student that keeps an eigenvalue beyond 1 has a non-negative weight on it that keeps
    shrinking during training; and 'at sigma = 3 other seeds keep an eigenvalue beyond 1 with a
    weight large enough to fail within 100 lags': a balanced start is no guarantee (negative
    control of 'balanced starts extrapolate')."""
    rb.set_seed(0)
    t = trained
    bal = _idx(t, "balanced", lambda r: r[5])
    unb = _idx(t, "balanced", lambda r: not r[5])
    _, b_, c_ = t["res"].model
    assert bool(torch.equal(b_[bal], c_[bal]))
    n_bal, n_unb = int((t["sup"][bal] <= BAR).sum()), int((t["sup"][unb] <= BAR).sum())
    assert n_bal == 2 and n_unb == 0, (n_bal, n_unb)  # chapter: 13 against 5 of 16
    # tracked at steps 0, STEPS / 2 and STEPS
    tracked_a, tracked_w = t["res"].tracked["a"], t["res"].tracked["w"]
    checked = 0
    for i in bal + _idx(t, "unstable"):
        beyond = tracked_a[2, i].abs() > 1
        if not bool(beyond.any()):
            continue
        w_mid = float((tracked_w[1, i] * (tracked_a[1, i].abs() > 1)).sum())
        w_end = float((tracked_w[2, i] * beyond).sum())
        assert 0 < w_end < w_mid, (i, w_mid, w_end)
        checked += 1
    assert checked >= 1  # not vacuous: some balanced student keeps an eigenvalue beyond 1
    # the balanced sigma = 3 start: fails within 100 lags, and its error grows without limit
    (u,) = _idx(t, "unstable")
    assert bool(torch.equal(b_[u], c_[u])) and float(t["rho"][u]) > 1
    hz = _horizon(t["err"][u])
    assert hz is not None and hz < 100 and float(t["sup100"][u]) > BAR
    assert float(t["err"][u, -1]) > 1e6 * BAR  # far beyond the bar at lag 2999


def test_signed_teacher_learned_at_k6(trained):
    """'At k = 6 every diagonal student extrapolates' on the teacher with weights of both signs,
    and Prony's method on the learned taps returns its atoms and signed weights."""
    rb.set_seed(0)
    t = trained
    sg = _idx(t, "signed")
    assert float(t["sup"][sg].max()) < 5e-3
    assert float(t["rho"][sg].max()) < 1
    at, w = moments.prony(rb.impulse_response(t["res"].model.select(sg), 4), 2)
    assert float((at - torch.tensor([-0.5, 0.8], dtype=F64)).abs().max()) < 0.01
    assert float((w - torch.tensor([-0.6, 1.0], dtype=F64)).abs().max()) < 0.01


def _bound2(g0, eps, neg, norm_p):
    """Part 2 of prop-robust: the bound on every |r_m| for atoms in [-1, 1]."""
    return norm_p * (math.sqrt((g0 + neg) * (eps + neg)) + neg)


def test_robust_recurrence_bound(trained):
    """prop-robust: part 1 for every balanced student (residuals over 1500 lags) and part 2 for
    every student with all eigenvalues in [-1, 1] (residuals over 3000 lags). Negative control:
    for the students with an eigenvalue beyond 1 (the hypothesis of part 2 fails), the residual
    exceeds the part-2 bound and the error is large."""
    rb.set_seed(0)
    t = trained
    g = rb.impulse_response(t["res"].model, T_LONG)
    checked1 = checked2 = violated = 0
    for i, r in enumerate(t["runs"]):
        p = torch.tensor(P_OF[r[1]], dtype=F64)
        dh = len(p) - 1
        e = g[i] - TEACHERS[r[1]].impulse_response(T_LONG)
        eps = float(e[: 2 * dh + 1].abs().max())
        norm_p = float(p.abs().sum())
        n_r = T_LONG - dh
        res_m = sum(p[j] * g[i, j : j + n_r] for j in range(dh + 1))
        neg = float(t["weights"][i].clamp(max=0).abs().sum())
        bound2 = _bound2(float(g[i, 0]), eps, neg, norm_p)
        if r[5]:
            half = T_LONG // 2 - 1
            bound1 = norm_p * (eps * g[i, 0 : 2 * half : 2]).sqrt()
            assert bool((res_m[:half].abs() <= bound1).all())
            checked1 += 1
        if float(t["rho"][i]) <= 1:
            assert float(res_m.abs().max()) <= bound2
            checked2 += 1
        else:  # hypothesis fails: the bound does too, and the student does not extrapolate
            assert float(res_m.abs().max()) > bound2 and float(t["sup"][i]) > BAR
            violated += 1
    n_bal = sum(r[5] for r in t["runs"])
    assert checked1 == n_bal and checked2 >= 12 and violated >= 3
