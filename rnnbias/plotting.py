r"""One figure style for the whole book, and the plots that recur across chapters.

- :func:`plot_style`: opaque white figures, dark text, a colour-blind-safe palette (Okabe-Ito
  without its pale yellow), readable in light and dark page themes.
- :func:`mark_training_length`: the same vertical rule at every chapter's training length
  :math:`k`, separating the lags training sees from those it does not.
- :func:`plot_impulse_response`: taps against lag, the teacher black and dashed.
- :func:`plot_modes`: eigenvalues of :math:`A` in the complex plane beside the impulse response.
- :func:`plot_matrix`: a matrix as a heat map with a symmetric colour scale.

Only this module (and :mod:`rnnbias.widgets`) imports matplotlib; nothing here computes.
Tensors on any device are copied to the CPU for drawing (any real dtype: drawing needs no
float64). A wrong ``ax`` (not a matplotlib ``Axes``), ``None`` or complex data, or data of the
wrong shape raise a ``TypeError``/``ValueError`` naming the argument.
Introduced in chapter 1.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from torch import Tensor

from . import _checks
from .linear import LinearRNN, impulse_response

__all__ = [
    "COLORS",
    "TEACHER_STYLE",
    "mark_training_length",
    "plot_impulse_response",
    "plot_matrix",
    "plot_modes",
    "plot_style",
]

#: Okabe-Ito colours, darkest first; the pale yellow is left out (it vanishes in dark mode).
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
#: How the teacher is drawn in every figure.
TEACHER_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.6}


def plot_style() -> None:
    """Set the book's matplotlib style (call once, in a notebook's setup cell).

    Text is at least 10 pt, and a figure is at most 10 in wide: shown in the book's 688 px
    column at 1,280 px, the smallest text is then at least 9 px on screen. In a notebook the
    figures are drawn at twice the resolution they are shown at ("retina" PNGs), so that they
    stay sharp when zoomed.
    """
    _retina()
    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 110,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "axes.facecolor": "white",
            "axes.edgecolor": "#222222",
            "axes.labelcolor": "#111111",
            "axes.grid": True,
            "grid.color": "#b0b0b0",
            "grid.alpha": 0.5,
            "grid.linewidth": 0.6,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "font.size": 10,
            "axes.titlesize": 10,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "xtick.color": "#222222",
            "ytick.color": "#222222",
        }
    )


def _retina() -> None:
    """Inline figures as PNGs at twice their display resolution, when in IPython."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing is displayed inline
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def _check_ax(name: str, ax: object) -> Axes:
    if not isinstance(ax, Axes):
        raise TypeError(
            f"{name} must be a matplotlib Axes (e.g. from plt.subplots()), got "
            f"{_checks._describe(ax)}"
        )
    return ax


def _check_axes_pair(axes: object) -> tuple[Axes, Axes]:
    """``axes`` as a pair of matplotlib Axes (a tuple, list or array of two)."""
    if not isinstance(axes, tuple | list | np.ndarray) or len(axes) != 2:
        raise TypeError(f"axes must be a pair of matplotlib Axes, got {_checks._describe(axes)}")
    return _check_ax("axes[0]", axes[0]), _check_ax("axes[1]", axes[1])


