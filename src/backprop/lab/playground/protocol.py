"""/playground's messages: the setup (everything a shared link carries) and the verbs.

A :class:`Setup` is the whole experiment: data, input features, layers, training
settings and stop conditions. The activation, loss, initialization and optimizer
are checked against the library's registries when a message arrives (see
:class:`~backprop.lab.protocol.Registered`), and :func:`options` sends the same
names to fill the page's menus. ``configure`` changes any of its fields (those sent;
the rest stay); the other messages act on the run.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backprop.lab.protocol import (
    MAX_MESSAGE_BYTES,
    MAX_POINTS,
    HiddenActivationName,
    InitName,
    Message,
    OptimizerName,
    Registered,
    init_names,
    optimizer_names,
)
from backprop.limits import LIMITS
from backprop.nn.activations import hidden_activation_names
from backprop.nn.losses import loss_names

#: Most hidden layers, and units per hidden layer.
MAX_HIDDEN_LAYERS = 8
MAX_HIDDEN_UNITS = 16
#: Largest learning rate, L2 rate, |coordinate| and |weight| a message may carry.
MAX_LR = 100.0
MAX_L2 = 1.0
MAX_COORDINATE = 100.0
MAX_WEIGHT = 1e3
#: Most optimizer steps per play update, and per "step" message.
MAX_STEPS_PER_UPDATE = 200
MAX_STEP_COUNT = 5000
#: Fewest points a generated data set has.
MIN_POINTS = 10

DatasetName = Literal["circles", "xor", "gaussians", "spirals", "moons", "three-class",
                      "regression", "regression-plane"]
FeatureName = Literal["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
DATASETS: tuple[str, ...] = get_args(DatasetName)
FEATURES: tuple[str, ...] = get_args(FeatureName)
#: The data sets whose targets are values (a linear output unit, mse), not classes.
REGRESSION_SETS = ("regression", "regression-plane")


def playground_loss_names() -> list[str]:
    """"auto" (the task's own loss: binary or categorical cross-entropy, or mse), then the
    registry's."""
    return ["auto", *loss_names()]


#: The loss menu: "auto" and every registered loss (the output layer follows the task).
PlaygroundLossName = Annotated[str, Registered("loss", playground_loss_names)]


def options() -> dict[str, list[str]]:
    """Every menu of the page, as the page fills it: the registries as they are now."""
    return {"dataset": list(DATASETS), "features": list(FEATURES),
            "activation": hidden_activation_names(), "loss": playground_loss_names(),
            "init": init_names(), "optimizer": optimizer_names()}

Units = Annotated[int, Field(ge=1, le=MAX_HIDDEN_UNITS)]
Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]


class SetupFields(BaseModel):
    """The experiment, field by field, with the defaults a first visit gets."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)

    dataset: DatasetName = "circles"
    noise: float = Field(default=0.05, ge=0.0, le=1.0)
    test_ratio: float = Field(default=0.5, ge=0.1, le=0.9)
    size: int = Field(default=200, ge=MIN_POINTS, le=MAX_POINTS)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    features: list[FeatureName] = Field(default=["x1", "x2"], min_length=1, max_length=7)
    layers: list[Units] = Field(default=[4, 4], max_length=MAX_HIDDEN_LAYERS)
    activation: HiddenActivationName = "tanh"
    #: one activation per hidden layer, or none: every hidden layer then has ``activation``
    activations: list[HiddenActivationName] = Field(default=[], max_length=MAX_HIDDEN_LAYERS)
    loss: PlaygroundLossName = "auto"
    init: InitName = "xavier_uniform"
    optimizer: OptimizerName = "momentum"
    lr: float = Field(default=0.1, gt=0.0, le=MAX_LR)
    batch_size: int = Field(default=10, ge=0, le=MAX_POINTS)  # 0: the full batch
    l2: float = Field(default=0.0, ge=0.0, le=MAX_L2)
    l1: float = Field(default=0.0, ge=0.0, le=MAX_L2)  # λ₁·sign(θ) added to each gradient
    dropout: float = Field(default=0.0, ge=0.0, le=0.9)
    target_loss: float = Field(default=0.0, ge=0.0, le=100.0)  # 0: no target
    max_epochs: int = Field(default=0, ge=0, le=LIMITS["BACKPROP_MAX_EPOCHS"])  # 0: no limit
    speed: int = Field(default=4, ge=1, le=MAX_STEPS_PER_UPDATE)  # steps per update
    discretize: bool = False  # the output map shows the predicted class (or the sign), not p


class Setup(SetupFields):
    """A complete, consistent setup."""

    @model_validator(mode="after")
    def _consistent(self) -> Setup:
        if len(set(self.features)) != len(self.features):
            raise ValueError("features: each input feature may be chosen once")
        if self.activations and len(self.activations) != len(self.layers):
            raise ValueError(f"activations: one per hidden layer ({len(self.layers)}), "
                             f"got {len(self.activations)}; or none, for the same everywhere")
        return self

    def hidden_activations(self) -> list[str]:
        """The activation of each hidden layer."""
        return list(self.activations) or [self.activation] * len(self.layers)


class Configure(Message, SetupFields):
    """Change the fields sent (``model_fields_set``); the others keep their values."""

    type: Literal["configure"]


class Step(Message):
    type: Literal["step"]
    count: int = Field(default=1, ge=1, le=MAX_STEP_COUNT)


class Reset(Message):
    """New initial weights from the seed, step 0, the data as it is."""

    type: Literal["reset"]


class AddPoint(Message):
    """A training point: ``label`` for classes, ``value`` for the regression surface."""

    type: Literal["add_point"]
    x1: Coordinate
    x2: Coordinate
    label: int = Field(default=0, ge=0, le=2)
    value: float = Field(default=0.0, ge=-MAX_COORDINATE, le=MAX_COORDINATE)


class RemovePoint(Message):
    """Remove the point (train or test) nearest to (x1, x2), within ``radius``."""

    type: Literal["remove_point"]
    x1: Coordinate
    x2: Coordinate
    radius: float = Field(default=0.1, gt=0.0, le=MAX_COORDINATE)


class LoadCsv(Message):
    """Replace the data by CSV rows x1,x2,target (a header line is allowed)."""

    type: Literal["load_csv"]
    text: str = Field(max_length=MAX_MESSAGE_BYTES)


class DownloadCsv(Message):
    type: Literal["download_csv"]


class DownloadModel(Message):
    type: Literal["download_model"]


class LoadModel(Message):
    """A model file (.npz, base64) to open: its weights and architecture replace the network."""

    type: Literal["load_model"]
    data: str = Field(max_length=MAX_MESSAGE_BYTES - 100)


class SetWeight(Message):
    """w[layer][row, col] := value (layer counts Dense layers from 0; col = n_in is the bias)."""

    type: Literal["set_weight"]
    layer: int = Field(ge=0, le=MAX_HIDDEN_LAYERS)
    row: int = Field(ge=0, lt=MAX_HIDDEN_UNITS)
    col: int = Field(ge=0, le=MAX_HIDDEN_UNITS)
    value: float = Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)


class Explain(Message):
    """The chain rule behind one weight's next update; ``point`` None for the whole batch."""

    type: Literal["explain"]
    layer: int = Field(ge=0, le=MAX_HIDDEN_LAYERS)
    row: int = Field(ge=0, lt=MAX_HIDDEN_UNITS)
    col: int = Field(ge=0, le=MAX_HIDDEN_UNITS)
    point: int | None = Field(default=None, ge=0, lt=MAX_POINTS)


