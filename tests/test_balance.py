"""Tests of rnnbias.balance: the exact one-step change of Q, and O(eta) drift under GD."""

import pytest
import torch
from helpers import models, teachers
from hypothesis import given
from hypothesis import strategies as st

import rnnbias as rb
from rnnbias import balance
from rnnbias.linear import LinearRNN

F64 = torch.float64


@given(models(), teachers, st.integers(1, 7), st.floats(1e-3, 0.2))
def test_one_gd_step_changes_q_by_exactly_eta_squared_terms(model, teacher, k, lr):
    """Q(theta - lr G) - Q(theta) = lr^2 (G_A G_A^T - G_A^T G_A + G_B G_B^T - G_C^T G_C)."""
    _, grad = rb.population_loss_grad(model, teacher, k)
    A, B, C = model
    stepped = LinearRNN(A - lr * grad.A, B - lr * grad.B, C - lr * grad.C, model.structure)
    change = balance.imbalance(stepped) - balance.imbalance(model)
    predicted = balance.gd_step_change(grad, lr, model.structure)
    scale = 1.0 + float(balance.imbalance(model).abs().max())
    assert float((change - predicted).abs().max()) <= 1e-12 * scale


def test_symmetric_balanced_models_have_zero_imbalance():
    m = rb.init_gaussian(5, [0.3, 1.0], seed=[0, 1], structure="symmetric")
    assert float(balance.imbalance(m).abs().max()) < 1e-14


def test_diagonal_imbalance_is_the_diagonal_of_q_and_is_conserved_by_the_flow():
    m = rb.init_gaussian(4, 0.7, seed=3, structure="diagonal")
    full = balance.imbalance(m.to_full())
    assert torch.allclose(torch.diagonal(full, dim1=-2, dim2=-1), balance.imbalance(m))
    assert torch.allclose(balance.imbalance(m), m.B**2 - m.C**2)
    teacher = rb.low_dimensional([0.8])
    drift = []
    for lr in (0.02, 0.002):
        end = rb.train_gd(m, teacher, 4, lr=lr, tol=0.0, max_steps=round(1.0 / lr)).model
        drift.append(float((balance.imbalance(end) - balance.imbalance(m)).abs().max()))
    assert drift[1] > 0 and 8.0 < drift[0] / drift[1] < 12.0


def test_gradient_descent_drift_of_q_is_first_order_in_the_step():
    """At equal flow time t = steps * lr, ten times smaller steps: about ten times less drift."""
    model = rb.init_gaussian(6, 0.6, seed=2)
    teacher = rb.low_dimensional([0.9, -0.5], [1.0, 0.5])
    q0 = balance.imbalance(model)
    drift = []
    for lr in (0.02, 0.002):
        end = rb.train_gd(model, teacher, 5, lr=lr, tol=0.0, max_steps=round(2.0 / lr)).model
        drift.append(float((balance.imbalance(end) - q0).norm()))
    assert drift[1] > 0 and 8.0 < drift[0] / drift[1] < 12.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: balance.imbalance("model"), TypeError, "model must be a LinearRNN"),
        (lambda: balance.gd_step_change((1, 2, 3), 0.1), TypeError, "grad must be a Gradient"),
        (
            lambda: balance.gd_step_change(
                rb.population_loss_grad(rb.init_gaussian(2, 0.1), rb.memoryless(), 3)[1], -0.1
            ),
            ValueError,
            "lr must be >= 0",
        ),
        (
            lambda: balance.gd_step_change(
                rb.population_loss_grad(rb.init_gaussian(2, 0.1), rb.memoryless(), 3)[1],
                0.1,
                "banded",
            ),
            ValueError,
            "structure must be one of",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
