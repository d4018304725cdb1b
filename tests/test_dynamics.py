"""Tests of rnnbias.dynamics: the residual polynomial, the best one-atom fit and its saddle, the
escape rate and the reading of escape steps."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnbias as rb
from rnnbias import dynamics as dy

F64 = torch.float64
TEACHER = rb.low_dimensional([0.9, -0.6], [1.0, 0.5])


# --- residual_polynomial ---------------------------------------------------------------------


@pytest.mark.parametrize("structure", ["diagonal", "full"])
def test_residual_polynomial_is_the_sum_of_residual_powers(structure):
    model = rb.init_gaussian(4, [0.5, 0.8], [1, 2], structure=structure)
    z = torch.tensor([[-0.7, 0.0, 0.3], [0.2, 0.9, -1.1]], dtype=F64)
    values, slopes = dy.residual_polynomial(model, TEACHER, 6, z)
    r = TEACHER.impulse_response(6) - rb.impulse_response(model, 6)
    for run in range(2):
        coeffs = r[run].numpy()[::-1]
        np.testing.assert_allclose(values[run], np.polyval(coeffs, z[run]), atol=1e-14)
        np.testing.assert_allclose(slopes[run], np.polyval(np.polyder(coeffs), z[run]), atol=1e-14)


def test_residual_polynomial_gives_the_diagonal_gradient():
    """dL/db_i = -2 c_i R(a_i), dL/dc_i = -2 b_i R(a_i), dL/da_i = -2 b_i c_i R'(a_i)."""
    model = rb.init_gaussian(5, [0.7, 1.0], [3, 4], structure="diagonal")
    values, slopes = dy.residual_polynomial(model, TEACHER, 7, model.A)
    _, grad = rb.population_loss_grad(model, TEACHER, 7)
    torch.testing.assert_close(grad.B, -2 * model.C * values, rtol=0, atol=1e-13)
    torch.testing.assert_close(grad.C, -2 * model.B * values, rtol=0, atol=1e-13)
    torch.testing.assert_close(grad.A, -2 * model.B * model.C * slopes, rtol=0, atol=1e-13)


def test_residual_polynomial_broadcasts_a_number_and_a_row():
    model = rb.init_gaussian(3, [0.1, 0.2, 0.3], 0)
    v0, d0 = dy.residual_polynomial(model, TEACHER, 4, 0.0)
    assert v0.shape == d0.shape == (3, 1)
    torch.testing.assert_close(
        v0[:, 0], TEACHER.impulse_response(1)[0] - rb.impulse_response(model, 1)[:, 0]
    )
    v, _ = dy.residual_polynomial(model, TEACHER, 4, [0.5, -0.5])
    assert v.shape == (3, 2)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"model": "m"}, TypeError, "model"),
        ({"k": 0}, ValueError, "k must be >= 1"),
        ({"k": 2.0}, TypeError, "k must be an integer"),
        ({"z": [float("nan")]}, ValueError, "z"),
        ({"z": torch.zeros(2, 3, dtype=torch.float32)}, TypeError, "z"),
        ({"z": torch.zeros(3, 2, dtype=F64)}, ValueError, "z must have 1 or R = 2 rows"),
        ({"teacher": torch.ones(3, dtype=F64)}, ValueError, "at least 4"),
    ],
)
def test_residual_polynomial_refuses_bad_input(kwargs, error, match):
    args = {"model": rb.init_gaussian(2, [0.1, 0.2], 0), "teacher": TEACHER, "k": 4, "z": 0.5}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        dy.residual_polynomial(args["model"], args["teacher"], args["k"], args["z"])


# --- one_atom_fit and one_atom_saddle --------------------------------------------------------


def brute_force_fit(g, k, bound=1.0, n=200_001):
    a = np.linspace(-bound, bound, n)
    v = a[:, None] ** np.arange(k)
    w = v @ g[:k] / (v * v).sum(1)
    loss = ((w[:, None] * v - g[:k]) ** 2).sum(1)
    i = int(np.argmin(loss))
    return a[i], w[i], loss[i]


def brute_force_loss(g, k, a):
    """min over w of sum_j (w a^j - g_j)^2, at a number or an array of a."""
    v = np.asarray(a, dtype=float)[..., None] ** np.arange(k)
    w = v @ g[:k] / (v * v).sum(-1)
    return ((w[..., None] * v - g[:k]) ** 2).sum(-1)


# two-mode teachers l1^j + w2 l2^j, drawn by hypothesis
TWO_MODES = {"l1": st.floats(-0.95, 0.95), "l2": st.floats(-0.95, 0.95), "w2": st.floats(-1.5, 1.5)}


def two_mode_taps(l1, l2, w2, k):
    j = torch.arange(k, dtype=F64)
    return l1**j + w2 * l2**j


