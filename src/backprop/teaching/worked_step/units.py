"""The records of one worked step, built from the reference's numbers: each unit's forward
pass, each δ with the factors it is the product of, each gradient with its check and
update, the per-layer summary, and the warnings (see :func:`backprop.explain`)."""

from __future__ import annotations

import numpy as np

from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.teaching.gradcheck import KinkWatch, central_difference, relative_error
from backprop.teaching.reference import ReferenceStep, reference_step
from backprop.teaching.worked_step.records import (
    STEP,
    Delta,
    Formula,
    ForwardUnit,
    Gradient,
    LayerSummary,
    StaleDelta,
)

#: A central-difference estimate and the first kink its ±h step crossed (layer, unit, sample).
Estimate = tuple[float, tuple[int, int, int] | None]


def numerical_estimates(net: Network, X: np.ndarray, Y: np.ndarray,
                         positions: list[int]) -> dict[int, Estimate]:
    """Central differences of the mean loss for positions i of params, on a float64 copy,
    each with the first ReLU kink its ±h step crosses (gradcheck's detection), or None."""
    clone = net.copy(dtype="float64")

    def loss() -> float:
        clone.forward_batch(X, training=True)
        return clone.batch_loss(Y)

    loss()
    watch = KinkWatch(clone)

    def loss_noting_kinks() -> float:
        value = loss()
        watch.note()
        return value

    estimates: dict[int, Estimate] = {}
    for i in positions:
        watch.clear()
        value = central_difference(loss_noting_kinks, clone.params, i, STEP)
        estimates[i] = (value, watch.crossed[0] if watch.crossed else None)
    return estimates

FUSED_NOTES = {
    "sigmoid": (
        "With a sigmoid output and binary cross-entropy, σ'(z) = a(1 − a) cancels against "
        "the loss's derivative ∂ℓ/∂a = (a − y) / (a(1 − a)), so δ^[L] = a − y; with mse "
        "the factor σ'(z) would stay."
    ),
    "softmax": (
        "With a softmax output and cross-entropy, the softmax Jacobian a_j([i = j] − a_i) "
        "cancels against the loss's derivative ∂ℓ/∂a_i = −y_i / a_i (the targets of a sample "
        "sum to 1), so δ^[L] = a − y; with mse the Jacobian would stay."
    ),
    "exp": (
        "With an exp output and the Poisson deviance, σ'(z) = e^z = a cancels against the "
        "loss's derivative ∂ℓ/∂a = 1 − y/a, so δ^[L] = a(1 − y/a) = a − y; with mse the "
        "factor σ'(z) would stay."
    ),
}



def range_warnings(output: Dense, Y: np.ndarray) -> list[str]:
    """A line for each target the output activation can never produce."""
    low, high = output.activation.output_range
    lines = []
    for (i, j), value in np.ndenumerate(Y):
        if value < low or value > high:
            lines.append(
                f"warning: target y_{j + 1} = {value:g} of sample {i + 1} lies outside the "
                f"range of the {output.activation.name} output, [{low:g}, {high:g}]: the "
                f"loss cannot reach its minimum and the output is pushed to the range's edge")
    return lines


def stale_deltas(net: Network, X: np.ndarray, Y: np.ndarray, lr: float,
           step: ReferenceStep) -> list[StaleDelta]:
    """Each hidden δ, correct and as the stale-weights loop computes it."""
    wrong = reference_step(net, X, Y, mistake="stale-weights", lr=lr)
    out = []
    for i in range(X.shape[0]):
        for index in range(len(step.deltas) - 2, -1, -1):
            for j in range(step.deltas[index].shape[1]):
                out.append(StaleDelta(i + 1, index + 1, j + 1, float(step.deltas[index][i, j]),
                                      float(wrong.deltas[index][i, j])))
    return out


def derivative_formulas(dense: list[Dense]) -> dict[str, Formula]:
    """σ'(z) of each activation that writes its own (TeX falls back to the plain text)."""
    formulas = {}
    for layer in dense:
        text = layer.activation.derivative_formula
        if text is not None:
            tex = layer.activation.derivative_formula_tex
            formulas[layer.activation.name] = Formula(text, text if tex is None else tex)
    return formulas


def loss_formula(net: Network) -> Formula | None:
    """ℓ as the loss writes it, or None."""
    text, tex = net.loss.formula, net.loss.formula_tex
    return None if text is None else Formula(text, text if tex is None else tex)


def forward_units(dense: list[Dense], step: ReferenceStep) -> list[ForwardUnit]:
    """z_j and a_j of every unit, sample by sample, input side first."""
    units = []
    for i in range(step.activations[0].shape[0]):
        for index, layer in enumerate(dense):
            W = np.asarray(layer.W, dtype=np.float64)
            b = None if layer.b is None else np.asarray(layer.b, dtype=np.float64)
            for j in range(layer.n_out):
                units.append(ForwardUnit(
                    sample=i + 1, layer=index + 1, unit=j + 1,
                    weights=[float(w) for w in W[j]],
                    inputs=[float(a) for a in step.activations[index][i]],
                    bias=None if b is None else float(b[j]),
                    z=float(step.zs[index][i, j]), a=float(step.activations[index + 1][i, j]),
                ))
    return units


