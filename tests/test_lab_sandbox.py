"""/sandbox's logic without a server: presets, the numbers shown, the step, the check."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydantic", reason="the lab needs the extra backprop-mlp[lab]")

import backprop as bp
from backprop.cli.entry import main
from backprop.lab.sandbox.state import Architecture, Sandbox, SandboxError
from backprop.lab.sandbox.text import entry_texts
from backprop.teaching.answers import answer_keys, check_answers, first_hint, step_values
from backprop.teaching.reference import MISTAKES

#: The well-known 2-2-2 example: loss before the step, w5 after one step at η = 0.5.
MAZUR_LOSS = 0.298371109
MAZUR_W5_AFTER = 0.35891648


def mazur_network() -> bp.Network:
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    hidden, output = net.layers
    assert isinstance(hidden, bp.Dense) and isinstance(output, bp.Dense)
    hidden.W, hidden.b = [[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35]
    output.W, output.b = [[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60]
    return net


def explained(sandbox: Sandbox) -> bp.Trace:
    """bp.explain on an independent copy of the sandbox's network and batch."""
    return bp.explain(sandbox.net.copy(), sandbox.X.copy(), sandbox.Y.copy(), lr=sandbox.lr)


def assert_state_matches_trace(state: dict, trace: bp.Trace, sample: int = 1) -> None:
    assert state["loss"] == trace.loss_value
    for layer in state["layers"]:
        number = layer["layer"]
        for g in (g for g in trace.gradients if g.layer == number):
            if g.name == "w":
                assert layer["dW"][g.unit - 1][g.input - 1] == g.value
                assert layer["W"][g.unit - 1][g.input - 1] == g.old
            else:
                assert layer["db"][g.unit - 1] == g.value
        for unit in (u for u in trace.forward if u.layer == number and u.sample == sample):
            assert layer["z"][unit.unit - 1] == unit.z
            assert layer["a"][unit.unit - 1] == unit.a
        for d in (d for d in trace.deltas if d.layer == number and d.sample == sample):
            assert layer["delta"][d.unit - 1] == d.delta


def test_classic_preset_is_explains_default_network() -> None:
    sandbox = Sandbox("classic-231")
    state = sandbox.state()
    assert state["architecture"]["widths"] == [2, 3, 1]
    assert state["architecture"]["bias"] is False
    assert all(layer["b"] is None for layer in state["layers"])
    # the same network as `backprop explain` without options: compare with its JSON trace
    from backprop.cli.explain import CLASSIC_WEIGHTS

    assert [layer["W"] for layer in state["layers"]] == CLASSIC_WEIGHTS
    assert state["X"] == [[0.35, 0.9]] and state["Y"] == [[0.5]] and state["lr"] == 0.5
    assert_state_matches_trace(state, explained(sandbox))


def test_mazur_preset_gives_the_known_loss_and_w5_after_one_step() -> None:
    sandbox = Sandbox("mazur-222")
    state = sandbox.state()
    assert math.isclose(state["loss"], MAZUR_LOSS, abs_tol=5e-10)
    trace = bp.explain(mazur_network(), [[0.05, 0.10]], [[0.01, 0.99]], lr=0.5)
    assert_state_matches_trace(state, trace)
    sandbox.step()
    after = sandbox.state()
    w5 = after["layers"][1]["W"][0][0]  # h1 → o1: layer 2, unit 1, input 1
    assert math.isclose(w5, MAZUR_W5_AFTER, abs_tol=5e-9)
    assert after["last_step"]["w-2-1-1"] == [0.4, w5]
    # the step is the trace's update for every parameter
    for g in trace.gradients:
        key = f"w-{g.layer}-{g.unit}-{g.input}" if g.name == "w" else f"b-{g.layer}-{g.unit}"
        old, new = after["last_step"][key]
        assert old == g.old and math.isclose(new, g.new, rel_tol=1e-14, abs_tol=1e-15)
    assert after["loss"] < state["loss"]


