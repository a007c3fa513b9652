"""Networks to and from PyTorch: ``bp.from_torch(module)`` and ``net.to_torch()``.

The two libraries store a layer the same way (W is (n_out, n_in), as
``nn.Linear.weight``), so the exchange copies arrays and maps modules:

    backprop                      torch.nn
    Dense(n_in, n_out, σ)         Linear(n_in, n_out) followed by σ's module:
                                  Sigmoid, Tanh, ReLU, LeakyReLU(slope), Softmax(dim=1),
                                  nothing (or Identity) for linear
    BatchNorm(n, momentum, eps)   BatchNorm1d(n, eps, momentum): γ, β and running statistics
    Dropout(n, rate)              Dropout(rate)
    ActivationLayer(n, σ)         σ's module (to_torch only)

In the library an activation belongs to its Dense layer (or, after a
BatchNorm, to an ActivationLayer, which ``to_torch`` writes but ``from_torch``
does not yet read), so in the ``nn.Sequential`` that ``from_torch`` reads every
activation module must directly follow a ``Linear``.
PyTorch is optional (``pip install torch``) and imported only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backprop.errors import OptionError
from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.activations import Activation
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense

if TYPE_CHECKING:
    from backprop.network import Network


def torch_module() -> Any:
    """The torch package, or an ImportError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch exchange needs PyTorch: pip install torch") from None
    return torch


def _activation_module(nn: Any, activation: Activation, index: int) -> list[Any]:
    """σ of layer ``index`` as a torch.nn module ([] for linear)."""
    name = activation.name
    activations = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
    if name in activations:
        return [activations[name]()]
    if name == "leaky_relu":
        return [nn.LeakyReLU(float(activation.config()["slope"]))]
    if name == "softmax":
        return [nn.Softmax(dim=1)]
    if name != "linear":
        raise OptionError(f"layer {index}: activation {name!r} has no torch.nn module here")
    return []


def to_torch(net: Network) -> Any:
    """An ``nn.Sequential`` with ``net``'s layers and weights (copies), in training mode.

    Call ``.eval()`` on it for inference (Dropout off, BatchNorm's running statistics).
    """
    torch = torch_module()
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
            modules += _activation_module(nn, layer.activation, index)
        elif isinstance(layer, ActivationLayer):  # σ on its own, e.g. after a BatchNorm
            modules += _activation_module(nn, layer.activation, index)
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
            raise OptionError(f"layer {index}: {type(layer).__name__} has no torch.nn module here")
    return nn.Sequential(*modules)
