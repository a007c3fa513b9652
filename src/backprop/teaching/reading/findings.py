"""Each finding: the numbers that cross a threshold, in words (see backprop.teaching.reading)."""

from __future__ import annotations

import math

import numpy as np

from backprop.teaching.reading import advice
from backprop.teaching.reading.advice import Setup
from backprop.teaching.reading.records import LayerSeries, late_mean, median, ratio
from backprop.teaching.reading.result import Finding
from backprop.teaching.reading.thresholds import (
    CHANCE_MARGIN,
    DEAD_FRACTION,
    EXPLODING_GROWTH,
    EXPLODING_NORM,
    EXPLODING_RATIO,
    LOSS_FLAT,
    LOSS_RISE,
    SATURATED_FRACTION,
    SYMMETRY_SPREAD,
    UPDATE_RATIO_HIGH,
    UPDATE_RATIO_LOW,
    UPDATE_RATIO_SMALL,
    VANISHING_RATIO,
)
from backprop.teaching.reading.words import layer_list, number, percent


def vanishing(layers: list[LayerSeries], depth_ratio: float, setup: Setup) -> Finding | None:
    if len(layers) < 2 or not depth_ratio <= 1.0 / VANISHING_RATIO:
        return None
    last = layers[-1]
    last_median = median(last.grad)
    low = [layer.number for layer in layers[:-1]
           if median(layer.grad) <= last_median / VANISHING_RATIO]
    first = layers[0]
    times = number(1.0 / depth_ratio) if depth_ratio > 0 else "infinitely many"
    text = (
        f"Gradients vanish: layer 1's ‖∂L/∂W‖ is {times} times below layer "
        f"{last.number}'s (median over {first.grad.size} recorded batches; "
        f"{number(median(first.grad))} against {number(last_median)})"
    )
    if low:
        text += f", and {layer_list(low)} are all {number(VANISHING_RATIO)}× or more below it"
    text += ", so the early layers barely learn."
    value = 1.0 / depth_ratio if depth_ratio > 0 else math.inf
    return Finding("vanishing", tuple(low or [1]), value, text, advice.vanishing(setup))


def exploding(layers: list[LayerSeries], depth_ratio: float,
              diverged: str | None) -> Finding | None:
    tip = advice.exploding()
    for layer in layers:
        bad = ~np.isfinite(layer.grad) | ~np.isfinite(layer.weight)
        if bad.any():
            return Finding("exploding", (layer.number,), math.inf,
                           f"Gradients explode: layer {layer.number}'s gradient or weights "
                           f"became NaN or infinite at recorded batch "
                           f"{int(np.argmax(bad)) + 1}.", tip)
    if diverged:
        return Finding("exploding", (), math.inf,
                       f"Gradients explode: {diverged.rstrip('.')}.", tip)
    if len(layers) >= 2 and depth_ratio >= EXPLODING_RATIO:
        return Finding("exploding", (1,), depth_ratio,
                       f"Gradients explode toward the input: layer 1's ‖∂L/∂W‖ is "
                       f"{number(depth_ratio)} times above layer {layers[-1].number}'s "
                       "(median), so the early layers take the largest steps.", tip)
    # the whole gradient's norm, √(Σ_l ‖∂L/∂W^[l]‖²), per recorded batch: a layer
    # recovering from vanishing grows too, but does not grow the whole
    n = min((layer.grad.size for layer in layers), default=0)
    total = np.sqrt(sum(layer.grad[:n] ** 2 for layer in layers))
    if n >= 4:
        quarter = n // 4
        growth = ratio(median(total[-quarter:]), median(total[:quarter]))
        if growth >= EXPLODING_GROWTH:
            return Finding("exploding", tuple(layer.number for layer in layers), growth,
                           f"Gradients explode: the gradient norm √(Σ‖∂L/∂W‖²) grew "
                           f"{number(growth)} times over training (median of the last "
                           "quarter of the records over the first).", tip)
    for layer in layers:
        peak = float(np.max(layer.grad)) if layer.grad.size else math.nan
        if peak > EXPLODING_NORM:
            return Finding("exploding", (layer.number,), peak,
                           f"Gradients explode: layer {layer.number}'s ‖∂L/∂W‖ reached "
                           f"{number(peak)}, above {number(EXPLODING_NORM)}.", tip)
    return None


def units(layers: list[LayerSeries], kind: str, setup: Setup) -> tuple[Finding | None, float]:
    """The dead or saturated finding over the hidden layers, and the largest fraction."""
    threshold = DEAD_FRACTION if kind == "dead" else SATURATED_FRACTION
    fractions = {layer.number: late_mean(layer.dead if kind == "dead" else layer.saturated)
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
                "training).")
        tip = advice.dead(setup)
    else:
        text = (f"Saturated units: more than {percent(threshold)} of the unit-sample pairs "
                f"had σ' below 1% of its maximum ({parts}; mean over the second half of "
                "training).")
        tip = advice.saturated(setup)
    return Finding(kind, tuple(over), max(over.values()), text, tip), largest


