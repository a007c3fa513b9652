"""A trained network as a standard ONNX graph (opset 17), built with the ``onnx`` package.

The graph computes what :meth:`backprop.Network.forward` computes, in
inference mode. There is no table of layer kinds here: each layer adds its
own nodes (``Layer.onnx_form``) and a Dense layer asks its activation for
σ's (``Activation.onnx_form``), so a user's own layer kind or activation
exports when it declares its form. The built-in ones give:

    Dense           Gemm(a, W, b, transB=1)     z = a Wᵀ + b  (W is (n_out, n_in)), then σ:
                    Sigmoid, Tanh, Relu, LeakyRelu(alpha=slope), Softmax(axis=1),
                    nothing for linear
    ActivationLayer σ's nodes alone
    BatchNorm       BatchNormalization(a, γ, β, running mean, running var, epsilon)
    Dropout         Identity (inverted dropout changes nothing at predict time)

Input ``X`` has shape (batch, n_inputs) and the network's dtype (float32 or
float64); the output is ``probabilities`` for a classifier (the output
activations: softmax rows, or sigmoid units) and ``values`` for regression,
shape (batch, n_outputs). A model trained by ``backprop train`` carries the
input scaling it was trained with; :func:`to_onnx` puts it in front of the
network when given (``input_offset``, ``input_scale``: x ← (x − offset) / scale).

The network's part of the graph is :func:`network_nodes`, which every ONNX
path calls: this module's graph, the estimators' own
(:mod:`backprop.sklearn.onnx_graph`) and the one skl2onnx assembles for a
Pipeline (:mod:`backprop.sklearn.onnx_converter`), each handing it an
:class:`OnnxGraph` of its own.

Opset 17 is supported by onnxruntime since 1.11 and by most other runtimes;
the IR version is 8. ``pip install 'backprop-mlp[onnx]'`` installs onnx and onnxruntime.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop.errors import ModelFileError, OptionError
from backprop.files.io import write_atomically
from backprop.version import __version__, install_hint

if TYPE_CHECKING:
    from backprop.network import Network

OPSET = 17
IR_VERSION = 8


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(f"ONNX export needs onnx: {install_hint('onnx')}") from None
    return onnx


class OnnxGraph:
    """The graph being built, as the layers and activations see it.

    Attributes:
        onnx: the onnx package (for anything beyond :meth:`node` and :meth:`constant`).
        dtype: the dtype of the graph's floats, which every constant takes unless told.
        nodes, initializers: what has been added, in order.

    A subclass may place the nodes elsewhere (skl2onnx's container): it overrides
    :meth:`node` and :meth:`constant`, which return the name the tensor really got.
    """

    def __init__(self, onnx: Any, dtype: Any) -> None:
        self.onnx = onnx
        self.dtype = np.dtype(dtype)
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def node(self, op_type: str, inputs: Sequence[str], output: str, **attributes: Any) -> str:
        """Add the node ``output = op_type(*inputs, **attributes)``; return ``output``."""
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [output],
                                                     **attributes))
        return output

    def constant(self, name: str, array: Any, dtype: Any = None) -> str:
        """Add ``array`` as the constant tensor ``name``, in the graph's dtype unless
        ``dtype`` is given (int64, or object for strings); return its name."""
        tensor = np.asarray(array, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(tensor, name))
        return name

    def tensor_type(self, dtype: Any = None) -> int:
        """ONNX's element type of ``dtype`` (the graph's by default)."""
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        return int(self.onnx.helper.np_dtype_to_tensor_dtype(dtype))

    def model(self, inputs: Sequence[Any], outputs: Sequence[Any], doc_string: str) -> Any:
        """The checked onnx.ModelProto of the nodes so far, opset 17, IR version 8, with
        ``inputs`` and ``outputs`` (ValueInfoProto, ``onnx.helper.make_tensor_value_info``)."""
        helper = self.onnx.helper
        proto = helper.make_graph(self.nodes, "backprop_network", list(inputs), list(outputs),
                                  initializer=self.initializers)
        model = helper.make_model(
            proto,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="backprop",
            producer_version=__version__,
            doc_string=doc_string,
        )
        model.ir_version = IR_VERSION
        self.onnx.checker.check_model(model)
        return model


def network_nodes(net: Network, graph: OnnxGraph, x: str) -> str:
    """Add ``net``'s layers, in inference mode, to ``graph`` reading tensor ``x``
    (batch, n_inputs); return the name of the output activations a^[L] (batch, n_outputs).

    Each layer adds its own nodes (``Layer.onnx_form``); a layer without a form is refused
    naming its position.
    """
    current = x
    for index, layer in enumerate(net.layers):
        try:
            current = layer.onnx_form(graph, current, f"layers.{index}")
        except OptionError as error:
            raise OptionError(f"layer {index} ({type(layer).__name__}): {error}") from None
    return current


def new_graph(dtype: Any) -> OnnxGraph:
    """An empty graph whose floats are ``dtype`` (onnx imported, or an ImportError)."""
    return OnnxGraph(_onnx(), dtype)


def build_model(
    net: Network, input_offset: Any = None, input_scale: Any = None
) -> Any:
    """The onnx.ModelProto of ``net`` (see the module's docstring for the graph)."""
    graph = new_graph(net.dtype)
    current = "X"
    if input_offset is not None or input_scale is not None:
        offset = np.zeros(net.n_inputs) if input_offset is None else input_offset
        scale = np.ones(net.n_inputs) if input_scale is None else input_scale
        # x ← (x − offset) / scale, as the model was trained
        centered = graph.node("Sub", [current, graph.constant("input.offset", offset)],
                              "input.centered")
        current = graph.node("Div", [centered, graph.constant("input.scale", scale)],
                             "input.scaled")
    current = network_nodes(net, graph, current)
    output_name = "probabilities" if net.is_classifier else "values"
    graph.node("Identity", [current], output_name)
    helper = graph.onnx.helper
    element = graph.tensor_type()
    return graph.model(
        [helper.make_tensor_value_info("X", element, ["batch", net.n_inputs])],
        [helper.make_tensor_value_info(output_name, element, ["batch", net.n_outputs])],
        repr(net),
    )


def write_model(model: Any, path: str | os.PathLike[str]) -> None:
    """Write the onnx.ModelProto ``model`` to ``path``, atomically (no half-written file),
    as every model file is written: the old file's mode kept, a symlink written through."""
    data = model.SerializeToString()
    write_atomically(path, lambda file: file.write(data), ModelFileError)


def to_onnx(
    net: Network,
    path: str | os.PathLike[str],
    *,
    input_offset: Any = None,
    input_scale: Any = None,
) -> None:
    """Write ``net`` to ``path`` as an ONNX model (see :func:`write_model`)."""
    write_model(build_model(net, input_offset, input_scale), path)
