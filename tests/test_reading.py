"""Tests for bp.read_diagnostics: crafted records at and around each threshold, and real training."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.teaching.reading import (
    DEAD_FRACTION,
    EXPLODING_GROWTH,
    EXPLODING_NORM,
    EXPLODING_RATIO,
    KINDS,
    SATURATED_FRACTION,
    SYMMETRY_SPREAD,
    THRESHOLDS,
    UPDATE_RATIO_HIGH,
    UPDATE_RATIO_LOW,
    VANISHING_RATIO,
    layer_list,
    number,
)

NAN = math.nan


def crafted(
    grad: list[list[float]],
    *,
    update: float | list[float] = 1e-3,
    dead: list[list[float]] | None = None,
    saturated: list[list[float]] | None = None,
    weight: float = 1.0,
    indices: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Records as Diagnostics writes them: grad[step][layer] is ‖∂L/∂W‖ of a recorded batch."""
    n_layers = len(grad[0])
    indices = indices or list(range(n_layers))
    updates = update if isinstance(update, list) else [update] * n_layers
    rows = []
    for step, norms in enumerate(grad):
        for position, (index, norm) in enumerate(zip(indices, norms, strict=True)):
            rows.append({
                "epoch": 1, "batch": step + 1, "step": step + 1, "layer": index,
                "grad_norm_W": norm, "grad_norm_b": NAN, "weight_norm": weight,
                "update_ratio": updates[position],
                "dead_fraction": dead[step][position] if dead else NAN,
                "saturated_fraction": saturated[step][position] if saturated else NAN,
            })
    return rows


def steady(norms: list[float], steps: int = 4) -> list[list[float]]:
    return [list(norms) for _ in range(steps)]


def finding(reading: bp.Reading, kind: str) -> bp.Finding:
    return next(f for f in reading.findings if f.kind == kind)


# -- vanishing ---------------------------------------------------------------------
def test_vanishing_names_the_layers_and_the_ratio() -> None:
    # Dense layers at net.layers indices 0, 2, 4 (Dropout between): read as layers 1, 2, 3
    reading = bp.read_diagnostics(crafted(steady([1e-5, 1e-3, 0.5]), indices=[0, 2, 4]))
    assert reading.kinds == ("vanishing",)
    assert "vanishing" in reading and "exploding" not in reading
    vanishing = finding(reading, "vanishing")
    assert vanishing.layers == (1, 2)
    assert vanishing.value == pytest.approx(5e4)
    assert reading.stats["first_last_ratio"] == pytest.approx(2e-5)
    text = str(reading)
    assert "5e4 times below layer 3's" in text and "layers 1–2" in text
    assert "1e-5 against 0.5" in text
    assert reading.verdict == "vanishing"


@pytest.mark.parametrize(("first", "vanishes"), [(0.5 / VANISHING_RATIO, True),
                                                  (0.5 / VANISHING_RATIO * 1.01, False)])
def test_vanishing_threshold_is_first_over_last(first: float, vanishes: bool) -> None:
    reading = bp.read_diagnostics(crafted(steady([first, 0.05, 0.5])))
    assert ("vanishing" in reading) is vanishes


def test_vanishing_uses_the_median_over_batches() -> None:
    # one batch in five vanishes: the median says it does not
    grad = [[0.1, 0.5]] * 4 + [[1e-9, 0.5]]
    assert "vanishing" not in bp.read_diagnostics(crafted(grad))
    grad = [[0.1, 0.5]] * 2 + [[1e-9, 0.5]] * 3
    assert "vanishing" in bp.read_diagnostics(crafted(grad))


def test_a_zero_first_gradient_vanishes_infinitely() -> None:
    reading = bp.read_diagnostics(crafted(steady([0.0, 1e-8, 0.3])))
    assert finding(reading, "vanishing").value == math.inf
    assert "infinitely many times below" in str(reading)


def test_one_layer_never_vanishes() -> None:
    reading = bp.read_diagnostics(crafted(steady([1e-12])))
    assert "vanishing" not in reading and math.isnan(reading.stats["first_last_ratio"])


# -- exploding ---------------------------------------------------------------------
def test_exploding_on_nan_gradients() -> None:
    grad = steady([0.1, 0.2])
    grad[2][0] = NAN
    reading = bp.read_diagnostics(crafted(grad))
    assert "exploding" in reading
    assert finding(reading, "exploding").layers == (1,)
    assert "recorded batch 3" in str(reading)