def deltas_of(dense: list[Dense], step: ReferenceStep, Y: np.ndarray, fused: bool) -> list[Delta]:
    """δ_j of every unit with the factors it is the product of, per sample, output first."""
    n_layers = len(dense)
    # the factors the reference multiplied, for display: σ'(z) of an elementwise layer, and
    # Σ_i g_i a_i of a softmax layer (whose Jacobian is not diagonal)
    sigma_primes: list[np.ndarray | None] = []
    inners: list[np.ndarray | None] = []
    for index, layer in enumerate(dense):
        Z, A, G = step.zs[index], step.activations[index + 1], step.upstream[index]
        softmax = layer.activation.name == "softmax"
        sigma_primes.append(None if G is None or softmax else
                            np.asarray(layer.activation.derivative(Z, A), dtype=np.float64))
        inners.append(np.sum(G * A, axis=1) if G is not None and softmax else None)
    mse = mse_output_error(dense[-1], step, Y) if fused else None
    deltas = []
    for i in range(step.activations[0].shape[0]):
        for index in range(n_layers - 1, -1, -1):
            last = index == n_layers - 1
            up, slope, inner = step.upstream[index], sigma_primes[index], inners[index]
            W_above = None if last else np.asarray(dense[index + 1].W, dtype=np.float64)
            for j in range(dense[index].n_out):
                deltas.append(Delta(
                    sample=i + 1, layer=index + 1, unit=j + 1,
                    kind="fused" if last and fused else "output" if last else "hidden",
                    z=float(step.zs[index][i, j]), a=float(step.activations[index + 1][i, j]),
                    target=float(Y[i, j]) if last else None,
                    upstream=None if up is None else float(up[i, j]),
                    weights=[] if W_above is None else [float(w) for w in W_above[:, j]],
                    deltas_above=[] if last else [float(d) for d in step.deltas[index + 1][i]],
                    sigma_prime=None if slope is None else float(slope[i, j]),
                    softmax_inner=None if inner is None else float(inner[i]),
                    delta=float(step.deltas[index][i, j]),
                    mse_delta=None if mse is None or not last else float(mse[0][i, j]),
                    mse_factor=(None if mse is None or not last or mse[1] is None
                                else float(mse[1][i, j])),
                ))
    return deltas


def mse_output_error(output: Dense, step: ReferenceStep,
                      Y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """δ^[L] had the loss been ½Σ(a − y)² on the same outputs, and σ'(z) (None for softmax)."""
    A, Z = step.activations[-1], step.zs[-1]
    g = A - Y  # ∂ℓ/∂a of ½Σ(a − y)²
    if output.activation.name == "softmax":
        return A * (g - np.sum(g * A, axis=1, keepdims=True)), None  # the full Jacobian
    slope = np.asarray(output.activation.derivative(Z, A), dtype=np.float64)
    return g * slope, slope


def gradient_record(layer: Dense, step: ReferenceStep, index: int, name: str, offset: int,
              value: float, numeric: Estimate, lr: float,
              frozen: bool) -> Gradient:
    """Entry ``offset`` of ∂L/∂W^[l] or ∂L/∂b^[l] (l = index + 1): its per-sample terms,
    its central-difference estimate and its update."""
    if name == "W":
        j, k = divmod(offset, layer.n_in)
        inputs = [float(a) for a in step.activations[index][:, k]]
        old = float(np.asarray(layer.W, dtype=np.float64)[j, k])
    else:
        j, k = offset, -1
        inputs = []
        assert layer.b is not None
        old = float(np.asarray(layer.b, dtype=np.float64)[j])
    deltas = [float(d) for d in step.deltas[index][:, j]]
    per_sample = ([d * a for d, a in zip(deltas, inputs, strict=True)] if name == "W"
                  else list(deltas))
    return Gradient(
        layer=index + 1, name=name.lower(), unit=j + 1, input=None if name == "b" else k + 1,
        deltas=deltas, inputs=inputs, per_sample=per_sample, value=value, numeric=numeric[0],
        relative_error=relative_error(numeric[0], value), old=old,
        new=old if frozen else old - lr * value, at_kink=numeric[1] is not None, frozen=frozen,
    )


def layer_summary(dense: list[Dense], step: ReferenceStep, index: int, lr: float,
             errors: list[float]) -> LayerSummary:
    """Ranges and norms of one layer's z, a, δ, W and gradients."""
    layer = dense[index]
    Z, A, D, dW, db = (step.zs[index], step.activations[index + 1], step.deltas[index],
                       step.dW[index], step.db[index])
    return LayerSummary(
        layer=index + 1, n_in=layer.n_in, n_out=layer.n_out, activation=layer.activation.name,
        z_min=float(Z.min()), z_max=float(Z.max()), a_min=float(A.min()), a_max=float(A.max()),
        delta_min=float(D.min()), delta_max=float(D.max()), delta_norm=float(np.linalg.norm(D)),
        weight_norm=float(np.linalg.norm(np.asarray(layer.W, dtype=np.float64))),
        grad_w_norm=float(np.linalg.norm(dW)),
        grad_b_norm=None if db is None else float(np.linalg.norm(db)),
        update_norm=lr * float(np.sqrt(np.linalg.norm(dW) ** 2
                                       + (0.0 if db is None else np.linalg.norm(db) ** 2))),
        max_relative_error=max(errors, default=0.0),
        checked=len(errors),
    )
