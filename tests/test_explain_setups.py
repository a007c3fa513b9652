"""The worked step for any setup: kinks, several steps, η = 0, the stale-weights pitfall,
cross-entropy's cancellation and arithmetic, leaky ReLU's slope, networks without biases,
softmax's order, and targets an output cannot reach.

Each test names the command that showed the old behaviour.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.nn.activations import LeakyReLU


def fmt(value: float) -> str:
    text = f"{value:.6g}"
    return "0" if text == "-0" else text


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backprop", "explain", *args],
                          capture_output=True, text=True, timeout=120)


def classic() -> bp.Network:
    net = bp.Network([bp.Dense(2, 3, activation="sigmoid", bias=False),
                      bp.Dense(3, 1, activation="sigmoid", bias=False)], loss="mse",
                     dtype="float64")
    net.layers[0].W = [[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]]  # type: ignore[attr-defined]
    net.layers[1].W = [[0.3, 0.9, 0.5]]  # type: ignore[attr-defined]
    return net


def on_a_kink() -> bp.Network:
    """z_1^[1] = 0.5·1 − 0.5·1 + 0 = 0 for x = (1, 1): unit 1 sits on the ReLU kink."""
    net = bp.Network([bp.Dense(2, 2, activation="relu"), bp.Dense(2, 1)], seed=0,
                     dtype="float64")
    net.layers[0].W = [[0.5, -0.5], [0.3, 0.2]]  # type: ignore[attr-defined]
    net.layers[0].b = [0.0, 0.1]  # type: ignore[attr-defined]
    return net


def test_a_relu_kink_is_flagged_as_gradcheck_flags_it_in_every_format() -> None:
    """`backprop explain --activation relu --weights W.json --x 1,1 --y 0.5 --output linear`
    printed "numeric …, relative error 1" at z = 0 with no word of why."""
    net = on_a_kink()
    trace = bp.explain(net, [1.0, 1.0], [0.5])
    report = bp.gradcheck(net, np.array([[1.0, 1.0]]), np.array([0.5]), step=trace.step)
    assert trace.kink_warnings == report.warnings and len(report.warnings) == 3
    flagged = {(g.layer, g.name, g.unit, g.input) for g in trace.gradients if g.at_kink}
    assert flagged == {(1, "w", 1, 1), (1, "w", 1, 2), (1, "b", 1, None)}
    assert trace.max_relative_error < 1e-8  # the kinks are left out, as gradcheck leaves them
    text, markdown, page = trace.to_text(), trace.to_markdown(), trace._repr_html_()
    for rendering in (text, markdown, page):
        assert rendering.count("at a kink, left out") >= 3, rendering
        assert report.warnings[0] in rendering
    assert "relative error 1)" not in text
    assert "(3 at a kink, left out)" in text
    data = json.loads(trace.to_json())
    assert data["kink_warnings"] == report.warnings
    assert [g["at_kink"] for g in data["gradients"]].count(True) == 3


def test_steps_continue_from_the_update_and_step_two_is_where_fit_is_after_one() -> None:
    """`backprop explain --steps 2` was "unrecognized arguments"."""
    X = np.array([[0.35, 0.9], [0.1, -0.4]])
    Y = np.array([[0.5], [0.2]])
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 1, activation="sigmoid")],
                     loss="mse", seed=5, dtype="float64")
    trace = bp.explain(net, X, Y, lr=0.3, steps=3)
    assert [s.step_number for s in trace.steps] == [1, 2, 3]
    fitted = net.copy()
    fitted.fit(X, Y, epochs=1, batch_size=2, optimizer=bp.SGD(lr=0.3), shuffle=False)
    np.testing.assert_allclose([g.old for g in trace.following[0].gradients], fitted.params,
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([g.new for g in trace.gradients],
                               [g.old for g in trace.following[0].gradients], rtol=0, atol=0)
    fitted.fit(X, Y, epochs=1, batch_size=2, optimizer=bp.SGD(lr=0.3), shuffle=False)
    np.testing.assert_allclose([g.old for g in trace.following[1].gradients], fitted.params,
                               rtol=1e-12, atol=1e-15)
    losses = [s.loss_value for s in trace.steps]
    assert losses[0] > losses[1] > losses[2]  # gradient descent lowers the loss
    text = trace.to_text()
    assert "Step 2 of 3" in text and "from the weights step 2 left" in text
    assert len(json.loads(trace.to_json())["following"]) == 2
    cli = run("--steps", "2", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["following"][0]["step_number"] == 2


def test_steps_keep_a_frozen_bias() -> None:
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid", train_bias=False),
                      bp.Dense(2, 1, activation="sigmoid")], loss="mse", seed=2,
                     dtype="float64")
    net.layers[0].b = [0.35, -0.2]  # type: ignore[attr-defined]
    trace = bp.explain(net, [0.05, 0.1], [0.01], steps=2)
    frozen = [g for g in trace.following[0].gradients if g.frozen]
    assert [g.old for g in frozen] == [0.35, -0.2]
    assert all(g.new == g.old for g in frozen) and all(g.value != 0 for g in frozen)
    assert "b_1^[1] = 0.35  (frozen: kept)" in trace.to_text()


def test_lr_zero_gives_the_gradients_and_no_update() -> None:
    """`backprop explain --lr 0` answered "--lr must be positive"."""
    trace = bp.explain(classic(), [0.35, 0.9], 0.5, lr=0)
    text = trace.to_text()
    assert "learning rate 0: no update" in text and "w ← w − η" not in text
    assert "←" not in text
    assert all(g.new == g.old for g in trace.gradients)
    cli = run("--lr", "0")
    assert cli.returncode == 0, cli.stderr
    assert "None: the learning rate is 0" in cli.stdout and "∂L/∂w_11^[1] =" in cli.stdout


def test_stale_weights_show_both_hidden_deltas_side_by_side() -> None:
    """`backprop explain --stale-weights` was "unrecognized arguments"."""
    cli = run("--stale-weights")
    assert cli.returncode == 0, cli.stderr
    row = next(line for line in cli.stdout.splitlines() if "δ_1^[1]  0.00304937" in line)
    assert "0.0028878" in row.split("0.00304937", 1)[1]
    assert "compute every δ first, then update" in cli.stdout
    trace = bp.explain(classic(), [0.35, 0.9], 0.5, lr=0.5, stale_weights=True)
    # the stale δ by hand: v_j − η ∂L/∂v_j in place of v_j in equation (2)
    first = trace.deltas[0]  # δ_1^[2]
    a_hidden = [u.a for u in trace.forward if u.layer == 1]
    v = [0.3, 0.9, 0.5]
    for j, stale in enumerate(d for d in trace.stale if d.layer == 1):
        v_new = v[j] - 0.5 * first.delta * a_hidden[j]
        assert stale.stale == pytest.approx(v_new * first.delta * a_hidden[j]
                                            * (1 - a_hidden[j]), rel=1e-12)
        assert stale.correct == pytest.approx(v[j] * first.delta * a_hidden[j]
                                              * (1 - a_hidden[j]), rel=1e-12)
    assert "stale (wrong)" in trace.to_markdown() and "stale (wrong)" in trace._repr_html_()


def test_cross_entropy_says_where_sigma_prime_cancels_and_shows_the_mse_factor() -> None:
    """`backprop explain --loss binary_cross_entropy` printed δ = a − y with the note above
    it only, and "ℓ = 1.16342" with no arithmetic."""
    net = bp.Network([bp.Dense(2, 2, activation="tanh"), bp.Dense(2, 1, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=4, dtype="float64")
    trace = bp.explain(net, [0.5, -1.0], [1.0])
    text = trace.to_text()
    a = trace.losses[0].outputs[0]
    assert f"ℓ = −(1·ln({fmt(a)})) = {fmt(-math.log(a))}" in text
    mse_delta = (a - 1.0) * a * (1 - a)
    assert (f"with mse instead: δ_1^[2] = (a_1^[2] − y_1)·σ'(z_1^[2]) = ({fmt(a - 1)})·"
            f"{fmt(a * (1 - a))} = {fmt(mse_delta)}") in text
    assert "with mse the factor σ'(z) would stay" in text
    # the sentence sits with δ^[L] = a − y, in the output error's section
    section = text.split("Output error, equation (1)")[1].split("Hidden errors")[0]
    assert "cancels" in section and "with mse instead" in section

    soft = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 3, activation="softmax")],
                      loss="cross_entropy", seed=3, dtype="float64")
    strace = bp.explain(soft, [0.2, -0.4], 2)
    outputs = strace.losses[0].outputs
    assert f"ℓ = −(1·ln({fmt(outputs[2])})) = {fmt(-math.log(outputs[2]))}" in strace.to_text()
    y = [0.0, 0.0, 1.0]
    inner = sum((o - t) * o for o, t in zip(outputs, y, strict=True))
    for d in (d for d in strace.deltas if d.layer == 2):
        expected = d.a * ((d.a - y[d.unit - 1]) - inner)
        assert d.mse_delta == pytest.approx(expected, rel=1e-12)
        assert f"with mse instead: δ_{d.unit}^[2] =" in strace.to_text()


def test_binary_cross_entropy_shows_both_terms_for_a_soft_target() -> None:
    net = bp.Network([bp.Dense(1, 1, activation="sigmoid")], loss="binary_cross_entropy",
                     seed=0, dtype="float64")
    trace = bp.explain(net, [0.3], [0.25])
    a = trace.losses[0].outputs[0]
    value = -(0.25 * math.log(a) + 0.75 * math.log(1 - a))
    assert f"ℓ = −(0.25·ln({fmt(a)}) + 0.75·ln(1 − {fmt(a)})) = {fmt(value)}" in str(trace)


def test_leaky_relu_shows_its_slope_in_the_derivative_line() -> None:
    """`backprop explain --activation leaky_relu --seed 0` said "1 if z > 0 else slope"."""
    net = bp.Network([bp.Dense(2, 2, activation=LeakyReLU(0.2)),
                      bp.Dense(2, 1)], seed=0, dtype="float64")
    text = str(bp.explain(net, [0.5, -1.0], [0.3]))
    assert "For leaky_relu: σ'(z) = 1 if z > 0 else 0.2." in text
    assert "else slope" not in text


def test_no_plus_b_without_biases() -> None:
    """`backprop explain` (no biases) wrote z_j^[l] = Σ_k w_jk^[l] a_k^[l-1] + b_j^[l]."""
    text, markdown = str(bp.explain(classic(), [0.35, 0.9], 0.5)), bp.explain(
        classic(), [0.35, 0.9], 0.5).to_markdown()
    assert "b_j^[l]" not in text and "b_{j}" not in markdown
    assert "z_j^[l] = Σ_k w_jk^[l] a_k^[l-1],   a_j^[l]" in text
    with_bias = bp.Network([bp.Dense(2, 1, activation="sigmoid")], seed=0, dtype="float64")
    assert "+ b_j^[l]" in str(bp.explain(with_bias, [0.35, 0.9], 0.5))


def test_softmax_outputs_come_after_all_of_z() -> None:
    """`backprop explain --layers 2,3,3 --output softmax --loss cross_entropy --seed 4 --y 2`
    printed a_1^[2] = softmax(z^[2])_1 before z_2^[2] was written."""
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 3, activation="softmax")],
                     loss="cross_entropy", seed=4, dtype="float64")
    lines = str(bp.explain(net, [0.1, 0.2], 2)).splitlines()
    position = {key: next(i for i, line in enumerate(lines) if line.strip().startswith(key))
                for key in ("z_1^[2]", "z_3^[2]", "a_1^[2]", "z_1^[1]", "a_1^[1]", "z_2^[1]")}
    assert position["z_3^[2]"] < position["a_1^[2]"]
    assert position["z_1^[1]"] < position["a_1^[1]"] < position["z_2^[1]"]  # others interleave


def test_a_target_outside_the_output_range_gets_a_warning() -> None:
    """`backprop explain --y 2` explained the step without a word about y = 2 > 1."""
    cli = run("--y", "2")
    assert cli.returncode == 0, cli.stderr
    assert ("warning: target y_1 = 2 of sample 1 lies outside the range of the sigmoid "
            "output, [0, 1]") in cli.stdout
    assert "warning" not in run().stdout


def mazur_network() -> bp.Network:
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 2, activation="sigmoid")],
                     loss="mse", dtype="float64")
    net.layers[0].W, net.layers[0].b = [[0.15, 0.20], [0.25, 0.30]], [0.35, 0.35]  # type: ignore[attr-defined]
    net.layers[1].W, net.layers[1].b = [[0.40, 0.45], [0.50, 0.55]], [0.60, 0.60]  # type: ignore[attr-defined]
    return net


def test_the_from_to_notation_numbers_the_input_as_layer_one() -> None:
    """`backprop explain --notation from-to` was "unrecognized arguments"; only the layered
    notation (input = layer 0, w_jk^[l]) existed."""
    layered = bp.explain(classic(), [0.35, 0.9], 0.5)
    from_to = bp.explain(classic(), [0.35, 0.9], 0.5, notation="from-to")
    text = str(from_to)
    # the weight from hidden node 2 to the output: w_12^[2] in the layered notation
    g = next(g for g in layered.gradients if (g.layer, g.unit, g.input) == (2, 1, 2))
    assert "∂L/∂w_12^[2] = δ_1^[2] a_2^[1] = " in str(layered)
    assert f"∂L/∂w_21[2] = δ_1[3] a_2[2] = {fmt(g.deltas[0])}·{fmt(g.inputs[0])} = " \
           f"{fmt(g.value)}" in text
    assert "z_1[2] = 0.1·0.35 + 0.8·0.9 = 0.755" in text  # hidden node 1 is in layer 2
    assert "^[" not in text.split("Loss")[0]  # no layered symbol in the forward pass
    assert from_to.as_dict()["gradients"] == layered.as_dict()["gradients"]  # same numbers
    markdown = from_to.to_markdown()
    assert r"w_{21}[2]" in markdown and markdown.count("$") % 2 == 0
    cli = run("--notation", "from-to")
    assert cli.returncode == 0 and "w_21[2] ←" in cli.stdout


def test_mazur_names_the_2_2_2_weights_w1_to_w8(tmp_path: Path) -> None:
    """`backprop explain --notation mazur` was "unrecognized arguments"."""
    trace = bp.explain(mazur_network(), [0.05, 0.10], [0.01, 0.99], notation="mazur")
    text = str(trace)
    # the published updates of the example, to six digits
    assert "w5 ← 0.4 − 0.5·0.082167 = 0.358916" in text  # w5+ = 0.35891648
    assert "w1 ← 0.15 − 0.5·0.000438568 = 0.149781" in text  # w1+ = 0.149780716
    assert "net_h1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775" in text
    assert "δ_h1 = (w5 δ_o1 + w7 δ_o2)·σ'(net_h1)" in text
    with pytest.raises(bp.OptionError, match="2-2-2"):
        bp.explain(classic(), [0.35, 0.9], 0.5, notation="mazur")
    with pytest.raises(bp.OptionError, match="unknown notation"):
        bp.explain(classic(), [0.35, 0.9], 0.5, notation="greek")
    weights = tmp_path / "w.json"
    weights.write_text(json.dumps([{"W": [[0.15, 0.2], [0.25, 0.3]], "b": [0.35, 0.35]},
                                   {"W": [[0.4, 0.45], [0.5, 0.55]], "b": [0.6, 0.6]}]))
    cli = run("--weights", str(weights), "--x", "0.05,0.1", "--y", "0.01,0.99",
              "--notation", "mazur")
    assert cli.returncode == 0, cli.stderr
    assert "w8 ←" in cli.stdout
    refused = run("--notation", "mazur")
    assert refused.returncode == 2 and "2-2-2" in refused.stderr


def batch_norm_network(dropout: bool) -> bp.Network:
    layers: list[bp.Layer] = [bp.Dense(2, 3, activation=None, bias=False), bp.BatchNorm(3),
                              bp.ActivationLayer(3, "tanh")]
    if dropout:
        layers.append(bp.Dropout(3, rate=0.4))
    layers.append(bp.Dense(3, 2, activation="softmax"))
    return bp.Network(layers, loss="cross_entropy", seed=1)


BATCH = np.array([[0.1, 0.2], [0.5, -0.3], [1.0, 0.4], [-0.7, 0.9]])
LABELS = np.array([0, 1, 1, 0])


def test_explain_handles_batch_norm_dropout_and_activation_layers() -> None:
    """`bp.explain` on a network with a BatchNorm layer raised "explain handles Dense
    layers only"."""
    net = batch_norm_network(dropout=True)
    trace = bp.explain(net, BATCH, LABELS)
    # the engine on the same float64 copy, with the mask the trace drew kept
    engine = net.copy(dtype="float64")
    X64 = engine.check_inputs(BATCH)
    Y64, _ = engine.prepare_targets(LABELS, 4)
    engine.forward_batch(X64, training=True)
    for layer in engine.layers:
        if isinstance(layer, bp.Dropout):
            layer.freeze_mask = True
    assert trace.loss_value == pytest.approx(engine.backprop(X64, Y64), rel=1e-12)
    rows = {(t.layer, t.name): t for t in trace.tensors}
    assert set(rows) == {(1, "W"), (2, "gamma"), (2, "beta"), (5, "W"), (5, "b")}
    for index, name, where in engine.parameter_slices:
        row = rows[(index + 1, name)]
        assert row.grad_norm == pytest.approx(float(np.linalg.norm(engine.grads[where])),
                                              rel=1e-9)
        assert row.checked == where.stop - where.start and row.max_relative_error < 1e-6
    text = trace.to_text()
    assert "Per tensor" in text and "BatchNorm" in text and "dropout 0.4" in text
    assert "gamma" in trace._repr_html_() and "Per tensor" in trace.to_markdown()
    assert json.loads(trace.to_json())["tensors"][1]["name"] == "gamma"


