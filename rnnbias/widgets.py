r"""Explorers for the book: controls that move a figure, with a kernel or without one.

Every explorer is built from a plain plotting call (here :func:`show_oscillator`), so the
notebook also shows the same figure statically (for print and the PDF). An explorer is shown
two ways, from one description of its controls:

- **with a kernel** (JupyterLab): ipywidgets sliders that redraw the matplotlib figure;
- **in the page** (the HTML book, no kernel): :func:`page_explorer` writes a
  ``<div class="rnb-explorer">`` with its controls and data as JSON, and the book's
  ``explorers.js`` (``_ext/static``) draws the figure in the browser with the same formulas.

:class:`Explorer` carries both in one cell output; the book renders the in-page one.

Introduced in chapter 1 (the eigenvalue explorer) and chapter 3 (the tail explorer). Public
names: :func:`oscillator`, :func:`show_oscillator`, :func:`eigenvalue_explorer`,
:func:`interpolator`, :func:`show_interpolator`, :func:`tail_explorer`, :func:`page_explorer`,
:class:`Explorer`, :data:`CONTROLS`.
"""

from __future__ import annotations

import html
import json
import math

import matplotlib.pyplot as plt
import torch

from . import _checks, constructions
from .linear import LinearRNN, extrapolation_error, impulse_response, population_loss
from .plotting import COLORS, _check_axes_pair, plot_impulse_response, plot_modes
from .teachers import memoryless

__all__ = [
    "CONTROLS",
    "INTERPOLATORS",
    "Explorer",
    "eigenvalue_explorer",
    "interpolator",
    "oscillator",
    "page_explorer",
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


#: The controls of each explorer: ``(name, label, min, max, step, value)`` for a slider,
#: ``(name, label, [(text, value), ...], value)`` for a choice. The ipywidgets version and the
#: in-page version are both built from this table, so they offer the same settings.
CONTROLS = {
    "eigenvalues": [
        ("r", "modulus r", 0.0, 1.2, 0.01, 0.9),
        ("theta", "angle θ", 0.0, 3.14, 0.01, 0.6),
        ("lam", "real λ", -1.2, 1.2, 0.01, 0.5),
    ],
    "tails": [
        (
            "kind",
            "model",
            [(f"{kind} (uses {uses})", kind) for kind, uses in INTERPOLATORS.items()],
            "cyclic",
        ),
        ("k", "train length k", 2, 10, 1, 5),
        ("alpha", "tail α", -3.0, 3.0, 0.05, 1.0),
        ("rho", "decay ρ", 0.0, 1.2, 0.01, 1.0),
    ],
}


def _control_spec(control: tuple) -> dict:
    if len(control) == 4:
        name, label, options, value = control
        return {"name": name, "label": label, "options": [list(o) for o in options], "value": value}
    name, label, lo, hi, step, value = control
    return {"name": name, "label": label, "min": lo, "max": hi, "step": step, "value": value}


def _ipywidget(control: tuple, style: dict | None = None):
    import ipywidgets as w  # only this module imports ipywidgets

    style = style or {}
    if len(control) == 4:
        _, label, options, value = control
        return w.Dropdown(options=options, value=value, description=label, style=style)
    _, label, lo, hi, step, value = control
    if isinstance(step, int):
        return w.IntSlider(value=value, min=lo, max=hi, step=step, description=label, style=style)
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=label, style=style)


