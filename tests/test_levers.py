"""The engine's levers for the second core, off by default: they change how a step runs,
not what it computes (to rounding where a sum is cut in two)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.training.split import splits


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 6))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)


def _trained(compiled: bool = False, batch_norm: bool = False) -> tuple[bp.Network, list[float]]:
    middle: list[bp.Layer] = [bp.BatchNorm(8)] if batch_norm else [bp.ActivationLayer(8, "tanh")]
    net = bp.Network([bp.Dense(6, 8, "relu"), *middle, bp.Dense(8, 3, "softmax")],
                     loss="cross_entropy", seed=2, dtype="float64", compiled=compiled)
    X, y = _data()
    history = net.fit(X, y, epochs=3, batch_size=15, optimizer=bp.Adam(lr=0.01))
    return net, history["accuracy"]


def test_the_batch_cut_in_two_halves_trains_the_same_network_to_rounding(
        monkeypatch: pytest.MonkeyPatch) -> None:
    one, one_accuracy = _trained()
    monkeypatch.setenv("BACKPROP_BATCH_THREADS", "2")
    two, two_accuracy = _trained()
    assert splits(two)
    error = np.max(np.abs(two.params - one.params))
    assert 0 < error <= 1e-12 * np.max(np.abs(one.params))  # the halves' sums: rounding
    assert two_accuracy == one_accuracy  # a^[L] of the whole batch, for fit's accuracy


def test_a_network_with_batchnorm_keeps_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    one, _ = _trained(batch_norm=True)
    monkeypatch.setenv("BACKPROP_BATCH_THREADS", "2")
    two, _ = _trained(batch_norm=True)
    assert not splits(two)  # its statistics are the whole batch's
    np.testing.assert_array_equal(two.params, one.params)


def test_a_bad_number_of_threads_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_BATCH_THREADS", "4")
    with pytest.raises(bp.OptionError, match="BACKPROP_BATCH_THREADS must be 1 or 2, got '4'"):
        _trained()


def test_the_compiled_passes_on_two_threads_give_the_same_numbers(tmp_path: Path) -> None:
    """Each pass cut in two on numba's pool: the rows of the epilogues, the units of the
    backward prologue (each thread sums its own bias gradients, in order), halves of the
    parameters for the optimizer. The weights equal one thread's to the last bit."""
    pytest.importorskip("numba", reason="numba not installed (the numba extra): not tested")
    code = (
        "import sys, numpy as np, backprop as bp\n"
        "rng = np.random.default_rng(0)\n"
        "X, y = rng.normal(size=(64, 5)), rng.normal(size=(64, 2))\n"
        "net = bp.Network([bp.Dense(5, 9, 'relu'), bp.Dense(9, 7, 'leaky_relu'),\n"
        "                  bp.Dense(7, 2, 'linear')], loss='mse', seed=1, compiled=True)\n"
        "net.fit(X, y, epochs=2, batch_size=16, optimizer=bp.Adam(lr=0.01))\n"
        "np.save(sys.argv[1], net.params)\n"
    )
    saved = []
    for threads in ("1", "2"):
        path = tmp_path / f"threads-{threads}.npy"
        env = {"BACKPROP_COMPILED_THREADS": threads, "NUMBA_NUM_THREADS": "2"}
        result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                                text=True, timeout=600, env={**os.environ, **env})
        assert result.returncode == 0, result.stderr
        saved.append(np.load(path))
    np.testing.assert_array_equal(saved[1], saved[0])
