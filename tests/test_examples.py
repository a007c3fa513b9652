"""Each script of examples/ runs, and prints the numbers of its derivation (recomputed here)."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backprop import datasets
from backprop.cli.explain import CLASSIC_WEIGHTS, CLASSIC_X, CLASSIC_Y

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"


def run(script: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def value(text: str, label: str) -> float:
    """The last number after ``label`` on its line, up to a wide gap, a ", " or the line's end."""
    match = re.search(r"(?:^|\s)" + re.escape(label) + r"(.*?)(?:    |, |$)", text, re.M)
    assert match, f"{label!r} not in the output"
    return float(re.findall(NUMBER, match.group(1))[-1])


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_classic_231_one_online_step_by_scalar_arithmetic() -> None:
    """The script used to print v_1, z_o, δ_o, names `backprop explain` does not use; it
    now writes the step in explain's notation, line for line the same symbols."""
    out = run("classic_231.py")
    w, v = [list(row) for row in CLASSIC_WEIGHTS[0]], list(CLASSIC_WEIGHTS[1][0])
    x = [float(part) for part in CLASSIC_X.split(",")]
    t, lr = float(CLASSIC_Y), 0.5
    z = [w[j][0] * x[0] + w[j][1] * x[1] for j in range(3)]
    a = [sigmoid(zj) for zj in z]
    z_o = v[0] * a[0] + v[1] * a[1] + v[2] * a[2]
    a_o = sigmoid(z_o)
    delta_o = (a_o - t) * a_o * (1 - a_o)
    delta = [v[j] * delta_o * a[j] * (1 - a[j]) for j in range(3)]
    expected = {"z_1^[2] =": z_o, "a_1^[2] =": a_o, "ℓ =": 0.5 * (a_o - t) ** 2,
                "δ_1^[2] =": delta_o}
    for j in range(3):
        expected[f"z_{j + 1}^[1] ="] = z[j]
        expected[f"a_{j + 1}^[1] ="] = a[j]
        expected[f"δ_{j + 1}^[1] ="] = delta[j]
        expected[f"∂L/∂w_1{j + 1}^[2] ="] = delta_o * a[j]
        expected[f"w_1{j + 1}^[2] ←"] = v[j] - lr * delta_o * a[j]
        for k in range(2):
            expected[f"∂L/∂w_{j + 1}{k + 1}^[1] ="] = delta[j] * x[k]
            expected[f"w_{j + 1}{k + 1}^[1] ←"] = w[j][k] - lr * delta[j] * x[k]
    for label, number in expected.items():
        assert value(out, label) == pytest.approx(number, abs=1e-6), label
    # the output after the step, from the updated weights
    w_new = [[w[j][k] - lr * delta[j] * x[k] for k in range(2)] for j in range(3)]
    v_new = [v[j] - lr * delta_o * a[j] for j in range(3)]
    a_new = sigmoid(sum(v_new[j] * sigmoid(w_new[j][0] * x[0] + w_new[j][1] * x[1])
                        for j in range(3)))
    assert value(out, "after the step: a_1^[2] =") == pytest.approx(a_new, abs=1e-6)
    assert a_new < a_o  # the step moved the output toward the target 0.5


def test_classic_231_names_what_backprop_explain_names() -> None:
    """Every symbol the script gives a value is one `backprop explain` prints too."""
    out = run("classic_231.py")
    explained = subprocess.run([sys.executable, "-m", "backprop", "explain"],
                               capture_output=True, text=True, timeout=120).stdout
    symbols = set(re.findall(r"(?:∂L/∂)?[zaδw]_\d+\^\[\d\]", out))
    assert len(symbols) >= 20
    for symbol in symbols:
        assert symbol in explained, symbol
    assert "v_" not in out and "z_o" not in out


def test_classic_222_matches_the_worked_example() -> None:
    out = run("classic_222.py")
    i1, i2, t1, t2, lr = 0.05, 0.10, 0.01, 0.99, 0.5
    w1, w2, w3, w4, b1 = 0.15, 0.20, 0.25, 0.30, 0.35
    w5, w6, w7, w8, b2 = 0.40, 0.45, 0.50, 0.55, 0.60
    h1, h2 = sigmoid(w1 * i1 + w2 * i2 + b1), sigmoid(w3 * i1 + w4 * i2 + b1)
    o1, o2 = sigmoid(w5 * h1 + w6 * h2 + b2), sigmoid(w7 * h1 + w8 * h2 + b2)
    e_total = 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2
    d_o1, d_o2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
    d_h1 = (w5 * d_o1 + w7 * d_o2) * h1 * (1 - h1)
    d_h2 = (w6 * d_o1 + w8 * d_o2) * h2 * (1 - h2)
    gradients = {"w1": d_h1 * i1, "w2": d_h1 * i2, "w3": d_h2 * i1, "w4": d_h2 * i2,
                 "w5": d_o1 * h1, "w6": d_o1 * h2, "w7": d_o2 * h1, "w8": d_o2 * h2}
    weights = {"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5": w5, "w6": w6, "w7": w7, "w8": w8}
    assert value(out, "out_h1 =") == pytest.approx(h1, abs=1e-9)
    assert value(out, "out_h2 =") == pytest.approx(h2, abs=1e-9)
    assert value(out, "out_o1 =") == pytest.approx(o1, abs=1e-9)
    assert value(out, "out_o2 =") == pytest.approx(o2, abs=1e-9)
    assert value(out, "E_total =") == pytest.approx(e_total, abs=1e-9)
    for label, number in (("δ_o1 =", d_o1), ("δ_o2 =", d_o2), ("δ_h1 =", d_h1),
                          ("δ_h2 =", d_h2)):
        assert value(out, label) == pytest.approx(number, abs=1e-9), label
    for name, gradient in gradients.items():
        assert value(out, f"∂E/∂{name} =") == pytest.approx(gradient, abs=1e-9), name
        assert value(out, f"{name} ←") == pytest.approx(weights[name] - lr * gradient,
                                                       abs=1e-9), name
    # the published numbers of the worked example
    assert value(out, "E_total =") == pytest.approx(0.298371109, abs=1e-9)
    assert value(out, "w5 ←") == pytest.approx(0.35891648, abs=1e-8)
    assert value(out, "w1 ←") == pytest.approx(0.149780716, abs=1e-9)
    # the biases, which the library also updates when asked to: b ← b − η δ per unit
    for name, (b, deltas) in {"b1": (b1, (d_h1, d_h2)), "b2": (b2, (d_o1, d_o2))}.items():
        match = re.search(rf"{name} ← ({NUMBER}), ({NUMBER})", out)
        assert match, name
        assert [float(g) for g in match.groups()] == pytest.approx(
            [b - lr * d for d in deltas], abs=1e-9)