def symmetric(layers: list[LayerSeries]) -> tuple[Finding | None, float]:
    """Hidden layers whose units all compute the same thing, and the smallest spread."""
    spreads = {layer.number: late_mean(layer.spread) for layer in layers[:-1]}
    spreads = {n: s for n, s in spreads.items() if not math.isnan(s)}
    smallest = min(spreads.values(), default=math.nan)
    same = {n: s for n, s in spreads.items() if s <= SYMMETRY_SPREAD}
    if not same:
        return None, smallest
    text = (f"Hidden units are identical: in {layer_list(same)} every unit has the same "
            f"incoming weights and bias (the rows of [W b] differ from their mean by "
            f"{number(max(same.values()))} of its norm), as a zero or constant "
            "initialization leaves them.")
    return Finding("symmetric", tuple(same), max(same.values()), text,
                   advice.symmetric()), smallest


def learning_rate(medians: dict[int, float], losses: list[float]) -> Finding | None:
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
                       "The learning rate looks too high: " + " and ".join(reasons) + ".",
                       advice.learning_rate("lr_high"))
    flat = len(losses) < 2 or abs(last_loss - first_loss) <= LOSS_FLAT * abs(first_loss)
    # 0 < ratio: weights that do not move at all are no question of the learning rate's size
    if finite and 0 < max(finite.values()) < UPDATE_RATIO_LOW and flat:
        text = (f"The learning rate looks too low: no layer's weights change by more than "
                f"{number(max(finite.values()))} of their norm per step (median ‖ΔW‖/‖W‖, "
                f"all below {number(UPDATE_RATIO_LOW)})")
        if len(losses) >= 2:
            text += (f" and the loss barely moved ({number(first_loss, 4)} to "
                     f"{number(last_loss, 4)})")
        return Finding("lr_low", tuple(finite), max(finite.values()), text + ".",
                       advice.learning_rate("lr_low"))
    return None


def not_learning(losses: list[float], accuracy: float, n_classes: int | None,
                 r2: float) -> tuple[str, float] | None:
    """What says the network learns nothing, and the number: None when it learns.

    The loss fell by less than LOSS_FLAT of its start (or rose), the accuracy is
    at most (1 + CHANCE_MARGIN) × chance, or R² ≤ 0: any one of them."""
    reasons: list[str] = []
    value = math.nan
    if len(losses) >= 2 and losses[-1] > (1.0 - LOSS_FLAT) * losses[0]:
        moved = "rose" if losses[-1] > losses[0] else "fell by less than 1%"
        if losses[-1] == losses[0]:
            moved = "did not move"
        digits = next((d for d in range(5, 9)
                       if number(losses[0], d) != number(losses[-1], d)), 5)
        reasons.append(f"the loss {moved} from {number(losses[0], digits)} to "
                       f"{number(losses[-1], digits)}")
        value = losses[-1] / losses[0] if losses[0] else math.inf
    if n_classes and n_classes >= 2 and not math.isnan(accuracy):
        chance = 1.0 / n_classes
        if accuracy <= (1.0 + CHANCE_MARGIN) * chance:
            reasons.append(f"the training accuracy {number(accuracy, 3)} is chance for "
                           f"{n_classes} classes ({number(chance, 3)})")
            value = accuracy if math.isnan(value) else value
    if not math.isnan(r2) and r2 <= 0.0:
        reasons.append(f"R² is {number(r2, 3)} (≤ 0: no better than predicting the mean)")
        value = r2 if math.isnan(value) else value
    if not reasons:
        return None
    return "The network is not learning: " + " and ".join(reasons) + ".", value


def likely_cause(others: list[Finding], stats: dict[str, float]) -> str:
    """One sentence naming the likely cause of not learning, from the other findings."""
    names = {"symmetric": "symmetry (identical hidden units)",
             "vanishing": "vanishing gradients", "exploding": "exploding gradients",
             "dead": "dead ReLU units", "saturated": "saturated units",
             "lr_low": "a learning rate too low", "lr_high": "a learning rate too high"}
    found = [f.kind for f in others if f.kind in names]
    if found:
        first, *rest = found
        also = f" (also {', '.join(names[k] for k in rest)})" if rest else ""
        return f"The likely cause is {names[first]}{also}, read below."
    shrink = stats.get("first_last_ratio", math.nan)
    if shrink <= 0.1:
        return (f"The likely cause is gradients shrinking toward the input: layer 1's "
                f"‖∂L/∂W‖ is {number(shrink)} times the last layer's, short of the 1/100 "
                "of a vanishing finding but enough to stall the early layers.")
    largest = stats.get("update_ratio_max", math.nan)
    if largest == 0:
        return ("The likely cause is that the weights do not move at all (every layer's "
                "median update is 0): their gradients are 0, as when every unit has stopped "
                "firing (ReLUs left dead by too large a step) or the loss no longer depends "
                "on the weights.")
    if largest < UPDATE_RATIO_SMALL:
        return (f"The likely cause is a learning rate too low: no layer's weights change by "
                f"more than {number(largest)} of their norm per step, below the usual "
                "1e-4..1e-2.")
    return ("No other reading names a cause: check that the labels match the inputs, that "
            "the output activation and loss fit the task, and train for more epochs.")
