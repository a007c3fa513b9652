"""/playground's network and optimizer, built from a setup by the library's own classes.

Hidden layers are Dense(units, activation) (each followed by Dropout when the
rate is above 0); the output layer and loss follow the task: one sigmoid unit
with binary cross-entropy (or ½ squared error) for two classes, softmax units
with cross-entropy for three, one linear unit with ½ squared error for the
regression surface. Networks are float64 and seeded by the setup's seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backprop import SGD, Dense, Dropout, Network
from backprop.lab.playground.protocol import MAX_HIDDEN_LAYERS, MAX_HIDDEN_UNITS, Setup
from backprop.lab.protocol import FieldError
from backprop.nn.layers import Layer
from backprop.optim.rules import OPTIMIZERS, Optimizer

#: μ of the momentum and Nesterov choices.
MOMENTUM = 0.9


def output_head(setup: Setup, n_classes: int) -> tuple[int, str, str]:
    """(units, output activation, loss name) for the task, or a FieldError naming ``loss``."""
    if setup.dataset == "regression":
        if setup.loss not in ("auto", "mse"):
            raise FieldError("loss", f"the regression surface is fitted with mse, not {setup.loss}")
        return 1, "linear", "mse"
    if n_classes > 2:
        if setup.loss not in ("auto", "cross_entropy"):
            raise FieldError("loss", f"three classes need cross_entropy (softmax), "
                             f"not {setup.loss}")
        return n_classes, "softmax", "cross_entropy"
    if setup.loss == "cross_entropy":
        raise FieldError("loss", "two classes use one sigmoid unit: choose "
                         "binary_cross_entropy or mse")
    return 1, "sigmoid", "binary_cross_entropy" if setup.loss == "auto" else setup.loss


def build_network(setup: Setup, n_classes: int, n_inputs: int | None = None) -> Network:
    """The setup's network with fresh weights from its seed and initialization; it takes the
    chosen features, or ``n_inputs`` columns of one's own data."""
    units, activation, loss = output_head(setup, n_classes)
    layers: list[Layer] = []
    width = len(setup.features) if n_inputs is None else n_inputs
    for size in setup.layers:
        layers.append(Dense(width, size, activation=setup.activation))
        if setup.dropout > 0:
            layers.append(Dropout(size, rate=setup.dropout))
        width = size
    layers.append(Dense(width, units, activation=activation))
    return Network(layers, loss=loss, init=setup.init, seed=setup.seed, dtype="float64")


def optimizer_options(setup: Setup) -> tuple[type[Optimizer], dict[str, Any]]:
    """The optimizer class and its keyword arguments (L2 rate as coupled weight decay)."""
    decay = {"weight_decay": setup.l2} if setup.l2 else {}
    if setup.optimizer == "sgd":
        return SGD, {"lr": setup.lr, **decay}
    if setup.optimizer == "momentum":
        return SGD, {"lr": setup.lr, "momentum": MOMENTUM, **decay}
    if setup.optimizer == "nesterov":
        return SGD, {"lr": setup.lr, "momentum": MOMENTUM, "nesterov": True, **decay}
    return OPTIMIZERS[setup.optimizer], {"lr": setup.lr, **decay}


def build_optimizer(setup: Setup) -> Optimizer:
    kind, options = optimizer_options(setup)
    return kind(**options)


def dense_layers(net: Network) -> list[Dense]:
    return [layer for layer in net.layers if isinstance(layer, Dense)]


def probe_of(net: Network) -> Network:
    """A copy without Dropout layers, for drawing and measuring: the same flat parameters
    (Dropout has none), so ``probe.params[...] = net.params`` shows the network as it is,
    and the probe's passes never draw from the trained network's random generator."""
    layers = [Dense(layer.n_in, layer.n_out, activation=layer.activation, bias=layer.bias)
              for layer in dense_layers(net)]
    probe = Network(layers, loss=net.loss, dtype="float64", seed=0)
    probe.params[...] = net.params
    return probe


def check_drawable(net: Network, n_features: int) -> None:
    """Refuse a loaded model the playground cannot draw or feed, naming what is wrong."""
    dense = dense_layers(net)
    if any(not isinstance(layer, Dense | Dropout) for layer in net.layers):
        raise FieldError("data", "the playground draws Dense and Dropout layers only")
    if net.n_inputs != n_features:
        raise FieldError("data", f"the model takes {net.n_inputs} inputs; the playground feeds "
                         f"{n_features} (x1, x2 and the chosen features)")
    if len(dense) - 1 > MAX_HIDDEN_LAYERS or any(
            layer.n_out > MAX_HIDDEN_UNITS for layer in dense[:-1]):
        raise FieldError("data", f"the playground draws at most {MAX_HIDDEN_LAYERS} hidden "
                         f"layers of {MAX_HIDDEN_UNITS} units")
    if any(not layer.bias for layer in dense):
        raise FieldError("data", "the playground draws layers with biases only")


def gradient_norms(net: Network) -> list[float]:
    """‖(∂L/∂W, ∂L/∂b)‖ per Dense layer, of the gradient now in ``net.grads``."""
    norms = []
    for layer in dense_layers(net):
        with np.errstate(all="ignore"):
            squares = float(np.sum(layer.dW ** 2))
            if layer.db is not None:
                squares += float(np.sum(layer.db ** 2))
        norms.append(math.sqrt(squares) if math.isfinite(squares) else math.nan)
    return norms
