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
        return B * B - C * C
    return A @ A.mT - A.mT @ A + _outer(B) - _outer(C)


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
        From :func:`rnnbias.linear.population_loss_grad`.
    lr : float
        The step size :math:`\eta`.
    structure : {"full", "diagonal", "symmetric"}
        The structure of the model the gradient belongs to.

    Returns
    -------
    torch.Tensor, the shape of :func:`imbalance`

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
    gA, gB, gC = grad
    if structure == "diagonal":
        return lr**2 * (gB * gB - gC * gC)
    return lr**2 * (gA @ gA.mT - gA.mT @ gA + _outer(gB) - _outer(gC))
