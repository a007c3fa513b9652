"""A user's own activation and layer kind, written with the public API only, reach everything.

Softplus (σ(z) = ln(1 + eᶻ), σ'(z) = 1 / (1 + e⁻ᶻ)) and a fixed scaling layer
(a = c·x) are defined here as a user would in their own script: nothing in
the package names them. Registered, they train, are explained, export to ONNX
(run by onnxruntime) and PyTorch, come back from PyTorch, load from model
files, and the command, the estimators and the lab accept the activation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.cli import main

onnx = pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'backprop-mlp[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="the check runs onnxruntime: pip install 'backprop-mlp[onnx]'")
torch = pytest.importorskip("torch", reason="PyTorch exchange needs PyTorch: pip install torch")

TOLERANCE = 2e-5  # float32


class Softplus(bp.Activation):
    """σ(z) = ln(1 + eᶻ), σ'(z) = 1 / (1 + e⁻ᶻ)."""

    name = "softplus"
    output_range = (0.0, np.inf)
    derivative_formula = "1 / (1 + e^(−z))"
    derivative_formula_tex = r"\frac{1}{1 + e^{-z}}"

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, z, out=out)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # 1 / (1 + e^(−z)), without overflow

    def onnx_form(self, graph: Any, x: str, out: str) -> str:
        return graph.node("Softplus", [x], out)

    def torch_form(self, torch: Any) -> Any:
        return torch.nn.Softplus()

    @classmethod
    def from_torch(cls, module: Any, torch: Any) -> bp.Activation | None:
        return cls() if isinstance(module, torch.nn.Softplus) and module.beta == 1 else None


class TorchScale(torch.nn.Module):
    """The scaling layer as PyTorch runs it."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Any) -> Any:
        return x * self.factor


class Scale(bp.Layer):
    """a = c·x for a fixed factor c; no parameters. ∂L/∂x = c·∂L/∂a."""

    def __init__(self, n: int, factor: float = 2.0) -> None:
        self.n_in = self.n_out = n
        self.factor = float(factor)

    def forward(self, a_prev: np.ndarray, training: bool = False) -> np.ndarray:
        return a_prev * self.factor

    def backward(self, grad_a: np.ndarray) -> np.ndarray | None:
        return grad_a * self.factor if self.needs_input_gradient else None

    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        return a_prev * self.factor, {}

    def reference_backward(self, grad_a: np.ndarray, saved: dict[str, Any],
                           rule: Any = None) -> bp.ReferenceBackward:
        return bp.ReferenceBackward(grad_a * self.factor if self.needs_input_gradient else None, {})

    def config(self) -> dict[str, Any]:
        return {"kind": "Scale", "n": self.n_in, "factor": self.factor}

    def onnx_form(self, graph: Any, x: str, name: str) -> str:
        return graph.node("Mul", [x, graph.constant(f"{name}.factor", self.factor)], f"{name}.a")

    def torch_form(self, torch: Any, dtype: Any) -> list[Any]:
        return [TorchScale(self.factor)]

    @classmethod
    def from_torch(cls, module: Any, n_in: int | None, torch: Any) -> bp.Layer | None:
        if not isinstance(module, TorchScale) or n_in is None:
            return None
        return cls(n_in, module.factor)


class Bare(bp.Layer):
    """A layer kind that declares no form in other runtimes."""

    def __init__(self, n: int) -> None:
        self.n_in = self.n_out = n

    def forward(self, a_prev: np.ndarray, training: bool = False) -> np.ndarray:
        return a_prev

    def backward(self, grad_a: np.ndarray) -> np.ndarray | None:
        return grad_a if self.needs_input_gradient else None

    def config(self) -> dict[str, Any]:
        return {"kind": "Bare", "n": self.n_in}


@pytest.fixture(scope="module", autouse=True)
def registered() -> Iterator[None]:
    """Registered when the tests run (not at import), so other files' collections never see them."""
    bp.register_activation("softplus", Softplus)
    bp.register_layer_kind("Scale", Scale)
    bp.register_layer_kind("Bare", Bare)
    yield


def xor(dtype: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, dtype=dtype)
    return X, (X[:, 0] != X[:, 1]).astype(int)


def user_network(dtype: str = "float32") -> bp.Network:
    return bp.Network([bp.Dense(2, 6, "softplus"), Scale(6, 0.5), bp.Dense(6, 1, "sigmoid")],
                      loss="binary_cross_entropy", seed=0, dtype=dtype)


def test_both_train_with_fit_and_their_gradients_are_right() -> None:
    X, y = xor("float64")
    net = user_network("float64")
    assert bp.gradcheck(net, X[:4], y[:4]).passed  # Softplus.derivative and Scale.backward
    history = net.fit(X, y, epochs=300, batch_size=8, optimizer=bp.Adam(lr=0.05))
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert (net.predict(X) == y).all()


def test_explain_shows_the_activations_derivative_formula() -> None:
    net = bp.Network([bp.Dense(2, 2, "softplus"), bp.Dense(2, 1, "sigmoid")],
                     loss="mse", seed=0, dtype="float64")
    trace = bp.explain(net, [1.0, 0.5], 1.0)
    assert "For softplus: σ'(z) = 1 / (1 + e^(−z))." in trace.to_text()
    assert r"\frac{1}{1 + e^{-z}}" in trace.to_markdown()
    assert trace.gradients and trace.max_relative_error < 1e-7  # σ' agrees with the estimates


def test_explain_takes_a_network_with_the_users_layer_kind() -> None:
    trace = bp.explain(user_network("float64"), [1.0, 0.5], 1.0)
    assert trace.max_relative_error < 1e-7


