"""A Pipeline holding the estimators through skl2onnx: onnxruntime gives predict's labels and
predict_proba's probabilities, in the layout skl2onnx gives scikit-learn's MLP."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the estimators need scikit-learn: pip install 'backprop-mlp[sklearn]'")
ort = pytest.importorskip("onnxruntime", reason="the check runs onnxruntime: pip install 'backprop-mlp[onnx]'")
skl2onnx = pytest.importorskip("skl2onnx", reason="the converter needs skl2onnx: pip install 'backprop-mlp[onnx]'")

import sklearn.neural_network  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.ensemble import VotingClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from backprop.nn.activations import activation_names  # noqa: E402
from backprop.sklearn import MLPClassifier, MLPRegressor, register_skl2onnx  # noqa: E402

#: A float32 graph rounds every product to float32 (6e-8 relative) where predict_proba
#: computes in the model's dtype from the same float32 inputs: a probability p moves by at
#: most p (1 − p) times the logits' error, a few rounding steps of the largest terms. The
#: largest gap seen here is 1.8e-7 (float32 graphs of float32 and float64 models).
FLOAT32_TOLERANCE = 1e-6
#: A double graph does the library's arithmetic in another order: rounding alone.
FLOAT64_TOLERANCE = 1e-9
#: Hidden activations an estimator takes (softmax belongs to an output layer).
HIDDEN = [name for name in activation_names() if name != "softmax"]


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    register_skl2onnx()


def run(model: Any, X: np.ndarray) -> dict[str, Any]:
    """Every output of ``model`` (an onnx.ModelProto) for X, by name."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {session.get_inputs()[0].name: X}), strict=True))


def output_types(model: Any) -> list[tuple[str, str]]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return [(output.name, output.type) for output in session.get_outputs()]


