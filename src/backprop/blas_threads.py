"""BLAS's threads while training: one for small products, and within the memory limit.

Two rules, applied together by :func:`training_threads` around every training run (the
``fit`` function, the command, the estimators):

- **Small products run on one thread.** When a step's largest matrix product is small
  (under :data:`ONE_THREAD_BELOW` multiply-adds), BLAS runs it on the calling thread
  alone. Measured in turns (bench/threads.py; bench/reported/threads.md): on a quiet
  two-core machine a second thread gains 1 to 26% below that size, and on a machine
  whose cores are taken by other work, OpenBLAS's second thread, which spins waiting
  for its share, makes the same steps 1.8 to 25 times slower. Above it the second
  thread gains about 30% on a quiet machine, and BLAS keeps its threads.
- **Under a memory limit, BLAS fits beside the data**, as below.

What BLAS costs, measured with OpenBLAS 0.3.31 as NumPy 2.4 bundles it (Linux,
/proc/self/status's VmData, which RLIMIT_DATA limits): each OpenBLAS thread takes a
32 MiB work buffer when it starts and an 8 MiB stack; the thread that calls a matrix
product takes two more 32 MiB buffers over its first products, and a product split
between threads allocates job memory for each. VmData after ``import numpy`` is 47 MiB
with one thread and 87 MiB with two; OpenBLAS starts one thread per core, so on a
16-core machine BLAS alone takes about 650 MiB before any data is read. When an
allocation is refused, OpenBLAS retries and then ends the process itself ("OpenBLAS
error: Memory allocation still failed after 10 retries, giving up", or "malloc failed
in gemm_driver"): no Python exception is raised, so nothing can report it. The memory
BLAS needs follows the number of cores, not the data or the batch; under a memory limit
the number of threads must therefore follow the limit.

The policy: under a limit (RLIMIT_DATA or RLIMIT_AS set), BLAS gets at most a quarter
of it, at THREAD_BYTES a thread: threads = limit // (4 · THREAD_BYTES), at least 1, at
most the cores (a 400 MB limit gives 1 thread, 2 GB gives 7).

- :func:`fit_before_numpy` runs when ``backprop`` is imported: if NumPy is not loaded
  yet and no thread count is set (OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or
  OMP_NUM_THREADS), it sets OPENBLAS_NUM_THREADS, and OpenBLAS starts only those threads.
  The ``backprop`` command is always in this case.
- :func:`training_threads` narrows BLAS's threads while training, after NumPy was
  loaded, through threadpoolctl (it comes with scikit-learn, so always with the
  estimators, and with the command's extra); the buffers of threads already started
  stay, but no thread takes new ones. Without threadpoolctl, BLAS keeps its threads.
  It only ever lowers the count: a limit the user set stays.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator
from typing import Any

#: A BLAS thread's memory: a 32 MiB buffer and an 8 MiB stack at start, 32 MiB more in use.
THREAD_BYTES = 72 << 20
#: BLAS's share of a memory limit: a quarter.
BLAS_SHARE = 4
#: A step whose largest product has fewer multiply-adds than this (counted as float64's:
#: a float32 one is half, as BLAS does two in the time of one) runs BLAS on one thread.
ONE_THREAD_BELOW = 10_000_000
#: The variables by which OpenBLAS is told its number of threads, in the order it reads them.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def memory_limit() -> int | None:
    """The process's memory limit in bytes: the smaller of RLIMIT_DATA and RLIMIT_AS (soft),
    or None when neither is set (or the platform has neither)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    limits = []
    for name in ("RLIMIT_DATA", "RLIMIT_AS"):
        kind = getattr(resource, name, None)
        if kind is not None:
            soft, _ = resource.getrlimit(kind)
            if soft != resource.RLIM_INFINITY:
                limits.append(int(soft))
    return min(limits) if limits else None


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def threads_within(limit: int, available: int) -> int:
    """BLAS threads for a memory limit of ``limit`` bytes on ``available`` cores: a quarter
    of the limit at THREAD_BYTES each, at least one, at most one per core."""
    return max(1, min(available, limit // (BLAS_SHARE * THREAD_BYTES)))


def fit_before_numpy() -> int | None:
    """Under a memory limit, before NumPy is loaded, with no thread count set: set
    OPENBLAS_NUM_THREADS to :func:`threads_within` the limit. Returns the count set."""
    limit = memory_limit()
    if limit is None or "numpy" in sys.modules:
        return None
    if any(name in os.environ for name in THREAD_VARIABLES):
        return None  # the user's choice stands
    threads = threads_within(limit, cores())
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    return threads


def product_work(rows: int, weights: int, itemsize: int) -> float:
    """A product of ``rows`` samples by a weight matrix of ``weights`` entries, in float64
    multiply-adds: rows · n_in · n_out, halved for float32."""
    return rows * weights * itemsize / 8


def threads_for(rows: int, weights: int, itemsize: int) -> int | None:
    """BLAS threads for a training step: 1 when its largest product (``rows`` samples by
    ``weights`` entries) is under :data:`ONE_THREAD_BELOW`, and the fewer of that and what
    a memory limit allows; None when neither rule narrows BLAS."""
    counts = []
    if product_work(rows, weights, itemsize) < ONE_THREAD_BELOW:
        counts.append(1)
    limit = memory_limit()
    if limit is not None:
        counts.append(threads_within(limit, cores()))
    return min(counts) if counts else None


#: The module whose import loads SciPy's own BLAS (``import scipy``, or scipy.sparse, does not).
SCIPY_BLAS_MODULE = "scipy.linalg"


@functools.cache
def _controller(scipy_blas_loaded: bool) -> Any:
    """threadpoolctl's view of the loaded BLAS libraries (NumPy's, loaded before backprop,
    and SciPy's once :data:`SCIPY_BLAS_MODULE` is loaded: L-BFGS-B calls it), found once for
    each: a limit then costs microseconds, not the milliseconds of a fresh search; None
    without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def training_threads(rows: int, weights: int, itemsize: int) -> Iterator[None]:
    """While the block runs, BLAS on :func:`threads_for` threads, for steps of ``rows``
    samples whose largest weight matrix has ``weights`` entries of ``itemsize`` bytes;
    never more threads than BLAS has already."""
    threads = threads_for(rows, weights, itemsize)
    controller = _controller(SCIPY_BLAS_MODULE in sys.modules)
    if threads is None or controller is None:
        yield
        return
    blas = controller.select(user_api="blas")
    current = min((info["num_threads"] for info in blas.info()), default=threads)
    if current <= threads:
        yield
        return
    with blas.limit(limits=threads):
        yield
