"""The classic 2-3-1 sigmoid network without biases, E = ½(a − t)²: one online step.

The worked example of the textbook derivations, and the default network of
`backprop explain`: inputs x = (0.35, 0.9), target t = 0.5, learning rate
η = 0.5; w_jk is the weight from input k to hidden unit j, v_j the weight
from hidden unit j to the output. The library does the forward pass, the
gradients and the update; the script writes δ out by the equations and
checks that δ·(input) is the library's gradient. Every δ uses the weights
from before the update.

    python examples/classic_231.py
"""

from __future__ import annotations

import numpy as np

import backprop as bp

W = [[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]]  # w_jk: input k → hidden unit j
V = [[0.3, 0.9, 0.5]]  # v_j: hidden unit j → output
x = np.array([[0.35, 0.9]])
t = np.array([[0.5]])
lr = 0.5

net = bp.Network(
    [bp.Dense(2, 3, activation="sigmoid", bias=False),
     bp.Dense(3, 1, activation="sigmoid", bias=False)],
    loss="mse", dtype="float64")  # mse is ½ Σ (a − t)² per sample: E
hidden, output = net.layers
assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
hidden.W, output.W = W, V
w, v = hidden.W.copy(), output.W[0].copy()

(dW, _), (dV, _) = net.gradients(x, t)  # one forward and backward pass, caching z and a
h, y = hidden.a[0].copy(), output.a[0, 0]

print("forward")
for j in range(3):
    print(f"  z_{j + 1} = {w[j, 0]}·{x[0, 0]} + {w[j, 1]}·{x[0, 1]} = {hidden.z[0, j]:.6f}")
    print(f"  a_{j + 1} = σ(z_{j + 1}) = {h[j]:.6f}")
terms = " + ".join(f"{v[j]}·{h[j]:.6f}" for j in range(3))
print(f"  z_o = {terms} = {output.z[0, 0]:.6f}")
print(f"  a_o = σ(z_o) = {y:.6f}")
E = 0.5 * (y - t[0, 0]) ** 2
print(f"  E = ½(a_o − t)² = ½({y:.6f} − {t[0, 0]})² = {E:.6f}")

print("backward")
# (1) output error: δ_o = (a_o − t) σ'(z_o), with σ' = a(1 − a)
delta_o = (y - t[0, 0]) * y * (1 - y)
print(f"  δ_o = (a_o − t)·a_o(1 − a_o) = {y - t[0, 0]:.6f}·{y:.6f}·{1 - y:.6f} = {delta_o:.6f}")
# (2) hidden errors: δ_j = v_j δ_o σ'(z_j), with v before the update
delta = v * delta_o * h * (1 - h)
for j in range(3):
    print(f"  δ_{j + 1} = v_{j + 1}·δ_o·a_{j + 1}(1 − a_{j + 1}) = "
          f"{v[j]}·{delta_o:.6f}·{h[j] * (1 - h[j]):.6f} = {delta[j]:.6f}")

print("gradients (∂E/∂v_j = δ_o a_j, ∂E/∂w_jk = δ_j x_k), as the library computed them")
assert np.allclose(dV[0], delta_o * h) and np.allclose(dW, np.outer(delta, x[0]))
for j in range(3):
    print(f"  ∂E/∂v_{j + 1} = δ_o·a_{j + 1} = {dV[0, j]:.6f}")
for j in range(3):
    for k in range(2):
        print(f"  ∂E/∂w_{j + 1}{k + 1} = δ_{j + 1}·x_{k + 1} = {dW[j, k]:.6f}")

print(f"update: one online step of gradient descent, η = {lr}")
net.fit(x, t, epochs=1, batch_size=1, lr=lr)
for j in range(3):
    print(f"  v_{j + 1} ← {v[j]} − {lr}·{dV[0, j]:.6f} = {output.W[0, j]:.6f}")
for j in range(3):
    for k in range(2):
        print(f"  w_{j + 1}{k + 1} ← {w[j, k]} − {lr}·{dW[j, k]:.6f} = {hidden.W[j, k]:.6f}")
after = net.forward(x)[0, 0]
print(f"after the step: a_o = {after:.6f}, E = {0.5 * (after - t[0, 0]) ** 2:.6f}")
