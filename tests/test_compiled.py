"""The compiled path (``Network(compiled=True)``) against NumPy's, on random networks.

Its passes do NumPy's arithmetic in fewer passes over memory, so the two paths
agree to the last bit wherever no sum is reordered and no exp or tanh is taken
on one path and not the other (linear, relu and leaky_relu layers, a softmax,
which keeps NumPy's passes on both, squared error and softmax with
cross-entropy, every layer kind and optimizer: the tests marked "bit for bit"), and to 1e-12 of each tensor's
largest entry in float64 everywhere (every activation, loss and pairing). What
is reordered is listed in docs/guides/speed-compiled.md.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.errors import OptionError
from backprop.nn.activations import ReLU
from backprop.nn.compiled_activations import CompiledActivationPasses
from backprop.nn.compiled_losses import CompiledLossPasses
from backprop.nn.passes import ActivationPasses, LossPasses
from backprop.validation import check_inputs, mark_finite
from nets import HIDDEN_ACTIVATIONS, OUTPUTS_FOR_LOSS, targets

numba = pytest.importorskip("numba", reason="numba not installed (the numba extra): "
                                            "the compiled path is not tested")

#: Activations and losses whose passes on the compiled path give NumPy's numbers to the last
#: bit (softmax: NumPy's own passes on both paths; cross-entropy: its δ^[L] = a − y).
EXACT_ACTIVATIONS = ["linear", "relu", "leaky_relu", "softmax"]
EXACT_LOSSES = ("mse", "cross_entropy")
#: Optimizers in every configuration their compiled passes have.
OPTIMIZERS: list[Callable[[], bp.Optimizer]] = [
    lambda: bp.SGD(lr=0.05),
    lambda: bp.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: bp.SGD(lr=0.05, momentum=0.9, dampening=0.3),
    lambda: bp.RMSProp(lr=0.01, momentum=0.5, weight_decay=0.01),
    lambda: bp.Adam(lr=0.01, weight_decay=0.01),
    lambda: bp.AdamW(lr=0.01),
]
Recipe = tuple[str, str, list[tuple[Any, ...]], str, int]  # loss, dtype, layers, output, seed


@st.composite
def recipes(draw: st.DrawFn, activations: list[str] = HIDDEN_ACTIVATIONS,
            losses: tuple[str, ...] = tuple(OUTPUTS_FOR_LOSS), dtype: str = "float64",
            batch_norm: bool = True) -> Recipe:
    """A random network's description: Dense layers of any σ and bias, each hidden one
    followed by nothing, a BatchNorm (unless not ``batch_norm``), an ActivationLayer or a
    Dropout."""
    loss = draw(st.sampled_from(losses))
    output = draw(st.sampled_from([a for a in OUTPUTS_FOR_LOSS[loss] if a in activations]))
    depth = draw(st.integers(1, 4))
    widths = [draw(st.integers(1, 5)) for _ in range(depth)]
    widths.append(draw(st.integers(2 if "softmax" in (output, loss) or loss == "cross_entropy"
                                   else 1, 4)))
    layers: list[tuple[Any, ...]] = []
    for i in range(depth):
        sigma = output if i == depth - 1 else draw(st.sampled_from(activations))
        layers.append(("Dense", widths[i], widths[i + 1], sigma, draw(st.booleans())))
        if i < depth - 1:
            extras = ["none", "batchnorm", "activation", "dropout"]
            extra = draw(st.sampled_from(extras if batch_norm else extras[:1] + extras[2:]))
            layers.append((extra, widths[i + 1], draw(st.sampled_from(activations))))
    return loss, dtype, layers, output, draw(st.integers(0, 2**16))


def build(recipe: Recipe, compiled: bool) -> bp.Network:
    loss, dtype, described, _, seed = recipe
    layers: list[bp.Layer] = []
    for kind, *args in described:
        if kind == "Dense":
            n_in, n_out, sigma, bias = args
            layers.append(bp.Dense(n_in, n_out, sigma, bias=bias))
        elif kind == "batchnorm":
            layers.append(bp.BatchNorm(args[0]))
        elif kind == "activation":
            layers.append(bp.ActivationLayer(args[0], args[1]))
        elif kind == "dropout":
            layers.append(bp.Dropout(args[0], rate=0.3))
    return bp.Network(layers, loss=loss, seed=seed, dtype=dtype, compiled=compiled)


def data(recipe: Recipe, m: int) -> tuple[np.ndarray, np.ndarray]:
    loss, dtype, described, _, seed = recipe
    rng = np.random.default_rng(seed + 1)
    n_in, n_out = described[0][1], described[-1][2]
    X = rng.normal(size=(m, n_in)).astype(dtype)
    return X, targets(loss, m, n_out, rng).astype(dtype)


def both(recipe: Recipe) -> tuple[bp.Network, bp.Network]:
    """The network on NumPy's path and the same network on the compiled path."""
    return build(recipe, compiled=False), build(recipe, compiled=True)


