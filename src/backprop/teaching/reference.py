"""The four equations once more, out of place, one sample at a time, in float64.

The engine (:meth:`Network.backprop`) works in place on whole batches for
speed; this module writes the same step the way the equations read, as
column vectors of one sample, so the two can be compared and the worked
step (:func:`backprop.explain`) can show each number:

    z^[l] = W^[l] a^[l-1] + b^[l],   a^[l] = σ(z^[l]),   a^[0] = x
    (1) δ^[L] = ∂ℓ/∂a^[L] ⊙ σ'(z^[L])            (a^[L] − y for a canonical pair)
    (2) δ^[l] = (W^[l+1]ᵀ δ^[l+1]) ⊙ σ'(z^[l])
    (3) ∂L/∂b^[l] = 1/m Σ_i δ_i^[l]
    (4) ∂L/∂W^[l] = 1/m Σ_i δ_i^[l] a_i^[l-1]ᵀ

A softmax layer's Jacobian is not diagonal: its ⊙σ'(z) becomes
δ_j = a_j (g_j − Σ_i g_i a_i) with g the factor before it.

``mistake`` swaps in one of :data:`MISTAKES`, backward rules that are
KNOWN TO BE WRONG, for teaching and for showing that the tests catch them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backprop.network import Network
from backprop.nn.activations import Softmax
from backprop.nn.layers import Dense

#: Known-wrong backward rules, by name. Each gives wrong gradients on purpose.
MISTAKES: dict[str, str] = {
    "drop-sigma-prime": "WRONG: the hidden error without ⊙σ'(z): δ^[l] = W^[l+1]ᵀ δ^[l+1]",
    "stale-weights": "WRONG: the hidden error uses W^[l+1] − η ∂L/∂W^[l+1], the weights "
                     "already updated (a per-neuron loop that updates as it goes; needs lr)",
    "transpose-W": "WRONG: W^[l+1] δ^[l+1] instead of W^[l+1]ᵀ δ^[l+1] (square layers only)",
    "forget-1/m": "WRONG: ∂L/∂W summed over the batch instead of averaged (∂L/∂b averaged)",
    "sum-not-mean": "WRONG: ∂L/∂W and ∂L/∂b summed over the batch: the gradient of Σ ℓ, "
                    "not of the mean loss",
}


@dataclass(frozen=True)
class ReferenceStep:
    """Every quantity of one step, per sample (rows), float64; layers l = 1..L."""

    zs: list[np.ndarray]  # z^[l], each (m, n_l)
    activations: list[np.ndarray]  # a^[0] = X, then a^[l], each (m, n_l)
    deltas: list[np.ndarray]  # δ^[l], each (m, n_l)
    dW: list[np.ndarray]  # ∂L/∂W^[l] of the mean loss, (n_l, n_{l-1})
    db: list[np.ndarray | None]  # ∂L/∂b^[l], (n_l,); None for a layer without bias
    loss: float  # L, the mean over the batch of ℓ
    sample_losses: np.ndarray  # ℓ of each sample, (m,)
    # the factor before ⊙σ'(z^[l]): ∂ℓ/∂a^[L] for l = L, W^[l+1]ᵀ δ^[l+1] below;
    # None for the output of a canonical pair, whose δ^[L] = a^[L] − y skips it
    upstream: list[np.ndarray | None]


def reference_step(net: Network, X: Any, Y: Any, *, mistake: str | None = None,
                   lr: float | None = None) -> ReferenceStep:
    """The forward pass and equations (1)–(4) of ``net`` on (X, Y), sample by sample.

    X is (m, n_inputs) and Y (m, n_outputs), as from ``net.check_inputs`` and
    ``net.prepare_targets``. ``net`` is read, never changed. ``mistake`` names
    a known-wrong rule of :data:`MISTAKES` to use instead of the right one;
    ``lr`` is the learning rate that "stale-weights" updates with.
    """
    layers = [layer for layer in net.layers if isinstance(layer, Dense)]
    if len(layers) != len(net.layers):
        raise ValueError("the reference handles Dense layers only")
    if mistake is not None and mistake not in MISTAKES:
        raise ValueError(f"unknown mistake {mistake!r}; valid: {', '.join(MISTAKES)}")
    if mistake == "stale-weights" and lr is None:
        raise ValueError("the stale-weights mistake needs lr, the learning rate of the update")
    Ws = [np.array(layer.W, dtype=np.float64) for layer in layers]
    bs = [None if layer.b is None else np.array(layer.b, dtype=np.float64) for layer in layers]
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    m, L = X.shape[0], len(layers)
    # index k = l − 1 of layer l: zs[k] = z^[l], activations[k + 1] = a^[l], deltas[k] = δ^[l]
    zs = [np.empty((m, layer.n_out)) for layer in layers]
    activations = [X] + [np.empty((m, layer.n_out)) for layer in layers]
    deltas = [np.empty((m, layer.n_out)) for layer in layers]
    upstream = [np.empty((m, layer.n_out)) for layer in layers]
    sample_losses = np.empty(m)
    for i in range(m):
        a = X[i]
        for k, (layer, W, b) in enumerate(zip(layers, Ws, bs, strict=True)):
            z = W @ a if b is None else W @ a + b  # z^[l] = W^[l] a^[l-1] + b^[l]
            a = _sigma(layer, z)  # a^[l] = σ(z^[l])
            zs[k][i], activations[k + 1][i] = z, a
        z_L, a_L, y = zs[-1][i : i + 1], activations[-1][i : i + 1], Y[i : i + 1]
        if net.fused_output:
            sample_losses[i] = net.loss.value_from_logits(z_L, y)
            deltas[-1][i] = a_L[0] - y[0]  # (1) for a canonical pair: δ^[L] = a^[L] − y
        else:
            sample_losses[i] = net.loss.value(a_L, y)
            upstream[-1][i] = net.loss.gradient(a_L, y, out=np.empty_like(a_L))[0]  # ∂ℓ/∂a^[L]
            deltas[-1][i] = _times_sigma_prime(layers[-1], upstream[-1][i], z_L[0], a_L[0])  # (1)
    dW: list[np.ndarray] = []
    db: list[np.ndarray | None] = []
    for k in range(L - 1, -1, -1):  # from the output layer down
        m_W = 1.0 if mistake in ("forget-1/m", "sum-not-mean") else float(m)
        m_b = 1.0 if mistake == "sum-not-mean" else float(m)
        outer = np.zeros_like(Ws[k])
        for delta, a_below in zip(deltas[k], activations[k], strict=True):
            outer += np.outer(delta, a_below)
        dW.insert(0, outer / m_W)  # (4) ∂L/∂W^[l] = 1/m Σ_i δ_i^[l] a_i^[l-1]ᵀ
        db.insert(0, None if bs[k] is None else deltas[k].sum(axis=0) / m_b)  # (3) 1/m Σ_i δ_i^[l]
        if k == 0:
            break
        W = Ws[k] - lr * dW[0] if mistake == "stale-weights" and lr is not None else Ws[k]
        for i in range(m):
            upstream[k - 1][i] = _propagate(W, deltas[k][i], k, mistake)  # W^[l+1]ᵀ δ^[l+1]
            deltas[k - 1][i] = (  # (2) δ^[l] = (W^[l+1]ᵀ δ^[l+1]) ⊙ σ'(z^[l])
                upstream[k - 1][i] if mistake == "drop-sigma-prime"
                else _times_sigma_prime(layers[k - 1], upstream[k - 1][i], zs[k - 1][i],
                                        activations[k][i]))
    factors: list[np.ndarray | None] = list(upstream)
    if net.fused_output:
        factors[-1] = None
    return ReferenceStep(zs, activations, deltas, dW, db, float(np.mean(sample_losses)),
                         sample_losses, factors)


def _sigma(layer: Any, z: np.ndarray) -> np.ndarray:
    """σ(z) of one sample (activations take a batch: here, one row)."""
    row = z[np.newaxis, :]
    return np.asarray(layer.activation.function(row, out=np.empty_like(row))[0])


def _times_sigma_prime(layer: Any, g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """g ⊙ σ'(z) for one sample; for softmax, δ_j = a_j (g_j − Σ_i g_i a_i)."""
    if isinstance(layer.activation, Softmax):
        return np.asarray(a * (g - g @ a))
    return np.asarray(g * layer.activation.derivative(z, a))


