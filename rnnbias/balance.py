r"""Balancedness: the quantity gradient flow conserves, and how gradient descent drifts from it.

The loss depends on :math:`(A, B, C)` only through the impulse response, which is invariant
under :math:`(SAS^{-1}, SB, CS^{-1})`. Differentiating that symmetry gives a conserved
quantity of gradient flow :math:`\dot\theta = -\nabla L(\theta)`:

.. math::

    Q(\theta) = AA^\top - A^\top A + BB^\top - C^\top C ,

with :math:`B` a column and :math:`C` a row. Gradient descent with step :math:`\eta` changes
it, by exactly

.. math::

    Q(\theta - \eta G) - Q(\theta) = \eta^2 \big(G_A G_A^\top - G_A^\top G_A + G_B G_B^\top
    - G_C^\top G_C\big)

per step (:func:`gd_step_change`), so over a fixed flow time the drift is :math:`O(\eta)`.
A diagonal model can only be rescaled by diagonal :math:`S`, so its conserved quantities are
the diagonal entries :math:`b_i^2 - c_i^2` of :math:`Q`.

Introduced in chapter 5, "Balancedness: what gradient flow conserves". Public names:
:func:`imbalance`, :func:`gd_step_change`.
"""

from __future__ import annotations

import math

from torch import Tensor

from . import _checks
from .linear import STRUCTURES, Gradient, LinearRNN, _check_model

__all__ = ["gd_step_change", "imbalance"]


def _outer(v: Tensor) -> Tensor:
    return v.unsqueeze(-1) * v.unsqueeze(-2)


def imbalance(model: LinearRNN) -> Tensor:
    r"""The conserved quantity :math:`Q = AA^\top - A^\top A + BB^\top - C^\top C` of every run.

    Parameters
    ----------
    model : LinearRNN
        Any structure.

    Returns
    -------
    torch.Tensor, shape (R, d, d) for full and symmetric models, (R, d) for diagonal ones
        For a diagonal model, the diagonal :math:`b_i^2 - c_i^2` of :math:`Q`: the quantities
        its gradient flow conserves (its symmetries are the diagonal rescalings only).

    Warns
    -----
    RuntimeWarning
        If :math:`Q` overflows into NaN although the parameters are finite.

    References
    ----------
    Introduced in chapter 5.

    Examples
    --------
    >>> import torch
    >>> m = LinearRNN(torch.eye(2)[None].double(), torch.ones(1, 2).double(),
    ...               torch.ones(1, 2).double())
    >>> imbalance(m).abs().max().item()
    0.0
    """
    model = _check_model(model)
    A, B, C = model
    if model.structure == "diagonal":
        Q = B * B - C * C
    else:
        Q = A @ A.mT - A.mT @ A + _outer(B) - _outer(C)
    _checks.warn_overflow("imbalance", "Q", Q, lambda: tuple(model))
    return Q


def gd_step_change(grad: Gradient, lr: float, structure: str = "full") -> Tensor:
    r"""The exact change of :math:`Q` in one gradient-descent step of size ``lr``.

    .. math::

        \Delta Q = \eta^2 \big(G_A G_A^\top - G_A^\top G_A + G_B G_B^\top - G_C^\top G_C\big),

    where :math:`G` is the gradient at the current point. The first-order terms cancel because
    :math:`\nabla_A L\, A^\top - A^\top \nabla_A L + \nabla_B L\, B^\top - C^\top \nabla_C L
    = 0` (the symmetry), which is why gradient flow conserves :math:`Q`.

    Parameters
    ----------
    grad : Gradient
        From :func:`rnnbias.linear.population_loss_grad`: float64 tensors ``A`` of shape
        (R, d, d) (full, symmetric) or (R, d) (diagonal), ``B`` and ``C`` of shape (R, d).
    lr : float
        The step size :math:`\eta`, ``>= 0``.
    structure : {"full", "diagonal", "symmetric"}
        The structure of the model the gradient belongs to; the shapes of ``grad`` must be
        those of that structure (a diagonal gradient with ``structure="full"`` would give a
        wrong (R, R) product, not an error), and for ``"symmetric"`` ``grad.A`` must be
        symmetric and ``grad.B`` equal ``grad.C``, as on the set where such models stay.

    Returns
    -------
    torch.Tensor, the shape of :func:`imbalance`

    Raises
    ------
    TypeError, ValueError
        For a non-``Gradient``, non-float64 or non-finite entries, shapes that do not fit
        ``structure``, a negative or non-finite ``lr``, or an unknown ``structure``.

    Warns
    -----
    RuntimeWarning
        If the change overflows into NaN (a huge ``lr`` or gradient).

    References
    ----------
    Introduced in chapter 5.
    """
    if not isinstance(grad, Gradient):
        raise TypeError(
            f"grad must be a Gradient (from population_loss_grad), got {type(grad).__name__}"
        )
    lr = _checks.as_float("lr", lr, nonnegative=True)
    structure = _checks.as_choice("structure", structure, STRUCTURES)
    gA, gB, gC = _check_gradient(grad, structure)
    try:
        lr2 = lr**2
    except OverflowError:  # (Python floats raise instead of returning inf)
        lr2 = math.inf
    if structure == "diagonal":
        change = lr2 * (gB * gB - gC * gC)
    else:
        change = lr2 * (gA @ gA.mT - gA.mT @ gA + _outer(gB) - _outer(gC))
    _checks.warn_overflow("gd_step_change", "the change of Q", change)
    return change


def _check_gradient(grad: Gradient, structure: str) -> tuple[Tensor, Tensor, Tensor]:
    """The gradient's tensors, checked against the shapes of ``structure``."""
    gB = _checks.as_tensor("grad.B", grad.B, ndim=2)
    gA = _checks.as_tensor("grad.A", grad.A, ndim=(2, 3), device=gB.device, other="grad.B")
    gC = _checks.as_tensor("grad.C", grad.C, ndim=2, device=gB.device, other="grad.B")
    R, d = gB.shape
    expected_A = (R, d) if structure == "diagonal" else (R, d, d)
    if gA.shape != expected_A or gC.shape != gB.shape:
        raise ValueError(
            f"grad must have the shapes of a {structure!r} model's gradient, A {expected_A} "
            f"and B, C ({R}, {d}) (from grad.B), got A {tuple(gA.shape)}, C "
            f"{tuple(gC.shape)}; pass the structure of the model the gradient belongs to"
        )
    if structure == "symmetric" and _checks.has_values(gA):
        scale = max(1.0, float(gA.abs().max()), float(gB.abs().max()))
        asym = max(float((gA - gA.mT).abs().max()), float((gB - gC).abs().max()))
        if asym > 1e-12 * scale:
            raise ValueError(
                f"grad must be symmetric for structure='symmetric' (grad.A = grad.A^T and "
                f"grad.B = grad.C), got a deviation of {asym:.3g}; use structure='full' for "
                f"the gradient of a model that is not on the symmetric set"
            )
    return gA, gB, gC
