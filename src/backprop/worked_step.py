"""A worked training step, number by number: :func:`explain`.

One step of plain gradient descent on the mean loss over the given
samples, written in the notation of the four equations (DESIGN.md) with
the actual numbers:

    forward    z_j^[l] = Σ_k w_jk^[l] a_k^[l-1] + b_j^[l],   a_j^[l] = σ(z_j^[l])
    (1)        δ_j^[L] = ∂ℓ/∂a_j^[L] · σ'(z_j^[L])   (a_j − y_j for a canonical pair)
    (2)        δ_j^[l] = (Σ_k w_kj^[l+1] δ_k^[l+1]) · σ'(z_j^[l])
    (3), (4)   ∂L/∂b_j^[l] = δ_j^[l],   ∂L/∂w_jk^[l] = δ_j^[l] a_k^[l-1]   (averaged: 1/m Σ)
    update     w_jk ← w_jk − η ∂L/∂w_jk

Every gradient sits beside its central-difference estimate (float64,
h = 1e-5, one parameter of a copy of the network perturbed at a time) and
the relative error |g_num − g| / (|g_num| + |g|).

The arithmetic is done in float64 on a copy of the network, so the
network passed in is left untouched. The :class:`Trace` holds the numbers
as lists of dataclasses and renders as plain text (``str``), Markdown with
LaTeX math, JSON, and HTML for Jupyter. A network too wide to read number
by number (more than ``max_units`` units in a layer, or more than
``max_lines`` printed lines) is summarized per layer instead.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .layers import Dense
from .network import Network

#: The central-difference step of the numerical estimates.
STEP = 1e-5
#: Entries per tensor checked numerically when the trace is summarized.
SUMMARY_CHECKS = 20

_DERIVATIVE_FORMULAS = {
    "sigmoid": "a(1 − a)",
    "tanh": "1 − a²",
    "linear": "1",
    "relu": "1 if z > 0 else 0",
    "leaky_relu": "1 if z > 0 else slope",
}

_FUSED_NOTES = {
    "sigmoid": (
        "With a sigmoid output and binary cross-entropy, σ'(z) = a(1 − a) cancels against "
        "the loss's derivative ∂ℓ/∂a = (a − y) / (a(1 − a)), so δ^[L] = a − y."
    ),
    "softmax": (
        "With a softmax output and cross-entropy, the softmax Jacobian a_j([i = j] − a_i) "
        "cancels against the loss's derivative ∂ℓ/∂a_i = −y_i / a_i (the targets of a sample "
        "sum to 1), so δ^[L] = a − y."
    ),
}


# -- the numbers --------------------------------------------------------------
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


def _fmt(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def _round(value: float, digits: int) -> float:
    return float(_fmt(value, digits))


# -- notation: the same equations as plain text or LaTeX ---------------------
class _Notation:
    """Symbols and operators for plain text (``tex=False``) or LaTeX (``tex=True``)."""

    def __init__(self, tex: bool, digits: int) -> None:
        self.tex = tex
        self.digits = digits
        self.times = r" \cdot " if tex else "·"
        self.minus = " - " if tex else " − "
        self.sigma = r"\sigma" if tex else "σ"
        self.delta_sym = r"\delta" if tex else "δ"
        self.eta = r"\eta" if tex else "η"
        self.arrow = r" \leftarrow " if tex else " ← "
        self.sum = r"\sum" if tex else "Σ"

    def num(self, value: float) -> str:
        return _fmt(value, self.digits)

    def factor(self, value: float) -> str:
        """A number as a factor of a product: negatives in parentheses."""
        text = self.num(value)
        if text.startswith("-"):
            return rf"\left({text}\right)" if self.tex else f"({text})"
        return text

    def var(self, name: str, sub: str, layer: int | str | None = None) -> str:
        if name == "delta":
            name = self.delta_sym
        if self.tex:
            sup = "" if layer is None else f"^{{[{layer}]}}"
            return f"{name}_{{{sub}}}{sup}"
        sup = "" if layer is None else f"^[{layer}]"
        return f"{name}_{sub}{sup}"

    @staticmethod
    def pair(j: int, k: int) -> str:
        return f"{j}{k}" if j < 10 and k < 10 else f"{j},{k}"

    def partial(self, of: str) -> str:
        if self.tex:
            return rf"\frac{{\partial L}}{{\partial {of}}}"
        return f"∂L/∂{of}"

    def mean(self, terms: list[str]) -> str:
        inner = " + ".join(terms)
        if self.tex:
            return rf"\frac{{1}}{{{len(terms)}}}\left({inner}\right)"
        return f"1/{len(terms)} ({inner})"

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)" if self.tex else f"({text})"


# -- the trace ----------------------------------------------------------------
@dataclass
class Trace:
    """One training step, number by number; see :func:`explain`.

    Render with ``str(trace)`` / :meth:`to_text`, :meth:`to_markdown`,
    :meth:`to_json` / :meth:`as_dict`, or let Jupyter call ``_repr_html_``.
    """

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

    @property
    def m(self) -> int:
        """The number of samples."""
        return len(self.X)

    @property
    def max_relative_error(self) -> float:
        """The largest relative error between a gradient and its numerical estimate."""
        if self.gradients:
            return max(g.relative_error for g in self.gradients)
        return max((s.max_relative_error for s in self.summaries), default=0.0)

    # -- programs ---------------------------------------------------------
    def as_dict(self, digits: int | None = None) -> dict[str, Any]:
        """The numbers as plain Python data; ``digits`` rounds every float."""
        data = asdict(self)
        data["m"] = self.m
        data["max_relative_error"] = self.max_relative_error
        if digits is None:
            return data
        return _round_floats(data, digits)  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = 2) -> str:
        """JSON with every number to the trace's significant digits."""
        return json.dumps(self.as_dict(self.digits), indent=indent, ensure_ascii=False)

    # -- people -----------------------------------------------------------
    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        """Plain text, one equation a line."""
        return "\n".join(_render(self, tex=False))

    def to_markdown(self) -> str:
        """Markdown with LaTeX math ($...$ inline, $$...$$ blocks) for GitHub and Jupyter."""
        return "\n".join(_render(self, tex=True))

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return _render_html(self)


