"""The one seeding helper of the book.

Introduced in chapter 1 (every notebook's setup cell calls it). Public name: :func:`set_seed`.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from . import _checks

__all__ = ["set_seed"]


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and torch, and make torch use one thread.

    One thread makes CPU results bit-for-bit repeatable (reductions are split differently
    across threads), which the book's strictly compared notebook outputs rely on.

    Parameters
    ----------
    seed : int
        An integer in [0, 2**32) (NumPy's global generator takes no larger seed).

    Raises
    ------
    TypeError, ValueError
        If ``seed`` is not a non-negative integer.

    References
    ----------
    Introduced in chapter 1, setup cell.
    """
    seed = _checks.as_int("seed", seed, minimum=0, maximum=2**32 - 1)  # NumPy's legacy generator
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- seeding the legacy global RNG is the point here
    torch.manual_seed(seed)
    torch.set_num_threads(1)
