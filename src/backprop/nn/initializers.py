"""Weight initialization schemes for W^[l] of shape (n_out, n_in).

Each draws in float64 from the network's seeded generator and is then cast
to the network's dtype, so float32 and float64 networks built from the
same seed start from the same weights (up to rounding). Biases start at 0,
except under the sklearn schemes.

    zero            0 everywhere             every unit alike: the symmetry never breaks
    uniform         U(±0.5)                  a fixed range, whatever the layer's width
    normal          N(0, 1)                  unit variance, whatever the layer's width
    small_random    N(0, 1) × 0.01           the classic textbook choice
    xavier_uniform  U(±√(6 / (n_in + n_out)))  Glorot & Bengio 2010
    xavier_normal   N(0, 2 / (n_in + n_out))
    he              N(0, 2 / n_in)            He et al. 2015, for ReLU
    he_uniform      U(±√(6 / n_in))
    lecun           N(0, 1 / n_in)            LeCun et al. 1998
    lecun_uniform   U(±√(3 / n_in))
    sklearn_uniform U(±√(6 / (n_in + n_out))) for W and for b: scikit-learn's MLP's (its
                    ``_init_coef``), the estimators' default
    sklearn_logistic_uniform  U(±√(2 / (n_in + n_out))) for W and b: scikit-learn's for
                    a network of logistic units (every layer, the output's too)
    auto            the activation's choice (``Activation.auto_init``): he for relu and
                    leaky_relu, xavier_uniform otherwise
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from backprop.errors import OptionError, OptionTypeError

if TYPE_CHECKING:
    from backprop.nn.activations import Activation

Shape = tuple[int, int]
# np.random as a string: evaluating it here would load numpy.random at import
Initializer = Callable[["np.random.Generator", Shape], np.ndarray]


def zero(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.zeros(shape)


def uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return rng.uniform(-0.5, 0.5, shape)


def normal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape))


def small_random(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * 0.01)


def xavier_uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    n_out, n_in = shape
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, shape)


def xavier_normal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    n_out, n_in = shape
    return np.asarray(rng.standard_normal(shape) * np.sqrt(2.0 / (n_in + n_out)))


def he_normal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * np.sqrt(2.0 / shape[1]))


def he_uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    limit = np.sqrt(6.0 / shape[1])
    return rng.uniform(-limit, limit, shape)


def lecun_normal(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * np.sqrt(1.0 / shape[1]))


def lecun_uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    limit = np.sqrt(3.0 / shape[1])
    return rng.uniform(-limit, limit, shape)


#: scikit-learn's schemes → f of their bound √(f / (n_in + n_out)), for W and b alike.
SKLEARN_FACTORS = {"sklearn_uniform": 6.0, "sklearn_logistic_uniform": 2.0}


def _sklearn_limit(name: str, shape: Shape) -> float:
    n_out, n_in = shape
    return float(np.sqrt(SKLEARN_FACTORS[name] / (n_in + n_out)))


def sklearn_uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    limit = _sklearn_limit("sklearn_uniform", shape)
    return rng.uniform(-limit, limit, shape)


def sklearn_logistic_uniform(rng: np.random.Generator, shape: Shape) -> np.ndarray:
    limit = _sklearn_limit("sklearn_logistic_uniform", shape)
    return rng.uniform(-limit, limit, shape)


def sklearn_draw(rng: np.random.RandomState, name: str,
                 shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of a sklearn scheme drawn as scikit-learn's MLP draws them from its
    ``RandomState``: its (n_in, n_out) coefficients, then the biases; W is returned
    (n_out, n_in). The same ``random_state`` gives scikit-learn's initial numbers."""
    n_out, n_in = shape
    limit = _sklearn_limit(name, shape)
    coef = rng.uniform(-limit, limit, (n_in, n_out))
    bias = rng.uniform(-limit, limit, n_out)
    return coef.T, bias


def initial_bias(name: str, activation: Activation, rng: np.random.Generator,
                 shape: Shape) -> np.ndarray:
    """b^[l] at the start: under the sklearn schemes U(±limit) of W's (drawn after W),
    else 0."""
    name = resolve_init(name, activation)
    if name not in SKLEARN_FACTORS:
        return np.zeros(shape[0])
    limit = _sklearn_limit(name, shape)
    return rng.uniform(-limit, limit, shape[0])


INITIALIZERS: dict[str, Initializer] = {
    "sklearn_uniform": sklearn_uniform,
    "sklearn_logistic_uniform": sklearn_logistic_uniform,
    "small_random": small_random,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "lecun": lecun_normal,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "zero": zero,
    "uniform": uniform,
    "normal": normal,
}

#: Names accepted by :func:`get_initializer`, "auto" included.
INIT_NAMES: tuple[str, ...] = ("auto", *INITIALIZERS)


def resolve_init(name: str, activation: Activation) -> str:
    """The scheme's name, "auto" replaced by the activation's choice (He for ReLU-type units)."""
    return activation.auto_init if name == "auto" else name


def get_initializer(name: str, activation: Activation) -> Initializer:
    """The scheme called ``name``; "auto" picks the activation's (:func:`resolve_init`)."""
    if not isinstance(name, str):
        raise OptionTypeError(f"init must be a name, got {type(name).__name__}")
    name = resolve_init(name, activation)
    if name not in INITIALIZERS:
        raise OptionError(f"unknown init {name!r}; valid: {', '.join(INIT_NAMES)}")
    return INITIALIZERS[name]
