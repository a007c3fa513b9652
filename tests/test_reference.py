"""The in-place engine against the per-sample, out-of-place equations of backprop.teaching.reference,
and the known-wrong backward rules against central differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import backprop as bp
from backprop.teaching.gradcheck import central_difference, relative_error
from backprop.teaching.reference import MISTAKES, ReferenceStep, reference_step
from nets import Case, cases


@settings(max_examples=80)
@given(case=cases())
def test_in_place_engine_equals_the_plain_equations(case: Case) -> None:
    net = case.net
    X = net.check_inputs(case.X)
    Y, _ = net.prepare_targets(case.Y, X.shape[0])
    before = net.params.copy()
    ref = reference_step(net, X, Y)
    np.testing.assert_array_equal(net.params, before)  # the reference leaves the net alone
    loss = net.backprop(X, Y)
    assert loss == pytest.approx(ref.loss, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(ref.sample_losses.mean(), ref.loss, rtol=1e-15)
    dense = [layer for layer in net.layers if isinstance(layer, bp.Dense)]
    np.testing.assert_array_equal(ref.activations[0], X)
    for k, layer in enumerate(dense):
        np.testing.assert_allclose(ref.zs[k], layer.z, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ref.activations[k + 1], layer.a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ref.dW[k], layer.dW, rtol=1e-9, atol=1e-12)
        assert (ref.db[k] is None) == (layer.db is None)
        if layer.db is not None:
            np.testing.assert_allclose(ref.db[k], layer.db, rtol=1e-9, atol=1e-12)
        # (4) per sample: the mean of δ_i a_iᵀ is the gradient
        outer = np.einsum("ij,ik->jk", ref.deltas[k], ref.activations[k]) / X.shape[0]
        np.testing.assert_allclose(outer, ref.dW[k], rtol=1e-12, atol=1e-15)


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


# -- the known-wrong rules ----------------------------------------------------
def flat_gradients(net: bp.Network, step: ReferenceStep) -> np.ndarray:
    """The step's ∂L/∂W, ∂L/∂b laid out as net.grads is."""
    parts = []
    for index, name, _ in net.parameter_slices:
        tensor = step.dW[index] if name == "W" else step.db[index]
        assert tensor is not None
        parts.append(np.ravel(tensor))
    return np.concatenate(parts)


def numeric_gradients(net: bp.Network, X: np.ndarray, Y: np.ndarray,
                      scale: float = 1.0) -> np.ndarray:
    """Central differences of scale · L, every parameter."""
    clone = net.copy(dtype="float64")

    def loss() -> float:
        clone.forward_batch(X, training=True)
        return scale * clone.batch_loss(Y)

    return np.array([central_difference(loss, clone.params, i, 1e-6)
                     for i in range(clone.n_params)])


def network(widths: list[int], hidden: str, output: str, loss: str, seed: int) -> bp.Network:
    layers = [bp.Dense(widths[i], widths[i + 1],
                       activation=output if i == len(widths) - 2 else hidden)
              for i in range(len(widths) - 1)]
    return bp.Network(layers, loss=loss, seed=seed, dtype="float64", init="xavier_normal")


def batch(net: bp.Network, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, net.n_inputs))
    Y, _ = net.prepare_targets(rng.uniform(0.1, 0.9, size=(m, net.n_outputs)), m)
    return X, Y


# each mistake on a network where it must show: a hidden layer with σ' ≠ 1, a
# batch of more than one sample, square W above the hidden layer for transpose-W
MISTAKE_NETWORKS = {
    "drop-sigma-prime": ([2, 3, 1], "sigmoid", "sigmoid", "mse"),
    "stale-weights": ([2, 3, 1], "tanh", "sigmoid", "binary_cross_entropy"),
    "transpose-W": ([2, 3, 3], "tanh", "linear", "mse"),
    "forget-1/m": ([3, 4, 2], "relu", "sigmoid", "mse"),
    "sum-not-mean": ([3, 4, 2], "tanh", "linear", "mse"),
}


def test_every_mistake_has_a_network_that_exposes_it() -> None:
    assert set(MISTAKE_NETWORKS) == set(MISTAKES)
    assert all(text.startswith("WRONG") for text in MISTAKES.values())


