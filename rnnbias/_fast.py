r"""Compiled CPU kernels for gradient descent on the exact loss of linear RNNs.

:func:`rnnbias.train.train_gd` advances all runs together with batched tensor operations; for the
book's small models (``d`` of tens, ``k`` of a few) a step costs microseconds of arithmetic and
tens of microseconds of dispatch. The kernels here run the *same* iteration, run by run and step
by step, as machine code compiled by numba (once per machine; the compiled code is cached on disk
next to this file, so later processes pay nothing). Per step and run, with
:math:`r_j = 2 w_j (g_j - g^\star_j)` for lags :math:`j < k_r`:

.. math::

    \nabla_C L = \sum_j r_j\, A^j B, \qquad \nabla_B L = \sum_j r_j\, (A^\top)^j C^\top, \qquad
    \nabla_A L = \sum_{m=0}^{k-2} \Big(\sum_{l=0}^{k-2-m} r_{l+m+1} (A^\top)^l C^\top\Big)
    (A^m B)^\top,

and for diagonal models :math:`\partial_{c_i} L = b_i s_i`, :math:`\partial_{b_i} L = c_i s_i`,
:math:`\partial_{a_i} L = b_i c_i t_i` with :math:`s_i = \sum_j r_j a_i^j` and
:math:`t_i = \sum_{j \ge 1} j r_j a_i^{j-1}` (both by Horner's rule). The stopping rules, the
per-run step sizes and lengths, clipping, divergence and the loss history are those of
:func:`~rnnbias.train.train_gd` (tests check both paths give the same numbers to ~1e-12).

Floating-point sums may be reassociated (vectorised) by the compiler; NaN and infinity keep their
IEEE meaning, so divergence is detected as in the reference path.

Used by :func:`rnnbias.train.train_gd` (chapter 1, "Training in one call") for float64 CPU
tensors; not part of the public API.
"""

from __future__ import annotations

import math

import numpy as np

try:  # numba is a pinned dependency; without it train_gd uses the tensor path
    import numba

    _FLAGS = {"reassoc", "contract", "nsz"}  # vectorise sums; keep NaN/inf semantics
    _jit = numba.njit(cache=True, fastmath=_FLAGS, nogil=True)
    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None
    AVAILABLE = False

    def _jit(f):
        return f


# status codes, shared with rnnbias.train
RUNNING, CONVERGED, DIVERGED = 0, 1, 2


@_jit
def _clip_factor(sq, clip):
    if clip <= 0.0:
        return 1.0
    norm = math.sqrt(sq)
    return min(1.0, clip / max(norm, 1e-300))


