"""predict's search for NaN and infinity: in X itself, or in the first layer's product.

    python bench/predict_check.py [--rounds 21]

On 10,000 MNIST-shaped float32 rows, ``Network.forward`` (which looks in Z = X Wᵀ + b
when the first layer is narrower than X) against the same forward on an X checked
first (``check_inputs``, then ``forward_checked``), the two in turns; the fastest call of
each, for 784-256-10, 784-64-10 and 784-1024-10 (where Z is the larger, and X is checked
itself), NumPy's passes and the compiled ones.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(_ROOT / "src"))
    import numpy as np

    import backprop as bp
    from backprop.validation import check_inputs

    X = np.random.default_rng(0).random((10_000, 784), dtype=np.float32)
    print("| network | compiled | X checked, ms | Z checked, ms | Z ÷ X |\n|---|---|---|---|---|")
    for hidden in (256, 64, 1024):
        for compiled in (False, True):
            net = bp.Network([bp.Dense(784, hidden, activation="relu"),
                              bp.Dense(hidden, 10, activation="softmax")],
                             loss="cross_entropy", seed=0, compiled=compiled)
            net.forward(X[:10])  # the compiled passes loaded
            seconds: dict[str, list[float]] = {"X": [], "Z": []}
            for turn in range(args.rounds):
                for where in (("X", "Z") if turn % 2 == 0 else ("Z", "X")):
                    started = time.perf_counter()
                    if where == "X":
                        net.forward_checked(check_inputs(X, 784, np.dtype(np.float32)))
                    else:
                        net.forward(X)
                    seconds[where].append(time.perf_counter() - started)
            on_x, on_z = (min(seconds[k]) * 1e3 for k in ("X", "Z"))
            print(f"| 784-{hidden}-10 | {compiled} | {on_x:.2f} | {on_z:.2f} | {on_z / on_x:.3f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
