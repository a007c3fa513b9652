"""bp.explain and `backprop explain`: one training step written out, checked digit by digit.

The numbers of the classic 2-3-1 network are computed here with scalar
arithmetic (math.exp), never with the library's backward pass, formatted
the way the trace prints them (6 significant digits), and looked up in
the rendered text.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

import backprop as bp
from nets import Case, cases


def fmt(value: float) -> str:
    text = f"{value:.6g}"
    return "0" if text == "-0" else text


def factor(value: float) -> str:
    """A number as a factor of a printed product: negatives in parentheses."""
    return f"({fmt(value)})" if fmt(value).startswith("-") else fmt(value)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


X = [0.35, 0.9]
T = 0.5
ETA = 0.5
W = [[0.1, 0.8], [0.4, 0.6], [0.3, 0.2]]  # W[j][k]: input k → hidden unit j
V = [0.3, 0.9, 0.5]  # V[j]: hidden unit j → output


def classic_network() -> bp.Network:
    net = bp.Network(
        [bp.Dense(2, 3, activation="sigmoid", bias=False),
         bp.Dense(3, 1, activation="sigmoid", bias=False)],
        loss="mse",
        dtype="float64",
    )
    net.layers[0].W = W  # type: ignore[attr-defined]
    net.layers[1].W = [V]  # type: ignore[attr-defined]
    return net


def scalar_loss(w: list[list[float]], v: list[float]) -> float:
    hidden = [sigmoid(w[j][0] * X[0] + w[j][1] * X[1]) for j in range(3)]
    out = sigmoid(sum(v[j] * hidden[j] for j in range(3)))
    return 0.5 * (out - T) ** 2


def by_hand() -> dict[str, Any]:
    z_h = [W[j][0] * X[0] + W[j][1] * X[1] for j in range(3)]
    a_h = [sigmoid(z) for z in z_h]
    z_o = V[0] * a_h[0] + V[1] * a_h[1] + V[2] * a_h[2]
    a_o = sigmoid(z_o)
    sp_o = a_o * (1.0 - a_o)
    d_o = (a_o - T) * sp_o
    sums = [V[j] * d_o for j in range(3)]
    sp_h = [a * (1.0 - a) for a in a_h]
    d_h = [sums[j] * sp_h[j] for j in range(3)]
    g_w = [[d_h[j] * X[k] for k in range(2)] for j in range(3)]
    g_v = [d_o * a_h[j] for j in range(3)]
    h = 1e-5
    n_w = []
    for j in range(3):
        row = []
        for k in range(2):
            plus = [r[:] for r in W]
            minus = [r[:] for r in W]
            plus[j][k] += h
            minus[j][k] -= h
            row.append((scalar_loss(plus, V) - scalar_loss(minus, V)) / (2 * h))
        n_w.append(row)
    n_v = []
    for j in range(3):
        plus, minus = V[:], V[:]
        plus[j] += h
        minus[j] -= h
        n_v.append((scalar_loss(W, plus) - scalar_loss(W, minus)) / (2 * h))
    return dict(z_h=z_h, a_h=a_h, z_o=z_o, a_o=a_o, sp_o=sp_o, d_o=d_o, sums=sums, sp_h=sp_h,
                d_h=d_h, g_w=g_w, g_v=g_v, n_w=n_w, n_v=n_v, loss=0.5 * (a_o - T) ** 2)


def expected_lines(n: dict[str, Any]) -> list[str]:
    """The equations of the classic step, with the hand-computed numbers."""
    lines = []
    for j in range(3):
        lines.append(f"z_{j + 1}^[1] = {fmt(W[j][0])}·{fmt(X[0])} + {fmt(W[j][1])}·{fmt(X[1])}"
                     f" = {fmt(n['z_h'][j])}")
        lines.append(f"a_{j + 1}^[1] = σ(z_{j + 1}^[1]) = {fmt(n['a_h'][j])}")
    products = " + ".join(f"{fmt(V[j])}·{fmt(n['a_h'][j])}" for j in range(3))
    lines.append(f"z_1^[2] = {products} = {fmt(n['z_o'])}")
    lines.append(f"a_1^[2] = σ(z_1^[2]) = {fmt(n['a_o'])}")
    lines.append(f"ℓ = ½({fmt(n['a_o'])} − {fmt(T)})² = {fmt(n['loss'])}")
    lines.append(f"L = {fmt(n['loss'])}")
    lines.append(f"δ_1^[2] = (a_1^[2] − y_1)·σ'(z_1^[2]) = ({fmt(n['a_o'])} − {fmt(T)})·"
                 f"{fmt(n['sp_o'])} = {fmt(n['a_o'] - T)}·{fmt(n['sp_o'])} = {fmt(n['d_o'])}")
    for j in range(3):
        lines.append(f"δ_{j + 1}^[1] = (Σ_k w_k{j + 1}^[2] δ_k^[2])·σ'(z_{j + 1}^[1]) = "
                     f"({fmt(V[j])}·{fmt(n['d_o'])})·{fmt(n['sp_h'][j])} = "
                     f"{fmt(n['sums'][j])}·{fmt(n['sp_h'][j])} = {fmt(n['d_h'][j])}")
    for j in range(3):
        for k in range(2):
            lines.append(f"∂L/∂w_{j + 1}{k + 1}^[1] = δ_{j + 1}^[1] a_{k + 1}^[0] = "
                         f"{fmt(n['d_h'][j])}·{fmt(X[k])} = {fmt(n['g_w'][j][k])}    "
                         f"(numeric {fmt(n['n_w'][j][k])}, relative error ")
            lines.append(f"w_{j + 1}{k + 1}^[1] ← {fmt(W[j][k])} − {fmt(ETA)}·"
                         f"{fmt(n['g_w'][j][k])} = {fmt(W[j][k] - ETA * n['g_w'][j][k])}")
    for j in range(3):
        lines.append(f"∂L/∂w_1{j + 1}^[2] = δ_1^[2] a_{j + 1}^[1] = {fmt(n['d_o'])}·"
                     f"{fmt(n['a_h'][j])} = {fmt(n['g_v'][j])}    (numeric {fmt(n['n_v'][j])}, "
                     f"relative error ")
        lines.append(f"w_1{j + 1}^[2] ← {fmt(V[j])} − {fmt(ETA)}·{fmt(n['g_v'][j])} = "
                     f"{fmt(V[j] - ETA * n['g_v'][j])}")
    return lines


def test_the_classic_step_prints_every_hand_computed_number() -> None:
    text = str(bp.explain(classic_network(), X, T, lr=ETA))
    assert "z_1^[1] = 0.1·0.35 + 0.8·0.9 = 0.755" in text
    for line in expected_lines(by_hand()):
        assert line in text, line


def test_the_classic_step_structured_numbers() -> None:
    n = by_hand()
    net = classic_network()
    before = net.params.copy()
    trace = bp.explain(net, X, T, lr=ETA)
    np.testing.assert_array_equal(net.params, before)  # the network is left untouched
    assert math.isclose(trace.loss_value, n["loss"], rel_tol=1e-13)
    hidden = [d for d in trace.deltas if d.layer == 1]
    np.testing.assert_allclose([d.delta for d in hidden], n["d_h"], rtol=1e-12)
    w1 = [g for g in trace.gradients if g.layer == 1]
    np.testing.assert_allclose([g.value for g in w1], np.ravel(n["g_w"]), rtol=1e-12)
    np.testing.assert_allclose([g.numeric for g in w1], np.ravel(n["n_w"]), rtol=1e-8)
    assert trace.max_relative_error < 1e-7
    assert all(g.relative_error == pytest.approx(abs(g.numeric - g.value)
                                                 / (abs(g.numeric) + abs(g.value)))
               for g in trace.gradients)
    assert not trace.summarized and not trace.fused and trace.fused_note is None


def test_the_update_is_one_step_of_full_batch_gradient_descent() -> None:
    trace = bp.explain(classic_network(), X, T, lr=ETA)
    net = classic_network()
    net.fit(np.array([X]), np.array([T]), epochs=1, batch_size=None, lr=ETA)
    new = [g.new for g in trace.gradients]
    np.testing.assert_allclose(new, net.params, rtol=1e-13)


def test_fused_output_error_for_softmax_and_cross_entropy() -> None:
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 3, activation="softmax")],
                     loss="cross_entropy", seed=3, dtype="float64")
    trace = bp.explain(net, [0.2, -0.4], 2)
    assert trace.fused and trace.fused_note is not None
    text = trace.to_text()
    assert "δ_j^[L] = a_j^[L] − y_j" in text
    assert "cancels against the loss's derivative" in text and "Note:" in text
    out = [d for d in trace.deltas if d.layer == 2]
    assert [d.kind for d in out] == ["fused"] * 3
    for d in out:
        assert d.sigma_prime is None
        assert d.delta == pytest.approx(d.a - (1.0 if d.unit == 3 else 0.0), abs=1e-15)
        assert f"δ_{d.unit}^[2] = a_{d.unit}^[2] − y_{d.unit} = {fmt(d.a)} − " in text
    assert r"\delta_{j}^{[L]} = a_{j}^{[L]} - y_{j}" in trace.to_markdown()
    assert trace.max_relative_error < 1e-6


def test_fused_output_error_for_sigmoid_and_binary_cross_entropy() -> None:
    net = bp.Network([bp.Dense(2, 2, activation="relu"), bp.Dense(2, 1, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=1, dtype="float64")
    trace = bp.explain(net, [0.5, 0.25], 1)
    assert trace.fused and "sigmoid output and binary cross-entropy" in str(trace)


def test_softmax_output_without_its_canonical_loss_uses_the_full_jacobian() -> None:
    net = bp.Network([bp.Dense(2, 3, activation="sigmoid"), bp.Dense(3, 2, activation="softmax")],
                     loss="mse", seed=2, dtype="float64")
    X2, Y2 = np.array([[0.3, -0.7], [1.0, 0.5]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    trace = bp.explain(net, X2, Y2)
    assert not trace.fused
    assert all(d.softmax_inner is not None for d in trace.deltas if d.layer == 2)
    assert "Σ_i g_i a_i" in str(trace)
    expected = [g for dW, db in net.gradients(X2, Y2) for g in (*np.ravel(dW), *np.ravel(db))]
    np.testing.assert_allclose([g.value for g in trace.gradients], expected, rtol=1e-12)
    assert trace.max_relative_error < 1e-6


def test_a_batch_shows_per_sample_values_and_their_average() -> None:
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 1, activation="sigmoid")],
                     loss="mse", seed=7, dtype="float64")
    Xb = np.array([[0.35, 0.9], [-0.5, 0.1], [1.0, -1.0]])
    yb = np.array([0.5, 0.1, 0.9])
    trace = bp.explain(net, Xb, yb, lr=0.1)
    assert trace.m == 3
    text = str(trace)
    for s in (1, 2, 3):
        assert f" sample {s}:" in text
    assert "1/m Σ_i δ_j^[l] a_k^[l-1]" in text
    first = trace.gradients[0]
    assert len(first.per_sample) == 3
    assert first.value == pytest.approx(sum(first.per_sample) / 3, rel=1e-12)
    products = " + ".join(f"{factor(d)}·{factor(a)}"
                          for d, a in zip(first.deltas, first.inputs, strict=True))
    assert f"1/3 ({products})" in text
    per_sample = [factor(p) for p in first.per_sample]
    assert f"1/3 ({' + '.join(per_sample)}) = {fmt(first.value)}" in text
    # the averaged gradients are the library's gradients of the mean loss
    expected = [g for dW, db in net.gradients(Xb, yb) for g in (*np.ravel(dW), *np.ravel(db))]
    np.testing.assert_allclose([g.value for g in trace.gradients], expected, rtol=1e-12)
    losses = [s.value for s in trace.losses]
    assert trace.loss_value == pytest.approx(net.loss_value(Xb, yb), rel=1e-12)
    assert f"L = 1/3 ({' + '.join(fmt(v) for v in losses)}) = {fmt(trace.loss_value)}" in text
    assert trace.max_relative_error < 1e-6


def test_a_float32_network_is_explained_in_float64() -> None:
    net = bp.Network([bp.Dense(2, 2, activation="sigmoid"), bp.Dense(2, 1, activation="sigmoid")],
                     loss="mse", seed=0)
    trace = bp.explain(net, np.array([0.1, 0.2], dtype=np.float32), [0.3])
    assert trace.max_relative_error < 1e-6


def _numbers_in(value: Any) -> list[float]:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, float):
        return [value]
    if isinstance(value, int):
        return [float(value)]
    if isinstance(value, list):
        return [v for item in value for v in _numbers_in(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in _numbers_in(item)]
    raise TypeError(type(value))


def check_markdown_structure(markdown: str) -> None:
    lines = markdown.splitlines()
    assert sum(line.strip() == "$$" for line in lines) % 2 == 0
    in_block = False
    for line in lines:
        if line.strip() == "$$":
            in_block = not in_block
            continue
        if in_block:
            assert "$" not in line, line
        else:
            assert "$$" not in line, line
            assert line.count("$") % 2 == 0, line
    assert not in_block


@pytest.mark.parametrize("batch", [False, True])
def test_markdown_is_balanced_and_holds_every_number_of_the_json(batch: bool) -> None:
    net = classic_network()
    trace = (bp.explain(net, [X, [0.1, 0.2]], [T, 0.2]) if batch
             else bp.explain(net, X, T, lr=ETA))
    markdown = trace.to_markdown()
    check_markdown_structure(markdown)
    assert r"z_{1}^{[1]} = 0.1 \cdot 0.35 + 0.8 \cdot 0.9 = 0.755" in markdown
    data = json.loads(trace.to_json())
    for number in _numbers_in(data):
        assert fmt(number) in markdown, number
    assert data["loss_value"] == float(fmt(trace.loss_value))
    assert trace.as_dict()["loss_value"] == trace.loss_value  # as_dict keeps full precision


def test_markdown_converts_to_html() -> None:
    markdown_module = pytest.importorskip("markdown")
    html = markdown_module.markdown(bp.explain(classic_network(), X, T).to_markdown())
    assert "<h3>Forward pass</h3>" in html and "<li>" in html


def test_html_has_tables_and_the_numbers() -> None:
    trace = bp.explain(classic_network(), X, T, lr=ETA)
    html = trace._repr_html_()
    assert html.count("<table>") >= 4
    n = by_hand()
    assert fmt(n["z_h"][0]) in html and fmt(n["g_v"][2]) in html


def test_a_wide_network_is_summarized_per_layer() -> None:
    net = bp.Network([bp.Dense(2, 20, activation="sigmoid"), bp.Dense(20, 1, activation="sigmoid")],
                     loss="mse", seed=0, dtype="float64")
    Xw = np.array([[0.1, 0.2], [0.3, -0.4]])
    trace = bp.explain(net, Xw, [0.5, 0.1])
    assert trace.summarized and trace.forward == [] and trace.gradients == []
    text = str(trace)
    assert "too large to write out number by number" in text and "20 units" in text
    assert "Per layer" in text and "z_1^[1] =" not in text
    assert len(text.splitlines()) < 40
    first, second = trace.summaries
    assert (first.n_in, first.n_out, second.n_out) == (2, 20, 1)
    (dW1, db1), _ = net.gradients(Xw, [0.5, 0.1])
    assert first.grad_w_norm == pytest.approx(float(np.linalg.norm(dW1)), rel=1e-12)
    assert db1 is not None and first.grad_b_norm == pytest.approx(float(np.linalg.norm(db1)))
    assert fmt(first.grad_w_norm) in text and fmt(first.z_max) in text
    assert first.checked == 40 and trace.max_relative_error < 1e-5
    check_markdown_structure(trace.to_markdown())
    assert "<table>" in trace._repr_html_()
    assert json.loads(trace.to_json())["summarized"] is True


def test_too_many_lines_is_summarized_too() -> None:
    net = bp.Network([bp.Dense(4, 8, activation="tanh"), bp.Dense(8, 8, activation="tanh"),
                      bp.Dense(8, 1)], loss="mse", seed=0, dtype="float64")
    trace = bp.explain(net, np.ones((5, 4)), np.zeros(5))
    assert trace.summarized and "lines" in (trace.summary_reason or "")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"lr": -0.1}, ValueError), ({"lr": float("nan")}, ValueError), ({"lr": "1"}, TypeError),
     ({"digits": 0}, ValueError), ({"steps": 0}, ValueError),
     ({"lr": 0.0, "stale_weights": True}, ValueError)],
)
def test_bad_arguments(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        bp.explain(classic_network(), X, T, **kwargs)


def test_bad_samples() -> None:
    with pytest.raises(ValueError, match="features"):
        bp.explain(classic_network(), [1.0, 2.0, 3.0], T)
    with pytest.raises(ValueError, match="NaN"):
        bp.explain(classic_network(), [1.0, float("nan")], T)


# -- the command --------------------------------------------------------------
def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "backprop", "explain", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_default_is_the_classic_network() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    for line in expected_lines(by_hand()):
        assert line in result.stdout, line


def test_cli_markdown_and_json() -> None:
    markdown = run("--format", "markdown", "--lr", "0.5")
    assert markdown.returncode == 0, markdown.stderr
    check_markdown_structure(markdown.stdout)
    as_json = run("--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["loss_value"] == float(fmt(by_hand()["loss"]))
    assert data["layers"][0]["bias"] is False and data["m"] == 1
    for number in _numbers_in(data):
        assert fmt(number) in markdown.stdout


def test_cli_batch_with_seed_biases_and_class_labels() -> None:
    result = run("--layers", "2,3,3", "--activation", "tanh", "--output", "softmax",
                 "--loss", "cross_entropy", "--seed", "4", "--x", "0.1,0.2", "--y", "2",
                 "--x=-1,0.5", "--y", "1,0,0", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["m"] == 2 and data["fused"] is True and data["layers"][0]["bias"] is True
    assert data["Y"] == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_cli_weights_file(tmp_path: Any) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps([{"W": [[0.1, 0.2], [0.3, 0.4]], "b": [0.5, -0.5]},
                                {"W": [[1.0, -1.0]], "b": [0.0]}]))
    result = run("--weights", str(path), "--x", "1,2", "--y", "0.25", "--output", "linear")
    assert result.returncode == 0, result.stderr
    assert "z_1^[1] = 0.1·1 + 0.2·2 + 0.5 = 1" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--x", "0.35,abc"], "'abc' is not a number"),
     (["--x", "0.35"], "has 1 value but the network has 2 inputs"),
     (["--x", "1,2"], "give a target --y"),
     (["--lr", "-1"], "--lr must not be negative"),
     (["--lr", "0", "--stale-weights"], "--stale-weights needs --lr > 0"),
     (["--steps", "0"], "--steps must be at least 1"),
     (["--layers", "2,x"], "not a whole number"),
     (["--layers", "4"], "--seed"),
     (["--weights", "/nonexistent/w.json"], "cannot read"),
     (["--activation", "nope"], "unknown activation")],
)
def test_cli_bad_input_is_a_one_line_error(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_cli_output_of_a_wide_network_is_summarized() -> None:
    result = run("--layers", "2,20,1", "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert "Per layer" in result.stdout and re.search(r"2→20", result.stdout)


@settings(max_examples=40, deadline=None)
@given(cases())
def test_every_pairing_explains_the_library_gradients(case: Case) -> None:
    """On random networks of every allowed pairing, the trace's gradients are net.gradients."""
    trace = bp.explain(case.net, case.X, case.Y)
    grads = case.net.gradients(case.X, case.Y)
    check_markdown_structure(trace.to_markdown())
    assert "<table>" in trace._repr_html_()
    json.loads(trace.to_json())
    if trace.summarized:
        for summary, (dW, _) in zip(trace.summaries, grads, strict=True):
            assert summary.grad_w_norm == pytest.approx(float(np.linalg.norm(dW)), rel=1e-9,
                                                        abs=1e-300)
    else:
        expected = [g for dW, db in grads
                    for g in (*np.ravel(dW), *(() if db is None else np.ravel(db)))]
        np.testing.assert_allclose([g.value for g in trace.gradients], expected,
                                   rtol=1e-9, atol=1e-12)
        text = trace.to_text()
        for g in trace.gradients:
            assert f"= {fmt(g.value)}    (numeric {fmt(g.numeric)}" in text
    assert trace.fused == (case.net.loss.canonical_activation
                           == case.net.output_layer.activation.name)


