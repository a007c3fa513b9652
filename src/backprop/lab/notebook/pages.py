"""The sandbox and the regression pages on a notebook's own network and numbers.

Thin subclasses of the lab's pages (the same messages and state): they take what the
notebook passes once, at the start, through the page's own checks, and keep the record
a notebook reads as ``widget.history``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backprop.errors import DataError, OptionError
from backprop.lab.protocol import MAX_POINTS, Message, Reply
from backprop.lab.regression.page import RegressionPage
from backprop.lab.regression.protocol import MAX_COORDINATE
from backprop.lab.sandbox import protocol as sandbox_messages
from backprop.lab.sandbox.page import SandboxPage
from backprop.lab.sandbox.protocol import MAX_LAYERS, MAX_SAMPLES, MAX_UNITS
from backprop.lab.sandbox.state import Architecture, SandboxError
from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.validation import as_numeric_array


def _rows(value: Any, width: int, argument: str) -> list[list[float]]:
    """One sample (``width`` numbers) or a batch of them, as rows of floats."""
    try:
        array = as_numeric_array(value, argument)
    except DataError as error:
        raise DataError(str(error)) from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != width:
        raise DataError(f"{argument}: expected {width} value{'s' if width != 1 else ''} per "
                        f"sample (shape ({width},) or (m, {width})), got shape {array.shape}")
    if not 1 <= len(array) <= MAX_SAMPLES:
        raise DataError(f"{argument}: the sandbox holds 1 to {MAX_SAMPLES} samples, got "
                        f"{len(array)}")
    if not np.isfinite(array).all():
        raise DataError(f"{argument}: holds NaN or infinity; every number must be finite")
    return [[float(v) for v in row] for row in array]


def architecture_of(network: Network) -> Architecture:
    """The sandbox's description of a network it can show, or OptionError saying why not."""
    if not isinstance(network, Network):
        raise OptionError(f"network: expected a preset name or a bp.Network, got "
                          f"{type(network).__name__}")
    for number, layer in enumerate(network.layers, start=1):
        if not isinstance(layer, Dense):
            raise OptionError(f"network: the sandbox shows Dense layers only; layer {number} "
                              f"is a {type(layer).__name__} (the playground shows it)")
    dense = [layer for layer in network.layers if isinstance(layer, Dense)]
    if len(dense) > MAX_LAYERS or any(max(d.n_in, d.n_out) > MAX_UNITS for d in dense):
        raise OptionError(f"network: the sandbox shows up to {MAX_LAYERS} layers of at most "
                          f"{MAX_UNITS} units, every number at once (the playground shows "
                          "larger ones)")
    if len({layer.bias for layer in dense}) > 1:
        raise OptionError("network: the sandbox shows biases in every layer or in none")
    return Architecture([dense[0].n_in, *[d.n_out for d in dense]],
                        [d.activation.name for d in dense], network.loss.name,
                        dense[0].bias, network.init, int(network.seed or 0))


class NotebookSandbox(SandboxPage):
    """The sandbox on a preset or the notebook's network, with the notebook's batch."""

    def __init__(self, network: str | Network | None = None, x: Any = None, y: Any = None,
                 lr: float | None = None) -> None:
        super().__init__()
        sandbox = self.sandbox
        try:
            if isinstance(network, str):
                sandbox.load_preset(network)
            elif network is not None:
                own = network if network.dtype == np.float64 else network.copy(dtype="float64")
                sandbox.use_network(architecture_of(network), own)
            if x is not None or y is not None:
                self.use_batch(x, y)
            if lr is not None:
                sandbox.set_lr(lr)
        except SandboxError as error:
            raise OptionError(f"{error.field}: {error}") from None
        self.rows: list[dict[str, Any]] = []
        self.restart()

    def use_batch(self, x: Any, y: Any) -> None:
        """The batch: x (one sample or rows), y its targets (the network's outputs per row)."""
        sandbox = self.sandbox
        X = _rows(x, sandbox.net.n_inputs, "x") if x is not None else sandbox.X.tolist()
        Y = _rows(y, sandbox.net.n_outputs, "y") if y is not None else sandbox.Y.tolist()
        if len(Y) != len(X):
            raise DataError(f"y: x has {len(X)} samples but y has {len(Y)}")
        try:
            sandbox.use_batch(X, Y)
        except SandboxError as error:
            raise DataError(f"{error.field}: {error}") from None

    def restart(self) -> None:
        self.rows = [{"step": 0, "loss": self.sandbox.trace().loss_value}]
        self.shown = self.sandbox.network

    def handle(self, message: Message) -> list[Reply]:
        replies = super().handle(message)
        failed = any(reply.get("type") == "error" for reply in replies)
        if self.sandbox.network != self.shown:
            self.restart()  # another network: its own record
        elif isinstance(message, sandbox_messages.Step) and not failed:
            self.rows.append({"step": len(self.rows), "loss": self.sandbox.trace().loss_value})
        return replies


class NotebookRegression(RegressionPage):
    """The regression page on the notebook's points (x, y)."""

    def __init__(self, x: Any = None, y: Any = None) -> None:
        super().__init__()
        if x is not None or y is not None:
            self.use_points(x, y)

    def use_points(self, x: Any, y: Any) -> None:
        if x is None or y is None:
            raise DataError("x, y: give both, one x and one y per point")
        columns = []
        for name, value in (("x", x), ("y", y)):
            array = as_numeric_array(value, name)
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise DataError(f"{name}: expected one number per point (shape (m,)), got "
                                f"shape {array.shape}")
            if not np.isfinite(array).all():
                row = int(np.argwhere(~np.isfinite(array))[0][0])
                raise DataError(f"{name}: holds {array[row]} at row {row}; NaN and infinity "
                                "cannot be fitted")
            if np.abs(array).max(initial=0.0) > MAX_COORDINATE:
                raise DataError(f"{name}: the page plots values within ±{MAX_COORDINATE:g}; "
                                "rescale them")
            columns.append(array.astype(np.float64))
        if len(columns[0]) != len(columns[1]):
            raise DataError(f"y: x has {len(columns[0])} points but y has {len(columns[1])}")
        if not 2 <= len(columns[0]) <= MAX_POINTS:
            raise DataError(f"x: the page fits 2 to {MAX_POINTS} points, got {len(columns[0])}")
        self._replace_data(np.column_stack(columns), view=True)
        self.reset()
