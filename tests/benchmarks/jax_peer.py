r"""The JAX peer of ``rnnbias.train_gd``: what a researcher would write instead of the package.

Full-batch gradient descent on the exact population loss of a linear RNN with the final-output
loss (chapter 1),

.. math::

    L_k = \sum_{j=0}^{k-1} \big(g_j - g^\star_j\big)^2, \qquad g_j = C A^j B,

compiled once with ``jax.jit`` over ``jax.vmap`` (over runs) of a ``jax.lax.while_loop`` (over
steps), in float64 on one CPU thread. Two structures, as in :class:`rnnbias.LinearRNN`:

``"diagonal"``
    ``A`` holds the diagonal :math:`a` (shape (R, d)): :math:`g_j = \sum_i b_i c_i a_i^j`.
``"full"``
    ``A`` of shape (R, d, d); ``B``, ``C`` of shape (R, d): :math:`g_j = C \cdot (A^j B)`.

The taps are computed by ``k`` repeated products (``k`` is small and static, so the Python loop
is unrolled at trace time) and the gradient by ``jax.value_and_grad`` (reverse mode through the
``k`` products: for the full structure ``k - 1`` adjoint mat-vecs and ``k - 1`` outer products,
fewer operations than the closed form of :func:`rnnbias.linear.population_loss_grad`).

Stopping is the package's: at step ``n = 0, 1, ...`` the loss of the current parameters is
computed; a run stops at the first ``n`` with ``loss <= tol`` (or a non-finite loss), else after
``max_steps`` updates; ``steps`` is the number of updates taken. Under ``vmap`` the
``while_loop`` runs until every run has stopped and the stopped runs are frozen (their carry is
selected unchanged). ``unroll`` sub-steps per loop iteration, each one guarded by the same
per-run test, give the same numbers and save part of the loop's per-iteration overhead.
``jax.value_and_grad`` was measured against a hand-written adjoint (the same operations) and a
multiply-and-sum mat-vec: the first two run equally fast, the third four times slower.

This module sets ``XLA_FLAGS`` (one thread, Eigen's multithreading off), ``JAX_PLATFORMS=cpu``
and ``OMP_NUM_THREADS=1`` before importing JAX; import it before anything else imports JAX.
Used by ``tests/benchmarks/bench.py`` (section "JAX peer"); install JAX with
``pip install -r requirements-bench.txt``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# too late to set the flags if JAX is already imported: say so rather than measure silently
if sys.modules.get("jax") is not None:
    warnings.warn(
        "jax was imported before tests/benchmarks/jax_peer.py: XLA_FLAGS for one thread "
        "may not apply",
        RuntimeWarning,
        stacklevel=2,
    )
if _XLA_ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_XLA_ONE_THREAD}".strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import jax  # noqa: E402 (after the environment above)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

STRUCTURES = ("diagonal", "full")


def versions() -> dict:
    """Versions and settings that decide the peer's speed, for the benchmark record."""
    import jaxlib

    return {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "backend": jax.default_backend(),
        "devices": [str(dev) for dev in jax.devices()],
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
        "x64": bool(jax.config.jax_enable_x64),
    }


def _taps(structure: str, k: int):
    """g_j for j < k of one run, by k repeated products (unrolled: k is static)."""
    if structure == "diagonal":

        def taps(A, B, C):
            w, out = B * C, []
            for _ in range(k):
                out.append(jnp.sum(w))
                w = w * A
            return jnp.stack(out)

    else:

        def taps(A, B, C):
            v, out = B, []
            for _ in range(k):
                out.append(jnp.dot(C, v))
                v = A @ v
            return jnp.stack(out)

    return taps


def _trainer(structure: str, k: int, unroll: int):
    """The compiled trainer for one structure, length k and unroll; jitted, not yet lowered."""
    taps = _taps(structure, k)

    def loss(params, target):
        diff = taps(*params) - target
        return jnp.sum(diff * diff)

    value_and_grad = jax.value_and_grad(loss)

    def one_run(params, target, lr, tol, max_steps):
        def going(state):
            _, L, _, n = state
            return (L > tol) & (n < max_steps)  # False for a NaN loss: the run stops

        def update(state):
            p, _, G, n = state
            p = tuple(x - lr * g for x, g in zip(p, G, strict=True))
            L, G = value_and_grad(p, target)
            return p, L, G, n + 1

        def body(state):
            state = update(state)  # entered only while this run is going
            for _ in range(unroll - 1):  # further sub-steps, each under the same test
                state = jax.lax.cond(going(state), update, lambda s: s, state)
            return state

        L0, G0 = value_and_grad(params, target)
        state = (params, L0, G0, jnp.zeros((), jnp.int64))
        p, L, _, n = jax.lax.while_loop(going, body, state)
        return p, L, n

    return jax.jit(jax.vmap(one_run, in_axes=(0, 0, None, None, None)))