def test_every_number_drawn_has_the_trace_line_that_computes_it() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.add_sample()
    sandbox.select_sample(2)
    state = sandbox.state()
    lines = explained(sandbox).to_text().splitlines()
    texts = state["texts"]
    for layer in state["layers"]:
        number = layer["layer"]
        for j in range(1, layer["n_out"] + 1):
            for kind in ("z", "a", "d", "gb", "ub"):
                assert f"  {texts[f'{kind}-{number}-{j}']}" in lines
            for k in range(1, layer["n_in"] + 1):
                assert f"  {texts[f'g-{number}-{j}-{k}']}" in lines
                assert f"  {texts[f'u-{number}-{j}-{k}']}" in lines
    # the second sample's lines, not the first's: z_1^[1] of sample 2 uses x = 1 − (0.05, 0.1)
    assert texts["z-1-1"].startswith("z_1^[1] = 0.15·0.95 + 0.2·0.9 + 0.35 = ")
    assert texts["d-2-1"].startswith("δ_1^[2] = ")
    assert texts["g-2-1-2"].startswith("∂L/∂w_12^[2] = 1/m Σ_i δ_1^[2] a_2^[1]")
    assert "L = 1/2 (" in texts["loss"]


def test_softmax_delta_text_keeps_its_g_line() -> None:
    sandbox = Sandbox("custom")
    sandbox.configure(Architecture([2, 3, 3], ["tanh", "softmax"], loss="mse", seed=3))
    texts = sandbox.state()["texts"]
    first, second = texts["d-2-1"].split("\n")
    assert first.startswith("g_1 = ") and second.startswith("δ_1^[2] = a_1^[2](g_1 − Σ_i g_i a_i)")


def test_check_passes_with_the_right_rule() -> None:
    for preset in ("classic-231", "mazur-222"):
        sandbox = Sandbox(preset)
        check = sandbox.run_check()
        assert check["verdict"] == "PASS" and check["error"] is None
        assert all(t["passed"] and t["relative_error"] < 1e-6 for t in check["tensors"])
        assert all(edge["relative_error"] < 1e-6 for edge in check["edges"].values())
        report = bp.gradcheck(sandbox.net, sandbox.X, sandbox.Y)
        assert [t["relative_error"] for t in check["tensors"]] == [
            t.relative_error for t in report.tensors]


@pytest.mark.parametrize("rule", list(MISTAKES))
def test_every_broken_rule_fails_the_check_on_mazur(rule: str) -> None:
    sandbox = Sandbox("mazur-222")
    note = sandbox.set_rule(rule)
    check = sandbox.run_check()
    assert check["verdict"] == "FAIL", check
    assert check["rule"] == rule
    wrong = [key for key, edge in check["edges"].items() if edge["relative_error"] > 1e-3]
    assert wrong, "the check names no wrong edge"
    assert any(not t["passed"] and t["relative_error"] > 1e-3 for t in check["tensors"])
    if rule in ("forget-1/m", "sum-not-mean"):
        assert note is not None and len(sandbox.X) == 2 and check["samples"] == 2
    else:
        assert note is None and check["samples"] == 1
    if rule in ("drop-sigma-prime", "stale-weights", "transpose-W"):
        # a hidden-error rule: the output layer is still right, the hidden one is not
        assert all(check["edges"][f"w-2-{j}-{k}"]["relative_error"] < 1e-6
                   for j in (1, 2) for k in (1, 2))
        assert all(check["edges"][f"w-1-{j}-{k}"]["relative_error"] > 1e-3
                   for j in (1, 2) for k in (1, 2))


