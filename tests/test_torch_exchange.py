"""PyTorch exchange: bp.from_torch(module) and net.to_torch() agree with torch in float64."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp

torch = pytest.importorskip("torch", reason="PyTorch exchange needs PyTorch: pip install torch")
nn = torch.nn


def mean_loss(outputs: torch.Tensor, Y: torch.Tensor, loss: str) -> torch.Tensor:
    """The library's losses (DESIGN.md): per-sample sums over units, mean over the batch."""
    if loss == "mse":
        return 0.5 * ((outputs - Y) ** 2).sum(dim=1).mean()
    if loss == "binary_cross_entropy":
        return -(Y * torch.log(outputs) + (1 - Y) * torch.log(1 - outputs)).sum(dim=1).mean()
    return -(Y * torch.log(outputs)).sum(dim=1).mean()


MODULES = {
    "softmax": lambda: nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.ReLU(),
                                     nn.Linear(5, 3), nn.Softmax(dim=1)),
    "sigmoid": lambda: nn.Sequential(nn.Linear(4, 6, bias=False), nn.LeakyReLU(0.2),
                                     nn.Linear(6, 2), nn.Sigmoid()),
    "regression": lambda: nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 6),
                                        nn.Identity(), nn.Linear(6, 2)),
    "batchnorm": lambda: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.BatchNorm1d(6),
                                       nn.Linear(6, 3), nn.Softmax(dim=-1)),
}
EXPECTED_LOSS = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy",
                 "regression": "mse", "batchnorm": "cross_entropy"}


def batch(kind: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(9, 4))
    if kind == "sigmoid":
        return X, rng.integers(0, 2, size=(9, 2)).astype(np.float64)
    if kind == "regression":
        return X, rng.normal(size=(9, 2))
    return X, np.eye(3)[rng.integers(0, 3, size=9)]


