"""Reading a model file back into a new Network (the format: :mod:`backprop.files.model_file`)."""

from __future__ import annotations

import os
from typing import Any

from backprop.errors import BackpropError, ModelFileError
from backprop.files.model_file import ModelFile, read_model_file, restore_arrays
from backprop.limits import out_of_memory
from backprop.network import Network
from backprop.nn.layer_kinds import layer_from_config
from backprop.training.state import TrainingCheckpoint


def network_from_config(config: dict[str, Any], dtype: Any = None) -> Network:
    """A freshly initialized network with the architecture ``config`` describes."""
    layers = [layer_from_config(layer) for layer in config["layers"]]
    return Network(
        layers,
        loss=config["loss"]["name"],
        init=config.get("init", "auto"),
        seed=config.get("seed"),
        dtype=dtype or config.get("dtype", "float32"),
    )


def load(path: str | os.PathLike[str]) -> Network:
    """Read a network written by :func:`~backprop.files.model_file.save` (or :meth:`Network.save`).

    A checkpoint loads as a plain model: its training state is ignored
    (:func:`load_checkpoint` returns it too).
    """
    return _network_of(read_model_file(path, training="ignore"))


def load_checkpoint(
    path: str | os.PathLike[str], *, require_training: bool = True
) -> tuple[Network, TrainingCheckpoint]:
    """Read a checkpoint: the network, and the state needed to resume training.

    With ``require_training=False`` a plain model file is accepted too
    (its :class:`TrainingCheckpoint` is then empty: epoch 0, no optimizer).
    """
    file = read_model_file(path, training="required" if require_training else "optional")
    return _network_of(file), file.training or TrainingCheckpoint()


def _network_of(file: ModelFile) -> Network:
    """The network of a model file read and checked by read_model_file."""
    try:
        net = network_from_config(file.header["network"])
    except BackpropError as error:  # a whole that its checked parts do not make
        raise ModelFileError(f"{file.path} has an unreadable architecture ({error})") from None
    except MemoryError as error:
        raise ModelFileError(out_of_memory(f"{file.path}: its network", error)) from None
    restore_arrays(net, file)
    net.metadata = dict(file.header.get("metadata") or {})
    return net
