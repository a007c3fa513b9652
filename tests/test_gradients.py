"""Backpropagation's gradients against central differences and against torch.autograd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import backprop as bp
from backprop.teaching.gradcheck import central_difference, relative_error
from nets import Case, cases


@settings(max_examples=120)
@given(case=cases())
def test_every_allowed_pairing_matches_central_differences(case: Case) -> None:
    report = bp.gradcheck(case.net, case.X, case.Y, tolerance=1e-6)
    assert report.passed, str(report)
    # the overall error can exceed 1e-6 only when tensors at rounding-noise level dominate it
    assert report.relative_error < 1e-6 or any(t.below_resolution for t in report.tensors), str(report)
    for tensor in report.tensors:  # each below 1e-6, or a difference that is rounding noise
        assert tensor.relative_error < 1e-6 or (tensor.below_resolution and tensor.max_abs_error < 1e-9)


@settings(max_examples=25)
@given(case=cases(dtype="float32"))
def test_float32_network_is_checked_on_a_float64_copy(case: Case) -> None:
    report = bp.gradcheck(case.net, case.X, case.Y)
    assert report.passed, str(report)
    assert case.net.dtype == np.float32  # the network itself is untouched


def test_gradients_returns_dW_db_per_layer_with_the_parameter_shapes() -> None:
    net = bp.Network(
        [bp.Dense(3, 4, activation="tanh"), bp.Dense(4, 2, activation="softmax", bias=False)],
        loss="cross_entropy", seed=0,
    )
    grads = net.gradients(np.ones((5, 3)), np.array([0, 1, 0, 1, 1]))
    assert [g[0].shape for g in grads] == [(4, 3), (2, 4)]
    assert grads[0][1] is not None and grads[0][1].shape == (4,)
    assert grads[1][1] is None
    assert grads[0][0].dtype == np.float32


def _torch_loss(torch, loss: str, out, Y):  # type: ignore[no-untyped-def]
    """The same mean-over-batch, sum-over-outputs losses, written in PyTorch."""
    if loss == "mse":
        return 0.5 * ((out - Y) ** 2).sum(dim=1).mean()
    if loss == "binary_cross_entropy":
        return -(Y * torch.log(out) + (1 - Y) * torch.log(1 - out)).sum(dim=1).mean()
    if loss == "poisson":  # half the Poisson deviance, 0 log 0 = 0
        return (torch.xlogy(Y, Y) - Y * torch.log(out) - Y + out).sum(dim=1).mean()
    return -(Y * torch.log(out)).sum(dim=1).mean()


@settings(max_examples=60)
@given(case=cases())
def test_gradients_match_torch_autograd_in_float64(case: Case) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: autograd comparison skipped")
    functions = {
        "linear": lambda z: z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
        "swish": torch.nn.functional.silu,
        "mish": torch.nn.functional.mish,
        "softmax": lambda z: torch.softmax(z, dim=1),
        "exp": torch.exp,
    }
    net = case.net
    a = torch.tensor(case.X)
    tensors = []
    for layer in net.layers:
        assert isinstance(layer, bp.Dense)
        W = torch.tensor(layer.W, requires_grad=True)
        b = torch.tensor(layer.b, requires_grad=True) if layer.b is not None else None
        tensors.append((W, b))
        z = a @ W.T + (b if b is not None else 0.0)
        a = functions[layer.activation.name](z)
    _torch_loss(torch, net.loss.name, a, torch.tensor(case.Y)).backward()
    ours = net.gradients(case.X, case.Y)
    for (dW, db), (W, b) in zip(ours, tensors, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-9, atol=1e-12)
        if b is not None:
            np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_gradcheck_catches_a_wrong_derivative() -> None:
    class BrokenTanh(bp.Activation):
        name = "broken_tanh"

        def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
            return np.tanh(z, out=out)

        def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
            return 1.0 - a  # wrong: should be 1 − a²

    net = bp.Network([bp.Dense(2, 3, activation=BrokenTanh()), bp.Dense(3, 1)], seed=3)
    X = np.random.default_rng(0).normal(size=(4, 2))
    report = bp.gradcheck(net, X, np.ones(4))
    assert not report.passed
    assert "FAIL" in str(report)
    failed = {(t.layer, t.name) for t in report.tensors if not t.passed}
    assert (1, "W") in failed
    assert (2, "W") not in failed  # the output layer's gradient is still right


def test_gradcheck_explains_a_relu_kink_instead_of_failing() -> None:
    net = bp.Network([bp.Dense(2, 2, activation="relu"), bp.Dense(2, 1)], seed=0, dtype="float64")
    net.layers[0].W = np.array([[1.0, 1.0], [0.5, -0.5]])
    net.layers[0].b = np.array([0.0, 0.3])  # type: ignore[union-attr]
    X = np.array([[2e-6, -1e-6], [1.0, 2.0]])  # unit 0 of sample 0 sits at z = 1e-6
    report = bp.gradcheck(net, X, np.array([1.0, 2.0]), step=1e-5)
    assert report.passed, str(report)
    # only b[0] moves z by the full step (W[0, k] moves it by h·x_k ≈ 1e-11)
    assert [(t.layer, t.name, t.kink_entries) for t in report.tensors][:2] == [
        (1, "W", 0), (1, "b", 1)]
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("layer 1 b[0]: the ±1e-05 step moves unit 0 of layer 1")
    assert "(sample 0)" in report.warnings[0] and "not a bug" in report.warnings[0]


def test_gradcheck_report_lists_every_tensor() -> None:
    net = bp.Network([bp.Dense(2, 3), bp.Dense(3, 1, bias=False)], seed=0)
    report = bp.gradcheck(net, np.ones((2, 2)), np.zeros(2))
    assert [(t.layer, t.name) for t in report.tensors] == [(1, "W"), (1, "b"), (2, "W")]
    text = str(report)
    assert "overall ‖g_num − g‖ / (‖g_num‖ + ‖g‖)" in text
    assert report.as_dict()["passed"] is True


def test_central_difference_is_exact_on_a_quadratic_and_restores_the_parameter() -> None:
    params = np.array([0.3, -1.7, 2.0])

    def loss() -> float:  # L(θ) = θ_0² θ_1 + 3 θ_2², whose central difference is exact
        return float(params[0] ** 2 * params[1] + 3.0 * params[2] ** 2)

    before = params.copy()
    estimates = [central_difference(loss, params, i, 1e-3) for i in range(3)]
    np.testing.assert_allclose(estimates, [2 * 0.3 * -1.7, 0.3**2, 6 * 2.0], rtol=1e-9)
    np.testing.assert_array_equal(params, before)  # restored bit for bit


def test_relative_error_of_numbers_and_arrays() -> None:
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(1.0, -1.0) == 1.0
    assert relative_error(3.0, 1.0) == pytest.approx(0.5)
    assert relative_error(np.array([3.0, 4.0]), np.zeros(2)) == 1.0
    assert relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0 + 1e-6])) == pytest.approx(
        1e-6 / 10.0, rel=1e-6)
