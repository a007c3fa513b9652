"""A two-layer sigmoid network, vectorized: binary cross-entropy, × 0.01 init, 1/m averages.

The derivation of the vectorized course notes, on a toy binary problem (two
interleaved half-moons: 320 points to train on, 80 held out): small random
weights N(0, 1) × 0.01 and zero biases, sigmoid hidden units, a sigmoid
output, the cost
J = −1/m Σ_i [y log a + (1 − y) log(1 − a)], and full-batch gradient descent.
The script first writes the vectorized backward pass out in NumPy (one
sample per row, so the notes' W X becomes X Wᵀ) and checks it against the
library's gradients, then lets the library train and prints J falling.

    python examples/vectorized_bce.py
"""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop import datasets

HIDDEN, LR, ITERATIONS = 4, 5.0, 3000

data = datasets.make_moons(n_samples=400, noise=0.15, seed=0)
X, y = data.X_train.astype(np.float64), data.y_train  # X: (m, 2), y: (m,) of 0/1
Y = y.reshape(-1, 1).astype(np.float64)
m = X.shape[0]

net = bp.Network(
    [bp.Dense(2, HIDDEN, activation="sigmoid"), bp.Dense(HIDDEN, 1, activation="sigmoid")],
    loss="binary_cross_entropy", init="small_random", seed=1, dtype="float64")
layer1, layer2 = net.layers
assert isinstance(layer1, bp.Dense) and isinstance(layer2, bp.Dense)
assert layer1.b is not None and layer2.b is not None
W1, b1, W2, b2 = layer1.W, layer1.b, layer2.W, layer2.b


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# forward, for all m samples at once
A1 = sigmoid(X @ W1.T + b1)  # (m, HIDDEN)
A2 = sigmoid(A1 @ W2.T + b2)  # (m, 1)
J = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
# backward: sigmoid + cross-entropy gives dZ2 = A2 − Y; every gradient is a 1/m average
dZ2 = A2 - Y
dW2 = dZ2.T @ A1 / m
db2 = dZ2.sum(axis=0) / m
dZ1 = (dZ2 @ W2) * A1 * (1 - A1)
dW1 = dZ1.T @ X / m
db1 = dZ1.sum(axis=0) / m

library = net.gradients(X, y)
mine = [(dW1, db1), (dW2, db2)]
difference = max(float(np.max(np.abs(a - b))) for pair_a, pair_b in zip(mine, library,
                                                                         strict=True)
                 for a, b in zip(pair_a, pair_b, strict=True) if b is not None)
print(f"{m} samples, {HIDDEN} sigmoid hidden units, init N(0, 1) × 0.01, η = {LR}")
print(f"initial cost J = {J:.6f} (weights near 0 give a ≈ 0.5 for every sample: J ≈ ln 2)")
print(f"vectorized gradients written out here vs the library's: "
      f"max |difference| = {difference:.1e}")

history = net.fit(X, y, epochs=ITERATIONS, batch_size=None, lr=LR)  # one epoch = one step
for iteration in range(0, ITERATIONS, 500):
    print(f"iteration {iteration:>4}: J = {history['loss'][iteration]:.6f}")
final = net.evaluate(X, y)
print(f"iteration {ITERATIONS:>4}: J = {final['loss']:.6f}")
assert data.X_test is not None
test = net.evaluate(data.X_test.astype(np.float64), data.y_test)
print(f"accuracy: training {final['accuracy']:.4f}, test {test['accuracy']:.4f} "
      f"({data.X_test.shape[0]} held-out points)")
