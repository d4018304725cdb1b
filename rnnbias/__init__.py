r"""rnnbias: the helper package of the book on temporal extrapolation in RNNs.

Conventions, stated once (and on the book's notation page):

- Every tensor has a leading **run** axis ``R``: a run is one initialisation (a seed, a scale),
  and all runs are computed together in one tensor program. The lag/time axis comes last.
- Everything is float64; float32 (and float16) tensors and arrays, booleans and complex values
  where real ones are expected are refused with an error rather than cast.
- Overflow: a NaN computed from finite inputs always comes with a ``RuntimeWarning`` naming the
  function; an infinite value is returned as the honest value of a number beyond float64.
- Devices: a function computes on the device of the model (or tensors) it is given and returns
  its results there; the ``init_*`` functions take ``device=`` (default: the CPU) and draw on
  the CPU before copying, so a seed gives the same numbers on every device. A
  :class:`~rnnbias.teachers.Teacher` is copied to the model's device; a tensor on another
  device than the model is refused with a ``ValueError`` naming both devices, never moved.
- Shape letters: ``R`` runs, ``d`` state size, ``k`` training length, ``n`` lags evaluated,
  ``N`` sampled sequences, ``T`` sequence (or test) length.
- Initial entries are :math:`\mathcal N(0, \sigma^2/d)` (:func:`init_gaussian`).
- Losses are exact population losses under i.i.d. standard-normal inputs: no sampling.

Modules, one idea each: :mod:`~rnnbias.linear` (the model and its exact loss),
:mod:`~rnnbias.teachers` (targets and data), :mod:`~rnnbias.constructions` (interpolating
models with chosen tails), :mod:`~rnnbias.balance` (the conserved quantity),
:mod:`~rnnbias.moments` (impulse responses as moments of a measure; Prony's method),
:mod:`~rnnbias.nonlinear` (tanh RNNs trained on sampled sequences),
:mod:`~rnnbias.train` (batched gradient descent), :mod:`~rnnbias.flow` (gradient flow, by an
adaptive Runge–Kutta method), :mod:`~rnnbias.optim` (GD or Adam on any loss, by autograd),
:mod:`~rnnbias.lazy` (wide networks in the kernel regime), :mod:`~rnnbias.ssm` (complex diagonal
state-space students), :mod:`~rnnbias.dynamics` (the saddles of learning one mode at a time),
:mod:`~rnnbias.sweep` (labelled grids of runs),
:mod:`~rnnbias.seeding`, :mod:`~rnnbias.plotting`, :mod:`~rnnbias.widgets`, :mod:`~rnnbias.book`.
"""

from . import balance, constructions, dynamics, flow, lazy, moments, nonlinear, optim, ssm, sweep
from .book import format_number, glue, recall, sig
from .flow import FlowError, FlowResult, integrate_flow
from .linear import (
    LinearRNN,
    concat_runs,
    convolve,
    empirical_loss,
    extrapolation_error,
    forward,
    impulse_response,
    init_gaussian,
    loss_hessian,
    pad_state,
    population_loss,
    population_loss_grad,
    similarity_transform,
    spectral_radius,
    sup_error,
)
from .optim import train_autograd
from .seeding import set_seed
from .teachers import (
    Teacher,
    from_impulse_response,
    low_dimensional,
    memoryless,
    sample_sequences,
)
from .train import DivergenceError, GDConfig, Result, TrainResult, train_gd

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "FlowError",
    "FlowResult",
    "GDConfig",
    "LinearRNN",
    "Result",
    "Teacher",
    "TrainResult",
    "__version__",
    "balance",
    "concat_runs",
    "constructions",
    "convolve",
    "dynamics",
    "empirical_loss",
    "extrapolation_error",
    "flow",
    "format_number",
    "forward",
    "from_impulse_response",
    "glue",
    "impulse_response",
    "init_gaussian",
    "integrate_flow",
    "lazy",
    "loss_hessian",
    "low_dimensional",
    "memoryless",
    "moments",
    "nonlinear",
    "optim",
    "pad_state",
    "population_loss",
    "population_loss_grad",
    "recall",
    "sample_sequences",
    "set_seed",
    "sig",
    "similarity_transform",
    "spectral_radius",
    "ssm",
    "sup_error",
    "sweep",
    "train_autograd",
    "train_gd",
]
