"""Each activation's derivative against central differences, and stability at ±1e4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backprop.nn.activations import (
    Activation,
    LeakyReLU,
    activation_names,
    get_activation,
    register_activation,
)

ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu", "leaky_relu"]


def _apply(activation: Activation, z: np.ndarray) -> np.ndarray:
    return activation.function(z, out=np.empty_like(z))


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(z=arrays(np.float64, (3, 4), elements=st.floats(-6, 6)))
def test_derivative_matches_central_difference(name: str, z: np.ndarray) -> None:
    activation = get_activation(name)
    if activation.kinks:
        z = np.where(np.abs(z) < 1e-3, 0.5, z)  # keep the difference off the kink
    h = 1e-6
    numeric = (_apply(activation, z + h) - _apply(activation, z - h)) / (2 * h)
    analytic = activation.derivative(z, _apply(activation, z))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@given(
    z=arrays(np.float64, (2, 5), elements=st.floats(-8, 8)),
    g=arrays(np.float64, (2, 5), elements=st.floats(-3, 3)),
)
def test_softmax_backward_is_the_jacobian_product(z: np.ndarray, g: np.ndarray) -> None:
    softmax = get_activation("softmax")
    a = _apply(softmax, z)
    expected = np.stack(
        [(np.diag(row) - np.outer(row, row)) @ grad for row, grad in zip(a, g, strict=True)]
    )
    np.testing.assert_allclose(softmax.backward(g.copy(), z, a), expected, atol=1e-12)


@pytest.mark.parametrize("name", activation_names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_inputs_up_to_1e4(name: str, dtype: type) -> None:
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = _apply(get_activation(name), z)
    assert np.all(np.isfinite(a))
    assert a.dtype == dtype


def test_sigmoid_values_and_saturation() -> None:
    sigmoid = get_activation("sigmoid")
    z = np.array([[-1e4, -1.0, 0.0, 1.0, 1e4]])
    expected = [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1.0)), 1.0]
    np.testing.assert_allclose(_apply(sigmoid, z)[0], expected, rtol=1e-15)


def test_softmax_rows_sum_to_one_even_for_huge_logits() -> None:
    a = _apply(get_activation("softmax"), np.array([[1e4, 1e4 - 1.0, -1e4]]))
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[0, :2], [1 / (1 + np.exp(-1.0)), np.exp(-1.0) / (1 + np.exp(-1.0))])


def test_leaky_relu_slope_is_a_parameter() -> None:
    leaky = get_activation({"name": "leaky_relu", "slope": 0.2})
    z = np.array([[-2.0, 3.0]])
    np.testing.assert_allclose(_apply(leaky, z), [[-0.4, 3.0]])
    assert get_activation("leaky_relu") == LeakyReLU(0.01)
    with pytest.raises(ValueError, match="slope"):
        LeakyReLU(-1.0)


def test_unknown_activation_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'rleu'; valid: linear, sigmoid"):
        get_activation("rleu")


def test_user_activation_plugs_into_the_table() -> None:
    class Softplus(Activation):
        name = "softplus_test"
        output_range = (0.0, np.inf)

        def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
            return np.logaddexp(0.0, z, out=out)

        def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
            return 1.0 - np.exp(-a)  # σ(z) = 1 − e^(−softplus(z))

    register_activation("softplus_test", Softplus)
    softplus = get_activation("softplus_test")
    z = np.linspace(-3, 3, 7).reshape(1, -1)
    h = 1e-6
    numeric = (_apply(softplus, z + h) - _apply(softplus, z - h)) / (2 * h)
    np.testing.assert_allclose(softplus.derivative(z, _apply(softplus, z)), numeric, rtol=1e-6)
