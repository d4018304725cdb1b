r"""Diagonal complex state-space students (LRU/S4D-style), trained by GD on the exact loss.

One run of the model is a diagonal linear RNN with complex eigenvalues whose output is the real
part of a complex read-out:

.. math::

    h_t = \lambda \odot h_{t-1} + b\, x_t, \quad h_0 = 0, \qquad
    \hat y_t = \operatorname{Re} \sum_{i=1}^d c_i h_{t,i}, \qquad
    g_j = \operatorname{Re} \sum_{i=1}^d w_i \lambda_i^{\,j}, \quad w_i = b_i c_i .

A complex mode is a real two-dimensional state with the eigenvalue pair
:math:`\lambda_i, \bar\lambda_i`, so ``d`` complex modes realise any real diagonalisable
system of dimension ``2d``. The exact final-output loss under i.i.d. standard-normal inputs is
:math:`L_k = \sum_{j<k} (g_j - g^\star_j)^2`, as for :mod:`rnnbias.linear`.

Parameterisation: :math:`\lambda, b, c` are plain complex entries, and gradient descent moves
their real and imaginary parts, i.e. it is GD on the ``6d`` real parameters. The gradient is
written as :math:`\nabla_z L = \partial L/\partial \operatorname{Re} z + i\,\partial L/\partial
\operatorname{Im} z` (torch's autograd convention for a real loss). With
:math:`r_j = 2(g_j - g^\star_j)`, :math:`s_i = \sum_{j<k} r_j \lambda_i^j` and
:math:`t_i = \sum_{1 \le j<k} r_j\, j\, \lambda_i^{j-1}`:

.. math::

    \nabla_b L = \overline{c\, s}, \qquad \nabla_c L = \overline{b\, s}, \qquad
    \nabla_\lambda L = \overline{w\, t}, \qquad
    |b_i^+|^2 - |c_i^+|^2 = (1 - \eta^2 |s_i|^2)\,(|b_i|^2 - |c_i|^2) .

The last identity (one GD step) is the complex analogue of the conserved imbalance of the real
diagonal model: while :math:`\eta |s_i| \le \sqrt 2` the imbalance never grows, so a near-zero
start keeps :math:`|b_i| \approx |c_i|`. It does not fix the phase of :math:`w_i`, which is
steered by the exact step of :math:`p = b + \bar c` and :math:`m = b - \bar c`,

.. math::

    p^+ = (1 - \eta \operatorname{Re} s)\, p - i \eta (\operatorname{Im} s)\, m, \qquad
    m^+ = (1 + \eta \operatorname{Re} s)\, m + i \eta (\operatorname{Im} s)\, p,

so while :math:`\operatorname{Re} s_i < 0` the model is driven towards :math:`c \approx \bar b`
(weights :math:`w_i \approx |b_i|^2 \ge 0`), the complex form of :math:`c = b`; with real
:math:`\lambda` (real :math:`s`) this is the real model's identity.

Devices as in :mod:`rnnbias.linear`: everything is computed on the device of the model's
parameters, and :func:`init_complex` takes ``device=``.

Introduced in chapter 9, "Diagonal state-space layers with complex eigenvalues". Public names:
:class:`ComplexDiagonalRNN`, :class:`SSMTrainResult`, :func:`init_complex`,
:func:`from_linear`, :func:`impulse_response`, :func:`population_loss`,
:func:`population_loss_grad`, :func:`train_gd`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from . import _checks, _fast
from .linear import LinearRNN, _as_list, _target
from .train import (
    _MODELS,
    Result,
    _lengths,
    _report_divergence,
    drive,
    loop,
    per_run,
    per_run_rows,
)

__all__ = [
    "ComplexDiagonalRNN",
    "SSMTrainResult",
    "from_linear",
    "impulse_response",
    "init_complex",
    "population_loss",
    "population_loss_grad",
    "train_gd",
]

CDTYPE = torch.complex128


def _as_complex(name: str, value: object) -> Tensor:
    """A finite complex128 (R, d) tensor; float64 and integers convert exactly, and float32
    and complex64 are refused rather than cast, as everywhere in the package."""
    if isinstance(value, Tensor):
        t = value
    else:
        try:
            t = torch.from_numpy(np.asarray(value))
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"{name} must be a tensor or array of complex numbers, got {value!r}"
            ) from e
    if t.dtype not in (CDTYPE, torch.float64, torch.int64, torch.int32):
        raise TypeError(
            f"{name} must have dtype torch.complex128 (or float64), got {t.dtype}; "
            f"convert explicitly with {name}.to(torch.complex128)"
        )
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (R, d), got shape {tuple(t.shape)}")
    t = t.to(CDTYPE)
    if _checks.has_values(t) and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} must have finite entries, got {bad} non-finite entries")
    return t


@dataclass(frozen=True, eq=False, repr=False)
class ComplexDiagonalRNN:
    r"""A batch of ``R`` diagonal complex RNNs with ``d`` modes (``lam``, ``b``, ``c``: (R, d)).

    :math:`g_j = \operatorname{Re} \sum_i b_i c_i \lambda_i^j`. Entries are complex128 (float64
    input is converted; float32 and complex64 raise ``TypeError``); shapes other than one common
    (R, d) and non-finite entries raise ``ValueError``. Unpack as ``lam, b, c = model``.

    References
    ----------
    Introduced in chapter 9, "Diagonal state-space layers with complex eigenvalues".
    """

    lam: Tensor
    b: Tensor
    c: Tensor

    def __post_init__(self) -> None:
        values = [_as_complex(n, getattr(self, n)) for n in ("lam", "b", "c")]
        for n, v in zip(("b", "c"), values[1:], strict=True):
            _checks.same_device(n, v, values[0].device, "lam")
        shape = values[0].shape
        if shape[0] < 1 or shape[1] < 1 or any(v.shape != shape for v in values):
            shapes = [tuple(v.shape) for v in values]
            raise ValueError(f"lam, b, c must share one shape (R, d), R, d >= 1, got {shapes}")
        for n, v in zip(("lam", "b", "c"), values, strict=True):
            object.__setattr__(self, n, v)

    def __iter__(self) -> Iterator[Tensor]:
        return iter((self.lam, self.b, self.c))

    def __repr__(self) -> str:
        return f"ComplexDiagonalRNN(runs={self.runs}, d={self.d})"

    @property
    def runs(self) -> int:
        """Number of runs ``R``."""
        return self.lam.shape[0]

    @property
    def d(self) -> int:
        """Number of complex modes ``d``."""
        return self.lam.shape[1]

    @property
    def weights(self) -> Tensor:
        r"""The complex weights :math:`w_i = b_i c_i`, shape (R, d)."""
        return self.b * self.c

    def select(self, runs: int | slice | Sequence[int] | Tensor) -> ComplexDiagonalRNN:
        """Return the runs picked by ``runs``, keeping the run axis.

        ``runs`` is an integer (Python, NumPy or 0-d tensor; negative counts from the end;
        gives R = 1), a slice, ``...``, a sequence or 1-D tensor of integers, or a boolean mask
        of length R. Anything else, an index outside the runs, or an empty selection raises a
        ``TypeError``/``ValueError`` naming ``runs``.
        """
        idx = _checks.run_index("runs", runs, self.runs, self.b.device)
        return ComplexDiagonalRNN(self.lam[idx], self.b[idx], self.c[idx])


def _unchecked(lam: Tensor, b: Tensor, c: Tensor) -> ComplexDiagonalRNN:
    """Build without validation (internal: NaN rows of diverged runs allowed)."""
    model = object.__new__(ComplexDiagonalRNN)
    for n, v in (("lam", lam), ("b", b), ("c", c)):
        object.__setattr__(model, n, v)
    return model


def _check_model(model: object) -> ComplexDiagonalRNN:
    if not isinstance(model, ComplexDiagonalRNN):
        raise TypeError(f"model must be a ComplexDiagonalRNN, got {type(model).__name__}")
    return model


def init_complex(
    d: int,
    sigma: float | Sequence[float],
    seed: int | Sequence[int] = 0,
    *,
    device: str | torch.device | None = None,
) -> ComplexDiagonalRNN:
    r"""Draw near-zero initialisations, one run per (sigma, seed) pair.

    Every entry of :math:`\lambda, b, c` is circular complex Gaussian
    :math:`\mathcal{CN}(0, \sigma^2/d)`: real and imaginary parts i.i.d.
    :math:`\mathcal N(0, \sigma^2/(2d))`, so :math:`\mathbb E|z|^2 = \sigma^2/d` as for the real
    entries of :func:`rnnbias.linear.init_gaussian`. As there, each run draws one base draw from its
    own ``seed`` and rescales it by its ``sigma``.

    Parameters
    ----------
    d : int
        Number of complex modes, ``d >= 1``.
    sigma, seed : float, int or sequences of length R
        Scales ``>= 0`` and seeds ``>= 0``; a scalar broadcasts against a sequence.
    device : str or torch.device, optional
        Where the parameters live (default: the CPU). The draws are made on the CPU and
        copied, so a seed gives the same numbers on every device.

    References
    ----------
    Introduced in chapter 9.
    """
    d = _checks.as_int("d", d, minimum=1)
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
    draws = []
    cpu = torch.device("cpu")  # draw on the CPU: the same numbers on every device
    for s, sd in zip(sigmas, seeds, strict=True):
        gen = torch.Generator(device=cpu).manual_seed(sd)
        base = torch.randn(3, d, generator=gen, dtype=CDTYPE, device=cpu)
        draws.append(base * (s / math.sqrt(d)))  # complex randn: parts N(0, 1/2)
    lam, b, c = torch.stack(draws).to(device).unbind(1)
    return ComplexDiagonalRNN(lam, b, c)


def from_linear(model: LinearRNN) -> ComplexDiagonalRNN:
    """The runs of a real diagonal :class:`~rnnbias.linear.LinearRNN` as complex models (exactly).

    GD from such a start keeps every imaginary part exactly 0 and reproduces
    :func:`rnnbias.train.train_gd` on the real model. Raises ``TypeError``/``ValueError`` for
    anything but a LinearRNN with ``structure="diagonal"``. Introduced in chapter 9.
    """
    if not isinstance(model, LinearRNN):
        raise TypeError(f"model must be a LinearRNN, got {type(model).__name__}")
    if model.structure != "diagonal":
        raise ValueError(f"model must have structure='diagonal', got {model.structure!r}")
    return ComplexDiagonalRNN(*(p.to(CDTYPE) for p in model))


def _powers(lam: Tensor, n: int) -> Tensor:
    """(R, d, n) tensor of lam_i^j for j < n."""
    if n == 1:
        return torch.ones(*lam.shape, 1, dtype=lam.dtype, device=lam.device)
    return torch.linalg.vander(lam, N=n)


def impulse_response(model: ComplexDiagonalRNN, n: int) -> Tensor:
    r"""The first ``n`` taps :math:`g_j = \operatorname{Re}\sum_i b_i c_i \lambda_i^j`, (R, n).

    Introduced in chapter 9.
    """
    model = _check_model(model)
    n = _checks.as_int("n", n, minimum=1)
    return torch.einsum("rd,rdn->rn", model.weights, _powers(model.lam, n)).real


def _prepare(
    teacher: object, k: int | Sequence[int], R: int, device: torch.device
) -> tuple[Tensor, Tensor, int]:
    """Target taps and 0/1 lag weights for one length or one per run, and the largest k, on
    ``device`` (the model's)."""
    ks = _lengths(k, R)  # the rule of rnnbias.train_gd
    k_max = max(ks)
    target = _target(teacher, k_max, device)
    if target.ndim == 2 and target.shape[0] not in (1, R):
        raise ValueError(
            f"teacher must give one impulse response or one per run ({R}), "
            f"got shape {tuple(target.shape)}"
        )
    lags = torch.arange(k_max, device=device)
    weight = (lags < torch.tensor(ks, device=device).unsqueeze(1)).to(torch.float64)
    return target, weight, k_max


def _loss_and_grad(k: int, target: Tensor, weight: Tensor):
    """Closed-form loss (R,) and gradient (R, 3, d) of stacked parameters X = (lam, b, c),
    in few fused operations (the book's runs are small: a step's time is dispatch)."""
    lag = torch.arange(1, k, dtype=torch.float64, device=target.device)

    def step(X: Tensor) -> tuple[Tensor, Tensor]:
        lam, b, c = X.unbind(1)
        P = _powers(lam, k)  # (R, d, k): lam_i^j
        w = b * c
        diff = weight * ((w.unsqueeze(-1) * P).sum(1).real - target)  # (R, k)
        r = 2.0 * diff
        rt = torch.stack([r, torch.nn.functional.pad(r[:, 1:] * lag, (0, 1))], -1)
        st = torch.bmm(P, rt.to(CDTYPE))  # s_i = sum r_j lam^j, t_i = sum r_j j lam^(j-1)
        s, t = st.unbind(-1)
        grad = torch.stack([w * t, c * s, b * s], 1).conj()
        return (diff * diff).sum(-1), grad

    return step


def population_loss(model: ComplexDiagonalRNN, teacher: object, k: int | Sequence[int]) -> Tensor:
    r"""Exact population loss :math:`L_k = \sum_{j<k} (g_j - g^\star_j)^2` of every run, (R,).

    Parameters
    ----------
    model : ComplexDiagonalRNN
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n), n >= k
        Real target taps, as in :func:`rnnbias.linear.population_loss`.
    k : int or sequence of int, length R
        Training length ``>= 1``, or one per run (run ``r`` then sees its own
        :math:`L_{k_r}`).

    References
    ----------
    Introduced in chapter 9.
    """
    return population_loss_grad(model, teacher, k)[0]


def population_loss_grad(
    model: ComplexDiagonalRNN, teacher: object, k: int | Sequence[int]
) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    r"""The exact loss (R,) and its gradients for ``lam``, ``b``, ``c``, each (R, d).

    Gradients are :math:`\partial L/\partial \operatorname{Re} z + i\,\partial L/\partial
    \operatorname{Im} z` in closed form (module docstring), equal to torch's autograd
    gradients. Arguments as in :func:`population_loss`. Introduced in chapter 9.
    """
    model = _check_model(model)
    target, weight, k_max = _prepare(teacher, k, model.runs, model.lam.device)
    loss, grad = _loss_and_grad(k_max, target, weight)(torch.stack(tuple(model), 1))
    return loss, tuple(grad.unbind(1))


@dataclass(frozen=True, eq=False, repr=False)
class SSMTrainResult(Result):
    """What :func:`train_gd` returns: a :class:`rnnbias.train.Result` (same fields, export and
    ``stop_reason``) whose ``model`` is a :class:`ComplexDiagonalRNN`. Introduced in chapter 9."""

    model: ComplexDiagonalRNN


_MODELS["ComplexDiagonalRNN"] = ComplexDiagonalRNN


def train_gd(
    model: ComplexDiagonalRNN,
    teacher: object,
    k: int | Sequence[int],
    *,
    lr: float | Sequence[float] = 0.05,
    max_steps: int = 10_000,
    tol: float = 1e-12,
    record_every: int = 1,
    divergence: str = "warn",
) -> SSMTrainResult:
    r"""Full-batch GD on the real and imaginary parts, :math:`z \leftarrow z - \eta \nabla_z L_k`.

    Every run takes its own steps and stops once its loss is ``<= tol``; a run whose loss
    becomes non-finite is *diverged*: its parameters and loss become NaN, and a
    ``RuntimeWarning`` (``divergence="warn"``) or :class:`~rnnbias.train.DivergenceError`
    (``"raise"``) reports how many, as in :func:`rnnbias.train.train_gd`.

    Parameters
    ----------
    model : ComplexDiagonalRNN
        Initial parameters of ``R`` runs.
    teacher, k
        As in :func:`population_loss` (``k`` may be one length per run).
    lr : float or sequence of float, length R
        Step size ``> 0``, or one per run.
    max_steps : int
        Step budget ``>= 0``.
    tol : float
        Per-run stopping loss ``>= 0`` (0: never stop early).
    record_every : int
        Keep the loss every this many steps (and at the last).
    divergence : {"warn", "raise"}

    Returns
    -------
    SSMTrainResult

    Notes
    -----
    The gradient is closed-form (checked against autograd in the tests) and one step is a few
    fused tensor operations, O(R d k); stopped runs stay in the batch with a zero step.

    References
    ----------
    Introduced in chapter 9.
    """
    model = _check_model(model)
    lrs = [_checks.as_float("lr", v, positive=True) for v in _as_list(lr)]
    max_steps = _checks.as_int("max_steps", max_steps, minimum=0)
    tol = _checks.as_float("tol", tol, nonnegative=True)
    record_every = _checks.as_int("record_every", record_every, minimum=1)
    divergence = _checks.as_choice("divergence", divergence, ("warn", "raise"))
    R = model.runs
    if len(lrs) not in (1, R):
        raise ValueError(f"lr must be a float or have one entry per run ({R}), got {len(lrs)}")
    device = model.lam.device
    target, weight, k_max = _prepare(teacher, k, R, device)
    if device.type == "cpu" and _fast.AVAILABLE:  # compiled kernel, same numbers (tests)
        return _train_compiled(model, target, weight, lrs, tol, max_steps, record_every, divergence)

    def prepare(runs: Tensor | None, _full: tuple[Tensor, ...]):
        """The loss and gradient of the runs ``runs`` (None: all), for :func:`~.train.loop`."""
        pick = lambda t: t if runs is None or t.ndim == 1 or len(t) == 1 else t[runs]  # noqa: E731
        f = _loss_and_grad(k_max, pick(target), pick(weight))

        def loss_and_grad(X: Tensor) -> tuple[Tensor, tuple[Tensor]]:
            loss, grad = f(X)
            return loss, (grad,)

        return loss_and_grad

    lr_t = torch.tensor(lrs, dtype=torch.float64, device=device).expand(R)
    (X,), out = loop(
        (torch.stack(tuple(model), 1),), prepare, lr_t, max_steps=max_steps, tol=tol,
        record_every=record_every, divergence=divergence,
    )  # fmt: skip
    _report_divergence(out["diverged"], divergence)
    return SSMTrainResult(model=_unchecked(*X.unbind(1)), **out)


def _train_compiled(
    model: ComplexDiagonalRNN,
    target: Tensor,
    weight: Tensor,
    lrs: list[float],
    tol: float,
    max_steps: int,
    record_every: int,
    divergence: str,
) -> SSMTrainResult:
    """:func:`train_gd` by the compiled kernel :func:`rnnbias._fast.gd_complex_diagonal`."""
    lam, b, c = (p.detach().numpy().copy() for p in model)  # updated in place
    R = model.runs
    ks = weight.sum(-1).long().expand(R).tolist()  # the 0/1 lag weights are 1 for j < k_r
    lr = torch.tensor(lrs, dtype=torch.float64, device="cpu").expand(R)
    args = (per_run_rows(target, R), *per_run(ks, lr, R), float(tol))

    def advance(start: int, end: int, *tail: object) -> int:
        return _fast.gd_complex_diagonal(lam, b, c, *args, start, end, *tail)

    out = drive(advance, R, max_steps, record_every, divergence)
    _report_divergence(out["diverged"], divergence)
    return SSMTrainResult(model=_unchecked(*map(torch.from_numpy, (lam, b, c))), **out)
