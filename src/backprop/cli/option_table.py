"""The options that several commands share: the network's words, and train's options.

:class:`TrainingOptions` declares train's options that diagnose takes too (diagnose fixes
the few it does not offer), and the shared helpers (building, common, streamed) read
them; the single options (:data:`ACTIVATION`, :data:`SEED`, ...) are declared by explain
and gradcheck with their own defaults. Every default lives here once; the help of each
option states it (see :meth:`Option.help_text`), and MNIST's defaults are the ones
measured on the real MNIST (784-256-10, relu/softmax, He init, Adam lr 0.003 with a
cosine schedule, batches of 128, 4 epochs).
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop.cli.option_kinds import (
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
from backprop.cli.options import Option, Options, argument, option
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


#: Hidden layer widths, as train's --layers: "3" or "4,5".
HIDDEN_WIDTHS = wholes(minimum=1, fewest=1, fewest_text="one hidden width")
INPUTS = Option(whole, None, "input width; none: from the data",
                check=at_least(1), metavar="N")
OUTPUTS = Option(whole, None, "output width; none: from the data",
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


def batch_size_kind(value: Any, label: str) -> int | None:
    """Samples per update: a whole number ≥ 1, or full / all (None) for the whole training
    set. 0 is refused like any size below 1: it once meant full batch, and a mistyped 0
    would silently change the method."""
    if isinstance(value, str) and value.strip().lower() in ("full", "all"):
        return None
    try:
        size = whole(value, label)
    except OptionError:
        raise OptionError(f"{label} {value!r} is not a whole number, full or all") from None
    if size < 1:
        raise OptionError(f"{label} must be a positive whole number, got {size}; for "
                          "full-batch gradient descent give full (or all)")
    return size


#: The units a size may be given in: 256M is 256 MiB.
SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def byte_size(value: Any, label: str) -> int:
    """A number of bytes: a whole number, or a number with K, M, G or T (binary: 256M is
    256 MiB; KiB, MB and the like read the same), at least the smallest budget."""
    from backprop.streaming.budget import SMALLEST_BUDGET

    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str):
        text = value.strip().lower().removesuffix("b").removesuffix("i")
        digits, unit = (text[:-1], text[-1]) if text[-1:].isalpha() else (text, "")
        try:
            amount = float(digits) if unit in SIZE_UNITS else math.nan
        except ValueError:
            amount = math.nan
        if not math.isfinite(amount) or amount < 0:
            raise OptionError(f"{label} {value!r} is not a size: give bytes, or a number "
                              "with K, M or G (256M, 1.5G)")
        size = int(amount * SIZE_UNITS[unit])
    else:
        raise OptionError(f"{label} must be a size such as 256M, got {value!r}")
    if size < SMALLEST_BUDGET:
        raise OptionError(f"{label} {value!r} is below the smallest budget, 16M")
    return size


# -- the network -------------------------------------------------------------------------
ACTIVATION = Option(activation_spec, "relu",
                    f"hidden activation: {', '.join(activation_names())}; a parameter after "
                    "a colon, e.g. leaky_relu:0.2, or JSON")
OUTPUT_ACTIVATION = Option(
    text, "auto",
    "output activation; auto: softmax for classification, linear for regression")
LOSS = Option(text, "auto", f"loss: {', '.join(loss_names())}; auto: cross_entropy "
              "for classification, mse for regression")
INIT = Option(text, "auto", f"weight initialization: {', '.join(INIT_NAMES)}; "
              "auto: He for relu, Xavier otherwise")
SEED = Option(whole, 0, "random seed of weights, shuffling and dropout",
              check=at_least(0))
DTYPE = Option(choice("float32", "float64"), "float32",
               "floating-point type of the network: float32 or float64")


#: An activation as the options give it: a name, or a name with its parameters.
ActivationSpec = str | dict[str, Any]


# -- train and diagnose ------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class TrainingOptions(Options):
    """Train's options that diagnose takes too, with train's defaults: the network, the
    optimizer and schedule, the data; what the shared helpers (building, common,
    streamed) read. Diagnose fixes the few it does not offer (see its DiagnoseOptions)."""

    dataset: str = argument("a dataset name (see `backprop datasets`) or a .csv/.npz path")
    layers: list[int] = option(wholes(minimum=1, none="no hidden layers"), [32, 32],
                               "hidden layer widths, e.g. 256 or 128,64; none: no hidden layer",
                               per_dataset={MNIST: [256]})
    activation: ActivationSpec = option(ACTIVATION)
    output_activation: str = option(OUTPUT_ACTIVATION)
    loss: str = option(LOSS)
    init: str = option(INIT)
    optimizer: str = option(
        choice(*OPTIMIZER_NAMES), "adam",
        f"{', '.join(OPTIMIZER_NAMES)}; momentum is sgd with --momentum (0.9 when 0)")
    lr: float = option(real, 0.01, "learning rate η", check=positive,
                       per_dataset={MNIST: 0.003})
    momentum: float = option(real, 0.0, "momentum of sgd (and rmsprop)", check=non_negative)
    nesterov: bool = option(flag, False, "Nesterov momentum (sgd with momentum > 0)")
    weight_decay: float | None = option(
        real, None, "weight decay; none: the optimizer's own (adamw 0.01, others 0)",
        check=non_negative)
    schedule: str = option(choice(*SCHEDULES), "constant",
                           f"learning-rate schedule: {', '.join(SCHEDULES)}",
                           per_dataset={MNIST: "cosine"})
    step_size: int = option(whole, 10, "step schedule: epochs between decays", check=positive)
    gamma: float | None = option(
        real, None,
        "step/exponential schedule: decay factor; none: 0.1 for step, 0.95 for exponential",
        check=positive)
    eta_min: float = option(real, 0.0, "cosine schedule: final learning rate",
                            check=non_negative)
    warmup: int = option(whole, 0, "epochs of linear warm-up before the schedule",
                         check=non_negative)
    batch_size: int | None = option(
        batch_size_kind, 32,
        "samples per update; 1 is online learning; full (or all) is the whole training set",
        per_dataset={MNIST: 128})
    epochs: int = option(whole, 50, "passes over the training data",
                         check=all_of(positive, at_most_limit("BACKPROP_MAX_EPOCHS")),
                         per_dataset={MNIST: 4})
    batch_norm: bool = option(
        flag, False, "batch normalization in each hidden layer: Dense (no bias) → BatchNorm → σ")
    freeze_biases: bool = option(
        flag, False, "keep every bias at its initial value (0): no optimizer updates it")
    dropout: float = option(real, 0.0, "dropout rate after each hidden layer, in [0, 1)",
                            check=within(0.0, 1.0, low_open=False))
    clip_norm: float | None = option(
        real, None, "clip gradients to this global norm; none: no clipping", check=positive)
    compiled_step: bool = option(
        flag, False,
        "the optimizer's update as one compiled pass (the numba extra); the same numbers")
    compiled: bool = option(
        flag, False,
        "the step's elementwise work as fused compiled passes (the numba extra); the same "
        "numbers to rounding")
    validation_split: float | None = option(
        real, None, "hold out this fraction of the training data, in (0, 1); none: no hold-out",
        check=within(0.0, 1.0, low_open=True))
    seed: int = option(SEED)
    dtype: str = option(DTYPE)
    scale: str = option(choice(*SCALES), "standard",
                        f"feature scaling fitted on the training data: {', '.join(SCALES)}",
                        per_dataset={MNIST: "none"})
    classes: list[int] | None = option(wholes(minimum=0), None,
                                       "keep only these classes, e.g. 0,1; none: all")
    task: str = option(
        choice("auto", "classification", "regression"), "auto",
        "a .csv or .npz file's target: auto is classes when every target is a whole number "
        "or a label, else regression")
    target: str | None = option(
        text, None,
        "a .csv file's target column: its header name or 1-based number (negative from the "
        "end); none: the last column")
    test_fraction: float = option(
        real, 0.0, "a .csv file: share of its rows held out as the test set, in [0, 1)",
        check=within(0.0, 1.0, low_open=False))
    train_samples: int | None = option(
        whole, None, "train on the first N training samples only; none: all",
        check=at_least(1), metavar="N")
    buffer_size: int | None = option(
        whole, None,
        "data streamed from disk (a .npy file, a shard folder, a CSV file larger than the "
        "memory budget): samples in the shuffle buffer; none: half the memory budget",
        check=at_least(1), metavar="N")
    memory_budget: int | None = option(
        byte_size, None,
        "data streamed from disk: the memory it may hold at once (shuffle buffer, block "
        "read, statistics), e.g. 256M or 1G; a CSV file larger than it is streamed, not "
        "loaded; none: BACKPROP_MEMORY_BUDGET, else 128 MiB", metavar="BYTES")
    out: str = option(text, _run_folder, "output folder", shown="runs/DATASET")
