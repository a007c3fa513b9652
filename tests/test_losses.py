"""Loss values against their definitions, fused δ^[L] against the chain rule, and stability."""

from __future__ import annotations

import numpy as np
import pytest

from backprop.nn.activations import get_activation
from backprop.nn.losses import get_loss

RNG = np.random.default_rng(7)


def test_mse_is_half_the_sum_over_outputs_averaged_over_the_batch() -> None:
    a = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 3.0]])
    y = np.array([[0.0, 2.0], [1.0, 1.0], [3.0, 0.0]])
    per_sample = [0.5 * (1 + 0), 0.5 * (1 + 4), 0.5 * (0 + 9)]
    assert get_loss("mse").value(a, y) == pytest.approx(np.mean(per_sample), rel=1e-15)


def test_binary_cross_entropy_value() -> None:
    a = np.array([[0.9], [0.2]])
    y = np.array([[1.0], [0.0]])
    expected = -(np.log(0.9) + np.log(0.8)) / 2
    assert get_loss("binary_cross_entropy").value(a, y) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_value() -> None:
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = -(np.log(0.7) + np.log(0.8)) / 2
    assert get_loss("cross_entropy").value(a, y) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(("loss_name", "activation_name"), [
    ("binary_cross_entropy", "sigmoid"),
    ("cross_entropy", "softmax"),
])
def test_fused_delta_equals_the_chain_rule(loss_name: str, activation_name: str) -> None:
    loss, activation = get_loss(loss_name), get_activation(activation_name)
    z = RNG.normal(size=(6, 4))
    a = activation.function(z, out=np.empty_like(z))
    y = np.eye(4)[RNG.integers(0, 4, size=6)]
    g = loss.gradient(a, y, out=np.empty_like(a))
    chain = activation.multiply_by_derivative(g, z, a, out=np.empty_like(a))
    np.testing.assert_allclose(chain, a - y, atol=1e-12)
    assert loss.value_from_logits(z, y) == pytest.approx(loss.value(a, y), rel=1e-12)


@pytest.mark.parametrize(("loss_name", "activation_name"), [
    ("binary_cross_entropy", "sigmoid"),
    ("cross_entropy", "softmax"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_from_logits_is_finite_at_1e4(loss_name: str, activation_name: str, dtype: type) -> None:
    z = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    y = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = get_loss(loss_name).value_from_logits(z, y)
    # sample 1 is confidently wrong by a margin of 2e4 (or 1e4 per unit), sample 2 right
    expected = 2e4 / 2 if loss_name == "cross_entropy" else (1e4 + 1e4) / 2
    assert value == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("loss_name", ["binary_cross_entropy", "cross_entropy"])
def test_probability_losses_stay_finite_at_0_and_1(loss_name: str) -> None:
    a = np.array([[0.0, 1.0]])
    y = np.array([[1.0, 0.0]])
    loss = get_loss(loss_name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.isfinite(loss.value(a, y))
        assert np.all(np.isfinite(loss.gradient(a, y, out=np.empty_like(a))))


def test_mse_relation_to_pytorch_mse_loss() -> None:
    """Documented in losses.py: torch's MSELoss(a, y) = 2 L / n_out."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: comparison skipped")
    a, y = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    ours = get_loss("mse").value(a, y)
    theirs = torch.nn.MSELoss()(torch.tensor(a), torch.tensor(y)).item()
    assert theirs == pytest.approx(2 * ours / 3, rel=1e-12)


def test_unknown_loss_lists_the_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown loss 'hinge'; valid: mse, binary_cross_entropy"):
        get_loss("hinge")
