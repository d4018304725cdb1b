"""Tests of rnnbias.moments: taps as moments, Hankel ranks, Prony recovery, Vandermonde students."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnbias as rb
from rnnbias import moments as mo

F64 = torch.float64


def rel_close(x, y, rtol=1e-12):
    torch.testing.assert_close(x, y, rtol=0, atol=rtol * max(1.0, float(y.abs().max())))


def random_measure(seed, d, runs=1):
    """Atoms in [-0.95, 0.95] with gaps >= 0.1, weights of size in [0.2, 1.5], any sign."""
    gen = torch.Generator().manual_seed(seed)
    atoms = []
    while len(atoms) < runs:
        a = torch.sort(torch.rand(d, generator=gen, dtype=F64) * 1.9 - 0.95).values
        if d == 1 or float((a[1:] - a[:-1]).min()) >= 0.1:
            atoms.append(a)
    sizes = torch.rand(runs, d, generator=gen, dtype=F64) * 1.3 + 0.2
    signs = torch.where(torch.rand(runs, d, generator=gen) < 0.5, -1.0, 1.0).to(F64)
    return torch.stack(atoms), sizes * signs


def rotation(r, t):
    """A 2-d model with eigenvalues r e^{±it}: taps r^j cos(jt), no real measure."""
    A = r * torch.tensor([[[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]], dtype=F64)
    e1 = torch.tensor([[1.0, 0.0]], dtype=F64)
    return rb.LinearRNN(A, e1, e1)


# --- measure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("structure", ["diagonal", "symmetric"])
def test_measure_moments_are_the_impulse_response(structure):
    model = rb.init_gaussian(5, [0.3, 0.8, 1.2], [0, 1, 2], structure=structure)
    atoms, weights = mo.measure(model)
    assert atoms.shape == weights.shape == (3, 5) and atoms.dtype == F64
    assert bool((atoms[:, 1:] >= atoms[:, :-1]).all())  # sorted ascending
    rel_close(mo.moments(atoms, weights, 30), rb.impulse_response(model, 30))
    if structure == "symmetric":  # C = B^T: weights (q_i^T B)^2 >= 0
        assert bool((weights >= 0).all())


def test_measure_of_a_full_model_with_symmetric_A():
    sym = rb.init_gaussian(4, 0.9, 7, structure="symmetric")
    C = torch.randn(1, 4, generator=torch.Generator().manual_seed(1), dtype=F64)
    model = rb.LinearRNN(sym.A.clone(), sym.B.clone(), C)  # full structure, C != B
    atoms, weights = mo.measure(model)
    rel_close(mo.moments(atoms, weights, 25), rb.impulse_response(model, 25))
    torch.testing.assert_close(atoms, torch.linalg.eigvalsh(sym.A), rtol=0, atol=1e-14)
    diag = rb.init_gaussian(3, 1.0, 3, structure="diagonal")
    balanced = rb.LinearRNN(diag.A, diag.B, diag.B.clone(), "diagonal")  # C = B
    a, w = mo.measure(balanced)
    assert bool((w >= 0).all()) and torch.equal(a, torch.sort(diag.A).values)


def test_measure_refuses_a_non_symmetric_A():
    with pytest.raises(ValueError, match=r"symmetric \(or diagonal\) A.*max\|A - A\^T\|"):
        mo.measure(rb.init_gaussian(3, 1.0, 0))
    with pytest.raises(ValueError, match="symmetric"):
        mo.measure(rotation(0.9, 0.5))


# --- Hankel matrices -------------------------------------------------------------------------


def test_hankel_shape_and_entries():
    g = torch.arange(12, dtype=F64).reshape(2, 6) ** 2
    H = mo.hankel(g, 2)
    assert H.shape == (2, 3, 3)
    for r in range(2):
        for i in range(3):
            for j in range(3):
                assert H[r, i, j] == g[r, i + j]
    assert mo.hankel(g[0], 0).tolist() == [[0.0]]


@pytest.mark.parametrize("m", [1, 2, 3])
def test_hankel_rank_of_a_positive_measure_is_min_of_order_and_atoms(m):
    atoms = torch.tensor([-0.6, 0.1, 0.7][:m], dtype=F64)
    weights = torch.tensor([1.0, 0.5, 2.0][:m], dtype=F64)
    g = mo.moments(atoms, weights, 11)[0]
    for n in range(5):
        assert int(torch.linalg.matrix_rank(mo.hankel(g, n), rtol=1e-10)) == min(n + 1, m)


def test_signed_measure_breaks_the_rank_fact():
    """Atoms {-1, 0, 1}, weights (1, -2, 1): m_0 = m_1 = 0, so rank H_1 = 1 < 2."""
    g = mo.moments(
        torch.tensor([-1.0, 0.0, 1.0], dtype=F64), torch.tensor([1.0, -2.0, 1.0]).double(), 5
    )
    assert g[0].tolist() == [0.0, 0.0, 2.0, 0.0, 2.0]
    assert int(torch.linalg.matrix_rank(mo.hankel(g[0], 1))) == 1
    assert int(torch.linalg.matrix_rank(mo.hankel(g[0], 2))) == 3


# --- Prony's method --------------------------------------------------------------------------


@settings(max_examples=15)
@given(st.integers(0, 10_000), st.integers(1, 3), st.integers(0, 6))
def test_prony_recovers_a_real_measure_from_its_moments(seed, d, more):
    atoms, weights = random_measure(seed, d, runs=3)
    m = mo.moments(atoms, weights, 2 * d + more)
    a, w = mo.prony(m, d)
    assert a.shape == w.shape == (3, d)
    torch.testing.assert_close(a, atoms, rtol=0, atol=1e-8)
    torch.testing.assert_close(w, weights, rtol=0, atol=1e-8)


def test_prony_inverts_measure_of_a_model_and_accepts_one_sequence():
    model = rb.init_gaussian(3, 1.0, 4, structure="symmetric")
    atoms, weights = mo.measure(model)
    a, w = mo.prony(rb.impulse_response(model, 6)[0], 3)  # 1-d input: R = 1
    assert a.shape == (1, 3)
    torch.testing.assert_close(a, atoms, rtol=0, atol=1e-8)
    torch.testing.assert_close(w, weights, rtol=0, atol=1e-8)


def test_prony_refuses_complex_atoms_too_few_moments_and_too_many_atoms():
    g = rb.impulse_response(rotation(0.9, 0.7), 6)
    with pytest.raises(ValueError, match=r"complex atoms.*not those of a real 2-atom measure"):
        mo.prony(g, 2)
    with pytest.raises(ValueError, match=r"at least 2n = 4 moments.*got 3"):
        mo.prony(g[:, :3], 2)
    two = mo.moments(torch.tensor([0.1, 0.5], dtype=F64), torch.ones(2, dtype=F64), 8)
    with pytest.raises(ValueError, match=r"singular Hankel.*fewer than n = 3 atoms"):
        mo.prony(two, 3)
    with pytest.raises(ValueError, match="singular Hankel"):
        mo.prony(torch.zeros(4, dtype=F64), 1)


# --- Vandermonde students --------------------------------------------------------------------


@pytest.mark.parametrize("k", [3, 5, 8])
def test_vandermonde_student_fits_k_taps_and_puts_extra_at_lag_k(k):
    teacher = rb.low_dimensional([0.9])
    atoms = torch.linspace(-0.8, 0.8, k + 1, dtype=F64)
    model = mo.vandermonde_student(teacher, atoms, k, extra=1.0)
    assert model.structure == "diagonal" and model.runs == 1 and model.d == k + 1
    assert float(rb.population_loss(model, teacher, k)[0]) < 1e-20
    g, g_star = rb.impulse_response(model, k + 1)[0], teacher.impulse_response(k + 1)
    assert abs(float(g[k] - g_star[k]) - 1.0) < 1e-9
    w = model.B * model.C
    assert bool((w[0, 1:] * w[0, :-1] < 0).all())  # alternating signs
    assert torch.equal(model.B.abs(), model.C.abs())  # balanced
    square = mo.vandermonde_student(teacher, atoms[:k], k)  # m = k: no free tap
    assert float(rb.population_loss(square, teacher, k)[0]) < 1e-20
    plain = mo.vandermonde_student(teacher, atoms, k, extra=1.0, balanced_signs=False)
    assert torch.equal(plain.B, torch.ones_like(plain.B))
    torch.testing.assert_close(plain.C, w, rtol=1e-12, atol=0)


def test_vandermonde_student_is_batched_over_atoms_and_teachers():
    atoms = torch.tensor([[-0.5, 0.0, 0.5], [0.1, 0.3, 0.6]], dtype=F64)
    taps = torch.tensor([[1.0, 0.5, 0.2], [2.0, -1.0, 0.3]], dtype=F64)
    model = mo.vandermonde_student(taps, atoms, 2, extra=0.25)
    g = rb.impulse_response(model, 3)
    torch.testing.assert_close(
        g, taps + torch.tensor([0.0, 0.0, 0.25], dtype=F64), rtol=0, atol=1e-12
    )
    assert mo.vandermonde_student(taps[0], atoms, 3).runs == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_from_measure_inverts_measure_and_is_balanced(seed):
    atoms, weights = random_measure(seed, 4, runs=3)  # weights of both signs
    model = mo.from_measure(atoms, weights)
    assert model.structure == "diagonal" and model.runs == 3
    assert torch.equal(model.B.abs(), model.C.abs())  # balanced: |b_i| = |c_i|
    back_atoms, back_weights = mo.measure(model)
    rel_close(back_atoms, atoms)  # random_measure sorts its atoms, as measure does
    rel_close(back_weights, weights)
    rel_close(rb.impulse_response(model, 7), mo.moments(atoms, weights, 7))


def test_from_measure_with_non_negative_weights_has_c_equal_b():
    model = mo.from_measure([0.5, 0.95, 0.0], [1 / 9, 8 / 9, 0.0])
    assert torch.equal(model.B, model.C)
    # and a balanced diagonal model is from_measure of its own measure, coordinate for coordinate
    start = rb.init_gaussian(5, 0.5, seed=[3, 4], structure="diagonal")
    balanced = rb.LinearRNN(start.A, start.B.abs(), start.B.abs(), "diagonal")
    again = mo.from_measure(balanced.A, balanced.B * balanced.C)
    rel_close(again.B, balanced.B)
    rel_close(again.C, balanced.C)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mo.hankel(torch.ones(4, dtype=F64), 2), ValueError, "at least 2n \\+ 1 = 5"),
        (lambda: mo.hankel(torch.ones(4, dtype=F64), -1), ValueError, "n must be >= 0"),
        (lambda: mo.hankel(torch.ones(4), 1), TypeError, "float64"),
        (lambda: mo.hankel(torch.ones(1, 1, 5, dtype=F64), 1), ValueError, "g must have 1 or 2"),
        (lambda: mo.moments([0.5, 0.2], [1.0], 3), ValueError, "weights must have the shape"),
        (lambda: mo.moments(torch.ones(2, 3), torch.ones(2, 3), 3), TypeError, "atoms must"),
        (lambda: mo.moments([0.5], [1.0], 0), ValueError, "n must be >= 1"),
        (lambda: mo.prony([1.0, 0.5], 1.5), TypeError, "n must be an integer"),
        (lambda: mo.prony([1.0, float("nan")], 1), ValueError, "m must have finite"),
        (lambda: mo.from_measure([0.5, 0.2], [1.0]), ValueError, "weights must have the shape"),
        (
            lambda: mo.from_measure([0.5, float("inf")], [1.0, 1.0]),
            ValueError,
            "atoms must have finite",
        ),
        (lambda: mo.from_measure(torch.ones(2), [1.0, 1.0]), TypeError, "atoms must have dtype"),
        (lambda: mo.from_measure([[[0.5]]], [[[1.0]]]), ValueError, "atoms must have 1 or 2"),
        (lambda: mo.measure("model"), TypeError, "model must be a LinearRNN"),
        (lambda: mo.measure(rb.init_gaussian(2, 1.0), tol=-1.0), ValueError, "tol must be >= 0"),
        (lambda: mo.vandermonde_student(rb.memoryless(), [0.1, 0.5], 0), ValueError, "k must"),
        (lambda: mo.vandermonde_student(rb.memoryless(), [0.1], 3), ValueError, "k = 3 or"),
        (
            lambda: mo.vandermonde_student(rb.memoryless(), [0.1, 0.5], 2, extra=1.0),
            ValueError,
            "extra must be 0 with m = k = 2",
        ),
        (
            lambda: mo.vandermonde_student(rb.memoryless(), [0.1, 0.5, 0.1], 2),
            ValueError,
            "atoms must be distinct, got 0.1 twice",
        ),
        (
            lambda: mo.vandermonde_student(rb.memoryless(), [0.1, 0.5], 1, extra=math.inf),
            ValueError,
            "extra must be finite",
        ),
        (
            lambda: mo.vandermonde_student(rb.memoryless(), [0.1, float("nan")], 2),
            ValueError,
            "atoms must have finite",
        ),
        (
            lambda: mo.vandermonde_student(
                torch.ones(3, 2, dtype=F64), [[0.1, 0.5], [0.2, 0.6]], 2
            ),
            ValueError,
            "one impulse response or one per run",
        ),
        (
            lambda: mo.vandermonde_student(rb.memoryless(), [0.1, 0.5], 2, balanced_signs=1),
            TypeError,
            "balanced_signs must be a bool",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