@pytest.mark.parametrize("kind", list(MODULES))
def test_from_torch_copies_the_weights_forward_and_gradients_agree_in_float64(kind: str) -> None:
    torch.manual_seed(0)
    module = MODULES[kind]().double()
    net = bp.from_torch(module)
    assert net.dtype == np.float64 and net.loss.name == EXPECTED_LOSS[kind]
    X, Y = batch(kind)
    # forward in inference mode
    module.eval()
    np.testing.assert_allclose(net.forward(X), module(torch.from_numpy(X)).detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    # gradients of the mean loss in training mode (BatchNorm on batch statistics)
    module.train()
    module.zero_grad()
    mean_loss(module(torch.from_numpy(X)), torch.from_numpy(Y), net.loss.name).backward()
    linears = [m for m in module if isinstance(m, nn.Linear)]
    for (dW, db), linear in zip(net.gradients(X, Y), linears, strict=True):
        np.testing.assert_allclose(dW, linear.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
        if linear.bias is None:
            assert db is None
        else:
            np.testing.assert_allclose(db, linear.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
    norms = [m for m in module if isinstance(m, nn.BatchNorm1d)]
    for layer, norm in zip([lay for lay in net.layers if isinstance(lay, bp.BatchNorm)], norms, strict=True):
        np.testing.assert_allclose(layer.dgamma, norm.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.dbeta, norm.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
        # the same batch statistics moved both running means
        np.testing.assert_allclose(layer.running_mean, norm.running_mean.numpy(), rtol=1e-12)


def test_trained_batchnorm_statistics_and_dropout_travel_both_ways() -> None:
    torch.manual_seed(1)
    module = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.BatchNorm1d(5, momentum=0.3, eps=1e-3),
                           nn.Dropout(0.25), nn.Linear(5, 1)).double()
    module(torch.randn(16, 3, dtype=torch.float64) * 3 + 1)  # moves the running statistics
    with torch.no_grad():
        module[2].weight.uniform_(0.5, 2.0)
    net = bp.from_torch(module)
    assert [type(layer).__name__ for layer in net.layers] == ["Dense", "BatchNorm", "Dropout", "Dense"]
    assert net.layers[2].rate == 0.25 and net.layers[1].momentum == 0.3 and net.layers[1].eps == 1e-3
    X = np.random.default_rng(0).normal(size=(6, 3))
    np.testing.assert_allclose(net.forward(X), module.eval()(torch.from_numpy(X)).detach().numpy(), rtol=1e-12)
    back = net.to_torch().eval()
    assert isinstance(back[3], nn.Dropout) and back[3].p == 0.25
    np.testing.assert_allclose(back(torch.from_numpy(X)).detach().numpy(), net.forward(X), rtol=1e-12)


@pytest.mark.parametrize("kind", list(MODULES))
def test_round_trip_to_torch_of_from_torch_gives_the_same_module(kind: str) -> None:
    torch.manual_seed(2)
    module = MODULES[kind]().double().eval()
    again = bp.from_torch(module).to_torch().eval()
    assert [type(m).__name__ for m in again if not isinstance(m, nn.Identity)] == [
        type(m).__name__ for m in module if not isinstance(m, nn.Identity)]
    for mine, theirs in zip(again.state_dict().values(), module.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs)
    X = torch.from_numpy(batch(kind)[0])
    assert torch.equal(again(X), module(X))


def test_a_trained_network_goes_to_torch_in_its_dtype() -> None:
    net = bp.Network([bp.Dense(2, 4, "relu"), bp.Dense(4, 2, "softmax")], loss="cross_entropy",
                     seed=0)
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    net.fit(X, (X[:, 0] > 0).astype(int), epochs=5)
    module = net.to_torch()
    assert module[0].weight.dtype == torch.float32 and module.training
    np.testing.assert_allclose(module.eval()(torch.from_numpy(X)).detach().numpy(), net.forward(X),
                               rtol=1e-5, atol=1e-6)
    assert bp.from_torch(module, loss="mse").loss.name == "mse"
    assert bp.from_torch(module, dtype="float64").dtype == np.float64


@pytest.mark.parametrize(("module", "message"), [
    (nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)), r"module 1 \(GELU\) is not supported"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 1)),
     r"module 0 \(ReLU\): an activation cannot be the first module"),
    (nn.Sequential(nn.Dropout(0.1), nn.Linear(2, 1)), r"module 0 \(Dropout\): Dropout cannot be the first"),
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), r"module 1 \(Softmax\): Softmax\(dim=0\)"),
    (nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.1)), "the last layer must be a Linear"),
    (nn.Sequential(nn.Conv1d(1, 1, 1)), r"module 0 \(Conv1d\) is not supported"),
])
def test_unsupported_modules_are_named_with_their_position(module: nn.Module, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bp.from_torch(module)


def test_an_activation_after_batchnorm_becomes_sigma_as_a_layer_and_travels_back() -> None:
    torch.manual_seed(3)
    module = nn.Sequential(nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), nn.ReLU(),
                           nn.Linear(4, 2), nn.Sigmoid()).double().eval()
    net = bp.from_torch(module)
    assert [repr(layer) for layer in net.layers] == [
        "Dense(3, 4, activation='linear', bias=False)", "BatchNorm(4, momentum=0.1, eps=1e-05)",
        "ActivationLayer(4, 'relu')", "Dense(4, 2, activation='sigmoid')"]
    X = np.random.default_rng(0).normal(size=(7, 3))
    np.testing.assert_allclose(net.forward(X), module(torch.from_numpy(X)).detach().numpy(), rtol=1e-12)
    back = net.to_torch().eval()
    assert [type(m).__name__ for m in back] == [type(m).__name__ for m in module]
    assert torch.equal(back(torch.from_numpy(X)), module(torch.from_numpy(X)))


def test_from_torch_takes_a_sequential() -> None:
    with pytest.raises(TypeError, match=r"from_torch takes an nn\.Sequential, got Linear"):
        bp.from_torch(nn.Linear(2, 1))


def test_without_pytorch_the_error_says_how_to_install_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import backprop as bp\n"
        "try:\n    bp.from_torch(object())\nexcept ImportError as e:\n    print(e)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "PyTorch exchange needs PyTorch: pip install torch"
