r"""Linear RNNs: parameters, impulse response, forward pass, exact population loss and gradient.

Introduced in chapter 1, "Linear RNNs and their impulse response".

One run of the model reads a scalar sequence :math:`x_1, \dots, x_T` and computes

.. math::

    h_t = A h_{t-1} + B x_t, \quad h_0 = 0, \qquad \hat y_t = C h_t .

Unrolling the recursion gives a causal convolution with kernel :math:`g_j = C A^j B`:
:math:`\hat y_t = \sum_{j=0}^{t-1} g_j\, x_{t-j}`. With i.i.d. zero-mean, unit-variance inputs
the population loss of the final output on length-:math:`k` sequences is exactly

.. math::

    L_k = \mathbb E\big[(\hat y_k - y_k)^2\big] = \sum_{j=0}^{k-1} (g_j - g^\star_j)^2 ,

where :math:`g^\star` is the teacher's impulse response. No sampling is needed anywhere.

Conventions: every tensor has a leading run axis ``R`` (many initialisations, seeds or scales
computed in one tensor program); the lag/time axis comes last; everything is float64. Every
function computes on the device of the model's parameters (:func:`init_gaussian` takes
``device=``); a :class:`~rnnbias.teachers.Teacher` is evaluated on its own device and its taps
are copied to the model's, while a teacher, input or matrix given as a tensor must already be
on the model's device (a ``ValueError`` names both devices otherwise).

Public names: :class:`LinearRNN`, :func:`init_gaussian`, :func:`pad_state`,
:func:`concat_runs`, :func:`impulse_response`,
:func:`forward`, :func:`convolve`, :func:`population_loss`, :func:`empirical_loss`,
:func:`population_loss_grad`, :func:`extrapolation_error`, :func:`sup_error`,
:func:`similarity_transform`, :func:`spectral_radius`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from . import _checks

__all__ = [
    "LinearRNN",
    "concat_runs",
    "convolve",
    "empirical_loss",
    "extrapolation_error",
    "forward",
    "impulse_response",
    "init_gaussian",
    "loss_hessian",
    "pad_state",
    "population_loss",
    "population_loss_grad",
    "similarity_transform",
    "spectral_radius",
    "sup_error",
]

STRUCTURES = ("full", "diagonal", "symmetric")
LOSSES = ("final", "all")
_SYMMETRY_TOL = 1e-12


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class LinearRNN:
    r"""A batch of ``R`` linear RNNs with state dimension ``d``, scalar input and output.

    Three parameterisations (``structure``):

    ``"full"``
        ``A`` of shape (R, d, d), ``B`` and ``C`` of shape (R, d).
    ``"diagonal"``
        ``A`` of shape (R, d) holds the diagonal :math:`a` of the recurrent matrix; ``B`` holds
        :math:`b`, ``C`` holds :math:`c`, so that :math:`g_j = \sum_i b_i c_i a_i^j`.
    ``"symmetric"``
        The symmetric-balanced set :math:`A = A^\top`, :math:`C = B^\top`: ``A`` of shape
        (R, d, d) symmetric and ``C`` equal to ``B``. Gradient descent started here stays here
        (chapter 4).

    ``B`` is the input vector and ``C`` the output vector, both stored as rows of shape (R, d).
    The container is immutable; unpack it as ``A, B, C = model``.

    Raises
    ------
    TypeError
        If a parameter is not a float64 tensor (float32 is refused, not cast).
    ValueError
        For an unknown structure, inconsistent shapes, non-finite entries, a non-symmetric
        ``A`` or ``C != B`` under ``structure="symmetric"``.

    References
    ----------
    Introduced in chapter 1, section "The model".
    """

    A: Tensor
    B: Tensor
    C: Tensor
    structure: str = "full"

    def __post_init__(self) -> None:
        _validate(self)

    def __iter__(self) -> Iterator[Tensor]:
        return iter((self.A, self.B, self.C))

    def __repr__(self) -> str:
        return f"LinearRNN(structure={self.structure!r}, runs={self.runs}, d={self.d})"

    @property
    def runs(self) -> int:
        """Number of runs ``R`` in the batch."""
        return self.B.shape[0]

    @property
    def d(self) -> int:
        """State dimension ``d``."""
        return self.B.shape[1]

    def select(self, runs: int | slice | Sequence[int] | Tensor) -> LinearRNN:
        """Return the runs picked by ``runs``, keeping the run axis.

        ``runs`` is an integer (Python, NumPy or 0-d tensor; negative counts from the end;
        gives R = 1), a slice, ``...``, a sequence or 1-D tensor of integers, or a boolean mask
        of length R. Anything else, an index outside the runs, or an empty selection raises a
        ``TypeError``/``ValueError`` naming ``runs``.
        """
        idx = _checks.run_index("runs", runs, self.runs, self.B.device)
        return _unchecked(self.A[idx], self.B[idx], self.C[idx], self.structure)

    def to_full(self) -> LinearRNN:
        """Return the same models with ``structure="full"`` (a diagonal ``A`` is embedded)."""
        A = torch.diag_embed(self.A) if self.structure == "diagonal" else self.A
        return _unchecked(A, self.B, self.C, "full")


def _validate(model: LinearRNN) -> None:
    structure = _checks.as_choice("structure", model.structure, STRUCTURES)
    ndim_A = 2 if structure == "diagonal" else 3
    B = _checks.as_tensor("B", model.B, ndim=2)
    A = _checks.as_tensor("A", model.A, ndim=ndim_A, device=B.device, other="B")
    C = _checks.as_tensor("C", model.C, ndim=2, device=B.device, other="B")
    R, d = B.shape
    if R < 1 or d < 1:
        raise ValueError(f"B must have shape (R, d) with R >= 1 and d >= 1, got {tuple(B.shape)}")
    if C.shape != B.shape:
        raise ValueError(f"C must have the shape of B, {(R, d)}, got {tuple(C.shape)}")
    expected_A = (R, d) if structure == "diagonal" else (R, d, d)
    if A.shape != expected_A:
        raise ValueError(
            f"A must have shape {expected_A} for structure={structure!r} "
            f"(R={R} runs and d={d} from B), got {tuple(A.shape)}"
        )
    if structure == "symmetric" and _checks.has_values(A):
        asym = float((A - A.mT).abs().max())
        scale = max(1.0, float(A.abs().max()))
        if asym > _SYMMETRY_TOL * scale:
            raise ValueError(
                f"A must be symmetric for structure='symmetric', got max|A - A^T| = {asym:.3g}"
            )
        if not torch.equal(B, C):
            raise ValueError("C must equal B for structure='symmetric' (the balanced set C = B^T)")
    for name, value in (("A", A), ("B", B), ("C", C)):
        object.__setattr__(model, name, value)


def _unchecked(A: Tensor, B: Tensor, C: Tensor, structure: str) -> LinearRNN:
    """Build a model without validation (internal: shapes known good, NaN rows allowed)."""
    model = object.__new__(LinearRNN)
    for name, value in (("A", A), ("B", B), ("C", C), ("structure", structure)):
        object.__setattr__(model, name, value)
    return model


def _as_list(x: object) -> list:
    """A scalar (0-d tensors and arrays included) becomes [x]; a sequence, array or tensor
    becomes a list of its entries (0-d tensors or NumPy scalars, checked by the caller)."""
    if getattr(x, "ndim", None) == 0:
        return [x]
    if hasattr(x, "__len__") and not isinstance(x, str):
        return list(x.reshape(-1)) if hasattr(x, "reshape") else list(x)
    return [x]


def _item(x: object) -> object:
    """Unwrap a 0-d tensor or NumPy scalar to a Python number (other values unchanged)."""
    return x.item() if hasattr(x, "item") and getattr(x, "ndim", 1) == 0 else x


def _check_model(model: object) -> LinearRNN:
    if not isinstance(model, LinearRNN):
        raise TypeError(f"model must be a LinearRNN, got {type(model).__name__}")
    return model


def init_gaussian(
    d: int,
    sigma: float | Sequence[float],
    seed: int | Sequence[int] = 0,
    *,
    structure: str = "full",
    device: str | torch.device | None = None,
) -> LinearRNN:
    r"""Draw Gaussian initialisations, one run per (sigma, seed) pair.

    Every entry of :math:`A, B, C` (or :math:`a, b, c`) is :math:`\mathcal N(0, \sigma^2/d)`,
    so the spectral radius of a full :math:`A_0` is about :math:`\sigma` whatever ``d`` is.
    For ``structure="symmetric"``, :math:`A_0 = (G + G^\top)/\sqrt 2` with :math:`G` drawn as
    above (spectral radius about :math:`2\sigma`) and :math:`C_0 = B_0^\top`.

    Each run draws one standard-normal *base draw* from its own ``seed`` and rescales it by its
    ``sigma``, so runs with the same seed and different scales share the same direction: sweeps
    over ``sigma`` then compare like with like.

    Parameters
    ----------
    d : int
        State dimension, ``d >= 1``.
    sigma : float or sequence of float, length R
        Initialisation scale of each run, ``>= 0``.
    seed : int or sequence of int, length R
        Seed of each run's base draw, in ``[0, 2**64)``. Scalars broadcast against a sequence
        of the other.
    structure : {"full", "diagonal", "symmetric"}
    device : str or torch.device, optional
        Where the parameters live (default: the CPU). The draws are always made on the CPU and
        then copied, so a seed gives the same numbers on every device.

    Returns
    -------
    LinearRNN
        ``R = max(len(sigma), len(seed))`` runs.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or non-positive ``d``, a negative or non-finite scale (float32 values
        are refused), a seed outside ``[0, 2**64)``, sequences of different lengths, or a
        ``device`` that is not a device of this machine.

    References
    ----------
    Introduced in chapter 1; the convention is stated on the notation page.

    Examples
    --------
    >>> m = init_gaussian(4, [0.1, 1.0], seed=0)
    >>> m
    LinearRNN(structure='full', runs=2, d=4)
    >>> bool(torch.allclose(m.A[1], 10 * m.A[0]))
    True
    """
    d = _checks.as_int("d", d, minimum=1)
    structure = _checks.as_choice("structure", structure, STRUCTURES)
    device = _checks.as_device("device", device)
    sigmas = [_checks.as_float("sigma", s, nonnegative=True) for s in _as_list(sigma)]
    seeds = [_checks.as_seed("seed", s) for s in _as_list(seed)]
    if not sigmas or not seeds:
        raise ValueError("sigma and seed must not be empty")
    if len(sigmas) > 1 and len(seeds) > 1 and len(sigmas) != len(seeds):
        raise ValueError(
            f"sigma and seed must have the same length or be scalars, "
            f"got lengths {len(sigmas)} and {len(seeds)}"
        )
    R = max(len(sigmas), len(seeds))
    sigmas, seeds = sigmas * (R if len(sigmas) == 1 else 1), seeds * (R if len(seeds) == 1 else 1)
    a_shape = (d,) if structure == "diagonal" else (d, d)
    As, Bs, Cs = [], [], []
    cpu = torch.device("cpu")  # draw on the CPU: the same numbers on every device
    for s, sd in zip(sigmas, seeds, strict=True):
        gen = torch.Generator(device=cpu).manual_seed(sd)
        A0 = torch.randn(a_shape, generator=gen, dtype=torch.float64, device=cpu)
        B0 = torch.randn(d, generator=gen, dtype=torch.float64, device=cpu)
        C0 = torch.randn(d, generator=gen, dtype=torch.float64, device=cpu)
        if structure == "symmetric":
            A0, C0 = (A0 + A0.T) / math.sqrt(2.0), B0
        scale = s / math.sqrt(d)
        As.append(scale * A0)
        Bs.append(scale * B0)
        Cs.append(scale * C0)
    params = (torch.stack(p).to(device) for p in (As, Bs, Cs))
    return LinearRNN(*params, structure)


def pad_state(model: LinearRNN, d: int) -> LinearRNN:
    r"""Embed every run in a larger state: :math:`A \oplus 0`, and zeros appended to B and C.

    .. math::

        A' = \begin{pmatrix} A & 0 \\ 0 & 0 \end{pmatrix}, \quad
        B' = \begin{pmatrix} B \\ 0 \end{pmatrix}, \quad C' = (C \;\; 0),
        \qquad C' A'^j B' = C A^j B .

    The impulse response is unchanged, and so is gradient descent: every :math:`A'^j B'` and
    :math:`(A'^\top)^j C'^\top` vanishes on the new coordinates, so the gradient does too
    (chapter 4 derives it), and the padding stays exactly zero. Runs of different state sizes
    can therefore be trained in one batch (:func:`concat_runs`).

    Parameters
    ----------
    model : LinearRNN
        Any structure.
    d : int
        New state dimension, at least ``model.d``.

    Returns
    -------
    LinearRNN with the same structure and runs

    Raises
    ------
    TypeError, ValueError
        For a non-integer ``d`` or ``d < model.d``.

    References
    ----------
    Introduced in chapter 3, section "The dimension threshold".

    Examples
    --------
    >>> m = init_gaussian(2, 0.5, seed=0)
    >>> bool(torch.equal(impulse_response(pad_state(m, 5), 8), impulse_response(m, 8)))
    True
    """
    model = _check_model(model)
    d = _checks.as_int("d", d, minimum=1)
    if d < model.d:
        raise ValueError(f"d must be at least the model's state dimension {model.d}, got {d}")
    extra = d - model.d
    A = model.A
    A = torch.nn.functional.pad(
        A, (0, extra) if model.structure == "diagonal" else (0, extra, 0, extra)
    )
    B, C = (torch.nn.functional.pad(v, (0, extra)) for v in (model.B, model.C))
    return LinearRNN(A, B, C, model.structure)


def concat_runs(models: Sequence[LinearRNN]) -> LinearRNN:
    """Join batches of runs with the same structure and state dimension into one batch.

    Parameters
    ----------
    models : sequence of LinearRNN
        At least one; all with the same ``structure`` and ``d`` (pad smaller ones with
        :func:`pad_state`).

    Returns
    -------
    LinearRNN with ``sum(m.runs for m in models)`` runs, in order

    Raises
    ------
    TypeError, ValueError
        For anything but a list or tuple of models (``None``, a single model), an empty
        sequence, a non-model entry, mismatched structures or dimensions, or models on
        different devices.

    References
    ----------
    Introduced in chapter 3, section "The dimension threshold".
    """
    if isinstance(models, LinearRNN) or not isinstance(models, Sequence) or isinstance(models, str):
        raise TypeError(
            f"models must be a list or tuple of LinearRNN (e.g. [m1, m2]), got "
            f"{type(models).__name__}"
        )
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one LinearRNN, got an empty sequence")
    for i, m in enumerate(models):
        if not isinstance(m, LinearRNN):
            raise TypeError(f"models[{i}] must be a LinearRNN, got {type(m).__name__}")
        _checks.same_device(f"models[{i}]", m.B, models[0].B.device, "models[0]")
    kinds = sorted({(m.structure, m.d) for m in models})
    if len(kinds) > 1:
        raise ValueError(
            f"models must share structure and d (pad with pad_state), got (structure, d) in {kinds}"
        )
    return LinearRNN(
        *(torch.cat(parts) for parts in zip(*models, strict=True)), models[0].structure
    )


# --------------------------------------------------------------------------------------------
# Impulse response and forward pass
# --------------------------------------------------------------------------------------------


def _matvec(A: Tensor, v: Tensor) -> Tensor:
    return (A @ v.unsqueeze(-1)).squeeze(-1)


def _powers(a: Tensor, n: int) -> Tensor:
    """(R, d, n) tensor of a_i^j for j < n (with 0^0 = 1)."""
    if n == 1:  # vander needs at least two columns
        return torch.ones(*a.shape, 1, dtype=a.dtype, device=a.device)
    return torch.linalg.vander(a, N=n)


def impulse_response(model: LinearRNN, n: int) -> Tensor:
    r"""Return the first ``n`` taps :math:`g_j = C A^j B` of every run.

    .. math:: g_j = C A^j B, \qquad j = 0, \dots, n-1 .

    Parameters
    ----------
    model : LinearRNN
        ``R`` runs.
    n : int
        Number of lags, ``n >= 1``.

    Returns
    -------
    torch.Tensor, shape (R, n), float64

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a :class:`LinearRNN` or ``n`` is not a positive integer.

    Warns
    -----
    RuntimeWarning
        If a tap overflows into NaN (inf - inf or 0 * inf) although the run's parameters are
        finite (e.g. a full ``A`` of spectral radius 1e3 over 200 lags); a tap beyond the
        float64 range is returned as ±inf, its honest value. Every public function of this
        module warns the same way when its result overflows into NaN.

    Notes
    -----
    Cost O(R n d^2) for full and symmetric models (``n`` matrix-vector products), O(R n d)
    for diagonal ones. Exact up to round-off.

    References
    ----------
    Introduced in chapter 1, section "Unrolling: a linear RNN is a convolution".

    Examples
    --------
    >>> A = torch.tensor([[[0.5]]], dtype=torch.float64)
    >>> one = torch.ones(1, 1, dtype=torch.float64)
    >>> impulse_response(LinearRNN(A, one, one), 4)
    tensor([[1.0000, 0.5000, 0.2500, 0.1250]], dtype=torch.float64)
    """
    model = _check_model(model)
    n = _checks.as_int("n", n, minimum=1)
    g = _taps(model, n)
    _checks.warn_overflow("impulse_response", "the taps g_j = C A^j B", g, lambda: tuple(model))
    return g


def _taps(model: LinearRNN, n: int) -> Tensor:
    """Unchecked :func:`impulse_response` (no overflow warning: the callers check their result)."""
    A, B, C = model
    if model.structure == "diagonal":
        return torch.einsum("rd,rdn->rn", B * C, _powers(A, n))
    return (_krylov_columns(A, B, n) * C.unsqueeze(-1)).sum(-2)


def _check_inputs(x: object, model: LinearRNN) -> Tensor:
    x = _checks.as_sequences("x", x, device=model.B.device)
    if x.ndim == 3 and x.shape[0] != model.runs:
        raise ValueError(
            f"x of shape (R, N, T) must have R = {model.runs} (the model's runs), got "
            f"{tuple(x.shape)}"
        )
    return x


def forward(model: LinearRNN, x: Tensor) -> Tensor:
    r"""Run the recursion :math:`h_t = A h_{t-1} + B x_t`, :math:`\hat y_t = C h_t` on sequences.

    Parameters
    ----------
    model : LinearRNN
        ``R`` runs.
    x : torch.Tensor, shape (N, T) or (R, N, T), float64
        ``N`` input sequences of length ``T``, shared by every run or given per run.

    Returns
    -------
    torch.Tensor, shape (R, N, T), float64
        Every output :math:`\hat y_1, \dots, \hat y_T` of every run on every sequence.

    Raises
    ------
    TypeError, ValueError
        For a non-float64 ``x``, a wrong number of dimensions, no sequence (``N = 0``) or empty
        ones (``T = 0``), or a run axis that does not match.

    Notes
    -----
    Cost O(R N T d^2) (O(R N T d) for diagonal models). This is the "sampled" view of the model;
    the book uses it only to check the exact formulas built on :func:`impulse_response`.

    References
    ----------
    Introduced in chapter 1, section "The model".
    """
    model = _check_model(model)
    x = _check_inputs(x, model)
    out = _run(model, x)
    _checks.warn_overflow("forward", "the outputs", out, lambda: tuple(model))
    return out


def _run(model: LinearRNN, x: Tensor) -> Tensor:
    """Unchecked :func:`forward`."""
    A, B, C = model
    R, d = B.shape
    N, T = x.shape[-2:]
    xs = x.expand(R, N, T)
    h = x.new_zeros(R, N, d)
    out = x.new_empty(R, N, T)
    for t in range(T):
        h = h * A.unsqueeze(1) if model.structure == "diagonal" else h @ A.mT
        h = h + xs[:, :, t, None] * B.unsqueeze(1)
        out[:, :, t] = (h * C.unsqueeze(1)).sum(-1)
    return out


def convolve(g: Tensor, x: Tensor) -> Tensor:
    r"""Causal convolution :math:`y_t = \sum_{j=0}^{t-1} g_j\, x_{t-j}` for every position t.

    Parameters
    ----------
    g : torch.Tensor, shape (n,) or (R, n), float64
        Kernel (an impulse response); needs ``n >= T``.
    x : torch.Tensor, shape (N, T) or (R, N, T), float64
        Input sequences.

    Returns
    -------
    torch.Tensor, shape (N, T) or (R, N, T), float64
        ``y[..., t]`` is the output after reading ``x[..., :t+1]``.

    Raises
    ------
    TypeError, ValueError
        For non-float64 inputs, wrong dimensions, no or empty sequences, or a kernel shorter
        than the sequences.

    References
    ----------
    Introduced in chapter 1, section "Unrolling: a linear RNN is a convolution".
    """
    g = _checks.as_tensor("g", g, ndim=(1, 2))
    x = _checks.as_sequences("x", x, device=g.device, other="g")
    T = x.shape[-1]
    if g.shape[-1] < T:
        raise ValueError(
            f"g must have at least T = {T} taps (the sequence length), got {g.shape[-1]}"
        )
    if g.ndim == 2 and x.ndim == 3 and x.shape[0] != g.shape[0]:
        raise ValueError(
            f"g of shape (R, n) and x of shape (R, N, T) need the same R, got "
            f"{tuple(g.shape)} and {tuple(x.shape)}"
        )
    y = _convolve(g, x)
    _checks.warn_overflow("convolve", "the outputs", y if y.ndim == 3 else y[None])
    return y


def _convolve(g: Tensor, x: Tensor) -> Tensor:
    """Unchecked :func:`convolve`."""
    T = x.shape[-1]
    gj = g.unsqueeze(-2) if g.ndim == 2 else g  # (R, 1, n) broadcasts against (R?, N, T)
    y = x.new_zeros(torch.broadcast_shapes(gj[..., :1].shape, x.shape))
    for j in range(T):
        y[..., j:] += gj[..., j : j + 1] * x[..., : T - j]
    return y


# --------------------------------------------------------------------------------------------
# Population loss, gradient, extrapolation
# --------------------------------------------------------------------------------------------


def _target(
    teacher: object, n: int, device: torch.device | None = None, runs: int | None = None
) -> Tensor:
    """The teacher's first n taps, shape (n,) or (R, n), on ``device`` (the model's).

    A teacher object is evaluated where it lives and its taps are copied to ``device`` (exact);
    a tensor must already be there, and numbers or lists are converted there. With ``runs``,
    a 2-d target must have one row or one row per run (:func:`rnnbias._checks.teacher_rows`).
    """
    if hasattr(teacher, "impulse_response") and not isinstance(teacher, Tensor):
        g = teacher.impulse_response(n)
        if not isinstance(g, Tensor) or g.dtype != torch.float64 or g.ndim not in (1, 2):
            raise TypeError(
                f"teacher.impulse_response({n}) must return a float64 tensor of shape ({n},) "
                f"or (R, {n}), got {_checks._describe(g)}"
            )
        g = g.to(device) if device is not None else g
    else:
        g = _checks.as_tensor("teacher", teacher, ndim=(1, 2), device=device, other="the model")
    if g.shape[-1] < n:
        raise ValueError(
            f"teacher impulse response must have at least {n} taps here, got {g.shape[-1]}"
        )
    g = g[..., :n]
    return g if runs is None else _checks.teacher_rows("teacher", g, runs)


def _loss_weights(k: int, outputs: str, device: torch.device | None = None) -> Tensor:
    """The lag weights w_j of the loss (1, or 1 - j/k), on ``device`` (the CPU if None)."""
    device = device or torch.device("cpu")
    if outputs == "final":
        return torch.ones(k, dtype=torch.float64, device=device)
    return 1.0 - torch.arange(k, dtype=torch.float64, device=device) / k


def population_loss(model: LinearRNN, teacher: object, k: int, *, outputs: str = "final") -> Tensor:
    r"""Exact population loss on length-``k`` sequences with i.i.d. standard-normal inputs.

    .. math::

        L_k = \sum_{j=0}^{k-1} (g_j - g^\star_j)^2 \quad (\text{outputs}=\text{"final"}),
        \qquad
        \bar L_k = \sum_{j=0}^{k-1} \Big(1 - \frac{j}{k}\Big)(g_j - g^\star_j)^2
        \quad (\text{outputs}=\text{"all"}).

    The first is :math:`\mathbb E[(\hat y_k - y_k)^2]`; the second averages the squared error of
    all ``k`` outputs. Any zero-mean, unit-variance, uncorrelated inputs give the same values.

    Parameters
    ----------
    model : LinearRNN
        ``R`` runs.
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n)
        The target impulse response :math:`g^\star` (see :mod:`rnnbias.teachers`).
    k : int
        Training length, ``k >= 1``.
    outputs : {"final", "all"}
        Loss on the final output only, or averaged over all outputs.

    Returns
    -------
    torch.Tensor, shape (R,), float64

    Raises
    ------
    TypeError, ValueError
        For a wrong model, teacher or ``k``, or an unknown ``outputs``; for a 2-d teacher
        whose rows are neither 1 nor ``R`` (it is never broadcast to more runs).

    Warns
    -----
    RuntimeWarning
        If the loss overflows into NaN although the parameters are finite (see
        :func:`impulse_response`).

    References
    ----------
    Introduced in chapter 1, section "The population loss sees only the first k taps".
    """
    model = _check_model(model)
    k = _checks.as_int("k", k, minimum=1)
    outputs = _checks.as_choice("outputs", outputs, LOSSES)
    target = _target(teacher, k, model.B.device, model.runs)
    g = _taps(model, k)
    loss = (_loss_weights(k, outputs, g.device) * (g - target) ** 2).sum(-1)
    _checks.warn_overflow("population_loss", "the loss", loss, lambda: tuple(model))
    return loss


def empirical_loss(
    model: LinearRNN, teacher: object, x: Tensor, *, outputs: str = "final"
) -> Tensor:
    r"""Mean squared error on sampled sequences ``x``: the training (or test) loss on data.

    .. math::

        \hat L = \frac1N \sum_{n=1}^N \big(\hat y^{(n)}_T - y^{(n)}_T\big)^2
        \quad (\text{"final"}), \qquad
        \hat{\bar L} = \frac1{NT} \sum_{n=1}^N \sum_{t=1}^{T} \big(\hat y^{(n)}_t - y^{(n)}_t\big)^2
        \quad (\text{"all"}),

    for ``N`` sequences of length ``T``, with the teacher's labels
    :math:`y_t = \sum_{j<t} g^\star_j x_{t-j}`. Computed by running the model forward
    (:func:`forward`), not from the taps, so it is an independent check of the closed forms.
    Its expectation over i.i.d. standard-normal inputs is :func:`population_loss` at ``k = T``.

    Parameters
    ----------
    model : LinearRNN
        ``R`` runs.
    teacher : Teacher or torch.Tensor
        As in :func:`population_loss`.
    x : torch.Tensor, shape (N, T) or (R, N, T), float64
        The input sequences (one set shared by all runs, or one per run); ``N, T >= 1``.
    outputs : {"final", "all"}

    Returns
    -------
    torch.Tensor, shape (R,)

    Raises
    ------
    TypeError, ValueError
        As :func:`forward` and :func:`population_loss`.

    Warns
    -----
    RuntimeWarning
        If the loss overflows into NaN although the parameters and inputs are finite.

    References
    ----------
    Introduced in chapter 2, section "Finite data".
    """
    outputs = _checks.as_choice("outputs", outputs, LOSSES)
    model = _check_model(model)
    x = _check_inputs(x, model)
    y_hat = _run(model, x)  # (R, N, T)
    T = y_hat.shape[-1]
    target = _target(teacher, T, y_hat.device, model.runs)
    if target.ndim == 2:
        target = target.expand(y_hat.shape[0], T)
    y = _convolve(target, x)  # (N, T) or (R, N, T)
    sq = (y_hat - y) ** 2
    loss = sq[..., -1].mean(-1) if outputs == "final" else sq.mean((-1, -2))
    _checks.warn_overflow("empirical_loss", "the loss", loss, lambda: tuple(model))
    return loss


class Gradient(NamedTuple):
    """Gradients with the shapes of a model's ``A``, ``B``, ``C``."""

    A: Tensor
    B: Tensor
    C: Tensor


