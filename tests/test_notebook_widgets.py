"""The notebook widgets' Python side, without a browser: traits, state, steps equal to fit,
the notebook's own network trained in place, bad data refused in one line, the still frame."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

pytest.importorskip("anywidget", reason="the widgets need the extra backprop-mlp[notebook]")

import backprop as bp
from backprop.errors import DataError, DataTypeError, OptionError
from backprop.lab import exchange
from backprop.lab.notebook.widgets import Playground, Regression, Sandbox
from backprop.teaching.answers import step_values


def three_classes(m: int = 161, d: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """m points in d dimensions, labelled by the angle of their first two coordinates."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d))
    y = np.digitize(np.arctan2(X[:, 1], X[:, 0]), [-np.pi / 3, np.pi / 3])
    return X, y


def deep_network(d: int = 2, seed: int = 3, dtype: str = "float64") -> bp.Network:
    """A network of every kind of layer the playground takes: Dense, BatchNorm, Dropout."""
    return bp.Network(
        [bp.Dense(d, 8, activation="relu"), bp.BatchNorm(8), bp.Dropout(8, rate=0.2),
         bp.Dense(8, 6, activation="tanh"), bp.Dense(6, 5, activation="leaky_relu"),
         bp.Dense(5, 3, activation="softmax")],
        loss="cross_entropy", seed=seed, dtype=dtype)


def from_page(widget: Any, message: dict[str, Any]) -> None:
    """A frame as the page's script sends it through the widget model."""
    widget._receive(widget, {"lab": json.dumps(message)}, [])


# -- training: the engine's fit, step for step -------------------------------------------------

def test_steps_are_fits_steps_bit_for_bit_and_the_losses_are_fits() -> None:
    X, y = three_classes(m=161)  # 161 = 10 batches of 16 and one of 1, which BatchNorm joins
    net, reference = deep_network(), deep_network()
    widget = Playground(data=(X, y), network=net, optimizer=bp.Adam(lr=0.01), batch_size=16)
    optimizer = bp.Adam(lr=0.01)
    per_epoch = 10
    for _ in range(3):
        widget.step(per_epoch)
        reference.fit(X, y, epochs=1, batch_size=16, optimizer=optimizer, verbose=False)
        assert np.array_equal(net.params, reference.params)
        for (name, ours), (_, theirs) in zip(net.named_state(), reference.named_state(),
                                             strict=True):
            assert np.array_equal(ours, theirs), name
        row = widget.history[-1]
        assert row["loss_train"] == pytest.approx(reference.evaluate(X, y)["loss"], rel=1e-12)
        assert row["accuracy_train"] == reference.evaluate(X, y)["accuracy"]
    assert widget.state["step"] == 30 and widget.state["epoch"] == 3


def test_full_batch_and_sgd_match_fit_too() -> None:
    X, y = three_classes(m=60, d=3)
    build = lambda: bp.Network([bp.Dense(3, 5, activation="sigmoid"),  # noqa: E731
                                bp.Dense(5, 3, activation="softmax")],
                               loss="cross_entropy", seed=1, dtype="float64")
    net, reference = build(), build()
    widget = Playground(data=(X, y), network=net, optimizer=bp.SGD(lr=0.5, momentum=0.9),
                        batch_size=0)
    assert widget.optimizer == "momentum" and widget.lr == 0.5
    widget.step(25)
    reference.fit(X, y, epochs=25, batch_size=None, optimizer=bp.SGD(lr=0.5, momentum=0.9),
                  verbose=False)
    assert np.array_equal(net.params, reference.params)


def test_the_notebooks_network_is_trained_in_place_in_its_own_dtype() -> None:
    X, y = three_classes()
    net = deep_network(dtype="float32")
    before = net.evaluate(X, y)["loss"]
    widget = Playground(data=(X, y), network=net, lr=0.05, optimizer=bp.Adam(lr=0.05))
    widget.step(120)
    assert widget.network is net and net.params.dtype == np.float32
    after = net.evaluate(X, y)
    assert after["loss"] < before / 2 and after["accuracy"] > 0.85
    assert widget.history[-1]["loss_train"] == pytest.approx(after["loss"], rel=1e-4)
    widget.reset()  # back to the weights it came with
    assert net.evaluate(X, y)["loss"] == pytest.approx(before, rel=1e-6)
    assert widget.state["step"] == 0 and len(widget.history) == 1