@settings(max_examples=40, deadline=None)
@given(**TWO_MODES, k=st.integers(2, 9))
def test_one_atom_fit_is_the_global_minimum(l1, l2, w2, k):
    g = two_mode_taps(l1, l2, w2, k)
    a, w, loss = dy.one_atom_fit(g, k)
    a_bf, _, loss_bf = brute_force_fit(g.numpy(), k)
    assert float(loss[0]) <= loss_bf + 1e-12  # never worse than a fine scan
    j = torch.arange(k, dtype=F64)
    torch.testing.assert_close(((w * a**j - g) ** 2).sum(), loss[0], rtol=1e-12, atol=1e-14)
    if abs(a_bf) < 1 - 1e-3 and loss_bf > 1e-6:  # an interior minimum: R(a) = R'(a) = 0
        model = dy.one_atom_saddle(g, k, 1, structure="diagonal")
        values, slopes = dy.residual_polynomial(model, g, k, model.A)
        assert abs(float(values[0, 0])) < 1e-12 and abs(float(slopes[0, 0])) < 1e-10


def test_one_atom_fit_recovers_one_atom_exactly_and_works_per_row():
    rows = torch.stack(
        [rb.low_dimensional([x], [w]).impulse_response(6) for x, w in [(0.9, 1.0), (-0.5, -2.0)]]
    )
    a, w, loss = dy.one_atom_fit(rows, 6)
    torch.testing.assert_close(a, torch.tensor([0.9, -0.5], dtype=F64), rtol=0, atol=1e-12)
    torch.testing.assert_close(w, torch.tensor([1.0, -2.0], dtype=F64), rtol=0, atol=1e-12)
    assert float(loss.max()) < 1e-24


def test_one_atom_fit_finds_a_minimum_at_the_bound():
    a, _, loss = dy.one_atom_fit(rb.low_dimensional([1.2]), 5)  # outside [-1, 1]: the end
    assert abs(float(a[0]) - 1.0) < 1e-12 and float(loss[0]) > 0
    a, _, loss = dy.one_atom_fit(rb.low_dimensional([1.2]), 5, bound=1.5)
    assert abs(float(a[0]) - 1.2) < 1e-12 and float(loss[0]) < 1e-20


@settings(max_examples=40, deadline=None)
@given(**TWO_MODES, k=st.integers(3, 9))
def test_first_atom_is_the_first_local_minimum_on_the_side_of_g0g1(l1, l2, w2, k):
    g = two_mode_taps(l1, l2, w2, k)
    j = torch.arange(k, dtype=F64)
    side = float(torch.sign(g[0] * g[1]))
    if side == 0 or abs(float(g[0] * g[1])) < 1e-6:
        return
    a, w, loss = dy.first_atom(g, k)
    a = float(a[0])
    assert a * side > 0  # on the side that l'(0) = -2 g*_0 g*_1 points to
    # a fine scan from 0 to a: l never increases (within rounding) before a
    ts = np.linspace(0, a, 2001)
    ls = brute_force_loss(g.numpy(), k, ts)
    assert (np.diff(ls) <= 1e-12 * max(1.0, ls[0])).all()
    torch.testing.assert_close(((w * a**j - g) ** 2).sum(), loss[0], rtol=1e-12, atol=1e-14)
    if abs(a) < 1 - 1e-9:  # a critical point: just beyond a, l stops decreasing
        beyond = float(brute_force_loss(g.numpy(), k, a + side * 1e-4))
        assert beyond >= float(loss[0]) - 1e-12
    _, _, best = dy.one_atom_fit(g, k)
    assert float(best[0]) <= float(loss[0]) + 1e-12  # never better than the global fit


def test_first_atom_differs_from_the_global_fit_and_works_per_row():
    rows = torch.stack(
        [
            rb.low_dimensional(e, w).impulse_response(7)
            for e, w in [([0.8, -0.95], [1.0, 0.7]), ([0.9, -0.6], [1.0, 0.5])]
        ]
    )
    local, _, l_local = dy.first_atom(rows, 7)
    best, _, l_best = dy.one_atom_fit(rows, 7)
    assert float(local[0]) > 0.7 and float(best[0]) < -0.8 and float(l_best[0] < l_local[0])
    torch.testing.assert_close(local[1], best[1], rtol=0, atol=1e-12)  # the book's teacher
    model = dy.one_atom_saddle(rows, 7, 2, which="first")  # a critical point too
    loss, grad = rb.population_loss_grad(model, rows, 7)
    torch.testing.assert_close(loss, l_local, rtol=1e-12, atol=0)
    assert max(float(g.abs().max()) for g in grad) < 1e-10


def test_first_atom_stops_at_the_bound_and_refuses_a_flat_start():
    a, _, _ = dy.first_atom(rb.low_dimensional([1.2]), 5)  # l decreases all the way to 1
    assert float(a[0]) == 1.0
    with pytest.raises(ValueError, match=r"g\*_0 \* g\*_1 != 0.*row\(s\) \[1\]"):
        dy.first_atom(torch.tensor([[1.0, 0.5, 0.2], [1.0, 0.0, 0.3]], dtype=F64), 3)
    with pytest.raises(ValueError, match="k must be >= 2"):
        dy.first_atom(TEACHER, 1)


