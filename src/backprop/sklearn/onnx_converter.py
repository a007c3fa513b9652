"""The estimators in skl2onnx: a Pipeline holding them converts to one ONNX graph.

    from backprop.sklearn import MLPClassifier, register_skl2onnx
    register_skl2onnx()
    onx = skl2onnx.to_onnx(make_pipeline(StandardScaler(), MLPClassifier()).fit(X, y), X[:1])

:func:`register_skl2onnx` gives skl2onnx a shape calculator and a converter
for each estimator. The graph is the estimators' own
(:mod:`backprop.sklearn.onnx_graph`: ``label`` and ``probabilities``, or
``variable``), its nodes placed in skl2onnx's container through
:class:`ContainerGraph`; skl2onnx's classifier options work as for
scikit-learn's MLP: ``zipmap`` (True, False, "columns"),
``output_class_labels`` and ``nocl``. The graph computes in the type of its
input: float32 (skl2onnx's default, the weights rounded to float32) or
float64 (a double input: ``to_onnx(pipe, X.astype(np.float64))``); an
integer or boolean input is cast to float32 first.

skl2onnx is imported only here, and only when :func:`register_skl2onnx` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backprop.export.onnx import OnnxGraph
from backprop.sklearn.classifier import MLPClassifier
from backprop.sklearn.onnx_graph import add_outputs, layout
from backprop.sklearn.regressor import MLPRegressor
from backprop.version import install_hint

#: skl2onnx's name for each estimator (its "alias"), and the options its converter takes.
ALIASES = {MLPClassifier: "BackpropMLPClassifier", MLPRegressor: "BackpropMLPRegressor"}
CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "output_class_labels": [False, True],
                      "nocl": [True, False]}


class ContainerGraph(OnnxGraph):
    """An :class:`OnnxGraph` whose nodes and constants go into skl2onnx's container, each
    under a name the scope makes unique (two networks in one Pipeline do not collide)."""

    def __init__(self, onnx: Any, dtype: Any, scope: Any, container: Any) -> None:
        super().__init__(onnx, dtype)
        self.scope = scope
        self.container = container

    def node(self, op_type: str, inputs: Sequence[str], output: str, **attributes: Any) -> str:
        name: str = self.scope.get_unique_variable_name(output)
        self.container.add_node(op_type, list(inputs), name,
                                name=self.scope.get_unique_operator_name(op_type), **attributes)
        return name

    def constant(self, name: str, array: Any, dtype: Any = None) -> str:
        tensor = np.asarray(array, dtype=self.dtype if dtype is None else dtype)
        unique: str = self.scope.get_unique_variable_name(name)
        content: Any = tensor.ravel()
        if tensor.dtype == object:  # strings travel as UTF-8 bytes
            content = [str(value).encode("utf-8") for value in content]
        self.container.add_initializer(unique, self.tensor_type(tensor.dtype), list(tensor.shape),
                                       content)
        return unique


def _skl2onnx() -> Any:
    try:
        import skl2onnx
    except ImportError:
        raise ImportError(f"converting with skl2onnx needs skl2onnx: {install_hint('onnx')}"
                          ) from None
    return skl2onnx


def _numbered(estimator: Any, options: Any) -> bool:
    """skl2onnx's ``nocl`` option: label the classes 0 .. n − 1 instead of by name.
    ``options`` is skl2onnx's scope or container (both hold the user's options)."""
    if not isinstance(estimator, MLPClassifier):
        return False
    return bool(options.get_options(estimator, {"nocl": False})["nocl"])


def _graph_dtype(variable: Any) -> tuple[np.dtype[Any], bool]:
    """The graph's float type for an input variable, and whether the input needs a cast to it:
    float64 for a double input, else float32 (as skl2onnx converts scikit-learn's MLP)."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    if isinstance(variable.type, DoubleTensorType):
        return np.dtype(np.float64), False
    return np.dtype(np.float32), not isinstance(variable.type, FloatTensorType)


def calculate_shapes(operator: Any) -> None:
    """skl2onnx's shape calculator: the types and shapes of :func:`layout`'s outputs."""
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    estimator = operator.raw_operator
    name = type(estimator).__name__
    if len(operator.inputs) != 1:
        raise RuntimeError(f"{name} takes one input tensor, got {len(operator.inputs)}")
    outputs = layout(estimator, _numbered(estimator, operator.scope_inst))
    if len(operator.outputs) != len(outputs):
        raise RuntimeError(f"{name} gives {len(outputs)} output(s) "
                           f"({', '.join(o.name for o in outputs)}), "
                           f"skl2onnx expects {len(operator.outputs)}")
    n = operator.inputs[0].get_first_dimension()
    dtype, _ = _graph_dtype(operator.inputs[0])
    floats = DoubleTensorType if dtype == np.float64 else FloatTensorType
    for variable, output in zip(operator.outputs, outputs, strict=True):
        shape = [n] if output.width is None else [n, output.width]
        if output.dtype is None:
            variable.type = floats(shape)
        elif output.dtype == object:
            variable.type = StringTensorType(shape)
        else:
            variable.type = Int64TensorType(shape)


def convert(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter: the estimator's graph, reading the operator's input."""
    import onnx

    estimator = operator.raw_operator
    source = operator.inputs[0]
    dtype, cast = _graph_dtype(source)
    graph = ContainerGraph(onnx, dtype, scope, container)
    x = source.full_name
    if cast:  # an integer or boolean input
        x = graph.node("Cast", [x], "input.cast", to=graph.tensor_type())
    tensors = add_outputs(estimator, graph, x, _numbered(estimator, container))
    for variable, tensor in zip(operator.outputs, tensors, strict=True):
        container.add_node("Identity", [tensor], variable.full_name,
                           name=scope.get_unique_operator_name("Identity"))


def register_skl2onnx() -> None:
    """Teach skl2onnx the estimators, so ``skl2onnx.to_onnx`` converts a Pipeline (or any
    other composite it knows) holding an :class:`MLPClassifier` or :class:`MLPRegressor`.

    Calling it again changes nothing. Raises ImportError naming the extra without skl2onnx.
    """
    skl2onnx = _skl2onnx()
    for estimator, alias in ALIASES.items():
        skl2onnx.update_registered_converter(
            estimator, alias, calculate_shapes, convert,
            options=CLASSIFIER_OPTIONS if estimator is MLPClassifier else None)
