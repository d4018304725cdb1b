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
import warnings

import matplotlib.pyplot as plt
import torch

from . import _checks, constructions
from .book import format_number
from .linear import (
    LinearRNN,
    extrapolation_error,
    impulse_response,
    population_loss,
    population_loss_grad,
)
from .plotting import COLORS, _check_axes_pair, plot_impulse_response, plot_modes
from .teachers import memoryless

__all__ = [
    "CONTROLS",
    "INTERPOLATORS",
    "Explorer",
    "draw_panel",
    "eigenvalue_explorer",
    "interpolator",
    "lazy_explorer",
    "oscillator",
    "page_explorer",
    "show_interpolator",
    "show_oscillator",
    "show_staircase",
    "show_steps",
    "sigma_law_explorer",
    "staircase_explorer",
    "step_size_explorer",
    "table_explorer",
    "tail_explorer",
    "threshold_explorer",
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


def _control_spec(control: tuple | dict) -> dict:
    if isinstance(control, dict):  # a choice among precomputed values: {name, label, values, value}
        return dict(control)
    if len(control) == 4:
        name, label, options, value = control
        return {"name": name, "label": label, "options": [list(o) for o in options], "value": value}
    name, label, lo, hi, step, value = control
    return {"name": name, "label": label, "min": lo, "max": hi, "step": step, "value": value}


def _ipywidget(control: tuple, style: dict | None = None):
    import ipywidgets as w  # only this module imports ipywidgets

    style = style or {}
    if isinstance(control, dict):
        values, label = control["values"], control["label"]
        names = control.get("labels") or [
            format_number(v) if isinstance(v, (int, float)) else str(v) for v in values
        ]
        options = list(zip(names, values, strict=True))
        if all(isinstance(v, (int, float)) for v in values):
            return w.SelectionSlider(
                options=options, value=control["value"], description=label, style=style
            )
        return w.Dropdown(options=options, value=control["value"], description=label, style=style)
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
    payload = json.dumps(config, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
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


# --- explorers over precomputed settings (chapters 4 and 7) and computed ones (chapter 9) -------


def _mathtext(text: str) -> str:
    """The explorers' markup for matplotlib: ``E_{5,40}`` and ``ρ_j^2`` become mathtext."""
    import re

    index = r"[_^](?:\{[^}]*\}|[A-Za-z0-9∞](?![A-Za-z0-9]))"

    def math(m: re.Match) -> str:
        parts = re.findall(r"([_^])(?:\{([^}]*)\}|(.))", m.group(2))
        return "$" + m.group(1) + "".join(f"{op}{{{a or b}}}" for op, a, b in parts) + "$"

    return re.sub(rf"([^\s(),:=_^]+?)((?:{index})+)", math, text)


def draw_panel(ax, panel: dict, axes_data: dict | None = None) -> None:
    """Draw one explorer panel (the JSON that ``explorers.js`` draws as SVG) with matplotlib.

    The ipywidgets version of an explorer draws the same panels as the page, from the same
    description: ``title``, ``xlabel``, ``ylabel``, ``ylog``, ``xlim``, ``ylim``, ``equal``,
    ``circle``, ``vlines`` and ``series`` (``x``, ``y`` — or the name of an array in
    ``axes_data`` —, ``kind`` "line", "steps", "points" or "stem", ``color``, ``dash``,
    ``label``).
    """
    axes_data = axes_data or {}
    for i, series in enumerate(panel["series"]):
        x = axes_data[series["x"]] if isinstance(series["x"], str) else series["x"]
        y = axes_data[series["y"]] if isinstance(series["y"], str) else series["y"]
        x = [float("nan") if v is None else v for v in x]
        y = [float("nan") if v is None else v for v in y]
        color = series.get("color", COLORS[i % len(COLORS)])
        color = "black" if color == "currentColor" else color
        label = _mathtext(series["label"]) if series.get("label") else None
        kind = series.get("kind", "line")
        style = "--" if series.get("dash") else "-"
        if kind == "line":
            ax.plot(x, y, style, color=color, label=label)
        elif kind == "steps":
            ax.plot(x, y, style, color=color, label=label, drawstyle="steps-post")
        elif kind == "points":
            ax.plot(x, y, "o", color=color, ms=series.get("size", 3) + 1, label=label)
        else:  # stem
            ax.vlines(x, 0, y, color=color, linewidth=1.0)
            ax.plot(x, y, "o", color=color, ms=4, label=label)
    if panel.get("circle"):
        t = [2 * math.pi * i / 200 for i in range(201)]
        ax.plot([math.cos(v) for v in t], [math.sin(v) for v in t], color="#444444", lw=1.0)
    for line in panel.get("vlines", []):
        ax.axvline(line["x"], color="#444444", linestyle=":", linewidth=1.2)
    if panel.get("ylog"):
        ax.set_yscale("log")
        if panel.get("yfloor"):
            ax.set_ylim(bottom=max(ax.get_ylim()[0], panel["yfloor"]))
    if panel.get("xlim"):
        ax.set_xlim(*panel["xlim"])
    if panel.get("ylim"):
        ax.set_ylim(*panel["ylim"])
    if panel.get("equal"):
        ax.set_aspect("equal")
    ax.set_title(_mathtext(panel.get("title", "")))
    ax.set_xlabel(_mathtext(panel.get("xlabel", "")))
    ax.set_ylabel(_mathtext(panel.get("ylabel", "")))
    if any(series.get("label") for series in panel["series"]):
        ax.legend(loc="best")


def _show_panels(panels: list, readouts: list, axes_data: dict | None = None) -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6))
    for ax, panel in zip(list(axes) if len(panels) > 1 else [axes], panels, strict=True):
        draw_panel(ax, panel, axes_data)
    fig.tight_layout()
    plt.show()
    print("   ·   ".join(f"{name}: {value}" for name, value in readouts))