def test_exploding_on_divergence() -> None:
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.2])),
                                  diverged="training diverged at epoch 2, batch 5")
    assert reading.kinds == ("exploding",)
    assert "training diverged at epoch 2, batch 5" in str(reading)


def test_divergence_before_the_first_record_is_still_read() -> None:
    reading = bp.read_diagnostics([], diverged="training diverged at epoch 1, batch 1")
    assert reading.kinds == ("exploding",) and reading.layers == ()
    assert math.isnan(reading.stats["first_last_ratio"]) and reading.stats["records"] == 0


@pytest.mark.parametrize(("first", "explodes"), [(0.01 * EXPLODING_RATIO, True),
                                                  (0.01 * EXPLODING_RATIO * 0.99, False)])
def test_exploding_toward_the_input(first: float, explodes: bool) -> None:
    reading = bp.read_diagnostics(crafted(steady([first, 0.1, 0.01])))
    assert ("exploding" in reading) is explodes
    assert "vanishing" not in reading


def test_exploding_growth_of_the_whole_gradient() -> None:
    grow = [[0.01 * g, 0.02 * g] for g in (1, 1, 1, 1, 10, 30, 100, 100)]
    assert "exploding" in bp.read_diagnostics(crafted(grow))
    below = [[0.01 * g, 0.02 * g] for g in (1, 1, 1, 1, 10, 30, 90, 90)]
    assert "exploding" not in bp.read_diagnostics(crafted(below))
    assert EXPLODING_GROWTH == 100


def test_a_layer_recovering_from_vanishing_is_not_exploding() -> None:
    # the first layer's gradient grows 1e4 times while the last layer's dominates the whole
    grad = [[1e-6 * g, 0.5] for g in (1, 1, 1, 1, 1e4, 1e4, 1e4, 1e4)]
    assert "exploding" not in bp.read_diagnostics(crafted(grad))


def test_exploding_on_a_large_norm() -> None:
    assert "exploding" in bp.read_diagnostics(crafted(steady([EXPLODING_NORM * 1.5,
                                                              EXPLODING_NORM * 1.5])))
    assert "exploding" not in bp.read_diagnostics(crafted(steady([EXPLODING_NORM,
                                                                  EXPLODING_NORM])))


# -- dead and saturated units ----------------------------------------------------------
def test_dead_relus_in_the_second_half_of_training() -> None:
    # hidden layers 1 and 2 (ReLU), output layer 3 (dead fraction NaN)
    dead = [[0.0, 0.1, NAN], [0.0, 0.1, NAN], [0.7, 0.5, NAN], [0.9, 0.5, NAN]]
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.1, 0.1]), dead=dead))
    assert reading.kinds == ("dead",)
    assert finding(reading, "dead").layers == (1,)  # layer 2's 50% is not above DEAD_FRACTION
    assert finding(reading, "dead").value == pytest.approx(0.8)
    assert "layer 1 80%" in str(reading)
    assert reading.stats["dead_max"] == pytest.approx(0.8)
    assert [row["dead_fraction"] for row in reading.layers[:2]] == pytest.approx([0.8, 0.5])
    assert reading.layers[2]["layer"] == 3 and math.isnan(reading.layers[2]["dead_fraction"])
    assert DEAD_FRACTION == 0.5


def test_dead_units_early_in_training_only_are_not_reported() -> None:
    dead = [[0.9, NAN], [0.9, NAN], [0.1, NAN], [0.1, NAN]]
    assert "dead" not in bp.read_diagnostics(crafted(steady([0.1, 0.1]), dead=dead))


def test_the_output_layer_is_not_read_for_units() -> None:
    saturated = [[0.0, 1.0]] * 4
    dead = [[0.0, 1.0]] * 4
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.1]), saturated=saturated, dead=dead))
    assert "saturated" not in reading and "dead" not in reading


def test_saturated_hidden_layer() -> None:
    saturated = [[0.6, 0.3, 0.0]] * 4
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.1, 0.1]), saturated=saturated))
    assert reading.kinds == ("saturated",)
    assert finding(reading, "saturated").layers == (1,)
    assert "layer 1 60%" in str(reading)
    at_threshold = [[SATURATED_FRACTION, 0.0, 0.0]] * 4
    assert "saturated" not in bp.read_diagnostics(
        crafted(steady([0.1, 0.1, 0.1]), saturated=at_threshold))


