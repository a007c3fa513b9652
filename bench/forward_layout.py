"""The forward product's layout: Z = A_prev Wᵀ against Wᵀ as a view, or as a contiguous copy.

    python bench/forward_layout.py [--rounds 7]

The engine multiplies A_prev by ``W.T``, a transposed view of the (n_out, n_in) weights,
and BLAS reads it with its transpose flag. The other layout copies Wᵀ into a contiguous
(n_in, n_out) array before each forward product (the copy included in the time). Each
estimator fit below runs with OpenBLAS on one thread (the thread policy's choice at these
sizes), the two layouts in turns, ``--rounds`` rounds; the table gives the median
milliseconds per epoch and the ratio copy ÷ view (below 1 the copy pays).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent

#: (name, rows, features, classes (0: regression), hidden layers, epochs)
FITS = (
    ("digits-sized", 1_347, 64, 10, (100,), 20),
    ("breast_cancer-sized", 426, 30, 2, (100,), 60),
    ("regression 50 features", 15_000, 50, 0, (100,), 3),
    ("50-128-128-1", 6_000, 50, 0, (128, 128), 4),
)


def forward_against_a_copy(self: Any, a_prev: Any, training: bool = False) -> Any:
    """Dense.forward with Z = A_prev (Wᵀ copied contiguous) + b."""
    import numpy as np

    W = self.W
    z, a = self._work_arrays(a_prev.shape[0], W.dtype)[:2]
    copy = getattr(self, "_transposed_copy", None)
    if copy is None or copy.shape != W.T.shape or copy.dtype != W.dtype:
        copy = self._transposed_copy = np.empty(W.T.shape, W.dtype)
    np.copyto(copy, W.T)
    np.matmul(a_prev, copy, out=z)
    self.passes.add_bias_and_activate(z, self._b, a)
    self.a_prev, self.z, self.a = a_prev, z, a
    return a


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before NumPy loads its BLAS
    sys.path[:0] = [str(_ROOT / "src"), str(_ROOT)]
    import numpy as np

    from backprop.nn.layers import Dense
    from backprop.sklearn import MLPClassifier, MLPRegressor

    warnings.simplefilter("ignore")
    view = Dense.forward
    rng = np.random.default_rng(0)
    print("| fit | dtype | view ms/epoch | copy ms/epoch | copy ÷ view |\n|---|---|---|---|---|")
    for dtype in ("float64", "float32"):
        for name, rows, features, classes, hidden, epochs in FITS:
            X = rng.normal(size=(rows, features))
            y = rng.integers(0, classes, rows) if classes else rng.normal(size=rows)
            kind = MLPClassifier if classes else MLPRegressor
            seconds: dict[str, list[float]] = {"view": [], "copy": []}
            for _ in range(args.rounds):
                for layout in seconds:
                    Dense.forward = view if layout == "view" else forward_against_a_copy
                    model = kind(hidden_layer_sizes=hidden, max_iter=epochs, random_state=0,
                                 tol=0, n_iter_no_change=10**9, dtype=dtype)
                    started = time.perf_counter()
                    model.fit(X, y)
                    seconds[layout].append((time.perf_counter() - started) / epochs)
            Dense.forward = view
            on_view, on_copy = (statistics.median(seconds[k]) for k in ("view", "copy"))
            print(f"| {name} | {dtype} | {on_view * 1e3:.2f} | {on_copy * 1e3:.2f} "
                  f"| {on_copy / on_view:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
