"""The estimators' parameters: their checks, one table, and what each becomes in the library.

scikit-learn's activation names map onto the library's (identity → linear,
logistic → sigmoid); the library's own names (leaky_relu, ...), a user's
registered ones and :class:`~backprop.Activation` objects pass through.
The solvers become the library's optimizers: sgd → :class:`~backprop.SGD`
(momentum, Nesterov), adam → :class:`~backprop.Adam`, plus rmsprop and adamw;
lbfgs is SciPy's L-BFGS-B (:mod:`backprop.sklearn.lbfgs`).
"""

from __future__ import annotations

import copy
import inspect
import numbers
from collections.abc import Callable
from typing import Any

from backprop.errors import OptionError
from backprop.jit import require_numba
from backprop.nn.activations import (
    Activation,
    activation_names,
    get_activation,
    hidden_activation_names,
)
from backprop.nn.initializers import INIT_NAMES
from backprop.optim.base import Optimizer
from backprop.spec import OptimizerSpec, build_optimizer
from backprop.training.callbacks import missing_hooks

#: scikit-learn's activation names → the library's.
SKLEARN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
#: The library's output activations → scikit-learn's names (``out_activation_``).
OUT_ACTIVATION_NAMES = {"linear": "identity", "sigmoid": "logistic", "softmax": "softmax",
                        "exp": "exp"}
#: MLPRegressor's losses (scikit-learn's names) → (output activation, the library's loss).
REGRESSION_LOSSES = {"squared_error": ("linear", "mse"), "poisson": ("exp", "poisson")}
STOCHASTIC_SOLVERS = ("sgd", "adam", "rmsprop", "adamw")
SOLVERS = ("lbfgs", *STOCHASTIC_SOLVERS)
LEARNING_RATES = ("constant", "invscaling", "adaptive")
#: What early stopping watches on its validation split: scikit-learn's score, or the loss.
EARLY_STOPPING_METRICS = ("score", "loss")


class InvalidParameterError(ValueError, TypeError):
    """A parameter value the estimator does not take: a ValueError and a TypeError, as
    scikit-learn's own parameter errors are, so either ``except`` catches it."""


def library_activation(value: str | Activation) -> str | Activation:
    """The library's name for ``value`` (scikit-learn's or the library's own), or a copy of
    an Activation object (the network never shares the parameter's object)."""
    if isinstance(value, Activation):
        return copy.deepcopy(value)
    return SKLEARN_ACTIVATIONS.get(value, value)


def network_init(init: str, activation: str | Activation) -> str:
    """The network's init scheme for the estimators' ``init``: "sklearn_uniform" is
    scikit-learn's, whose bound is narrower (f = 2) in every layer of a logistic network."""
    if isinstance(activation, Activation):
        name = activation.name
    else:
        name = SKLEARN_ACTIVATIONS.get(activation, activation)
    if init == "sklearn_uniform" and name == "sigmoid":
        return "sklearn_logistic_uniform"
    return init


def _number(low: float, high: float, *, low_open: bool = False, high_open: bool = False,
            integer: bool = False) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        kind = numbers.Integral if integer else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            return False
        number = float(value)
        above = number > low if low_open else number >= low
        below = number < high if high_open else number <= high
        return bool(above and below)

    return check


def _one_of(*choices: Any) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str | type(None)) and value in choices


def _hidden_sizes(value: Any) -> bool:
    sizes = [value] if isinstance(value, numbers.Integral) else value
    try:
        return all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and int(s) > 0
            for s in sizes
        )
    except TypeError:
        return False


def _batch_size(value: Any) -> bool:
    return value == "auto" if isinstance(value, str) else _number(1, float("inf"), integer=True)(
        value
    )


