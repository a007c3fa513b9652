"""One description of a network and of an optimizer, and the one builder of both.

Every front end (the command and its TOML config, the sweep, the lab, the
estimators) translates its own words into a :class:`NetworkSpec` and an
:class:`OptimizerSpec`; :func:`build_network` and :func:`build_optimizer` make
the :class:`~backprop.Network` and the :class:`~backprop.Optimizer`. So the
same words give the same network everywhere:

    spec = bp.NetworkSpec(n_inputs=2, n_outputs=1, hidden=(8, 8), activation="relu",
                          output_activation="sigmoid", loss="binary_cross_entropy",
                          batch_norm=True, dropout=0.1, seed=0)
    net = bp.build_network(spec)
    optimizer = bp.build_optimizer(bp.OptimizerSpec("sgd", lr=0.1, momentum=0.9,
                                                    nesterov=True))

The layers, input side first, for each hidden width h with activation σ:

    Dense(·, h, σ)                               without batch norm
    Dense(·, h, linear, bias=False) → BatchNorm(h) → σ as a layer   with batch norm
    … → Dropout(h, rate)                         when dropout > 0, after σ

then ``Dense(·, n_outputs, output_activation)``. Batch norm normalizes the
pre-activation z, where Ioffe & Szegedy (2015, section 3.2) place it: z = W a
is normalized, then σ; a bias there would be cancelled by the mean
subtraction, and BatchNorm's β takes its place. (The initialization "auto"
of that Dense layer is the one for a linear layer; BatchNorm makes the
scale of W irrelevant.) Dropout drops units of a layer's output, after σ, as
Srivastava et al. (2014) do.

Each spec checks every field when it is made, in one place, with the
messages the layers and optimizers themselves give (a one-line
:class:`~backprop.errors.OptionError`, or :class:`~backprop.errors.OptionTypeError`
for a value of the wrong type, naming the field and the value). The names of
activations, losses, initializations and optimizers are read from their
registries. A spec is frozen and compares by value: its activations are
normalized to :class:`~backprop.nn.activations.Activation` objects (which
compare by their config), and an optimizer's unset hyperparameters are
filled with that optimizer's own defaults.
"""

from backprop.spec.build import build_network, build_optimizer, network_layers, network_spec_of
from backprop.spec.network import ActivationLike, NetworkSpec
from backprop.spec.optimizer import OptimizerSpec

__all__ = [
    "ActivationLike",
    "NetworkSpec",
    "OptimizerSpec",
    "build_network",
    "build_optimizer",
    "network_layers",
    "network_spec_of",
]
