"""An estimator's network (and its optimizer's state) as model-file bytes, for pickling.

A pickled estimator carries its :class:`~backprop.Network` as the bytes of a
checkpoint file (:func:`backprop.save_checkpoint`: JSON architecture, .npz
arrays, the optimizer's moments and step count, the generator's state),
never as pickled NumPy objects, so it unpickles under another NumPy or
Python version just as a model file loads.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from backprop.files.loading import load_checkpoint
from backprop.files.model_file import save_checkpoint
from backprop.network import Network
from backprop.optim.rules import Optimizer, get_optimizer


def network_to_bytes(net: Network, optimizer: Optimizer | None) -> bytes:
    """The checkpoint file of ``net`` (with ``optimizer``'s state when given), as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.npz"
        save_checkpoint(net, path, epoch=0, optimizer=optimizer)
        return path.read_bytes()


def network_from_bytes(blob: bytes) -> tuple[Network, Optimizer | None]:
    """The network and optimizer that :func:`network_to_bytes` wrote."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "network.npz"
        path.write_bytes(blob)
        net, checkpoint = load_checkpoint(path)
    if checkpoint.rng_state is not None:
        net.rng.bit_generator.state = checkpoint.rng_state  # shuffling and dropout carry on
    optimizer = None
    if checkpoint.optimizer is not None:
        optimizer = get_optimizer(checkpoint.optimizer)
        state = {"t": checkpoint.optimizer_t, "arrays": checkpoint.optimizer_arrays}
        optimizer.load_state_dict(state)
        optimizer.initial_lr = checkpoint.initial_lr
    return net, optimizer


def pickled_state(state: dict[str, Any]) -> dict[str, Any]:
    """An estimator's state for pickling: ``network_``, ``optimizer_`` become model-file bytes."""
    state = dict(state)
    net = state.pop("network_", None)
    optimizer = state.pop("optimizer_", None)
    if net is not None:
        state["_network_file"] = network_to_bytes(net, optimizer)
    return state


def unpickled_state(state: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`pickled_state`: the network and optimizer rebuilt from the bytes."""
    state = dict(state)
    blob = state.pop("_network_file", None)
    if blob is not None:
        state["network_"], state["optimizer_"] = network_from_bytes(blob)
    return state
