"""A 2-2-2 sigmoid network with biases, one sample with two targets: one step.

The numbers of the well-known step-by-step example: inputs i = (0.05, 0.10),
targets (0.01, 0.99), η = 0.5; w1..w4 from the inputs to the hidden units
h1, h2 with bias b1 = 0.35, w5..w8 from h1, h2 to the outputs o1, o2 with bias
b2 = 0.60 (w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2; w5: h1→o1, w6: h2→o1,
w7: h1→o2, w8: h2→o2). E_total = Σ_k ½(target_k − out_k)², the library's mse
for one sample. The derivation leaves the biases where they are, so its layers
are built with ``train_bias=False``; for comparison the script also takes the
same step with the biases trained, as a layer's default does.

    python examples/classic_222.py
"""

from __future__ import annotations

import numpy as np

import backprop as bp

inputs = np.array([[0.05, 0.10]])
targets = np.array([[0.01, 0.99]])
lr = 0.5
W_hidden = [[0.15, 0.20], [0.25, 0.30]]  # rows h1, h2: [w1, w2], [w3, w4]
W_output = [[0.40, 0.45], [0.50, 0.55]]  # rows o1, o2: [w5, w6], [w7, w8]
names = {"hidden": [["w1", "w2"], ["w3", "w4"]], "output": [["w5", "w6"], ["w7", "w8"]]}



def network(train_bias: bool) -> bp.Network:
    """The example's network; ``train_bias=False`` keeps b1 and b2 fixed, as the derivation."""
    net = bp.Network(
        [bp.Dense(2, 2, activation="sigmoid", train_bias=train_bias),
         bp.Dense(2, 2, activation="sigmoid", train_bias=train_bias)],
        loss="mse", dtype="float64")
    hidden, output = net.layers
    assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
    hidden.W, hidden.b = W_hidden, [0.35, 0.35]  # one bias b1 shared by h1 and h2
    output.W, output.b = W_output, [0.60, 0.60]  # and b2 by o1 and o2
    return net


net = network(train_bias=False)
hidden, output = net.layers
assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
before = {"hidden": hidden.W.copy(), "output": output.W.copy()}

(dW_h, db_h), (dW_o, db_o) = net.gradients(inputs, targets)
net_h, out_h = hidden.z[0].copy(), hidden.a[0].copy()
net_o, out_o = output.z[0].copy(), output.a[0].copy()

print("forward")
for j in range(2):
    print(f"  net_h{j + 1} = {net_h[j]:.9f}    out_h{j + 1} = σ(net_h{j + 1}) = {out_h[j]:.9f}")
for k in range(2):
    print(f"  net_o{k + 1} = {net_o[k]:.9f}    out_o{k + 1} = σ(net_o{k + 1}) = {out_o[k]:.9f}")
errors = 0.5 * (targets[0] - out_o) ** 2
for k in range(2):
    print(f"  E_o{k + 1} = ½(target_o{k + 1} − out_o{k + 1})² = {errors[k]:.9f}")
print(f"  E_total = E_o1 + E_o2 = {errors.sum():.9f}")

print("backward")
# (1) δ_ok = ∂E/∂net_ok = (out_ok − target_ok)·out_ok(1 − out_ok)
delta_o = (out_o - targets[0]) * out_o * (1 - out_o)
for k in range(2):
    print(f"  δ_o{k + 1} = (out_o{k + 1} − target_o{k + 1})·out_o{k + 1}(1 − out_o{k + 1}) = "
          f"{delta_o[k]:.9f}")
# (2) δ_hj = (Σ_k w_kj δ_ok)·out_hj(1 − out_hj), with the weights before the update
delta_h = (before["output"].T @ delta_o) * out_h * (1 - out_h)
for j in range(2):
    print(f"  δ_h{j + 1} = (Σ_k w_k{j + 1} δ_ok)·out_h{j + 1}(1 − out_h{j + 1}) = "
          f"{delta_h[j]:.9f}")
# (3), (4): the library's gradients are δ times the unit's input (and δ for a bias)
assert np.allclose(dW_o, np.outer(delta_o, out_h)) and np.allclose(db_o, delta_o)
assert np.allclose(dW_h, np.outer(delta_h, inputs[0])) and np.allclose(db_h, delta_h)



def factor(value: float) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    return f"{value:.9f}" if value >= 0 else f"({value:.9f})"


print(f"gradients and the update (η = {lr}), weights from before the update")
gradients = {"hidden": dW_h, "output": dW_o}
net.fit(inputs, targets, epochs=1, batch_size=1, optimizer=bp.SGD(lr=lr))
after = {"hidden": hidden.W, "output": output.W}
for layer in ("output", "hidden"):
    for j in range(2):
        for k in range(2):
            name = names[layer][j][k]
            print(f"  ∂E/∂{name} = {gradients[layer][j, k]:.9f}    {name} ← "
                  f"{before[layer][j, k]} − {lr}·{factor(gradients[layer][j, k])} = "
                  f"{after[layer][j, k]:.9f}")
assert hidden.b is not None and output.b is not None
print(f"  biases, frozen as in the derivation: b1 = {hidden.b[0]:g}, b2 = {output.b[0]:g}")
new_out = net.forward(inputs)[0]
print(f"after the step: E_total = {0.5 * np.sum((targets[0] - new_out) ** 2):.9f}")

# The same step with the biases trained too: b ← b − η δ per unit, and a lower error.
trained = network(train_bias=True)
trained.fit(inputs, targets, epochs=1, batch_size=1, optimizer=bp.SGD(lr=lr))
hidden_t, output_t = trained.layers
assert isinstance(hidden_t, bp.Dense) and isinstance(output_t, bp.Dense)
assert hidden_t.b is not None and output_t.b is not None
print("with the biases trained as well: "
      f"b1 ← {hidden_t.b[0]:.9f}, {hidden_t.b[1]:.9f} (per hidden unit); "
      f"b2 ← {output_t.b[0]:.9f}, {output_t.b[1]:.9f} (per output)")
trained_out = trained.forward(inputs)[0]
print(f"with the biases trained: E_total = "
      f"{0.5 * np.sum((targets[0] - trained_out) ** 2):.9f}")
