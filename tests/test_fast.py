"""The compiled kernels (rnnbias._fast) give the numbers of the batched tensor path of train_gd."""

import warnings
import zlib

import numpy as np
import pytest
import torch

import rnnbias as rb


def _both(model, teacher, k, **kwargs):
    """train_gd by the tensor path and by the compiled kernels, warnings silenced."""
    out = []
    for backend in ("tensor", "compiled"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out.append(rb.train_gd(model, teacher, k, backend=backend, **kwargs))
    return out


# The compiled and the tensor path round differently; over 400 steps the parameters drift
# apart by up to 9e-13 beyond rtol (measured over 420 random settings), so atol is 2e-12.
def _assert_same(ref, got, rtol=1e-12, atol=2e-12, loss_atol=1e-18):
    assert torch.equal(ref.steps, got.steps)
    assert torch.equal(ref.converged, got.converged)
    assert torch.equal(ref.diverged, got.diverged)
    assert torch.equal(ref.history_steps, got.history_steps)
    for a, b in zip(ref.model, got.model, strict=True):
        torch.testing.assert_close(b, a, rtol=rtol, atol=atol, equal_nan=True)
    torch.testing.assert_close(got.loss, ref.loss, rtol=rtol, atol=loss_atol, equal_nan=True)
    torch.testing.assert_close(
        got.loss_history, ref.loss_history, rtol=rtol, atol=loss_atol, equal_nan=True
    )
    assert ref.tracked.keys() == got.tracked.keys()
    for name in ref.tracked:
        torch.testing.assert_close(
            got.tracked[name], ref.tracked[name], rtol=rtol, atol=atol, equal_nan=True
        )


CASES = [  # (structure, outputs, per-run k, per-run lr, clip, record_every)
    ("diagonal", "final", False, False, None, 1),
    ("diagonal", "all", True, True, 0.5, 7),
    ("full", "final", False, False, None, 1),
    ("full", "all", True, False, None, 5),
    ("full", "final", True, True, 0.3, 3),
    ("symmetric", "final", False, False, None, 1),
    ("symmetric", "all", True, True, 0.4, 11),
]


@pytest.mark.parametrize(("structure", "outputs", "per_k", "per_lr", "clip", "every"), CASES)
def test_compiled_equals_tensor_path(structure, outputs, per_k, per_lr, clip, every):
    # a fixed seed per case (hash() of strings changes between processes: PYTHONHASHSEED)
    gen = np.random.default_rng(zlib.crc32(repr((structure, outputs, per_k, per_lr)).encode()))
    R, d = 6, int(gen.integers(3, 9))
    sigmas = [float(s) for s in gen.uniform(0.05, 0.9, R)]
    model = rb.init_gaussian(d, sigmas, seed=list(range(R)), structure=structure)
    teacher = rb.low_dimensional([0.8, -0.5], [0.6, 0.3])
    k = [int(v) for v in gen.integers(1, 7, R)] if per_k else 5
    lr = [float(v) for v in gen.uniform(0.01, 0.08, R)] if per_lr else 0.05
    kwargs = dict(lr=lr, tol=1e-9, max_steps=400, record_every=every, outputs=outputs, clip=clip)
    track = {"B0": lambda m: m.B[:, 0], "loss": lambda m: rb.population_loss(m, teacher, 3)}
    ref, got = _both(model, teacher, k, track=track, **kwargs)
    _assert_same(ref, got)


def test_compiled_equals_tensor_path_with_stops_and_divergence():
    # runs converge, diverge and run out of steps at different steps within one batch
    model = rb.init_gaussian(5, [0.3, 0.3, 0.5, 3.0, 0.2, 0.4], seed=[0, 1, 2, 3, 4, 5])
    lrs = [0.05, 0.05, 0.02, 0.5, 0.05, 0.001]
    ref, got = _both(model, rb.memoryless(), [2, 3, 4, 5, 2, 3], lr=lrs, tol=1e-10,
                     max_steps=2500, record_every=13)  # fmt: skip
    assert bool(ref.diverged[3]) and ref.converged.sum() >= 3 and not ref.converged[-1]
    _assert_same(ref, got)


def test_compiled_equals_tensor_path_per_run_teacher():
    model = rb.init_gaussian(4, 0.3, seed=[0, 1, 2], structure="diagonal")
    teacher = torch.stack([0.9 ** torch.arange(8.0), 0.5 ** torch.arange(8.0), torch.zeros(8)])
    teacher = teacher.double()
    ref, got = _both(model, teacher, 6, lr=0.01, tol=0.0, max_steps=300)
    _assert_same(ref, got)


def test_compiled_long_run_stays_close():
    # the reference problem of the benchmarks, to convergence: same steps, same parameters
    model = rb.init_gaussian(40, 0.1, seed=[0, 1], structure="full")
    ref, got = _both(model, rb.low_dimensional([0.9]), 5, lr=0.05, tol=1e-8, max_steps=40_000,
                     record_every=1000)  # fmt: skip
    assert bool(ref.converged.all())
    _assert_same(ref, got, rtol=1e-10, atol=1e-12, loss_atol=1e-16)


@pytest.mark.parametrize("structure", ["diagonal", "full"])
def test_compiled_divergence_raises_at_the_step(structure):
    model = rb.init_gaussian(4, [0.3, 3.0, 0.3], seed=[0, 1, 2], structure=structure)
    for backend in ("tensor", "compiled"):
        with pytest.raises(rb.DivergenceError, match=r"run 1 \(of 3\) diverged .* at step \d+"):
            rb.train_gd(model, rb.memoryless(), 5, lr=[0.01, 1.0, 0.01], max_steps=100_000,
                        divergence="raise", backend=backend)  # fmt: skip


def test_compiled_does_not_touch_the_input_model():
    model = rb.init_gaussian(4, 0.3, seed=[0, 1])
    before = [p.clone() for p in model]
    rb.train_gd(model, rb.memoryless(), 3, max_steps=50, backend="compiled")
    assert all(torch.equal(a, b) for a, b in zip(before, model, strict=True))


def test_backend_is_checked():
    model = rb.init_gaussian(3, 0.1)
    with pytest.raises(ValueError, match="backend"):
        rb.train_gd(model, rb.memoryless(), 3, backend="jax")


def test_teacher_rows_must_match_runs():
    # a 1-run model against a 3-row target used to be broadcast silently to 3 runs
    model = rb.init_gaussian(3, 0.1)
    teacher = torch.zeros(3, 6, dtype=torch.float64)
    for backend in ("tensor", "compiled"):
        with pytest.raises(ValueError, match=r"one per run \(1 runs\), got 3 rows"):
            rb.train_gd(model, teacher, 3, backend=backend)


def test_zero_steps_gives_the_initial_loss():
    model = rb.init_gaussian(4, 0.3, seed=[0, 1], structure="full")
    ref, got = _both(model, rb.memoryless(), 3, max_steps=0)
    _assert_same(ref, got)
    torch.testing.assert_close(got.loss, rb.population_loss(model, rb.memoryless(), 3))


def test_one_compiled_specialisation_per_kernel():
    # every call passes the same argument types, so each kernel compiles (and caches) only once
    from rnnbias import _fast

    for structure in ("diagonal", "full"):
        for R, k, teacher in [(1, 3, rb.memoryless()), (2, [3, 4], torch.zeros(2, 5).double())]:
            model = rb.init_gaussian(3, 0.1, seed=list(range(R)), structure=structure)
            lr = 0.05 if R == 1 else [0.05, 0.02]
            rb.train_gd(model, teacher, k, lr=lr, tol=0, max_steps=3, clip=1)
            rb.train_gd(model, teacher, k, max_steps=3, record_every=2)
    assert len(_fast.gd_diagonal.signatures) == 1 and len(_fast.gd_full.signatures) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(lr=0.05, max_steps=3000, tol=1e-10, record_every=7),
        dict(lr=[0.05, 0.5, 0.01], max_steps=500, tol=0.0),  # one run diverges
        dict(lr=0.02, max_steps=0),
    ],
)
def test_complex_diagonal_kernel_equals_tensor_path(kwargs, monkeypatch):
    from rnnbias import _fast, ssm

    taps = torch.arange(20, dtype=torch.float64)
    teachers = torch.stack([0.9**taps - 0.6**taps, 0.8**taps * torch.cos(taps), 0 * taps])
    model = ssm.init_complex(6, 0.3, [0, 1, 2])
    out = []
    for compiled in (False, True):
        monkeypatch.setattr(_fast, "AVAILABLE", compiled)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out.append(ssm.train_gd(model, teachers, [3, 5, 8], **kwargs))
    ref, got = out
    for name in ("steps", "converged", "diverged", "history_steps"):
        assert torch.equal(getattr(ref, name), getattr(got, name)), name
    for a, b in zip(ref.model, got.model, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-14, equal_nan=True)
    # (a diverging run grows by 1e200 first: round-off grows with it)
    torch.testing.assert_close(got.loss_history, ref.loss_history, rtol=1e-8, atol=1e-18,
                               equal_nan=True)  # fmt: skip


