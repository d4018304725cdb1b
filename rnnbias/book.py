"""Helpers for the book's notebooks: rounding and gluing numbers into the prose.

Numbers reach the text through myst-nb's ``glue``; they are rounded to 4 significant digits
first, so that the committed outputs compare equal across machines, and written the way a
textbook writes them (:func:`format_number`: ``0.6458``, ``459``, ``4.2 × 10⁻⁷``). The prose
shows a glued number with the ``{eval}`name``` role, which two readers understand: the book
(``_ext/inline_values.py`` pastes the glued text) and JupyterLab with jupyterlab-myst, which
shows the value stored in the markdown cell (``scripts/lab_view.py`` stores it) and, once the
cell is run, the value of the Python name ``name`` in the kernel: :func:`glue` defines it, and
:func:`recall` first defines every name of a chapter's prose from its saved notebook (for text
that quotes a number computed further down, or in another chapter). Outside a book build (e.g.
in Colab without myst-nb) :func:`glue` still returns the rounded value.

Introduced in chapter 1. Public names: :func:`sig`, :func:`format_number`, :func:`glue`,
:func:`recall`.
"""

from __future__ import annotations

import ast
import json
import math
import numbers
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from . import _checks

__all__ = ["format_number", "glue", "recall", "sig"]

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


class Glued(str):
    """The text of a glued number, whose ``repr`` is the text itself: a kernel asked for the
    name shows ``0.6458``, not ``'0.6458'`` (jupyterlab-myst displays the ``repr``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _define(name: str, text: str) -> None:
    """Bind ``name`` to ``Glued(text)`` in the IPython user namespace, if there is one."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.user_ns[name] = Glued(text)


def glue(name: str, value: object, digits: int = 4, rounding: str = "nearest") -> object:
    """Record ``value`` under ``name`` for ``{eval}`name``` in the prose, and return it.

    Real numbers are rounded with :func:`sig` (the return value) and recorded as written by
    :func:`format_number`; integers and strings are glued as they are (a tensor or array
    must hold exactly one number). A number the prose states as a bound is glued with
    ``rounding="up"`` ("at most X") or ``rounding="down"`` ("at least X"): rounded outward,
    the printed bound is still true.

    In a notebook the name is also bound to the glued text, so that JupyterLab, running a
    markdown cell, shows ``{eval}`name``` as the number this run computed.

    Raises
    ------
    TypeError, ValueError
        For a ``name`` that is not a string or not a Python identifier; a ``value`` that is
        not a real number, an integer or a string (``None``, a list, a complex number), or a
        tensor or array of several numbers; ``digits < 1`` or an unknown ``rounding``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {_checks._describe(name)}")
    if not name.isidentifier():
        raise ValueError(f"name must be a Python identifier such as 'ch1_rho', got {name!r}")
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
    _define(name, str(shown))
    _record(name, shown)
    return value


_GLUE_PREFIX = "application/papermill.record/"
_RECORD = _GLUE_PREFIX + "text/plain"


def _record(name: str, shown: object) -> None:
    """Record ``shown`` as a glue output, exactly as ``myst_nb.glue(name, shown,
    display=False)`` does (a hidden display whose MIME types carry the papermill prefix), so
    that the notebooks need neither myst-nb nor Jupyter Book to run and give the same outputs.
    Without IPython there is nothing to record to."""
    try:
        from IPython.core.formatters import format_display_data
        from IPython.display import display
    except ImportError:
        return
    bundle, metadata = format_display_data(shown)
    metadata["scrapbook"] = {"name": name, "mime_prefix": _GLUE_PREFIX}
    display({_GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def glued_values(nb: dict, stored: bool = True) -> dict[str, str]:
    """The text of every number glued in a notebook (its JSON as a dict): read from the
    saved glue outputs, else (with ``stored``) from the values stored for the ``{eval}``
    roles of its markdown cells (the student edition has no outputs)."""
    found: dict[str, str] = {}
    for cell in nb.get("cells", []) if stored else []:
        for item in cell.get("metadata", {}).get("user_expressions", []):
            data = item.get("result", {}).get("data", {})
            if "text/plain" in data:
                found[item["expression"]] = data["text/plain"]
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and _RECORD in out.get("data", {}):
                text = out["data"][_RECORD]
                text = "".join(text) if isinstance(text, list) else text
                value = ast.literal_eval(text)
                found[name] = value if isinstance(value, str) else text
    return found


def recall(notebook: str, folder: str = ".") -> dict[str, str]:
    """Bind every number a chapter's prose shows to the value saved in its notebook.

    In JupyterLab, jupyterlab-myst shows ``{eval}`ch1_rho``` by asking the kernel for the
    name ``ch1_rho`` whenever the markdown cell runs. A name is bound by the :func:`glue` call
    that computes it, but some text quotes a number computed further down the chapter, or in
    another chapter (chapter 9 quotes chapters 4, 7 and 8). Each chapter therefore calls
    ``recall("NN_name.ipynb")`` right after its set-up: every name its prose shows is bound to
    the text saved in that notebook (its glue outputs, and the values stored for its markdown
    cells by ``scripts/lab_view.py``), until a :func:`glue` below binds the fresh value.
    A notebook that is not in ``folder`` (a chapter downloaded on its own) binds nothing.
    Returns the texts by name.

    Raises
    ------
    TypeError, ValueError
        For a ``notebook`` that is not the file name of a notebook (``*.ipynb``).
    """
    from pathlib import Path

    if not isinstance(notebook, str):
        raise TypeError(f"notebook must be a file name, got {_checks._describe(notebook)}")
    if not notebook.endswith(".ipynb"):
        raise ValueError(f"notebook must name an .ipynb file, got {notebook!r}")
    path = Path(folder) / notebook
    if not path.is_file():
        return {}
    texts = glued_values(json.loads(path.read_text(encoding="utf-8")))
    for name, text in texts.items():
        _define(name, text)
    return texts
