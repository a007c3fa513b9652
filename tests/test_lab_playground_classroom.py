"""/playground's logic for a classroom: the replay that keeps its history, the divergence
tool, the locked link, every click counted, per-layer activations, L1, the plane, the
discretized output, and Explain's δ sum and optimizer lines."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydantic", reason="the lab needs the extra backprop-mlp[lab]")

from backprop.lab.playground import view
from backprop.lab.playground.data import generate
from backprop.lab.playground.export import python_script
from backprop.lab.playground.insight import explain_weight
from backprop.lab.playground.model import dense_layers
from backprop.lab.playground.page import PlaygroundPage
from backprop.lab.playground.protocol import (
    LOCKABLE,
    AddLayer,
    AddPoint,
    Branch,
    ChangeLayer,
    Configure,
    DownloadModel,
    LoadModel,
    Lock,
    RemoveLayer,
    Rewind,
    Setup,
    SetWeight,
    Step,
    ToggleFeature,
)
from backprop.lab.playground.run import STABILITY_STEPS, Divergence
from backprop.lab.protocol import FieldError, Play
from playground_pages import page_with, step

ROOT = Path(__file__).resolve().parent.parent


def refused(page: PlaygroundPage, message: object) -> FieldError:
    with pytest.raises(FieldError) as error:
        page.handle(message)  # type: ignore[arg-type]
    return error.value


# -- replay ------------------------------------------------------------------------------

def test_a_replayed_step_refuses_changes_until_branched_and_says_how() -> None:
    page = page_with(optimizer="adam", lr=0.02)
    step(page, 30)
    page.handle(Rewind(type="rewind", step=12))
    for message in (Play(type="play"), Step(type="step"),
                    Configure(type="configure", lr=0.5),
                    SetWeight(type="set_weight", layer=0, row=0, col=0, value=1.0)):
        error = refused(page, message)
        assert "branch from here" in str(error) and "step 12 of 30" in str(error)
    assert page.run.steps == 12 and page.setup.lr == 0.02
    page.handle(Configure(type="configure", speed=9))  # how fast play goes: any time
    assert page.setup.speed == 9 and page.replay.viewing
    page.handle(Branch(type="branch"))
    assert page.state()["replay"] == {**page.state()["replay"], "latest": 12, "viewing": False}
    assert [row[0] for row in page.history][-1] == 12
    page.handle(Configure(type="configure", lr=0.5))
    step(page, 3)
    assert page.run.steps == 15
    error = refused(page, Branch(type="branch"))
    assert "already the latest" in str(error)


def test_the_history_and_path_run_to_the_latest_step_while_an_earlier_one_is_shown() -> None:
    from backprop.lab.playground.protocol import Surface

    page = PlaygroundPage()
    step(page, 40)
    rows, path = len(page.history), len(page.path)
    page.handle(Rewind(type="rewind", step=10))
    state = page.state()
    assert len(state["history"]) == rows and state["step"] == 10
    assert len(page.path) == path
    surface = page.handle(Surface(type="surface"))[0]["surface"]
    assert len(surface["path"]) == sum(1 for at, _ in page.path if at <= 10)


# -- divergence ----------------------------------------------------------------------------

def test_the_suggested_lr_is_the_largest_halving_that_lowers_the_loss() -> None:
    page = page_with(dataset="spirals", optimizer="sgd", lr=10.0)
    step(page, 2000)
    divergence = page.run.divergence
    assert divergence is not None and divergence.suggested_lr is not None
    suggested = divergence.suggested_lr
    assert re.fullmatch(r"10 / 2\*\*\d+", f"10 / 2**{round(np.log2(10 / suggested))}")
    start = page.run.train_loss()
    # through the page, as a learner would: the suggested lr lowers the loss ...
    trial = page_with(dataset="spirals", optimizer="sgd", lr=10.0)
    step(trial, 2000)
    trial.handle(Configure(type="configure", lr=suggested))
    step(trial, STABILITY_STEPS)
    assert trial.run.train_loss() < start
    # ... and the halving above it does not (the old "stays finite" rule offered lr/4)
    for larger in (2 * suggested, 10 / 4):
        other = page_with(dataset="spirals", optimizer="sgd", lr=10.0)
        step(other, 2000)
        other.handle(Configure(type="configure", lr=larger))
        step(other, STABILITY_STEPS)
        assert other.run.divergence is not None or other.run.train_loss() >= start
    assert f"lr {suggested:.3g} lowers the training loss" in page.status()


def test_play_after_a_divergence_says_what_to_do_and_a_new_lr_plays() -> None:
    page = page_with(dataset="spirals", optimizer="sgd", lr=10.0)
    step(page, 2000)
    assert page.run.divergence is not None
    for message in (Play(type="play"), Step(type="step")):
        error = refused(page, message)
        assert error.field == "lr" and "lower lr (to" in str(error) and "then play" in str(error)
    assert not page.playing
    page.handle(Configure(type="configure", lr=0.5))
    assert page.run.divergence is None and page.state()["suggested_lr"] is None
    page.handle(Play(type="play"))
    assert page.playing


def test_a_divergence_never_reads_grew_times_one() -> None:
    page = page_with(dataset="regression", optimizer="sgd", lr=50.0, batch_size=0)
    step(page, 5)
    divergence = page.run.divergence
    assert divergence is not None and divergence.step == 1 and divergence.growth is None
    assert "largest gradient norm" in page.status()
    for growth in (1.0, 1.0004, 0.5):
        text = Divergence(4, "why", 1.0, 0, 2.0, growth, None).describe(2)
        assert not re.search(r"×1(?![\d.])", text) and "no layer's gradient norm grew" in text
    text = Divergence(4, "why", 1.0, 1, 2.0, 3.0, 0.25).describe(2)
    assert "the output layer grew ×3 in that step" in text and "lr 0.25 lowers" in text
    assert "became non-finite" in Divergence(4, "why", 1.0, 0, None, None, None).describe(2)


# -- explain ---------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"])
def test_explain_writes_out_the_optimizers_rule_with_its_own_numbers(optimizer: str) -> None:
    page = page_with(optimizer=optimizer, lr=0.05, l1=0.001, l2=0.01)
    for steps_before in (0, 6):  # the first step (no moments yet), then one with history
        if steps_before:
            step(page, steps_before)
        e = explain_weight(page.run, 1, 2, 3, None)
        lines = e["update_lines"]
        assert lines, optimizer
        assert e["gradient"] == pytest.approx(e["mean"] + 0.001 * np.sign(e["w"]), rel=1e-15)
        assert lines[-1]["value"] == pytest.approx(e["optimizer_delta"], rel=1e-9, abs=1e-15)
        assert e["w"] - e["optimizer_delta"] == e["optimizer_update"]
        assert all(line["formula"] and line["numbers"] for line in lines)
        page.run.step()  # the step explained is the step taken
        assert float(dense_layers(page.run.net)[1].W[2, 3]) == e["optimizer_update"]


def test_explain_shows_how_delta_j_itself_is_computed() -> None:
    page = page_with(layers=[4, 3])
    step(page, 4)
    run = page.run
    hidden = explain_weight(run, 1, 2, 3, None)  # W of hidden layer 2, unit 3
    probe = run.sync_probe()
    W_above = dense_layers(probe)[2].W
    assert hidden["sigma_prime_formula"] == "1 − a²"
    assert len(hidden["delta_terms"]) == len(hidden["rows"])
    for terms, delta in zip(hidden["delta_terms"], hidden["deltas"], strict=True):
        assert terms["kind"] == "hidden" and terms["weights"] == W_above[:, 2].tolist()
        assert terms["sum"] == pytest.approx(np.dot(terms["weights"], terms["deltas_above"]),
                                             rel=1e-12)
        assert terms["sigma_prime"] == pytest.approx(1 - terms["a"] ** 2, rel=1e-12)
        assert terms["delta"] == pytest.approx(terms["sum"] * terms["sigma_prime"], rel=1e-12)
        assert terms["delta"] == delta
    output = explain_weight(run, 2, 0, 1, 7)  # the sigmoid output with cross-entropy: a − y
    (terms,) = output["delta_terms"]
    assert terms["kind"] == "fused"
    assert terms["delta"] == pytest.approx(terms["a"] - terms["target"], rel=1e-12)


# -- the classroom lock --------------------------------------------------------------------

def test_a_locked_session_refuses_every_locked_change_and_cannot_be_unlocked() -> None:
    page = page_with(dataset="xor", layers=[3])
    page.handle(Lock(type="lock"))
    assert page.state()["locked"] == list(LOCKABLE)
    for message, field in [
        (Configure(type="configure", lr=3.0), "lr"),
        (Configure(type="configure", dataset="circles"), "dataset"),
        (AddLayer(type="add_layer"), "layers"),
        (ToggleFeature(type="toggle_feature", name="x1^2", on=True), "features"),
        (AddPoint(type="add_point", x1=0.0, x2=0.0), "x1"),
        (SetWeight(type="set_weight", layer=0, row=0, col=0, value=1.0), "value"),
    ]:
        error = refused(page, message)
        assert error.field == field and "locked by the classroom link" in str(error)
    assert page.setup.lr == 0.1 and page.setup.layers == [3] and page.setup.dataset == "xor"
    step(page, 3)  # a locked setup still trains
    assert page.run.steps == 3
    assert page.messages.validate_json('{"type": "lock", "fields": ["lr"]}')
    with pytest.raises(ValueError, match=r"union_tag_invalid|does not match"):
        page.messages.validate_json('{"type": "unlock"}')


def test_a_link_may_lock_some_settings_only() -> None:
    page = page_with()
    page.handle(Lock(type="lock", fields=["lr", "data"]))
    assert refused(page, Configure(type="configure", lr=1.0)).field == "lr"
    assert refused(page, AddPoint(type="add_point", x1=0.0, x2=0.0)).field == "x1"
    page.handle(Configure(type="configure", optimizer="adam"))
    assert page.setup.optimizer == "adam"
    with pytest.raises(ValueError, match=r"(?i)unknown setting"):
        page.messages.validate_json('{"type": "lock", "fields": ["colour"]}')


# -- every click counts ----------------------------------------------------------------------

def test_layer_and_feature_verbs_act_on_the_setup_as_the_server_has_it() -> None:
    page = page_with(layers=[4, 4, 4])
    page.handle(RemoveLayer(type="remove_layer"))
    page.handle(RemoveLayer(type="remove_layer"))  # two quick clicks: two layers
    assert page.setup.layers == [4]
    page.handle(ChangeLayer(type="change_layer", layer=0, units_by=1))
    page.handle(ChangeLayer(type="change_layer", layer=0, units_by=1))
    assert page.setup.layers == [6]
    page.handle(ChangeLayer(type="change_layer", layer=0, activation="relu"))
    page.handle(AddLayer(type="add_layer"))
    assert page.setup.layers == [6, 6] and page.setup.hidden_activations() == ["relu", "relu"]
    page.handle(ChangeLayer(type="change_layer", layer=1, activation="sigmoid"))
    assert [layer.activation.name for layer in dense_layers(page.run.net)] == [
        "relu", "sigmoid", "sigmoid"]
    assert refused(page, ChangeLayer(type="change_layer", layer=1, units_by=-6)).field == \
        "units_by"
    assert refused(page, ChangeLayer(type="change_layer", layer=5, units_by=1)).field == "layer"
    page.handle(ToggleFeature(type="toggle_feature", name="x1^2", on=True))
    page.handle(ToggleFeature(type="toggle_feature", name="x1*x2", on=True))
    page.handle(ToggleFeature(type="toggle_feature", name="x1", on=False))
    assert page.setup.features == ["x2", "x1^2", "x1*x2"]
    page.handle(RemoveLayer(type="remove_layer"))
    page.handle(RemoveLayer(type="remove_layer"))
    assert refused(page, RemoveLayer(type="remove_layer")).field == "layers"
    assert page.setup.layers == [] and page.setup.activations == []


def test_per_layer_activations_follow_the_layers_and_the_one_menu_resets_them() -> None:
    page = page_with(layers=[3, 3], activations=["relu", "tanh"])
    assert page.setup.hidden_activations() == ["relu", "tanh"]
    page.handle(Configure(type="configure", layers=[3, 3, 2]))  # carried on with the last
    assert page.setup.activations == ["relu", "tanh", "tanh"]
    page.handle(Configure(type="configure", layers=[5]))
    assert page.setup.activations == ["relu"]
    page.handle(Configure(type="configure", activation="sigmoid"))
    assert page.setup.activations == [] and page.setup.hidden_activations() == ["sigmoid"]
    error = refused(page, Configure(type="configure", activations=["relu", "relu"]))
    assert error.field == "activations" and "one per hidden layer (1), got 2" in str(error)


# -- L1, the plane, the discretized output -----------------------------------------------------

def test_l1_adds_lambda_sign_theta_to_each_gradient() -> None:
    page = page_with(optimizer="sgd", lr=0.1, l1=0.01)
    run = page.run
    fork = run.fork()
    rows = fork.next_rows()
    before = run.net.params.copy()
    run.net.backprop(run.X[rows], run.Y[rows])
    expected = before - 0.1 * (run.net.grads + 0.01 * np.sign(before))
    run.net.params[...] = before
    step(page, 1)
    assert page.run.net.params == pytest.approx(expected, rel=1e-12, abs=1e-15)
    many = page_with(optimizer="sgd", lr=0.1, l1=0.02, layers=[8])
    step(many, 400)
    few = page_with(optimizer="sgd", lr=0.1, layers=[8])
    step(few, 400)
    # L1 pulls small weights to (near) zero: fewer weights of any size
    assert np.sum(np.abs(many.run.net.params) < 0.01) > np.sum(np.abs(few.run.net.params) < 0.01)


def test_the_exported_script_repeats_l1_and_per_layer_activations(tmp_path: Path) -> None:
    page = page_with(dataset="regression-plane", layers=[5, 3], activations=["relu", "tanh"],
                     l1=0.003, optimizer="adam", lr=0.01)
    step(page, 23)
    script = tmp_path / "run.py"
    script.write_text(python_script(page.run))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            env=env, timeout=120, check=True)
    assert result.stdout.strip() == f"step 23 test loss {page.readouts['loss_test']!r}"


def test_the_plane_is_a_regression_set_of_its_own() -> None:
    setup = Setup(dataset="regression-plane", noise=0.0)
    data = generate(setup)
    assert data.task == "regression" and data.n_classes == 0
    assert data.y_train == pytest.approx(0.6 * data.X_train[:, 0] - 0.8 * data.X_train[:, 1])
    page = page_with(dataset="regression-plane", noise=0.0, layers=[], optimizer="sgd", lr=0.2)
    step(page, 400)  # a linear model fits a plane
    assert page.readouts["loss_train"] is not None and page.readouts["loss_train"] < 1e-4


@pytest.mark.parametrize("dataset", ["circles", "three-class", "regression"])
def test_the_discretized_output_is_the_predicted_class_or_the_sign(dataset: str) -> None:
    page = page_with(dataset=dataset)
    step(page, 30)
    plain = page.state()["boundary"]
    page.handle(Configure(type="configure", discretize=True))
    assert page.run.steps == 30  # a way of drawing: the run goes on
    shown = page.state()["boundary"]
    assert shown["discretized"] and not plain["discretized"]
    grid = view.grid_points(page.box, view.OUTPUT_GRID)
    probe = page.run.sync_probe()
    outputs = probe.forward(page.run.inputs(grid))
    maps = [np.frombuffer(base64.b64decode(m), dtype=np.uint8) for m in shown["maps"]]
    assert all(set(np.unique(m)) <= {0, 255} for m in maps)
    if dataset == "regression":
        assert np.array_equal(maps[0] == 255, outputs[:, 0] > 0)
    else:
        labels = probe.labels_of(outputs)
        for k, cells in enumerate(maps if len(maps) > 1 else [None, maps[0]]):
            if cells is not None:
                assert np.array_equal(cells == 255, labels == k)


def test_a_model_file_keeps_each_layers_activation() -> None:
    page = page_with(layers=[3, 2], activations=["relu", "sigmoid"])
    step(page, 5)
    model = page.handle(DownloadModel(type="download_model"))[0]
    other = page_with(layers=[4])
    other.handle(LoadModel(type="load_model", data=model["base64"]))
    assert other.setup.layers == [3, 2] and other.setup.activations == ["relu", "sigmoid"]
    assert np.array_equal(other.run.net.params, page.run.net.params)
    json.dumps(other.state(), allow_nan=False)
