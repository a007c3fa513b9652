"""One step worked by hand and checked (backprop.teaching.exercise): the forward pass's
numbers by the checker's rule, the others by check_answers, blanks left out, the table."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.errors import OptionError, OptionTypeError
from backprop.teaching.answers import answer_keys, check_answers
from backprop.teaching.exercise import Checked, Exercise

X, Y, LR = [0.35, 0.9], 0.5, 0.5


def classic() -> bp.Network:
    """The 2-3-1 sigmoid network without biases."""
    net = bp.Network([bp.Dense(2, 3, activation="sigmoid", bias=False),
                      bp.Dense(3, 1, activation="sigmoid", bias=False)], loss="mse",
                     dtype="float64")
    net.layers[0].W = [[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]]  # type: ignore[attr-defined]
    net.layers[1].W = [[0.3, 0.9, 0.5]]  # type: ignore[attr-defined]
    return net


def typed(values: dict[str, float], digits: int = 6) -> dict[str, str]:
    return {key: f"{value:#.{digits}g}" for key, value in values.items()}


def test_the_keys_are_the_forward_pass_up_then_the_checkers_down() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    keys = list(step.blank())
    assert keys[:8] == ["z-1-1", "z-1-2", "z-1-3", "a-1-1", "a-1-2", "a-1-3", "z-2-1", "a-2-1"]
    assert keys[8:] == answer_keys(step.net)
    assert set(step.blank()) == set(step.values()) and set(step.blank().values()) == {""}
    assert list(step.blank(kinds=("d",), layers=(1,))) == ["d-1-1", "d-1-2", "d-1-3"]
    assert list(step.blank(kinds=("a", "d"), layers=(2,))) == ["a-2-1", "d-2-1"]
    with pytest.raises(OptionError, match="kind 'delta' is not one of z, a, d"):
        step.blank(kinds=("delta",))


def test_the_forward_values_are_the_sample_of_the_worked_step() -> None:
    net = classic()
    values = Exercise(net, X, Y, lr=LR).forward_values()
    z1 = net.layers[0].W @ np.array(X)  # type: ignore[attr-defined]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = float(net.layers[1].W[0] @ a1)  # type: ignore[attr-defined]
    assert [values[f"z-1-{j}"] for j in (1, 2, 3)] == pytest.approx(z1, rel=1e-15)
    assert [values[f"a-1-{j}"] for j in (1, 2, 3)] == pytest.approx(a1, rel=1e-15)
    assert values["z-2-1"] == pytest.approx(z2, rel=1e-15)
    assert round(values["a-2-1"], 6) == 0.747784
    trace = bp.explain(net, X, Y, lr=LR)  # the numbers the worked step prints
    for row in trace.forward:
        assert values[f"z-{row.layer}-{row.unit}"] == row.z
        assert values[f"a-{row.layer}-{row.unit}"] == row.a


def test_every_right_number_is_right_and_the_network_is_untouched() -> None:
    net = classic()
    before = net.params.copy()
    step = Exercise(net, X, Y, lr=LR)
    for digits in (3, 6, 17):
        checked = step.check(typed(step.values(), digits))
        assert checked.all_right and checked.mistakes == {} and checked.hint is None
        assert len(checked.verdicts) == 30 and checked.blank == ()
    np.testing.assert_array_equal(net.params, before)


def test_the_backward_verdicts_are_check_answers_own() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    answers = {"d-2-1": "0.247784", "g-1-2-1": "0.00328554", "w-2-1-1": "0.316"}
    ours = [v for v in step.check(answers).verdicts]
    assert ours == check_answers(step.net, step.X, step.Y, LR, answers)
    assert step.check(answers).mistakes == {"d-2-1": "σ′ dropped",
                                            "w-2-1-1": "the sign of the update"}


def test_a_wrong_forward_number_gets_its_equation_and_z_for_a_is_named() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    v = step.values()
    checked = step.check({"z-1-1": "0.755", "a-1-2": f"{v['z-1-2']:#.6g}",
                          "z-2-1": f"{v['a-2-1']:#.6g}", "a-2-1": "0.123"})
    by_key = {verdict.key: verdict for verdict in checked.verdicts}
    assert by_key["z-1-1"].verdict == "right" and by_key["z-1-1"].equation == "forward"
    a12 = by_key["a-1-2"]
    assert a12.verdict == "wrong" and a12.expected == v["a-1-2"]
    assert a12.message == ("a_2^[1] = 0.680000 is not right. It comes from the forward pass: "
                           "a_2^[1] = σ(z_2^[1]), σ = sigmoid. Your value is z_2^[1], the value "
                           "before σ.")
    assert "Your value is a_1^[2] = σ(z_1^[2])." in by_key["z-2-1"].message
    assert "z_1^[2] = Σ_k w_1k^[2] a_k^[1], with a^[0] = x" in by_key["z-2-1"].message
    assert "Recompute z_1^[2], then sigmoid of it." in by_key["a-2-1"].message
    assert checked.hint == a12.message  # the first wrong one, from layer 1 up
    assert checked.mistakes == {}  # no named mistake in the forward pass


def test_the_forward_pass_of_a_network_with_biases_names_the_bias() -> None:
    net = bp.Network([bp.Dense(2, 2, activation="tanh"), bp.Dense(2, 1, activation="linear")],
                     loss="mse", dtype="float64", seed=0)
    step = Exercise(net, [[0.1, 0.2], [0.3, -0.4]], [[1.0], [0.0]], lr=0.1, sample=2)
    v = step.values()
    (verdict,) = step.check({"z-1-2": "9.99"}).verdicts
    assert "z_2^[1] = Σ_k w_2k^[1] a_k^[0] + b_2^[1]" in verdict.message
    hidden = net.layers[0]
    assert isinstance(hidden, bp.Dense)
    second = np.array([0.3, -0.4])
    assert v["z-1-2"] == pytest.approx(hidden.W[1] @ second + hidden.b[1], rel=1e-14)
    assert step.check(typed(v, 8)).all_right


def test_blank_answers_are_left_out_and_counted() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    nothing = step.check(step.blank())
    assert nothing.verdicts == () and len(nothing.blank) == 30 and not nothing.all_right
    assert nothing.summary().startswith("Nothing checked yet")
    partly = step.check(step.blank() | {"a-2-1": "0.748", "d-2-1": "  ", "d-1-1": None})
    assert [v.key for v in partly.verdicts] == ["a-2-1"] and len(partly.blank) == 29
    assert partly.summary() == "1 right, 0 wrong of 1 checked; 29 left blank. All right."


def test_refusals_are_the_checkers() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    checked = step.check({"z-1-1": "0.76", "a-1-1": "abc", "d-2-1": "0.05"})
    assert [v.verdict for v in checked.verdicts] == ["refused"] * 3
    assert checked.summary() == "0 right, 0 wrong, 3 refused of 3 checked."
    assert checked.notes()[0] == "z_1^[1]: “0.76” has 2 significant digits; give at least three."
    assert "is not a number" in checked.notes()[1]


def test_the_table_as_text_and_html() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    checked = step.check({"a-2-1": "0.748", "d-1-1": "0.0140199", "w-2-1-1": "<b>"})
    text = str(checked)
    lines = text.splitlines()
    assert lines[0] == "1 right, 1 wrong, 1 refused of 3 checked."
    assert lines[2].split() == ["number", "your", "answer", "verdict", "look", "again", "at",
                                "known", "mistake"]
    assert lines[3].split() == ["a_1^[2]", "0.748", "right"]
    assert lines[4].split() == ["w_11^[2]", "<b>", "refused"]
    wrong = next(line for line in lines if "δ_1^[1]" in line and "wrong" in line)
    assert wrong.split()[-5:] == ["wrong", "equation", "(2)", "σ′", "dropped"]
    assert lines[-2] == f"Start here: {checked.hint}" and checked.hint.startswith("δ_1^[1] = ")
    assert lines[-1] == "w_11^[2]: “<b>” is not a number; write it like 0.0123 or 1.23e-2."
    html = checked._repr_html_()
    assert "<table" in html and "✓ right" in html and "✗ wrong" in html and "? refused" in html
    assert "&lt;b&gt;</td>" in html and "<b>" not in html  # what was typed, escaped
    assert "equation (2)<br><em>known mistake: σ′ dropped</em>" in html
    assert html.count("<p>") == 3  # the summary, where to start, the refusal


def test_bad_arguments_are_refused_in_one_line() -> None:
    step = Exercise(classic(), X, Y, lr=LR)
    with pytest.raises(OptionError, match="answer 'gb-1-1': this step has no such number"):
        step.check({"gb-1-1": "0.1"})
    with pytest.raises(OptionTypeError, match="answers must be a dict"):
        step.check([("d-2-1", "0.1")])  # type: ignore[arg-type]
    with pytest.raises(OptionTypeError, match="answer 'z-1-1' must be text or a number"):
        step.check({"z-1-1": True})
    with pytest.raises(OptionTypeError, match="Exercise needs a Network"):
        Exercise("net", X, Y, lr=LR)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="sample must be one of 1 to 1"):
        Exercise(classic(), X, Y, lr=LR, sample=2)
    with pytest.raises(OptionError, match="lr must be a finite number"):
        Exercise(classic(), X, Y, lr=-1.0)
    assert isinstance(step.check({}), Checked)