class ExportPython(Message):
    type: Literal["export_python"]


class GradientCheck(Message):
    type: Literal["gradient_check"]


class Rewind(Message):
    """Go back to an earlier step of the run (recomputed from the nearest snapshot)."""

    type: Literal["rewind"]
    step: int = Field(ge=0, le=10**9)


class WeightRef(BaseModel):
    """One weight: Dense layer (from 0), row j, column k (k = n_in: the bias)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True, frozen=True)

    layer: int = Field(ge=0, le=MAX_HIDDEN_LAYERS)
    row: int = Field(ge=0, lt=MAX_HIDDEN_UNITS)
    col: int = Field(ge=0, le=MAX_HIDDEN_UNITS)


class Surface(Message):
    """The loss on a plane through the weights: two weights' axes, or two random directions."""

    type: Literal["surface"]
    mode: Literal["random", "weights"] = "random"
    first: WeightRef | None = None
    second: WeightRef | None = None
    span: float = Field(default=1.0, gt=0.0, le=MAX_WEIGHT)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class Compare(Message, SetupFields):
    """Start run B: the current setup with the fields sent changed, on the same data."""

    type: Literal["compare"]


class StopCompare(Message):
    type: Literal["stop_compare"]


class BatchModes(Message):
    """Train online, mini-batch and full-batch copies from the same initial weights."""

    type: Literal["batch_modes"]
    epochs: int = Field(default=10, ge=1, le=50)


class Branch(Message):
    """Train on from the step the replay shows: the steps after it are dropped."""

    type: Literal["branch"]


class AddLayer(Message):
    """One more hidden layer, a copy of the last one (its units and activation)."""

    type: Literal["add_layer"]


class RemoveLayer(Message):
    """The last hidden layer goes."""

    type: Literal["remove_layer"]


class ChangeLayer(Message):
    """A hidden layer's units by ``units_by`` (±), and or its activation.

    Relative to the layer as the server has it, so two quick clicks make two changes.
    """

    type: Literal["change_layer"]
    layer: int = Field(ge=0, lt=MAX_HIDDEN_LAYERS)
    units_by: int = Field(default=0, ge=-MAX_HIDDEN_UNITS, le=MAX_HIDDEN_UNITS)
    activation: HiddenActivationName | None = None


class ToggleFeature(Message):
    """One input feature on or off, the others as the server has them."""

    type: Literal["toggle_feature"]
    name: FeatureName
    on: bool


#: What a classroom link can lock: each setup field, the points ("data": adding, removing,
#: opening a CSV) and the weights ("weights": editing one, opening a model file).
LOCKABLE: tuple[str, ...] = (*SetupFields.model_fields, "data", "weights")


def lockable_names() -> list[str]:
    return list(LOCKABLE)


class Lock(Message):
    """Lock settings for the rest of the session (a classroom link); none named: all of them.

    There is no unlock: a locked session refuses changes to what it locked.
    """

    type: Literal["lock"]
    fields: list[Annotated[str, Registered("setting", lockable_names)]] | None = Field(
        default=None, max_length=len(LOCKABLE))
