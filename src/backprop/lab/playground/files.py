"""/playground's model files: the network written as a file ``backprop.load`` and the CLI
read, and a model file (the playground's own or one the CLI trained) read back."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from backprop.errors import ModelFileError
from backprop.files.loading import load
from backprop.files.model_file import save
from backprop.lab.playground.data import Data
from backprop.lab.playground.model import check_drawable, dense_layers
from backprop.lab.playground.protocol import FEATURES, Setup
from backprop.lab.protocol import FieldError, Reply
from backprop.network import Network
from backprop.nn.activations import hidden_activation_names


def model_file(net: Network, setup: Setup) -> Reply:
    """The network as a model file (.npz, base64), with the setup in its metadata."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        save(net, str(path), extra={"playground": setup.model_dump()})
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"type": "file", "filename": "playground-model.npz",
            "mime": "application/octet-stream", "base64": data}


def read_model(encoded: str, setup: Setup, data: Data) -> tuple[Network, Setup]:
    """A model file's network (float64) and the setup that draws it on ``data``.

    The input features come from the file's playground metadata (x1, x2 for a model
    from elsewhere); the hidden layers and activation from the network itself.
    """
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise FieldError("data", "not base64") from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        path.write_bytes(raw)
        try:
            net = load(path).copy(dtype="float64")
        except (ModelFileError, ValueError, OSError) as error:
            raise FieldError("data", f"not a model file: {error}") from None
    saved = net.metadata.get("playground")
    features = saved.get("features") if isinstance(saved, dict) else None
    if not isinstance(features, list) or not all(f in FEATURES for f in features):
        features = ["x1", "x2"]
    check_drawable(net, len(features))
    task_outputs = 1 if data.n_classes <= 2 else data.n_classes
    if net.n_outputs not in (task_outputs, max(data.n_classes, 2)):
        raise FieldError("data", f"the model has {net.n_outputs} outputs; "
                         f"{setup.dataset} needs {task_outputs}")
    hidden = dense_layers(net)[:-1]
    offered = hidden_activation_names()
    activations = [layer.activation.name for layer in hidden]
    if any(name not in offered for name in activations):
        raise FieldError("data", f"the model's hidden activations {', '.join(activations)} are "
                         f"not all among the playground's: {', '.join(offered)}")
    same = len(set(activations)) <= 1
    return net, setup.model_copy(update={
        "features": features, "layers": [layer.n_out for layer in hidden],
        "activation": activations[0] if activations else setup.activation,
        "activations": [] if same else activations})