@pytest.mark.parametrize("mistake", list(MISTAKE_NETWORKS))
def test_each_mistake_fails_the_numerical_check(mistake: str) -> None:
    widths, hidden, output, loss = MISTAKE_NETWORKS[mistake]
    net = network(widths, hidden, output, loss, seed=5)
    X, Y = batch(net, 4, seed=6)
    numeric = numeric_gradients(net, X, Y)
    right = flat_gradients(net, reference_step(net, X, Y))
    wrong = flat_gradients(net, reference_step(net, X, Y, mistake=mistake, lr=0.5))
    assert relative_error(numeric, right) < 1e-8
    assert relative_error(numeric, wrong) > 1e-3  # 1000 times gradcheck's tolerance, 1e-6


def test_summing_instead_of_averaging_is_the_gradient_of_the_sum() -> None:
    net = network([3, 4, 2], "tanh", "linear", "mse", seed=1)
    X, Y = batch(net, 5, seed=2)
    summed = reference_step(net, X, Y, mistake="sum-not-mean")
    assert relative_error(numeric_gradients(net, X, Y, scale=5.0),
                          flat_gradients(net, summed)) < 1e-8
    forgot = reference_step(net, X, Y, mistake="forget-1/m")
    right = reference_step(net, X, Y)
    for k in range(2):
        np.testing.assert_allclose(forgot.dW[k], 5.0 * right.dW[k], rtol=1e-12)
        np.testing.assert_allclose(forgot.db[k], right.db[k], rtol=1e-12)  # type: ignore[arg-type]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_stale_weights_on_the_classic_network() -> None:
    """Updating v before propagating through it: δ_1^[1] 0.0028878 instead of 0.00304937."""
    from backprop.cli.explain import CLASSIC_WEIGHTS

    (w, (v,)) = CLASSIC_WEIGHTS
    net = bp.Network([bp.Dense(2, 3, activation="sigmoid", bias=False),
                      bp.Dense(3, 1, activation="sigmoid", bias=False)], dtype="float64")
    net.layers[0].W, net.layers[1].W = w, [v]  # type: ignore[attr-defined]
    X, Y = np.array([[0.35, 0.9]]), np.array([[0.5]])
    right = reference_step(net, X, Y)
    stale = reference_step(net, X, Y, mistake="stale-weights", lr=0.5)
    # the correct δ^[1] is the library's: its ∂L/∂W^[1] = δ^[1] xᵀ
    net.backprop(X, Y)
    np.testing.assert_allclose(np.outer(right.deltas[0][0], X[0]), net.layers[0].dW, rtol=1e-13)
    assert f"{right.deltas[0][0, 0]:.6g}" == "0.00304937"
    # the stale one by hand: v_1 ← v_1 − η δ^[2] a_1^[1] first, then δ_1^[1] = v_1 δ^[2] σ'
    hidden = [sigmoid(w[j][0] * 0.35 + w[j][1] * 0.9) for j in range(3)]
    out = sigmoid(sum(v[j] * hidden[j] for j in range(3)))
    delta_out = (out - 0.5) * out * (1.0 - out)
    v1_updated = v[0] - 0.5 * delta_out * hidden[0]
    by_hand = v1_updated * delta_out * hidden[0] * (1.0 - hidden[0])
    assert stale.deltas[0][0, 0] == pytest.approx(by_hand, rel=1e-13)
    assert f"{by_hand:.5g}" == "0.0028878"
    np.testing.assert_array_equal(stale.dW[1], right.dW[1])  # the layer above is still right


def test_transpose_needs_square_weights() -> None:
    net = network([2, 3, 1], "tanh", "linear", "mse", seed=0)
    X, Y = batch(net, 2, seed=0)
    with pytest.raises(ValueError, match=r"transpose-W at layer 2: .*square weights, but W is 1×3"):
        reference_step(net, X, Y, mistake="transpose-W")


def test_bad_requests_are_one_line_errors() -> None:
    dense = network([2, 3, 1], "tanh", "linear", "mse", seed=0)
    X, Y = np.ones((2, 2)), np.ones((2, 1))
    with pytest.raises(ValueError, match="unknown mistake 'nope'; valid: drop-sigma-prime"):
        reference_step(dense, X, Y, mistake="nope")
    with pytest.raises(ValueError, match="stale-weights mistake needs lr"):
        reference_step(dense, X, Y, mistake="stale-weights")


