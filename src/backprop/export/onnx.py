"""A trained network as a standard ONNX graph (opset 17), built with the ``onnx`` package.

The graph computes what :meth:`backprop.Network.forward` computes, in
inference mode, layer by layer:

    Dense        Gemm(a, W, b, transB=1)       z = a Wᵀ + b  (W is (n_out, n_in))
                 then Sigmoid, Tanh, Relu, LeakyRelu(alpha=slope), Softmax(axis=1),
                 or nothing for linear
    BatchNorm    BatchNormalization(a, γ, β, running mean, running var, epsilon)
    Dropout      Identity (inverted dropout changes nothing at predict time)

Input ``X`` has shape (batch, n_inputs) and the network's dtype (float32 or
float64); the output is ``probabilities`` for a classifier (the output
activations: softmax rows, or sigmoid units) and ``values`` for regression,
shape (batch, n_outputs). A model trained by ``backprop train`` carries the
input scaling it was trained with; :func:`to_onnx` puts it in front of the
network when given (``input_offset``, ``input_scale``: x ← (x − offset) / scale).

Opset 17 is supported by onnxruntime since 1.11 and by most other runtimes;
the IR version is 8. ``pip install 'backprop-mlp[onnx]'`` installs onnx and onnxruntime.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense
from backprop.version import __version__, install_hint

if TYPE_CHECKING:
    from backprop.network import Network

OPSET = 17
IR_VERSION = 8

#: The library's activation → (ONNX operator, its attributes); linear has none.
ACTIVATION_OPS: dict[str, str | None] = {
    "linear": None,
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
    "leaky_relu": "LeakyRelu",
    "softmax": "Softmax",
}


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError(f"ONNX export needs onnx: {install_hint('onnx')}") from None
    return onnx


def build_model(
    net: Network, input_offset: Any = None, input_scale: Any = None
) -> Any:
    """The onnx.ModelProto of ``net`` (see the module's docstring for the graph)."""
    onnx = _onnx()
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    dtype = net.dtype
    nodes: list[Any] = []
    weights: list[Any] = []

    def constant(name: str, array: Any) -> str:
        weights.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), name))
        return name

    current = "X"
    if input_offset is not None or input_scale is not None:
        offset = np.zeros(net.n_inputs) if input_offset is None else input_offset
        scale = np.ones(net.n_inputs) if input_scale is None else input_scale
        # x ← (x − offset) / scale, as the model was trained
        nodes.append(helper.make_node("Sub", [current, constant("input.offset", offset)],
                                      ["input.centered"]))
        nodes.append(helper.make_node("Div", ["input.centered", constant("input.scale", scale)],
                                      ["input.scaled"]))
        current = "input.scaled"
    for index, layer in enumerate(net.layers):
        prefix = f"layers.{index}"
        if isinstance(layer, Dense):
            inputs = [current, constant(f"{prefix}.W", layer.W)]
            if layer.b is not None:
                inputs.append(constant(f"{prefix}.b", layer.b))
            # z = a Wᵀ + b, one sample per row
            nodes.append(helper.make_node("Gemm", inputs, [f"{prefix}.z"], transB=1))
            current = f"{prefix}.z"
            name = layer.activation.name
            if name not in ACTIVATION_OPS:
                raise ValueError(
                    f"layer {index}: activation {name!r} has no ONNX operator here; "
                    f"exportable: {', '.join(ACTIVATION_OPS)}"
                )
            op = ACTIVATION_OPS[name]
            if op is not None:
                attributes: dict[str, Any] = {}
                if name == "leaky_relu":
                    attributes["alpha"] = float(layer.activation.config()["slope"])
                if name == "softmax":
                    attributes["axis"] = 1
                nodes.append(helper.make_node(op, [current], [f"{prefix}.a"], **attributes))
                current = f"{prefix}.a"
        elif isinstance(layer, BatchNorm):
            # y = γ (x − μ) / √(σ² + ε) + β with the running statistics (inference mode)
            inputs = [current, constant(f"{prefix}.gamma", layer.gamma),
                      constant(f"{prefix}.beta", layer.beta),
                      constant(f"{prefix}.running_mean", layer.running_mean),
                      constant(f"{prefix}.running_var", layer.running_var)]
            nodes.append(helper.make_node("BatchNormalization", inputs, [f"{prefix}.a"],
                                          epsilon=float(layer.eps)))
            current = f"{prefix}.a"
        elif isinstance(layer, Dropout):
            nodes.append(helper.make_node("Identity", [current], [f"{prefix}.a"]))
            current = f"{prefix}.a"
        else:
            raise ValueError(f"layer {index}: {type(layer).__name__} has no ONNX export")
    output_name = "probabilities" if net.is_classifier else "values"
    nodes.append(helper.make_node("Identity", [current], [output_name]))
    element = helper.np_dtype_to_tensor_dtype(dtype)
    graph = helper.make_graph(
        nodes,
        "backprop_network",
        [helper.make_tensor_value_info("X", element, ["batch", net.n_inputs])],
        [helper.make_tensor_value_info(output_name, element, ["batch", net.n_outputs])],
        initializer=weights,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="backprop",
        producer_version=__version__,
        doc_string=repr(net),
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def to_onnx(
    net: Network,
    path: str | os.PathLike[str],
    *,
    input_offset: Any = None,
    input_scale: Any = None,
) -> None:
    """Write ``net`` to ``path`` as an ONNX model, atomically (no half-written file)."""
    data = build_model(net, input_offset, input_scale).SerializeToString()
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {target}: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