def population_loss_grad(
    model: LinearRNN, teacher: object, k: int, *, outputs: str = "final"
) -> tuple[Tensor, Gradient]:
    r"""Return the exact population loss and its closed-form gradient.

    With :math:`r_j = 2 w_j (g_j - g^\star_j)` (:math:`w_j = 1`, or :math:`1 - j/k` for
    ``outputs="all"``), :math:`v_j = A^j B` and :math:`u_j = (A^\top)^j C^\top` (with
    :math:`B` a column and :math:`C` a row, as in the book; both are stored as rows of shape
    (R, d), and so are their gradients):

    .. math::

        \nabla_C L = \sum_{j<k} r_j v_j^\top, \qquad
        \nabla_B L = \sum_{j<k} r_j u_j, \qquad
        \nabla_A L = \sum_{j=1}^{k-1} r_j \sum_{l+m=j-1} u_l v_m^\top .

    For diagonal models, with :math:`s_i = \sum_j r_j a_i^j`: :math:`\partial_{b_i} L = c_i s_i`,
    :math:`\partial_{c_i} L = b_i s_i`, :math:`\partial_{a_i} L = b_i c_i \sum_{j\ge1} r_j\, j\,
    a_i^{j-1}`. For ``structure="symmetric"`` the full gradient, which on that set is already
    symmetric in ``A`` and equal for ``B`` and ``C``, is symmetrised to remove round-off, so that
    gradient descent stays on the set exactly.

    Parameters
    ----------
    model, teacher, k, outputs
        As in :func:`population_loss`.

    Returns
    -------
    loss : torch.Tensor, shape (R,)
    grad : Gradient
        ``grad.A``, ``grad.B``, ``grad.C`` with the shapes of ``model.A``, ``model.B``, ``model.C``.

    Raises
    ------
    TypeError, ValueError
        As :func:`population_loss`.

    Warns
    -----
    RuntimeWarning
        If the loss or the gradient overflows into NaN although the parameters are finite.

    Notes
    -----
    Cost O(R (k^2 d + k d^2)) for full models and O(R k d) for diagonal ones; no autograd.

    References
    ----------
    Derived in chapter 4; used by :func:`rnnbias.train.train_gd`.
    """
    model = _check_model(model)
    k = _checks.as_int("k", k, minimum=1)
    outputs = _checks.as_choice("outputs", outputs, LOSSES)
    device = model.B.device
    step = _loss_and_grad(
        model.structure,
        k,
        _target(teacher, k, device, model.runs),
        _loss_weights(k, outputs, device),
    )
    loss, grads = step(*model)
    _checks.warn_overflow(
        "population_loss_grad", "the loss or its gradient", (loss, *grads), lambda: tuple(model)
    )
    return loss, Gradient(*grads)


