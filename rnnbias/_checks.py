"""Argument validation shared by the public functions (private).

Every check names the argument, the value received and what was expected, and raises
``TypeError`` for a wrong type or dtype and ``ValueError`` for a wrong value or shape.

Devices: a function follows the device of the tensors it is given and never moves one; numbers,
lists and arrays are converted onto the device of the other inputs, or onto ``device=`` of the
functions that build from scratch (the CPU by default); tensors on two devices raise a
``ValueError`` naming both (:func:`as_device`, :func:`same_device`). Values are not checked on
the ``meta`` device, which holds shapes without values.

Numbers: the package computes in float64 throughout. Tensors must already be float64, and NumPy
arrays and scalars may be float64 or integers; float32 and float16 (torch or NumPy), booleans and
complex values are refused with a ``TypeError`` that says how to convert, never cast silently.
A 0-d tensor or array counts as a scalar.

Overflow: a result beyond the float64 range (1.8e308) is returned as ±inf, its honest value
(comparisons with it still hold: a loss above a bar, a horizon); a NaN, which an overflow turns
into through inf − inf or 0 · inf and which no comparison survives, is never returned without a
``RuntimeWarning`` naming the function and the quantity (:func:`warn_overflow`), unless the
inputs of that run were already non-finite (the NaN parameters of a diverged run).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

DTYPE = torch.float64
SEED_LIMIT = 2**64  #: seeds are integers in [0, 2**64), what a torch.Generator accepts
_CONVERT = "the package computes in float64"


def _describe(x: object) -> str:
    if isinstance(x, Tensor):
        return f"a tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _scalar(value: object) -> object:
    """Unwrap a 0-d tensor or 0-d NumPy array to its NumPy/torch scalar type (others unchanged).

    The dtype is kept visible (as a NumPy scalar), so that the checks below can refuse
    float32 and bool values that arrive wrapped.
    """
    if isinstance(value, Tensor) and value.ndim == 0 and value.device.type != "meta":
        value = value.detach()
        if value.dtype == torch.bool:
            return np.bool_(bool(value))
        if value.is_complex():
            return complex(value)
        if value.is_floating_point():
            kind = {torch.float64: np.float64, torch.float32: np.float32}.get(value.dtype)
            return kind(float(value)) if kind else np.float16(float(value))
        return int(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def _is_low_precision(value: object) -> bool:
    return isinstance(value, np.floating) and value.dtype.itemsize < 8


def as_int(
    name: str, value: object, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as an ``int``; refuse bools, floats and anything outside the bounds.

    Python and NumPy integers and 0-d integer tensors or arrays are accepted.
    """
    value = _scalar(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_seed(name: str, value: object) -> int:
    """Return ``value`` as a seed: an integer in ``[0, 2**64)`` (what a torch generator takes)."""
    value = as_int(name, value)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {value}")
    return value


def as_float(
    name: str,
    value: object,
    *,
    positive: bool = False,
    nonnegative: bool = False,
) -> float:
    """Return ``value`` as a finite ``float``, optionally required to be > 0 or >= 0.

    Python numbers, NumPy float64 and integer scalars, and 0-d tensors or arrays of those are
    accepted; float32/float16 scalars are refused (they would carry float32 round-off into a
    float64 computation), and so are bools and complex numbers.
    """
    value = _scalar(value)
    if _is_low_precision(value):
        raise TypeError(
            f"{name} must be a float64 number, got {type(value).__name__} {value}; "
            f"{_CONVERT}: pass float({name}) of a float64 value"
        )
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def as_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {_describe(value)}")
    return value


def as_device(name: str, value: object) -> torch.device:
    """Return ``value`` (a ``str``, a ``torch.device`` or ``None`` for the CPU) as a device that
    exists on this machine, written as its tensors report it (so it compares equal to them)."""
    if value is None:
        return torch.device("cpu")
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        try:
            device = torch.device(value)
        except RuntimeError as e:
            raise ValueError(
                f"{name} must name a torch device such as 'cpu' or 'cuda', got {value!r}"
            ) from e
    else:
        raise TypeError(f"{name} must be a str, a torch.device or None, got {_describe(value)}")
    try:  # torch.device("cuda") is accepted without a GPU; making a tensor there is not
        probe = torch.empty(0, device=device)
    except Exception as e:  # AssertionError, RuntimeError or NotImplementedError, by backend
        raise ValueError(f"{name} {str(device)!r} is not available on this machine: {e}") from e
    return probe.device  # as tensors report it: "cuda" becomes "cuda:0", "cpu:0" becomes "cpu"


def same_device(name: str, tensor: Tensor, device: torch.device, other: str) -> Tensor:
    """Return ``tensor`` if it is on ``device`` (where ``other`` lives); never move it."""
    if tensor.device != device:
        raise ValueError(
            f"{name} is on device {tensor.device} but {other} is on {device}; move one of them "
            f"first (e.g. with .to({str(device)!r}))"
        )
    return tensor


def has_values(tensor: Tensor) -> bool:
    """False for a tensor on the ``meta`` device (a shape without values: nothing to check)."""
    return tensor.device.type != "meta"


def _refuse_numpy_dtype(name: str, dtype: np.dtype) -> None:
    """Raise a ``TypeError`` unless a NumPy dtype converts to float64 without loss."""
    if dtype.kind in "iu" or dtype == np.float64:
        return
    if dtype.kind == "f":
        raise TypeError(
            f"{name} must hold float64 (or integer) numbers, got dtype {dtype}, which would be "
            f"cast to float64 silently; {_CONVERT}: convert explicitly, e.g. with "
            f"numpy.asarray({name}, dtype=numpy.float64)"
        )
    what = {"c": "complex numbers", "b": "booleans"}.get(dtype.kind, f"dtype {dtype}")
    raise TypeError(f"{name} must be a tensor or array of real numbers, got {what}")


def as_tensor(
    name: str,
    value: object,
    *,
    ndim: int | Sequence[int] | None = None,
    finite: bool = True,
    device: torch.device | None = None,
    other: str = "the other inputs",
) -> Tensor:
    """Return ``value`` as a float64 tensor.

    Python numbers, lists and NumPy arrays (float64 or integer) are converted, onto ``device``
    (the CPU if None). A torch tensor must already be float64: a float32 tensor is refused
    rather than silently cast, because the book's identities are checked to 1e-12 and float32
    cannot meet that; so are NumPy float32/float16 arrays, booleans and complex values. A
    tensor must also be on ``device`` when one is given (``other`` names what lives there); it
    is never moved.
    """
    if isinstance(value, Tensor):
        if value.is_complex():
            raise TypeError(
                f"{name} must be real (float64), got a complex tensor of dtype {value.dtype}; "
                f"pass {name}.real if the imaginary part is zero"
            )
        if value.dtype != DTYPE:
            raise TypeError(
                f"{name} must have dtype torch.float64, got {value.dtype}; {_CONVERT}: "
                f"convert explicitly with {name}.double()"
            )
        tensor = value if device is None else same_device(name, value, device, other)
    else:
        array = None
        if isinstance(value, np.ndarray | np.generic | list | tuple | bool | complex):
            try:
                array = np.asarray(value)
            except (TypeError, ValueError, RuntimeError) as e:  # ragged, or tensors on a GPU
                if isinstance(value, np.ndarray | np.generic):
                    raise TypeError(
                        f"{name} must be a tensor or array of real numbers, got {_describe(value)}"
                    ) from e
            if array is not None and array.dtype != object:
                _refuse_numpy_dtype(name, array.dtype)
            else:
                array = None
        try:
            source = value if array is None else array
            tensor = torch.as_tensor(source, dtype=DTYPE, device=device or "cpu")
        except (TypeError, ValueError, RuntimeError) as e:
            raise TypeError(
                f"{name} must be a tensor or array of real numbers, got {_describe(value)}"
            ) from e
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if tensor.ndim not in allowed:
            expected = " or ".join(str(n) for n in allowed)
            raise ValueError(
                f"{name} must have {expected} dimensions, got shape {tuple(tensor.shape)}"
            )
    if finite and has_values(tensor) and not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} must have finite entries, got {bad} non-finite entries")
    return tensor


