"""/playground's setup as a runnable Python script that repeats the run with this library.

The script builds the same data (the same generator call and seed, or the points
themselves when they were edited or imported), the same network and optimizer, and
takes the same steps in the same order (a permutation from ``net.rng`` per pass,
``net.backprop``, Δθ from the optimizer, θ ← θ − Δθ, the weight edits at the steps
they were made); it prints the test loss after each requested number of steps.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

import numpy as np

from backprop.lab.playground.data import GENERATORS
from backprop.lab.playground.model import MOMENTUM, network_spec, optimizer_spec
from backprop.lab.playground.run import Run
from backprop.spec import NetworkSpec

FEATURE_CODE = {
    "x1": "P[:, 0]", "x2": "P[:, 1]", "x1^2": "P[:, 0] ** 2", "x2^2": "P[:, 1] ** 2",
    "x1*x2": "P[:, 0] * P[:, 1]", "sin(x1)": "np.sin(P[:, 0])", "sin(x2)": "np.sin(P[:, 1])",
}


def _array(values: np.ndarray) -> str:
    return "np.array(" + repr(values.tolist()) + ")"


def _data_code(run: Run) -> list[str]:
    setup, data = run.setup, run.data
    if data.custom or data.task == "regression":
        dtype = "np.int64" if data.task == "classification" else "np.float64"
        return [
            "# the points as they were in the playground (x1, x2) and their targets",
            f"P_train = {_array(data.X_train)}",
            f"y_train = np.array({data.y_train.tolist()!r}, dtype={dtype})",
            f"P_test = {_array(data.X_test)}",
            f"y_test = np.array({data.y_test.tolist()!r}, dtype={dtype})",
        ]
    make, options = GENERATORS[setup.dataset]
    extra = "".join(f", {key}={value!r}" for key, value in options.items())
    return [
        f"data = datasets.{make.__name__}({setup.size}, {setup.noise!r}, {setup.seed}, "
        f"test_fraction={setup.test_ratio!r}{extra})",
        "P_train, y_train = data.X_train.astype(np.float64), data.y_train",
        "P_test, y_test = data.X_test.astype(np.float64), data.y_test",
    ]


def _keywords(config: dict[str, object], spec_class: type[NetworkSpec] | None = None) -> str:
    """``key=value, ...``; given the spec's class, without the fields at their defaults."""
    defaults = {} if spec_class is None else {
        f.name: f.default for f in fields(spec_class) if f.default is not MISSING}
    return ", ".join(f"{key}={value!r}" for key, value in config.items()
                     if key not in defaults or value not in (defaults[key], []))


def _network_code(run: Run) -> list[str]:
    network = network_spec(run.setup, run.data.n_classes)
    optimizer = optimizer_spec(run.setup)
    shown = {"momentum": f"  # momentum: μ = {MOMENTUM}",
             "nesterov": f"  # nesterov: Nesterov momentum, μ = {MOMENTUM}"}
    return [
        f"net = bp.build_network(bp.NetworkSpec({_keywords(network.config(), NetworkSpec)}))",
        f"optimizer = bp.build_optimizer(bp.OptimizerSpec({_keywords(optimizer.config())}))"
        + shown.get(run.setup.optimizer, ""),
    ]


def python_script(run: Run, steps: list[int] | None = None) -> str:
    """The script; it prints ``step N test loss L`` after each step count in ``steps``
    (by default the run's current step count)."""
    setup = run.setup
    checkpoints = sorted(set(steps if steps is not None else [run.steps])) or [0]
    features = ", ".join(FEATURE_CODE[name] for name in setup.features)
    edits: dict[int, list[tuple[int, int, int, float]]] = {}
    for step, layer, row, col, value in run.edits:
        edits.setdefault(step, []).append((layer, row, col, value))
    batch = "len(y_train)" if setup.batch_size == 0 else f"min({setup.batch_size}, len(y_train))"
    lines: list[Any] = [
        '"""A /playground run, repeated with backprop: the same data, network, optimizer',
        'and batch order; prints the test loss after the same number of steps."""',
        "import numpy as np",
        "",
        "import backprop as bp",
        "from backprop import datasets",
        "",
        *_data_code(run),
        "",
        "def features(P):",
        '    """The chosen input features of raw points (x1, x2)."""',
        f"    return np.column_stack([{features}])",
        "",
        *_network_code(run),
        "X = net.check_inputs(features(P_train))",
        "Y, _ = net.prepare_targets(y_train, len(y_train))",
        "X_test = net.check_inputs(features(P_test))",
        "Y_test, labels_test = net.prepare_targets(y_test, len(y_test))",
        "",
        f"edits = {edits!r}  # step: [(dense layer, row, col (n_in = bias), value)]",
        "dense = [layer for layer in net.layers if isinstance(layer, bp.Dense)]",
        "",
        "def apply_edits(step):",
        "    for layer, row, col, value in edits.get(step, []):",
        "        if col == dense[layer].n_in:",
        "            dense[layer].b[row] = value",
        "        else:",
        "            dense[layer].W[row, col] = value",
        "",
        f"checkpoints = {checkpoints!r}",
        "batches = []",
        "step = 0",
        "apply_edits(0)",
        "while True:",
        "    if step in checkpoints:",
        "        loss = net.metrics(X_test, Y_test, labels_test)['loss']",
        "        print(f'step {step} test loss {loss!r}')",
        "    if step >= checkpoints[-1]:",
        "        break",
        "    if not batches:  # a new pass: a permutation from the network's generator",
        "        order = net.rng.permutation(len(y_train))",
        f"        size = {batch}",
        "        batches = [order[i:i + size] for i in range(0, len(order), size)]",
        "    rows = batches.pop(0)",
        "    net.backprop(X[rows], Y[rows])  # fills net.grads with ∂L/∂θ of the batch",
        *([f"    net.grads += {setup.l1!r} * np.sign(net.params)  # L1: λ₁·sign(θ)"]
          if setup.l1 else []),
        "    net.params -= optimizer.update(net.params, net.grads)  # θ ← θ − Δθ",
        "    step += 1",
        "    apply_edits(step)",
    ]
    return "\n".join(lines) + "\n"
