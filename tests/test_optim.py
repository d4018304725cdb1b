"""Tests of rnnbias.optim: GD as train_gd, Adam as torch.optim.Adam, stopping, divergence."""

import warnings

import pytest
import torch

import rnnbias as rb
from rnnbias.optim import train_autograd

TEACHER = rb.low_dimensional([0.8])


def population(k, teacher=TEACHER):
    return lambda m: rb.population_loss(m, teacher, k)


@pytest.mark.parametrize("structure", ["full", "diagonal", "symmetric"])
def test_gd_equals_train_gd_step_for_step(structure):
    model = rb.init_gaussian(5, [0.2, 0.6, 0.9], [3, 4, 5], structure=structure)
    lrs = [0.03, 0.01, 0.05]
    free = rb.train_gd(model, TEACHER, 4, lr=lrs, max_steps=400, tol=0.0)
    low, mid = free.loss.sort().values[:2].tolist()
    tol = (low * mid) ** 0.5  # the best run stops early, the others run to the end
    ref = rb.train_gd(model, TEACHER, 4, lr=lrs, max_steps=400, tol=tol)
    res = train_autograd(model, population(4), lr=lrs, max_steps=400, tol=tol)
    assert res.model.structure == structure
    assert torch.equal(res.steps, ref.steps) and torch.equal(res.converged, ref.converged)
    assert bool(res.converged.any()) and not bool(res.converged.all())  # both paths exercised
    assert torch.equal(res.history_steps, ref.history_steps)
    torch.testing.assert_close(res.loss_history, ref.loss_history, rtol=1e-12, atol=1e-15)
    for got, want in zip(res.model, ref.model, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def _torch_adam(model, k, lr, steps, betas=(0.9, 0.999), eps=1e-8):
    params = [p.clone().requires_grad_(True) for p in model]
    opt = torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, foreach=False)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = rb.population_loss(rb.LinearRNN(*params, model.structure), TEACHER, k)
        losses.append(loss.detach().clone())
        loss.sum().backward()
        opt.step()
    return [p.detach() for p in params], torch.stack(losses)


@pytest.mark.parametrize("structure", ["full", "diagonal"])
def test_adam_equals_torch_optim_adam(structure):
    model = rb.init_gaussian(4, [0.1, 0.5], [0, 1], structure=structure)
    want, losses = _torch_adam(model, 5, lr=0.02, steps=300, betas=(0.8, 0.99), eps=1e-7)
    res = train_autograd(
        model,
        population(5),
        optimizer="adam",
        lr=0.02,
        max_steps=300,
        betas=(0.8, 0.99),
        eps=1e-7,
    )
    torch.testing.assert_close(res.loss_history[:-1], losses, rtol=1e-12, atol=1e-15)
    for got, w in zip(res.model, want, strict=True):
        torch.testing.assert_close(got, w, rtol=1e-12, atol=1e-13)


def test_adam_runs_are_independent_with_per_run_step_sizes():
    model = rb.init_gaussian(4, [0.1, 0.4, 0.7], [0, 1, 2])
    lrs = [0.01, 0.003, 0.02]
    together = train_autograd(model, population(5), optimizer="adam", lr=lrs, max_steps=200)
    for r in range(model.runs):
        alone = train_autograd(
            model.select(r), population(5), optimizer="adam", lr=lrs[r], max_steps=200
        )
        torch.testing.assert_close(alone.model.A[0], together.model.A[r], rtol=1e-13, atol=1e-15)


def test_adam_keeps_the_symmetric_structure_exactly():
    model = rb.init_gaussian(5, [0.3, 0.6], [0, 1], structure="symmetric")
    res = train_autograd(model, population(5), optimizer="adam", lr=0.01, max_steps=300)
    A, B, C = res.model
    assert torch.equal(A, A.mT) and torch.equal(B, C)
    rb.LinearRNN(A, B, C, "symmetric")  # passes the class's own validation
    assert float(res.loss_history[-1].max()) < 0.1 * float(res.loss_history[0].min())


def test_stopping_at_tol_freezes_converged_runs():
    model = rb.init_gaussian(3, [0.3, 0.3], [0, 1])
    teacher = rb.memoryless()
    res = train_autograd(model, population(2, teacher), lr=[0.05, 1e-4], max_steps=3000, tol=1e-6)
    assert res.converged.tolist() == [True, False] and int(res.steps[0]) < 3000
    assert float(res.loss[0]) <= 1e-6 and int(res.steps[1]) == 3000
    torch.testing.assert_close(res.loss, rb.population_loss(res.model, teacher, 2))
    stop = int(res.steps[0])
    assert (res.loss_history[res.history_steps >= stop, 0] == res.loss[0]).all()
    again = train_autograd(
        res.model.select(0), population(2, teacher), lr=0.05, max_steps=5, tol=1e-6
    )
    assert torch.equal(again.model.A, res.model.A[:1]) and int(again.steps[0]) == 0


