"""BatchNorm: batch statistics in training, running statistics at predict time."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp

TORCH_REASON = "PyTorch not installed: comparison with torch.nn.BatchNorm1d skipped"


def _net(seed: int = 0, dtype: str = "float64", bias: bool = False,
         momentum: float = 0.1) -> bp.Network:
    """Dense(linear) → BatchNorm → Dense(tanh) → BatchNorm → Dense(softmax)."""
    return bp.Network(
        [bp.Dense(3, 5, activation="linear", bias=bias), bp.BatchNorm(5, momentum=momentum),
         bp.Dense(5, 4, activation="tanh"), bp.BatchNorm(4, momentum=momentum),
         bp.Dense(4, 3, activation="softmax")],
        loss="cross_entropy", seed=seed, dtype=dtype,
    )


def _data(m: int = 17, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(1.0, 2.0, size=(m, 3)), rng.integers(0, 3, size=m)


def _bound_layer(n: int, dtype: type = np.float64) -> tuple[bp.BatchNorm, np.ndarray]:
    """A BatchNorm on its own, bound to a small parameter buffer [γ, β]."""
    layer = bp.BatchNorm(n)
    params, grads = np.zeros(2 * n, dtype), np.zeros(2 * n, dtype)
    layer.bind({"gamma": params[:n], "beta": params[n:]}, {"gamma": grads[:n], "beta": grads[n:]})
    layer.initialize(np.random.default_rng(0), "auto")
    return layer, params


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("m", [2, 5, 17])
def test_batchnorm_network_passes_gradcheck(seed: int, m: int) -> None:
    # With m = 2, x̂ = ±d/√(d² + 4ε) for the difference d of the two samples' z:
    # where d is small (0.01 for one unit here) the loss curves sharply and the
    # O(h²) error of central differences at h = 1e-5 reaches 1e-4; h = 1e-7 resolves it.
    step = 1e-7 if m == 2 else 1e-5
    net = _net(seed)
    for layer in net.layers:  # γ, β away from 1, 0 so their gradients matter
        if isinstance(layer, bp.BatchNorm):
            rng = np.random.default_rng(seed)
            layer.gamma = rng.uniform(0.5, 1.5, layer.n_in)
            layer.beta = rng.normal(size=layer.n_in)
    X, y = _data(m, seed)
    running = [a.copy() for _, a in net.named_state()]
    report = bp.gradcheck(net, X, y, step=step)
    assert report.passed, str(report)
    assert report.relative_error < 1e-6
    for tensor in report.tensors:
        # with m = 2, x̂ = ±1 whatever W^[1] is: its true gradient is ~0 (through ε
        # only) and what is left is the rounding noise of central differences
        assert tensor.relative_error < 1e-6 or (
            m == 2 and tensor.below_resolution and tensor.max_abs_error < 1e-8), str(report)
    assert [(t.layer, t.name) for t in report.tensors][:4] == [
        (1, "W"), (2, "gamma"), (2, "beta"), (3, "W")]
    # gradcheck works on a copy: the running statistics did not move
    for before, (_, after) in zip(running, net.named_state(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_a_bias_before_batchnorm_has_zero_gradient() -> None:
    """The mean subtraction cancels a bias: its gradient is 0, and gradcheck agrees."""
    net = _net(0, bias=True)
    X, y = _data()
    report = bp.gradcheck(net, X, y)
    assert report.passed, str(report)
    grads = net.gradients(X, y)
    assert grads[0][1] is not None
    np.testing.assert_allclose(grads[0][1], 0.0, atol=1e-12)


def test_training_output_is_normalized_per_feature() -> None:
    layer, _ = _bound_layer(4)
    X = np.random.default_rng(0).normal([1.0, -3.0, 10.0, 0.0], [0.1, 2.0, 5.0, 30.0], (64, 4))
    y = layer.forward(X, training=True)  # γ = 1, β = 0: y is x̂
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1.0, rtol=1e-3)  # ε = 1e-5 shrinks it a hair


def test_gamma_and_beta_scale_and_shift() -> None:
    layer, _ = _bound_layer(3)
    layer.gamma = [2.0, 0.5, 1.0]
    layer.beta = [1.0, -1.0, 3.0]
    X = np.random.default_rng(1).normal(size=(50, 3))
    y = layer.forward(X, training=True)
    np.testing.assert_allclose(y.mean(axis=0), [1.0, -1.0, 3.0], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), [2.0, 0.5, 1.0], rtol=1e-3)


def test_parameters_live_in_the_network_buffer() -> None:
    net = _net()
    bn = net.layers[1]
    assert isinstance(bn, bp.BatchNorm)
    assert bn.parameter_shapes() == {"gamma": (5,), "beta": (5,)}
    assert np.shares_memory(bn.gamma, net.params) and np.shares_memory(bn.dgamma, net.grads)
    np.testing.assert_array_equal(bn.gamma, 1.0)
    np.testing.assert_array_equal(bn.beta, 0.0)
    np.testing.assert_array_equal(bn.running_mean, 0.0)
    np.testing.assert_array_equal(bn.running_var, 1.0)
    names = [name for name, _ in net.named_parameters()]
    assert "layers.1.gamma" in names and "layers.1.beta" in names
    assert [name for name, _ in net.named_state()] == [
        "layers.1.running_mean", "layers.1.running_var",
        "layers.3.running_mean", "layers.3.running_var"]
    assert net.layers[1].running_mean.dtype == np.float64
    assert _net(dtype="float32").layers[1].running_var.dtype == np.float32  # type: ignore[attr-defined]


def test_predict_uses_the_running_statistics() -> None:
    layer, _ = _bound_layer(2)
    layer.running_mean[...] = [1.0, -2.0]
    layer.running_var[...] = [4.0, 0.25]
    layer.gamma = [3.0, 1.0]
    layer.beta = [0.5, 0.0]
    X = np.array([[3.0, -1.0], [1.0, -2.0], [-1.0, 0.0]])
    expected = 3.0 * (X[:, 0] - 1.0) / np.sqrt(4.0 + 1e-5) + 0.5
    y = layer.forward(X, training=False)
    np.testing.assert_allclose(y[:, 0], expected, rtol=1e-15)
    np.testing.assert_allclose(y[:, 1], (X[:, 1] + 2.0) / np.sqrt(0.25 + 1e-5), rtol=1e-15)
    # predict does not move the running statistics, and one sample is fine
    layer.forward(X[:1], training=False)
    np.testing.assert_array_equal(layer.running_mean, [1.0, -2.0])
    # predict of a network: each sample on its own, independent of the batch
    net = _net()
    X, y_ = _data(20)
    net.fit(X, y_, epochs=3, batch_size=5, lr=0.1)
    whole = net.forward(X)
    one_by_one = np.vstack([net.forward(X[i : i + 1]) for i in range(20)])
    np.testing.assert_allclose(whole, one_by_one, rtol=1e-12)


def test_running_statistics_match_torch() -> None:
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    layer, _ = _bound_layer(4)
    layer.momentum = 0.3
    reference = torch.nn.BatchNorm1d(4, momentum=0.3, eps=1e-5, dtype=torch.float64)
    reference.train()
    rng = np.random.default_rng(0)
    for m in (8, 3, 16, 2, 5):
        X = rng.normal(2.0, 3.0, size=(m, 4))
        y = layer.forward(X, training=True)
        expected = reference(torch.tensor(X)).detach().numpy()
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean, reference.running_mean.numpy(), rtol=1e-13)
    np.testing.assert_allclose(layer.running_var, reference.running_var.numpy(), rtol=1e-13)
    reference.eval()
    X = rng.normal(size=(6, 4))
    np.testing.assert_allclose(layer.forward(X, training=False),
                               reference(torch.tensor(X)).detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("m", [2, 7, 32])
def test_forward_and_backward_match_torch_in_float64(m: int) -> None:
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    rng = np.random.default_rng(m)
    layer, _ = _bound_layer(5)
    layer.gamma = rng.uniform(0.5, 2.0, 5)
    layer.beta = rng.normal(size=5)
    X = rng.normal(1.0, 3.0, size=(m, 5))
    dy = rng.normal(size=(m, 5))
    reference = torch.nn.BatchNorm1d(5, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.gamma))
        reference.bias.copy_(torch.tensor(layer.beta))
    x = torch.tensor(X, requires_grad=True)
    y_ref = reference(x)
    # our rows of dy are per-sample gradients ∂ℓ_i/∂y_i and dγ, dβ are of the mean loss
    # L = (1/m) Σ ℓ_i: with ℓ_i = dy_i · y_i, torch's sum gives dx, and dγ·m, dβ·m
    (y_ref * torch.tensor(dy)).sum().backward()
    y = layer.forward(X, training=True)
    np.testing.assert_allclose(y, y_ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    dx = layer.backward(dy.copy())
    assert dx is not None
    assert x.grad is not None
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(layer.dgamma * m, reference.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.dbeta * m, reference.bias.grad.numpy(), rtol=1e-12)


def test_network_gradients_match_torch_autograd() -> None:
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    net = _net(3)
    X, y = _data(9, 3)
    ours = net.gradients(X, y)
    a = torch.tensor(X)
    tensors: list[object] = []
    for layer in net.layers:
        if isinstance(layer, bp.Dense):
            W = torch.tensor(layer.W, requires_grad=True)
            b = torch.tensor(layer.b, requires_grad=True) if layer.b is not None else None
            tensors.append((W, b))
            z = a @ W.T + (b if b is not None else 0.0)
            a = {"linear": lambda t: t, "tanh": torch.tanh,
                 "softmax": lambda t: torch.softmax(t, dim=1)}[layer.activation.name](z)
        else:
            bn = torch.nn.BatchNorm1d(layer.n_in, dtype=torch.float64)
            tensors.append(bn)
            a = bn(a)
    Y = torch.nn.functional.one_hot(torch.tensor(y), 3).double()
    (-(Y * torch.log(a)).sum(dim=1).mean()).backward()
    dense = iter(ours)
    for layer, ref in zip(net.layers, tensors, strict=True):
        if isinstance(layer, bp.Dense):
            dW, db = next(dense)
            W, b = ref  # type: ignore[misc]
            np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-9, atol=1e-12)
            if b is not None:
                np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-9, atol=1e-12)
        else:
            assert isinstance(layer, bp.BatchNorm)
            np.testing.assert_allclose(layer.dgamma, ref.weight.grad.numpy(), rtol=1e-9, atol=1e-12)  # type: ignore[attr-defined]
            np.testing.assert_allclose(layer.dbeta, ref.bias.grad.numpy(), rtol=1e-9, atol=1e-12)  # type: ignore[attr-defined]


def test_save_load_keeps_running_statistics_and_predictions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    net = _net(dtype="float32", momentum=0.2)
    X, y = _data(40)
    net.fit(X, y, epochs=4, batch_size=8, optimizer=bp.Adam(lr=0.01))
    assert not np.all(net.layers[1].running_var == 1.0)  # type: ignore[attr-defined]
    path = tmp_path / "bn.npz"
    net.save(str(path))
    with np.load(path) as archive:
        assert "layers.1.running_mean" in archive.files and "layers.3.running_var" in archive.files
    loaded = bp.load(path)
    for (name, mine), (other, theirs) in zip(net.named_state(), loaded.named_state(), strict=True):
        assert name == other
        assert theirs.dtype == np.float32
        np.testing.assert_array_equal(mine, theirs)
    assert loaded.layers[1].momentum == 0.2  # type: ignore[attr-defined]
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_load_refuses_a_file_without_running_statistics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    net = _net()
    path = tmp_path / "bn.npz"
    net.save(str(path))
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files if name != "layers.1.running_var"}
    broken = tmp_path / "broken.npz"
    np.savez(broken, **arrays)
    with pytest.raises(bp.ModelFileError, match=r"missing the array layers\.1\.running_var"):
        bp.load(broken)
    arrays["layers.1.running_var"] = -np.ones(5)
    np.savez(broken, **arrays)
    with pytest.raises(bp.ModelFileError, match="running_var must not be negative"):
        bp.load(broken)


def test_a_network_with_batchnorm_learns() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(5.0, 10.0, size=(150, 4))  # badly scaled inputs
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    net = bp.Network(
        [bp.Dense(4, 16, activation="relu"), bp.BatchNorm(16), bp.Dense(16, 2, activation="softmax")],
        loss="cross_entropy", seed=0,
    )
    before = net.evaluate(X, y)["loss"]
    history = net.fit(X, y, epochs=40, batch_size=16, optimizer=bp.Adam(lr=0.01))
    assert history["loss"][-1] < history["loss"][0]
    after = net.evaluate(X, y)
    assert after["loss"] < 0.5 * before
    assert after["accuracy"] > 0.9


def test_fit_merges_a_last_batch_of_one_sample() -> None:
    X, y = _data(17)
    net = _net()
    seen: list[float] = []

    class Sizes(bp.Callback):
        def on_batch_end(self, state: bp.TrainingState, logs: dict[str, float]) -> None:
            seen.append(logs["batch_size"])

    net.fit(X, y, epochs=1, batch_size=8, callbacks=[Sizes()])
    assert seen == [8.0, 9.0]
    with pytest.raises(ValueError, match="at least 2 samples per batch"):
        net.fit(X, y, epochs=1, batch_size=1)
    layer, _ = _bound_layer(3)
    with pytest.raises(ValueError, match="at least 2 samples per batch"):
        layer.forward(np.ones((1, 3)), training=True)


def test_batchnorm_and_dropout_together_pass_gradcheck() -> None:
    net = bp.Network(
        [bp.Dense(3, 6, activation="linear", bias=False), bp.BatchNorm(6), bp.Dropout(6, 0.3),
         bp.Dense(6, 2, activation="sigmoid")],
        loss="binary_cross_entropy", seed=5, dtype="float32",
    )
    X, _ = _data(11, 5)
    Y = np.random.default_rng(5).uniform(size=(11, 2))
    report = bp.gradcheck(net, X, Y)
    assert report.passed, str(report)
    assert report.relative_error < 1e-6


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 0}, ValueError, "n must be positive"),
        ({"n": 3, "momentum": 0.0}, ValueError, r"momentum must be in \(0, 1\]"),
        ({"n": 3, "momentum": 1.5}, ValueError, r"momentum must be in \(0, 1\]"),
        ({"n": 3, "eps": 0.0}, ValueError, "eps must be positive"),
        ({"n": 3, "eps": float("nan")}, ValueError, "eps must be positive"),
        ({"n": 3, "momentum": "0.1"}, TypeError, "momentum must be a number"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        bp.BatchNorm(**kwargs)  # type: ignore[arg-type]


def test_backward_after_a_predict_time_forward_matches_torch_eval_mode() -> None:
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    rng = np.random.default_rng(9)
    layer, _ = _bound_layer(3)
    layer.gamma = [0.5, 2.0, 1.5]
    layer.running_mean[...] = [1.0, -1.0, 0.0]
    layer.running_var[...] = [2.0, 0.5, 3.0]
    reference = torch.nn.BatchNorm1d(3, dtype=torch.float64)
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(layer.gamma))
        reference.running_mean.copy_(torch.tensor(layer.running_mean))
        reference.running_var.copy_(torch.tensor(layer.running_var))
    reference.eval()
    X, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    x = torch.tensor(X, requires_grad=True)
    (reference(x) * torch.tensor(dy)).sum().backward()
    layer.forward(X, training=False)
    dx = layer.backward(dy)
    assert dx is not None and x.grad is not None
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.dgamma * 4, reference.weight.grad.numpy(), rtol=1e-12)


def test_copy_keeps_running_statistics_in_the_new_dtype() -> None:
    net = _net(dtype="float32")
    X, y = _data(20)
    net.fit(X, y, epochs=2, batch_size=10, lr=0.1)
    clone = net.copy(dtype="float64")
    for (_, mine), (_, theirs) in zip(net.named_state(), clone.named_state(), strict=True):
        assert mine.dtype == np.float32 and theirs.dtype == np.float64
        np.testing.assert_array_equal(theirs, mine.astype(np.float64))
        assert not np.shares_memory(mine, theirs)
    np.testing.assert_allclose(clone.forward(X), net.forward(X), rtol=1e-5, atol=1e-6)