@_jit
def gd_diagonal(a, b, c, target, w, ks, lr, clip, tol, start, end, every, stop_on_div,
                hist, loss_out, steps_out, status_out):  # fmt: skip
    """GD on the diagonal runs still running, in place on a, b, c (R, d), from step ``start``
    until a run stops or reaches step ``end``.

    ``target`` and ``w`` (R, k_max) hold each run's taps and loss weights, ``ks`` (R,) its length,
    ``lr`` (R,) its step size; ``clip <= 0`` means no clipping. The loss at every step that is a
    multiple of ``every`` goes to ``hist[step // every, r]``; the last step and loss to
    ``steps_out``, ``loss_out``; a run's stop to ``status_out`` (CONVERGED at ``loss <= tol``,
    DIVERGED at a non-finite loss, its parameters then set to NaN). Returns the index of a run
    that diverged when ``stop_on_div`` (the kernel then returns at once), else -1.
    """
    R, d = a.shape
    kmax = target.shape[1]
    P = np.empty((kmax, d))
    s = np.empty(d)
    t = np.empty(d)
    diff = np.empty(kmax)
    rr = np.empty(kmax)
    for r in range(R):
        k = ks[r]
        ar, br, cr = a[r], b[r], c[r]
        if status_out[r] != RUNNING:
            continue
        step = start
        while True:
            # taps g_j = sum_i b_i c_i a_i^j
            for i in range(d):
                P[0, i] = 1.0
            for j in range(1, k):
                for i in range(d):
                    P[j, i] = P[j - 1, i] * ar[i]
            loss = 0.0
            for j in range(k):
                g = 0.0
                for i in range(d):
                    g += br[i] * cr[i] * P[j, i]
                diff[j] = g - target[r, j]
                loss += w[r, j] * diff[j] * diff[j]
                rr[j] = 2.0 * w[r, j] * diff[j]
            if not math.isfinite(loss):
                status_out[r] = DIVERGED
                loss = math.nan
                for i in range(d):
                    ar[i] = math.nan
                    br[i] = math.nan
                    cr[i] = math.nan
            elif loss <= tol:
                status_out[r] = CONVERGED
            if step % every == 0:
                hist[step // every, r] = loss
            if status_out[r] != RUNNING or step == end:
                break
            # s_i = sum_j r_j a_i^j and t_i = sum_{j>=1} j r_j a_i^(j-1), by Horner's rule
            for i in range(d):
                s[i] = rr[k - 1]
                t[i] = 0.0
            for j in range(k - 2, -1, -1):
                for i in range(d):
                    t[i] = t[i] * ar[i] + (j + 1) * rr[j + 1]
                    s[i] = s[i] * ar[i] + rr[j]
            sq = 0.0
            if clip > 0.0:
                for i in range(d):
                    ga, gb, gc = br[i] * cr[i] * t[i], cr[i] * s[i], br[i] * s[i]
                    sq += ga * ga + gb * gb + gc * gc
            eta = lr[r] * _clip_factor(sq, clip)
            for i in range(d):
                bi, ci = br[i], cr[i]
                ar[i] -= eta * bi * ci * t[i]
                br[i] = bi - eta * ci * s[i]
                cr[i] = ci - eta * bi * s[i]
            step += 1
        loss_out[r] = loss
        steps_out[r] = step
        if stop_on_div and status_out[r] == DIVERGED:
            return r
    return -1


@_jit
def _matvec(M, x, out):
    """out = M x, four rows of M at a time (the sums stay in registers)."""
    d = M.shape[0]
    p = 0
    while p + 4 <= d:
        a0 = a1 = a2 = a3 = 0.0
        for q in range(d):
            v = x[q]
            a0 += M[p, q] * v
            a1 += M[p + 1, q] * v
            a2 += M[p + 2, q] * v
            a3 += M[p + 3, q] * v
        out[p], out[p + 1], out[p + 2], out[p + 3] = a0, a1, a2, a3
        p += 4
    while p < d:
        acc = 0.0
        for q in range(d):
            acc += M[p, q] * x[q]
        out[p] = acc
        p += 1


@_jit
def _matvec_pair(M, x, y, v_out, u_out):
    """v_out = M x and u_out = M^T y in one pass over M, four rows at a time (each row of M
    loaded serves both products)."""
    d = M.shape[0]
    for q in range(d):
        u_out[q] = 0.0
    p = 0
    while p + 4 <= d:
        a0 = a1 = a2 = a3 = 0.0
        y0, y1, y2, y3 = y[p], y[p + 1], y[p + 2], y[p + 3]
        for q in range(d):
            m0, m1, m2, m3 = M[p, q], M[p + 1, q], M[p + 2, q], M[p + 3, q]
            xq = x[q]
            a0 += m0 * xq
            a1 += m1 * xq
            a2 += m2 * xq
            a3 += m3 * xq
            u_out[q] += y0 * m0 + y1 * m1 + y2 * m2 + y3 * m3
        v_out[p], v_out[p + 1], v_out[p + 2], v_out[p + 3] = a0, a1, a2, a3
        p += 4
    while p < d:
        acc = 0.0
        yp = y[p]
        for q in range(d):
            acc += M[p, q] * x[q]
            u_out[q] += yp * M[p, q]
        v_out[p] = acc
        p += 1


@_jit
def _add_outer(M, coef, X, Y, n):
    """M += coef * sum_{m<n} X_m Y_m^T (rows X_m, Y_m): two rows of M and four terms at a time,
    so that each row of Y loaded serves eight multiply-adds."""
    d = M.shape[0]
    p = 0
    while p + 2 <= d:
        m = 0
        while m + 4 <= n:
            a0, a1, a2, a3 = (
                coef * X[m, p],
                coef * X[m + 1, p],
                coef * X[m + 2, p],
                coef * X[m + 3, p],
            )
            b0, b1 = coef * X[m, p + 1], coef * X[m + 1, p + 1]
            b2, b3 = coef * X[m + 2, p + 1], coef * X[m + 3, p + 1]
            for q in range(d):
                y0, y1, y2, y3 = Y[m, q], Y[m + 1, q], Y[m + 2, q], Y[m + 3, q]
                M[p, q] += a0 * y0 + a1 * y1 + a2 * y2 + a3 * y3
                M[p + 1, q] += b0 * y0 + b1 * y1 + b2 * y2 + b3 * y3
            m += 4
        while m < n:
            a0, b0 = coef * X[m, p], coef * X[m, p + 1]
            for q in range(d):
                M[p, q] += a0 * Y[m, q]
                M[p + 1, q] += b0 * Y[m, q]
            m += 1
        p += 2
    if p < d:  # the last row of an odd d
        for m in range(n):
            a0 = coef * X[m, p]
            for q in range(d):
                M[p, q] += a0 * Y[m, q]


@_jit
def _grad_a_symmetric_clipped(G, W, V, gB, gC, k, symmetric, clip):
    """Form grad_A = sum_m W_m V_m^T in G; symmetrise (with gB, gC) and return the clip factor."""
    d = G.shape[0]
    for p in range(d):
        for q in range(d):
            G[p, q] = 0.0
    _add_outer(G, 1.0, W, V, k - 1)
    if symmetric:  # symmetric in exact arithmetic: remove round-off
        for p in range(d):
            for q in range(p + 1, d):
                h = 0.5 * (G[p, q] + G[q, p])
                G[p, q] = h
                G[q, p] = h
            h = 0.5 * (gB[p] + gC[p])
            gB[p] = h
            gC[p] = h
    sq = 0.0
    if clip > 0.0:
        for p in range(d):
            sq += gB[p] * gB[p] + gC[p] * gC[p]
            for q in range(d):
                sq += G[p, q] * G[p, q]
    return _clip_factor(sq, clip)


@_jit
def _full_grads(rr, V, Us, k, gB, gC, W):
    """Into gB, gC and the rows W_m of grad_A = sum_m W_m V_m^T: gC = sum_j r_j V_j,
    gB = sum_j r_j U_j, W_m = sum_l r_{l+m+1} U_l (V_j = A^j B, U_j = (A^T)^j C^T)."""
    d = V.shape[1]
    for q in range(d):
        gC[q] = 0.0
        gB[q] = 0.0
    for j in range(k):
        for q in range(d):
            gC[q] += rr[j] * V[j, q]
            gB[q] += rr[j] * Us[j, q]
    for m in range(k - 1):
        for q in range(d):
            W[m, q] = 0.0
        for l in range(k - 1 - m):  # noqa: E741 (the book's index)
            for q in range(d):
                W[m, q] += rr[l + m + 1] * Us[l, q]


@_jit
def gd_full(A, B, C, target, w, ks, lr, symmetric, clip, tol, start, end, every, stop_on_div,
            hist, loss_out, steps_out, status_out):  # fmt: skip
    """GD on full (or, with ``symmetric``, symmetric) runs, in place on A (R, d, d), B, C (R, d);
    the other arguments as in :func:`gd_diagonal`."""
    R, d = B.shape
    kmax = target.shape[1]
    V = np.empty((kmax, d))  # row j: A^j B
    U = np.empty((kmax, d))  # row j: (A^T)^j C^T
    W = np.empty((kmax, d))  # row m: sum_l r_{l+m+1} U_l
    G = np.empty((d, d))
    gB = np.empty(d)
    gC = np.empty(d)
    rr = np.empty(kmax)
    for r in range(R):
        k = ks[r]
        Ar, Br, Cr = A[r], B[r], C[r]
        if status_out[r] != RUNNING:
            continue
        step = start
        while True:
            for q in range(d):
                V[0, q] = Br[q]
                U[0, q] = Cr[q]
            for j in range(1, k):
                if symmetric:  # V_j = A V_{j-1}
                    _matvec(Ar, V[j - 1], V[j])
                else:  # and U_j = A^T U_{j-1}
                    _matvec_pair(Ar, V[j - 1], U[j - 1], V[j], U[j])
            loss = 0.0
            for j in range(k):
                g = 0.0
                for q in range(d):
                    g += Cr[q] * V[j, q]
                diff = g - target[r, j]
                loss += w[r, j] * diff * diff
                rr[j] = 2.0 * w[r, j] * diff
            if not math.isfinite(loss):
                status_out[r] = DIVERGED
                loss = math.nan
                for p in range(d):
                    Br[p] = math.nan
                    Cr[p] = math.nan
                    for q in range(d):
                        Ar[p, q] = math.nan
            elif loss <= tol:
                status_out[r] = CONVERGED
            if step % every == 0:
                hist[step // every, r] = loss
            if status_out[r] != RUNNING or step == end:
                break
            # (on the symmetric set, (A^T)^j C^T = A^j B)
            _full_grads(rr, V, V if symmetric else U, k, gB, gC, W)
            if symmetric or clip > 0.0:  # form grad_A, then symmetrise and/or clip
                eta = lr[r] * _grad_a_symmetric_clipped(G, W, V, gB, gC, k, symmetric, clip)
                for p in range(d):
                    Br[p] -= eta * gB[p]
                    Cr[p] -= eta * gC[p]
                    for q in range(d):
                        Ar[p, q] -= eta * G[p, q]
            else:  # A -= eta sum_m W_m V_m^T, without forming grad_A
                eta = lr[r]
                for p in range(d):
                    Br[p] -= eta * gB[p]
                    Cr[p] -= eta * gC[p]
                _add_outer(Ar, -eta, W, V, k - 1)
            step += 1
        loss_out[r] = loss
        steps_out[r] = step
        if stop_on_div and status_out[r] == DIVERGED:
            return r
    return -1


@_jit
def gd_complex_diagonal(lam, b, c, target, ks, lr, tol, start, end, every, stop_on_div,
                        hist, loss_out, steps_out, status_out):  # fmt: skip
    """GD on complex diagonal (state-space) runs, in place on lam, b, c (R, d) complex128, for
    the loss :math:`\\sum_{j<k} (\\operatorname{Re} \\sum_i b_i c_i \\lambda_i^j - g^\\star_j)^2`;
    the gradient in :math:`z` is :math:`\\partial_{\\operatorname{Re} z} L + i\\,
    \\partial_{\\operatorname{Im} z} L`, i.e. the conjugates of :math:`w_i t_i`, :math:`c_i s_i`,
    :math:`b_i s_i` (:mod:`rnnbias.ssm`). Arguments as in :func:`gd_diagonal` (no clipping)."""
    R, d = lam.shape
    kmax = target.shape[1]
    P = np.empty((kmax, d), dtype=np.complex128)
    rr = np.empty(kmax)
    for r in range(R):
        if status_out[r] != RUNNING:
            continue
        k = ks[r]
        lm, br, cr = lam[r], b[r], c[r]
        step = start
        while True:
            for i in range(d):
                P[0, i] = 1.0
            for j in range(1, k):
                for i in range(d):
                    P[j, i] = P[j - 1, i] * lm[i]
            loss = 0.0
            for j in range(k):
                g = 0.0
                for i in range(d):
                    g += (br[i] * cr[i] * P[j, i]).real
                diff = g - target[r, j]
                loss += diff * diff
                rr[j] = 2.0 * diff
            if not math.isfinite(loss):
                status_out[r] = DIVERGED
                loss = math.nan
                for i in range(d):
                    lm[i] = complex(math.nan, math.nan)
                    br[i] = complex(math.nan, math.nan)
                    cr[i] = complex(math.nan, math.nan)
            elif loss <= tol:
                status_out[r] = CONVERGED
            if step % every == 0:
                hist[step // every, r] = loss
            if status_out[r] != RUNNING or step == end:
                break
            eta = lr[r]
            for i in range(d):
                z = lm[i]
                s = complex(rr[k - 1], 0.0)
                t = complex(0.0, 0.0)
                for j in range(k - 2, -1, -1):  # Horner's rule
                    t = t * z + (j + 1) * rr[j + 1]
                    s = s * z + rr[j]
                bi, ci = br[i], cr[i]
                lm[i] = z - eta * (bi * ci * t).conjugate()
                br[i] = bi - eta * (ci * s).conjugate()
                cr[i] = ci - eta * (bi * s).conjugate()
            step += 1
        loss_out[r] = loss
        steps_out[r] = step
        if stop_on_div and status_out[r] == DIVERGED:
            return r
    return -1