def _round_floats(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return _round(value, digits) if math.isfinite(value) else value
    if isinstance(value, list):
        return [_round_floats(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _round_floats(v, digits) for k, v in value.items()}
    return value


# -- computing ----------------------------------------------------------------
def _as_batch(net: Network, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) in float64 from one sample (1-D x) or a batch (2-D X)."""
    from .validation import as_numeric_array, check_inputs

    X = as_numeric_array(x, "x")
    if X.ndim <= 1 and X.size == net.n_inputs:
        X = X.reshape(1, -1)
    X = check_inputs(X, net.n_inputs, np.dtype(np.float64), name="x")
    targets = as_numeric_array(y, "y")
    if targets.ndim == 0:
        targets = targets.reshape(1)
    elif X.shape[0] == 1 and targets.ndim == 1 and targets.shape[0] == net.n_outputs > 1:
        targets = targets.reshape(1, -1)
    Y, _ = net.prepare_targets(targets, X.shape[0])
    return X, np.asarray(Y, dtype=np.float64)


def _loss_of(net: Network, Z: np.ndarray, A: np.ndarray, Y: np.ndarray) -> float:
    """The mean loss of a batch, as the network computes it."""
    if net.fused_output:
        return net.loss.value_from_logits(Z, Y)
    return net.loss.value(A, Y)


def _numeric_gradients(
    net: Network, X: np.ndarray, Y: np.ndarray, positions: list[int], step: float
) -> dict[int, float]:
    """Central differences (L(θ + h e_i) − L(θ − h e_i)) / 2h for positions i of params."""
    clone = net.copy(dtype="float64")
    estimates: dict[int, float] = {}

    def loss() -> float:
        clone.forward_batch(X, training=True)
        return clone.batch_loss(Y)

    for i in positions:
        original = clone.params[i]
        clone.params[i] = original + step
        plus = loss()
        clone.params[i] = original - step
        minus = loss()
        clone.params[i] = original
        estimates[i] = (plus - minus) / (2.0 * step)
    return estimates


def _relative_error(numeric: float, analytic: float) -> float:
    scale = abs(numeric) + abs(analytic)
    return 0.0 if scale == 0.0 else abs(numeric - analytic) / scale


def _estimated_lines(widths: list[int], m: int, bias: list[bool]) -> int:
    units = sum(widths[1:])
    params = sum(widths[i] * widths[i + 1] + (widths[i + 1] if bias[i] else 0)
                 for i in range(len(widths) - 1))
    per_gradient = 1 if m == 1 else 2
    return 30 + m * (3 * units + 2) + params * (per_gradient + 1)


def explain(
    net: Network,
    x: Any,
    y: Any,
    lr: float = 0.5,
    *,
    digits: int = 6,
    max_units: int = 8,
    max_lines: int = 200,
) -> Trace:
    """One step of plain gradient descent on (x, y), written out number by number.

    Arguments:
        net: the network (left untouched; the arithmetic uses a float64 copy).
        x: one sample, shape (n_inputs,), or a batch, (m, n_inputs).
        y: its target(s), as for :meth:`Network.gradients` (a number, a row,
            class labels or one-hot rows).
        lr: the learning rate η of the update w ← w − η ∂L/∂w.
        digits: significant digits of every printed number.
        max_units: a layer wider than this makes the trace a per-layer summary.
        max_lines: so does a trace that would print more lines than this.

    Returns:
        A :class:`Trace`: the numbers, renderable as text, Markdown, JSON, HTML.
    """
    if not isinstance(net, Network):
        raise TypeError(f"explain needs a Network, got {type(net).__name__}")
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating | np.integer):
        raise TypeError(f"lr must be a number, got {lr!r}")
    if not math.isfinite(float(lr)) or float(lr) <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"digits must be an integer from 1 to 17, got {digits!r}")
    lr = float(lr)
    dense: list[Dense] = []
    for index, layer in enumerate(net.layers):
        if not isinstance(layer, Dense):
            raise TypeError(f"explain handles Dense layers only; layer {index + 1} is "
                            f"{type(layer).__name__}")
        dense.append(layer)
    X, Y = _as_batch(net, x, y)
    m = X.shape[0]
    n_layers = len(dense)
    Ws = [np.asarray(layer.W, dtype=np.float64).copy() for layer in dense]
    bs = [None if layer.b is None else np.asarray(layer.b, dtype=np.float64).copy()
          for layer in dense]

    # forward: z^[l] = W^[l] a^[l-1] + b^[l]; with one sample per row, Z = A_prev Wᵀ + b
    As: list[np.ndarray] = [X]
    Zs: list[np.ndarray] = []
    for layer, W, b in zip(dense, Ws, bs, strict=True):
        Z = As[-1] @ W.T
        if b is not None:
            Z = Z + b
        Zs.append(Z)
        As.append(layer.activation.function(Z, out=np.empty_like(Z)))
    per_sample_loss = [
        _loss_of(net, Zs[-1][i : i + 1], As[-1][i : i + 1], Y[i : i + 1]) for i in range(m)
    ]
    loss_value = float(np.mean(per_sample_loss))

    # (1) the output error, then (2) backwards through the hidden layers
    output = dense[-1]
    fused = bool(net.fused_output)
    Ds: list[np.ndarray] = [np.empty(0)] * n_layers
    Gs: list[np.ndarray | None] = [None] * n_layers  # ∂ℓ/∂a, or Σ_k w_kj δ_k
    SPs: list[np.ndarray | None] = [None] * n_layers  # σ'(z) of elementwise layers
    Inner: list[np.ndarray | None] = [None] * n_layers  # Σ_i g_i a_i of softmax layers
    for index in range(n_layers - 1, -1, -1):
        layer = dense[index]
        Z, A = Zs[index], As[index + 1]
        if index == n_layers - 1 and fused:
            Ds[index] = A - Y  # (1), fused: δ^[L] = a^[L] − y
            continue
        if index == n_layers - 1:
            G = net.loss.gradient(A, Y, out=np.empty_like(A))  # ∂ℓ/∂a^[L]
        else:
            G = Ds[index + 1] @ Ws[index + 1]  # W^[l+1]ᵀ δ^[l+1], batched: Δ W
        Gs[index] = G
        if layer.activation.name == "softmax":
            inner = np.sum(G * A, axis=1, keepdims=True)
            Inner[index] = inner[:, 0]
            Ds[index] = A * (G - inner)
        else:
            sp = np.asarray(layer.activation.derivative(Z, A), dtype=np.float64)
            SPs[index] = sp
            Ds[index] = G * sp

    # (3), (4): the gradients of the mean loss, and the update
    dWs = [Ds[i].T @ As[i] / m for i in range(n_layers)]
    dbs = [None if bs[i] is None else Ds[i].mean(axis=0) for i in range(n_layers)]

    widths = [net.n_inputs] + [layer.n_out for layer in dense]
    reason = None
    if max(widths) > max_units:
        reason = (f"a layer has {max(widths)} units (more than {max_units}), so each layer "
                  f"is summarized rather than written out unit by unit")
    elif (lines := _estimated_lines(widths, m, [b is not None for b in bs])) > max_lines:
        reason = (f"written out unit by unit this step would take about {lines} lines "
                  f"(more than {max_lines}), so each layer is summarized")
    summarized = reason is not None

    # numerical estimates: every parameter, or a sample of each tensor when summarized
    positions: dict[tuple[int, str], list[int]] = {}
    rng = np.random.default_rng(0)
    for index, name, where in net.parameter_slices:
        entries = list(range(where.start, where.stop))
        if summarized and len(entries) > SUMMARY_CHECKS:
            entries = sorted(int(i) for i in rng.choice(entries, SUMMARY_CHECKS, replace=False))
        positions[(index, name)] = entries
    numeric = _numeric_gradients(
        net, X, Y, [i for entries in positions.values() for i in entries], STEP
    )
    slices = {(index, name): where for index, name, where in net.parameter_slices}

    def analytic_at(index: int, name: str, position: int) -> float:
        offset = position - slices[(index, name)].start
        if name == "W":
            return float(dWs[index].flat[offset])
        db = dbs[index]
        assert db is not None
        return float(db[offset])

    forward: list[ForwardUnit] = []
    deltas: list[Delta] = []
    gradients: list[Gradient] = []
    if not summarized:
        for i in range(m):
            for index, layer in enumerate(dense):
                b = bs[index]
                for j in range(layer.n_out):
                    forward.append(ForwardUnit(
                        sample=i + 1, layer=index + 1, unit=j + 1,
                        weights=[float(w) for w in Ws[index][j]],
                        inputs=[float(a) for a in As[index][i]],
                        bias=None if b is None else float(b[j]),
                        z=float(Zs[index][i, j]), a=float(As[index + 1][i, j]),
                    ))
            for index in range(n_layers - 1, -1, -1):
                last = index == n_layers - 1
                for j in range(dense[index].n_out):
                    up, slope, inner = Gs[index], SPs[index], Inner[index]
                    deltas.append(Delta(
                        sample=i + 1, layer=index + 1, unit=j + 1,
                        kind="fused" if last and fused else "output" if last else "hidden",
                        z=float(Zs[index][i, j]), a=float(As[index + 1][i, j]),
                        target=float(Y[i, j]) if last else None,
                        upstream=None if up is None else float(up[i, j]),
                        weights=[] if last else [float(w) for w in Ws[index + 1][:, j]],
                        deltas_above=[] if last else [float(d) for d in Ds[index + 1][i]],
                        sigma_prime=None if slope is None else float(slope[i, j]),
                        softmax_inner=None if inner is None else float(inner[i]),
                        delta=float(Ds[index][i, j]),
                    ))
        for index, name, where in net.parameter_slices:
            layer = dense[index]
            for offset, position in enumerate(range(where.start, where.stop)):
                if name == "W":
                    j, k = divmod(offset, layer.n_in)
                    per_inputs = [float(a) for a in As[index][:, k]]
                    old = float(Ws[index][j, k])
                else:
                    j, k = offset, -1
                    per_inputs = []
                    b = bs[index]
                    assert b is not None
                    old = float(b[j])
                per_deltas = [float(d) for d in Ds[index][:, j]]
                per_sample = ([d * a for d, a in zip(per_deltas, per_inputs, strict=True)]
                              if name == "W" else list(per_deltas))
                value = analytic_at(index, name, position)
                gradients.append(Gradient(
                    layer=index + 1, name=name.lower(), unit=j + 1,
                    input=None if name == "b" else k + 1,
                    deltas=per_deltas, inputs=per_inputs, per_sample=per_sample,
                    value=value, numeric=numeric[position],
                    relative_error=_relative_error(numeric[position], value),
                    old=old, new=old - lr * value,
                ))

    summaries: list[LayerSummary] = []
    for index, layer in enumerate(dense):
        checked = [
            _relative_error(numeric[p], analytic_at(index, name, p))
            for name in ("W", "b") if (index, name) in positions
            for p in positions[(index, name)]
        ]
        db = dbs[index]
        summaries.append(LayerSummary(
            layer=index + 1, n_in=layer.n_in, n_out=layer.n_out,
            activation=layer.activation.name,
            z_min=float(Zs[index].min()), z_max=float(Zs[index].max()),
            a_min=float(As[index + 1].min()), a_max=float(As[index + 1].max()),
            delta_min=float(Ds[index].min()), delta_max=float(Ds[index].max()),
            delta_norm=float(np.linalg.norm(Ds[index])),
            weight_norm=float(np.linalg.norm(Ws[index])),
            grad_w_norm=float(np.linalg.norm(dWs[index])),
            grad_b_norm=None if db is None else float(np.linalg.norm(db)),
            update_norm=lr * float(np.sqrt(np.linalg.norm(dWs[index]) ** 2
                                           + (0.0 if db is None else np.linalg.norm(db) ** 2))),
            max_relative_error=max(checked, default=0.0),
            checked=len(checked),
        ))

    return Trace(
        layers=[LayerInfo(i + 1, layer.n_in, layer.n_out, layer.activation.name,
                          layer.b is not None) for i, layer in enumerate(dense)],
        loss=net.loss.name, lr=lr,
        X=[[float(v) for v in row] for row in X], Y=[[float(v) for v in row] for row in Y],
        fused=fused, fused_note=_FUSED_NOTES.get(output.activation.name) if fused else None,
        forward=forward, losses=[
            SampleLoss(i + 1, [float(a) for a in As[-1][i]], [float(t) for t in Y[i]],
                       float(per_sample_loss[i])) for i in range(m)],
        loss_value=loss_value, deltas=deltas, gradients=gradients, summaries=summaries,
        summarized=summarized, summary_reason=reason, digits=digits, step=STEP,
    )


# -- rendering: text and Markdown share one walk -----------------------------
def _render(trace: Trace, tex: bool) -> list[str]:
    n = _Notation(tex, trace.digits)
    out: list[str] = []

    def heading(text: str) -> None:
        if tex:
            out.extend(["", f"### {text}", ""])
        else:
            out.extend(["", text])

    def block(formula: str) -> None:
        """A general formula: a $$ block in Markdown, an indented line in text."""
        if tex:
            out.extend(["$$", formula, "$$", ""])
        else:
            out.append(f"    {formula}")

    def line(formula: str, after: str = "") -> None:
        if tex:
            out.append(f"- ${formula}${after}")
        else:
            out.append(f"  {formula}{after}")

    def prose(text: str) -> None:
        out.append(text if tex else f"  {text}")

    widths = [trace.layers[0].n_in] + [info.n_out for info in trace.layers]
    acts = " → ".join(info.activation for info in trace.layers)
    samples = "1 sample" if trace.m == 1 else f"a batch of {trace.m} samples"
    title = (f"One training step of a {'-'.join(map(str, widths))} network ({acts}), "
             f"loss {trace.loss}, plain gradient descent with learning rate "
             f"{n.num(trace.lr)}, on {samples}")
    out.append(f"## {title}" if tex else title)
    out.append("")
    out.append(f"Computed in float64; numbers to {trace.digits} significant digits. "
               f"The loss L is the mean over the batch of the per-sample loss ℓ.")
    if trace.summarized:
        out.append("")
        out.append(f"This network is too large to write out number by number: "
                   f"{trace.summary_reason}.")
        _render_summary(trace, n, out, heading)
        return out

    x_ = n.var("x", "k")
    # forward
    heading("Forward pass")
    if tex:
        block(r"z_{j}^{[l]} = \sum_{k} w_{jk}^{[l]} a_{k}^{[l-1]} + b_{j}^{[l]}, \qquad "
              r"a_{j}^{[l]} = \sigma\left(z_{j}^{[l]}\right), \qquad a_{k}^{[0]} = x_{k}")
    else:
        block("z_j^[l] = Σ_k w_jk^[l] a_k^[l-1] + b_j^[l],   a_j^[l] = σ(z_j^[l]),   "
              f"a_k^[0] = {x_}")
    for s in range(1, trace.m + 1):
        if trace.m > 1:
            heading(f"Sample {s}") if tex else out.append(f" sample {s}:")
        xs = ", ".join(n.num(v) for v in trace.X[s - 1])
        ys = ", ".join(n.num(v) for v in trace.Y[s - 1])
        line(f"x = {n.paren(xs)}", "")
        line(f"y = {n.paren(ys)}", "")
        for unit in (u for u in trace.forward if u.sample == s):
            terms = [f"{n.factor(w)}{n.times}{n.factor(a)}"
                     for w, a in zip(unit.weights, unit.inputs, strict=True)]
            if unit.bias is not None:
                terms.append(n.factor(unit.bias))
            z = n.var("z", str(unit.unit), unit.layer)
            a = n.var("a", str(unit.unit), unit.layer)
            line(f"{z} = {' + '.join(terms)} = {n.num(unit.z)}")
            act = trace.layers[unit.layer - 1].activation
            if act == "softmax":
                sigma = (rf"\mathrm{{softmax}}\left(z^{{[{unit.layer}]}}\right)_{{{unit.unit}}}"
                         if tex else f"softmax(z^[{unit.layer}])_{unit.unit}")
            else:
                name = (rf"\mathrm{{{act.replace('_', '')}}}" if tex and act != "sigmoid"
                        else n.sigma if act == "sigmoid" else act)
                sigma = f"{name}{n.paren(z)}"
            line(f"{a} = {sigma} = {n.num(unit.a)}")

    # loss
    heading(f"Loss ({trace.loss})")
    block(_loss_formula(trace.loss, tex))
    for sample in trace.losses:
        ell = r"\ell" if tex else "ℓ"
        label = f"{ell}_{{{sample.sample}}}" if tex else f"ℓ_{sample.sample}"
        if trace.m == 1:
            label = ell
        detail = ""
        if trace.loss == "mse":
            squares = " + ".join(
                f"{n.paren(f'{n.num(a)}{n.minus}{n.factor(t)}')}^2" if tex else
                f"({n.num(a)}{n.minus}{n.factor(t)})²"
                for a, t in zip(sample.outputs, sample.targets, strict=True))
            half = r"\frac{1}{2}" if tex else "½"
            detail = f"{half}{n.paren(squares) if len(sample.outputs) > 1 else squares} = "
        line(f"{label} = {detail}{n.num(sample.value)}")
    if trace.m > 1:
        terms = [n.num(s.value) for s in trace.losses]
        line(f"L = {n.mean(terms)} = {n.num(trace.loss_value)}")
    else:
        line(f"L = {n.num(trace.loss_value)}")

    # (1) output error
    output_act = trace.layers[-1].activation
    heading("Output error, equation (1)")
    if trace.fused:
        block(r"\delta_{j}^{[L]} = a_{j}^{[L]} - y_{j}" if tex else "δ_j^[L] = a_j^[L] − y_j")
        assert trace.fused_note is not None
        prose(f"Note: {trace.fused_note}")
    elif output_act == "softmax":
        block(r"\delta_{j}^{[L]} = a_{j}^{[L]}\left(g_{j} - \sum_{i} g_{i} a_{i}^{[L]}\right), "
              r"\quad g_{j} = \frac{\partial \ell}{\partial a_{j}^{[L]}}" if tex else
              "δ_j^[L] = a_j^[L] (g_j − Σ_i g_i a_i^[L]),   g_j = ∂ℓ/∂a_j^[L]   "
              "(the softmax Jacobian is not diagonal)")
    else:
        block(r"\delta_{j}^{[L]} = \frac{\partial \ell}{\partial a_{j}^{[L]}} \cdot "
              r"\sigma'\left(z_{j}^{[L]}\right)" if tex else
              "δ_j^[L] = ∂ℓ/∂a_j^[L] · σ'(z_j^[L])")
        prose(_derivative_note(output_act, tex))
    _render_deltas(trace, n, out, line, heading, hidden=False)

    # (2) hidden errors
    if len(trace.layers) > 1:
        heading("Hidden errors, equation (2), with the weights from before the update")
        block(r"\delta_{j}^{[l]} = \left(\sum_{k} w_{kj}^{[l+1]} \delta_{k}^{[l+1]}\right) "
              r"\cdot \sigma'\left(z_{j}^{[l]}\right)" if tex else
              "δ_j^[l] = (Σ_k w_kj^[l+1] δ_k^[l+1]) · σ'(z_j^[l])")
        for act in sorted({info.activation for info in trace.layers[:-1]}):
            prose(_derivative_note(act, tex))
        _render_deltas(trace, n, out, line, heading, hidden=True)

    # (3), (4) gradients
    heading("Gradients, equations (3) and (4)")
    mean = "" if trace.m == 1 else (r"\frac{1}{m}\sum_{i=1}^{m} " if tex else "1/m Σ_i ")
    block(rf"\frac{{\partial L}}{{\partial w_{{jk}}^{{[l]}}}} = {mean}\delta_{{j}}^{{[l]}} "
          rf"a_{{k}}^{{[l-1]}}, \qquad \frac{{\partial L}}{{\partial b_{{j}}^{{[l]}}}} = "
          rf"{mean}\delta_{{j}}^{{[l]}}" if tex else
          f"∂L/∂w_jk^[l] = {mean}δ_j^[l] a_k^[l-1],   ∂L/∂b_j^[l] = {mean}δ_j^[l]")
    prose(f"Beside each gradient: its central-difference estimate (L(θ + h) − L(θ − h)) / 2h "
          f"with h = {n.num(trace.step)}, and the relative error |g_num − g| / (|g_num| + |g|).")
    for g in trace.gradients:
        out.append(_gradient_line(g, trace, n))

    # update
    heading("Update: gradient descent with the weights from before the update")
    block(rf"w \leftarrow w - \eta \frac{{\partial L}}{{\partial w}}, \qquad \eta = "
          rf"{n.num(trace.lr)}" if tex else f"w ← w − η ∂L/∂w,   η = {n.num(trace.lr)}")
    for g in trace.gradients:
        sym = _param_symbol(g, n)
        line(f"{sym}{n.arrow}{n.num(g.old)}{n.minus}{n.num(trace.lr)}{n.times}"
             f"{n.factor(g.value)} = {n.num(g.new)}")
    heading("Per layer")
    _summary_table(trace, n, out)
    out.append("")
    out.append(f"Largest relative error between backpropagation and central differences: "
               f"{n.num(trace.max_relative_error)}.")
    return out


def _loss_formula(loss: str, tex: bool) -> str:
    if tex:
        per_sample = {
            "mse": r"\ell = \frac{1}{2}\sum_{k} \left(a_{k}^{[L]} - y_{k}\right)^2",
            "binary_cross_entropy": r"\ell = -\sum_{k} \left[y_{k} \log a_{k}^{[L]} + "
                                    r"\left(1 - y_{k}\right) \log\left(1 - a_{k}^{[L]}\right)"
                                    r"\right]",
            "cross_entropy": r"\ell = -\sum_{k} y_{k} \log a_{k}^{[L]}",
        }.get(loss, rf"\ell = \mathrm{{{loss.replace('_', ' ')}}}\left(a^{{[L]}}, y\right)")
        return per_sample + r", \qquad L = \frac{1}{m}\sum_{i=1}^{m} \ell_{i}"
    per_sample = {
        "mse": "ℓ = ½ Σ_k (a_k^[L] − y_k)²",
        "binary_cross_entropy": "ℓ = −Σ_k [y_k log a_k^[L] + (1 − y_k) log(1 − a_k^[L])]",
        "cross_entropy": "ℓ = −Σ_k y_k log a_k^[L]",
    }.get(loss, f"ℓ = {loss}(a^[L], y)")
    return per_sample + ",   L = 1/m Σ_i ℓ_i"


def _derivative_note(activation: str, tex: bool) -> str:
    formula = _DERIVATIVE_FORMULAS.get(activation)
    if activation == "softmax":
        if tex:
            return (r"For softmax, whose Jacobian is not diagonal: $\delta_{j} = a_{j}\left("
                    r"g_{j} - \sum_{i} g_{i} a_{i}\right)$ with $g$ the bracket above.")
        return ("For softmax, whose Jacobian is not diagonal: δ_j = a_j (g_j − Σ_i g_i a_i) "
                "with g the bracket above.")
    if formula is None:
        return f"For {activation}, σ' is the layer's derivative."
    if tex:
        formula = (formula.replace("a²", "a^2").replace("−", "-")
                   .replace("1 if z > 0 else 0", r"[z > 0]")
                   .replace("1 if z > 0 else slope", r"1 \text{ if } z > 0 "
                            r"\text{ else the slope}"))
        return f"For {activation.replace('_', ' ')}: $\\sigma'(z) = {formula}$."
    return f"For {activation}: σ'(z) = {formula}."


def _render_deltas(trace: Trace, n: _Notation, out: list[str], line: Any, heading: Any,
                   hidden: bool) -> None:
    L = trace.layers[-1].layer
    chosen = [d for d in trace.deltas if (d.layer < L) == hidden]
    for s in range(1, trace.m + 1):
        if trace.m > 1:
            out.append(f"- sample {s}:" if n.tex else f" sample {s}:")
        for d in (d for d in chosen if d.sample == s):
            out_var = n.var("delta", str(d.unit), d.layer)
            a = n.var("a", str(d.unit), d.layer)
            z = n.var("z", str(d.unit), d.layer)
            y = n.var("y", str(d.unit))
            if d.kind == "fused":
                assert d.target is not None
                line(f"{out_var} = {a}{n.minus}{y} = {n.num(d.a)}{n.minus}{n.factor(d.target)}"
                     f" = {n.num(d.delta)}")
                continue
            if d.kind == "output":
                assert d.target is not None and d.upstream is not None
                if trace.loss == "mse":
                    g_sym = n.paren(f"{a}{n.minus}{y}")
                    g_num = n.paren(f"{n.num(d.a)}{n.minus}{n.factor(d.target)}")
                else:
                    g_sym = (rf"\frac{{\partial \ell}}{{\partial {a}}}" if n.tex
                             else f"∂ℓ/∂{a}")
                    g_num = n.factor(d.upstream)
            else:
                sums = [f"{n.factor(w)}{n.times}{n.factor(dk)}"
                        for w, dk in zip(d.weights, d.deltas_above, strict=True)]
                k_sym = (rf"{n.sum}_{{k}} w_{{k{d.unit}}}^{{[{d.layer + 1}]}} "
                         rf"\delta_{{k}}^{{[{d.layer + 1}]}}" if n.tex else
                         f"Σ_k w_k{d.unit}^[{d.layer + 1}] δ_k^[{d.layer + 1}]")
                g_sym = n.paren(k_sym)
                g_num = n.paren(" + ".join(sums))
            if d.softmax_inner is not None:
                assert d.upstream is not None
                g_j = n.var("g", str(d.unit))
                inner = (r"\sum_{i} g_{i} a_{i}" if n.tex else "Σ_i g_i a_i")
                line(f"{g_j} = {g_sym} = {g_num} = {n.num(d.upstream)}")
                line(f"{out_var} = {a}{n.paren(f'{g_j}{n.minus}{inner}')} = {n.num(d.a)}"
                     f"{n.times}{n.paren(f'{n.num(d.upstream)}{n.minus}{n.factor(d.softmax_inner)}')}"
                     f" = {n.num(d.delta)}")
                continue
            assert d.sigma_prime is not None
            sp = (rf"\sigma'\left({z}\right)" if n.tex else f"σ'({z})")
            assert d.upstream is not None
            product = f"{g_num}{n.times}{n.factor(d.sigma_prime)}"
            if g_num != n.factor(d.upstream):
                product += f" = {n.factor(d.upstream)}{n.times}{n.factor(d.sigma_prime)}"
            line(f"{out_var} = {g_sym}{n.times}{sp} = {product} = {n.num(d.delta)}")


def _param_symbol(g: Gradient, n: _Notation) -> str:
    if g.name == "w":
        assert g.input is not None
        return n.var("w", n.pair(g.unit, g.input), g.layer)
    return n.var("b", str(g.unit), g.layer)


def _gradient_line(g: Gradient, trace: Trace, n: _Notation) -> str:
    sym = _param_symbol(g, n)
    delta = n.var("delta", str(g.unit), g.layer)
    if g.name == "w":
        assert g.input is not None
        a = n.var("a", str(g.input), g.layer - 1)
        symbolic = f"{delta} {a}"
        products = [f"{n.factor(d)}{n.times}{n.factor(x)}"
                    for d, x in zip(g.deltas, g.inputs, strict=True)]
    else:
        symbolic = delta
        products = [n.factor(d) for d in g.deltas]
    if trace.m == 1:
        body = f"{symbolic} = {products[0]}" if g.name == "w" else symbolic
    else:
        mean = r"\frac{1}{m}\sum_{i} " if n.tex else "1/m Σ_i "
        body = f"{mean}{symbolic} = {n.mean(products)}"
        if g.name == "w":
            body += f" = {n.mean([n.factor(p) for p in g.per_sample])}"
    formula = f"{n.partial(sym)} = {body} = {n.num(g.value)}"
    check = (f"numeric {n.num(g.numeric)}, relative error {n.num(g.relative_error)}")
    if n.tex:
        return f"- ${formula}$ — {check}"
    return f"  {formula}    ({check})"


def _summary_rows(trace: Trace) -> tuple[list[str], list[list[str]]]:
    header = ["layer", "units", "σ", "z min", "z max", "a min", "a max", "δ min", "δ max",
              "‖δ‖", "‖W‖", "‖∂L/∂W‖", "‖∂L/∂b‖", "‖update‖", "max rel. error", "checked"]
    d = trace.digits
    rows = []
    for s in trace.summaries:
        rows.append([
            str(s.layer), f"{s.n_in}→{s.n_out}", s.activation,
            *(_fmt(v, d) for v in (s.z_min, s.z_max, s.a_min, s.a_max, s.delta_min,
                                   s.delta_max, s.delta_norm, s.weight_norm, s.grad_w_norm)),
            "—" if s.grad_b_norm is None else _fmt(s.grad_b_norm, d),
            _fmt(s.update_norm, d), _fmt(s.max_relative_error, d), str(s.checked),
        ])
    return header, rows


def _render_summary(trace: Trace, n: _Notation, out: list[str], heading: Any) -> None:
    heading("Loss")
    out.append(f"L = {n.num(trace.loss_value)} ({trace.loss}, mean over {trace.m} "
               f"sample{'s' if trace.m > 1 else ''})")
    if trace.fused_note:
        out.append("")
        out.append(f"Note: {trace.fused_note}")
    heading("Per layer")
    _summary_table(trace, n, out)
    out.append(f"The numerical check (h = {n.num(trace.step)}) covers up to {SUMMARY_CHECKS} "
               f"entries per tensor.")
    out.append(f"Largest relative error between backpropagation and central differences: "
               f"{n.num(trace.max_relative_error)}.")


def _summary_table(trace: Trace, n: _Notation, out: list[str]) -> None:
    header, rows = _summary_rows(trace)
    if n.tex:
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        out.extend("| " + " | ".join(row) + " |" for row in rows)
    else:
        widths = [max(len(header[c]), *(len(r[c]) for r in rows)) for c in range(len(header))]
        out.append("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
        out.extend("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True))
                   for row in rows)
    out.append("")
    out.append(f"Norms are Euclidean over the layer (and the batch for δ); ‖update‖ = η ‖∇‖ "
               f"with η = {n.num(trace.lr)}.")


# -- HTML for Jupyter ---------------------------------------------------------
def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _render_html(trace: Trace) -> str:
    text = _render(trace, tex=False)
    f = _Notation(False, trace.digits)
    parts = [f"<div class='backprop-explain'><p><b>{html.escape(text[0])}</b></p>",
             f"<p>{html.escape(text[2])}</p>"]
    if trace.summarized:
        parts.append(f"<p>This network is too large to write out number by number: "
                     f"{html.escape(trace.summary_reason or '')}.</p>")
        parts.append(f"<p>Loss L = {f.num(trace.loss_value)} ({html.escape(trace.loss)})</p>")
        parts.append(_table(*_summary_rows(trace)))
        parts.append("</div>")
        return "".join(parts)
    rows = []
    for u in trace.forward:
        terms = [f"{f.factor(w)}·{f.factor(a)}" for w, a in zip(u.weights, u.inputs, strict=True)]
        if u.bias is not None:
            terms.append(f.factor(u.bias))
        rows.append([str(u.sample), str(u.layer), str(u.unit), " + ".join(terms), f.num(u.z),
                     f.num(u.a)])
    parts.append("<h4>Forward pass: z = Σ w·a + b, a = σ(z)</h4>")
    parts.append(_table(["sample", "layer", "unit", "Σ_k w_jk a_k (+ b_j)", "z", "a"], rows))
    parts.append(f"<h4>Loss ({html.escape(trace.loss)})</h4>")
    parts.append(_table(["sample", "ℓ"], [[str(s.sample), f.num(s.value)]
                                          for s in trace.losses]
                        + [["mean L", f.num(trace.loss_value)]]))
    parts.append("<h4>Errors δ, equations (1) and (2)</h4>")
    if trace.fused_note:
        parts.append(f"<p>Note: {html.escape(trace.fused_note)}</p>")
    parts.append(_table(
        ["sample", "layer", "unit", "kind", "∂ℓ/∂a or Σ w δ", "σ'(z)", "δ"],
        [[str(d.sample), str(d.layer), str(d.unit), d.kind,
          "" if d.upstream is None else f.num(d.upstream),
          "" if d.sigma_prime is None else f.num(d.sigma_prime), f.num(d.delta)]
         for d in trace.deltas]))
    parts.append(f"<h4>Gradients (3), (4) and the update, η = {f.num(trace.lr)}</h4>")
    parts.append(_table(
        ["parameter", "per sample", "∂L/∂θ", "numeric", "rel. error", "old", "new"],
        [[_param_symbol(g, f), ", ".join(f.num(p) for p in g.per_sample), f.num(g.value),
          f.num(g.numeric), f.num(g.relative_error), f.num(g.old), f.num(g.new)]
         for g in trace.gradients]))
    parts.append("</div>")
    return "".join(parts)
