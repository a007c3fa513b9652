"""Check a learner's own numbers of one training step: :func:`check_answers`.

A learner works one step of backpropagation by hand (or in a notebook) and
gives what they got, each number under a key that names it (layers, units and
inputs counted from 1, as the lab's sandbox counts them):

    d-L-J     δ_j^[l] of one sample (the ``sample``-th)      equation (1) or (2)
    gb-L-J    ∂L/∂b_j^[l], the mean over the batch           equation (3)
    g-L-J-K   ∂L/∂w_jk^[l], the mean over the batch          equation (4)
    w-L-J-K   w_jk^[l] after the update w ← w − η ∂L/∂w
    b-L-J     b_j^[l] after the update b ← b − η ∂L/∂b

An answer is right when it equals the library's float64 value rounded to as
many significant digits as the learner typed ("0.00878" is three: 8, 7, 8).
Fewer than three is refused, asking for three; a typed zero is right only
where the value is exactly zero (a ReLU unit that is off). The values are those
of :func:`backprop.teaching.reference.reference_step`, the equations in float64
sample by sample, which ``bp.explain`` and the sandbox show (the tests hold them
equal to the engine's ``Network.backprop``).

Each wrong answer comes with a hint: the equation it comes from, written for
that number, and what differs. Where the wrong number is what a known mistake
gives (:data:`MISTAKES`: σ′ dropped, W instead of Wᵀ, the updated weights used
in the backward pass, 1/m forgotten or applied twice, the sign of the update),
the hint names the mistake and the term it changes. Verdicts come from the
output layer down, the order backpropagation computes them in, so the first
wrong one (:func:`first_hint`) is where the learner's working first went off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

import numpy as np

from backprop.errors import OptionError, OptionTypeError
from backprop.network import Network
from backprop.nn.activations import Softmax
from backprop.nn.layers import Dense
from backprop.teaching import reference
from backprop.teaching.worked_step.compute import as_batch
from backprop.teaching.worked_step.naming import pair

#: The kinds of number a learner can give, in the order checked within a layer.
KINDS = ("d", "gb", "g", "w", "b")
#: The fewest significant digits an answer may have.
MIN_DIGITS = 3

#: The equations of one step, as the sandbox's panel lists them (labels as the hints cite them).
EQUATIONS: dict[str, str] = {
    "forward": "z^[l] = W^[l] a^[l−1] + b^[l],   a^[l] = σ(z^[l]),   a^[0] = x",
    "1": "δ^[L] = ∂ℓ/∂a^[L] ⊙ σ′(z^[L])",
    "2": "δ^[l] = (W^[l+1]ᵀ δ^[l+1]) ⊙ σ′(z^[l])",
    "3": "∂L/∂b^[l] = 1/m Σ_i δ_i^[l]",
    "4": "∂L/∂W^[l] = 1/m Σ_i δ_i^[l] a_i^[l−1]ᵀ",
    "update": "W^[l] ← W^[l] − η ∂L/∂W^[l],   b^[l] ← b^[l] − η ∂L/∂b^[l]",
}
#: What each equation gives, in words.
EQUATION_ROLES: dict[str, str] = {
    "forward": "the forward pass: each unit's z and a",
    "1": "the error δ of each output unit",
    "2": "the error δ of each hidden unit, from the layer above",
    "3": "the gradient of each bias",
    "4": "the gradient of each weight",
    "update": "gradient descent: each weight and bias after the step",
}


def equation_lines(net: Network) -> list[dict[str, str]]:
    """The equations of one step for this network, in order: label, text, what it gives,
    and a note where the network changes a form (an output whose σ′ cancels, softmax)."""
    dense = _dense_layers(net)
    output = dense[-1].activation
    notes = {"1": ("for this loss and output activation σ′ cancels: δ^[L] = a^[L] − y"
                   if net.fused_output else
                   "for softmax: δ_j = a_j (g_j − Σ_i g_i a_i) with g = ∂ℓ/∂a^[L]"
                   if isinstance(output, Softmax) else "")}
    if len(dense) == 1:
        notes["2"] = "this network has no hidden layer"
    if all(layer.b is None for layer in dense):
        notes["3"] = "this network has no biases"
    return [{"label": label, "text": text, "role": EQUATION_ROLES[label],
             "note": notes.get(label, "")} for label, text in EQUATIONS.items()]


@dataclass(frozen=True)
class Mistake:
    """A wrong way to one of the numbers: its name, and the term it changes (a sentence
    part, written for the number at hand by ``term``)."""

    name: str
    term: Callable[[Key, int], str]
    #: One of the known mistakes the hint names as such; otherwise a slip in one term.
    known: bool = True


@dataclass(frozen=True)
class Key:
    """One number of the step: kind (d, gb, g, w, b; z and a for the forward pass), layer,
    unit and, for a weight, its input (all counted from 1)."""

    kind: str
    layer: int
    unit: int
    source: int | None = None

    _PATTERN = re.compile(r"(d|gb|b|z|a)-(\d+)-(\d+)|(g|w)-(\d+)-(\d+)-(\d+)")

    @classmethod
    def parse(cls, text: str) -> Key | None:
        found = cls._PATTERN.fullmatch(text)
        if found is None:
            return None
        if found.group(1):
            return cls(found.group(1), int(found.group(2)), int(found.group(3)))
        return cls(found.group(4), int(found.group(5)), int(found.group(6)), int(found.group(7)))

    def __str__(self) -> str:
        tail = "" if self.source is None else f"-{self.source}"
        return f"{self.kind}-{self.layer}-{self.unit}{tail}"


def _var(name: str, unit: int | str, layer: int | str) -> str:
    """name_j^[l], as the worked step writes it."""
    return f"{name}_{unit}^[{layer}]"


def _delta(unit: int | str, layer: int | str) -> str:
    return _var("δ", unit, layer)


def _weight(j: int | str, k: int | str, layer: int | str) -> str:
    """w_jk^[l]: to unit j of layer l from unit k of layer l − 1."""
    return _var("w", pair(j, k), layer)


def quantity_name(key: str) -> str:
    """The number's name as the worked step writes it: "d-2-1" → "δ_1^[2]",
    "g-2-1-2" → "∂L/∂w_12^[2]", "gb-1-1" → "∂L/∂b_1^[1]"; "w-…" and "b-…" name the
    weight and bias themselves (whose value after the update the answers give)."""
    k = _parse(key)
    if k.kind == "d":
        return _delta(k.unit, k.layer)
    if k.kind == "g":
        return f"∂L/∂{_weight(k.unit, k.source or 0, k.layer)}"
    if k.kind == "gb":
        return f"∂L/∂{_var('b', k.unit, k.layer)}"
    if k.kind == "w":
        return _weight(k.unit, k.source or 0, k.layer)
    return _var(k.kind, k.unit, k.layer)


def equation_of(key: str, layers: int) -> str:
    """The label of the equation that gives the number ("1" to "4", "forward" or "update")
    in a network of ``layers`` weight layers."""
    kind = _parse(key).kind
    if kind == "d":
        return "1" if _parse(key).layer == layers else "2"
    return {"gb": "3", "g": "4", "w": "update", "b": "update"}.get(kind, "forward")


def _parse(key: str) -> Key:
    parsed = Key.parse(key)
    if parsed is None:
        raise OptionError(f"answer key {key!r} is not one of d-L-J, gb-L-J, g-L-J-K, "
                          "w-L-J-K, b-L-J")
    return parsed


def answer_keys(net: Network, kinds: Collection[str] = KINDS,
                layers: Collection[int] | None = None) -> list[str]:
    """Every key of ``net`` of these kinds (and layers, from 1), from the output layer down:
    per layer its δ, ∂L/∂b, ∂L/∂w, then the updated w and b."""
    dense = _dense_layers(net)
    keys: list[str] = []
    for number in range(len(dense), 0, -1):
        if layers is not None and number not in layers:
            continue
        layer = dense[number - 1]
        units = range(1, layer.n_out + 1)
        pairs = [(j, k) for j in units for k in range(1, layer.n_in + 1)]
        for kind in KINDS:
            if kind not in kinds or (kind in ("gb", "b") and layer.b is None):
                continue
            if kind in ("g", "w"):
                keys += [str(Key(kind, number, j, k)) for j, k in pairs]
            else:
                keys += [str(Key(kind, number, j)) for j in units]
    return keys


def _dense_layers(net: Network) -> list[Dense]:
    if not isinstance(net, Network):
        raise OptionTypeError(f"check_answers needs a Network, got {type(net).__name__}")
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    if len(dense) != len(net.layers):
        raise OptionError("answers are checked on networks of Dense layers only")
    return dense


# -- the numbers ---------------------------------------------------------------------------

def step_values(net: Network, X: Any, Y: Any, lr: float, *, sample: int = 1,
                mistake: str | None = None) -> dict[str, float]:
    """Every number a learner may give, keyed as above: the right ones, or with ``mistake``
    (a key of :data:`backprop.teaching.reference.MISTAKES`) those that wrong rule gives.

    X and Y are a checked batch (``net.check_inputs``, ``net.prepare_targets``); the δ are
    those of sample ``sample`` (from 1). Raises ValueError where the rule cannot apply
    (transpose-W on a layer that is not square).
    """
    step = reference.reference_step(net, X, Y, mistake=mistake, lr=lr)
    values: dict[str, float] = {}
    for index, layer in enumerate(_dense_layers(net)):
        number = index + 1
        for j in range(layer.n_out):
            values[f"d-{number}-{j + 1}"] = float(step.deltas[index][sample - 1, j])
            for k in range(layer.n_in):
                g = float(step.dW[index][j, k])
                values[f"g-{number}-{j + 1}-{k + 1}"] = g
                values[f"w-{number}-{j + 1}-{k + 1}"] = float(layer.W[j, k]) - lr * g
            db = step.db[index]
            if db is not None and layer.b is not None:
                values[f"gb-{number}-{j + 1}"] = float(db[j])
                values[f"b-{number}-{j + 1}"] = float(layer.b[j]) - lr * float(db[j])
    return values


# -- the mistakes ------------------------------------------------------------------------------

def _through_delta(what: Callable[[Key, int], str]) -> Callable[[Key, int], str]:
    """A mistake in δ, said of δ itself or of a number computed from it."""
    def term(key: Key, m: int) -> str:
        if key.kind == "d":
            return what(key, m)
        return f"the term {_delta(key.unit, key.layer)} differs: {what(key, m)}"
    return term


def _through_gradient(what: Callable[[Key, int], str]) -> Callable[[Key, int], str]:
    """A mistake in a gradient, said of the gradient itself or of the updated parameter."""
    def term(key: Key, m: int) -> str:
        if key.kind in ("g", "gb"):
            return what(key, m)
        gradient = Key("g" if key.kind == "w" else "gb", key.layer, key.unit, key.source)
        return f"the term {quantity_name(str(gradient))} differs: {what(key, m)}"
    return term


def _sigma_missing(key: Key, m: int) -> str:
    return f"the factor σ′({_var('z', key.unit, key.layer)}) is missing"


def _transposed(key: Key, m: int) -> str:
    above = key.layer + 1
    return (f"the sum Σ_k w_k{key.unit}^[{above}] δ_k^[{above}] runs down column {key.unit} "
            f"of W^[{above}], and yours ran along row {key.unit} (W instead of Wᵀ)")


def _stale(key: Key, m: int) -> str:
    return (f"the weights W^[{key.layer + 1}] in the sum must be those from before the update, "
            "not the updated ones")


def _no_mean(key: Key, m: int) -> str:
    return f"the sum over the m = {m} samples must be divided by m"


def _mean_twice(key: Key, m: int) -> str:
    return f"the sum over the m = {m} samples is divided by m once, not twice (by m² = {m * m})"


def _update_sign(key: Key, m: int) -> str:
    return ("the step goes against the gradient: "
            f"{quantity_name(str(key))} − η ∂L/∂{quantity_name(str(key))}, not + η")


def _opposite_sign(key: Key, m: int) -> str:
    return "your value has the opposite sign of the right one"


def _z_for_a(key: Key, m: int) -> str:
    below = key.layer - 1
    return (f"the term {_var('a', key.source or 0, below)} differs: you used "
            f"{_var('z', key.source or 0, below)}, the value before σ")


def _no_eta(key: Key, m: int) -> str:
    return "the term η is missing: the step is η times the gradient"


#: Every wrong way the checker recognizes, by id: the known mistakes (the backward rules of
#: ``backprop.teaching.reference.MISTAKES``, 1/m applied twice, the sign of the update) and
#: slips in one term. A verdict's ``mistake`` is one of these ids.
MISTAKES: dict[str, Mistake] = {
    "drop-sigma-prime": Mistake("σ′ dropped", _through_delta(_sigma_missing)),
    "transpose-W": Mistake("W instead of Wᵀ", _through_delta(_transposed)),
    "stale-weights": Mistake("the updated weights used in the backward pass",
                             _through_delta(_stale)),
    "forget-1/m": Mistake("1/m forgotten", _through_gradient(_no_mean)),
    "sum-not-mean": Mistake("1/m forgotten", _through_gradient(_no_mean)),
    "twice-1/m": Mistake("1/m applied twice", _through_gradient(_mean_twice)),
    "update-sign": Mistake("the sign of the update", _update_sign),
    "output-sigma-prime": Mistake("σ′ dropped", _sigma_missing),
    "opposite-sign": Mistake("the opposite sign", _opposite_sign, known=False),
    "z-for-a": Mistake("z instead of a", _z_for_a, known=False),
    "no-eta": Mistake("η left out", _no_eta, known=False),
}


def _wrong_values(net: Network, X: np.ndarray, Y: np.ndarray, lr: float, sample: int,
                  right: dict[str, float]) -> list[tuple[str, dict[str, float]]]:
    """(mistake id, the numbers it gives) for every mistake that applies to this step."""
    m = X.shape[0]
    found: list[tuple[str, dict[str, float]]] = []
    for name in reference.MISTAKES:
        try:
            found.append((name, step_values(net, X, Y, lr, sample=sample, mistake=name)))
        except ValueError:  # transpose-W on a layer that is not square: no such mistake here
            continue
    step = reference.reference_step(net, X, Y)
    dense = _dense_layers(net)
    own: dict[str, dict[str, float]] = {name: {} for name in
                                        ("twice-1/m", "update-sign", "output-sigma-prime",
                                         "opposite-sign", "z-for-a", "no-eta")}
    for key, value in right.items():
        k = _parse(key)
        if k.kind in ("g", "gb") and m > 1:
            own["twice-1/m"][key] = value / m
            parameter = (f"w-{k.layer}-{k.unit}-{k.source}" if k.kind == "g"
                         else f"b-{k.layer}-{k.unit}")
            own["twice-1/m"][parameter] = right[parameter] + lr * value - lr * value / m
        if k.kind in ("w", "b"):
            gradient = right[("g" if k.kind == "w" else "gb") + key[1:]]
            own["update-sign"][key] = value + 2 * lr * gradient  # w + η g
            own["no-eta"][key] = value + lr * gradient - gradient  # w − g
        else:
            own["opposite-sign"][key] = -value
        if k.kind == "g" and k.layer > 1:
            z_below = step.zs[k.layer - 2][:, (k.source or 0) - 1]
            delta = step.deltas[k.layer - 1][:, k.unit - 1]
            own["z-for-a"][key] = float(np.mean(delta * z_below))
    upstream = step.upstream[-1]
    if upstream is not None and not isinstance(dense[-1].activation, Softmax):
        for j in range(dense[-1].n_out):
            own["output-sigma-prime"][f"d-{len(dense)}-{j + 1}"] = float(upstream[sample - 1, j])
    return found + list(own.items())


# -- reading an answer ---------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?P<sign>[+\-−]?)\s*(?P<mantissa>\d+\.?\d*|\.\d+)"
    r"(?:\s*(?:[eE]|[×x·*]\s*10\s*\^?)\s*(?P<exponent>[+\-−]?\d+))?")


@dataclass(frozen=True)
class Reading:
    """A typed number: its exact decimal value and its count of significant digits."""

    value: Decimal
    digits: int


def read_answer(text: str) -> Reading | None:
    """The number in ``text`` ("0.00878", "−8.78e-3", "8.78×10^-3"), or None if it is none.

    Significant digits are those from the first non-zero digit of the mantissa to its
    end, trailing zeros included ("0.0500" has three); a zero has none.
    """
    found = _NUMBER.fullmatch(text.strip())
    if found is None:
        return None
    mantissa = found.group("mantissa")
    exponent = (found.group("exponent") or "0").replace("−", "-")
    sign = "-" if found.group("sign") in ("-", "−") else ""
    try:
        value = Decimal(f"{sign}{mantissa}e{exponent}")
    except InvalidOperation:
        return None
    digits = len(mantissa.replace(".", "").lstrip("0"))
    return Reading(value, digits)


def rounded(value: float | Decimal, digits: int) -> Decimal:
    """``value`` (a float exactly as it is) rounded half up to ``digits`` significant digits."""
    exact = Decimal(value)
    if exact == 0:
        return exact
    context = Context(prec=max(28, digits + 2))
    return exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1), ROUND_HALF_UP,
                          context)


def agrees(reading: Reading, value: float) -> bool:
    """Whether a typed number is ``value`` rounded to the digits typed (or is ``value``)."""
    if not math.isfinite(value):
        return False
    if reading.digits == 0:
        return value == 0.0
    return reading.value == rounded(value, reading.digits) or float(reading.value) == value


# -- the check ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """The check of one answer.

    ``verdict`` is "right", "wrong" or "refused" (not a number, or fewer than three
    significant digits). ``message`` is "" for a right answer, the reason for a refused
    one, and for a wrong one the hint: the equation the number comes from, written for
    it, and what differs. ``mistake`` is the id in :data:`MISTAKES` whose value a wrong
    answer equals, else None. ``equation`` is "1" to "4" or "update"; ``expected`` the
    library's value, ``digits`` the significant digits typed.
    """

    key: str
    name: str
    answer: str
    verdict: str
    expected: float
    digits: int
    equation: str
    message: str
    mistake: str | None = None


def check_answers(net: Network, X: Any, Y: Any, lr: float,
                  answers: Mapping[str, str | float], *, sample: int = 1) -> list[Verdict]:
    """Check a learner's numbers of one step of gradient descent on (X, Y) at rate ``lr``.

    Arguments:
        net: the network before the step (read, never changed); Dense layers only.
        X: the inputs, one sample (n_inputs,) or a batch (m, n_inputs).
        Y: the targets, as ``bp.explain`` takes them.
        lr: the learning rate η of the update (used by the w-… and b-… answers).
        answers: the learner's numbers by key (d-L-J, gb-L-J, g-L-J-K, w-L-J-K, b-L-J),
            each as typed ("0.00878"); a float is read as its repr.
        sample: the sample (from 1) whose δ the d-L-J answers give.

    Returns:
        One :class:`Verdict` per answer, from the output layer down (per layer: δ,
        ∂L/∂b, ∂L/∂w, the updated w and b); :func:`first_hint` picks the hint to show.

    Raises:
        OptionError: a key this network has no number for, a bad ``sample`` or ``lr``.
    """
    dense = _dense_layers(net)
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not math.isfinite(lr) \
            or lr < 0:
        raise OptionError(f"lr must be a finite number ≥ 0, got {lr!r}")
    X, Y = as_batch(net, X, Y)
    m = X.shape[0]
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= m:
        raise OptionError(f"sample must be one of 1 to {m}, the samples of the batch; "
                          f"got {sample!r}")
    order = answer_keys(net)
    for key in answers:
        if key not in order:
            widths = "-".join(str(n) for n in [dense[0].n_in] + [d.n_out for d in dense])
            raise OptionError(f"answer {key!r}: the {widths} network has no "
                              f"{quantity_name(key)}")
    right = step_values(net, X, Y, float(lr), sample=sample)
    wrong = _wrong_values(net, X, Y, float(lr), sample, right)
    context = _Context(dense, m, bool(net.fused_output))
    return [_verdict(key, answers[key], right[key], wrong, context)
            for key in order if key in answers]


def first_hint(verdicts: list[Verdict]) -> str | None:
    """The hint of the first wrong answer (the one nearest the output), or None."""
    return next((v.message for v in verdicts if v.verdict == "wrong"), None)


@dataclass(frozen=True)
class _Context:
    """What the hints say about the network: its layers, the batch size, a fused output."""

    dense: list[Dense]
    m: int
    fused: bool


def _verdict(key: str, given: str | float, expected: float,
             wrong: list[tuple[str, dict[str, float]]], context: _Context) -> Verdict:
    if isinstance(given, bool) or not isinstance(given, str | int | float):
        raise OptionTypeError(f"answer {key!r} must be text or a number, got {given!r}")
    text = given.strip() if isinstance(given, str) else repr(given)
    name = quantity_name(key)
    equation = equation_of(key, len(context.dense))
    reading = read_answer(text)

    def made(verdict: str, digits: int, message: str, mistake: str | None = None) -> Verdict:
        return Verdict(key, name, text, verdict, expected, digits, equation, message, mistake)

    if reading is None:
        return made("refused", 0, f"{name}: “{text}” is not a number; write it like 0.0123 "
                                  "or 1.23e-2.")
    if 0 < reading.digits < MIN_DIGITS:
        plural = "s" if reading.digits > 1 else ""
        return made("refused", reading.digits, f"{name}: “{text}” has {reading.digits} "
                    f"significant digit{plural}; give at least three.")
    if agrees(reading, expected):
        return made("right", reading.digits, "")
    k = _parse(key)
    mistake, why = _diagnosis(k, reading, expected, wrong, context)
    return made("wrong", reading.digits,
                f"{name} = {text} is not right. {_equation_text(k, context)} {why}", mistake)


def _diagnosis(key: Key, reading: Reading, expected: float,
               wrong: list[tuple[str, dict[str, float]]],
               context: _Context) -> tuple[str | None, str]:
    """(the mistake id or None, the sentence that says what differs)."""
    matches = [name for name, values in wrong
               if str(key) in values and agrees(reading, values[str(key)])]
    for known in (True, False):
        for name in matches:
            mistake = MISTAKES[name]
            if mistake.known == known:
                said = (f"Your value is what the known mistake “{mistake.name}” gives: "
                        if known else "Your value is what a slip in one term gives: ")
                return name, said + mistake.term(key, context.m) + "."
    near = _near_miss(reading, expected)
    if near is not None and near.startswith("cut off"):
        return None, f"Your value is the right one {near}."
    if near is not None:
        return None, (f"Your value agrees with the right one {near}: carry more digits "
                      "through the intermediate numbers and round only at the end.")
    return None, f"No known mistake gives this value: recompute {_terms(key, context)}."


def _near_miss(reading: Reading, expected: float) -> str | None:
    """How close a typed number that is not right comes: agreeing to fewer digits (three
    at least), or one unit off in its last digit; None when it is further off."""
    if expected == 0 or reading.digits == 0:
        return None
    cut = Decimal(expected).quantize(rounded(expected, reading.digits), ROUND_DOWN,
                                     Context(prec=max(28, reading.digits + 2)))
    if reading.value == cut:
        return ("cut off after its last digit typed: round that digit (half up) rather "
                "than dropping what follows it")
    for k in range(reading.digits - 1, MIN_DIGITS - 1, -1):
        if rounded(reading.value, k) == rounded(expected, k):
            return f"to {k} significant digits"
    target = rounded(expected, reading.digits)
    last = Decimal(1).scaleb(target.adjusted() - reading.digits + 1)
    if abs(reading.value - target) == last:
        return "except for one unit in its last digit"
    return None


def _equation_text(key: Key, context: _Context) -> str:
    """The equation the number comes from, written for that number, as a sentence."""
    j, layer = key.unit, key.layer
    mean = "1/m Σ_i " if context.m > 1 else ""
    if key.kind == "d":
        sigma = context.dense[layer - 1].activation
        if layer == len(context.dense):
            if context.fused:
                form = (f"{_delta(j, layer)} = {_var('a', j, layer)} − y_{j}, for this loss "
                        "and output activation (σ′ cancels)")
            elif isinstance(sigma, Softmax):
                form = (f"{_delta(j, layer)} = {_var('a', j, layer)} (g_{j} − Σ_i g_i a_i) "
                        "with g = ∂ℓ/∂a^[L], softmax's Jacobian")
            else:
                form = (f"{_delta(j, layer)} = ∂ℓ/∂{_var('a', j, layer)} · "
                        f"σ′({_var('z', j, layer)})")
            return f"It comes from equation (1): {form}."
        above = layer + 1
        form = (f"{_delta(j, layer)} = (Σ_k w_k{j}^[{above}] {_delta('k', above)}) · "
                f"σ′({_var('z', j, layer)})")
        return f"It comes from equation (2): {form}."
    if key.kind == "gb":
        return (f"It comes from equation (3): ∂L/∂{_var('b', j, layer)} = "
                f"{mean}{_delta(j, layer)}.")
    if key.kind == "g":
        a_below = _var("a", key.source or 0, layer - 1)
        return (f"It comes from equation (4): ∂L/∂{_weight(j, key.source or 0, layer)} = "
                f"{mean}{_delta(j, layer)} {a_below}.")
    name = quantity_name(str(key))
    return f"It comes from the update: {name} ← {name} − η ∂L/∂{name}."


def _terms(key: Key, context: _Context) -> str:
    """The terms of the number's equation, to recompute one by one."""
    j, layer = key.unit, key.layer
    if key.kind == "d":
        sigma = context.dense[layer - 1].activation
        derivative = (f" = {sigma.derivative_formula} for {sigma.name}"
                      if sigma.derivative_formula else "")
        return f"each factor, σ′({_var('z', j, layer)}){derivative} included"
    if key.kind == "gb":
        return f"{_delta(j, layer)} of each sample, and their mean"
    if key.kind == "g":
        return (f"{_delta(j, layer)} and {_var('a', key.source or 0, layer - 1)} of each "
                "sample, and the mean of their products")
    return "the gradient, then the step: η times the gradient, subtracted"