def run_index(name: str, value: object, runs: int, device: torch.device | None = None) -> Tensor:
    """Return the runs picked by ``value`` as a 1-D ``int64`` index tensor (at least one run).

    Accepted: an integer (Python, NumPy or a 0-d integer tensor; negative counts from the end),
    a slice, ``...`` (every run), a sequence, NumPy array or 1-D tensor of integers, or a 1-D
    boolean mask of length ``runs``. Refused with a named error: bools, ``None``, floats, strings,
    indices outside ``[-runs, runs)``, masks of another length, and selections of no run.
    """
    expected = f"an integer, a slice, a sequence of integers or a boolean mask of length {runs}"
    if value is Ellipsis:
        idx = torch.arange(runs, device="cpu")
    elif isinstance(value, slice):
        idx = torch.arange(runs, device="cpu")[value]
    elif isinstance(value, bool) or value is None or isinstance(value, str | bytes | float):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    elif isinstance(value, numbers.Integral):
        idx = torch.tensor([int(value)], device="cpu")
    else:
        try:
            t = value if isinstance(value, Tensor) else torch.as_tensor(value, device="cpu")
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be {expected}, got {_describe(value)}") from err
        t = t.detach().cpu()
        if t.dtype == torch.bool:
            if t.ndim != 1 or t.numel() != runs:
                raise ValueError(
                    f"{name} as a boolean mask must have shape ({runs},), got {tuple(t.shape)}"
                )
            idx = torch.nonzero(t).flatten()
        elif t.numel() == 0 and t.ndim == 1:
            idx = t.to(torch.int64)
        elif t.is_floating_point() or t.is_complex() or t.ndim > 1:
            raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
        else:
            idx = t.reshape(-1).to(torch.int64)
    if idx.numel() and not bool(((idx >= -runs) & (idx < runs)).all()):
        bad = int(idx[(idx < -runs) | (idx >= runs)][0])
        raise ValueError(
            f"{name} must index one of {runs} runs (from {-runs} to {runs - 1}), got {bad}"
        )
    if idx.numel() == 0:
        raise ValueError(f"{name} must pick at least one of {runs} runs, got {_describe(value)}")
    idx = idx % runs
    return idx if device is None else idx.to(device)


