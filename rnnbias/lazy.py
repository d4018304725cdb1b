r"""Wide linear RNNs in the NTK parameterisation: the lag-space tangent kernel and lazy training.

Introduced in chapter 9, "When the bias breaks", section on the wide/lazy regime of
Emami et al. (2021). A width-``n`` model reads

.. math::

    h_t = n^{-1/2} W h_{t-1} + F x_t, \qquad \hat y_t = n^{-1/2} C h_t, \qquad
    g_j = n^{-1/2}\, C\, (n^{-1/2} W)^j F,

with :math:`W_{ij} \sim \mathcal N(0, \sigma_W^2)`, :math:`F_i \sim \mathcal N(0, \sigma_F^2)`,
:math:`C_i \sim \mathcal N(0, \sigma_C^2)`. With :math:`M = n^{-1/2} W`,
:math:`u_l = (M^\top)^l C^\top` and :math:`v_m = M^m F`, the gradients of a tap are

.. math::

    \nabla_F g_j = n^{-1/2} u_j, \qquad \nabla_C g_j = n^{-1/2} v_j, \qquad
    \nabla_W g_j = n^{-1} \sum_{l+m=j-1} u_l v_m^\top ,

so the tangent kernel and the gradient of the loss need only Krylov vectors, never autograd
over the :math:`n^2` entries of ``W``. It is the same function class as
:class:`rnnbias.linear.LinearRNN` with :math:`A = W/\sqrt n`, :math:`B = F`,
:math:`C_{\text{lin}} = C/\sqrt n` (:meth:`WideRNN.to_linear`), but gradient descent on
:math:`(W, F, C)` takes different steps from gradient descent on :math:`(A, B, C)`.

Conventions as in the rest of the package: leading run axis ``R``, float64. Memory is
:math:`8 R n^2` bytes for ``W`` (1.3 GB for ``R = 10`` at ``n = 4000``): loop over seeds
rather than batch them at large widths. Devices as in :mod:`rnnbias.linear`: everything is
computed on the device of the model's parameters; :func:`init_wide` and :func:`rho_squared`
take ``device=``.

Public names: :class:`WideRNN`, :func:`init_wide`, :func:`rho_squared`,
:func:`tangent_kernel`, :func:`train_lazy`, :class:`LazyResult`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import _checks
from .linear import LinearRNN, _target
from .train import _MODELS, Result, _report_divergence, loop

__all__ = ["LazyResult", "WideRNN", "init_wide", "rho_squared", "tangent_kernel", "train_lazy"]


@dataclass(frozen=True, eq=False, repr=False)
class WideRNN:
    """``R`` width-``n`` linear RNNs in the NTK parameterisation.

    ``W`` of shape (R, n, n), ``F`` and ``C`` of shape (R, n), float64. Unpack as
    ``W, F, C = model``.

    Raises
    ------
    TypeError
        If a parameter is not a float64 tensor (float32 is refused, not cast).
    ValueError
        For inconsistent shapes or non-finite entries.

    References
    ----------
    Introduced in chapter 9, section on the wide/lazy regime.
    """

    W: Tensor
    F: Tensor
    C: Tensor

    def __post_init__(self) -> None:
        # finiteness is checked below with one min/max pass (NaN propagates through it), which
        # is 20x faster than an elementwise isfinite on the n^2 entries of W
        F = _checks.as_tensor("F", self.F, ndim=2, finite=False)
        W = _checks.as_tensor("W", self.W, ndim=3, finite=False, device=F.device, other="F")
        C = _checks.as_tensor("C", self.C, ndim=2, finite=False, device=F.device, other="F")
        R, n = F.shape
        if R < 1 or n < 1 or C.shape != (R, n) or W.shape != (R, n, n):
            raise ValueError(
                f"W, F, C must have shapes (R, n, n), (R, n), (R, n) with R, n >= 1; got "
                f"{tuple(W.shape)}, {tuple(F.shape)}, {tuple(C.shape)}"
            )
        for name, value in (("W", W), ("F", F), ("C", C)):
            if _checks.has_values(value) and not all(
                math.isfinite(float(x)) for x in torch.aminmax(value)
            ):
                _checks.as_tensor(name, value)  # raises, counting the non-finite entries
            object.__setattr__(self, name, value)

    def __iter__(self) -> Iterator[Tensor]:
        return iter((self.W, self.F, self.C))

    def __repr__(self) -> str:
        return f"WideRNN(runs={self.runs}, n={self.n})"

    @property
    def runs(self) -> int:
        """Number of runs ``R``."""
        return self.F.shape[0]

    @property
    def n(self) -> int:
        """Width ``n``."""
        return self.F.shape[1]

    def to_linear(self) -> LinearRNN:
        r"""The same models as a :class:`~rnnbias.linear.LinearRNN`.

        :math:`A = W/\sqrt n`, :math:`B = F`, :math:`C_{\text{lin}} = C/\sqrt n`,
        ``structure="full"``: the taps (:func:`rnnbias.linear.impulse_response`), losses and
        extrapolation errors of the linear module then apply unchanged.
        """
        s = 1.0 / math.sqrt(self.n)
        return LinearRNN(s * self.W, self.F, s * self.C, "full")


def init_wide(
    n: int,
    seed: int | Sequence[int] = 0,
    *,
    sigma_w: float,
    sigma_f: float = 1.0,
    sigma_c: float = 1.0,
    device: str | torch.device | None = None,
) -> WideRNN:
    r"""Draw wide models at initialisation, one run per seed.

    :math:`W_{ij} \sim \mathcal N(0, \sigma_W^2)`, :math:`F_i \sim \mathcal N(0, \sigma_F^2)`,
    :math:`C_i \sim \mathcal N(0, \sigma_C^2)`, all independent.

    One run per seed, each from its own ``torch.Generator`` (``W``, then ``F``, then ``C``), so
    a run does not depend on the other seeds in the batch. A seed fixes one standard-normal
    base draw that the sigmas rescale: ``init_wide(n, s, sigma_w=a).W`` equals
    ``a * init_wide(n, s, sigma_w=1.0).W`` bit for bit, so a sweep over ``sigma_w`` may draw
    once and rescale (at ``n = 4000`` the draw costs about 0.5 s, five times the kernel).

    Parameters
    ----------
    n : int
        Width, ``n >= 1``.
    seed : int or sequence of int
        One run per seed (a list, tuple, range, or 1-d integer array or tensor), each in
        ``[0, 2**64)``.
    sigma_w, sigma_f, sigma_c : float
        Standard deviations (not variances), ``>= 0``: ``sigma_w**2`` is
        :math:`\sigma_W^2`.
    device : str or torch.device, optional
        Where the parameters live (default: the CPU). The draws are made on the CPU and
        copied, so a seed gives the same numbers on every device.

    Returns
    -------
    WideRNN

    Raises
    ------
    TypeError, ValueError
        For a non-integer or non-positive ``n``, non-integer or no seeds, or a negative or
        non-finite sigma.

    References
    ----------
    Introduced in chapter 9, section on the wide/lazy regime.

    Examples
    --------
    >>> init_wide(100, [0, 1, 2], sigma_w=math.sqrt(0.5))
    WideRNN(runs=3, n=100)
    """
    n = _checks.as_int("n", n, minimum=1)
    seeds = _integers("seed", seed)
    seeds = [_checks.as_seed("seed", s) for s in seeds]
    if not seeds:
        raise ValueError("seed must be an integer or a non-empty sequence of integers")
    sw, sf, sc = (
        _checks.as_float(name, v, nonnegative=True)
        for name, v in (("sigma_w", sigma_w), ("sigma_f", sigma_f), ("sigma_c", sigma_c))
    )
    device = _checks.as_device("device", device)
    R, cpu = len(seeds), torch.device("cpu")  # draw on the CPU: the same numbers everywhere
    W = torch.empty(R, n, n, dtype=torch.float64, device=cpu)
    F = torch.empty(R, n, dtype=torch.float64, device=cpu)
    C = torch.empty(R, n, dtype=torch.float64, device=cpu)
    for r, s in enumerate(seeds):  # filled in place: no copy of the n^2 entries
        gen = torch.Generator(device=cpu).manual_seed(s)
        W[r].normal_(0.0, sw, generator=gen)
        F[r].normal_(0.0, sf, generator=gen)
        C[r].normal_(0.0, sc, generator=gen)
    return WideRNN(W.to(device), F.to(device), C.to(device))


def _integers(name: str, value: object) -> list:
    """An integer, or a list, tuple, range or 1-d array or tensor of them, as a list."""
    if isinstance(value, (list, tuple, range)):
        return list(value)
    if getattr(value, "ndim", 0) == 1:
        return list(value)
    if getattr(value, "ndim", 0) > 1:
        raise ValueError(
            f"{name} must be an integer or a 1-d sequence of them, got {_checks._describe(value)}"
        )
    return [value]


def rho_squared(
    j: int | Sequence[int],
    sigma_w: float,
    sigma_f: float = 1.0,
    sigma_c: float = 1.0,
    *,
    device: str | torch.device | None = None,
) -> Tensor:
    r"""Infinite-width diagonal of the lag-space tangent kernel.

    .. math::

        \rho_j^2 = \sigma_W^{2j} (\sigma_F^2 + \sigma_C^2)
        + j\, \sigma_W^{2(j-1)} \sigma_F^2 \sigma_C^2 .

    Parameters
    ----------
    j : int or sequence of int
        Lag(s), ``>= 0`` (a list, tuple, range, or 1-d integer array or tensor).
    sigma_w, sigma_f, sigma_c : float
        Standard deviations, ``>= 0``.
    device : str or torch.device, optional
        Where the result lives (default: the CPU).

    Returns
    -------
    torch.Tensor, float64, shape () for an int ``j``, (len(j),) for a sequence

    Warns
    -----
    RuntimeWarning
        If a value overflows into NaN (:math:`\sigma_W^{2j}` beyond the float64 range times a
        zero); a value beyond that range is returned as inf.

    References
    ----------
    Introduced in chapter 9, section on the wide/lazy regime.

    Examples
    --------
    >>> rho_squared([0, 1, 2, 3], math.sqrt(0.5))
    tensor([2.0000, 2.0000, 1.5000, 1.0000], dtype=torch.float64)
    """
    many = isinstance(j, (list, tuple, range)) or getattr(j, "ndim", 0) >= 1
    lags = [_checks.as_int("j", v, minimum=0) for v in _integers("j", j)]
    if not lags:
        raise ValueError("j must hold at least one lag, got an empty sequence")
    sw, sf, sc = (
        _checks.as_float(name, v, nonnegative=True)
        for name, v in (("sigma_w", sigma_w), ("sigma_f", sigma_f), ("sigma_c", sigma_c))
    )
    device = _checks.as_device("device", device)
    jj = torch.tensor(lags, dtype=torch.float64, device=device)
    s2 = torch.tensor(sw * sw, dtype=torch.float64, device=device)
    # (j - 1).clamp(0): the second term vanishes at j = 0 and must not produce 0 * inf
    out = s2**jj * (sf**2 + sc**2) + jj * s2 ** (jj - 1).clamp(min=0) * sf**2 * sc**2
    _checks.warn_overflow("rho_squared", "rho_j^2", out[:, None])
    return out if many else out[0]


def _unchecked(W: Tensor, F: Tensor, C: Tensor) -> WideRNN:
    """A WideRNN from trusted tensors (no validation: diverged runs are NaN)."""
    model = object.__new__(WideRNN)
    for name, value in zip("WFC", (W, F, C), strict=True):
        object.__setattr__(model, name, value)
    return model


_MODELS["WideRNN"] = WideRNN


def _check_model(model: object) -> WideRNN:
    if not isinstance(model, WideRNN):
        raise TypeError(f"model must be a WideRNN, got {type(model).__name__}")
    return model


def _krylov(W: Tensor, v: Tensor, count: int, scale: float) -> Tensor:
    """(R, n, count) tensor whose column m is (scale W)^m v.

    One matrix-vector product per run: for large n a batched ``bmm`` with a vector operand is
    3-5 times slower per run than ``torch.mv``, and a transposed batch is copied first.
    """
    cols = [v]
    for _ in range(count - 1):
        prev = cols[-1]
        cols.append(scale * torch.stack([torch.mv(W[r], prev[r]) for r in range(len(W))]))
    return torch.stack(cols, dim=-1)


def tangent_kernel(model: WideRNN, J: int) -> Tensor:
    r"""Empirical lag-space tangent kernel of every run, computed in closed form.

    :math:`\Theta_{jj'} = \langle\nabla_\theta g_j, \nabla_\theta g_{j'}\rangle` over all
    parameters :math:`\theta = (W, F, C)`.

    From the Gram matrices :math:`G^u_{ll'} = \langle u_l, u_{l'}\rangle` and
    :math:`G^v_{mm'} = \langle v_m, v_{m'}\rangle`:

    .. math::

        \Theta_{jj'} = \frac{G^u_{jj'} + G^v_{jj'}}{n}
        + \frac1{n^2} \sum_{l+m=j-1}\ \sum_{l'+m'=j'-1} G^u_{ll'}\, G^v_{mm'} .

    As :math:`n \to \infty` it tends to :math:`\operatorname{diag}(\rho_j^2)`
    (:func:`rho_squared`); the off-diagonal entries are :math:`O(n^{-1/2})`.

    Parameters
    ----------
    model : WideRNN
    J : int
        Number of lags ``0, ..., J-1``, ``J >= 1``.

    Returns
    -------
    torch.Tensor, shape (R, J, J), float64, symmetric

    Warns
    -----
    RuntimeWarning
        If an entry overflows into NaN although the parameters are finite.

    Notes
    -----
    Cost O(R J n^2) for the Krylov vectors plus O(R J^4) for the sums; no autograd. About
    0.1 s per run at ``n = 4000``, ``J = 8`` on one thread.

    Examples
    --------
    >>> tangent_kernel(init_wide(50, [0, 1], sigma_w=0.7), 4).shape
    torch.Size([2, 4, 4])

    References
    ----------
    Introduced in chapter 9, section on the wide/lazy regime.
    """
    model = _check_model(model)
    J = _checks.as_int("J", J, minimum=1)
    W, F, C = model
    s = 1.0 / math.sqrt(model.n)
    U = _krylov(W.mT, C, J, s)  # u_l = (M^T)^l C^T
    V = _krylov(W, F, J, s)  # v_m = M^m F
    Gu, Gv = U.mT @ U, V.mT @ V  # (R, J, J)
    # S[l, m, j] = 1 when l + m + 1 = j: the W-gradient of g_j pairs u_l with v_m
    idx = torch.arange(J, device=W.device)
    S = (idx[:, None, None] + idx[None, :, None] + 1 == idx[None, None, :]).to(torch.float64)
    theta_w = torch.einsum("rab,rcd,acj,bdk->rjk", Gu, Gv, S, S)
    theta = (Gu + Gv) * s**2 + theta_w * s**4
    _checks.warn_overflow("tangent_kernel", "the kernel", theta, lambda: tuple(model))
    return theta


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class LazyResult(Result):
    r"""What :func:`train_lazy` returns: a :class:`~rnnbias.train.Result` whose ``model`` is a
    :class:`WideRNN` (loss :math:`L_k`), with the taps before and after training.

    Attributes
    ----------
    taps0, taps : torch.Tensor, shape (R, T)
        Taps :math:`g_0, \dots, g_{T-1}` before and after training (NaN for diverged runs).
    target : torch.Tensor, shape (T,) or (R, T)
        The teacher's taps.
    k : int
        Training length.
    """

    taps0: Tensor
    taps: Tensor
    target: Tensor
    k: int

    @property
    def error0(self) -> Tensor:
        r"""Extrapolation error at initialisation, shape (R,).

        :math:`E_{k,T} = \sum_{j=k}^{T-1} (g^{(0)}_j - g^\star_j)^2`: for the memoryless
        teacher, the initial tail energy.
        """
        return ((self.taps0 - self.target)[:, self.k :] ** 2).sum(-1)

    @property
    def error(self) -> Tensor:
        r"""Extrapolation error :math:`E_{k,T}` after training, shape (R,)."""
        return ((self.taps - self.target)[:, self.k :] ** 2).sum(-1)

    @property
    def tail_change(self) -> Tensor:
        r"""Relative tail change over lags :math:`k \le j < T`, shape (R,).

        .. math:: \frac{\max_{j\ge k}|g_j - g^{(0)}_j|}{\max_{j\ge k}|g^{(0)}_j|}
        """
        delta = (self.taps - self.taps0)[:, self.k :].abs().amax(-1)
        return delta / self.taps0[:, self.k :].abs().amax(-1)


def train_lazy(
    model: WideRNN,
    teacher: object,
    k: int,
    *,
    lr: float = 0.2,
    tol: float = 1e-12,
    max_steps: int = 1000,
    T: int = 40,
    divergence: str = "raise",
) -> LazyResult:
    r"""Full-batch GD on :math:`(W, F, C)` on the exact loss of the final output.

    The loss is :math:`L_k = \sum_{j<k}(g_j - g^\star_j)^2`, as in
    :func:`rnnbias.linear.population_loss` with ``outputs="final"``.

    With :math:`r_j = 2(g_j - g^\star_j)` for :math:`j < k`, each step is
    :math:`\theta \leftarrow \theta - \eta \nabla_\theta L_k` with

    .. math::

        \nabla_F L_k = \frac{1}{\sqrt n}\sum_{j<k} r_j u_j, \quad
        \nabla_C L_k = \frac{1}{\sqrt n}\sum_{j<k} r_j v_j, \quad
        \nabla_W L_k = \frac1n \sum_{j=1}^{k-1} r_j \sum_{l+m=j-1} u_l v_m^\top .

    These are the gradients of the NTK parameterisation: :math:`\nabla_W = n^{-1/2}\nabla_A`
    and :math:`\nabla_C = n^{-1/2}\nabla_{C_{\text{lin}}}` in terms of the
    :class:`~rnnbias.linear.LinearRNN` gradients, which is what keeps every step O(1) in
    function space as :math:`n` grows. A run stops once its loss is at most ``tol``.

    Parameters
    ----------
    model : WideRNN
        Initial parameters of ``R`` runs (not modified).
    teacher : Teacher or torch.Tensor
        Target impulse response, as in :func:`rnnbias.linear.population_loss`, with at least
        ``T`` taps.
    k : int
        Training length, ``k >= 1``.
    lr : float
        Step size, ``> 0``.
    tol : float
        Stopping tolerance on :math:`L_k`, ``>= 0``.
    max_steps : int
        Step budget per run, ``>= 0``; runs that do not reach ``tol`` are reported in
        ``converged``.
    T : int
        Number of taps recorded before and after training, ``T >= k``.

    Returns
    -------
    LazyResult

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.
    DivergenceError
        With ``divergence="raise"`` (the default), if a run's loss becomes non-finite (naming
        the run and the step); with ``"warn"`` the run is reported as NaN with a
        ``RuntimeWarning`` and the others train on.

    Examples
    --------
    >>> from rnnbias.teachers import memoryless
    >>> res = train_lazy(init_wide(200, 0, sigma_w=math.sqrt(0.5)), memoryless(), 3)
    >>> bool(res.converged.all()), bool(res.loss.max() <= 1e-12)
    (True, True)

    Notes
    -----
    Per step O(R k n^2): ``2(k-1)`` matrix-vector products and one rank-``(k-1)`` gradient of
    ``W`` (memory: about four copies of ``W``). The loop is :func:`rnnbias.train.loop`. At
    ``n = 3000``, ``k = 3``, ``T = 20`` one run takes about 0.4 s on one thread (10 to 17 steps
    with the defaults), plus 0.25 s for :func:`init_wide`.

    References
    ----------
    Introduced in chapter 9, section on the wide/lazy regime.
    """
    model = _check_model(model)
    k = _checks.as_int("k", k, minimum=1)
    lr = _checks.as_float("lr", lr, positive=True)
    tol = _checks.as_float("tol", tol, nonnegative=True)
    max_steps = _checks.as_int("max_steps", max_steps, minimum=0)
    T = _checks.as_int("T", T, minimum=k)
    divergence = _checks.as_choice("divergence", divergence, ("warn", "raise"))
    target = _target(teacher, T, model.F.device, model.runs)
    s = 1.0 / math.sqrt(model.n)
    lags = torch.arange(k - 1, device=model.F.device)
    hankel = lags[:, None] + lags[None, :] + 1

    def taps_of(W: Tensor, F: Tensor, C: Tensor, count: int) -> Tensor:
        return s * torch.einsum("rn,rnj->rj", C, _krylov(W, F, count, s))

    def prepare(runs: Tensor | None, _full: tuple[Tensor, ...]):
        head = target[..., :k] if runs is None or target.ndim == 1 else target[runs, :k]
        buffer: list[Tensor] = []  # grad_W, written in place each step (W is large)

        def f(W: Tensor, F: Tensor, C: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
            V, U = _krylov(W, F, k, s), _krylov(W.mT, C, k, s)
            diff = s * torch.einsum("rn,rnj->rj", C, V) - head
            r = 2.0 * diff
            if not buffer:
                buffer.append(torch.zeros_like(W) if k == 1 else torch.empty_like(W))
            gW = buffer[0]
            if k >= 2:  # grad_W = n^-1 U H V^T, H Hankel in r_1 .. r_{k-1}
                H = torch.nn.functional.pad(r, (0, k - 2))[:, hankel]
                torch.bmm(U[:, :, : k - 1] @ H * (s * s), V[:, :, : k - 1].mT, out=gW)
            gF, gC = s * (U @ r.unsqueeze(-1)).squeeze(-1), s * (V @ r.unsqueeze(-1)).squeeze(-1)
            return (diff**2).sum(-1), (gW, gF, gC)

        return f

    params, out = loop(
        tuple(model), prepare, lr, max_steps=max_steps, tol=tol, divergence=divergence,
    )  # fmt: skip
    _report_divergence(out["diverged"], divergence, hint=f"try a smaller lr (got {lr})")
    return LazyResult(
        model=_unchecked(*params), **out,
        taps0=taps_of(*model, T), taps=taps_of(*params, T), target=target, k=k,
    )  # fmt: skip
