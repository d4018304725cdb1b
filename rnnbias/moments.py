r"""Impulse responses as moments: the measure of a model, Hankel matrices and Prony's method.

For a diagonal model :math:`g_j = \sum_i w_i a_i^j` with :math:`w_i = b_i c_i`; for a symmetric
:math:`A = \sum_i \lambda_i q_i q_i^\top`, :math:`g_j = \sum_i (q_i^\top B)(C q_i)\,\lambda_i^j`.
Either way the impulse response is the moment sequence of a discrete measure

.. math:: \mu = \sum_i w_i\, \delta_{a_i}, \qquad g_j = \int x^j \, d\mu(x),

whose weights are :math:`\ge 0` when :math:`C = B^\top`. Its Hankel matrices
:math:`H_n(g) = [g_{i+j}]_{i,j=0}^n` have rank :math:`\min(n+1, m)` for :math:`m` atoms of
positive weight, and :math:`2n` moments determine an :math:`n`-atom measure (Prony's method).

Introduced in chapter 6, "Impulse responses as moments". Public names: :func:`measure`,
:func:`hankel`, :func:`moments`, :func:`prony`, :func:`vandermonde_student`.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from . import _checks
from .linear import LinearRNN, _check_model, _powers, _target, _unchecked

__all__ = ["from_measure", "hankel", "measure", "moments", "prony", "vandermonde_student"]

_IMAG_TOL = 1e-8  # a root is real when |imag| <= _IMAG_TOL * max(1, |root|)
_COND_MAX = 1e12  # a Hankel matrix with a larger condition number counts as singular
_MIN_GAP = 1e-12  # atoms closer than this count as repeated
_PRONY_RTOL = 1e-8  # prony's default tolerance when 2n moments determine the measure


def _runs(name: str, x: object, device: torch.device | None = None, other: str = "") -> Tensor:
    """A float64 tensor with a leading run axis (a 1-d input becomes one run), on ``device``;
    at least one run of at least one entry."""
    t = _checks.as_tensor(name, x, ndim=(1, 2), device=device, other=other)
    t = t.unsqueeze(0) if t.ndim == 1 else t
    if t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(
            f"{name} must hold at least one run of at least one entry, got shape {tuple(t.shape)}"
        )
    return t


def _common_runs(a: Tensor, b: Tensor) -> int:
    """Run count of two (R, .) tensors when one run broadcasts, 0 if they clash."""
    return max(len(a), len(b)) if len(a) == len(b) or 1 in (len(a), len(b)) else 0


def measure(model: LinearRNN, *, tol: float = 1e-10) -> tuple[Tensor, Tensor]:
    r"""The measure :math:`\mu = \sum_i w_i \delta_{a_i}` whose moments are the model's taps.

    .. math::

        g_j = C A^j B = \sum_{i=1}^d w_i\, a_i^{\,j}, \qquad
        (a_i, w_i) = \begin{cases} (a_i,\ b_i c_i) & \text{diagonal } A, \\
        (\lambda_i,\ (q_i^\top B)(C q_i)) & A = \sum_i \lambda_i q_i q_i^\top. \end{cases}

    Parameters
    ----------
    model : LinearRNN
        Diagonal, or with ``A`` symmetric up to ``tol`` (full or symmetric structure).
    tol : float
        Relative symmetry tolerance: :math:`\max|A - A^\top| \le` ``tol``
        :math:`\cdot \max(1, \max|A|)` in every run.

    Returns
    -------
    atoms : torch.Tensor, shape (R, d), sorted ascending in every run
    weights : torch.Tensor, shape (R, d), permuted with the atoms

    Raises
    ------
    TypeError, ValueError
        For a non-model, a negative ``tol``, or a non-symmetric ``A``.

    Warns
    -----
    RuntimeWarning
        If a weight overflows into NaN although the parameters are finite. Runs with non-finite
        parameters (diverged runs) get NaN atoms and weights, without a warning.

    References
    ----------
    Introduced in chapter 6, "Impulse responses as moments".
    """
    model = _check_model(model)
    tol = _checks.as_float("tol", tol, nonnegative=True)
    A, B, C = model
    if model.structure == "diagonal":
        atoms, weights = A, B * C
    elif _checks.has_values(A) and not bool(torch.isfinite(A).all()):
        # runs with non-finite entries (diverged runs) get NaN atoms and weights; the others
        # are computed alone, so that the eigenvalue routine never sees a NaN
        ok = torch.isfinite(A).flatten(1).all(-1)
        atoms = torch.full_like(B, float("nan"))
        weights = torch.full_like(B, float("nan"))
        if bool(ok.any()):
            part = _unchecked(A[ok], B[ok], C[ok], model.structure)
            atoms[ok], weights[ok] = measure(part, tol=tol)
        return atoms, weights
    else:
        asym = (A - A.mT).abs().amax((-2, -1))
        bound = tol * A.abs().amax((-2, -1)).clamp(min=1.0)
        bad = torch.nonzero(asym > bound).flatten()
        if len(bad):
            r = int(bad[0])
            raise ValueError(
                f"model must have a symmetric (or diagonal) A for its taps to be the moments of "
                f"a real measure, got max|A - A^T| = {float(asym[r]):.3g} in run {r} "
                f"(tolerance {float(bound[r]):.3g})"
            )
        atoms, Q = torch.linalg.eigh(0.5 * (A + A.mT))
        weights = torch.einsum("rk,rki->ri", B, Q) * torch.einsum("rk,rki->ri", C, Q)
    order = torch.argsort(atoms, dim=-1, stable=True)
    atoms, weights = atoms.gather(-1, order), weights.gather(-1, order)
    _checks.warn_overflow("measure", "the atoms or weights", (atoms, weights), lambda: tuple(model))
    return atoms, weights


def hankel(g: object, n: int) -> Tensor:
    r"""The Hankel matrix :math:`H_n(g) = [g_{i+j}]_{i,j=0}^{n}`, of size :math:`(n+1)^2`.

    Parameters
    ----------
    g : torch.Tensor, shape (L,) or (R, L), float64
        A sequence (or one per run) with ``L >= 2n + 1`` entries.
    n : int
        Order, ``n >= 0``.

    Returns
    -------
    torch.Tensor, shape (n+1, n+1) or (R, n+1, n+1)

    Raises
    ------
    TypeError, ValueError
        For a wrong dtype or shape, ``n < 0`` or fewer than ``2n + 1`` entries.

    References
    ----------
    Introduced in chapter 6, "Impulse responses as moments".

    Examples
    --------
    >>> hankel(torch.arange(5.0, dtype=torch.float64), 2)
    tensor([[0., 1., 2.],
            [1., 2., 3.],
            [2., 3., 4.]], dtype=torch.float64)
    """
    g = _checks.as_tensor("g", g, ndim=(1, 2))
    n = _checks.as_int("n", n, minimum=0)
    if g.shape[-1] < 2 * n + 1:
        raise ValueError(
            f"g must have at least 2n + 1 = {2 * n + 1} entries for H_{n}, got {g.shape[-1]}"
        )
    i = torch.arange(n + 1, device=g.device)
    return g[..., i.unsqueeze(1) + i.unsqueeze(0)]


def moments(atoms: object, weights: object, n: int) -> Tensor:
    r"""The first ``n`` moments :math:`m_j = \sum_i w_i a_i^{\,j}`, :math:`j < n` (:math:`0^0 = 1`).

    Parameters
    ----------
    atoms, weights : torch.Tensor, shape (d,) or (R, d), float64
        A 1-d input is one run; a single run broadcasts against ``R`` runs of the other.
    n : int
        Number of moments, ``n >= 1``.

    Returns
    -------
    torch.Tensor, shape (R, n), always with a run axis (``R = 1`` for 1-d inputs)

    Raises
    ------
    TypeError, ValueError
        For non-float64 or non-finite entries, no run or no atom, shapes that do not match,
        or ``n < 1``.

    Warns
    -----
    RuntimeWarning
        If a moment overflows into NaN (atoms of modulus above 1 with weights of both
        signs, over many moments).

    References
    ----------
    Introduced in chapter 6, "Impulse responses as moments".

    Examples
    --------
    >>> moments(torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64), torch.ones(3).double(), 4)
    tensor([[3., 0., 2., 0.]], dtype=torch.float64)
    """
    a = _runs("atoms", atoms)
    w = _runs("weights", weights, a.device, "atoms")
    n = _checks.as_int("n", n, minimum=1)
    R = _common_runs(a, w)
    if a.shape[-1] != w.shape[-1] or R == 0:
        raise ValueError(
            f"weights must have the shape of atoms {tuple(a.shape)} (or one run), "
            f"got {tuple(w.shape)}"
        )
    m = torch.einsum("rd,rdn->rn", w.expand(R, -1), _powers(a.expand(R, -1), n))
    _checks.warn_overflow("moments", "the moments", m)
    return m


def prony(m: object, n: int, *, rtol: float | None = None) -> tuple[Tensor, Tensor]:
    r"""Recover a real :math:`n`-atom measure from its moments (Prony's method).

    The monic polynomial :math:`p(x) = x^n + c_{n-1}x^{n-1} + \dots + c_0` with roots at the
    atoms satisfies :math:`\sum_l p_l\, m_{l+j} = 0` for :math:`j < n`, that is
    :math:`H_{n-1}(m)\, c = -(m_n, \dots, m_{2n-1})`. The atoms are the eigenvalues of its
    companion matrix; the weights solve :math:`\sum_i w_i a_i^{\,j} = m_j` by least squares over
    all given moments.

    Parameters
    ----------
    m : torch.Tensor, shape (L,) or (R, L), float64
        Moments :math:`m_0, \dots, m_{L-1}`, ``L >= 2n``.
    n : int
        Number of atoms, ``n >= 1``.
    rtol : float, optional
        Tolerance on the relative residual
        :math:`\max_j |\sum_i w_i a_i^{\,j} - m_j| / \max_j |m_j|` of the fitted measure: a
        run above it raises a ``RuntimeWarning``. By default (None) it is 1e-8 when exactly
        ``L = 2n`` moments are given, where the fit reproduces them up to round-off unless it
        is ill-conditioned (close atoms, very unequal weights), and no check is made for
        ``L > 2n``, where the weights are a least-squares fit and a misfit is a property of
        the data (more atoms, noise): pass ``rtol`` to be warned about it too, ``math.inf``
        for no check at all.

    Returns
    -------
    atoms : torch.Tensor, shape (R, n), sorted ascending (``R = 1`` for 1-d ``m``)
    weights : torch.Tensor, shape (R, n)

    Raises
    ------
    TypeError, ValueError
        Fewer than ``2n`` moments; a singular :math:`H_{n-1}(m)` (condition number above
        1e12: the measure has fewer than ``n`` atoms); complex roots (the moments are not
        those of a real ``n``-atom measure); a negative ``rtol``.

    Warns
    -----
    RuntimeWarning
        If the fitted measure misses the moments by more than ``rtol`` (see above).

    Notes
    -----
    The Hankel matrix factors as :math:`V^\top W V` (:math:`V` Vandermonde in the atoms), so
    close atoms or very unequal weights make the recovery ill-conditioned.

    References
    ----------
    Introduced in chapter 6, "Impulse responses as moments".

    Examples
    --------
    >>> m = moments(torch.tensor([0.5, -0.5]).double(), torch.tensor([1.0, 2.0]).double(), 4)
    >>> m
    tensor([[ 3.0000, -0.5000,  0.7500, -0.1250]], dtype=torch.float64)
    >>> atoms, weights = prony(m, 2)
    >>> [round(v, 12) for v in atoms[0].tolist()], [round(v, 12) for v in weights[0].tolist()]
    ([-0.5, 0.5], [2.0, 1.0])
    """
    m = _runs("m", m)
    n = _checks.as_int("n", n, minimum=1)
    if rtol is not None and rtol != math.inf:
        rtol = _checks.as_float("rtol", rtol, nonnegative=True)
    R, L = m.shape
    if L < 2 * n:
        raise ValueError(f"m must have at least 2n = {2 * n} moments for n = {n} atoms, got {L}")
    H = hankel(m[:, : 2 * n - 1], n - 1)
    cond = torch.linalg.cond(H)
    bad = torch.nonzero(~(cond <= _COND_MAX)).flatten()
    if len(bad):
        r = int(bad[0])
        raise ValueError(
            f"m gives a singular Hankel matrix H_{n - 1} (condition number "
            f"{float(cond[r]):.3g} in run {r}): the measure has fewer than n = {n} atoms; "
            f"try a smaller n"
        )
    c = torch.linalg.solve(H, -m[:, n : 2 * n])
    companion = m.new_zeros(R, n, n)
    companion[:, 1:, :-1] = torch.eye(n - 1, dtype=m.dtype, device=m.device)
    companion[:, :, -1] = -c
    roots = torch.linalg.eigvals(companion)
    imag = roots.imag.abs() / roots.abs().clamp(min=1.0)
    if bool((imag > _IMAG_TOL).any()):
        r = int(torch.nonzero(imag > _IMAG_TOL)[0, 0])
        shown = ", ".join(f"{z.real:.4g}{z.imag:+.4g}j" for z in roots[r].tolist())
        raise ValueError(
            f"m gives complex atoms [{shown}] in run {r}: the moments are not those of a real "
            f"{n}-atom measure"
        )
    atoms = torch.sort(roots.real, dim=-1).values
    V = _powers(atoms, L).mT  # (R, L, n): V[j, i] = a_i^j
    weights = torch.linalg.lstsq(V, m.unsqueeze(-1)).solution.squeeze(-1)
    rtol = (_PRONY_RTOL if L == 2 * n else None) if rtol is None else rtol
    if rtol is not None and rtol != math.inf:
        _check_residual(m, (V @ weights.unsqueeze(-1)).squeeze(-1), n, rtol)
    return atoms, weights


def _check_residual(m: Tensor, fitted: Tensor, n: int, rtol: float) -> None:
    """Warn if the fitted measure's moments miss ``m`` by more than ``rtol`` (relative)."""
    residual = (fitted - m).abs().amax(-1) / m.abs().amax(-1)
    bad = ~(residual <= rtol)
    if bool(bad.any()):
        r = int(torch.nonzero(bad)[0])
        warnings.warn(
            f"prony: the fitted {n}-atom measure does not reproduce the moments: relative "
            f"residual {float(residual[r]):.3g} in run {r} (of {len(m)} runs; tolerance rtol = "
            f"{rtol:g}), so m is not the moment sequence of a real {n}-atom measure (noise, "
            f"more atoms, or an ill-conditioned fit); the atoms and weights are a "
            f"least-squares fit. Pass rtol=math.inf to accept any residual",
            RuntimeWarning,
            stacklevel=3,
        )


def from_measure(atoms: object, weights: object) -> LinearRNN:
    r"""The balanced diagonal model whose measure is :math:`\mu = \sum_i w_i \delta_{a_i}`.

    .. math::

        A = \operatorname{diag}(a), \qquad b_i = \sqrt{|w_i|}, \qquad
        c_i = \operatorname{sign}(w_i)\sqrt{|w_i|}, \qquad
        g_j = \sum_i w_i\, a_i^{\,j}.

    The inverse of :func:`measure` (which returns the atoms sorted): every balanced
    (:math:`|b_i| = |c_i|`) diagonal model is ``from_measure(*measure(model))`` up to the order
    of its coordinates and the signs of :math:`b_i`. For non-negative weights, :math:`c = b`.

    Parameters
    ----------
    atoms : torch.Tensor, shape (m,) or (R, m), float64
        Finite; they need not be distinct or sorted.
    weights : torch.Tensor, same shape as ``atoms``, float64
        Finite, of either sign.

    Returns
    -------
    LinearRNN, structure "diagonal", ``R`` runs (1 for 1-d inputs), ``d = m``

    Raises
    ------
    TypeError, ValueError
        For non-float64 or non-finite inputs, or shapes that differ.

    Examples
    --------
    >>> from rnnbias import impulse_response
    >>> model = from_measure([0.5, 0.95], [1 / 9, 8 / 9])  # mean 0.9: g_1 = 0.9
    >>> [round(v, 12) for v in impulse_response(model, 3)[0].tolist()]
    [1.0, 0.9, 0.83]

    References
    ----------
    Introduced in chapter 6 (students built from a measure).
    """
    a = _runs("atoms", atoms)
    w = _runs("weights", weights, a.device, "atoms")
    if a.shape != w.shape:
        raise ValueError(
            f"weights must have the shape of atoms {tuple(a.shape)} (one weight per atom), "
            f"got {tuple(w.shape)}"
        )
    B = w.abs().sqrt()
    return LinearRNN(a, B, w.sign() * B, "diagonal")


def vandermonde_student(
    teacher: object, atoms: object, k: int, *, extra: float = 0.0, balanced_signs: bool = True
) -> LinearRNN:
    r"""A diagonal model with chosen atoms that fits ``k`` taps and puts ``extra`` at lag k.

    With :math:`m` distinct atoms the weights solve the Vandermonde system

    .. math::

        \sum_{i=1}^m w_i\, a_i^{\,j} = g^\star_j \ (j < k), \qquad
        \sum_{i=1}^m w_i\, a_i^{\,k} = g^\star_k + \text{extra} \ (\text{if } m = k + 1),

    so :math:`L_k = 0` and, for :math:`m = k+1`, :math:`g_k - g^\star_k = \text{extra}`: the
    moment view of the any-tail construction. The model is :math:`A = \operatorname{diag}(a)`,
    :math:`b_i c_i = w_i`.

    Parameters
    ----------
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n)
        Target taps (as in :func:`rnnbias.linear.population_loss`).
    atoms : torch.Tensor, shape (m,) or (R, m), float64
        Distinct (gaps above 1e-12), finite atoms; ``m`` is ``k`` or ``k + 1``.
    k : int
        Training length, ``k >= 1``.
    extra : float
        Error put at lag ``k``; must be 0 when ``m == k``.
    balanced_signs : bool
        If True, :math:`b_i = \sqrt{|w_i|}` and :math:`c_i = \operatorname{sign}(w_i)
        \sqrt{|w_i|}` (balanced: :math:`|b_i| = |c_i|`); if False, :math:`b = 1`, :math:`c = w`.

    Returns
    -------
    LinearRNN, structure "diagonal", ``R`` runs (1 for 1-d atoms and teacher), ``d = m``

    Raises
    ------
    TypeError, ValueError
        For ``k < 1``, ``m`` not in ``{k, k+1}``, non-zero ``extra`` with ``m == k``, a
        non-finite ``extra``, repeated atoms, atoms so large that the system overflows, or
        run counts that do not match.

    Examples
    --------
    >>> from rnnbias import impulse_response, low_dimensional
    >>> model = vandermonde_student(low_dimensional([0.9]), [-0.5, 0.0, 0.5], 2, extra=1.0)
    >>> [round(v, 12) for v in impulse_response(model, 3)[0].tolist()]
    [1.0, 0.9, 1.81]

    References
    ----------
    Introduced in chapter 6 (the any-tail construction of chapter 3, as moments).
    """
    k = _checks.as_int("k", k, minimum=1)
    extra = _checks.as_float("extra", extra)
    if not isinstance(balanced_signs, bool):
        raise TypeError(f"balanced_signs must be a bool, got {balanced_signs!r}")
    a = _runs("atoms", atoms)
    m = a.shape[-1]
    if m not in (k, k + 1):
        raise ValueError(f"atoms must number k = {k} or k + 1 = {k + 1} per run, got {m}")
    if m == k and extra != 0.0:
        raise ValueError(f"extra must be 0 with m = k = {k} atoms (no tap left free), got {extra}")
    s = torch.sort(a, dim=-1).values
    gap = s[:, 1:] - s[:, :-1]
    if bool((gap <= _MIN_GAP).any()):
        r, i = (int(v) for v in torch.nonzero(gap <= _MIN_GAP)[0])
        raise ValueError(f"atoms must be distinct, got {float(s[r, i])!r} twice in run {r}")
    target = _runs("teacher", _target(teacher, m, a.device), a.device, "atoms")
    R = _common_runs(a, target)
    if R == 0:
        raise ValueError(
            f"teacher must give one impulse response or one per run ({a.shape[0]}), "
            f"got shape {tuple(target.shape)}"
        )
    a, rhs = a.expand(R, m).clone(), target.expand(R, m).clone()
    if m == k + 1:
        rhs[:, k] += extra
    w = torch.linalg.solve(_powers(a, m).mT, rhs)
    if _checks.has_values(w) and not bool(torch.isfinite(w).all()):
        raise ValueError(
            "atoms must keep the Vandermonde system solvable in float64: its powers or the "
            f"weights overflow to inf/NaN (atoms up to {float(a.abs().max()):.3g} over "
            f"{m} moments)"
        )
    if balanced_signs:
        B, C = w.abs().sqrt(), w.sign() * w.abs().sqrt()
    else:
        B, C = torch.ones_like(w), w
    return LinearRNN(a, B, C, "diagonal")
