"""/playground's network and optimizer: the setup in the library's words (a
:class:`~backprop.NetworkSpec` and an :class:`~backprop.OptimizerSpec`), built by
:mod:`backprop.spec`.

Hidden layers are Dense(units, activation), each with its own activation (each
followed by Dropout when the rate is above 0); the output layer and loss follow the
task: one sigmoid unit with binary cross-entropy (or ½ squared error) for two classes,
softmax units with cross-entropy for three, one linear unit with ½ squared error for a
regression set. Networks are float64 and seeded by the setup's seed.
"""

from __future__ import annotations

import math

import numpy as np

from backprop import Dense, Dropout, Network, spec
from backprop.lab.playground.protocol import (
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_UNITS,
    REGRESSION_SETS,
    Setup,
)
from backprop.lab.protocol import FieldError
from backprop.optim.base import Optimizer
from backprop.spec import NetworkSpec, OptimizerSpec

#: μ of the momentum and Nesterov choices.
MOMENTUM = 0.9


def output_head(setup: Setup, n_classes: int) -> tuple[int, str, str]:
    """(units, output activation, loss name) for the task, or a FieldError naming ``loss``."""
    if setup.dataset in REGRESSION_SETS:
        if setup.loss not in ("auto", "mse"):
            raise FieldError("loss", f"a regression set is fitted with mse, not {setup.loss}")
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


def network_spec(setup: Setup, n_classes: int, n_inputs: int | None = None) -> NetworkSpec:
    """The setup's network: its hidden layers, the output head of the task, float64; it takes
    the chosen features, or ``n_inputs`` columns of one's own data."""
    units, activation, loss = output_head(setup, n_classes)
    width = len(setup.features) if n_inputs is None else n_inputs
    return NetworkSpec(n_inputs=width, n_outputs=units,
                       hidden=tuple(setup.layers), activation=tuple(setup.hidden_activations()),
                       output_activation=activation, loss=loss, dropout=setup.dropout,
                       init=setup.init, seed=setup.seed, dtype="float64")


def build_network(setup: Setup, n_classes: int, n_inputs: int | None = None) -> Network:
    """The setup's network with fresh weights from its seed and initialization."""
    return spec.build_network(network_spec(setup, n_classes, n_inputs))


def optimizer_spec(setup: Setup) -> OptimizerSpec:
    """The setup's optimizer: momentum and nesterov are sgd with μ = :data:`MOMENTUM`;
    the L2 rate is the optimizer's weight decay (adamw's decoupled, the others' coupled)."""
    word = setup.optimizer
    if word in ("momentum", "nesterov"):
        return OptimizerSpec("sgd", lr=setup.lr, momentum=MOMENTUM,
                             nesterov=word == "nesterov" or None, weight_decay=setup.l2)
    return OptimizerSpec(word, lr=setup.lr, weight_decay=setup.l2)


def build_optimizer(setup: Setup) -> Optimizer:
    return spec.build_optimizer(optimizer_spec(setup))


def dense_layers(net: Network) -> list[Dense]:
    return [layer for layer in net.layers if isinstance(layer, Dense)]


def probe_of(net: Network) -> Network:
    """A copy without Dropout layers, for drawing and measuring: the same flat parameters
    (Dropout has none), so ``probe.params[...] = net.params`` shows the network as it is,
    and the probe's passes never draw from the trained network's random generator."""
    dense = dense_layers(net)
    probe = spec.build_network(NetworkSpec(
        n_inputs=net.n_inputs, n_outputs=net.n_outputs,
        hidden=tuple(layer.n_out for layer in dense[:-1]),
        activation=tuple(layer.activation for layer in dense[:-1]),
        output_activation=dense[-1].activation, loss=net.loss,
        bias=all(layer.bias for layer in dense), dtype="float64", seed=0))
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
