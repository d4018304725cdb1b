"""The run-selection contract shared by LinearRNN, ComplexDiagonalRNN and TanhRNN (issue 15).

Integers of any kind keep the run axis; slices, sequences, integer tensors and boolean masks
pick runs; anything else, and any index outside the runs, is refused with a named error.
"""

import numpy as np
import pytest
import torch

import rnnbias as rb
from rnnbias import nonlinear as nl
from rnnbias import ssm


def _models():
    return [
        rb.init_gaussian(3, 0.5, [0, 1, 2]),
        rb.init_gaussian(3, 0.5, [0, 1, 2], structure="diagonal"),
        ssm.init_complex(3, 0.5, [0, 1, 2]),
        nl.init_tanh(3, 0.5, [0, 1, 2]),
    ]


def _first(m):
    """The first parameter tensor (run axis first) of any of the three model classes."""
    return m.lam if isinstance(m, ssm.ComplexDiagonalRNN) else m.A


@pytest.mark.parametrize("model", _models(), ids=["full", "diagonal", "complex", "tanh"])
@pytest.mark.parametrize(
    "runs, picked",
    [
        (1, [1]),
        (-1, [2]),
        (np.int64(2), [2]),
        (torch.tensor(0), [0]),
        (slice(1, None), [1, 2]),
        (..., [0, 1, 2]),
        ([2, 0], [2, 0]),
        ((0, 0), [0, 0]),
        (range(2), [0, 1]),
        (np.array([1, 2]), [1, 2]),
        (torch.tensor([2, 1]), [2, 1]),
        (torch.tensor([True, False, True]), [0, 2]),
        (np.array([False, True, False]), [1]),
    ],
)
def test_accepted_selections_pick_the_right_runs(model, runs, picked):
    out = model.select(runs)
    assert torch.equal(_first(out), _first(model)[picked])


@pytest.mark.parametrize("model", _models(), ids=["full", "diagonal", "complex", "tanh"])
@pytest.mark.parametrize(
    "runs, error, message",
    [
        (True, TypeError, "runs must be an integer, a slice"),
        (None, TypeError, "got None"),
        (1.0, TypeError, "got 1.0"),
        ("0", TypeError, "got '0'"),
        (torch.tensor([0.0, 1.0]), TypeError, "dtype torch.float32"),
        (torch.tensor([[0, 1]]), TypeError, "shape (1, 2)"),
        (3, ValueError, "from -3 to 2), got 3"),
        (-4, ValueError, "got -4"),
        ([0, 5], ValueError, "got 5"),
        (torch.tensor([True, False]), ValueError, "shape (3,), got (2,)"),
        ([], ValueError, "pick at least one of 3 runs"),
        (slice(3, None), ValueError, "pick at least one"),
        (torch.tensor([False, False, False]), ValueError, "pick at least one"),
    ],
)
def test_refused_selections_name_the_argument(model, runs, error, message):
    with pytest.raises(error, match="runs") as info:
        model.select(runs)
    assert message in str(info.value)
