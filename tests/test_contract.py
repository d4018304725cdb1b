"""One input contract for every public function (issue 15, part 4).

Each class of input defect found by a hostile-input sweep gets a clear ``TypeError`` or
``ValueError`` naming the argument (or a ``RuntimeWarning``), never raw torch errors or wrong
numbers returned silently. Every case asserts the exception type and a message fragment that
names the argument. The checks are the shared ones of ``rnnbias._checks``.
"""

import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import rnnbias as rb
from rnnbias import _checks, balance, constructions, flow, lazy, moments, plotting, widgets
from rnnbias import nonlinear as nl
from rnnbias.linear import Gradient, _unchecked

F64 = torch.float64
M1 = rb.init_gaussian(3, 0.5, 0)  # one run
M3 = rb.init_gaussian(3, 0.5, [0, 1, 2])  # three runs
TEACHER = rb.memoryless()
ROWS3 = torch.randn(3, 40, generator=torch.Generator().manual_seed(0), dtype=F64)
ROWS2 = ROWS3[:2]
X = rb.sample_sequences(4, 5)


def _nan_runs(structure="full"):
    """A 2-run model whose run 1 is NaN, as train_gd reports a diverged run."""
    m = rb.init_gaussian(3, 0.5, [0, 1], structure=structure)
    A, B, C = (p.clone() for p in m)
    for p in (A, B, C):
        p[1] = float("nan")
    return _unchecked(A, B, C, structure)


# --- teacher rows against runs ---------------------------------------------------------------

TEACHER_USERS = {
    "population_loss": lambda m, t: rb.population_loss(m, t, 5),
    "population_loss_grad": lambda m, t: rb.population_loss_grad(m, t, 5),
    "extrapolation_error": lambda m, t: rb.extrapolation_error(m, t, 2, [3, 5]),
    "sup_error": lambda m, t: rb.sup_error(m, t, 5),
    "empirical_loss": lambda m, t: rb.empirical_loss(m, t, X),
    "integrate_flow": lambda m, t: rb.integrate_flow(m, t, 3, 0.1),
    "train_gd": lambda m, t: rb.train_gd(m, t, 3, max_steps=2),
    "train_lazy": lambda m, t: lazy.train_lazy(
        lazy.init_wide(6, list(range(m.runs)), sigma_w=0.7), t, 2, T=5, max_steps=2
    ),
    "train_autograd": lambda m, t: rb.train_autograd(
        m, lambda mm: rb.population_loss(mm, t, 3), lr=0.1, max_steps=2
    ),
}


@pytest.mark.parametrize("name", list(TEACHER_USERS))
@pytest.mark.parametrize(("model", "rows"), [(M1, ROWS3), (M3, ROWS2)], ids=["1 vs 3", "3 vs 2"])
def test_teacher_rows_that_do_not_match_the_runs_are_refused(name, model, rows):
    # a 1-run model against a 3-row target must not broadcast to 3 results
    with pytest.raises(ValueError, match=r"teacher must give one impulse response or one per run"):
        TEACHER_USERS[name](model, rows)


@pytest.mark.parametrize("name", ["population_loss", "extrapolation_error", "sup_error"])
def test_one_row_or_one_row_per_run_is_accepted(name):
    fn = TEACHER_USERS[name]
    shared = fn(M3, ROWS3[0])
    torch.testing.assert_close(fn(M3, ROWS3[:1]), shared, rtol=0, atol=0)
    per_run = fn(M3, ROWS3)
    for r in range(3):
        torch.testing.assert_close(per_run[r], fn(M3.select(r), ROWS3[r])[0], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("teacher", "error", "match"),
    [
        (None, TypeError, "teacher must be a tensor or array of real numbers"),
        ("memoryless", TypeError, "teacher must be a tensor or array of real numbers"),
        (torch.ones(1, 2, 40, dtype=F64), ValueError, "teacher must have 1 or 2 dimensions"),
        (torch.tensor(1.0, dtype=F64), ValueError, "teacher must have 1 or 2 dimensions"),
        (torch.ones(2, dtype=F64), ValueError, "teacher impulse response must have at least 5"),
        (torch.ones(40), TypeError, "teacher must have dtype torch.float64"),
        (np.ones(40, dtype=np.float32), TypeError, "teacher must hold float64"),
        (np.ones(40, dtype=complex), TypeError, "teacher must be a tensor or array of real"),
        (torch.full((40,), math.nan, dtype=F64), ValueError, "teacher must have finite"),
        ([[1.0], [1.0, 2.0]], TypeError, "teacher must be a tensor or array of real numbers"),
    ],
)
def test_bad_teachers_get_named_errors(teacher, error, match):
    with pytest.raises(error, match=match):
        rb.population_loss(M1, teacher, 5)


def test_a_teacher_object_must_return_float64_taps():
    class Odd:
        def impulse_response(self, n):
            return torch.ones(n)  # float32

    with pytest.raises(TypeError, match=r"teacher.impulse_response\(5\) must return a float64"):
        rb.population_loss(M1, Odd(), 5)


# --- the float policy ------------------------------------------------------------------------

