"""Each matrix product cut in two halves, one BLAS thread each, against OpenBLAS's two
threads sharing one product: whole training epochs on the compiled path, in turns.

    python bench/halves.py [--only headline,batch-32] [--rounds 4] [--source mnist]
    python bench/halves.py --products [--rounds 30]

OpenBLAS runs a large product on its two threads together: they share the packed panels
of one operand and wait for each other within the product. Cut in halves, a product is
two products that share nothing. OpenBLAS's strided batched product
(``cblas_?gemm_batch_strided``, OpenBLAS 0.3.30 and later) runs them, one per thread,
through its own spinning hand-over (no Python thread, no event to wake). The cut goes
through the larger operand, so that each thread reads half of it and all of the other:
C's rows when A (m × k) is the larger, C's columns when B (k × n) is. For rows, with
h = m / 2, C[:h] = A[:h] B and C[h:] = A[h:] B; for columns, C[:, :h] = A B[:, :h] and
C[:, h:] = A B[:, h:]. Each entry is still one sum over k in the single-thread kernel's
order.

For each workload, one process trains the benchmark's network on the compiled path
(``Network(compiled=True)``), one epoch at a time, the arrangements in turns, their order
alternating round by round:

- ``engine``: the engine as it is (NumPy's ``matmul``, the BLAS thread policy);
- ``halves``: every product of the dense layers cut in halves, BLAS on two threads at any
  size (where the policy would hold it to one, the halves would run one after the other);
- ``two threads``, only where the policy holds BLAS to one thread (batch 32, batch 1,
  width 64): NumPy's ``matmul`` on two BLAS threads, OpenBLAS's own split.

A product falls back to NumPy's ``matmul`` where the cut does not apply: the cut dimension
odd, a half of at most 100³ multiply-adds (OpenBLAS sends those to its small-matrix
kernels, whose batched form crashes in 0.3.31), or a BLAS without the batched product.
The table gives the median seconds per epoch (after a first epoch of each, not timed)
and each arrangement's ratio to the engine's.

``--products``: one product alone, A (m × k) by Wᵀ as the forward pass takes it, NumPy's
``matmul`` on two BLAS threads against the halves, in turns, call after call on the same
operands (hot in the cores' caches) and cycling through eight sets of them (each call's
operands last touched eight calls before, as in a step whose update has just rewritten W).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/halves.py
    sys.path.insert(0, str(_ROOT))
    sys.path.insert(0, str(_ROOT / "src"))

import backprop  # noqa: E402,F401  (before NumPy: the engine's BLAS kernels)

# isort: split
import numpy as np  # noqa: E402

from bench import data  # noqa: E402
from bench.machine import blas_policy_off  # noqa: E402
from bench.systems.backprop_system import network_and_optimizer  # noqa: E402
from bench.workloads import Workload, named  # noqa: E402

DEFAULT = ("headline", "mlp-512-256", "batch-32", "batch-1024", "width-1024", "depth-4",
           "float64")
#: A half of at most this many multiply-adds is not cut (OpenBLAS's small-matrix kernels).
SMALLEST_HALF = 100**3
# CBLAS's constants (cblas.h): row-major storage, and whether an operand is transposed.
ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE = 101, 111, 112


@functools.cache
def batched_products() -> dict[np.dtype[Any], Callable[..., None]]:
    """dtype → the strided batched product of NumPy's OpenBLAS (the first OpenBLAS loaded,
    as threadpoolctl finds it), typed; empty where there is none."""
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info.get("internal_api") != "openblas":
            continue
        library = ctypes.CDLL(info["filepath"])
        if not hasattr(library, "cblas_sgemm_batch_strided"):
            continue
        # NumPy's own builds have 64-bit integers, and their symbols end in 64_
        wide = any(hasattr(library, name) for name in ("scipy_cblas_sgemm64_", "cblas_sgemm64_"))
        integer = ctypes.c_int64 if wide else ctypes.c_int32
        functions = {}
        for dtype, name, real in (
                (np.dtype(np.float32), "cblas_sgemm_batch_strided", ctypes.c_float),
                (np.dtype(np.float64), "cblas_dgemm_batch_strided", ctypes.c_double)):
            function = getattr(library, name)
            # (layout, transa, transb, m, n, k, alpha, A, lda, stride_a, B, ldb, stride_b,
            #  beta, C, ldc, stride_c, count)
            function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, integer, integer,
                                 integer, real, ctypes.c_void_p, integer, integer,
                                 ctypes.c_void_p, integer, integer, real, ctypes.c_void_p,
                                 integer, integer, integer]
            function.restype = None
            functions[dtype] = function
        return functions
    return {}


def _operand(array: np.ndarray) -> tuple[int, int] | None:
    """(CBLAS's transpose flag, leading dimension) of a 2-D operand as stored: C-ordered,
    or C-ordered transposed (a ``.T`` view); None otherwise."""
    if array.flags.c_contiguous:
        return NO_TRANSPOSE, max(1, array.shape[1])
    if array.flags.f_contiguous:
        return TRANSPOSE, max(1, array.shape[0])
    return None


def halves_product(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out ← a b, (m, k) by (k, n) into a C-ordered (m, n), cut in two halves through the
    larger operand, one BLAS thread each; NumPy's ``matmul`` where the cut does not apply."""
    m, n = out.shape
    k = a.shape[1]
    function = batched_products().get(out.dtype)
    left, right = _operand(a), _operand(b)
    by_rows = m * k >= k * n
    if (function is None or left is None or right is None or not out.flags.c_contiguous
            or a.dtype != out.dtype or b.dtype != out.dtype or (m if by_rows else n) % 2
            or m * n * k // 2 <= SMALLEST_HALF):
        return np.matmul(a, b, out=out)
    (transpose_a, lda), (transpose_b, ldb) = left, right
    if by_rows:  # A's second half starts h rows on: h · lda entries, or h if stored as Aᵀ
        half = m // 2
        stride_a = half * lda if transpose_a == NO_TRANSPOSE else half
        function(ROW_MAJOR, transpose_a, transpose_b, half, n, k, 1.0, a.ctypes.data, lda,
                 stride_a, b.ctypes.data, ldb, 0, 0.0, out.ctypes.data, n, half * n, 2)
    else:  # B's second half starts h columns on: h entries, or h · ldb if stored as Bᵀ
        half = n // 2
        stride_b = half if transpose_b == NO_TRANSPOSE else half * ldb
        function(ROW_MAJOR, transpose_a, transpose_b, m, half, k, 1.0, a.ctypes.data, lda,
                 0, b.ctypes.data, ldb, stride_b, 0.0, out.ctypes.data, n, half, 2)
    return out


class _NumPyWithHalves:
    """NumPy, but for ``matmul``: what the layers module sees while the halves run."""

    matmul = staticmethod(halves_product)

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


@contextlib.contextmanager
def arrangement(name: str) -> Iterator[None]:
    """The engine as ``name`` arranges its products while the block runs."""
    import backprop.nn.layers

    with contextlib.nullcontext() if name == "engine" else blas_policy_off():
        if name == "halves":
            backprop.nn.layers.np = _NumPyWithHalves()  # type: ignore[assignment]
        try:
            yield
        finally:
            backprop.nn.layers.np = np


def arrangements(workload: Workload) -> tuple[str, ...]:
    """The engine and the halves; and two threads where the policy holds BLAS to one."""
    from backprop.blas_threads import ONE_THREAD_BELOW, product_work

    largest = max(n_in * n_out for n_in, n_out in itertools.pairwise(workload.sizes))
    small = product_work(workload.batch_size, largest, np.dtype(workload.dtype).itemsize)
    return ("engine", "halves", "two threads") if small < ONE_THREAD_BELOW else (
        "engine", "halves")


def measure(workload: Workload, rounds: int, source: str) -> dict[str, list[float]]:
    """Seconds of each timed epoch of each arrangement, the arrangements in turns."""
    dataset = data.load(workload, source)
    net, optimizer = network_and_optimizer(workload)
    net.compiled = True
    names = arrangements(workload)
    seconds: dict[str, list[float]] = {name: [] for name in names}

    def epoch(name: str) -> float:
        with arrangement(name):
            start = time.perf_counter()
            net.fit(dataset.X_train, dataset.y_train, epochs=1,
                    batch_size=workload.batch_size, optimizer=optimizer, shuffle=True)
            return time.perf_counter() - start

    for name in names:  # a first epoch of each, untimed: compiling, buffers
        epoch(name)
    for turn in range(rounds):
        for name in names if turn % 2 == 0 else names[::-1]:
            seconds[name].append(epoch(name))
    return seconds


#: The products of ``--products``: (m, k, n), the forward pass's A (m × k) by Wᵀ (k × n).
PRODUCT_SHAPES = ((32, 784, 256), (128, 784, 256), (128, 784, 512), (128, 256, 256),
                  (128, 1024, 1024), (1024, 784, 256))
#: Operand sets cycled through in the cold case of ``--products``.
COLD_SETS = 8


def product_times(shape: tuple[int, int, int], rounds: int, calls: int = 20
                  ) -> dict[str, list[float]]:
    """Microseconds per call of NumPy's product and of the halves, hot and cold, in turns."""
    m, k, n = shape
    rng = np.random.default_rng(0)
    sets = [(rng.standard_normal((m, k)).astype(np.float32),
             rng.standard_normal((n, k)).astype(np.float32)) for _ in range(COLD_SETS)]
    out = np.empty((m, n), np.float32)
    ways = {"matmul": lambda a, w: np.matmul(a, w.T, out=out),
            "halves": lambda a, w: halves_product(a, w.T, out)}
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for (name, product), (warmth, used) in itertools.product(
                ways.items(), (("hot", sets[:1]), ("cold", sets))):
            start = time.perf_counter()
            for call in range(calls):
                product(*used[call % len(used)])
            times.setdefault(f"{name}, {warmth}", []).append(
                (time.perf_counter() - start) / calls * 1e6)
    return times


def products(rounds: int) -> int:
    """The table of ``--products``."""
    print(f"Median µs per product, float32, {rounds} rounds in turns, BLAS on two threads; "
          "hot: the same operands call after call; cold: eight sets in turn.\n")
    print("| A × Wᵀ | matmul, hot | halves, hot | ÷ | matmul, cold | halves, cold | ÷ |")
    print("|---|---|---|---|---|---|---|")
    for shape in PRODUCT_SHAPES:
        median = {way: statistics.median(us) for way, us in product_times(shape, rounds).items()}
        cells = []
        for warmth in ("hot", "cold"):
            matmul, halves = median[f"matmul, {warmth}"], median[f"halves, {warmth}"]
            cells.append(f"{matmul:.1f} | {halves:.1f} | {halves / matmul:.2f}")
        m, k, n = shape
        print(f"| {m} × {k} by {k} × {n} | {' | '.join(cells)} |", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(DEFAULT),
                        help="comma-separated workloads (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--source", choices=("mnist", "synthetic"), default="mnist")
    parser.add_argument("--products", action="store_true",
                        help="instead: one product alone, hot and cold, NumPy's and the halves")
    args = parser.parse_args(argv)
    workloads = named(parser, args.only)
    if not batched_products():
        print("NumPy's BLAS has no batched product (OpenBLAS 0.3.30 or later): every "
              "product would fall back to NumPy's matmul; nothing to measure.")
        return 1
    if args.products:
        return products(args.rounds)
    print(f"Median seconds per epoch, the compiled path, {args.rounds} rounds in turns "
          f"(data: {args.source}); each arrangement's ratio to the engine's.\n")
    print("| workload | batch | engine | halves | ÷ engine | two threads | ÷ engine "
          "| halves ÷ engine, each round |")
    print("|---|---|---|---|---|---|---|---|")
    for workload in workloads:
        seconds = measure(workload, args.rounds, args.source)
        median = {kind: statistics.median(values) for kind, values in seconds.items()}
        engine = median["engine"]
        two = (f"{median['two threads']:.3f} | {median['two threads'] / engine:.2f}"
               if "two threads" in median else "– | –")
        rounds = " ".join(f"{halves / engine_epoch:.2f}" for halves, engine_epoch
                          in zip(seconds["halves"], seconds["engine"], strict=True))
        print(f"| `{workload.name}` | {workload.batch_size} | {engine:.3f} "
              f"| {median['halves']:.3f} | {median['halves'] / engine:.2f} | {two} "
              f"| {rounds} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