def _propagate(W: np.ndarray, delta: np.ndarray, above: int, mistake: str | None) -> np.ndarray:
    """W^[l+1]ᵀ δ^[l+1] for one sample (``above`` = l, the 0-based index of layer l + 1)."""
    if mistake != "transpose-W":
        return np.asarray(W.T @ delta)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"transpose-W needs square weights, but W^[{above + 1}] is "
                         f"{W.shape[0]}×{W.shape[1]}, so W δ^[{above + 1}] cannot give δ^[{above}]")
    return np.asarray(W @ delta)  # WRONG on purpose: W, not Wᵀ


def reference_gradients(net: Network, X: Any, Y: Any) -> tuple[float, np.ndarray]:
    """(L, ∂L/∂θ) for any stack of Dense, ActivationLayer, Dropout and BatchNorm layers,
    out of place in float64, laid out as ``net.params``; ``net`` is read, never changed.

    As in training: each Dropout multiplies by its current ``mask`` (the one its last
    training forward pass drew; freeze it to compare), each BatchNorm normalizes with the
    batch's own mean and variance. Dense and activation layers go one sample at a time;
    BatchNorm couples the samples of the batch, so it works on the batch:

        y = γ x̂ + β,  x̂ = (x − μ_B) / √(σ²_B + ε)
        ∂L/∂x_i = γ/√(σ²_B + ε) · (g_i − mean_B(g) − x̂_i · mean_B(g ⊙ x̂))
    """
    from backprop.nn.activation_layer import ActivationLayer
    from backprop.nn.batchnorm import BatchNorm
    from backprop.nn.dropout import Dropout

    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    m = X.shape[0]
    inputs: list[np.ndarray] = []  # the input of each layer, (m, n_in)
    cache: list[dict[str, np.ndarray]] = []
    a = X
    for layer in net.layers:
        inputs.append(a)
        if isinstance(layer, Dense):
            W = np.array(layer.W, dtype=np.float64)
            b = np.zeros(layer.n_out) if layer.b is None else np.array(layer.b, dtype=np.float64)
            z = np.array([W @ row + b for row in a])  # z^[l] = W^[l] a^[l-1] + b^[l]
            a = np.array([_sigma(layer, row) for row in z])
            cache.append({"z": z, "a": a, "W": W})
        elif isinstance(layer, ActivationLayer):
            out = np.empty_like(a)
            for i, row in enumerate(a):
                out[i] = layer.activation.function(row[np.newaxis, :], out=out[i:i + 1])[0]
            cache.append({"z": a, "a": out})
            a = out
        elif isinstance(layer, Dropout):
            mask = (np.ones_like(a) if layer.mask is None or layer.rate == 0.0
                    else np.array(layer.mask, dtype=np.float64))
            cache.append({"mask": mask})
            a = a * mask  # a = x ⊙ mask / (1 − rate): the mask holds keep / (1 − rate)
        elif isinstance(layer, BatchNorm):
            inv_std = 1.0 / np.sqrt(a.var(axis=0) + layer.eps)  # 1 / √(σ²_B + ε)
            x_hat = (a - a.mean(axis=0)) * inv_std
            gamma = np.array(layer.gamma, dtype=np.float64)
            cache.append({"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma})
            a = gamma * x_hat + np.array(layer.beta, dtype=np.float64)
        else:
            raise ValueError(f"the reference has no rule for {type(layer).__name__} layers")
    output = net.layers[-1]
    assert isinstance(output, Dense)
    losses = np.empty(m)
    g = np.empty_like(a)  # ∂ℓ_i/∂a of the current layer's output, per sample
    for i in range(m):
        a_i, y_i = a[i:i + 1], Y[i:i + 1]
        if net.fused_output:
            losses[i] = net.loss.value_from_logits(cache[-1]["z"][i:i + 1], y_i)
        else:
            losses[i] = net.loss.value(a_i, y_i)
            g[i] = net.loss.gradient(a_i, y_i, out=np.empty_like(a_i))[0]
    grads: dict[tuple[int, str], np.ndarray] = {}
    for index in range(len(net.layers) - 1, -1, -1):
        layer, c = net.layers[index], cache[index]
        if isinstance(layer, Dense):
            if index == len(net.layers) - 1 and net.fused_output:
                delta = c["a"] - Y  # (1) for a canonical pair
            else:
                delta = np.array([_times_sigma_prime(layer, g[i], c["z"][i], c["a"][i])
                                  for i in range(m)])  # (1), (2): ⊙ σ'(z)
            grads[(index, "W")] = delta.T @ inputs[index] / m  # (4), averaged
            grads[(index, "b")] = delta.mean(axis=0)  # (3), averaged
            g = delta @ c["W"]  # W^[l]ᵀ δ^[l], per sample
        elif isinstance(layer, ActivationLayer):
            g = np.array([_times_sigma_prime(layer, g[i], c["z"][i], c["a"][i])
                          for i in range(m)])
        elif isinstance(layer, Dropout):
            g = g * c["mask"]
        else:
            x_hat, inv_std, gamma = c["x_hat"], c["inv_std"], c["gamma"]
            grads[(index, "beta")] = g.mean(axis=0)  # ∂L/∂β = mean_B(g)
            grads[(index, "gamma")] = (g * x_hat).mean(axis=0)  # ∂L/∂γ = mean_B(g ⊙ x̂)
            g = gamma * inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    flat = np.zeros(net.params.size)
    for index, name, where in net.parameter_slices:
        flat[where] = np.ravel(grads[(index, name)])
    return float(np.mean(losses)), flat
