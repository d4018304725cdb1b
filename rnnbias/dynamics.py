r"""Learning one mode at a time: the saddles that gradient descent from a small start visits.

From a small initialisation the training loss :math:`L_k = \sum_{j<k} (g_j - g^\star_j)^2`
falls in a staircase. The tools of this module describe its steps through the **residual
polynomial** of a model,

.. math::

    R(z) = \sum_{j=0}^{k-1} r_j z^j, \qquad r_j = g^\star_j - g_j ,

in terms of which the gradient of a diagonal student is
:math:`\partial L/\partial b_i = -2 c_i R(a_i)`, :math:`\partial L/\partial c_i = -2 b_i R(a_i)`,
:math:`\partial L/\partial a_i = -2 b_i c_i R'(a_i)`:

- at the origin :math:`R \equiv \sum_j g^\star_j z^j`, and every :math:`b_i + c_i` grows by the
  factor :math:`1 + 2\eta g^\star_0` per step, so the first escape takes
  :func:`steps_per_decade` steps per decade of the initial scale;
- on the first plateau the student holds one atom :math:`w a^j`: the critical point of the
  one-atom loss first reached from :math:`a = 0` (:func:`first_atom`), which is usually, but
  not always, the **best one-atom fit** (:func:`one_atom_fit`); that fit is a saddle
  (:func:`one_atom_saddle`) whose unstable directions set the length of the next plateau;
- :func:`first_step_below` reads the step at which a run's loss first drops below a level.

Introduced in chapter 10, "Learning one mode at a time". Public names:
:func:`residual_polynomial`, :func:`one_atom_fit`, :func:`first_atom`,
:func:`one_atom_saddle`, :func:`steps_per_decade`, :func:`first_step_below`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from . import _checks
from .linear import LinearRNN, _check_model, _taps, _target, pad_state
from .train import Result

__all__ = [
    "first_atom",
    "first_step_below",
    "one_atom_fit",
    "one_atom_saddle",
    "residual_polynomial",
    "steps_per_decade",
]

_GRID = 4001  # points of the first scan of one_atom_fit (then refined by golden sections)


def residual_polynomial(
    model: LinearRNN, teacher: object, k: int, z: object
) -> tuple[Tensor, Tensor]:
    r"""The residual polynomial :math:`R(z) = \sum_{j<k} (g^\star_j - g_j) z^j` and :math:`R'(z)`.

    For a diagonal student the gradient of :math:`L_k` is, unit by unit,

    .. math::

        \frac{\partial L_k}{\partial b_i} = -2 c_i R(a_i), \quad
        \frac{\partial L_k}{\partial c_i} = -2 b_i R(a_i), \quad
        \frac{\partial L_k}{\partial a_i} = -2 b_i c_i R'(a_i),

    so a unit with :math:`b_i c_i \ne 0` is stationary only at a double root of :math:`R`.

    Parameters
    ----------
    model : LinearRNN
        ``R`` runs, any structure.
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n)
        The target impulse response, as in :func:`rnnbias.population_loss`.
    k : int
        Training length, ``k >= 1``.
    z : torch.Tensor of shape (m,) or (R, m), or a number
        Points to evaluate at (the same for every run, or one row per run), e.g. a diagonal
        model's ``A``.

    Returns
    -------
    (values, derivatives) : two torch.Tensor of shape (R, m)

    Raises
    ------
    TypeError, ValueError
        For a wrong model, teacher, ``k`` or ``z`` (non-finite, or rows that are neither 1
        nor ``R``).

    References
    ----------
    Introduced in chapter 10, section "Which plateaus, and why".
    """
    model = _check_model(model)
    k = _checks.as_int("k", k, minimum=1)
    dev = model.B.device
    zt = _checks.as_tensor("z", z, ndim=(0, 1, 2), device=dev, other="the model")
    zt = zt.reshape(1, 1) if zt.ndim == 0 else zt.unsqueeze(0) if zt.ndim == 1 else zt
    if zt.shape[0] not in (1, model.runs):
        raise ValueError(f"z must have 1 or R = {model.runs} rows (one per run), got {zt.shape[0]}")
    r = _target(teacher, k, dev, model.runs) - _taps(model, k)  # (R, k)
    j = torch.arange(k, device=dev, dtype=zt.dtype)
    powers = zt.unsqueeze(-1) ** j  # (R or 1, m, k); 0**0 = 1
    values = (r.unsqueeze(1) * powers).sum(-1)
    lower = torch.cat([torch.zeros_like(powers[..., :1]), powers[..., :-1]], -1)  # z^(j-1)
    derivatives = (r.unsqueeze(1) * j * lower).sum(-1)
    return values, derivatives


def _concentrated_loss(a: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """min over w of sum_j (w a^j - g_j)^2 at each a (rows of a and g match): loss and w."""
    j = torch.arange(g.shape[-1], device=g.device, dtype=g.dtype)
    v = a.unsqueeze(-1) ** j  # (R, m, k)
    vv = (v * v).sum(-1)
    vg = (v * g.unsqueeze(1)).sum(-1)
    w = vg / vv
    loss = (g * g).sum(-1, keepdim=True) - vg * w
    return loss.clamp(min=0.0), w


def _dloss(a: Tensor, g: Tensor) -> Tensor:
    """The derivative -2 w R'(a) of the concentrated loss l(a): a of shape (R,) or (R, m)."""
    column = a.ndim == 1
    a = a.unsqueeze(-1) if column else a  # (R, m)
    _, w = _concentrated_loss(a, g)  # (R, m)
    j = torch.arange(g.shape[-1], device=g.device, dtype=g.dtype)
    r = g.unsqueeze(1) - w.unsqueeze(-1) * a.unsqueeze(-1) ** j  # (R, m, k)
    slope = (r[..., 1:] * j[1:] * a.unsqueeze(-1) ** (j[1:] - 1)).sum(-1)
    out = -2 * w * slope
    return out[:, 0] if column else out


