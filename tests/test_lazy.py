"""Tests of rnnbias.lazy: wide NTK-parameterised linear RNNs, their tangent kernel, lazy GD."""

import math

import pytest
import torch

import rnnbias as rb
from rnnbias import lazy
from rnnbias.train import DivergenceError

F64 = torch.float64
SW = math.sqrt(0.5)  # sigma_W^2 = 0.5, the notes' reference setting


def _taps_autograd(W, F, C, J):
    """g_0..g_{J-1} of one run, written out so autograd can differentiate them."""
    n = F.shape[0]
    v, taps = F, []
    for _ in range(J):
        taps.append(C @ v / math.sqrt(n))
        v = W @ v / math.sqrt(n)
    return taps


def test_rho_squared_values():
    expected = [2, 2, 1.5, 1, 0.625, 0.375, 0.21875, 0.125]
    torch.testing.assert_close(
        lazy.rho_squared(range(8), SW), torch.tensor(expected, dtype=F64), rtol=1e-14, atol=0
    )
    assert lazy.rho_squared(3, SW).shape == ()
    # sigma_W^2 = 0.9 rises up to lag 8 before it decays; sigma_W = 0 leaves lags 0 and 1
    rho = lazy.rho_squared(list(range(12)), math.sqrt(0.9))
    assert int(rho.argmax()) == 8
    torch.testing.assert_close(
        lazy.rho_squared([0, 1, 2], 0.0, 2.0, 3.0), torch.tensor([13.0, 36.0, 0.0], dtype=F64)
    )


def test_kernel_matches_autograd():
    m = lazy.init_wide(5, [0, 1], sigma_w=0.8, sigma_f=1.1, sigma_c=0.7)
    J = 6
    kernel = lazy.tangent_kernel(m, J)
    assert kernel.shape == (2, J, J)
    for r in range(2):
        params = [p[r].clone().requires_grad_() for p in m]
        rows = []
        for g in _taps_autograd(*params, J):
            grads = torch.autograd.grad(
                g, params, retain_graph=True, allow_unused=True, materialize_grads=True
            )
            rows.append(torch.cat([x.reshape(-1) for x in grads]))
        jac = torch.stack(rows)
        torch.testing.assert_close(kernel[r], jac @ jac.T, rtol=0, atol=1e-12)


def test_kernel_diagonal_approaches_rho_squared():
    kernel = lazy.tangent_kernel(lazy.init_wide(400, [0, 1, 2, 3], sigma_w=SW), 6)
    ratio = torch.diagonal(kernel, dim1=-2, dim2=-1).mean(0) / lazy.rho_squared(range(6), SW)
    assert bool(((ratio > 0.85) & (ratio < 1.15)).all()), ratio


def test_to_linear_gives_the_same_taps():
    m = lazy.init_wide(30, [4, 5], sigma_w=SW)
    lin = m.to_linear()
    assert isinstance(lin, rb.LinearRNN) and lin.structure == "full"
    W, F, C = m
    g = torch.stack([torch.stack(_taps_autograd(W[r], F[r], C[r], 8)) for r in range(2)])
    torch.testing.assert_close(rb.impulse_response(lin, 8), g, rtol=1e-12, atol=1e-14)
    res = lazy.train_lazy(m, rb.memoryless(), 3, max_steps=0, T=8)
    torch.testing.assert_close(res.taps0, g, rtol=1e-12, atol=1e-14)


def test_seeds_are_reproducible_and_independent_of_the_batch():
    a = lazy.init_wide(7, [3, 5], sigma_w=0.5)
    b = lazy.init_wide(7, 5, sigma_w=0.5)
    assert repr(a) == "WideRNN(runs=2, n=7)"
    for pa, pb in zip(a, b, strict=True):
        assert torch.equal(pa[1], pb[0])
    assert not torch.equal(a.W[0], a.W[1])
    # one base draw per seed, rescaled bit for bit by the sigmas (sweeps may draw once)
    c = lazy.init_wide(7, 5, sigma_w=1.0, sigma_f=SW, sigma_c=3.0)
    assert torch.equal(0.5 * c.W, b.W) and torch.equal(c.F, SW * b.F)
    assert torch.equal(c.C, 3.0 * b.C)


