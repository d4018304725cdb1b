r"""Non-linear (tanh) RNNs trained on sampled sequences, batched over runs.

.. math::

    h_t = \tanh(A h_{t-1} + B x_t), \quad h_0 = 0, \qquad \hat y_t = C h_t .

There is no closed-form population loss, so students are trained by full-batch gradient descent
(backpropagation through time by autograd) on a fixed set of ``N`` sampled sequences of length
``k``, and tested on fresh sequences at longer lengths. The theory of chapters 4–7 is linear;
what these functions measure in chapter 8 is observation, not theorem.

A gated student is torch's own :class:`torch.nn.GRU` with a linear read-out
(:class:`GRUStudent`); GRUs are not batched over runs, so each run is one student.

The *memory profile* :math:`m_j = \mathbb E\,(\partial \hat y_T / \partial x_{T-j})^2`
(:func:`memory_profile`) is the non-linear stand-in for the squared taps :math:`g_j^2`: for a
linear RNN the derivative is exactly :math:`g_j`.

As everywhere in the package: a leading run axis ``R`` (runs never interact, so their losses
are summed and each run receives its own gradient), float64, and initial entries
:math:`\mathcal N(0, \sigma^2/d)` from one base draw per seed. Everything is computed on the
device of the model's parameters (the inputs and targets must be there too); the ``init_*``
functions and :func:`tanh_teacher` take ``device=``.

Introduced in chapter 8, "Non-linear RNNs". Public names: :class:`TanhRNN`, :func:`init_tanh`,
:func:`tanh_teacher`, :func:`tanh_forward`, :func:`train_tanh`, :class:`TanhTrainResult`,
:class:`GRUStudent`, :func:`init_gru`, :func:`train_gru`, :func:`memory_profile`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import _checks

__all__ = [
    "GRUStudent",
    "TanhRNN",
    "TanhTrainResult",
    "init_gru",
    "init_tanh",
    "memory_profile",
    "tanh_forward",
    "tanh_teacher",
    "train_gru",
    "train_tanh",
]


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
        B = _checks.as_tensor("B", self.B, ndim=2)
        A = _checks.as_tensor("A", self.A, ndim=3, device=B.device, other="B")
        C = _checks.as_tensor("C", self.C, ndim=2, device=B.device, other="B")
        R, d = B.shape
        if A.shape != (R, d, d) or C.shape != (R, d):
            raise ValueError(
                f"A, B, C must have shapes (R, d, d), (R, d), (R, d); got {tuple(A.shape)}, "
                f"{tuple(B.shape)}, {tuple(C.shape)}"
            )
        for name, value in (("A", A), ("B", B), ("C", C)):  # lists and arrays, converted
            object.__setattr__(self, name, value)

    @property
    def runs(self) -> int:
        """Number of runs ``R``."""
        return self.B.shape[0]

    @property
    def d(self) -> int:
        """State dimension ``d``."""
        return self.B.shape[1]

    def select(self, runs: int | slice | Sequence[int]) -> TanhRNN:
        """Return the runs picked by ``runs``, keeping the run axis.

        ``runs`` is an integer (Python, NumPy or 0-d tensor; negative counts from the end;
        gives R = 1), a slice, ``...``, a sequence or 1-D tensor of integers, or a boolean mask
        of length R. Anything else, an index outside the runs, or an empty selection raises a
        ``TypeError``/``ValueError`` naming ``runs``.
        """
        idx = _checks.run_index("runs", runs, self.A.shape[0], self.A.device)
        return TanhRNN(self.A[idx], self.B[idx], self.C[idx])


def init_tanh(
    d: int,
    sigma: float | Sequence[float],
    seed: int | Sequence[int] = 0,
    *,
    device: str | torch.device | None = None,
) -> TanhRNN:
    r"""Gaussian initialisation, entries :math:`\mathcal N(0, \sigma^2/d)`, one run per pair.

    As :func:`rnnbias.linear.init_gaussian`: each run rescales the standard-normal base draw of its
    seed by its ``sigma``, scalars broadcast against sequences, and the parameters live on
    ``device`` (default: the CPU; drawn on the CPU and copied, so the same on every device).

    References
    ----------
    Introduced in chapter 8.
    """
    from .linear import init_gaussian  # the same base draws as the linear students

    m = init_gaussian(d, sigma, seed, device=device)
    return TanhRNN(m.A, m.B, m.C)


def tanh_teacher(
    a: float = 0.9, b: float = 1.0, c: float = 1.0, *, device: str | torch.device | None = None
) -> TanhRNN:
    r"""The one-dimensional tanh teacher :math:`s_t = \tanh(a s_{t-1} + b x_t),\ y_t = c s_t`.

    One run (``R = 1``) with ``d = 1``; chapter 8's teacher is the default ``a = 0.9, b = c = 1``.
    ``device``: where its parameters live (default: the CPU).

    References
    ----------
    Introduced in chapter 8.
    """
    a, b, c = (_checks.as_float(n, v) for n, v in (("a", a), ("b", b), ("c", c)))
    device = _checks.as_device("device", device)
    one = torch.ones(1, 1, dtype=_checks.DTYPE, device=device)
    return TanhRNN(a * one.unsqueeze(-1), b * one, c * one)


def _check_model_and_inputs(model: object, x: object) -> Tensor:
    """Check the model type and the inputs' shape (N, T) or (R, N, T); return x as a tensor."""
    if not isinstance(model, TanhRNN):
        raise TypeError(f"model must be a TanhRNN, got {type(model).__name__}")
    x = _checks.as_tensor("x", x, ndim=(2, 3), device=model.B.device, other="the model")
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
    y = _checks.as_tensor("y", y, ndim=(1, 2), device=x.device, other="the model")
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
    history_steps = torch.tensor(rec_steps, device=x.device)
    return TanhTrainResult(final, rec_loss[-1], history_steps, torch.stack(rec_loss))


