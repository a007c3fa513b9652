"""/sandbox: one small network, every number of one training step, and a check of them.

Pure Python (no server): a :class:`Sandbox` holds a float64 network, a batch
of samples, the learning rate η and the chosen backward rule, and answers
the page's requests. Every number it reports comes from the library: the
trace of ``bp.explain`` (z, a, δ, ∂L/∂w and the text of each), the
optimizer ``bp.SGD`` for "Step", ``bp.gradcheck`` and ``backprop.teaching.reference``
for "Check" (see :mod:`backprop.lab.sandbox.check`). A bad request raises
:class:`SandboxError` naming the field at fault; the sandbox is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from backprop.lab.sandbox.check import grade_legend, parameter_id, run_check
from backprop.lab.sandbox.protocol import MAX_LAYERS, MAX_SAMPLES, MAX_UNITS, PRESETS
from backprop.lab.sandbox.text import entry_texts
from backprop.network import Network
from backprop.nn.activations import activation_names
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.layers import Dense
from backprop.nn.losses import loss_names
from backprop.spec import NetworkSpec, OptimizerSpec, build_network, build_optimizer
from backprop.teaching import classic
from backprop.teaching.reference import MISTAKES
from backprop.teaching.worked_step import Trace, explain

#: Rules that only show with a batch: with one sample, 1/m = 1.
BATCH_RULES = ("forget-1/m", "sum-not-mean")
#: Large enough that ``bp.explain`` never summarizes a sandbox network.
_TRACE_LINES = 100_000


class SandboxError(ValueError):
    """A request the sandbox refuses; ``field`` is the dotted name of the bad part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Architecture:
    """The network's shape: widths input first, one activation per layer, loss, bias, init."""

    widths: list[int]
    activations: list[str]
    loss: str = "mse"
    bias: bool = True
    init: str = "auto"
    seed: int = 0


@dataclass
class Preset:
    architecture: Architecture
    weights: list[dict[str, Any]] | None
    X: list[list[float]]
    Y: list[list[float]]
    lr: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)


def presets() -> dict[str, Preset]:
    """The three starting points; classic-231 is ``backprop explain``'s default network."""
    classic_231 = Preset(
        Architecture(list(classic.LAYERS), ["sigmoid", "sigmoid"], bias=False),
        [{"W": W} for W in classic.WEIGHTS], [list(classic.X)], [[classic.Y]], lr=classic.LR)
    # the well-known 2-2-2 example: i = (0.05, 0.10), targets (0.01, 0.99), η = 0.5
    mazur = Preset(
        Architecture([2, 2, 2], ["sigmoid", "sigmoid"]),
        [{"W": [[0.15, 0.20], [0.25, 0.30]], "b": [0.35, 0.35]},
         {"W": [[0.40, 0.45], [0.50, 0.55]], "b": [0.60, 0.60]}],
        [[0.05, 0.10]], [[0.01, 0.99]])
    custom = Preset(Architecture([2, 4, 3, 1], ["tanh", "tanh", "sigmoid"]), None,
                    [default_x(2)], [[0.8]], lr=0.5)
    return {"classic-231": classic_231, "mazur-222": mazur, "custom": custom}


def default_x(n: int) -> list[float]:
    return [0.35, 0.9, 0.1, 0.6, 0.25, 0.75, 0.5, 0.05][:n]


def default_y(n: int, loss: str) -> list[float]:
    if loss == "cross_entropy":
        return [1.0] + [0.0] * (n - 1)  # class 1 of n
    return [0.8, 0.2, 0.6, 0.4, 0.7, 0.3, 0.9, 0.1][:n]


def check_architecture(arch: Architecture) -> Network:
    """A float64 network of this shape, or SandboxError naming the field at fault."""
    layers = len(arch.widths) - 1
    if not 1 <= layers <= MAX_LAYERS:
        raise SandboxError("widths", f"give 2 to {MAX_LAYERS + 1} widths (input first), "
                           f"got {len(arch.widths)}")
    for i, width in enumerate(arch.widths):
        if not 1 <= width <= MAX_UNITS:
            raise SandboxError(f"widths.{i}", f"a layer has 1 to {MAX_UNITS} units, got {width}")
    if len(arch.activations) != layers:
        raise SandboxError("activations", f"give one activation per layer ({layers}), "
                           f"got {len(arch.activations)}")
    for i, name in enumerate(arch.activations):
        if name not in activation_names():
            raise SandboxError(f"activations.{i}", f"unknown activation {name!r}; valid: "
                               f"{', '.join(activation_names())}")
    if arch.loss not in loss_names():
        raise SandboxError("loss", f"unknown loss {arch.loss!r}; valid: {', '.join(loss_names())}")
    if arch.init not in INIT_NAMES:
        raise SandboxError("init", f"unknown init {arch.init!r}; valid: {', '.join(INIT_NAMES)}")
    try:
        return build_network(NetworkSpec(
            n_inputs=arch.widths[0], n_outputs=arch.widths[-1], hidden=tuple(arch.widths[1:-1]),
            activation=tuple(arch.activations[:-1]), output_activation=arch.activations[-1],
            loss=arch.loss, bias=arch.bias, init=arch.init, seed=arch.seed, dtype="float64"))
    except ValueError as error:  # an output activation the loss cannot use
        raise SandboxError("loss", str(error)) from None


