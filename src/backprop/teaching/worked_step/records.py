"""The numbers of one worked step, as plain dataclasses (see :func:`backprop.explain`)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The central-difference step of the numerical estimates.
STEP = 1e-5
#: Entries per tensor checked numerically when the trace is summarized.
SUMMARY_CHECKS = 20


@dataclass
class LayerInfo:
    """The shape of one Dense layer l (1-based)."""

    layer: int
    n_in: int
    n_out: int
    activation: str
    bias: bool


@dataclass
class ForwardUnit:
    """z_j^[l] = Σ_k w_jk a_k^[l-1] + b_j and a_j^[l] = σ(z_j^[l]) for one sample."""

    sample: int  # 1-based
    layer: int
    unit: int  # j, 1-based
    weights: list[float]  # w_jk^[l], k = 1..n_in
    inputs: list[float]  # a_k^[l-1]
    bias: float | None
    z: float
    a: float


@dataclass
class SampleLoss:
    """The per-sample loss ℓ of one sample."""

    sample: int
    outputs: list[float]  # a^[L]
    targets: list[float]  # y
    value: float


@dataclass
class Delta:
    """δ_j^[l] of one sample.

    ``kind`` is "fused" (δ = a − y), "output" (δ = ∂ℓ/∂a · σ'(z)) or
    "hidden" (δ = (Σ_k w_kj δ_k^[l+1]) · σ'(z)). ``upstream`` is ∂ℓ/∂a_j
    (for "output") or the sum Σ_k w_kj δ_k (for "hidden"). A softmax layer,
    whose Jacobian is not diagonal, has ``softmax_inner`` = Σ_i g_i a_i and
    δ_j = a_j (g_j − Σ_i g_i a_i) instead of a σ'(z_j).
    """

    sample: int
    layer: int
    unit: int
    kind: str
    z: float
    a: float
    target: float | None = None
    upstream: float | None = None
    weights: list[float] = field(default_factory=list)  # w_kj^[l+1], k = 1..
    deltas_above: list[float] = field(default_factory=list)  # δ_k^[l+1]
    sigma_prime: float | None = None
    softmax_inner: float | None = None
    delta: float = 0.0
    #: for a fused output: δ_j had the loss been mse, ½Σ(a − y)², on the same outputs, and
    #: the factor σ'(z_j) = a_j(1 − a_j) that mse keeps (None for softmax's full Jacobian)
    mse_delta: float | None = None
    mse_factor: float | None = None


@dataclass
class Gradient:
    """∂L/∂w_jk^[l] (name "w", input k) or ∂L/∂b_j^[l] (name "b"), and its update."""

    layer: int
    name: str
    unit: int
    input: int | None
    deltas: list[float]  # δ_j per sample
    inputs: list[float]  # a_k^[l-1] per sample ("w" only)
    per_sample: list[float]  # δ_j a_k (or δ_j) per sample
    value: float  # the mean over the batch
    numeric: float
    relative_error: float
    old: float
    new: float
    #: the ±h step moved a ReLU-type unit across its kink: the estimate is left out
    at_kink: bool = False
    #: a tensor that training leaves as it is (a frozen bias): new == old
    frozen: bool = False


@dataclass
class StaleDelta:
    """δ_j^[l] of a hidden unit computed with the weights above it as they were (correct)
    and as a loop that updates them first would have them (stale, wrong)."""

    sample: int
    layer: int
    unit: int
    correct: float
    stale: float


@dataclass
class TensorRow:
    """One parameter tensor of a network shown per tensor (BatchNorm, Dropout, ...)."""

    layer: int
    kind: str
    name: str
    shape: list[int]
    grad_norm: float
    max_relative_error: float  # over the entries whose check crossed no kink
    checked: int
    kink_entries: int
    update_norm: float
    frozen: bool


@dataclass
class LayerSummary:
    """Per-layer statistics, for a network too wide to print unit by unit."""

    layer: int
    n_in: int
    n_out: int
    activation: str
    z_min: float
    z_max: float
    a_min: float
    a_max: float
    delta_min: float
    delta_max: float
    delta_norm: float
    weight_norm: float
    grad_w_norm: float
    grad_b_norm: float | None
    update_norm: float
    max_relative_error: float  # over the entries checked numerically
    checked: int


@dataclass(frozen=True)
class Formula:
    """A formula's right-hand side, as plain text and as TeX."""

    text: str
    tex: str


#: Fields of a step that describe notation, not numbers: left out of as_dict and JSON.
NOTATION_FIELDS = ("derivative_formulas", "loss_formula")


@dataclass
class StepRecord:
    """Every number of one worked step; :class:`~backprop.teaching.worked_step.Trace` renders it."""

    layers: list[LayerInfo]
    loss: str
    lr: float
    X: list[list[float]]
    Y: list[list[float]]
    fused: bool
    fused_note: str | None
    forward: list[ForwardUnit]
    losses: list[SampleLoss]
    loss_value: float
    deltas: list[Delta]
    gradients: list[Gradient]
    summaries: list[LayerSummary]
    summarized: bool
    summary_reason: str | None
    digits: int = 6
    step: float = STEP
    #: which step of gradient descent this is (1 = from the given weights)
    step_number: int = 1
    #: how the renderings name the quantities: layered, from-to or mazur (see .naming)
    notation: str = "layered"
    #: lines a reader must see before the numbers (e.g. a target out of the output's range)
    warnings: list[str] = field(default_factory=list)
    #: why some central differences are left out (gradcheck's wording)
    kink_warnings: list[str] = field(default_factory=list)
    #: the hidden errors once more, from weights already updated (explain(stale_weights=True))
    stale: list[StaleDelta] = field(default_factory=list)
    stale_rule: str | None = None
    #: the per-tensor view of a network with layers besides Dense ones
    tensors: list[TensorRow] = field(default_factory=list)
    #: σ'(z) of each activation by name (from ``Activation.derivative_formula``)
    derivative_formulas: dict[str, Formula] = field(default_factory=dict, repr=False)
    #: ℓ (from ``Loss.formula``), or None when the loss does not write itself out
    loss_formula: Formula | None = field(default=None, repr=False)

    @property
    def has_bias(self) -> bool:
        """Whether any layer has a bias b."""
        return any(info.bias for info in self.layers)

    @property
    def m(self) -> int:
        """The number of samples."""
        return len(self.X)

    @property
    def max_relative_error(self) -> float:
        """The largest relative error between a gradient and its numerical estimate."""
        if self.gradients:
            return max((g.relative_error for g in self.gradients if not g.at_kink), default=0.0)
        return max([s.max_relative_error for s in self.summaries]
                   + [t.max_relative_error for t in self.tensors], default=0.0)
