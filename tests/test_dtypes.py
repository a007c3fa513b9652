"""float32 end to end: no array of a float32 network or its optimizer is ever float64.

A float64 array in a float32 network doubles the memory traffic of every
operation it takes part in and silently changes the numbers; a float64
*scalar* (a Python float) times a float32 array stays float32 and is fine.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import backprop as bp
from backprop.nn.activations import activation_names, get_activation
from backprop.nn.losses import get_loss

F32 = np.dtype(np.float32)


def _arrays_of(obj: object) -> dict[str, np.ndarray]:
    """Every ndarray attribute of ``obj`` (one level deep, dicts and tuples included)."""
    found: dict[str, np.ndarray] = {}
    for name, value in vars(obj).items():
        values = value.values() if isinstance(value, dict) else (
            value if isinstance(value, tuple | list) else [value])
        for i, item in enumerate(values):
            items = item if isinstance(item, tuple) else (item,)
            for j, array in enumerate(items):
                if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                    found[f"{name}[{i}][{j}]"] = array
    return found


OPTIMIZERS: list[Callable[[], bp.Optimizer]] = [
    lambda: bp.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
    lambda: bp.RMSProp(lr=1e-3, momentum=0.5, weight_decay=1e-4),
    lambda: bp.Adam(lr=1e-3, weight_decay=1e-4),
    lambda: bp.AdamW(lr=1e-3),
]


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS, ids=["sgd", "rmsprop", "adam", "adamw"])
@pytest.mark.parametrize(
    ("hidden", "output", "loss", "y"),
    [
        ("relu", "softmax", "cross_entropy", np.arange(40) % 3),
        ("tanh", "sigmoid", "binary_cross_entropy", np.arange(40) % 2),
        ("sigmoid", "linear", "mse", np.linspace(-1.0, 1.0, 40)),
        ("leaky_relu", "sigmoid", "mse", np.linspace(0.1, 0.9, 40)),
    ],
    ids=["softmax-ce", "sigmoid-bce", "linear-mse", "sigmoid-mse"],
)
def test_training_a_float32_network_keeps_every_array_float32(
    make_optimizer: Callable[[], bp.Optimizer], hidden: str, output: str, loss: str,
    y: np.ndarray,
) -> None:
    X = np.random.default_rng(0).normal(size=(40, 5))  # float64 data is converted once, on entry
    n_out = 3 if loss == "cross_entropy" else 1
    net = bp.Network(
        [bp.Dense(5, 8, activation=hidden), bp.Dropout(8, 0.1), bp.BatchNorm(8),
         bp.Dense(8, n_out, activation=output)],
        loss=loss, seed=0, dtype="float32",
    )
    optimizer = make_optimizer()
    net.fit(X, y, epochs=2, batch_size=16, optimizer=optimizer, schedule=bp.CosineAnnealing(2),
            clip_norm=10.0)
    arrays = {"params": net.params, "grads": net.grads}
    for index, layer in enumerate(net.layers):
        arrays.update({f"layers[{index}].{k}": v for k, v in _arrays_of(layer).items()})
    arrays.update({f"network.{k}": v for k, v in _arrays_of(net).items()})
    arrays.update({f"optimizer.{k}": v for k, v in optimizer.state_dict()["arrays"].items()})
    arrays.update({f"optimizer.{k}": v for k, v in _arrays_of(optimizer).items()})
    assert len(arrays) > 10
    wrong = {name: str(a.dtype) for name, a in arrays.items() if a.dtype != F32}
    assert not wrong, f"float64 arrays in a float32 network: {wrong}"
    assert net.forward(X).dtype == F32
    assert net.predict_proba(X).dtype == F32


@pytest.mark.parametrize("name", activation_names())
def test_activations_compute_in_the_dtype_they_are_given(name: str) -> None:
    activation = get_activation(name)
    z = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    a = activation.function(z, out=np.empty_like(z))
    assert a.dtype == F32
    assert activation.derivative(z, a).dtype == F32
    grad = np.ones_like(z)
    assert activation.multiply_by_derivative(grad, z, a, out=np.empty_like(z)).dtype == F32


@pytest.mark.parametrize("name", ["mse", "binary_cross_entropy", "cross_entropy", "poisson"])
def test_loss_gradients_stay_float32(name: str) -> None:
    loss = get_loss(name)
    rng = np.random.default_rng(2)
    a = rng.uniform(0.05, 0.95, size=(6, 3)).astype(np.float32)
    a /= a.sum(axis=1, keepdims=True)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    assert loss.gradient(a, y, out=np.empty_like(a)).dtype == F32
    assert isinstance(loss.value(a, y), float)
