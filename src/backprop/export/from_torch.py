"""``bp.from_torch(module)``: a Network from an ``nn.Sequential`` (mapping: :mod:`.to_torch`).

Each module is offered to the registered layer kinds in turn
(``Layer.from_torch``); σ as a layer recognises every module a registered
activation recognises (``Activation.from_torch``). A layer that follows one
it can merge into becomes part of it (``Layer.merge_into``): PyTorch's
Linear then ReLU is one ``Dense(..., "relu")`` here.
"""

from __future__ import annotations

from typing import Any

from backprop.errors import OptionError, OptionTypeError
from backprop.export.to_torch import torch_module
from backprop.network import Network
from backprop.nn.activations import activation_names
from backprop.nn.layer_kinds import LAYER_KINDS
from backprop.nn.layers import Layer
from backprop.nn.losses import get_loss, loss_names


def _recognise(module: Any, n_in: int | None, torch: Any, where: str) -> Layer:
    """The layer of the first registered kind that recognises ``module``."""
    for kind in LAYER_KINDS.values():
        try:
            layer = kind.from_torch(module, n_in, torch)
        except OptionError as error:
            raise OptionError(f"{where}: {error}") from None
        if layer is not None:
            return layer
    raise OptionError(f"{where} is not supported; no layer kind ({', '.join(LAYER_KINDS)}) "
                      f"or activation ({', '.join(activation_names())}) recognises it")


def default_loss(output: Layer) -> str:
    """The loss whose canonical output activation the last layer has, else "mse"."""
    activation = getattr(output, "activation", None)
    for name in loss_names():
        if activation is not None and get_loss(name).canonical_activation == activation.name:
            return name
    return "mse"


def from_torch(module: Any, loss: str | None = None, dtype: Any = None) -> Network:
    """A Network with the layers and weights of ``module``, an ``nn.Sequential``.

    Arguments:
        module: an ``nn.Sequential`` of modules that the registered layer kinds and
            activations recognise (see :mod:`.to_torch`).
        loss: the network's loss; by default from the last activation:
            softmax → "cross_entropy", sigmoid → "binary_cross_entropy", exp → "poisson",
            else "mse".
        dtype: "float32" or "float64"; by default the module's parameters' dtype.

    Raises:
        OptionError (a ValueError): naming the first module (its position and class)
            that has no counterpart here.
    """
    torch = torch_module()
    if not isinstance(module, torch.nn.Sequential):
        raise OptionTypeError(f"from_torch takes an nn.Sequential, got {type(module).__name__}")
    layers: list[Layer] = []
    sources: list[Any] = []  # the torch module each layer copies its arrays from
    for position, child in enumerate(module):
        where = f"module {position} ({type(child).__name__})"
        layer = _recognise(child, layers[-1].n_out if layers else None, torch, where)
        merged = layer.merge_into(layers[-1]) if layers else None
        if merged is not None:
            layers[-1] = merged  # its arrays still come from the module below
            continue
        layers.append(layer)
        sources.append(child)
    if not layers or getattr(layers[-1], "activation", None) is None:
        raise OptionError("the last layer must be a Linear module (with its activation)")
    if dtype is None:
        parameters = list(module.parameters())
        dtype = str(parameters[0].dtype).removeprefix("torch.") if parameters else "float32"
    net = Network(layers, loss=default_loss(layers[-1]) if loss is None else loss, dtype=dtype)
    for layer, source in zip(net.layers, sources, strict=True):
        layer.load_torch(source)
    return net
