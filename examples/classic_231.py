"""The classic 2-3-1 sigmoid network without biases, E = ½(a − t)²: one online step.

The worked example of the textbook derivations, and the default network of
`backprop explain`: inputs x = (0.35, 0.9), target y = 0.5, learning rate
η = 0.5. The names are those `backprop explain` prints (its layered
notation): the input is layer 0, w_jk^[1] is the weight from input k to
hidden unit j, w_1j^[2] the weight from hidden unit j to the output, and
z_j^[l], a_j^[l], δ_j^[l] belong to unit j of layer l. (Many tutorials
number the input as layer 1 and write the output's weight from hidden
node 2 as w21[2]: `backprop explain --notation from-to` prints that form.)
The library does the forward pass, the gradients and the update; the
script writes δ out by the equations and checks that δ·(input) is the
library's gradient. Every δ uses the weights from before the update.

    python examples/classic_231.py
"""

from __future__ import annotations

import numpy as np

import backprop as bp

W = [[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]]  # w_jk^[1]: input k → hidden unit j
V = [[0.3, 0.9, 0.5]]  # w_1j^[2]: hidden unit j → the output
x = np.array([[0.35, 0.9]])
y = np.array([[0.5]])
lr = 0.5

net = bp.Network(
    [bp.Dense(2, 3, activation="sigmoid", bias=False),
     bp.Dense(3, 1, activation="sigmoid", bias=False)],
    loss="mse", dtype="float64")  # mse is ℓ = ½ Σ (a − y)² per sample
hidden, output = net.layers
assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
hidden.W, output.W = W, V
w1, w2 = hidden.W.copy(), output.W[0].copy()

(dW1, _), (dW2, _) = net.gradients(x, y)  # one forward and backward pass, caching z and a
a1, a2 = hidden.a[0].copy(), output.a[0, 0]

print("forward")
for j in range(3):
    print(f"  z_{j + 1}^[1] = {w1[j, 0]}·{x[0, 0]} + {w1[j, 1]}·{x[0, 1]} = "
          f"{hidden.z[0, j]:.6f}")
    print(f"  a_{j + 1}^[1] = σ(z_{j + 1}^[1]) = {a1[j]:.6f}")
terms = " + ".join(f"{w2[j]}·{a1[j]:.6f}" for j in range(3))
print(f"  z_1^[2] = {terms} = {output.z[0, 0]:.6f}")
print(f"  a_1^[2] = σ(z_1^[2]) = {a2:.6f}")
loss = 0.5 * (a2 - y[0, 0]) ** 2
print(f"  ℓ = ½(a_1^[2] − y_1)² = ½({a2:.6f} − {y[0, 0]})² = {loss:.6f}")

print("backward")
# (1) output error: δ_1^[2] = (a_1^[2] − y_1) σ'(z_1^[2]), with σ' = a(1 − a)
delta2 = (a2 - y[0, 0]) * a2 * (1 - a2)
print(f"  δ_1^[2] = (a_1^[2] − y_1)·a_1^[2](1 − a_1^[2]) = {a2 - y[0, 0]:.6f}·{a2:.6f}·"
      f"{1 - a2:.6f} = {delta2:.6f}")
# (2) hidden errors: δ_j^[1] = w_1j^[2] δ_1^[2] σ'(z_j^[1]), with the weights before the update
delta1 = w2 * delta2 * a1 * (1 - a1)
for j in range(3):
    print(f"  δ_{j + 1}^[1] = w_1{j + 1}^[2]·δ_1^[2]·a_{j + 1}^[1](1 − a_{j + 1}^[1]) = "
          f"{w2[j]}·{delta2:.6f}·{a1[j] * (1 - a1[j]):.6f} = {delta1[j]:.6f}")

print("gradients (∂L/∂w_jk^[l] = δ_j^[l] a_k^[l-1]), as the library computed them")
assert np.allclose(dW2[0], delta2 * a1) and np.allclose(dW1, np.outer(delta1, x[0]))
for j in range(3):
    for k in range(2):
        print(f"  ∂L/∂w_{j + 1}{k + 1}^[1] = δ_{j + 1}^[1]·a_{k + 1}^[0] = {dW1[j, k]:.6f}")
for j in range(3):
    print(f"  ∂L/∂w_1{j + 1}^[2] = δ_1^[2]·a_{j + 1}^[1] = {dW2[0, j]:.6f}")

print(f"update: one online step of gradient descent, η = {lr}")
net.fit(x, y, epochs=1, batch_size=1, optimizer=bp.SGD(lr=lr))
for j in range(3):
    for k in range(2):
        print(f"  w_{j + 1}{k + 1}^[1] ← {w1[j, k]} − {lr}·{dW1[j, k]:.6f} = "
              f"{hidden.W[j, k]:.6f}")
for j in range(3):
    print(f"  w_1{j + 1}^[2] ← {w2[j]} − {lr}·{dW2[0, j]:.6f} = {output.W[0, j]:.6f}")
after = net.forward(x)[0, 0]
print(f"after the step: a_1^[2] = {after:.6f}, ℓ = {0.5 * (after - y[0, 0]) ** 2:.6f}")