def test_the_server_grades_each_edge_and_sends_the_legend_of_its_grades() -> None:
    from backprop.lab.sandbox.check import TOLERANCE, WARN_ERROR, edge_grade

    assert TOLERANCE == 1e-6 and WARN_ERROR == 1e-3
    assert [edge_grade(e, False) for e in (0.0, 1e-6, 1.1e-6, 1e-3, 1.1e-3)] == [
        "ok", "ok", "warn", "warn", "bad"]
    assert edge_grade(0.5, True) == "kink"
    sandbox = Sandbox("mazur-222")
    sandbox.set_rule("drop-sigma-prime")
    check = sandbox.run_check()
    expected = {key: "ok" if edge["relative_error"] <= 1e-6 else
                "warn" if edge["relative_error"] <= 1e-3 else "bad"
                for key, edge in check["edges"].items()}
    assert {key: edge["grade"] for key, edge in check["edges"].items()} == expected
    assert {"ok", "bad"} <= set(expected.values())  # the output layer right, the hidden wrong
    assert {t["result"] for t in check["tensors"]} == {"ok", "FAIL"}
    assert all(t["result"] == ("ok" if t["passed"] else "FAIL") for t in check["tensors"])
    legend = sandbox.state()["options"]["grades"]
    assert legend == [{"grade": "ok", "text": "≤ 1e-06"}, {"grade": "warn", "text": "≤ 0.001"},
                      {"grade": "bad", "text": "larger"},
                      {"grade": "kink", "text": "at a ReLU kink"}]


def test_forget_one_over_m_errs_by_the_batch_size() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.set_rule("forget-1/m")
    check = sandbox.run_check()
    for key, edge in check["edges"].items():
        ratio = 1.0 if key.startswith("b-") else 2.0  # ∂L/∂b stays averaged
        assert math.isclose(edge["analytic"], ratio * edge["numeric"], rel_tol=1e-6, abs_tol=1e-12)


def test_transpose_rule_on_a_layer_that_is_not_square_says_why() -> None:
    sandbox = Sandbox("classic-231")
    sandbox.set_rule("transpose-W")
    check = sandbox.run_check()
    assert check["verdict"] == "N/A" and "square" in check["error"]
    sandbox.set_rule("none")
    assert sandbox.run_check()["verdict"] == "PASS"


def test_an_entry_at_a_relu_kink_is_flagged_and_left_out() -> None:
    sandbox = Sandbox("custom")
    sandbox.configure(Architecture([2, 2, 1], ["relu", "linear"], seed=1))
    sandbox.set_sample(1, [1.0, 1.0], [0.5])
    sandbox.set_weights([{"W": [[0.5, -0.5], [0.3, 0.2]], "b": [0.0, 0.1]},
                         {"W": [[0.7, -0.4]], "b": [0.0]}])  # z_1^[1] = 0: on the kink
    check = sandbox.run_check()
    kinked = {key for key, edge in check["edges"].items() if edge["kink"]}
    assert kinked == {"w-1-1-1", "w-1-1-2", "b-1-1"}
    assert check["verdict"] == "PASS"
    assert any("kink" in warning for warning in check["warnings"])


def test_break_rule_unknown_is_refused_naming_the_field() -> None:
    sandbox = Sandbox()
    with pytest.raises(SandboxError) as caught:
        sandbox.set_rule("no-such-rule")
    assert caught.value.field == "rule" and "drop-sigma-prime" in str(caught.value)
    assert sandbox.rule == "none"


@pytest.mark.parametrize(("arch", "field"), [
    (Architecture([2], ["sigmoid"]), "widths"),
    (Architecture([2, 3, 3, 3, 3, 1], ["tanh"] * 5), "widths"),
    (Architecture([2, 9, 1], ["tanh", "sigmoid"]), "widths.1"),
    (Architecture([2, 3, 1], ["tanh"]), "activations"),
    (Architecture([2, 3, 1], ["tanh", "rleu"]), "activations.1"),
    (Architecture([2, 3, 1], ["tanh", "sigmoid"], loss="hinge"), "loss"),
    (Architecture([2, 3, 1], ["tanh", "sigmoid"], init="zeros"), "init"),
    (Architecture([2, 3, 1], ["tanh", "softmax"], loss="cross_entropy"), "loss"),
])
def test_a_bad_custom_network_is_refused_naming_the_field(arch: Architecture, field: str) -> None:
    sandbox = Sandbox("mazur-222")
    with pytest.raises(SandboxError) as caught:
        sandbox.configure(arch)
    assert caught.value.field == field
    assert sandbox.preset == "mazur-222"  # unchanged