class Softsign(bp.Activation):
    """σ(z) = z / (1 + |z|), σ'(z) = (1 − |a|)², with its formula strings."""

    name = "softsign_explained"
    derivative_formula = "(1 − |a|)²"
    derivative_formula_tex = r"\left(1 - |a|\right)^2"

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.divide(z, 1.0 + np.abs(z), out=out)
        return out

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return (1.0 - np.abs(a)) ** 2


class Quartic(bp.Loss):
    """ℓ = ¼ Σ_k (a_k − y_k)⁴, with its formula strings."""

    name = "quartic_explained"
    formula = "¼ Σ_k (a_k^[L] − y_k)⁴"
    formula_tex = r"\frac{1}{4}\sum_{k} \left(a_{k}^{[L]} - y_{k}\right)^4"

    def value(self, a: np.ndarray, y: np.ndarray) -> float:
        return 0.25 * float(np.sum((a - y) ** 4)) / int(a.shape[0])

    def gradient(self, a: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        np.power(a - y, 3, out=out)
        return out


def test_a_registered_activation_and_loss_explain_themselves() -> None:
    bp.register_activation(Softsign.name, Softsign)
    bp.register_loss(Quartic.name, Quartic)
    net = bp.Network([bp.Dense(2, 2, activation=Softsign.name), bp.Dense(2, 1)],
                     loss=Quartic.name, seed=0, dtype="float64")
    trace = bp.explain(net, [0.4, -0.3], 1.5)
    text, markdown = trace.to_text(), trace.to_markdown()
    assert "For softsign_explained: σ'(z) = (1 − |a|)²." in text
    assert r"For softsign explained: $\sigma'(z) = \left(1 - |a|\right)^2$." in markdown
    assert "ℓ = ¼ Σ_k (a_k^[L] − y_k)⁴,   L = 1/m Σ_i ℓ_i" in text
    assert r"\ell = \frac{1}{4}\sum_{k} \left(a_{k}^{[L]} - y_{k}\right)^4" in markdown
    check_markdown_structure(markdown)
    # the numbers behind the words are the library's and central differences agree
    expected = [g for dW, db in net.gradients([[0.4, -0.3]], [1.5])
                for g in (*np.ravel(dW), *(() if db is None else np.ravel(db)))]
    np.testing.assert_allclose([g.value for g in trace.gradients], expected, rtol=1e-12)
    assert trace.max_relative_error < 1e-7
    hidden = [d for d in trace.deltas if d.layer == 1]
    for d in hidden:
        assert d.sigma_prime == pytest.approx((1.0 - abs(d.a)) ** 2, rel=1e-15)
    assert "formula" not in trace.to_json()  # notation is not part of the numbers


def test_an_activation_without_formula_strings_says_so() -> None:
    class Plain(Softsign):
        name = "softsign_plain"
        derivative_formula = None
        derivative_formula_tex = None

    net = bp.Network([bp.Dense(2, 2, activation=Plain()), bp.Dense(2, 1)], seed=0,
                     dtype="float64")
    text = bp.explain(net, [0.4, -0.3], 1.5).to_text()
    assert "For softsign_plain, σ' is the layer's derivative." in text
    assert "For linear: σ'(z) = 1." in text