def test_both_export_to_onnx_and_torch_and_come_back(tmp_path: Path) -> None:
    X, y = xor()
    net = user_network()
    net.fit(X, y, epochs=20, batch_size=8, optimizer=bp.Adam(lr=0.05))
    expected = net.forward(X)
    net.to_onnx(tmp_path / "net.onnx")
    ops = [node.op_type for node in onnx.load(str(tmp_path / "net.onnx")).graph.node]
    assert ops[:4] == ["Gemm", "Softplus", "Mul", "Gemm"]
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"X": X})[0], expected, rtol=TOLERANCE, atol=TOLERANCE)
    module = net.to_torch().eval()
    assert [type(m).__name__ for m in module] == ["Linear", "Softplus", "TorchScale", "Linear", "Sigmoid"]
    np.testing.assert_allclose(module(torch.from_numpy(X)).detach().numpy(), expected,
                               rtol=TOLERANCE, atol=TOLERANCE)
    again = bp.from_torch(module)
    assert [repr(layer) for layer in again.layers][:2] == ["Dense(2, 6, activation='softplus')",
                                                           repr(again.layers[1])]
    assert isinstance(again.layers[1], Scale) and again.layers[1].factor == 0.5
    np.testing.assert_allclose(again.forward(X), expected, rtol=TOLERANCE, atol=TOLERANCE)


def test_a_model_file_with_both_loads(tmp_path: Path) -> None:
    X, _ = xor()
    net = user_network()
    net.save(str(tmp_path / "m.npz"))
    loaded = bp.load(str(tmp_path / "m.npz"))
    assert [layer.config() for layer in loaded.layers] == [layer.config() for layer in net.layers]
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


def test_a_kind_without_forms_is_refused_in_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = bp.Network([bp.Dense(2, 3, "tanh"), Bare(3), bp.Dense(3, 1)], seed=0)
    with pytest.raises(bp.OptionError, match=r"^layer 1 \(Bare\): no ONNX form; define "
                       r"Bare\.onnx_form\(graph, x, name\) to export it$"):
        net.to_onnx(tmp_path / "net.onnx")
    assert not (tmp_path / "net.onnx").exists()
    with pytest.raises(bp.OptionError, match=r"^layer 1 \(Bare\): no PyTorch form; define "
                       r"Bare\.torch_form\(torch, dtype\) to convert it$"):
        net.to_torch()
    net.save(str(tmp_path / "m.npz"))
    assert main(["export", str(tmp_path / "m.npz"), "--format", "onnx"]) == 2
    error = capsys.readouterr().err
    assert error == ("backprop: error: layer 1 (Bare): no ONNX form; define "
                     "Bare.onnx_form(graph, x, name) to export it\n")


def test_the_command_accepts_the_activation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "xor", "--activation", "softplus", "--epochs", "2", "--out", str(out)]) == 0
    net = bp.load(str(out / "model.npz"))
    assert net.layers[0].activation.name == "softplus"  # type: ignore[attr-defined]
    capsys.readouterr()
    assert main(["train", "xor", "--activation", "softplush", "--epochs", "1",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "softplus" in capsys.readouterr().err  # the valid names, the user's own among them


def test_the_estimators_accept_the_activation() -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
    from backprop.sklearn import MLPClassifier

    X, y = xor("float64")
    clf = MLPClassifier((4,), activation="softplus", max_iter=3, random_state=0).fit(X, y)
    assert clf.network_.layers[0].activation.name == "softplus"


def test_the_labs_menu_offers_the_activation() -> None:
    pytest.importorskip("pydantic", reason="the lab needs pydantic: pip install 'backprop-mlp[lab]'")
    from pydantic import ValidationError

    from backprop.lab.playground.protocol import Setup
    from backprop.nn.activations import hidden_activation_names

    assert "softplus" in hidden_activation_names()
    assert "softmax" not in hidden_activation_names()  # it couples the units: output only
    assert Setup(activation="softplus").activation == "softplus"
    with pytest.raises(ValidationError, match=r"(?i)unknown activation 'softmax'"):
        Setup(activation="softmax")


def test_diagnostics_and_advice_read_the_activations_traits() -> None:
    from backprop.teaching.diagnostics import dead_fraction, saturated_fraction
    from backprop.teaching.reading.advice import setup_of

    class Dying(Softplus):
        name = "dying"
        can_die = True
        auto_init = "he"

    class Saturating(Softplus):
        name = "saturating"
        derivative_peak = 1.0  # σ'(z) → 1 as z grows, → 0 as z falls

    X = np.array([[1.0, 2.0], [2.0, 1.0], [0.5, 0.5]])
    W = [[1.0, 1.0], [-5.0, -5.0], [1.0, -1.0]]  # unit 1: z ≤ −5 on every sample
    for sigma, dead, saturated in ((Softplus(), np.nan, np.nan), (Dying(), 1 / 3, np.nan),
                                   (Saturating(), np.nan, 1 / 3)):
        net = bp.Network([bp.Dense(2, 3, sigma, bias=False), bp.Dense(3, 1)], seed=0,
                         dtype="float64")
        net.layers[0].W = W  # type: ignore[attr-defined]
        net.forward(X)
        layer = net.layers[0]
        assert isinstance(layer, bp.Dense)
        np.testing.assert_equal([dead_fraction(layer), saturated_fraction(layer)], [dead, saturated])
        setup = setup_of(net)
        assert setup.relu_like == sigma.can_die and setup.init == sigma.auto_init


def test_registering_something_else_is_refused_in_one_line() -> None:
    with pytest.raises(bp.OptionTypeError, match="activation 'x': the factory must be an Activation"):
        bp.register_activation("x", 3)  # type: ignore[arg-type]
    with pytest.raises(bp.OptionTypeError, match="layer kind 'Y' must be a Layer subclass"):
        bp.register_layer_kind("Y", Softplus)  # type: ignore[arg-type]
