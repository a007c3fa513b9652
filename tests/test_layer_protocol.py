"""One layer protocol: ``forward(a, training) -> a``, ``backward(grad) -> grad``.

``Network.backprop`` is a short loop over it with no case per layer kind (read with
``ast``), every built-in kind keeps it without writing into the gradient it is handed,
and a kind written by a user with the public API alone trains and checks like the others.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.network import Network
from backprop.nn.layer_kinds import LAYER_KINDS
from backprop.nn.reference_form import BackwardRule, ReferenceBackward
from backprop.teaching.reference import reference_step


def _backprop_source() -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(Network.backprop)))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef) and function.name == "backprop"
    return function


def test_backprop_is_a_short_loop_with_no_case_per_layer_kind() -> None:
    function = _backprop_source()
    calls = {node.func.id for node in ast.walk(function)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & {"isinstance", "type", "hasattr", "getattr", "issubclass"}
    names = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(function) if isinstance(node, ast.Attribute)}
    assert not names & (set(LAYER_KINDS) | {"Layer", "Softmax", "Sigmoid"})
    loops = [node for node in ast.walk(function) if isinstance(node, ast.For | ast.While)]
    assert len(loops) == 1  # one walk over the layers from the top ...
    assert not [node for node in ast.walk(loops[0]) if isinstance(node, ast.If | ast.IfExp)]
    assert not [node for node in ast.walk(function) if isinstance(node, ast.If | ast.IfExp)]
    # ... in at most 25 lines besides the docstring
    docstring = function.body[0]
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
    assert function.end_lineno is not None and docstring.end_lineno is not None
    lines = (function.end_lineno - function.lineno + 1) - (
        docstring.end_lineno - docstring.lineno + 1)
    assert lines <= 25
    assert not hasattr(Network, "_plan_backward")


def _every_kind_network() -> tuple[bp.Network, np.ndarray, np.ndarray]:
    net = bp.Network([bp.Dense(3, 5, activation=None, bias=False), bp.BatchNorm(5),
                      bp.ActivationLayer(5, "relu"), bp.Dropout(5, 0.4),
                      bp.Dense(5, 4, activation="tanh"), bp.Dense(4, 3, activation="softmax")],
                     loss="cross_entropy", seed=4, dtype="float64")
    rng = np.random.default_rng(0)
    X = net.check_inputs(rng.normal(size=(7, 3)))
    Y, _ = net.prepare_targets(rng.integers(0, 3, size=7), 7)
    return net, X, Y


@pytest.mark.parametrize("index", range(6))
def test_backward_reads_the_gradient_it_is_handed_and_never_writes_it(index: int) -> None:
    net, X, _ = _every_kind_network()
    net.forward_batch(X, training=True)
    layer = net.layers[index]
    grad = np.random.default_rng(index).normal(size=(7, layer.n_out))
    before = grad.copy()
    result = layer.backward(grad)
    np.testing.assert_array_equal(grad, before)
    assert (result is None) == (index == 0)


@pytest.mark.parametrize("m", [1, 3, 40])
def test_the_first_layer_returns_no_gradient_of_the_data(m: int) -> None:
    net = bp.Network([bp.Dense(4, 6, activation="sigmoid"), bp.Dense(6, 2, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=0, dtype="float64")
    assert [layer.needs_input_gradient for layer in net.layers] == [False, True]
    X = np.random.default_rng(1).normal(size=(m, 4))
    net.forward_batch(X, training=True)
    assert net.layers[0].backward(np.ones((m, 6))) is None
    assert net.layers[1].backward(np.ones((m, 2))) is not None


def test_a_canonical_pair_hands_the_output_layer_its_delta() -> None:
    """The loss decides where (1) begins: a − y for softmax + cross-entropy, and the output
    layer, told so, does not multiply by σ' again."""
    net = bp.Network([bp.Dense(3, 4, activation="softmax")], loss="cross_entropy",
                     dtype="float64", seed=1)
    X = np.random.default_rng(2).normal(size=(5, 3))
    Y, _ = net.prepare_targets([0, 1, 2, 3, 0], 5)
    a = net.forward_batch(X, training=True)
    out = np.empty_like(a)
    grad, is_delta = net.loss.output_gradient(net.output_layer.activation, a, Y, out=out)
    assert is_delta and grad is out
    np.testing.assert_array_equal(grad, a - Y)
    net.output_layer.backward(grad, delta_given=True)
    np.testing.assert_allclose(net.output_layer.dW, (a - Y).T @ X / 5, rtol=1e-14)
    mse = bp.get_loss("mse")
    _, is_delta = mse.output_gradient(net.output_layer.activation, a, Y, out=out)
    assert not is_delta