# -- the learning rate -------------------------------------------------------------------
def test_learning_rate_too_high_from_the_update_ratio() -> None:
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.1]), update=[0.01, 0.3]),
                                  losses=[1.0, 0.9])
    assert reading.kinds == ("lr_high",)
    assert finding(reading, "lr_high").layers == (2,)
    assert "layer 2's weights by 30% per step" in str(reading)
    below = crafted(steady([0.1, 0.1]), update=[0.01, UPDATE_RATIO_HIGH])
    assert "lr_high" not in bp.read_diagnostics(below, losses=[1.0, 0.9])


def test_learning_rate_too_high_from_a_rising_loss() -> None:
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.1])), losses=[1.0, 1.2, 1.5])
    assert reading.kinds == ("not_learning", "lr_high")
    assert "the loss rose from 1 to 1.5" in str(reading)
    assert "lr_high" not in bp.read_diagnostics(crafted(steady([0.1, 0.1])),
                                                losses=[1.0, 1.2, 1.1])


def test_learning_rate_too_low_needs_tiny_updates_and_a_flat_loss() -> None:
    tiny = crafted(steady([0.1, 0.1]), update=[1e-6, 5e-6])
    reading = bp.read_diagnostics(tiny, losses=[2.302, 2.301])
    assert reading.kinds == ("not_learning", "lr_low")
    assert "more than 5e-6 of their norm" in str(reading)
    assert "lr_low" not in bp.read_diagnostics(tiny, losses=[2.3, 2.0])  # the loss falls
    assert "lr_low" in bp.read_diagnostics(tiny)  # no losses: the updates alone
    one_moves = crafted(steady([0.1, 0.1]), update=[1e-6, UPDATE_RATIO_LOW])
    assert "lr_low" not in bp.read_diagnostics(one_moves, losses=[2.302, 2.301])


def test_weights_that_do_not_move_at_all_are_not_read_as_a_low_learning_rate() -> None:
    frozen = crafted(steady([0.1, 0.1]), update=[0.0, 0.0])
    reading = bp.read_diagnostics(frozen, losses=[2.302, 2.302])
    assert "lr_low" not in reading and reading.kinds[0] == "not_learning"
    assert "the weights do not move at all (every layer's median update is 0)" in str(reading)
    assert "more than 0 of their norm" not in str(reading)


def test_no_learning_rate_reading_when_gradients_vanish() -> None:
    records = crafted(steady([1e-6, 0.5]), update=[0.0, 0.5])
    reading = bp.read_diagnostics(records, losses=[2.3, 2.3])
    assert reading.kinds == ("not_learning", "vanishing")


def test_findings_come_in_kind_order() -> None:
    dead = [[0.9, NAN]] * 4
    reading = bp.read_diagnostics(crafted(steady([0.1, 0.1]), update=[0.5, 0.5], dead=dead))
    assert reading.kinds == ("dead", "lr_high")
    assert reading.verdict == "dead, lr_high"
    assert list(KINDS) == ["not_learning", "symmetric", "vanishing", "exploding", "dead",
                           "saturated", "lr_high", "lr_low"]


# -- healthy, formats, inputs ---------------------------------------------------------------
def test_healthy_reading_gives_the_numbers() -> None:
    dead = [[0.1, NAN]] * 4
    reading = bp.read_diagnostics(crafted(steady([0.2, 0.1]), update=[2e-3, 4e-3], dead=dead),
                                  losses=[1.0, 0.5])
    assert reading.findings == () and reading.verdict == "healthy"
    text = str(reading)
    assert text.startswith("Nothing crosses a threshold")
    assert "2 times layer 2's" in text and "0.002 to 0.004" in text and "10%" in text


def test_records_read_back_from_json_give_the_same_reading() -> None:
    records = crafted(steady([1e-5, 1e-3, 0.5]), dead=[[0.9, 0.9, NAN]] * 4)
    text = json.dumps([{k: (None if isinstance(v, float) and math.isnan(v) else v)
                        for k, v in r.items()} for r in records])
    again, first = bp.read_diagnostics(json.loads(text)), bp.read_diagnostics(records)
    assert again.findings == first.findings and again.paragraph == first.paragraph
    as_json = json.loads(json.dumps(again.as_dict()))
    assert as_json["verdict"] == "vanishing, dead"
    assert [f["kind"] for f in as_json["findings"]] == ["vanishing", "dead"]


