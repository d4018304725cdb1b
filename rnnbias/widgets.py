r"""Explorers for the book: ipywidgets controls with a static figure beside them.

Every explorer is built from a plain plotting call (here :func:`show_oscillator`), so the
notebook can show the same figure statically for readers of the HTML book, and the widget
only lets a reader with a running kernel move the parameters.

Introduced in chapter 1. Public names: :func:`oscillator`, :func:`show_oscillator`,
:func:`eigenvalue_explorer`.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch

from . import _checks
from .linear import LinearRNN
from .plotting import plot_modes

__all__ = ["eigenvalue_explorer", "oscillator", "show_oscillator"]


def oscillator(r: float, theta: float, lam: float) -> LinearRNN:
    r"""A 3-state model with eigenvalues :math:`r e^{\pm i\theta}` and :math:`\lambda`.

    .. math::

        A = \begin{pmatrix} r\cos\theta & -r\sin\theta & 0\\ r\sin\theta & r\cos\theta & 0\\
        0 & 0 & \lambda \end{pmatrix},\quad B = (1, 0, 1)^\top,\quad C = (1, 0, 1),
        \qquad g_j = r^j \cos(j\theta) + \lambda^j .

    Parameters
    ----------
    r : float
        Modulus of the complex pair, ``>= 0``.
    theta : float
        Angle of the complex pair, in radians.
    lam : float
        The real eigenvalue.

    Returns
    -------
    LinearRNN with one run, structure "full"

    References
    ----------
    Introduced in chapter 1, section "Eigenvalues shape the impulse response".
    """
    r = _checks.as_float("r", r, nonnegative=True)
    theta = _checks.as_float("theta", theta)
    lam = _checks.as_float("lam", lam)
    c, s = r * math.cos(theta), r * math.sin(theta)
    A = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, lam]], dtype=torch.float64)
    B = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    return LinearRNN(A[None], B[None], B[None].clone())


def show_oscillator(r: float = 0.9, theta: float = 0.6, lam: float = 0.5, n: int = 30, axes=None):
    """Plot the eigenvalues and impulse response of :func:`oscillator`; return the axes."""
    return plot_modes(oscillator(r, theta, lam), n=n, axes=axes)


def eigenvalue_explorer(n: int = 30):
    """Sliders for ``r``, ``theta`` and ``lam`` of :func:`oscillator`, redrawing the figure.

    Needs a running kernel; in the HTML book the controls are shown but do not redraw, which is
    why each notebook shows the static :func:`show_oscillator` figure first.
    """
    import ipywidgets as w  # only this module imports ipywidgets

    n = _checks.as_int("n", n, minimum=2)

    def draw(r: float, theta: float, lam: float) -> None:
        show_oscillator(r, theta, lam, n=n)
        plt.show()

    return w.interactive(
        draw,
        r=w.FloatSlider(value=0.9, min=0.0, max=1.2, step=0.01, description="modulus r"),
        theta=w.FloatSlider(value=0.6, min=0.0, max=math.pi, step=0.01, description="angle θ"),
        lam=w.FloatSlider(value=0.5, min=-1.2, max=1.2, step=0.01, description="real λ"),
    )
