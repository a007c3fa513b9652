"""The network and optimizer specs: one check per bad value, and what the builder makes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.nn import activations as activation_registry
from backprop.nn.activations import activation_names
from backprop.nn.losses import loss_names
from backprop.optim.rules import OPTIMIZERS
from backprop.spec import (
    NetworkSpec,
    OptimizerSpec,
    build_network,
    build_optimizer,
    network_spec_of,
)


def net_spec(**changes: Any) -> NetworkSpec:
    return NetworkSpec(**{"n_inputs": 2, "n_outputs": 1, **changes})


# -- one test per bad value ----------------------------------------------------------------
BAD_NETWORKS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"n_inputs": 0}, bp.OptionError, "n_inputs must be positive, got 0"),
    ({"n_inputs": "2"}, bp.OptionTypeError, "n_inputs must be an integer, got '2'"),
    ({"n_outputs": 2.5}, bp.OptionTypeError, "n_outputs must be an integer, got 2.5"),
    ({"hidden": "8"}, bp.OptionTypeError, "hidden must be a list of widths, got '8'"),
    ({"hidden": (4, -1)}, bp.OptionError, r"hidden\[1\] must be positive, got -1"),
    ({"hidden": (4, True)}, bp.OptionTypeError, r"hidden\[1\] must be an integer, got True"),
    ({"activation": "relux"}, bp.OptionError, "activation: unknown activation 'relux'; valid: "),
    ({"activation": 3}, bp.OptionTypeError, "activation must be an activation or a list of "
                                            "them, got 3"),
    ({"hidden": (3,), "activation": ["relu", "tanh"]}, bp.OptionError,
     r"activation gives 2 activation\(s\) for 1 hidden layer\(s\)"),
    ({"hidden": (3, 3), "activation": ["relu", "nope"]}, bp.OptionError,
     r"activation\[1\]: unknown activation 'nope'"),
    ({"activation": {"name": "leaky_relu", "gradient": 2}}, bp.OptionError,
     r"activation: leaky_relu: 'gradient' is a parameter the activation does not take "
     r"\(it takes slope\)"),
    ({"activation": {"name": "leaky_relu", "slope": -1}}, bp.OptionError,
     "activation: leaky_relu slope must be a finite number ≥ 0, got -1"),
    ({"output_activation": "softmaxx"}, bp.OptionError,
     "output_activation: unknown activation 'softmaxx'"),
    ({"loss": "hinge"}, bp.OptionError, "unknown loss 'hinge'; valid: mse, "),
    ({"loss": 1}, bp.OptionTypeError, "loss must be a name or a Loss, got 1"),
    ({"output_activation": "softmax"}, bp.OptionError, "softmax on a single output unit"),
    ({"loss": "binary_cross_entropy"}, bp.OptionError,
     r"binary_cross_entropy needs outputs in \(0, 1\) but a linear output"),
    ({"bias": 1}, bp.OptionTypeError, "bias must be True or False, got 1"),
    ({"train_bias": "no"}, bp.OptionTypeError, "train_bias must be True or False, got 'no'"),
    ({"batch_norm": None}, bp.OptionTypeError, "batch_norm must be True or False, got None"),
    ({"dropout": 1.0}, bp.OptionError, r"dropout must be in \[0, 1\), got 1.0"),
    ({"dropout": -0.1}, bp.OptionError, r"dropout must be in \[0, 1\), got -0.1"),
    ({"dropout": "0.5"}, bp.OptionTypeError, "dropout must be a number, got '0.5'"),
    ({"init": "orthogonal"}, bp.OptionError, "unknown init 'orthogonal'; valid: auto, "),
    ({"init": None}, bp.OptionTypeError, "init must be a name, got None"),
    ({"seed": -1}, bp.OptionError, "seed must be ≥ 0, got -1"),
    ({"seed": 1.5}, bp.OptionTypeError, "seed must be a whole number or None, got 1.5"),
    ({"dtype": "float16"}, bp.OptionError, "dtype must be one of float32, float64, got 'float16'"),
]


@pytest.mark.parametrize(("changes", "kind", "message"), BAD_NETWORKS,
                         ids=[str(changes) for changes, _, _ in BAD_NETWORKS])
def test_a_bad_network_value_is_refused_in_one_line_naming_it(
        changes: dict[str, Any], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=message) as error:
        net_spec(**changes)
    assert type(error.value) is kind  # OptionTypeError only for a value of the wrong type
    assert "\n" not in str(error.value)


def test_the_documented_limits_hold_for_a_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKPROP_MAX_UNITS", "100")
    with pytest.raises(bp.OptionError, match=r"hidden\[0\] is 101, above the limit of 100 "
                                             r"\(BACKPROP_MAX_UNITS\)"):
        net_spec(hidden=(101,))
    monkeypatch.setenv("BACKPROP_MAX_LAYERS", "3")
    with pytest.raises(bp.OptionError, match="the number of layers is 4, above the limit of 3"):
        net_spec(hidden=(2, 2, 2))


BAD_OPTIMIZERS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"name": "lion"}, bp.OptionError, "unknown optimizer 'lion'; valid: sgd, rmsprop, adam, "
                                       "adamw"),
    ({"name": None}, bp.OptionTypeError, "optimizer must be a name, got None"),
    ({"lr": 0}, bp.OptionError, "lr must be a finite number > 0, got 0"),
    ({"lr": float("nan")}, bp.OptionError, "lr must be a finite number > 0, got nan"),
    ({"lr": "0.1"}, bp.OptionTypeError, "lr must be a number, got '0.1'"),
    ({"momentum": -0.5}, bp.OptionError, "momentum must be a finite number ≥ 0, got -0.5"),
    ({"dampening": -1}, bp.OptionError, "dampening must be a finite number ≥ 0, got -1"),
    ({"weight_decay": -1e-4}, bp.OptionError, "weight_decay must be a finite number ≥ 0"),
    ({"nesterov": 1}, bp.OptionTypeError, "nesterov must be True or False, got 1"),
    ({"nesterov": True}, bp.OptionError, "nesterov momentum needs momentum > 0 and "
                                         "dampening = 0, got momentum 0.0"),
    ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, bp.OptionError,
     "nesterov momentum needs momentum > 0 and dampening = 0"),
    ({"name": "adam", "momentum": 0.9}, bp.OptionError,
     r"momentum applies to sgd, rmsprop, not adam \(got 0.9\)"),
    ({"name": "sgd", "betas": (0.9, 0.99)}, bp.OptionError,
     "betas applies to adam, adamw, not sgd"),
    ({"name": "adam", "alpha": 0.9}, bp.OptionError, "alpha applies to rmsprop, not adam"),
    ({"name": "adam", "nesterov": False}, bp.OptionError, "nesterov applies to sgd, not adam"),
    ({"name": "adam", "betas": (1.0, 0.999)}, bp.OptionError,
     r"betas must be in \[0, 1\), got 1.0"),
    ({"name": "adamw", "betas": (0.9,)}, bp.OptionTypeError,
     r"betas must be a pair of numbers \(β₁, β₂\), got \(0.9,\)"),
    ({"name": "rmsprop", "eps": 0.0}, bp.OptionError, "eps must be a finite number > 0, got 0.0"),
    ({"name": "rmsprop", "alpha": 1.0}, bp.OptionError, r"alpha must be in \[0, 1\), got 1.0"),
    ({"compiled_step": "yes"}, bp.OptionTypeError, "compiled_step must be True or False"),
]


@pytest.mark.parametrize(("changes", "kind", "message"), BAD_OPTIMIZERS,
                         ids=[str(changes) for changes, _, _ in BAD_OPTIMIZERS])
def test_a_bad_optimizer_value_is_refused_in_one_line_naming_it(
        changes: dict[str, Any], kind: type[Exception], message: str) -> None:
    with pytest.raises(kind, match=message) as error:
        OptimizerSpec(**changes)
    assert type(error.value) is kind
    assert "\n" not in str(error.value)


def test_the_spec_gives_the_messages_the_parts_themselves_give() -> None:
    """One message per problem, whether the spec or the layer or optimizer meets it."""
    cases: list[tuple[Callable[[], object], Callable[[], object]]] = [
        (lambda: net_spec(n_inputs=0), lambda: bp.Dense(0, 1)),
        (lambda: net_spec(loss="hinge"), lambda: bp.Network([bp.Dense(2, 1)], loss="hinge")),
        (lambda: net_spec(output_activation="softmax"),
         lambda: bp.Network([bp.Dense(2, 1, activation="softmax")])),
        (lambda: OptimizerSpec("sgd", lr=-1.0), lambda: bp.SGD(lr=-1.0)),
        (lambda: OptimizerSpec("adam", weight_decay=-1.0), lambda: bp.Adam(weight_decay=-1.0)),
    ]
    for by_spec, by_part in cases:
        with pytest.raises(bp.OptionError) as spec_error:
            by_spec()
        with pytest.raises(bp.OptionError) as part_error:
            by_part()
        assert str(spec_error.value) == str(part_error.value).replace("n_in ", "n_inputs ")


# -- names from the registries ---------------------------------------------------------------
def test_every_registered_name_is_accepted_and_no_other() -> None:
    for name in activation_names():
        output = "linear" if name == "softmax" else name
        assert net_spec(hidden=(3,), activation=name, output_activation=output)
    for name in loss_names():
        output = {"mse": "linear", "binary_cross_entropy": "sigmoid"}.get(name, "softmax")
        assert net_spec(n_outputs=2, output_activation=output, loss=name).loss == name
    for name in OPTIMIZERS:
        assert type(build_optimizer(OptimizerSpec(name))) is OPTIMIZERS[name]


def test_a_registered_activation_of_the_users_is_a_spec_word(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Cube(bp.Activation):
        name = "cube"

        def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
            return np.power(z, 3, out=out)

        def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
            return 3.0 * z * z

    with pytest.raises(bp.OptionError, match="unknown activation 'cube'"):
        net_spec(activation="cube")
    monkeypatch.setitem(activation_registry._ACTIVATIONS, "cube", Cube)
    net = build_network(net_spec(hidden=(3,), activation="cube"))
    layer = net.layers[0]
    assert isinstance(layer, bp.Dense) and isinstance(layer.activation, Cube)


# -- one value, whatever the spelling ------------------------------------------------------
def test_specs_compare_by_value_whatever_the_spelling() -> None:
    relu = net_spec(hidden=(4, 4), activation="relu")
    assert relu == net_spec(hidden=[4, 4], activation=["relu", {"name": "relu"}])
    assert relu == net_spec(hidden=(np.int64(4), 4), activation=bp.get_activation("relu"))
    assert relu.hidden == (4, 4) and relu.hidden_activations == (bp.get_activation("relu"),) * 2
    assert relu != net_spec(hidden=(4, 4), activation="tanh")
    assert net_spec(dtype=np.float64).dtype == "float64"
    assert OptimizerSpec("adam") == OptimizerSpec("adam", lr=1e-3, betas=[0.9, 0.999], eps=1e-8,
                                                  weight_decay=0)
    # unset hyperparameters take the optimizer's defaults; the others stay unset
    assert OptimizerSpec("adamw").weight_decay == 0.01
    assert OptimizerSpec("sgd").betas is None and OptimizerSpec("sgd").momentum == 0.0
    with pytest.raises(FrozenInstanceError):
        relu.dropout = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("spec", [
    net_spec(),
    net_spec(n_outputs=3, hidden=(5, 4), activation=["tanh", {"name": "leaky_relu", "slope": 0.2}],
             output_activation="softmax", loss="cross_entropy", batch_norm=True, dropout=0.25,
             bias=False, init="he", seed=7, dtype="float64"),
])
def test_a_spec_goes_to_json_and_back(spec: NetworkSpec) -> None:
    config = json.loads(json.dumps(spec.config()))
    assert NetworkSpec(**config) == spec
    for optimizer in (OptimizerSpec("sgd", lr=0.1, momentum=0.9, nesterov=True),
                      OptimizerSpec("adamw", betas=(0.8, 0.99), compiled_step=True),
                      OptimizerSpec("rmsprop", alpha=0.9)):
        assert OptimizerSpec(**json.loads(json.dumps(optimizer.config()))) == optimizer


# -- the builder ---------------------------------------------------------------------------
def described(net: bp.Network) -> list[tuple[Any, ...]]:
    """Each layer as (kind, n_in, n_out, σ, bias, train_bias, dropout rate)."""
    rows = []
    for layer in net.layers:
        config = layer.config()
        activation = getattr(layer, "activation", None)
        rows.append((config["kind"], layer.n_in, layer.n_out,
                     None if activation is None else activation.config(),
                     config.get("bias"), config.get("train_bias"), config.get("rate")))
    return rows


RELU, TANH, SIGMOID = ({"name": n} for n in ("relu", "tanh", "sigmoid"))
LINEAR = {"name": "linear"}


@pytest.mark.parametrize(("changes", "layers"), [
    ({}, [("Dense", 2, 5, RELU, True, True, None), ("Dense", 5, 3, TANH, True, True, None),
          ("Dense", 3, 1, SIGMOID, True, True, None)]),
    ({"dropout": 0.3, "bias": False},
     [("Dense", 2, 5, RELU, False, True, None), ("Dropout", 5, 5, None, None, None, 0.3),
      ("Dense", 5, 3, TANH, False, True, None), ("Dropout", 3, 3, None, None, None, 0.3),
      ("Dense", 3, 1, SIGMOID, False, True, None)]),
    ({"batch_norm": True, "dropout": 0.1, "train_bias": False},
     [("Dense", 2, 5, LINEAR, False, True, None), ("BatchNorm", 5, 5, None, None, None, None),
      ("ActivationLayer", 5, 5, RELU, None, None, None), ("Dropout", 5, 5, None, None, None, 0.1),
      ("Dense", 5, 3, LINEAR, False, True, None), ("BatchNorm", 3, 3, None, None, None, None),
      ("ActivationLayer", 3, 3, TANH, None, None, None), ("Dropout", 3, 3, None, None, None, 0.1),
      ("Dense", 3, 1, SIGMOID, True, False, None)]),
])
def test_the_builder_places_batch_norm_before_sigma_and_dropout_after_it(
        changes: dict[str, Any], layers: list[tuple[Any, ...]]) -> None:
    spec = net_spec(hidden=(5, 3), activation=("relu", "tanh"), output_activation="sigmoid",
                    loss="binary_cross_entropy", init="xavier_normal", seed=5, dtype="float64",
                    **changes)
    net = build_network(spec)
    assert described(net) == layers
    assert net.loss.name == "binary_cross_entropy" and net.init == "xavier_normal"
    assert net.seed == 5 and net.dtype == np.float64
    assert network_spec_of(net) == spec


def test_the_builder_draws_the_weights_a_hand_built_network_draws() -> None:
    spec = net_spec(n_outputs=3, hidden=(8,), activation="relu", output_activation="softmax",
                    loss="cross_entropy", dropout=0.5, seed=11)
    by_hand = bp.Network([bp.Dense(2, 8, activation="relu"), bp.Dropout(8, rate=0.5),
                          bp.Dense(8, 3, activation="softmax")], loss="cross_entropy", seed=11)
    built = build_network(spec)
    np.testing.assert_array_equal(built.params, by_hand.params)
    X, y = np.random.default_rng(0).normal(size=(16, 2)), np.arange(16) % 3
    built.fit(X, y, epochs=2, batch_size=4, lr=0.1)
    by_hand.fit(X, y, epochs=2, batch_size=4, lr=0.1)
    np.testing.assert_array_equal(built.params, by_hand.params)  # dropout masks too


def test_frozen_biases_stay_and_a_network_of_another_shape_is_named() -> None:
    net = build_network(net_spec(hidden=(3,), train_bias=False, seed=0))
    assert len(net.frozen_slices) == 2
    after_sigma = bp.Network([bp.Dense(2, 3, activation="relu"), bp.BatchNorm(3),
                              bp.Dense(3, 1)], seed=0)
    with pytest.raises(bp.OptionError, match="not one the builder makes: layer 2 is a "
                                             "BatchNorm where a Dense belongs"):
        network_spec_of(after_sigma)


@pytest.mark.parametrize("spec", [
    OptimizerSpec("sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4),
    OptimizerSpec("sgd", lr=0.05, momentum=0.5, dampening=0.1),
    OptimizerSpec("rmsprop", lr=0.002, alpha=0.9, eps=1e-6, momentum=0.5),
    OptimizerSpec("adam", lr=0.003, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-3),
    OptimizerSpec("adamw"),
])
def test_the_builder_makes_the_optimizer_the_spec_names(spec: OptimizerSpec) -> None:
    optimizer = build_optimizer(spec)
    assert type(optimizer) is OPTIMIZERS[spec.name]
    assert optimizer.config() == spec.config()
    assert optimizer.compiled_step is False


@pytest.mark.parametrize(("make", "field"), [
    (lambda: net_spec(hidden=(3, 0)), "hidden"),
    (lambda: net_spec(hidden=(3,), activation="nope"), "activation"),
    (lambda: net_spec(output_activation=2), "output_activation"),
    (lambda: net_spec(dropout=2.0), "dropout"),
    (lambda: net_spec(dtype="int8"), "dtype"),
    (lambda: OptimizerSpec("adam", momentum=0.9), "momentum"),
    (lambda: OptimizerSpec("sgd", nesterov=True), "nesterov"),
    (lambda: OptimizerSpec("nadam"), "name"),
    (lambda: net_spec(output_activation="softmax"), None),  # two fields together
])
def test_a_refusal_names_its_field_for_the_front_ends_to_word(
        make: Callable[[], object], field: str | None) -> None:
    with pytest.raises(bp.OptionError) as error:
        make()
    assert error.value.field == field


def test_a_batch_norm_network_of_the_builder_exports_to_onnx_and_torch(tmp_path: Any) -> None:
    """Batch norm before σ puts σ in a layer of its own; both exporters write it."""
    spec = net_spec(n_outputs=3, hidden=(6, 4), activation=["relu", {"name": "leaky_relu",
                                                                     "slope": 0.2}],
                    output_activation="softmax", loss="cross_entropy", batch_norm=True,
                    dropout=0.1, seed=0, dtype="float64")
    net = build_network(spec)
    X, y = np.random.default_rng(1).normal(size=(30, 2)), np.arange(30) % 3
    net.fit(X, y, epochs=3, batch_size=10, lr=0.1)  # running statistics away from 0 and 1
    expected = net.forward(X)
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    net.to_onnx(str(tmp_path / "net.onnx"))
    session = onnxruntime.InferenceSession(str(tmp_path / "net.onnx"))
    (got,) = session.run(None, {"X": X})
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-12)  # BN: rsqrt kernels
    torch = pytest.importorskip("torch")
    module = net.to_torch().eval()
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(X)).numpy(), expected, rtol=1e-9,
                                   atol=1e-12)
