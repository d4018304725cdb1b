"""Tests of rnnbias.linear: oracles, the identities the book relies on, and error paths."""

import math

import pytest
import torch
from helpers import models, teachers
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnbias as rb
from rnnbias.linear import LinearRNN

F64 = torch.float64


def explicit_taps(model, n):
    """Oracle: g_j = C A^j B with an explicit matrix power, one run at a time."""
    full = model.to_full()
    out = torch.empty(model.runs, n, dtype=F64)
    for r in range(model.runs):
        for j in range(n):
            out[r, j] = full.C[r] @ torch.linalg.matrix_power(full.A[r], j) @ full.B[r]
    return out


# --- identities ------------------------------------------------------------------------------


@given(models(), st.integers(1, 12))
def test_impulse_response_matches_matrix_powers(model, n):
    g = rb.impulse_response(model, n)
    assert g.shape == (model.runs, n) and g.dtype == F64
    torch.testing.assert_close(g, explicit_taps(model, n), rtol=1e-10, atol=1e-12)


@given(models(), st.integers(1, 10))
def test_impulse_response_is_the_response_to_a_unit_impulse(model, n):
    impulse = torch.zeros(1, n, dtype=F64)
    impulse[0, 0] = 1.0
    y = rb.forward(model, impulse)[:, 0, :]
    torch.testing.assert_close(y, rb.impulse_response(model, n), rtol=1e-12, atol=1e-14)


@given(models(), st.integers(1, 8), st.integers(0, 1000))
def test_forward_is_the_convolution_with_the_impulse_response(model, T, seed):
    x = rb.sample_sequences(5, T, seed=seed)
    y = rb.forward(model, x)
    assert y.shape == (model.runs, 5, T)
    torch.testing.assert_close(
        y, rb.convolve(rb.impulse_response(model, T), x), rtol=1e-10, atol=1e-12
    )


@given(models(structures=["diagonal"]), st.integers(1, 10))
def test_diagonal_model_equals_its_full_embedding(model, n):
    torch.testing.assert_close(
        rb.impulse_response(model, n),
        rb.impulse_response(model.to_full(), n),
        rtol=1e-12,
        atol=1e-14,
    )


@given(models(), st.integers(0, 1000), st.integers(2, 15))
def test_similarity_transform_leaves_the_impulse_response_unchanged(model, seed, n):
    gen = torch.Generator().manual_seed(seed)
    S = torch.eye(model.d, dtype=F64) + 0.3 * torch.randn(
        model.runs, model.d, model.d, generator=gen, dtype=F64
    )
    if torch.linalg.cond(S).max() > 1e3:  # keep the comparison about symmetry, not round-off
        S = torch.eye(model.d, dtype=F64).expand_as(S)
    g0 = rb.impulse_response(model, n)
    g1 = rb.impulse_response(rb.similarity_transform(model, S), n)
    scale = g0.abs().amax(-1, keepdim=True).clamp_min(1.0)
    assert ((g1 - g0).abs() / scale).max() < 1e-9


@given(models(), teachers, st.integers(1, 8), st.sampled_from(["final", "all"]))
def test_population_loss_equals_the_exact_loss_on_unit_impulses(model, teacher, k, outputs):
    """Exact oracle: with inputs e_0..e_{k-1}, the squared errors sum to the population loss."""
    impulses = torch.eye(k, dtype=F64)  # N = k sequences of length k
    err = rb.forward(model, impulses) - teacher.outputs(impulses)  # (R, k, k)
    if outputs == "final":
        expected = (err[:, :, -1] ** 2).sum(-1)
    else:
        expected = (err**2).sum((-1, -2)) / k
    torch.testing.assert_close(
        rb.population_loss(model, teacher, k, outputs=outputs), expected, rtol=1e-10, atol=1e-13
    )


