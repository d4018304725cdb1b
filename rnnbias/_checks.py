"""Argument validation shared by the public functions (private).

Every check names the argument, the value received and what was expected, and raises
``TypeError`` for a wrong type or dtype and ``ValueError`` for a wrong value or shape.

Devices: a function follows the device of the tensors it is given and never moves one; numbers,
lists and arrays are converted onto the device of the other inputs, or onto ``device=`` of the
functions that build from scratch (the CPU by default); tensors on two devices raise a
``ValueError`` naming both (:func:`as_device`, :func:`same_device`). Values are not checked on
the ``meta`` device, which holds shapes without values.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor

DTYPE = torch.float64


def _describe(x: object) -> str:
    if isinstance(x, Tensor):
        return f"a tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def as_int(name: str, value: object, *, minimum: int | None = None) -> int:
    """Return ``value`` as an ``int``; refuse bools, floats and anything below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_float(
    name: str,
    value: object,
    *,
    positive: bool = False,
    nonnegative: bool = False,
) -> float:
    """Return ``value`` as a finite ``float``, optionally required to be > 0 or >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
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

    Python numbers, lists and NumPy arrays are converted, onto ``device`` (the CPU if None). A
    torch tensor must already be float64: a float32 tensor is refused rather than silently
    cast, because the book's identities are checked to 1e-12 and float32 cannot meet that. It
    must also be on ``device`` when one is given (``other`` names what lives there); it is never
    moved.
    """
    if isinstance(value, Tensor):
        if value.dtype != DTYPE:
            raise TypeError(
                f"{name} must have dtype torch.float64, got {value.dtype}; "
                f"convert explicitly with {name}.double()"
            )
        tensor = value if device is None else same_device(name, value, device, other)
    else:
        try:
            tensor = torch.as_tensor(value, dtype=DTYPE, device=device or "cpu")
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