def blobs(n_classes: int, labels: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping blobs on columns of very different scales (the scaler matters)."""
    X, y = make_blobs(n_samples=150, centers=n_classes, n_features=4, cluster_std=2.5,
                      random_state=seed)
    X = X * np.array([1.0, 30.0, 0.01, 5.0]) + np.array([0.0, 100.0, -3.0, 7.0])
    if labels == "str":
        return X, np.array(["cat", "dog", "émeu", "fox"])[y]
    return X, 7 * y - 5  # integers that are not 0 .. n − 1


def fitted(estimator: Any, X: np.ndarray, y: np.ndarray) -> Pipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit does not converge
        return make_pipeline(StandardScaler(), estimator).fit(X, y)


def assert_labels_match(labels: np.ndarray, probabilities: np.ndarray, expected: np.ndarray,
                        tolerance: float) -> None:
    """The graph's labels are predict's, where the top two probabilities are told apart
    beyond the tolerance (the data is made so that every sample is)."""
    top = np.sort(probabilities, axis=1)
    assert (top[:, -1] - top[:, -2] > 2 * tolerance).all(), "a near tie: choose other data"
    np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize("graph_dtype", ["float32", "float64"])
@pytest.mark.parametrize("labels", ["int", "str"])
@pytest.mark.parametrize("n_classes", [2, 3, 4])
def test_a_classifier_pipeline_gives_predict_and_predict_proba(n_classes: int, labels: str,
                                                               graph_dtype: str) -> None:
    X, y = blobs(n_classes, labels)
    clf = MLPClassifier((8,), max_iter=40, random_state=0)
    pipe = fitted(clf, X, y)
    X_in = X.astype(graph_dtype)  # a float32 input makes a float32 graph, float64 a double one
    model = skl2onnx.to_onnx(pipe, X_in[:1], options={id(clf): {"zipmap": False}})
    got = run(model, X_in)
    assert list(got) == ["label", "probabilities"]
    tolerance = FLOAT32_TOLERANCE if graph_dtype == "float32" else FLOAT64_TOLERANCE
    assert got["probabilities"].dtype == np.dtype(graph_dtype)
    assert got["probabilities"].shape == (len(X), n_classes)  # two columns for a binary model
    np.testing.assert_allclose(got["probabilities"], pipe.predict_proba(X_in), rtol=0,
                               atol=tolerance)
    assert got["label"].dtype == (np.int64 if labels == "int" else object)
    assert_labels_match(got["label"], got["probabilities"], pipe.predict(X_in), tolerance)


@pytest.mark.parametrize("options", [
    {}, {"zipmap": False}, {"zipmap": "columns"}, {"zipmap": False, "output_class_labels": True},
    {"zipmap": False, "nocl": True}, {"nocl": True},
])
@pytest.mark.parametrize("labels", ["int", "str"])
def test_the_outputs_are_laid_out_as_for_scikit_learns_mlp(options: dict[str, Any],
                                                           labels: str) -> None:
    X, y = blobs(3, labels, seed=1)
    ours = MLPClassifier((6,), max_iter=30, random_state=0)
    theirs = sklearn.neural_network.MLPClassifier((6,), max_iter=30, random_state=0)
    ours_pipe, theirs_pipe = fitted(ours, X, y), fitted(theirs, X, y)
    X32 = X.astype(np.float32)
    ours_model = skl2onnx.to_onnx(ours_pipe, X32[:1], options={id(ours): options})
    theirs_model = skl2onnx.to_onnx(theirs_pipe, X32[:1], options={id(theirs): options})
    got = run(ours_model, X32)
    expected_proba = ours_pipe.predict_proba(X32)
    zipmap = options.get("zipmap", True) is True
    if options.get("nocl") and labels == "str":
        # scikit-learn's converter declares numbers there but looks the strings up (its graph
        # fails to load or to run): ours gives the numbers it declares
        assert output_types(ours_model) == (
            [("output_label", "tensor(int64)"), ("output_probability", "seq(map(int64,tensor(float)))")]
            if zipmap else [("label", "tensor(int64)"), ("probabilities", "tensor(float)")])
    else:
        assert output_types(ours_model) == output_types(theirs_model)
        if zipmap:  # the same classes as keys, in the same order
            reference = run(theirs_model, X32)["output_probability"]
            assert [list(row) for row in got["output_probability"]] == [list(row) for row in reference]
    if zipmap:  # a list of {class: probability}, one per sample
        keys = [0, 1, 2] if options.get("nocl") else ours_pipe.classes_.tolist()
        rows = np.array([[row[k] for k in keys] for row in got["output_probability"]])
        np.testing.assert_allclose(rows, expected_proba, rtol=0, atol=FLOAT32_TOLERANCE)
    expected_label = ours_pipe.predict(X32)
    if options.get("nocl"):  # classes numbered 0 .. n − 1
        expected_label = np.searchsorted(ours_pipe.classes_, expected_label)
    np.testing.assert_array_equal(got["output_label" if "output_label" in got else "label"],
                                  expected_label)
    if options.get("output_class_labels"):
        np.testing.assert_array_equal(got["class_labels"], ours_pipe.classes_)
    if options.get("zipmap") == "columns":  # one output per class, named by the class
        columns = [name for name in got if name not in ("output_label",)]
        np.testing.assert_allclose(np.column_stack([got[name] for name in columns]),
                                   expected_proba, rtol=0, atol=FLOAT32_TOLERANCE)


@pytest.mark.parametrize("graph_dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_a_regressor_pipeline_gives_predict_as_variable(n_outputs: int, graph_dtype: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)) * np.array([1.0, 50.0, 0.1, 3.0, 8.0])
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1] / 50, X[:, 2] * 10, X[:, 3] - X[:, 4] / 8])
    y = Y[:, 0] if n_outputs == 1 else Y
    reg = MLPRegressor((10,), max_iter=50, random_state=0)
    pipe = fitted(reg, X, y)
    X_in = X.astype(graph_dtype)
    got = run(skl2onnx.to_onnx(pipe, X_in[:1]), X_in)
    assert list(got) == ["variable"]
    assert got["variable"].shape == (len(X), n_outputs) and got["variable"].dtype == np.dtype(graph_dtype)
    expected = pipe.predict(X_in).reshape(len(X), n_outputs)
    tolerance = FLOAT32_TOLERANCE if graph_dtype == "float32" else FLOAT64_TOLERANCE
    np.testing.assert_allclose(got["variable"], expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("model_dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", HIDDEN)
def test_batch_norm_dropout_and_every_hidden_activation(activation: str, model_dtype: str) -> None:
    X, y = blobs(3, "int", seed=2)
    clf = MLPClassifier((8, 6), activation=activation, batch_norm=True, dropout=0.2,
                        dtype=model_dtype, max_iter=30, random_state=0)
    pipe = fitted(clf, X, y)
    assert not np.allclose(clf.network_.layers[1].running_var, 1.0)  # trained statistics
    for graph_dtype, tolerance in (("float32", FLOAT32_TOLERANCE), ("float64", FLOAT64_TOLERANCE)):
        X_in = X.astype(graph_dtype)
        # onnxruntime runs a double LeakyRelu up to opset 18 only
        opset = 18 if activation == "leaky_relu" and graph_dtype == "float64" else None
        model = skl2onnx.to_onnx(pipe, X_in[:1], options={id(clf): {"zipmap": False}},
                                 target_opset=opset)
        ops = {node.op_type for node in model.graph.node}
        assert {"BatchNormalization", "Identity", "Softmax", "Gemm"} <= ops
        got = run(model, X_in)
        if model_dtype == "float32":  # predict computes in float32 too: both round
            tolerance = FLOAT32_TOLERANCE
        np.testing.assert_allclose(got["probabilities"], pipe.predict_proba(X_in), rtol=0,
                                   atol=tolerance)
        assert_labels_match(got["label"], got["probabilities"], pipe.predict(X_in), tolerance)


def test_leaky_relu_keeps_its_slope_in_the_pipeline() -> None:
    X, y = blobs(2, "int", seed=3)
    clf = MLPClassifier((8,), activation="leaky_relu", max_iter=30, random_state=0)
    pipe = fitted(clf, X, y)
    model = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={id(clf): {"zipmap": False}})
    (leaky,) = [node for node in model.graph.node if node.op_type == "LeakyRelu"]
    slope = clf.network_.layers[0].activation.slope
    assert leaky.attribute[0].f == pytest.approx(slope)


def test_a_multilabel_classifier_gives_0_1_labels_and_a_probability_per_label() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 4)) * np.array([1.0, 20.0, 0.5, 3.0])
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + 10 * X[:, 2] > 0, X[:, 3] < 1]).astype(int)
    clf = MLPClassifier((10,), max_iter=60, random_state=0)
    pipe = fitted(clf, X, Y)
    X32 = X.astype(np.float32)
    got = run(skl2onnx.to_onnx(pipe, X32[:1], options={id(clf): {"zipmap": False}}), X32)
    np.testing.assert_allclose(got["probabilities"], pipe.predict_proba(X32), rtol=0,
                               atol=FLOAT32_TOLERANCE)
    assert got["label"].dtype == np.int64 and got["label"].shape == Y.shape
    far = (np.abs(got["probabilities"] - 0.5) > 2 * FLOAT32_TOLERANCE).all(axis=1)
    assert far.mean() > 0.9  # the comparison below covers most rows
    np.testing.assert_array_equal(got["label"][far], pipe.predict(X32)[far])
    # ZipMap (skl2onnx's default) keys each label's probability by its column
    zipped = run(skl2onnx.to_onnx(pipe, X32[:1]), X32)
    np.testing.assert_array_equal(zipped["output_label"], got["label"])
    rows = np.array([[row[k] for k in range(Y.shape[1])] for row in zipped["output_probability"]])
    np.testing.assert_array_equal(rows, got["probabilities"])


def test_two_networks_in_one_graph_keep_their_own_weights() -> None:
    X, y = blobs(3, "str", seed=5)
    first = MLPClassifier((5,), activation="tanh", max_iter=20, random_state=0)
    second = MLPClassifier((7,), batch_norm=True, max_iter=20, random_state=1)
    vote = VotingClassifier([("first", first), ("second", second)], voting="soft",
                            flatten_transform=False)
    pipe = fitted(vote, X, y)
    X32 = X.astype(np.float32)
    got = run(skl2onnx.to_onnx(pipe, X32[:1], options={id(vote): {"zipmap": False}}), X32)
    np.testing.assert_allclose(got["probabilities"], pipe.predict_proba(X32), rtol=0,
                               atol=FLOAT32_TOLERANCE)


def test_an_integer_input_is_cast_to_float() -> None:
    X, y = blobs(3, "int", seed=6)
    X = np.round(3 * StandardScaler().fit_transform(X)).astype(np.int64)  # small integers
    clf = MLPClassifier((6,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    model = skl2onnx.to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    assert model.graph.input[0].type.tensor_type.elem_type == 7  # int64 in, cast to float32
    assert "Cast" in {node.op_type for node in model.graph.node}
    got = run(model, X)
    np.testing.assert_allclose(got["probabilities"], clf.predict_proba(X), rtol=0,
                               atol=FLOAT32_TOLERANCE)


def test_registering_again_changes_nothing() -> None:
    register_skl2onnx()
    register_skl2onnx()
    aliases = skl2onnx.supported_converters()
    assert aliases.count("BackpropMLPClassifier") == aliases.count("BackpropMLPRegressor") == 1
    X, y = blobs(2, "int")
    clf = MLPClassifier((4,), max_iter=5, random_state=0)
    pipe = fitted(clf, X, y)
    got = run(skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={id(clf): {"zipmap": False}}),
              X.astype(np.float32))
    assert got["probabilities"].shape == (len(X), 2)


def test_whole_number_float_classes_are_int64_labels() -> None:
    X, y = blobs(3, "int", seed=8)
    clf = MLPClassifier((6,), max_iter=20, random_state=0)
    pipe = fitted(clf, X, np.array([1.0, 2.0, 4.0])[(y + 5) // 7])
    X32 = X.astype(np.float32)
    got = run(skl2onnx.to_onnx(pipe, X32[:1], options={id(clf): {"zipmap": False}}), X32)
    assert got["label"].dtype == np.int64
    assert_labels_match(got["label"], got["probabilities"], pipe.predict(X32).astype(np.int64),
                        FLOAT32_TOLERANCE)


def test_the_estimators_own_graph_needs_no_skl2onnx(tmp_path: Path) -> None:
    code = (
        "import sys, warnings; sys.modules['skl2onnx'] = None\n"
        "import numpy as np, onnxruntime as ort\n"
        "from backprop.sklearn import MLPClassifier, register_skl2onnx\n"
        "X = np.random.default_rng(0).normal(size=(30, 3)); y = np.where(X[:, 0] > 0, 'yes', 'no')\n"
        "warnings.simplefilter('ignore')\n"
        "clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(X, y)\n"
        f"clf.to_onnx({str(tmp_path / 'clf.onnx')!r})\n"
        f"s = ort.InferenceSession({str(tmp_path / 'clf.onnx')!r})\n"
        "label, proba = s.run(None, {'X': X})\n"
        "assert (label == clf.predict(X)).all() and np.allclose(proba, clf.predict_proba(X))\n"
        "try:\n"
        "    register_skl2onnx()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("converting with skl2onnx needs skl2onnx: "
                           "pip install 'backprop-mlp[onnx]'\n")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_estimators_own_graph_matches_skl2onnxs(tmp_path: Path, n_classes: int) -> None:
    onnx = pytest.importorskip("onnx")
    X, y = blobs(n_classes, "str", seed=7)
    X_in = StandardScaler().fit_transform(X)
    clf = MLPClassifier((6,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X_in, y)
    clf.to_onnx(str(tmp_path / "clf.onnx"))
    own = onnx.load(str(tmp_path / "clf.onnx"))
    converted = skl2onnx.to_onnx(clf, X_in[:1], options={id(clf): {"zipmap": False}})
    assert output_types(own) == output_types(converted)
    got, reference = run(own, X_in), run(converted, X_in)
    np.testing.assert_array_equal(got["label"], reference["label"])
    np.testing.assert_allclose(got["probabilities"], reference["probabilities"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["probabilities"], clf.predict_proba(X_in), rtol=0,
                               atol=FLOAT64_TOLERANCE)
