"""``bp.from_torch(module)``: a Network from an ``nn.Sequential`` (mapping: :mod:`.to_torch`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop.errors import OptionError, OptionTypeError
from backprop.export.to_torch import torch_module
from backprop.network import Network
from backprop.nn.activations import Activation, get_activation
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense, Layer

SUPPORTED = "Linear, BatchNorm1d, Dropout, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax(dim=1), Identity"
#: The loss a network gets from its last activation when none is given.
DEFAULT_LOSS = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}


def _array(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.detach().cpu().numpy())


def _activation_of(module: Any, nn: Any, where: str) -> Activation | None:
    """The library's activation for an activation module; None when it is not one."""
    simple = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: "linear"}
    for kind, name in simple.items():
        if isinstance(module, kind):
            return get_activation(name)
    if isinstance(module, nn.LeakyReLU):
        return get_activation({"name": "leaky_relu", "slope": float(module.negative_slope)})
    if isinstance(module, nn.Softmax):
        if module.dim not in (1, -1):
            raise OptionError(f"{where}: Softmax(dim={module.dim}) must act over dim=1 (features)")
        return get_activation("softmax")
    return None


def from_torch(module: Any, loss: str | None = None, dtype: Any = None) -> Network:
    """A Network with the layers and weights of ``module``, an ``nn.Sequential``.

    Arguments:
        module: an ``nn.Sequential`` of the modules in this module's table.
        loss: the network's loss; by default from the last activation:
            softmax → "cross_entropy", sigmoid → "binary_cross_entropy", else "mse".
        dtype: "float32" or "float64"; by default the module's parameters' dtype.

    Raises:
        ValueError: naming the first module (its position and class) that
            has no counterpart here.
    """
    torch = torch_module()
    nn = torch.nn
    if not isinstance(module, nn.Sequential):
        raise OptionTypeError(f"from_torch takes an nn.Sequential, got {type(module).__name__}")
    layers: list[Layer] = []
    sources: list[Any] = []  # the torch module each layer copies its arrays from
    last_can_take_activation = False
    for position, child in enumerate(module):
        where = f"module {position} ({type(child).__name__})"
        activation = _activation_of(child, nn, where)
        if activation is not None:
            if not last_can_take_activation:
                raise OptionError(
                    f"{where}: an activation must directly follow a Linear module "
                    "(a Dense layer carries its own activation)"
                )
            dense = layers[-1]
            assert isinstance(dense, Dense)
            layers[-1] = Dense(dense.n_in, dense.n_out, activation, bias=dense.bias)
            last_can_take_activation = False
            continue
        if isinstance(child, nn.Linear):
            layers.append(Dense(child.in_features, child.out_features, bias=child.bias is not None))
            last_can_take_activation = True
        elif isinstance(child, nn.BatchNorm1d):
            if not child.track_running_stats or child.running_mean is None:
                raise OptionError(f"{where}: BatchNorm1d needs track_running_stats=True")
            if child.momentum is None:
                raise OptionError(f"{where}: BatchNorm1d with momentum=None is not supported")
            layers.append(BatchNorm(child.num_features, momentum=child.momentum, eps=child.eps))
            last_can_take_activation = False
        elif isinstance(child, nn.Dropout):
            if not layers:
                raise OptionError(f"{where}: Dropout cannot be the first module here")
            layers.append(Dropout(layers[-1].n_out, rate=float(child.p)))
            last_can_take_activation = False
        else:
            raise OptionError(f"{where} is not supported; supported: {SUPPORTED}")
        sources.append(child)
    if not layers or not isinstance(layers[-1], Dense):
        raise OptionError("the last layer must be a Linear module (with its activation)")
    if loss is None:
        loss = DEFAULT_LOSS.get(layers[-1].activation.name, "mse")
    if dtype is None:
        parameters = list(module.parameters())
        dtype = str(parameters[0].dtype).removeprefix("torch.") if parameters else "float32"
    net = Network(layers, loss=loss, dtype=dtype)
    for layer, source in zip(net.layers, sources, strict=True):
        if isinstance(layer, Dense):
            layer.W = _array(source.weight)  # both (n_out, n_in)
            if source.bias is not None:
                layer.b = _array(source.bias)
        elif isinstance(layer, BatchNorm):
            if source.affine:
                layer.gamma, layer.beta = _array(source.weight), _array(source.bias)
            layer.load_state_arrays({"running_mean": _array(source.running_mean),
                                     "running_var": _array(source.running_var)})
    return net


