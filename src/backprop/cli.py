"""The ``backprop`` command.

Every user mistake (a bad name, file, shape or value) ends in a one-line
message on stderr and exit status 2, without a traceback; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

import numpy as np

from . import __version__
from .commands import (
    bench,
    datasets,
    diagnose,
    evaluate,
    explain,
    export,
    gradcheck,
    predict,
    sweep,
    train,
)
from .errors import DataError, DivergenceError, ModelFileError

#: Exceptions that mean "the user asked for something that cannot be done".
USER_ERRORS: tuple[type[BaseException], ...] = (
    DataError,
    ModelFileError,
    DivergenceError,
    ValueError,
    TypeError,
    FileNotFoundError,
    PermissionError,
)


def _demo(args: argparse.Namespace) -> int:
    """Train two small networks on toy problems and print what happened."""
    from . import Dense, Network, gradcheck

    print("XOR with a 2-4-1 network (tanh hidden, sigmoid output, binary cross-entropy)")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    net = Network(
        [Dense(2, 4, activation="tanh"), Dense(4, 1, activation="sigmoid")],
        loss="binary_cross_entropy",
        seed=args.seed,
    )
    report = gradcheck(net, X, y)
    print(f"  gradient check before training: {'PASS' if report else 'FAIL'} "
          f"(relative error {report.relative_error:.1e})")
    history = net.fit(X, y, epochs=1000, batch_size=None, lr=0.5)
    for epoch in (1, 10, 100, 1000):
        print(f"  epoch {epoch:>4}: loss {history['loss'][epoch - 1]:.4f}  "
              f"accuracy {history['accuracy'][epoch - 1]:.2f}")
    outputs = net.forward(X)[:, 0]
    for x, target, out in zip(X, y, outputs, strict=True):
        print(f"  x = {x.astype(int).tolist()}  target {target}  output {out:.3f}")

    print("\nNoisy line y = 2x − 1 with one linear unit (mse, mini-batches of 16)")
    rng = np.random.default_rng(args.seed)
    x_line = rng.uniform(-1.0, 1.0, size=(256, 1))
    y_line = 2.0 * x_line[:, 0] - 1.0 + rng.normal(0.0, 0.1, size=256)
    line = Network([Dense(1, 1)], loss="mse", seed=args.seed)
    line_history = line.fit(x_line, y_line, epochs=100, batch_size=16, lr=0.1)
    unit = line.output_layer
    assert unit.b is not None
    print(f"  loss {line_history['loss'][0]:.4f} → {line_history['loss'][-1]:.4f}; "
          f"learned slope {unit.W[0, 0]:.3f}, intercept {unit.b[0]:.3f}")
    return 0


Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``backprop: error: ...`` and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"backprop: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="backprop",
        description="Train multi-layer perceptrons by backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"backprop {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="train small networks on toy problems and report")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(run=_demo)
    explain.add_parser(commands)
    train.add_parser(commands)
    diagnose.add_parser(commands)
    evaluate.add_parser(commands)
    predict.add_parser(commands)
    datasets.add_parser(commands)
    bench.add_parser(commands)
    gradcheck.add_parser(commands)
    sweep.add_parser(commands)
    export.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["bench"] and words[1:2] != ["-h"]:
        # bench/run.py parses its own options; hand them over untouched
        args = parser.parse_args(["bench"])
        args.bench_args = words[1:]
    else:
        args = parser.parse_args(words)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 0
    try:
        return run(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"backprop: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("backprop: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