@given(models(), st.integers(0, 3))
def test_pad_state_keeps_the_impulse_response_and_structure(model, extra):
    padded = rb.pad_state(model, model.d + extra)
    assert padded.d == model.d + extra and padded.structure == model.structure
    torch.testing.assert_close(
        rb.impulse_response(padded, 12), rb.impulse_response(model, 12), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("structure", ["full", "diagonal", "symmetric"])
def test_gradient_descent_leaves_the_padding_at_zero(structure):
    """Runs of different sizes can share one batch: padded runs train exactly like the originals."""
    small = rb.init_gaussian(3, 0.4, seed=[0, 1], structure=structure)
    big = rb.init_gaussian(5, 0.4, seed=[2], structure=structure)
    batch = rb.concat_runs([rb.pad_state(small, 5), big])
    assert batch.runs == 3 and batch.d == 5
    cfg = rb.GDConfig(lr=0.05, max_steps=300, clip=1.0)
    together = rb.train_gd(batch, rb.memoryless(), 4, cfg).model
    alone = rb.train_gd(small, rb.memoryless(), 4, cfg).model
    A_t = together.A[:2, :3] if structure == "diagonal" else together.A[:2, :3, :3]
    torch.testing.assert_close(A_t, alone.A, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(together.B[:2, :3], alone.B, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(together.C[:2, :3], alone.C, rtol=1e-12, atol=1e-14)
    pad_A = together.A[:2, 3:] if structure == "diagonal" else together.A[:2, 3:, :]
    assert float(pad_A.abs().max()) == 0.0 and float(together.B[:2, 3:].abs().max()) == 0.0
    assert float(together.C[:2, 3:].abs().max()) == 0.0


@given(models(), teachers, st.integers(1, 8), st.sampled_from(["final", "all"]))
def test_empirical_loss_on_unit_impulses_is_the_population_loss_over_k(model, teacher, k, outputs):
    """The k unit impulses are an orthonormal basis: their mean squared error is L / k."""
    impulses = torch.eye(k, dtype=F64)
    emp = rb.empirical_loss(model, teacher, impulses, outputs=outputs)
    exact = rb.population_loss(model, teacher, k, outputs=outputs)
    torch.testing.assert_close(k * emp, exact, rtol=1e-10, atol=1e-13)


def test_empirical_loss_takes_per_run_data_and_per_run_teachers():
    model = rb.init_gaussian(3, [0.5, 0.9], seed=[1, 2])
    x = rb.sample_sequences(6, 4, seed=0)
    per_run_x = torch.stack([x, 2 * x])
    teacher = rb.low_dimensional([0.5])
    both = rb.empirical_loss(model, teacher, per_run_x)
    for r in range(2):
        alone = rb.empirical_loss(model.select(r), teacher, per_run_x[r])
        torch.testing.assert_close(both[r : r + 1], alone, rtol=1e-13, atol=0)
    taps = torch.stack([teacher.impulse_response(4), 2 * teacher.impulse_response(4)])
    mixed = rb.empirical_loss(model, taps, x, outputs="all")
    for r in range(2):
        alone = rb.empirical_loss(model.select(r), taps[r], x, outputs="all")
        torch.testing.assert_close(mixed[r : r + 1], alone, rtol=1e-13, atol=0)


@settings(max_examples=15)
@given(
    models(max_runs=2),
    teachers,
    st.integers(1, 6),
    st.sampled_from(["final", "all"]),
    st.integers(0, 1000),
)
def test_population_loss_matches_monte_carlo(model, teacher, k, outputs, seed):
    """Statistical oracle: the sample mean lies within 5 standard errors of the exact loss."""
    x = rb.sample_sequences(40_000, k, seed=seed)
    sq = (rb.forward(model, x) - teacher.outputs(x)) ** 2  # (R, N, k)
    per_seq = sq[..., -1] if outputs == "final" else sq.mean(-1)
    mean, se = per_seq.mean(-1), per_seq.std(-1) / math.sqrt(x.shape[0])
    exact = rb.population_loss(model, teacher, k, outputs=outputs)
    assert ((mean - exact).abs() <= 5 * se + 1e-12).all()


@given(models(), teachers, st.integers(1, 7), st.sampled_from(["final", "all"]))
def test_gradient_matches_autograd(model, teacher, k, outputs):
    loss, grad = rb.population_loss_grad(model, teacher, k, outputs=outputs)
    structure = "diagonal" if model.structure == "diagonal" else "full"
    A, B, C = (p.clone().requires_grad_() for p in model)
    auto = rb.population_loss(LinearRNN(A, B, C, structure), teacher, k, outputs=outputs)
    auto.sum().backward()
    # a parameter the loss does not touch (A when k = 1) gets no autograd gradient: zero
    gA, gB, gC = (torch.zeros_like(p) if p.grad is None else p.grad for p in (A, B, C))
    if model.structure == "symmetric":  # on the balanced set the full gradient is already
        torch.testing.assert_close(gA, gA.mT, rtol=1e-9, atol=1e-12)  # symmetric and B/C-equal
        torch.testing.assert_close(gB, gC, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(loss, auto.detach(), rtol=1e-12, atol=1e-14)
    for mine, ref in ((grad.A, gA), (grad.B, gB), (grad.C, gC)):
        torch.testing.assert_close(mine, ref, rtol=1e-9, atol=1e-12)


@settings(max_examples=15)
@given(models(structures=["full", "diagonal"], max_d=4, max_runs=1), teachers, st.integers(1, 6))
def test_gradient_matches_central_finite_differences(model, teacher, k):
    _, grad = rb.population_loss_grad(model, teacher, k)
    eps = 1e-6
    for name, g in zip("ABC", grad, strict=True):
        p = getattr(model, name)
        for i in range(p.numel()):
            up, down = p.clone().reshape(-1), p.clone().reshape(-1)
            up[i] += eps
            down[i] -= eps

            def loss(v, name=name, shape=p.shape):
                params = {"A": model.A, "B": model.B, "C": model.C, name: v.reshape(shape)}
                return rb.population_loss(
                    LinearRNN(**params, structure=model.structure), teacher, k
                )[0]

            fd = (loss(up) - loss(down)) / (2 * eps)
            assert abs(fd - g.reshape(-1)[i]) <= 1e-6 * max(1.0, abs(float(fd)))


def test_gradient_of_A_vanishes_at_A_zero():
    model = rb.init_gaussian(6, 0.5, 0)
    model = LinearRNN(torch.zeros_like(model.A), model.B, model.C)
    _, grad = rb.population_loss_grad(model, rb.memoryless(), 5)
    assert torch.count_nonzero(grad.A) == 0


@given(models(), teachers, st.integers(1, 6), st.integers(0, 20))
def test_extrapolation_error_is_the_loss_increase(model, teacher, k, extra):
    T = k + extra
    E = rb.extrapolation_error(model, teacher, k, T)
    increase = rb.population_loss(model, teacher, T) - rb.population_loss(model, teacher, k)
    scale = rb.population_loss(model, teacher, T).clamp_min(1.0)
    assert ((E - increase).abs() / scale).max() < 1e-12
    assert (E >= 0).all()
    several = rb.extrapolation_error(model, teacher, k, [k, T])
    assert several.shape == (model.runs, 2) and (several[:, 0] == 0).all()
    torch.testing.assert_close(several[:, 1], E)


@given(models(), teachers, st.integers(1, 20))
def test_sup_error_is_the_largest_tap_error(model, teacher, T):
    diff = rb.impulse_response(model, T) - teacher.impulse_response(T)
    torch.testing.assert_close(rb.sup_error(model, teacher, T), diff.abs().max(-1).values)


@given(models(), teachers, st.integers(1, 6), st.integers(1, 12))
def test_tail_sup_error_bounds_the_extrapolation_error(model, teacher, k, extra):
    """(E_sup)^2 <= E_{k,T} <= (T - k) (E_sup)^2 on the tail window k <= j < T."""
    T = k + extra
    sup = rb.sup_error(model, teacher, T, k=k)
    diff = rb.impulse_response(model, T) - teacher.impulse_response(T)
    torch.testing.assert_close(sup, diff[:, k:].abs().max(-1).values)
    E = rb.extrapolation_error(model, teacher, k, T)
    assert bool((sup**2 <= E * (1 + 1e-12) + 1e-300).all())
    assert bool((E <= extra * sup**2 * (1 + 1e-12) + 1e-300).all())


def test_extrapolation_error_keeps_tiny_tails_exact():
    """The tail is summed directly, so a 1e-21 tail survives a head error of order 1.

    Diagonal model a = (0, t), b = (1, 1), c = (2, s): g_0 = 2 + s and g_j = s t^j for j >= 1.
    Against the memoryless teacher at k = 1, E_{1,T} = s^2 (t^2 + ... + t^{2(T-1)}), while
    L_T - L_1 computed as a difference would lose it entirely next to L_1 = (1 + s)^2.
    """
    s, t, T = 1e-10, 0.5, 6
    model = LinearRNN(
        torch.tensor([[0.0, t]], dtype=F64),
        torch.tensor([[1.0, 1.0]], dtype=F64),
        torch.tensor([[2.0, s]], dtype=F64),
        "diagonal",
    )
    exact = s**2 * sum(t ** (2 * j) for j in range(1, T))
    E = float(rb.extrapolation_error(model, rb.memoryless(), 1, T)[0])
    assert math.isclose(E, exact, rel_tol=1e-12)
    difference = rb.population_loss(model, rb.memoryless(), T) - rb.population_loss(
        model, rb.memoryless(), 1
    )
    assert not math.isclose(float(difference[0]), exact, rel_tol=1e-3)  # why we sum directly


# --- initialisation and containers -----------------------------------------------------------


def test_init_gaussian_rescales_one_base_draw_per_seed():
    m = rb.init_gaussian(5, [0.1, 0.4, 0.4], [7, 7, 8])
    torch.testing.assert_close(m.A[1], 4 * m.A[0])
    assert not torch.allclose(m.A[2], m.A[1])


def test_init_gaussian_spectral_radius_is_about_sigma():
    rho = rb.spectral_radius(rb.init_gaussian(300, 0.5, 0))
    assert 0.45 < float(rho) < 0.55  # circular law: radius sigma for entries N(0, sigma^2/d)


def test_symmetric_init_is_symmetric_and_balanced():
    m = rb.init_gaussian(7, [0.3, 0.9], [0, 1], structure="symmetric")
    assert torch.equal(m.A, m.A.mT) and torch.equal(m.B, m.C)


def test_select_and_repr():
    m = rb.init_gaussian(3, [0.1, 0.2, 0.3], 0)
    assert repr(m) == "LinearRNN(structure='full', runs=3, d=3)"
    one = m.select(-1)
    assert one.runs == 1 and torch.equal(one.A[0], m.A[2])
    assert m.select([0, 2]).runs == 2
    A, B, C = m
    assert A is m.A and B is m.B and C is m.C


# --- error paths -------------------------------------------------------------------------------


def good():
    return rb.init_gaussian(3, 0.5, 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"A": torch.zeros(1, 3, 3, dtype=torch.float32)},
            TypeError,
            "A must have dtype torch.float64",
        ),
        ({"A": torch.zeros(3, 3, dtype=F64)}, ValueError, "A must have 3 dimensions"),
        ({"B": torch.zeros(3, dtype=F64)}, ValueError, "B must have 2 dimensions"),
        ({"C": torch.zeros(1, 4, dtype=F64)}, ValueError, "C must have the shape of B"),
        ({"A": torch.zeros(1, 4, 4, dtype=F64)}, ValueError, r"A must have shape \(1, 3, 3\)"),
        ({"A": torch.full((1, 3, 3), float("nan"), dtype=F64)}, ValueError, "A must have finite"),
        ({"B": torch.full((1, 3), float("inf"), dtype=F64)}, ValueError, "B must have finite"),
        ({"structure": "banded"}, ValueError, "structure must be one of"),
        ({"A": "not a matrix"}, TypeError, "A must be a tensor or array"),
    ],
    ids=[
        "float32",
        "unbatched-A",
        "unbatched-B",
        "C-shape",
        "A-shape",
        "nan",
        "inf",
        "structure",
        "string",
    ],
)
def test_linear_rnn_rejects_bad_parameters(kwargs, error, match):
    m = good()
    params = {"A": m.A, "B": m.B, "C": m.C, "structure": "full", **kwargs}
    with pytest.raises(error, match=match):
        LinearRNN(**params)


def test_symmetric_structure_is_checked():
    m = rb.init_gaussian(3, 0.5, 0)
    with pytest.raises(ValueError, match="A must be symmetric"):
        LinearRNN(m.A, m.B, m.B, "symmetric")
    S = m.A + m.A.mT
    with pytest.raises(ValueError, match="C must equal B"):
        LinearRNN(S, m.B, m.C, "symmetric")
    with pytest.raises(ValueError, match="A must have 2 dimensions"):  # diagonal: A holds a
        LinearRNN(m.A, m.B, m.C, "diagonal")


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: rb.impulse_response(m, 0), ValueError, "n must be >= 1, got 0"),
        (lambda m: rb.impulse_response(m, 2.5), TypeError, "n must be an integer"),
        (lambda m: rb.impulse_response(m, True), TypeError, "n must be an integer"),
        (lambda m: rb.impulse_response("model", 3), TypeError, "model must be a LinearRNN"),
        (lambda m: rb.population_loss(m, rb.memoryless(), 0), ValueError, "k must be >= 1"),
        (lambda m: rb.population_loss(m, rb.memoryless(), -3), ValueError, "k must be >= 1"),
        (
            lambda m: rb.population_loss(m, rb.memoryless(), 3, outputs="mean"),
            ValueError,
            "outputs must be one of",
        ),
        (
            lambda m: rb.population_loss(m, torch.ones(2, dtype=F64), 3),
            ValueError,
            "at least 3 taps",
        ),
        (lambda m: rb.population_loss_grad(m, rb.memoryless(), 0), ValueError, "k must be >= 1"),
        (
            lambda m: rb.extrapolation_error(m, rb.memoryless(), 5, 3),
            ValueError,
            "T must be >= 5, got 3",
        ),
        (
            lambda m: rb.extrapolation_error(m, rb.memoryless(), 2, []),
            ValueError,
            "T must not be empty",
        ),
        (
            lambda m: rb.empirical_loss(m, rb.memoryless(), torch.ones(3, dtype=F64)),
            ValueError,
            "x must have 2 or 3",
        ),
        (
            lambda m: rb.empirical_loss(m, rb.memoryless(), torch.ones(2, 3, dtype=F64), outputs=1),
            ValueError,
            "outputs must be one of",
        ),
        (
            lambda m: rb.empirical_loss(
                m, torch.ones(2, 3, dtype=F64), torch.ones(2, 3, dtype=F64)
            ),
            ValueError,
            "one impulse response or one per run",
        ),
        (
            lambda m: rb.empirical_loss(m, torch.ones(2, dtype=F64), torch.ones(2, 3, dtype=F64)),
            ValueError,
            "at least 3 taps",
        ),
        (lambda m: rb.sup_error(m, rb.memoryless(), 0), ValueError, "T must be >= 1"),
        (lambda m: rb.sup_error(m, rb.memoryless(), 5, k=5), ValueError, "k must be below T = 5"),
        (lambda m: rb.sup_error(m, rb.memoryless(), 5, k=-1), ValueError, "k must be >= 0"),
        (lambda m: rb.forward(m, torch.zeros(5, dtype=F64)), ValueError, "x must have 2 or 3"),
        (lambda m: rb.forward(m, torch.zeros(2, 4, 5, dtype=F64)), ValueError, "must have R = 1"),
        (lambda m: rb.forward(m, torch.zeros(4, 5)), TypeError, "x must have dtype torch.float64"),
        (
            lambda m: rb.convolve(torch.ones(2, dtype=F64), torch.ones(3, 4, dtype=F64)),
            ValueError,
            "g must have at least T = 4 taps",
        ),
        (
            lambda m: rb.similarity_transform(m, torch.zeros(3, 3, dtype=F64)),
            ValueError,
            "S must be invertible",
        ),
        (
            lambda m: rb.similarity_transform(m, torch.eye(4, dtype=F64)),
            ValueError,
            r"S must have shape \(3, 3\)",
        ),
        (lambda m: rb.init_gaussian(0, 0.1), ValueError, "d must be >= 1, got 0"),
        (lambda m: rb.init_gaussian(3, -0.1), ValueError, "sigma must be >= 0"),
        (lambda m: rb.init_gaussian(3, float("nan")), ValueError, "sigma must be finite"),
        (lambda m: rb.init_gaussian(3, [0.1, 0.2], [1, 2, 3]), ValueError, "same length"),
        (lambda m: rb.init_gaussian(3, 0.1, structure="tri"), ValueError, "structure must be"),
        (lambda m: rb.pad_state(m, 2), ValueError, "d must be at least the model's state"),
        (lambda m: rb.pad_state(m, 4.0), TypeError, "d must be an integer"),
        (lambda m: rb.concat_runs([]), ValueError, "at least one LinearRNN"),
        (lambda m: rb.concat_runs([m, "model"]), TypeError, r"models\[1\] must be a LinearRNN"),
        (
            lambda m: rb.concat_runs([m, rb.init_gaussian(4, 0.1)]),
            ValueError,
            "models must share structure and d",
        ),
        (lambda m: m.select(5), ValueError, "runs must index one of 1 runs"),
        (lambda m: m.select([]), ValueError, "runs must pick at least one of 1 runs"),
    ],
    ids=lambda v: None if callable(v) else str(v)[:30],
)
def test_public_functions_reject_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(good())


