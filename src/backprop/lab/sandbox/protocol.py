"""/sandbox's messages: one pydantic model per verb (see :mod:`backprop.lab.protocol`).

Ranges and sizes are checked here (layers, units, samples, values, η), and the
activation, loss and init names against the library's registries; what
depends on the current network (a unit that does not exist, an output the
loss cannot use) is checked by :class:`~backprop.lab.sandbox.state.Sandbox`, whose
errors name the field the same way.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from backprop.lab.protocol import (
    MAX_MESSAGE_BYTES,
    ActivationName,
    InitName,
    LossName,
    Message,
    Ping,
    message_union,
)

PRESETS = ("classic-231", "mazur-222", "custom")
#: Most weight layers in the sandbox's custom network.
MAX_LAYERS = 4
#: Most units per layer in the sandbox's custom network.
MAX_UNITS = 8
#: Most samples in the sandbox's batch.
MAX_SAMPLES = 8
#: Largest |value| of a weight, bias, input or target typed into the sandbox.
MAX_ABS_VALUE = 1e4
#: Largest learning rate η.
MAX_LR = 100.0
#: Longest name of a backward rule.
MAX_NAME = 40
#: Longest answer a learner may type.
MAX_ANSWER = 40
#: Most answers in one check: every δ, ∂L/∂b, ∂L/∂w and updated w and b of the largest network.
MAX_ANSWERS = MAX_LAYERS * (3 * MAX_UNITS + 2 * MAX_UNITS**2)

Value = Annotated[float, Field(ge=-MAX_ABS_VALUE, le=MAX_ABS_VALUE)]
Row = Annotated[list[Value], Field(min_length=1, max_length=MAX_UNITS)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Layer = Annotated[int, Field(ge=1, le=MAX_LAYERS)]
Unit = Annotated[int, Field(ge=1, le=MAX_UNITS)]
Sample = Annotated[int, Field(ge=1, le=MAX_SAMPLES)]


class ChoosePreset(Message):
    """Start over from a preset network (its weights, sample and η)."""

    type: Literal["preset"]
    name: Literal["classic-231", "mazur-222", "custom"]


class Configure(Message):
    """A custom network: widths input first, one activation per layer, fresh weights."""

    type: Literal["configure"]
    widths: Annotated[list[Unit], Field(min_length=2, max_length=MAX_LAYERS + 1)]
    activations: Annotated[list[ActivationName], Field(min_length=1, max_length=MAX_LAYERS)]
    loss: LossName = "mse"
    bias: bool = True
    init: InitName = "auto"
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0


class SetParameter(Message):
    """w_jk^[l] (name "W", unit j, source k) or b_j^[l] (name "b") ← value."""

    type: Literal["set_parameter"]
    layer: Layer
    name: Literal["W", "b"]
    unit: Unit
    source: Unit | None = None
    value: Value


class LayerWeights(Message):
    """One layer as ``backprop explain --weights`` reads it: W rows (n_out × n_in), b."""

    W: Annotated[list[Row], Field(min_length=1, max_length=MAX_UNITS)]
    b: Row | None = None


class SetWeights(Message):
    """Every layer's weights at once (pasted JSON); a new shape makes a custom network."""

    type: Literal["set_weights"]
    layers: Annotated[list[LayerWeights], Field(min_length=1, max_length=MAX_LAYERS)]


class SetSample(Message):
    """Sample ``index`` of the batch: its input x and target y."""

    type: Literal["set_sample"]
    index: Sample
    x: Row
    y: Row


class AddSample(Message):
    type: Literal["add_sample"]


class RemoveSample(Message):
    type: Literal["remove_sample"]
    index: Sample


class SelectSample(Message):
    """Which sample's z, a and δ the drawing shows."""

    type: Literal["select_sample"]
    index: Sample


class SetLearningRate(Message):
    type: Literal["set_lr"]
    lr: Annotated[float, Field(gt=0.0, le=MAX_LR)]


class BreakBackward(Message):
    """Swap a known-wrong backward rule into the check ("none": the right one)."""

    type: Literal["break"]
    rule: Name


class PasteWeights(Message):
    """Weights pasted as JSON text, read by the sandbox (which names any fault in one sentence)."""

    type: Literal["paste_weights"]
    text: Annotated[str, Field(max_length=MAX_MESSAGE_BYTES)]


AnswerKind = Literal["d", "gb", "g", "w", "b"]
#: What "check my answer" asks for at first: every δ and every gradient of the step.
DEFAULT_ASK: tuple[AnswerKind, ...] = ("d", "gb", "g")
AnswerKey = Annotated[str, Field(pattern=r"^(?:(?:d|gb|b)-[1-9]-[1-9]|(?:g|w)-[1-9]-[1-9]-[1-9])$")]


class AnswerMode(Message):
    """"Check my answer" on or off: which kinds of number become inputs (δ "d", ∂L/∂b "gb",
    ∂L/∂w "g", the updated "w" and "b"), in which layers (all when left out)."""

    type: Literal["answer_mode"]
    on: bool
    ask: Annotated[tuple[AnswerKind, ...], Field(min_length=1, max_length=5)] = DEFAULT_ASK
    layers: Annotated[list[Layer], Field(min_length=1, max_length=MAX_LAYERS)] | None = None


class SubmitAnswers(Message):
    """The learner's numbers, as typed, by key (d-L-J, gb-L-J, g-L-J-K, w-L-J-K, b-L-J)."""

    type: Literal["answers"]
    answers: Annotated[dict[AnswerKey, Annotated[str, Field(max_length=MAX_ANSWER)]],
                       Field(max_length=MAX_ANSWERS)]


class Step(Message):
    """One step of gradient descent: w ← w − η ∂L/∂w."""

    type: Literal["step"]


class Check(Message):
    """Central differences on every parameter against backpropagation's gradients."""

    type: Literal["check"]


class Download(Message):
    """Ask for a file: the weights JSON, or the step's trace as Markdown or JSON."""

    type: Literal["download"]
    what: Literal["weights", "trace-markdown", "trace-json"]


SANDBOX_MESSAGES: TypeAdapter[Any] = message_union(
    Ping, ChoosePreset, Configure, SetParameter, SetWeights, SetSample, AddSample,
    RemoveSample, SelectSample, SetLearningRate, BreakBackward, Step, Check, Download,
    PasteWeights, AnswerMode, SubmitAnswers,
)
