r"""Explorers for the book: ipywidgets controls with a static figure beside them.

Every explorer is built from a plain plotting call (here :func:`show_oscillator`), so the
notebook can show the same figure statically for readers of the HTML book, and the widget
only lets a reader with a running kernel move the parameters.

Introduced in chapter 1 (the eigenvalue explorer) and chapter 3 (the tail explorer). Public
names: :func:`oscillator`, :func:`show_oscillator`, :func:`eigenvalue_explorer`,
:func:`interpolator`, :func:`show_interpolator`, :func:`tail_explorer`.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch

from . import _checks, constructions
from .linear import LinearRNN, extrapolation_error, impulse_response, population_loss
from .plotting import COLORS, _check_axes_pair, plot_impulse_response, plot_modes
from .teachers import memoryless

__all__ = [
    "INTERPOLATORS",
    "eigenvalue_explorer",
    "interpolator",
    "oscillator",
    "show_interpolator",
    "show_oscillator",
    "tail_explorer",
]

#: The kinds of :func:`interpolator`, with the parameters each one uses.
INTERPOLATORS = {
    "nilpotent shift": "alpha",
    "cyclic": "rho",
    "geometric tail": "alpha, rho",
}


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
    rows = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, lam]]
    A = torch.tensor(rows, dtype=torch.float64, device="cpu")  # for display: on the CPU
    B = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64, device="cpu")
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


def interpolator(kind: str, k: int, alpha: float = 1.0, rho: float = 1.0, n: int = 40) -> LinearRNN:
    r"""An interpolator of the memoryless teacher at training length ``k``, of one of three kinds.

    ``"nilpotent shift"``
        :func:`~rnnbias.constructions.nilpotent_shift`: :math:`g_k = \alpha`, zero after
        (``rho`` unused).
    ``"cyclic"``
        :func:`~rnnbias.constructions.cyclic`: :math:`g_{mk} = \rho^{mk}` (``alpha`` unused).
    ``"geometric tail"``
        :func:`~rnnbias.constructions.with_tail`: :math:`g_{k+i} = \alpha \rho^i` for
        :math:`k + i < n`, zero after.

    Every kind has :math:`L_k = 0` exactly.

    Parameters
    ----------
    kind : {"nilpotent shift", "cyclic", "geometric tail"}
    k : int
        Training length, ``k >= 1``.
    alpha, rho : float
        Tail parameters (finite).
    n : int
        Lags covered by the geometric tail, ``n > k``.

    Returns
    -------
    LinearRNN with one run

    References
    ----------
    Introduced in chapter 3, section "Explore: pick a tail".
    """
    kind = _checks.as_choice("kind", kind, list(INTERPOLATORS))
    k = _checks.as_int("k", k, minimum=1)
    alpha = _checks.as_float("alpha", alpha)
    rho = _checks.as_float("rho", rho)
    n = _checks.as_int("n", n, minimum=k + 1)
    if kind == "nilpotent shift":
        return constructions.nilpotent_shift(k, alpha)
    if kind == "cyclic":
        return constructions.cyclic(k, rho)
    tail = alpha * rho ** torch.arange(n - k, dtype=torch.float64, device="cpu")
    return constructions.with_tail(k, tail)


def show_interpolator(
    kind: str = "cyclic",
    k: int = 5,
    alpha: float = 1.0,
    rho: float = 1.0,
    n: int = 40,
    axes=None,
):
    r"""Taps of an :func:`interpolator` (left) and its loss :math:`L_T` at every length (right).

    The left panel shows the head the data fix (lags below ``k``) and the tail they leave free;
    the right panel shows the population loss :math:`L_T = L_k + E_{k,T}` for
    :math:`T = 1, \dots, n`: zero at the training length, and whatever the tail makes it beyond.
    ``axes``: a pair of matplotlib Axes (new ones if None). Returns the two axes.
    """
    model = interpolator(kind, k, alpha, rho, n)
    teacher = memoryless()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
    ax_g, ax_loss = _check_axes_pair(axes)
    plot_impulse_response(
        impulse_response(model, n)[0],
        teacher=teacher.impulse_response(n),
        k=k,
        ax=ax_g,
        label="student",
        color=COLORS[0],
    )
    ax_g.legend(loc="upper right", frameon=True, framealpha=0.9)  # over the spikes: boxed
    ax_g.set_title(f"{kind}: head fixed, tail free")
    lengths = list(range(k, n + 1))
    loss_k = float(population_loss(model, teacher, k)[0])
    errors = extrapolation_error(model, teacher, k, lengths)[0] + loss_k
    ax_loss.plot(lengths, errors.numpy(), color=COLORS[1], drawstyle="steps-post", label="$L_T$")
    ax_loss.plot(
        [k], [loss_k], "o", color=COLORS[2], label=f"training loss $L_{{{k}}}$ = {loss_k:.3g}"
    )
    ax_loss.axvline(k, color="#444444", linestyle=":", linewidth=1.4, zorder=0)
    ax_loss.set_xlim(0, n + 0.5)
    ax_loss.set_xlabel("test length $T$")
    ax_loss.set_ylabel("population loss $L_T$")
    ax_loss.set_title(f"error at length {n}: $E_{{{k},{n}}}$ = {float(errors[-1] - loss_k):.4g}")
    ax_loss.legend(loc="lower right")
    return ax_g, ax_loss


def tail_explorer(n: int = 40):
    """Controls for :func:`show_interpolator`: the kind of interpolator, ``k``, ``alpha``, ``rho``.

    Whatever the controls, the training loss stays at zero while the loss at longer lengths
    moves. Needs a running kernel; the notebook shows the static figure first.
    """
    import ipywidgets as w

    n = _checks.as_int("n", n, minimum=12)

    def draw(kind: str, k: int, alpha: float, rho: float) -> None:
        show_interpolator(kind, k, alpha, rho, n=n)
        plt.show()

    options = [(f"{kind} (uses {uses})", kind) for kind, uses in INTERPOLATORS.items()]
    style = {"description_width": "initial"}  # show the whole label
    return w.interactive(
        draw,
        kind=w.Dropdown(options=options, value="cyclic", description="model", style=style),
        k=w.IntSlider(value=5, min=2, max=10, description="train length k", style=style),
        alpha=w.FloatSlider(
            value=1.0, min=-3.0, max=3.0, step=0.05, description="tail α", style=style
        ),
        rho=w.FloatSlider(
            value=1.0, min=0.0, max=1.2, step=0.01, description="decay ρ", style=style
        ),
    )
