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

Inputs ``x`` hold at least one sequence of at least one step (``N, T >= 1``). The trainers
report divergence per run, as :func:`rnnbias.train.train_gd` does: a run whose loss becomes
non-finite stops there, its parameters and loss are reported as NaN, the others train on, and
a ``RuntimeWarning`` says how many runs diverged (or, with ``divergence="raise"``, a
:class:`~rnnbias.train.DivergenceError` is raised at the step it happens).

Introduced in chapter 8, "Non-linear RNNs". Public names: :class:`TanhRNN`, :func:`init_tanh`,
:func:`tanh_teacher`, :func:`tanh_forward`, :func:`train_tanh`, :class:`TanhTrainResult`,
:class:`GRUStudent`, :func:`init_gru`, :func:`train_gru`, :class:`GRUTrainResult`,
:func:`memory_profile`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from . import _checks
from .train import _MODELS, Result, _report_divergence, loop

__all__ = [
    "GRUStudent",
    "GRUTrainResult",
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

    Numbers, lists and float64 arrays are converted; ``R, d >= 1`` and finite entries.

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
        if A.shape != (R, d, d) or C.shape != (R, d) or R < 1 or d < 1:
            raise ValueError(
                f"A, B, C must have shapes (R, d, d), (R, d), (R, d) with R, d >= 1; got "
                f"{tuple(A.shape)}, {tuple(B.shape)}, {tuple(C.shape)}"
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

    def _params(self) -> tuple[Tensor, Tensor, Tensor]:
        return self.A, self.B, self.C

    def select(self, runs: int | slice | Sequence[int]) -> TanhRNN:
        """Return the runs picked by ``runs``, keeping the run axis.

        ``runs`` is an integer (Python, NumPy or 0-d tensor; negative counts from the end;
        gives R = 1), a slice, ``...``, a sequence or 1-D tensor of integers, or a boolean mask
        of length R. Anything else, an index outside the runs, or an empty selection raises a
        ``TypeError``/``ValueError`` naming ``runs``.
        """
        idx = _checks.run_index("runs", runs, self.A.shape[0], self.A.device)
        return _unchecked(self.A[idx], self.B[idx], self.C[idx])


def _unchecked(A: Tensor, B: Tensor, C: Tensor) -> TanhRNN:
    """Build a model without validation (internal: shapes known good, NaN rows allowed)."""
    model = object.__new__(TanhRNN)
    for name, value in (("A", A), ("B", B), ("C", C)):
        object.__setattr__(model, name, value)
    return model


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
    return _checks.as_sequences("x", x, runs=model.runs, device=model.B.device)


def tanh_forward(model: TanhRNN, x: Tensor) -> Tensor:
    r"""Outputs :math:`\hat y_t = C h_t` at every time step.

    Parameters
    ----------
    model : TanhRNN
    x : torch.Tensor, shape (N, T) shared by all runs, or (R, N, T); ``N, T >= 1``

    Returns
    -------
    torch.Tensor, shape (R, N, T)

    Raises
    ------
    TypeError, ValueError
        For a non-model, a non-float64 ``x``, a wrong shape, or no or empty sequences.

    Warns
    -----
    RuntimeWarning
        If an output overflows into NaN (``C`` near the float64 limit).

    References
    ----------
    Introduced in chapter 8.
    """
    x = _check_model_and_inputs(model, x)
    out = _forward(model.A, model.B, model.C, x)
    _checks.warn_overflow("tanh_forward", "the outputs", out, model._params)
    return out


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
class TanhTrainResult(Result):
    """What :func:`train_tanh` returns: a :class:`~rnnbias.train.Result` whose ``model`` is a
    :class:`TanhRNN` and whose loss is the final-output training MSE."""

    model: TanhRNN


_MODELS["TanhRNN"] = TanhRNN


def _check_targets(y: object, x: Tensor, runs: int) -> Tensor:
    """Targets of shape (N,) or (R, N) (one per run, or 1 row) for inputs x of N sequences."""
    y = _checks.as_tensor("y", y, ndim=(1, 2), device=x.device, other="the model")
    N = x.shape[-2]
    if y.shape[-1] != N or (y.ndim == 2 and y.shape[0] not in (1, runs)):
        raise ValueError(
            f"y must have one target per sequence, shape ({N},) or ({runs}, {N}), got shape "
            f"{tuple(y.shape)}"
        )
    return y


def train_tanh(
    model: TanhRNN,
    x: Tensor,
    y: Tensor,
    *,
    lr: float = 0.05,
    max_steps: int = 2000,
    tol: float = 0.0,
    record_every: int = 100,
    divergence: str = "warn",
    steps: int | None = None,
) -> TanhTrainResult:
    r"""Full-batch gradient descent on the final-output MSE :math:`\frac1N\sum_n(\hat y_k - y)^2`.

    Parameters
    ----------
    model : TanhRNN
        Initial parameters of ``R`` runs.
    x : torch.Tensor, shape (N, k) or (R, N, k)
        Training inputs, ``N, k >= 1``.
    y : torch.Tensor, shape (N,) or (R, N)
        Targets for the final output.
    lr, max_steps, tol, record_every
        Step size (> 0), step budget (>= 0), stopping tolerance (a run stops once its loss is
        ``<= tol``; >= 0) and how often the loss is recorded (>= 1). ``steps`` is the old name
        of ``max_steps``.
    divergence : {"warn", "raise"}
        When a run's loss becomes non-finite: that run stops, its parameters and loss are
        reported as NaN and the other runs train on, with one ``RuntimeWarning`` at the end
        (``"warn"``, as :func:`rnnbias.train.train_gd`); or a
        :class:`~rnnbias.train.DivergenceError` is raised at that step (``"raise"``).

    Returns
    -------
    TanhTrainResult

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.
    DivergenceError
        With ``divergence="raise"``, if a run's loss becomes non-finite (naming the run and
        the step).

    Warns
    -----
    RuntimeWarning
        With ``divergence="warn"`` (default), once, naming how many runs diverged.

    Notes
    -----
    The loop is :func:`rnnbias.train.loop`, as for every trainer. Runs do not interact: the
    summed loss gives each run exactly its own gradient, so a diverged run harms no other.
    Cost per step O(R N k d^2) for the forward pass and
    about twice that for the backward pass.

    References
    ----------
    Introduced in chapter 8.
    """
    x = _check_model_and_inputs(model, x)
    y = _check_targets(y, x, model.runs)
    lr = _checks.as_float("lr", lr, positive=True)
    max_steps = _checks.as_int("max_steps", max_steps if steps is None else steps, minimum=0)
    tol = _checks.as_float("tol", tol, nonnegative=True)
    record_every = _checks.as_int("record_every", record_every, minimum=1)
    divergence = _checks.as_choice("divergence", divergence, ("warn", "raise"))

    def prepare(runs: Tensor | None, _full: tuple[Tensor, ...]):
        pick = lambda t, n: t if runs is None or t.ndim < n or len(t) == 1 else t[runs]  # noqa: E731
        xs, ys = pick(x, 3), pick(y, 2)
        return _autograd(lambda *ps: ((_forward(*ps, xs)[..., -1] - ys) ** 2).mean(-1))

    params, out = loop(
        model._params(), prepare, lr, max_steps=max_steps, tol=tol, record_every=record_every,
        divergence=divergence,
    )  # fmt: skip
    _report_divergence(out["diverged"], divergence, hint=f"try a smaller lr (got {lr})")
    return TanhTrainResult(model=_unchecked(*params), **out)


def _autograd(loss_fn):
    """``f(*params) -> (loss, grads)`` for :func:`rnnbias.train.loop`, by autograd of the
    summed per-run losses (each run receives its own gradient; non-finite losses add zero)."""

    def f(*ps: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        leaves = [p.detach().requires_grad_(True) for p in ps]
        loss = loss_fn(*leaves)
        total = torch.where(torch.isfinite(loss), loss, 0.0).sum()
        return loss.detach(), torch.autograd.grad(total, leaves)

    return f


@dataclass(frozen=True, eq=False)
class GRUStudent:
    r"""One gated student: torch's :class:`torch.nn.GRU` (one layer, input size 1) and a linear
    read-out without bias, :math:`\hat y_t = c^\top h_t`.

    Call it on inputs ``x`` of shape (N, T) to get the outputs at every step, shape (N, T).
    The recurrent weights ``gru.weight_hh_l0`` stack torch's reset, update and candidate blocks
    :math:`(U_r; U_z; U_n)`, each ``hidden`` x ``hidden``; :meth:`recurrent_blocks` returns
    them as a (3, hidden, hidden) tensor.

    Raises
    ------
    TypeError, ValueError
        Unless ``gru`` is a one-layer, unidirectional ``torch.nn.GRU`` with input size 1 and
        ``batch_first=True``, and ``readout`` a ``torch.nn.Linear(hidden, 1)``, both with
        float64 parameters (float32 is refused, not cast), finite and on one device.

    References
    ----------
    Introduced in chapter 8, section "A gated student".
    """

    gru: torch.nn.GRU
    readout: torch.nn.Linear

    def __post_init__(self) -> None:
        gru, readout = self.gru, self.readout
        if not isinstance(gru, torch.nn.GRU) or not isinstance(readout, torch.nn.Linear):
            raise TypeError(
                f"gru and readout must be torch.nn.GRU and torch.nn.Linear, got "
                f"{type(gru).__name__} and {type(readout).__name__}"
            )
        layout = {"input_size": 1, "num_layers": 1, "bidirectional": False, "batch_first": True}
        wrong = {k: getattr(gru, k) for k, v in layout.items() if getattr(gru, k) != v}
        if wrong:
            raise ValueError(
                f"gru must be torch.nn.GRU(1, hidden, batch_first=True) with one layer, one "
                f"direction and input size 1, got {wrong}"
            )
        if readout.in_features != gru.hidden_size or readout.out_features != 1:
            raise ValueError(
                f"readout must map the hidden state to one output, torch.nn.Linear("
                f"{gru.hidden_size}, 1), got torch.nn.Linear({readout.in_features}, "
                f"{readout.out_features})"
            )
        for name, module in (("gru", gru), ("readout", readout)):
            for p in module.parameters():
                if p.dtype != _checks.DTYPE:
                    raise TypeError(
                        f"{name} must have float64 parameters, got {p.dtype}; the package "
                        f"computes in float64: convert explicitly with {name}.double()"
                    )
                _checks.same_device(name, p, self.device, "the GRU")
                if _checks.has_values(p) and not bool(torch.isfinite(p).all()):
                    raise ValueError(f"{name} must have finite parameters, got non-finite ones")

    @property
    def device(self) -> torch.device:
        """The device of the GRU's parameters (inputs must be there too)."""
        return self.gru.weight_hh_l0.device

    @property
    def runs(self) -> int:
        """Number of runs: one (a GRU student is one run)."""
        return 1

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
        x = _checks.as_sequences("x", x, ndim=2, device=self.device, other="the student")
        out = self._run(x)
        _checks.warn_overflow("GRUStudent", "the outputs", out[None], self.parameters)
        return out

    def _run(self, x: Tensor) -> Tensor:
        """Unchecked call: (N, T) inputs to (N, T) outputs."""
        states, _ = self.gru(x.unsqueeze(-1))
        return self.readout(states).squeeze(-1)


def init_gru(
    hidden: int, scale: float, seed: int = 0, *, device: str | torch.device | None = None
) -> GRUStudent:
    r"""A GRU student with torch's default initialisation multiplied by ``scale``.

    torch draws every GRU weight and bias from :math:`U(-1/\sqrt{h}, 1/\sqrt{h})` and the
    read-out from :math:`U(-1/\sqrt{h}, 1/\sqrt{h})` too; all of them are multiplied by
    ``scale``, so ``scale = 1`` is torch's default and small ``scale`` is near-zero
    initialisation. ``seed`` (in ``[0, 2**64)``) seeds the draw (through a local generator
    state: the global random state is restored afterwards). The weights are drawn on the CPU
    and copied to ``device`` (default: the CPU), so a seed gives the same student on every
    device.

    References
    ----------
    Introduced in chapter 8, section "A gated student".
    """
    hidden = _checks.as_int("hidden", hidden, minimum=1)
    scale = _checks.as_float("scale", scale, positive=True)
    seed = _checks.as_seed("seed", seed)
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
class GRUTrainResult(Result):
    """What :func:`train_gru` returns: a :class:`~rnnbias.train.Result` of one run whose
    ``model`` is the trained :class:`GRUStudent` (a copy; NaN parameters if it diverged), also
    available as ``student``."""

    model: GRUStudent

    @property
    def student(self) -> GRUStudent:
        """The trained student (the same object as ``model``)."""
        return self.model


def train_gru(
    student: GRUStudent,
    x: Tensor,
    y: Tensor,
    *,
    lr: float = 0.1,
    max_steps: int = 1000,
    tol: float = 0.0,
    record_every: int = 100,
    divergence: str = "raise",
    steps: int | None = None,
) -> GRUTrainResult:
    r"""Full-batch GD on the final-output MSE :math:`\frac1N\sum_n(\hat y_k - y)^2` of a GRU.

    Works on a deep copy: ``student`` itself is not changed.

    Parameters
    ----------
    student : GRUStudent
    x : torch.Tensor, shape (N, k), ``N, k >= 1``
    y : torch.Tensor, shape (N,)
    lr, max_steps, tol, record_every, steps
        As in :func:`train_tanh`.
    divergence : {"raise", "warn"}
        If the loss becomes non-finite: raise :class:`~rnnbias.train.DivergenceError` at that
        step (``"raise"``, the default: a GRU student is a single run, so nothing else would
        be left to report), or stop there and return the student with NaN parameters, a NaN
        loss and ``diverged`` set, with a ``RuntimeWarning`` (``"warn"``, as
        :func:`train_tanh`).

    Returns
    -------
    GRUTrainResult

    Raises
    ------
    TypeError, ValueError
        For invalid arguments.
    DivergenceError
        With ``divergence="raise"``, if the loss becomes non-finite (a ``RuntimeError``).

    Warns
    -----
    RuntimeWarning
        With ``divergence="warn"``, if the loss became non-finite.

    References
    ----------
    Introduced in chapter 8, section "A gated student".
    """
    if not isinstance(student, GRUStudent):
        raise TypeError(f"student must be a GRUStudent, got {type(student).__name__}")
    x = _checks.as_sequences("x", x, ndim=2, device=student.device, other="the student")
    y = _checks.as_tensor("y", y, ndim=1, device=student.device, other="the student")
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"y must have one target per sequence, shape ({x.shape[0]},), got shape "
            f"{tuple(y.shape)}"
        )
    lr = _checks.as_float("lr", lr, positive=True)
    max_steps = _checks.as_int("max_steps", max_steps if steps is None else steps, minimum=0)
    tol = _checks.as_float("tol", tol, nonnegative=True)
    record_every = _checks.as_int("record_every", record_every, minimum=1)
    divergence = _checks.as_choice("divergence", divergence, ("warn", "raise"))
    student = copy.deepcopy(student)
    modules = {"gru": student.gru, "readout": student.readout}
    names = [(m, n) for m, mod in modules.items() for n, _ in mod.named_parameters()]

    def loss(*ps: Tensor) -> Tensor:  # one run: the parameters carry a run axis of size 1
        value = {m: {} for m in modules}
        for (m, n), p in zip(names, ps, strict=True):
            value[m][n] = p[0]
        states, _ = torch.func.functional_call(student.gru, value["gru"], (x.unsqueeze(-1),))
        out = torch.func.functional_call(student.readout, value["readout"], (states[:, -1],))
        return ((out.squeeze(-1) - y) ** 2).mean().unsqueeze(0)

    params, out = loop(
        tuple(p.detach().unsqueeze(0) for p in student.parameters()),
        lambda _runs, _full: _autograd(loss), lr, max_steps=max_steps, tol=tol,
        record_every=record_every, divergence=divergence,
    )  # fmt: skip
    with torch.no_grad():  # (NaN parameters are set directly: a diverged student is reported)
        for p, q in zip(student.parameters(), params, strict=True):
            p.copy_(q[0])
    _report_divergence(out["diverged"], divergence, hint=f"try a smaller lr (got {lr})")
    return GRUTrainResult(model=student, **out)


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
    x : torch.Tensor, shape (N, T), ``N, T >= 1``

    Returns
    -------
    torch.Tensor, shape (R, T), lag ``j`` in column ``j`` (``R = 1`` for a GRU).

    Warns
    -----
    RuntimeWarning
        If a sensitivity overflows into NaN.

    References
    ----------
    Introduced in chapter 8, section "Memory profiles".
    """
    if isinstance(model, TanhRNN):
        x = _checks.as_sequences("x", x, ndim=2, device=model.B.device)
        final = lambda xx: _forward(model.A, model.B, model.C, xx)[..., -1]  # noqa: E731
        runs = model.runs
    elif isinstance(model, GRUStudent):
        x = _checks.as_sequences("x", x, ndim=2, device=model.device, other="the student")
        final = lambda xx: model._run(xx)[:, -1].unsqueeze(0)  # noqa: E731
        runs = 1
    else:
        raise TypeError(f"model must be a TanhRNN or a GRUStudent, got {type(model).__name__}")
    xx = x.detach().clone().requires_grad_()
    out = final(xx)  # (R, N); sample n's output depends on sample n's inputs only
    rows = []
    for r in range(runs):
        (grad,) = torch.autograd.grad(out[r].sum(), xx, retain_graph=r < runs - 1)
        rows.append((grad.detach() ** 2).mean(0).flip(-1))
    profile = torch.stack(rows)
    params = model._params if isinstance(model, TanhRNN) else model.parameters
    _checks.warn_overflow("memory_profile", "the sensitivities", profile, params)
    return profile
