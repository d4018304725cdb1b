r"""Benchmarks: the batched exact-loss trainer against a naive trainer, its scaling, and the book.

Run with ``make bench`` (or ``python tests/benchmarks/bench.py``; ``--quick`` for a short
smoke run, ``--jax-only`` for section 0 alone, about a minute). Prints four tables and writes a
JSON record (default ``_build/benchmarks/latest.json``). It is a script, not a test: timings are
measurements of this machine, never assertions.

0. **JAX peer.** What a researcher would write instead of ``rnnbias``: the exact-loss GD loop in
   JAX, ``jit`` + ``vmap`` over runs + ``lax.while_loop`` over steps, float64, one CPU thread
   (``tests/benchmarks/jax_peer.py``; JAX from ``requirements-bench.txt``, which ``make bench``
   installs; without JAX the section is skipped). Same reference problem as section 1, same
   initial points, tol :math:`10^{-8}`, at most 300,000 steps; both trainers must stop after the
   same number of steps (within one) at the same loss. Reports the time of each, their ratio,
   JAX's compile time and the time of ``rnnbias``'s first call in the process.
1. **Trainer vs naive.** The reference problem: diagonal and full students with :math:`d = 40`,
   training length :math:`k = 5`, the teacher :math:`g^\star_j = 0.9^j`, initial scale
   :math:`\sigma \in \{10^{-3}, 10^{-1}\}` (entries :math:`\mathcal N(0, \sigma^2/d)`), 5 seeds,
   step size 0.05. The *naive* trainer is what one writes first: fresh minibatches of 64
   Gaussian sequences every step, the RNN unrolled and differentiated by autograd (BPTT),
   ``torch.optim.SGD``, one run at a time. Each naive run gets a fixed wall-clock budget; the
   comparison is at equal population loss: for each seed, the time the naive trainer needed to
   first reach its best loss, against the time ``rnnbias.train_gd`` (all 5 seeds in one batch)
   needed to bring that seed to the same loss. Speed-up = total naive time / batched time.
   A projection for a sweep of 100 seeds uses the measured cost per step of a 100-run batch.
2. **Scaling.** Time per step of ``train_gd`` as the number of runs R, the state size d and
   the training length k grow; log-log slopes against the operation counts.
3. **Book.** Wall time of every notebook of the table of contents (``jupyter execute``, one
   thread), against the budgets (90 s each, 5 minutes in all).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

import rnnbias as rb

ROOT = Path(__file__).resolve().parents[2]
TEACHER = rb.low_dimensional([0.9])
D, K, LR, SEEDS, BATCH = 40, 5, 0.05, list(range(5)), 64


# --- 0. the JAX peer ------------------------------------------------------------------------


def jax_peer(max_steps: int, tol: float = 1e-8) -> dict | None:
    """Time ``rb.train_gd`` and the JAX peer on the same initial points; None without JAX."""
    try:
        import jax_peer as jp  # tests/benchmarks/jax_peer.py; sets one-thread XLA flags first
    except ImportError as err:
        print(
            f"  skipped: JAX is not importable ({err}). Install it with "
            f"`{Path(sys.executable).parent / 'pip'} install -r {ROOT / 'requirements-bench.txt'}` "
            "(or run `make bench`).",
            flush=True,
        )
        return None
    g_star = TEACHER.impulse_response(K).numpy()
    rows = []
    for structure in ("diagonal", "full"):
        for sigma in (1e-3, 1e-1):
            init = rb.init_gaussian(D, sigma, seed=SEEDS, structure=structure)
            ours_kw = dict(lr=LR, tol=tol, record_every=max_steps)
            t0 = time.perf_counter()  # warm-up; the first call in the process pays any compile
            rb.train_gd(init, TEACHER, K, **{**ours_kw, "max_steps": 5, "record_every": 5})
            first_s = time.perf_counter() - t0
            t0, c0 = time.perf_counter(), time.process_time()
            ours = rb.train_gd(init, TEACHER, K, **ours_kw, max_steps=max_steps)
            ours_s, ours_cpu_s = time.perf_counter() - t0, time.process_time() - c0
            peer = jp.train(structure, *(p.numpy() for p in init), g_star, LR, tol, max_steps)
            ours_steps, ours_loss = ours.steps.numpy(), ours.loss.numpy()
            steps_agree = bool(np.all(np.abs(peer["steps"] - ours_steps) <= 1))
            both_below = (peer["loss"] <= tol) & (ours_loss <= tol)
            close = np.abs(peer["loss"] - ours_loss) <= 1e-6 * np.abs(ours_loss)
            losses_agree = bool(np.all(both_below | close))
            run_steps, batch_steps = int(peer["steps"].sum()), int(peer["steps"].max())
            rows.append(
                {
                    "row": f"{structure} sigma = {sigma:g}",
                    "structure": structure,
                    "sigma": sigma,
                    "jax_s": peer["seconds"],
                    "rnnbias_s": ours_s,
                    "ratio_rnnbias_over_jax": ours_s / peer["seconds"],
                    "steps_agree_within_1": steps_agree,
                    "losses_agree": losses_agree,
                    "jax_steps": peer["steps"].tolist(),
                    "rnnbias_steps": ours_steps.tolist(),
                    "jax_loss": peer["loss"].tolist(),
                    "rnnbias_loss": ours_loss.tolist(),
                    "jax_compile_s": peer["compile_seconds"],
                    "jax_cpu_over_wall": peer["cpu_seconds"] / peer["seconds"],
                    "rnnbias_cpu_over_wall": ours_cpu_s / ours_s,
                    "rnnbias_first_call_s": first_s,
                    "jax_us_per_run_step": 1e6 * peer["seconds"] / max(run_steps, 1),
                    "rnnbias_us_per_run_step": 1e6 * ours_s / max(int(ours_steps.sum()), 1),
                    "jax_us_per_batch_step": 1e6 * peer["seconds"] / max(batch_steps, 1),
                }
            )
            r = rows[-1]
            print(
                f"  {r['row']}: JAX {r['jax_s']:.2f} s, rnnbias {r['rnnbias_s']:.2f} s "
                f"(steps {min(r['jax_steps'])}..{max(r['jax_steps'])})",
                flush=True,
            )
    head = (
        "row | JAX s | rnnbias s | ratio | steps agree | losses agree | JAX compile s | "
        "rnnbias 1st call s | JAX us/run-step | rnnbias us/run-step"
    )
    print("  " + head + "\n  " + "|".join("---" for _ in head.split("|")))
    yes = {True: "yes", False: "NO"}
    for r in rows:
        print(
            f"  {r['row']} | {r['jax_s']:.2f} | {r['rnnbias_s']:.2f} | "
            f"{r['ratio_rnnbias_over_jax']:.1f}x | {yes[r['steps_agree_within_1']]} | "
            f"{yes[r['losses_agree']]} | {r['jax_compile_s']:.2f} | "
            f"{r['rnnbias_first_call_s']:.2f} | {r['jax_us_per_run_step']:.3f} | "
            f"{r['rnnbias_us_per_run_step']:.3f}"
        )
    return {
        "problem": {
            "d": D,
            "k": K,
            "teacher": "0.9^j",
            "lr": LR,
            "tol": tol,
            "seeds": SEEDS,
            "max_steps": max_steps,
            "ratio": "rnnbias seconds / JAX seconds (compilation excluded from both)",
        },
        "versions": {**jp.versions(), "numpy": np.__version__, "rnnbias": rb.__version__},
        "rows": rows,
    }


# --- 1. trainer vs naive ---------------------------------------------------------------------


def naive_run(model: rb.LinearRNN, seed: int, budget_s: float, eval_every: int = 100) -> dict:
    """SGD with BPTT on sampled minibatches, one run, for ``budget_s`` seconds of training.

    The exact population loss is evaluated every ``eval_every`` steps for the record only; the
    time it takes is not charged to the naive trainer.
    """
    diagonal = model.structure == "diagonal"
    A, B, C = (p[0].clone().requires_grad_() for p in model)
    opt = torch.optim.SGD([A, B, C], lr=LR)
    gen = torch.Generator().manual_seed(1000 + seed)
    g_star = TEACHER.impulse_response(K)
    trained_s, step, history = 0.0, 0, []  # history: (training seconds, population loss)
    while trained_s < budget_s:
        t0 = time.perf_counter()
        for _ in range(eval_every):
            x = torch.randn(BATCH, K, generator=gen, dtype=torch.float64)
            y = x.flip(-1) @ g_star  # the teacher's final output
            h = torch.zeros(BATCH, D, dtype=torch.float64)
            for t in range(K):  # unrolled recursion, differentiated by autograd
                h = (h * A if diagonal else h @ A.T) + x[:, t : t + 1] * B
            loss = ((h @ C - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        trained_s += time.perf_counter() - t0
        step += eval_every
        with torch.no_grad():
            current = rb.LinearRNN(A[None], B[None], C[None], model.structure)
            L = float(rb.population_loss(current, TEACHER, K)[0])
        history.append((trained_s, L))
        if not math.isfinite(L):
            break
    best = min(L for _, L in history)
    first = next(t for t, L in history if L <= best)
    return {"steps": step, "best_loss": best, "time_to_best_s": first, "trained_s": trained_s}


def trainer_vs_naive(budget_s: float, max_steps: int) -> list[dict]:
    rows = []
    for structure in ("diagonal", "full"):
        for sigma in (1e-3, 1e-1):
            init = rb.init_gaussian(D, sigma, seed=SEEDS, structure=structure)
            t0 = time.perf_counter()
            res = rb.train_gd(init, TEACHER, K, lr=LR, tol=1e-8, max_steps=max_steps)
            ours_s = time.perf_counter() - t0
            per_step = ours_s / max(int(res.steps.max()), 1)
            hist = res.loss_history  # (steps + 1, R): every step recorded
            naive = [naive_run(init.select(r), seed, budget_s) for r, seed in enumerate(SEEDS)]
            # batched steps needed for every seed to reach the loss its naive run reached
            need = []
            for r, nv in enumerate(naive):
                hit = torch.nonzero(hist[:, r] <= nv["best_loss"]).flatten()
                need.append(int(hit[0]) if len(hit) else None)
            matched = all(n is not None for n in need)
            ours_matched_s = per_step * max(need) if matched else float("nan")
            naive_s = sum(nv["time_to_best_s"] for nv in naive)
            # A sweep of 100 seeds: the naive trainer runs them one after another (time x 20);
            # the batched trainer runs them at once, at its measured cost per step for R = 100,
            # assuming the same number of steps as for these 5 seeds (a projection, labelled so).
            wide = rb.init_gaussian(D, sigma, seed=list(range(100)), structure=structure)
            t0 = time.perf_counter()
            rb.train_gd(wide, TEACHER, K, lr=LR, tol=0.0, max_steps=200, record_every=200)
            per_step_100 = (time.perf_counter() - t0) / 200
            rows.append(
                {
                    "structure": structure,
                    "sigma": sigma,
                    "ours_time_to_1e-8_s": ours_s if bool(res.converged.all()) else None,
                    "ours_steps_to_1e-8": [int(s) for s in res.steps],
                    "ours_final_loss_max": float(res.loss.max()),
                    "ours_ms_per_step_all_5_runs": 1e3 * per_step,
                    "naive_ms_per_step_one_run": 1e3
                    * sum(nv["trained_s"] for nv in naive)
                    / sum(nv["steps"] for nv in naive),
                    "naive_budget_s_per_run": budget_s,
                    "naive_best_loss": [nv["best_loss"] for nv in naive],
                    "naive_total_time_to_best_s": naive_s,
                    "ours_time_to_same_losses_s": ours_matched_s,
                    "speedup_at_equal_loss": naive_s / ours_matched_s if matched else None,
                    "ours_ms_per_step_100_runs": 1e3 * per_step_100,
                    "projected_speedup_100_seeds": (20 * naive_s) / (per_step_100 * max(need))
                    if matched
                    else None,
                }
            )
            r = rows[-1]
            print(
                f"  {structure:>8} sigma={sigma:g}: naive best loss "
                f"{min(r['naive_best_loss']):.2g}..{max(r['naive_best_loss']):.2g} in "
                f"{naive_s:.1f} s; ours {ours_matched_s:.3f} s -> speed-up "
                f"{r['speedup_at_equal_loss'] or float('nan'):.0f}x "
                f"(100 seeds, projected: {r['projected_speedup_100_seeds'] or float('nan'):.0f}x)",
                flush=True,
            )
    return rows


# --- 2. scaling ------------------------------------------------------------------------------


def time_per_step(structure: str, R: int, d: int, k: int, min_time_s: float) -> float:
    """Seconds per GD step of ``train_gd`` (best of 3 timings, after a warm-up)."""
    model = rb.init_gaussian(d, 0.3, seed=list(range(R)), structure=structure)
    teacher = rb.low_dimensional([0.9])
    rb.train_gd(model, teacher, k, lr=1e-3, tol=0.0, max_steps=3)  # warm-up
    steps = 10
    while True:
        t0 = time.perf_counter()
        rb.train_gd(model, teacher, k, lr=1e-3, tol=0.0, max_steps=steps, record_every=steps)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time_s or steps >= 20_000:
            break
        steps *= 4
    best = elapsed
    for _ in range(2):
        t0 = time.perf_counter()
        rb.train_gd(model, teacher, k, lr=1e-3, tol=0.0, max_steps=steps, record_every=steps)
        best = min(best, time.perf_counter() - t0)
    return best / steps


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def scaling(quick: bool) -> dict:
    min_time = 0.05 if quick else 0.3
    grids = {
        "R": [1, 10, 100, 1000] if not quick else [1, 10, 100],
        "d": [10, 25, 50, 100, 200, 400] if not quick else [10, 50, 200],
        "k": [5, 10, 20, 50, 100] if not quick else [5, 20, 50],
    }
    reference = {"R": 5, "d": 40, "k": 5}
    # operation counts per step: diagonal O(R d k); full O(R (k d^2 + k^2 d))
    theory = {
        ("diagonal", "R"): "1",
        ("diagonal", "d"): "1",
        ("diagonal", "k"): "1",
        ("full", "R"): "1",
        ("full", "d"): "2 (k d^2 term)",
        ("full", "k"): "1 to 2 (k d^2 + k^2 d)",
    }
    out = {}
    for structure in ("diagonal", "full"):
        ref_t = time_per_step(structure, **reference, min_time_s=min_time)
        floor_t = time_per_step(structure, R=1, d=1, k=2, min_time_s=min_time)
        out[structure] = {
            "reference": {**reference, "us_per_step": 1e6 * ref_t},
            "overhead_us_per_step": 1e6 * floor_t,
            "overhead_fraction_at_reference": floor_t / ref_t,
        }
        for axis, values in grids.items():
            times = []
            for v in values:
                cfg = {**reference, axis: v}
                times.append(time_per_step(structure, **cfg, min_time_s=min_time))
            upper = len(values) // 2  # fit where compute, not dispatch, dominates
            out[structure][axis] = {
                "values": values,
                "us_per_step": [1e6 * t for t in times],
                "slope_upper_half": slope(values[upper:], times[upper:]),
                "operation_count_exponent": theory[(structure, axis)],
            }
            print(
                f"  {structure:>8} {axis}: "
                + ", ".join(f"{v}: {1e6 * t:.0f} us" for v, t in zip(values, times, strict=True))
                + f"  -> slope {out[structure][axis]['slope_upper_half']:.2f}",
                flush=True,
            )
    return out


# --- 3. the book -----------------------------------------------------------------------------


def book_times() -> dict:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    notebooks = [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    jupyter = Path(sys.executable).parent / "jupyter"
    times = {}
    out_dir = ROOT / "_build" / "benchmarks"
    out_dir.mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        t0 = time.perf_counter()
        subprocess.run(
            [str(jupyter), "execute", f"--output={out_dir / nb.name}", "--timeout=600", str(nb)],
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
        times[nb.stem] = time.perf_counter() - t0
        print(f"  {nb.stem}: {times[nb.stem]:.1f} s (budget 90 s)", flush=True)
    return {"seconds": times, "total_s": sum(times.values()), "budget_each_s": 90, "budget_s": 300}


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--skip-book", action="store_true", help="skip the notebook timings")
    parser.add_argument(
        "--jax-only", action="store_true", help="run only section 0 (the JAX peer, ~1 min)"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "_build" / "benchmarks" / "latest.json")
    args = parser.parse_args()
    rb.set_seed(0)  # one thread, as in the notebooks
    record = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
    }
    budget, max_steps = (2.0, 20_000) if args.quick else (10.0, 300_000)
    print(
        f"0. JAX peer (d = 40, k = 5, teacher 0.9^j, 5 seeds, lr 0.05, tol 1e-8, "
        f"max_steps {max_steps:,})",
        flush=True,
    )
    record["jax_peer"] = jax_peer(max_steps)
    if not args.jax_only:
        print("1. trainer vs naive (d = 40, k = 5, teacher 0.9^j, 5 seeds, lr 0.05)", flush=True)
        record["trainer_vs_naive"] = trainer_vs_naive(budget, max_steps)
        print("2. scaling: time per GD step of train_gd", flush=True)
        record["scaling"] = scaling(args.quick)
    if not args.skip_book and not args.jax_only:
        print("3. the book: notebook execution times", flush=True)
        record["book"] = book_times()
        print(f"  total {record['book']['total_s']:.1f} s (budget 300 s)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(record, indent=2))
    print(f"JSON record: {args.json}")


if __name__ == "__main__":
    main()