def test_one_step_is_gradient_descent_on_w_f_c():
    m = lazy.init_wide(6, 2, sigma_w=0.9)
    teacher, k, lr = rb.memoryless(), 3, 0.1
    params = [p[0].clone().requires_grad_() for p in m]
    taps = torch.stack(_taps_autograd(*params, k))
    loss = ((taps - teacher.impulse_response(k)) ** 2).sum()
    grads = torch.autograd.grad(loss, params)
    res = lazy.train_lazy(m, teacher, k, lr=lr, max_steps=1, tol=0.0, T=k)
    for after, p, g in zip(res.model, params, grads, strict=True):
        torch.testing.assert_close(after[0], p.detach() - lr * g, rtol=1e-12, atol=1e-14)
    assert res.steps.tolist() == [1]
    assert torch.equal(m.W, lazy.init_wide(6, 2, sigma_w=0.9).W)  # input not modified


def test_training_interpolates_stops_at_tol_and_runs_are_independent():
    m = lazy.init_wide(200, [0, 1, 2], sigma_w=SW)
    res = lazy.train_lazy(m, rb.memoryless(), 3, lr=0.2, tol=1e-12, T=20)
    assert bool(res.converged.all()) and bool((res.loss <= 1e-12).all())
    assert bool((res.steps > 5).all()) and bool((res.steps < 40).all())
    lin = res.model.to_linear()
    torch.testing.assert_close(rb.population_loss(lin, rb.memoryless(), 3), res.loss)
    torch.testing.assert_close(rb.extrapolation_error(lin, rb.memoryless(), 3, 20), res.error)
    torch.testing.assert_close(res.error0, (res.taps0[:, 3:] ** 2).sum(-1))
    assert res.tail_change.shape == (3,) and bool((res.tail_change < 1).all())
    alone = lazy.train_lazy(_pick(m, 1), rb.memoryless(), 3, T=20)
    torch.testing.assert_close(alone.taps, res.taps[1:2, :], rtol=1e-10, atol=1e-13)
    assert alone.steps.tolist() == res.steps[1:2].tolist()
    assert "converged=1" in repr(alone)


def _pick(m, r):
    return lazy.WideRNN(m.W[r : r + 1], m.F[r : r + 1], m.C[r : r + 1])


def test_k_equal_one_and_step_budget():
    m = lazy.init_wide(20, 0, sigma_w=SW)
    one = lazy.train_lazy(m, rb.memoryless(), 1, T=5)
    assert bool(one.converged.all())
    assert torch.equal(one.model.W, m.W)  # L_1 = (g_0 - 1)^2 does not depend on W
    capped = lazy.train_lazy(m, rb.memoryless(), 3, max_steps=2, T=5)
    assert capped.steps.tolist() == [2] and not bool(capped.converged.any())


def test_divergence_raises_or_is_reported_per_run():
    with pytest.raises(DivergenceError, match=r"run 0 \(of 1\) diverged .* at step 3"):
        lazy.train_lazy(lazy.init_wide(20, 0, sigma_w=1.0), rb.memoryless(), 3, lr=50.0)
    m = lazy.init_wide(20, [0, 1], sigma_w=1.0)
    m = lazy.WideRNN(m.W, m.F, m.C * torch.tensor([[1.0], [1e200]], dtype=torch.float64))
    with pytest.warns(RuntimeWarning, match="1 of 2 runs diverged"):
        res = lazy.train_lazy(m, rb.memoryless(), 3, T=5, divergence="warn")
    assert res.stop_reason == ["converged", "diverged"] and bool(res.taps[1].isnan().all())
    alone = lazy.train_lazy(_pick(m, 0), rb.memoryless(), 3, T=5)
    assert torch.equal(res.model.W[0], alone.model.W[0])  # run 0 untouched by run 1


