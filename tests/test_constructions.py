"""Tests of rnnbias.constructions: exact taps of the interpolators, and their error paths."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from test_linear import explicit_taps

import rnnbias as rb
from rnnbias import constructions as cons

F64 = torch.float64
finite = st.floats(-5.0, 5.0, allow_nan=False)


@given(
    st.lists(st.lists(finite, min_size=3, max_size=3), min_size=1, max_size=3), st.integers(0, 3)
)
def test_shift_register_realises_any_finite_impulse_response_exactly(rows, pad):
    taps = torch.tensor(rows, dtype=F64)  # (R, 3)
    model = cons.shift_register(taps, d=3 + pad)
    assert model.runs == len(rows) and model.d == 3 + pad
    g = rb.impulse_response(model, 8)
    assert torch.equal(g[:, :3], taps)  # exact: the matrices hold 0, 1 and the taps
    assert torch.equal(g[:, 3:], torch.zeros_like(g[:, 3:]))
    torch.testing.assert_close(g, explicit_taps(model, 8), rtol=0, atol=0)


def test_shift_register_state_is_a_register_of_the_last_inputs():
    model = cons.shift_register([0.0, 0.0, 1.0])  # y_t = x_{t-2}
    x = rb.sample_sequences(4, 7, seed=3)
    y = rb.forward(model, x)[0]
    assert torch.equal(y[:, 2:], x[:, :-2]) and torch.equal(y[:, :2], torch.zeros(4, 2, dtype=F64))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_with_tail_interpolates_and_puts_the_tail_after_the_head(k):
    tail = torch.tensor([[0.5, -2.0, 1.0], [0.0, 0.0, 3.0]], dtype=F64)
    model = cons.with_tail(k, tail)
    teacher = rb.memoryless()
    assert torch.equal(rb.population_loss(model, teacher, k), torch.zeros(2, dtype=F64))
    assert torch.equal(
        rb.population_loss(model, teacher, k, outputs="all"), torch.zeros(2, dtype=F64)
    )
    g = rb.impulse_response(model, k + 5)
    assert torch.equal(g[:, k : k + 3], tail) and torch.equal(
        g[:, k + 3 :], torch.zeros(2, 2, dtype=F64)
    )
    E = rb.extrapolation_error(model, teacher, k, [k, k + 1, k + 3, k + 5])
    expected = torch.cat([torch.zeros(2, 1, dtype=F64), (tail**2).cumsum(1)[:, [0, 2, 2]]], 1)
    assert torch.equal(E, expected)


def test_with_tail_copies_the_head_of_any_teacher():
    teacher = rb.low_dimensional([0.8, -0.5], [1.0, 2.0])
    model = cons.with_tail(4, [7.0], teacher=teacher, d=9)
    assert model.d == 9
    g = rb.impulse_response(model, 6)[0]
    assert torch.equal(g[:4], teacher.impulse_response(4)) and g[4] == 7.0 and g[5] == 0.0
    assert float(rb.population_loss(model, teacher, 4)[0]) == 0.0
    model2 = cons.with_tail(2, [], teacher=torch.tensor([0.5, 0.25], dtype=F64))  # empty tail
    assert model2.d == 2 and rb.impulse_response(model2, 3)[0].tolist() == [0.5, 0.25, 0.0]


@pytest.mark.parametrize("k", [3, 5, 10])
def test_nilpotent_shift_has_error_alpha_squared_at_length_k_plus_one(k):
    """Claim C3 of the reference notes, exactly."""
    alphas = [0.5, 3.0, -1.25]
    model = cons.nilpotent_shift(k, alphas)
    assert model.d == k + 1 and model.runs == 3
    teacher = rb.memoryless()
    assert torch.equal(rb.population_loss(model, teacher, k), torch.zeros(3, dtype=F64))
    E = rb.extrapolation_error(model, teacher, k, [k + 1, 3 * k])
    a2 = torch.tensor(alphas, dtype=F64) ** 2
    assert torch.equal(E, torch.stack([a2, a2], 1))
    # the same model written out as in the text: A = Z, B = e1, C = e1 + alpha e_{k+1}
    Z = torch.diag(torch.ones(k, dtype=F64), -1)
    assert torch.equal(model.A[0], Z)
    assert model.C[1, 0] == 1.0 and model.C[1, k] == 3.0 and model.C[1, 1:k].abs().sum() == 0


@pytest.mark.parametrize("k", [1, 2, 5])
def test_cyclic_error_grows_linearly_with_the_test_length(k):
    """Claim C4: g_j = 1 iff k | j, so E_{k, mk} = m - 1."""
    model = cons.cyclic(k)
    g = rb.impulse_response(model, 6 * k)[0]
    expected = torch.tensor([1.0 if j % k == 0 else 0.0 for j in range(6 * k)], dtype=F64)
    assert torch.equal(g, expected)
    E = rb.extrapolation_error(model, rb.memoryless(), k, [m * k for m in range(1, 7)])[0]
    assert E.tolist() == [float(m - 1) for m in range(1, 7)]
    P = model.A[0]
    assert torch.equal(P @ P.T, torch.eye(k, dtype=F64))  # a permutation matrix


@pytest.mark.parametrize("k", [2, 5])
def test_stable_cyclic_tail_energy(k):
    """Claim C18: sum_m rho^{2mk} = rho^{2k} / (1 - rho^{2k}), tail summed over 400 lags."""
    rhos = [0.5, 0.8, 0.9, -0.9]
    model = cons.cyclic(k, rhos, d=k + 3)
    assert model.d == k + 3
    E = rb.extrapolation_error(model, rb.memoryless(), k, 400)
    r2k = torch.tensor(rhos, dtype=F64) ** (2 * k)
    torch.testing.assert_close(E, r2k / (1 - r2k), rtol=0, atol=1e-12)
    assert torch.equal(rb.population_loss(model, rb.memoryless(), k), torch.zeros(4, dtype=F64))


def test_cyclic_with_rho_above_one_has_any_error_at_length_k_plus_one():
    k, target = 4, 50.0
    model = cons.cyclic(k, target ** (1 / (2 * k)))
    E = rb.extrapolation_error(model, rb.memoryless(), k, k + 1)
    torch.testing.assert_close(E, torch.tensor([target], dtype=F64), rtol=1e-12, atol=0)


# --- error paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cons.shift_register([]), ValueError, "at least one"),
        (
            lambda: cons.shift_register(torch.zeros(1, 2, 2, dtype=F64)),
            ValueError,
            "taps must have",
        ),
        (lambda: cons.shift_register([1.0, float("nan")]), ValueError, "taps must have finite"),
        (lambda: cons.shift_register(torch.ones(3)), TypeError, "float64"),
        (lambda: cons.shift_register(["a"]), TypeError, "taps must be"),
        (lambda: cons.shift_register([1.0, 2.0], d=1), ValueError, "d must be at least 2"),
        (lambda: cons.shift_register([1.0], d=2.0), TypeError, "d must be an integer"),
        (lambda: cons.with_tail(0, [1.0]), ValueError, "k must be >= 1"),
        (lambda: cons.with_tail(2.5, [1.0]), TypeError, "k must be an integer"),
        (lambda: cons.with_tail(3, [1.0], d=3), ValueError, "d must be at least 4"),
        (lambda: cons.with_tail(3, [float("inf")]), ValueError, "tail must have finite"),
        (
            lambda: cons.with_tail(2, [1.0], teacher=torch.ones(2, 3, dtype=F64)),
            ValueError,
            "one impulse response",
        ),
        (
            lambda: cons.with_tail(4, [1.0], teacher=torch.ones(3, dtype=F64)),
            ValueError,
            "at least 4 taps",
        ),
        (lambda: cons.nilpotent_shift(3, []), ValueError, "alpha must not be empty"),
        (lambda: cons.nilpotent_shift(3, float("nan")), ValueError, "alpha must be finite"),
        (lambda: cons.nilpotent_shift(3, "big"), TypeError, "alpha must be a real"),
        (lambda: cons.nilpotent_shift(0, 1.0), ValueError, "k must be >= 1"),
        (lambda: cons.cyclic(0), ValueError, "k must be >= 1"),
        (lambda: cons.cyclic(3, []), ValueError, "rho must not be empty"),
        (lambda: cons.cyclic(3, float("inf")), ValueError, "rho must be finite"),
        (lambda: cons.cyclic(3, d=2), ValueError, "d must be at least 3"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
