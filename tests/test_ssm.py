"""Tests of rnnbias.ssm: complex diagonal students, their exact loss, gradient and GD."""

import math

import pytest
import torch

import rnnbias as rb
from rnnbias import ssm

C128 = torch.complex128
OSC = torch.tensor([0.9**j * math.cos(0.6 * j) for j in range(12)], dtype=torch.float64)


def test_impulse_response_equals_the_recursion():
    model = ssm.init_complex(5, [0.8, 1.3], [2, 3])
    n = 9
    h = torch.zeros(2, 5, dtype=C128)
    ys = []
    for t in range(n):  # input: 1 at time 0, then 0; y_t = Re(c . h_t) = g_t
        h = model.lam * h + (model.b if t == 0 else 0.0)
        ys.append((model.c * h).sum(-1).real)
    torch.testing.assert_close(ssm.impulse_response(model, n), torch.stack(ys, -1))


def test_a_real_student_is_the_real_diagonal_linear_rnn():
    lin = rb.init_gaussian(6, [0.5, 0.9, 0.3], [0, 1, 2], structure="diagonal")
    comp = ssm.from_linear(lin)
    torch.testing.assert_close(ssm.impulse_response(comp, 10), rb.impulse_response(lin, 10))
    teacher = rb.low_dimensional([0.9, -0.6])
    torch.testing.assert_close(
        ssm.population_loss(comp, teacher, 5), rb.population_loss(lin, teacher, 5)
    )
    # GD on real and imaginary parts from real parameters is GD on the real model
    real = rb.train_gd(lin, teacher, 5, lr=0.05, max_steps=200, tol=0.0)
    cplx = ssm.train_gd(comp, teacher, 5, lr=0.05, max_steps=200, tol=0.0)
    for p, q in zip(cplx.model, real.model, strict=True):
        assert bool((p.imag == 0).all())
        torch.testing.assert_close(p.real, q, rtol=1e-12, atol=1e-14)


def test_gradient_matches_autograd_and_finite_differences():
    model = ssm.init_complex(4, [0.9, 0.6], [5, 6])
    ks = [5, 3]
    _, grads = ssm.population_loss_grad(model, OSC, ks)
    params = [p.clone().requires_grad_(True) for p in model]
    g = torch.einsum("rd,rdn->rn", params[1] * params[2], torch.linalg.vander(params[0], N=5))
    mask = torch.arange(5) < torch.tensor(ks).unsqueeze(1)
    (mask * (g.real - OSC[:5]) ** 2).sum().backward()
    for grad, p in zip(grads, params, strict=True):
        torch.testing.assert_close(grad, p.grad, rtol=1e-12, atol=1e-14)
    eps = 1e-6  # central differences in the real and imaginary part of lam_1 of run 0
    for i, unit in enumerate((1.0, 1j)):
        for which in range(3):
            shifted = []
            for sign in (1, -1):
                ps = [p.clone() for p in model]
                ps[which][0, 1] += sign * eps * unit
                shifted.append(ssm.population_loss(ssm.ComplexDiagonalRNN(*ps), OSC, ks)[0])
            fd = float(shifted[0] - shifted[1]) / (2 * eps)
            exact = grads[which][0, 1].real if i == 0 else grads[which][0, 1].imag
            assert abs(fd - float(exact)) < 1e-7 * max(1.0, abs(fd))


def test_exact_one_step_identities_of_the_balance():
    model = ssm.init_complex(6, 0.5, 7)
    lr, k = 0.1, 5
    _, (_, g_b, _) = ssm.population_loss_grad(model, OSC, k)
    s = g_b.conj() / model.c  # grad_b = conj(c s)
    after = ssm.train_gd(model, OSC, k, lr=lr, max_steps=1, tol=0.0).model
    before = model.b.abs() ** 2 - model.c.abs() ** 2
    now = after.b.abs() ** 2 - after.c.abs() ** 2
    torch.testing.assert_close(now, (1 - lr**2 * s.abs() ** 2) * before, rtol=1e-10, atol=1e-16)
    p, m = model.b + model.c.conj(), model.b - model.c.conj()  # Hermitian-balanced part and rest
    p1, m1 = after.b + after.c.conj(), after.b - after.c.conj()
    torch.testing.assert_close(p1, (1 - lr * s.real) * p - 1j * lr * s.imag * m)
    torch.testing.assert_close(m1, (1 + lr * s.real) * m + 1j * lr * s.imag * p)


def test_training_decreases_the_loss_and_stops_at_tol():
    model = ssm.init_complex(4, [0.1, 0.3], [0, 1])
    res = ssm.train_gd(model, OSC, 4, lr=0.05, max_steps=20_000, tol=1e-10)
    assert res.converged.all() and not res.diverged.any()
    assert (res.loss <= 1e-10).all() and (res.steps < 20_000).all()
    assert (res.loss_history[-1] < 1e-6 * res.loss_history[0]).all()
    torch.testing.assert_close(res.loss, ssm.population_loss(res.model, OSC, 4))
    assert int(res.history_steps[-1]) == int(res.steps.max())
    assert "2 runs: 2 converged, 0 diverged" in str(res)


