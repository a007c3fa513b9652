"""Every registered layer kind with every registered activation exports to ONNX and PyTorch.

The exporters keep no table of kinds: each layer and activation gives its own
form. So the matrix is read from the registries, and a kind registered without
an example below fails here until it gets one (and with it, its export checked).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.cli import main
from backprop.nn.activations import activation_names
from backprop.nn.layer_kinds import layer_kind_names

onnx = pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'backprop-mlp[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="the check runs onnxruntime: pip install 'backprop-mlp[onnx]'")
torch = pytest.importorskip("torch", reason="PyTorch exchange needs PyTorch: pip install torch")

#: float32: the graph, torch and NumPy sum in other orders
TOLERANCE = 2e-5

#: One layer of each kind, n units wide, with the activation σ (where it takes one) and bias.
EXAMPLES: dict[str, Callable[[int, bp.Activation, bool], bp.Layer]] = {
    "Dense": lambda n, sigma, bias: bp.Dense(n, n, sigma, bias=bias),
    "Dropout": lambda n, sigma, bias: bp.Dropout(n, rate=0.3),
    "BatchNorm": lambda n, sigma, bias: bp.BatchNorm(n),
    "ActivationLayer": lambda n, sigma, bias: bp.ActivationLayer(n, sigma),
}


def run_onnx(path: Path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"X": X})
    return np.asarray(output)


def network(kind: str, sigma: bp.Activation, bias: bool) -> tuple[bp.Network, np.ndarray]:
    """Dense(σ) → the kind → Dense(σ), trained a little (BatchNorm's running statistics move)."""
    assert kind in EXAMPLES, f"layer kind {kind!r} is registered but has no example in this test"
    layers = [bp.Dense(4, 5, sigma, bias=bias), EXAMPLES[kind](5, sigma, bias),
              bp.Dense(5, 3, sigma, bias=bias)]
    rng = np.random.default_rng(0)
    # e^z three layers deep overflows from inputs of unit size: small ones keep it finite
    scale = 0.1 if sigma.name == "exp" else 1.0
    X = (scale * rng.normal(size=(32, 4))).astype(np.float32)
    net = bp.Network(layers, loss="mse", seed=0)
    net.fit(X, rng.normal(size=(32, 3)), epochs=2, batch_size=8, optimizer=bp.Adam(lr=0.01))
    return net, X


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("activation", activation_names())
@pytest.mark.parametrize("kind", layer_kind_names())
def test_every_kind_and_activation_exports_and_agrees_with_forward(
        tmp_path: Path, kind: str, activation: str, bias: bool) -> None:
    net, X = network(kind, bp.get_activation(activation), bias)
    expected = net.forward(X)
    # ONNX, run by onnxruntime
    net.to_onnx(tmp_path / "net.onnx")
    np.testing.assert_allclose(run_onnx(tmp_path / "net.onnx", X), expected,
                               rtol=TOLERANCE, atol=TOLERANCE)
    # PyTorch, in inference mode
    module = net.to_torch().eval()
    outputs = module(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(outputs, expected, rtol=TOLERANCE, atol=TOLERANCE)
    # and back: every module is recognised, the arrays come with it
    again = bp.from_torch(module)
    np.testing.assert_allclose(again.forward(X), expected, rtol=TOLERANCE, atol=TOLERANCE)
    assert [p.dtype for p in module.parameters()] == [torch.float32] * len(list(module.parameters()))


def test_the_leaky_slope_travels_to_both_runtimes_and_back(tmp_path: Path) -> None:
    leaky = bp.get_activation({"name": "leaky_relu", "slope": 0.3})
    net, _ = network("ActivationLayer", leaky, bias=True)
    net.to_onnx(tmp_path / "net.onnx")
    nodes = [n for n in onnx.load(str(tmp_path / "net.onnx")).graph.node if n.op_type == "LeakyRelu"]
    assert len(nodes) == 3 and all(n.attribute[0].f == pytest.approx(0.3) for n in nodes)
    module = net.to_torch()
    assert [m.negative_slope for m in module if isinstance(m, torch.nn.LeakyReLU)] == [0.3] * 3
    again = bp.from_torch(module)
    assert {layer.activation for layer in again.layers} == {leaky}  # type: ignore[attr-defined]


def test_the_commands_batch_norm_model_goes_through_backprop_export(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "xor", "--batch-norm", "--epochs", "3", "--out", str(out)]) == 0
    net = bp.load(str(out / "model.npz"))
    assert "ActivationLayer" in {type(layer).__name__ for layer in net.layers}  # σ after BatchNorm
    assert main(["export", str(out / "model.npz"), "--format", "onnx"]) == 0
    assert f"wrote {out / 'model.onnx'}" in capsys.readouterr().out
    from backprop.cli.common import prepare_inputs

    X = np.random.default_rng(0).uniform(-1, 1, size=(20, 2))
    expected = net.forward(prepare_inputs(net, X, "data"))
    outputs = run_onnx(out / "model.onnx", X.astype(net.dtype))  # the graph scales the inputs
    np.testing.assert_allclose(outputs, expected, rtol=TOLERANCE, atol=TOLERANCE)
