r"""Non-linear (tanh) RNNs trained on sampled sequences, batched over runs.

.. math::

    h_t = \tanh(A h_{t-1} + B x_t), \quad h_0 = 0, \qquad \hat y_t = C h_t .

There is no closed-form population loss, so students are trained by full-batch gradient descent
(backpropagation through time by autograd) on a fixed set of ``N`` sampled sequences of length
``k``, and tested on fresh sequences at longer lengths. The theory of chapters 4–7 is linear;
what these functions measure in chapter 8 is observation, not theorem.

As everywhere in the package: a leading run axis ``R`` (runs never interact, so their losses
are summed and each run receives its own gradient), float64, and initial entries
:math:`\mathcal N(0, \sigma^2/d)` from one base draw per seed.

Introduced in chapter 8, "Non-linear RNNs". Public names: :class:`TanhRNN`, :func:`init_tanh`,
:func:`tanh_forward`, :func:`train_tanh`, :class:`TanhTrainResult`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import _checks

__all__ = ["TanhRNN", "TanhTrainResult", "init_tanh", "tanh_forward", "train_tanh"]


@dataclass(frozen=True, eq=False)
class TanhRNN:
    """Parameters of ``R`` tanh RNNs: ``A`` (R, d, d), ``B`` and ``C`` (R, d), float64.

    References
    ----------
    Introduced in chapter 8.
    """

    A: Tensor
    B: Tensor
    C: Tensor

    def __post_init__(self) -> None:
        A = _checks.as_tensor("A", self.A, ndim=3)
        B = _checks.as_tensor("B", self.B, ndim=2)
        C = _checks.as_tensor("C", self.C, ndim=2)
        R, d = B.shape
        if A.shape != (R, d, d) or C.shape != (R, d):
            raise ValueError(
                f"A, B, C must have shapes (R, d, d), (R, d), (R, d); got {tuple(A.shape)}, "
                f"{tuple(B.shape)}, {tuple(C.shape)}"
            )

    @property
    def runs(self) -> int:
        """Number of runs ``R``."""
        return self.B.shape[0]

    @property
    def d(self) -> int:
        """State dimension ``d``."""
        return self.B.shape[1]

    def select(self, runs: int | slice | Sequence[int]) -> TanhRNN:
        """The given runs, keeping the run axis."""
        idx = [runs] if isinstance(runs, int) else runs
        return TanhRNN(self.A[idx], self.B[idx], self.C[idx])


def init_tanh(d: int, sigma: float | Sequence[float], seed: int | Sequence[int] = 0) -> TanhRNN:
    r"""Gaussian initialisation, entries :math:`\mathcal N(0, \sigma^2/d)`, one run per pair.

    As :func:`rnnbias.init_gaussian`: each run rescales the standard-normal base draw of its
    seed by its ``sigma``, and scalars broadcast against sequences.

    References
    ----------
    Introduced in chapter 8.
    """
    from .linear import init_gaussian  # the same base draws as the linear students

    m = init_gaussian(d, sigma, seed)
    return TanhRNN(m.A, m.B, m.C)


def _check_model_and_inputs(model: object, x: object) -> Tensor:
    """Check the model type and the inputs' shape (N, T) or (R, N, T); return x as a tensor."""
    if not isinstance(model, TanhRNN):
        raise TypeError(f"model must be a TanhRNN, got {type(model).__name__}")
    x = _checks.as_tensor("x", x, ndim=(2, 3))
    if x.ndim == 3 and x.shape[0] not in (1, model.runs):
        raise ValueError(f"x must have 1 or {model.runs} runs on its first axis, got {x.shape[0]}")
    return x


def tanh_forward(model: TanhRNN, x: Tensor) -> Tensor:
    r"""Outputs :math:`\hat y_t = C h_t` at every time step.

    Parameters
    ----------
    model : TanhRNN
    x : torch.Tensor, shape (N, T) shared by all runs, or (R, N, T)

    Returns
    -------
    torch.Tensor, shape (R, N, T)

    References
    ----------
    Introduced in chapter 8.
    """
    x = _check_model_and_inputs(model, x)
    return _forward(model.A, model.B, model.C, x)