def _loss_and_grad(
    structure: str, k: int, target: Tensor, w: Tensor
) -> Callable[[Tensor, Tensor, Tensor], tuple[Tensor, tuple[Tensor, Tensor, Tensor]]]:
    """Prepare the closed-form loss and gradient for fixed (structure, k, target, weights).

    Everything that does not depend on the parameters (lag ranges, the Hankel index) is made
    once here, on the device of ``target`` (the parameters'), and the returned function uses
    only batched matrix products, so that a training step costs few tensor operations (the
    book's runs are small: the time is in dispatch).
    """
    device = target.device
    w = w.to(device)  # no copy when the caller made the weights there already
    if structure == "diagonal":
        lag_w = torch.arange(1, k, dtype=torch.float64, device=device)  # d/da a^j = j a^(j-1)

        def diagonal(A: Tensor, B: Tensor, C: Tensor):
            P = _powers(A, k)  # (R, d, k): a_i^j (with 0^0 = 1)
            bc = B * C
            diff = (bc.unsqueeze(-1) * P).sum(1) - target  # g_j - g*_j, (R, k)
            r = 2.0 * w * diff
            s = (P * r.unsqueeze(1)).sum(-1)  # sum_j r_j a_i^j
            t = (P[:, :, : k - 1] * (r[:, 1:] * lag_w).unsqueeze(1)).sum(-1)
            return (w * diff * diff).sum(-1), (bc * t, C * s, B * s)

        return diagonal

    lags = torch.arange(k - 1, device=device)
    hankel = lags.unsqueeze(1) + lags.unsqueeze(0) + 1

    def full(A: Tensor, B: Tensor, C: Tensor):
        V = _krylov_columns(A, B, k)  # (R, d, k): column j is A^j B
        U = V if structure == "symmetric" else _krylov_columns(A.mT, C, k)  # (A^T)^j C^T
        diff = torch.bmm(C.unsqueeze(1), V).squeeze(1) - target
        r = 2.0 * w * diff
        r_col = r.unsqueeze(-1)
        gC = torch.bmm(V, r_col).squeeze(-1)
        gB = torch.bmm(U, r_col).squeeze(-1)
        if k >= 2:  # grad_A = sum_{l,m} r_{l+m+1} u_l v_m^T = U H V^T with H Hankel in r
            H = torch.nn.functional.pad(r, (0, k - 2))[:, hankel]
            gA = torch.bmm(torch.bmm(U[:, :, : k - 1], H), V[:, :, : k - 1].mT)
        else:
            gA = torch.zeros_like(A)
        if structure == "symmetric":  # already symmetric in exact arithmetic: remove round-off
            gA = 0.5 * (gA + gA.mT)
            gB = gC = 0.5 * (gB + gC)
        return (w * diff * diff).sum(-1), (gA, gB, gC)

    return full


