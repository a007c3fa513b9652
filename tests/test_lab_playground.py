"""/playground's logic without a server: the data, the network, the steps, divergence, files."""

from __future__ import annotations

import base64
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydantic", reason="the lab needs the extra backprop-mlp[lab]")

import backprop as bp
from backprop.lab.playground import view
from backprop.lab.playground.data import features, from_csv, generate, to_csv
from backprop.lab.playground.model import build_network, build_optimizer, dense_layers
from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.playground.protocol import (
    DATASETS,
    FEATURES,
    AddPoint,
    Configure,
    DownloadCsv,
    DownloadModel,
    ExportPython,
    LoadCsv,
    LoadModel,
    RemovePoint,
    Reset,
    Setup,
    SetWeight,
)
from backprop.lab.playground.run import BLOWUP, STABILITY_STEPS, Run
from backprop.lab.protocol import FieldError, Play
from backprop.nn.activations import hidden_activation_names
from backprop.nn.initializers import INIT_NAMES
from backprop.nn.losses import loss_names
from backprop.optim.rules import OPTIMIZERS
from playground_pages import page_with, step

ROOT = Path(__file__).resolve().parent.parent


def test_the_full_state_is_plain_json_with_every_option() -> None:
    page = PlaygroundPage()
    state = page.state()
    json.dumps(state, allow_nan=False)
    assert state["setup"] == Setup().model_dump()
    assert state["options"]["dataset"] == list(DATASETS)
    # the menus are the library's registries (with the playground's "auto" loss and SGD's forms)
    assert state["options"]["activation"] == hidden_activation_names()  # softmax: output only
    assert state["options"]["loss"] == ["auto", *loss_names()]
    assert state["options"]["init"] == list(INIT_NAMES)
    assert state["options"]["optimizer"] == [
        "sgd", "momentum", "nesterov", *(name for name in OPTIMIZERS if name != "sgd")]
    assert state["step"] == 0 and state["status"] == "ready"
    assert len(state["points"]["train"]) + len(state["points"]["test"]) == 200


def test_a_step_is_the_library_step_on_the_next_batch_of_a_seeded_permutation() -> None:
    setup = Setup()
    data = generate(setup)
    run = Run(setup, data)
    # the same step by hand: the network from the seed, a permutation from its generator
    net = build_network(setup, data.n_classes)
    optimizer = bp.SGD(lr=setup.lr, momentum=0.9)
    X = net.check_inputs(data.X_train)
    Y, _ = net.prepare_targets(data.y_train, len(data.y_train))
    order = net.rng.permutation(len(Y))
    for k in range(3):
        rows = order[k * 10:(k + 1) * 10]
        net.backprop(X[rows], Y[rows])
        net.params -= optimizer.update(net.params, net.grads)
        assert run.step()
    assert np.array_equal(run.net.params, net.params)
    assert run.steps == 3 and run.epoch == 0


def test_epochs_count_passes_for_online_mini_and_full_batches() -> None:
    for batch, per_epoch in ((1, 100), (10, 10), (0, 1), (30, 4)):
        run = Run(Setup(batch_size=batch), generate(Setup()))
        for _ in range(per_epoch - 1):
            run.step()
        assert run.epoch == 0
        run.step()
        assert run.epoch == 1, batch


def test_the_default_setup_learns_circles() -> None:
    page = PlaygroundPage()
    start = page.readouts["loss_test"]
    step(page, 400)
    assert start is not None and start > 0.3
    assert page.readouts["loss_test"] is not None and page.readouts["loss_test"] < 0.1
    assert page.readouts["accuracy_test"] == 1.0
    confusion = page.state()["confusion"]
    assert confusion[0][1] == confusion[1][0] == 0


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_data_set_trains_with_its_head(dataset: str) -> None:
    page = page_with(dataset=dataset, features=list(FEATURES), layers=[5, 3])
    net = page.run.net
    assert net.n_inputs == 7
    expected = {"three-class": (3, "softmax", "cross_entropy"),
                "regression": (1, "linear", "mse"),
                "regression-plane": (1, "linear", "mse")}.get(dataset, (1, "sigmoid",
                                                                  "binary_cross_entropy"))
    assert (net.n_outputs, net.output_layer.activation.name, net.loss.name) == expected
    before = page.readouts["loss_train"]
    step(page, 200)
    after = page.readouts["loss_train"]
    assert before is not None and after is not None and after < before
    json.dumps(page.state(), allow_nan=False)


