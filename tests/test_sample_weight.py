"""Sample weights in the engine: Network.backprop(X, Y, sample_weight) is the gradient of the
weighted mean loss Σ w_i ℓ_i / Σ w_i, for every loss, checked against central differences
in float64; integer weights are repeated rows; the compiled path gives NumPy's numbers."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import backprop as bp
from backprop.nn.losses import get_loss, loss_names
from nets import OUTPUTS_FOR_LOSS, targets

#: Each loss with an output it pairs with canonically (δ^[L] = a − y) and one it does not.
PAIRINGS = [(loss, output) for loss in loss_names() for output in OUTPUTS_FOR_LOSS[loss][:2]]


def network(loss: str, output: str, seed: int = 0, dtype: str = "float64") -> bp.Network:
    n_out = 3
    return bp.Network([bp.Dense(4, 5, "tanh"), bp.Dense(5, n_out, output)], loss=loss,
                      seed=seed, dtype=dtype, init="xavier_normal")


def batch(loss: str, m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, 4)), targets(loss, m, 3, rng)


def weighted_loss(net: bp.Network, X: np.ndarray, Y: np.ndarray, w: np.ndarray) -> float:
    """Σ w_i ℓ_i / Σ w_i, each ℓ_i the network's loss on row i alone (inference = training
    here: no dropout, no batch norm)."""
    per_sample = [net.loss_value(X[i:i + 1], Y[i:i + 1]) for i in range(X.shape[0])]
    return float(np.dot(w, per_sample) / w.sum())


def test_the_registry_holds_every_loss_the_pairings_name() -> None:
    # the library's own losses (other tests register losses of their own as they run)
    built_in = {name for name in loss_names()
                if type(get_loss(name)).__module__ == "backprop.nn.losses"}
    assert {loss for loss, _ in PAIRINGS} == built_in
    assert "poisson" in loss_names()


@pytest.mark.parametrize(("loss", "output"), PAIRINGS)
@settings(max_examples=15, deadline=None)
@given(w=arrays(np.float64, 6, elements=st.floats(0.0, 5.0)).filter(lambda w: w.sum() > 0.1))
def test_weighted_gradient_matches_central_differences(loss: str, output: str,
                                                       w: np.ndarray) -> None:
    net = network(loss, output)
    X, Y = batch(loss, 6)
    value = net.backprop(X, Y, sample_weight=w)
    assert value == pytest.approx(weighted_loss(net, X, Y, w), rel=1e-12, abs=1e-14)
    analytic = net.grads.copy()
    theta = net.params.copy()
    numeric = np.empty_like(theta)
    h = 1e-6
    for k in range(theta.size):
        net.params[k] = theta[k] + h
        up = weighted_loss(net, X, Y, w)
        net.params[k] = theta[k] - h
        down = weighted_loss(net, X, Y, w)
        net.params[k] = theta[k]
        numeric[k] = (up - down) / (2 * h)  # central difference of Σ w ℓ / Σ w
    scale = max(np.abs(numeric).max(), 1e-3)
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-7 * scale)


@pytest.mark.parametrize(("loss", "output"), PAIRINGS)
@settings(deadline=None)
@given(counts=st.lists(st.integers(0, 3), min_size=5, max_size=5).filter(any))
def test_integer_weights_are_repeated_rows(loss: str, output: str, counts: list[int]) -> None:
    net = network(loss, output)
    X, Y = batch(loss, 5)
    w = np.array(counts, dtype=np.float64)
    weighted = net.backprop(X, Y, sample_weight=w)
    weighted_grads = net.grads.copy()
    repeated = net.backprop(np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0))
    assert weighted == pytest.approx(repeated, rel=1e-12)
    np.testing.assert_allclose(weighted_grads, net.grads, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("loss", "output"), PAIRINGS)
def test_weights_of_one_give_the_unweighted_numbers_bit_for_bit(loss: str, output: str,
                                                                dtype: str) -> None:
    net = network(loss, output, dtype=dtype)
    X, Y = batch(loss, 7)
    X, Y = X.astype(dtype), Y.astype(dtype)
    net.backprop(X, Y)
    plain = net.grads.copy()
    net.backprop(X, Y, sample_weight=np.ones(7))
    np.testing.assert_array_equal(net.grads, plain)


def test_a_zero_weight_row_does_not_count() -> None:
    net = network("mse", "linear")
    X, Y = batch("mse", 4)
    net.backprop(X, Y, sample_weight=np.array([1.0, 0.0, 2.0, 1.0]))
    with_zero = net.grads.copy()
    Y_changed = Y.copy()
    Y_changed[1] += 100.0  # the zero-weight row's target moves: nothing changes
    net.backprop(X, Y_changed, sample_weight=np.array([1.0, 0.0, 2.0, 1.0]))
    np.testing.assert_array_equal(net.grads, with_zero)


def test_weights_summing_to_zero_are_refused_in_one_line() -> None:
    net = network("mse", "linear")
    X, Y = batch("mse", 3)
    with pytest.raises(bp.DataError, match="sample_weight must have a positive sum"):
        net.backprop(X, Y, sample_weight=np.zeros(3))


def test_a_users_loss_without_per_sample_losses_is_weighted_row_by_row() -> None:
    class Quartic(bp.Loss):
        """ℓ = ¼ Σ (a − y)⁴: only the mean value and the gradient are written."""

        name = "quartic"

        def value(self, a: np.ndarray, y: np.ndarray) -> float:
            return float(np.sum(0.25 * (a - y) ** 4)) / a.shape[0]

        def gradient(self, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
            np.subtract(a, y, out=out)
            out **= 3
            return out

    w = np.array([0.5, 2.0, 1.0])
    net = bp.Network([bp.Dense(4, 2, "tanh")], loss=Quartic(), seed=0, dtype="float64")
    X, Y = batch("mse", 3)
    Y = Y[:, :2]
    value = net.backprop(X, Y, sample_weight=w)
    assert value == pytest.approx(weighted_loss(net, X, Y, w), rel=1e-12)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs the numba extra")
@pytest.mark.parametrize(("loss", "output"), PAIRINGS)
def test_the_compiled_path_gives_numpys_weighted_numbers(loss: str, output: str) -> None:
    w = np.array([0.5, 2.0, 0.0, 1.0, 3.0])
    X, Y = batch(loss, 5)
    numpy_net, compiled_net = network(loss, output), network(loss, output)
    compiled_net.compiled = True
    expected = numpy_net.backprop(X, Y, sample_weight=w)
    value = compiled_net.backprop(X, Y, sample_weight=w)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(compiled_net.grads, numpy_net.grads, rtol=1e-12, atol=1e-15)


# -- the Poisson deviance and exp, the canonical pair -----------------------------------------
def test_poisson_with_exp_begins_the_backward_pass_at_a_minus_y() -> None:
    loss, exp = get_loss("poisson"), bp.get_activation("exp")
    assert loss.fuses_with(exp)
    z = np.array([[0.3, -1.0], [2.0, 0.1]])
    a = np.exp(z)
    y = np.array([[1.0, 0.0], [4.0, 2.0]])
    grad, is_delta = loss.output_gradient(exp, a, y, out=np.empty_like(a))
    assert is_delta
    np.testing.assert_array_equal(grad, a - y)
    # the value from the logits equals the value from a (0 log 0 = 0 where y = 0)
    assert loss.value_from_logits(z, y) == pytest.approx(loss.value(a, y), rel=1e-14)
    half_deviance = np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / a), 0) - y + a) / 2
    assert loss.value(a, y) == pytest.approx(half_deviance, rel=1e-14)


def test_poisson_needs_a_positive_output_and_targets_of_at_least_zero() -> None:
    with pytest.raises(bp.OptionError, match=r"poisson needs outputs > 0 .* use an exp output"):
        bp.Network([bp.Dense(2, 1, "linear")], loss="poisson")
    net = bp.Network([bp.Dense(2, 1, "exp")], loss="poisson", seed=0)
    assert net.loss.name == "poisson" and net.fused_output
    with pytest.raises(bp.DataError, match=r"poisson targets must be ≥ 0 .* -1.0 at row 1"):
        net.fit(np.ones((3, 2)), np.array([1.0, -1.0, 2.0]), epochs=1)


def test_a_poisson_network_learns_counts() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = rng.poisson(np.exp(0.5 + X[:, 0] - 0.7 * X[:, 1])).astype(float)
    net = bp.Network([bp.Dense(2, 8, "tanh"), bp.Dense(8, 1, "exp")], loss="poisson", seed=0,
                     dtype="float64")
    before = net.loss_value(X, y)
    net.fit(X, y, epochs=30, batch_size=32, optimizer=bp.Adam(lr=0.01))
    after = net.loss_value(X, y)
    assert after < 0.7 * before
