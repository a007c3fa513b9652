"""The buffered, in-place engine against a plain out-of-place evaluation of the four equations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

import backprop as bp
from nets import Case, cases


def _sigma(name: str, z: np.ndarray) -> np.ndarray:
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigma_backward(name: str, grad_a: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """∂L/∂a ⊙ σ'(z), written out per activation (softmax: its full Jacobian per sample)."""
    if name == "softmax":
        return np.stack([(np.diag(s) - np.outer(s, s)) @ g for s, g in zip(a, grad_a, strict=True)])
    derivative = {
        "linear": np.ones_like(z),
        "sigmoid": a * (1 - a),
        "tanh": 1 - a**2,
        "relu": (z > 0).astype(float),
        "leaky_relu": np.where(z > 0, 1.0, 0.01),
    }[name]
    return grad_a * derivative


def _loss_gradient(loss: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    if loss == "mse":
        return a - y
    if loss == "binary_cross_entropy":
        return (a - y) / (a * (1 - a))
    return -y / a


def reference_gradients(case: Case) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Equations (1)–(4), one sample at a time, as column vectors, averaged at the end."""
    layers = [layer for layer in case.net.layers if isinstance(layer, bp.Dense)]
    sums = [(np.zeros_like(layer.W), None if layer.b is None else np.zeros_like(layer.b))
            for layer in layers]
    m = case.X.shape[0]
    for x, y in zip(case.X, case.Y, strict=True):
        activations, zs = [x[:, None]], []
        for layer in layers:
            b = 0.0 if layer.b is None else layer.b[:, None]
            zs.append(layer.W @ activations[-1] + b)  # z = W a_prev + b
            activations.append(_sigma(layer.activation.name, zs[-1].T).T)
        out = layers[-1].activation.name
        # (1) δ^[L] = ∂L/∂a ⊙ σ'(z^[L])
        grad_a = _loss_gradient(case.net.loss.name, activations[-1].T, y[None, :])
        delta = _sigma_backward(out, grad_a, zs[-1].T, activations[-1].T).T
        for k in range(len(layers) - 1, -1, -1):  # k: layer index, 0-based
            dW, db = sums[k]
            dW += delta @ activations[k].T  # (4) δ^[l] a^[l-1]ᵀ
            if db is not None:
                db += delta[:, 0]  # (3) δ^[l]
            if k > 0:  # (2) δ^[l-1] = (W^[l]ᵀ δ^[l]) ⊙ σ'(z^[l-1])
                back = (layers[k].W.T @ delta).T
                name = layers[k - 1].activation.name
                delta = _sigma_backward(name, back, zs[k - 1].T, activations[k].T).T
    return [(dW / m, None if db is None else db / m) for dW, db in sums]


@settings(max_examples=80)
@given(case=cases())
def test_in_place_engine_equals_the_plain_equations(case: Case) -> None:
    ours = case.net.gradients(case.X, case.Y)
    for (dW, db), (ref_dW, ref_db) in zip(ours, reference_gradients(case), strict=True):
        np.testing.assert_allclose(dW, ref_dW, rtol=1e-9, atol=1e-12)
        if ref_db is not None:
            np.testing.assert_allclose(db, ref_db, rtol=1e-9, atol=1e-12)


def test_buffers_are_reused_across_batches_of_one_size() -> None:
    net = bp.Network([bp.Dense(3, 4, activation="relu"), bp.Dense(4, 2, activation="softmax")],
                     loss="cross_entropy", seed=0)
    rng = np.random.default_rng(0)
    net.gradients(rng.normal(size=(8, 3)), rng.integers(0, 2, size=8))
    first = net.layers[0].z
    second_grads = net.gradients(rng.normal(size=(8, 3)), rng.integers(0, 2, size=8))
    assert net.layers[0].z is first  # same work array, refilled in place
    assert np.shares_memory(net.layers[0].dW, net.grads)
    assert not np.shares_memory(second_grads[0][0], net.grads)  # gradients() hands out copies