def test_the_loss_choice_must_fit_the_task() -> None:
    page = page_with(loss="mse")
    assert page.run.net.loss.name == "mse"
    with pytest.raises(FieldError) as error:
        page.handle(Configure(type="configure", dataset="three-class"))
    assert error.value.field == "loss"
    assert page.setup.dataset == "circles"  # nothing changed


def test_zero_initialization_keeps_hidden_units_identical() -> None:
    page = page_with(init="zero", layers=[3])
    step(page, 50)
    W = dense_layers(page.run.net)[0].W
    assert np.allclose(W, W[0])  # the symmetry never breaks
    page = page_with(init="normal", layers=[3])
    assert not np.allclose(dense_layers(page.run.net)[0].W, dense_layers(page.run.net)[0].W[0])


def test_optimizers_and_l2_are_the_library_ones() -> None:
    made = {name: build_optimizer(Setup(optimizer=name, l2=0.01))  # type: ignore[arg-type]
            for name in ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")}
    assert isinstance(made["sgd"], bp.SGD) and made["sgd"].momentum == 0
    assert isinstance(made["momentum"], bp.SGD) and made["momentum"].momentum == 0.9
    assert isinstance(made["nesterov"], bp.SGD) and made["nesterov"].nesterov
    assert isinstance(made["rmsprop"], bp.RMSProp) and isinstance(made["adam"], bp.Adam)
    assert isinstance(made["adamw"], bp.AdamW)  # its weight decay the L2 rate, decoupled
    assert all(optimizer.weight_decay == 0.01 for optimizer in made.values())


def test_dropout_layers_follow_each_hidden_layer_and_the_probe_ignores_them() -> None:
    page = page_with(dropout=0.3, layers=[6, 6])
    kinds = [type(layer).__name__ for layer in page.run.net.layers]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    step(page, 20)
    run = page.run
    # the shown loss is the network's own inference-mode loss
    assert page.readouts["loss_test"] == pytest.approx(
        run.net.evaluate(features(run.data.X_test, run.setup.features), run.data.y_test)["loss"],
        rel=1e-12)


def test_stop_conditions_pause_the_run() -> None:
    page = page_with(target_loss=0.4)
    page.handle(Play(type="play"))
    for _ in range(200):
        page.tick()
        if not page.playing:
            break
    assert not page.playing and "target loss" in page.status()
    assert page.readouts["loss_train"] is not None and page.readouts["loss_train"] <= 0.4
    page = page_with(max_epochs=2)
    page.handle(Play(type="play"))
    for _ in range(200):
        page.tick()
        if not page.playing:
            break
    assert page.run.epoch == 2 and "2 epochs" in page.status()


def test_lr_10_sgd_on_spirals_diverges_rewinds_and_finds_a_suggested_lr() -> None:
    page = page_with(dataset="spirals", optimizer="sgd", lr=10.0)
    step(page, 2000)
    divergence = page.run.divergence
    assert divergence is not None and "diverg" in page.status()
    assert page.run.steps == divergence.step - 1
    assert "training loss" in divergence.reason
    # rewound: the weights are exactly those of a replay that stops one step earlier
    replay = page_with(dataset="spirals", optimizer="sgd", lr=10.0)
    step(replay, divergence.step - 1)
    assert np.array_equal(replay.run.net.params, page.run.net.params)
    assert replay.run.train_loss() <= BLOWUP * replay.run.start_loss
    # the stable lr keeps the next steps going from that very state
    assert divergence.suggested_lr is not None and divergence.suggested_lr < 10
    replay.run.optimizer.lr = divergence.suggested_lr
    assert all(replay.run.step() for _ in range(STABILITY_STEPS))
    json.dumps(page.state(), allow_nan=False)


def test_a_non_finite_step_is_undone() -> None:
    page = page_with(dataset="regression", activation="linear", layers=[8, 8], optimizer="sgd",
                     lr=50.0)
    run = page.run
    run.start_loss = math.inf  # only a non-finite value stops this run
    for _ in range(500):
        before = run.net.params.copy()
        if not run.step():
            break
    assert run.divergence is not None and "not finite" in run.divergence.reason
    assert np.array_equal(run.net.params, before)
    assert np.isfinite(run.net.params).all()
    json.dumps(page.state(), allow_nan=False)


def test_weights_edit_by_position_and_the_bias_column() -> None:
    page = PlaygroundPage()
    page.handle(SetWeight(type="set_weight", layer=1, row=2, col=3, value=1.25))
    page.handle(SetWeight(type="set_weight", layer=1, row=2, col=4, value=-0.5))
    layer = dense_layers(page.run.net)[1]
    assert layer.W[2, 3] == 1.25 and layer.b is not None and layer.b[2] == -0.5
    picture = page.state()["network"]["layers"][1]
    assert picture["W"][2][3] == 1.25 and picture["b"][2] == -0.5
    for field, message in (("layer", dict(layer=3, row=0, col=0)),
                           ("row", dict(layer=0, row=4, col=0)),
                           ("col", dict(layer=0, row=0, col=3))):
        with pytest.raises(FieldError) as error:
            page.handle(SetWeight(type="set_weight", value=0.0, **message))  # type: ignore[arg-type]
        assert error.value.field == field


def test_the_pictures_are_the_networks_numbers() -> None:
    page = PlaygroundPage()
    step(page, 30)
    run = page.run
    state = page.state()
    # the output map: the network's own output on the grid, as bytes
    grid = view.grid_points(page.box, view.OUTPUT_GRID)
    assert grid[0, 1] == page.box[3] and grid[-1, 1] == page.box[2]  # top row first
    expected = np.round(run.net.forward(features(grid, run.setup.features))[:, 0] * 255)
    shown = np.frombuffer(base64.b64decode(state["boundary"]["maps"][0]), dtype=np.uint8)
    assert np.array_equal(shown, expected.astype(np.uint8))
    # the backward picture: the gradient of the whole training set, δ̄ = ∂L/∂b
    gradients = run.net.copy().gradients(run.X, run.data.y_train)
    for (dW, db), layer in zip(gradients, state["network"]["layers"], strict=True):
        assert np.allclose(layer["dW"], dW, rtol=1e-12, atol=1e-15)
        assert np.allclose(layer["delta"], db, rtol=1e-12, atol=1e-15)
    # each unit's map: its activation on the coarse grid, scaled into its range
    coarse = view.grid_points(page.box, view.NEURON_GRID)
    hidden = np.tanh(features(coarse, ["x1", "x2"]) @ dense_layers(run.net)[0].W.T
                     + dense_layers(run.net)[0].b)
    unit = state["neurons"][1][2]
    low, high = unit["range"]
    assert low == pytest.approx(hidden[:, 2].min()) and high == pytest.approx(hidden[:, 2].max())
    shown = np.frombuffer(base64.b64decode(unit["map"]), dtype=np.uint8)
    assert np.array_equal(shown, np.round((hidden[:, 2] - low) / (high - low) * 255))


def test_points_add_remove_and_csv_round_trip() -> None:
    page = PlaygroundPage()
    n = len(page.data.y_train)
    page.handle(AddPoint(type="add_point", x1=0.05, x2=0.05, label=1))
    assert len(page.data.y_train) == n + 1 and page.data.custom
    page.handle(RemovePoint(type="remove_point", x1=0.05, x2=0.05, radius=0.01))
    assert len(page.data.y_train) == n
    with pytest.raises(FieldError):
        page.handle(RemovePoint(type="remove_point", x1=50.0, x2=50.0, radius=0.01))
    text = page.handle(DownloadCsv(type="download_csv"))[0]["text"]
    again = from_csv(text, page.setup)
    points, targets = page.data.all_points()
    back, back_targets = again.all_points()
    assert sorted(zip(map(tuple, points.tolist()), targets.tolist(), strict=True)) == sorted(
        zip(map(tuple, back.tolist()), back_targets.tolist(), strict=True))
    assert to_csv(again).splitlines()[0] == "x1,x2,label"
    with pytest.raises(FieldError, match="row 3"):
        page.handle(LoadCsv(type="load_csv", text="x1,x2,label\n0,0,1\n1,zz,0\n"))
    with pytest.raises(FieldError, match="label 5"):
        page.handle(LoadCsv(type="load_csv", text="0,0,1\n1,1,5\n2,2,0\n"))


def test_model_files_load_in_the_library_and_the_cli_model_opens(tmp_path: Path) -> None:
    page = PlaygroundPage()
    step(page, 40)
    reply = page.handle(DownloadModel(type="download_model"))[0]
    path = tmp_path / "model.npz"
    path.write_bytes(base64.b64decode(reply["base64"]))
    net = bp.load(path)
    points = page.data.X_test
    assert np.array_equal(net.forward(points), page.run.net.forward(points))
    # the CLI reads the model and the data as the playground wrote them
    csv_path = tmp_path / "data.csv"
    csv_path.write_text(page.handle(DownloadCsv(type="download_csv"))[0]["text"])
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    evaluated = json.loads(subprocess.run(
        [sys.executable, "-m", "backprop", "evaluate", str(path), str(csv_path), "--json"],
        check=True, env=env, timeout=120, capture_output=True, text=True).stdout)
    n_train, n_test = len(page.data.y_train), len(page.data.y_test)
    readouts = page.readouts
    assert readouts["loss_train"] is not None and readouts["loss_test"] is not None
    assert evaluated["loss"] == pytest.approx(
        (readouts["loss_train"] * n_train + readouts["loss_test"] * n_test) / (n_train + n_test),
        rel=1e-6)
    other = page_with(dataset="circles", layers=[2])
    other.handle(LoadModel(type="load_model", data=reply["base64"]))
    assert other.loaded and other.setup.layers == [4, 4]
    assert np.array_equal(other.run.net.params, page.run.net.params)
    # a model the CLI trained on the playground's CSV (softmax outputs, scaled inputs)
    subprocess.run([sys.executable, "-m", "backprop", "train", str(csv_path), "--layers", "5",
                    "--epochs", "30", "--scale", "standard", "--out", str(tmp_path / "cli"),
                    "--no-plots", "--quiet"], check=True, env=env, timeout=120)
    cli_file = (tmp_path / "cli" / "model.npz").read_bytes()
    fresh = PlaygroundPage()
    fresh.handle(LoadModel(type="load_model", data=base64.b64encode(cli_file).decode()))
    cli = bp.load(tmp_path / "cli" / "model.npz")
    assert fresh.setup.layers == [5] and fresh.run.net.n_outputs == 2
    metrics = cli.evaluate(bp.datasets.Scaler.from_state(cli.metadata["scaler"]).transform(
        fresh.data.X_test), fresh.data.y_test)
    assert fresh.readouts["accuracy_test"] == pytest.approx(metrics["accuracy"])
    json.dumps(fresh.state(), allow_nan=False)
    step(fresh, 5)  # and it trains on
    with pytest.raises(FieldError, match="not a model file"):
        fresh.handle(LoadModel(type="load_model", data=base64.b64encode(b"nonsense").decode()))
    for layers, problem in (([bp.Dense(3, 2, activation="tanh")], "takes 3 inputs"),
                            ([bp.Dense(2, 17, activation="tanh")], "at most 8 hidden layers")):
        odd = bp.Network([*layers, bp.Dense(layers[-1].n_out, 1, activation="sigmoid")],
                         loss="binary_cross_entropy", seed=0)
        odd.save(str(tmp_path / "odd.npz"))
        encoded = base64.b64encode((tmp_path / "odd.npz").read_bytes()).decode()
        with pytest.raises(FieldError, match=problem):
            fresh.handle(LoadModel(type="load_model", data=encoded))


def test_the_exported_script_repeats_the_run_with_edits_dropout_and_l2(tmp_path: Path) -> None:
    page = page_with(dataset="xor", dropout=0.2, optimizer="adam", lr=0.03, l2=0.001,
                     batch_size=13, features=["x1", "x2", "x1*x2"])
    step(page, 37)
    page.handle(SetWeight(type="set_weight", layer=0, row=1, col=2, value=0.7))
    step(page, 11)
    script = tmp_path / "run.py"
    script.write_text(page.handle(ExportPython(type="export_python"))[0]["text"])
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    assert result.stdout.strip() == f"step 48 test loss {page.readouts['loss_test']!r}"


def test_edited_points_travel_inside_the_script(tmp_path: Path) -> None:
    page = page_with(dataset="regression")
    page.handle(AddPoint(type="add_point", x1=0.3, x2=-0.2, value=2.5))
    step(page, 9)
    text = page.handle(ExportPython(type="export_python"))[0]["text"]
    assert "2.5" in text and "make_" not in text
    script = tmp_path / "run.py"
    script.write_text(text)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    assert result.stdout.strip() == f"step 9 test loss {page.readouts['loss_test']!r}"


def test_reset_draws_the_same_weights_and_settings_apply_mid_run() -> None:
    page = PlaygroundPage()
    start = page.run.net.params.copy()
    step(page, 10)
    page.handle(Configure(type="configure", lr=0.5))
    assert page.run.optimizer.lr == 0.5 and page.run.steps == 10
    page.handle(Reset(type="reset"))
    assert np.array_equal(page.run.net.params, start) and page.run.steps == 0
    page.handle(Configure(type="configure", layers=[3]))
    assert [layer.n_out for layer in dense_layers(page.run.net)] == [3, 1]


def test_explain_is_the_next_steps_arithmetic_for_one_weight() -> None:
    from backprop.lab.playground.insight import explain_weight

    for optimizer in ("sgd", "adam"):
        page = page_with(optimizer=optimizer, l2=0.01, lr=0.2)
        step(page, 7)
        run = page.run
        e = explain_weight(run, 1, 2, 3, None)
        assert e["per_sample"] == pytest.approx(np.multiply(e["deltas"], e["inputs"]), rel=1e-12)
        assert e["mean"] == pytest.approx(np.mean(e["per_sample"]), rel=1e-12)
        # the engine's gradient on the same batch, and the finite-difference estimate
        probe = run.sync_probe()
        probe.backprop(run.X[e["rows"]], run.Y[e["rows"]])
        assert e["mean"] == pytest.approx(float(dense_layers(probe)[1].dW[2, 3]), rel=1e-10)
        assert e["relative_error"] < 1e-6
        assert e["l2_term"] == pytest.approx(0.01 * e["w"])
        # the run then takes exactly that step
        run.step()
        taken = float(dense_layers(run.net)[1].W[2, 3])
        assert e["optimizer_update"] == taken
        if optimizer == "sgd":
            assert e["plain_update"] == pytest.approx(taken, rel=1e-12)
    bias = explain_weight(page.run, 0, 1, 2, 5)  # col = n_in: the bias, on point 5
    assert bias["name"] == "b" and bias["rows"] == [5] and bias["per_sample"] == bias["deltas"]
    with pytest.raises(FieldError) as error:
        explain_weight(page.run, 0, 1, 3, None)
    assert error.value.field == "col"


def test_histograms_show_a_bad_initialization_before_training() -> None:
    from backprop.lab.playground.insight import histograms

    spread = {}
    for init in ("zero", "small_random", "xavier_uniform", "normal"):
        page = page_with(init=init, layers=[8, 8, 8])
        layers = histograms(page.run)
        assert [sum(layer["activation"]["counts"]) for layer in layers] == [
            len(page.run.Y) * width for width in (8, 8, 8, 1)]
        spread[init] = (layers[1]["activation"]["std"], layers[0]["delta"]["std"])
    assert spread["zero"][0] == 0.0  # every unit outputs tanh(0)
    assert spread["small_random"][0] < 0.01 < spread["xavier_uniform"][0]  # ×0.01 vanishes
    assert spread["normal"][0] > spread["xavier_uniform"][0]  # N(0, 1) saturates
    assert spread["small_random"][1] < 1e-3 * spread["xavier_uniform"][1]
    assert PlaygroundPage().state()["histograms"]["step"] == 0


def test_the_gradient_check_passes_per_edge_for_the_engine() -> None:
    from backprop.lab.playground.insight import gradient_check

    page = page_with(activation="sigmoid", layers=[5, 3])
    step(page, 20)
    check = gradient_check(page.run)
    assert check["passed"] and check["max_error"] < check["tolerance"]
    assert [np.shape(layer["W"]) for layer in check["layers"]] == [(5, 2), (3, 5), (1, 3)]
    assert "gradcheck PASS" in check["report"]


def test_the_server_says_which_entries_pass_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from backprop.lab.playground import insight

    real = insight.gradcheck  # a tolerance tight enough that some entries fall outside it
    monkeypatch.setattr(insight, "gradcheck", lambda *a, **k: real(*a, tolerance=1e-9, **k))
    page = page_with(activation="sigmoid", layers=[5, 3])
    step(page, 20)
    check = insight.gradient_check(page.run)
    assert check["tolerance"] == 1e-9
    flags: list[bool] = []
    for layer in check["layers"]:
        assert layer["W_passed"] == [[e <= 1e-9 for e in row] for row in layer["W"]]
        assert layer["b_passed"] == [e <= 1e-9 for e in layer["b"]]
        flags += [f for row in layer["W_passed"] for f in row] + layer["b_passed"]
    assert True in flags and False in flags
    assert check["verdict"] == ("PASS" if check["passed"] else "FAIL")


def test_rewinding_recomputes_the_step_the_run_passed_through() -> None:
    from backprop.lab.playground.protocol import Branch, Rewind
    from backprop.lab.playground.replay import MAX_SNAPSHOTS

    page = page_with(dropout=0.1, optimizer="adam", lr=0.02)
    seen = {}
    for target in range(0, 600):
        if target in (0, 37, 120, 333, 450):
            seen[target] = (page.run.net.params.copy(), page.readouts["loss_test"])
        if target == 200:
            page.handle(SetWeight(type="set_weight", layer=0, row=0, col=0, value=2.0))
        step(page, 1)
    assert len(page.replay.snapshots) <= MAX_SNAPSHOTS and page.replay.first == 0
    end, history = page.run.net.params.copy(), [list(row) for row in page.history]
    # back, back, then forward past the edit at 200 (made again on the way): each the step
    # the run passed through, and the history to step 600 kept all along
    for target in (333, 120, 37, 450):
        page.handle(Rewind(type="rewind", step=target))
        assert page.run.steps == target
        assert np.array_equal(page.run.net.params, seen[target][0])
        assert page.readouts["loss_test"] == seen[target][1]
        assert page.history == history and page.state()["replay"]["latest"] == 600
        assert page.state()["replay"]["viewing"] and f"step {target} of 600" in page.status()
    page.handle(Rewind(type="rewind", step=600))  # the latest step, as it was
    assert np.array_equal(page.run.net.params, end) and not page.replay.viewing
    assert len(page.run.edits) == 1
    with pytest.raises(FieldError) as error:
        page.handle(Rewind(type="rewind", step=601))  # not reached yet
    assert error.value.field == "step"
    # branching drops what came after: from 37 the run goes on as one never edited
    page.handle(Rewind(type="rewind", step=37))
    page.handle(Branch(type="branch"))
    assert page.run.edits == [] and page.history[-1][0] == 37 and not page.replay.viewing
    step(page, 600 - 37)
    plain = page_with(dropout=0.1, optimizer="adam", lr=0.02)
    step(plain, 600)
    assert np.array_equal(page.run.net.params, plain.run.net.params)
    assert not np.array_equal(page.run.net.params, end)


def test_the_loss_surface_is_the_networks_loss_on_the_plane_with_the_path() -> None:
    from backprop.lab.playground.protocol import Surface, WeightRef
    from backprop.lab.playground.surface import SURFACE_GRID, filter_normalised

    page = PlaygroundPage()
    step(page, 60)
    run = page.run
    reply = page.handle(Surface(type="surface", mode="weights", span=2.0,
                                first=WeightRef(layer=0, row=1, col=0),
                                second=WeightRef(layer=2, row=0, col=4)))[0]["surface"]
    losses = np.array(reply["losses"], dtype=float).reshape(SURFACE_GRID, SURFACE_GRID)
    centre = SURFACE_GRID // 2
    assert losses[centre, centre] == pytest.approx(run.train_loss(), rel=1e-12)
    # one cell by hand: top row (β = +2), first column (α = −2) on a copy of the network
    net = run.net.copy()
    dense_layers(net)[0].W[1, 0] -= 2.0
    dense_layers(net)[2].b[0] += 2.0  # type: ignore[index]
    expected = net.evaluate(run.X, run.data.y_train)["loss"]
    assert losses[0, 0] == pytest.approx(expected, rel=1e-10)
    # the path: from the start to (0, 0), the current weights
    first = page.path[0][1] - run.net.params
    i, j = insightless_index(run, 0, "W", 1, 0), insightless_index(run, 2, "b", 0, 4)
    assert reply["path"][0] == pytest.approx([first[i], first[j]])
    assert reply["path"][-1] == pytest.approx([0.0, 0.0], abs=1e-12)
    # random directions, filter-normalised: each unit's row has its weights' norm, biases 0
    direction = filter_normalised(run, np.random.default_rng(1))
    for index, name, where in run.net.parameter_slices:
        if name == "b":
            assert not direction[where].any()
        else:
            W = run.net.layers[index].W  # type: ignore[attr-defined]
            d = direction[where].reshape(W.shape)
            assert np.allclose(np.linalg.norm(d, axis=1), np.linalg.norm(W, axis=1))
    random = page.handle(Surface(type="surface"))[0]["surface"]
    assert random["path"][-1] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert len(random["losses"]) == SURFACE_GRID ** 2
    with pytest.raises(FieldError) as error:
        page.handle(Surface(type="surface", mode="weights",
                            first=WeightRef(layer=0, row=1, col=0),
                            second=WeightRef(layer=0, row=7, col=0)))
    assert error.value.field == "second.row"


def insightless_index(run: Run, layer: int, name: str, j: int, k: int) -> int:
    """Where a Dense layer's W[j, k] or b[j] sits in the flat parameters, found by hand."""
    dense = dense_layers(run.net)[layer]
    index = run.net.layers.index(dense)
    where = next(w for owner, tensor, w in run.net.parameter_slices
                 if owner == index and tensor == name)
    return int(where.start) + (j if name == "b" else j * dense.n_in + k)


def test_batch_modes_start_from_the_same_weights_and_count_their_updates() -> None:
    from backprop.lab.playground.protocol import BatchModes

    page = page_with(optimizer="sgd", lr=0.3)
    modes = page.handle(BatchModes(type="batch_modes", epochs=6))[0]["batch_modes"]["modes"]
    assert [mode["updates_per_epoch"] for mode in modes] == [100, 10, 1]
    assert len({mode["rows"][0][2] for mode in modes}) == 1  # one initial loss
    for mode in modes:
        last = mode["rows"][-1]
        assert last[1] == 6 and last[0] == 6 * mode["updates_per_epoch"]
        assert last[2] < mode["rows"][0][2]
    # the full-batch curve is a full-batch run of the page's own
    full = page_with(optimizer="sgd", lr=0.3, batch_size=0)
    step(full, 6)
    assert modes[2]["rows"][-1][2] == full.run.last_loss
    assert page.run.steps == 0  # the page's own run is untouched


def test_ab_compare_trains_b_beside_a_from_the_same_seed() -> None:
    from backprop.lab.playground.protocol import Compare, StopCompare

    page = PlaygroundPage()
    page.handle(Compare(type="compare", lr=0.5, activation="relu"))
    step(page, 50)
    comparison = page.comparison
    assert comparison is not None and comparison.run.steps == 50
    alone = page_with(lr=0.5, activation="relu")
    step(alone, 50)
    assert np.array_equal(comparison.run.net.params, alone.run.net.params)
    shown = page.state()["compare"]
    assert shown["changes"] == {"lr": 0.5, "activation": "relu"}
    assert shown["rows"][-1][1] == alone.readouts["loss_train"]
    page.handle(Reset(type="reset"))
    assert page.comparison is not None and page.comparison.run.steps == 0
    with pytest.raises(FieldError) as error:
        page.handle(Compare(type="compare", dataset="xor"))
    assert error.value.field == "dataset"
    page.handle(StopCompare(type="stop_compare"))
    assert page.state()["compare"] is None
