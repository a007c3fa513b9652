"""docs/architecture.md's first two recipes, carried out: its code blocks become a package.

The blocks under "An activation" and "A layer kind" are written, as they stand, into a
package in a temporary folder, which is imported. The new activation and layer kind must
then train, be explained, export to ONNX (run in onnxruntime) and PyTorch, and reach the
command's and the estimators' choices and the lab's menu, with no file of the library
edited. A recipe that no longer works fails here.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import backprop as bp
from backprop.nn import activations, layer_kinds

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def recipe_code(title: str) -> str:
    """The Python code blocks of the recipe headed ``### title``, joined."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, f"the recipe {title!r} has no code block"
    return "\n".join(blocks)


@pytest.fixture(scope="module")
def recipes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The two recipes as a package, imported; the registries restored afterwards."""
    saved = dict(activations._ACTIVATIONS), dict(layer_kinds.LAYER_KINDS)
    root = tmp_path_factory.mktemp("recipes")
    package = root / "my_kinds"
    package.mkdir()
    (package / "__init__.py").write_text(
        recipe_code("An activation") + "\n\n" + recipe_code("A layer kind"), encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("my_kinds")
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("my_kinds", None)
        activations._ACTIVATIONS.clear()
        activations._ACTIVATIONS.update(saved[0])
        layer_kinds.LAYER_KINDS.clear()
        layer_kinds.LAYER_KINDS.update(saved[1])


def xor() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    return X, (X[:, 0] != X[:, 1]).astype(int)


def network(kinds: ModuleType, dtype: str = "float32") -> bp.Network:
    return bp.Network([bp.Dense(2, 6, activation="softplus"), kinds.Scale(6, 0.5),
                       bp.Dense(6, 1, activation="sigmoid")],
                      loss="binary_cross_entropy", seed=0, dtype=dtype)


def test_the_recipes_train_and_their_gradients_check(recipes: ModuleType) -> None:
    X, y = xor()
    net = network(recipes)
    before = net.evaluate(X, y)["loss"]
    net.fit(X, y, epochs=300, batch_size=None, optimizer=bp.Adam(lr=0.05))
    assert net.evaluate(X, y)["loss"] < 0.5 * before
    report = bp.gradcheck(network(recipes, "float64"), X[:4], y[:4].reshape(-1, 1))
    assert report.passed and report.relative_error < 1e-6, report


def test_the_recipes_are_explained(recipes: ModuleType) -> None:
    trace = bp.explain(network(recipes, "float64"), [1.0, 0.5], [1.0])
    assert "softplus → scale → sigmoid" in trace.to_text()
    assert trace.max_relative_error < 1e-7  # the kind's reference form against the differences
    dense_only = bp.Network([bp.Dense(2, 2, "softplus"), bp.Dense(2, 1, "sigmoid")],
                            loss="mse", seed=0, dtype="float64")
    text = bp.explain(dense_only, [1.0, 0.5], 1.0).to_text()
    assert "For softplus: σ'(z) = 1 / (1 + e^(−z))." in text  # the activation's own formula


def test_the_recipes_export_to_onnx_and_the_activation_to_torch(
        recipes: ModuleType, tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime", reason="pip install 'backprop-mlp[onnx]'")
    X, _ = xor()
    net = network(recipes)
    net.to_onnx(tmp_path / "net.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "net.onnx"))
    (output,) = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})
    np.testing.assert_allclose(output, net.forward(X), rtol=1e-5, atol=1e-6)
    torch = pytest.importorskip("torch", reason="pip install 'backprop-mlp[bench]'")
    plain = bp.Network([bp.Dense(2, 3, activation="softplus"), bp.Dense(3, 1)], seed=0)
    with torch.no_grad():
        out = plain.to_torch()(torch.from_numpy(X.astype(np.float32))).numpy()
    np.testing.assert_allclose(out, plain.forward(X), rtol=1e-5, atol=1e-6)
    assert type(bp.from_torch(plain.to_torch()).layers[0].activation) is recipes.Softplus


def test_the_activation_reaches_every_front_ends_choices(recipes: ModuleType) -> None:
    from backprop.cli.entry import build_parser
    from backprop.lab.playground.protocol import Setup
    from backprop.sklearn import MLPClassifier

    assert "softplus" in activations.hidden_activation_names()
    assert Setup(activation="softplus").activation == "softplus"
    build_parser().parse_args(["train", "xor", "--activation", "softplus"])
    X, y = xor()
    model = MLPClassifier(hidden_layer_sizes=(4,), activation="softplus", max_iter=5,
                          random_state=0).fit(X, y)
    assert model.predict(X).shape == y.shape