def assert_close(got: np.ndarray, want: np.ndarray, what: str, rtol: float = 1e-12,
                 floor: float = 0.0) -> None:
    """Equal to ``rtol`` of the largest entry of ``want`` (or to ``floor``, if larger)."""
    scale = float(np.max(np.abs(want), initial=0.0))
    error = float(np.max(np.abs(got - want), initial=0.0))
    assert error <= max(rtol * scale, floor), (
        f"{what}: off by {error:.3g} at a scale of {scale:.3g}")


def assert_tensors_close(compiled: bp.Network, numpy: bp.Network, flat_got: np.ndarray,
                         flat_want: np.ndarray, what: str) -> None:
    """Every entry to 1e-12 of the largest entry of all (the max-norm relative error of the
    whole vector), and each tensor to 1e-7 of its own largest entry where that is more than
    rounding noise: a tensor can be the difference of nearly equal numbers (BatchNorm over
    two samples; the β of a BatchNorm that another one follows, 0 but for rounding), which
    magnifies the last bits that exp and tanh may change."""
    assert_close(flat_got, flat_want, what)
    noise = 1e-12 * float(np.max(np.abs(flat_want), initial=0.0))
    for index, name, where in numpy.parameter_slices:
        assert_close(flat_got[where], flat_want[where], f"{what} of layer {index + 1} {name}",
                     rtol=1e-7, floor=noise)


# -- gradients ---------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(recipe=recipes(), m=st.sampled_from([1, 2, 17]))
def test_gradients_agree_to_1e_12_for_every_kind_activation_and_loss(recipe: Recipe,
                                                                     m: int) -> None:
    """Every layer kind, activation, loss and pairing, in float64."""
    numpy, compiled = both(recipe)
    if any(isinstance(layer, bp.BatchNorm) for layer in numpy.layers):
        m = max(m, 2)  # BatchNorm normalizes over at least two samples in training
    X, Y = data(recipe, m)
    loss_numpy, loss_compiled = numpy.backprop(X, Y), compiled.backprop(X, Y)
    assert abs(loss_compiled - loss_numpy) <= 1e-12 * abs(loss_numpy)
    assert_tensors_close(compiled, numpy, compiled.grads, numpy.grads, "∂L/∂θ")
    assert_close(compiled.output_layer.a, numpy.output_layer.a, "a^[L]")  # type: ignore[arg-type]
    assert_close(compiled.forward(X), numpy.forward(X), "forward in inference")


@settings(max_examples=60, deadline=None)
@given(recipe=recipes(activations=EXACT_ACTIVATIONS, losses=EXACT_LOSSES,
                      dtype="float32") | recipes(activations=EXACT_ACTIVATIONS, losses=EXACT_LOSSES),
       m=st.sampled_from([1, 2, 17, 130]))
def test_gradients_and_outputs_are_equal_bit_for_bit_where_no_sum_is_reordered(
        recipe: Recipe, m: int) -> None:
    numpy, compiled = both(recipe)
    m = max(m, 2) if any(isinstance(layer, bp.BatchNorm) for layer in numpy.layers) else m
    X, Y = data(recipe, m)
    numpy.backprop(X, Y)
    compiled.backprop(X, Y)
    np.testing.assert_array_equal(compiled.grads, numpy.grads)
    np.testing.assert_array_equal(compiled.forward(X), numpy.forward(X))
    assert compiled.grads.dtype == np.dtype(recipe[1])


# -- updates -----------------------------------------------------------------------------------
def train(net: bp.Network, recipe: Recipe, optimizer: bp.Optimizer, **options: Any) -> None:
    X, Y = data(recipe, 24)
    net.fit(X, Y, epochs=2, batch_size=8, optimizer=optimizer, **options)