def teacher_rows(name: str, target: Tensor, runs: int) -> Tensor:
    """Return a target of shape (n,) or (rows, n) if it has one row or one row per run.

    A (rows, n) target with ``rows`` neither 1 nor ``runs`` is refused: broadcasting it would
    turn a 1-run model into ``rows`` results, or fail with a raw size error.
    """
    if target.ndim == 2 and target.shape[0] not in (1, runs):
        raise ValueError(
            f"{name} must give one impulse response or one per run ({runs} runs), got "
            f"{target.shape[0]} rows (shape {tuple(target.shape)})"
        )
    return target


def as_sequences(
    name: str,
    value: object,
    *,
    ndim: int | Sequence[int] = (2, 3),
    runs: int | None = None,
    device: torch.device | None = None,
    other: str = "the model",
) -> Tensor:
    """Return input sequences of shape (N, T) or (R, N, T) as a float64 tensor.

    At least one sequence (``N >= 1``) of at least one step (``T >= 1``) is required: an empty
    batch would make every mean a NaN, and an empty sequence has no output to compare. A
    leading run axis, when there is one, must match ``runs`` (or be 1).
    """
    x = as_tensor(name, value, ndim=ndim, device=device, other=other)
    if x.ndim >= 2 and (x.shape[-1] < 1 or x.shape[-2] < 1):
        raise ValueError(
            f"{name} must hold at least one sequence (N >= 1) of length T >= 1, got shape "
            f"{tuple(x.shape)}"
        )
    if x.ndim == 3 and runs is not None and x.shape[0] not in (1, runs):
        raise ValueError(
            f"{name} of shape (R, N, T) must have R = {runs} (the model's runs) or 1, got shape "
            f"{tuple(x.shape)}"
        )
    return x


def _runs_with_finite(inputs: Sequence[Tensor], runs: int, device: torch.device) -> Tensor:
    """(runs,) mask of the runs whose entries are finite in every input.

    An input with at least two dimensions and ``runs`` rows has a run axis; any other input
    (a shared teacher, say) counts for every run.
    """
    ok = torch.ones(runs, dtype=torch.bool, device=device)
    for t in inputs:
        if t.ndim >= 2 and t.shape[0] == runs:
            ok &= torch.isfinite(t.reshape(runs, -1)).all(-1).to(device)
        elif not bool(torch.isfinite(t).all()):
            ok.fill_(False)
    return ok