def test_per_run_lengths_and_steps_equal_runs_trained_alone():
    model = ssm.init_complex(3, [0.4, 0.7], [3, 4])
    ks, lrs = [2, 5], [0.05, 0.02]
    together = ssm.train_gd(model, OSC, ks, lr=lrs, max_steps=300, tol=1e-8)
    for r, (k, lr) in enumerate(zip(ks, lrs, strict=True)):
        alone = ssm.train_gd(model.select(r), OSC, k, lr=lr, max_steps=300, tol=1e-8)
        torch.testing.assert_close(alone.model.lam[0], together.model.lam[r], rtol=1e-12, atol=0)
        assert int(alone.steps[0]) == int(together.steps[r])


def test_seeds_are_reproducible_and_scales_share_a_base_draw():
    a = ssm.init_complex(8, [0.1, 1.0, 1.0], [3, 3, 4])
    b = ssm.init_complex(8, [0.1, 1.0, 1.0], [3, 3, 4])
    for p, q in zip(a, b, strict=True):
        assert torch.equal(p, q) and p.dtype == C128
        torch.testing.assert_close(p[1], 10 * p[0])
        assert not torch.allclose(p[1], p[2])
    big = ssm.init_complex(4000, 1.0, 0)  # CN(0, sigma^2/d): E|z|^2 = 1/d, parts alike
    assert abs(4000 * float((big.b.abs() ** 2).mean()) - 1) < 0.1
    assert abs(float(big.b.real.var() / big.b.imag.var()) - 1) < 0.1


def test_divergence_warns_or_raises_and_gives_nan():
    model = ssm.init_complex(3, [0.2, 0.2], [0, 1])
    with pytest.warns(RuntimeWarning, match="2 of 2 runs diverged"):
        res = ssm.train_gd(model, OSC, 5, lr=50.0, max_steps=200)
    assert res.diverged.all() and not res.converged.any()
    assert torch.isnan(res.loss).all() and torch.isnan(res.model.lam).all()
    with pytest.raises(rb.DivergenceError, match="diverged"):
        ssm.train_gd(model, OSC, 5, lr=50.0, max_steps=200, divergence="raise")


def test_validation_names_argument_value_and_expectation():
    z = torch.zeros(2, 3, dtype=C128)
    with pytest.raises(TypeError, match=r"lam must have dtype torch\.complex128.*complex64"):
        ssm.ComplexDiagonalRNN(z.to(torch.complex64), z, z)
    with pytest.raises(TypeError, match=r"b must have dtype.*float32"):
        ssm.ComplexDiagonalRNN(z, torch.zeros(2, 3), z)
    with pytest.raises(ValueError, match=r"lam, b, c must share one shape.*\(2, 4\)"):
        ssm.ComplexDiagonalRNN(z, z, torch.zeros(2, 4, dtype=C128))
    with pytest.raises(ValueError, match=r"c must have shape \(R, d\), got shape \(3,\)"):
        ssm.ComplexDiagonalRNN(z, z, torch.zeros(3, dtype=C128))
    with pytest.raises(ValueError, match="b must have finite entries, got 2 non-finite"):
        ssm.ComplexDiagonalRNN(z, torch.tensor([[0, 1, math.inf]] * 2, dtype=C128), z)
    model = ssm.ComplexDiagonalRNN([[0.5 + 0.1j]], [[1.0]], [[1.0]])  # lists convert exactly
    assert model.lam.dtype == C128 and model.b.dtype == C128
    with pytest.raises(ValueError, match="d must be >= 1, got 0"):
        ssm.init_complex(0, 0.1)
    with pytest.raises(ValueError, match=r"sigma must be >= 0, got -1\.0"):
        ssm.init_complex(3, -1.0)
    with pytest.raises(ValueError, match="same length or be scalars, got lengths 2 and 3"):
        ssm.init_complex(3, [0.1, 0.2], [0, 1, 2])
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        ssm.population_loss(model, OSC, 0)
    with pytest.raises(ValueError, match="at least 20 taps here, got 12"):
        ssm.population_loss(model, OSC, 20)
    with pytest.raises(ValueError, match=r"one entry per run \(1\), got 2"):
        ssm.train_gd(model, OSC, [2, 3])
    with pytest.raises(ValueError, match=r"lr must be a float or have one entry per run \(1\)"):
        ssm.train_gd(model, OSC, 3, lr=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"lr must be > 0, got 0\.0"):
        ssm.train_gd(model, OSC, 3, lr=0.0)
    with pytest.raises(ValueError, match="divergence must be one of"):
        ssm.train_gd(model, OSC, 3, divergence="ignore")
    with pytest.raises(TypeError, match="model must be a ComplexDiagonalRNN, got LinearRNN"):
        ssm.impulse_response(rb.init_gaussian(2, 0.1), 3)
    with pytest.raises(ValueError, match="structure='diagonal', got 'full'"):
        ssm.from_linear(rb.init_gaussian(2, 0.1))