class Sandbox:
    """The state of one /sandbox page: network, batch, η, backward rule, last step and check."""

    def __init__(self, preset: str = "classic-231") -> None:
        self.rule = "none"
        self.sample = 1  # the sample whose z, a, δ are drawn, from 1
        self.load_preset(preset)

    # -- choosing the network -----------------------------------------------
    def load_preset(self, name: str) -> None:
        if name not in PRESETS:
            raise SandboxError("name", f"unknown preset {name!r}; valid: {', '.join(PRESETS)}")
        preset = presets()[name]
        net = check_architecture(preset.architecture)
        if preset.weights is not None:
            self._assign(net, preset.weights, "weights")
        self._install(name, preset.architecture, net, preset.X, preset.Y)
        self.lr = preset.lr

    def configure(self, arch: Architecture) -> None:
        """A custom network of this shape with fresh weights from its init and seed."""
        net = check_architecture(arch)
        X = [default_x(arch.widths[0])]
        self._install("custom", arch, net, X, [default_y(arch.widths[-1], arch.loss)])

    def _install(self, preset: str, arch: Architecture, net: Network,
                 X: list[list[float]], Y: list[list[float]]) -> None:
        self.preset, self.architecture, self.net = preset, arch, net
        self.X, self.Y = self._checked_batch(net, X, Y)
        self.sample = 1
        self._changed()

    def _changed(self) -> None:
        """Forget what the last change made stale: the trace, the step's old values, the check."""
        self.last_step: dict[str, list[float]] | None = None
        self.check: dict[str, Any] | None = None
        self._trace: Trace | None = None

    # -- editing ----------------------------------------------------------------
    def set_parameter(self, layer: int, name: str, unit: int, source: int | None,
                      value: float) -> None:
        """Set w_jk^[l] (name "W", source k) or b_j^[l] (name "b") to ``value``."""
        dense = self._dense()
        if not 1 <= layer <= len(dense):
            raise SandboxError("layer", f"layer {layer} does not exist (1..{len(dense)})")
        target = dense[layer - 1]
        if not 1 <= unit <= target.n_out:
            raise SandboxError("unit", f"layer {layer} has units 1..{target.n_out}, got {unit}")
        if name == "b":
            if target.b is None:
                raise SandboxError("name", f"layer {layer} has no biases")
            target.b[unit - 1] = value
        else:
            if source is None or not 1 <= source <= target.n_in:
                raise SandboxError("source", f"layer {layer} has inputs 1..{target.n_in}, "
                                   f"got {source}")
            target.W[unit - 1, source - 1] = value
        self._changed()

    def set_weights(self, weights: list[dict[str, Any]]) -> None:
        """Weights as ``backprop explain --weights`` reads them; a new shape makes a custom net."""
        widths = [len(weights[0]["W"][0])]
        for i, layer in enumerate(weights):
            if len({len(row) for row in layer["W"]}) != 1:
                raise SandboxError(f"layers.{i}.W", f"layer {i + 1}: every row of W needs the "
                                   "same number of columns")
            if len(layer["W"][0]) != widths[-1]:
                raise SandboxError(f"layers.{i}.W", f"layer {i + 1}: W has "
                                   f"{len(layer['W'][0])} columns but the layer below has "
                                   f"{widths[-1]} units")
            if layer.get("b") is not None and len(layer["b"]) != len(layer["W"]):
                raise SandboxError(f"layers.{i}.b", f"layer {i + 1}: b has {len(layer['b'])} "
                                   f"values but W has {len(layer['W'])} rows")
            widths.append(len(layer["W"]))
        has_bias = ["b" in layer and layer["b"] is not None for layer in weights]
        if any(has_bias) and not all(has_bias):
            raise SandboxError("layers", "give b for every layer or for none")
        arch = self.architecture
        if widths != arch.widths or all(has_bias) != arch.bias:
            same_depth = len(widths) == len(arch.widths)
            arch = replace(arch, widths=widths, bias=all(has_bias), activations=(
                arch.activations if same_depth else ["sigmoid"] * (len(widths) - 1)))
        net = check_architecture(arch)
        self._assign(net, weights, "layers")
        if arch == self.architecture:
            self.net = net
            self._changed()
        else:
            self._install("custom", arch, net, [default_x(widths[0])],
                          [default_y(widths[-1], arch.loss)])

    @staticmethod
    def _assign(net: Network, weights: list[dict[str, Any]], where: str) -> None:
        dense = [layer for layer in net.layers if isinstance(layer, Dense)]
        for i, (layer, given) in enumerate(zip(dense, weights, strict=True)):
            try:
                layer.W = given["W"]
                if given.get("b") is not None:
                    layer.b = given["b"]
            except ValueError as error:
                raise SandboxError(f"{where}.{i}", f"layer {i + 1}: {error}") from None

    def weights_json(self) -> list[dict[str, Any]]:
        """The weights in the JSON that ``backprop explain --weights`` reads."""
        out: list[dict[str, Any]] = []
        for layer in self._dense():
            entry: dict[str, Any] = {"W": layer.W.tolist()}
            if layer.b is not None:
                entry["b"] = layer.b.tolist()
            out.append(entry)
        return out

    def set_sample(self, index: int, x: list[float], y: list[float]) -> None:
        rows_x = [list(row) for row in self.X]
        rows_y = [list(row) for row in self.Y]
        if not 1 <= index <= len(rows_x):
            raise SandboxError("index", f"sample {index} does not exist (1..{len(rows_x)})")
        rows_x[index - 1], rows_y[index - 1] = list(x), list(y)
        self.X, self.Y = self._checked_batch(self.net, rows_x, rows_y)
        self._changed()

    def add_sample(self) -> None:
        """A second (third, ...) sample: 1 − x, and the targets mirrored (classes rotated)."""
        if len(self.X) >= MAX_SAMPLES:
            raise SandboxError("samples", f"the batch holds at most {MAX_SAMPLES} samples")
        x, y = self.X[-1], self.Y[-1]
        new_y = np.roll(y, 1) if self.net.loss.name == "cross_entropy" else 1.0 - y
        # rounded, so that 1 − 0.99 reads 0.01 rather than 0.010000000000000009
        self.X = np.vstack([self.X, np.round(1.0 - x, 12)])
        self.Y = np.vstack([self.Y, np.round(new_y, 12)])
        self._changed()

    def remove_sample(self, index: int) -> None:
        if len(self.X) == 1:
            raise SandboxError("index", "the batch needs at least one sample")
        if not 1 <= index <= len(self.X):
            raise SandboxError("index", f"sample {index} does not exist (1..{len(self.X)})")
        self.X, self.Y = np.delete(self.X, index - 1, 0), np.delete(self.Y, index - 1, 0)
        self.sample = min(self.sample, len(self.X))
        self._changed()

    def select_sample(self, index: int) -> None:
        if not 1 <= index <= len(self.X):
            raise SandboxError("index", f"sample {index} does not exist (1..{len(self.X)})")
        self.sample = index

    @staticmethod
    def _checked_batch(net: Network, X: list[list[float]], Y: list[list[float]]
                       ) -> tuple[np.ndarray, np.ndarray]:
        for name, rows, width in (("x", X, net.n_inputs), ("y", Y, net.n_outputs)):
            for row in rows:
                if len(row) != width:
                    raise SandboxError(name, f"{name} needs {width} value"
                                       f"{'s' if width != 1 else ''}, got {len(row)}")
        try:
            checked_X = net.check_inputs(np.array(X, dtype=np.float64))
            checked_Y, _ = net.prepare_targets(np.array(Y, dtype=np.float64), len(X))
        except (ValueError, TypeError) as error:
            raise SandboxError("y", str(error)) from None
        return checked_X, checked_Y

    def set_lr(self, lr: float) -> None:
        if not lr > 0 or not np.isfinite(lr):
            raise SandboxError("lr", f"η must be a finite number > 0, got {lr}")
        self.lr = float(lr)
        self._changed()

    def set_rule(self, rule: str) -> str | None:
        """Swap in a known-wrong backward rule for the check ("none" restores the right one).

        Returns a note when the batch grew: the 1/m rules only show with ≥ 2 samples.
        """
        if rule != "none" and rule not in MISTAKES:
            raise SandboxError("rule", f"unknown rule {rule!r}; valid: none, {', '.join(MISTAKES)}")
        self.rule = rule
        self.check = None
        if rule in BATCH_RULES and len(self.X) == 1:
            self.add_sample()
            return (f"{rule} only shows with a batch (with one sample 1/m = 1), "
                    "so a second sample was added")
        return None

    # -- the step and the check ---------------------------------------------------
    def trace(self) -> Trace:
        """``bp.explain`` of one step on the whole batch at η (computed once per change)."""
        if self._trace is None:
            self._trace = explain(self.net, self.X, self.Y, lr=self.lr, max_lines=_TRACE_LINES)
        return self._trace

    def step(self) -> None:
        """w ← w − η ∂L/∂w on the batch, by the engine and ``bp.SGD``; keeps old and new values."""
        old = self._parameters()
        before = self.net.params.copy()
        with np.errstate(all="ignore"):
            self.net.backprop(self.X, self.Y)
            optimizer = build_optimizer(OptimizerSpec("sgd", lr=self.lr))
            optimizer.step(self.net.params, self.net.grads)  # θ ← θ − η ∂L/∂θ
            # the numbers the page shows next must be finite too (the loss, the gradients)
            finite = (np.all(np.isfinite(self.net.params))
                      and np.isfinite(self.net.backprop(self.X, self.Y))
                      and np.all(np.isfinite(self.net.grads)))
        if not finite:
            self.net.params[...] = before
            self._changed()
            raise SandboxError("lr", f"this step at η = {self.lr:g} would make the loss or a "
                               "weight infinite; lower η or start over from a preset")
        new = self._parameters()
        self._changed()
        self.last_step = {key: [old[key], new[key]] for key in old}

    def run_check(self) -> dict[str, Any]:
        self.check = run_check(self.net, self.X, self.Y, self.trace(), mistake=self.rule,
                               lr=self.lr)
        return self.check

    def _parameters(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for number, layer in enumerate(self._dense(), start=1):
            for (j, k), w in np.ndenumerate(layer.W):
                values[parameter_id(number, "W", j + 1, k + 1)] = float(w)
            if layer.b is not None:
                for j, b in enumerate(layer.b):
                    values[parameter_id(number, "b", j + 1, None)] = float(b)
        return values

    def _dense(self) -> list[Dense]:
        return [layer for layer in self.net.layers if isinstance(layer, Dense)]

    # -- what the page draws -----------------------------------------------------
    def state(self) -> dict[str, Any]:
        trace = self.trace()
        s = self.sample
        layers = []
        for number, layer in enumerate(self._dense(), start=1):
            units = [u for u in trace.forward if u.layer == number and u.sample == s]
            deltas = [d for d in trace.deltas if d.layer == number and d.sample == s]
            grads = [g for g in trace.gradients if g.layer == number]
            layers.append({
                "layer": number, "n_in": layer.n_in, "n_out": layer.n_out,
                "activation": layer.activation.name,
                "W": layer.W.tolist(), "b": None if layer.b is None else layer.b.tolist(),
                "dW": [[g.value for g in grads if g.name == "w" and g.unit == j]
                       for j in range(1, layer.n_out + 1)],
                "db": None if layer.b is None else [g.value for g in grads if g.name == "b"],
                "z": [u.z for u in units], "a": [u.a for u in units],
                "delta": [d.delta for d in deltas],
            })
        return {
            "page": "sandbox", "preset": self.preset,
            "architecture": {"widths": self.architecture.widths,
                             "activations": self.architecture.activations,
                             "loss": self.architecture.loss, "bias": self.architecture.bias,
                             "init": self.architecture.init, "seed": self.architecture.seed},
            "lr": self.lr, "rule": self.rule, "sample": s,
            "X": self.X.tolist(), "Y": self.Y.tolist(),
            "loss": trace.loss_value, "layers": layers,
            "texts": entry_texts(trace.to_text(), s),
            "last_step": self.last_step, "check": self.check,
            "rules": {"none": "the right backward rule (the engine's)"} | dict(MISTAKES),
            "options": {"presets": list(PRESETS), "activations": activation_names(),
                        "losses": loss_names(), "inits": list(INIT_NAMES),
                        "max_layers": MAX_LAYERS, "max_units": MAX_UNITS,
                        "max_samples": MAX_SAMPLES, "grades": grade_legend()},
        }
