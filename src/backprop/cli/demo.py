"""``backprop demo``: train two small networks on toy problems and print what happened."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop.cli.option_table import SEED
from backprop.cli.options import Options, add_command, option


@dataclass(frozen=True, kw_only=True)
class DemoOptions(Options):
    seed: int = option(SEED, help="random seed")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand to an argparse subparsers object."""
    return add_command(subparsers, "demo", DemoOptions, run,
                       help="train small networks on toy problems and report")


def run(o: DemoOptions) -> int:
    """Train an XOR network and a line, printing what happened."""
    from backprop import NetworkSpec, build_network, gradcheck

    print("XOR with a 2-4-1 network (tanh hidden, sigmoid output, binary cross-entropy)")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    net = build_network(NetworkSpec(n_inputs=2, n_outputs=1, hidden=(4,), activation="tanh",
                                    output_activation="sigmoid", loss="binary_cross_entropy",
                                    seed=o.seed))
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
    rng = np.random.default_rng(o.seed)
    x_line = rng.uniform(-1.0, 1.0, size=(256, 1))
    y_line = 2.0 * x_line[:, 0] - 1.0 + rng.normal(0.0, 0.1, size=256)
    line = build_network(NetworkSpec(n_inputs=1, n_outputs=1, loss="mse", seed=o.seed))
    line_history = line.fit(x_line, y_line, epochs=100, batch_size=16, lr=0.1)
    unit = line.output_layer
    assert unit.b is not None
    print(f"  loss {line_history['loss'][0]:.4f} → {line_history['loss'][-1]:.4f}; "
          f"learned slope {unit.W[0, 0]:.3f}, intercept {unit.b[0]:.3f}")
    return 0
