"""A network as a PyTorch ``nn.Sequential``: ``net.to_torch()`` (see :mod:`.torch_exchange`).

Kept apart from ``from_torch`` so that it needs no Network class at run time:
``Network.to_torch`` imports this module, and this module does not import the
network's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..batchnorm import BatchNorm
from ..dropout import Dropout
from ..layers import Dense

if TYPE_CHECKING:
    from ..network import Network


def import_torch() -> Any:
    """The torch module; ImportError naming what to install when it is missing."""
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch exchange needs PyTorch: pip install torch") from None
    return torch


def to_torch(net: Network) -> Any:
    """An ``nn.Sequential`` with ``net``'s layers and weights (copies), in training mode.

    Call ``.eval()`` on it for inference (Dropout off, BatchNorm's running statistics).
    """
    torch = import_torch()
    nn = torch.nn
    dtype = getattr(torch, net.dtype.name)
    modules: list[Any] = []
    for index, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            linear = nn.Linear(layer.n_in, layer.n_out, bias=layer.b is not None, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.W.copy()))
                if layer.b is not None:
                    linear.bias.copy_(torch.from_numpy(layer.b.copy()))
            modules.append(linear)
            name = layer.activation.name
            activations = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
            if name in activations:
                modules.append(activations[name]())
            elif name == "leaky_relu":
                modules.append(nn.LeakyReLU(float(layer.activation.config()["slope"])))
            elif name == "softmax":
                modules.append(nn.Softmax(dim=1))
            elif name != "linear":
                raise ValueError(f"layer {index}: activation {name!r} has no torch.nn module here")
        elif isinstance(layer, BatchNorm):
            norm = nn.BatchNorm1d(layer.n_in, eps=layer.eps, momentum=layer.momentum, dtype=dtype)
            with torch.no_grad():
                norm.weight.copy_(torch.from_numpy(layer.gamma.copy()))
                norm.bias.copy_(torch.from_numpy(layer.beta.copy()))
                norm.running_mean.copy_(torch.from_numpy(layer.running_mean.astype(net.dtype)))
                norm.running_var.copy_(torch.from_numpy(layer.running_var.astype(net.dtype)))
            modules.append(norm)
        elif isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.rate))
        else:
            raise ValueError(f"layer {index}: {type(layer).__name__} has no torch.nn module here")
    return nn.Sequential(*modules)
