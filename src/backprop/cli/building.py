"""train's options in the library's words: the network and optimizer specs (built by
:mod:`backprop.spec`) and the schedule (train and diagnose)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from backprop import spec
from backprop.cli.common import error_line
from backprop.datasets import Dataset
from backprop.errors import OptionError
from backprop.network import Network
from backprop.optim.base import Optimizer
from backprop.spec import NetworkSpec, OptimizerSpec

if TYPE_CHECKING:
    from backprop.cli.option_table import TrainingOptions

#: Spec fields the command calls by another name (None: no flag sets it, e.g. the data's).
FLAGS: dict[str, str | None] = {"hidden": "--layers", "name": "--optimizer",
                                "train_bias": "--freeze-biases", "n_inputs": None,
                                "n_outputs": None}


@contextmanager
def in_flags() -> Iterator[None]:
    """A spec's refusal in the command's words: the field at fault named by its flag
    ("--momentum applies to sgd, rmsprop, not adam (got 0.5)")."""
    try:
        yield
    except OptionError as error:
        field = error.field
        flag = FLAGS.get(field, f"--{field.replace('_', '-')}") if field else None
        if field is None or flag is None:
            raise
        message = str(error)
        message = (flag + message[len(field):] if message.startswith(field)
                   else f"{flag}: {message}")
        worded = type(error)(message)
        worded.field = field
        raise worded from None


def network_spec(o: TrainingOptions, data: Dataset) -> NetworkSpec:
    """The network train's options ``o`` describe, its input and output widths fitted to
    ``data``: "auto" output activation and loss follow the task."""
    classification = data.task == "classification"
    output = o.output_activation
    if output == "auto":
        output = "softmax" if classification else "linear"
    loss = o.loss
    if loss == "auto":
        loss = "cross_entropy" if classification else "mse"
    if output == "sigmoid" and loss == "binary_cross_entropy" and classification:
        # one sigmoid unit for two classes; one per class for more (one-vs-rest, the labels
        # as one-hot rows; the predicted class is the unit with the largest output)
        n_out = 1 if data.n_classes == 2 else data.n_outputs
    else:
        n_out = data.n_outputs
    if o.compiled:
        from backprop.jit import require_numba

        require_numba("--compiled")  # before the spec, to name the flag
    with in_flags():
        return NetworkSpec(
            n_inputs=data.n_features, n_outputs=n_out, hidden=tuple(o.layers),
            activation=o.activation, output_activation=output, loss=loss,
            train_bias=not o.freeze_biases, batch_norm=o.batch_norm, dropout=o.dropout,
            init=o.init, seed=o.seed, dtype=o.dtype, compiled=o.compiled)


def build_network(o: TrainingOptions, data: Dataset) -> Network:
    """The network the options ``o`` describe (:func:`network_spec`), built."""
    return spec.build_network(network_spec(o, data))


def network_widths(hidden: list[int], inputs: int | None, outputs: int | None,
                   data_inputs: int | None, data_outputs: int | None,
                   defaults: tuple[int, int] | None = None) -> list[int]:
    """[n_in, *hidden, n_out]: --layers is the hidden widths in every subcommand; the input
    and output widths come from --inputs/--outputs, else from the data (``data_inputs``,
    ``data_outputs``; None where the data does not say), else from ``defaults``.

    The old form, input and output widths included ("2,3,1"), is still read for one
    release, with a deprecation line: a list of two or more widths, without --inputs or
    --outputs, whose ends are the data's widths.
    """
    shown = ",".join(map(str, hidden))
    old_form = (inputs is None and outputs is None and len(hidden) >= 2
                and data_inputs in (None, hidden[0]) and data_outputs in (None, hidden[-1]))
    if old_form:
        middle = ",".join(map(str, hidden[1:-1]))
        new = (f"--inputs {hidden[0]} --layers {middle} --outputs {hidden[-1]}" if middle
               else f"--inputs {hidden[0]} --outputs {hidden[-1]} (no hidden layer)")
        error_line(f"deprecated: --layers {shown} includes the input and output widths; "
                   f"--layers is the hidden widths: write {new}")
        return list(hidden)
    fallback_in, fallback_out = defaults if defaults is not None else (None, None)
    n_in = next((n for n in (inputs, data_inputs, fallback_in) if n is not None), None)
    n_out = next((n for n in (outputs, data_outputs, fallback_out) if n is not None), None)
    if n_in is None or n_out is None:
        missing = "--inputs" if n_in is None else "--outputs"
        raise OptionError(f"--layers {shown} gives the hidden widths; give {missing} too")
    return [n_in, *hidden, n_out]


def optimizer_spec(o: TrainingOptions) -> OptimizerSpec:
    """The optimizer --optimizer names, with --lr, --momentum, --nesterov and --weight-decay;
    --optimizer momentum is sgd with momentum 0.9 (or --momentum when given)."""
    if o.compiled_step:
        from backprop.jit import require_numba

        require_numba("--compiled-step")  # before the spec, to name the flag
    name, momentum = o.optimizer, o.momentum
    if name == "momentum":
        name, momentum = "sgd", momentum or 0.9
    with in_flags():
        return OptimizerSpec(name, lr=o.lr, momentum=momentum or None,
                             nesterov=o.nesterov or None, weight_decay=o.weight_decay,
                             compiled_step=o.compiled_step)


def build_optimizer(o: TrainingOptions) -> Optimizer:
    """The optimizer the options ``o`` describe (:func:`optimizer_spec`), built."""
    return spec.build_optimizer(optimizer_spec(o))


def build_schedule(o: TrainingOptions) -> Any:
    """The learning-rate schedule of --schedule (None: constant), after --warmup epochs."""
    from backprop.optim import schedules as s

    base: Any
    if o.schedule == "constant":
        base = None
    elif o.schedule == "step":
        base = s.StepDecay(o.step_size, gamma=o.gamma if o.gamma is not None else 0.1)
    elif o.schedule == "exponential":
        base = s.ExponentialDecay(o.gamma if o.gamma is not None else 0.95)
    else:
        base = s.CosineAnnealing(max(1, o.epochs - o.warmup), eta_min=o.eta_min)
    if o.warmup:
        return s.LinearWarmup(o.warmup, after=base)
    return base