FLOAT_USERS = {
    "from_impulse_response": (lambda a: rb.from_impulse_response(a), "g"),
    "low_dimensional": (lambda a: rb.low_dimensional(a[:1]), "eigenvalues"),
    "shift_register": (lambda a: constructions.shift_register(a), "taps"),
    "convolve": (lambda a: rb.convolve(a, torch.ones(2, 3, dtype=F64)), "g"),
    "hankel": (lambda a: moments.hankel(a, 1), "g"),
    "moments": (lambda a: moments.moments(a, np.ones(4), 3), "atoms"),
    "forward": (lambda a: rb.forward(M1, a.reshape(2, 2)), "x"),
    "LinearRNN": (
        lambda a: rb.LinearRNN(a.reshape(1, 2, 2), np.ones((1, 2)), np.ones((1, 2))),
        "A",
    ),
    "TanhRNN": (lambda a: nl.TanhRNN(a.reshape(1, 2, 2), np.ones((1, 2)), np.ones((1, 2))), "A"),
    "Teacher": (lambda a: rb.Teacher("t", taps=a), "taps"),
    "init_gaussian sigma": (lambda a: rb.init_gaussian(3, a[:2]), "sigma"),
    "train_autograd lr": (
        lambda a: rb.train_autograd(
            M3, lambda m: rb.population_loss(m, TEACHER, 3), lr=a[:3], max_steps=1
        ),
        "lr",
    ),
}


@pytest.mark.parametrize("name", list(FLOAT_USERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_numpy_low_precision_floats_are_refused_like_torch_float32(name, dtype):
    fn, arg = FLOAT_USERS[name]
    with pytest.raises(TypeError, match=rf"{arg} must .*float64"):
        fn(np.array([0.5, 0.25, 0.125, 0.0625], dtype=dtype))


@pytest.mark.parametrize("name", list(FLOAT_USERS))
@pytest.mark.parametrize(
    "values",
    [
        np.array([0.5, 0.25, 0.125, 0.0625], dtype=complex),
        torch.tensor([0.5, 0.25, 0.125, 0.0625], dtype=torch.complex128),
        [0.5 + 1j, 0.25, 0.125, 0.0625],
        np.array([True, False, True, True]),
    ],
    ids=["numpy complex", "torch complex", "list complex", "numpy bool"],
)
def test_complex_and_boolean_values_are_refused_where_real_ones_are_expected(name, values):
    fn, arg = FLOAT_USERS[name]
    if isinstance(values, list) and name in ("forward", "LinearRNN", "TanhRNN"):
        values = np.array(values)  # (these reshape their input)
    with pytest.raises(TypeError, match=rf"{arg} must (be|hold|have)"):
        fn(values)


def test_float64_and_integer_arrays_are_accepted_unchanged():
    g = np.array([1.0, 0.5, 0.25])
    assert torch.equal(rb.from_impulse_response(g).taps, torch.from_numpy(g))
    assert torch.equal(
        rb.from_impulse_response(np.array([1, 2])).taps, torch.tensor([1.0, 2.0], dtype=F64)
    )


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda v: rb.init_gaussian(3, v), "sigma"),
        (lambda v: rb.memoryless(v), "w"),
        (lambda v: constructions.cyclic(3, v), "rho"),
        (lambda v: rb.integrate_flow(M1, TEACHER, 3, v), "t_end"),
        (lambda v: balance.gd_step_change(rb.population_loss_grad(M1, TEACHER, 3)[1], v), "lr"),
        (lambda v: nl.train_tanh(nl.init_tanh(2, 0.5), X, torch.zeros(4, dtype=F64), lr=v), "lr"),
        (lambda v: lazy.init_wide(4, 0, sigma_w=v), "sigma_w"),
    ],
)
@pytest.mark.parametrize(
    "value", [np.float32(0.5), torch.tensor(0.5), np.float16(0.5)], ids=["np32", "torch32", "np16"]
)
def test_low_precision_scalars_are_refused(call, name, value):
    with pytest.raises(TypeError, match=rf"{name} must be a float64 number"):
        call(value)


# --- scalars: 0-d tensors, seeds -------------------------------------------------------------


@pytest.mark.parametrize("k", [torch.tensor(3), np.int64(3), np.array(3)], ids=str)
def test_zero_dimensional_integers_are_integers(k):
    assert torch.equal(rb.population_loss(M1, TEACHER, k), rb.population_loss(M1, TEACHER, 3))
    assert torch.equal(rb.impulse_response(M1, k), rb.impulse_response(M1, 3))
    assert rb.extrapolation_error(M1, TEACHER, k, 5).shape == (1,)  # a scalar, not per run
    assert constructions.nilpotent_shift(k, 0.5).d == 4


def test_zero_dimensional_float64_scalars_are_numbers():
    lr = torch.tensor(0.1, dtype=F64)
    kw = {"lr": lr, "max_steps": 2}
    a = rb.train_autograd(M3, lambda m: rb.population_loss(m, TEACHER, 3), **kw)
    b = rb.train_autograd(M3, lambda m: rb.population_loss(m, TEACHER, 3), lr=0.1, max_steps=2)
    assert torch.equal(a.model.A, b.model.A)
    flow_0d = rb.integrate_flow(M1, TEACHER, 3, torch.tensor(0.1, dtype=F64))
    assert float(flow_0d.times[-1]) == 0.1


