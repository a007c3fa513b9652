"""backprop: multi-layer perceptrons trained by the four equations of backpropagation.

    import backprop as bp
    net = bp.Network([bp.Dense(2, 4, activation="tanh"), bp.Dense(4, 1, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=0)
    net.fit(X, y, epochs=500, batch_size=None, lr=0.5)
    net.predict(X)
"""

# ruff: noqa: E402 (the handler below is installed, and BLAS's threads and kernels are
# chosen, before the slow imports)
from backprop.interrupt import install_early

install_early()  # Ctrl-C while the command loads: one line, exit 130 (see backprop.interrupt)

from backprop.blas_kernels import kernels_before_numpy
from backprop.blas_threads import fit_before_numpy
from backprop.moved import install as install_moved_module_finder
from backprop.moved import moved_module, new_path

fit_before_numpy()  # under a memory limit, OpenBLAS starts no more threads than fit it
kernels_before_numpy()  # on Zen 4, OpenBLAS's AVX2 kernels

from importlib import import_module
from typing import TYPE_CHECKING, Any

from backprop.errors import (
    BackpropError,
    DataError,
    DataTypeError,
    DivergenceError,
    ModelFileError,
    OptionError,
    OptionTypeError,
)
from backprop.network import Network
from backprop.nn.activation_layer import ActivationLayer
from backprop.nn.activations import Activation, get_activation, register_activation
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layer_kinds import register_layer_kind
from backprop.nn.layers import Dense, Layer
from backprop.nn.losses import Loss, get_loss, register_loss
from backprop.nn.reference_form import ReferenceBackward
from backprop.optim import schedules
from backprop.optim.clipping import clip_grad_norm
from backprop.optim.rules import SGD, Adam, AdamW, Optimizer, RMSProp
from backprop.optim.schedules import (
    Constant,
    CosineAnnealing,
    ExponentialDecay,
    LinearWarmup,
    StepDecay,
)
from backprop.spec import NetworkSpec, OptimizerSpec, build_network, build_optimizer
from backprop.teaching.gradcheck import GradcheckReport, gradcheck
from backprop.training.callbacks import (
    Callback,
    EarlyStopping,
    History,
    LossExplosion,
    ModelCheckpoint,
    TimeLimit,
    TrainingState,
)
from backprop.version import __version__

install_moved_module_finder()

if TYPE_CHECKING:
    from backprop import lab as lab
    from backprop.export.from_torch import from_torch
    from backprop.files.loading import load, load_checkpoint
    from backprop.files.model_file import save, save_checkpoint
    from backprop.teaching.diagnostics import Diagnostics, diagnose_network
    from backprop.teaching.reading import Finding, Reading, read_diagnostics
    from backprop.teaching.worked_step import Trace, explain
    from backprop.training.state import TrainingCheckpoint

#: Names whose modules load on first use, so `import backprop` stays fast. (A
#: name equal to its module's cannot be among them: importing the submodule
#: binds the module object to the package attribute. Hence worked_step, not explain.)
_LAZY = {
    "Diagnostics": "teaching.diagnostics",
    "diagnose_network": "teaching.diagnostics",
    "Finding": "teaching.reading",
    "Reading": "teaching.reading",
    "read_diagnostics": "teaching.reading",
    "TrainingCheckpoint": "training.state",
    "load": "files.loading",
    "load_checkpoint": "files.loading",
    "save": "files.model_file",
    "save_checkpoint": "files.model_file",
    "Trace": "teaching.worked_step",
    "explain": "teaching.worked_step",
    "from_torch": "export.from_torch",
}


#: Subpackages reached as attributes, loaded on first use: ``bp.lab.Playground(...)``.
_LAZY_PACKAGES = ("lab",)


def __getattr__(name: str) -> Any:
    if name in _LAZY_PACKAGES:
        return import_module(f".{name}", __name__)  # importing binds it here too
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if new_path(f"{__name__}.{name}") is not None:  # a module path from before the move
        return moved_module(f"{__name__}.{name}")
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
    "NetworkSpec",
    "Optimizer",
    "OptimizerSpec",
    "OptionError",
    "OptionTypeError",
    "RMSProp",
    "Reading",
    "ReferenceBackward",
    "StepDecay",
    "TimeLimit",
    "Trace",
    "TrainingCheckpoint",
    "TrainingState",
    "__version__",
    "build_network",
    "build_optimizer",
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
    "register_layer_kind",
    "register_loss",
    "save",
    "save_checkpoint",
    "schedules",
]
