"""Tests of rnnbias.train: convergence, stopping, batching, invariants and divergence."""

import warnings

import numpy as np
import pytest
import torch

import rnnbias as rb
from rnnbias.linear import LinearRNN

F64 = torch.float64


def test_gd_reaches_the_tolerance_and_stops():
    model = rb.init_gaussian(4, [0.3, 0.5], [0, 1])
    res = rb.train_gd(model, rb.memoryless(), 3, lr=0.05, max_steps=20_000, tol=1e-12)
    assert res.converged.all() and not res.diverged.any()
    assert (res.loss <= 1e-12).all()
    assert (res.steps < 20_000).all()
    torch.testing.assert_close(res.loss, rb.population_loss(res.model, rb.memoryless(), 3))
    # a small step never increases the loss of this smooth problem by much
    assert (res.loss_history[1:] <= res.loss_history[:-1] * (1 + 1e-9) + 1e-15).all()


def test_runs_in_one_batch_equal_runs_trained_alone():
    model = rb.init_gaussian(5, [0.2, 0.6, 0.9], [3, 4, 5])
    teacher = rb.low_dimensional([0.8])
    together = rb.train_gd(model, teacher, 4, lr=0.03, max_steps=300, tol=0.0)
    for r in range(model.runs):
        alone = rb.train_gd(model.select(r), teacher, 4, lr=0.03, max_steps=300, tol=0.0)
        torch.testing.assert_close(alone.model.A[0], together.model.A[r], rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(alone.loss[0], together.loss[r], rtol=1e-13, atol=1e-18)


@pytest.mark.parametrize("outputs", ["final", "all"])
@pytest.mark.parametrize("structure", ["full", "diagonal", "symmetric"])
def test_per_run_lengths_and_step_sizes_equal_runs_trained_alone(structure, outputs):
    model = rb.init_gaussian(5, [0.2, 0.6, 0.9, 0.4], [3, 4, 5, 6], structure=structure)
    teacher = rb.low_dimensional([0.8])
    ks, lrs = [2, 5, 3, 1], [0.03, 0.01, 0.02, 0.05]
    cfg = rb.GDConfig(lr=lrs, max_steps=300, tol=1e-6, outputs=outputs)
    together = rb.train_gd(model, teacher, ks, cfg)
    for r in range(model.runs):
        alone = rb.train_gd(
            model.select(r), teacher, ks[r], lr=lrs[r], max_steps=300, tol=1e-6, outputs=outputs
        )
        torch.testing.assert_close(alone.model.A[0], together.model.A[r], rtol=1e-12, atol=1e-15)
        torch.testing.assert_close(alone.loss[0], together.loss[r], rtol=1e-12, atol=1e-18)
        assert int(alone.steps[0]) == int(together.steps[r])
    # the per-run losses are each run's own L_k
    for r, kr in enumerate(ks):
        expected = rb.population_loss(together.model.select(r), teacher, kr, outputs=outputs)
        torch.testing.assert_close(together.loss[r : r + 1], expected, rtol=1e-12, atol=1e-18)


def test_per_run_settings_are_checked():
    m = rb.init_gaussian(3, [0.3, 0.4], [0, 1])
    with pytest.raises(
        ValueError, match=r"k must be an int or have one entry per run \(2\), got 3"
    ):
        rb.train_gd(m, rb.memoryless(), [2, 3, 4])
    with pytest.raises(ValueError, match=r"k\[1\] must be >= 1, got 0"):
        rb.train_gd(m, rb.memoryless(), [2, 0])
    with pytest.raises(TypeError, match=r"k\[1\] must be an integer"):
        rb.train_gd(m, rb.memoryless(), [2, 2.5])
    with pytest.raises(ValueError, match=r"lr must be a float or have one entry per run \(2\)"):
        rb.train_gd(m, rb.memoryless(), 3, lr=[0.1])
    with pytest.raises(ValueError, match=r"lr\[1\] must be > 0, got -0\.1"):
        rb.GDConfig(lr=(0.1, -0.1))
    with pytest.raises(ValueError, match="non-empty sequence"):
        rb.GDConfig(lr=())
    assert rb.GDConfig(lr=[0.1, 0.2]).lr == (0.1, 0.2)  # stored as a tuple: the config is frozen


def test_a_run_that_stopped_keeps_its_parameters():
    model = rb.init_gaussian(3, [0.3, 0.3], [0, 1])
    res = rb.train_gd(model, rb.memoryless(), 2, lr=0.05, max_steps=5000, tol=1e-6)
    # continuing the converged result does not move it: the stopped runs are frozen
    again = rb.train_gd(res.model, rb.memoryless(), 2, lr=0.05, max_steps=10, tol=1e-6)
    assert torch.equal(again.model.A, res.model.A) and (again.steps == 0).all()


def test_A_zero_is_invariant_under_gd():
    model = rb.init_gaussian(6, 0.5, 0)
    model = LinearRNN(torch.zeros_like(model.A), model.B, model.C)
    res = rb.train_gd(model, rb.memoryless(), 5, lr=0.05, max_steps=500)
    assert torch.count_nonzero(res.model.A) == 0


@pytest.mark.parametrize("structure", ["symmetric", "diagonal"])
def test_structure_is_preserved_exactly(structure):
    model = rb.init_gaussian(6, [0.3, 0.5], [0, 1], structure=structure)
    res = rb.train_gd(model, rb.memoryless(), 3, lr=0.05, max_steps=2000)
    assert res.model.structure == structure
    if structure == "symmetric":
        assert torch.equal(res.model.A, res.model.A.mT) and torch.equal(res.model.B, res.model.C)
    LinearRNN(*res.model, structure)  # still passes validation


def test_history_and_tracking():
    model = rb.init_gaussian(3, [0.4, 0.5], [0, 1])
    res = rb.train_gd(
        model,
        rb.memoryless(),
        3,
        lr=0.05,
        max_steps=25,
        tol=0.0,
        record_every=10,
        track={"rho": rb.spectral_radius},
    )
    assert res.history_steps.tolist() == [0, 10, 20, 25]
    assert res.loss_history.shape == (4, 2)
    assert res.tracked["rho"].shape == (4, 2)
    torch.testing.assert_close(res.tracked["rho"][0], rb.spectral_radius(model))
    torch.testing.assert_close(res.loss_history[0], rb.population_loss(model, rb.memoryless(), 3))
    assert repr(res).startswith("TrainResult(runs=2, converged=0, diverged=0, max_steps_taken=25")
    assert str(res).startswith("2 runs: 0 converged, 0 diverged; at most 25 steps, final loss <= ")
    assert len(str(res)) <= 78


def test_zero_steps_returns_the_initial_model():
    model = rb.init_gaussian(3, 0.4, 0)
    res = rb.train_gd(model, rb.memoryless(), 3, max_steps=0)
    assert torch.equal(res.model.A, model.A) and res.loss_history.shape == (1, 1)


def test_clipping_bounds_each_step():
    model = rb.init_gaussian(4, 1.5, 0)
    res = rb.train_gd(model, rb.memoryless(), 4, lr=0.1, clip=0.01, max_steps=1, tol=0.0)
    step = torch.cat([(a - b).reshape(-1) for a, b in zip(res.model, model, strict=True)])
    assert float(step.norm()) <= 0.1 * 0.01 * (1 + 1e-12)


def test_divergence_is_reported_per_run_and_never_returned_as_numbers():
    model = rb.init_gaussian(4, [0.3, 3.0], [0, 1])
    with pytest.warns(RuntimeWarning, match="1 of 2 runs diverged"):
        res = rb.train_gd(model, rb.memoryless(), 5, lr=0.5, max_steps=200)
    assert res.diverged.tolist() == [False, True]
    assert torch.isnan(res.model.A[1]).all() and torch.isnan(res.loss[1])
    assert torch.isfinite(res.model.A[0]).all() and torch.isfinite(res.loss[0])
    assert "diverged=1" in repr(res)


def test_divergence_can_raise():
    model = rb.init_gaussian(4, 3.0, 1)
    with pytest.raises(
        rb.DivergenceError, match=r"run 0 \(of 1\) diverged \(non-finite loss\) at step"
    ):
        rb.train_gd(model, rb.memoryless(), 5, lr=0.5, max_steps=200, divergence="raise")


def test_no_warning_without_divergence():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rb.train_gd(rb.init_gaussian(3, 0.3, 0), rb.memoryless(), 3, max_steps=50)


def test_progress_bar_runs():
    res = rb.train_gd(
        rb.init_gaussian(3, 0.3, 0), rb.memoryless(), 3, max_steps=5, tol=0.0, progress=True
    )
    assert int(res.steps[0]) == 5


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"lr": -0.1}, ValueError, "lr must be > 0, got -0.1"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be finite"),
        ({"max_steps": -1}, ValueError, "max_steps must be >= 0"),
        ({"max_steps": 10.5}, TypeError, "max_steps must be an integer"),
        ({"tol": -1e-3}, ValueError, "tol must be >= 0"),
        ({"clip": 0.0}, ValueError, "clip must be > 0"),
        ({"record_every": 0}, ValueError, "record_every must be >= 1"),
        ({"outputs": "last"}, ValueError, "outputs must be one of"),
        ({"divergence": "ignore"}, ValueError, "divergence must be one of"),
        ({"progress": "yes"}, TypeError, "progress must be a bool"),
        ({"learning_rate": 0.1}, TypeError, "unknown setting"),
    ],
)
def test_bad_settings_are_rejected(overrides, error, match):
    with pytest.raises(error, match=match):
        rb.train_gd(rb.init_gaussian(3, 0.3, 0), rb.memoryless(), 3, **overrides)