_OVERFLOW_REPORTED = contextvars.ContextVar("overflow_reported", default=False)


@contextlib.contextmanager
def overflow_reported() -> Iterator[None]:
    """Within this block :func:`warn_overflow` is silent (and costs nothing): for a trainer
    that evaluates a loss and reports a run whose loss turns NaN as diverged itself."""
    token = _OVERFLOW_REPORTED.set(True)
    try:
        yield
    finally:
        _OVERFLOW_REPORTED.reset(token)


def warn_overflow(
    function: str,
    what: str,
    values: Tensor | Sequence[Tensor],
    inputs: Sequence[Tensor] | Callable[[], Sequence[Tensor]] = (),
    *,
    stacklevel: int = 3,
) -> None:
    """Warn if ``values`` hold a NaN in a run whose ``inputs`` are all finite.

    ``values`` (one tensor or several) and the ``inputs`` have a leading run axis (a 0-d
    value is one run; see :func:`_runs_with_finite` for inputs). Such a NaN comes from an
    overflow (inf − inf, 0 · inf): the ``RuntimeWarning`` names ``function`` and ``what``.
    NaN in runs whose inputs were already non-finite (diverged runs, reported when they
    diverged) pass without a word, and so does ±inf, the honest value of a quantity beyond
    the float64 range. ``inputs`` may be a callable, evaluated only when a NaN is found, so
    that the check costs one ``isnan`` reduction per value otherwise.
    """
    if _OVERFLOW_REPORTED.get():
        return
    values = [values] if isinstance(values, Tensor) else list(values)
    values = [v for v in values if has_values(v) and v.numel()]
    # fast path: a finite sum has no NaN (and no inf) in it; one reduction per value
    if all(math.isfinite(float(v.detach().sum())) for v in values):
        return
    if not any(bool(torch.isnan(v).any()) for v in values):
        return
    runs = values[0].shape[0] if values[0].ndim else 1
    bad = torch.zeros(runs, dtype=torch.bool, device=values[0].device)
    for v in values:
        bad |= torch.isnan(v.reshape(runs, -1)).any(-1)
    tensors = inputs() if callable(inputs) else inputs
    bad &= _runs_with_finite(list(tensors), runs, bad.device)
    count = int(bad.sum())
    if count:
        first = int(torch.nonzero(bad)[0])
        warnings.warn(
            f"{function}: {what} overflowed and became NaN in {count} of {runs} runs (first: "
            f"run {first}) although the inputs are finite; float64 holds magnitudes up to "
            f"1.8e308, and beyond it inf - inf or 0 * inf is NaN: these inputs are too large "
            f"for this computation (e.g. a spectral radius far above 1 over many lags)",
            RuntimeWarning,
            stacklevel=stacklevel,
        )


def as_track(name: str, track: object) -> dict[str, Callable]:
    """``track=`` of the trainers as a dict of names (str) to callables; None is no tracking."""
    if track is None:
        return {}
    if not isinstance(track, Mapping):
        raise TypeError(
            f"{name} must be a mapping of names to functions, e.g. "
            f"{{'rho': rb.spectral_radius}}, got {_describe(track)}"
        )
    for key, fn in track.items():
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings, got {key!r}")
        if not callable(fn):
            raise TypeError(f"{name}[{key!r}] must be callable, got {type(fn).__name__}")
    return dict(track)


def tracked(name: str, value: object, runs: int, device: torch.device) -> Tensor:
    """Return a tracked quantity as a tensor with a leading run axis of size ``runs``.

    Used by the trainers' ``track=`` functions: each value must describe every run, so a
    scalar (a quantity summed over runs, say) or a tensor with another first axis is refused.
    Tensors keep their dtype; numbers and arrays are converted to float64 (NaN allowed).
    """
    if not isinstance(value, Tensor):
        value = as_tensor(name, value, finite=False, device=device)
    same_device(name, value, device, "the model")
    if value.ndim == 0 or value.shape[0] != runs:
        raise ValueError(
            f"{name} must return a tensor with a leading run axis of size {runs} (one value "
            f"per run), got shape {tuple(value.shape)}"
        )
    return value
