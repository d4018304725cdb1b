"""Tests of rnnbias.nonlinear: the tanh RNN, its forward pass and batched training."""

import pytest
import torch

import rnnbias as rb
from rnnbias import nonlinear as nl

F64 = torch.float64


def _teacher():
    one = torch.ones(1, 1, dtype=F64)
    return nl.TanhRNN(0.9 * one.unsqueeze(-1), one, one)


def test_forward_matches_the_recursion_written_out():
    m = nl.init_tanh(3, [0.5, 1.2], [0, 1])
    x = torch.randn(4, 6, generator=torch.Generator().manual_seed(0), dtype=F64)
    out = nl.tanh_forward(m, x)
    assert out.shape == (2, 4, 6)
    for r in range(2):
        h = torch.zeros(4, 3, dtype=F64)
        for t in range(6):
            h = torch.tanh(h @ m.A[r].T + x[:, t : t + 1] * m.B[r])
            torch.testing.assert_close(out[r, :, t], h @ m.C[r], rtol=1e-14, atol=1e-15)


def test_small_signals_follow_the_linear_rnn():
    # tanh(z) = z + O(z^3): with tiny parameters and inputs the tanh RNN is the linear one
    lin = rb.init_gaussian(5, 0.5, seed=2)
    m = nl.TanhRNN(lin.A, lin.B, lin.C)
    x = 1e-4 * torch.randn(3, 8, generator=torch.Generator().manual_seed(1), dtype=F64)
    torch.testing.assert_close(nl.tanh_forward(m, x), rb.forward(lin, x), rtol=1e-6, atol=0)


def test_training_lowers_the_loss_and_runs_are_independent():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(32, 5, generator=g, dtype=F64)
    y = nl.tanh_forward(_teacher(), x)[0, :, -1]
    m = nl.init_tanh(4, [0.1, 0.5], [0, 1])
    together = nl.train_tanh(m, x, y, lr=0.05, steps=200, record_every=50)
    assert together.loss_history.shape == (5, 2)
    assert bool((together.loss_history[-1] < 0.5 * together.loss_history[0]).all())
    alone = nl.train_tanh(m.select(1), x, y, lr=0.05, steps=200, record_every=50)
    torch.testing.assert_close(alone.model.A[0], together.model.A[1], rtol=1e-12, atol=1e-14)
    assert str(together).startswith("2 tanh runs: 200 steps")


def test_divergence_is_reported():
    g = torch.Generator().manual_seed(4)
    x = 50 * torch.randn(16, 5, generator=g, dtype=F64)
    y = 1e6 * torch.ones(16, dtype=F64)
    with pytest.raises(RuntimeError, match="training diverged at step"):
        nl.train_tanh(nl.init_tanh(3, 1.0, 0), x, y, lr=1e3, steps=50)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, x, y: nl.tanh_forward((m.A, m.B, m.C), x), TypeError, "model must be a TanhRNN"),
        (lambda m, x, y: nl.tanh_forward(m, x.float()), TypeError, "x must have dtype"),
        (lambda m, x, y: nl.tanh_forward(m, x[0]), ValueError, "x must have 2 or 3 dimensions"),
        (lambda m, x, y: nl.train_tanh(m, x, y[:3]), ValueError, "one target per sequence"),
        (lambda m, x, y: nl.train_tanh(m, x, y, lr=0.0), ValueError, "lr must be > 0"),
        (lambda m, x, y: nl.train_tanh(m, x, y, steps=-1), ValueError, "steps must be >= 0"),
        (lambda m, x, y: nl.TanhRNN(m.A[:, :2], m.B, m.C), ValueError, "must have shapes"),
    ],
)
def test_bad_arguments_are_rejected(call, error, match):
    m = nl.init_tanh(3, 0.5, 0)
    x = torch.zeros(4, 5, dtype=F64)
    y = torch.zeros(4, dtype=F64)
    with pytest.raises(error, match=match):
        call(m, x, y)