def test_bad_arguments_are_rejected():
    m = rb.init_gaussian(3, 0.3, 0)
    with pytest.raises(TypeError, match="model must be a LinearRNN"):
        rb.train_gd((m.A, m.B, m.C), rb.memoryless(), 3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        rb.train_gd(m, rb.memoryless(), 0)
    with pytest.raises(TypeError, match="config must be a GDConfig"):
        rb.train_gd(m, rb.memoryless(), 3, {"lr": 0.1})
    with pytest.raises(TypeError, match=r"track\['x'\] must be callable"):
        rb.train_gd(m, rb.memoryless(), 3, track={"x": 1})
    with pytest.raises(ValueError, match="A must have finite entries"):
        LinearRNN(m.A * float("nan"), m.B, m.C)  # non-finite initial models cannot be built


def test_compaction_of_stopped_runs_changes_nothing():
    # runs that stop early (converge or diverge) are dropped from the computation once at most
    # half of the computed runs are active; every run must still equal the run trained alone
    sigmas = [0.3, 0.3, 0.3, 0.3, 0.3, 0.5, 0.9, 3.0]
    model = rb.init_gaussian(6, sigmas, list(range(8)))
    ks = [2, 2, 2, 2, 3, 5, 4, 6]
    lrs = [0.05] * 6 + [0.02, 0.5]  # the last run diverges
    kwargs = dict(tol=1e-10, max_steps=3000, record_every=7)
    with pytest.warns(RuntimeWarning, match="1 of 8 runs diverged"):
        together = rb.train_gd(
            model, rb.memoryless(), ks, lr=lrs, track={"A00": lambda m: m.A[:, 0, 0]}, **kwargs
        )
    assert together.converged.sum() >= 5 and bool(together.diverged[-1])
    for r in range(model.runs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alone = rb.train_gd(
                model.select(r),
                rb.memoryless(),
                ks[r],
                lr=lrs[r],
                track={"A00": lambda m: m.A[:, 0, 0]},
                **kwargs,
            )
        assert int(alone.steps[0]) == int(together.steps[r])
        assert bool(alone.converged[0]) == bool(together.converged[r])
        torch.testing.assert_close(
            alone.model.A[0], together.model.A[r], rtol=1e-12, atol=1e-15, equal_nan=True
        )
        n = len(alone.history_steps)
        torch.testing.assert_close(
            alone.loss_history[:, 0],
            together.loss_history[:n, r],
            rtol=1e-12,
            atol=1e-18,
            equal_nan=True,
        )
        torch.testing.assert_close(
            alone.tracked["A00"][:, 0],
            together.tracked["A00"][:n, r],
            rtol=1e-12,
            atol=1e-15,
            equal_nan=True,
        )
        # after a run stopped, its recorded loss stays at its final value
        tail = together.loss_history[n:, r]
        if bool(together.diverged[r]):
            assert bool(torch.isnan(tail).all())
        else:
            assert bool((tail == together.loss[r]).all())


def test_stop_reason_and_save_load_round_trip(tmp_path):
    model = rb.init_gaussian(4, [0.1, 3.0, 0.1], seed=[0, 1, 2])
    with pytest.warns(RuntimeWarning, match="diverged"):
        res = rb.train_gd(
            model,
            rb.memoryless(),
            [2, 3, 5],
            lr=[0.05, 1.0, 1e-4],
            tol=1e-10,
            max_steps=3000,
            record_every=10,
            track={"b0": lambda m: m.B[:, 0]},
        )
    assert res.stop_reason == ["converged", "diverged", "max_steps"]
    path = tmp_path / "run.npz"
    res.save(path)
    back = rb.TrainResult.load(path)
    assert back.model.structure == res.model.structure and back.stop_reason == res.stop_reason
    for a, b in zip(back.model, res.model, strict=True):
        assert torch.equal(a, b) or torch.equal(a.isnan(), b.isnan())
    for name in ("loss", "steps", "converged", "diverged", "history_steps", "loss_history"):
        assert torch.equal(getattr(back, name).nan_to_num(), getattr(res, name).nan_to_num())
    assert torch.equal(back.tracked["b0"].nan_to_num(), res.tracked["b0"].nan_to_num())
    d = res.to_dict()
    assert (
        d["loss_history"].shape == tuple(res.loss_history.shape) and d["model/structure"] == "full"
    )


def _family_results():
    from rnnbias import lazy
    from rnnbias import nonlinear as nl

    x = torch.randn(8, 4, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = x.sum(-1)
    teacher = rb.memoryless()
    return {
        "ssm": rb.ssm.train_gd(rb.ssm.init_complex(3, 0.3, [0, 1]), teacher, 3, lr=0.05,
                               max_steps=20),
        "adam": rb.train_autograd(rb.init_gaussian(3, 0.3, [0, 1]),
                                  lambda m: rb.population_loss(m, teacher, 3),
                                  optimizer="adam", lr=0.01, max_steps=20),
        "tanh": nl.train_tanh(nl.init_tanh(3, 0.5, [0, 1]), x, y, max_steps=20, record_every=5),
        "lazy": lazy.train_lazy(lazy.init_wide(10, [0, 1], sigma_w=0.7), teacher, 3, T=6),
        "gru": nl.train_gru(nl.init_gru(3, 0.5), x, y, max_steps=20, record_every=5),
        "flow": rb.integrate_flow(rb.init_gaussian(3, 0.3, [0, 1]), teacher, 3, 1.0),
    }  # fmt: skip


def test_every_trainer_returns_a_result_with_the_same_fields(tmp_path):
    for name, res in _family_results().items():
        assert isinstance(res, rb.Result), name
        R = res.model.runs
        assert res.loss.shape == res.steps.shape == res.diverged.shape == (R,), name
        assert res.loss_history.shape == (len(res.history_steps), R), name
        assert set(res.stop_reason) <= {"converged", "max_steps", "diverged"}, name
        torch.testing.assert_close(res.loss_history[-1], res.loss, rtol=0, atol=0)
        path = tmp_path / f"{name}.npz"
        res.save(path)
        if name in ("gru", "flow"):  # a torch module, a list of states: arrays only
            with pytest.raises(ValueError, match="cannot"):
                type(res).load(path)
            continue
        back = type(res).load(path)
        assert torch.equal(back.loss, res.loss) and torch.equal(back.steps, res.steps), name
        d, e = back.to_dict(), res.to_dict()
        assert d.keys() == e.keys(), name
        assert all(np.array_equal(d[k], e[k]) for k in d if k.startswith("model/")), name


@pytest.mark.parametrize("backend", ["tensor", "compiled"])
def test_history_is_bounded(backend):
    # 50 runs x 20,000 steps would keep 1,000,050 entries; the limit raises record_every
    model = rb.init_gaussian(3, 0.1, seed=list(range(50)))
    res = rb.train_gd(model, rb.memoryless(), 3, tol=0.0, max_steps=20_000, history_limit=10_000,
                      backend=backend)  # fmt: skip
    assert res.loss_history.numel() <= 10_000 and int(res.history_steps[-1]) == 20_000
    every = int(res.history_steps[1])
    assert every > 1 and bool((res.history_steps[:-1] % every == 0).all())
    full = rb.train_gd(model, rb.memoryless(), 3, tol=0.0, max_steps=20_000, record_every=every,
                       history_limit=None, backend=backend)  # fmt: skip
    assert torch.equal(full.loss_history, res.loss_history)
    with pytest.raises(ValueError, match="history_limit"):
        rb.train_gd(model, rb.memoryless(), 3, history_limit=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(track=[lambda m: m.B]), TypeError, "track must be a mapping"),
        (dict(track={"a": lambda m: torch.tensor(1.0)}), ValueError, r"track\['a'\] must return"),
        (dict(track={"a": lambda m: torch.zeros(5)}), ValueError, r"leading run axis of size 2"),
        (dict(lr=[0.1, -1.0]), ValueError, r"lr\[1\] must be > 0"),
    ],
)
def test_train_gd_names_bad_arguments(kwargs, error, match):
    model = rb.init_gaussian(3, 0.1, seed=[0, 1])
    for backend in ("tensor", "compiled"):
        with pytest.raises(error, match=match):
            rb.train_gd(model, rb.memoryless(), 3, max_steps=5, backend=backend, **kwargs)


def test_train_gd_takes_numpy_and_0d_tensor_settings():
    import numpy as np

    model = rb.init_gaussian(3, 0.1, seed=[0, 1])
    ref = rb.train_gd(model, rb.memoryless(), [3, 4], lr=[0.1, 0.2], max_steps=20)
    for k, lr in [
        (np.array([3, 4]), np.array([0.1, 0.2])),
        (torch.tensor([3, 4]), torch.tensor([0.1, 0.2], dtype=torch.float64)),
    ]:
        got = rb.train_gd(model, rb.memoryless(), k, lr=lr, max_steps=20)
        assert torch.equal(got.loss, ref.loss)
    lr0 = torch.tensor(0.1, dtype=torch.float64)
    one = rb.train_gd(model, rb.memoryless(), torch.tensor(3), lr=lr0, max_steps=20)
    assert torch.equal(one.loss, rb.train_gd(model, rb.memoryless(), 3, lr=0.1, max_steps=20).loss)


def test_float32_step_sizes_are_refused():
    import numpy as np

    model = rb.init_gaussian(3, 0.1, seed=[0, 1])
    for lr in (torch.tensor([0.1, 0.2]), np.array([0.1, 0.2], dtype=np.float32), torch.tensor(0.1)):
        with pytest.raises(TypeError, match="lr must be float64"):
            rb.train_gd(model, rb.memoryless(), 3, lr=lr)