def _krylov_columns(A: Tensor, v: Tensor, n: int) -> Tensor:
    """(R, d, n) tensor whose column j is A^j v.

    The matrix-vector products are written as multiply-and-sum: for these many small
    float64 products it is up to 3x faster than batched BLAS on a CPU (tests/benchmarks).
    """
    cols = [v]
    for _ in range(n - 1):
        cols.append((A * cols[-1].unsqueeze(-2)).sum(-1))
    return torch.stack(cols, dim=-1)


def _lengths(name: str, T: int | Sequence[int], minimum: int) -> tuple[list[int], bool]:
    if getattr(T, "ndim", 1) > 1:
        raise ValueError(
            f"{name} must be an integer or a 1-d sequence of them, got shape {tuple(T.shape)}"
        )
    if hasattr(T, "__len__") and not isinstance(T, str) and getattr(T, "ndim", 1) != 0:
        values = [_checks.as_int(name, t, minimum=minimum) for t in _as_list(T)]
        if not values:
            raise ValueError(f"{name} must not be empty")
        return values, True
    return [_checks.as_int(name, T, minimum=minimum)], False


def loss_hessian(model: LinearRNN, teacher: object, k: int, *, outputs: str = "final") -> Tensor:
    r"""The Hessian of the population loss :math:`L_k` in all parameters, for every run.

    With the parameters of one run flattened as :math:`\theta = (\operatorname{vec} A, B, C)`
    (``A`` row by row; for a diagonal model its ``d`` diagonal entries),

    .. math::

        H_{pq} = \frac{\partial^2 L_k}{\partial\theta_p\,\partial\theta_q}, \qquad
        \lambda_{\max}(H) = \text{the sharpness of } L_k \text{ at } \theta.

    Gradient descent with step :math:`\eta` can only settle at a minimum whose sharpness is at
    most :math:`2/\eta` (chapter 9). A symmetric model is differentiated as a full one (the
    entries of ``A`` vary independently). The Hessian is computed by automatic
    differentiation of :func:`population_loss`, one run at a time: :math:`P = d^2 + 2d`
    backward passes per run for a full model, so it is meant for small ``d``.

    Parameters
    ----------
    model : LinearRNN
        ``R`` runs.
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n)
        The target impulse response, as in :func:`population_loss`.
    k : int
        Training length, ``k >= 1``.
    outputs : {"final", "all"}
        As in :func:`population_loss`.

    Returns
    -------
    torch.Tensor, shape (R, P, P), float64
        Symmetric; :math:`P = d^2 + 2d` (full or symmetric) or :math:`3d` (diagonal).

    Raises
    ------
    TypeError, ValueError
        As :func:`population_loss`.

    Examples
    --------
    >>> import torch
    >>> from rnnbias import LinearRNN, memoryless
    >>> one = torch.ones(1, 1, dtype=torch.float64)
    >>> model = LinearRNN(torch.zeros(1, 1, 1, dtype=torch.float64), one, one)  # g = (1, 0, ...)
    >>> H = loss_hessian(model, memoryless(), 3)
    >>> torch.linalg.eigvalsh(H[0]).tolist()  # L_3 = (bc - 1)^2 + (abc)^2 + (a^2 bc)^2
    [0.0, 2.0, 4.0]

    References
    ----------
    Introduced in chapter 9 (sharpness and the step size).
    """
    population_loss(model, teacher, k, outputs=outputs)  # validates every argument
    model = model.to_full() if model.structure == "symmetric" else model
    target = _target(teacher, k, model.B.device, model.runs)
    shapes = [tuple(p.shape[1:]) for p in model]
    sizes = [math.prod(s) for s in shapes]
    blocks = []
    for r in range(model.runs):
        g_r = target if target.ndim == 1 else target[min(r, target.shape[0] - 1)]

        def loss(flat: Tensor, g_r: Tensor = g_r) -> Tensor:
            a, b, c = (p.view(1, *s) for p, s in zip(torch.split(flat, sizes), shapes, strict=True))
            return population_loss(_unchecked(a, b, c, model.structure), g_r, k, outputs=outputs)[0]

        flat = torch.cat([p[r].flatten() for p in model])
        blocks.append(torch.autograd.functional.hessian(loss, flat))
    return torch.stack(blocks)