def _rounded(x: object, digits: int = 4):
    """A float with ``digits`` significant digits for the page's JSON (None if not finite)."""
    x = float(x)
    return float(f"{x:.{digits}g}") if math.isfinite(x) else None


def _beyond(x: float) -> str:
    """A readout: the number, or what a non-finite one means here."""
    return format_number(x) if math.isfinite(x) else "beyond float64 (the taps overflow)"


def table_explorer(
    name: str,
    *,
    title: str,
    note: str,
    controls: list[dict],
    table: dict,
    axes: dict,
    extra: dict | None = None,
) -> Explorer:
    """An explorer over precomputed settings: every combination of the controls' values.

    ``controls`` are dicts ``{"name", "label", "values", "value"}`` (optionally ``"labels"``);
    ``table`` maps the positions of the chosen values, joined by ``|`` (``"0|3|1"``), to
    ``{"panels": [...], "readouts": [[name, text], ...], "values": {...}}``; ``axes`` holds
    arrays that panels name instead of repeating them; ``extra``, anything else to keep beside
    the table (how the runs were made, for a reader or a test). The page switches between
    entries; the ipywidgets version draws the same entries with :func:`draw_panel`.
    """
    import ipywidgets as w

    def draw(**chosen) -> None:
        key = "|".join(str(c["values"].index(chosen[c["name"]])) for c in controls)
        entry = table[key]
        _show_panels(entry["panels"], entry["readouts"], axes)

    widgets_ = {c["name"]: _ipywidget(c, {"description_width": "initial"}) for c in controls}
    page = page_explorer(
        "table",
        title=title,
        note=note,
        data={"table": table, "axes": axes, **(extra or {})},
        controls=controls,
    ).replace('id="rnb-table"', f'id="rnb-{html.escape(name)}"')
    return Explorer(w.interactive(draw, **widgets_), page)