@settings(max_examples=25, deadline=None)
@given(which=st.integers(0, len(OPTIMIZERS) - 1), clip=st.booleans(), draw=st.data())
def test_training_agrees_to_1e_12_for_every_optimizer(which: int, clip: bool,
                                                      draw: st.DataObject) -> None:
    """θ after six steps. Adam and RMSProp train networks without BatchNorm here: a layer
    below a BatchNorm can get a gradient that is 0 but for rounding (a feature the
    normalization makes all but independent of its weights), and an update that divides by
    the gradient's size turns that rounding into whole steps, whose direction no two ways
    of rounding share. Their update itself is NumPy's to the last bit (below)."""
    adaptive = isinstance(OPTIMIZERS[which](), bp.RMSProp | bp.Adam)
    recipe = draw.draw(recipes(batch_norm=not adaptive))
    numpy, compiled = both(recipe)
    options = {"clip_norm": 0.5} if clip else {}
    train(numpy, recipe, OPTIMIZERS[which](), **options)
    train(compiled, recipe, OPTIMIZERS[which](), **options)
    assert_tensors_close(compiled, numpy, compiled.params, numpy.params, "θ after 6 steps")


@settings(max_examples=25, deadline=None)
@given(recipe=recipes(activations=EXACT_ACTIVATIONS, losses=EXACT_LOSSES, dtype="float32"),
       which=st.integers(0, len(OPTIMIZERS) - 1), clip=st.booleans())
def test_training_is_equal_bit_for_bit_for_every_optimizer(recipe: Recipe, which: int,
                                                           clip: bool) -> None:
    """The update, θ ← θ − Δθ and the finiteness check in one compiled pass: NumPy's θ."""
    numpy, compiled = both(recipe)
    options = {"clip_norm": 0.5} if clip else {}
    numpy_optimizer, compiled_optimizer = OPTIMIZERS[which](), OPTIMIZERS[which]()
    train(numpy, recipe, numpy_optimizer, **options)
    train(compiled, recipe, compiled_optimizer, **options)
    np.testing.assert_array_equal(compiled.params, numpy.params)
    for name, array in numpy_optimizer.state_dict()["arrays"].items():
        np.testing.assert_array_equal(compiled_optimizer.state_dict()["arrays"][name], array)


def test_a_frozen_bias_stays_as_it_is_on_the_compiled_path() -> None:
    def net(compiled: bool) -> bp.Network:
        return bp.Network([bp.Dense(3, 4, "relu", train_bias=False), bp.Dense(4, 2, "linear")],
                          loss="mse", seed=3, compiled=compiled)

    numpy, compiled = net(False), net(True)
    compiled.layers[0].b[...] = numpy.layers[0].b[...] = 0.25  # type: ignore[index]
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    for each in (numpy, compiled):
        each.fit(X, Y, epochs=3, batch_size=5, optimizer=bp.AdamW(lr=0.1, weight_decay=0.5))
    assert np.all(compiled.layers[0].b == 0.25)  # type: ignore[operator]
    np.testing.assert_array_equal(compiled.params, numpy.params)


# -- divergence: the same error, the weights at their last finite values -----------------------
def _diverge(compiled: bool, make: Callable[[bool], tuple[bp.Network, Callable[[bp.Network],
                                                                            None]]]) -> Any:
    net, run = make(compiled)
    with pytest.raises(bp.DivergenceError) as caught:
        run(net)
    assert np.all(np.isfinite(net.params))
    return str(caught.value), net.params.copy()


def _overflowing_update(compiled: bool) -> tuple[bp.Network, Callable[[bp.Network], None]]:
    # Loss ½·(10¹⁸)² and gradient 10³⁶ fit in float32; η·g = 10³⁹ does not.
    net = bp.Network([bp.Dense(1, 1, activation="linear")], loss="mse", seed=0,
                     dtype="float32", compiled=compiled)
    net.layers[0].W[...] = 1.0  # type: ignore[attr-defined]
    return net, lambda n: n.fit(np.array([[1e18]]), np.array([0.0]), epochs=3,
                                batch_size=None, lr=1e3)


