"""NetworkSpec: a multi-layer perceptron described, every field checked when it is made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from backprop._typing import float_dtype
from backprop.errors import OptionError, OptionTypeError
from backprop.limits import enforce_limit
from backprop.nn.activations import Activation, get_activation
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.layers import check_width
from backprop.nn.losses import Loss, check_output_pairing, get_loss, loss_names
from backprop.spec.checks import flag, naming, set_field, unit_interval

#: An activation as every front end may give it: a registered name ("relu"), a config
#: ({"name": "leaky_relu", "slope": 0.2}) or an :class:`Activation` object.
ActivationLike = str | Mapping[str, Any] | Activation


def _activation(value: object, field: str) -> Activation:
    """The Activation ``value`` describes, or an OptionError naming ``field``."""
    if isinstance(value, Mapping):
        value = dict(value)
    try:
        return get_activation(cast(Any, value))
    except OptionError as error:  # OptionTypeError included
        raise type(error)(f"{field}: {error}") from None
    except TypeError:  # a config with a parameter the activation does not take
        raise OptionError(f"{field}: {value!r} has a parameter the activation does not "
                          "take") from None


@dataclass(frozen=True)
class NetworkSpec:
    """A multi-layer perceptron, described; :func:`build_network` makes it.

    Arguments:
        n_inputs: features per sample.
        n_outputs: output units.
        hidden: the hidden layers' widths, input side first (() for none).
        activation: σ of the hidden layers: one for all, or one per hidden layer
            (a name, a config dict or an Activation). Stored as a tuple of
            Activations, one per hidden layer.
        output_activation: σ_L of the output layer. Stored as an Activation.
        loss: a name from :func:`backprop.nn.losses.loss_names`, or a Loss.
        bias: whether the Dense layers have biases (without batch norm; with it
            the hidden Dense layers have none, and this applies to the output layer).
        train_bias: whether training updates the biases (False keeps them at 0).
        batch_norm: Dense (no bias) → BatchNorm → σ in each hidden layer.
        dropout: the rate of a Dropout after each hidden layer's σ, in [0, 1); 0: none.
        init: weight initialization, a name from :data:`backprop.nn.initializers.INIT_NAMES`.
        seed: the seed of the weights, the shuffling and the dropout masks (None: fresh).
        dtype: "float32" or "float64". Stored as the name.
        compiled: the work between the matrix products as fused compiled passes (the
            numba extra); the same numbers as the NumPy path (docs/guides/speed-compiled.md).
    """

    n_inputs: int
    n_outputs: int
    hidden: Sequence[int] = ()
    activation: ActivationLike | Sequence[ActivationLike] = "relu"
    output_activation: ActivationLike = "linear"
    loss: str | Loss = "mse"
    bias: bool = True
    train_bias: bool = True
    batch_norm: bool = False
    dropout: float = 0.0
    init: str = "auto"
    seed: int | None = None
    dtype: str = "float32"
    compiled: bool = False

    def __post_init__(self) -> None:
        for name in ("n_inputs", "n_outputs"):
            with naming(name):
                set_field(self, name, check_width(name, getattr(self, name)))
        with naming("hidden"):
            set_field(self, "hidden", self._hidden())
        with naming("activation"):
            set_field(self, "activation", self._activations())
        with naming("output_activation"):
            set_field(self, "output_activation",
                      _activation(self.output_activation, "output_activation"))
        with naming("loss"):
            if not isinstance(self.loss, str | Loss):
                raise OptionTypeError(f"loss must be a name or a Loss, got {self.loss!r}")
            if isinstance(self.loss, str) and self.loss not in loss_names():
                raise OptionError(f"unknown loss {self.loss!r}; valid: {', '.join(loss_names())}")
        # the output layer and the loss together (softmax on one unit, ...)
        check_output_pairing(self.output, self.n_outputs, get_loss(self.loss))
        for name in ("bias", "train_bias", "batch_norm", "compiled"):
            with naming(name):
                flag(getattr(self, name), name)
        with naming("dropout"):
            set_field(self, "dropout", unit_interval(self.dropout, "dropout"))
        with naming("init"):
            if not isinstance(self.init, str):
                raise OptionTypeError(f"init must be a name, got {self.init!r}")
            if self.init not in INIT_NAMES:
                raise OptionError(f"unknown init {self.init!r}; valid: {', '.join(INIT_NAMES)}")
        with naming("seed"):
            if isinstance(self.seed, bool) or not isinstance(self.seed, int | None):
                raise OptionTypeError(f"seed must be a whole number or None, got {self.seed!r}")
            if self.seed is not None and self.seed < 0:
                raise OptionError(f"seed must be ≥ 0, got {self.seed}")
        with naming("dtype"):
            set_field(self, "dtype", float_dtype(self.dtype).name)

    def _hidden(self) -> tuple[int, ...]:
        if isinstance(self.hidden, str | bytes) or not isinstance(self.hidden, Sequence):
            raise OptionTypeError(f"hidden must be a list of widths, got {self.hidden!r}")
        hidden = tuple(check_width(f"hidden[{i}]", width) for i, width in enumerate(self.hidden))
        enforce_limit("the number of layers", len(hidden) + 1, "BACKPROP_MAX_LAYERS")
        return hidden

    def _activations(self) -> tuple[Activation, ...]:
        """One Activation per hidden layer, from one for all or one per layer."""
        given, layers = self.activation, len(self.hidden)
        if isinstance(given, str | Mapping | Activation):
            return (_activation(given, "activation"),) * layers
        if not isinstance(given, Sequence):
            raise OptionTypeError(f"activation must be an activation or a list of them, "
                                  f"got {given!r}")
        if len(given) != layers:
            raise OptionError(f"activation gives {len(given)} activation(s) for {layers} "
                              "hidden layer(s); give one, or one per layer")
        return tuple(_activation(a, f"activation[{i}]") for i, a in enumerate(given))

    @property
    def hidden_activations(self) -> tuple[Activation, ...]:
        """σ of each hidden layer, input side first."""
        return cast(tuple[Activation, ...], self.activation)

    @property
    def output(self) -> Activation:
        """σ_L of the output layer."""
        return cast(Activation, self.output_activation)

    @property
    def widths(self) -> tuple[int, ...]:
        """(n_inputs, *hidden, n_outputs)."""
        return (self.n_inputs, *self.hidden, self.n_outputs)

    def config(self) -> dict[str, Any]:
        """The spec as JSON values: ``NetworkSpec(**spec.config()) == spec``."""
        activations = [_activation_config(a) for a in self.hidden_activations]
        activation: Any = activations
        if activations and all(a == activations[0] for a in activations):
            activation = activations[0]
        elif not activations:
            activation = "relu"
        return {
            "n_inputs": self.n_inputs,
            "n_outputs": self.n_outputs,
            "hidden": list(self.hidden),
            "activation": activation,
            "output_activation": _activation_config(self.output),
            "loss": self.loss if isinstance(self.loss, str) else self.loss.config()["name"],
            "bias": self.bias,
            "train_bias": self.train_bias,
            "batch_norm": self.batch_norm,
            "dropout": self.dropout,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype,
            "compiled": self.compiled,
        }


def _activation_config(activation: Activation) -> str | dict[str, Any]:
    """An activation's name when that is all its config says, else its config."""
    config = activation.config()
    return str(config["name"]) if config.keys() == {"name"} else config
