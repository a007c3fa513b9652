"""An estimator as an ONNX graph: the network's nodes, then what predict and predict_proba add.

The outputs are laid out as skl2onnx lays out scikit-learn's MLP (without
its ZipMap), so a graph reads the same whether ``estimator.to_onnx(path)``
wrote it or skl2onnx converted a Pipeline holding the estimator
(:mod:`backprop.sklearn.onnx_converter`):

    MLPClassifier  label          (batch,) the class names: int64 for integer, bool or
                                  whole-number float classes, strings otherwise;
                                  multi-label: (batch, n_labels) int64, 0 or 1
                   probabilities  (batch, n_classes), as predict_proba: softmax rows;
                                  a binary model's [1 − p, p] of its one sigmoid unit;
                                  multi-label: p per label
    MLPRegressor   variable       (batch, n_outputs)

label = classes_[argmax(probabilities)] (the first maximum on a tie, as NumPy's
argmax), and for multi-label p > 0.5, as predict decides. The network's own
nodes are :func:`backprop.export.onnx.network_nodes`; nothing here knows a
layer kind or an activation. (predict_proba keeps a saturated sigmoid one
rounding step inside (0, 1); the graph gives the unit's value, at most that
step, 1.2e-16 in float64 and 6e-8 in float32, away.)
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import is_classifier

from backprop.errors import OptionError
from backprop.export.onnx import OnnxGraph, network_nodes, new_graph, write_model

#: ONNX's element type of a label tensor, by NumPy's kind: int64, or strings (object).
LABEL_DTYPES = {"int64": np.dtype(np.int64), "string": np.dtype(object)}


class Output(NamedTuple):
    """One output of an estimator's graph: its name, element dtype (None: the graph's float
    type) and width (None: one value per sample, shape (batch,))."""

    name: str
    dtype: np.dtype[Any] | None
    width: int | None


def class_names(estimator: Any, numbered: bool = False) -> np.ndarray:
    """The label tensor of a classifier: ``classes_`` as int64 (integer, bool or whole-number
    float classes) or as strings; ``numbered``: 0 .. n_classes − 1 instead (skl2onnx's
    ``nocl`` option). Other classes are refused in one line."""
    classes = np.asarray(estimator.classes_)
    if numbered or classes.dtype.kind in "iub":
        return np.arange(len(classes)) if numbered else classes.astype(np.int64)
    if classes.dtype.kind == "f":
        if not np.array_equal(classes, np.round(classes)):
            raise OptionError(f"an ONNX graph names classes by integers or strings; the "
                              f"classes {classes.tolist()} are not whole numbers")
        return classes.astype(np.int64)
    values = classes.tolist()
    if not all(isinstance(value, str) for value in values):
        raise OptionError(f"an ONNX graph names classes by integers or strings; the classes "
                          f"{values} are neither")
    return np.array(values, dtype=object)


def is_multilabel(estimator: Any) -> bool:
    """Whether a classifier decides labels independently (one sigmoid unit per label)."""
    return bool(estimator.out_activation_ == "logistic" and estimator.n_outputs_ > 1)


def layout(estimator: Any, numbered: bool = False) -> list[Output]:
    """The outputs of ``estimator``'s graph, in order (see the module's docstring)."""
    if not is_classifier(estimator):
        return [Output("variable", None, int(estimator.n_outputs_))]
    if is_multilabel(estimator):
        n_labels = int(estimator.n_outputs_)
        return [Output("label", LABEL_DTYPES["int64"], n_labels),
                Output("probabilities", None, n_labels)]
    names = class_names(estimator, numbered)
    if len(names) < 2:
        raise OptionError(f"a classifier fitted on one class ({names.tolist()}) has no "
                          "probabilities to export")
    return [Output("label", names.dtype, None), Output("probabilities", None, len(names))]


def add_outputs(estimator: Any, graph: OnnxGraph, x: str, numbered: bool = False) -> list[str]:
    """Add ``estimator``'s network and its outputs to ``graph``, reading tensor ``x``
    (batch, n_features_in_) in the graph's dtype; return the tensors of :func:`layout`."""
    a = network_nodes(estimator.network_, graph, x)  # a^[L], (batch, n_outputs)
    if not is_classifier(estimator):
        return [a]
    if is_multilabel(estimator):
        # predict: label k is on where p_k > 0.5
        above = graph.node("Greater", [a, graph.constant("half", 0.5)], "label.above")
        return [graph.node("Cast", [above], "label.int64", to=graph.tensor_type(np.int64)),
                a]
    probabilities = a
    if estimator.out_activation_ == "logistic":  # binary: one unit p = P(classes_[1])
        negative = graph.node("Sub", [graph.constant("one", 1.0), a], "probabilities.negative")
        probabilities = graph.node("Concat", [negative, a], "probabilities.both", axis=1)
    names = class_names(estimator, numbered)
    # label = classes_[argmax_k p_k], the first maximum on a tie as predict
    index = graph.node("ArgMax", [probabilities], "label.index", axis=1, keepdims=0)
    label = graph.node("Gather", [graph.constant("classes", names, names.dtype), index],
                       "label.name", axis=0)
    return [label, probabilities]


def estimator_model(estimator: Any) -> Any:
    """The onnx.ModelProto of a fitted estimator: input ``X`` (batch, n_features_in_) in
    the network's dtype, the outputs of :func:`layout`."""
    net = estimator.network_
    graph = new_graph(net.dtype)
    helper = graph.onnx.helper
    outputs = layout(estimator)
    tensors = add_outputs(estimator, graph, "X")
    values = []
    for output, tensor in zip(outputs, tensors, strict=True):
        graph.node("Identity", [tensor], output.name)
        shape = ["batch"] if output.width is None else ["batch", output.width]
        values.append(helper.make_tensor_value_info(output.name, graph.tensor_type(output.dtype),
                                                    shape))
    X = helper.make_tensor_value_info("X", graph.tensor_type(), ["batch", net.n_inputs])
    return graph.model([X], values, repr(estimator))


def write_estimator_onnx(estimator: Any, path: str | os.PathLike[str]) -> None:
    """Write :func:`estimator_model` to ``path``, atomically."""
    write_model(estimator_model(estimator), path)