def test_float32_is_refused():
    m = lazy.init_wide(4, 0, sigma_w=0.5)
    with pytest.raises(TypeError, match=r"W must have dtype torch\.float64"):
        lazy.WideRNN(m.W.float(), m.F, m.C)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: lazy.init_wide(0, sigma_w=0.5), ValueError, "n must be >= 1"),
        (lambda: lazy.init_wide(4.0, sigma_w=0.5), TypeError, "n must be an integer"),
        (lambda: lazy.init_wide(4, sigma_w=-0.5), ValueError, "sigma_w must be >= 0"),
        (lambda: lazy.init_wide(4, sigma_w=0.5, sigma_f=-1), ValueError, "sigma_f must be >= 0"),
        (lambda: lazy.init_wide(4, [], sigma_w=0.5), ValueError, "non-empty"),
        (lambda: lazy.init_wide(4, 1.5, sigma_w=0.5), TypeError, "seed must be an integer"),
        (lambda: lazy.rho_squared(-1, 0.5), ValueError, "j must be >= 0"),
        (lambda: lazy.rho_squared(1, 0.5, sigma_c=-2), ValueError, "sigma_c must be >= 0"),
        (lambda: lazy.rho_squared(1, "a"), TypeError, "sigma_w must be a real number"),
        (lambda: lazy.tangent_kernel("m", 3), TypeError, "model must be a WideRNN"),
        (lambda: lazy.tangent_kernel(lazy.init_wide(3, sigma_w=1), 0), ValueError, "J must be"),
        (
            lambda: lazy.WideRNN(torch.zeros(1, 3, 2, dtype=F64), *torch.zeros(2, 1, 3, dtype=F64)),
            ValueError,
            "must have shapes",
        ),
        (
            lambda: lazy.WideRNN(torch.zeros(1, 3, 3, dtype=F64), *torch.zeros(2, 3, dtype=F64)),
            ValueError,
            "F must have 2 dimensions",
        ),
        (
            lambda: lazy.WideRNN(
                torch.full((1, 2, 2), math.nan, dtype=F64), *torch.zeros(2, 1, 2, dtype=F64)
            ),
            ValueError,
            "W must have finite entries",
        ),
        (
            lambda: lazy.WideRNN(
                torch.zeros(1, 2, 2, dtype=F64),
                torch.tensor([[1.0, math.inf]], dtype=F64),
                torch.zeros(1, 2, dtype=F64),
            ),
            ValueError,
            "F must have finite entries, got 1 non-finite",
        ),
        (
            lambda: lazy.WideRNN(torch.zeros(3, 3, dtype=F64), *torch.zeros(2, 1, 3, dtype=F64)),
            ValueError,
            "W must have 3 dimensions",
        ),
        (lambda: lazy.WideRNN([[[1.0]]], [[1.0]], "C"), TypeError, "C must be a tensor"),
        (lambda: lazy.train_lazy("m", rb.memoryless(), 3), TypeError, "model must be a WideRNN"),
        (lambda: _train(k=0), ValueError, "k must be >= 1"),
        (lambda: _train(k=3, T=2), ValueError, "T must be >= 3"),
        (lambda: _train(lr=0.0), ValueError, "lr must be > 0"),
        (lambda: _train(tol=-1.0), ValueError, "tol must be >= 0"),
        (lambda: _train(max_steps=-1), ValueError, "max_steps must be >= 0"),
        (lambda: _train(teacher=torch.ones(3, 40, dtype=F64)), ValueError, "one per run"),
        (lambda: _train(teacher=torch.ones(5, dtype=F64)), ValueError, "at least 40 taps"),
    ],
)
def test_invalid_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _train(teacher=None, k=3, **kwargs):
    m = lazy.init_wide(4, [0, 1], sigma_w=0.5)
    return lazy.train_lazy(m, rb.memoryless() if teacher is None else teacher, k, **kwargs)