class Affine(bp.Layer):
    """a = s ⊙ x + t, per feature: a layer kind written with the public API alone."""

    def __init__(self, n: int) -> None:
        self.n_in = self.n_out = n
        self.x: np.ndarray | None = None

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"s": (self.n_in,), "t": (self.n_in,)}

    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.s, self.t, self.ds, self.dt = params["s"], params["t"], grads["s"], grads["t"]

    def initialize(self, rng: np.random.Generator, init: str) -> None:
        self.s[...] = rng.uniform(0.5, 1.5, size=self.n_in)
        self.t[...] = 0.0

    def forward(self, a_prev: np.ndarray, training: bool = False) -> np.ndarray:
        self.x = a_prev
        return self.s * a_prev + self.t

    def backward(self, grad_a: np.ndarray) -> np.ndarray | None:
        # rows are per-sample gradients: the parameters' are of the mean loss
        assert self.x is not None
        m = grad_a.shape[0]
        np.multiply(np.einsum("ij,ij->j", grad_a, self.x), 1.0 / m, out=self.ds)
        np.multiply(grad_a.sum(axis=0), 1.0 / m, out=self.dt)
        return grad_a * self.s if self.needs_input_gradient else None

    def reference_forward(self, a_prev: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        s, t = np.array(self.s, dtype=np.float64), np.array(self.t, dtype=np.float64)
        return np.array([s * x + t for x in a_prev]), {"x": a_prev, "s": s}

    def reference_backward(self, grad_a: np.ndarray, saved: dict[str, Any],
                           rule: BackwardRule | None = None) -> ReferenceBackward:
        gradients = {"s": (grad_a * saved["x"]).mean(axis=0), "t": grad_a.mean(axis=0)}
        below = grad_a * saved["s"] if self.needs_input_gradient else None
        return ReferenceBackward(below, gradients)

    def config(self) -> dict[str, Any]:
        return {"kind": "Affine", "n": self.n_in}


@pytest.mark.parametrize("first", [False, True])
def test_a_users_layer_kind_trains_with_fit_and_passes_gradcheck(first: bool) -> None:
    layers: list[bp.Layer] = [bp.Dense(2, 6, activation="tanh"), Affine(6),
                              bp.Dense(6, 1, activation="sigmoid")]
    if first:
        layers.insert(0, Affine(2))
    net = bp.Network(layers, loss="binary_cross_entropy", seed=3, dtype="float64")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # xor of the signs
    report = bp.gradcheck(net, X[:9], y[:9])
    assert report.passed, str(report)
    assert report.relative_error < 1e-7
    affine = net.layers[1 + first]
    net.gradients(X[:9], y[:9])
    assert isinstance(affine, Affine) and np.all(affine.ds != 0)
    before = net.loss_value(X, y)
    s_before = affine.s.copy()
    history = net.fit(X, y, epochs=60, batch_size=16, optimizer=bp.Adam(lr=0.02))
    assert history.history["loss"][-1] < 0.5 * before
    assert not np.array_equal(affine.s, s_before)  # its own parameters trained
    # its reference form joins the one reference implementation
    Xc = net.check_inputs(X[:5])
    Y, _ = net.prepare_targets(y[:5], 5)
    net.backprop(Xc, Y)
    np.testing.assert_allclose(reference_step(net, Xc, Y).gradient, net.grads,
                               rtol=1e-9, atol=1e-13)