def sigma_law_explorer(
    ks: list[int],
    sigmas: list[float],
    seeds: list[int],
    students: dict,
    teacher: object,
    *,
    horizon: int = 1000,
) -> Explorer:
    r"""Chapter 4's explorer: the tail each trained student keeps, and the :math:`\sigma^{2k}` law.

    ``students`` maps a start's name ("generic", "symmetric-balanced") to a
    :class:`~rnnbias.linear.LinearRNN` of ``len(ks) * len(sigmas) * len(seeds)`` trained runs,
    in that order (``k`` slowest). For each setting the page shows the distance from the teacher
    :math:`|g_j - g^\star_j|` over ``horizon`` lags, :math:`E_{k,T}` against :math:`T`, and
    :math:`E_{k,100}` against :math:`\sigma` for that ``k``, seed and start, with the slope of
    the law over the three smallest scales.

    References
    ----------
    Chapter 4, section "A random start: the scale decides".
    """
    import torch

    shape = (len(ks), len(sigmas), len(seeds))
    # every lag up to 60, then 40 lags spaced evenly in log up to the horizon
    lags = sorted(
        set(range(min(horizon, 60)))
        | {round(v) - 1 for v in torch.logspace(math.log10(60), math.log10(horizon), 40).tolist()}
    )
    T_grid = sorted({round(v) for v in torch.logspace(0.3, math.log10(horizon), 40).tolist()})
    table, g_star = {}, teacher.impulse_response(horizon)
    for s_i, (start, model) in enumerate(students.items()):
        with warnings.catch_warnings():  # the taps of students with rho(A) > 1 overflow before
            warnings.simplefilter("ignore", RuntimeWarning)  # the horizon: drawn as missing
            taps = impulse_response(model, horizon)
        err = (taps - g_star).abs().view(*shape, horizon)
        for k_i, k in enumerate(ks):
            tail_energy = (err[k_i] ** 2).clone()
            tail_energy[..., :k] = 0.0
            E = tail_energy.cumsum(-1)  # E[..., T - 1] = E_{k,T}
            E100 = E[..., 99]  # (sigma, seed)
            logs = torch.log10(torch.tensor(sigmas[:3], dtype=torch.float64))
            for sd_i in range(len(seeds)):
                y = torch.log10(E100[:3, sd_i])
                slope = float(
                    ((logs - logs.mean()) * (y - y.mean())).sum()
                    / ((logs - logs.mean()) ** 2).sum()
                )
                for sg_i, sigma in enumerate(sigmas):
                    e = err[k_i, sg_i, sd_i, lags]
                    E_T = [_rounded(E[sg_i, sd_i, T - 1]) if T > k else None for T in T_grid]
                    key = f"{sg_i}|{k_i}|{sd_i}|{s_i}"
                    table[key] = {
                        "panels": [
                            {
                                "title": f"|g_j − g*_j|, {start} start",
                                "yfloor": 1e-40,
                                "xlim": [0, horizon],
                                "xlabel": "lag j",
                                "ylabel": "|g_j − g*_j|",
                                "ylog": True,
                                "vlines": [{"x": k - 0.5, "label": f"k = {k}"}],
                                "series": [
                                    {
                                        "x": "lags",
                                        "y": [_rounded(v, 3) for v in e.tolist()],
                                        "kind": "line",
                                        "color": COLORS[0],
                                    }
                                ],
                            },
                            {
                                "title": f"E_{{k,100}} against σ (k = {k}, seed {seeds[sd_i]})",
                                "xlabel": "log10 σ",
                                "ylabel": "E_{k,100}",
                                "ylog": True,
                                "series": [
                                    {
                                        "x": "log_sigma",
                                        "y": [_rounded(v) for v in E100[:, sd_i].tolist()],
                                        "kind": "line",
                                        "color": COLORS[1],
                                        "label": "this seed",
                                    },
                                    {
                                        "x": [_rounded(math.log10(sigma))],
                                        "y": [_rounded(E100[sg_i, sd_i])],
                                        "kind": "points",
                                        "size": 6,
                                        "color": COLORS[2],
                                        "label": f"σ = {sigma}",
                                    },
                                ],
                            },
                            {
                                "title": "E_{k,T} against the test length",
                                "xlabel": "test length T",
                                "ylabel": "E_{k,T}",
                                "ylog": True,
                                "series": [
                                    {"x": "T", "y": E_T, "kind": "line", "color": COLORS[3]}
                                ],
                            },
                        ],
                        "readouts": [
                            ["E_{k,100}", format_number(float(E100[sg_i, sd_i]))],
                            [f"E_{{k,{horizon}}}", _beyond(float(E[sg_i, sd_i, -1]))],
                            [
                                "slope of log E_{k,100} over the 3 smallest σ",
                                f"{slope:.3g} (2k = {2 * k})",
                            ],
                        ],
                        "values": {"E100": float(E100[sg_i, sd_i]), "slope": slope},
                    }
    controls = [
        {"name": "sigma", "label": "initial scale σ", "values": list(sigmas), "value": sigmas[3]},
        {"name": "k", "label": "training length k", "values": list(ks), "value": ks[1]},
        {"name": "seed", "label": "seed", "values": list(seeds), "value": seeds[0]},
        {
            "name": "start",
            "label": "start",
            "values": list(students),
            "value": next(iter(students)),
        },
    ]
    return table_explorer(
        "sigma-law",
        title="Explore: the scale of the start decides the tail",
        note=(
            f"Every setting is one of the chapter's {len(ks) * len(sigmas) * len(seeds)} runs per "
            "start, trained by rnnbias when the book was built; the page switches between them. "
            f"The panels: |g_j − g*_j| over {horizon} lags; E_{{k,100}} for every σ, this k "
            "and seed (the law predicts a slope 2k at small σ); E_{k,T} against T."
        ),
        controls=controls,
        table=table,
        axes={
            "lags": lags,
            "T": T_grid,
            "log_sigma": [_rounded(math.log10(v)) for v in sigmas],
        },
    )