@pytest.mark.parametrize(
    ("k", "error", "match"),
    [
        (torch.tensor(3.0, dtype=F64), TypeError, "k must be an integer"),
        (torch.tensor(True), TypeError, "k must be an integer"),
        (torch.tensor([[3]]), ValueError, "k must be an integer or a 1-d sequence"),
    ],
)
def test_other_k_values_are_refused(k, error, match):
    with pytest.raises(error, match=match):
        rb.extrapolation_error(M1, TEACHER, k, 5)


SEEDED = {
    "init_gaussian": lambda s: rb.init_gaussian(3, 0.5, s),
    "init_gaussian list": lambda s: rb.init_gaussian(3, 0.5, [0, s]),
    "init_tanh": lambda s: nl.init_tanh(3, 0.5, s),
    "init_gru": lambda s: nl.init_gru(3, 0.5, s),
    "init_wide": lambda s: lazy.init_wide(3, s, sigma_w=0.5),
    "sample_sequences": lambda s: rb.sample_sequences(2, 3, seed=s),
}


@pytest.mark.parametrize("name", list(SEEDED))
@pytest.mark.parametrize("seed", [2**64, 2**70, -1])
def test_seeds_outside_the_generator_range_are_refused(name, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*64\)"):
        SEEDED[name](seed)


@pytest.mark.parametrize("name", list(SEEDED))
def test_the_largest_seed_and_integer_tensors_work(name):
    SEEDED[name](2**64 - 1)
    SEEDED[name](torch.tensor(7))


def test_wide_seeds_and_lags_may_be_integer_arrays():
    a = lazy.init_wide(3, np.array([0, 1]), sigma_w=0.5)
    assert torch.equal(a.W, lazy.init_wide(3, [0, 1], sigma_w=0.5).W)
    assert torch.equal(lazy.rho_squared(torch.tensor([1, 2]), 0.5), lazy.rho_squared([1, 2], 0.5))
    with pytest.raises(TypeError, match="j must be an integer"):
        lazy.rho_squared(torch.tensor([1.5]), 0.5)
    with pytest.raises(ValueError, match="j must hold at least one lag"):
        lazy.rho_squared([], 0.5)


# --- concat_runs and track= --------------------------------------------------------------


@pytest.mark.parametrize(
    ("models", "error", "match"),
    [
        (None, TypeError, "models must be a list or tuple of LinearRNN"),
        (M1, TypeError, "models must be a list or tuple of LinearRNN"),
        (5, TypeError, "models must be a list or tuple of LinearRNN"),
        ("ab", TypeError, "models must be a list or tuple of LinearRNN"),
        ([M1, None], TypeError, r"models\[1\] must be a LinearRNN, got NoneType"),
        ([], ValueError, "models must hold at least one LinearRNN"),
    ],
)
def test_concat_runs_names_what_is_wrong(models, error, match):
    with pytest.raises(error, match=match):
        rb.concat_runs(models)


@pytest.mark.parametrize(
    ("track", "error", "match"),
    [
        ({"x": lambda m: torch.tensor(1.0, dtype=F64)}, ValueError, r"track\['x'\] must return"),
        ({"x": lambda m: torch.ones(2, dtype=F64)}, ValueError, "leading run axis of size 3"),
        ({"x": lambda m: "a"}, TypeError, r"track\['x'\] must be a tensor or array"),
        ([1, 2], TypeError, "track must be a mapping"),
        ({3: rb.spectral_radius}, TypeError, "track keys must be strings"),
        ({"x": 3}, TypeError, r"track\['x'\] must be callable"),
    ],
)
def test_train_autograd_tracks_only_values_with_a_run_axis(track, error, match):
    with pytest.raises(error, match=match):
        rb.train_autograd(
            M3, lambda m: rb.population_loss(m, TEACHER, 3), lr=0.1, max_steps=2, track=track
        )


def test_tracked_values_with_a_run_axis_are_kept():
    res = rb.train_autograd(
        M3,
        lambda m: rb.population_loss(m, TEACHER, 3),
        lr=0.1,
        max_steps=2,
        track={"rho": rb.spectral_radius, "B": lambda m: m.B},
    )
    assert res.tracked["rho"].shape == (3, 3) and res.tracked["B"].shape == (3, 3, 3)


# --- sequences: empty batches and empty sequences ----------------------------------------

