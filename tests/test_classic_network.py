"""The classic 2-3-1 network of the textbook derivations, one online step written out by hand.

Inputs x1, x2; three hidden sigmoid units; one sigmoid output; no biases;
E = ½(a − t)². Every number below comes from the four equations, computed
with scalar arithmetic in this file, never from the library's backward pass.
"""

from __future__ import annotations

import math

import numpy as np

import backprop as bp


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


x = [0.35, 0.9]
t = 0.5
eta = 1.0
w = [[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]]  # w[j][k]: input k → hidden unit j
v = [0.3, 0.9, 0.5]  # v[j]: hidden unit j → output


def by_hand() -> dict[str, object]:
    # forward: z_j = Σ_k w_jk x_k, a_j = σ(z_j); z = Σ_j v_j a_j, a = σ(z)
    z_hidden = [w[j][0] * x[0] + w[j][1] * x[1] for j in range(3)]
    a_hidden = [sigmoid(z) for z in z_hidden]
    z_out = v[0] * a_hidden[0] + v[1] * a_hidden[1] + v[2] * a_hidden[2]
    a_out = sigmoid(z_out)
    error = 0.5 * (a_out - t) ** 2
    # (1) δ = (a − t) σ'(z) = (a − t) a (1 − a)
    delta_out = (a_out - t) * a_out * (1.0 - a_out)
    # (4) ∂E/∂v_j = δ a_j
    grad_v = [delta_out * a_hidden[j] for j in range(3)]
    # (2) δ_j = v_j δ σ'(z_j), with v from before the update
    delta_hidden = [v[j] * delta_out * a_hidden[j] * (1.0 - a_hidden[j]) for j in range(3)]
    # (4) ∂E/∂w_jk = δ_j x_k
    grad_w = [[delta_hidden[j] * x[k] for k in range(2)] for j in range(3)]
    return {
        "a_hidden": a_hidden,
        "a_out": a_out,
        "error": error,
        "grad_v": grad_v,
        "grad_w": grad_w,
        "new_v": [v[j] - eta * grad_v[j] for j in range(3)],
        "new_w": [[w[j][k] - eta * grad_w[j][k] for k in range(2)] for j in range(3)],
    }


def classic_network() -> bp.Network:
    net = bp.Network(
        [
            bp.Dense(2, 3, activation="sigmoid", bias=False),
            bp.Dense(3, 1, activation="sigmoid", bias=False),
        ],
        loss="mse",
        dtype="float64",
    )
    net.layers[0].W = w
    net.layers[1].W = [v]
    return net


def test_the_hand_computed_numbers_are_what_the_derivation_says() -> None:
    numbers = by_hand()
    # a sanity anchor computed independently: z_out = 0.3σ(0.755) + 0.9σ(0.68) + 0.5σ(0.285)
    assert numbers["a_out"] == sigmoid(
        0.3 * sigmoid(0.755) + 0.9 * sigmoid(0.68) + 0.5 * sigmoid(0.285)
    )


def test_forward_and_loss_match_by_hand() -> None:
    numbers = by_hand()
    net = classic_network()
    X = np.array([x])
    np.testing.assert_allclose(net.forward(X), [[numbers["a_out"]]], rtol=1e-15)
    np.testing.assert_allclose(net.layers[0].a, [numbers["a_hidden"]], rtol=1e-15)  # type: ignore[attr-defined]
    assert math.isclose(net.evaluate(X, [t])["loss"], numbers["error"], rel_tol=1e-14)  # type: ignore[arg-type]


def test_gradients_match_by_hand() -> None:
    numbers = by_hand()
    (dW1, db1), (dW2, db2) = classic_network().gradients(np.array([x]), np.array([t]))
    assert db1 is None and db2 is None
    np.testing.assert_allclose(dW2, [numbers["grad_v"]], rtol=1e-13)
    np.testing.assert_allclose(dW1, numbers["grad_w"], rtol=1e-13)


def test_one_online_step_matches_by_hand_using_the_weights_before_the_update() -> None:
    numbers = by_hand()
    net = classic_network()
    net.fit(np.array([x]), np.array([t]), epochs=1, batch_size=1, lr=eta)
    np.testing.assert_allclose(net.layers[1].W, [numbers["new_v"]], rtol=1e-13)
    np.testing.assert_allclose(net.layers[0].W, numbers["new_w"], rtol=1e-13)
    # and the step lowered the error
    assert net.evaluate(np.array([x]), [t])["loss"] < numbers["error"]  # type: ignore[operator]
