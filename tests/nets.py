"""Random networks and data for the tests: every allowed activation × loss pairing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import backprop as bp
from backprop.nn.activations import activation_names

#: Every registered activation (read once, when the tests are collected) but exp, whose
#: e^(e^z) overflows when random layers stack it: it is an output activation here.
HIDDEN_ACTIVATIONS = [name for name in activation_names() if name != "exp"]
#: Output activations each loss accepts (the pairings the math allows).
OUTPUTS_FOR_LOSS = {
    "mse": [*HIDDEN_ACTIVATIONS, "exp"],
    "binary_cross_entropy": ["sigmoid", "softmax"],
    "cross_entropy": ["softmax", "sigmoid"],
    "poisson": ["exp", "sigmoid"],
}


@dataclass
class Case:
    """A network with a batch (X, Y) it can be checked on."""

    net: bp.Network
    X: np.ndarray
    Y: np.ndarray


def targets(loss: str, m: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Targets the loss accepts: values for mse, [0,1] for BCE, one-hot rows for CE,
    counts for poisson."""
    if loss == "mse":
        return rng.normal(size=(m, n_out))
    if loss == "poisson":
        return rng.poisson(1.5, size=(m, n_out)).astype(float)
    if loss == "binary_cross_entropy":
        return rng.uniform(0.0, 1.0, size=(m, n_out))
    return np.eye(n_out)[rng.integers(0, n_out, size=m)]


@st.composite
def cases(draw: st.DrawFn, dtype: str = "float64") -> Case:
    """A random network of depth 1–5 with any allowed activations, and a batch of 1, 2 or 17."""
    loss = draw(st.sampled_from(list(OUTPUTS_FOR_LOSS)))
    output = draw(st.sampled_from(OUTPUTS_FOR_LOSS[loss]))
    depth = draw(st.integers(1, 5))
    smallest_output = 2 if (output == "softmax" or loss == "cross_entropy") else 1
    widths = [draw(st.integers(1, 5))]
    widths += [draw(st.integers(1, 6)) for _ in range(depth - 1)]
    widths.append(draw(st.integers(smallest_output, 4)))
    activations = [draw(st.sampled_from(HIDDEN_ACTIVATIONS)) for _ in range(depth - 1)]
    activations.append(output)
    bias = draw(st.booleans())
    layers = [
        bp.Dense(widths[i], widths[i + 1], activation=activations[i], bias=bias)
        for i in range(depth)
    ]
    seed = draw(st.integers(0, 2**16))
    net = bp.Network(layers, loss=loss, seed=seed, dtype=dtype, init="xavier_normal")
    m = draw(st.sampled_from([1, 2, 17]))
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(m, widths[0]))
    return Case(net, X, targets(loss, m, widths[-1], rng))