def extrapolation_error(
    model: LinearRNN, teacher: object, k: int | Sequence[int], T: int | Sequence[int]
) -> Tensor:
    r"""Extrapolation error :math:`E_{k,T} = L_T - L_k = \sum_{j=k}^{T-1} (g_j - g^\star_j)^2`.

    The increase of the (final-output) population loss when the test length ``T`` exceeds the
    training length ``k``: it depends only on the tail taps :math:`j \ge k` that training on
    length ``k`` never sees.

    Parameters
    ----------
    model : LinearRNN
    teacher : Teacher or torch.Tensor
        As in :func:`population_loss`.
    k : int or sequence of int, length R
        Training length, ``k >= 1``, or one per run (as in :func:`rnnbias.train.train_gd`).
    T : int or sequence of int
        Test length(s), each ``>= k`` (``>= max(k)`` for per-run lengths).

    Returns
    -------
    torch.Tensor, shape (R,) for an int ``T``, (R, len(T)) for a sequence

    Raises
    ------
    TypeError, ValueError
        For ``k < 1``, any ``T < k``, per-run lengths not matching the runs, or a wrong model
        or teacher (as in :func:`population_loss`).

    Warns
    -----
    RuntimeWarning
        If the error overflows into NaN although the parameters are finite.

    Notes
    -----
    The tail is summed directly (not as a difference of two losses), so tiny errors keep full
    relative precision.

    References
    ----------
    Introduced in chapter 1; defined and studied in chapter 2.
    """
    model = _check_model(model)
    ks, per_run = _lengths("k", k, minimum=1)
    if per_run and len(ks) != model.runs:
        raise ValueError(
            f"k must be an int or have one entry per run ({model.runs}), got {len(ks)}"
        )
    Ts, many = _lengths("T", T, minimum=max(ks))
    n = max(Ts)
    target = _target(teacher, n, model.B.device, model.runs)
    g = _taps(model, n)
    sq = (g - target) ** 2
    if per_run:  # lags below each run's own k do not count
        sq = sq * (torch.arange(n, device=g.device) >= torch.tensor(ks, device=g.device)[:, None])
    k0 = min(ks)
    tail = torch.cat([sq.new_zeros(sq.shape[0], 1), sq[:, k0:].cumsum(-1)], dim=1)
    out = tail[:, [t - k0 for t in Ts]]
    _checks.warn_overflow("extrapolation_error", "the error", out, lambda: tuple(model))
    return out if many else out[:, 0]


