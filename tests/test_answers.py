"""The check of a learner's own numbers of one step (backprop.teaching.answers)."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.errors import OptionError
from backprop.teaching.answers import (
    MISTAKES,
    answer_keys,
    check_answers,
    first_hint,
    read_answer,
    step_values,
)
from backprop.teaching.reference import MISTAKES as RULES
from backprop.teaching.reference import reference_step

X1, Y1 = [[0.05, 0.10]], [[0.01, 0.99]]
#: A two-sample batch, where the 1/m mistakes differ from the right answer.
X2, Y2 = [[0.05, 0.10], [0.95, 0.90]], [[0.01, 0.99], [0.99, 0.01]]
LR = 0.5


def mazur() -> bp.Network:
    """The well-known 2-2-2 example: sigmoid units with biases, ½ squared error."""
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    weights = [([[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35]),
               ([[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60])]
    for layer, (W, b) in zip(net.layers, weights, strict=True):
        assert isinstance(layer, bp.Dense)
        layer.W, layer.b = W, b
    return net


def right(net: bp.Network, X: object, Y: object, digits: int = 6, sample: int = 1) -> dict[str, str]:
    """Every number of the step, typed to ``digits`` significant digits."""
    values = step_values(net, np.asarray(X, float), np.asarray(Y, float), LR, sample=sample)
    return {key: f"{value:#.{digits}g}" for key, value in values.items()}


def test_mazur_answers_typed_to_three_six_or_every_digit_are_right() -> None:
    net = mazur()
    for digits in (3, 6, 17):
        verdicts = check_answers(net, X1, Y1, LR, right(net, X1, Y1, digits))
        assert {v.verdict for v in verdicts} == {"right"}, digits
        assert first_hint(verdicts) is None
    # the textbook's own numbers of this example
    known = {"d-2-1": "0.138498562", "d-1-1": "0.00877135", "g-2-1-1": "0.082167041",
             "w-2-1-1": "0.35891648", "w-1-1-1": "0.149780716", "gb-2-2": "-0.0380982365"}
    assert {v.key: v.verdict for v in check_answers(net, X1, Y1, LR, known)} == \
        dict.fromkeys(known, "right")


def test_right_is_the_value_rounded_to_the_digits_typed() -> None:
    net = mazur()
    d = step_values(net, np.array(X1), np.array(Y1), LR)["d-2-1"]  # 0.13849856162855698
    assert repr(d) == "0.13849856162855698"
    cases = {"0.138": "right", "0.1385": "right", "0.13850": "right", "0.13849856": "right",
             "0.1384": "wrong", "0.13849": "wrong", "0.139": "wrong", "1.385e-1": "right",
             "138.5e-3": "right", "1.385×10^-1": "right", "+0.1385": "right",
             "−0.1385": "wrong", repr(d): "right", "0.13849856162855698000": "right"}
    for typed, verdict in cases.items():
        (checked,) = check_answers(net, X1, Y1, LR, {"d-2-1": typed})
        assert checked.verdict == verdict, (typed, checked)
        assert checked.expected == d and checked.equation == "1"
    (number,) = check_answers(net, X1, Y1, LR, {"d-2-1": d})  # a float: its repr is read
    assert number.verdict == "right" and number.answer == repr(d)


def test_fewer_than_three_significant_digits_or_no_number_is_refused() -> None:
    net = mazur()
    verdicts = check_answers(net, X1, Y1, LR, {"d-2-1": "0.14", "d-2-2": "-0.04",
                                               "g-2-1-1": "0.0821abc", "gb-2-1": "1,38"})
    by_key = {v.key: v for v in verdicts}
    assert {v.verdict for v in verdicts} == {"refused"}
    assert by_key["d-2-1"].message == ("δ_1^[2]: “0.14” has 2 significant digits; give at "
                                      "least three.")
    assert by_key["d-2-1"].digits == 2 and by_key["d-2-2"].digits == 1
    assert "is not a number" in by_key["g-2-1-1"].message
    assert "is not a number" in by_key["gb-2-1"].message  # a decimal comma is not read
    assert first_hint(verdicts) is None


@pytest.mark.parametrize(("text", "value", "digits"), [
    ("0.00878", "0.00878", 3), ("-8.78e-3", "-0.00878", 3), ("−8.780E-3", "-0.008780", 4),
    ("8.78 × 10^-3", "0.00878", 3), ("8.78·10−3", "0.00878", 3), (".500", "0.5", 3),
    ("120", "120", 3), ("0", "0", 0), ("0.000", "0", 0), ("  4.20  ", "4.2", 3),
])
def test_reading_a_typed_number(text: str, value: str, digits: int) -> None:
    reading = read_answer(text)
    assert reading is not None and reading.digits == digits
    assert float(reading.value) == float(value)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1,5", "e5", "--1", "0x10", "nan", "inf"])
def test_what_is_not_a_number(text: str) -> None:
    assert read_answer(text) is None


def mistaken(net: bp.Network, X: object, Y: object, mistake: str, key: str) -> str:
    """The value a known-wrong backward rule gives for ``key``, typed to 6 digits."""
    values = step_values(net, np.asarray(X, float), np.asarray(Y, float), LR, mistake=mistake)
    return f"{values[key]:.6g}"


# each known mistake, the batch it shows on, the number it changes, the name the hint gives
KNOWN = [
    ("drop-sigma-prime", X1, Y1, "d-1-1", "σ′ dropped", "(2)"),
    ("transpose-W", X1, Y1, "d-1-2", "W instead of Wᵀ", "(2)"),
    ("stale-weights", X1, Y1, "d-1-1", "the updated weights used in the backward pass", "(2)"),
    ("forget-1/m", X2, Y2, "g-2-1-1", "1/m forgotten", "(4)"),
    ("sum-not-mean", X2, Y2, "gb-1-2", "1/m forgotten", "(3)"),
]


@pytest.mark.parametrize(("mistake", "X", "Y", "key", "name", "equation"), KNOWN)
def test_each_known_backward_mistake_is_named_in_the_hint(
    mistake: str, X: object, Y: object, key: str, name: str, equation: str,
) -> None:
    net = mazur()
    answers = right(net, X, Y)
    answers[key] = mistaken(net, X, Y, mistake, key)
    verdicts = check_answers(net, X, Y, LR, answers)
    wrong = [v for v in verdicts if v.verdict == "wrong"]
    assert [v.key for v in wrong] == [key]
    assert wrong[0].mistake == mistake
    hint = first_hint(verdicts)
    assert hint is not None and f"the known mistake “{name}” gives" in hint
    assert f"equation {equation}" in hint and hint.startswith(f"{wrong[0].name} = ")


def test_one_over_m_twice_and_the_sign_of_the_update_are_named() -> None:
    net = mazur()
    values = step_values(net, np.array(X2), np.array(Y2), LR)
    answers = right(net, X2, Y2)
    answers["g-1-2-1"] = f"{values['g-1-2-1'] / 2:.6g}"  # divided by m = 2 once more
    (twice,) = [v for v in check_answers(net, X2, Y2, LR, answers) if v.verdict == "wrong"]
    assert twice.mistake == "twice-1/m" and "“1/m applied twice”" in twice.message
    assert "equation (4)" in twice.message and "by m² = 4" in twice.message
    answers = right(net, X1, Y1) | {"w-2-1-1": "0.441083520"}  # 0.4 + η ∂L/∂w
    (sign,) = [v for v in check_answers(net, X1, Y1, LR, answers) if v.verdict == "wrong"]
    assert sign.mistake == "update-sign" and "“the sign of the update”" in sign.message
    assert "It comes from the update: w_11^[2] ← w_11^[2] − η ∂L/∂w_11^[2]." in sign.message


def test_a_mistake_upstream_is_named_on_a_number_computed_from_it() -> None:
    net = mazur()
    # δ left out; the gradient and the updated weight carry the dropped σ′
    answers = {"g-1-1-2": mistaken(net, X1, Y1, "drop-sigma-prime", "g-1-1-2"),
               "w-1-1-2": mistaken(net, X1, Y1, "drop-sigma-prime", "w-1-1-2")}
    g, w = check_answers(net, X1, Y1, LR, answers)
    assert g.mistake == w.mistake == "drop-sigma-prime"
    assert "the term δ_1^[1] differs: the factor σ′(z_1^[1]) is missing" in g.message
    assert "“σ′ dropped”" in w.message and "the term δ_1^[1] differs" in w.message


def test_slips_in_one_term_and_near_misses_say_what_differs() -> None:
    net = mazur()
    values = step_values(net, np.array(X1), np.array(Y1), LR)
    out = {v.key: v for v in check_answers(net, X1, Y1, LR, {
        "d-2-1": "0.741365",  # a − y, without σ′ of the output
        "d-2-2": "0.0380982",  # the opposite sign
        "g-2-1-2": "0.0500000",  # nothing known gives this
        "w-2-2-1": f"{0.5 - values['g-2-2-1']:.6g}",  # η left out
        "gb-2-1": "0.13849",  # cut off, not rounded
        "g-2-1-1": "0.0823",  # one unit off in the last digit: 0.0822
        "gb-1-1": "0.00877140",  # agrees to 5 digits only
    })}
    assert out["d-2-1"].mistake == "output-sigma-prime"
    assert "equation (1)" in out["d-2-1"].message and "σ′(z_1^[2]) is missing" in out["d-2-1"].message
    assert out["d-2-2"].mistake == "opposite-sign"
    assert out["w-2-2-1"].mistake == "no-eta" and "η is missing" in out["w-2-2-1"].message
    assert "cut off" in out["gb-2-1"].message
    assert "one unit in its last digit" in out["g-2-1-1"].message
    assert "to 5 significant digits" in out["gb-1-1"].message
    assert "No known mistake gives this value" in out["g-2-1-2"].message


def test_z_instead_of_a_in_a_gradient_names_the_term() -> None:
    net = mazur()
    step = reference_step(net, np.array(X1), np.array(Y1))
    typed = f"{step.deltas[1][0, 0] * step.zs[0][0, 1]:.6g}"  # δ_1^[2] z_2^[1]
    (verdict,) = check_answers(net, X1, Y1, LR, {"g-2-1-2": typed})
    assert verdict.mistake == "z-for-a"
    assert "the term a_2^[1] differs: you used z_2^[1]" in verdict.message


def test_the_hint_is_the_first_wrong_answer_from_the_output_layer_down() -> None:
    net = mazur()
    answers = right(net, X1, Y1)
    answers["g-1-1-1"] = "0.123"  # wrong, in the first layer
    answers["gb-2-2"] = "0.0380982"  # wrong, in the output layer
    verdicts = check_answers(net, X1, Y1, LR, answers)
    assert [v.key for v in verdicts] == [k for k in answer_keys(net) if k in answers]
    assert [v.key for v in verdicts if v.verdict == "wrong"] == ["gb-2-2", "g-1-1-1"]
    hint = first_hint(verdicts)
    assert hint is not None and hint.startswith("∂L/∂b_2^[2] = 0.0380982 is not right.")
    assert "equation (3)" in hint


def test_the_values_are_the_engines_and_match_central_differences() -> None:
    net = mazur()
    X, Y = np.array(X2), np.array(Y2)
    values = step_values(net, X, Y, LR, sample=2)
    grads = net.gradients(X, Y)
    for number, (dW, db) in enumerate(grads, start=1):
        for (j, k), g in np.ndenumerate(dW):
            assert values[f"g-{number}-{j + 1}-{k + 1}"] == pytest.approx(g, rel=1e-14)
        for j, g in enumerate(db):
            assert values[f"gb-{number}-{j + 1}"] == pytest.approx(g, rel=1e-14)
    assert bp.gradcheck(net, X, Y).passed  # the engine's, so these, agree with central differences
    trace = bp.explain(net, X, Y, lr=LR)  # the numbers the sandbox shows are the ones checked
    for d in (d for d in trace.deltas if d.sample == 2):
        assert values[f"d-{d.layer}-{d.unit}"] == d.delta
    for g in trace.gradients:
        assert abs(g.numeric - values[f"{'g' if g.name == 'w' else 'gb'}-{g.layer}-{g.unit}"
                                      + (f"-{g.input}" if g.name == "w" else "")]) < 1e-9


@pytest.mark.parametrize("build", [
    lambda: bp.Network([bp.Dense(3, 4, activation="tanh"), bp.Dense(4, 3, activation="softmax")],
                       loss="cross_entropy", dtype="float64", seed=1),
    lambda: bp.Network([bp.Dense(3, 4, activation="relu"), bp.Dense(4, 2, activation="sigmoid",
                                                                    bias=False)],
                       loss="binary_cross_entropy", dtype="float64", seed=2),
    lambda: bp.Network([bp.Dense(3, 2, activation="linear", bias=False)], loss="mse",
                       dtype="float64", seed=3),
    lambda: bp.Network([bp.Dense(3, 3, activation="leaky_relu"), bp.Dense(3, 3, activation="tanh"),
                        bp.Dense(3, 2, activation="softmax")], loss="mse", dtype="float64",
                       seed=4),
])
def test_any_network_and_batch_checks_all_right_answers(build) -> None:  # type: ignore[no-untyped-def]
    net = build()
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(3, 3))
    Y = np.eye(net.n_outputs)[[0, 1, 1]] if net.n_outputs > 1 else rng.uniform(size=(3, 1))
    before = net.params.copy()
    for sample in (1, 3):
        answers = right(net, X, Y, digits=7, sample=sample)
        verdicts = check_answers(net, X, Y, LR, answers, sample=sample)
        assert len(verdicts) == len(answer_keys(net)) == len(answers)
        assert {v.verdict for v in verdicts} == {"right"}
    np.testing.assert_array_equal(net.params, before)  # read, never changed
    # a wrong answer on any of them gets a hint that names its equation
    key = answer_keys(net)[0]
    (verdict,) = check_answers(net, X, Y, LR, {key: "123.456"})
    assert verdict.verdict == "wrong" and "It comes from equation (1)" in verdict.message


def test_a_zero_is_right_only_where_the_value_is_zero() -> None:
    net = bp.Network([bp.Dense(2, 2, activation="relu"), bp.Dense(2, 1, activation="linear")],
                     loss="mse", dtype="float64")
    hidden, output = net.layers
    assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
    hidden.W, hidden.b = [[1.0, 1.0], [-1.0, -1.0]], [0.0, 0.0]  # unit 2 is off
    output.W, output.b = [[0.5, 0.5]], [0.0]
    out = {v.key: v.verdict for v in check_answers(net, [[1.0, 2.0]], [[0.0]], LR,
                                                    {"d-1-2": "0", "g-1-2-1": "0.000",
                                                     "d-1-1": "0", "d-2-1": "1.50"})}
    assert out == {"d-1-2": "right", "g-1-2-1": "right", "d-1-1": "wrong", "d-2-1": "right"}


def test_every_mistake_has_a_name_and_the_reference_rules_are_all_there() -> None:
    assert set(RULES) <= set(MISTAKES)
    assert {MISTAKES[name].name for name in MISTAKES if MISTAKES[name].known} >= {
        "σ′ dropped", "W instead of Wᵀ", "the updated weights used in the backward pass",
        "1/m forgotten", "1/m applied twice", "the sign of the update"}


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"answers": {"d-3-1": "0.1"}}, "2-2-2 network has no δ_1\\^\\[3\\]"),
    ({"answers": {"g-1-3-1": "0.1"}}, "has no ∂L/∂w_31\\^\\[1\\]"),
    ({"answers": {"delta": "0.1"}}, "is not one of d-L-J"),
    ({"sample": 2}, "sample must be one of 1 to 1"),
    ({"lr": -1.0}, "lr must be a finite number ≥ 0"),
])
def test_a_key_or_argument_the_network_cannot_have_is_an_option_error(
    kwargs: dict[str, object], problem: str,
) -> None:
    arguments: dict[str, object] = {"lr": LR, "answers": {"d-2-1": "0.1385"}} | kwargs
    with pytest.raises(OptionError, match=problem):
        check_answers(mazur(), X1, Y1, **arguments)  # type: ignore[arg-type]


def test_a_bias_answer_on_a_network_without_biases_is_refused() -> None:
    net = bp.Network([bp.Dense(2, 1, activation="sigmoid", bias=False)], dtype="float64")
    with pytest.raises(OptionError, match="has no ∂L/∂b_1"):
        check_answers(net, [[0.1, 0.2]], [[1.0]], LR, {"gb-1-1": "0.123"})
    assert "gb-1-1" not in answer_keys(net) and "b-1-1" not in answer_keys(net)


def test_networks_with_other_layers_are_refused() -> None:
    net = bp.Network([bp.Dense(2, 3), bp.Dropout(3, 0.5), bp.Dense(3, 1)], dtype="float64")
    with pytest.raises(OptionError, match="Dense layers only"):
        check_answers(net, [[0.1, 0.2]], [[1.0]], LR, {})