@pytest.mark.parametrize("every", [1, 3, 32])
def test_tensor_loop_looking_late_changes_nothing(every, monkeypatch):
    # off the CPU the loop looks at the stopping state every 32 steps (no synchronisation in
    # between); runs that stop in between must still stop, and be recorded, at their own step
    from rnnbias import train

    model = rb.init_gaussian(5, [0.3, 0.3, 0.5, 3.0, 0.2, 0.4], seed=[0, 1, 2, 3, 4, 5])
    kwargs = dict(lr=[0.05, 0.05, 0.02, 0.5, 0.05, 0.001], tol=1e-10, max_steps=2500,
                  record_every=13, backend="tensor", track={"b": lambda m: m.B[:, 0]})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = rb.train_gd(model, rb.memoryless(), [2, 3, 4, 5, 2, 3], **kwargs)
        monkeypatch.setitem(train.CHECK_EVERY, "cpu", every)
        got = rb.train_gd(model, rb.memoryless(), [2, 3, 4, 5, 2, 3], **kwargs)
    _assert_same(ref, got, rtol=0, atol=0, loss_atol=0)


def test_ssm_result_is_a_result_and_round_trips(tmp_path):
    from rnnbias import ssm

    model = ssm.init_complex(4, 0.3, [0, 1])
    res = ssm.train_gd(model, rb.low_dimensional([0.9]), 5, lr=[0.05, 1e-4], tol=1e-3,
                       max_steps=2000)  # fmt: skip
    assert isinstance(res, rb.train.Result) and res.stop_reason == ["converged", "max_steps"]
    res.save(tmp_path / "ssm.npz")
    back = ssm.SSMTrainResult.load(tmp_path / "ssm.npz")
    assert isinstance(back.model, ssm.ComplexDiagonalRNN)
    assert all(torch.equal(a, b) for a, b in zip(back.model, res.model, strict=True))
    assert torch.equal(back.loss_history, res.loss_history) and str(back) == str(res)
