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

ELEMENTWISE = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "swish", "mish", "exp"]
#: e^z has no bound: past z ≈ 88 (float32), 709 (float64) it is inf by nature
UNBOUNDED = {"exp"}


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
    before = g.copy()
    out = np.empty_like(g)
    assert softmax.multiply_by_derivative(g, z, a, out=out) is out
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_array_equal(g, before)  # the argument is read, not written
    # the reference form, one sample at a time
    for row_g, row_z, row_a, row_expected in zip(g, z, a, expected, strict=True):
        np.testing.assert_allclose(softmax.vector_jacobian_product(row_g, row_z, row_a),
                                   row_expected, atol=1e-12)


@pytest.mark.parametrize("name", [name for name in activation_names() if name not in UNBOUNDED])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_inputs_up_to_1e4(name: str, dtype: type) -> None:
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = _apply(get_activation(name), z)
    assert np.all(np.isfinite(a))
    assert a.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_is_finite_up_to_its_dtypes_limit_and_its_derivative_is_itself(dtype: type) -> None:
    exp = get_activation("exp")
    top = np.log(np.finfo(dtype).max) * 0.999
    z = np.array([[-1e4, -50.0, 0.0, 1.0, top]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = _apply(exp, z)
    assert np.all(np.isfinite(a)) and a.dtype == dtype and np.all(a >= 0)
    np.testing.assert_allclose(a[0, 1:4], np.exp([-50.0, 0.0, 1.0]), rtol=1e-6)
    np.testing.assert_array_equal(exp.derivative(z, a), a)  # σ' = e^z = a
    assert exp.output_range == (0.0, np.inf)


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


@pytest.mark.parametrize("name", activation_names())
def test_multiply_by_derivative_leaves_its_argument_alone_and_agrees_in_place(name: str) -> None:
    """Out of place into ``out``, or in place when ``out`` is the argument: the same numbers."""
    activation = get_activation(name)
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4))
    a = _apply(activation, z)
    g = rng.normal(size=(5, 4))
    before = g.copy()
    delta = activation.multiply_by_derivative(g, z, a, out=np.empty_like(g))
    np.testing.assert_array_equal(g, before)
    in_place = activation.multiply_by_derivative(g, z, a, out=g)
    np.testing.assert_array_equal(in_place, delta)
    rows = [activation.vector_jacobian_product(gi, zi, ai)
            for gi, zi, ai in zip(before, z, a, strict=True)]
    np.testing.assert_allclose(np.array(rows), delta, rtol=1e-15, atol=1e-15)


def test_the_old_in_place_backward_still_works_with_a_deprecation_warning() -> None:
    sigmoid = get_activation("sigmoid")
    z = np.array([[-1.0, 0.5, 2.0]])
    a = _apply(sigmoid, z)
    g = np.array([[1.0, -2.0, 0.5]])
    expected = g * a * (1.0 - a)
    with pytest.warns(DeprecationWarning, match="multiply_by_derivative"):
        result = sigmoid.backward(g, z, a)
    assert result is g  # in place, as it always was
    np.testing.assert_allclose(g, expected, rtol=1e-15)


def test_a_subclass_overriding_the_old_backward_is_still_used_by_the_engine() -> None:
    """An activation written for the old protocol (an in-place ``backward``) trains as before:
    its backward is the one the engine calls, and defining the class says it is deprecated."""
    import backprop as bp

    calls: list[int] = []
    with pytest.warns(DeprecationWarning, match="override multiply_by_derivative"):
        class OldTanh(Activation):
            name = "old_tanh_test"
            output_range = (-1.0, 1.0)

            def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
                return np.tanh(z, out=out)

            def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
                return 1.0 - a * a

            def backward(self, grad_a: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
                calls.append(grad_a.shape[0])
                return super().backward(grad_a, z, a)  # the base rule, in place

    def network(activation: Activation | str) -> bp.Network:
        return bp.Network([bp.Dense(3, 4, activation=activation), bp.Dense(4, 2)], loss="mse",
                          seed=2, dtype="float64")

    old, new = network(OldTanh()), network("tanh")
    X = np.random.default_rng(0).normal(size=(6, 3))
    Y = np.random.default_rng(1).normal(size=(6, 2))
    old.backprop(X, Y)
    new.backprop(X, Y)
    assert calls == [6]
    np.testing.assert_allclose(old.grads, new.grads, rtol=1e-15)
    assert bp.gradcheck(old, X, Y)