EMPTY = [torch.zeros(4, 0, dtype=F64), torch.zeros(0, 5, dtype=F64)]
SEQUENCE_USERS = {
    "forward": lambda x: rb.forward(M1, x),
    "convolve": lambda x: rb.convolve(torch.ones(5, dtype=F64), x),
    "empirical_loss": lambda x: rb.empirical_loss(M1, TEACHER, x),
    "Teacher.outputs": lambda x: TEACHER.outputs(x),
    "tanh_forward": lambda x: nl.tanh_forward(nl.init_tanh(2, 0.5), x),
    "train_tanh": lambda x: nl.train_tanh(
        nl.init_tanh(2, 0.5), x, torch.zeros(x.shape[0], dtype=F64)
    ),
    "GRUStudent": lambda x: nl.init_gru(3, 0.5)(x),
    "train_gru": lambda x: nl.train_gru(nl.init_gru(3, 0.5), x, torch.zeros(x.shape[0], dtype=F64)),
    "memory_profile tanh": lambda x: nl.memory_profile(nl.init_tanh(2, 0.5), x),
    "memory_profile gru": lambda x: nl.memory_profile(nl.init_gru(3, 0.5), x),
}


@pytest.mark.parametrize("name", list(SEQUENCE_USERS))
@pytest.mark.parametrize("x", EMPTY, ids=["T = 0", "N = 0"])
def test_empty_batches_and_sequences_are_refused_not_reported_as_divergence(name, x):
    with pytest.raises(ValueError, match=r"x must hold at least one sequence \(N >= 1\)"):
        SEQUENCE_USERS[name](x)


# --- nonlinear students ------------------------------------------------------------------


def _gru(**kw):
    return torch.nn.GRU(kw.pop("input_size", 1), 4, dtype=kw.pop("dtype", F64), **kw)


def _readout(*shape, dtype=F64):
    return torch.nn.Linear(*shape, bias=False, dtype=dtype)


@pytest.mark.parametrize(
    ("gru", "readout", "error", "match"),
    [
        (
            _gru(batch_first=True, dtype=torch.float32),
            _readout(4, 1),
            TypeError,
            "gru must have float64",
        ),
        (
            _gru(batch_first=True),
            _readout(4, 1, dtype=torch.float32),
            TypeError,
            "readout must have float64",
        ),
        (_gru(batch_first=False), _readout(4, 1), ValueError, "'batch_first': False"),
        (_gru(batch_first=True, input_size=2), _readout(4, 1), ValueError, "'input_size': 2"),
        (_gru(batch_first=True, num_layers=2), _readout(4, 1), ValueError, "'num_layers': 2"),
        (_gru(batch_first=True, bidirectional=True), _readout(4, 1), ValueError, "bidirectional"),
        (_gru(batch_first=True), _readout(5, 1), ValueError, r"readout must map .*Linear\(4, 1\)"),
        (_gru(batch_first=True), _readout(4, 2), ValueError, r"readout must map .*Linear\(4, 2\)"),
        (None, _readout(4, 1), TypeError, "gru and readout must be torch.nn.GRU"),
    ],
)
def test_gru_students_are_checked(gru, readout, error, match):
    with pytest.raises(error, match=match):
        nl.GRUStudent(gru, readout)


def test_a_gru_student_with_nan_weights_is_refused():
    gru = _gru(batch_first=True)
    with torch.no_grad():
        gru.weight_hh_l0[0, 0] = math.nan
    with pytest.raises(ValueError, match="gru must have finite parameters"):
        nl.GRUStudent(gru, _readout(4, 1))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda m: nl.train_tanh(m, X, torch.zeros(2, 4, dtype=F64)),
            ValueError,
            "y must have one target per sequence",
        ),
        (
            lambda m: nl.train_tanh(m, X, torch.zeros(5, dtype=F64)),
            ValueError,
            "y must have one target per sequence",
        ),
        (
            lambda m: nl.train_tanh(m, X.expand(2, 4, 5), torch.zeros(4, dtype=F64)),
            ValueError,
            "x of shape",
        ),
        (
            lambda m: nl.train_tanh(m, X, torch.zeros(4, dtype=F64), divergence="ignore"),
            ValueError,
            "divergence must be one of",
        ),
        (
            lambda m: nl.TanhRNN(
                torch.zeros(0, 2, 2, dtype=F64),
                torch.zeros(0, 2, dtype=F64),
                torch.zeros(0, 2, dtype=F64),
            ),
            ValueError,
            "R, d >= 1",
        ),
    ],
)
def test_tanh_training_arguments_are_checked(call, error, match):
    with pytest.raises(error, match=match):
        call(nl.init_tanh(3, 0.5, [0, 1, 2]))


def test_tanh_divergence_is_per_run_and_the_result_prints():
    y = torch.zeros(4, dtype=F64)
    m = nl.init_tanh(3, 0.5, [0, 1, 2])
    m = nl.TanhRNN(m.A, m.B, m.C * torch.tensor([[1.0], [1e200], [1e200]], dtype=F64))
    with pytest.warns(RuntimeWarning, match="2 of 3 runs diverged"):
        res = nl.train_tanh(m, X, y, steps=3, record_every=1)
    assert res.diverged.tolist() == [False, True, True] and bool(res.loss[0].isfinite())
    assert str(res) == (
        f"3 runs: 0 converged, 2 diverged; at most 3 steps, final loss <= {float(res.loss[0]):.4g}"
    )
    every = nl.TanhRNN(m.A[1:], m.B[1:], m.C[1:])
    with pytest.warns(RuntimeWarning, match="2 of 2 runs diverged"):
        gone = nl.train_tanh(every, X, y, steps=100)
    assert int(gone.history_steps[-1]) == 0  # stops once every run diverged
    assert "2 diverged" in str(gone) and str(gone).endswith("final loss <= nan")


