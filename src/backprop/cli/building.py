"""The network, optimizer and schedule that train's options describe (train and diagnose)."""

from __future__ import annotations

import itertools
from typing import Any

from backprop.cli.common import error_line
from backprop.datasets import Dataset
from backprop.errors import OptionError
from backprop.network import Network


def build_network(o: dict[str, Any], data: Dataset) -> Network:
    """The network the options ``o`` describe, its input and output widths fitted to ``data``."""
    from backprop.nn.activation_layer import ActivationLayer
    from backprop.nn.batchnorm import BatchNorm
    from backprop.nn.dropout import Dropout
    from backprop.nn.layers import Dense, Layer

    classification = data.task == "classification"
    output = o["output_activation"]
    if output == "auto":
        output = "softmax" if classification else "linear"
    loss = o["loss"]
    if loss == "auto":
        loss = "cross_entropy" if classification else "mse"
    if output == "sigmoid" and loss == "binary_cross_entropy" and classification:
        # one sigmoid unit for two classes; one per class for more (one-vs-rest, the labels
        # as one-hot rows; the predicted class is the unit with the largest output)
        n_out = 1 if data.n_classes == 2 else data.n_outputs
    else:
        n_out = data.n_outputs
    widths = [data.n_features, *o["layers"]]
    train_bias = not o.get("freeze_biases", False)
    layers: list[Layer] = []
    for n_in, n_out_hidden in itertools.pairwise(widths):
        if o.get("batch_norm", False):
            # as the batch-norm paper places it: z = W a (β takes the bias's place), then
            # normalize, then σ
            layers.extend([Dense(n_in, n_out_hidden, activation=None, bias=False),
                           BatchNorm(n_out_hidden),
                           ActivationLayer(n_out_hidden, o["activation"])])
        else:
            layers.append(Dense(n_in, n_out_hidden, activation=o["activation"],
                                train_bias=train_bias))
        if o["dropout"] > 0:
            layers.append(Dropout(n_out_hidden, rate=o["dropout"]))
    layers.append(Dense(widths[-1], n_out, activation=output, train_bias=train_bias))
    compiled = bool(o.get("compiled", False))
    if compiled:
        from backprop.jit import require_numba

        require_numba("--compiled")
    return Network(layers, loss=loss, init=o["init"], seed=o["seed"], dtype=o["dtype"],
                   compiled=compiled)


def network_widths(hidden: list[int], inputs: int | None, outputs: int | None,
                   data_inputs: int | None, data_outputs: int | None,
                   defaults: tuple[int, int] | None = None) -> list[int]:
    """[n_in, *hidden, n_out]: --layers is the hidden widths in every subcommand; the input
    and output widths come from --inputs/--outputs, else from the data (``data_inputs``,
    ``data_outputs``; None where the data does not say), else from ``defaults``.

    The old form, input and output widths included ("2,3,1"), is still read for one
    release, with a deprecation line: a list of two or more widths, without --inputs or
    --outputs, whose ends are the data's widths.
    """
    shown = ",".join(map(str, hidden))
    old_form = (inputs is None and outputs is None and len(hidden) >= 2
                and data_inputs in (None, hidden[0]) and data_outputs in (None, hidden[-1]))
    if old_form:
        middle = ",".join(map(str, hidden[1:-1]))
        new = (f"--inputs {hidden[0]} --layers {middle} --outputs {hidden[-1]}" if middle
               else f"--inputs {hidden[0]} --outputs {hidden[-1]} (no hidden layer)")
        error_line(f"deprecated: --layers {shown} includes the input and output widths; "
                   f"--layers is the hidden widths: write {new}")
        return list(hidden)
    fallback_in, fallback_out = defaults if defaults is not None else (None, None)
    n_in = next((n for n in (inputs, data_inputs, fallback_in) if n is not None), None)
    n_out = next((n for n in (outputs, data_outputs, fallback_out) if n is not None), None)
    if n_in is None or n_out is None:
        missing = "--inputs" if n_in is None else "--outputs"
        raise OptionError(f"--layers {shown} gives the hidden widths; give {missing} too")
    return [n_in, *hidden, n_out]


def build_optimizer(o: dict[str, Any]) -> Any:
    """The optimizer --optimizer names, with --lr, --momentum and --weight-decay."""
    from backprop.optim.rules import get_optimizer

    name = o["optimizer"]
    options: dict[str, Any] = {"lr": o["lr"]}
    if name == "momentum":
        name = "sgd"
        options["momentum"] = o["momentum"] or 0.9
    elif name == "sgd":
        options["momentum"] = o["momentum"]
    elif o["momentum"]:
        raise OptionError(f"--momentum applies to sgd and momentum, not {name}")
    if o["weight_decay"] is not None:
        options["weight_decay"] = o["weight_decay"]
    optimizer = get_optimizer(name, **options)
    if o.get("compiled_step"):
        from backprop.jit import require_numba

        require_numba("--compiled-step")
        optimizer.compiled_step = True
    return optimizer


def build_schedule(o: dict[str, Any]) -> Any:
    """The learning-rate schedule of --schedule (None: constant), after --warmup epochs."""
    from backprop.optim import schedules as s

    base: Any
    if o["schedule"] == "constant":
        base = None
    elif o["schedule"] == "step":
        base = s.StepDecay(o["step_size"], gamma=o["gamma"] if o["gamma"] is not None else 0.1)
    elif o["schedule"] == "exponential":
        base = s.ExponentialDecay(o["gamma"] if o["gamma"] is not None else 0.95)
    else:
        base = s.CosineAnnealing(max(1, o["epochs"] - o["warmup"]), eta_min=o["eta_min"])
    if o["warmup"]:
        return s.LinearWarmup(o["warmup"], after=base)
    return base
