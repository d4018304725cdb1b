"""Shared test set-up: headless matplotlib, one torch thread, reproducible hypothesis runs."""

import matplotlib
import torch
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")  # tests only; never exported to the notebooks' kernels
torch.set_num_threads(1)

# derandomize: the same examples on every run, so a CI failure can be reproduced exactly.
settings.register_profile(
    "book",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("book")

# The JAX peer of the benchmarks needs JAX, which only `make bench` installs
# (requirements-bench.txt): it is a script, not a test module, so pytest never imports it.
collect_ignore = ["benchmarks/jax_peer.py"]