# --- overflow: NaN never without a message ---------------------------------------------------

BIG = rb.LinearRNN(
    1e3 * torch.eye(3, dtype=F64)[None], torch.ones(1, 3, dtype=F64), torch.ones(1, 3, dtype=F64)
)  # spectral radius 1e3: a^j overflows after ~103 lags, and 0 * inf = NaN off the diagonal
OVERFLOWS = {
    "impulse_response": lambda: rb.impulse_response(BIG, 200),
    "population_loss": lambda: rb.population_loss(BIG, TEACHER, 200),
    "population_loss_grad": lambda: rb.population_loss_grad(BIG, TEACHER, 200),
    "extrapolation_error": lambda: rb.extrapolation_error(BIG, TEACHER, 2, 200),
    "sup_error": lambda: rb.sup_error(BIG, TEACHER, 200),
    "forward": lambda: rb.forward(BIG, torch.ones(2, 200, dtype=F64)),
    "empirical_loss": lambda: rb.empirical_loss(BIG, TEACHER, torch.ones(2, 200, dtype=F64)),
    "imbalance": lambda: balance.imbalance(rb.init_gaussian(3, 1e300, 0)),
    "gd_step_change": lambda: balance.gd_step_change(  # inf * 0 for this gradient
        Gradient(torch.zeros(1, 2, 2, dtype=F64), *[torch.ones(1, 2, dtype=F64)] * 2), 1e300
    ),
    "moments": lambda: moments.moments([2e3, -2e3], [1.0, 1.0], 200),
    "Teacher.impulse_response": lambda: rb.low_dimensional(
        [1e3, 2e3], [1.0, -1.0]
    ).impulse_response(200),
    "rho_squared": lambda: lazy.rho_squared(2000, 10.0, 0.0, 0.0),
    "tangent_kernel": lambda: lazy.tangent_kernel(lazy.init_wide(8, 0, sigma_w=1e100), 6),
    "tanh_forward": lambda: nl.tanh_forward(  # B x = inf, then A h = -inf: NaN
        nl.TanhRNN(
            torch.full((1, 2, 2), -1.7e308, dtype=F64),
            torch.full((1, 2), 1e308, dtype=F64),
            torch.ones(1, 2, dtype=F64),
        ),
        torch.tensor([[100.0, 100.0]], dtype=F64),
    ),
}


@pytest.mark.parametrize("name", list(OVERFLOWS))
def test_an_overflow_into_nan_is_never_silent(name):
    with pytest.warns(RuntimeWarning, match=rf"{name.split(' ')[0]}: .* overflowed and became NaN"):
        OVERFLOWS[name]()