def test_classic_222_with_frozen_biases_reproduces_the_published_error_after_the_step() -> None:
    """Before frozen biases the script's "after the step" E_total was 0.280471447, the
    library having updated the biases that the derivation holds fixed
    (``python examples/classic_222.py``)."""
    out = run("classic_222.py")
    i1, i2, t1, t2, lr = 0.05, 0.10, 0.01, 0.99, 0.5
    w = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
    b1, b2 = 0.35, 0.60

    def e_total(w: list[float], b1: float, b2: float) -> tuple[float, list[float]]:
        h1, h2 = sigmoid(w[0] * i1 + w[1] * i2 + b1), sigmoid(w[2] * i1 + w[3] * i2 + b1)
        o1, o2 = sigmoid(w[4] * h1 + w[5] * h2 + b2), sigmoid(w[6] * h1 + w[7] * h2 + b2)
        d_o1, d_o2 = (o1 - t1) * o1 * (1 - o1), (o2 - t2) * o2 * (1 - o2)
        d_h1 = (w[4] * d_o1 + w[6] * d_o2) * h1 * (1 - h1)
        d_h2 = (w[5] * d_o1 + w[7] * d_o2) * h2 * (1 - h2)
        grads = [d_h1 * i1, d_h1 * i2, d_h2 * i1, d_h2 * i2,
                 d_o1 * h1, d_o1 * h2, d_o2 * h1, d_o2 * h2]
        return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2, grads

    _, grads = e_total(w, b1, b2)
    stepped = [wi - lr * g for wi, g in zip(w, grads, strict=True)]
    frozen, _ = e_total(stepped, b1, b2)  # the weights move, b1 and b2 stay
    assert value(out, "after the step: E_total =") == pytest.approx(frozen, abs=1e-9)
    # the published figure (its last digits differ from exact arithmetic by 1.5e-7)
    assert value(out, "after the step: E_total =") == pytest.approx(0.291027924, abs=2e-7)
    assert "b1 = 0.35, b2 = 0.6" in out
    assert value(out, "with the biases trained: E_total =") == pytest.approx(0.280471447,
                                                                              abs=1e-9)


def test_vectorized_bce_cost_falls_and_gradients_agree() -> None:
    out = run("vectorized_bce.py")
    costs = [float(c) for c in re.findall(rf"iteration +\d+: J = ({NUMBER})", out)]
    assert len(costs) == 7
    assert costs[0] == pytest.approx(math.log(2), abs=1e-3)  # weights × 0.01: a ≈ 0.5
    initial = re.search(rf"initial cost J = ({NUMBER})", out)
    assert initial and float(initial.group(1)) == pytest.approx(costs[0], abs=1e-6)
    assert all(b < a for a, b in itertools.pairwise(costs)), costs
    assert costs[-1] < 0.05
    assert value(out, "max |difference| =") <= 1e-12
    assert value(out, "accuracy: training") >= 0.97
    assert value(out, "test") >= 0.9


def test_one_vs_rest_mnist_and_the_bias_as_w0() -> None:
    have_mnist = datasets.mnist_cache_path().is_file()
    if not have_mnist:
        pytest.importorskip("sklearn", reason="neither the MNIST cache nor scikit-learn")
    out = run("one_vs_rest_mnist.py")
    if have_mnist:
        assert out.startswith("MNIST: digits [0, 1, 2], 3000 training and 1000 test images "
                              "of 784 pixels")
    else:
        assert "NOT MNIST" in out
    predictions = re.findall(r"a (\d):  0: \S+  1: \S+  2: \S+  → predicted (\d)", out)
    assert [p[0] for p in predictions] == ["0", "1", "2"]
    assert value(out, "test accuracy on digits [0, 1, 2]:") >= 0.95
    assert value(out, "outputs on 1000 test images: max |difference| =") <= 1e-12
    assert value(out, "and the rest): max |difference| =") <= 1e-12
    assert out.rstrip().endswith("same outputs and gradients (up to float64 rounding, 1e-12): "
                                 "True")
