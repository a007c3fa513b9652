"""backprop: multi-layer perceptrons trained by the four equations of backpropagation.

    import backprop as bp
    net = bp.Network([bp.Dense(2, 4, activation="tanh"), bp.Dense(4, 1, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=0)
    net.fit(X, y, epochs=500, batch_size=None, lr=0.5)
    net.predict(X)
"""

# ruff: noqa: E402 (the handler below is installed before the slow imports)
from .interrupt import install_early

install_early()  # Ctrl-C while the command loads: one line, exit 130 (see backprop.interrupt)

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import schedules
from .activation_layer import ActivationLayer
from .activations import Activation, get_activation, register_activation
from .batchnorm import BatchNorm
from .callbacks import Callback, History, LossExplosion, TrainingState
from .clipping import clip_grad_norm
from .dropout import Dropout
from .errors import (
    BackpropError,
    DataError,
    DataTypeError,
    DivergenceError,
    ModelFileError,
    OptionError,
    OptionTypeError,
)
from .gradcheck import GradcheckReport, gradcheck
from .layers import Dense, Layer
from .losses import Loss, get_loss, register_loss
from .network import Network
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSProp
from .schedules import Constant, CosineAnnealing, ExponentialDecay, LinearWarmup, StepDecay
from .steering import EarlyStopping, ModelCheckpoint
from .version import __version__

if TYPE_CHECKING:
    from .diagnostics import Diagnostics, diagnose_network
    from .export.from_torch import from_torch
    from .loading import load, load_checkpoint
    from .persistence import save, save_checkpoint
    from .reading import Finding, Reading, read_diagnostics
    from .training_state import TrainingCheckpoint
    from .worked_step import Trace, explain

#: Names whose modules load on first use, so `import backprop` stays fast. (A
#: name equal to its module's cannot be among them: importing the submodule
#: binds the module object to the package attribute. Hence worked_step, not explain.)
_LAZY = {
    "Diagnostics": "diagnostics",
    "diagnose_network": "diagnostics",
    "Finding": "reading",
    "Reading": "reading",
    "read_diagnostics": "reading",
    "TrainingCheckpoint": "training_state",
    "load": "loading",
    "load_checkpoint": "loading",
    "save": "persistence",
    "save_checkpoint": "persistence",
    "Trace": "worked_step",
    "explain": "worked_step",
    "from_torch": "export.from_torch",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "SGD",
    "Activation",
    "ActivationLayer",
    "Adam",
    "AdamW",
    "BackpropError",
    "BatchNorm",
    "Callback",
    "Constant",
    "CosineAnnealing",
    "DataError",
    "DataTypeError",
    "Dense",
    "Diagnostics",
    "DivergenceError",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "Finding",
    "GradcheckReport",
    "History",
    "Layer",
    "LinearWarmup",
    "Loss",
    "LossExplosion",
    "ModelCheckpoint",
    "ModelFileError",
    "Network",
    "Optimizer",
    "OptionError",
    "OptionTypeError",
    "RMSProp",
    "Reading",
    "StepDecay",
    "Trace",
    "TrainingCheckpoint",
    "TrainingState",
    "__version__",
    "clip_grad_norm",
    "diagnose_network",
    "explain",
    "from_torch",
    "get_activation",
    "get_loss",
    "gradcheck",
    "load",
    "load_checkpoint",
    "read_diagnostics",
    "register_activation",
    "register_loss",
    "save",
    "save_checkpoint",
    "schedules",
]
