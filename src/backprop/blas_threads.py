"""BLAS threads sized to the process's memory limit, so that BLAS fits beside the data.

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
- :func:`threads_within_limit` narrows BLAS's threads while training when NumPy was
  loaded first, through threadpoolctl when it is installed (it comes with scikit-learn,
  so always with the estimators); the buffers of threads already started stay, but no
  thread takes new ones.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

#: A BLAS thread's memory: a 32 MiB buffer and an 8 MiB stack at start, 32 MiB more in use.
THREAD_BYTES = 72 << 20
#: BLAS's share of a memory limit: a quarter.
BLAS_SHARE = 4
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


@contextlib.contextmanager
def threads_within_limit() -> Iterator[None]:
    """While the block runs, under a memory limit: BLAS's threads narrowed to
    :func:`threads_within` the limit (through threadpoolctl, when installed)."""
    limit = memory_limit()
    if limit is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=threads_within(limit, cores()), user_api="blas"):
        yield
