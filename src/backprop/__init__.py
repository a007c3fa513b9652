"""backprop: multi-layer perceptrons trained by the four equations of backpropagation.

    import backprop as bp
    net = bp.Network([bp.Dense(2, 4, activation="tanh"), bp.Dense(4, 1, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=0)
    net.fit(X, y, epochs=500, batch_size=None, lr=0.5)
    net.predict(X)
"""

__version__ = "0.1.0"

from .activations import Activation, get_activation, register_activation
from .errors import DataError, DivergenceError, ModelFileError
from .gradcheck import GradcheckReport, gradcheck
from .layers import Dense, Layer
from .losses import Loss, get_loss, register_loss
from .network import Network
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSProp
from .persistence import load, save
from .training import Callback, History, TrainingState

__all__ = [
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "Callback",
    "DataError",
    "Dense",
    "DivergenceError",
    "GradcheckReport",
    "History",
    "Layer",
    "Loss",
    "ModelFileError",
    "Network",
    "Optimizer",
    "RMSProp",
    "TrainingState",
    "__version__",
    "get_activation",
    "get_loss",
    "gradcheck",
    "load",
    "register_activation",
    "register_loss",
    "save",
]