@dataclass(frozen=True, eq=False)
class GRUStudent:
    r"""One gated student: torch's :class:`torch.nn.GRU` (one layer, input size 1) and a linear
    read-out without bias, :math:`\hat y_t = c^\top h_t`.

    Call it on inputs ``x`` of shape (N, T) to get the outputs at every step, shape (N, T).
    The recurrent weights ``gru.weight_hh_l0`` stack torch's reset, update and candidate blocks
    :math:`(U_r; U_z; U_n)`, each ``hidden`` x ``hidden``; :meth:`recurrent_blocks` returns
    them as a (3, hidden, hidden) tensor.

    References
    ----------
    Introduced in chapter 8, section "A gated student".
    """

    gru: torch.nn.GRU
    readout: torch.nn.Linear

    def __post_init__(self) -> None:
        if not isinstance(self.gru, torch.nn.GRU) or not isinstance(self.readout, torch.nn.Linear):
            raise TypeError(
                f"gru and readout must be torch.nn.GRU and torch.nn.Linear, got "
                f"{type(self.gru).__name__} and {type(self.readout).__name__}"
            )
        for p in self.readout.parameters():
            _checks.same_device("readout", p, self.device, "the GRU")

    @property
    def device(self) -> torch.device:
        """The device of the GRU's parameters (inputs must be there too)."""
        return self.gru.weight_hh_l0.device

    @property
    def hidden(self) -> int:
        """Hidden size."""
        return self.gru.hidden_size

    def parameters(self) -> list[Tensor]:
        """All trainable tensors (GRU weights and biases, then the read-out)."""
        return [*self.gru.parameters(), *self.readout.parameters()]

    def recurrent_blocks(self) -> Tensor:
        """The recurrent weight blocks (reset, update, candidate), shape (3, hidden, hidden)."""
        return self.gru.weight_hh_l0.detach().reshape(3, self.hidden, self.hidden).clone()

    def __call__(self, x: Tensor) -> Tensor:
        x = _checks.as_tensor("x", x, ndim=2, device=self.device, other="the student")
        states, _ = self.gru(x.unsqueeze(-1))
        return self.readout(states).squeeze(-1)


def init_gru(
    hidden: int, scale: float, seed: int = 0, *, device: str | torch.device | None = None
) -> GRUStudent:
    r"""A GRU student with torch's default initialisation multiplied by ``scale``.

    torch draws every GRU weight and bias from :math:`U(-1/\sqrt{h}, 1/\sqrt{h})` and the
    read-out from :math:`U(-1/\sqrt{h}, 1/\sqrt{h})` too; all of them are multiplied by
    ``scale``, so ``scale = 1`` is torch's default and small ``scale`` is near-zero
    initialisation. ``seed`` seeds the draw (through a local generator state: the global
    random state is restored afterwards). The weights are drawn on the CPU and copied to
    ``device`` (default: the CPU), so a seed gives the same student on every device.

    References
    ----------
    Introduced in chapter 8, section "A gated student".
    """
    hidden = _checks.as_int("hidden", hidden, minimum=1)
    scale = _checks.as_float("scale", scale, positive=True)
    seed = _checks.as_int("seed", seed, minimum=0)
    device = _checks.as_device("device", device)
    with torch.random.fork_rng(devices=[]):  # forks the CPU generator, the only one seeded
        torch.default_generator.manual_seed(seed)
        gru = torch.nn.GRU(1, hidden, batch_first=True, dtype=_checks.DTYPE, device="cpu")
        readout = torch.nn.Linear(hidden, 1, bias=False, dtype=_checks.DTYPE, device="cpu")
        torch.nn.init.uniform_(readout.weight, -(hidden**-0.5), hidden**-0.5)
    student = GRUStudent(gru.to(device), readout.to(device))
    with torch.no_grad():
        for p in student.parameters():
            p.mul_(scale)
    return student


