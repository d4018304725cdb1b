"""Devices (issue 15): every function follows the device of its inputs.

CI has no GPU, so two stand-ins for "a device other than the default" are used:

- **CPU inputs under the "meta" default device** (fixture ``meta_default``). Any tensor a function
  makes without an explicit ``device=`` lands on "meta"; mixing it with the CPU inputs raises, and
  one that is returned shows up in the check that every output tensor is on the CPU. This is how
  a GPU run failed (a CPU tensor made by default next to CUDA parameters), seen from the other
  side.
- **"meta" inputs under the CPU default.** A meta tensor has a shape but no values, so only
  functions that never read a value (no stopping rule, no ``float()``) run on it; they catch
  tensors made on the CPU by hand (a hard-wired ``device="cpu"``).

Then: ``init_*(..., device=)`` gives tensors on that device with the right shapes and, on the
CPU, the same values bit for bit as the CPU-only draw; mixed devices and bad ``device=`` values
raise named errors.
"""

from __future__ import annotations

import dataclasses
import math

import matplotlib.pyplot as plt
import pytest
import torch
from torch import Tensor

import rnnbias as rb
from rnnbias import balance, constructions, lazy, moments, optim, ssm, widgets
from rnnbias import flow as fl
from rnnbias import nonlinear as nl
from rnnbias import plotting as pl

F64 = torch.float64
CPU = torch.device("cpu")
META = torch.device("meta")


@pytest.fixture
def meta_default():
    """Make "meta" torch's default device for the test, and restore the previous default."""
    previous = torch.get_default_device()
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None if previous == CPU else previous)


