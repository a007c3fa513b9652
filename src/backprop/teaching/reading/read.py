"""read_diagnostics: records (and the run's outcome) into findings and a paragraph."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backprop.teaching.reading import findings as find
from backprop.teaching.reading.advice import setup_of
from backprop.teaching.reading.records import depth_ratio, late_mean, layer_series, median
from backprop.teaching.reading.result import Finding, Reading
from backprop.teaching.reading.words import number, percent

if TYPE_CHECKING:
    from backprop.network import Network


def healthy_text(stats: dict[str, float], n_layers: int) -> str:
    parts = ["Nothing crosses a threshold"]
    if not math.isnan(stats["loss_first"]) and not math.isnan(stats["loss_last"]):
        parts.append(f"the loss fell from {number(stats['loss_first'], 4)} to "
                     f"{number(stats['loss_last'], 4)}")
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
    accuracy: float | None = None,
    n_classes: int | None = None,
    r2: float | None = None,
    network: Network | None = None,
) -> Reading:
    """Read :class:`Diagnostics` records (or :func:`diagnose_network`'s) into findings.

    Arguments:
        records: one dict per Dense layer per recorded batch, as
            ``Diagnostics.records`` (or loaded back from JSON, None for NaN).
        losses: the training loss over time (for example ``history["loss"]``),
            used by the not-learning and learning-rate findings; None when unknown.
        diverged: the message of a :class:`DivergenceError` that ended training.
        accuracy: the final training accuracy, with ``n_classes`` the number of
            classes (chance is 1 / n_classes), for the not-learning finding.
        r2: the final training R² of a regression, for the not-learning finding.
        network: the network trained; its hidden activation, initialization and
            depth choose the advice (without it the advice is general).

    Returns:
        A :class:`Reading`: its findings in the order of :data:`KINDS`, the
        statistics, and a one-paragraph text. When the loss did not fall (or
        the accuracy is at chance, or R² ≤ 0) the verdict is never "healthy":
        the "not_learning" finding comes first and names the likely cause.
    """
    if not records and not diverged:  # (diverged before the first recorded batch ended)
        raise ValueError("no diagnostics records to read: record at least one batch")
    setup = setup_of(network)
    layers = layer_series(records)
    loss_values = [float(v) for v in losses] if losses is not None else []
    ratio = depth_ratio(layers) if len(layers) >= 2 else math.nan
    medians = {layer.number: median(layer.update) for layer in layers}
    finite_medians = [r for r in medians.values() if not math.isnan(r)]
    found: list[Finding] = []
    symmetric, spread_min = find.symmetric(layers)
    for finding in (symmetric, find.vanishing(layers, ratio, setup),
                    find.exploding(layers, ratio, diverged)):
        if finding is not None:
            found.append(finding)
    dead, dead_max = find.units(layers, "dead", setup)
    saturated, saturated_max = find.units(layers, "saturated", setup)
    found += [f for f in (dead, saturated) if f is not None]
    if all(f.kind in ("dead", "saturated") for f in found):
        rate = find.learning_rate(medians, loss_values)
        if rate is not None:
            found.append(rate)
    stats = {
        "first_last_ratio": ratio,
        "update_ratio_min": min(finite_medians, default=math.nan),
        "update_ratio_max": max(finite_medians, default=math.nan),
        "dead_max": dead_max,
        "saturated_max": saturated_max,
        "spread_min": spread_min,
        "loss_first": loss_values[0] if loss_values else math.nan,
        "loss_last": loss_values[-1] if loss_values else math.nan,
        "accuracy": math.nan if accuracy is None else float(accuracy),
        "chance": 1.0 / n_classes if n_classes else math.nan,
        "r2": math.nan if r2 is None else float(r2),
        "records": float(len({int(r.get("step", 0)) for r in records})),
    }
    stuck = None if diverged else find.not_learning(loss_values, stats["accuracy"], n_classes,
                                                    stats["r2"])
    if stuck is not None:
        text, value = stuck
        cause = find.likely_cause(found, stats)
        found.insert(0, Finding("not_learning", (), value, f"{text} {cause}"))
    facts = (" ".join(f.text for f in found) if found
             else healthy_text(stats, len(layers)))
    paragraph = " ".join(f.sentences for f in found) if found else facts
    per_layer = tuple(
        {"layer": float(layer.number), "grad_norm_W": median(layer.grad),
         "update_ratio": medians[layer.number], "dead_fraction": late_mean(layer.dead),
         "saturated_fraction": late_mean(layer.saturated),
         "unit_spread": late_mean(layer.spread)}
        for layer in layers
    )
    return Reading(tuple(found), stats, paragraph, per_layer, facts)