def test_divergence_is_reported_and_does_not_touch_other_runs():
    model = rb.init_gaussian(4, [0.5, 0.5], [0, 1])
    loss = population(4)
    with pytest.warns(RuntimeWarning, match="1 of 2 runs diverged"):
        res = train_autograd(model, loss, lr=[0.02, 50.0], max_steps=100, record_every=10)
    assert res.diverged.tolist() == [False, True] and not bool(res.converged.any())
    assert torch.isnan(res.model.A[1]).all() and torch.isnan(res.loss[1])
    assert torch.isfinite(res.model.A[0]).all() and int(res.steps[1]) < 100
    assert torch.isnan(res.loss_history[-1, 1]) and torch.isfinite(res.loss_history[:, 0]).all()
    alone = train_autograd(model.select(0), loss, lr=0.02, max_steps=100)
    torch.testing.assert_close(alone.model.A[0], res.model.A[0], rtol=1e-13, atol=1e-15)
    with pytest.raises(rb.DivergenceError, match="diverged"):
        train_autograd(model, loss, lr=50.0, max_steps=50, divergence="raise")


def test_history_tracking_and_an_empirical_loss():
    x = rb.sample_sequences(40, 4, seed=0)
    model = rb.init_gaussian(3, [0.3, 0.5], [0, 1])
    res = train_autograd(
        model,
        lambda m: rb.empirical_loss(m, TEACHER, x),
        lr=0.05,
        max_steps=25,
        record_every=10,
        track={"rho": rb.spectral_radius},
    )
    assert res.history_steps.tolist() == [0, 10, 20, 25]
    assert res.tracked["rho"].shape == (4, 2)
    torch.testing.assert_close(res.tracked["rho"][-1], rb.spectral_radius(res.model))
    assert (res.loss_history[-1] < res.loss_history[0]).all()


def test_invalid_arguments_are_refused():
    m = rb.init_gaussian(3, [0.3, 0.4], [0, 1])
    loss = population(3)
    with pytest.raises(TypeError, match="model must be a LinearRNN"):
        train_autograd(m.A, loss, lr=0.1, max_steps=1)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        train_autograd(m, 3.0, lr=0.1, max_steps=1)
    with pytest.raises(ValueError, match=r"optimizer must be one of \['gd', 'adam'\]"):
        train_autograd(m, loss, optimizer="sgd", lr=0.1, max_steps=1)
    with pytest.raises(ValueError, match=r"lr must be > 0, got -0\.1"):
        train_autograd(m, loss, lr=-0.1, max_steps=1)
    with pytest.raises(ValueError, match=r"lr must be a float or have one entry per run \(2\)"):
        train_autograd(m, loss, lr=[0.1, 0.1, 0.1], max_steps=1)
    with pytest.raises(ValueError, match="max_steps must be >= 0"):
        train_autograd(m, loss, lr=0.1, max_steps=-1)
    with pytest.raises(ValueError, match=r"betas must lie in \[0, 1\)"):
        train_autograd(m, loss, optimizer="adam", lr=0.1, max_steps=1, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps must be > 0"):
        train_autograd(m, loss, optimizer="adam", lr=0.1, max_steps=1, eps=0.0)
    with pytest.raises(ValueError, match="divergence must be one of"):
        train_autograd(m, loss, lr=0.1, max_steps=1, divergence="ignore")
    with pytest.raises(ValueError, match=r"one loss per run, shape \(2,\), got shape \(\)"):
        train_autograd(m, lambda mm: loss(mm).sum(), lr=0.1, max_steps=1)
    with pytest.raises(TypeError, match=r"float64 tensor, got dtype torch\.float32"):
        train_autograd(m, lambda mm: loss(mm).float(), lr=0.1, max_steps=1)
    with pytest.raises(ValueError, match="depends on the model's parameters"):
        train_autograd(m, lambda mm: loss(mm).detach(), lr=0.1, max_steps=1)
    with pytest.raises(TypeError, match=r"must return a torch.Tensor of shape \(2,\)"):
        train_autograd(m, lambda mm: [0.0, 0.0], lr=0.1, max_steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = train_autograd(m, loss, lr=0.1, max_steps=0)  # zero steps: the initial model
    assert torch.equal(res.model.A, m.A) and res.history_steps.tolist() == [0]
