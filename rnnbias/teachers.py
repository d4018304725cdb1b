r"""Teachers (target impulse responses) and sampled sequence data.

A *teacher* is the linear system that labels the data: :math:`y_t = \sum_{j=0}^{t-1}
g^\star_j\, x_{t-j}`. Everything the exact losses need is its impulse response
:math:`g^\star`, which a :class:`Teacher` returns at any length.

- :func:`memoryless`: :math:`y_t = w\, x_t`, so :math:`g^\star = (w, 0, 0, \dots)` (chapter 2).
- :func:`low_dimensional`: :math:`g^\star_j = \sum_i w_i \lambda_i^j`, a teacher with a
  :math:`\hat d`-dimensional state space (chapters 6 and 7). The memoryless teacher is the
  case of one eigenvalue at 0.
- :func:`from_impulse_response`: any finite sequence of taps.

Devices: a teacher is built on the CPU from numbers and lists (on the device of tensors it
is given), and the losses copy its taps to the model's device, so one teacher serves models on
any device; :meth:`Teacher.impulse_response` and :func:`sample_sequences` take ``device=``.

Introduced in chapter 1. Public names: :class:`Teacher`, :func:`memoryless`,
:func:`low_dimensional`, :func:`from_impulse_response`, :func:`sample_sequences`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import _checks
from .linear import _convolve

__all__ = [
    "Teacher",
    "from_impulse_response",
    "low_dimensional",
    "memoryless",
    "sample_sequences",
]


@dataclass(frozen=True, eq=False, repr=False)
class Teacher:
    r"""A target impulse response :math:`g^\star_0, g^\star_1, \dots`.

    Either a sum of exponentials (``eigenvalues`` and ``weights``, defined at every lag) or a
    finite list of ``taps``. Build one with :func:`memoryless`, :func:`low_dimensional` or
    :func:`from_impulse_response` rather than directly; a teacher built directly is checked
    the same way (numbers and lists are converted to float64 tensors).

    Raises
    ------
    TypeError, ValueError
        For a ``name`` that is not a string; unless exactly one of ``taps`` or the pair
        ``eigenvalues``, ``weights`` is given; for 1-d tensors that are empty, of different
        lengths, on different devices, not float64 or not finite.

    References
    ----------
    Introduced in chapter 1, section "The population loss sees only the first k taps".
    """

    name: str
    eigenvalues: Tensor | None = None
    weights: Tensor | None = None
    taps: Tensor | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a string, got {_checks._describe(self.name)}")
        modes = self.eigenvalues is not None or self.weights is not None
        if modes == (self.taps is not None):
            raise ValueError(
                "a Teacher needs either taps or both eigenvalues and weights (exactly one of "
                f"the two), got taps={_checks._describe(self.taps)}, eigenvalues="
                f"{_checks._describe(self.eigenvalues)}, weights={_checks._describe(self.weights)}"
            )
        if self.taps is not None:
            taps = _checks.as_tensor("taps", self.taps, ndim=1)
            if len(taps) == 0:
                raise ValueError("taps must hold at least one tap, got an empty tensor")
            object.__setattr__(self, "taps", taps)
            return
        if self.eigenvalues is None or self.weights is None:
            missing = "eigenvalues" if self.eigenvalues is None else "weights"
            raise ValueError(f"{missing} must be given with the other (a sum of exponentials)")
        lam = _checks.as_tensor("eigenvalues", self.eigenvalues, ndim=1)
        w = _checks.as_tensor(
            "weights", self.weights, ndim=1, device=lam.device, other="eigenvalues"
        )
        if len(lam) == 0 or w.shape != lam.shape:
            raise ValueError(
                f"eigenvalues and weights must be non-empty and of the same length, got "
                f"{len(lam)} and {len(w)}"
            )
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "weights", w)

    def __repr__(self) -> str:
        if self.taps is not None:
            return f"Teacher({self.name!r}, taps={len(self.taps)})"
        lam = ", ".join(f"{v:.4g}" for v in self.eigenvalues.tolist())
        w = ", ".join(f"{v:.4g}" for v in self.weights.tolist())
        return f"Teacher({self.name!r}, eigenvalues=[{lam}], weights=[{w}])"

    @property
    def dimension(self) -> int | None:
        r"""State dimension :math:`\hat d` (number of modes), or None for a list of taps."""
        return None if self.eigenvalues is None else len(self.eigenvalues)

    def impulse_response(self, n: int, *, device: str | torch.device | None = None) -> Tensor:
        r"""Return :math:`g^\star_0, \dots, g^\star_{n-1}`, shape (n,), float64.

        Computed on the device of the teacher's own tensors, then copied to ``device`` if one
        is given (so the taps are the same numbers on every device).

        Raises
        ------
        TypeError, ValueError
            If ``n < 1``, if the teacher is a finite list of taps shorter than ``n``, or for a
            ``device`` that is not a device of this machine.

        Warns
        -----
        RuntimeWarning
            If a tap overflows into NaN (eigenvalues of modulus above 1 with weights of
            both signs, over many lags); a tap beyond the float64 range is ±inf.
        """
        n = _checks.as_int("n", n, minimum=1)
        target = None if device is None else _checks.as_device("device", device)
        if self.taps is not None:
            if n > len(self.taps):
                raise ValueError(
                    f"n must be at most {len(self.taps)} for {self!r} (its number of taps), got {n}"
                )
            g = self.taps[:n]
        else:
            lags = torch.arange(n, dtype=torch.float64, device=self.eigenvalues.device)
            g = self.weights @ self.eigenvalues.unsqueeze(-1) ** lags
            _checks.warn_overflow("Teacher.impulse_response", "the taps", g[None])
        return g if target is None else g.to(target)

    def outputs(self, x: Tensor) -> Tensor:
        r"""The teacher's outputs :math:`y_t` for every position of sequences ``x``.

        Parameters
        ----------
        x : torch.Tensor, shape (N, T) or (R, N, T), float64, ``N, T >= 1``

        Returns
        -------
        torch.Tensor, the shape of ``x``, on the device of ``x``

        Warns
        -----
        RuntimeWarning
            If an output overflows into NaN.
        """
        x = _checks.as_sequences("x", x)
        y = _convolve(self.impulse_response(x.shape[-1]).to(x.device), x)
        _checks.warn_overflow("Teacher.outputs", "the outputs", y if y.ndim == 3 else y[None])
        return y


def memoryless(w: float = 1.0) -> Teacher:
    r"""The memoryless teacher :math:`y_t = w\, x_t`, impulse response :math:`(w, 0, 0, \dots)`.

    Parameters
    ----------
    w : float
        Gain, finite and non-zero.

    References
    ----------
    Introduced in chapter 2, "Memoryless data and what extrapolation means".

    Examples
    --------
    >>> memoryless().impulse_response(4)
    tensor([1., 0., 0., 0.], dtype=torch.float64)
    """
    w = _checks.as_float("w", w)
    if w == 0:
        raise ValueError("w must be non-zero (w = 0 is the zero function), got 0.0")
    zero = torch.zeros(1, dtype=torch.float64, device="cpu")
    gain = torch.tensor([w], dtype=torch.float64, device="cpu")
    return Teacher("memoryless", eigenvalues=zero, weights=gain)


def low_dimensional(eigenvalues: object, weights: object = None) -> Teacher:
    r"""A teacher with a :math:`\hat d`-dimensional state space.

    .. math:: g^\star_j = \sum_{i=1}^{\hat d} w_i\, \lambda_i^{\,j}

    It is realised by the diagonal RNN :math:`A = \operatorname{diag}(\lambda)` with
    :math:`b_i c_i = w_i`; with positive weights it is balanced, and :math:`g^\star` is the
    moment sequence of the measure :math:`\sum_i w_i \delta_{\lambda_i}` (chapter 6).

    Parameters
    ----------
    eigenvalues : sequence of float, length d_hat
        Real eigenvalues :math:`\lambda_i`, finite and distinct.
    weights : sequence of float, length d_hat, optional
        Weights :math:`w_i`, finite; all ones by default.

    Raises
    ------
    TypeError, ValueError
        For non-real, non-finite, repeated or empty eigenvalues, or weights of another length.

    References
    ----------
    Introduced in chapter 1; the teachers of chapters 6 and 7.

    Examples
    --------
    >>> low_dimensional([0.5]).impulse_response(4)
    tensor([1.0000, 0.5000, 0.2500, 0.1250], dtype=torch.float64)
    """
    lam = _checks.as_tensor("eigenvalues", eigenvalues, ndim=1)
    if len(lam) == 0:
        raise ValueError("eigenvalues must not be empty")
    if len(torch.unique(lam)) != len(lam):
        raise ValueError(f"eigenvalues must be distinct, got {lam.tolist()}")
    w = (
        torch.ones_like(lam)
        if weights is None
        else _checks.as_tensor("weights", weights, ndim=1, device=lam.device, other="eigenvalues")
    )
    if w.shape != lam.shape:
        raise ValueError(f"weights must have one entry per eigenvalue ({len(lam)}), got {len(w)}")
    return Teacher("low-dimensional", eigenvalues=lam.clone(), weights=w.clone())


def from_impulse_response(g: object) -> Teacher:
    r"""A teacher given by finitely many taps :math:`g^\star_0, \dots, g^\star_{n-1}`.

    Asking it for more taps than it has raises an error (it does not pad with zeros).

    Parameters
    ----------
    g : sequence of float or torch.Tensor, shape (n,), n >= 1

    References
    ----------
    Introduced in chapter 1.
    """
    g = _checks.as_tensor("g", g, ndim=1)
    if len(g) == 0:
        raise ValueError("g must have at least one tap")
    return Teacher("impulse response", taps=g.clone())


def sample_sequences(
    N: int, T: int, *, seed: int = 0, device: str | torch.device | None = None
) -> Tensor:
    r"""Draw ``N`` input sequences of length ``T`` with i.i.d. :math:`\mathcal N(0, 1)` entries.

    Parameters
    ----------
    N, T : int
        Number and length of sequences, both ``>= 1``.
    seed : int
        Seed of a private generator, in ``[0, 2**64)`` (the global random state is not
        touched).
    device : str or torch.device, optional
        Where the sequences live (default: the CPU). They are drawn on the CPU and copied, so
        a seed gives the same sequences on every device.

    Returns
    -------
    torch.Tensor, shape (N, T), float64

    References
    ----------
    Introduced in chapter 1, section "A Monte Carlo check".
    """
    N = _checks.as_int("N", N, minimum=1)
    T = _checks.as_int("T", T, minimum=1)
    seed = _checks.as_seed("seed", seed)
    device = _checks.as_device("device", device)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(N, T, generator=gen, dtype=torch.float64, device="cpu").to(device)