def test_no_records_is_an_error() -> None:
    with pytest.raises(ValueError, match="no diagnostics records"):
        bp.read_diagnostics([])


def test_thresholds_table_holds_the_constants() -> None:
    table = {name: value for name, value, _ in THRESHOLDS}
    assert table["VANISHING_RATIO"] == VANISHING_RATIO == 100
    assert table["UPDATE_RATIO_HIGH"] == UPDATE_RATIO_HIGH == 0.1
    assert table["UPDATE_RATIO_LOW"] == UPDATE_RATIO_LOW == 1e-5
    assert table["SYMMETRY_SPREAD"] == SYMMETRY_SPREAD
    assert len(table) == len(THRESHOLDS) == 13


@pytest.mark.parametrize(("value", "text"), [(1.23e16, "1.2e16"), (3.4e-6, "3.4e-6"),
                                              (100.0, "100"), (0.0625, "0.062"), (25.0, "25"),
                                              (1234.0, "1200"), (math.inf, "inf"), (0.0, "0")])
def test_number(value: float, text: str) -> None:
    assert number(value) == text


def test_layer_list() -> None:
    assert layer_list([4]) == "layer 4"
    assert layer_list([1, 2, 3, 5]) == "layers 1–3 and 5"
    assert layer_list([2, 1]) == "layers 1–2"
    assert layer_list([1, 3, 5]) == "layers 1, 3 and 5"


# -- real networks ---------------------------------------------------------------------
def blobs(m: int = 256, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=m)
    X = rng.normal(size=(m, 8)) + 1.5 * (2 * y[:, None] - 1)
    return X, y


def deep(activation: str, init: str, depth: int = 10, width: int = 16) -> bp.Network:
    widths = [8] + [width] * (depth - 1)
    layers: list[bp.Layer] = [bp.Dense(a, b, activation=activation)
                              for a, b in itertools.pairwise(widths)]
    layers.append(bp.Dense(width, 2, activation="softmax"))
    return bp.Network(layers, loss="cross_entropy", init=init, seed=0)


def train_and_read(net: bp.Network, lr: float = 0.1) -> bp.Reading:
    X, y = blobs()
    diag = bp.Diagnostics(every=2)
    history = net.fit(X, y, epochs=3, batch_size=32, optimizer=bp.SGD(lr=lr), callbacks=[diag])
    return bp.read_diagnostics(diag.records, losses=history["loss"])


def test_ten_layer_sigmoid_small_random_vanishes() -> None:
    reading = train_and_read(deep("sigmoid", "small_random"))
    assert "vanishing" in reading
    assert reading.stats["first_last_ratio"] < 1e-10
    assert "layer 10's" in str(reading)
    assert finding(reading, "vanishing").layers[0] == 1


def test_ten_layer_relu_he_does_not_vanish() -> None:
    reading = train_and_read(deep("relu", "he"))
    assert "vanishing" not in reading and "exploding" not in reading
    assert 0.1 < reading.stats["first_last_ratio"] < 10


def test_a_tiny_learning_rate_reads_as_too_low() -> None:
    reading = train_and_read(deep("relu", "he", depth=3), lr=1e-7)
    assert reading.kinds == ("not_learning", "lr_low")
    assert "The likely cause is a learning rate too low" in str(reading)


def test_diagnose_network_records_can_be_read() -> None:
    X, y = blobs(64)
    net = deep("relu", "he", depth=3)
    first = net.layers[0]
    assert isinstance(first, bp.Dense) and first.b is not None
    first.b = np.full(first.n_out, -100.0)  # every first-layer unit dead...
    reading = bp.read_diagnostics(bp.diagnose_network(net, X, y, lr=0.1))
    # ...so layer 2 sees zeros, and its z = b = 0 ≤ 0 is dead too
    assert "dead" in reading and finding(reading, "dead").layers == (1, 2)
    assert "layer 1 100%, layer 2 100%" in str(reading)
    alive = deep("relu", "he", depth=3)
    assert "dead" not in bp.read_diagnostics(bp.diagnose_network(alive, X, y, lr=0.1))


