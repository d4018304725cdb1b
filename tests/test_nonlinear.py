"""Tests of rnnbias.nonlinear: the tanh RNN, its forward pass and batched training."""

import math

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
    assert str(together).startswith("2 runs: 0 converged, 0 diverged; at most 200 steps")


def test_divergence_is_reported_per_run_and_the_other_runs_train_on():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(16, 5, generator=g, dtype=F64)
    y = nl.tanh_forward(_teacher(), x)[0, :, -1]
    m = nl.init_tanh(3, [0.5, 0.5], [0, 1])
    m = nl.TanhRNN(m.A, m.B, m.C * torch.tensor([[1.0], [1e200]], dtype=F64))  # run 1 overflows
    with pytest.warns(RuntimeWarning, match="1 of 2 runs diverged"):
        res = nl.train_tanh(m, x, y, lr=0.05, steps=40, record_every=10)
    assert res.diverged.tolist() == [False, True]
    assert bool(res.model.A[1].isnan().all()) and bool(res.loss[1].isnan())
    assert bool(res.loss_history[:, 1].isnan().all())
    alone = nl.train_tanh(m.select(0), x, y, lr=0.05, steps=40, record_every=10)
    assert torch.equal(res.model.A[0], alone.model.A[0])  # run 0 untouched by run 1
    assert torch.equal(res.loss_history[:, 0], alone.loss_history[:, 0])
    assert "1 diverged" in str(res) and "nan" not in str(res)
    with pytest.raises(rb.DivergenceError, match=r"run 1 \(of 2\) diverged .* at step 0"):
        nl.train_tanh(m, x, y, lr=0.05, steps=40, divergence="raise")


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


def test_tanh_teacher_is_the_one_dimensional_recursion():
    t = nl.tanh_teacher(0.5, 2.0, -1.0)
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(5), dtype=F64)
    s = torch.zeros(3, dtype=F64)
    for step in range(4):
        s = torch.tanh(0.5 * s + 2.0 * x[:, step])
    torch.testing.assert_close(nl.tanh_forward(t, x)[0, :, -1], -s, rtol=1e-15, atol=1e-15)
    with pytest.raises(TypeError, match="a must be a real number"):
        nl.tanh_teacher("0.9")


def test_memory_profile_at_zero_input_is_the_squared_impulse_response():
    # at x = 0 every tanh' equals 1, so dy_T/dx_{T-j} = C A^j B = g_j exactly
    lin = rb.init_gaussian(4, 0.8, 3)
    m = nl.TanhRNN(lin.A, lin.B, lin.C)
    prof = nl.memory_profile(m, torch.zeros(2, 7, dtype=F64))
    torch.testing.assert_close(prof, rb.impulse_response(lin, 7) ** 2, rtol=1e-12, atol=1e-15)


def test_memory_profile_matches_finite_differences_for_tanh_and_gru():
    g = torch.Generator().manual_seed(6)
    x = torch.randn(5, 6, generator=g, dtype=F64)
    for model in [nl.init_tanh(3, 1.5, 1), nl.init_gru(4, 1.0, 2)]:
        f = (
            (lambda xx, m=model: nl.tanh_forward(m, xx)[0, :, -1])
            if isinstance(model, nl.TanhRNN)
            else (lambda xx, m=model: m(xx)[:, -1].detach())
        )
        prof = nl.memory_profile(model, x)
        eps = 1e-6
        fd = torch.empty(6, dtype=F64)
        for j in range(6):
            e = torch.zeros_like(x)
            e[:, 5 - j] = eps
            fd[j] = (((f(x + e) - f(x - e)) / (2 * eps)) ** 2).mean()
        torch.testing.assert_close(prof[0], fd, rtol=1e-6, atol=1e-12)


def test_gru_initialisation_scales_torch_default_and_keeps_the_global_rng():
    state = torch.random.get_rng_state()
    a, b = nl.init_gru(6, 1.0, seed=3), nl.init_gru(6, 0.01, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(0.01 * p, q, rtol=1e-15, atol=0)
        assert float(p.detach().abs().max()) <= 6**-0.5
    assert a.recurrent_blocks().shape == (3, 6, 6)
    assert not torch.equal(nl.init_gru(6, 1.0, seed=4).gru.weight_hh_l0, a.gru.weight_hh_l0)


def test_gru_training_lowers_the_loss_and_leaves_the_student_unchanged():
    g = torch.Generator().manual_seed(7)
    x = torch.randn(64, 5, generator=g, dtype=F64)
    y = nl.tanh_forward(_teacher(), x)[0, :, -1]
    s = nl.init_gru(5, 0.5, 0)
    before = s.gru.weight_hh_l0.detach().clone()
    res = nl.train_gru(s, x, y, lr=0.2, steps=100, record_every=25)
    assert torch.equal(s.gru.weight_hh_l0.detach(), before)
    assert res.loss_history.shape == (5, 1) and bool(res.loss < 0.5 * res.loss_history[0])
    assert str(res).startswith("1 run: 0 converged, 0 diverged; at most 100 steps")
    assert res.student is res.model and res.stop_reason == ["max_steps"]
    assert res.diverged.tolist() == [False]
    with pytest.raises(rb.DivergenceError, match=r"run 0 \(of 1\) diverged .* at step"):
        nl.train_gru(s, 50 * x, 1e6 * y, lr=1e4, steps=50)
    with pytest.warns(RuntimeWarning, match="1 of 1 runs diverged"):
        bad = nl.train_gru(s, 50 * x, 1e6 * y, lr=1e4, steps=50, divergence="warn")
    assert bad.diverged.tolist() == [True] and math.isnan(bad.loss)
    assert all(bool(p.isnan().all()) for p in bad.student.parameters())
    assert "1 diverged" in str(bad) and bad.stop_reason == ["diverged"]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s, x, y: nl.init_gru(0, 1.0), ValueError, "hidden must be >= 1"),
        (lambda s, x, y: nl.init_gru(4, -1.0), ValueError, "scale must be > 0"),
        (lambda s, x, y: nl.train_gru("gru", x, y), TypeError, "student must be a GRUStudent"),
        (lambda s, x, y: nl.train_gru(s, x, y[:2]), ValueError, "one target per sequence"),
        (lambda s, x, y: s(x.float()), TypeError, "x must have dtype"),
        (lambda s, x, y: nl.memory_profile("m", x), TypeError, "TanhRNN or a GRUStudent"),
        (
            lambda s, x, y: nl.memory_profile(nl.init_tanh(3, 1.0, 0), x.unsqueeze(0)),
            ValueError,
            "shape",
        ),
        (lambda s, x, y: nl.GRUStudent(s.gru, s.gru), TypeError, "torch.nn.Linear"),
    ],
)
def test_bad_gru_arguments_are_rejected(call, error, match):
    s = nl.init_gru(4, 0.5, 0)
    x = torch.zeros(4, 5, dtype=F64)
    y = torch.zeros(4, dtype=F64)
    with pytest.raises(error, match=match):
        call(s, x, y)