def page_explorer(
    kind: str, *, title: str, note: str, data: dict | None = None, controls: list | None = None
) -> str:
    r"""The in-page version of an explorer: HTML that the book's ``explorers.js`` brings to life.

    Parameters
    ----------
    kind : str
        An explorer that ``explorers.js`` knows (a key of :data:`CONTROLS` unless ``controls``
        is given).
    title, note : str
        Shown above and below the controls; the note says what the page computes.
    data : dict, optional
        JSON-serialisable parameters or precomputed results the page needs (e.g. ``{"n": 30}``).
    controls : list, optional
        Control tuples as in :data:`CONTROLS` (default: ``CONTROLS[kind]``).

    Returns
    -------
    str
        A ``<div class="rnb-explorer">`` holding its configuration as JSON, a fallback line for
        readers without JavaScript (and for JupyterLab, which does not run the page's script),
        and the note.

    References
    ----------
    Used in chapters 1 and 3; see the module docstring.
    """
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind must be a non-empty str, got {kind!r}")
    if controls is None:
        if kind not in CONTROLS:
            raise ValueError(
                f"kind must be one of {sorted(CONTROLS)} without controls, got {kind!r}"
            )
        controls = CONTROLS[kind]
    config = {"kind": kind, "controls": [_control_spec(c) for c in controls], "data": data or {}}
    payload = json.dumps(config, allow_nan=False).replace("</", "<\\/")
    return (
        f'<div class="rnb-explorer" id="rnb-{html.escape(kind)}">'
        f'<script type="application/json">{payload}</script>'
        f'<p class="rnb-title">{html.escape(title)}</p>'
        '<p class="rnb-fallback">The controls of this explorer are drawn by the online book '
        "(with JavaScript). In a notebook, run this cell: its sliders redraw the figure.</p>"
        f'<p class="rnb-note">{html.escape(note)}</p>'
        "</div>"
    )


class Explorer:
    """An explorer's two views in one cell output: ipywidgets (kernel) and the page's (no kernel).

    Displaying it gives a MIME bundle with the widget view, which JupyterLab shows, and the
    ``text/html`` of :func:`page_explorer`, which the HTML book shows. ``widget`` is the
    ipywidgets object, ``html`` the in-page version.
    """

    def __init__(self, widget, page_html: str) -> None:
        self.widget, self.html = widget, page_html

    def _repr_mimebundle_(self, **kwargs) -> dict:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["text/html"] = self.html
        return bundle

    def __repr__(self) -> str:
        return f"Explorer({self.widget!r})"


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


def eigenvalue_explorer(n: int = 30) -> Explorer:
    """Sliders for ``r``, ``theta`` and ``lam`` of :func:`oscillator`, redrawing the figure.

    With a kernel, ipywidgets redraw :func:`show_oscillator`; in the HTML book, the page
    computes :math:`g_j = r^j\\cos(j\\theta) + \\lambda^j` for :math:`j < n` itself (see
    :class:`Explorer`).
    """
    import ipywidgets as w  # only this module imports ipywidgets

    n = _checks.as_int("n", n, minimum=2)

    def draw(r: float, theta: float, lam: float) -> None:
        show_oscillator(r, theta, lam, n=n)
        plt.show()

    sliders = {c[0]: _ipywidget(c) for c in CONTROLS["eigenvalues"]}
    page = page_explorer(
        "eigenvalues",
        title="Explore: move the eigenvalues, watch the taps",
        note=(
            f"The page computes the taps g_j = r^j cos(jθ) + λ^j for j < {n} as you move a "
            "slider: the impulse response of rnnbias.widgets.oscillator(r, θ, λ). The taps "
            "decay when every eigenvalue is inside the circle."
        ),
        data={"n": n},
    )
    return Explorer(w.interactive(draw, **sliders), page)


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


def tail_explorer(n: int = 40) -> Explorer:
    """Controls for :func:`show_interpolator`: the kind of interpolator, ``k``, ``alpha``, ``rho``.

    Whatever the controls, the training loss stays at zero while the loss at longer lengths
    moves. With a kernel, ipywidgets redraw :func:`show_interpolator`; in the HTML book, the
    page computes the taps of :func:`interpolator` and :math:`L_T` itself (see :class:`Explorer`).
    """
    import ipywidgets as w

    n = _checks.as_int("n", n, minimum=12)

    def draw(kind: str, k: int, alpha: float, rho: float) -> None:
        show_interpolator(kind, k, alpha, rho, n=n)
        plt.show()

    style = {"description_width": "initial"}  # show the whole label
    controls = {c[0]: _ipywidget(c, style) for c in CONTROLS["tails"]}
    page = page_explorer(
        "tails",
        title="Explore: pick a tail",
        note=(
            f"The page computes the taps of rnnbias.widgets.interpolator(kind, k, α, ρ) for "
            f"j < {n} and the population loss L_T = Σ_{{j<T}} (g_j − g*_j)^2 against the "
            "memoryless teacher as you move a control; L_k stays 0 whatever the tail."
        ),
        data={
            "n": n,
            "selector": "kind",
            "uses": {kind: uses.split(", ") for kind, uses in INTERPOLATORS.items()},
        },
    )
    return Explorer(w.interactive(draw, **controls), page)