# -- not learning, symmetry, advice ------------------------------------------------------------
def test_a_flat_loss_is_not_learning_and_never_healthy() -> None:
    """Old behaviour: `backprop diagnose xor --layers 4 --activation sigmoid
    --output-activation sigmoid --loss binary_cross_entropy --init small_random
    --optimizer sgd --lr 0.01 --batch-size 100000 --epochs 200` read "healthy"
    at loss 0.6931 and accuracy 0.50."""
    calm = crafted(steady([0.2, 0.1]), update=[2e-3, 4e-3])
    reading = bp.read_diagnostics(calm, losses=[0.6934, 0.6932, 0.6931])
    assert reading.kinds == ("not_learning",) and reading.verdict != "healthy"
    assert "fell by less than 1% from 0.6934 to 0.6931" in str(reading)
    rising = bp.read_diagnostics(calm, losses=[2.3037, 2.3039])
    assert rising.kinds[0] == "not_learning" and "rose from 2.3037 to 2.3039" in str(rising)
    assert bp.read_diagnostics(calm, losses=[1.0, 0.5]).verdict == "healthy"


@pytest.mark.parametrize(("accuracy", "n_classes", "stuck"),
                         [(0.5, 2, True), (0.55, 2, True), (0.56, 2, False), (0.11, 10, True),
                          (0.12, 10, False)])
def test_accuracy_at_chance_is_not_learning(accuracy: float, n_classes: int,
                                            stuck: bool) -> None:
    reading = bp.read_diagnostics(crafted(steady([0.2, 0.1])), losses=[1.0, 0.5],
                                  accuracy=accuracy, n_classes=n_classes)
    assert ("not_learning" in reading) is stuck
    if stuck:
        assert f"chance for {n_classes} classes" in str(reading)


@pytest.mark.parametrize(("r2", "stuck"), [(-0.3, True), (0.0, True), (0.01, False)])
def test_r2_at_most_zero_is_not_learning(r2: float, stuck: bool) -> None:
    reading = bp.read_diagnostics(crafted(steady([0.2, 0.1])), losses=[1.0, 0.5], r2=r2)
    assert ("not_learning" in reading) is stuck


def test_not_learning_names_the_cause_from_the_other_findings() -> None:
    vanishing = bp.read_diagnostics(crafted(steady([1e-6, 0.5])), losses=[2.3, 2.3])
    assert "The likely cause is vanishing gradients" in str(vanishing)
    dead = bp.read_diagnostics(crafted(steady([0.1, 0.1]), dead=[[0.9, NAN]] * 4),
                               losses=[2.3, 2.3])
    assert dead.kinds == ("not_learning", "dead") and "cause is dead ReLU units" in str(dead)
    shrinking = bp.read_diagnostics(crafted(steady([0.03, 0.5])), losses=[2.3, 2.3])
    assert shrinking.kinds == ("not_learning",)
    assert "cause is gradients shrinking toward the input" in str(shrinking)
    unexplained = bp.read_diagnostics(crafted(steady([0.2, 0.1])), losses=[2.3, 2.3])
    assert "No other reading names a cause" in str(unexplained)


def constant_net() -> bp.Network:
    net = bp.Network([bp.Dense(8, 6, activation="tanh"), bp.Dense(6, 2, activation="softmax")],
                     loss="cross_entropy", seed=0)
    net.params[:] = 0.1  # every hidden unit the same: a constant init
    return net


def test_a_constant_init_is_read_as_symmetric() -> None:
    X, y = blobs()
    net = constant_net()
    diag = bp.Diagnostics(every=4)
    history = net.fit(X, y, epochs=3, batch_size=32, optimizer=bp.SGD(0.1), callbacks=[diag])
    hidden = net.layers[0]
    assert isinstance(hidden, bp.Dense)
    # the units stayed identical: each gets the same gradient, to rounding (BLAS may add a
    # unit's column of a product in another order than its neighbour's, by its place in
    # the kernel's block: on some machines the rows differ in float32's last bit)
    assert np.ptp(hidden.W, axis=0).max() <= 4 * np.finfo(hidden.W.dtype).eps * np.abs(hidden.W).max()
    reading = bp.read_diagnostics(diag.records, losses=history["loss"], network=net)
    assert "symmetric" in reading and finding(reading, "symmetric").layers == (1,)
    assert reading.stats["spread_min"] <= SYMMETRY_SPREAD
    random = deep("tanh", "xavier_uniform", depth=2)
    diag = bp.Diagnostics(every=4)
    random.fit(X, y, epochs=1, batch_size=32, optimizer=bp.SGD(0.1), callbacks=[diag])
    assert "symmetric" not in bp.read_diagnostics(diag.records)


