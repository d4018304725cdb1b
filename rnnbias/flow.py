r"""Gradient flow on the exact population loss, integrated by an adaptive Runge–Kutta method.

Gradient descent with step :math:`\eta` is the explicit Euler method for the ODE

.. math:: \dot\theta(t) = -\nabla L_k(\theta(t)), \qquad \theta(0) = \theta_0 ,

after :math:`t/\eta` steps. This module solves the ODE itself, to a chosen tolerance, so that
what the *flow* does (it conserves :math:`Q`, :mod:`rnnbias.balance`) can be told apart from
what the :math:`O(\eta)` discretisation of gradient descent adds.

Introduced in chapter 5, "Balancedness: what gradient flow conserves"; used in chapter 7 for
slow runs. Public names: :class:`FlowResult`, :class:`FlowError`, :func:`integrate_flow`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import _checks
from .linear import (
    LOSSES,
    LinearRNN,
    _check_model,
    _loss_and_grad,
    _loss_weights,
    _target,
    _unchecked,
)
from .train import Result

__all__ = ["FlowError", "FlowResult", "integrate_flow"]

# Dormand & Prince (1980), RK5(4)7FM: stage matrix, 5th-order weights (= last row, FSAL) and
# the difference E = b5 - b4 of the embedded weights, which estimates the local error.
_A = (
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 5.0
_MIN_STEP = 1e-14  # relative to t_end


class FlowError(RuntimeError):
    """Raised by :func:`integrate_flow` when it cannot reach ``t_end`` with finite values."""


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class FlowResult(Result):
    """What :func:`integrate_flow` returns: a :class:`~rnnbias.train.Result` whose history is
    taken at the output times.

    ``model`` and ``loss`` are the state and loss at ``t_end``; ``loss_history`` (n_times, R)
    the loss at each output time and ``history_steps`` the accepted Runge–Kutta steps taken by
    then; ``steps`` holds every run's count of accepted steps (one step size is shared by the
    batch); ``converged`` and ``diverged`` are all False (a flow that blows up raises
    :class:`FlowError`).

    Attributes
    ----------
    times : torch.Tensor, shape (n_times,), float64
        The output times, hit exactly (not interpolated), on the model's device.
    models : list of LinearRNN, length n_times
        State at each output time.
    n_rejected : int
        Rejected Runge–Kutta steps.
    """

    times: Tensor
    models: list[LinearRNN]
    n_rejected: int

    @property
    def n_steps(self) -> int:
        """Accepted Runge–Kutta steps (shared by all runs)."""
        return self._most_steps()

    def _end(self) -> tuple[float, float]:
        """The last output time and the largest final loss (NaN when there are none)."""
        if not len(self.times) or not self.loss.numel():
            return math.nan, math.nan
        return float(self.times[-1]), float(self.loss.max())

    def __str__(self) -> str:
        """A one-line summary that fits a notebook's output column (``print(result)``)."""
        t_end, worst = self._end()
        return (
            f"flow of {self.model.runs} runs to t = {t_end:.4g}: "
            f"{self.n_steps} steps ({self.n_rejected} rejected), "
            f"final loss <= {worst:.4g}"
        )

    def __repr__(self) -> str:
        t_end, worst = self._end()
        return (
            f"FlowResult(runs={self.model.runs}, t_end={t_end:.4g}, "
            f"n_times={len(self.times)}, n_steps={self.n_steps}, n_rejected={self.n_rejected}, "
            f"max_final_loss={worst:.4g})"
        )


def _output_times(times: object, t_end: float) -> list[float]:
    if times is None:
        return [0.0, t_end]
    ts = _checks.as_tensor("times", times, ndim=1).tolist()
    if not ts or ts[0] < 0 or ts[-1] > t_end:
        raise ValueError(f"times must be non-empty and within [0, t_end={t_end}], got {ts}")
    for a, b in itertools.pairwise(ts):
        if b <= a:
            raise ValueError(f"times must be strictly increasing, got {a} followed by {b}")
    return ts if ts[-1] == t_end else [*ts, t_end]


def _comb(coeffs: Sequence[float], G: Sequence[Sequence[Tensor]]) -> tuple[Tensor, ...]:
    """sum_j coeffs[j] G[j], entry by entry of the (A, B, C) tuples."""
    return tuple(
        sum(c * g[i] for c, g in zip(coeffs, G, strict=False) if c) for i in range(len(G[0]))
    )


