"""One hidden ReLU layer, a sigmoid output per class, one-vs-rest, online, on MNIST 0/1/2.

Each output unit k is a logistic "digit k or not" classifier on a shared
hidden layer: targets are one-hot rows, the loss is binary cross-entropy
summed over the output units, and training is online (one sample per
update). The prediction is the unit with the largest output.

The derivation writes each unit's bias as the weight w_0 of a constant input
x_0 = 1. The script builds that network too (no biases, inputs with a column
of ones in front, w_j0 = b_j) and shows that it gives the same outputs and
gradients as the network with a separate b. (The output units' biases are
w_0 of a constant hidden unit a_0 = 1 in the same way; a Dense layer has no
constant unit, so the output layer keeps its b here.)

Uses the library's MNIST (backprop.datasets.load_mnist, cached after
`backprop datasets fetch mnist`); without it, falls back to scikit-learn's
8x8 digits and says so.

    python examples/one_vs_rest_mnist.py
"""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop import datasets

DIGITS = [0, 1, 2]
N_TRAIN, N_TEST, HIDDEN, LR = 3000, 1000, 32, 0.01

try:
    data = datasets.load_mnist(download=False)
    source = "MNIST"
except bp.DataError as error:
    print(f"MNIST is not available ({error}); using scikit-learn's 8x8 digits instead")
    data = datasets.load_digits()
    source = "scikit-learn digits (8x8), NOT MNIST"
data = datasets.subset_classes(data, DIGITS)  # labels become 0..2, in DIGITS order
assert data.X_test is not None and data.y_test is not None
X, y = data.X_train[:N_TRAIN].astype(np.float64), data.y_train[:N_TRAIN]
X_test, y_test = data.X_test[:N_TEST].astype(np.float64), data.y_test[:N_TEST]
print(f"{source}: digits {DIGITS}, {len(X)} training and {len(X_test)} test images "
      f"of {X.shape[1]} pixels")

net = bp.Network(
    [bp.Dense(X.shape[1], HIDDEN, activation="relu"),
     bp.Dense(HIDDEN, len(DIGITS), activation="sigmoid")],
    loss="binary_cross_entropy", seed=0, dtype="float64")
net.fit(X, y, epochs=1, batch_size=1, lr=LR)  # online: one update per image

outputs = net.forward(X_test)
print("sigmoid outputs, one unit per class, for the first test image of each digit:")
for label, digit in enumerate(DIGITS):
    i = int(np.flatnonzero(y_test == label)[0])
    cells = "  ".join(f"{d}: {outputs[i, k]:.3f}" for k, d in enumerate(DIGITS))
    print(f"  a {digit}:  {cells}  → predicted {DIGITS[int(outputs[i].argmax())]}")
accuracy = net.evaluate(X_test, y_test)["accuracy"]
print(f"test accuracy on digits {DIGITS}: {accuracy:.4f}")

# -- the bias as the weight w_0 of a constant input x_0 = 1 -------------------------
hidden, output = net.layers
assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense) and hidden.b is not None
w0_net = bp.Network(
    [bp.Dense(X.shape[1] + 1, HIDDEN, activation="relu", bias=False),
     bp.Dense(HIDDEN, len(DIGITS), activation="sigmoid")],
    loss="binary_cross_entropy", dtype="float64")
w0_hidden, w0_output = w0_net.layers
assert isinstance(w0_hidden, bp.Dense) and isinstance(w0_output, bp.Dense)
w0_hidden.W = np.hstack([hidden.b[:, None], hidden.W])  # column 0: w_j0 = b_j
w0_output.W, w0_output.b = output.W, output.b


def with_ones(inputs: np.ndarray) -> np.ndarray:
    """x → (1, x): the constant input x_0 = 1 in front of every sample."""
    return np.hstack([np.ones((inputs.shape[0], 1)), inputs])


batch = slice(0, 64)
out_difference = np.max(np.abs(w0_net.forward(with_ones(X_test)) - outputs))
(dW, db), (dV, dc) = net.gradients(X[batch], y[batch])
(dW0, _), (dV0, dc0) = w0_net.gradients(with_ones(X[batch]), y[batch])
assert db is not None and dc is not None and dc0 is not None
grad_difference = max(
    np.max(np.abs(dW0[:, 0] - db)),  # ∂L/∂w_j0 = δ_j · 1 = ∂L/∂b_j
    np.max(np.abs(dW0[:, 1:] - dW)),
    np.max(np.abs(dV0 - dV)),
    np.max(np.abs(dc0 - dc)),
)
print("the same network with each hidden bias b_j as the weight w_j0 of an input x_0 = 1:")
print(f"  outputs on {len(X_test)} test images: max |difference| = {out_difference:.1e}")
print(f"  gradients on a batch of 64 (∂L/∂w_j0 against ∂L/∂b_j, and the rest): "
      f"max |difference| = {grad_difference:.1e}")
same = out_difference <= 1e-12 and grad_difference <= 1e-12
print(f"  same outputs and gradients (up to float64 rounding, 1e-12): {same}")
