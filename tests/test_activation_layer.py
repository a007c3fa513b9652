"""ActivationLayer: σ as a layer of its own, so Dense → BatchNorm → σ can be built.

Before it, `bp.ActivationLayer` did not exist and `bp.Dense(2, 3, activation=None)`
raised "activation must be a name or an Activation".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import backprop as bp

RNG = np.random.default_rng(3)
X = RNG.normal(size=(8, 3))
LABELS = RNG.integers(0, 2, size=8)


def batch_norm_net(activation: str | dict[str, object]) -> bp.Network:
    return bp.Network([bp.Dense(3, 5, activation=None, bias=False), bp.BatchNorm(5),
                       bp.ActivationLayer(5, activation), bp.Dense(5, 2, activation="softmax")],
                      loss="cross_entropy", seed=2, dtype="float64")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", {"name": "leaky_relu", "slope": 0.2}])
def test_backprop_through_dense_batchnorm_sigma_matches_central_differences(
        activation: str | dict[str, object]) -> None:
    net = batch_norm_net(activation)
    report = bp.gradcheck(net, X, LABELS)
    assert report.passed, str(report)
    assert report.relative_error < 1e-7


def test_the_layer_applies_sigma_and_its_backward_is_the_sigma_prime_factor() -> None:
    net = bp.Network([bp.Dense(3, 4, activation=None), bp.ActivationLayer(4, "tanh"),
                      bp.Dense(4, 1)], seed=0, dtype="float64")
    same = bp.Network([bp.Dense(3, 4, activation="tanh"), bp.Dense(4, 1)], seed=0,
                      dtype="float64")
    same.params[...] = net.params  # the activation layer has no parameters of its own
    np.testing.assert_allclose(net.forward(X), same.forward(X), rtol=1e-14)
    y = RNG.normal(size=8)
    for (dW, db), (dW_same, db_same) in zip(net.gradients(X, y), same.gradients(X, y),
                                            strict=True):
        np.testing.assert_allclose(dW, dW_same, rtol=1e-12)
        assert db is not None and db_same is not None
        np.testing.assert_allclose(db, db_same, rtol=1e-12)


def test_training_lowers_the_loss_and_the_model_file_keeps_the_layer(tmp_path: Path) -> None:
    net = batch_norm_net("relu")
    before = net.loss_value(X, LABELS)
    net.fit(X, LABELS, epochs=30, batch_size=4, optimizer=bp.SGD(lr=0.1))
    assert net.loss_value(X, LABELS) < 0.5 * before
    path = tmp_path / "bn.npz"
    net.save(str(path))
    loaded = bp.load(str(path))
    assert [type(layer).__name__ for layer in loaded.layers] == [
        "Dense", "BatchNorm", "ActivationLayer", "Dense"]
    np.testing.assert_allclose(loaded.forward(X), net.forward(X), rtol=1e-12)


def test_bad_arguments_name_the_problem() -> None:
    with pytest.raises(bp.OptionError, match="unknown activation 'nope'"):
        bp.ActivationLayer(3, "nope")
    with pytest.raises(bp.OptionError, match="n must be positive"):
        bp.ActivationLayer(0, "relu")
