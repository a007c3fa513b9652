"""Networks to and from PyTorch: ``bp.from_torch(module)`` and ``net.to_torch()``.

The two libraries store a layer the same way (W is (n_out, n_in), as
``nn.Linear.weight``), so the exchange copies arrays and maps modules. There
is no table here: each layer gives its own modules (``Layer.torch_form``) and
each activation its own (``Activation.torch_form``). The built-in ones:

    backprop                      torch.nn
    Dense(n_in, n_out, σ)         Linear(n_in, n_out) followed by σ's module:
                                  Sigmoid, Tanh, ReLU, LeakyReLU(slope), Softmax(dim=1),
                                  nothing (or Identity) for linear, and for exp a module
                                  of backprop's (torch.nn has none) computing torch.exp
    ActivationLayer(n, σ)         σ's module (Identity for linear)
    BatchNorm(n, momentum, eps)   BatchNorm1d(n, eps, momentum): γ, β and running statistics
    Dropout(n, rate)              Dropout(rate)

PyTorch is optional (``pip install torch``): the exporters import it and hand
it to the layers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backprop.errors import OptionError

if TYPE_CHECKING:
    from backprop.network import Network


def torch_module() -> Any:
    """The torch package, or an ImportError saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError("PyTorch exchange needs PyTorch: pip install torch") from None
    return torch


def to_torch(net: Network) -> Any:
    """An ``nn.Sequential`` with ``net``'s layers and weights (copies), in training mode.

    Call ``.eval()`` on it for inference (Dropout off, BatchNorm's running statistics).
    """
    torch = torch_module()
    dtype = getattr(torch, net.dtype.name)
    modules: list[Any] = []
    for index, layer in enumerate(net.layers):
        try:
            modules.extend(layer.torch_form(torch, dtype))
        except OptionError as error:
            raise OptionError(f"layer {index} ({type(layer).__name__}): {error}") from None
    return torch.nn.Sequential(*modules)
