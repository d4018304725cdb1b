r"""Full-batch gradient descent on the exact population loss, batched over runs.

Each step of every run is

.. math:: \theta \leftarrow \theta - \eta\, \nabla L_k(\theta)

with the closed-form gradient of :func:`rnnbias.linear.population_loss_grad`: no sampling and
no autograd, so ``R`` runs (seeds, scales) advance together in one tensor program.

Stopping is per run: a run stops once its loss is at most ``tol`` (converged) or becomes
non-finite (diverged); the others go on until ``max_steps``. A diverged run's parameters are
set to NaN, so that nothing computed from them can pass for a number, and a warning (or, with
``divergence="raise"``, an error) reports how many runs diverged.

Introduced in chapter 1; used from chapter 3 on. Public names: :class:`GDConfig`,
:class:`TrainResult`, :class:`DivergenceError`, :func:`train_gd`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from . import _checks
from .linear import LOSSES, LinearRNN, _loss_and_grad, _loss_weights, _target, _unchecked

__all__ = ["DivergenceError", "GDConfig", "Result", "TrainResult", "train_gd"]

BACKENDS = ("auto", "compiled", "tensor")
#: how often (in steps) :func:`loop` looks at the stopping state on the host, per device type
#: (32 where a look costs a device synchronisation)
CHECK_EVERY = {"cpu": 1}


class DivergenceError(RuntimeError):
    """Raised by :func:`train_gd` with ``divergence="raise"`` when a run's loss is non-finite."""