def _steps_entry(eta: float, teacher_name: str, data: dict) -> dict:
    """The step-size explorer's panels, computed by rnnbias (the page computes the same in JS)."""
    import torch

    k, n, T = data["k"], data["steps"], data["horizon"]
    target = torch.tensor(data["teachers"][teacher_name], dtype=torch.float64)
    a, b, c = (torch.tensor([[v]], dtype=torch.float64) for v in data["start"])
    model = LinearRNN(a[:, :, None], b, c)
    losses, diverged = [], -1
    for t in range(n + 1):
        loss, grad = population_loss_grad(model, target, k)
        losses.append(float(loss[0]))
        if not math.isfinite(losses[-1]) or losses[-1] > 1e12:
            diverged = t
            break
        if t == n:
            break
        model = LinearRNN(*(p - eta * g for p, g in zip(model, grad, strict=True)))
    g_end = impulse_response(model, T)[0]
    E = float(((g_end[k:] - target[k:T]) ** 2).sum())
    ratio = eta * data["sharpness"][teacher_name] / 2
    if diverged >= 0:
        outcome = f"diverged at step {diverged}"
    elif losses[n] < 1e-12:
        outcome = "converged"
    else:
        outcome = f"not converged after {n} steps"
    shown = min(T, 30)
    return {
        "panels": [
            {
                "title": f"training loss, η = {format_number(eta, 3)}",
                "xlabel": "gradient-descent step",
                "ylabel": f"L_{k}",
                "ylog": True,
                "series": [{"x": list(range(len(losses))), "y": losses, "kind": "line"}],
            },
            {
                "title": "taps after the last step",
                "xlabel": "lag j",
                "ylabel": "tap g_j",
                "vlines": [{"x": k - 0.5, "label": f"k = {k}"}],
                "series": [
                    {
                        "x": list(range(shown)),
                        "y": target[:shown].tolist(),
                        "kind": "line",
                        "dash": "5 4",
                        "color": "currentColor",
                        "label": "teacher",
                    },
                    {
                        "x": list(range(shown)),
                        "y": g_end[:shown].tolist(),
                        "kind": "points",
                        "color": COLORS[1],
                        "label": "student",
                    },
                ],
            },
        ],
        "readouts": [
            ["η λ / 2 at the balanced interpolant", format_number(ratio, 3)],
            ["outcome", outcome],
            [f"final L_{k}", "-" if diverged >= 0 else format_number(losses[n], 3)],
            [f"E_{{{k},{T}}}", "-" if diverged >= 0 else format_number(E, 3)],
        ],
    }


def _steps_data(k: int = 5, steps: int = 3000, horizon: int = 100) -> dict:
    """What the step-size explorer needs: teachers' taps, the start and the sharpness values."""
    import torch

    from .linear import loss_hessian
    from .teachers import low_dimensional

    teachers = {"memoryless": memoryless(), "0.9^j": low_dimensional([0.9])}
    one = torch.ones(1, 1, dtype=torch.float64)
    sharpness = {}
    for name, teacher in teachers.items():
        a = 0.0 if name == "memoryless" else 0.9
        balanced = LinearRNN(torch.full((1, 1, 1), a, dtype=torch.float64), one, one.clone())
        sharpness[name] = float(torch.linalg.eigvalsh(loss_hessian(balanced, teacher, k)[0])[-1])
    return {
        "k": k,
        "steps": steps,
        "horizon": horizon,
        "start": [0.01, 0.01, 0.012],
        "teachers": {name: t.impulse_response(horizon).tolist() for name, t in teachers.items()},
        "sharpness": sharpness,
    }


