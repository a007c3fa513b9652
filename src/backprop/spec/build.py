"""The one builder: the layers, the Network and the Optimizer a spec describes, and back."""

from __future__ import annotations

from typing import cast

from backprop.errors import OptionError
from backprop.network import Network
from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense, Layer
from backprop.nn.losses import Loss, get_loss, loss_names
from backprop.optim.base import Optimizer
from backprop.optim.rules import OPTIMIZERS
from backprop.spec.network import NetworkSpec
from backprop.spec.optimizer import OptimizerSpec


def network_layers(spec: NetworkSpec) -> list[Layer]:
    """The layers ``spec`` describes, input side first (see :mod:`backprop.spec`)."""
    layers: list[Layer] = []
    n_in = spec.n_inputs
    for width, sigma in zip(spec.hidden, spec.hidden_activations, strict=True):
        if spec.batch_norm:
            # z = W a (no bias: β takes its place), normalized, then σ (Ioffe & Szegedy)
            layers += [Dense(n_in, width, activation=None, bias=False),
                       BatchNorm(width), ActivationLayer(width, sigma)]
        else:
            layers.append(Dense(n_in, width, activation=sigma, bias=spec.bias,
                                train_bias=spec.train_bias))
        if spec.dropout > 0:
            layers.append(Dropout(width, rate=spec.dropout))
        n_in = width
    layers.append(Dense(n_in, spec.n_outputs, activation=spec.output, bias=spec.bias,
                        train_bias=spec.train_bias))
    return layers


def build_network(spec: NetworkSpec) -> Network:
    """The :class:`~backprop.Network` ``spec`` describes, with fresh weights from its seed."""
    return Network(network_layers(spec), loss=spec.loss, init=spec.init, seed=spec.seed,
                   dtype=spec.dtype, compiled=spec.compiled)


def build_optimizer(spec: OptimizerSpec) -> Optimizer:
    """The :class:`~backprop.Optimizer` ``spec`` describes (fresh state)."""
    optimizer = OPTIMIZERS[spec.name](**spec.hyperparameters())
    if spec.compiled_step:
        from backprop.jit import require_numba

        require_numba("compiled_step")
        optimizer.compiled_step = True
    return optimizer


def network_spec_of(net: Network) -> NetworkSpec:
    """The spec :func:`build_network` would make ``net`` from (its shape, not its weights).

    An OptionError says so for a network the builder does not make (for example
    BatchNorm after σ, or layers of another kind).
    """
    layers, hidden, activations = list(net.layers), [], []
    batch_norm: set[bool] = set()
    dropout: set[float] = set()
    bias: set[bool] = set()
    train_bias: set[bool] = set()
    i = 0

    def unlike(why: str) -> OptionError:
        return OptionError(f"this network is not one the builder makes: {why}")

    while i < len(layers) - 1:
        dense = layers[i]
        if not isinstance(dense, Dense):
            raise unlike(f"layer {i + 1} is a {type(dense).__name__} where a Dense belongs")
        normed = (i + 2 < len(layers) - 1 and isinstance(layers[i + 1], BatchNorm)
                  and isinstance(layers[i + 2], ActivationLayer))
        if normed:
            if dense.bias or dense.activation.name != "linear":
                raise unlike(f"layer {i + 1} before a BatchNorm has a bias or an activation")
            activations.append(cast(ActivationLayer, layers[i + 2]).activation)
            i += 3
        else:
            activations.append(dense.activation)
            bias.add(dense.bias)
            train_bias.add(dense.train_bias)
            i += 1
        batch_norm.add(normed)
        hidden.append(dense.n_out)
        rate = 0.0
        if i < len(layers) - 1 and isinstance(layers[i], Dropout):
            rate = cast(Dropout, layers[i]).rate
            i += 1
        dropout.add(rate)
    output = layers[-1]
    assert isinstance(output, Dense)  # Network holds it
    bias.add(output.bias)
    train_bias.add(output.train_bias)
    for name, values in (("batch norm", batch_norm), ("dropout", dropout), ("bias", bias),
                         ("train_bias", train_bias)):
        if len(values) > 1:
            raise unlike(f"its layers differ in {name}")
    loss: str | Loss = net.loss
    if net.loss.name in loss_names() and type(get_loss(net.loss.name)) is type(net.loss):
        loss = net.loss.name
    return NetworkSpec(
        n_inputs=net.n_inputs, n_outputs=net.n_outputs, hidden=tuple(hidden),
        activation=tuple(activations), output_activation=output.activation, loss=loss,
        bias=bias.pop(), train_bias=train_bias.pop(),
        batch_norm=batch_norm.pop() if batch_norm else False,
        dropout=dropout.pop() if dropout else 0.0, init=net.init, seed=net.seed,
        dtype=net.dtype.name)