def _infinite_gradient(compiled: bool) -> tuple[bp.Network, Callable[[bp.Network], None]]:
    # z = 0.1 · 10²⁰ and the loss ½ z² = 5·10³⁷ fit in float32; ∂L/∂W = z · 10²⁰ does not.
    net = bp.Network([bp.Dense(1, 1, activation="linear")], loss="mse", seed=0,
                     dtype="float32", compiled=compiled)
    net.layers[0].W[...] = 0.1  # type: ignore[attr-defined]
    return net, lambda n: n.fit(np.array([[1e20]]), np.array([0.0]), epochs=1,
                                batch_size=None, lr=1e-3)


def _huge_learning_rate(compiled: bool) -> tuple[bp.Network, Callable[[bp.Network], None]]:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)) * 100, rng.normal(size=64) * 100
    net = bp.Network([bp.Dense(3, 8, activation="relu"), bp.Dense(8, 1)], seed=0,
                     compiled=compiled)
    return net, lambda n: n.fit(X, y, epochs=50, batch_size=8, lr=1e3)


def _adam_at_1e30(compiled: bool) -> tuple[bp.Network, Callable[[bp.Network], None]]:
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(64, 2)), rng.normal(size=64)
    net = bp.Network([bp.Dense(2, 8, "relu"), bp.Dense(8, 1, "linear")], loss="mse", seed=0,
                     compiled=compiled)
    return net, lambda n: n.fit(X, y, epochs=20, batch_size=16, optimizer=bp.Adam(lr=1e30))


@pytest.mark.parametrize("make", [_overflowing_update, _infinite_gradient, _huge_learning_rate,
                                  _adam_at_1e30])
def test_divergence_is_stopped_as_on_numpys_path(make: Callable[[bool], Any]) -> None:
    numpy_message, numpy_params = _diverge(False, make)
    compiled_message, compiled_params = _diverge(True, make)
    assert compiled_message == numpy_message
    np.testing.assert_array_equal(compiled_params, numpy_params)


def test_a_step_taken_back_leaves_every_weight_as_it_was() -> None:
    net, run = _overflowing_update(True)
    before = net.params.copy()
    with pytest.raises(bp.DivergenceError, match="the update made layer 1 W non-finite"):
        run(net)
    np.testing.assert_array_equal(net.params, before)


# -- what chooses the compiled form -------------------------------------------------------------
class Softplus(bp.Activation):
    name = "softplus-of-the-tests"

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.logaddexp(z, 0.0, out=out)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