def test_a_batch_norm_step_two_is_where_fit_is_after_one() -> None:
    net = batch_norm_network(dropout=False)
    trace = bp.explain(net, BATCH, LABELS, lr=0.2, steps=2)
    fitted = net.copy(dtype="float64")
    fitted.fit(BATCH, LABELS, epochs=1, batch_size=4, optimizer=bp.SGD(lr=0.2), shuffle=False)
    X64 = fitted.check_inputs(BATCH)
    Y64, _ = fitted.prepare_targets(LABELS, 4)
    assert trace.following[0].loss_value == pytest.approx(fitted.backprop(X64, Y64), rel=1e-10)
    assert trace.following[0].loss_value < trace.loss_value


def test_explain_batch_norm_from_the_command() -> None:
    """`backprop explain --batch-norm` was "unrecognized arguments"."""
    cli = run("--batch-norm", "--seed", "0", "--layers", "3", "--x", "0.1,0.2", "--y", "0.3",
              "--x", "0.5,0.1", "--y", "0.9", "--format", "json")
    assert cli.returncode == 0, cli.stderr
    data = json.loads(cli.stdout)
    assert [t["kind"] for t in data["tensors"]] == ["Dense", "BatchNorm", "BatchNorm", "Dense",
                                                    "Dense"]
    assert data["max_relative_error"] < 1e-5
    refused = run("--batch-norm")
    assert refused.returncode == 2 and "--batch-norm needs --seed" in refused.stderr