def test_without_a_network_the_page_builds_one_for_any_number_of_features_and_classes() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] > 0).astype(int) * 2 + (X[:, 2] > 0).astype(int)  # four classes
    widget = Playground(data=(X, y), layers=[6], lr=0.3)
    net = widget.network
    assert net.n_inputs == 4 and net.n_outputs == 4 and net.loss.name == "cross_entropy"
    widget.step(200)
    assert net.evaluate(X, y)["accuracy"] > 0.8
    assert widget.state["network"]["inputs"] == ["x1", "x2", "x3", "x4"]


def test_a_regression_target_draws_the_surface() -> None:
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(150, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    widget = Playground(data=(X, y), layers=[8, 8], lr=0.05, optimizer="adam")
    assert widget.state["task"] == "regression" and widget.network.loss.name == "mse"
    assert widget.state["boundary"]["kind"] == "value"
    first = widget.history[-1]["loss_train"]
    widget.step(300)
    assert widget.history[-1]["loss_train"] < first / 3


def test_a_dataset_name_is_the_labs_own_page() -> None:
    widget = Playground("moons", noise=0.1, seed=2, size=120)
    assert widget.setup["dataset"] == "moons" and len(widget.state["points"]["train"]) == 60
    widget.setup = {**widget.setup, "dataset": "spirals"}  # the page's menus still work
    assert widget.state["setup"]["dataset"] == "spirals"


# -- the plane drawn ---------------------------------------------------------------------------

def test_more_than_two_features_are_drawn_on_the_principal_plane() -> None:
    X, y = three_classes(d=5)
    widget = Playground(data=(X, y), network=deep_network(d=5))
    assert "first two principal directions" in widget._caption
    train = np.array(widget.state["points"]["train"])[:, :2]
    centred = X - X.mean(axis=0)
    directions = np.linalg.svd(centred, full_matrices=False)[2][:2]
    assert np.allclose(train, centred @ directions.T)
    assert widget.state["boundary"] is not None


def test_two_chosen_features_hold_the_others_at_their_means() -> None:
    X, y = three_classes(d=4)
    widget = Playground(data=(X, y), projection=(2, 0))
    assert np.allclose(np.array(widget.state["points"]["train"])[:, :2], X[:, [2, 0]])
    page = widget.page
    lifted = page.run.inputs(np.array([[0.5, -1.0]]))
    assert lifted[0, 2] == 0.5 and lifted[0, 0] == -1.0
    assert np.allclose(lifted[0, [1, 3]], X.mean(axis=0)[[1, 3]])


def test_no_projection_omits_the_boundary_and_keeps_the_rest() -> None:
    X, y = three_classes(d=3)
    widget = Playground(data=(X, y), projection=None)
    state = widget.state
    assert state["boundary"] is None and state["neurons"] is None
    assert state["network"]["layers"] and state["loss_train"] is not None
    widget.step(5)
    assert widget.state["boundary"] is None


# -- both directions ---------------------------------------------------------------------------

def test_settings_changed_in_the_page_show_in_python_and_back() -> None:
    X, y = three_classes()
    widget = Playground(data=(X, y), network=deep_network(), optimizer=bp.SGD(lr=0.1))
    from_page(widget, {"type": "configure", "lr": 0.02, "batch_size": 32})
    assert widget.lr == 0.02 and widget.batch_size == 32 and widget.setup["lr"] == 0.02
    assert widget.page.run.optimizer.lr == 0.02
    widget.lr = 0.3
    assert widget.state["setup"]["lr"] == 0.3 and widget.page.run.optimizer.lr == 0.3
    widget.optimizer = "adam"
    assert isinstance(widget.page.run.optimizer, bp.Adam)
    with pytest.raises(OptionError, match=r"^lr: "):
        widget.lr = -1.0
    assert widget.lr == 0.3  # back to what the page holds


def test_what_the_notebooks_own_data_and_network_fix_is_refused_by_name() -> None:
    X, y = three_classes()
    widget = Playground(data=(X, y), network=deep_network())
    with pytest.raises(OptionError, match=r"^layers: the network is the notebook's own"):
        widget.setup = {**widget.setup, "layers": [3]}
    from_page(widget, {"type": "configure", "noise": 0.3})
    assert widget.state["setup"]["noise"] == 0.05  # unchanged, and the page told why
    with pytest.raises(OptionError, match=r"^type: the data are the notebook's own arrays"):
        widget.send_message({"type": "add_point", "x1": 0.0, "x2": 0.0})
    with pytest.raises(OptionError, match=r"^type: compare is not offered here"):
        widget.send_message({"type": "compare", "lr": 0.5})
    with pytest.raises(OptionError, match=r"^layers: the network is the notebook's own"):
        Playground(data=(X, y), network=deep_network(), layers=[2])


def test_the_state_is_the_pages_state_merged_as_its_script_merges_it() -> None:
    X, y = three_classes()
    widget = Playground(data=(X, y))
    for _ in range(5):
        widget.step(3)
    state = widget.state
    assert state["page"] == "playground" and state["type"] == "state"
    assert "history_append" not in state
    assert state["history"] == widget.page.history  # the appended rows, in order
    merged: dict[str, Any] = {"page": "playground"}
    exchange.merge(merged, json.loads(exchange.encode(widget.page.state())))
    assert merged["history"] == state["history"] and merged["step"] == state["step"] == 15


def test_play_trains_in_the_background_and_pause_stops_it() -> None:
    X, y = three_classes()
    net = deep_network()
    widget = Playground(data=(X, y), network=net, speed=5)
    widget.play()
    assert widget.playing
    assert widget.wait(lambda w: w.state["step"] >= 40, timeout=30)
    widget.pause()
    assert widget.wait(lambda w: not w.playing, timeout=10)
    step = widget.state["step"]
    assert len(widget.history) >= 8 and widget.history[-1]["step"] == step
    assert widget.page.run.steps == step  # nothing moves after the pause
    widget.playing = True  # the trait plays too
    assert widget.wait(lambda w: w.state["step"] > step, timeout=30)
    widget.close()
    assert not widget.page.playing


def test_a_play_from_the_page_plays_in_the_kernel() -> None:
    widget = Playground(data=three_classes())
    from_page(widget, {"type": "play"})
    assert widget.wait(lambda w: w.state["step"] >= 12, timeout=30) and widget.playing
    from_page(widget, {"type": "pause"})
    assert widget.wait(lambda w: not w.playing, timeout=10)
    widget.close()


def test_a_bad_frame_gets_the_pages_error_reply_and_nothing_changes() -> None:
    widget = Playground(data=three_classes())
    sent: list[dict[str, Any]] = []
    widget.send = lambda content, buffers=None: sent.append(json.loads(content["lab"]))
    from_page(widget, {"type": "step", "count": -3})
    assert sent[-1]["type"] == "error" and sent[-1]["field"] == "count"
    widget._receive(widget, {"lab": "not json"}, [])
    assert sent[-1]["type"] == "error" and sent[-1]["field"] == "frame"
    widget._receive(widget, {"something": "else"}, [])  # not the page's: ignored
    assert len(sent) == 2 and widget.state["step"] == 0


def test_step_takes_any_number_of_steps_and_refuses_a_bad_one() -> None:
    widget = Playground(data=three_classes(m=40), batch_size=1, speed=1)
    widget.step(5001)  # more than one step message carries
    assert widget.state["step"] == 5001
    for bad in (0, -1, 2.5, True):
        with pytest.raises(OptionError, match=r"^n: "):
            widget.step(bad)  # type: ignore[arg-type]


# -- bad data, one line naming the argument ------------------------------------------------

@pytest.mark.parametrize(("data", "kwargs", "error", "message"), [
    ((np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]), [0, 1, 0]), {}, DataError,
     r"^data: X holds nan at row 1, column 0; NaN and infinity cannot be trained on$"),
    ((np.array([[0.0, 1.0], [1.0, 2.0]]), [0.0, np.inf]), {}, DataError,
     r"^data: y holds inf at row 1; "),
    ((np.zeros((5, 2)), np.zeros(5, dtype=int)), {}, DataError,
     r"^data: y has one class \(0\); a classifier needs samples of two classes or more$"),
    ((np.arange(10.0), np.arange(10) % 2), {}, DataError,
     r"^data: X must be 2-D \(samples × features\), got shape \(10,\); "),
    ((np.zeros((4, 2)), [0, 1, 0]), {}, DataError, r"^data: X has 4 samples but y has 3$"),
    ((np.zeros((4, 1)), [0, 1, 0, 1]), {}, DataError, r"^data: X has one feature; "),
    (np.zeros((4, 2)), {}, DataError, r"^data: expected a pair \(X, y\), got ndarray$"),
    ((np.array([["a", "b"], ["c", "d"]]), [0, 1]), {}, DataTypeError,
     r"^data: X must be numbers, got an array of dtype <U1$"),
    ((np.zeros((4, 2)), [0, 1.5, 0, 1]), {"task": "classification"}, DataError,
     r"^data: class labels must be integers 0, 1, 2, \.\.\., got 1\.5$"),
    ((np.eye(4)[:, :3], [0, 1, 0, 1]), {"test": (np.zeros((2, 3)), [0, np.nan])}, DataError,
     r"^test: y holds nan at row 1; "),
    ((np.eye(4)[:, :3], [0, 1, 0, 1]), {"network": bp.Network([bp.Dense(2, 1, activation="sigmoid")],
                                                              loss="binary_cross_entropy")},
     OptionError, r"^network: it takes 2 inputs but X has 3 features$"),
    ((np.eye(4)[:, :2], [0, 1, 2, 1]), {"network": bp.Network([bp.Dense(2, 1, activation="sigmoid")],
                                                               loss="binary_cross_entropy")},
     OptionError, r"^network: 3 classes need 3 output units, it has 1$"),
    ((np.eye(4)[:, :3], [0, 1, 0, 1]), {"projection": (0, 5)}, OptionError,
     r"^projection: expected two different feature indices in 0\.\.2, got \(0, 5\)$"),
    ("mnist", {}, OptionError, r"^data: unknown data set 'mnist'; choose one of circles, "),
    ((np.eye(4)[:, :2], [0, 1, 0, 1]), {"lr": 1000.0}, OptionError, r"^lr: "),
])
def test_bad_data_is_refused_in_one_line_naming_the_argument(
        data: Any, kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        Playground(data=data, **kwargs)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, bp.BackpropError)


