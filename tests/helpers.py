"""Hypothesis strategies shared by the tests."""

from hypothesis import strategies as st

import rnnbias as rb

STRUCTURES = ["full", "diagonal", "symmetric"]


@st.composite
def models(draw, structures=STRUCTURES, max_d=6, max_runs=3):
    """A batch of random models (any structure, d, R, scale, seed)."""
    structure = draw(st.sampled_from(structures))
    d = draw(st.integers(1, max_d))
    runs = draw(st.integers(1, max_runs))
    sigmas = draw(st.lists(st.floats(0.05, 1.2), min_size=runs, max_size=runs))
    seed = draw(st.integers(0, 10_000))
    return rb.init_gaussian(d, sigmas, [seed + r for r in range(runs)], structure=structure)


teachers = st.sampled_from(
    [
        rb.memoryless(),
        rb.memoryless(-0.7),
        rb.low_dimensional([0.9]),
        rb.low_dimensional([0.9, -0.6], [1.0, 0.5]),
        rb.low_dimensional([1.0]),
    ]
)
