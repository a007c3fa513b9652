"""What the diagnostics mean: a one-paragraph reading of :class:`Diagnostics` records.

    diag = bp.Diagnostics(every=10)
    history = net.fit(X, y, epochs=5, optimizer=bp.SGD(0.1), callbacks=[diag])
    reading = bp.read_diagnostics(diag.records, losses=history["loss"])
    print(reading)              # the paragraph, naming layers and numbers
    "vanishing" in reading      # True when that finding was made
    reading.findings            # Finding(kind, layers, value, text), in the order below
    reading.verdict             # "vanishing, saturated", or "healthy"

Layers are numbered l = 1..L over the Dense layers, as in the equations
(W^[1] is the first weight matrix, W^[L] the output layer's); the records'
own "layer" is the index in ``net.layers``. A statistic "over training" is
taken over the recorded batches. The findings, and the thresholds (module
constants) that make them:

    vanishing   the first layer's gradient is far below the last layer's: the
                median over recorded batches of ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖ is at
                most 1 / VANISHING_RATIO (100× below). The text also names every
                layer whose median gradient norm is 100× below the last layer's.
    exploding   any of: a gradient or weight norm is NaN or inf, or training
                diverged (``diverged=`` the error); the first layer's gradient
                EXPLODING_RATIO (100) times above the last layer's (median); the
                whole gradient's norm √(Σ_l ‖∂L/∂W^[l]‖²) grew EXPLODING_GROWTH
                (100) times over training (median of the last quarter of the
                records over the median of the first quarter); a gradient norm
                above EXPLODING_NORM (1e3).
    dead        a hidden ReLU-type layer whose dead fraction (units with z ≤ 0
                for the whole batch), averaged over the second half of
                training, exceeds DEAD_FRACTION (50 %).
    saturated   a hidden sigmoid or tanh layer whose saturated fraction (σ'
                below 1 % of its maximum), averaged over the second half of
                training, exceeds SATURATED_FRACTION (50 %). The output layer
                is left out of both: a saturated output unit trained with its
                canonical loss is a confident one, not a stuck one.
    lr_high     the learning rate looks too high: some layer's median
                update/weight ratio ‖ΔW‖/‖W‖ is above UPDATE_RATIO_HIGH (0.1,
                ten times the upper end of the usual band 1e-4..1e-2), or the
                loss rose: the last loss above (1 + LOSS_RISE) = 1.1 times the
                first.
    lr_low      the learning rate looks too low: every layer's median
                update/weight ratio is below UPDATE_RATIO_LOW (1e-5, ten times
                below the lower end of the band) and, when losses are given,
                the loss is flat: it moved by at most LOSS_FLAT (1 %) of the
                first loss.

The learning-rate findings are read only when the gradients neither vanish
nor explode: then the update ratios say more about the gradients than about
the learning rate (a vanishing network's upper layers move fast and its
lower layers not at all, whatever the learning rate).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Vanishing: the first layer's ‖∂L/∂W‖ at least this many times below the last layer's.
VANISHING_RATIO = 100.0
#: Exploding across depth: the first layer's ‖∂L/∂W‖ this many times above the last's.
EXPLODING_RATIO = 100.0
#: Exploding over time: a layer's gradient norm growing by this factor over training.
EXPLODING_GROWTH = 100.0
#: Exploding: any ‖∂L/∂W‖ above this (the loss is a mean over the batch, so
#: gradient norms are usually well below 10).
EXPLODING_NORM = 1e3
#: Dead ReLUs: more than this fraction of a hidden layer's units dead.
DEAD_FRACTION = 0.5
#: Saturation: more than this fraction of a hidden layer's (sample, unit) pairs saturated.
SATURATED_FRACTION = 0.5
#: Learning rate too high: a layer's median ‖ΔW‖/‖W‖ per step above this.
UPDATE_RATIO_HIGH = 0.1
#: Learning rate too low: every layer's median ‖ΔW‖/‖W‖ per step below this.
UPDATE_RATIO_LOW = 1e-5
#: Loss rising: the last loss above (1 + LOSS_RISE) times the first.
LOSS_RISE = 0.1
#: Loss flat: the last loss within LOSS_FLAT (relative) of the first.
LOSS_FLAT = 0.01

#: (name, value, what crossing it means): the table that the report and README show.
THRESHOLDS: tuple[tuple[str, float, str], ...] = (
    ("VANISHING_RATIO", VANISHING_RATIO,
     "vanishing: median ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖ at most 1/100"),
    ("EXPLODING_RATIO", EXPLODING_RATIO,
     "exploding: median ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖ at least 100"),
    ("EXPLODING_GROWTH", EXPLODING_GROWTH,
     "exploding: the whole gradient's norm grows 100× over training"),
    ("EXPLODING_NORM", EXPLODING_NORM, "exploding: a gradient norm above 1e3 (or NaN, inf)"),
    ("DEAD_FRACTION", DEAD_FRACTION,
     "dead ReLUs: more than half a hidden layer's units dead (second half of training)"),
    ("SATURATED_FRACTION", SATURATED_FRACTION,
     "saturation: more than half a hidden sigmoid/tanh layer saturated (second half)"),
    ("UPDATE_RATIO_HIGH", UPDATE_RATIO_HIGH,
     "learning rate too high: a layer's median ‖ΔW‖/‖W‖ above 0.1 (or the loss rose)"),
    ("UPDATE_RATIO_LOW", UPDATE_RATIO_LOW,
     "learning rate too low: every layer's median ‖ΔW‖/‖W‖ below 1e-5, loss flat"),
    ("LOSS_RISE", LOSS_RISE, "loss rising: last loss above 1.1 × the first"),
    ("LOSS_FLAT", LOSS_FLAT, "loss flat: last loss within 1 % of the first"),
)

#: The kinds of finding, in the order they are read and reported.
KINDS: tuple[str, ...] = ("vanishing", "exploding", "dead", "saturated", "lr_high", "lr_low")


@dataclass(frozen=True)
class Finding:
    """One thing the numbers say.

    Attributes:
        kind: one of :data:`KINDS`.
        layers: the layers it concerns, numbered 1..L over the Dense layers.
        value: the number that crossed its threshold (a ratio, a fraction).
        text: one or two sentences naming the layers and the numbers.
    """

    kind: str
    layers: tuple[int, ...]
    value: float
    text: str


@dataclass(frozen=True)
class Reading:
    """The findings, the statistics they came from, and the paragraph.

    ``kind in reading`` tells whether a finding of that kind was made.
    ``stats`` holds "first_last_ratio" (median ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖),
    "update_ratio_min"/"update_ratio_max" (the smallest and largest per-layer
    median ‖ΔW‖/‖W‖), "dead_max", "saturated_max" (the largest hidden-layer
    fractions over the second half), "loss_first", "loss_last" (NaN where
    they do not apply) and "records" (recorded batches). ``layers`` holds,
    per Dense layer l = 1..L, the numbers the findings compare: "layer",
    "grad_norm_W" and "update_ratio" (medians over training),
    "dead_fraction" and "saturated_fraction" (means over its second half).
    """

    findings: tuple[Finding, ...]
    stats: dict[str, float] = field(default_factory=dict)
    paragraph: str = ""
    layers: tuple[dict[str, float], ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(finding.kind for finding in self.findings)

    @property
    def verdict(self) -> str:
        """The kinds found, comma-separated, or "healthy"."""
        return ", ".join(self.kinds) or "healthy"

    def __contains__(self, kind: object) -> bool:
        return kind in self.kinds

    def __str__(self) -> str:
        return self.paragraph

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: verdict, paragraph, findings and stats (NaN and inf as None)."""
        return {
            "verdict": self.verdict,
            "paragraph": self.paragraph,
            "findings": [
                {"kind": f.kind, "layers": list(f.layers), "value": _finite_or_none(f.value),
                 "text": f.text}
                for f in self.findings
            ],
            "stats": {key: _finite_or_none(value) for key, value in self.stats.items()},
            "layers": [{key: _finite_or_none(value) for key, value in row.items()}
                       for row in self.layers],
        }


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


