"""swish (SiLU) and mish: their values against the closed forms, their traits, and an
estimator that learns with each. Their derivatives, forms in ONNX and PyTorch and dtypes are
checked with every registered activation (test_activations, test_gradients, test_onnx,
test_export_forms, test_dtypes)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import backprop as bp
from backprop.nn.activations import Activation, get_activation

POINTS = [0.0, 1.0, -20.0, 20.0]


def swish(z: float) -> float:
    return z / (1.0 + math.exp(-z))  # z · sigmoid(z)


def mish(z: float) -> float:
    return z * math.tanh(math.log1p(math.exp(z)))  # z · tanh(ln(1 + e^z))


def values(activation: Activation, z: list[float] | np.ndarray) -> np.ndarray:
    array = np.array([z], dtype=np.float64)
    return activation.function(array, out=np.empty_like(array))[0]


@pytest.mark.parametrize(("name", "closed_form"), [("swish", swish), ("mish", mish)])
def test_values_equal_the_closed_form(name: str, closed_form: Callable[[float], float]) -> None:
    expected = [closed_form(z) for z in POINTS]
    np.testing.assert_allclose(values(get_activation(name), POINTS), expected, rtol=1e-14,
                               atol=1e-300)
    # 0 at 0, z itself far above 0 and almost 0 far below it
    assert expected[0] == 0.0 and expected[3] == pytest.approx(20.0, rel=1e-8)
    assert -1e-7 < expected[2] < 0.0


@pytest.mark.parametrize(("name", "slope_at_zero"), [("swish", 0.5), ("mish", 0.6)])
def test_the_derivative_at_zero_and_far_from_it(name: str, slope_at_zero: float) -> None:
    """σ'(0) = 1/2 (swish: sigmoid(0)) and tanh(ln 2) = 3/5 (mish); σ' → 1 above, → 0 below."""
    activation = get_activation(name)
    z = np.array([[0.0, 40.0, -40.0]])
    slope = activation.derivative(z, values(activation, z[0])[None, :])[0]
    np.testing.assert_allclose(slope, [slope_at_zero, 1.0, 0.0], atol=1e-15)


@pytest.mark.parametrize("name", ["swish", "mish"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_at_extremes_without_a_warning(name: str, dtype: type) -> None:
    activation = get_activation(name)
    z = np.array([[-1e4, -800.0, -50.0, 50.0, 800.0, 1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = activation.function(z, out=np.empty_like(z))
        slope = activation.derivative(z, a)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(slope))
    np.testing.assert_allclose(a[0, 3:], z[0, 3:], rtol=1e-6)  # σ(z) = z far above 0
    np.testing.assert_allclose(slope[0], [0, 0, 0, 1, 1, 1], atol=1e-6)


@pytest.mark.parametrize("name", ["swish", "mish"])
def test_the_output_range_starts_just_below_the_least_value(name: str) -> None:
    activation = get_activation(name)
    z = np.linspace(-3.0, 0.0, 300_001)
    least = values(activation, z).min()
    low, high = activation.output_range
    assert low <= least < low + 1e-4 and high == np.inf
    assert not activation.can_die and activation.derivative_peak is None
    assert activation.auto_init == "he" and activation.elementwise
    assert bp.Network([bp.Dense(2, 3, name), bp.Dense(3, 1)]).layers[0].activation.name == name


@pytest.mark.parametrize("name", ["swish", "mish"])
def test_a_classifier_learns_two_moons_with_it(name: str) -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from sklearn.datasets import make_moons
    from sklearn.exceptions import ConvergenceWarning

    from backprop.sklearn import MLPClassifier

    X, y = make_moons(n_samples=300, noise=0.15, random_state=0)
    clf = MLPClassifier((16,), activation=name, learning_rate_init=0.02, batch_size=20,
                        max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:200], y[:200])
    assert clf.network_.layers[0].activation.name == name
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X[200:], y[200:]) > 0.9  # chance is 0.5, a straight line about 0.85


@pytest.mark.parametrize(("name", "nodes", "module"), [
    ("swish", ["Sigmoid", "Mul"], "SiLU"),
    # softplus(x) = Relu(x) − ln sigmoid(|x|), then tanh and the product with x
    ("mish", ["Abs", "Sigmoid", "Log", "Relu", "Sub", "Tanh", "Mul"], "Mish"),
])
def test_the_forms_in_onnx_and_pytorch(name: str, nodes: list[str], module: str,
                                       tmp_path: object) -> None:
    onnx = pytest.importorskip("onnx", reason="ONNX export needs onnx")
    torch = pytest.importorskip("torch", reason="PyTorch exchange needs PyTorch")
    net = bp.Network([bp.Dense(3, 2, name)], seed=0, dtype="float64")
    path = f"{tmp_path}/net.onnx"
    net.to_onnx(path)
    # the Dense layer's product and sum first, an Identity naming the output last
    op_types = [node.op_type for node in onnx.load(path).graph.node if node.op_type != "Identity"]
    assert op_types[-len(nodes):] == nodes and nodes[0] not in op_types[:-len(nodes)]
    linear, converted = list(net.to_torch())
    assert type(linear) is torch.nn.Linear and type(converted) is getattr(torch.nn, module)
    again = bp.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 3), getattr(torch.nn, module)()))
    assert again.layers[0].activation.name == name  # type: ignore[attr-defined]