def train(
    structure: str,
    A0: np.ndarray,
    B0: np.ndarray,
    C0: np.ndarray,
    target: np.ndarray,
    lr: float,
    tol: float,
    max_steps: int,
    *,
    unroll: int = 2,
) -> dict:
    r"""Train ``R`` runs by full-batch GD on :math:`L_k`, ``k = target.shape[-1]``.

    Parameters
    ----------
    structure : {"diagonal", "full"}
    A0, B0, C0 : numpy.ndarray
        Initial parameters with a leading run axis: ``A0`` of shape (R, d) (diagonal) or
        (R, d, d) (full); ``B0``, ``C0`` of shape (R, d). Cast to float64.
    target : numpy.ndarray, shape (k,) or (R, k)
        The teacher's first ``k`` taps :math:`g^\star_j`.
    lr, tol : float
        Step size; a run stops at the first step with ``loss <= tol``.
    max_steps : int
        Most updates per run.
    unroll : int, optional
        GD steps per iteration of the ``while_loop`` (same numbers for any value). Measured on
        the reference problem (d = 40, k = 5, R = 5): 2 is the fastest, 10-15 % faster than 1;
        4 is as fast for diagonal models, 8 is slower than 1.

    Returns
    -------
    dict
        ``A``, ``B``, ``C`` (final parameters, numpy), ``loss`` (R,), ``steps`` (R,) int64,
        ``seconds`` (the timed call, compilation excluded), ``compile_seconds`` (tracing,
        lowering and XLA compilation), ``cpu_seconds`` (process CPU time of the timed call:
        about ``seconds`` on one thread).

    Raises
    ------
    ValueError
        For an unknown ``structure``, inconsistent shapes, ``unroll < 1`` or ``max_steps < 0``.

    Notes
    -----
    The trainer is compiled once for the shapes with ``lr``, ``tol`` and ``max_steps`` as
    run-time arguments, warmed up by one call with ``max_steps=1``, then timed with
    ``block_until_ready``.
    """
    if structure not in STRUCTURES:
        raise ValueError(f"structure must be one of {STRUCTURES}, got {structure!r}")
    A0, B0, C0 = (np.asarray(x, dtype=np.float64) for x in (A0, B0, C0))
    if B0.ndim != 2 or C0.shape != B0.shape:
        raise ValueError(f"B0 and C0 must have equal shapes (R, d), got {B0.shape}, {C0.shape}")
    R, d = B0.shape
    a_shape = (R, d) if structure == "diagonal" else (R, d, d)
    if A0.shape != a_shape:
        raise ValueError(f"A0 must have shape {a_shape} for {structure!r}, got {A0.shape}")
    target = np.asarray(target, dtype=np.float64)
    if target.ndim not in (1, 2) or (target.ndim == 2 and target.shape[0] != R):
        raise ValueError(f"target must have shape (k,) or ({R}, k), got {target.shape}")
    if unroll < 1 or max_steps < 0:
        raise ValueError(f"need unroll >= 1 and max_steps >= 0, got {unroll}, {max_steps}")
    k = target.shape[-1]
    target = np.broadcast_to(target, (R, k))

    params = tuple(jax.device_put(x) for x in (A0, B0, C0))
    g_star = jax.device_put(np.ascontiguousarray(target))
    lr_, tol_ = jnp.float64(lr), jnp.float64(tol)
    t0 = time.perf_counter()
    compiled = (
        _trainer(structure, k, unroll)
        .lower(params, g_star, lr_, tol_, jnp.int64(max_steps))
        .compile()
    )
    compile_seconds = time.perf_counter() - t0
    jax.block_until_ready(compiled(params, g_star, lr_, tol_, jnp.int64(1)))  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    (A, B, C), loss, steps = jax.block_until_ready(
        compiled(params, g_star, lr_, tol_, jnp.int64(max_steps))
    )
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    return {
        "A": np.asarray(A),
        "B": np.asarray(B),
        "C": np.asarray(C),
        "loss": np.asarray(loss),
        "steps": np.asarray(steps),
        "seconds": seconds,
        "compile_seconds": compile_seconds,
        "cpu_seconds": cpu_seconds,
    }
