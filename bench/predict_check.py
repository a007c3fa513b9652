"""predict's search for NaN and infinity: in X itself, or in the first layer's product.

    python bench/predict_check.py [--rounds 21] [--labels]

On 10,000 MNIST-shaped float32 rows, ``Network.forward`` (which looks in Z = X Wᵀ + b
when the first layer is narrower than X) against the same forward on an X checked
first (``check_inputs``, then ``forward_checked``), the two in turns; the fastest call of
each, for 784-256-10, 784-64-10 and 784-1024-10 (where Z is the larger, and X is checked
itself), NumPy's passes and the compiled ones.

``--labels``: a classifier's ``predict`` (its labels from the logits z^[L], softmax not
computed) against the labels of ``forward`` (a^[L] through softmax, then the argmax), the
two in turns, the same networks and 784-256-256-256-10.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--labels", action="store_true",
                        help="instead: predict's labels from the logits against through softmax")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(_ROOT / "src"))
    if args.labels:
        return labels(args.rounds)
    import numpy as np

    from backprop.validation import check_inputs

    X = np.random.default_rng(0).random((10_000, 784), dtype=np.float32)
    print("| network | compiled | X checked, ms | Z checked, ms | Z ÷ X |\n|---|---|---|---|---|")
    for hidden in (256, 64, 1024):
        for compiled in (False, True):
            net = relu_softmax((784, hidden, 10), compiled)
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


def relu_softmax(widths: tuple[int, ...], compiled: bool) -> Any:
    """ReLU hidden layers, a softmax output, under cross-entropy (seed 0)."""
    import backprop as bp

    return bp.Network(
        [bp.Dense(n_in, n_out, activation="relu")
         for n_in, n_out in itertools.pairwise(widths[:-1])]
        + [bp.Dense(widths[-2], widths[-1], activation="softmax")],
        loss="cross_entropy", seed=0, compiled=compiled)


def labels(rounds: int) -> int:
    """The ``--labels`` table: the fastest of ``rounds`` calls of each way, in turns."""
    import numpy as np

    X = np.random.default_rng(0).random((10_000, 784), dtype=np.float32)
    print("| network | compiled | through softmax, ms | from the logits, ms | ratio |\n"
          "|---|---|---|---|---|")
    for hidden in ((256,), (64,), (1024,), (256, 256, 256)):
        widths = (784, *hidden, 10)
        for compiled in (False, True):
            net = relu_softmax(widths, compiled)
            ways = {"softmax": lambda net=net: net.labels_of(net.forward(X)),
                    "logits": lambda net=net: net.predict(X)}
            if not np.array_equal(ways["softmax"](), ways["logits"]()):
                raise AssertionError(f"the two ways label {widths} differently")
            seconds: dict[str, list[float]] = {"softmax": [], "logits": []}
            for turn in range(rounds):
                for way in (("softmax", "logits") if turn % 2 == 0 else ("logits", "softmax")):
                    started = time.perf_counter()
                    ways[way]()
                    seconds[way].append(time.perf_counter() - started)
            through, direct = (min(seconds[k]) * 1e3 for k in ("softmax", "logits"))
            print(f"| {'-'.join(map(str, widths))} | {compiled} | {through:.2f} | {direct:.2f} "
                  f"| {direct / through:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
