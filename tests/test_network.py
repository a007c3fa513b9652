"""The network's structure: flat parameter buffer, views, shapes, initializers, predict."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.nn.activations import Softmax
from backprop.nn.initializers import INITIALIZERS


def test_parameters_live_in_one_flat_buffer_with_per_layer_views() -> None:
    net = bp.Network([bp.Dense(3, 4), bp.Dense(4, 2, bias=False)], seed=0)
    assert net.n_params == 3 * 4 + 4 + 4 * 2
    assert net.layers[0].W.shape == (4, 3) and net.layers[0].b.shape == (4,)  # type: ignore[union-attr]
    assert np.shares_memory(net.layers[0].W, net.params)
    assert np.shares_memory(net.layers[1].W, net.params)
    assert np.shares_memory(net.layers[0].dW, net.grads)
    net.params[:] = 0.5
    assert np.all(net.layers[1].W == 0.5)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["layers.0.W", "layers.0.b", "layers.1.W"]


@pytest.mark.parametrize("scheme", sorted(INITIALIZERS))
def test_initializers_have_the_published_scale(scheme: str) -> None:
    n_in, n_out = 400, 300
    net = bp.Network([bp.Dense(n_in, n_out, init=scheme)], seed=0, dtype="float64")
    W = net.layers[0].W
    expected_std = {
        "zero": 0.0,
        "uniform": 0.5 / np.sqrt(3),
        "normal": 1.0,
        "small_random": 0.01,
        "xavier_uniform": np.sqrt(2 / (n_in + n_out)),
        "glorot_uniform": np.sqrt(2 / (n_in + n_out)),
        "xavier_normal": np.sqrt(2 / (n_in + n_out)),
        "glorot_normal": np.sqrt(2 / (n_in + n_out)),
        "he": np.sqrt(2 / n_in),
        "he_normal": np.sqrt(2 / n_in),
        "he_uniform": np.sqrt(2 / n_in),
        "lecun": np.sqrt(1 / n_in),
        "lecun_normal": np.sqrt(1 / n_in),
        "lecun_uniform": np.sqrt(1 / n_in),
        "sklearn_uniform": np.sqrt(2 / (n_in + n_out)),  # U(±√(6 / (n_in + n_out)))
        "sklearn_logistic_uniform": np.sqrt(2 / 3 / (n_in + n_out)),  # U(±√(2 / ...))
    }[scheme]
    assert W.std() == pytest.approx(expected_std, rel=0.03)
    assert abs(W.mean()) < 0.05 * expected_std + 1e-4
    if "uniform" in scheme:
        assert np.abs(W).max() <= np.sqrt(3) * expected_std + 1e-12
    b = net.layers[0].b
    assert b is not None
    if scheme.startswith("sklearn"):  # scikit-learn draws b as it draws W
        assert b.std() == pytest.approx(expected_std, rel=0.15)
        assert np.abs(b).max() <= np.sqrt(3) * expected_std + 1e-12
    else:
        assert np.all(b == 0)


def test_auto_init_is_he_for_relu_and_xavier_otherwise() -> None:
    relu = bp.Network([bp.Dense(500, 200, activation="relu"), bp.Dense(200, 1)], seed=0)
    assert relu.layers[0].W.std() == pytest.approx(np.sqrt(2 / 500), rel=0.03)
    assert relu.layers[1].W.std() == pytest.approx(np.sqrt(2 / 201), rel=0.15)


def test_same_seed_same_weights_in_both_dtypes() -> None:
    layers32 = [bp.Dense(5, 3, activation="tanh"), bp.Dense(3, 2, activation="softmax")]
    layers64 = [bp.Dense(5, 3, activation="tanh"), bp.Dense(3, 2, activation="softmax")]
    a = bp.Network(layers32, loss="cross_entropy", seed=9)
    b = bp.Network(layers64, loss="cross_entropy", seed=9, dtype="float64")
    np.testing.assert_array_equal(a.params, b.params.astype(np.float32))


def test_predict_returns_labels_for_classifiers_and_values_for_regression() -> None:
    X = np.random.default_rng(0).normal(size=(7, 2))
    multi = bp.Network([bp.Dense(2, 3, activation="softmax")], loss="cross_entropy", seed=0)
    np.testing.assert_array_equal(multi.predict(X), multi.forward(X).argmax(axis=1))
    binary = bp.Network([bp.Dense(2, 1, activation="sigmoid")], loss="binary_cross_entropy", seed=0)
    np.testing.assert_array_equal(binary.predict(X), (binary.forward(X)[:, 0] >= 0.5).astype(int))
    regression = bp.Network([bp.Dense(2, 1)], loss="mse", seed=0)
    assert regression.predict(X).shape == (7,)
    assert bp.Network([bp.Dense(2, 2)], seed=0).predict(X).shape == (7, 2)


LABEL_NETWORKS = {
    "one softmax layer": lambda: [bp.Dense(6, 4, activation="softmax")],
    "narrow first layer": lambda: [bp.Dense(6, 3, activation="relu"),
                                   bp.Dense(3, 4, activation="softmax")],
    "wide first layer": lambda: [bp.Dense(6, 9, activation="tanh"),
                                 bp.Dense(9, 5, activation="relu"),
                                 bp.Dense(5, 4, activation="softmax")],
    "one sigmoid unit": lambda: [bp.Dense(6, 3, activation="relu"),
                                 bp.Dense(3, 1, activation="sigmoid")],
}


@pytest.mark.parametrize("shape", sorted(LABEL_NETWORKS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("compiled", [False, True])
def test_predict_takes_a_classifiers_labels_from_the_logits_without_sigma(
        shape: str, dtype: str, compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop import network

    if compiled:
        pytest.importorskip("numba", reason="the compiled path is numba's (the numba extra)")
    layers = LABEL_NETWORKS[shape]()
    loss = "binary_cross_entropy" if layers[-1].n_out == 1 else "cross_entropy"
    net = bp.Network(layers, loss=loss, seed=3, dtype=dtype, compiled=compiled)
    X = np.random.default_rng(4).normal(size=(40, 6))
    expected = net.labels_of(net.forward(X))  # through σ_L
    monkeypatch.setattr(network, "INFERENCE_CHUNK", 16)  # several chunks, a short last one

    def sigma_computed(*args: object, **kwargs: object) -> None:
        raise AssertionError("predict computed the output layer's σ")

    monkeypatch.setattr(net.output_layer, "forward", sigma_computed)
    np.testing.assert_array_equal(net.predict(X), expected)
    np.testing.assert_array_equal(net.predict(X.astype(dtype)), expected)  # X checked as is
    with pytest.raises(bp.DataError, match="X contains nan at row 37, column 2"):
        X[37, 2] = np.nan
        net.predict(X)


def test_a_sigmoid_unit_at_exactly_one_half_is_class_one_either_way() -> None:
    net = bp.Network([bp.Dense(2, 1, activation="sigmoid")], loss="binary_cross_entropy")
    net.params[...] = 0.0  # z = 0 for every X, σ(z) = 1/2
    X = np.ones((3, 2))
    assert net.forward(X)[0, 0] == 0.5
    np.testing.assert_array_equal(net.predict(X), [1, 1, 1])


class ReversedSoftmax(Softmax):
    """The softmax of −z: its largest probability is at the smallest logit."""

    name = "reversed_softmax"

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return super().function(-z, out)


def test_an_activation_that_redefines_sigma_has_its_labels_from_sigma() -> None:
    assert Softmax.labels_from_logits == "argmax"
    assert ReversedSoftmax.labels_from_logits is None  # its σ reorders the units
    net = bp.Network([bp.Dense(5, 4, activation=ReversedSoftmax())], loss="cross_entropy",
                     seed=0)
    X = np.random.default_rng(5).normal(size=(30, 5))
    labels = net.predict(X)
    np.testing.assert_array_equal(labels, net.forward(X).argmax(axis=1))
    logits = X.astype(np.float32) @ net.layers[0].W.T + net.layers[0].b
    np.testing.assert_array_equal(labels, logits.argmin(axis=1))


def test_forward_in_chunks_equals_forward_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop import network

    net = bp.Network([bp.Dense(4, 8, activation="relu"), bp.Dense(8, 3, activation="softmax")],
                     loss="cross_entropy", seed=0, dtype="float64")
    X = np.random.default_rng(1).normal(size=(50, 4))
    whole = net.forward(X)
    monkeypatch.setattr(network, "INFERENCE_CHUNK", 7)
    np.testing.assert_allclose(net.forward(X), whole, rtol=1e-14)
    assert net.evaluate(X, np.zeros(50, dtype=int))["loss"] == pytest.approx(
        -np.log(whole[:, 0]).mean(), rel=1e-12)


def test_summary_and_repr() -> None:
    net = bp.Network([bp.Dense(784, 256, activation="relu"), bp.Dense(256, 10, activation="softmax")],
                     loss="cross_entropy")
    assert "203,530" in net.summary()
    assert repr(net).startswith("Network([Dense(784, 256, activation='relu')")
