r"""Full-batch gradient descent or Adam on any per-run loss, by automatic differentiation.

:func:`rnnbias.train.train_gd` descends the exact population loss with its closed-form
gradient. Chapter 9 asks what happens off that path: a different optimiser (Adam) on the same
loss, or plain GD on a different loss (an empirical loss on finitely many noisy samples). Both
are covered here by one function, which takes the loss as a Python callable returning one loss
per run and differentiates it with ``torch.autograd``.

With :math:`G_t = \nabla L(\theta_t)` (each run's own gradient), the two updates are

.. math::

    \text{GD:}\quad \theta_{t+1} = \theta_t - \eta\, G_t ,

.. math::

    \text{Adam:}\quad
    m_{t+1} = \beta_1 m_t + (1-\beta_1) G_t,\quad
    v_{t+1} = \beta_2 v_t + (1-\beta_2) G_t^{\odot 2},\quad
    \theta_{t+1} = \theta_t - \eta\,
        \frac{m_{t+1} / (1-\beta_1^{t+1})}{\sqrt{v_{t+1} / (1-\beta_2^{t+1})} + \epsilon},

with :math:`m_0 = v_0 = 0` and every operation in the Adam line taken entrywise. GD is the
explicit Euler method for gradient flow, which conserves the imbalance
:math:`Q = AA^\top - A^\top A + BB^\top - C^\top C` (:mod:`rnnbias.balance`): along any
update direction :math:`\dot\theta = -H`,

.. math::

    \dot Q = -(\Xi + \Xi^\top), \qquad
    \Xi = H_A A^\top - A^\top H_A + H_B B^\top - C^\top H_C ,

and the symmetry of the loss makes :math:`\Xi = 0` for :math:`H = G`, the gradient itself.
Adam's direction :math:`H = \hat m/(\sqrt{\hat v} + \epsilon)` rescales every entry of
:math:`G` by its own factor, and the identity does not survive that rescaling: nothing keeps
:math:`Q` near its initial value.

Introduced in chapter 9, "When the bias breaks". Public name: :func:`train_autograd`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor

from . import _checks
from .linear import LinearRNN, _check_model, _unchecked
from .train import TrainResult, _report_divergence, _track_values, loop

__all__ = ["train_autograd"]

OPTIMIZERS = ("gd", "adam")


def _check_lr(lr: object, runs: int, device: torch.device) -> float | Tensor:
    if getattr(lr, "ndim", 0) == 0 and not isinstance(lr, (list, tuple)):
        return _checks.as_float("lr", lr, positive=True)  # numbers, 0-d tensors and arrays
    values = _checks.as_tensor("lr", lr, ndim=1)  # float64 (float32 is refused)
    if len(values) != runs:
        raise ValueError(
            f"lr must be a float or have one entry per run ({runs}), got shape "
            f"{tuple(values.shape)}"
        )
    lrs = [_checks.as_float("lr", v, positive=True) for v in values.tolist()]
    return torch.tensor(lrs, dtype=torch.float64, device=device)


def _check_loss(loss: object, runs: int, device: torch.device) -> Tensor:
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"loss_fn must return a torch.Tensor of shape ({runs},), got {type(loss).__name__}"
        )
    if loss.shape != (runs,):
        raise ValueError(
            f"loss_fn must return one loss per run, shape ({runs},), got shape "
            f"{tuple(loss.shape)}; do not sum or average over runs"
        )
    if loss.dtype != torch.float64:
        raise TypeError(f"loss_fn must return a float64 tensor, got dtype {loss.dtype}")
    _checks.same_device("the loss returned by loss_fn", loss, device, "the model")
    if not loss.requires_grad:
        raise ValueError(
            "loss_fn must return a loss that depends on the model's parameters (it has no "
            "gradient); compute it from the model it is given, without .detach() or no_grad"
        )
    return loss


def train_autograd(
    model: LinearRNN,
    loss_fn: Callable[[LinearRNN], Tensor],
    *,
    optimizer: str = "gd",
    lr: float | Sequence[float] | Tensor,
    max_steps: int,
    tol: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    record_every: int = 1,
    divergence: str = "warn",
    track: Mapping[str, Callable[[LinearRNN], Tensor]] | None = None,
) -> TrainResult:
    r"""Train every run of ``model`` by full-batch GD or Adam on ``loss_fn``, via autograd.

    Each step evaluates ``loss_fn`` on the current model, differentiates the **sum** of the
    per-run losses (run ``r``'s parameters enter only its own loss, so each run receives
    exactly :math:`\nabla L_r`), and applies

    .. math::

        \text{"gd":}\quad \theta \leftarrow \theta - \eta\, G, \qquad
        \text{"adam":}\quad \theta \leftarrow \theta - \eta\,
        \frac{\hat m}{\sqrt{\hat v} + \epsilon},

    with :math:`\hat m = m/(1-\beta_1^t)`, :math:`\hat v = v/(1-\beta_2^t)`,
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) G` and
    :math:`v \leftarrow \beta_2 v + (1-\beta_2) G^{\odot 2}` at step :math:`t = 1, 2, \dots`
    (the update of ``torch.optim.Adam`` without weight decay, written out in float64). Adam is
    entrywise, so the runs' optimiser states are independent. Everything is computed on the
    device of the model's parameters; the result's tensors (tracked values too) live there.

    Parameters
    ----------
    model : LinearRNN
        Initial parameters of ``R`` runs, any structure (finite entries). The structure is kept:
        for ``"symmetric"`` models the gradient is projected onto the set :math:`A = A^\top`,
        :math:`C = B^\top` exactly as in :func:`~rnnbias.train.train_gd`
        (:math:`G_A \to (G_A + G_A^\top)/2`, :math:`G_B, G_C \to (G_B + G_C)/2`), and Adam's
        entrywise update of a symmetric gradient is symmetric, so the runs stay on the set.
    loss_fn : callable
        ``loss_fn(model) -> Tensor`` of shape (R,), float64, on the model's device,
        differentiable in the model's parameters: one loss per run, e.g.
        ``lambda m: rb.population_loss(m, teacher, k)``. It must not mix runs (no sum or
        mean over the run axis). It is evaluated on every run at every step, stopped runs
        included (their parameters no longer change).
    optimizer : {"gd", "adam"}
    lr : float, or sequence or tensor of R floats
        Step size :math:`\eta > 0`, shared or one per run.
    max_steps : int
        Step budget per run, ``>= 0``.
    tol : float
        A run stops (and is frozen) once its loss is ``<= tol``; ``0`` stops only at an exact
        zero. ``>= 0``.
    betas : tuple of two floats
        Adam's :math:`(\beta_1, \beta_2)`, each in ``[0, 1)``; ignored by ``"gd"``.
    eps : float
        Adam's :math:`\epsilon > 0`; ignored by ``"gd"``.
    record_every : int
        Keep the loss (and tracked values) every this many steps, and at the last step.
    divergence : {"warn", "raise"}
        On a non-finite loss: warn once after training, or raise
        :class:`~rnnbias.train.DivergenceError` at the step it happens (naming run and step).
    track : mapping of str to callable, optional
        Functions of the current model recorded with the loss, as in
        :func:`~rnnbias.train.train_gd`. Each must return a tensor (or array) with a leading
        run axis of size ``R``: one value per run, not a sum or mean over runs.

    Returns
    -------
    TrainResult
        As for :func:`~rnnbias.train.train_gd`: final model and loss (NaN for diverged runs),
        steps taken, converged and diverged masks, loss history and tracked values.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments, a ``loss_fn`` whose value is not a differentiable float64
        tensor of shape (R,) on the model's device, or a ``track`` function whose value has
        no leading run axis of size ``R``.
    DivergenceError
        With ``divergence="raise"``, if any run's loss became non-finite.

    Warns
    -----
    RuntimeWarning
        With ``divergence="warn"`` (default), once, naming how many runs diverged.

    Notes
    -----
    With ``optimizer="gd"`` and ``loss_fn`` the population loss this is the same iteration as
    :func:`~rnnbias.train.train_gd` (same stopping rule and history), with an autograd gradient
    instead of the closed form: equal to round-off, and about 2-4 times slower per step.
    A run stops at the first step where its loss is ``<= tol`` (converged) or non-finite
    (diverged); a diverged run's parameters and loss are reported as NaN.

    References
    ----------
    Introduced in chapter 9, "When the bias breaks".
    """
    model = _check_model(model)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    optimizer = _checks.as_choice("optimizer", optimizer, OPTIMIZERS)
    R, structure, device = model.runs, model.structure, model.B.device
    lr = _check_lr(lr, R, device)
    max_steps = _checks.as_int("max_steps", max_steps, minimum=0)
    tol = _checks.as_float("tol", tol, nonnegative=True)
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1, beta2 = (_checks.as_float("betas", b, nonnegative=True) for b in betas)
    if beta1 >= 1 or beta2 >= 1:
        raise ValueError(f"betas must lie in [0, 1), got {tuple(betas)!r}")
    eps = _checks.as_float("eps", eps, positive=True)
    record_every = _checks.as_int("record_every", record_every, minimum=1)
    divergence = _checks.as_choice("divergence", divergence, ("warn", "raise"))
    track = _checks.as_track("track", track)
    checked = []

    def prepare(runs: Tensor | None, full: tuple[Tensor, ...]):
        """loss_fn sees every run: the stopped ones frozen (non-finite rows as zeros)."""
        ok = [torch.isfinite(p).flatten(1).all(1).view(-1, *[1] * (p.ndim - 1)) for p in full]
        base = [torch.where(o, p, 0.0) for o, p in zip(ok, full, strict=True)]

        def f(*ps: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
            leaves = [p.detach().requires_grad_(True) for p in ps]
            whole = leaves if runs is None else [
                b.index_copy(0, runs, q) for b, q in zip(base, leaves, strict=True)
            ]  # fmt: skip
            with _checks.overflow_reported():  # a run whose loss turns NaN is reported
                loss = loss_fn(_unchecked(*whole, structure))
            if not checked:
                checked.append(_check_loss(loss, R, device))
            loss = loss if runs is None else loss[runs]
            total = torch.where(torch.isfinite(loss), loss, 0.0).sum()
            grads = torch.autograd.grad(total, leaves, allow_unused=True)
            gA, gB, gC = (
                torch.zeros_like(q) if g is None else g for q, g in zip(leaves, grads, strict=True)
            )
            if structure == "symmetric":  # the projection train_gd uses: stays on the set
                gA, gB = 0.5 * (gA + gA.mT), 0.5 * (gB + gC)
                gC = gB
            return loss.detach(), (gA, gB, gC)

        return f

    def record(params: tuple[Tensor, ...]) -> dict[str, Tensor]:
        return _track_values(track, _unchecked(*params, structure))

    params, out = loop(
        tuple(p.detach() for p in model), prepare, lr, max_steps=max_steps, tol=tol,
        record_every=record_every, divergence=divergence, record=record if track else None,
        adam=(beta1, beta2, eps) if optimizer == "adam" else None,
    )  # fmt: skip
    _report_divergence(out["diverged"], divergence)
    return TrainResult(model=_unchecked(*params, structure), **out)