def test_the_dense_view_of_a_mixed_stack_says_which_layer_lacks_it() -> None:
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dropout(3, 0.5),
                      bp.Dense(3, 1)], dtype="float64", seed=0)
    step = reference_step(net, np.ones((2, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="layer 2 has no z"):
        step.zs  # noqa: B018
    with pytest.raises(ValueError, match="layer 2 has no W"):
        step.dW  # noqa: B018
    assert step.backward[1].gradients == {} and step.backward[1].delta is None


def _mixed_network(loss: str, output: str) -> tuple[bp.Network, np.ndarray, np.ndarray]:
    net = bp.Network([bp.Dense(3, 4, activation=None, bias=False), bp.BatchNorm(4),
                      bp.ActivationLayer(4, "tanh"), bp.Dropout(4, rate=0.3),
                      bp.Dense(4, 3, activation="relu"), bp.Dropout(3, rate=0.5),
                      bp.Dense(3, 2, activation=output)], loss=loss, seed=6, dtype="float64")
    bn = net.layers[1]
    assert isinstance(bn, bp.BatchNorm)
    bn.gamma, bn.beta = [1.5, 0.5, 1.0, 2.0], [0.1, -0.2, 0.0, 0.3]
    rng = np.random.default_rng(1)
    X = net.check_inputs(rng.normal(size=(6, 3)))
    Y, _ = net.prepare_targets(rng.integers(0, 2, size=6), 6)
    net.backprop(X, Y)  # draws the dropout masks
    for layer in net.layers:
        if isinstance(layer, bp.Dropout):
            layer.freeze_mask = True
            assert layer.mask is not None and np.any(layer.mask == 0)
    return net, X, Y


@pytest.mark.parametrize(("loss", "output"), [("cross_entropy", "softmax"), ("mse", "sigmoid")])
def test_the_reference_of_batchnorm_dropout_and_activation_layers_is_the_engine(
        loss: str, output: str) -> None:
    """One reference for every stack: each layer kind brings its own reference form."""
    net, X, Y = _mixed_network(loss, output)
    engine_loss = net.backprop(X, Y)
    step = reference_step(net, X, Y)
    assert step.loss == pytest.approx(engine_loss, rel=1e-12)
    np.testing.assert_allclose(step.gradient, net.grads, rtol=1e-9, atol=1e-13)
    assert np.any(step.gradient[net.parameter_slices[1][2]] != 0)  # γ's gradient is not trivial
    np.testing.assert_allclose(step.activations[-1], net.output_layer.a, rtol=1e-12)


def test_the_reference_is_numerically_right_on_a_mixed_stack() -> None:
    net, X, Y = _mixed_network("cross_entropy", "softmax")
    step = reference_step(net, X, Y)
    assert relative_error(numeric_gradients(net, X, Y), step.gradient) < 1e-7


def test_the_flat_gradient_is_the_per_layer_one_on_dense_networks() -> None:
    net = bp.Network([bp.Dense(2, 3, activation="sigmoid"), bp.Dense(3, 2, activation="tanh")],
                     loss="mse", seed=3, dtype="float64")
    X = np.array([[0.3, -0.2], [1.0, 0.4], [-0.5, 0.9]])
    Y = np.array([[0.1, 0.2], [0.0, -0.3], [0.5, 0.5]])
    step = reference_step(net, X, Y)
    np.testing.assert_array_equal(step.gradient, flat_gradients(net, step))
    np.testing.assert_allclose(step.sample_losses.mean(), step.loss, rtol=1e-15)


def test_a_layer_kind_without_a_reference_form_says_what_to_define() -> None:
    class Scale(bp.Layer):
        def __init__(self, n: int) -> None:
            self.n_in = self.n_out = n

        def forward(self, a_prev: np.ndarray, training: bool = False) -> np.ndarray:
            return 2.0 * a_prev

        def backward(self, grad_a: np.ndarray) -> np.ndarray | None:
            return 2.0 * grad_a if self.needs_input_gradient else None

    net = bp.Network([bp.Dense(2, 2), Scale(2), bp.Dense(2, 1)], dtype="float64", seed=0)
    with pytest.raises(NotImplementedError, match="Scale has no reference form: define "
                                                   "reference_forward and reference_backward"):
        reference_step(net, np.ones((2, 2)), np.ones((2, 1)))