def sup_error(model: LinearRNN, teacher: object, T: int, *, k: int = 0) -> Tensor:
    r"""Sup-norm error over the lags k <= j < T: :math:`\max_{k \le j < T} |g_j - g^\star_j|`.

    With the default ``k = 0`` it is the largest tap error over the first ``T`` lags (the metric
    of chapters 6 and 7); with ``k`` the training length it is the tail-only measure
    :math:`E^{\sup}_{k,T}` of chapter 2, which satisfies
    :math:`(E^{\sup}_{k,T})^2 \le E_{k,T} \le (T - k)\,(E^{\sup}_{k,T})^2`.

    Parameters
    ----------
    model : LinearRNN
    teacher : Teacher or torch.Tensor
    T : int
        End of the window (exclusive), ``T >= 1``.
    k : int
        First lag of the window, ``0 <= k < T``.

    Returns
    -------
    torch.Tensor, shape (R,), float64

    Raises
    ------
    TypeError, ValueError
        For a non-integer ``T`` or ``k``, ``T < 1``, ``k`` outside ``[0, T)``, or a wrong
        model or teacher (as in :func:`population_loss`).

    Warns
    -----
    RuntimeWarning
        If the error overflows into NaN although the parameters are finite.

    References
    ----------
    Introduced in chapter 2, "What training fixes, and what it leaves free"; the metric of
    chapters 6 and 7.
    """
    model = _check_model(model)
    T = _checks.as_int("T", T, minimum=1)
    k = _checks.as_int("k", k, minimum=0)
    if k >= T:
        raise ValueError(f"k must be below T = {T} (the window k <= j < T is empty), got {k}")
    target = _target(teacher, T, model.B.device, model.runs)
    out = (_taps(model, T) - target)[:, k:].abs().amax(-1)
    _checks.warn_overflow("sup_error", "the error", out, lambda: tuple(model))
    return out