def test_extrapolation_error_with_per_run_lengths():
    model = rb.init_gaussian(4, [0.5, 0.9, 0.7], [0, 1, 2])
    teacher = rb.low_dimensional([0.6])
    ks = [2, 5, 3]
    together = rb.extrapolation_error(model, teacher, ks, [6, 9])
    for r, kr in enumerate(ks):
        alone = rb.extrapolation_error(model.select(r), teacher, kr, [6, 9])
        torch.testing.assert_close(together[r], alone[0], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"one entry per run \(3\), got 2"):
        rb.extrapolation_error(model, teacher, [2, 3], 6)
    with pytest.raises(ValueError, match="T must be >= 5, got 4"):
        rb.extrapolation_error(model, teacher, ks, 4)


@pytest.mark.parametrize("structure", ["full", "diagonal", "symmetric"])
def test_loss_hessian_matches_differences_of_the_exact_gradient(structure):
    # H e_p = (grad(theta + h e_p) - grad(theta - h e_p)) / 2h, exact up to O(h^2) for a polynomial
    model = rb.init_gaussian(3, 0.7, seed=[5, 6], structure=structure)
    teacher = torch.stack([rb.low_dimensional([0.8, -0.5]).impulse_response(6)] * 2)
    teacher[1] *= 0.5  # one teacher row per run
    H = rb.loss_hessian(model, teacher, 4, outputs="all")
    full = model.to_full() if structure == "symmetric" else model
    P = sum(p[0].numel() for p in full)
    assert H.shape == (2, P, P)
    torch.testing.assert_close(H, H.mT, rtol=0, atol=1e-12)

    def flat_grad(theta, r):
        parts = torch.split(theta, [p[0].numel() for p in full])
        params = [q.view(1, *p.shape[1:]) for q, p in zip(parts, full, strict=True)]
        m = rb.LinearRNN(*params, full.structure)
        return torch.cat(
            [g.flatten() for g in rb.population_loss_grad(m, teacher[r], 4, outputs="all")[1]]
        )

    h = 1e-5
    for r in range(2):
        theta = torch.cat([p[r].flatten() for p in full])
        for q in range(P):
            e = torch.zeros(P, dtype=F64)
            e[q] = h
            column = (flat_grad(theta + e, r) - flat_grad(theta - e, r)) / (2 * h)
            torch.testing.assert_close(
                H[r, :, q], column, rtol=0, atol=1e-7 * max(1.0, float(H.abs().max()))
            )


def test_loss_hessian_of_the_one_mode_interpolant():
    # L_k at (a, b, c) = (0, 1, 1) for the memoryless teacher: eigenvalues 0, 2 (a), 4 (b + c)
    one = torch.ones(3, 1, dtype=F64)
    model = rb.LinearRNN(torch.zeros(3, 1, 1, dtype=F64), one, one.clone())
    H = rb.loss_hessian(model, rb.memoryless(), 5)
    expected = torch.tensor([0.0, 2.0, 4.0], dtype=F64).expand(3, 3)
    torch.testing.assert_close(torch.linalg.eigvalsh(H), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="k must be >= 1"):
        rb.loss_hessian(model, rb.memoryless(), 0)
    with pytest.raises(TypeError, match="model must be a LinearRNN"):
        rb.loss_hessian("model", rb.memoryless(), 3)
