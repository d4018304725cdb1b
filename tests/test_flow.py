"""Tests of rnnbias.flow: accuracy, agreement with small-step GD, conservation of Q, errors."""

import pytest
import torch

import rnnbias as rb
from rnnbias import balance
from rnnbias.linear import LinearRNN

F64 = torch.float64
TEACHER = rb.low_dimensional([0.9, -0.5], [1.0, 0.5])


def _distance(m1: LinearRNN, m2: LinearRNN) -> float:
    return max(float((a - b).abs().max()) for a, b in zip(m1, m2, strict=True))


@pytest.fixture(scope="module")
def reference():
    """A small problem and its flow at t = 1 to rtol 1e-12 (the global error is ~1e-13)."""
    model = rb.init_gaussian(4, 0.6, seed=1)
    return model, rb.integrate_flow(model, TEACHER, 4, 1.0, rtol=1e-12, atol=1e-14).model


def test_the_error_shrinks_with_the_tolerance(reference):
    model, exact = reference
    err = [
        _distance(rb.integrate_flow(model, TEACHER, 4, 1.0, rtol=r, atol=r / 100).model, exact)
        for r in (1e-6, 1e-9)
    ]
    # measured 4e-8 and 4e-11: the global error follows rtol; 30x leaves room for step noise
    assert err[1] < 1e-9 and err[0] > 30 * err[1]


def test_gradient_descent_approaches_the_flow_at_first_order(reference):
    """GD is Euler's method: at equal time t = steps * lr, half the step, half the distance."""
    model, exact = reference
    dist = [
        _distance(
            rb.train_gd(model, TEACHER, 4, lr=lr, tol=0.0, max_steps=round(1 / lr)).model, exact
        )
        for lr in (2e-3, 1e-3)
    ]
    assert 1.6 < dist[0] / dist[1] < 2.4  # measured 2.0


def test_the_flow_conserves_q_while_gradient_descent_drifts():
    model = rb.init_gaussian(6, 0.5, seed=3)  # full, unbalanced: max |Q(0)| = 0.3
    q0 = balance.imbalance(model)
    times = torch.linspace(0, 5, 11, dtype=F64)
    res = rb.integrate_flow(model, TEACHER, 4, 5.0, times=times, rtol=1e-10)
    drift = max(float((balance.imbalance(m) - q0).abs().max()) for m in res.models)
    assert drift <= 1e-10  # measured 8e-13: the solver's global error, not O(rtol) per step
    gd = rb.train_gd(model, TEACHER, 4, lr=1e-2, tol=0.0, max_steps=500).model
    assert float((balance.imbalance(gd) - q0).abs().max()) > 1e-4  # measured 5e-3, O(lr)
    assert float(res.loss[0]) < 1e-3 * float(res.loss_history[0, 0])  # and the flow did move


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
def test_structured_flows_descend_and_keep_their_structure(structure):
    model = rb.init_gaussian(5, [0.4, 0.8], seed=[0, 1], structure=structure)
    times = torch.linspace(0, 4, 9, dtype=F64)
    res = rb.integrate_flow(model, TEACHER, 5, 4.0, times=times)
    assert (res.loss_history[1:] < res.loss_history[:-1]).all()  # gradient flow is a descent flow
    end = res.model
    assert end.structure == structure
    LinearRNN(*end, structure)  # still passes validation
    if structure == "symmetric":  # stages combine symmetric gradients: exact, not approximate
        assert torch.equal(end.A, end.A.mT) and torch.equal(end.B, end.C)
    q0, q1 = balance.imbalance(model), balance.imbalance(end)
    assert float((q1 - q0).abs().max()) <= 1e-10


def test_output_times_are_hit_exactly_and_recorded():
    model = rb.init_gaussian(3, [0.3, 0.7, 1.0], seed=[0, 1, 2])
    res = rb.integrate_flow(model, TEACHER, 3, 2.0, times=[0.0, 0.3, 1.0, 1.7])
    assert res.times.tolist() == [0.0, 0.3, 1.0, 1.7, 2.0]  # t_end appended
    assert res.times.dtype == F64 and res.loss_history.shape == (5, 3) and len(res.models) == 5
    assert res.model is res.models[-1]
    assert torch.equal(res.models[0].A, model.A)
    for m, loss in zip(res.models, res.loss_history, strict=True):
        torch.testing.assert_close(loss, rb.population_loss(m, TEACHER, 3), rtol=1e-12, atol=0)
    assert repr(res).startswith("FlowResult(runs=3, t_end=2, n_times=5, n_steps=")
    assert str(res).startswith("flow of 3 runs to t = 2: ") and len(str(res)) <= 78
    later = rb.integrate_flow(model, TEACHER, 3, 2.0, times=[0.5])
    assert later.times.tolist() == [0.5, 2.0]
    assert _distance(later.model, res.model) < 1e-9  # the same flow, other stops