def test_custom_network_up_to_four_layers_of_eight() -> None:
    sandbox = Sandbox()
    sandbox.configure(Architecture([8, 8, 8, 8, 3], ["relu", "tanh", "leaky_relu", "softmax"],
                                   loss="cross_entropy", init="he", seed=7))
    state = sandbox.state()
    assert state["preset"] == "custom" and len(state["layers"]) == 4
    assert state["Y"] == [[1.0, 0.0, 0.0]]
    assert_state_matches_trace(state, explained(sandbox))
    assert sandbox.run_check()["verdict"] == "PASS"


def test_editing_a_weight_changes_the_numbers_like_explain() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.set_parameter(2, "W", 1, 1, -1.25)
    sandbox.set_parameter(1, "b", 2, None, 0.5)
    net = mazur_network()
    net.layers[1].W[0, 0] = -1.25  # type: ignore[attr-defined]
    net.layers[0].b[1] = 0.5  # type: ignore[attr-defined]
    assert_state_matches_trace(sandbox.state(), bp.explain(net, [[0.05, 0.1]], [[0.01, 0.99]]))
    for args, field in [((3, "W", 1, 1, 0.0), "layer"), ((1, "W", 3, 1, 0.0), "unit"),
                        ((1, "W", 1, 3, 0.0), "source"), ((1, "W", 1, None, 0.0), "source")]:
        with pytest.raises(SandboxError) as caught:
            sandbox.set_parameter(*args)
        assert caught.value.field == field
    with pytest.raises(SandboxError) as caught:
        Sandbox("classic-231").set_parameter(1, "b", 1, None, 1.0)
    assert caught.value.field == "name"