def test_plus_minus_inf_is_the_honest_value_beyond_the_range_and_passes_quietly():
    diagonal = rb.LinearRNN(
        torch.full((1, 1), 1e3, dtype=F64),
        torch.ones(1, 1, dtype=F64),
        torch.ones(1, 1, dtype=F64),
        "diagonal",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = rb.impulse_response(diagonal, 200)
        loss = rb.population_loss(diagonal, TEACHER, 200)
    assert bool(torch.isinf(g[0, 150:]).all()) and not bool(g.isnan().any())
    assert float(loss[0]) == math.inf


def test_diverged_runs_give_nan_without_a_second_warning():
    model = _nan_runs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = rb.population_loss(model, TEACHER, 3)
        rho = rb.spectral_radius(model)
        atoms, _ = moments.measure(_nan_runs("symmetric"))
    assert bool(loss[1].isnan()) and bool(loss[0].isfinite())
    assert bool(rho[1].isnan()) and float(rho[0]) == float(rb.spectral_radius(model.select(0))[0])
    assert bool(atoms[1].isnan().all()) and bool(atoms[0].isfinite().all())


@pytest.mark.parametrize("structure", ["full", "symmetric"])
def test_spectral_radius_of_nan_runs_does_not_call_lapack(structure, capfd):
    rho = rb.spectral_radius(_nan_runs(structure))
    assert bool(rho[1].isnan())
    captured = capfd.readouterr()
    assert "MKL" not in captured.out + captured.err and captured.err == ""


@pytest.mark.parametrize("backend", ["tensor", "auto"])
def test_train_gd_does_not_pay_for_the_checks_of_the_public_functions(monkeypatch, backend):
    calls = []
    monkeypatch.setattr(_checks, "warn_overflow", lambda *args, **kw: calls.append(args[0]))
    rb.train_gd(M3, TEACHER, 3, max_steps=5, tol=0.0, backend=backend)
    few = list(calls)
    rb.train_gd(M3, TEACHER, 3, max_steps=500, tol=0.0, backend=backend)
    assert calls == few + few  # per training (the teacher's taps, once), never per step
    assert "population_loss" not in calls and "population_loss_grad" not in calls
    rb.population_loss(M3, TEACHER, 3)
    assert calls[-1] == "population_loss"  # (the monkeypatch does reach the public functions)


def test_train_autograd_reports_an_overflowing_run_once_as_diverged():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rb.train_autograd(
            rb.concat_runs([M1, BIG]),
            lambda m: rb.population_loss(m, TEACHER, 200),
            lr=1e-3,
            max_steps=2,
        )
    assert [str(w.message)[:30] for w in caught] == ["1 of 2 runs diverged (non-fini"]
    assert res.diverged.tolist() == [False, True]
    with pytest.warns(RuntimeWarning, match="population_loss: the loss overflowed"):
        rb.population_loss(BIG, TEACHER, 200)  # outside the trainer, the loss warns itself


def test_similarity_transform_refuses_an_s_whose_inverse_overflows():
    S = torch.diag(torch.tensor([1.0, 1e-320, 1.0], dtype=F64))
    with pytest.raises(ValueError, match="S must be invertible and well conditioned"):
        rb.similarity_transform(M1, S)


def test_vandermonde_atoms_that_overflow_are_refused():
    with pytest.raises(ValueError, match="atoms must keep the Vandermonde system solvable"):
        moments.vandermonde_student(TEACHER, [1e200, 2e200, 3e200], 2, extra=1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: lazy.train_lazy(lazy.init_wide(8, 0, sigma_w=1e100), TEACHER, 3, T=6),
            r"run 0 \(of 1\) diverged \(non-finite loss\) at step 0",
        ),
        (
            lambda: rb.integrate_flow(BIG, TEACHER, 200, 0.1),
            "integrate_flow: the loss or its gradient is non-finite at t = 0",
        ),
    ],
)
def test_trainers_name_an_initial_model_that_overflows(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


# --- balance, prony, Teacher ---------------------------------------------------------------

G_FULL = rb.population_loss_grad(M1, TEACHER, 3)[1]
G_DIAG = rb.population_loss_grad(rb.init_gaussian(3, 0.5, 0, structure="diagonal"), TEACHER, 3)[1]


@pytest.mark.parametrize(
    ("grad", "structure", "error", "match"),
    [
        (G_DIAG, "full", ValueError, r"grad must have the shapes of a 'full' model's gradient"),
        (G_FULL, "diagonal", ValueError, r"grad must have the shapes of a 'diagonal' model"),
        (
            Gradient(G_FULL.A, G_FULL.B[:, :2], G_FULL.C),
            "full",
            ValueError,
            "grad must have the shapes",
        ),
        (
            Gradient(G_FULL.A.float(), G_FULL.B, G_FULL.C),
            "full",
            TypeError,
            "grad.A must have dtype",
        ),
        (
            Gradient(G_FULL.A * math.nan, G_FULL.B, G_FULL.C),
            "full",
            ValueError,
            "grad.A must have finite",
        ),
        (G_FULL, "symmetric", ValueError, "grad must be symmetric for structure='symmetric'"),
        (tuple(G_FULL), "full", TypeError, "grad must be a Gradient"),
    ],
)
def test_gd_step_change_checks_the_gradient_against_the_structure(grad, structure, error, match):
    with pytest.raises(error, match=match):
        balance.gd_step_change(grad, 0.1, structure)


def test_gd_step_change_of_a_matching_structure_is_unchanged():
    model = rb.init_gaussian(3, 0.5, [0, 1], structure="diagonal")
    _, G = rb.population_loss_grad(model, TEACHER, 3)
    torch.testing.assert_close(
        balance.gd_step_change(G, 0.1, "diagonal"), 0.1**2 * (G.B * G.B - G.C * G.C), rtol=0, atol=0
    )


def test_prony_warns_when_the_measure_does_not_reproduce_the_moments():
    not_two_atoms = torch.tensor([1.0, 0.5, 0.3, 0.1, 5.0, -3.0], dtype=F64)
    with pytest.warns(RuntimeWarning, match=r"prony: the fitted 2-atom measure does not"):
        moments.prony(not_two_atoms, 2, rtol=1e-6)
    with warnings.catch_warnings():  # L > 2n: a least-squares fit, checked only when asked
        warnings.simplefilter("error")
        moments.prony(not_two_atoms, 2)
        moments.prony(not_two_atoms, 2, rtol=math.inf)
        exact = moments.moments([0.3, -0.7], [1.0, 2.0], 8)
        moments.prony(exact, 2, rtol=1e-10)  # an exact measure passes any sensible rtol
    with pytest.raises(ValueError, match="rtol must be >= 0"):
        moments.prony(exact, 2, rtol=-1.0)


def test_prony_checks_an_exactly_determined_fit_by_default(monkeypatch):
    # with L = 2n the fit reproduces the moments up to round-off unless it is ill-conditioned;
    # simulate a failed least-squares solve to see the default check fire
    real = torch.linalg.lstsq

    def off(A, b):
        out = real(A, b)
        return type(out)((out.solution * 1.01, *out[1:]))

    monkeypatch.setattr(torch.linalg, "lstsq", off)
    with pytest.warns(RuntimeWarning, match=r"relative residual .* tolerance rtol = 1e-08"):
        moments.prony(moments.moments([0.3, -0.7], [1.0, 2.0], 4), 2)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": 3, "taps": [1.0]}, TypeError, "name must be a string"),
        ({"name": "t"}, ValueError, "a Teacher needs either taps or both eigenvalues and weights"),
        (
            {"name": "t", "taps": [1.0], "eigenvalues": [0.5], "weights": [1.0]},
            ValueError,
            "exactly one",
        ),
        ({"name": "t", "eigenvalues": [0.5]}, ValueError, "weights must be given with the other"),
        ({"name": "t", "eigenvalues": [0.5, 0.2], "weights": [1.0]}, ValueError, "same length"),
        ({"name": "t", "taps": torch.ones(3)}, TypeError, "taps must have dtype torch.float64"),
        ({"name": "t", "taps": [[1.0]]}, ValueError, "taps must have 1 dimensions"),
        ({"name": "t", "taps": []}, ValueError, "taps must hold at least one tap"),
        ({"name": "t", "taps": [math.nan]}, ValueError, "taps must have finite entries"),
        (
            {"name": "t", "eigenvalues": "0.5", "weights": [1.0]},
            TypeError,
            "eigenvalues must be a tensor",
        ),
    ],
)
def test_a_teacher_built_directly_is_validated(kwargs, error, match):
    with pytest.raises(error, match=match):
        rb.Teacher(**kwargs)


