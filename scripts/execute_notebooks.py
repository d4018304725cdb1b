"""Execute every chapter notebook, several at a time, into the book's execution cache.

``make book`` runs this first, then ``jupyter-book build``: with ``execute_notebooks: cache`` in
``_config.yml`` the build finds every notebook already executed (matched by the hash of its code
cells) and renders those outputs instead of running the notebooks again one after the other. The
execution is the one myst-nb would do (nbclient in the notebook's folder, the book's per-cell
timeout, errors not allowed); only the order differs: the notebooks run in parallel, one per
core (each kernel on one thread), the slowest first. The kernels are those of
``scripts/kernels.py``, whose client looks for replies every 0.1 s instead of once per cell
timeout (a missed wake-up otherwise stalls a cell for the whole timeout).

Usage: ``python scripts/execute_notebooks.py [--jobs N] [--in-place] [NOTEBOOK ...]`` (default:
every ``chapters/*.ipynb``, as many jobs as cores). Prints each notebook's execution time; exits
1, printing the traceback, if any notebook raises. With ``--in-place`` (``make notebooks``) each
executed notebook is written back to its file, with nbclient's cell timings, instead of into the
cache: the way committed outputs are refreshed (``jupyter execute --inplace`` uses nbclient's
plain client, which can stall a cell for its whole timeout).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from kernels import PromptKernelManager

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "_build" / ".jupyter_cache"  # jupyter-book's default execution cache
TIMEOUT = 300  # seconds per cell, as execute.timeout in _config.yml
# nbclient waits for the kernel's first reply (kernel_info) with the cell timeout; a kernel that
# never answers should fail the build in a minute, not in five. Cells keep 300 s (timeout_func).
KERNEL_INFO_TIMEOUT = 60


def _cell_timeout(_source: object) -> int:
    return TIMEOUT


def recorded_seconds(path: str) -> float:
    """Execution time recorded in the committed notebook (nbclient's cell timings), or 0."""
    total = 0.0
    for cell in nbformat.read(path, as_version=4).cells:
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
            begin, end = stamps["iopub.execute_input"], stamps["shell.execute_reply"]
            total += (parse(end) - parse(begin)).total_seconds()
    return total


def _execute(
    path: str, in_place: bool = False
) -> tuple[str, nbformat.NotebookNode, float, str | None]:
    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        nb, cwd=str(Path(path).parent), timeout=KERNEL_INFO_TIMEOUT, timeout_func=_cell_timeout,
        allow_errors=False, meta_override=True,
        record_timing=in_place,  # the committed timings; not in the cache (they enter its hash)
        kernel_manager_class=PromptKernelManager,
    )  # fmt: skip
    if in_place and not result.err:
        nbformat.write(nb, path)
    return path, nb, result.time, result.exc_string if result.err else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="default: chapters/*.ipynb")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--in-place", action="store_true", help="write back, not to the cache")
    args = parser.parse_args()
    paths = [str(Path(p).resolve()) for p in args.notebooks] or [
        str(p) for p in sorted((ROOT / "chapters").glob("*.ipynb"))
    ]
    paths.sort(key=recorded_seconds, reverse=True)  # the slowest first
    cache = get_cache(str(CACHE))
    start, failed = time.perf_counter(), []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for future in as_completed([pool.submit(_execute, p, args.in_place) for p in paths]):
            path, nb, seconds, error = future.result()
            name = os.path.relpath(path, ROOT)
            if error is not None:
                failed.append(name)
                print(f"FAILED {name} after {seconds:.1f} s\n{error}", file=sys.stderr)
                continue
            if args.in_place:
                print(f"{seconds:6.1f} s  {name} (written back)", flush=True)
                continue
            stage = cache.add_nb_to_project(path)
            bundle = CacheBundleIn(nb, stage.uri, data={"execution_seconds": seconds})
            cache.cache_notebook_bundle(bundle, check_validity=False, overwrite=True)
            try:  # the build must find it, or it would run the notebook a second time
                cache.match_cache_notebook(nbformat.read(path, as_version=4))
            except KeyError:
                failed.append(name)
                print(
                    f"FAILED {name}: its cached copy does not match the notebook", file=sys.stderr
                )
            print(f"{seconds:6.1f} s  {name}", flush=True)
    wall = time.perf_counter() - start
    print(f"{len(paths) - len(failed)} of {len(paths)} notebooks executed in {wall:.1f} s "
          f"({args.jobs} at a time)")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
