"""Helpers for the book's notebooks: rounding and gluing numbers into the prose.

Numbers reach the text through myst-nb's ``glue``; they are rounded to 4 significant digits
first, so that the committed outputs compare equal across machines. Outside a book build
(e.g. in Colab without myst-nb) :func:`glue` still returns the rounded value and simply does
not record it.

Introduced in chapter 1. Public names: :func:`sig`, :func:`glue`.
"""

from __future__ import annotations

import math
import numbers

from . import _checks

__all__ = ["glue", "sig"]


def sig(x: object, digits: int = 4) -> float:
    """Round a real number to ``digits`` significant digits (default 4).

    Examples
    --------
    >>> sig(3.14159265)
    3.142
    >>> sig(0.000123456)
    0.0001235
    """
    digits = _checks.as_int("digits", digits, minimum=1)
    value = float(x.item() if hasattr(x, "item") else x)
    if not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")


def glue(name: str, value: object, digits: int = 4) -> object:
    """Record ``value`` under ``name`` for ``{glue:text}`name``` in the prose, and return it.

    Real numbers are rounded with :func:`sig`; integers and strings are glued as they are.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        value = sig(value, digits)
    try:
        from myst_nb import glue as _glue
    except ImportError:  # not in a book build: nothing to record
        return value
    _glue(name, value, display=False)
    return value