def test_a_teacher_built_directly_from_lists_works():
    t = rb.Teacher("t", eigenvalues=[0.5], weights=[2.0])
    assert repr(t) == "Teacher('t', eigenvalues=[0.5], weights=[2])"
    assert torch.equal(t.impulse_response(3), rb.low_dimensional([0.5], [2.0]).impulse_response(3))


# --- result objects print whatever they hold -------------------------------------------------

TANH1 = nl.init_tanh(2, 0.5)
GRU = nl.init_gru(3, 0.5)
EMPTY_STEPS = torch.ones(0, dtype=torch.int64)
RESULTS = {
    "TanhTrainResult empty": lambda: nl.TanhTrainResult(
        TANH1,
        torch.ones(0, dtype=F64),
        EMPTY_STEPS,
        *[torch.ones(0, dtype=torch.bool)] * 2,
        EMPTY_STEPS,
        torch.ones(0, 1, dtype=F64),
    ),
    "TanhTrainResult nan": lambda: nl.TanhTrainResult(
        TANH1,
        torch.full((1,), math.nan, dtype=F64),
        torch.zeros(1, dtype=torch.int64),
        torch.zeros(1, dtype=torch.bool),
        torch.ones(1, dtype=torch.bool),
        torch.zeros(1, dtype=torch.int64),
        torch.full((1, 1), math.nan, dtype=F64),
    ),
    "GRUTrainResult empty": lambda: nl.GRUTrainResult(
        GRU,
        torch.full((1,), math.nan, dtype=F64),
        torch.zeros(1, dtype=torch.int64),
        *[torch.zeros(1, dtype=torch.bool)] * 2,
        EMPTY_STEPS,
        torch.ones(0, 1, dtype=F64),
    ),
    "LazyResult empty": lambda: lazy.LazyResult(
        lazy.init_wide(4, [0, 1], sigma_w=0.5),
        torch.full((2,), math.nan, dtype=F64),
        torch.zeros(2, dtype=torch.int64),
        *[torch.zeros(2, dtype=torch.bool)] * 2,
        EMPTY_STEPS,
        torch.ones(0, 2, dtype=F64),
        taps0=torch.ones(2, 4, dtype=F64),
        taps=torch.ones(2, 4, dtype=F64),
        target=torch.ones(4, dtype=F64),
        k=2,
    ),
    "FlowResult empty": lambda: flow.FlowResult(
        M1,
        torch.ones(0, dtype=F64),
        EMPTY_STEPS,
        *[torch.ones(0, dtype=torch.bool)] * 2,
        EMPTY_STEPS,
        torch.ones(0, 1, dtype=F64),
        times=torch.ones(0, dtype=F64),
        models=[],
        n_rejected=0,
    ),
    "FlowResult nan": lambda: flow.FlowResult(
        M1,
        torch.full((1,), math.nan, dtype=F64),
        torch.ones(1, dtype=torch.int64),
        *[torch.zeros(1, dtype=torch.bool)] * 2,
        torch.ones(1, dtype=torch.int64),
        torch.full((1, 1), math.nan, dtype=F64),
        times=torch.ones(1, dtype=F64),
        models=[M1],
        n_rejected=0,
    ),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_results_print_with_nan_and_empty_fields(name):
    result = RESULTS[name]()
    assert isinstance(str(result), str) and isinstance(repr(result), str)


# --- book and plotting helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: rb.sig(torch.ones(3)), ValueError, "x must be a single real number"),
        (lambda: rb.sig(None), TypeError, "x must be a real number"),
        (lambda: rb.sig(np.array([])), ValueError, "x must be a single real number"),
        (lambda: rb.sig(1 + 2j), TypeError, "x must be a real number"),
        (lambda: rb.format_number(torch.ones(2)), ValueError, "x must be a single real number"),
        (lambda: rb.format_number(None), TypeError, "x must be a real number"),
        (lambda: rb.format_number(1.0, digits=0), ValueError, "digits must be >= 1"),
        (lambda: rb.glue("a", torch.ones(3)), ValueError, "value must be a single real number"),
        (
            lambda: rb.glue("a", None),
            TypeError,
            "value must be a real number, an integer or a string",
        ),
        (lambda: rb.glue("a", [1.0, 2.0]), TypeError, "value must be a real number, an integer"),
        (lambda: rb.glue("a", 1 + 2j), TypeError, "value must be a real number, an integer"),
        (lambda: rb.glue("a", 3, digits=0), ValueError, "digits must be >= 1"),
        (lambda: rb.glue(None, 1.0), TypeError, "name must be a string, got None"),
    ],
)
def test_book_helpers_name_what_is_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()