def _draw_pair(entry: dict, axes: object) -> tuple:
    """Draw an explorer entry's two panels on ``axes`` (a pair; new ones if None)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
    pair = _check_axes_pair(axes)
    for ax, panel in zip(pair, entry["panels"], strict=True):
        draw_panel(ax, panel)
    return pair


def show_steps(teacher: str = "memoryless", eta: float = 0.1, *, axes=None, **settings) -> tuple:
    r"""Gradient descent on a one-mode student :math:`g_j = b c a^j`: the loss and the taps.

    The two panels of :func:`step_size_explorer` for one setting, drawn with matplotlib on
    ``axes`` (a pair; new ones if None). ``settings``: ``k``, ``steps``, ``horizon``.
    Returns the two axes.
    """
    data = _steps_data(**settings)
    if teacher not in data["teachers"]:
        raise ValueError(f"teacher must be one of {list(data['teachers'])}, got {teacher!r}")
    eta = _checks.as_float("eta", eta, positive=True)
    return _draw_pair(_steps_entry(eta, teacher, data), axes)


def step_size_explorer(k: int = 5, steps: int = 3000, horizon: int = 100) -> Explorer:
    r"""Chapter 9's step-size explorer: gradient descent on a one-mode student, run in the page.

    The student is :math:`(a, b, c)` with :math:`g_j = b c a^j`, started at
    :math:`(0.01, 0.01, 0.012)`; the page runs ``steps`` steps of gradient descent on
    :math:`L_k` for the chosen teacher and step size :math:`\eta` as the slider moves, and
    prints :math:`\eta\lambda/2`, where :math:`\lambda` is the sharpness of the balanced
    interpolant (:func:`rnnbias.linear.loss_hessian`): above 1, gradient descent cannot settle
    there (chapter 9's proposition on sharpness). The ipywidgets version runs the same steps
    with :func:`rnnbias.linear.population_loss_grad` (:func:`show_steps`).

    References
    ----------
    Chapter 9, section "Large step sizes".
    """
    import torch

    data = _steps_data(k, steps, horizon)
    sharpness = data["sharpness"]
    etas = [float(f"{v:.3g}") for v in torch.logspace(math.log10(0.003), math.log10(1.2), 27)]
    controls = [
        {
            "name": "teacher",
            "label": "teacher",
            "values": list(data["teachers"]),
            "value": "memoryless",
            "labels": ["memoryless", "0.9ʲ"],
        },
        {
            "name": "eta",
            "label": "step size η",
            "values": etas,
            "value": min(etas, key=lambda v: abs(v - 0.1)),
        },
    ]

    return _computed_explorer(
        "steps",
        title="Explore: the step size against the sharpness",
        note=(
            f"The page runs {steps} steps of gradient descent on L_{k} for a one-mode student "
            "g_j = b c a^j from (a, b, c) = (0.01, 0.01, 0.012) each time you move a control. "
            "The sharpness λ of the balanced interpolant is "
            f"{format_number(sharpness['memoryless'], 4)} for the memoryless teacher and "
            f"{format_number(sharpness['0.9^j'], 4)} for 0.9^j "
            "(computed by rnnbias.loss_hessian); gradient descent cannot settle there once "
            "η λ / 2 > 1."
        ),
        data=data,
        controls=controls,
        entry=lambda teacher, eta, data: _steps_entry(eta, teacher, data),
    )


def _computed_explorer(
    kind: str, *, title: str, note: str, data: dict, controls: list, entry
) -> Explorer:
    """An explorer whose page computes its figure (``explorers.js`` kind ``kind``); the
    ipywidgets version draws ``entry(**chosen, data=data)`` (panels computed by rnnbias)."""
    import ipywidgets as w

    def draw(**chosen) -> None:
        result = entry(**chosen, data=data)
        _show_panels(result["panels"], result["readouts"])

    page = page_explorer(kind, title=title, note=note, data=data, controls=controls)
    style = {"description_width": "initial"}
    widgets_ = {
        (c["name"] if isinstance(c, dict) else c[0]): _ipywidget(c, style) for c in controls
    }
    return Explorer(w.interactive(draw, **widgets_), page)


def _lazy_entry(sw2: float, k: int, data: dict) -> dict:
    """The lazy-kernel explorer's panels, computed by rnnbias (the page computes the same)."""
    from .lazy import rho_squared

    J, sf, sc = data["lags"], data["sf"], data["sc"]
    rho2 = rho_squared(range(J), math.sqrt(sw2), sf, sc).tolist()
    tail = [sc**2 * sf**2 * sw2**j for j in range(J)]
    limit = sc**2 * sf**2 * sw2**k / (1 - sw2) if sw2 < 1 else math.inf
    return {
        "panels": [
            {
                "title": f"tangent kernel, σ_W^2 = {format_number(sw2, 3)}",
                "xlabel": "lag j",
                "ylabel": "ρ_j^2",
                "ylog": True,
                "series": [{"x": list(range(J)), "y": rho2, "kind": "line", "label": "ρ_j^2"}],
            },
            {
                "title": f"the tail lazy training keeps, k = {k}",
                "xlabel": "lag j",
                "ylabel": "E (g_j^{(0)})^2",
                "ylog": True,
                "vlines": [{"x": k - 0.5, "label": "k"}],
                "series": [
                    {
                        "x": list(range(k)),
                        "y": tail[:k],
                        "kind": "points",
                        "color": COLORS[2],
                        "label": "head (fitted)",
                    },
                    {
                        "x": list(range(k, J)),
                        "y": tail[k:],
                        "kind": "points",
                        "color": COLORS[1],
                        "label": "tail (frozen)",
                    },
                ],
            },
        ],
        "readouts": [
            ["ρ_0^2", format_number(rho2[0])],
            [f"ρ_{{{J - 1}}}^2", format_number(rho2[-1])],
            [
                "expected error E_{k,∞} in the limit",
                format_number(limit) if sw2 < 1 else "infinite (σ_W ≥ 1)",
            ],
        ],
    }


def lazy_explorer(lags: int = 40) -> Explorer:
    r"""Chapter 9's kernel explorer: :math:`\rho_j^2` and the frozen tail, against :math:`\sigma_W`.

    The page computes :math:`\rho_j^2 = \sigma_W^{2j}(\sigma_F^2 + \sigma_C^2) + j\,
    \sigma_W^{2(j-1)}\sigma_F^2\sigma_C^2` (:func:`rnnbias.lazy.rho_squared`, with
    :math:`\sigma_F = \sigma_C = 1`), the expected squared initial taps
    :math:`\sigma_C^2\sigma_F^2\sigma_W^{2j}` that lazy training leaves in place beyond ``k``,
    and their sum, the limit of the expected error :math:`\sigma_W^{2k}/(1 - \sigma_W^2)`.

    References
    ----------
    Chapter 9, section "Wide and lazy: the kernel regime".
    """

    data = {"lags": lags, "sf": 1.0, "sc": 1.0}
    controls = [
        ("sw2", "σ_W²", 0.05, 1.2, 0.01, 0.5),
        ("k", "training length k", 1, 10, 1, 3),
    ]

    return _computed_explorer(
        "lazy",
        title="Explore: the kernel of a wide network, and the tail it keeps",
        note=(
            "The page computes ρ_j^2 = σ_W^{2j} (σ_F^2 + σ_C^2) + j σ_W^{2(j−1)} σ_F^2 σ_C^2 "
            "(σ_F = σ_C = 1), the expected initial taps σ_W^{2j} that lazy training leaves in "
            "place beyond k, and their sum σ_W^{2k} / (1 − σ_W^2), as you move a slider."
        ),
        data=data,
        controls=controls,
        entry=_lazy_entry,
    )


def threshold_explorer(
    teachers: dict,
    *,
    d: int = 40,
    ks: tuple = (2, 3, 4, 5, 6, 7),
    sigmas: tuple = (0.01, 0.1, 1.0),
    seed: int = 0,
    horizon: int = 1000,
) -> Explorer:
    r"""Chapter 7's explorer: the threshold :math:`k > 2\hat d`, over teacher, k, scale and start.

    ``teachers`` maps a label to a low-dimensional :class:`~rnnbias.teachers.Teacher` (with
    atoms and weights). For every teacher, ``k``, :math:`\sigma` and start (generic, or balanced:
    :math:`c = b` at the start) it trains one diagonal student of dimension ``d`` from
    ``init_gaussian(d, sigma, seed, structure="diagonal")`` with
    ``train_gd(lr=0.05, tol=1e-12, max_steps=100_000)``, all runs in one call, and shows the
    learned measure against the teacher's and :math:`|g_j - g^\star_j|` over ``horizon`` lags.

    References
    ----------
    Chapter 7, section "The threshold".
    """
    import torch

    from .linear import init_gaussian
    from .moments import measure
    from .train import train_gd

    names = list(teachers)
    grid = [
        (t, k, s, start)
        for t in names
        for k in ks
        for s in sigmas
        for start in ("generic", "balanced")
    ]
    init = init_gaussian(d, [s for _, _, s, _ in grid], [seed] * len(grid), structure="diagonal")
    balanced = torch.tensor([start == "balanced" for *_, start in grid])[:, None]
    init = LinearRNN(init.A, init.B, torch.where(balanced, init.B, init.C), "diagonal")
    targets = torch.stack([teachers[t].impulse_response(horizon) for t, *_ in grid])
    result = train_gd(
        init, targets, [k for _, k, _, _ in grid], lr=0.05, tol=1e-12, max_steps=100_000
    )
    with warnings.catch_warnings():  # taps beyond float64 (an atom far above 1): drawn as missing
        warnings.simplefilter("ignore", RuntimeWarning)
        err = (impulse_response(result.model, horizon) - targets).abs()
    atoms, weights = measure(result.model)
    lags = sorted(
        set(range(min(horizon, 100)))
        | {round(v) - 1 for v in torch.logspace(2, math.log10(horizon), 40).tolist()}
    )
    table = {}
    for r, (t, k, s, start) in enumerate(grid):
        d_hat = len(teachers[t].eigenvalues)
        sup = float(err[r].max())
        positions = (
            names.index(t),
            ks.index(k),
            sigmas.index(s),
            ["generic", "balanced"].index(start),
        )
        key = "|".join(map(str, positions))
        side = "k ≥ 2d̂ + 1" if k >= 2 * d_hat + 1 else "k ≤ 2d̂"
        table[key] = {
            "panels": [
                {
                    "title": "learned measure and the teacher's",
                    "xlabel": "atom a_i (eigenvalue)",
                    "ylabel": "weight w_i = b_i c_i",
                    "series": [
                        {
                            "x": [_rounded(v) for v in atoms[r].tolist()],
                            "y": [_rounded(v) for v in weights[r].tolist()],
                            "kind": "stem",
                            "color": COLORS[0],
                            "label": "student",
                        },
                        {
                            "x": teachers[t].eigenvalues.tolist(),
                            "y": teachers[t].weights.tolist(),
                            "kind": "points",
                            "size": 5,
                            "color": "currentColor",
                            "label": "teacher",
                        },
                    ],
                },
                {
                    "title": f"|g_j − g*_j| over {horizon} lags",
                    "xlabel": "lag j",
                    "ylabel": "|g_j − g*_j|",
                    "ylog": True,
                    "yfloor": 1e-16,
                    "xlim": [0, horizon],
                    "vlines": [{"x": k - 0.5, "label": f"k = {k}"}],
                    "series": [
                        {
                            "x": "lags",
                            "y": [_rounded(v, 3) for v in err[r, lags].tolist()],
                            "kind": "line",
                            "color": COLORS[1],
                        }
                    ],
                },
            ],
            "readouts": [
                [f"L_{k}", format_number(float(result.loss[r]), 3)],
                [f"largest error over {horizon} lags", _beyond(sup)],
                ["largest |a_i|", format_number(float(atoms[r].abs().max()), 4)],
                ["this k", f"{side} (d̂ = {d_hat})"],
            ],
            "values": {"sup": sup if math.isfinite(sup) else None, "loss": float(result.loss[r])},
        }
    controls = [
        {"name": "teacher", "label": "teacher", "values": names, "value": names[0]},
        {"name": "k", "label": "training length k", "values": list(ks), "value": ks[0]},
        {"name": "sigma", "label": "initial scale σ", "values": list(sigmas), "value": sigmas[0]},
        {
            "name": "start",
            "label": "start",
            "values": ["generic", "balanced"],
            "value": "generic",
            "labels": ["generic", "balanced (c = b)"],
        },
    ]
    return table_explorer(
        "threshold",
        title="Explore: the threshold k > 2d̂",
        note=(
            f"{len(grid)} diagonal students (d = {d}, seed {seed}), one per setting, trained "
            "by rnnbias when the book was built; the page switches between them. The panels: "
            "the measure Σ w_i δ(a_i) the student learned (stems) against the teacher's (dots), "
            f"and the student's error at every lag up to {horizon}."
        ),
        controls=controls,
        table=table,
        axes={"lags": lags},
        extra={
            "teachers": {
                t: {
                    "atoms": teachers[t].eigenvalues.tolist(),
                    "weights": teachers[t].weights.tolist(),
                }
                for t in names
            },
            "settings": {"d": d, "seed": seed, "lr": 0.05, "tol": 1e-12, "max_steps": 100_000},
        },
    )


# --- chapter 10: the staircase, computed in the page ----------------------------------------


def _staircase_data(d: int = 8, k: int = 7, steps: int = 3000, lr: float = 0.01) -> dict:
    """What the staircase explorer needs: the start's direction (the draw that every sigma
    rescales, :func:`rnnbias.init_gaussian` with sigma = 1) and the training settings."""
    from .linear import init_gaussian

    base = init_gaussian(d, 1.0, 0)
    return {
        "d": d,
        "k": k,
        "steps": steps,
        "lr": lr,
        "record": 10,  # the Hankel singular values every 10 steps
        "hankel": 5,  # H_5: taps 0..10
        "A": base.A[0].tolist(),
        "B": base.B[0].tolist(),
        "C": base.C[0].tolist(),
    }


def _staircase_entry(sigma: float, lam1: float, lam2: float, w2: float, data: dict) -> dict:
    """The staircase explorer's panels, computed by rnnbias (the page computes the same)."""
    from . import dynamics, moments
    from .train import train_gd

    k, n, lr, every, h = data["k"], data["steps"], data["lr"], data["record"], data["hankel"]
    start = LinearRNN(
        sigma * torch.tensor([data["A"]], dtype=torch.float64),
        sigma * torch.tensor([data["B"]], dtype=torch.float64),
        sigma * torch.tensor([data["C"]], dtype=torch.float64),
    )
    j = torch.arange(max(k, 2 * h + 1), dtype=torch.float64)
    target = lam1**j + w2 * lam2**j
    hsv = {
        "hsv": lambda m: torch.linalg.svdvals(moments.hankel(impulse_response(m, 2 * h + 1), h))[
            :, :3
        ]
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a divergence is reported below
        run = train_gd(start, target, k, lr=lr, max_steps=n, tol=0)  # the loss at every step
        sparse = train_gd(
            start, target, k, lr=lr, max_steps=n, tol=0, record_every=every, track=hsv
        )
    loss = run.loss_history[:, 0]
    diverged = bool(run.diverged[0])
    atom, _, fit = (float(v[0]) for v in dynamics.one_atom_fit(target[:k], k))
    g0 = float(target[0])
    n0 = dynamics.steps_per_decade(2 * abs(g0), lr) if g0 != 0 else math.inf
    level0 = float((target[:k] ** 2).sum()) / 2
    first = int(dynamics.first_step_below(run, level0)[0]) if level0 > 0 else -1
    second = int(dynamics.first_step_below(run, fit / 2)[0]) if fit > 0 else -1
    hsv = sparse.tracked["hsv"][:, 0]
    recorded = sparse.history_steps.tolist()
    steps_axis = list(range(n + 1))
    return {
        "panels": [
            {
                "title": f"training loss, σ = {format_number(sigma, 2)}",
                "xlabel": "gradient-descent step",
                "ylabel": f"L_{k}",
                "ylog": True,
                "yfloor": 1e-14,
                "series": [
                    {"x": steps_axis, "y": loss.tolist(), "kind": "line", "label": "student"},
                    {
                        "x": [0, n],
                        "y": [fit, fit],
                        "kind": "line",
                        "dash": "5 4",
                        "color": "currentColor",
                        "label": "one-atom fit L_1*",
                    },
                ],
            },
            {
                "title": "the state space, one dimension at a time",
                "xlabel": "gradient-descent step",
                "ylabel": f"singular value of H_{h}",
                "ylog": True,
                "yfloor": 1e-16,
                "series": [
                    {"x": recorded, "y": hsv[:, i].tolist(), "kind": "line", "label": f"s_{i + 1}"}
                    for i in range(3)
                ],
            },
        ],
        "readouts": _staircase_readouts(k, n, n0, first, atom, fit, second, loss, diverged),
    }


def _fmt0(x: float) -> str:
    """A number as the page writes it (``fmt`` in explorers.js writes an exact zero as 0)."""
    return "0" if x == 0 else format_number(x, 4)


def _staircase_readouts(k, n, n0, first, atom, fit, second, loss, diverged) -> list:
    def at(step: int) -> str:
        return f"step {step}" if step >= 0 else f"not within {n} steps"

    final = "diverged" if diverged else format_number(float(loss[-1]), 3)
    return [
        ["first escape, predicted", f"{format_number(n0, 4)} steps per decade of σ"],
        ["first drop (L below half its start)", at(first)],
        ["best one-atom fit", f"a* = {format_number(atom, 4)}, L_1* = {_fmt0(fit)}"],
        ["second drop (below L_1*/2)", at(second)],
        [f"final L_{k}", final],
    ]


def show_staircase(
    sigma: float = 1e-4, lam1: float = 0.9, lam2: float = -0.6, w2: float = 0.5, *, axes=None
) -> tuple:
    r"""A full student (:math:`d = 8`) trained on :math:`\lambda_1^j + w_2\lambda_2^j` from scale
    ``sigma``: the loss and the three largest Hankel singular values, as the explorer shows them.

    Returns the two axes (new ones if ``axes`` is None).

    References
    ----------
    Chapter 10, section "Explore: the staircase".
    """
    sigma = _checks.as_float("sigma", sigma, positive=True)
    lam1, lam2, w2 = (
        _checks.as_float(n, v) for n, v in [("lam1", lam1), ("lam2", lam2), ("w2", w2)]
    )
    return _draw_pair(_staircase_entry(sigma, lam1, lam2, w2, _staircase_data()), axes)


def staircase_explorer() -> Explorer:
    r"""Chapter 10's explorer: gradient descent on a full student from scale :math:`\sigma`, in
    the page, against the teacher :math:`g^\star_j = \lambda_1^j + w_2\lambda_2^j`.

    The student has :math:`d = 8`, a fixed direction (:func:`rnnbias.init_gaussian` with seed
    0) scaled by :math:`\sigma`, and is trained for 3,000 steps with :math:`\eta = 0.01` at
    :math:`k = 7`. The page prints the predicted first-escape rate
    :math:`\ln 10/\ln(1 + 2\eta|g^\star_0|)` steps per decade of :math:`\sigma`, the best
    one-atom fit (:func:`rnnbias.dynamics.one_atom_fit`) and the steps of the drops; the
    ipywidgets version trains the same student with :func:`rnnbias.train_gd`.

    References
    ----------
    Chapter 10, section "Explore: the staircase".
    """
    data = _staircase_data()
    sigmas = [10.0**-e for e in range(1, 9)]
    controls = [
        {
            "name": "sigma",
            "label": "initial scale σ",
            "values": sigmas,
            "value": 1e-4,
            "labels": [f"10^-{e}" for e in range(1, 9)],
        },
        ("lam1", "first eigenvalue λ₁", 0.1, 0.95, 0.05, 0.9),
        ("lam2", "second eigenvalue λ₂", -0.95, 0.95, 0.05, -0.6),
        ("w2", "second weight w₂", 0.0, 2.0, 0.05, 0.5),
    ]
    return _computed_explorer(
        "staircase",
        title="Explore: the staircase against the scale of the start and the teacher",
        note=(
            f"The page runs {data['steps']} steps of gradient descent (η = {data['lr']}) on "
            f"L_{data['k']} for a full student with d = {data['d']}, from one fixed random "
            "direction scaled by σ, each time you move a control, on the teacher "
            "g*_j = λ₁ʲ + w₂ λ₂ʲ. Dashed: the loss of the best one-atom fit. Right: the three "
            "largest singular values of the Hankel matrix H_5 of the student's taps."
        ),
        data=data,
        controls=controls,
        entry=_staircase_entry,
    )