def _stage(y: Sequence[Tensor], h: float, coeffs: Sequence[float], G: list) -> tuple:
    """y + h * sum_j coeffs[j] (-G[j]): the flow's velocity is minus the gradient."""
    return tuple(yi - h * ci for yi, ci in zip(y, _comb(coeffs, G), strict=True))


def _max_ratio(num: Sequence[Tensor], den: Sequence[Tensor]) -> float:
    return max(float((n.abs() / d).max()) for n, d in zip(num, den, strict=True))


def _finite(loss: Tensor, grads: Sequence[Tensor]) -> bool:
    return math.isfinite(float(loss.sum()) + sum(float(g.sum()) for g in grads))


def _initial_step(f, y: tuple[Tensor, ...], G0: tuple[Tensor, ...], atol: float, rtol: float):
    """First step size: Hairer, Nørsett & Wanner, Solving ODEs I, II.4 (a 1% change, refined)."""
    sc = tuple(atol + rtol * p.abs() for p in y)
    d0, d1 = _max_ratio(y, sc), _max_ratio(G0, sc)
    h0 = 1e-6 if min(d0, d1) < 1e-5 else 0.01 * d0 / d1
    _, G1 = f(*_stage(y, h0, (1.0,), [G0]))
    d2 = _max_ratio([a - b for a, b in zip(G1, G0, strict=True)], sc) / h0
    h1 = max(1e-6, h0 * 1e-3) if max(d1, d2) <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
    return min(100 * h0, h1) if math.isfinite(h1) else h0


def _attempt(
    f, y: tuple[Tensor, ...], G0: tuple[Tensor, ...], h: float, atol: float, rtol: float
) -> tuple[tuple[Tensor, ...], Tensor, tuple[Tensor, ...], float]:
    """One Dormand-Prince step of size ``h`` from ``y`` (gradient ``G0`` there): the new point,
    its loss and gradient (first same as last), and the error ratio (inf if non-finite)."""
    G = [G0]
    for row in _A[:-1]:
        G.append(f(*_stage(y, h, row, G))[1])
    y_new = _stage(y, h, _A[-1], G)
    loss_new, G_new = f(*y_new)  # first same as last: stage 7 and the next stage 1
    G.append(G_new)
    sc = [atol + rtol * torch.maximum(a.abs(), b.abs()) for a, b in zip(y, y_new, strict=True)]
    err = h * _max_ratio(_comb(_E, G), sc)
    err = err if math.isfinite(err) and _finite(loss_new, G_new) else math.inf
    return y_new, loss_new, G_new, err