def test_symmetry_is_named_as_the_cause_of_not_learning() -> None:
    records = crafted(steady([0.2, 0.1]))
    for record in records:
        record["unit_spread"] = 0.0 if record["layer"] == 0 else NAN
    reading = bp.read_diagnostics(records, losses=[0.698, 0.694])
    assert reading.kinds == ("not_learning", "symmetric")
    assert "The likely cause is symmetry (identical hidden units)" in str(reading)
    assert "zero or constant initialization" in str(reading)


def advice_of(activation: str, init: str, depth: int) -> str:
    records = crafted(steady([1e-6] + [0.5] * (depth - 1)))
    return " ".join(bp.read_diagnostics(records, network=deep(activation, init, depth)).advice)


def test_advice_for_vanishing_follows_activation_init_and_depth() -> None:
    """Old behaviour: `backprop diagnose digits --compare sigmoid:xavier_uniform --depths 10`
    advised "Xavier initialization" to a sigmoid + xavier_uniform network that vanished."""
    deep_sigmoid = advice_of("sigmoid", "xavier_uniform", 10)
    assert "Xavier initialization does not stop it" in deep_sigmoid
    assert "ReLU with He initialization" in deep_sigmoid
    assert "Xavier initialization would not stop it either" in advice_of("sigmoid",
                                                                         "small_random", 5)
    assert "Xavier initialization keeps sigmoid's" in advice_of("sigmoid", "small_random", 3)
    assert "Xavier initialization keeps tanh's" in advice_of("tanh", "small_random", 5)
    assert "Xavier" not in advice_of("tanh", "xavier_uniform", 5)
    assert "He initialization keeps ReLU's" in advice_of("relu", "small_random", 5)
    assert "He initialization keeps" not in advice_of("relu", "he", 5)


def test_advice_for_units_never_names_what_the_network_uses() -> None:
    dead = [[0.9, NAN]] * 4
    with_he = bp.read_diagnostics(crafted(steady([0.1, 0.1]), dead=dead),
                                  network=deep("relu", "he", 2))
    assert "He initialization" not in " ".join(with_he.advice)
    leaky = bp.read_diagnostics(crafted(steady([0.1, 0.1]), dead=dead),
                                network=deep("leaky_relu", "small_random", 2))
    assert "He initialization" in leaky.advice[0] and "leaky_relu" not in leaky.advice[0]
    saturated = [[0.9, NAN]] * 4
    xavier = bp.read_diagnostics(crafted(steady([0.1, 0.1]), saturated=saturated),
                                 network=deep("tanh", "xavier_uniform", 2))
    assert "Xavier" not in " ".join(xavier.advice)


def test_the_xor_run_that_read_healthy_is_not_learning() -> None:
    """Old behaviour: the 5-layer sigmoid + small_random xor run with sgd lr 0.01, full batch,
    200 epochs read "healthy" at loss 0.6931 and accuracy 0.50."""
    from backprop.datasets import load_dataset

    data = load_dataset("xor")
    X, y = data.X_train, data.y_train
    widths = [2, 16, 16, 16, 16]
    layers: list[bp.Layer] = [bp.Dense(a, b, activation="sigmoid")
                              for a, b in itertools.pairwise(widths)]
    layers.append(bp.Dense(16, 1, activation="sigmoid"))
    net = bp.Network(layers, loss="binary_cross_entropy", init="small_random", seed=0)
    diag = bp.Diagnostics(every=5)
    history = net.fit(X, y, epochs=100, batch_size=len(X), optimizer=bp.SGD(0.01),
                      callbacks=[diag])
    reading = bp.read_diagnostics(diag.records, losses=history["loss"],
                                  accuracy=net.evaluate(X, y)["accuracy"], n_classes=2,
                                  network=net)
    assert history["loss"][-1] > 0.99 * history["loss"][0]  # it really did not learn
    assert reading.kinds[0] == "not_learning" and reading.verdict != "healthy"
    assert "vanishing" in reading and "The likely cause is vanishing gradients" in str(reading)
