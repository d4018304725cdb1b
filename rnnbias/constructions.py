r"""Interpolating models with chosen tails: explicit linear RNNs that fit and do not extrapolate.

Training on length-:math:`k` sequences fixes the taps :math:`g_0, \dots, g_{k-1}` and nothing
else (chapter 2). The models here fix those taps to the teacher's and put whatever we like
after them:

- :func:`shift_register`: any finite impulse response :math:`c_0, \dots, c_{n-1}`, realised
  with the down-shift :math:`A = Z` (:math:`Ze_i = e_{i+1}`, :math:`Ze_n = 0`),
  :math:`B = e_1`, :math:`C = c`; then :math:`g_j = c_j` for :math:`j < n` and 0 after.
- :func:`with_tail`: the teacher's head followed by a prescribed tail (a shift register).
- :func:`nilpotent_shift`: :math:`d = k + 1`, one tail tap :math:`g_k = \alpha`, so
  :math:`E_{k,k+1} = \alpha^2`.
- :func:`cyclic`: :math:`d = k`, :math:`A = \rho P` with :math:`P` the cyclic permutation,
  so :math:`g_j = \rho^j` when :math:`k \mid j` and 0 otherwise.

Every function accepts a batch: a 2-d ``taps``/``tail`` or a sequence of ``alpha``/``rho`` gives
one run per row or value. Larger state dimensions are obtained by padding, :math:`A \oplus 0`,
which changes no tap. The results are exact in floating point (the matrices hold 0, 1 and the
given numbers), so the notebooks check them with equality, not tolerances. Every function takes
``device=`` (default: the device of a ``taps``/``tail`` tensor, else the CPU); a tensor given on
another device than ``device`` raises a ``ValueError`` naming both.

Introduced in chapter 3, "Perfect interpolation, poor extrapolation" (used from chapter 2 on).
Public names: :func:`shift_register`, :func:`with_tail`, :func:`nilpotent_shift`,
:func:`cyclic`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from . import _checks
from .linear import LinearRNN, _as_list, _target

__all__ = ["cyclic", "nilpotent_shift", "shift_register", "with_tail"]


def _pad_dimension(d: int | None, minimum: int) -> int:
    if d is None:
        return minimum
    d = _checks.as_int("d", d, minimum=1)
    if d < minimum:
        raise ValueError(f"d must be at least {minimum} for this construction, got {d}")
    return d


_ASKED = "the device= argument"


def _device(device: object) -> torch.device | None:
    """The checked ``device=`` argument, None when not given (then the inputs decide)."""
    return None if device is None else _checks.as_device("device", device)


def _e1(R: int, d: int, device: torch.device) -> Tensor:
    e1 = torch.zeros(R, d, dtype=torch.float64, device=device)
    e1[:, 0] = 1.0
    return e1


def shift_register(
    taps: object, *, d: int | None = None, device: str | torch.device | None = None
) -> LinearRNN:
    r"""Realise a finite impulse response :math:`c_0, \dots, c_{n-1}` exactly.

    .. math::

        A = Z = \begin{pmatrix} 0 & & & \\ 1 & 0 & & \\ & \ddots & \ddots & \\ & & 1 & 0
        \end{pmatrix}, \quad B = e_1, \quad C = (c_0, \dots, c_{n-1}),
        \qquad g_j = C Z^j e_1 = \begin{cases} c_j & j < n \\ 0 & j \ge n. \end{cases}

    The state is a register of the last :math:`n` inputs, :math:`h_t = (x_t, x_{t-1}, \dots)`,
    and :math:`C` weighs them.

    Parameters
    ----------
    taps : sequence of float or torch.Tensor, shape (n,) or (R, n)
        The taps of one run, or one row per run; finite.
    d : int, optional
        State dimension, ``>= n`` (default ``n``); extra states are padded with zeros.
    device : str or torch.device, optional
        Where the model lives; default: the device of a ``taps`` tensor, else the CPU.

    Returns
    -------
    LinearRNN, structure "full", ``R`` runs (1 for 1-d ``taps``)

    Raises
    ------
    TypeError, ValueError
        For non-real or non-finite taps, no taps, or ``d < n``.

    References
    ----------
    Introduced in chapter 3, section "Building interpolators with any tail".

    Examples
    --------
    >>> from rnnbias import impulse_response
    >>> impulse_response(shift_register([1.0, 0.0, 2.5]), 5)
    tensor([[1.0000, 0.0000, 2.5000, 0.0000, 0.0000]], dtype=torch.float64)
    """
    c = _checks.as_tensor("taps", taps, ndim=(1, 2), device=_device(device), other=_ASKED)
    c = c.unsqueeze(0) if c.ndim == 1 else c
    R, n = c.shape
    if R == 0 or n == 0:
        raise ValueError(f"taps must hold at least one run of at least one tap, got {(R, n)}")
    d = _pad_dimension(d, n)
    A = torch.diag_embed(c.new_ones(n - 1), offset=-1)
    A = torch.nn.functional.pad(A, (0, d - n, 0, d - n)).expand(R, d, d).clone()
    C = torch.nn.functional.pad(c, (0, d - n))
    return LinearRNN(A, _e1(R, d, c.device), C.clone())


def with_tail(
    k: int,
    tail: object,
    *,
    teacher: object = None,
    d: int | None = None,
    device: str | torch.device | None = None,
) -> LinearRNN:
    r"""An interpolating model whose taps after lag :math:`k-1` are ``tail`` (then zero).

    .. math::

        g_j = g^\star_j \ (j < k), \qquad g_{k+i} = \text{tail}_i \ (i < m), \qquad
        g_j = 0 \ (j \ge k + m),

    realised by :func:`shift_register` with :math:`d = k + m`. For the memoryless teacher,
    :math:`C = (1, 0, \dots, 0, \text{tail}_0, \dots, \text{tail}_{m-1})`. Its loss at length
    :math:`k` is exactly zero whatever the tail, and
    :math:`E_{k,T} = \sum_{k \le j < T} (g_j - g^\star_j)^2` is what the tail makes it.

    Parameters
    ----------
    k : int
        Training length, ``k >= 1``.
    tail : sequence of float or torch.Tensor, shape (m,) or (R, m)
        Taps at lags :math:`k, \dots, k+m-1` (one row per run), finite; ``m >= 0``.
    teacher : Teacher or torch.Tensor, optional
        Whose first ``k`` taps form the head; the memoryless teacher :math:`(1, 0, 0, \dots)` by
        default.
    d : int, optional
        State dimension, ``>= k + m`` (default ``k + m``).
    device : str or torch.device, optional
        Where the model lives; default: the device of a ``tail`` tensor, else the CPU. A
        :class:`~rnnbias.teachers.Teacher`'s taps are copied there; a teacher tensor must be
        there already.

    Returns
    -------
    LinearRNN, structure "full"

    Raises
    ------
    TypeError, ValueError
        For ``k < 1``, a non-finite tail, a 2-d teacher or ``d < k + m``.

    References
    ----------
    Introduced in chapter 3 (the any-tail construction); used in chapter 2.

    Examples
    --------
    >>> from rnnbias import impulse_response
    >>> impulse_response(with_tail(3, [0.5, -0.25]), 6).tolist()
    [[1.0, 0.0, 0.0, 0.5, -0.25, 0.0]]
    """
    k = _checks.as_int("k", k, minimum=1)
    t = _checks.as_tensor("tail", tail, ndim=(1, 2), device=_device(device), other=_ASKED)
    t = t.unsqueeze(0) if t.ndim == 1 else t
    if teacher is None:
        head = t.new_zeros(k)
        head[0] = 1.0
    else:
        head = _target(teacher, k, t.device)
        if head.ndim != 1:
            raise ValueError(
                f"teacher must give one impulse response, got shape {tuple(head.shape)}"
            )
    taps = torch.cat([head.expand(t.shape[0], k), t], dim=1)
    return shift_register(taps, d=d)


def nilpotent_shift(
    k: int, alpha: float | Sequence[float] | Tensor, *, device: str | torch.device | None = None
) -> LinearRNN:
    r"""The nilpotent shift of dimension :math:`d = k+1` with tail value :math:`\alpha` at lag k.

    .. math::

        A = Z, \quad B = e_1, \quad C = e_1^\top + \alpha\, e_{k+1}^\top,
        \qquad g = (1, 0, \dots, 0, \alpha, 0, 0, \dots),

    with :math:`\alpha` at lag :math:`k`. So :math:`L_k = 0` and :math:`E_{k,T} = \alpha^2` for
    every :math:`T > k`: a perfect fit whose error at length :math:`k+1` is as large as we like.

    Parameters
    ----------
    k : int
        Training length, ``k >= 1``.
    alpha : float or sequence of float
        Tail value(s); a sequence gives one run per value.
    device : str or torch.device, optional
        Where the model lives (default: the CPU).

    Returns
    -------
    LinearRNN, structure "full", d = k + 1

    References
    ----------
    Introduced in chapter 3, section "Building interpolators with any tail".

    Examples
    --------
    >>> from rnnbias import extrapolation_error, memoryless
    >>> extrapolation_error(nilpotent_shift(5, [0.5, 3.0]), memoryless(), 5, 6)
    tensor([0.2500, 9.0000], dtype=torch.float64)
    """
    alphas = [_checks.as_float("alpha", a) for a in _as_list(alpha)]
    if not alphas:
        raise ValueError("alpha must not be empty")
    device = _checks.as_device("device", device)
    return with_tail(k, torch.tensor(alphas, dtype=torch.float64, device=device).unsqueeze(1))


def cyclic(
    k: int,
    rho: float | Sequence[float] | Tensor = 1.0,
    *,
    d: int | None = None,
    device: str | torch.device | None = None,
) -> LinearRNN:
    r"""The (scaled) cyclic permutation: an interpolator of dimension :math:`d = k`.

    .. math::

        A = \rho P, \quad P e_i = e_{(i \bmod k) + 1}, \quad B = e_1, \quad C = e_1^\top,
        \qquad g_j = \begin{cases} \rho^j & k \mid j \\ 0 & \text{otherwise.} \end{cases}

    With :math:`\rho = 1`, :math:`L_k = 0` and :math:`E_{k,mk} = m - 1`: the error grows
    linearly with the test length. With :math:`|\rho| < 1` the tail energy is
    :math:`\sum_{m \ge 1} \rho^{2mk} = \rho^{2k} / (1 - \rho^{2k})`, bounded but not zero; with
    :math:`\rho > 1`, :math:`E_{k,k+1} = \rho^{2k}` is as large as we like.

    Parameters
    ----------
    k : int
        Training length (the cycle length), ``k >= 1``.
    rho : float or sequence of float
        Scale(s) of :math:`P`, finite; a sequence gives one run per value.
    d : int, optional
        State dimension, ``>= k`` (default ``k``); padded as :math:`\rho P \oplus 0`.
    device : str or torch.device, optional
        Where the model lives (default: the CPU).

    Returns
    -------
    LinearRNN, structure "full"

    References
    ----------
    Introduced in chapter 3, section "Building interpolators with any tail".

    Examples
    --------
    >>> from rnnbias import impulse_response
    >>> impulse_response(cyclic(3), 8)
    tensor([[1., 0., 0., 1., 0., 0., 1., 0.]], dtype=torch.float64)
    """
    k = _checks.as_int("k", k, minimum=1)
    rhos = [_checks.as_float("rho", r) for r in _as_list(rho)]
    if not rhos:
        raise ValueError("rho must not be empty")
    d = _pad_dimension(d, k)
    device = _checks.as_device("device", device)
    P = torch.eye(k, dtype=torch.float64, device=device)
    P = torch.roll(P, shifts=1, dims=0)  # P e_i = e_{i+1 mod k}
    P = torch.nn.functional.pad(P, (0, d - k, 0, d - k))
    A = torch.tensor(rhos, dtype=torch.float64, device=device).view(-1, 1, 1) * P
    R = len(rhos)
    return LinearRNN(A, _e1(R, d, device), _e1(R, d, device))
