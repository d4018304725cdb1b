"""Tests of rnnbias.teachers."""

import pytest
import torch

import rnnbias as rb

F64 = torch.float64


def test_memoryless_teacher_is_one_then_zeros():
    g = rb.memoryless(2.5).impulse_response(6)
    assert torch.equal(g, torch.tensor([2.5, 0, 0, 0, 0, 0], dtype=F64))
    x = rb.sample_sequences(4, 7, seed=1)
    assert torch.equal(rb.memoryless(2.5).outputs(x), 2.5 * x)


def test_low_dimensional_teacher_is_a_sum_of_exponentials():
    t = rb.low_dimensional([0.9, -0.6], [1.0, 0.5])
    j = torch.arange(8, dtype=F64)
    torch.testing.assert_close(t.impulse_response(8), 0.9**j + 0.5 * (-0.6) ** j)
    assert t.dimension == 2 and rb.memoryless().dimension == 1
    assert repr(t) == "Teacher('low-dimensional', eigenvalues=[0.9, -0.6], weights=[1, 0.5])"


def test_teacher_outputs_are_the_convolution_of_the_inputs():
    t = rb.low_dimensional([0.5])
    x = rb.sample_sequences(3, 5, seed=2)
    y = t.outputs(x)
    manual = sum(0.5**j * x[:, 4 - j] for j in range(5))
    torch.testing.assert_close(y[:, 4], manual)


def test_given_impulse_response_is_finite():
    t = rb.from_impulse_response([1.0, 0.5, 0.25])
    assert torch.equal(t.impulse_response(2), torch.tensor([1.0, 0.5], dtype=F64))
    assert t.dimension is None and repr(t) == "Teacher('impulse response', taps=3)"
    with pytest.raises(ValueError, match="n must be at most 3"):
        t.impulse_response(4)


def test_sample_sequences_is_seeded_and_private():
    torch.manual_seed(0)
    before = torch.randn(1)
    torch.manual_seed(0)
    a = rb.sample_sequences(3, 4, seed=9)
    assert torch.equal(torch.randn(1), before)  # the global generator was not touched
    assert torch.equal(a, rb.sample_sequences(3, 4, seed=9))
    assert a.shape == (3, 4) and a.dtype == F64


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: rb.memoryless(0.0), ValueError, "w must be non-zero"),
        (lambda: rb.memoryless(float("inf")), ValueError, "w must be finite"),
        (lambda: rb.memoryless("1"), TypeError, "w must be a real number"),
        (lambda: rb.low_dimensional([]), ValueError, "eigenvalues must not be empty"),
        (lambda: rb.low_dimensional([0.5, 0.5]), ValueError, "eigenvalues must be distinct"),
        (lambda: rb.low_dimensional([0.5, 0.2], [1.0]), ValueError, "one entry per eigenvalue"),
        (lambda: rb.low_dimensional([[0.5]]), ValueError, "eigenvalues must have 1 dimensions"),
        (lambda: rb.low_dimensional([float("nan")]), ValueError, "eigenvalues must have finite"),
        (lambda: rb.from_impulse_response([]), ValueError, "at least one tap"),
        (lambda: rb.memoryless().impulse_response(0), ValueError, "n must be >= 1"),
        (
            lambda: rb.memoryless().outputs(torch.zeros(3, dtype=F64)),
            ValueError,
            "x must have 2 or 3 dimensions",
        ),
        (lambda: rb.sample_sequences(0, 3), ValueError, "N must be >= 1"),
        (lambda: rb.sample_sequences(3, 2.0), TypeError, "T must be an integer"),
    ],
)
def test_teachers_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