# -- the still frame for static pages ----------------------------------------------------------

def test_each_display_carries_a_png_of_the_last_frame_and_a_link() -> None:
    image = pytest.importorskip("PIL.Image")
    widget = Playground(data=three_classes(), link="course/playground.ipynb")
    widget.step(50)
    data, _ = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    png = image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert png.size == (320, 410)
    pixels = np.asarray(png.convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # the map, not a blank image
    assert 'href="course/playground.ipynb"' in data["text/html"]
    assert data["image/png"] in data["text/html"]
    for widget in (Sandbox("mazur-222"), Regression()):
        shown, _ = widget._repr_mimebundle_()
        assert image.open(io.BytesIO(base64.b64decode(shown["image/png"]))).size[0] > 100
        assert "run this notebook" in shown["text/html"]


# -- the sandbox -------------------------------------------------------------------------------

def test_the_sandbox_steps_the_notebooks_float64_network_in_place() -> None:
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 2, activation="sigmoid")],
                     loss="mse", seed=5, dtype="float64")
    x, y = [0.2, -0.4], [0.1, 0.9]
    widget = Sandbox(net, x=x, y=y, lr=0.7)
    assert widget.network is net and widget.lr == 0.7 and widget.preset == "custom"
    reference = net.copy()
    widget.step(3)
    for _ in range(3):
        reference.fit(np.array([x]), np.array([y]), epochs=1, batch_size=1, lr=0.7,
                      verbose=False)
    assert np.allclose(net.params, reference.params, rtol=1e-12, atol=0)
    losses = [row["loss"] for row in widget.history]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert losses[-1] == pytest.approx(net.evaluate(np.array([x]), np.array([y]))["loss"])