@dataclass(frozen=True, eq=False, repr=False)
class GRUTrainResult:
    """What :func:`train_gru` returns: the trained ``student`` (a copy), the final training
    MSE ``loss`` (a float), and ``history_steps``, ``loss_history`` (n_records,)."""

    student: GRUStudent
    loss: float
    history_steps: Tensor
    loss_history: Tensor

    def __str__(self) -> str:
        return (
            f"GRU, hidden {self.student.hidden}: {int(self.history_steps[-1])} steps, "
            f"final training MSE {self.loss:.4g}"
        )


def train_gru(
    student: GRUStudent,
    x: Tensor,
    y: Tensor,
    *,
    lr: float = 0.1,
    steps: int = 1000,
    record_every: int = 100,
) -> GRUTrainResult:
    r"""Full-batch GD on the final-output MSE :math:`\frac1N\sum_n(\hat y_k - y)^2` of a GRU.

    Works on a deep copy: ``student`` itself is not changed.

    Parameters
    ----------
    student : GRUStudent
    x : torch.Tensor, shape (N, k)
    y : torch.Tensor, shape (N,)
    lr, steps, record_every
        As in :func:`train_tanh`.

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.
    RuntimeError
        If the loss becomes non-finite.

    References
    ----------
    Introduced in chapter 8, section "A gated student".
    """
    if not isinstance(student, GRUStudent):
        raise TypeError(f"student must be a GRUStudent, got {type(student).__name__}")
    x = _checks.as_tensor("x", x, ndim=2, device=student.device, other="the student")
    y = _checks.as_tensor("y", y, ndim=1, device=student.device, other="the student")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one target per sequence ({x.shape[0]}), got {y.shape}")
    lr = _checks.as_float("lr", lr, positive=True)
    steps = _checks.as_int("steps", steps, minimum=0)
    record_every = _checks.as_int("record_every", record_every, minimum=1)
    student = copy.deepcopy(student)
    params = student.parameters()
    rec_steps: list[int] = []
    rec_loss: list[float] = []
    for step in range(steps + 1):
        loss = ((student(x)[:, -1] - y) ** 2).mean()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise RuntimeError(
                f"GRU training diverged at step {step}: non-finite loss; try a smaller lr "
                f"(got {lr})"
            )
        if step % record_every == 0 or step == steps:
            rec_steps.append(step)
            rec_loss.append(value)
        if step == steps:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p -= lr * g
    history_steps = torch.tensor(rec_steps, device=x.device)
    history = torch.tensor(rec_loss, dtype=torch.float64, device=x.device)
    return GRUTrainResult(student, rec_loss[-1], history_steps, history)


def memory_profile(model: TanhRNN | GRUStudent, x: Tensor) -> Tensor:
    r"""Mean squared sensitivity of the last output to each past input.

    .. math:: m_j = \frac1N \sum_{n=1}^N \Big(\frac{\partial \hat y_T}{\partial x_{T-j}}
              \Big)^2 \Big|_{x = x^{(n)}}, \qquad j = 0, \dots, T-1 .

    For a linear RNN :math:`\partial \hat y_T/\partial x_{T-j} = g_j` whatever the input, so
    :math:`m_j = g_j^2`: the memory profile is the squared impulse response. For a tanh RNN or
    a GRU it depends on the inputs, and it says how far back the output still listens.

    Parameters
    ----------
    model : TanhRNN (R runs) or GRUStudent (one run)
    x : torch.Tensor, shape (N, T)

    Returns
    -------
    torch.Tensor, shape (R, T), lag ``j`` in column ``j`` (``R = 1`` for a GRU).

    References
    ----------
    Introduced in chapter 8, section "Memory profiles".
    """
    if isinstance(model, TanhRNN):
        x = _check_model_and_inputs(model, x)
        if x.ndim != 2:
            raise ValueError(f"x must have shape (N, T), got {tuple(x.shape)}")
        final = lambda xx: _forward(model.A, model.B, model.C, xx)[..., -1]  # noqa: E731
        runs = model.runs
    elif isinstance(model, GRUStudent):
        x = _checks.as_tensor("x", x, ndim=2, device=model.device, other="the student")
        final = lambda xx: model(xx)[:, -1].unsqueeze(0)  # noqa: E731
        runs = 1
    else:
        raise TypeError(f"model must be a TanhRNN or a GRUStudent, got {type(model).__name__}")
    xx = x.detach().clone().requires_grad_()
    out = final(xx)  # (R, N); sample n's output depends on sample n's inputs only
    rows = []
    for r in range(runs):
        (grad,) = torch.autograd.grad(out[r].sum(), xx, retain_graph=r < runs - 1)
        rows.append((grad.detach() ** 2).mean(0).flip(-1))
    return torch.stack(rows)