def mark_training_length(ax: Axes, k: int, *, label: bool = True) -> Axes:
    """Draw the book's rule between lag ``k - 1`` (trained) and lag ``k`` (never seen)."""
    ax = _check_ax("ax", ax)
    k = _checks.as_int("k", k, minimum=1)
    ax.axvline(k - 0.5, color="#444444", linestyle=":", linewidth=1.4, zorder=0)
    if label:
        ax.annotate(
            f"$k={k}$",
            xy=(k - 0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            color="#444444",
        )
    return ax


def _as_numpy(x: object, name: str = "x") -> np.ndarray:
    """Real data to draw, as a NumPy array (tensors are copied to the CPU)."""
    if isinstance(x, Tensor):
        array = x.detach().cpu().numpy()
    else:
        try:
            array = np.asarray(x)
        except ValueError as e:  # ragged lists
            raise TypeError(f"{name} must be an array or tensor of real numbers") from e
    if array.dtype.kind not in "fiu" or array.size == 0:
        raise TypeError(
            f"{name} must be a non-empty array or tensor of real numbers, got "
            f"{_checks._describe(x)}"
        )
    return array.astype(float)


def _taps(x: object, name: str) -> np.ndarray:
    """Taps to draw: shape (n,), or one run (1, n)."""
    array = _as_numpy(x, name)
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1:
        raise ValueError(
            f"{name} must hold the taps of one run, shape (n,) or (1, n), got shape "
            f"{array.shape}; plot one row at a time"
        )
    return array


def plot_impulse_response(
    g: object,
    *,
    teacher: object = None,
    k: int | None = None,
    ax: Axes | None = None,
    label: str | None = None,
    **style: object,
) -> Axes:
    r"""Plot taps :math:`g_j` against lag :math:`j` (markers joined by a thin line).

    Parameters
    ----------
    g : array or tensor, shape (n,) or (1, n)
        The taps to draw.
    teacher : array or tensor, shape (n,) or (1, n), optional
        Teacher taps, drawn black and dashed.
    k : int, optional
        Training length, marked with :func:`mark_training_length`.
    ax : matplotlib Axes, optional
    label : str, optional
    **style
        Passed to ``ax.plot``.

    Returns
    -------
    matplotlib Axes
    """
    g = _taps(g, "g")
    t = None if teacher is None else _taps(teacher, "teacher")
    k = None if k is None else _checks.as_int("k", k, minimum=1)
    ax = _check_ax("ax", ax) if ax is not None else plt.gca()
    lags = np.arange(len(g))
    if t is not None:
        ax.plot(np.arange(len(t)), t, label="teacher $g^\\star_j$", **TEACHER_STYLE)
    ax.plot(lags, g, label=label, **{"marker": "o", "markersize": 3.5, "linewidth": 1.0, **style})
    if k is not None:
        mark_training_length(ax, k)
    ax.set_xlabel("lag $j$")
    ax.set_ylabel("tap $g_j = CA^jB$")
    return ax


def plot_modes(model: LinearRNN, n: int = 30, axes: tuple[Axes, Axes] | None = None) -> tuple:
    r"""Eigenvalues of :math:`A` (with the unit circle) beside the impulse response.

    Eigenvalues inside the circle give decaying taps, on it persistent ones, outside it growing
    ones; complex pairs make the taps oscillate. Plots the first run of ``model`` (a
    :class:`~rnnbias.linear.LinearRNN`) on ``axes``, a pair of matplotlib Axes (new ones if
    None), over ``n`` lags.

    Returns
    -------
    (Axes, Axes)
    """
    if not isinstance(model, LinearRNN):
        raise TypeError(f"model must be a LinearRNN, got {type(model).__name__}")
    n = _checks.as_int("n", n, minimum=1)
    if axes is not None:
        _check_axes_pair(axes)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(8.0, 3.4), gridspec_kw={"width_ratios": [1, 2]})
    ax_eig, ax_g = axes
    A = model.A[0]
    eig = A.to(torch.complex128) if model.structure == "diagonal" else torch.linalg.eigvals(A)
    theta = np.linspace(0, 2 * np.pi, 200)
    ax_eig.plot(np.cos(theta), np.sin(theta), color="#444444", linewidth=1.0)
    ax_eig.scatter(_as_numpy(eig.real), _as_numpy(eig.imag), s=40, color=COLORS[1], zorder=3)
    ax_eig.set_aspect("equal")
    ax_eig.set_xlim(-1.6, 1.6)
    ax_eig.set_ylim(-1.6, 1.6)
    ax_eig.set_xlabel(r"Re $\lambda$")
    ax_eig.set_ylabel(r"Im $\lambda$")
    ax_eig.set_title("eigenvalues of $A$")
    plot_impulse_response(impulse_response(model, n)[0], ax=ax_g, color=COLORS[0])
    ax_g.set_title(r"impulse response, $\rho(A)$" + f" = {float(eig.abs().max()):.3g}")
    return ax_eig, ax_g


def plot_matrix(M: object, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw a matrix as a heat map with a colour scale symmetric about zero.

    Non-finite entries are drawn blank; a matrix without a finite entry is refused.
    """
    M = _as_numpy(M, "M")
    if M.ndim != 2:
        raise ValueError(f"M must be a matrix, got shape {M.shape}")
    if not np.isfinite(M).any():
        raise ValueError("M must have at least one finite entry, got none")
    ax = _check_ax("ax", ax) if ax is not None else plt.gca()
    vmax = float(np.abs(M[np.isfinite(M)]).max()) or 1.0
    image = ax.imshow(M, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax
