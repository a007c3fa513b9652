"""/sandbox: one small network, every number of one training step, and a check of them.

Pure Python (no server): a :class:`Sandbox` holds a float64 network, a batch
of samples, the learning rate η and the chosen backward rule, and answers
the page's requests. Every number it reports comes from the library: the
trace of ``bp.explain`` (z, a, δ, ∂L/∂w and the text of each), the
optimizer ``bp.SGD`` for "Step", ``bp.gradcheck`` and ``backprop.teaching.reference``
for "Check" (see :mod:`backprop.lab.sandbox.check`), the wrong values of a broken
rule and the check of a learner's own answers from
:mod:`backprop.teaching.answers`. A bad request raises :class:`SandboxError`
naming the field at fault, in one sentence; the sandbox is unchanged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from backprop.lab.sandbox.check import grade_legend, parameter_id, run_check
from backprop.lab.sandbox.protocol import (
    DEFAULT_ASK,
    MAX_ABS_VALUE,
    MAX_LAYERS,
    MAX_SAMPLES,
    MAX_UNITS,
    PRESETS,
)
from backprop.lab.sandbox.text import entry_texts
from backprop.network import Network
from backprop.nn.activations import activation_names
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.layers import Dense
from backprop.nn.losses import loss_names
from backprop.spec import NetworkSpec, OptimizerSpec, build_network, build_optimizer
from backprop.teaching import classic
from backprop.teaching.answers import (
    KINDS,
    Verdict,
    answer_keys,
    check_answers,
    equation_lines,
    equation_of,
    first_hint,
    quantity_name,
    step_values,
)
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


def _shape(widths: list[int], bias: bool) -> str:
    """A network's shape in words: "2→2→2 network with biases"."""
    return "→".join(map(str, widths)) + (" network with biases" if bias else
                                         " network without biases")


def _numbers(values: list[Any], what: str) -> list[float]:
    """A pasted list of numbers, each finite and within ±MAX_ABS_VALUE."""
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SandboxError("text", f"In {what}, {json.dumps(value)} is not a number.")
        if not math.isfinite(value):
            raise SandboxError("text", f"In {what}, {value!r} is not a finite number.")
        if abs(value) > MAX_ABS_VALUE:
            raise SandboxError("text", f"In {what}, {value!r} is outside ±{MAX_ABS_VALUE:g}.")
    return [float(value) for value in values]