def _activation(value: Any) -> bool:
    """A hidden activation's name (scikit-learn's or the registry's), or an elementwise
    Activation object that its registered name and config rebuild (so a fitted estimator's
    network, saved as a model file when pickled, loads again)."""
    if isinstance(value, str):
        return library_activation(value) in hidden_activation_names()
    if not isinstance(value, Activation) or not value.elementwise:
        return False
    if value.name not in activation_names():
        return False
    try:
        rebuilt = get_activation(value.config())
    except (OptionError, TypeError):  # the registry's factory does not take its config
        return False
    return type(rebuilt) is type(value) and rebuilt == value


def _activations_accepted() -> str:
    return ("identity, logistic, tanh, relu, a hidden activation of the library by name "
            f"({', '.join(hidden_activation_names())}), or an Activation object whose name "
            "is registered (backprop.register_activation) and whose config() rebuilds it")


def _callbacks(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, list | tuple) and not any(missing_hooks(c) for c in value)


def _dtype(value: Any) -> bool:
    return value is None or str(value) in ("float32", "float64") or value in (float,)


def _clip(value: Any) -> bool:
    return value is None or _number(0, float("inf"), low_open=True)(value)


def _class_weight(value: Any) -> bool:
    if value is None or value == "balanced":
        return True
    return isinstance(value, dict) and all(
        _number(0, float("inf"), high_open=True)(weight) for weight in value.values())


INF = float("inf")
#: parameter → (test, what a valid value is, or a function saying it where it changes):
#: one row per parameter.
PARAMETERS: dict[str, tuple[Callable[[Any], bool], str | Callable[[], str]]] = {
    "hidden_layer_sizes": (_hidden_sizes, "a positive integer or a sequence of them"),
    "activation": (_activation, _activations_accepted),
    "solver": (_one_of(*SOLVERS), "one of " + ", ".join(SOLVERS)),
    "alpha": (_number(0, INF, high_open=True), "a number ≥ 0"),
    "batch_size": (_batch_size, "'auto' or a positive integer"),
    "learning_rate": (_one_of(*LEARNING_RATES), "one of " + ", ".join(LEARNING_RATES)),
    "learning_rate_init": (_number(0, INF, low_open=True, high_open=True), "a number > 0"),
    "power_t": (_number(0, INF, high_open=True), "a number ≥ 0"),
    "max_iter": (_number(1, INF, integer=True), "a positive integer"),
    "shuffle": (lambda v: isinstance(v, bool), "True or False"),
    "tol": (_number(0, INF, high_open=True), "a number ≥ 0"),
    "verbose": (lambda v: isinstance(v, bool | numbers.Integral), "True or False"),
    "warm_start": (lambda v: isinstance(v, bool), "True or False"),
    "momentum": (_number(0, 1), "a number in [0, 1]"),
    "nesterovs_momentum": (lambda v: isinstance(v, bool), "True or False"),
    "early_stopping": (lambda v: isinstance(v, bool), "True or False"),
    "validation_fraction": (_number(0, 1, high_open=True), "a number in [0, 1)"),
    "beta_1": (_number(0, 1, high_open=True), "a number in [0, 1)"),
    "beta_2": (_number(0, 1, high_open=True), "a number in [0, 1)"),
    "epsilon": (_number(0, INF, low_open=True, high_open=True), "a number > 0"),
    "n_iter_no_change": (lambda v: _number(1, INF, integer=True)(v) or v == INF,
                         "a positive integer or inf"),
    "max_fun": (_number(1, INF, integer=True), "a positive integer"),
    "init": (_one_of(*INIT_NAMES), "one of " + ", ".join(INIT_NAMES)),
    "dropout": (_number(0, 1, high_open=True), "a rate in [0, 1)"),
    "batch_norm": (lambda v: isinstance(v, bool), "True or False"),
    "dtype": (_dtype, "None, 'float32' or 'float64'"),
    "clip_norm": (_clip, "None or a number > 0"),
    "compiled_step": (lambda v: isinstance(v, bool), "True or False"),
    "compiled": (lambda v: isinstance(v, bool), "True or False"),
    "early_stopping_metric": (_one_of(*EARLY_STOPPING_METRICS),
                              "one of " + ", ".join(EARLY_STOPPING_METRICS)),
    "restore_best_weights": (lambda v: isinstance(v, bool), "True or False"),
    "callbacks": (_callbacks, "None or a list of backprop.Callback objects"),
    # MLPClassifier's only
    "class_weight": (_class_weight,
                     "None, 'balanced' or a dict {class: weight} of numbers ≥ 0"),
    # MLPRegressor's only
    "loss": (_one_of(*REGRESSION_LOSSES), "one of " + ", ".join(REGRESSION_LOSSES)),
}