def test_check_my_answer_marks_right_and_wrong_answers() -> None:
    widget = Sandbox("mazur-222")
    right = step_values(widget.network, widget.page.sandbox.X, widget.page.sandbox.Y, widget.lr)
    answer = widget.answer({"d-2-1": f"{right['d-2-1']:.6g}",
                            "g-2-1-1": f"{right['g-2-1-1'] * 2:.6g}"})
    assert answer["verdicts"]["d-2-1"]["verdict"] == "right"
    assert answer["verdicts"]["g-2-1-1"]["verdict"] == "wrong"
    assert answer["summary"] == "1 right, 1 wrong of 2 checked."
    report = widget.check()
    assert report is not None and widget.state["check"] == report


def test_the_sandbox_presets_and_lr_are_traits_both_ways() -> None:
    widget = Sandbox()
    assert widget.preset == "classic-231"
    widget.preset = "mazur-222"
    assert widget.state["preset"] == "mazur-222" and widget.lr == 0.5
    from_page(widget, {"type": "set_lr", "lr": 0.25})
    assert widget.lr == 0.25


@pytest.mark.parametrize(("args", "error", "message"), [
    ((bp.Network([bp.Dense(2, 2), bp.BatchNorm(2), bp.Dense(2, 1)]),), OptionError,
     r"^network: the sandbox shows Dense layers only; layer 2 is a BatchNorm"),
    ((bp.Network([bp.Dense(2, 9), bp.Dense(9, 1)]),), OptionError,
     r"^network: the sandbox shows up to 4 layers of at most 8 units"),
    (("mazur-222", [0.1, 0.2, 0.3]), DataError,
     r"^x: expected 2 values per sample \(shape \(2,\) or \(m, 2\)\), got shape \(1, 3\)$"),
    (("mazur-222", [0.1, np.nan]), DataError, r"^x: holds NaN or infinity"),
    (("no-such-preset",), OptionError, r"^name: Unknown preset 'no-such-preset'"),
])
def test_the_sandbox_refuses_what_it_cannot_show(args: tuple[Any, ...], error: type[Exception],
                                                 message: str) -> None:
    with pytest.raises(error, match=message):
        Sandbox(*args)