def _forward(A: Tensor, B: Tensor, C: Tensor, x: Tensor) -> Tensor:
    """Unchecked forward pass, (R, N, T) outputs; x is (N, T) or (R, N, T)."""
    R, d = B.shape
    xs = x if x.ndim == 3 else x.unsqueeze(0)
    h = xs.new_zeros(R, xs.shape[1], d)
    B_ = B.unsqueeze(1)  # (R, 1, d)
    outputs = []
    for t in range(xs.shape[2]):
        h = torch.tanh(torch.baddbmm(xs[:, :, t].unsqueeze(-1) * B_, h, A.mT))
        outputs.append((h * C.unsqueeze(1)).sum(-1))
    return torch.stack(outputs, dim=-1)


@dataclass(frozen=True, eq=False, repr=False)
class TanhTrainResult:
    """What :func:`train_tanh` returns.

    Attributes
    ----------
    model : TanhRNN
        Final parameters.
    loss : torch.Tensor, shape (R,)
        Final training MSE (final output, length ``k``).
    history_steps : torch.Tensor, shape (n_records,)
    loss_history : torch.Tensor, shape (n_records, R)
    """

    model: TanhRNN
    loss: Tensor
    history_steps: Tensor
    loss_history: Tensor

    def __str__(self) -> str:
        return (
            f"{self.model.runs} tanh runs: {int(self.history_steps[-1])} steps, "
            f"final training MSE {float(self.loss.min()):.4g} to {float(self.loss.max()):.4g}"
        )


def train_tanh(
    model: TanhRNN,
    x: Tensor,
    y: Tensor,
    *,
    lr: float = 0.05,
    steps: int = 2000,
    record_every: int = 100,
) -> TanhTrainResult:
    r"""Full-batch gradient descent on the final-output MSE :math:`\frac1N\sum_n(\hat y_k - y)^2`.

    Parameters
    ----------
    model : TanhRNN
        Initial parameters of ``R`` runs.
    x : torch.Tensor, shape (N, k) or (R, N, k)
        Training inputs.
    y : torch.Tensor, shape (N,) or (R, N)
        Targets for the final output.
    lr, steps, record_every
        Step size (> 0), number of steps (>= 0), and how often the loss is recorded (>= 1).

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.
    RuntimeError
        If a run's loss becomes non-finite (with the step and the runs concerned).

    Notes
    -----
    Runs do not interact: the summed loss gives each run exactly its own gradient. Cost per
    step O(R N k d^2) for the forward pass and about twice that for the backward pass.

    References
    ----------
    Introduced in chapter 8.
    """
    x = _check_model_and_inputs(model, x)
    y = _checks.as_tensor("y", y, ndim=(1, 2))
    if y.shape[-1] != x.shape[-2]:
        raise ValueError(f"y must have one target per sequence ({x.shape[-2]}), got {y.shape}")
    lr = _checks.as_float("lr", lr, positive=True)
    steps = _checks.as_int("steps", steps, minimum=0)
    record_every = _checks.as_int("record_every", record_every, minimum=1)
    params = [p.detach().clone().requires_grad_() for p in (model.A, model.B, model.C)]
    rec_steps: list[int] = []
    rec_loss: list[Tensor] = []
    for step in range(steps + 1):
        out = _forward(*params, x)[..., -1]  # (R, N), final outputs
        loss = ((out - y) ** 2).mean(-1)
        if not math.isfinite(float(loss.detach().sum())):
            bad = torch.nonzero(~torch.isfinite(loss)).flatten().tolist()
            raise RuntimeError(
                f"training diverged at step {step}: non-finite loss in runs {bad}; "
                f"try a smaller lr (got {lr})"
            )
        if step % record_every == 0 or step == steps:
            rec_steps.append(step)
            rec_loss.append(loss.detach().clone())
        if step == steps:
            break
        grads = torch.autograd.grad(loss.sum(), params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    final = TanhRNN(*(p.detach() for p in params))
    return TanhTrainResult(final, rec_loss[-1], torch.tensor(rec_steps), torch.stack(rec_loss))
