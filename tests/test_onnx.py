"""ONNX export: onnxruntime runs the exported graph and gets the library's forward pass."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.cli.entry import main
from backprop.nn.activations import activation_names

onnx = pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'backprop-mlp[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="the check runs onnxruntime: pip install 'backprop-mlp[onnx]'")

ACTIVATIONS = activation_names()
#: float32 tolerance: the graph and NumPy sum in other orders
TOLERANCE = {"float32": 2e-5, "float64": 1e-9}


def run_onnx(path: Path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"X": X})
    return np.asarray(output)


def trained(layers: list[bp.Layer], loss: str, dtype: str, y: np.ndarray, seed: int = 0) -> tuple[bp.Network, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, layers[0].n_in)).astype(dtype)
    net = bp.Network(layers, loss=loss, seed=seed, dtype=dtype)
    net.fit(X, y, epochs=3, batch_size=8, optimizer=bp.Adam(lr=0.01))
    return net, X


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_every_hidden_activation_with_and_without_bias(tmp_path: Path, hidden: str, bias: bool, dtype: str) -> None:
    layers: list[bp.Layer] = [bp.Dense(5, 6, hidden, bias=bias), bp.Dense(6, 3, hidden, bias=bias),
                              bp.Dense(3, 2, "linear", bias=bias)]
    y = np.random.default_rng(1).normal(size=(40, 2))
    net, X = trained(layers, "mse", dtype, y)
    net.to_onnx(tmp_path / "net.onnx")
    outputs = run_onnx(tmp_path / "net.onnx", X)
    assert outputs.dtype == np.dtype(dtype)
    np.testing.assert_allclose(outputs, net.forward(X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_leaky_relu_keeps_its_slope(tmp_path: Path) -> None:
    net = bp.Network([bp.Dense(2, 3, bp.get_activation({"name": "leaky_relu", "slope": 0.3})),
                      bp.Dense(3, 1)], seed=0)
    X = np.array([[-1.0, -2.0], [3.0, -4.0], [-5.0, 6.0]], dtype=np.float32)
    net.to_onnx(tmp_path / "net.onnx")
    graph = onnx.load(str(tmp_path / "net.onnx")).graph
    (leaky,) = [node for node in graph.node if node.op_type == "LeakyRelu"]
    assert leaky.attribute[0].f == pytest.approx(0.3)
    np.testing.assert_allclose(run_onnx(tmp_path / "net.onnx", X), net.forward(X), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_classifier_with_batchnorm_and_dropout_outputs_its_probabilities(tmp_path: Path, dtype: str) -> None:
    layers: list[bp.Layer] = [bp.Dense(4, 8, "relu"), bp.BatchNorm(8), bp.Dropout(8, 0.5),
                              bp.Dense(8, 3, "softmax")]
    net, X = trained(layers, "cross_entropy", dtype, np.arange(40) % 3)
    assert not np.allclose(net.layers[1].running_mean, 0.0)  # eval mode uses trained statistics
    net.to_onnx(tmp_path / "net.onnx")
    model = onnx.load(str(tmp_path / "net.onnx"))
    assert model.opset_import[0].version == 17
    assert [o.name for o in model.graph.output] == ["probabilities"]
    assert {"BatchNormalization", "Identity", "Softmax", "Gemm"} <= {n.op_type for n in model.graph.node}
    outputs = run_onnx(tmp_path / "net.onnx", X)
    np.testing.assert_allclose(outputs, net.forward(X), rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


def test_binary_classifier_and_regression_outputs(tmp_path: Path) -> None:
    binary, X = trained([bp.Dense(3, 4, "tanh"), bp.Dense(4, 1, "sigmoid")], "binary_cross_entropy",
                        "float32", np.arange(40) % 2)
    binary.to_onnx(tmp_path / "binary.onnx")
    np.testing.assert_allclose(run_onnx(tmp_path / "binary.onnx", X), binary.forward(X), rtol=2e-5, atol=2e-5)
    regression, X = trained([bp.Dense(3, 4, "relu"), bp.Dense(4, 2)], "mse", "float64",
                            np.ones((40, 2)))
    regression.to_onnx(tmp_path / "values.onnx")
    assert onnx.load(str(tmp_path / "values.onnx")).graph.output[0].name == "values"
    np.testing.assert_allclose(run_onnx(tmp_path / "values.onnx", X), regression.forward(X), rtol=1e-9)


def test_the_estimators_export_their_labels_and_probabilities(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
    from sklearn.datasets import make_blobs

    from backprop.sklearn import MLPClassifier, MLPRegressor

    X, y = make_blobs(n_samples=90, centers=3, n_features=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((8,), batch_norm=True, max_iter=5, random_state=0).fit(X, y)
        reg = MLPRegressor((8,), max_iter=5, random_state=0).fit(X, y.astype(float))
    clf.to_onnx(tmp_path / "clf.onnx")
    session = ort.InferenceSession(str(tmp_path / "clf.onnx"), providers=["CPUExecutionProvider"])
    assert [output.name for output in session.get_outputs()] == ["label", "probabilities"]
    label, probabilities = session.run(None, {"X": X})
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(probabilities, clf.predict_proba(X), rtol=1e-9, atol=1e-12)
    reg.to_onnx(tmp_path / "reg.onnx")
    assert onnx.load(str(tmp_path / "reg.onnx")).graph.output[0].name == "variable"
    np.testing.assert_allclose(run_onnx(tmp_path / "reg.onnx", X)[:, 0], reg.predict(X), rtol=1e-9)


def test_an_activation_without_an_onnx_form_is_refused_by_layer(tmp_path: Path) -> None:
    class Cube(bp.Activation):
        name = "cube"

        def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
            return np.power(z, 3, out=out)

        def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
            return 3 * z * z

    net = bp.Network([bp.Dense(2, 2, Cube()), bp.Dense(2, 1)], seed=0)
    with pytest.raises(bp.OptionError, match=r"^layer 0 \(Dense\): activation 'cube' has no ONNX "
                       r"form; define Cube\.onnx_form\(graph, x, out\) to export it$"):
        net.to_onnx(tmp_path / "net.onnx")
    assert not (tmp_path / "net.onnx").exists()


def test_backprop_export_command_writes_a_graph_with_the_training_scaling(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=3.0, size=(60, 3))
    y = (X[:, 0] > 5.0).astype(int)
    data = tmp_path / "data.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    out = tmp_path / "run"
    assert main(["train", str(data), "--epochs", "2", "--out", str(out)]) == 0
    model = out / "model.npz"
    assert main(["export", str(model), "--format", "onnx"]) == 0
    assert f"wrote {out / 'model.onnx'}" in capsys.readouterr().out
    net = bp.load(str(model))
    assert net.metadata.get("scaler"), "train stores its input scaling"
    from backprop.cli.common import prepare_inputs

    expected = net.forward(prepare_inputs(net, X, "data"))
    outputs = run_onnx(out / "model.onnx", X.astype(net.dtype))  # raw inputs: the graph scales them
    np.testing.assert_allclose(outputs, expected, rtol=2e-5, atol=2e-5)
    assert main(["export", str(model), "--format", "onnx", "--out", str(tmp_path / "x.onnx")]) == 0
    assert (tmp_path / "x.onnx").exists()


def test_export_command_errors_are_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "backprop", "export", str(tmp_path / "none.npz"),
                           "--format", "onnx"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "no such model file" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "backprop", "export", "m.npz", "--format", "pb"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--format: unknown value 'pb'; valid: onnx" in done.stderr


def test_without_onnx_the_error_names_the_extra_and_the_command_says_it_in_one_line(tmp_path: Path) -> None:
    net = bp.Network([bp.Dense(2, 1)], seed=0)
    net.save(str(tmp_path / "m.npz"))
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "from backprop.cli.entry import main\n"
        f"sys.exit(main(['export', {str(tmp_path / 'm.npz')!r}, '--format', 'onnx']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == "backprop: error: ONNX export needs onnx: pip install 'backprop-mlp[onnx]'\n"
    assert not (tmp_path / "m.onnx").exists()