def integrate_flow(
    model: LinearRNN,
    teacher: object,
    k: int,
    t_end: float,
    *,
    times: Sequence[float] | Tensor | None = None,
    outputs: str = "final",
    rtol: float = 1e-10,
    atol: float = 1e-12,
    h0: float | None = None,
    max_steps: int = 1_000_000,
) -> FlowResult:
    r"""Integrate the gradient flow :math:`\dot\theta = -\nabla L_k(\theta)` of every run.

    .. math::

        \theta(t) = \theta_0 - \int_0^t \nabla L_k(\theta(s))\, ds,
        \qquad 0 \le t \le t_{\rm end},

    on the exact population loss that :func:`rnnbias.train.train_gd` descends, with the
    Dormand–Prince 5(4) pair (Dormand & Prince, 1980) on the parameter tuple ``(A, B, C)``.

    Parameters
    ----------
    model : LinearRNN
        Initial parameters of ``R`` runs, any structure.
    teacher : Teacher or torch.Tensor
        The target impulse response, as in :func:`rnnbias.linear.population_loss`.
    k : int
        Training length, ``k >= 1``.
    t_end : float
        Final time, finite and ``> 0`` (flow time: GD with step ``lr`` reaches it in
        ``t_end / lr`` steps).
    times : sequence of float, optional
        Strictly increasing output times in ``[0, t_end]``; ``t_end`` is appended if missing.
        Default ``(0, t_end)``.
    outputs : {"final", "all"}
        Which loss, as in :func:`rnnbias.linear.population_loss`.
    rtol, atol : float
        Relative and absolute tolerances, ``> 0``.
    h0 : float, optional
        First step size; by default chosen from the gradient (Hairer, Nørsett & Wanner, II.4).
    max_steps : int
        Budget of attempted steps, accepted plus rejected, ``>= 1``.

    Returns
    -------
    FlowResult
        ``times`` of shape (n_times,), ``loss_history`` of shape (n_times, R), the states at
        those times, the final state and loss, and the step counts.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.
    FlowError
        If the loss or gradient is non-finite, the step size falls below
        ``1e-14 * t_end`` or the step budget runs out; the message gives the time reached.

    Notes
    -----
    One step size is shared by the whole batch, with the mixed error
    :math:`\max |e| / (\text{atol} + \text{rtol} \max(|y|, |y_{\rm new}|))` over all runs and
    entries: a step is accepted when it is at most 1, and the next step is
    :math:`h \cdot \min(5, \max(0.2, 0.9\, \text{err}^{-1/5}))` (no growth after a rejection).
    Output times are hit by shortening the step, not by interpolation. A step costs 7
    gradient evaluations, 6 with first-same-as-last (the last stage is the gradient at the
    new point), each O(R (k^2 d + k d^2)) for full models. Runs with a fast flow make the
    whole batch take small steps.

    References
    ----------
    J. R. Dormand and P. J. Prince, "A family of embedded Runge–Kutta formulae", J. Comput.
    Appl. Math. 6 (1980). Introduced in chapter 5; used in chapter 7 for slow runs.

    Examples
    --------
    >>> from rnnbias import init_gaussian, memoryless
    >>> res = integrate_flow(init_gaussian(3, 0.5, seed=0), memoryless(), 3, 50.0)
    >>> bool(res.loss[0] < 1e-6 * res.loss_history[0, 0])
    True
    """
    model = _check_model(model)
    k = _checks.as_int("k", k, minimum=1)
    t_end = _checks.as_float("t_end", t_end, positive=True)
    outputs = _checks.as_choice("outputs", outputs, LOSSES)
    rtol = _checks.as_float("rtol", rtol, positive=True)
    atol = _checks.as_float("atol", atol, positive=True)
    h0 = None if h0 is None else _checks.as_float("h0", h0, positive=True)
    max_steps = _checks.as_int("max_steps", max_steps, minimum=1)
    out_times = _output_times(times, t_end)
    device = model.B.device
    target = _target(teacher, k, device, model.runs)
    f = _loss_and_grad(model.structure, k, target, _loss_weights(k, outputs, device))

    t, y = 0.0, tuple(p.clone() for p in model)
    loss, G0 = f(*y)
    if not _finite(loss, G0):
        raise FlowError(
            "integrate_flow: the loss or its gradient is non-finite at t = 0 (the initial "
            f"model's taps or gradient overflow: its parameters are too large for k = {k})"
        )
    if h0 is None:
        h0 = _initial_step(f, y, G0, atol, rtol)
    h, n_steps, n_rejected = min(h0, t_end), 0, 0
    rec_loss, rec_models, rec_steps = [], [], []
    for t_out in out_times:
        while t < t_out:
            if n_steps + n_rejected >= max_steps:
                raise FlowError(f"max_steps = {max_steps} steps used up at t = {t:.6g}")
            clipped = t + 1.01 * h >= t_out  # land on the output time exactly
            h_step = t_out - t if clipped else h
            y_new, loss_new, G_new, err = _attempt(f, y, G0, h_step, atol, rtol)
            factor = _MAX_FACTOR if err == 0 else _SAFETY * err**-0.2
            factor = min(_MAX_FACTOR, max(_MIN_FACTOR, factor))
            if err <= 1.0:
                t, y, G0, loss = (t_out if clipped else t + h_step), y_new, G_new, loss_new
                n_steps += 1
                h = max(h_step * factor, h) if clipped else h_step * factor
            else:
                n_rejected += 1
                h = h_step * min(1.0, factor)
            if h < _MIN_STEP * t_end:
                why = "non-finite values" if err == math.inf else f"error ratio {err:.3g}"
                raise FlowError(
                    f"step size {h:.3g} fell below {_MIN_STEP:g} * t_end at t = {t:.6g} (last "
                    f"attempt: {why}): the flow blows up or is too stiff for an explicit method"
                )
        rec_loss.append(loss)
        rec_steps.append(n_steps)
        rec_models.append(_unchecked(*y, model.structure))
    R = model.runs
    return FlowResult(
        model=rec_models[-1],
        loss=rec_loss[-1],
        steps=torch.full((R,), n_steps, dtype=torch.int64, device=device),
        converged=torch.zeros(R, dtype=torch.bool, device=device),
        diverged=torch.zeros(R, dtype=torch.bool, device=device),
        history_steps=torch.tensor(rec_steps, dtype=torch.int64, device=device),
        loss_history=torch.stack(rec_loss),
        times=torch.tensor(out_times, dtype=torch.float64, device=device),
        models=rec_models,
        n_rejected=n_rejected,
    )