def similarity_transform(model: LinearRNN, S: Tensor) -> LinearRNN:
    r"""Return :math:`(S A S^{-1},\ S B,\ C S^{-1})`, which has the same impulse response.

    Parameters
    ----------
    model : LinearRNN
        Any structure; the result is ``structure="full"``.
    S : torch.Tensor, shape (d, d) or (R, d, d), float64
        Invertible change of basis of the state.

    Returns
    -------
    LinearRNN, structure "full"

    Raises
    ------
    TypeError, ValueError
        For a wrong shape or dtype, or a singular ``S`` (also one so ill-conditioned that the
        transformed parameters overflow).

    References
    ----------
    Introduced in chapter 1, section "Many parameters, one function".
    """
    model = _check_model(model).to_full()
    S = _checks.as_tensor("S", S, ndim=(2, 3), device=model.B.device, other="the model")
    R, d = model.runs, model.d
    if S.shape[-2:] != (d, d) or (S.ndim == 3 and S.shape[0] != R):
        raise ValueError(f"S must have shape ({d}, {d}) or ({R}, {d}, {d}), got {tuple(S.shape)}")
    S = S.expand(R, d, d)
    try:
        A_new = torch.linalg.solve(S, S @ model.A, left=False)  # X S = S A  =>  X = S A S^{-1}
        C_new = torch.linalg.solve(S, model.C.unsqueeze(1), left=False).squeeze(1)  # C S^{-1}
    except RuntimeError as e:  # torch raises LinAlgError (a RuntimeError) for singular S
        raise ValueError("S must be invertible, got a singular matrix") from e
    B_new = _matvec(S, model.B)
    finite = [bool(torch.isfinite(p).all()) for p in (A_new, B_new, C_new)]
    if _checks.has_values(B_new) and not all(finite):
        raise ValueError(
            "S must be invertible and well conditioned: S A S^-1, S B or C S^-1 overflowed to "
            "inf/NaN (S is numerically singular, or its entries are too large)"
        )
    return LinearRNN(A_new, B_new, C_new, "full")


def spectral_radius(model: LinearRNN) -> Tensor:
    r"""Spectral radius :math:`\rho(A) = \max_i |\lambda_i(A)|` of every run, shape (R,).

    Runs with non-finite entries (the NaN runs of a training result whose runs diverged) get
    NaN; the eigenvalue routine is not called on them.

    References
    ----------
    Introduced in chapter 1, section "Eigenvalues shape the impulse response".
    """
    model = _check_model(model)
    A = model.A
    if model.structure == "diagonal":
        return A.abs().amax(-1)
    eig = torch.linalg.eigvalsh if model.structure == "symmetric" else torch.linalg.eigvals
    if not _checks.has_values(A) or bool(torch.isfinite(A).all()):
        return eig(A).abs().amax(-1)
    # runs with non-finite entries (diverged runs) get NaN, without calling LAPACK on them:
    # it would fail (or print an error) on such matrices
    ok = torch.isfinite(A).flatten(1).all(-1)
    rho = torch.full((model.runs,), float("nan"), dtype=A.dtype, device=A.device)
    if bool(ok.any()):
        rho[ok] = eig(A[ok]).abs().amax(-1)
    return rho
