"""Helpers for the book's notebooks: rounding and gluing numbers into the prose.

Numbers reach the text through myst-nb's ``glue``; they are rounded to 4 significant digits
first, so that the committed outputs compare equal across machines, and written the way a
textbook writes them (:func:`format_number`: ``0.6458``, ``459``, ``4.2 × 10⁻⁷``). Outside a
book build (e.g. in Colab without myst-nb) :func:`glue` still returns the rounded value and
simply does not record it.

Introduced in chapter 1. Public names: :func:`sig`, :func:`format_number`, :func:`glue`.
"""

from __future__ import annotations

import math
import numbers
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from . import _checks

__all__ = ["format_number", "glue", "sig"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


_ROUNDING = {"nearest": None, "up": ROUND_CEILING, "down": ROUND_FLOOR}


def _as_real(name: str, x: object) -> float:
    """One real number from a Python/numpy scalar or a one-element tensor or array."""
    count = x.numel() if callable(getattr(x, "numel", None)) else getattr(x, "size", 1)
    if count != 1:
        raise ValueError(f"{name} must be a single real number, got {_checks._describe(x)}")
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_checks._describe(x)}")
    return float(x)


def sig(x: object, digits: int = 4, rounding: str = "nearest") -> float:
    """Round a real number to ``digits`` significant digits (default 4).

    ``rounding="nearest"`` (the default) rounds to the nearest; ``"up"`` rounds towards +∞ and
    ``"down"`` towards −∞. Use ``"up"`` for a number printed as an upper bound ("at most X")
    and ``"down"`` for a lower bound ("at least X"), so that the printed bound still holds.

    Examples
    --------
    >>> sig(3.14159265)
    3.142
    >>> sig(0.000123456)
    0.0001235
    >>> sig(2.6471e-07, rounding="up"), sig(2.6479e-07, rounding="down")
    (2.648e-07, 2.647e-07)
    >>> sig(-0.12341, rounding="up")
    -0.1234
    """
    digits = _checks.as_int("digits", digits, minimum=1)
    rounding = _checks.as_choice("rounding", rounding, list(_ROUNDING))
    value = _as_real("x", x)
    if not math.isfinite(value) or value == 0:
        return value
    if rounding == "nearest":
        return float(f"{value:.{digits}g}")
    # repr is the shortest decimal that reads back as the same float, so 2.5e-7 stays 2.5e-7;
    # float() of the rounded decimal is then on the stated side of value (itself a float).
    shown = Decimal(repr(value))
    quantum = Decimal(1).scaleb(shown.adjusted() - digits + 1)
    return float(shown.quantize(quantum, rounding=_ROUNDING[rounding]))


def format_number(x: object, digits: int = 4) -> str:
    """Write a real number for the prose: ``digits`` significant digits, powers of ten in
    Unicode when the number is very small or very large.

    Examples
    --------
    >>> format_number(0.64575232)
    '0.6458'
    >>> format_number(459.04)
    '459'
    >>> format_number(83_012.0, digits=2)
    '83000'
    >>> format_number(4.2e-07, digits=2)
    '4.2 × 10⁻⁷'
    >>> format_number(1e-19)
    '10⁻¹⁹'
    >>> format_number(-31415926.5)
    '−3.142 × 10⁷'
    """
    value = sig(x, digits)
    if value == 0 or not math.isfinite(value):
        return str(value)
    sign = "−" if value < 0 else ""
    value = abs(value)
    if 1e-3 <= value < 1e5:  # plain decimals; repr of a rounded float is its short form
        text = repr(value)
        return sign + (text[:-2] if text.endswith(".0") else text)
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = "10" + str(int(exponent)).translate(_SUPERSCRIPT)
    return sign + (power if mantissa == "1" else f"{mantissa} × {power}")


def glue(name: str, value: object, digits: int = 4, rounding: str = "nearest") -> object:
    """Record ``value`` under ``name`` for ``{glue:text}`name``` in the prose, and return it.

    Real numbers are rounded with :func:`sig` (the return value) and recorded as written by
    :func:`format_number`; integers and strings are glued as they are (a tensor or array
    must hold exactly one number). A number the prose states as a bound is glued with
    ``rounding="up"`` ("at most X") or ``rounding="down"`` ("at least X"): rounded outward,
    the printed bound is still true.

    Raises
    ------
    TypeError, ValueError
        For an empty or non-string ``name``; a ``value`` that is not a real number, an
        integer or a string (``None``, a list, a complex number), or a tensor or array of
        several numbers; ``digits < 1`` or an unknown ``rounding``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    digits = _checks.as_int("digits", digits, minimum=1)
    rounding = _checks.as_choice("rounding", rounding, list(_ROUNDING))
    if hasattr(value, "item") and not isinstance(value, str):  # tensors, arrays, NumPy scalars
        value = _as_real("value", value)
    if not isinstance(value, str | numbers.Real):
        raise TypeError(
            f"value must be a real number, an integer or a string, got {_checks._describe(value)}"
        )
    shown = value
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        value = sig(value, digits, rounding)
        shown = format_number(value, digits)
    try:
        from myst_nb import glue as _glue
    except ImportError:  # not in a book build: nothing to record
        return value
    _glue(name, shown, display=False)
    return value
