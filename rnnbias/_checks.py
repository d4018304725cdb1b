"""Argument validation shared by the public functions (private).

Every check names the argument, the value received and what was expected, and raises
``TypeError`` for a wrong type or dtype and ``ValueError`` for a wrong value or shape.
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


def as_tensor(
    name: str,
    value: object,
    *,
    ndim: int | Sequence[int] | None = None,
    finite: bool = True,
) -> Tensor:
    """Return ``value`` as a float64 tensor.

    Python numbers, lists and NumPy arrays are converted. A torch tensor must already be
    float64: a float32 tensor is refused rather than silently cast, because the book's
    identities are checked to 1e-12 and float32 cannot meet that.
    """
    if isinstance(value, Tensor):
        if value.dtype != DTYPE:
            raise TypeError(
                f"{name} must have dtype torch.float64, got {value.dtype}; "
                f"convert explicitly with {name}.double()"
            )
        tensor = value
    else:
        try:
            tensor = torch.as_tensor(value, dtype=DTYPE)
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
    if finite and not bool(torch.isfinite(tensor).all()):
        bad = int((~torch.isfinite(tensor)).sum())
        raise ValueError(f"{name} must have finite entries, got {bad} non-finite entries")
    return tensor