TAPS = torch.ones(4, dtype=F64)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda ax: plotting.plot_impulse_response(None), TypeError, "g must be a non-empty array"),
        (
            lambda ax: plotting.plot_impulse_response("abc"),
            TypeError,
            "g must be a non-empty array",
        ),
        (
            lambda ax: plotting.plot_impulse_response(TAPS.to(torch.complex128)),
            TypeError,
            "g must be",
        ),
        (
            lambda ax: plotting.plot_impulse_response(torch.ones(2, 3, dtype=F64)),
            ValueError,
            "g must hold the taps of one run",
        ),
        (
            lambda ax: plotting.plot_impulse_response(TAPS, ax="left"),
            TypeError,
            "ax must be a matplotlib Axes",
        ),
        (
            lambda ax: plotting.plot_impulse_response(TAPS, ax=ax.figure),
            TypeError,
            "ax must be a matplotlib Axes",
        ),
        (
            lambda ax: plotting.plot_impulse_response(TAPS, teacher=torch.ones(2, 3, dtype=F64)),
            ValueError,
            "teacher must hold",
        ),
        (
            lambda ax: plotting.plot_impulse_response(TAPS, teacher="t"),
            TypeError,
            "teacher must be",
        ),
        (lambda ax: plotting.plot_impulse_response(TAPS, k=0), ValueError, "k must be >= 1"),
        (
            lambda ax: plotting.mark_training_length(None, 3),
            TypeError,
            "ax must be a matplotlib Axes",
        ),
        (
            lambda ax: plotting.mark_training_length(ax, torch.tensor([3, 4])),
            TypeError,
            "k must be an integer",
        ),
        (lambda ax: plotting.plot_modes(None), TypeError, "model must be a LinearRNN"),
        (lambda ax: plotting.plot_modes(TANH1), TypeError, "model must be a LinearRNN"),
        (
            lambda ax: plotting.plot_modes(M1, axes=ax),
            TypeError,
            "axes must be a pair of matplotlib Axes",
        ),
        (
            lambda ax: plotting.plot_modes(M1, axes=("a", "b")),
            TypeError,
            r"axes\[0\] must be a matplotlib Axes",
        ),
        (lambda ax: plotting.plot_modes(M1, n=0), ValueError, "n must be >= 1"),
        (lambda ax: plotting.plot_matrix(None), TypeError, "M must be a non-empty array"),
        (lambda ax: plotting.plot_matrix(TAPS), ValueError, "M must be a matrix"),
        (
            lambda ax: plotting.plot_matrix(torch.ones(2, 2, dtype=torch.complex128)),
            TypeError,
            "M must be",
        ),
        (
            lambda ax: plotting.plot_matrix(torch.full((2, 2), math.nan, dtype=F64)),
            ValueError,
            "M must have at least one finite",
        ),
        (
            lambda ax: plotting.plot_matrix(torch.eye(2, dtype=F64), ax=3),
            TypeError,
            "ax must be a matplotlib Axes",
        ),
        (lambda ax: widgets.show_oscillator(axes="x"), TypeError, "axes must be a pair"),
        (lambda ax: widgets.show_interpolator(axes=(ax,)), TypeError, "axes must be a pair"),
        (lambda ax: widgets.show_oscillator(r=None), TypeError, "r must be a real number"),
    ],
)
def test_plotting_helpers_name_what_is_wrong(call, error, match):
    _, ax = plt.subplots()
    try:
        with pytest.raises(error, match=match):
            call(ax)
    finally:
        plt.close("all")


def test_plotting_accepts_one_run_rows_and_float32_for_display():
    _, ax = plt.subplots()
    try:
        plotting.plot_impulse_response(TAPS[None], teacher=TAPS.float(), ax=ax)
        assert len(ax.lines) == 2 and list(ax.lines[1].get_ydata()) == [1.0] * 4
        partly = torch.eye(2, dtype=F64)
        partly[0, 1] = math.nan
        plotting.plot_matrix(partly, ax=ax)  # NaN entries are drawn blank
        assert ax.images[-1].get_clim() == (-1.0, 1.0)
    finally:
        plt.close("all")