@pytest.mark.parametrize("structure", ["full", "diagonal"])
def test_one_atom_saddle_is_critical_with_the_fit_loss(structure):
    model = dy.one_atom_saddle(TEACHER, 7, 3, structure=structure)
    assert model.structure == structure and model.d == 3
    loss, grad = rb.population_loss_grad(model, TEACHER, 7)
    _, _, fit = dy.one_atom_fit(TEACHER, 7)
    torch.testing.assert_close(loss, fit, rtol=1e-13, atol=0)
    assert max(float(g.abs().max()) for g in grad) < 1e-12


def test_one_atom_saddle_unstable_rate_of_an_idle_diagonal_unit_is_2R0():
    """An idle unit at a = 0 has Hessian block [[0, -2R(0)], [-2R(0), 0]] in (b, c)."""
    model = dy.one_atom_saddle(TEACHER, 7, 2, structure="diagonal")
    H = rb.loss_hessian(model, TEACHER, 7)[0]
    r0 = float(dy.residual_polynomial(model, TEACHER, 7, 0.0)[0][0, 0])
    lowest = float(torch.linalg.eigvalsh(H)[0])
    assert abs(lowest + 2 * abs(r0)) < 1e-10


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: dy.one_atom_fit(TEACHER, 1), ValueError, "k must be >= 2"),
        (lambda: dy.one_atom_fit(TEACHER, 4, bound=0.0), ValueError, "bound must be > 0"),
        (lambda: dy.one_atom_fit([1.0, float("inf"), 0.0], 3), ValueError, "finite"),
        (lambda: dy.one_atom_fit(torch.ones(3, dtype=torch.float32), 3), TypeError, "float64"),
        (lambda: dy.one_atom_fit(torch.ones(2, dtype=F64), 3), ValueError, "at least 3"),
        (lambda: dy.one_atom_saddle(TEACHER, 4, 0), ValueError, "d must be >= 1"),
        (lambda: dy.one_atom_saddle(TEACHER, 4, 2, structure="symmetric"), ValueError, "structure"),
        (lambda: dy.one_atom_saddle(TEACHER, 4, 2, which="last"), ValueError, "which"),
    ],
)
def test_one_atom_fit_refuses_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- steps_per_decade and first_step_below ---------------------------------------------------


def test_steps_per_decade_is_ln10_over_ln_growth():
    assert dy.steps_per_decade(3.0, 0.02) == pytest.approx(math.log(10) / math.log(1.06), 1e-15)
    # small steps: gradient flow's ln 10 / (eta * rate)
    assert dy.steps_per_decade(3.0, 1e-6) == pytest.approx(math.log(10) / 3e-6, rel=1e-5)


@pytest.mark.parametrize(
    "rate, lr, error",
    [
        (0.0, 0.1, ValueError),
        (1.0, -0.1, ValueError),
        ("1", 0.1, TypeError),
        (1.0, None, TypeError),
    ],
)
def test_steps_per_decade_refuses_bad_input(rate, lr, error):
    with pytest.raises(error):
        dy.steps_per_decade(rate, lr)


def test_first_step_below_reads_the_history():
    model = rb.init_gaussian(6, [1e-2, 1e-3], 0)
    result = rb.train_gd(model, TEACHER, 7, lr=0.02, max_steps=400, tol=0)
    steps = dy.first_step_below(result, 1.0)
    history = result.loss_history
    for run in range(2):
        s = int(steps[run])
        assert s > 0 and history[s, run] < 1.0 and bool((history[:s, run] >= 1.0).all())
    assert dy.first_step_below(result, 1e-30).tolist() == [-1, -1]
    sparse = rb.train_gd(model, TEACHER, 7, lr=0.02, max_steps=400, tol=0, record_every=50)
    assert all(s % 50 == 0 for s in dy.first_step_below(sparse, 1.0).tolist())


def test_first_step_below_takes_one_level_per_run():
    model = rb.init_gaussian(6, [1e-2, 1e-3], 0)
    result = rb.train_gd(model, TEACHER, 7, lr=0.02, max_steps=400, tol=0)
    each = dy.first_step_below(result, torch.tensor([1.0, 2.0], dtype=F64))
    assert int(each[0]) == int(dy.first_step_below(result, 1.0)[0])
    assert int(each[1]) == int(dy.first_step_below(result, 2.0)[1])
    with pytest.raises(ValueError, match="one per run"):
        dy.first_step_below(result, torch.tensor([1.0, 2.0, 3.0], dtype=F64))
    with pytest.raises(ValueError, match="positive"):
        dy.first_step_below(result, torch.tensor([1.0, -2.0], dtype=F64))


def test_first_step_below_refuses_bad_input():
    result = rb.train_gd(rb.init_gaussian(2, 0.1, 0), TEACHER, 3, max_steps=2)
    with pytest.raises(TypeError, match="result must be a training result"):
        dy.first_step_below(result.loss_history, 1.0)
    with pytest.raises(ValueError, match="level must be > 0"):
        dy.first_step_below(result, 0.0)
