"""The table of options that train, diagnose, gradcheck and explain share.

Every default lives here once; the help of each option states it (see
:meth:`Option.help_text`), and MNIST's defaults are the ones measured on the
real MNIST (784-256-10, relu/softmax, He init, Adam lr 0.003 with a cosine
schedule, batches of 128, 4 epochs).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from backprop.cli.options import (
    Option,
    all_of,
    at_least,
    at_most_limit,
    choice,
    flag,
    non_negative,
    positive,
    real,
    text,
    whole,
    wholes,
    within,
)
from backprop.errors import BackpropError, OptionError
from backprop.nn.activations import activation_names, get_activation
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.losses import loss_names
from backprop.optim.rules import OPTIMIZERS

MNIST = "mnist"
SCHEDULES = ("constant", "step", "exponential", "cosine")
SCALES = ("none", "standard", "minmax")
#: --optimizer momentum is SGD with momentum 0.9 (or --momentum when given).
OPTIMIZER_NAMES = (*OPTIMIZERS, "momentum")


def _run_folder(dataset: str) -> str:
    return str(Path("runs") / Path(dataset).stem)


#: Layer widths, input first: "2,3,1" (the old form of explain's and gradcheck's --layers).
WIDTHS = wholes(minimum=1, fewest=2, fewest_text="an input and an output width")
#: Hidden layer widths, as train's --layers: "3" or "4,5".
HIDDEN_WIDTHS = wholes(minimum=1, fewest=1, fewest_text="one hidden width")
INPUTS = Option("inputs", whole, None, "input width; none: from the data",
                check=at_least(1), metavar="N")
OUTPUTS = Option("outputs", whole, None, "output width; none: from the data",
                 check=at_least(1), metavar="N")


def activation_spec(value: Any, label: str) -> str | dict[str, Any]:
    """An activation: a name ("relu"), a name with its one parameter ("leaky_relu:0.2"),
    or JSON ('{"name": "leaky_relu", "slope": 0.2}'); checked by building it."""
    spec: str | dict[str, Any]
    if isinstance(value, dict):
        spec = dict(value)
    elif not isinstance(value, str):
        raise OptionError(f"{label} must be an activation name, got {value!r}")
    elif value.lstrip().startswith("{"):
        try:
            spec = json.loads(value)
        except json.JSONDecodeError as error:
            raise OptionError(f"{label} {value!r} is not valid JSON ({error.msg})") from None
        if not isinstance(spec, dict) or "name" not in spec:
            raise OptionError(f'{label} JSON must be an object with a "name", got {value!r}')
    elif ":" in value:
        name, _, argument = value.partition(":")
        parameters = [p for p in inspect.signature(
            type(_built(name, label)).__init__).parameters if p != "self"]
        if len(parameters) != 1:
            raise OptionError(f"{label} {value!r}: {name} takes no parameter after ':'")
        try:
            spec = {"name": name, parameters[0]: float(argument)}
        except ValueError:
            raise OptionError(f"{label} {value!r}: {argument!r} is not a number") from None
    else:
        spec = value
    _built(spec, label)
    return spec


def _built(spec: str | dict[str, Any], label: str) -> object:
    """The activation ``spec`` names, or OptionError naming the option."""
    try:
        return get_activation(spec)
    except BackpropError as error:
        raise OptionError(f"{label}: {error}") from None
    except TypeError:
        raise OptionError(f"{label}: {spec!r} has a parameter the activation does not take"
                          ) from None


def batch_size(value: Any, label: str) -> int | None:
    """Samples per update: a whole number, or full / all / 0 for the whole training set."""
    if isinstance(value, str) and value.strip().lower() in ("full", "all"):
        return None
    size = whole(value, label)
    if size < 0:
        raise OptionError(f"{label} must be positive, or 0 / full / all for full-batch "
                          f"gradient descent, got {size}")
    return None if size == 0 else size

# -- the network -------------------------------------------------------------------------
ACTIVATION = Option("activation", activation_spec, "relu",
                    f"hidden activation: {', '.join(activation_names())}; a parameter after "
                    "a colon, e.g. leaky_relu:0.2, or JSON")
OUTPUT_ACTIVATION = Option(
    "output_activation", text, "auto",
    "output activation; auto: softmax for classification, linear for regression")
LOSS = Option("loss", text, "auto", f"loss: {', '.join(loss_names())}; auto: cross_entropy "
              "for classification, mse for regression")
INIT = Option("init", text, "auto", f"weight initialization: {', '.join(INIT_NAMES)}; "
              "auto: He for relu, Xavier otherwise")
SEED = Option("seed", whole, 0, "random seed of weights, shuffling and dropout",
              check=at_least(0))
DTYPE = Option("dtype", choice("float32", "float64"), "float32",
               "floating-point type of the network: float32 or float64")

# -- train and diagnose ------------------------------------------------------------------
TRAIN_OPTIONS: tuple[Option, ...] = (
    Option("layers", wholes(minimum=1, none="no hidden layers"), [32, 32],
           "hidden layer widths, e.g. 256 or 128,64; none: no hidden layer",
           per_dataset={MNIST: [256]}),
    ACTIVATION,
    OUTPUT_ACTIVATION,
    LOSS,
    INIT,
    Option("optimizer", choice(*OPTIMIZER_NAMES), "adam",
           f"{', '.join(OPTIMIZER_NAMES)}; momentum is sgd with --momentum (0.9 when 0)"),
    Option("lr", real, 0.01, "learning rate η", check=positive, per_dataset={MNIST: 0.003}),
    Option("momentum", real, 0.0, "momentum of sgd", check=non_negative),
    Option("weight_decay", real, None,
           "weight decay; none: the optimizer's own (adamw 0.01, others 0)", check=non_negative),
    Option("schedule", choice(*SCHEDULES), "constant",
           f"learning-rate schedule: {', '.join(SCHEDULES)}", per_dataset={MNIST: "cosine"}),
    Option("step_size", whole, 10, "step schedule: epochs between decays", check=positive),
    Option("gamma", real, None,
           "step/exponential schedule: decay factor; none: 0.1 for step, 0.95 for exponential",
           check=positive),
    Option("eta_min", real, 0.0, "cosine schedule: final learning rate", check=non_negative),
    Option("warmup", whole, 0, "epochs of linear warm-up before the schedule",
           check=non_negative),
    Option("batch_size", batch_size, 32,
           "samples per update; 1 is online learning; full (or all, 0) is the whole "
           "training set", per_dataset={MNIST: 128}),
    Option("epochs", whole, 50, "passes over the training data",
           check=all_of(positive, at_most_limit("BACKPROP_MAX_EPOCHS")),
           per_dataset={MNIST: 4}),
    Option("batch_norm", flag, False,
           "batch normalization in each hidden layer: Dense (no bias) → BatchNorm → σ"),
    Option("freeze_biases", flag, False,
           "keep every bias at its initial value (0): no optimizer updates it"),
    Option("dropout", real, 0.0, "dropout rate after each hidden layer, in [0, 1)",
           check=within(0.0, 1.0, low_open=False)),
    Option("clip_norm", real, None, "clip gradients to this global norm; none: no clipping",
           check=positive),
    Option("compiled_step", flag, False,
           "the optimizer's update as one compiled pass (the numba extra); the same numbers"),
    Option("compiled", flag, False,
           "the step's elementwise work as fused compiled passes (the numba extra); the same "
           "numbers to rounding"),
    Option("validation_split", real, None,
           "hold out this fraction of the training data, in (0, 1); none: no hold-out",
           check=within(0.0, 1.0, low_open=True)),
    Option("early_stopping", whole, None,
           "stop after PATIENCE epochs without improvement; none: never",
           check=non_negative, metavar="PATIENCE"),
    SEED,
    DTYPE,
    Option("scale", choice(*SCALES), "standard",
           f"feature scaling fitted on the training data: {', '.join(SCALES)}",
           per_dataset={MNIST: "none"}),
    Option("classes", wholes(minimum=0), None, "keep only these classes, e.g. 0,1; none: all"),
    Option("task", choice("auto", "classification", "regression"), "auto",
           "a .csv or .npz file's target: auto is classes when every target is a whole "
           "number or a label, else regression"),
    Option("target", text, None,
           "a .csv file's target column: its header name or 1-based number (negative from "
           "the end); none: the last column"),
    Option("test_fraction", real, 0.0,
           "a .csv file: share of its rows held out as the test set, in [0, 1)",
           check=within(0.0, 1.0, low_open=False)),
    Option("train_samples", whole, None,
           "train on the first N training samples only; none: all", check=at_least(1),
           metavar="N"),
    Option("buffer_size", whole, None,
           "data streamed from a .npy file or shard folder: samples in the shuffle buffer; "
           "none: 32 MiB of features", check=at_least(1), metavar="N"),
    Option("out", text, _run_folder, "output folder", shown="runs/DATASET"),
    Option("quiet", flag, False, "print only errors"),
    Option("json_lines", flag, False, "one JSON object per epoch on stdout"),
    Option("plots", flag, True, "write no PNG plots"),
)
def train_option(name: str) -> Option:
    """The option of TRAIN_OPTIONS called ``name``."""
    return next(option for option in TRAIN_OPTIONS if option.name == name)


def _diagnose_folder(dataset: str) -> str:
    return str(Path("runs") / f"{Path(dataset).stem}-diagnose")


#: train's options that diagnose takes too: same meaning, same defaults but the folder.
DIAGNOSE_OPTIONS: tuple[Option, ...] = (
    *(train_option(name) for name in (
        "layers", "activation", "output_activation", "loss", "init", "optimizer", "lr",
        "momentum", "weight_decay", "schedule", "step_size", "gamma", "eta_min", "warmup",
        "batch_size", "epochs", "dropout", "clip_norm", "seed", "dtype", "scale", "classes",
        "train_samples",
    )),
    train_option("out").replace(default=_diagnose_folder, shown="runs/DATASET-diagnose"),
)