def test_runs_in_one_batch_agree_with_runs_alone_and_outputs_all():
    model = rb.init_gaussian(4, [0.3, 0.9], seed=[4, 5])
    both = rb.integrate_flow(model, TEACHER, 4, 1.0, outputs="all")
    for r in range(2):
        alone = rb.integrate_flow(model.select(r), TEACHER, 4, 1.0, outputs="all", h0=1e-3)
        assert _distance(alone.model, both.model.select(r)) < 1e-9  # shared steps differ
    expected = rb.population_loss(both.model, TEACHER, 4, outputs="all")
    torch.testing.assert_close(both.loss, expected, rtol=1e-12, atol=0)


def test_a_stationary_point_stays_put_in_few_steps():
    zero = torch.zeros(1, 3, dtype=F64)
    model = LinearRNN(torch.zeros(1, 3, 3, dtype=F64), zero, zero)  # gradient exactly 0
    res = rb.integrate_flow(model, TEACHER, 3, 100.0)
    assert all(torch.count_nonzero(p) == 0 for p in res.model)
    assert res.n_steps < 30 and res.n_rejected == 0  # zero error: the step grows 5x a time


def test_flow_errors_say_when_and_why():
    model = rb.init_gaussian(3, 0.5, seed=0)
    with pytest.raises(rb.FlowError, match=r"max_steps = 2 steps used up at t = 0\.0"):
        rb.integrate_flow(model, TEACHER, 3, 1.0, max_steps=2)
    with pytest.raises(rb.FlowError, match="non-finite at t = 0"):  # 10^400 overflows
        rb.integrate_flow(rb.init_gaussian(4, 10.0, seed=0), rb.memoryless(), 400, 1.0)
    with pytest.raises(rb.FlowError, match=r"step size .* fell below 1e-14 \* t_end at t = 0"):
        rb.integrate_flow(rb.init_gaussian(4, 3.0, seed=0), rb.memoryless(), 30, 1.0)
    assert issubclass(rb.FlowError, RuntimeError)


M = rb.init_gaussian(3, 0.5, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": (M.A, M.B, M.C)}, TypeError, "model must be a LinearRNN, got tuple"),
        ({"k": 0}, ValueError, "k must be >= 1, got 0"),
        ({"k": 2.0}, TypeError, "k must be an integer, got 2.0"),
        ({"t_end": 0.0}, ValueError, "t_end must be > 0, got 0.0"),
        ({"t_end": float("inf")}, ValueError, "t_end must be finite, got inf"),
        ({"t_end": "1"}, TypeError, "t_end must be a real number"),
        ({"rtol": -1e-8}, ValueError, "rtol must be > 0, got -1e-08"),
        ({"atol": 0.0}, ValueError, "atol must be > 0, got 0.0"),
        ({"h0": 0.0}, ValueError, "h0 must be > 0, got 0.0"),
        ({"max_steps": 0}, ValueError, "max_steps must be >= 1, got 0"),
        ({"max_steps": 1.5}, TypeError, "max_steps must be an integer, got 1.5"),
        ({"outputs": "last"}, ValueError, "outputs must be one of"),
        ({"times": [0.0, 2.0]}, ValueError, r"times must be .*within \[0, t_end=1.0\]"),
        ({"times": [-0.1, 0.5]}, ValueError, r"within \[0, t_end=1.0\], got \[-0.1, 0.5\]"),
        ({"times": []}, ValueError, "times must be non-empty"),
        ({"times": [0.5, 0.5]}, ValueError, "strictly increasing, got 0.5 followed by 0.5"),
        ({"times": 0.5}, ValueError, "times must have 1 dimensions"),
        ({"times": [0.0, float("nan")]}, ValueError, "times must have finite entries"),
        ({"times": torch.ones(1)}, TypeError, "times must have dtype torch.float64"),
        ({"teacher": torch.zeros(2, 3, dtype=F64)}, ValueError, r"one per run \(1 runs\)"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, match):
    args = {"model": M, "teacher": TEACHER, "k": 3, "t_end": 1.0, **kwargs}
    with pytest.raises(error, match=match):
        rb.integrate_flow(**args)