def _tensors(obj: object):
    """Every tensor in a result: tensors, modules, dataclasses, mappings and sequences."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, torch.nn.Module):
        yield from obj.parameters()
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _tensors(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _tensors(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from _tensors(value)


def _devices(obj: object) -> set[torch.device]:
    found = list(_tensors(obj))
    assert found, "the call returned no tensor to check"
    return {t.device for t in found}


# Inputs, all made on the CPU at import time (before any test changes the default device).
TEACHER = rb.low_dimensional([0.9, -0.5], [1.0, 0.3])
TAPS = TEACHER.impulse_response(12)  # a tensor teacher
FULL = rb.init_gaussian(3, [0.3, 0.8], [1, 2])
DIAG = rb.init_gaussian(3, [0.3, 0.8], [1, 2], structure="diagonal")
SYM = rb.init_gaussian(3, [0.3, 0.8], [1, 2], structure="symmetric")
X = rb.sample_sequences(4, 5, seed=1)
COMPLEX = ssm.init_complex(3, [0.2, 0.5], [0, 1])
WIDE = lazy.init_wide(12, [0, 1], sigma_w=0.7)
TANH = nl.init_tanh(3, [0.5, 1.0], [0, 1])
Y = nl.tanh_forward(nl.tanh_teacher(), X)[0, :, -1]
GRU = nl.init_gru(3, 0.5, seed=2)
MOMENTS = moments.moments(
    torch.tensor([0.5, -0.2], dtype=F64), torch.tensor([1.0, 2.0], dtype=F64), 6
)
_, GRAD = rb.population_loss_grad(SYM, TEACHER, 4)


def _pop(m):
    return rb.population_loss(m, TEACHER, 4)


CALLS = {
    # training (the tensor path and the compiled kernels)
    "train_gd tensor": lambda: rb.train_gd(
        DIAG, TEACHER, [2, 3], max_steps=20, backend="tensor", track={"b": lambda m: m.B[:, 0]}
    ),
    "train_gd compiled": lambda: rb.train_gd(
        FULL, TEACHER, 3, max_steps=20, backend="compiled", track={"b": lambda m: m.B[:, 0]}
    ),
    # linear
    "LinearRNN": lambda: rb.LinearRNN(*FULL),
    "LinearRNN symmetric": lambda: rb.LinearRNN(*SYM, "symmetric"),
    "init_gaussian full": lambda: rb.init_gaussian(3, [0.1, 1.0], [0, 1]),
    "init_gaussian diagonal": lambda: rb.init_gaussian(3, 0.5, structure="diagonal"),
    "init_gaussian symmetric": lambda: rb.init_gaussian(3, 0.5, structure="symmetric"),
    "select": lambda: FULL.select([1, 0]),
    "select mask": lambda: DIAG.select(torch.tensor([True, False], device="cpu")),
    "to_full": lambda: DIAG.to_full(),
    "pad_state": lambda: rb.pad_state(DIAG, 5),
    "concat_runs": lambda: rb.concat_runs([FULL, FULL.select(0)]),
    "impulse_response full": lambda: rb.impulse_response(FULL, 6),
    "impulse_response diagonal": lambda: rb.impulse_response(DIAG, 6),
    "impulse_response n=1": lambda: rb.impulse_response(DIAG, 1),
    "forward": lambda: rb.forward(FULL, X),
    "forward diagonal": lambda: rb.forward(DIAG, X),
    "convolve": lambda: rb.convolve(TAPS, X),
    "convolve per run": lambda: rb.convolve(TAPS.expand(2, -1), X.expand(2, -1, -1)),
    "population_loss Teacher": lambda: rb.population_loss(FULL, TEACHER, 5),
    "population_loss tensor": lambda: rb.population_loss(DIAG, TAPS, 5, outputs="all"),
    "population_loss list": lambda: rb.population_loss(FULL, [1.0, 0.5, 0.25], 3),
    "empirical_loss": lambda: rb.empirical_loss(FULL, TEACHER, X, outputs="all"),
    "empirical_loss tensor": lambda: rb.empirical_loss(DIAG, TAPS, X),
    "grad full": lambda: rb.population_loss_grad(FULL, TEACHER, 5),
    "grad diagonal": lambda: rb.population_loss_grad(DIAG, TAPS, 5, outputs="all"),
    "grad symmetric": lambda: rb.population_loss_grad(SYM, TEACHER, 5),
    "grad k=1": lambda: rb.population_loss_grad(FULL, TEACHER, 1),
    "extrapolation_error": lambda: rb.extrapolation_error(FULL, TEACHER, 3, 8),
    "extrapolation_error per run": lambda: rb.extrapolation_error(DIAG, TAPS, [2, 4], [5, 9]),
    "sup_error": lambda: rb.sup_error(FULL, TEACHER, 9, k=2),
    "similarity_transform": lambda: rb.similarity_transform(
        FULL, 2 * torch.eye(3, dtype=F64, device="cpu")
    ),
    "similarity_transform list": lambda: rb.similarity_transform(
        FULL, [[2.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]
    ),
    "spectral_radius": lambda: [rb.spectral_radius(m) for m in (FULL, DIAG, SYM)],
    # teachers
    "memoryless": lambda: rb.memoryless(0.5).impulse_response(4),
    "low_dimensional": lambda: rb.low_dimensional([0.9, 0.1]).impulse_response(4),
    "from_impulse_response": lambda: rb.from_impulse_response([1.0, 0.5]).impulse_response(2),
    "Teacher.impulse_response": lambda: TEACHER.impulse_response(7),
    "Teacher.outputs": lambda: TEACHER.outputs(X),
    "sample_sequences": lambda: rb.sample_sequences(3, 4, seed=2),
    # constructions
    "shift_register": lambda: constructions.shift_register([[1.0, 2.0], [3.0, 4.0]], d=4),
    "with_tail": lambda: constructions.with_tail(3, [0.5, 0.1]),
    "with_tail teacher": lambda: constructions.with_tail(3, [0.5], teacher=TEACHER),
    "nilpotent_shift": lambda: constructions.nilpotent_shift(4, [0.5, 2.0]),
    "cyclic": lambda: constructions.cyclic(3, [0.9, 1.1], d=5),
    # balance
    "imbalance": lambda: [balance.imbalance(m) for m in (FULL, DIAG)],
    "gd_step_change": lambda: balance.gd_step_change(GRAD, 0.1, "symmetric"),
    # moments
    "measure": lambda: [moments.measure(m) for m in (DIAG, SYM)],
    "hankel": lambda: moments.hankel(TAPS, 3),
    "moments": lambda: moments.moments([0.5, -0.2], [1.0, 2.0], 4),
    "prony": lambda: moments.prony(MOMENTS, 2),
    "vandermonde_student": lambda: moments.vandermonde_student(TEACHER, [-0.5, 0.0, 0.5], 2),
    # ssm
    "init_complex": lambda: ssm.init_complex(3, [0.2, 0.5], [0, 1]),
    "ComplexDiagonalRNN": lambda: ssm.ComplexDiagonalRNN([[0.5]], [[1.0]], [[1.0]]),
    "from_linear": lambda: ssm.from_linear(DIAG),
    "ssm select": lambda: COMPLEX.select(-1),
    "ssm impulse_response": lambda: [ssm.impulse_response(COMPLEX, n) for n in (1, 6)],
    "ssm population_loss": lambda: ssm.population_loss(COMPLEX, TEACHER, 4),
    "ssm grad per run": lambda: ssm.population_loss_grad(COMPLEX, TAPS, [3, 5]),
    "ssm train_gd": lambda: ssm.train_gd(
        COMPLEX, TEACHER, [3, 5], lr=[0.05, 0.03], max_steps=30, record_every=7
    ),
    "ssm train_gd stops": lambda: ssm.train_gd(COMPLEX, TEACHER, 2, max_steps=2000, tol=1e-6),
    # lazy
    "init_wide": lambda: lazy.init_wide(6, [0, 1], sigma_w=0.7),
    "rho_squared": lambda: [lazy.rho_squared(2, 0.7), lazy.rho_squared([0, 1, 2], 0.7)],
    "to_linear": lambda: WIDE.to_linear(),
    "tangent_kernel": lambda: lazy.tangent_kernel(WIDE, 4),
    "train_lazy": lambda: (r := lazy.train_lazy(WIDE, TEACHER, 3, T=8), r.error, r.error0),
    # optim
    "train_autograd gd": lambda: optim.train_autograd(
        FULL, _pop, lr=[0.05, 0.02], max_steps=5, track={"rho": rb.spectral_radius}
    ),
    "train_autograd adam": lambda: optim.train_autograd(
        SYM, _pop, optimizer="adam", lr=0.01, max_steps=5
    ),
    "train_autograd stops": lambda: optim.train_autograd(
        DIAG, _pop, lr=0.05, max_steps=3000, tol=1e-4
    ),
    # flow
    "integrate_flow": lambda: fl.integrate_flow(FULL, TEACHER, 4, 1.0, times=[0.5]),
    "integrate_flow all": lambda: fl.integrate_flow(DIAG, TAPS, 3, 0.5, outputs="all"),
    # nonlinear
    "TanhRNN": lambda: nl.TanhRNN(TANH.A, TANH.B, TANH.C),
    "init_tanh": lambda: nl.init_tanh(3, 0.5, [0, 1]),
    "tanh_teacher": lambda: nl.tanh_teacher(),
    "tanh select": lambda: TANH.select(0),
    "tanh_forward": lambda: nl.tanh_forward(TANH, X),
    "train_tanh": lambda: nl.train_tanh(TANH, X, Y, steps=3, record_every=2),
    "init_gru": lambda: nl.init_gru(3, 0.5, seed=1),
    "GRUStudent call": lambda: (GRU(X), GRU.recurrent_blocks()),
    "train_gru": lambda: nl.train_gru(GRU, X, Y, steps=3, record_every=2),
    "memory_profile": lambda: [nl.memory_profile(m, X) for m in (TANH, GRU)],
    # widgets (models for display)
    "oscillator": lambda: widgets.oscillator(0.9, 0.6, 0.5),
    "interpolator": lambda: [
        widgets.interpolator(kind, 3, 0.5, 0.9, 8) for kind in widgets.INTERPOLATORS
    ],
}


@pytest.mark.parametrize("name", list(CALLS))
def test_cpu_inputs_give_cpu_outputs_whatever_the_default_device(name, meta_default):
    assert torch.get_default_device() == META  # the fixture is active
    assert _devices(CALLS[name]()) == {CPU}


DISPLAY = {
    "plot_impulse_response": lambda: pl.plot_impulse_response(
        rb.impulse_response(FULL, 6)[0], teacher=TAPS[:6], k=3
    ),
    "plot_modes": lambda: [pl.plot_modes(m) for m in (FULL, DIAG)],
    "plot_matrix": lambda: pl.plot_matrix(FULL.A[0]),
    "show_oscillator": lambda: widgets.show_oscillator(),
    "show_interpolator": lambda: [
        widgets.show_interpolator(kind, 4, n=12) for kind in widgets.INTERPOLATORS
    ],
    "glue": lambda: (rb.glue("x", rb.population_loss(FULL, TEACHER, 3)[0]), rb.sig(TAPS[1])),
}


@pytest.mark.parametrize("name", list(DISPLAY))
def test_display_helpers_run_whatever_the_default_device(name, meta_default):
    try:
        assert DISPLAY[name]() is not None
    finally:
        plt.close("all")


def _meta(model):
    """The same model with every parameter on the meta device (shapes, no values)."""
    if isinstance(model, rb.LinearRNN):
        return rb.LinearRNN(*(p.to(META) for p in model), model.structure)
    if isinstance(model, ssm.ComplexDiagonalRNN):
        return ssm.ComplexDiagonalRNN(*(p.to(META) for p in model))
    if isinstance(model, lazy.WideRNN):
        return lazy.WideRNN(*(p.to(META) for p in model))
    return nl.TanhRNN(model.A.to(META), model.B.to(META), model.C.to(META))


META_CALLS = {
    "impulse_response": lambda: [
        rb.impulse_response(_meta(m), n) for m in (FULL, DIAG) for n in (1, 5)
    ],
    "population_loss Teacher": lambda: rb.population_loss(_meta(FULL), TEACHER, 4, outputs="all"),
    "population_loss tensor": lambda: rb.population_loss(_meta(DIAG), TAPS.to(META), 4),
    "grad full": lambda: rb.population_loss_grad(_meta(FULL), TEACHER, 4),
    "grad diagonal": lambda: rb.population_loss_grad(_meta(DIAG), TEACHER, 4, outputs="all"),
    "grad symmetric": lambda: rb.population_loss_grad(_meta(SYM), TEACHER, 4),
    "grad k=1": lambda: rb.population_loss_grad(_meta(FULL), TEACHER, 1),
    "forward": lambda: [rb.forward(_meta(m), X.to(META)) for m in (FULL, DIAG)],
    "empirical_loss": lambda: rb.empirical_loss(_meta(FULL), TEACHER, X.to(META)),
    "convolve": lambda: rb.convolve(TAPS.to(META), X.to(META)),
    "extrapolation_error": lambda: rb.extrapolation_error(_meta(DIAG), TEACHER, [2, 4], [5, 9]),
    "sup_error": lambda: rb.sup_error(_meta(FULL), TEACHER, 6, k=2),
    "pad_state": lambda: rb.pad_state(_meta(FULL), 5),
    "concat_runs": lambda: rb.concat_runs([_meta(FULL), _meta(FULL)]),
    "select": lambda: _meta(FULL).select([1, 0]),
    "imbalance": lambda: balance.imbalance(_meta(FULL)),
    "Teacher.impulse_response": lambda: TEACHER.impulse_response(5, device="meta"),
    "Teacher.outputs": lambda: TEACHER.outputs(X.to(META)),
    "hankel": lambda: moments.hankel(TAPS.to(META), 3),
    "moments": lambda: moments.moments(TAPS[:3].to(META), [1.0, 2.0, 3.0], 4),
    "shift_register": lambda: constructions.shift_register(TAPS[:4].to(META)),
    "with_tail": lambda: constructions.with_tail(2, TAPS[:3].to(META), teacher=TEACHER),
    "ssm impulse_response": lambda: [ssm.impulse_response(_meta(COMPLEX), n) for n in (1, 5)],
    "ssm grad": lambda: ssm.population_loss_grad(_meta(COMPLEX), TEACHER, [3, 5]),
    "tangent_kernel": lambda: lazy.tangent_kernel(_meta(WIDE), 3),
    "tanh_forward": lambda: nl.tanh_forward(_meta(TANH), X.to(META)),
}


@pytest.mark.parametrize("name", list(META_CALLS))
def test_outputs_follow_inputs_on_another_device(name):
    assert _devices(META_CALLS[name]()) == {META}


# (call with device=..., reference: the CPU draw as it was made before devices were supported)
def _gaussian_reference(d, sigmas, seeds, structure):
    As, Bs, Cs = [], [], []
    for s, sd in zip(sigmas, seeds, strict=True):
        gen = torch.Generator().manual_seed(sd)
        A = torch.randn((d,) if structure == "diagonal" else (d, d), generator=gen, dtype=F64)
        B = torch.randn(d, generator=gen, dtype=F64)
        C = torch.randn(d, generator=gen, dtype=F64)
        if structure == "symmetric":
            A, C = (A + A.T) / math.sqrt(2.0), B
        As.append(s / math.sqrt(d) * A)
        Bs.append(s / math.sqrt(d) * B)
        Cs.append(s / math.sqrt(d) * C)
    return [torch.stack(As), torch.stack(Bs), torch.stack(Cs)]


def _complex_reference(d, sigmas, seeds):
    draws = [
        torch.randn(3, d, generator=torch.Generator().manual_seed(sd), dtype=torch.complex128)
        * (s / math.sqrt(d))
        for s, sd in zip(sigmas, seeds, strict=True)
    ]
    return list(torch.stack(draws).unbind(1))


def _wide_reference(n, seeds, sw):
    W, F, C = [], [], []
    for s in seeds:
        gen = torch.Generator().manual_seed(s)
        W.append(torch.empty(n, n, dtype=F64).normal_(0.0, sw, generator=gen))
        F.append(torch.empty(n, dtype=F64).normal_(0.0, 1.0, generator=gen))
        C.append(torch.empty(n, dtype=F64).normal_(0.0, 1.0, generator=gen))
    return [torch.stack(W), torch.stack(F), torch.stack(C)]


def _gru_reference(hidden, scale, seed):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        gru = torch.nn.GRU(1, hidden, batch_first=True, dtype=F64)
        readout = torch.nn.Linear(hidden, 1, bias=False, dtype=F64)
        torch.nn.init.uniform_(readout.weight, -(hidden**-0.5), hidden**-0.5)
    return [scale * p.detach() for p in (*gru.parameters(), *readout.parameters())]


def _params(obj) -> list[Tensor]:
    if isinstance(obj, nl.GRUStudent):
        return [p.detach() for p in obj.parameters()]
    if isinstance(obj, nl.TanhRNN):
        return [obj.A, obj.B, obj.C]
    if isinstance(obj, Tensor):
        return [obj]
    return list(obj)


INITS = {
    "init_gaussian full": (
        lambda dev: rb.init_gaussian(4, [0.3, 0.8], [1, 2], device=dev),
        lambda: _gaussian_reference(4, [0.3, 0.8], [1, 2], "full"),
        [(2, 4, 4), (2, 4), (2, 4)],
    ),
    "init_gaussian diagonal": (
        lambda dev: rb.init_gaussian(4, 0.5, [3, 4, 5], structure="diagonal", device=dev),
        lambda: _gaussian_reference(4, [0.5] * 3, [3, 4, 5], "diagonal"),
        [(3, 4), (3, 4), (3, 4)],
    ),
    "init_gaussian symmetric": (
        lambda dev: rb.init_gaussian(3, [0.2, 1.0], 7, structure="symmetric", device=dev),
        lambda: _gaussian_reference(3, [0.2, 1.0], [7, 7], "symmetric"),
        [(2, 3, 3), (2, 3), (2, 3)],
    ),
    "init_tanh": (
        lambda dev: nl.init_tanh(4, [0.3, 0.8], [1, 2], device=dev),
        lambda: _gaussian_reference(4, [0.3, 0.8], [1, 2], "full"),
        [(2, 4, 4), (2, 4), (2, 4)],
    ),
    "init_complex": (
        lambda dev: ssm.init_complex(3, [0.2, 0.5], [0, 1], device=dev),
        lambda: _complex_reference(3, [0.2, 0.5], [0, 1]),
        [(2, 3)] * 3,
    ),
    "init_wide": (
        lambda dev: lazy.init_wide(5, [0, 3], sigma_w=0.7, device=dev),
        lambda: _wide_reference(5, [0, 3], 0.7),
        [(2, 5, 5), (2, 5), (2, 5)],
    ),
    "init_gru": (
        lambda dev: nl.init_gru(3, 0.5, seed=2, device=dev),
        lambda: _gru_reference(3, 0.5, 2),
        [(9, 1), (9, 3), (9,), (9,), (1, 3)],
    ),
    "sample_sequences": (
        lambda dev: rb.sample_sequences(3, 4, seed=5, device=dev),
        lambda: [torch.randn(3, 4, generator=torch.Generator().manual_seed(5), dtype=F64)],
        [(3, 4)],
    ),
}


@pytest.mark.parametrize("name", list(INITS))
def test_init_on_the_meta_device_has_the_right_shapes(name):
    make, _, shapes = INITS[name]
    params = _params(make("meta"))
    assert [tuple(p.shape) for p in params] == shapes
    assert {p.device for p in params} == {META}


@pytest.mark.parametrize("name", list(INITS))
@pytest.mark.parametrize("device", [None, "cpu", CPU])
def test_init_on_the_cpu_is_the_cpu_draw_bit_for_bit(name, device):
    make, reference, _ = INITS[name]
    params = _params(make(device))
    expected = reference()
    assert len(params) == len(expected)
    for p, e in zip(params, expected, strict=True):
        assert p.device == CPU and p.dtype == e.dtype and torch.equal(p, e)


def test_init_gru_seeds_only_the_cpu_generator_and_restores_it():
    torch.manual_seed(0)
    before = torch.randn(2)
    torch.manual_seed(0)
    nl.init_gru(3, 0.5, seed=9)
    assert torch.equal(torch.randn(2), before)


CREATED = {
    "tanh_teacher": (lambda dev: nl.tanh_teacher(device=dev), [(1, 1, 1), (1, 1), (1, 1)]),
    "rho_squared": (lambda dev: lazy.rho_squared([0, 1, 2], 0.7, device=dev), [(3,)]),
    "nilpotent_shift": (
        lambda dev: constructions.nilpotent_shift(3, [0.5, 1.0], device=dev),
        [(2, 4, 4), (2, 4), (2, 4)],
    ),
    "cyclic": (
        lambda dev: constructions.cyclic(3, 0.9, d=4, device=dev),
        [(1, 4, 4), (1, 4), (1, 4)],
    ),
    "shift_register": (
        lambda dev: constructions.shift_register([1.0, 2.0], device=dev),
        [(1, 2, 2), (1, 2), (1, 2)],
    ),
    "with_tail": (
        lambda dev: constructions.with_tail(2, [0.5], teacher=TEACHER, device=dev),
        [(1, 3, 3), (1, 3), (1, 3)],
    ),
    "Teacher.impulse_response": (lambda dev: TEACHER.impulse_response(4, device=dev), [(4,)]),
}


@pytest.mark.parametrize("name", list(CREATED))
def test_made_from_numbers_on_the_device_asked_for(name):
    make, shapes = CREATED[name]
    on_cpu, on_meta = _params(make(None)), _params(make("meta"))
    assert [tuple(p.shape) for p in on_meta] == shapes
    assert {p.device for p in on_meta} == {META}
    assert all(torch.equal(a, b) for a, b in zip(on_cpu, _params(make("cpu")), strict=True))
    assert {p.device for p in on_cpu} == {CPU}


DEVICE_TAKERS = {
    "init_gaussian": lambda dev: rb.init_gaussian(2, 0.5, device=dev),
    "init_complex": lambda dev: ssm.init_complex(2, 0.5, device=dev),
    "init_wide": lambda dev: lazy.init_wide(2, sigma_w=1.0, device=dev),
    "init_tanh": lambda dev: nl.init_tanh(2, 0.5, device=dev),
    "init_gru": lambda dev: nl.init_gru(2, 0.5, device=dev),
    "tanh_teacher": lambda dev: nl.tanh_teacher(device=dev),
    "rho_squared": lambda dev: lazy.rho_squared(1, 0.5, device=dev),
    "sample_sequences": lambda dev: rb.sample_sequences(2, 2, device=dev),
    "shift_register": lambda dev: constructions.shift_register([1.0], device=dev),
    "with_tail": lambda dev: constructions.with_tail(2, [1.0], device=dev),
    "nilpotent_shift": lambda dev: constructions.nilpotent_shift(2, 1.0, device=dev),
    "cyclic": lambda dev: constructions.cyclic(2, device=dev),
    "Teacher.impulse_response": lambda dev: TEACHER.impulse_response(3, device=dev),
}


@pytest.mark.parametrize("name", list(DEVICE_TAKERS))
@pytest.mark.parametrize(
    ("device", "error", "match"),
    [
        (0, TypeError, "device must be a str, a torch.device or None, got 0"),
        (True, TypeError, "device must be a str, a torch.device or None, got True"),
        (1.5, TypeError, "device must be a str, a torch.device or None"),
        ("gpu", ValueError, "device must name a torch device .* got 'gpu'"),
        ("", ValueError, "device must name a torch device"),
        ("cuda:99", ValueError, "device 'cuda:99' is not available on this machine"),
    ],
)
def test_bad_device_arguments_are_refused(name, device, error, match):
    with pytest.raises(error, match=match):
        DEVICE_TAKERS[name](device)


MIXED = {
    "LinearRNN": lambda: rb.LinearRNN(FULL.A, FULL.B.to(META), FULL.C),
    "LinearRNN C": lambda: rb.LinearRNN(FULL.A.to(META), FULL.B.to(META), FULL.C),
    "concat_runs": lambda: rb.concat_runs([FULL, _meta(FULL)]),
    "population_loss": lambda: rb.population_loss(FULL, TAPS.to(META), 4),
    "population_loss_grad": lambda: rb.population_loss_grad(DIAG, TAPS.to(META), 4),
    "extrapolation_error": lambda: rb.extrapolation_error(FULL, TAPS.to(META), 2, 4),
    "sup_error": lambda: rb.sup_error(FULL, TAPS.to(META), 4),
    "forward": lambda: rb.forward(FULL, X.to(META)),
    "empirical_loss": lambda: rb.empirical_loss(FULL, TEACHER, X.to(META)),
    "convolve": lambda: rb.convolve(TAPS, X.to(META)),
    "similarity_transform": lambda: rb.similarity_transform(FULL, torch.eye(3, dtype=F64).to(META)),
    "low_dimensional": lambda: rb.low_dimensional(
        torch.tensor([0.5], dtype=F64), torch.ones(1, dtype=F64, device=META)
    ),
    "with_tail": lambda: constructions.with_tail(2, TAPS[:2].to(META), teacher=TAPS),
    "shift_register device": lambda: constructions.shift_register(TAPS[:2], device="meta"),
    "moments": lambda: moments.moments(TAPS[:2], TAPS[:2].to(META), 3),
    "vandermonde_student": lambda: moments.vandermonde_student(TAPS.to(META), TAPS[:2], 2),
    "ComplexDiagonalRNN": lambda: ssm.ComplexDiagonalRNN(
        COMPLEX.lam, COMPLEX.b.to(META), COMPLEX.c
    ),
    "ssm population_loss": lambda: ssm.population_loss(COMPLEX, TAPS.to(META), 3),
    "ssm train_gd": lambda: ssm.train_gd(COMPLEX, TAPS.to(META), 3),
    "WideRNN": lambda: lazy.WideRNN(WIDE.W, WIDE.F, WIDE.C.to(META)),
    "train_lazy": lambda: lazy.train_lazy(WIDE, TAPS.to(META), 3, T=5),
    "integrate_flow": lambda: fl.integrate_flow(FULL, TAPS.to(META), 3, 1.0),
    "train_autograd": lambda: optim.train_autograd(
        FULL, lambda m: _pop(m).to(META), lr=0.1, max_steps=1
    ),
    "TanhRNN": lambda: nl.TanhRNN(TANH.A.to(META), TANH.B, TANH.C),
    "tanh_forward": lambda: nl.tanh_forward(TANH, X.to(META)),
    "train_tanh": lambda: nl.train_tanh(TANH, X, Y.to(META), steps=1),
    "GRUStudent": lambda: nl.GRUStudent(GRU.gru, torch.nn.Linear(3, 1, dtype=F64, device=META)),
    "GRUStudent call": lambda: GRU(X.to(META)),
    "train_gru": lambda: nl.train_gru(GRU, X, Y.to(META), steps=1),
}


@pytest.mark.parametrize("name", list(MIXED))
def test_mixed_devices_give_a_named_error(name):
    with pytest.raises(ValueError, match=r"is on device (cpu|meta) but .+ is on (cpu|meta)"):
        MIXED[name]()


def test_device_names_are_compared_as_tensors_report_them():
    # torch.device("cpu:0") != torch.device("cpu"), but tensors made on either report "cpu";
    # likewise "cuda" means the tensors' "cuda:0". A tensor already there is accepted.
    taps = TAPS[:2]
    for device in ("cpu:0", torch.device("cpu", 0)):
        model = constructions.shift_register(taps, device=device)
        assert _devices(list(model)) == {CPU}
        assert TEACHER.impulse_response(3, device=device).device == CPU


def test_tanh_rnn_stores_lists_as_tensors_on_the_device_of_b():
    model = nl.TanhRNN([[[0.5]]], TANH.B[:1, :1].to(META), [[1.0]])  # lists next to meta
    assert _devices([model.A, model.B, model.C]) == {META}
    assert all(p.dtype == F64 for p in (model.A, model.B, model.C))
