"""Gradient clipping by global norm: fit(clip_norm=c) and bp.clip_grad_norm."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp


def net_and_grads() -> tuple[bp.Network, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    net = bp.Network(
        [bp.Dense(4, 6, activation="tanh"), bp.Dense(6, 3, activation="softmax")],
        loss="cross_entropy", seed=2, dtype="float64",
    )
    X, y = rng.normal(size=(10, 4)) * 5, rng.integers(0, 3, size=10)
    net.gradients(X, y)
    return net, X, y


def test_a_large_gradient_is_scaled_to_the_norm_exactly_with_its_direction_kept() -> None:
    net, _, _ = net_and_grads()
    g = net.grads.copy()
    norm = float(np.linalg.norm(g))
    c = norm / 3
    assert bp.clip_grad_norm(net.grads, c) == pytest.approx(norm, rel=1e-15)
    assert np.linalg.norm(net.grads) == pytest.approx(c, rel=1e-14)
    np.testing.assert_allclose(net.grads, g * (c / norm), rtol=1e-15)  # same direction
    cosine = net.grads @ g / (np.linalg.norm(net.grads) * norm)
    assert cosine == pytest.approx(1.0, rel=1e-14)


def test_a_small_gradient_is_left_alone() -> None:
    net, _, _ = net_and_grads()
    g = net.grads.copy()
    bp.clip_grad_norm(net.grads, float(np.linalg.norm(g)) * 1.01)
    np.testing.assert_array_equal(net.grads, g)


def test_clipping_matches_torch_clip_grad_norm() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: clip_grad_norm_ comparison skipped")
    net, _, _ = net_and_grads()
    tensors = []
    for _, _, where in net.parameter_slices:  # one torch tensor per layer tensor
        p = torch.zeros(where.stop - where.start, dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(net.grads[where], dtype=torch.float64)
        tensors.append(p)
    c = float(np.linalg.norm(net.grads)) / 4
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm=c)
    assert bp.clip_grad_norm(net.grads, c) == pytest.approx(float(total), rel=1e-14)
    theirs = np.concatenate([p.grad.numpy().ravel() for p in tensors])
    # PyTorch divides by ‖g‖ + 1e-6: the same up to that epsilon
    np.testing.assert_allclose(net.grads, theirs, rtol=1e-6)


def test_fit_clips_before_every_step() -> None:
    """One full-batch SGD step with clip_norm equals a step along the clipped gradient."""
    net, X, y = net_and_grads()
    g = net.grads.copy()
    c = float(np.linalg.norm(g)) / 5
    before = net.params.copy()
    net.fit(X, y, epochs=1, batch_size=None, lr=0.5, clip_norm=c)
    np.testing.assert_allclose(before - net.params, 0.5 * g * c / np.linalg.norm(g), rtol=1e-12)
    assert np.linalg.norm(before - net.params) == pytest.approx(0.5 * c, rel=1e-12)
    unclipped, _, _ = net_and_grads()
    unclipped.fit(X, y, epochs=1, batch_size=None, lr=0.5, clip_norm=1e9)
    np.testing.assert_allclose(before - unclipped.params, 0.5 * g, rtol=1e-12)


def test_float32_gradients_whose_squares_overflow_are_still_clipped_correctly() -> None:
    grads = np.full(8, 1e20, dtype=np.float32)  # finite, but Σ g² = 8e40 overflows float32
    norm = bp.clip_grad_norm(grads, 2.0)
    assert norm == pytest.approx(1e20 * np.sqrt(8), rel=1e-6)
    np.testing.assert_allclose(grads, np.full(8, 2.0 / np.sqrt(8)), rtol=1e-6)
    assert grads.dtype == np.float32


@pytest.mark.parametrize("bad", [0, -1.0, float("inf")])
def test_bad_clip_norm(bad: float) -> None:
    net, X, y = net_and_grads()
    with pytest.raises(ValueError, match="clip_norm must be a finite number > 0"):
        net.fit(X, y, clip_norm=bad)
