"""Tests for bp.Diagnostics and bp.diagnose_network."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import backprop as bp
from backprop.teaching.diagnostics import (
    DEAD_Z,
    METRICS,
    SIGMOID_SATURATION,
    TANH_SATURATION,
)


def toy_problem(m: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 4-D, labels 0/1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=m)
    X = rng.normal(size=(m, 4)) + 1.5 * (2 * y[:, None] - 1)
    return X, y


def deep_net(activation: str, init: str, seed: int = 0, dtype: str = "float64") -> bp.Network:
    widths = [4, 16, 16, 16, 16]
    layers: list[bp.Layer] = [
        bp.Dense(n_in, n_out, activation=activation) for n_in, n_out in itertools.pairwise(widths)
    ]
    layers.append(bp.Dense(16, 1, activation="sigmoid"))
    return bp.Network(layers, loss="binary_cross_entropy", init=init, seed=seed, dtype=dtype)


def first_last_ratio(diag: bp.Diagnostics) -> np.ndarray:
    arrays = diag.as_arrays()
    layers = sorted(arrays)
    return arrays[layers[-1]]["grad_norm_W"] / arrays[layers[0]]["grad_norm_W"]


def test_sigmoid_small_random_gradients_vanish() -> None:
    X, y = toy_problem()
    net = deep_net("sigmoid", "small_random")
    diag = bp.Diagnostics(every=2)
    net.fit(X, y, epochs=3, batch_size=32, lr=0.5, callbacks=[diag])
    ratios = first_last_ratio(diag)
    assert ratios.size == 6  # 12 batches, every 2nd recorded
    assert np.all(ratios >= 100.0), ratios


def test_relu_he_gradients_do_not_vanish() -> None:
    X, y = toy_problem()
    net = deep_net("relu", "he")
    diag = bp.Diagnostics(every=2)
    net.fit(X, y, epochs=3, batch_size=32, lr=0.05, callbacks=[diag])
    ratios = first_last_ratio(diag)
    assert ratios.size == 6
    assert np.all((ratios > 0.1) & (ratios < 10.0)), ratios


def test_records_layout_and_schedule() -> None:
    X, y = toy_problem(m=100)
    net = deep_net("tanh", "xavier_uniform")
    diag = bp.Diagnostics(every=3)
    net.fit(X, y, epochs=2, batch_size=25, lr=0.1, callbacks=[diag])
    # 8 batches over the fit call: steps 1, 4, 7 are recorded, 5 Dense layers each
    steps = sorted({r["step"] for r in diag.records})
    assert steps == [1, 4, 7]
    assert len(diag.records) == 3 * 5
    by_step = {(r["step"], r["layer"]): r for r in diag.records}
    assert (by_step[(4, 0)]["epoch"], by_step[(4, 0)]["batch"]) == (1, 4)
    assert (by_step[(7, 0)]["epoch"], by_step[(7, 0)]["batch"]) == (2, 3)
    for record in diag.records:
        assert set(record) == {"epoch", "batch", "step", "layer", *METRICS}
    arrays = diag.as_arrays()
    assert sorted(arrays) == [0, 1, 2, 3, 4]
    assert arrays[0]["step"].tolist() == [1, 4, 7]
    assert arrays[0]["grad_norm_W"].shape == (3,)
    # tanh layers: no dead fraction, a saturation fraction; the sigmoid output has one too
    assert np.all(np.isnan(arrays[0]["dead_fraction"]))
    assert np.all((arrays[0]["saturated_fraction"] >= 0) & (arrays[0]["saturated_fraction"] <= 1))
    text = diag.summary()
    assert "grad_norm_W" in text and len(text.splitlines()) == 2 + 5
    # a second fit call starts the records afresh
    net.fit(X, y, epochs=1, batch_size=100, lr=0.1, callbacks=[diag])
    assert len(diag.records) == 5 and {r["step"] for r in diag.records} == {1}


def test_records_match_the_gradients_of_the_batch() -> None:
    X, y = toy_problem(m=40)
    net = deep_net("relu", "he")
    reference = net.copy()
    diag = bp.Diagnostics(every=1)
    net.fit(X, y, epochs=1, batch_size=None, lr=0.1, callbacks=[diag])
    grads = reference.gradients(X, y)
    dense = [i for i, layer in enumerate(reference.layers) if isinstance(layer, bp.Dense)]
    for record, index, (dW, db) in zip(diag.records, dense, grads, strict=True):
        assert record["layer"] == index
        assert record["grad_norm_W"] == pytest.approx(np.linalg.norm(dW), rel=1e-12)
        assert db is not None
        assert record["grad_norm_b"] == pytest.approx(np.linalg.norm(db), rel=1e-12)
        layer = net.layers[index]
        assert isinstance(layer, bp.Dense)
        assert record["weight_norm"] == pytest.approx(np.linalg.norm(layer.W), rel=1e-12)


@pytest.mark.parametrize("every", [1, 2, 5])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_update_ratio_equals_independent_computation(every: int, optimizer: str) -> None:
    X, y = toy_problem(m=60)
    net = deep_net("sigmoid", "xavier_normal")
    twin = net.copy()

    def make() -> bp.Optimizer:
        return bp.SGD(lr=0.3, momentum=0.9) if optimizer == "sgd" else bp.Adam(lr=0.01)

    diag = bp.Diagnostics(every=every)
    net.fit(
        X, y, epochs=2, batch_size=10, lr=None, optimizer=make(), shuffle=False, callbacks=[diag]
    )
    # replay the run one batch at a time on a twin, measuring ‖ΔW‖/‖W‖ directly
    opt = make()
    expected: dict[tuple[int, int], float] = {}
    step = 0
    for _ in range(2):
        for start in range(0, 60, 10):
            step += 1
            before = [layer.W.copy() for layer in twin.layers if isinstance(layer, bp.Dense)]
            twin.fit(
                X[start : start + 10],
                y[start : start + 10],
                epochs=1,
                batch_size=None,
                optimizer=opt,
                shuffle=False,
            )
            after = [layer.W for layer in twin.layers if isinstance(layer, bp.Dense)]
            for index, (w0, w1) in enumerate(zip(before, after, strict=True)):
                expected[(step, index)] = float(np.linalg.norm(w1 - w0) / np.linalg.norm(w0))
    np.testing.assert_array_equal(net.params, twin.params)
    assert len(diag.records) == len(range(1, 13, every)) * 5
    for record in diag.records:
        assert record["update_ratio"] == pytest.approx(
            expected[(record["step"], record["layer"])], rel=1e-9
        )
        assert record["update_ratio"] > 0


def test_update_ratio_with_plain_sgd_is_lr_times_gradient_over_weight() -> None:
    X, y = toy_problem(m=32)
    net = deep_net("relu", "he")
    W_before = [layer.W.copy() for layer in net.layers if isinstance(layer, bp.Dense)]
    diag = bp.Diagnostics()
    net.fit(X, y, epochs=1, batch_size=None, lr=0.2, callbacks=[diag])
    for record, w0 in zip(diag.records, W_before, strict=True):
        assert record["update_ratio"] == pytest.approx(
            0.2 * record["grad_norm_W"] / np.linalg.norm(w0), rel=1e-9
        )


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_forced_dead_relu_units(activation: str) -> None:
    X, y = toy_problem(m=64)
    net = deep_net(activation, "he")
    first = net.layers[0]
    assert isinstance(first, bp.Dense) and first.b is not None
    first.b = np.full(16, -1e3)  # z ≤ 0 for every sample
    diag = bp.Diagnostics()
    net.fit(X, y, epochs=1, batch_size=64, lr=0.01, callbacks=[diag])
    assert diag.records[0]["dead_fraction"] == 1.0
    report = bp.diagnose_network(net, X, y)
    assert report[0]["dead_fraction"] == 1.0
    if activation == "relu":
        # the layer above receives all-zero input, so its z = b is the same for every sample
        layer1 = net.layers[1]
        assert isinstance(layer1, bp.Dense) and layer1.z is not None
        assert np.all(layer1.z == layer1.z[0])


def test_healthy_relu_layer_is_not_dead() -> None:
    X, y = toy_problem(m=64)
    net = deep_net("relu", "he")
    report = bp.diagnose_network(net, X, y)
    assert report[0]["dead_fraction"] < 0.5
    assert math.isnan(report[0]["saturated_fraction"])
    assert math.isnan(report[-1]["dead_fraction"])  # the sigmoid output


def test_dead_fraction_counts_units_dead_on_the_whole_batch() -> None:
    net = bp.Network([bp.Dense(1, 4, activation="relu"), bp.Dense(4, 1)], seed=0, dtype="float64")
    net.layers[0].W = np.array([[1.0], [-1.0], [1.0], [0.0]])  # type: ignore[attr-defined]
    net.layers[0].b = np.array([0.0, 0.0, -5.0, 0.0])  # type: ignore[attr-defined]
    X = np.array([[-1.0], [2.0]])
    # unit 0: z = -1, 2 (alive); unit 1: 1, -2 (alive); unit 2: -6, -3 (dead); unit 3: 0, 0 (dead)
    report = bp.diagnose_network(net, X, np.zeros(2))
    assert report[0]["dead_fraction"] == 0.5
    assert DEAD_Z == 0.0


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_huge_weights_saturate(activation: str) -> None:
    X, y = toy_problem(m=64)
    net = deep_net(activation, "xavier_normal")
    first = net.layers[0]
    assert isinstance(first, bp.Dense)
    first.W = first.W * 1e4
    report = bp.diagnose_network(net, X, y)
    assert report[0]["saturated_fraction"] > 0.99
    assert math.isnan(report[0]["dead_fraction"])
    diag = bp.Diagnostics()
    net.fit(X, y, epochs=1, batch_size=64, lr=0.01, callbacks=[diag])
    assert diag.records[0]["saturated_fraction"] > 0.99


def test_small_weights_do_not_saturate() -> None:
    X, y = toy_problem(m=64)
    report = bp.diagnose_network(deep_net("sigmoid", "small_random"), X, y)
    assert all(r["saturated_fraction"] == 0.0 for r in report)


def test_saturation_thresholds() -> None:
    net = bp.Network(
        [bp.Dense(1, 2, activation="sigmoid"), bp.Dense(2, 1)], seed=0, dtype="float64"
    )
    net.layers[0].W = np.array([[1.0], [1.0]])  # type: ignore[attr-defined]
    # σ'(z) = 0.0025 at |z| = ln((1 + √(1 − 4·0.0025))/(1 − √(1 − 4·0.0025))) ≈ 5.9861
    z_edge = math.log(
        (1 + math.sqrt(1 - 4 * SIGMOID_SATURATION)) / (1 - math.sqrt(1 - 4 * SIGMOID_SATURATION))
    )
    X = np.array([[z_edge - 0.01], [z_edge + 0.01], [-(z_edge + 0.01)], [0.0]])
    report = bp.diagnose_network(net, X, np.zeros(4))
    assert report[0]["saturated_fraction"] == pytest.approx(4 / 8)  # 2 samples × 2 units
    tanh_net = bp.Network(
        [bp.Dense(1, 1, activation="tanh"), bp.Dense(1, 1)], seed=0, dtype="float64"
    )
    tanh_net.layers[0].W = np.array([[1.0]])  # type: ignore[attr-defined]
    t_edge = math.atanh(math.sqrt(1 - TANH_SATURATION))  # ≈ 2.9932
    X = np.array([[t_edge - 0.01], [t_edge + 0.01], [-(t_edge + 0.01)], [0.5]])
    report = bp.diagnose_network(tanh_net, X, np.zeros(4))
    assert report[0]["saturated_fraction"] == pytest.approx(2 / 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_attaching_diagnostics_leaves_training_bit_identical(dtype: str) -> None:
    X, y = toy_problem()
    plain = deep_net("relu", "he", dtype=dtype)
    watched = deep_net("relu", "he", dtype=dtype)
    h1 = plain.fit(X, y, epochs=3, batch_size=16, optimizer=bp.Adam(lr=0.01))
    diag = bp.Diagnostics(every=1)
    h2 = watched.fit(X, y, epochs=3, batch_size=16, optimizer=bp.Adam(lr=0.01), callbacks=[diag])
    np.testing.assert_array_equal(plain.params, watched.params)
    assert h1["loss"] == h2["loss"]
    assert len(diag.records) == 3 * 8 * 5


def test_diagnose_network_matches_gradients_and_leaves_params() -> None:
    X, y = toy_problem(m=50)
    net = deep_net("sigmoid", "xavier_normal")
    params = net.params.copy()
    report = bp.diagnose_network(net, X, y)
    np.testing.assert_array_equal(net.params, params)
    grads = net.copy().gradients(X, y)
    assert [r["layer"] for r in report] == [0, 1, 2, 3, 4]
    for record, (dW, _), layer in zip(report, grads, net.layers, strict=True):
        assert isinstance(layer, bp.Dense)
        assert record["grad_norm_W"] == pytest.approx(np.linalg.norm(dW), rel=1e-12)
        assert record["weight_norm"] == pytest.approx(np.linalg.norm(layer.W), rel=1e-12)
        assert math.isnan(record["update_ratio"])
    with_lr = bp.diagnose_network(net, X, y, lr=0.5)
    for record, layer in zip(with_lr, net.layers, strict=True):
        assert isinstance(layer, bp.Dense)
        assert record["update_ratio"] == pytest.approx(
            0.5 * record["grad_norm_W"] / np.linalg.norm(layer.W), rel=1e-12
        )


def test_diagnose_network_layer_indices_skip_other_layers() -> None:
    net = bp.Network(
        [
            bp.Dense(3, 5, activation="relu"),
            bp.Dropout(5, 0.5),
            bp.Dense(5, 2, activation="softmax", bias=False),
        ],
        loss="cross_entropy",
        seed=0,
    )
    X = np.random.default_rng(1).normal(size=(8, 3))
    report = bp.diagnose_network(net, X, np.arange(8) % 2)
    assert [r["layer"] for r in report] == [0, 2]
    assert math.isnan(report[1]["grad_norm_b"])
    assert math.isnan(report[1]["saturated_fraction"]) and math.isnan(report[1]["dead_fraction"])


@pytest.mark.parametrize(
    ("every", "error"), [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_bad_every(every: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        bp.Diagnostics(every=every)  # type: ignore[arg-type]


def test_parameters_are_copied_only_before_recorded_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = toy_problem(m=100)
    net = deep_net("relu", "he")
    diag = bp.Diagnostics(every=4)
    copies: list[int] = []
    original = bp.Diagnostics._snapshot

    def counting(self: bp.Diagnostics, network: bp.Network) -> None:
        copies.append(self._step)
        original(self, network)

    monkeypatch.setattr(bp.Diagnostics, "_snapshot", counting)
    net.fit(X, y, epochs=2, batch_size=10, lr=0.01, callbacks=[diag])
    # 20 batches; recorded steps 1, 5, 9, 13, 17: copies at the start and after steps 4, 8, ...
    assert sorted({r["step"] for r in diag.records}) == [1, 5, 9, 13, 17]
    assert copies == [0, 4, 8, 12, 16, 20]
