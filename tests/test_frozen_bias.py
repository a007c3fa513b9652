"""Frozen biases: Dense(..., train_bias=False) keeps b under every optimizer, and in model files.

Before frozen biases existed, `Dense(2, 2, train_bias=False)` raised TypeError and
`backprop train xor --freeze-biases` was an unknown option.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp


def two_layer(train_bias: bool) -> bp.Network:
    net = bp.Network([bp.Dense(3, 4, activation="tanh", train_bias=train_bias),
                      bp.Dense(4, 2, activation="sigmoid")], loss="mse", seed=1,
                     dtype="float64")
    hidden = net.layers[0]
    assert isinstance(hidden, bp.Dense)
    hidden.b = [0.5, -0.25, 1.0, 0.0]
    return net


DATA = np.random.default_rng(0).normal(size=(16, 3))
TARGETS = np.random.default_rng(1).uniform(size=(16, 2))


@pytest.mark.parametrize("optimizer", [
    lambda: bp.SGD(lr=0.1), lambda: bp.SGD(lr=0.1, momentum=0.9, weight_decay=0.1),
    lambda: bp.Adam(lr=0.05, weight_decay=0.1), lambda: bp.AdamW(lr=0.05, weight_decay=0.5),
    lambda: bp.RMSProp(lr=0.05)])
def test_a_frozen_bias_keeps_its_value_while_everything_else_trains(optimizer) -> None:  # type: ignore[no-untyped-def]
    net = two_layer(train_bias=False)
    hidden, output = net.layers
    assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
    W_before, b_out_before = hidden.W.copy(), np.array(output.b)
    loss_before = net.loss_value(DATA, TARGETS)
    net.fit(DATA, TARGETS, epochs=5, batch_size=4, optimizer=optimizer())
    assert hidden.b is not None and output.b is not None
    np.testing.assert_array_equal(hidden.b, [0.5, -0.25, 1.0, 0.0])
    assert not np.allclose(hidden.W, W_before)  # the weights did move
    assert not np.allclose(output.b, b_out_before)  # and so did the trainable bias
    assert net.loss_value(DATA, TARGETS) < loss_before
    # its gradient is still computed: freezing is about the update, not the derivative
    (_, db), _ = net.gradients(DATA, TARGETS)
    assert db is not None and np.any(db != 0)


def test_the_frozen_flag_is_saved_with_the_model(tmp_path: Path) -> None:
    net = two_layer(train_bias=False)
    path = tmp_path / "m.npz"
    net.save(str(path))
    loaded = bp.load(str(path))
    hidden = loaded.layers[0]
    assert isinstance(hidden, bp.Dense) and hidden.train_bias is False
    assert loaded.frozen_slices == net.frozen_slices != []
    assert net.copy().frozen_slices == net.frozen_slices


def test_train_freeze_biases_from_the_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "backprop", "train", "xor", "--layers", "4", "--epochs", "3",
         "--freeze-biases", "--no-plots", "--quiet", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    model = bp.load(str(tmp_path / "model.npz"))
    for layer in model.layers:
        assert isinstance(layer, bp.Dense) and layer.b is not None
        assert not layer.train_bias
        np.testing.assert_array_equal(layer.b, 0.0)  # initialized at 0, and kept there