def check_architecture(arch: Architecture) -> Network:
    """A float64 network of this shape, or SandboxError naming the field at fault."""
    layers = len(arch.widths) - 1
    if not 1 <= layers <= MAX_LAYERS:
        raise SandboxError("widths", f"Give 2 to {MAX_LAYERS + 1} widths (input first), not "
                           f"{len(arch.widths)}.")
    for i, width in enumerate(arch.widths):
        if not 1 <= width <= MAX_UNITS:
            raise SandboxError(f"widths.{i}", f"A layer has 1 to {MAX_UNITS} units, not {width}.")
    if len(arch.activations) != layers:
        raise SandboxError("activations", f"Give one activation per layer ({layers}), not "
                           f"{len(arch.activations)}.")
    for i, name in enumerate(arch.activations):
        if name not in activation_names():
            raise SandboxError(f"activations.{i}", f"Unknown activation {name!r}; choose one of "
                               f"{', '.join(activation_names())}.")
    if arch.loss not in loss_names():
        raise SandboxError("loss", f"Unknown loss {arch.loss!r}; "
                                   f"choose one of {', '.join(loss_names())}.")
    if arch.init not in INIT_NAMES:
        raise SandboxError("init", f"Unknown init {arch.init!r}; "
                                   f"choose one of {', '.join(INIT_NAMES)}.")
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
        self.network = 0  # counts the networks installed, so the page knows a new one
        # "check my answer": on or off, which kinds of number and which layers are asked
        self.answer_on = False
        self.ask: list[str] = list(DEFAULT_ASK)
        self.ask_layers: list[int] | None = None  # None: every layer
        self.given: dict[str, str] = {}
        self.verdicts: list[Verdict] | None = None
        self.load_preset(preset)

    # -- choosing the network -----------------------------------------------
    def load_preset(self, name: str) -> None:
        if name not in PRESETS:
            raise SandboxError("name", f"Unknown preset {name!r}; "
                                       f"choose one of {', '.join(PRESETS)}.")
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

    def use_network(self, arch: Architecture, net: Network) -> None:
        """One's own network (of this architecture, float64) as the custom network, with a
        default sample; steps change that object."""
        check_architecture(arch)  # the names and sizes the sandbox shows
        self._install("custom", arch, net, [default_x(arch.widths[0])],
                      [default_y(arch.widths[-1], arch.loss)])

    def use_batch(self, X: list[list[float]], Y: list[list[float]]) -> None:
        """One's own batch: rows of inputs and of targets, checked against the network."""
        self.X, self.Y = self._checked_batch(self.net, X, Y)
        self.sample = 1
        self._changed()

    def _install(self, preset: str, arch: Architecture, net: Network,
                 X: list[list[float]], Y: list[list[float]]) -> None:
        self.preset, self.architecture, self.net = preset, arch, net
        self.X, self.Y = self._checked_batch(net, X, Y)
        self.sample = 1
        self.network += 1
        self.given, self.ask_layers = {}, None
        self._changed()

    def _changed(self) -> None:
        """Forget what the last change made stale: the trace, the step's old values, the check."""
        self.last_step: dict[str, list[float]] | None = None
        self.check: dict[str, Any] | None = None
        self.verdicts = None
        self._trace: Trace | None = None

    # -- editing ----------------------------------------------------------------
    def set_parameter(self, layer: int, name: str, unit: int, source: int | None,
                      value: float) -> None:
        """Set w_jk^[l] (name "W", source k) or b_j^[l] (name "b") to ``value``."""
        dense = self._dense()
        if not 1 <= layer <= len(dense):
            raise SandboxError("layer", f"There is no layer {layer}; "
                                        f"the layers are 1 to {len(dense)}.")
        target = dense[layer - 1]
        if not 1 <= unit <= target.n_out:
            raise SandboxError("unit", f"Layer {layer} has no unit {unit}; "
                                       f"its units are 1 to {target.n_out}.")
        if name == "b":
            if target.b is None:
                raise SandboxError("name", f"Layer {layer} has no biases.")
            target.b[unit - 1] = value
        else:
            if source is None or not 1 <= source <= target.n_in:
                raise SandboxError("source", f"Layer {layer} has no input {source}; its inputs are "
                                   f"1 to {target.n_in}.")
            target.W[unit - 1, source - 1] = value
        self._changed()

    def set_weights(self, weights: list[dict[str, Any]]) -> str | None:
        """Weights as ``backprop explain --weights`` reads them, for the network as it is.

        On a preset the weights must have its shape; on the custom network a new shape
        builds a new network, and the returned note says what changed with it.
        """
        widths = [len(weights[0]["W"][0])]
        for i, layer in enumerate(weights):
            lengths = sorted({len(row) for row in layer["W"]})
            if len(lengths) != 1:
                raise SandboxError(f"layers.{i}.W", f"Layer {i + 1}'s W has rows of different "
                                   f"lengths ({' and '.join(map(str, lengths))}); every row "
                                   "needs one number per unit of the layer below.")
            if lengths[0] != widths[-1]:
                below = "inputs" if i == 0 else f"units in layer {i}"
                raise SandboxError(f"layers.{i}.W", f"Layer {i + 1}'s W has {lengths[0]} "
                                   f"columns, but there are {widths[-1]} {below}.")
            if layer.get("b") is not None and len(layer["b"]) != len(layer["W"]):
                raise SandboxError(f"layers.{i}.b", f"Layer {i + 1}'s b has "
                                   f"{len(layer['b'])} values, but its W has "
                                   f"{len(layer['W'])} rows (one per unit).")
            widths.append(len(layer["W"]))
        has_bias = ["b" in layer and layer["b"] is not None for layer in weights]
        if any(has_bias) and not all(has_bias):
            raise SandboxError("layers", "Give b for every layer or for none.")
        arch = self.architecture
        shape = _shape(widths, all(has_bias))
        if widths != arch.widths or all(has_bias) != arch.bias:
            if self.preset != "custom":
                raise SandboxError("layers", f"These weights make a {shape}, but "
                                   f"{self.preset} is a {_shape(arch.widths, arch.bias)}; "
                                   "choose custom in the network menu to use another shape.")
            same_depth = len(widths) == len(arch.widths)
            arch = replace(arch, widths=widths, bias=all(has_bias), activations=(
                arch.activations if same_depth else ["sigmoid"] * (len(widths) - 1)))
        net = check_architecture(arch)
        self._assign(net, weights, "layers")
        if arch == self.architecture:
            self.net = net
            self._changed()
            return None
        keep_x, keep_y = widths[0] == self.net.n_inputs, widths[-1] == self.net.n_outputs
        X = self.X.tolist() if keep_x else [default_x(widths[0])]
        Y = self.Y.tolist() if keep_y else [default_y(widths[-1], arch.loss)] * len(X)
        depth = len(widths) == len(self.architecture.widths)
        self._install("custom", arch, net, X, Y)
        batch = ("the batch is kept" if keep_x and keep_y else
                 "the inputs x are kept, the targets y start again" if keep_x else
                 "the batch starts again from one sample")
        sigmoid = "" if depth else " (every layer sigmoid)"
        return f"Built a new {shape}{sigmoid} from the pasted weights; {batch}."

    def paste_weights(self, text: str) -> str | None:
        """Weights pasted as JSON text: a list of {"W": [[...]], "b": [...]} (or {"layers":
        that list}); refused in one sentence, changing nothing, unless every layer fits."""
        try:
            data = json.loads(text)
        except ValueError as error:
            where = (f" (line {error.lineno}, column {error.colno})"
                     if isinstance(error, json.JSONDecodeError) else "")
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            raise SandboxError("text", f"The weights are not valid JSON{where}: "
                               f"{reason[:1].lower() + reason[1:]}.") from None
        if isinstance(data, dict) and set(data) == {"layers"}:
            data = data["layers"]
        if not isinstance(data, list) or not data:
            raise SandboxError("text", 'The weights must be a list of layers, each '
                               '{"W": [[...], ...], "b": [...]}.')
        if len(data) > MAX_LAYERS:
            raise SandboxError("text", f"The weights have {len(data)} layers; the sandbox "
                               f"takes at most {MAX_LAYERS}.")
        layers = []
        for i, layer in enumerate(data, start=1):
            if not isinstance(layer, dict) or "W" not in layer:
                raise SandboxError("text", f'Layer {i} of the weights has no W; give each '
                                   'layer as {"W": [[...], ...], "b": [...]}.')
            for name in layer:
                if name not in ("W", "b"):
                    raise SandboxError("text", f"Layer {i} of the weights has {name!r}, "
                                       "which is neither W nor b.")
            W = layer["W"]
            if not isinstance(W, list) or not W or not all(isinstance(r, list) and r for r in W):
                raise SandboxError("text", f"Layer {i}'s W must be a list of rows, each a "
                                   "list of numbers.")
            rows = [_numbers(row, f"row {r} of layer {i}'s W") for r, row in enumerate(W, 1)]
            b = layer.get("b")
            if b is not None and not isinstance(b, list):
                raise SandboxError("text", f"Layer {i}'s b must be a list of numbers.")
            biases = None if b is None else _numbers(b, f"layer {i}'s b")
            if len(rows) > MAX_UNITS or len(rows[0]) > MAX_UNITS:
                raise SandboxError("text", f"Layer {i}'s W is {len(rows)}×{len(rows[0])}; a "
                                   f"layer has at most {MAX_UNITS} units.")
            layers.append({"W": rows, "b": biases})
        return self.set_weights(layers)

    @staticmethod
    def _assign(net: Network, weights: list[dict[str, Any]], where: str) -> None:
        dense = [layer for layer in net.layers if isinstance(layer, Dense)]
        for i, (layer, given) in enumerate(zip(dense, weights, strict=True)):
            try:
                layer.W = given["W"]
                if given.get("b") is not None:
                    layer.b = given["b"]
            except ValueError as error:
                raise SandboxError(f"{where}.{i}", f"Layer {i + 1}: {error}") from None

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
            raise SandboxError("index", f"There is no sample {index}; "
                                        f"the samples are 1 to {len(rows_x)}.")
        rows_x[index - 1], rows_y[index - 1] = list(x), list(y)
        self.X, self.Y = self._checked_batch(self.net, rows_x, rows_y)
        self._changed()

    def add_sample(self) -> None:
        """A second (third, ...) sample: 1 − x, and the targets mirrored (classes rotated)."""
        if len(self.X) >= MAX_SAMPLES:
            raise SandboxError("samples", f"The batch holds at most {MAX_SAMPLES} samples.")
        x, y = self.X[-1], self.Y[-1]
        new_y = np.roll(y, 1) if self.net.loss.name == "cross_entropy" else 1.0 - y
        # rounded, so that 1 − 0.99 reads 0.01 rather than 0.010000000000000009
        self.X = np.vstack([self.X, np.round(1.0 - x, 12)])
        self.Y = np.vstack([self.Y, np.round(new_y, 12)])
        self._changed()

    def remove_sample(self, index: int) -> None:
        if len(self.X) == 1:
            raise SandboxError("index", "The batch needs at least one sample.")
        if not 1 <= index <= len(self.X):
            raise SandboxError("index", f"There is no sample {index}; "
                                        f"the samples are 1 to {len(self.X)}.")
        self.X, self.Y = np.delete(self.X, index - 1, 0), np.delete(self.Y, index - 1, 0)
        self.sample = min(self.sample, len(self.X))
        self._changed()

    def select_sample(self, index: int) -> None:
        if not 1 <= index <= len(self.X):
            raise SandboxError("index", f"There is no sample {index}; the samples are 1 to "
                               f"{len(self.X)}.")
        if index != self.sample:
            self.verdicts = None  # the δ answered were the other sample's
        self.sample = index

    @staticmethod
    def _checked_batch(net: Network, X: list[list[float]], Y: list[list[float]]
                       ) -> tuple[np.ndarray, np.ndarray]:
        for name, rows, width in (("x", X, net.n_inputs), ("y", Y, net.n_outputs)):
            for row in rows:
                if len(row) != width:
                    raise SandboxError(name, f"{name} needs {width} value"
                                       f"{'s' if width != 1 else ''}, not {len(row)}.")
        try:
            checked_X = net.check_inputs(np.array(X, dtype=np.float64))
            checked_Y, _ = net.prepare_targets(np.array(Y, dtype=np.float64), len(X))
        except (ValueError, TypeError) as error:
            raise SandboxError("y", str(error)) from None
        return checked_X, checked_Y

    def set_lr(self, lr: float) -> None:
        if not lr > 0 or not np.isfinite(lr):
            raise SandboxError("lr", f"η must be a finite number above 0, not {lr}.")
        self.lr = float(lr)
        self._changed()

    def set_rule(self, rule: str) -> str | None:
        """Swap in a known-wrong backward rule for the check ("none" restores the right one).

        Returns a note when the batch grew: the 1/m rules only show with ≥ 2 samples.
        """
        if rule != "none" and rule not in MISTAKES:
            raise SandboxError("rule", f"Unknown rule {rule!r}; "
                                       f"choose none or one of {', '.join(MISTAKES)}.")
        self.rule = rule
        self.check = None
        if rule in BATCH_RULES and len(self.X) == 1:
            self.add_sample()
            return (f"{rule} only shows with a batch (with one sample 1/m = 1), "
                    "so a second sample was added")
        return None

    # -- check my answer --------------------------------------------------------------------
    def set_answer_mode(self, on: bool, ask: list[str], layers: list[int] | None) -> None:
        """Turn "check my answer" on or off; ``ask``: the kinds of number asked (d, gb, g, w,
        b), ``layers``: the layers asked (None: all)."""
        count = len(self._dense())
        for layer in layers or []:
            if not 1 <= layer <= count:
                raise SandboxError("layers", f"There is no layer {layer}; the layers are 1 to "
                                   f"{count}.")
        self.answer_on = on
        self.ask = [kind for kind in KINDS if kind in ask]
        self.ask_layers = None if layers is None or len(set(layers)) == count \
            else sorted(set(layers))
        self.verdicts = None

    def asked(self) -> list[str]:
        """The keys of the numbers the learner is asked for, from the output layer down."""
        return answer_keys(self.net, self.ask, self.ask_layers) if self.answer_on else []

    def submit_answers(self, answers: dict[str, str]) -> None:
        """Check the learner's filled answers (empty ones are left out) against the step."""
        if not self.answer_on:
            raise SandboxError("type", "Turn on “check my answer” first.")
        asked = self.asked()
        for key in answers:
            if key not in asked:
                raise SandboxError(f"answers.{key}", f"{key} is not one of the numbers "
                                   "asked for.")
        self.given = {key: text.strip() for key, text in answers.items() if text.strip()}
        self.verdicts = check_answers(self.net, self.X, self.Y, self.lr, self.given,
                                      sample=self.sample)

    def _answer_state(self) -> dict[str, Any]:
        verdicts = self.verdicts or []
        counts = {kind: sum(v.verdict == kind for v in verdicts)
                  for kind in ("right", "wrong", "refused")}
        summary = None
        if self.verdicts is not None:
            summary = (f"{counts['right']} right, {counts['wrong']} wrong"
                       + (f", {counts['refused']} refused" if counts["refused"] else "")
                       + f" of {len(verdicts)} checked." if verdicts
                       else "Nothing to check: fill in at least one number.")
        return {
            "on": self.answer_on, "ask": self.ask, "layers": self.ask_layers,
            "asked": self.asked(), "sample": self.sample, "given": self.given,
            "checked": self.verdicts is not None,
            "verdicts": {v.key: {"verdict": v.verdict, "message": v.message,
                                 "mistake": v.mistake} for v in verdicts},
            "refusals": [v.message for v in verdicts if v.verdict == "refused"],
            "hint": first_hint(verdicts), "summary": summary,
        }

    # -- a broken rule's numbers ---------------------------------------------------------------
    def broken(self) -> dict[str, Any] | None:
        """Under a broken rule: each number it changes (δ of the shown sample, ∂L/∂w, ∂L/∂b),
        by id, with the value the rule gives; or the sentence saying why it cannot apply."""
        if self.rule == "none":
            return None
        right = step_values(self.net, self.X, self.Y, self.lr, sample=self.sample)
        try:
            wrong = step_values(self.net, self.X, self.Y, self.lr, sample=self.sample,
                                mistake=self.rule)
        except ValueError as error:
            message = str(error)
            return {"rule": self.rule, "values": {}, "error": message[:1].upper() + message[1:]}
        values = {key: value for key, value in wrong.items()
                  if key.split("-")[0] in ("d", "g", "gb")
                  and abs(value - right[key]) > 1e-12 * max(abs(value), abs(right[key]))}
        return {"rule": self.rule, "values": values, "error": None}

    def labels(self) -> dict[str, dict[str, str]]:
        """Each number's name (as the worked step writes it) and the equation giving it."""
        count = len(self._dense())
        ids = [f"{kind}-{number}-{j}" for number, layer in enumerate(self._dense(), start=1)
               for j in range(1, layer.n_out + 1) for kind in ("z", "a")]
        ids += answer_keys(self.net)
        return {key: {"name": quantity_name(key), "equation": equation_of(key, count)}
                for key in ids}

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
            raise SandboxError("lr", f"This step at η = {self.lr:g} would make the loss or a "
                               "weight infinite; lower η or start over from a preset.")
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
            "network": self.network, "equations": equation_lines(self.net),
            "labels": self.labels(), "broken": self.broken(), "answer": self._answer_state(),
            "rules": {"none": "the right backward rule (the engine's)"} | dict(MISTAKES),
            "options": {"presets": list(PRESETS), "activations": activation_names(),
                        "losses": loss_names(), "inits": list(INIT_NAMES),
                        "max_layers": MAX_LAYERS, "max_units": MAX_UNITS,
                        "max_samples": MAX_SAMPLES, "grades": grade_legend()},
        }