def _report_divergence(
    diverged: Tensor, divergence: str, hint: str = "a smaller lr may help"
) -> None:
    """Warn once (``divergence="warn"``) or raise :class:`DivergenceError` if any run diverged.

    Shared by the trainers of :mod:`rnnbias.train`, :mod:`rnnbias.optim` and :mod:`rnnbias.ssm`.
    """
    n_div, R = int(diverged.sum()), diverged.numel()
    if not n_div:
        return
    message = (
        f"{n_div} of {R} runs diverged (non-finite loss); their parameters and losses are "
        f"NaN. See result.diverged; {hint}."
    )
    if divergence == "raise":
        raise DivergenceError(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


@dataclass(frozen=True)
class GDConfig:
    """Settings of :func:`train_gd`; every field is checked when the config is made.

    References
    ----------
    Introduced in chapter 1, section "Training in one call" (chapter 3 on use it).
    """

    lr: float | tuple[float, ...] = 0.05  #: step size eta (> 0), or one per run
    max_steps: int = 10_000  #: step budget per run (>= 0)
    tol: float = 1e-12  #: a run stops once its training loss is <= tol (>= 0; 0 = never early)
    clip: float | None = None  #: clip each run's gradient to this global norm (None = no clipping)
    outputs: str = "final"  #: loss on the final output ("final") or on all outputs ("all")
    record_every: int = 1  #: keep the loss (and tracked values) every this many steps (>= 1)
    #: most history entries kept (records x runs, 8 MB of float64 by default): a longer history
    #: raises ``record_every`` to the smallest value that fits (None: no limit)
    history_limit: int | None = 1_000_000
    divergence: str = "warn"  #: on a non-finite loss, "warn" once or "raise" DivergenceError
    progress: bool = False  #: show a tqdm progress bar (off by default; library code is quiet)
    #: "auto": compiled CPU kernels (:mod:`rnnbias._fast`) for CPU tensors when numba is installed,
    #: else batched tensor operations ("tensor", any device); "compiled" insists on the kernels
    backend: str = "auto"

    def __post_init__(self) -> None:
        dtype = str(getattr(self.lr, "dtype", "float64")).removeprefix("torch.")
        if dtype.startswith(("float", "bfloat")) and dtype != "float64":
            raise TypeError(
                f"lr must be float64 (the package computes in float64), got {dtype}: "
                "convert explicitly, e.g. lr.double() or lr.astype('float64')"
            )
        if _is_sequence(self.lr):
            lrs = tuple(
                _checks.as_float(f"lr[{i}]", _scalar(v), positive=True)
                for i, v in enumerate(self.lr)
            )
            if not lrs:
                raise ValueError("lr must be a positive number or a non-empty sequence of them")
            object.__setattr__(self, "lr", lrs)
        else:
            object.__setattr__(self, "lr", _checks.as_float("lr", _scalar(self.lr), positive=True))
        _checks.as_int("max_steps", self.max_steps, minimum=0)
        _checks.as_float("tol", self.tol, nonnegative=True)
        if self.clip is not None:
            _checks.as_float("clip", self.clip, positive=True)
        _checks.as_choice("outputs", self.outputs, LOSSES)
        _checks.as_int("record_every", self.record_every, minimum=1)
        if self.history_limit is not None:
            _checks.as_int("history_limit", self.history_limit, minimum=1)
        _checks.as_choice("divergence", self.divergence, ("warn", "raise"))
        if not isinstance(self.progress, bool):
            raise TypeError(f"progress must be a bool, got {self.progress!r}")
        _checks.as_choice("backend", self.backend, BACKENDS)


@dataclass(frozen=True, eq=False, repr=False)
class Result:
    """What every trainer returns (families extend it); nothing is mutated.

    Attributes
    ----------
    model
        Final parameters of every run (NaN for diverged runs), of the trained model's class.
    loss : torch.Tensor, shape (R,)
        Final training loss (NaN for diverged runs).
    steps : torch.Tensor, shape (R,), int64
        Steps each run took.
    converged, diverged : torch.Tensor, shape (R,), bool
        Runs that reached ``loss <= tol``; runs whose loss became non-finite.
    history_steps : torch.Tensor, shape (n_records,), int64
        Step numbers at which the history was recorded (0, ``record_every``, ..., last step).
    loss_history : torch.Tensor, shape (n_records, R)
        Training loss of every run at those steps (a stopped run keeps its final value).
    tracked : dict of str to torch.Tensor
        For each ``track`` function, its values stacked along a leading records axis.

    :attr:`stop_reason` says why each run stopped; :meth:`to_dict` gives every field as NumPy
    arrays; :meth:`save` and :meth:`load` write and read them as a ``.npz`` file.
    """

    model: Any
    loss: Tensor
    steps: Tensor
    converged: Tensor
    diverged: Tensor
    history_steps: Tensor
    loss_history: Tensor
    tracked: dict[str, Tensor] = field(default_factory=dict)

    @property
    def stop_reason(self) -> list[str]:
        """Why each run stopped: ``"converged"``, ``"diverged"`` or ``"max_steps"``."""
        return [
            "diverged" if d else "converged" if c else "max_steps"
            for c, d in zip(self.converged.tolist(), self.diverged.tolist(), strict=True)
        ]

    def to_dict(self) -> dict[str, object]:
        """Every field as NumPy arrays (``model/<field>`` for the model's, e.g. ``model/A``, or
        ``model/gru.<name>`` for a torch module's; ``loss``, ..., ``stop_reason``,
        ``tracked/<name>``, and a family's own fields), for saving or for other tools."""
        out: dict[str, object] = {"model": type(self.model).__name__}
        numpy = lambda v: v.detach().cpu().numpy() if torch.is_tensor(v) else v  # noqa: E731
        for f in dataclasses.fields(self.model):
            value = getattr(self.model, f.name)
            items = value.state_dict().items() if hasattr(value, "state_dict") else [("", value)]
            for name, v in items:
                out[f"model/{f.name}" + (f".{name}" if name else "")] = numpy(v)
        for f in dataclasses.fields(self):  # (lists, such as a flow's models, are left out)
            if f.name not in ("model", "tracked") and not isinstance(getattr(self, f.name), list):
                out[f.name] = numpy(getattr(self, f.name))
        out["stop_reason"] = self.stop_reason
        for name, value in self.tracked.items():
            out[f"tracked/{name}"] = numpy(value)
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write the result to ``path`` (a NumPy ``.npz`` file; read back with :meth:`load`)."""
        import numpy as np

        with open(path, "wb") as f:  # (np.savez would append ".npz" to a str path)
            np.savez_compressed(f, **self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Result:
        """Read a result written by :meth:`save` (CPU tensors) as this class."""
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            get = lambda name: torch.from_numpy(data[name].copy())  # noqa: E731
            if str(data["model"]) not in _MODELS:
                raise ValueError(
                    f"{path} holds a {data['model']} result, which load cannot rebuild (it reads "
                    f"{sorted(_MODELS)}); read its arrays with numpy.load"
                )
            model_cls = _MODELS[str(data["model"])]
            model = object.__new__(model_cls)  # as saved: no validation (diverged runs are NaN)
            for f in dataclasses.fields(model_cls):
                value = data[f"model/{f.name}"]
                value = str(value) if value.dtype.kind == "U" else torch.from_numpy(value.copy())
                object.__setattr__(model, f.name, value)
            tracked = {n[8:]: get(n) for n in data.files if n.startswith("tracked/")}
            own = [f.name for f in dataclasses.fields(cls) if f.name not in ("model", "tracked")]
            if any(n not in data.files for n in own):
                raise ValueError(f"{path} lacks fields of {cls.__name__}: it cannot be rebuilt")
            fields = {n: int(data[n]) if data[n].dtype.kind == "i" and not data[n].ndim else get(n)
                      for n in own}  # fmt: skip
            return cls(model=model, tracked=tracked, **fields)

    def _worst_loss(self) -> str:
        finite = self.loss[~self.diverged]
        return f"{float(finite.max()):.4g}" if len(finite) else "nan"

    def _most_steps(self) -> int:
        return int(self.steps.max()) if self.steps.numel() else 0

    def __str__(self) -> str:
        """A one-line summary that fits a notebook's output column (``print(result)``)."""
        return (
            f"{self.model.runs} run{'s' * (self.model.runs != 1)}: {int(self.converged.sum())} "
            f"converged, "
            f"{int(self.diverged.sum())} diverged; at most {self._most_steps()} steps, "
            f"final loss <= {self._worst_loss()}"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(runs={self.model.runs}, converged={int(self.converged.sum())}, "
            f"diverged={int(self.diverged.sum())}, max_steps_taken={self._most_steps()}, "
            f"max_final_loss={self._worst_loss()})"
        )


#: model classes a saved result can hold (families register theirs)
_MODELS: dict[str, type] = {"LinearRNN": LinearRNN}


@dataclass(frozen=True, eq=False, repr=False)
class TrainResult(Result):
    """What :func:`train_gd` (and :func:`rnnbias.optim.train_autograd`) return: a
    :class:`Result` whose ``model`` is a :class:`~rnnbias.linear.LinearRNN`."""

    model: LinearRNN


def _clip(grads: tuple[Tensor, ...], max_norm: float) -> tuple[Tensor, ...]:
    """Scale each run's gradient so that its global norm is at most ``max_norm``."""
    sq = sum(g.reshape(g.shape[0], -1).pow(2).sum(-1) for g in grads)
    factor = (max_norm / sq.sqrt().clamp_min(1e-300)).clamp(max=1.0)
    return tuple(g * factor.view(-1, *([1] * (g.ndim - 1))) for g in grads)


def _masked(params: tuple[Tensor, ...], mask: Tensor, value: float) -> tuple[Tensor, ...]:
    return tuple(
        torch.where(mask.view(-1, *([1] * (p.ndim - 1))), torch.full_like(p, value), p)
        for p in params
    )


def train_gd(
    model: LinearRNN,
    teacher: object,
    k: int | Sequence[int],
    config: GDConfig | None = None,
    *,
    track: Mapping[str, Callable[[LinearRNN], Tensor]] | None = None,
    **overrides: object,
) -> TrainResult:
    r"""Train every run of ``model`` by full-batch GD on the exact length-``k`` loss.

    Parameters
    ----------
    model : LinearRNN
        Initial parameters of ``R`` runs, any structure (finite entries).
    teacher : Teacher or torch.Tensor
        The target impulse response, as in :func:`rnnbias.linear.population_loss`.
    k : int or sequence of int, length R
        Training length, ``k >= 1``; one per run to train runs of different lengths together
        (each run's loss then covers its own first ``k`` taps, see Notes).
    config : GDConfig, optional
        Settings; defaults to ``GDConfig()``. ``lr`` may be one step size per run.
    track : mapping of str to callable, optional
        Functions of the current model (returning a tensor with a leading run axis) recorded
        with the loss, e.g. ``{"rho": spectral_radius}``.
    **overrides
        Fields of :class:`GDConfig` to change, e.g. ``lr=0.02, max_steps=5000``.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError, ValueError
        For invalid arguments (see :class:`GDConfig`).
    DivergenceError
        With ``divergence="raise"``, if any run's loss becomes non-finite.

    Warns
    -----
    RuntimeWarning
        With ``divergence="warn"`` (default), once, naming how many runs diverged.

    Notes
    -----
    Per step: one call of :func:`~rnnbias.linear.population_loss_grad` for all runs, cost
    O(R (k^2 d + k d^2)) for full models. Runs that stopped keep their parameters fixed.
    With per-run lengths, every run computes ``max(k)`` taps and the loss weights of lags
    ``j >= k_r`` are zero, so run ``r`` descends exactly its own :math:`L_{k_r}`; the batch
    costs as much as ``R`` runs at ``max(k)``.

    References
    ----------
    Introduced in chapter 1, section "Training in one call".
    """
    if not isinstance(model, LinearRNN):
        raise TypeError(f"model must be a LinearRNN, got {type(model).__name__}")
    config = _settings(config, overrides)
    R = model.runs
    config = _bounded_history(config, R)
    ks = _lengths(k, R)
    lr = _step_sizes(config.lr, R, model.B)
    track = _checks.as_track("track", track)
    # everything that does not change during training is prepared once
    dev, k_max = model.B.device, max(ks)
    weights = torch.stack(
        [
            torch.nn.functional.pad(_loss_weights(kr, config.outputs, dev), (0, k_max - kr))
            for kr in ks
        ]
    )
    weights = weights[0] if len(ks) == 1 else weights
    target = _target(teacher, k_max, dev)  # (a tensor on another device: a named error)
    if target.ndim == 2 and target.shape[0] != R:
        raise ValueError(
            f"teacher must give one impulse response or one per run ({R} runs), "
            f"got {target.shape[0]} rows"
        )
    if _compiled(config, model):
        return _train_compiled(model, ks, lr, weights, target, config, track)
    return _train_tensor(model, ks, lr, weights, target, config, track)


def _settings(config: GDConfig | None, overrides: Mapping[str, object]) -> GDConfig:
    """``config`` (default ``GDConfig()``) with ``overrides`` applied, checked."""
    config = config if config is not None else GDConfig()
    if not isinstance(config, GDConfig):
        raise TypeError(f"config must be a GDConfig, got {type(config).__name__}")
    names = [f.name for f in dataclasses.fields(GDConfig)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise TypeError(f"unknown setting(s) {unknown}; GDConfig has {names}")
    return dataclasses.replace(config, **overrides)


def _bounded_history(config: GDConfig, R: int) -> GDConfig:
    """Raise ``record_every`` so that at most ``history_limit`` entries are kept."""
    limit = config.history_limit
    if limit is None or (config.max_steps // config.record_every + 2) * R <= limit:
        return config
    rows = max(limit // R - 2, 1)  # records at multiples of record_every, plus the last step
    return dataclasses.replace(config, record_every=max(1, -(-config.max_steps // rows)))


def _is_sequence(x: object) -> bool:
    """A list, tuple, or 1-D (or higher) tensor or array: one value per run."""
    return isinstance(x, (list, tuple)) or (
        hasattr(x, "ndim") and hasattr(x, "shape") and x.ndim > 0
    )


def _scalar(x: object) -> object:
    """A 0-d tensor or array as its Python number (anything else unchanged)."""
    return x.item() if hasattr(x, "ndim") and hasattr(x, "item") and x.ndim == 0 else x


def _lengths(k: object, R: int) -> list[int]:
    """One training length per run (a single one for an int ``k``)."""
    if _is_sequence(k):
        ks = [_checks.as_int(f"k[{i}]", _scalar(v), minimum=1) for i, v in enumerate(k)]
        if len(ks) != R:
            raise ValueError(f"k must be an int or have one entry per run ({R}), got {len(ks)}")
        return ks
    return [_checks.as_int("k", _scalar(k), minimum=1)]


def _step_sizes(lr: float | tuple[float, ...], R: int, like: Tensor) -> float | Tensor:
    """The step size, or a tensor of one per run on the model's device."""
    if not isinstance(lr, tuple):
        return lr
    if len(lr) != R:
        raise ValueError(f"lr must be a float or have one entry per run ({R}), got {len(lr)}")
    return torch.tensor(lr, dtype=torch.float64, device=like.device)


def _compiled(config: GDConfig, model: LinearRNN) -> bool:
    """Whether to use the compiled kernels (see ``GDConfig.backend``)."""
    from . import _fast as fast

    usable = fast.AVAILABLE and model.B.device.type == "cpu"
    if config.backend == "compiled" and not usable:
        why = (
            "numba is not installed" if not fast.AVAILABLE else f"the model is on {model.B.device}"
        )
        raise ValueError(f"backend='compiled' needs CPU tensors and numba, but {why}")
    return usable and config.backend != "tensor"


def _train_compiled(
    model: LinearRNN,
    ks: list[int],
    lr: float | Tensor,
    weights: Tensor,
    target: Tensor,
    config: GDConfig,
    track: dict[str, Callable[[LinearRNN], Tensor]],
) -> TrainResult:
    """:func:`train_gd` by the compiled kernels of :mod:`rnnbias._fast`, same numbers."""
    from . import _fast as fast

    R, structure = model.runs, model.structure
    A, B, C = (p.detach().numpy().copy() for p in model)  # the kernels update these in place
    args = (per_run_rows(target, R), per_run_rows(weights, R), *per_run(ks, lr, R))
    # (fixed argument types: one compiled specialisation per kernel)
    clip, tol = float(config.clip if config.clip is not None else 0.0), float(config.tol)

    def advance(start: int, end: int, *tail: object) -> int:
        if structure == "diagonal":
            return fast.gd_diagonal(A, B, C, *args, clip, tol, start, end, *tail)
        return fast.gd_full(A, B, C, *args, structure == "symmetric", clip, tol, start, end, *tail)

    current = lambda: _unchecked(*map(torch.from_numpy, (A, B, C)), structure)  # noqa: E731
    rec_track: list[dict[str, Tensor]] = []
    record = (lambda: rec_track.append(_track_values(track, current()))) if track else None
    out = drive(advance, R, config.max_steps, config.record_every, config.divergence,
                progress=config.progress, record=record)  # fmt: skip
    _report_divergence(out["diverged"], config.divergence, hint="a smaller lr or clip may help")
    return TrainResult(
        model=current(), **out, tracked={n: torch.stack([r[n] for r in rec_track]) for n in track}
    )


def per_run_rows(t: Tensor, R: int) -> object:
    """A (n,) or (R, n) tensor as an (R, n) C-ordered NumPy copy, for the kernels."""
    import numpy as np

    return np.array(t.expand(R, -1).numpy(), order="C")


def per_run(ks: list[int], lr: float | Tensor, R: int) -> tuple[object, object]:
    """Per-run lengths (int64) and step sizes (float64) as writeable NumPy arrays."""
    import numpy as np

    ks_np = np.asarray(ks * (R if len(ks) == 1 else 1), dtype=np.int64)
    return ks_np, np.array(np.broadcast_to(np.asarray(lr, dtype=np.float64), (R,)))


def drive(
    advance: Callable[..., int],
    R: int,
    max_steps: int,
    every: int,
    divergence: str,
    *,
    progress: bool = False,
    record: Callable[[], None] | None = None,
) -> dict[str, Tensor]:
    """Run a compiled kernel of :mod:`rnnbias._fast` over ``R`` runs to the end of training.

    ``advance(start, end, every, stop_on_div, hist, loss, steps, status)`` advances the running
    runs from step ``start`` to ``end``. One call does the whole budget, unless ``record`` (called
    at the history's steps, as :func:`train_gd` records tracked values) or a progress bar needs
    to see the runs in between. Returns the result fields ``loss``, ``steps``, ``converged``,
    ``diverged``, ``history_steps`` and ``loss_history`` (CPU tensors); with
    ``divergence="raise"`` a run that diverges raises :class:`DivergenceError` at once.
    """
    import numpy as np

    from . import _fast as fast

    hist = np.full((max_steps // every + 1, R), np.nan)
    loss, steps = np.full(R, np.nan), np.zeros(R, dtype=np.int64)
    status = np.zeros(R, dtype=np.int8)

    def kernel(start: int, end: int) -> None:
        bad = advance(start, end, every, divergence == "raise", hist, loss, steps, status)
        if bad >= 0:
            _raise_divergence(bad, R, int(steps[bad]))

    chunk = every if record else max(1, -(-max_steps // 100)) if progress else max_steps
    bar = _progress_bar(progress, max_steps)
    running = lambda: bool((status == fast.RUNNING).any())  # noqa: E731
    if record:
        record()  # step 0
    kernel(0, 0)  # the loss at step 0 (and a stop there)
    start = 0
    while start < max_steps and running():
        end = min(start + chunk, max_steps)
        kernel(start, end)
        if bar is not None:
            bar.update(end - start)
        start = end
        if record and start % every == 0 and (running() or start == steps.max()):
            record()  # (not past the step where the last run stopped)
    if bar is not None:
        bar.close()
    last = max_steps if running() else int(steps.max())
    n = last // every + 1
    stopped_before = np.arange(n)[:, None] * every > steps[None, :]
    hist = np.where(stopped_before, loss[None, :], hist[:n])  # a stopped run keeps its loss
    rec_steps = list(range(0, last + 1, every))
    if last % every:
        rec_steps.append(last)
        hist = np.concatenate([hist, loss[None, :]])
        if record:
            record()
    return {
        "loss": torch.from_numpy(loss),
        "steps": torch.from_numpy(steps),
        "converged": torch.from_numpy(status == fast.CONVERGED),
        "diverged": torch.from_numpy(status == fast.DIVERGED),
        "history_steps": torch.tensor(rec_steps, dtype=torch.int64, device="cpu"),
        "loss_history": torch.from_numpy(np.ascontiguousarray(hist)),
    }


def _adam(
    grads: tuple[Tensor, ...],
    moments: list[list[Tensor]],
    t: int,
    adam: tuple[float, float, float],
    step_lr: Tensor,
) -> tuple[tuple[Tensor, ...], Tensor]:
    """Adam's direction at step ``t`` (moments updated in place, in the order of operations of
    ``torch.optim.Adam``) and the step sizes with the first moment's bias correction."""
    beta1, beta2, eps = adam
    m, v = moments
    for i, g in enumerate(grads):
        m[i] = torch.lerp(m[i], g, 1.0 - beta1)
        v[i] = v[i] * beta2 + (1.0 - beta2) * g * g
    root = math.sqrt(1.0 - beta2**t)
    direction = tuple(mi / (vi.sqrt() / root + eps) for mi, vi in zip(m, v, strict=True))
    return direction, step_lr / (1.0 - beta1**t)


def _raise_divergence(run: int, R: int, step: int) -> None:
    raise DivergenceError(
        f"run {run} (of {R}) diverged (non-finite loss) at step {step}; training stopped there "
        "(divergence='raise'). A smaller lr may help."
    )


def _track_values(track: dict[str, Callable[[LinearRNN], Tensor]], model: LinearRNN) -> dict:
    """The tracked values of ``model``, each checked to keep the run axis (both paths)."""
    runs, dev = model.runs, model.B.device
    return {
        name: _checks.tracked(f"track[{name!r}]", fn(model), runs, dev).clone()
        for name, fn in track.items()
    }


def _progress_bar(progress: bool, total: int):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="GD", leave=False)


def _train_tensor(
    model: LinearRNN,
    ks: list[int],
    lr: float | Tensor,
    weights: Tensor,
    target: Tensor,
    config: GDConfig,
    track: dict[str, Callable[[LinearRNN], Tensor]],
) -> TrainResult:
    """:func:`train_gd` by batched tensor operations (any device), through :func:`loop`."""
    structure, k_max = model.structure, max(ks)

    def prepare(runs: Tensor | None, _full: tuple[Tensor, ...]):
        """The loss-and-gradient closure for the computed runs (all runs if ``runs`` is None)."""
        if runs is None:
            return _loss_and_grad(structure, k_max, target, weights)
        pick = lambda t: t[runs] if t.ndim == 2 else t  # noqa: E731 (per-run rows only)
        return _loss_and_grad(structure, k_max, pick(target), pick(weights))

    def record(params: tuple[Tensor, ...]) -> dict[str, Tensor]:
        return _track_values(track, _unchecked(*params, structure))

    params, out = loop(
        tuple(model), prepare, lr, max_steps=config.max_steps, tol=config.tol, clip=config.clip,
        record_every=config.record_every, divergence=config.divergence, progress=config.progress,
        record=record if track else None,
    )  # fmt: skip
    _report_divergence(out["diverged"], config.divergence, hint="a smaller lr or clip may help")
    return TrainResult(model=_unchecked(*params, structure), **out)


def loop(
    params: tuple[Tensor, ...],
    prepare: Callable[..., Callable[..., tuple[Tensor, tuple[Tensor, ...]]]],
    lr: float | Tensor,
    *,
    max_steps: int,
    tol: float,
    clip: float | None = None,
    record_every: int = 1,
    divergence: str = "warn",
    progress: bool = False,
    record: Callable[[tuple[Tensor, ...]], dict[str, Tensor]] | None = None,
    adam: tuple[float, float, float] | None = None,
) -> tuple[tuple[Tensor, ...], dict[str, object]]:
    r"""Batched gradient descent :math:`\theta_r \leftarrow \theta_r - \eta_r \nabla L_r` (or
    Adam), the one loop of every trainer's tensor path (any device).

    ``params`` are tensors with a leading run axis ``R``; ``prepare(idx, full)`` returns the
    function ``f(*params) -> (loss (R_c,), grads)`` for the runs ``idx`` (None: all; ``full``:
    every run's current parameters, for losses that need the whole batch). A run stops at the
    first step where its loss is ``<= tol`` (converged) or non-finite (diverged; its parameters
    and loss are then NaN), else at ``max_steps``; stopped runs are frozen. The stopping state
    lives on the device: the host looks at it every step on a CPU and every 32 steps on other
    devices (no synchronisation in between), and drops stopped runs from the computation once
    at most half of the computed ones are active. ``record(params)`` returns the tracked values
    at the history's steps (0, ``record_every``, ..., and the last). With ``divergence="raise"``
    a diverged run raises :class:`DivergenceError` naming its step. ``adam=(beta1, beta2, eps)``
    replaces the gradient by Adam's direction (see :func:`rnnbias.optim.train_autograd`), its
    moment estimates kept per run and compacted with the parameters. Returns the final parameters
    and the fields ``loss``, ``steps``, ``converged``, ``diverged``, ``history_steps``,
    ``loss_history`` and ``tracked`` of a result.
    """
    R, dev = params[0].shape[0], params[0].device
    check_every = CHECK_EVERY.get(dev.type, 32)
    full = [p.clone() for p in params]
    state = _stopping_state(R, dev)  # every run's
    idx: Tensor | None = None  # the computed runs (None: all)
    cur, lr_c, c = tuple(full), lr, dict(state)  # c: the computed runs'
    f = prepare(None, cur)
    rec_steps: list[int] = []
    rec_loss: list[Tensor] = []
    rec_track: list[dict[str, Tensor]] = []
    moments = [[torch.zeros_like(p) for p in params] for _ in range(2 if adam else 0)]
    scratch: list[Tensor] = []  # the update's buffers (no new tensors each step)
    bar = _progress_bar(progress, max_steps)

    def merged() -> tuple[list[Tensor], dict[str, Tensor]]:
        """Every run's parameters and state (the computed runs' copied in)."""
        if idx is None:
            return list(cur), dict(c)
        ps = [p.index_copy(0, idx, q) for p, q in zip(full, cur, strict=True)]
        return ps, {k: v.index_copy(0, idx, c[k]) for k, v in state.items()}

    def shown() -> tuple[Tensor, ...]:
        ps, st = merged()
        return tuple(_masked(tuple(ps), st["diverged"], math.nan))

    step = 0
    while True:
        loss, grads = f(*cur)
        finite = torch.isfinite(loss)
        c["diverged"] = c["diverged"] | (c["active"] & ~finite)
        c["active"] = c["active"] & finite & (loss > tol)
        c["loss"] = torch.where(finite, loss, math.nan)
        if step % record_every == 0:
            rec_steps.append(step)
            rec_loss.append(merged()[1]["loss"])
            if record is not None:
                rec_track.append(record(shown()))
        if step == max_steps or step % check_every == 0:
            if divergence == "raise" and bool(c["diverged"].any()):
                first = int(torch.nonzero(c["diverged"])[0])
                run = first if idx is None else int(idx[first])
                _raise_divergence(run, R, int(c["steps"][first]))
            n_active = int(c["active"].sum())  # (the runs not computed have all stopped)
            if step == max_steps or n_active == 0:
                break
            if n_active <= len(c["active"]) // 2:  # compaction: drop the stopped runs
                full, state = merged()
                keep = torch.nonzero(c["active"]).squeeze(1)
                idx = keep if idx is None else idx[keep]
                f = prepare(idx, tuple(full))
                cur, grads = tuple(p[keep] for p in cur), tuple(g[keep] for g in grads)
                c = {k: v[keep] for k, v in c.items()}
                lr_c = lr_c[keep] if isinstance(lr_c, Tensor) else lr_c
                moments = [[m[keep] for m in ms] for ms in moments]
        step_lr = lr_c * c["active"].to(torch.float64)
        scratch = _descend(cur, grads, step_lr, scratch, clip, adam, moments, step + 1)
        c["steps"] = c["steps"] + c["active"]
        step += 1
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    ps, st = merged()
    last = max_steps if bool(st["active"].any()) else int(st["steps"].max())
    final_track = (lambda: record(shown())) if record is not None else None
    _close_records(last, record_every, st["loss"], rec_steps, rec_loss, rec_track, final_track)
    if bool(st["diverged"].any()):  # (no copy of large parameters otherwise)
        ps = _masked(tuple(ps), st["diverged"], math.nan)
    return tuple(ps), _fields(st, rec_steps, rec_loss, rec_track)


def _close_records(
    last: int,
    every: int,
    loss: Tensor,
    rec_steps: list[int],
    rec_loss: list[Tensor],
    rec_track: list[dict[str, Tensor]],
    final_track: Callable[[], dict[str, Tensor]] | None,
) -> None:
    """Drop the records past the ``last`` step (the host may look a few steps late) and add
    the last step's, if it is not a multiple of ``every`` (lists changed in place)."""
    keep = sum(1 for s in rec_steps if s <= last)
    del rec_steps[keep:], rec_loss[keep:], rec_track[keep:]
    if last % every:
        rec_steps.append(last)
        rec_loss.append(loss)
        if final_track is not None:
            rec_track.append(final_track())


def _stopping_state(R: int, dev: torch.device) -> dict[str, Tensor]:
    """Every run active, none diverged, no steps taken, no loss yet."""
    return {
        "active": torch.ones(R, dtype=torch.bool, device=dev),
        "diverged": torch.zeros(R, dtype=torch.bool, device=dev),
        "steps": torch.zeros(R, dtype=torch.int64, device=dev),
        "loss": torch.full((R,), math.nan, dtype=torch.float64, device=dev),
    }


def _descend(
    cur: tuple[Tensor, ...],
    grads: tuple[Tensor, ...],
    step_lr: Tensor,
    scratch: list[Tensor],
    clip: float | None,
    adam: tuple[float, float, float] | None,
    moments: list[list[Tensor]],
    t: int,
) -> list[Tensor]:
    """Step ``t``: ``p <- p - lr g`` in place for every parameter (``g`` clipped, or Adam's
    direction), rounded as written (the product first), through reused buffers: no new
    tensors per step. Returns the buffers."""
    if clip is not None:
        grads = _clip(grads, clip)
    if adam is not None:
        grads, step_lr = _adam(grads, moments, t, adam, step_lr)
    if len(scratch) != len(cur) or scratch[0].shape != cur[0].shape:
        scratch = [torch.empty_like(p) for p in cur]  # (again after a compaction)
    for p, g, buf in zip(cur, grads, scratch, strict=True):
        p.sub_(torch.mul(step_lr.view(-1, *([1] * (p.ndim - 1))), g, out=buf))
    return scratch


def _fields(
    st: dict[str, Tensor],
    rec_steps: list[int],
    rec_loss: list[Tensor],
    rec_track: list[dict[str, Tensor]],
) -> dict[str, object]:
    """The fields of a :class:`Result` from the final stopping state and the records."""
    names = rec_track[0].keys() if rec_track else ()
    return {
        "loss": st["loss"],
        "steps": st["steps"],
        "converged": ~st["active"] & ~st["diverged"],
        "diverged": st["diverged"],
        "history_steps": torch.tensor(rec_steps, dtype=torch.int64, device=st["loss"].device),
        "loss_history": torch.stack(rec_loss),
        "tracked": {k: torch.stack([r[k] for r in rec_track]) for k in names},
    }