def _checked_taps(teacher: object, k: object, bound: object) -> tuple[int, float, Tensor]:
    """``k`` (>= 2), ``bound`` (> 0) and the teacher's first ``k`` taps, one row per teacher."""
    k = _checks.as_int("k", k, minimum=2)
    bound = _checks.as_float("bound", bound, positive=True)
    g = _target(teacher, k)
    if not bool(torch.isfinite(g).all()):
        raise ValueError(f"teacher must have finite taps, got {g.tolist()}")
    return k, bound, g.reshape(-1, k)


def _bisect(x0: Tensor, x1: Tensor, g: Tensor, side: Tensor | float = 1.0) -> Tensor:
    """Where ``side * l'`` turns from negative (at x0) to non-negative (at x1): to about 1e-16."""
    for _ in range(64):
        mid = (x0 + x1) / 2
        up = side * _dloss(mid, g) >= 0
        x1 = torch.where(up, mid, x1)
        x0 = torch.where(up, x0, mid)
    return (x0 + x1) / 2


def _weight_and_loss(atom: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """The best weight at each row's atom, and the residual summed directly (the shortcut
    ``|g|^2 - <v, g> w`` cancels to about 1e-16 near an exact fit)."""
    weight = _concentrated_loss(atom.unsqueeze(-1), g)[1][:, 0]
    j = torch.arange(g.shape[-1], device=g.device, dtype=g.dtype)
    loss = ((weight.unsqueeze(-1) * atom.unsqueeze(-1) ** j - g) ** 2).sum(-1)
    return weight, loss


def one_atom_fit(teacher: object, k: int, *, bound: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    r"""The best one-atom fit of the first ``k`` taps: :math:`\min_{w,\,|a| \le \text{bound}}
    \sum_{j<k} (w a^j - g^\star_j)^2`.

    For each :math:`a` the best weight is :math:`w(a) = \langle v, g^\star\rangle / \|v\|^2` with
    :math:`v = (a^j)_{j<k}`, leaving :math:`\ell(a) = \|g^\star\|^2 - \langle v, g^\star\rangle^2
    / \|v\|^2`. The global minimum of :math:`\ell` on :math:`[-\text{bound}, \text{bound}]` is found
    by a scan of 4001 points and golden-section refinement in the best cell (to about 1e-12 in
    :math:`a`). A minimiser inside the interval satisfies :math:`R(a) = R'(a) = 0` for the
    residual of :math:`w a^j` (:func:`residual_polynomial`): it is a critical point of every
    student that realises one atom, the first plateau of chapter 10.

    Parameters
    ----------
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n)
        Target taps (at least ``k``), one teacher or one per row.
    k : int
        Training length, ``k >= 2`` (with one tap every :math:`a` fits exactly).
    bound : float
        Largest :math:`|a|` considered (> 0; 1 keeps the atom stable).

    Returns
    -------
    atom, weight, loss : torch.Tensor, each of shape (R,)

    Raises
    ------
    TypeError, ValueError
        For a wrong teacher, ``k < 2`` or ``bound <= 0``.

    References
    ----------
    Introduced in chapter 10, section "Which plateaus, and why".

    Examples
    --------
    >>> from rnnbias import low_dimensional
    >>> a, w, loss = one_atom_fit(low_dimensional([0.9]), 5)  # a teacher with one atom
    >>> round(float(a[0]), 10), round(float(w[0]), 10), float(loss[0]) < 1e-24
    (0.9, 1.0, True)
    """
    k, bound, g = _checked_taps(teacher, k, bound)
    grid = torch.linspace(-bound, bound, _GRID, dtype=g.dtype, device=g.device)
    loss, _ = _concentrated_loss(grid.expand(len(g), -1), g)
    best = loss.argmin(-1)
    step = 2 * bound / (_GRID - 1)
    lo = (grid[best] - step).clamp(min=-bound)
    hi = (grid[best] + step).clamp(max=bound)
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(60):  # golden sections: the bracket shrinks by 0.618 per pass
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        f = _concentrated_loss(torch.stack([x1, x2], -1), g)[0]
        left = f[:, 0] <= f[:, 1]
        hi = torch.where(left, x2, hi)
        lo = torch.where(left, lo, x1)
    atom = (lo + hi) / 2
    # the loss is flat at its minimum, so comparing values pins a to about 1e-8 only; where
    # l'(a) = -2 w R'(a) changes sign across the cell, bisection on it pins a to about 1e-16
    x0 = (grid[best] - step).clamp(min=-bound)
    x1 = (grid[best] + step).clamp(max=bound)
    d0, d1 = _dloss(x0, g), _dloss(x1, g)
    sign_change = (d0 < 0) & (d1 > 0)
    atom = torch.where(sign_change, _bisect(x0, x1, g), atom)
    ends = torch.tensor([-bound, bound], dtype=g.dtype, device=g.device).expand(len(g), -1)
    candidates = torch.cat([atom.unsqueeze(-1), ends], -1)  # the minimum may be at an end
    atom = candidates.gather(-1, _concentrated_loss(candidates, g)[0].argmin(-1, keepdim=True))[
        :, 0
    ]
    return (atom, *_weight_and_loss(atom, g))


def first_atom(teacher: object, k: int, *, bound: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    r"""The critical point of the one-atom loss first reached from :math:`a = 0`.

    The one-atom loss :math:`\ell(a) = \min_w \sum_{j<k} (w a^j - g^\star_j)^2` (see
    :func:`one_atom_fit`) has :math:`\ell'(0) = -2 g^\star_0 g^\star_1`, so it decreases from
    :math:`a = 0` towards :math:`s = \operatorname{sign}(g^\star_0 g^\star_1)`. Walking from 0 in
    that direction, the first :math:`a` where :math:`\ell'` changes sign is a local minimum of
    :math:`\ell`: the atom that a small start holds on its first plateau in chapter 10's
    measurements. It is often the global minimum :func:`one_atom_fit`, but not always (e.g.
    :math:`0.8^j + 0.7(-0.95)^j` at ``k = 7``: 0.73 here, -0.84 there). Found by a scan of 4001
    points of :math:`[0, s\cdot\text{bound}]` and bisection on :math:`\ell'` (to about 1e-16);
    if :math:`\ell` decreases all the way, the end :math:`s\cdot\text{bound}` is returned.

    Parameters
    ----------
    teacher : Teacher or torch.Tensor of shape (n,) or (R, n)
        Target taps (at least ``k``), one teacher or one per row, with
        :math:`g^\star_0 g^\star_1 \ne 0`.
    k : int
        Training length, ``k >= 2``.
    bound : float
        Largest :math:`|a|` considered (> 0).

    Returns
    -------
    atom, weight, loss : torch.Tensor, each of shape (R,)

    Raises
    ------
    TypeError, ValueError
        For a wrong teacher, ``k < 2``, ``bound <= 0``, or a teacher with
        :math:`g^\star_0 g^\star_1 = 0` (then :math:`\ell'(0) = 0` and there is no first side).

    References
    ----------
    Introduced in chapter 10, section "Which mode first".

    Examples
    --------
    >>> from rnnbias import low_dimensional
    >>> teacher = low_dimensional([0.8, -0.95], [1.0, 0.7])
    >>> local, _, l_local = first_atom(teacher, 7)
    >>> best, _, l_best = one_atom_fit(teacher, 7)
    >>> round(float(local[0]), 2), round(float(best[0]), 2), bool(l_best[0] < l_local[0])
    (0.73, -0.84, True)
    """
    k, bound, g = _checked_taps(teacher, k, bound)
    side = torch.sign(g[:, 0] * g[:, 1])
    if not bool((side != 0).all()):
        bad = (side == 0).nonzero()[:, 0].tolist()
        raise ValueError(
            f"teacher must have g*_0 * g*_1 != 0 (the one-atom loss then has no first side), "
            f"got g*_0 * g*_1 = 0 in row(s) {bad}"
        )
    t = torch.linspace(0, bound, _GRID, dtype=g.dtype, device=g.device)[1:]
    a = side.unsqueeze(-1) * t  # (R, m), walking away from 0
    slope = side.unsqueeze(-1) * _dloss(a, g)
    turned = slope >= 0  # l stops decreasing along the walk
    found = turned.any(-1)
    first = turned.to(torch.int64).argmax(-1)
    x1 = a.gather(-1, first.unsqueeze(-1))[:, 0]
    x0 = torch.where(first > 0, a.gather(-1, (first - 1).clamp(min=0).unsqueeze(-1))[:, 0], 0 * x1)
    atom = torch.where(found, _bisect(x0, x1, g, side), side * bound)  # side * l' < 0 at x0
    return (atom, *_weight_and_loss(atom, g))


def one_atom_saddle(
    teacher: object,
    k: int,
    d: int,
    *,
    structure: str = "full",
    bound: float = 1.0,
    which: str = "best",
) -> LinearRNN:
    r"""The balanced student of state size ``d`` that realises a one-atom critical point.

    Unit 1 carries :math:`(a^\star, \sqrt{|w^\star|}, \operatorname{sign}(w^\star)\sqrt{|w^\star|})`
    of :func:`one_atom_fit` (``which="best"``) or of :func:`first_atom` (``which="first"``);
    the other ``d - 1`` units (coordinates) are zero. Its gradient is
    zero; for ``d >= 2`` it is a saddle of :math:`L_k` whenever the fit is not exact, and the
    negative eigenvalues of its Hessian (:func:`rnnbias.loss_hessian`) are the rates at which
    gradient descent leaves it.

    Parameters
    ----------
    teacher, k, bound
        As in :func:`one_atom_fit`.
    d : int
        State size, ``d >= 1``.
    structure : {"full", "diagonal"}
    which : {"best", "first"}
        The global one-atom fit, or the critical point first reached from :math:`a = 0`.

    Returns
    -------
    LinearRNN with ``R`` runs (one per teacher row)

    Raises
    ------
    TypeError, ValueError
        As :func:`one_atom_fit` (or :func:`first_atom`), and for ``d < 1``, another structure
        or another ``which``.

    References
    ----------
    Introduced in chapter 10, section "How long each plateau lasts".
    """
    d = _checks.as_int("d", d, minimum=1)
    structure = _checks.as_choice("structure", structure, ("full", "diagonal"))
    which = _checks.as_choice("which", which, ("best", "first"))
    a, w, _ = (one_atom_fit if which == "best" else first_atom)(teacher, k, bound=bound)
    b = w.abs().sqrt().unsqueeze(-1)
    one = LinearRNN(a.unsqueeze(-1), b, w.sign().unsqueeze(-1) * b, "diagonal")
    one = pad_state(one, d)
    if structure == "diagonal":
        return one
    return LinearRNN(torch.diag_embed(one.A), one.B, one.C, "full")


def steps_per_decade(rate: object, lr: object) -> float:
    r"""Steps of gradient descent per decade of growth at the linear rate ``rate``.

    Near a saddle a direction with Hessian eigenvalue :math:`-\lambda < 0` grows by the factor
    :math:`1 + \eta\lambda` per step, so a perturbation of size :math:`\sigma` takes

    .. math:: \frac{\ln(\varepsilon/\sigma)}{\ln(1 + \eta\lambda)}
       = \frac{\ln 10}{\ln(1+\eta\lambda)}\,\log_{10}\frac{\varepsilon}{\sigma}

    steps to reach size :math:`\varepsilon`: ``steps_per_decade`` is the factor in front. At the
    origin :math:`\lambda = 2 g^\star_0` (chapter 10, Proposition "escape from the origin").

    Parameters
    ----------
    rate : float
        :math:`\lambda > 0`.
    lr : float
        :math:`\eta > 0`.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        For non-numbers or values ``<= 0``.

    References
    ----------
    Introduced in chapter 10, section "Why plateaus, and how long".

    Examples
    --------
    >>> round(steps_per_decade(2 * 1.5, 0.02), 2)  # g*_0 = 1.5, eta = 0.02
    39.52
    """
    rate = _checks.as_float("rate", rate, positive=True)
    lr = _checks.as_float("lr", lr, positive=True)
    return math.log(10.0) / math.log1p(lr * rate)


def first_step_below(result: Result, level: object) -> Tensor:
    r"""The first recorded step at which each run's training loss is below ``level``.

    Parameters
    ----------
    result : TrainResult (or any :class:`rnnbias.train.Result`)
        A training run; its recorded history is searched (record every step for step accuracy).
    level : float, or torch.Tensor of shape (R,)
        Loss level (> 0), the same for every run or one per run.

    Returns
    -------
    torch.Tensor, shape (R,), int64
        The step, or -1 for a run whose recorded loss never went below ``level``.

    Raises
    ------
    TypeError, ValueError
        For something other than a result, or ``level <= 0``.

    References
    ----------
    Introduced in chapter 10, section "The staircase".
    """
    if not isinstance(result, Result):
        raise TypeError(
            f"result must be a training result (rnnbias.train.Result), got {type(result).__name__}"
        )
    runs = result.loss_history.shape[1]
    dev = result.loss_history.device
    if isinstance(level, Tensor) and level.ndim == 1:
        level = _checks.as_tensor("level", level, device=dev, other="the result")
        if level.shape != (runs,) or not bool((level > 0).all()):
            raise ValueError(
                f"level must be a positive number or {runs} positive numbers (one per run), "
                f"got {level.tolist()}"
            )
    else:
        level = _checks.as_float("level", level, positive=True)
    below = result.loss_history < level  # (records, R); NaN compares False
    hit = below.any(0)
    first = below.to(torch.int64).argmax(0)
    steps = result.history_steps.to(first.device)[first]
    return torch.where(hit, steps, torch.full_like(steps, -1))
