r"""Labelled sweeps: a grid of settings as one batch of runs, and results read back by label.

A study such as "extrapolation error against :math:`k` and :math:`\sigma`, 10 seeds" is one
batch of :math:`R = \prod_a n_a` runs, where axis :math:`a` takes :math:`n_a` values. A
:class:`Grid` numbers the runs in C order (the last axis varies fastest), hands out each axis
as one value per run (``g["sigma"]``: the per-run arguments that
:func:`~rnnbias.linear.init_gaussian` and :func:`~rnnbias.train.train_gd` accept), and turns
any result with a leading run axis back into labelled form: reshaped to the grid
(:meth:`Grid.unflatten`), summarised over axes (:meth:`Grid.reduce`), printed as a table
(:meth:`Grid.table`), or restricted to some values (:meth:`Grid.select`).

No chapter introduces it: it is used by researchers; see the README. Public name:
:class:`Grid`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from . import _checks
from .book import sig

__all__ = ["Grid"]

_describe = _checks._describe

SUMMARIES = ("mean", "median", "min", "max")


def _axis_values(name: str, values: object) -> tuple:
    """The values of one axis as a tuple of distinct Python numbers or strings."""
    if isinstance(values, (np.ndarray, Tensor)):
        if values.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
        if values.dtype in (torch.float32, torch.float16, torch.bfloat16, np.float32, np.float16):
            raise TypeError(
                f"{name} must hold float64 values, not {values.dtype} (0.1 would become "
                f"{float(np.float32(0.1))!r}); convert explicitly, e.g. with .double()"
            )
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(
            f"{name} must be a sequence of values such as [1, 2] or range(10), "
            f"got {_describe(values)}"
        )
    if not values:
        raise ValueError(f"{name} must have at least one value, got {_describe(values)}")
    out = []
    for i, v in enumerate(values):
        v = v.item() if hasattr(v, "item") and getattr(v, "ndim", 1) == 0 else v
        if not isinstance(v, (numbers.Real, str)):
            raise TypeError(f"{name}[{i}] must be a real number or a str, got {_describe(v)}")
        if isinstance(v, float) and math.isnan(v):
            raise ValueError(f"{name}[{i}] is nan, which no value equals; use a finite value")
        if v in out:
            raise ValueError(f"{name} must have distinct values, got {v!r} twice")
        out.append(v)
    return tuple(out)


class Grid:
    """The runs of a sweep: every combination of the values of named axes, in C order.

    Parameters
    ----------
    **axes : sequence of numbers or str
        Each axis's name and its distinct values (a list, tuple, ``range``, or 1-D array or
        tensor), e.g. ``k=[2, 3, 5], sigma=[0.01, 0.1, 1.0], seed=range(10)``. Run ``r`` has the
        combination of index ``r`` in ``itertools.product`` of the axes: the last axis varies
        fastest.

    Attributes
    ----------
    names : tuple of str
        The axis names, in the order given.
    shape : tuple of int
        The number of values of each axis; ``len(grid)`` is their product, the number of runs R.
    axes : dict of str to tuple
        Each axis's values.

    Raises
    ------
    TypeError
        For an axis that is not a sequence (a number, a string, a set), a value that is not a
        real number or a str, or a float32 array or tensor (refused rather than cast, as
        everywhere in the package).
    ValueError
        For no axes, an empty axis, an array with more than one dimension, a NaN or a value
        given twice in one axis.

    References
    ----------
    No chapter introduces it: it is used by researchers; see the README.

    Examples
    --------
    >>> import rnnbias as rb
    >>> g = Grid(k=[2, 4], sigma=[0.1, 0.5], seed=range(3))
    >>> len(g), g.shape
    (12, (2, 2, 3))
    >>> g["k"][:7], g["seed"][:4]
    ([2, 2, 2, 2, 2, 2, 4], [0, 1, 2, 0])
    >>> model = rb.init_gaussian(6, g["sigma"], seed=g["seed"])
    >>> err = rb.extrapolation_error(model, rb.low_dimensional([0.9]), g["k"], 50)
    >>> g.unflatten(err).shape
    torch.Size([2, 2, 3])

    Summaries by label, shown here on the run numbers themselves:

    >>> t = torch.arange(12, dtype=torch.float64)
    >>> g.reduce(t, over="seed", how="median")
    tensor([[ 1.,  4.],
            [ 7., 10.]], dtype=torch.float64)
    >>> print(g.table(t, rows="k", cols="sigma", how="max"))
    max over seed
    k \\ sigma  0.1  0.5
    2            2    5
    4            8   11
    >>> g.select(sigma=0.5, seed=[0, 2])
    [3, 5, 9, 11]
    >>> g.run(9)
    {'k': 4, 'sigma': 0.5, 'seed': 0}
    """

    def __init__(self, **axes: Sequence[float | str]) -> None:
        if not axes:
            raise ValueError("Grid needs at least one axis, e.g. Grid(seed=range(10))")
        self._axes = {name: _axis_values(name, values) for name, values in axes.items()}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self._axes.values())

    @property
    def axes(self) -> dict[str, tuple]:
        return dict(self._axes)

    def __len__(self) -> int:
        return math.prod(self.shape)

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={_describe(list(v))}" for n, v in self._axes.items())
        return f"Grid({shown})"

    def _axis(self, name: object, argument: str = "name") -> int:
        """The position of axis ``name``; ``argument`` is what the error calls it."""
        if not isinstance(name, str):
            raise TypeError(f"{argument} must be an axis name (a str), got {_describe(name)}")
        if name not in self._axes:
            raise ValueError(f"{argument} must be one of the axes {list(self._axes)}, got {name!r}")
        return self.names.index(name)

    def __getitem__(self, name: str) -> list:
        """The value of axis ``name`` for every run, a list of length R in run order."""
        i = self._axis(name)
        inner, outer = math.prod(self.shape[i + 1 :]), math.prod(self.shape[:i])
        return [v for v in self._axes[name] for _ in range(inner)] * outer

    def run(self, index: int) -> dict[str, float | str]:
        """The labels of run ``index`` (negative counts from the end), e.g. to name a failure."""
        index = _checks.as_int("index", index)
        index = int(_checks.run_index("index", index, len(self))[0])
        position = np.unravel_index(index, self.shape)
        return {n: v[int(p)] for (n, v), p in zip(self._axes.items(), position, strict=True)}

    def select(self, **fixed: object) -> list[int]:
        """The indices of the runs whose axes take the given values, in run order.

        Each keyword names an axis and gives one value or a list of values, e.g.
        ``g.select(sigma=0.1)`` or ``g.select(k=[2, 3], seed=0)``; the result indexes a model
        (``model.select(idx)``) or any result with a leading run axis (``err[idx]``). Raises
        ``ValueError`` for an unknown axis, a value the axis does not have, or no value.
        """
        picks = [list(range(n)) for n in self.shape]
        for name, wanted in fixed.items():
            i, values = self._axis(name, "select's keywords"), self._axes[name]
            wanted = wanted.item() if getattr(wanted, "ndim", None) == 0 else wanted
            one = isinstance(wanted, str) or not isinstance(wanted, (Sequence, np.ndarray, Tensor))
            wanted = [wanted] if one else list(_axis_values(name, wanted))
            missing = [w for w in wanted if w not in values]
            if missing:
                raise ValueError(f"{name} must be among {list(values)}, got {missing[0]!r}")
            picks[i] = sorted(values.index(w) for w in wanted)
        runs = np.arange(len(self)).reshape(self.shape)[np.ix_(*picks)]
        return runs.reshape(-1).tolist()

    def unflatten(self, t: Tensor | np.ndarray) -> Tensor | np.ndarray:
        """Reshape ``t`` of shape ``(R, ...)`` to ``(*grid.shape, ...)`` (a view where possible).

        Raises ``TypeError`` for anything but a tensor or NumPy array, ``ValueError`` for a
        leading axis that is not the R runs.
        """
        if not isinstance(t, (Tensor, np.ndarray)):
            raise TypeError(f"t must be a torch.Tensor or numpy.ndarray, got {_describe(t)}")
        if t.ndim == 0 or t.shape[0] != len(self):
            raise ValueError(
                f"t must have a leading run axis of length {len(self)} (the grid's runs), "
                f"got shape {tuple(t.shape)}"
            )
        return t.reshape(*self.shape, *t.shape[1:])

    def reduce(
        self, t: Tensor | np.ndarray, over: str | Sequence[str], how: str | float = "median"
    ) -> Tensor | np.ndarray:
        """Summarise ``t`` (shape ``(R, ...)``) over the axes ``over``.

        ``how`` is ``"mean"``, ``"median"``, ``"min"``, ``"max"`` or a number ``q`` in [0, 1] for
        the ``q``-quantile (linear interpolation; the median is the mean of the two middle values
        for an even count). A NaN (a diverged run) makes its summary NaN. Integer and boolean
        inputs are summarised as float64 (the mean of ``result.converged`` is the fraction
        converged), except by min and max. Returns the type of ``t``, of shape
        ``(*kept axes, ...)`` with the kept axes in grid order. Raises ``ValueError`` for an
        unknown or repeated axis, no axis, or a ``q`` outside [0, 1], and as :meth:`unflatten`.
        """
        x, q = self.unflatten(t), _quantile(how)
        names = [over] if isinstance(over, str) else over
        if not isinstance(names, Sequence):
            raise TypeError(f"over must be an axis name or a sequence of them, got {over!r}")
        if not names:
            raise ValueError(f"over must name at least one of the axes {list(self._axes)}")
        dims = [self._axis(n, "over") for n in names]
        if len(set(dims)) != len(dims):
            raise ValueError(f"over must name each axis once, got {over!r}")
        kept = [i for i in range(len(self.shape)) if i not in dims]
        order = [*kept, *dims, *range(len(self.shape), x.ndim)]
        x = x.permute(order) if isinstance(x, Tensor) else x.transpose(order)
        x = x.reshape(*[self.shape[i] for i in kept], -1, *x.shape[len(self.shape) :])
        axis = len(kept)
        if how in ("min", "max"):
            out = getattr(x, "a" + how if isinstance(x, Tensor) else how)(axis)
        elif isinstance(x, Tensor):
            x = x if x.is_floating_point() else x.to(torch.float64)
            out = x.mean(axis) if how == "mean" else x.quantile(q, dim=axis)
        else:
            x = x.astype(np.float64, copy=False)
            out = x.mean(axis) if how == "mean" else np.quantile(x, q, axis=axis)
        return out if isinstance(out, Tensor) else np.asarray(out)

    def table(
        self,
        t: Tensor | np.ndarray,
        rows: str,
        cols: str | None = None,
        how: str | float = "median",
    ) -> str:
        """A text table of ``t`` (one number per run) by ``rows`` and ``cols``, for printing.

        Every other axis is summarised by ``how`` (as in :meth:`reduce`, which gives the
        numbers themselves) and named in a caption. Entries are rounded to 4 significant digits
        (:func:`~rnnbias.book.sig`) and written short: ``2.426e+10``, ``0.0001123``, ``4``.
        ``cols=None`` gives one column. Raises ``ValueError`` for ``t`` of another shape than
        ``(R,)``, ``rows`` equal to ``cols``, or an unknown axis.
        """
        if isinstance(t, (Tensor, np.ndarray)) and t.ndim != 1:
            raise ValueError(f"t must hold one number per run, shape (R,), got {tuple(t.shape)}")
        shown = [rows] if cols is None else [rows, cols]
        dims = [self._axis(rows, "rows")] + ([] if cols is None else [self._axis(cols, "cols")])
        if len(set(dims)) != len(dims):
            raise ValueError(f"rows and cols must be different axes, got {rows!r} twice")
        others = [n for n in self.names if n not in shown]
        x = self.reduce(t, others, how) if others else self.unflatten(t)
        x = x.reshape(self.shape[dims[0]], -1) if cols is None else x
        x = x if dims == sorted(dims) else x.T  # rows first
        label = how if isinstance(how, str) else f"q{how:g}"
        head = [f"{rows} \\ {cols}" if cols else rows]
        head += list(map(str, self._axes[cols])) if cols else [label if others else "value"]
        cells = [head] + [
            [str(r)] + [_cell(v) for v in x[i].tolist()] for i, r in enumerate(self._axes[rows])
        ]
        widths = [max(len(row[j]) for row in cells) for j in range(len(head))]
        lines = [f"{label} over {', '.join(others)}"] if others else []
        for row in cells:
            right = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join([row[0].ljust(widths[0]), *right]).rstrip())
        return "\n".join(lines)


def _quantile(how: object) -> float:
    """The quantile ``how`` stands for (0.5 for the median; unused for mean, min and max)."""
    if isinstance(how, str):
        return 0.5 if _checks.as_choice("how", how, SUMMARIES) == "median" else math.nan
    if isinstance(how, bool) or not isinstance(how, numbers.Real):
        raise TypeError(
            f"how must be one of {list(SUMMARIES)} or a quantile in [0, 1], got {how!r}"
        )
    if not 0 <= how <= 1:
        raise ValueError(f"how as a quantile must be in [0, 1], got {how}")
    return float(how)


def _cell(value: object) -> str:
    """An entry of a table: integers as they are, other numbers to 4 significant digits."""
    return str(value) if isinstance(value, (int, bool)) else f"{sig(value):.4g}"