class ShiftedReLU(ReLU):
    """A subclass that computes another σ: its parent's compiled form does not fit it."""

    def function(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.maximum(z - 1.0, 0.0, out=out)


def test_an_activation_without_a_compiled_form_runs_its_numpy_methods() -> None:
    assert ShiftedReLU.compiled_kind is None and Softplus.compiled_kind is None
    assert ReLU.compiled_kind == "relu"

    def net(compiled: bool) -> bp.Network:
        return bp.Network([bp.Dense(3, 4, Softplus()), bp.Dense(4, 4, ShiftedReLU()),
                           bp.Dense(4, 3, "relu"), bp.Dense(3, 2, "linear")],
                          loss="mse", seed=1, dtype="float64", compiled=compiled)

    numpy, compiled = net(False), net(True)
    kinds = [type(layer.passes) for layer in compiled.layers]  # type: ignore[attr-defined]
    assert kinds == [ActivationPasses, ActivationPasses, CompiledActivationPasses,
                     CompiledActivationPasses]
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    numpy.backprop(X, Y)
    compiled.backprop(X, Y)
    np.testing.assert_array_equal(compiled.grads, numpy.grads)


def test_a_loss_is_compiled_only_with_a_pairing_its_form_holds_for() -> None:
    def passes(loss: str, output: str, n_out: int = 2) -> type:
        net = bp.Network([bp.Dense(2, n_out, output)], loss=loss, compiled=True)
        return type(net.output_passes)

    assert passes("cross_entropy", "softmax") is CompiledLossPasses
    assert passes("binary_cross_entropy", "sigmoid") is CompiledLossPasses
    assert passes("mse", "tanh") is CompiledLossPasses
    assert passes("cross_entropy", "sigmoid") is LossPasses  # not canonical: NumPy's
    assert passes("binary_cross_entropy", "softmax") is LossPasses


def test_compiled_can_be_switched_on_and_off_and_is_not_saved(tmp_path: Path) -> None:
    net = bp.Network([bp.Dense(2, 3, "relu"), bp.Dense(3, 2, "softmax")], loss="cross_entropy")
    assert not net.compiled and type(net.output_passes) is LossPasses
    net.compiled = True
    assert type(net.layers[0].passes) is CompiledActivationPasses  # type: ignore[attr-defined]
    assert net.copy().compiled
    net.save(str(tmp_path / "model.npz"))
    assert not bp.load(str(tmp_path / "model.npz")).compiled
    net.compiled = False
    assert type(net.layers[0].passes) is ActivationPasses  # type: ignore[attr-defined]
    with pytest.raises(bp.OptionTypeError, match="compiled must be True or False, got 'yes'"):
        net.compiled = "yes"  # type: ignore[assignment]


def test_compiled_without_numba_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
    with pytest.raises(OptionError, match=r"^compiled=True needs numba: "
                                          r"pip install 'backprop-mlp\[numba\]'$"):
        bp.Network([bp.Dense(2, 1)], compiled=True)


def test_numba_is_imported_only_when_a_compiled_pass_runs(without_prebuilt_passes: Path) -> None:
    code = (
        "import sys, numpy as np, backprop as bp\n"
        "net = bp.Network([bp.Dense(2, 3, 'relu'), bp.Dense(3, 1)], compiled=True)\n"
        "assert 'numba' not in sys.modules, 'imported by the constructor'\n"
        "net.fit(np.zeros((4, 2)), np.zeros(4), epochs=1)\n"
        "assert 'numba' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)  # (its cache folder, with the environment, is empty)
    assert result.returncode == 0, result.stderr


# -- the front ends ----------------------------------------------------------------------------
def test_train_with_compiled_without_numba_names_the_extra(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['numba'] = None; from backprop.cli.entry import main; "
            "sys.exit(main(['train', 'xor', '--compiled', '--quiet', '--out', sys.argv[1]]))")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "backprop: error: --compiled needs numba: pip install 'backprop-mlp[numba]'")


def test_train_with_compiled_gives_the_same_model_to_rounding(tmp_path: Path) -> None:
    models = []
    for compiled in (False, True):
        out = tmp_path / f"compiled-{compiled}"
        command = [sys.executable, "-m", "backprop", "train", "circles", "--layers", "8",
                   "--epochs", "5", "--dtype", "float64", "--no-plots", "--quiet",
                   "--out", str(out)]
        result = subprocess.run(command + ["--compiled"] * compiled, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        models.append(bp.load(str(out / "model.npz")))
    assert_close(models[1].params, models[0].params, "θ after training", rtol=1e-9)


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")
def test_the_estimators_compiled_fit_the_same_network_to_rounding() -> None:
    sklearn = pytest.importorskip("backprop.sklearn", reason="the sklearn extra is not installed")
    import pickle

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    fitted = [sklearn.MLPClassifier((8,), max_iter=15, random_state=0, dtype="float64",
                                    learning_rate_init=0.01, compiled=compiled).fit(X, y)
              for compiled in (False, True)]
    assert fitted[1].network_.compiled and fitted[1].optimizer_.compiled_step
    assert_close(fitted[1].network_.params, fitted[0].network_.params, "θ", rtol=1e-9)
    assert_close(fitted[1].predict_proba(X), fitted[0].predict_proba(X), "p", rtol=1e-9)
    restored = pickle.loads(pickle.dumps(fitted[1]))
    assert restored.network_.compiled and restored.optimizer_.compiled_step


# -- the input check -----------------------------------------------------------------------------
def test_an_array_marked_finite_is_not_checked_again_until_it_can_change() -> None:
    X = mark_finite(np.ones((3, 2)))
    assert not X.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        X[0, 0] = np.nan
    assert check_inputs(X, 2, np.dtype(np.float64)) is X
    X.flags.writeable = True  # writable again: checked as any other array
    X[0, 0] = np.nan
    with pytest.raises(bp.DataError, match="X contains nan at row 0, column 0"):
        check_inputs(X, 2, np.dtype(np.float64))


def test_a_view_is_never_marked() -> None:
    base = np.ones((4, 2))
    view = mark_finite(base[:2])
    assert view.flags.writeable  # left as it was: base could change it
    base[0, 0] = np.inf
    with pytest.raises(bp.DataError, match="X contains inf at row 0, column 0"):
        check_inputs(view, 2, np.dtype(np.float64))