def check_parameters(estimator_name: str, params: dict[str, Any]) -> None:
    """Raise :class:`InvalidParameterError` (a ValueError and a TypeError) naming the first
    parameter whose value is not valid and what its valid values are."""
    for name, (valid, expected) in PARAMETERS.items():
        if name in params and not valid(params[name]):
            said = expected if isinstance(expected, str) else expected()
            raise InvalidParameterError(
                f"{estimator_name}: {name} must be {said}, got {params[name]!r}"
            )


def with_parameters(base_init: Callable[..., None], **extra: Any) -> Callable[..., None]:
    """An ``__init__`` taking ``base_init``'s parameters and, keyword-only, ``extra``
    (name → default): one estimator's own parameters beside the shared ones, which
    are so declared once. Its signature lists them all (scikit-learn's get_params
    reads it)."""
    signature = inspect.signature(base_init)
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
             for name, default in extra.items()]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for name, default in extra.items():
            setattr(self, name, kwargs.pop(name, default))
        base_init(self, *args, **kwargs)

    __init__.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *added])
    __init__.__doc__ = base_init.__doc__
    return __init__


def hidden_sizes(value: Any) -> list[int]:
    """hidden_layer_sizes as a list of widths (an int is one hidden layer)."""
    return [int(value)] if isinstance(value, numbers.Integral) else [int(s) for s in value]


def optimizer_spec(params: dict[str, Any]) -> OptimizerSpec:
    """A stochastic solver and its parameters in the library's words: sgd takes
    ``momentum`` (Nesterov's with ``nesterovs_momentum``, when momentum > 0); adam, adamw
    and rmsprop take ``epsilon``, adam and adamw ``beta_1`` and ``beta_2``; the rest keep
    the library's defaults (adamw's weight decay 0.01: ``alpha`` is the objective's L2)."""
    solver, lr = params["solver"], float(params["learning_rate_init"])
    compiled = bool(params.get("compiled_step", False) or params.get("compiled", False))
    if solver == "sgd":
        momentum = float(params["momentum"])
        nesterov = bool(params["nesterovs_momentum"]) and momentum > 0
        return OptimizerSpec("sgd", lr=lr, momentum=momentum, nesterov=nesterov or None,
                             compiled_step=compiled)
    if solver not in STOCHASTIC_SOLVERS:
        raise ValueError(f"solver {solver!r} is not stochastic")
    betas = (float(params["beta_1"]), float(params["beta_2"])) if solver != "rmsprop" else None
    return OptimizerSpec(solver, lr=lr, betas=betas, eps=float(params["epsilon"]),
                         compiled_step=compiled)


def make_optimizer(params: dict[str, Any]) -> Optimizer:
    """The library's optimizer for a stochastic solver, from the estimator's parameters,
    its update compiled when ``compiled_step`` or ``compiled`` asks (numba)."""
    if params.get("compiled_step", False) or params.get("compiled", False):
        require_numba("compiled_step" if params.get("compiled_step") else "compiled")
    return build_optimizer(optimizer_spec(params))


def has_stochastic_solver(estimator: Any) -> bool:
    """True for a stochastic solver; else AttributeError (so partial_fit is hidden for lbfgs)."""
    if estimator.solver not in STOCHASTIC_SOLVERS:
        raise AttributeError(
            f"partial_fit is only available for stochastic solvers "
            f"({', '.join(STOCHASTIC_SOLVERS)}); {estimator.solver!r} is not one"
        )
    return True