# -- numbers in words ------------------------------------------------------------
def number(value: float, digits: int = 2) -> str:
    """1.2e16, 3.4e-6, 0.063, 25: short, and without the exponent's + and leading 0."""
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf" if value < 0 else "NaN"
    if value != 0 and 1e-3 <= abs(value) < 1e4:
        rounded = round(value, digits - 1 - math.floor(math.log10(abs(value))))
        return f"{rounded:.{max(digits, 5)}g}"  # 100, not 1e+02
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def percent(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def layer_list(layers: Iterable[int]) -> str:
    """[1, 2, 3, 5] → "layers 1–3 and 5"; [4] → "layer 4"."""
    values = sorted(set(layers))
    runs: list[str] = []
    start = previous = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == previous + 1:
            previous = value
            continue
        runs.append(str(start) if start == previous else f"{start}–{previous}")
        if value is not None:
            start = previous = value
    if len(values) == 1:
        return f"layer {runs[0]}"
    joined = runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " and " + runs[-1]
    return f"layers {joined}"


# -- the records as arrays --------------------------------------------------------
def _value(record: Mapping[str, Any], key: str) -> float:
    value = record.get(key)
    return math.nan if value is None else float(value)


@dataclass
class _Layer:
    """One Dense layer's records over time, in step order."""

    number: int  # l, 1-based over the Dense layers
    grad: np.ndarray
    update: np.ndarray
    dead: np.ndarray
    saturated: np.ndarray
    weight: np.ndarray


def _layers(records: Sequence[Mapping[str, Any]]) -> list[_Layer]:
    by_layer: dict[int, list[Mapping[str, Any]]] = {}
    for record in records:
        by_layer.setdefault(int(record["layer"]), []).append(record)
    out = []
    for number_, index in enumerate(sorted(by_layer), start=1):
        rows = sorted(by_layer[index], key=lambda r: int(r.get("step", 0)))

        def column(key: str, rows: list[Mapping[str, Any]] = rows) -> np.ndarray:
            return np.array([_value(r, key) for r in rows], dtype=np.float64)

        out.append(_Layer(number_, column("grad_norm_W"), column("update_ratio"),
                          column("dead_fraction"), column("saturated_fraction"),
                          column("weight_norm")))
    return out


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else math.nan


def _late_mean(values: np.ndarray) -> float:
    """The mean over the second half of training (all of it for one record)."""
    late = values[values.size // 2:]
    late = late[~np.isnan(late)]
    return float(late.mean()) if late.size else math.nan


def _ratio(a: float, b: float) -> float:
    """a / b, with 0/0 NaN and x/0 inf."""
    if b == 0:
        return math.nan if a == 0 else math.inf
    return a / b


# -- the findings ------------------------------------------------------------------
def _depth_ratio(layers: list[_Layer]) -> float:
    """Median over recorded batches of ‖∂L/∂W^[1]‖ / ‖∂L/∂W^[L]‖."""
    first, last = layers[0].grad, layers[-1].grad
    n = min(first.size, last.size)
    ratios = np.array([_ratio(float(a), float(b)) for a, b in zip(first[:n], last[:n],
                                                                  strict=True)])
    finite_or_inf = ratios[~np.isnan(ratios)]
    return float(np.median(finite_or_inf)) if finite_or_inf.size else math.nan


def _vanishing(layers: list[_Layer], ratio: float) -> Finding | None:
    if len(layers) < 2 or not ratio <= 1.0 / VANISHING_RATIO:
        return None
    last = layers[-1]
    last_median = _median(last.grad)
    low = [layer.number for layer in layers[:-1]
           if _median(layer.grad) <= last_median / VANISHING_RATIO]
    first = layers[0]
    times = number(1.0 / ratio) if ratio > 0 else "infinitely many"
    text = (
        f"Gradients vanish: layer 1's ‖∂L/∂W‖ is {times} times below layer "
        f"{last.number}'s (median over {first.grad.size} recorded batches; "
        f"{number(_median(first.grad))} against {number(last_median)})"
    )
    if low:
        text += f", and {layer_list(low)} are all {number(VANISHING_RATIO)}× or more below it"
    text += (", so the early layers barely learn. Sigmoid or tanh units with small initial "
             "weights shrink δ at every layer; ReLU with He initialization, Xavier "
             "initialization, or a shallower network keeps it alive.")
    return Finding("vanishing", tuple(low or [1]), 1.0 / ratio if ratio > 0 else math.inf, text)


def _exploding(layers: list[_Layer], ratio: float, diverged: str | None) -> Finding | None:
    advice = ("Lower the learning rate, clip the gradient norm (clip_norm), or start "
              "from smaller weights.")
    for layer in layers:
        bad = ~np.isfinite(layer.grad) | ~np.isfinite(layer.weight)
        if bad.any():
            return Finding("exploding", (layer.number,), math.inf,
                           f"Gradients explode: layer {layer.number}'s gradient or weights "
                           f"became NaN or infinite at recorded batch "
                           f"{int(np.argmax(bad)) + 1}. {advice}")
    if diverged:
        return Finding("exploding", (), math.inf,
                       f"Gradients explode: {diverged.rstrip('.')}. {advice}")
    if len(layers) >= 2 and ratio >= EXPLODING_RATIO:
        return Finding("exploding", (1,), ratio,
                       f"Gradients explode toward the input: layer 1's ‖∂L/∂W‖ is "
                       f"{number(ratio)} times above layer {layers[-1].number}'s (median), "
                       f"so the early layers take the largest steps. {advice}")
    # the whole gradient's norm, √(Σ_l ‖∂L/∂W^[l]‖²), per recorded batch: a layer
    # recovering from vanishing grows too, but does not grow the whole
    n = min((layer.grad.size for layer in layers), default=0)
    total = np.sqrt(sum(layer.grad[:n] ** 2 for layer in layers))
    if n >= 4:
        quarter = n // 4
        growth = _ratio(_median(total[-quarter:]), _median(total[:quarter]))
        if growth >= EXPLODING_GROWTH:
            return Finding("exploding", tuple(layer.number for layer in layers), growth,
                           f"Gradients explode: the gradient norm √(Σ‖∂L/∂W‖²) grew "
                           f"{number(growth)} times over training (median of the last "
                           f"quarter of the records over the first). {advice}")
    for layer in layers:
        peak = float(np.max(layer.grad)) if layer.grad.size else math.nan
        if peak > EXPLODING_NORM:
            return Finding("exploding", (layer.number,), peak,
                           f"Gradients explode: layer {layer.number}'s ‖∂L/∂W‖ reached "
                           f"{number(peak)}, above {number(EXPLODING_NORM)}. {advice}")
    return None


def _units(layers: list[_Layer], kind: str) -> tuple[Finding | None, float]:
    """The dead or saturated finding over the hidden layers, and the largest fraction."""
    threshold = DEAD_FRACTION if kind == "dead" else SATURATED_FRACTION
    fractions = {layer.number: _late_mean(layer.dead if kind == "dead" else layer.saturated)
                 for layer in layers[:-1]}
    fractions = {n: f for n, f in fractions.items() if not math.isnan(f)}
    largest = max(fractions.values(), default=math.nan)
    over = {n: f for n, f in fractions.items() if f > threshold}
    if not over:
        return None, largest
    parts = ", ".join(f"layer {n} {percent(f)}" for n, f in over.items())
    if kind == "dead":
        text = (f"Dead ReLUs: more than {percent(threshold)} of the units had z ≤ 0 for "
                f"every sample of the batch ({parts}; mean over the second half of "
                "training). A dead unit passes no gradient and does not recover; a lower "
                "learning rate, He initialization or leaky_relu helps.")
    else:
        text = (f"Saturated units: more than {percent(threshold)} of the unit-sample pairs "
                f"had σ' below 1% of its maximum ({parts}; mean over the second half of "
                "training), which stalls their gradients; standardize the inputs, use "
                "Xavier initialization or a lower learning rate.")
    return Finding(kind, tuple(over), max(over.values()), text), largest


def _learning_rate(medians: dict[int, float], losses: list[float]) -> Finding | None:
    finite = {n: r for n, r in medians.items() if not math.isnan(r)}
    first_loss, last_loss = (losses[0], losses[-1]) if len(losses) >= 2 else (math.nan,) * 2
    high = {n: r for n, r in finite.items() if r > UPDATE_RATIO_HIGH}
    rising = last_loss > (1.0 + LOSS_RISE) * first_loss
    if high or rising:
        reasons = []
        if high:
            reasons.append(
                "the updates change "
                + ", ".join(f"layer {n}'s weights by {percent(r)}" for n, r in high.items())
                + f" per step (median ‖ΔW‖/‖W‖ above {number(UPDATE_RATIO_HIGH)})")
        if rising:
            reasons.append(f"the loss rose from {number(first_loss, 4)} to "
                           f"{number(last_loss, 4)}")
        value = max(high.values()) if high else last_loss / first_loss
        return Finding("lr_high", tuple(high), value,
                       "The learning rate looks too high: " + " and ".join(reasons) + ".")
    flat = len(losses) < 2 or abs(last_loss - first_loss) <= LOSS_FLAT * abs(first_loss)
    if finite and max(finite.values()) < UPDATE_RATIO_LOW and flat:
        text = (f"The learning rate looks too low: no layer's weights change by more than "
                f"{number(max(finite.values()))} of their norm per step (median ‖ΔW‖/‖W‖, "
                f"all below {number(UPDATE_RATIO_LOW)})")
        if len(losses) >= 2:
            text += (f" and the loss barely moved ({number(first_loss, 4)} to "
                     f"{number(last_loss, 4)})")
        return Finding("lr_low", tuple(finite), max(finite.values()), text + ".")
    return None


def _healthy(stats: dict[str, float], n_layers: int) -> str:
    parts = ["Nothing crosses a threshold"]
    if n_layers >= 2:
        parts.append(f"layer 1's gradient norm is {number(stats['first_last_ratio'])} times "
                     f"layer {n_layers}'s (median)")
    if not math.isnan(stats["update_ratio_max"]):
        parts.append(f"the weights change by {number(stats['update_ratio_min'])} to "
                     f"{number(stats['update_ratio_max'])} of their norm per step "
                     "(per-layer medians)")
    if not math.isnan(stats["dead_max"]):
        parts.append(f"at most {percent(stats['dead_max'])} of a hidden layer's ReLUs are dead")
    if not math.isnan(stats["saturated_max"]):
        parts.append(f"at most {percent(stats['saturated_max'])} of a hidden layer's units "
                     "are saturated")
    return parts[0] + ": " + "; ".join(parts[1:]) + "." if len(parts) > 1 else parts[0] + "."


def read_diagnostics(
    records: Sequence[Mapping[str, Any]],
    losses: Sequence[float] | None = None,
    *,
    diverged: str | None = None,
) -> Reading:
    """Read :class:`Diagnostics` records (or :func:`diagnose_network`'s) into findings.

    Arguments:
        records: one dict per Dense layer per recorded batch, as
            ``Diagnostics.records`` (or loaded back from JSON, None for NaN).
        losses: the training loss over time (for example ``history["loss"]``),
            used by the learning-rate findings; None when unknown.
        diverged: the message of a :class:`DivergenceError` that ended training.

    Returns:
        A :class:`Reading`: its findings in the order of :data:`KINDS`, the
        statistics, and a one-paragraph text.
    """
    if not records and not diverged:  # (diverged before the first recorded batch ended)
        raise ValueError("no diagnostics records to read: record at least one batch")
    layers = _layers(records)
    loss_values = [float(v) for v in losses] if losses is not None else []
    ratio = _depth_ratio(layers) if len(layers) >= 2 else math.nan
    medians = {layer.number: _median(layer.update) for layer in layers}
    finite_medians = [r for r in medians.values() if not math.isnan(r)]
    findings: list[Finding] = []
    for finding in (_vanishing(layers, ratio), _exploding(layers, ratio, diverged)):
        if finding is not None:
            findings.append(finding)
    dead, dead_max = _units(layers, "dead")
    saturated, saturated_max = _units(layers, "saturated")
    findings += [f for f in (dead, saturated) if f is not None]
    if not findings or all(f.kind in ("dead", "saturated") for f in findings):
        rate = _learning_rate(medians, loss_values)
        if rate is not None:
            findings.append(rate)
    stats = {
        "first_last_ratio": ratio,
        "update_ratio_min": min(finite_medians, default=math.nan),
        "update_ratio_max": max(finite_medians, default=math.nan),
        "dead_max": dead_max,
        "saturated_max": saturated_max,
        "loss_first": loss_values[0] if loss_values else math.nan,
        "loss_last": loss_values[-1] if loss_values else math.nan,
        "records": float(len({int(r.get("step", 0)) for r in records})),
    }
    paragraph = " ".join(f.text for f in findings) if findings else _healthy(stats, len(layers))
    per_layer = tuple(
        {"layer": float(layer.number), "grad_norm_W": _median(layer.grad),
         "update_ratio": medians[layer.number], "dead_fraction": _late_mean(layer.dead),
         "saturated_fraction": _late_mean(layer.saturated)}
        for layer in layers
    )
    return Reading(tuple(findings), stats, paragraph, per_layer)