def test_weights_json_is_what_backprop_explain_reads(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.set_parameter(1, "W", 2, 1, 0.125)
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(sandbox.weights_json()))
    assert main(["explain", "--weights", str(path), "--x", "0.05,0.1", "--y", "0.01,0.99",
                 "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    # the JSON prints 6 significant digits; the edit moved the loss off the preset's
    assert math.isclose(printed["loss_value"], sandbox.state()["loss"], rel_tol=1e-5)
    assert not math.isclose(printed["loss_value"], MAZUR_LOSS, rel_tol=1e-5)


def test_pasted_weights_of_the_same_shape_keep_the_preset() -> None:
    sandbox = Sandbox("mazur-222")
    weights = sandbox.weights_json()
    weights[1]["W"][0][0] = 0.9
    sandbox.set_weights(weights)
    state = sandbox.state()
    assert state["preset"] == "mazur-222" and state["layers"][1]["W"][0][0] == 0.9


def test_pasted_weights_of_a_new_shape_make_a_new_custom_network_and_say_so() -> None:
    sandbox = Sandbox("custom")
    note = sandbox.set_weights([{"W": [[0.1, 0.2, 0.3]]}])
    state = sandbox.state()
    assert state["preset"] == "custom" and state["architecture"]["widths"] == [3, 1]
    assert state["architecture"]["bias"] is False and len(state["X"][0]) == 3
    assert note == ("Built a new 3→1 network without biases (every layer sigmoid) from the "
                    "pasted weights; the batch starts again from one sample.")
    # the same input and output widths keep the batch
    sandbox.add_sample()
    before = sandbox.state()
    note = sandbox.set_weights([{"W": [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]}, {"W": [[1.0, -1.0]]}])
    assert note is not None and "the batch is kept" in note
    after = sandbox.state()
    assert after["architecture"]["widths"] == [3, 2, 1]
    assert after["X"] == before["X"] and after["Y"] == before["Y"]


def test_pasted_weights_of_another_shape_on_a_preset_are_refused_in_one_sentence() -> None:
    sandbox = Sandbox("mazur-222")
    before = sandbox.state()
    for weights in ([{"W": [[0.1, 0.2, 0.3]]}],  # another shape
                    [{"W": [[0.15, 0.2], [0.25, 0.3]]}, {"W": [[0.4, 0.45], [0.5, 0.55]]}]):
        with pytest.raises(SandboxError) as caught:
            sandbox.set_weights(weights)
        message = str(caught.value)
        assert message.startswith("These weights make a ") and message.count(".") == 1, message
        assert "mazur-222 is a 2→2→2 network with biases" in message
        assert sandbox.state() == before


@pytest.mark.parametrize(("weights", "field"), [
    ([{"W": [[0.1, 0.2], [0.3]]}], "layers.0.W"),
    ([{"W": [[0.1, 0.2]]}, {"W": [[0.1, 0.2]]}], "layers.1.W"),
    ([{"W": [[0.1, 0.2]], "b": [0.1, 0.2]}], "layers.0.b"),
    ([{"W": [[0.1, 0.2]], "b": [0.1]}, {"W": [[0.3]]}], "layers"),
])
def test_bad_pasted_weights_are_refused_naming_the_field(weights: list, field: str) -> None:
    sandbox = Sandbox("mazur-222")
    with pytest.raises(SandboxError) as caught:
        sandbox.set_weights(weights)
    assert caught.value.field == field
    assert sandbox.state()["layers"][0]["W"] == [[0.15, 0.2], [0.25, 0.3]]


def test_the_batch_grows_shrinks_and_checks_its_samples() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.add_sample()
    assert sandbox.state()["X"] == [[0.05, 0.1], [0.95, 0.9]]
    assert sandbox.state()["Y"] == [[0.01, 0.99], [0.99, 0.01]]
    sandbox.set_sample(2, [0.5, -0.5], [0.2, 0.7])
    assert_state_matches_trace(sandbox.state(), explained(sandbox))
    for args, field in [((3, [0.1, 0.2], [0.1, 0.2]), "index"),
                        ((1, [0.1], [0.1, 0.2]), "x"), ((1, [0.1, 0.2], [0.1]), "y")]:
        with pytest.raises(SandboxError) as caught:
            sandbox.set_sample(*args)
        assert caught.value.field == field
    sandbox.select_sample(2)
    sandbox.remove_sample(1)
    assert sandbox.state()["X"] == [[0.5, -0.5]] and sandbox.sample == 1
    with pytest.raises(SandboxError):
        sandbox.remove_sample(1)
    for _ in range(7):
        sandbox.add_sample()
    with pytest.raises(SandboxError) as caught:
        sandbox.add_sample()
    assert caught.value.field == "samples"


def test_cross_entropy_targets_must_be_classes() -> None:
    sandbox = Sandbox()
    sandbox.configure(Architecture([2, 3], ["softmax"], loss="cross_entropy"))
    sandbox.add_sample()
    assert sandbox.state()["Y"] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    with pytest.raises(SandboxError) as caught:
        sandbox.set_sample(1, [0.1, 0.2], [0.5, 0.7, 0.1])
    assert caught.value.field == "y"


def test_changes_forget_the_stale_check_and_step() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.step()
    sandbox.run_check()
    sandbox.set_lr(0.1)
    state = sandbox.state()
    assert state["check"] is None and state["last_step"] is None and state["lr"] == 0.1
    with pytest.raises(SandboxError) as caught:
        sandbox.set_lr(float("nan"))
    assert caught.value.field == "lr"


def test_the_sandbox_never_touches_the_engine_rule() -> None:
    """A broken rule changes only the check: the step still follows the engine."""
    broken, right = Sandbox("mazur-222"), Sandbox("mazur-222")
    broken.set_rule("drop-sigma-prime")
    broken.step()
    right.step()
    assert np.array_equal(broken.net.params, right.net.params)


def test_entry_texts_of_an_empty_text_is_empty() -> None:
    assert entry_texts("") == {}


def test_a_step_that_would_overflow_is_refused_and_changes_nothing() -> None:
    sandbox = Sandbox()
    sandbox.configure(Architecture([1, 1], ["linear"]))
    sandbox.set_parameter(1, "W", 1, 1, 1e4)
    sandbox.set_sample(1, [1e4], [0.0])
    sandbox.set_lr(100.0)
    with np.errstate(all="ignore"):
        for _ in range(40):
            try:
                sandbox.step()
            except SandboxError as error:
                assert error.field == "lr" and "infinite" in str(error)
                break
        else:
            pytest.fail("the weights never overflowed")
    kept = sandbox.net.params.copy()
    assert np.all(np.isfinite(kept)) and np.isfinite(sandbox.state()["loss"])
    with pytest.raises(SandboxError):
        sandbox.step()
    assert np.array_equal(sandbox.net.params, kept)


# -- check my answer, the four equations, a broken rule's values -----------------------------

def typed(sandbox: Sandbox, keys: list[str], digits: int = 6) -> dict[str, str]:
    """The right numbers of these keys, as a learner would type them."""
    values = step_values(sandbox.net, sandbox.X, sandbox.Y, sandbox.lr, sample=sandbox.sample)
    return {key: f"{values[key]:#.{digits}g}" for key in keys}


def test_check_my_answer_asks_every_delta_and_gradient_and_fewer_when_chosen() -> None:
    sandbox = Sandbox("mazur-222")
    assert sandbox.state()["answer"]["asked"] == []
    sandbox.set_answer_mode(True, ["d", "gb", "g"], None)
    asked = sandbox.state()["answer"]["asked"]
    assert asked == answer_keys(sandbox.net, ("d", "gb", "g"))
    assert len(asked) == 4 + 4 + 8 and asked[:2] == ["d-2-1", "d-2-2"]  # the output layer first
    sandbox.set_answer_mode(True, ["d"], [1])
    assert sandbox.state()["answer"]["asked"] == ["d-1-1", "d-1-2"]
    sandbox.set_answer_mode(True, ["w", "b"], None)
    assert sandbox.state()["answer"]["asked"][:4] == ["w-2-1-1", "w-2-1-2", "w-2-2-1", "w-2-2-2"]
    with pytest.raises(SandboxError) as caught:
        sandbox.set_answer_mode(True, ["d"], [3])
    assert caught.value.field == "layers"
    classic = Sandbox("classic-231")  # no biases: no ∂L/∂b to ask for
    classic.set_answer_mode(True, ["d", "gb", "g"], None)
    assert not any(key.startswith("gb-") for key in classic.state()["answer"]["asked"])


def test_submitted_answers_are_checked_by_the_checker_and_the_hint_is_its_first() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.set_answer_mode(True, ["d", "gb", "g"], None)
    answers = typed(sandbox, sandbox.asked())
    answers["d-1-1"] = "0.0363503"  # σ′ dropped
    answers["g-2-1-1"] = "0.08"  # too few digits
    answers["gb-1-2"] = "  "  # left empty
    sandbox.submit_answers(answers)
    state = sandbox.state()["answer"]
    expected = check_answers(sandbox.net, sandbox.X, sandbox.Y, sandbox.lr,
                             {k: v for k, v in answers.items() if v.strip()})
    assert {key: v["verdict"] for key, v in state["verdicts"].items()} == \
        {v.key: v.verdict for v in expected}
    assert "gb-1-2" not in state["verdicts"] and "gb-1-2" not in state["given"]
    assert state["verdicts"]["d-1-1"]["mistake"] == "drop-sigma-prime"
    assert state["hint"] == first_hint(expected) and "σ′ dropped" in state["hint"]
    assert state["refusals"] == ["∂L/∂w_11^[2]: “0.08” has 1 significant digit; give at least "
                                 "three."]
    assert state["summary"] == "13 right, 1 wrong, 1 refused of 15 checked."


def test_answers_need_the_mode_on_and_numbers_that_were_asked() -> None:
    sandbox = Sandbox("mazur-222")
    with pytest.raises(SandboxError) as caught:
        sandbox.submit_answers({"d-2-1": "0.138"})
    assert caught.value.field == "type"
    sandbox.set_answer_mode(True, ["d"], [2])
    with pytest.raises(SandboxError) as caught:
        sandbox.submit_answers({"d-1-1": "0.138"})
    assert caught.value.field == "answers.d-1-1"


def test_a_change_forgets_the_verdicts_and_a_new_network_the_answers() -> None:
    sandbox = Sandbox("mazur-222")
    sandbox.set_answer_mode(True, ["d", "gb", "g"], None)
    sandbox.submit_answers(typed(sandbox, ["d-2-1"]))
    assert sandbox.state()["answer"]["checked"]
    sandbox.set_parameter(2, "W", 1, 1, 0.9)
    assert not sandbox.state()["answer"]["checked"]
    assert sandbox.state()["answer"]["given"] == typed(Sandbox("mazur-222"), ["d-2-1"])
    sandbox.add_sample()
    sandbox.submit_answers(typed(sandbox, ["d-1-1"]))
    sandbox.select_sample(2)  # the δ answered were sample 1's
    assert not sandbox.state()["answer"]["checked"]
    network = sandbox.state()["network"]
    sandbox.load_preset("classic-231")
    state = sandbox.state()
    assert state["network"] == network + 1 and state["answer"]["given"] == {}
    assert state["answer"]["on"]  # the mode stays on for the new network


@pytest.mark.parametrize("setup", ["classic-231", "mazur-222", "custom", "batch", "pasted"])
def test_the_check_works_on_every_preset_a_custom_network_a_batch_and_pasted_weights(
    setup: str,
) -> None:
    sandbox = Sandbox("mazur-222" if setup in ("batch", "pasted") else setup)
    if setup == "batch":
        sandbox.add_sample()
        sandbox.add_sample()
        sandbox.select_sample(3)
    if setup == "pasted":
        sandbox.paste_weights('{"layers": [{"W": [[0.1, -0.2], [0.3, 0.4]], "b": [0.5, -0.6]},'
                              ' {"W": [[0.7, -0.8], [0.9, 1.0]], "b": [-1.1, 1.2]}]}')
        assert sandbox.state()["preset"] == "mazur-222"
    sandbox.set_answer_mode(True, ["d", "gb", "g", "w", "b"], None)
    asked = sandbox.asked()
    sandbox.submit_answers(typed(sandbox, asked))
    state = sandbox.state()["answer"]
    assert len(state["verdicts"]) == len(asked) > 0
    assert {v["verdict"] for v in state["verdicts"].values()} == {"right"}
    # and what the learner sees checked is what the page showed before the mode was on
    page = sandbox.state()
    shown = {f"d-{layer['layer']}-{j + 1}": d for layer in page["layers"]
             for j, d in enumerate(layer["delta"])}
    values = step_values(sandbox.net, sandbox.X, sandbox.Y, sandbox.lr, sample=sandbox.sample)
    assert all(values[key] == value for key, value in shown.items())


@pytest.mark.parametrize("rule", list(MISTAKES))
def test_a_broken_rule_gives_the_wrong_value_of_every_number_it_changes(rule: str) -> None:
    sandbox = Sandbox("mazur-222")
    assert sandbox.state()["broken"] is None
    sandbox.set_rule(rule)  # the 1/m rules add a second sample
    broken = sandbox.state()["broken"]
    assert broken["rule"] == rule and broken["error"] is None
    right = step_values(sandbox.net, sandbox.X, sandbox.Y, sandbox.lr)
    wrong = step_values(sandbox.net, sandbox.X, sandbox.Y, sandbox.lr, mistake=rule)
    changed = {key for key in right if key.split("-")[0] in ("d", "g", "gb")
               and not math.isclose(right[key], wrong[key], rel_tol=1e-12)}
    assert set(broken["values"]) == changed and changed
    assert all(broken["values"][key] == wrong[key] for key in changed)
    # the output layer's error is (1): no backward rule of these changes it
    assert not any(key.startswith("d-2-") for key in changed)


def test_a_broken_rule_that_cannot_apply_says_why() -> None:
    sandbox = Sandbox("classic-231")
    sandbox.set_rule("transpose-W")
    broken = sandbox.state()["broken"]
    assert broken["values"] == {} and broken["error"].startswith("Transpose-W at layer 2: W δ in place of Wᵀ δ needs square")


def test_the_state_lists_the_equations_and_tags_every_number_with_its_own() -> None:
    sandbox = Sandbox("mazur-222")
    state = sandbox.state()
    assert [e["label"] for e in state["equations"]] == ["forward", "1", "2", "3", "4", "update"]
    assert state["equations"][1]["text"] == "δ^[L] = ∂ℓ/∂a^[L] ⊙ σ′(z^[L])"
    labels = state["labels"]
    assert labels["d-2-1"] == {"name": "δ_1^[2]", "equation": "1"}
    assert labels["d-1-2"] == {"name": "δ_2^[1]", "equation": "2"}
    assert labels["gb-1-1"] == {"name": "∂L/∂b_1^[1]", "equation": "3"}
    assert labels["g-2-1-2"] == {"name": "∂L/∂w_12^[2]", "equation": "4"}
    assert labels["z-1-1"]["equation"] == labels["a-2-2"]["equation"] == "forward"
    assert labels["w-1-2-1"]["name"] == "w_21^[1]"  # the notation of the worked step
    sandbox.configure(Architecture([2, 3], ["softmax"], loss="cross_entropy"))
    notes = {e["label"]: e["note"] for e in sandbox.state()["equations"]}
    assert "δ^[L] = a^[L] − y" in notes["1"] and notes["2"] == "this network has no hidden layer"


@pytest.mark.parametrize(("text", "message"), [
    ("[{", "The weights are not valid JSON (line 1, column 3): expecting property name "
           "enclosed in double quotes."),
    ('{"W": [[1]]}', 'The weights must be a list of layers, each {"W": [[...], ...], "b": [...]}.'),
    ('[{"b": [1]}]', 'Layer 1 of the weights has no W; give each layer as {"W": [[...], ...], '
                     '"b": [...]}.'),
    ('[{"W": [[1, "x"]]}]', 'In row 1 of layer 1\'s W, "x" is not a number.'),
    ('[{"W": [[1, NaN]]}]', "In row 1 of layer 1's W, nan is not a finite number."),
    ('[{"W": [[1, 2e4]]}]', "In row 1 of layer 1's W, 20000.0 is outside ±10000."),
    ('[{"W": [[0.1, 0.2], [0.3]], "b": [0, 0]}, {"W": [[1, 1], [1, 1]], "b": [0, 0]}]',
     "Layer 1's W has rows of different lengths (1 and 2); every row needs one number per "
     "unit of the layer below."),
    ('[{"W": [[0.1, 0.2, 0.3]]}]', "These weights make a 3→1 network without biases, but "
     "mazur-222 is a 2→2→2 network with biases; choose custom in the network menu to use "
     "another shape."),
    ('[{"W": [[1]], "B": [1]}]', "Layer 1 of the weights has 'B', which is neither W nor b."),
])
def test_pasted_text_that_is_not_weights_for_this_network_is_refused_in_one_sentence(
    text: str, message: str,
) -> None:
    sandbox = Sandbox("mazur-222")
    before = sandbox.state()
    with pytest.raises(SandboxError) as caught:
        sandbox.paste_weights(text)
    assert str(caught.value) == message
    assert sandbox.state() == before