# -- the regression simulator ----------------------------------------------------------------

def test_the_regression_fits_the_notebooks_points() -> None:
    x = np.linspace(0, 3, 30)
    y = 2.0 * x - 1.0
    widget = Regression(x, y, lr=0.05)
    assert widget.lr == 0.05 and widget.state["points"][0] == [0.0, -1.0]
    widget.step(2000)
    layer = widget.network.output_layer
    assert layer.W[0, 0] == pytest.approx(2.0, abs=1e-3) and layer.b[0] == pytest.approx(-1.0,
                                                                                         abs=1e-3)
    assert widget.history[-1]["step"] == 2000 and widget.history[-1]["loss"] < 1e-6
    widget.batch_mode = "online"
    assert widget.state["settings"]["batch_mode"] == "online"
    from_page(widget, {"type": "set", "momentum": 0.5})
    assert widget.momentum == 0.5
    widget.play()
    assert widget.wait(lambda w: w.state["step"] > 2010, timeout=30)
    widget.pause()
    widget.close()


@pytest.mark.parametrize(("x", "y", "message"), [
    ([0.0, 1.0, np.nan], [1.0, 2.0, 3.0], r"^x: holds nan at row 2; "),
    ([0.0, 1.0], [1.0, 2.0, 3.0], r"^y: x has 2 points but y has 3$"),
    (np.zeros((3, 2)), [1.0, 2.0, 3.0], r"^x: expected one number per point \(shape \(m,\)\), "),
    ([1e6, 0.0], [0.0, 1.0], r"^x: the page plots values within ±10000; rescale them$"),
])
def test_the_regression_refuses_bad_points(x: Any, y: Any, message: str) -> None:
    with pytest.raises(DataError, match=message):
        Regression(x, y)


def test_an_unknown_regression_setting_is_named() -> None:
    with pytest.raises(OptionError, match=r"^rate: not a setting of the regression page"):
        Regression(rate=0.1)


# -- the package -------------------------------------------------------------------------------

def test_bp_lab_is_lazy_and_the_widgets_load_on_first_use() -> None:
    code = ("import sys, backprop as bp; before = 'backprop.lab' in sys.modules; "
            "bp.lab; middle = [m for m in ('anywidget', 'backprop.lab.notebook') if m in "
            "sys.modules]; bp.lab.Playground; "
            "print(before, middle, 'anywidget' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "[]", "True"]
    assert bp.lab.Playground is Playground and bp.lab.Sandbox is Sandbox


def test_without_the_extra_the_widgets_say_what_to_install(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import backprop.lab as lab

    monkeypatch.delitem(lab.__dict__, "Regression", raising=False)
    real = lab.util.find_spec
    monkeypatch.setattr(lab.util, "find_spec",
                        lambda name, *a: None if name == "anywidget" else real(name, *a))
    with pytest.raises(ImportError, match=r"^bp\.lab\.Regression needs anywidget: pip install "
                                          r"'backprop-mlp\[notebook\]'$"):
        lab.Regression  # noqa: B018


def test_a_dataframes_columns_name_the_inputs() -> None:
    pandas = pytest.importorskip("pandas")
    X, y = three_classes(d=3)
    frame = pandas.DataFrame(X, columns=["age", "height", "weight"])
    widget = Playground(data=(frame, pandas.Series(y)))
    assert widget.state["network"]["inputs"] == ["age", "height", "weight"]
    assert "first two principal directions" in widget._caption


def test_a_page_left_playing_pauses_when_its_last_view_goes() -> None:
    widget = Playground(data=three_classes())
    for _ in range(2):
        widget._receive(widget, {"view": "open"}, [])
    widget.play()
    widget._receive(widget, {"view": "closed"}, [])
    assert widget.playing  # one view still shows it
    widget._receive(widget, {"view": "closed"}, [])
    assert widget.wait(lambda w: not w.playing, timeout=10)
    widget.play()  # played from Python with no view at all: it plays on
    assert widget.wait(lambda w: w.state["step"] >= 8, timeout=30) and widget.playing
    widget.close()
