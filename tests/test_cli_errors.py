"""Every user mistake: one line on stderr, exit 2; a bug: its traceback and a line asking
to report it, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backprop", *args], capture_output=True, text=True, timeout=120
    )


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backprop: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    result = run("train", "moons", "--epochs", "1", "--out", str(out), "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    return out / "model.npz"


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["train", "nosuchset"], ["unknown dataset 'nosuchset'"]),
        (["train", "moons", "--frobnicate"],
         ["unrecognized arguments: --frobnicate (see backprop train --help)"]),
        (["train", "moons", "--activation", "wiggle"], ["wiggle"]),
        (["train", "moons", "--output-activation", "wiggle"], ["wiggle"]),
        (["train", "moons", "--loss", "hinge"], ["hinge"]),
        (["train", "moons", "--optimizer", "lbfgs"], ["lbfgs"]),
        (["train", "moons", "--init", "zeros"], ["zeros"]),
        (["train", "moons", "--lr", "-0.1"], ["--lr", "positive"]),
        (["train", "moons", "--lr", "fast"], ["--lr", "'fast'", "not a number"]),
        (["train", "moons", "--epochs", "1.5"], ["--epochs"]),
        (["train", "moons", "--layers", "8,x"], ["--layers"]),
        (["train", "moons", "--schedule", "zigzag"], ["zigzag"]),
        (["train", "moons", "--scale", "log"], ["log"]),
        (["train", "moons", "--validation-split", "1.5"], ["--validation-split"]),
        (["train", "moons", "--dtype", "int8"], ["--dtype"]),
        (["train", "missing.csv"], ["missing.csv", "no such file"]),
        (["evaluate", "missing.npz", "moons"], ["missing.npz"]),
        (["datasets", "fetch", "nosuchset"], ["nosuchset"]),
        (["train", "moons", "--seed", "-3"], ["--seed", "at least 0"]),
        (["train", "moons", "--batch-size", "-1"], ["--batch-size", "positive"]),
        (["train", "moons", "--classes", "0,7"], ["7"]),
        (["train", "line", "--classes", "0,1"], ["--classes", "regression"]),
        (["train", "moons", "--output-activation", "linear", "--loss", "cross_entropy"],
         ["cross_entropy", "linear"]),
        (["diagnose", "moons", "--every", "0"], ["--every"]),
        (["diagnose", "moons", "--compare", "relu:nope"], ["nope"]),
        (["evaluate", "missing.npz", "moons", "--classes", "x"],
         ["--classes 'x'", "not a whole number"]),  # options are checked before any file
        (["gradcheck", "--step", "0"], ["--step", "positive"]),
        (["gradcheck", "--tolerance", "-1"], ["--tolerance", "positive"]),
        (["gradcheck", "--loss", "hinge"], ["hinge"]),
        (["gradcheck", "--layers", "3,0,2"], ["--layers", "at least 1"]),
        (["gradcheck", "--seed", "-1"], ["--seed"]),
        (["gradcheck", "--output", "softmax", "--outputs", "1"], ["softmax"]),
        (["explain", "--lr", "-0.5"], ["--lr", "negative"]),
        (["explain", "--lr", "nan"], ["--lr", "finite"]),
        (["explain", "--x", "1,2,3"], ["--x", "2 inputs"]),
        (["explain", "--x", "1,b", "--y", "1"], ["--x", "'b'"]),
        (["explain", "--layers", "4"], ["--seed"]),
        (["explain", "--seed", "1", "--weights", "w.json"], ["--seed", "--weights"]),
        (["explain", "--weights", "missing.json"], ["missing.json"]),
        (["explain", "--seed", "1", "--loss", "cross_entropy"], ["cross_entropy"]),
        (["predict", "missing.npz", "moons"], ["missing.npz"]),
        # hostile input: sizes, non-regular files, non-finite settings, empty values
        (["train", "xor", "--layers", ""], ["--layers is empty", "--layers none"]),
        (["train", "xor", "--layers", "1000000000"], ["1,000,000,000", "BACKPROP_MAX_UNITS"]),
        (["train", "xor", "--epochs", "100000000000000000000000"],
         ["--epochs", "BACKPROP_MAX_EPOCHS"]),
        (["train", "xor", "--seed", "-1"], ["--seed", "at least 0"]),
        (["train", "xor", "--lr", "1000", "--optimizer", "sgd"], ["diverged", "the loss grew"]),
        (["diagnose", "xor", "--compare", "--depths", "100000", "--width", "100000"],
         ["the number of layers is 100,000", "BACKPROP_MAX_LAYERS"]),
        (["diagnose", "xor", "--compare", "--depths", "5", "--width", "100000"],
         ["BACKPROP_MAX_PARAMETERS"]),
        (["diagnose", "xor", "--compare", "--depths", "100000", "--width", "4"],
         ["BACKPROP_MAX_LAYERS"]),
        (["gradcheck", "--step", "nan"], ["--step", "finite"]),
        (["gradcheck", "--tolerance", "nan"], ["--tolerance", "finite"]),
        (["gradcheck", "--tolerance", "inf"], ["--tolerance", "finite"]),
        (["explain", "--weights", "/dev/zero"], ["/dev/zero", "is a character device"]),
        (["explain", "--weights", "/"], ["is a folder"]),
        (["predict", "/dev/zero", "moons"], ["/dev/zero", "is a character device"]),
        (["evaluate", "/", "moons"], ["is a folder"]),
        (["train", "/dev/zero"], ["/dev/zero"]),
        (["sweep", "/dev/zero"], ["sweep config file /dev/zero", "is a character device"]),
        (["sweep", "/"], ["sweep config file /", "is a folder"]),
        (["bench", "--bogus"], ["bench: unrecognized arguments: --bogus"]),
        (["bench", "--epochs", "0"], ["bench: --epochs must be at least 1"]),
    ],
)
def test_bad_arguments(args: list[str], fragments: list[str], tmp_path: Path) -> None:
    assert_user_error(run(*args, "--out", str(tmp_path)) if args[0] in ("train", "diagnose")
                      else run(*args), *fragments)


def test_empty_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.csv", "")
    assert_user_error(run("train", path, "--out", str(tmp_path / "o")), "empty.csv")


def test_non_numeric_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", "a,b,y\n1,2,0\n3,oops,1\n5,6,0\n7,8,1\n")
    assert_user_error(run("train", path, "--out", str(tmp_path / "o")), "oops")


def test_nan_in_data(tmp_path: Path) -> None:
    path = tmp_path / "nan.npz"
    X = np.ones((10, 2), dtype=np.float32)
    X[3, 1] = np.nan
    np.savez(path, X=X, y=np.arange(10) % 2)
    assert_user_error(run("train", str(path), "--out", str(tmp_path / "o")), "nan")


def test_unwritable_out_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_user_error(run("train", "moons", "--out", str(blocker / "sub")),
                      "cannot write to output directory")
    if os.name == "posix" and os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert_user_error(run("train", "moons", "--out", str(locked)), "cannot write")


def test_config_unknown_key(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "epochs = 2\nlearning_rate = 0.1\n")
    assert_user_error(run("train", "moons", "--config", config, "--out", str(tmp_path)),
                      "unknown key 'learning_rate'")


@pytest.mark.parametrize("line", ['epochs = "many"', "lr = [1]", "layers = 1.5",
                                  "quiet = 1", 'lr = "fast"'])
def test_config_bad_type(line: str, tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", line + "\n")
    assert_user_error(run("train", "moons", "--config", config, "--out", str(tmp_path)),
                      "c.toml")


def test_config_not_toml(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "epochs = = 2\n")
    assert_user_error(run("train", "moons", "--config", config, "--out", str(tmp_path)),
                      "not valid TOML")


def test_corrupt_model(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(b"PK\x03\x04 this is not a zip file")
    assert_user_error(run("evaluate", str(path), "moons"), "model.npz")
    assert_user_error(run("predict", str(path), "moons"), "model.npz")


def test_feature_count_mismatch(model: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "wide.csv", "1,2,3,4,5\n5,6,7,8,9\n")
    assert_user_error(run("predict", str(model), path), "5 features", "expects 2 inputs")
    assert_user_error(run("evaluate", str(model), "line"), "1 features", "expects 2 inputs")
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("x,y\n1,0\n3,1\n")
    assert_user_error(run("evaluate", str(model), str(narrow)),
                      f"{narrow} has 1 features", "expects 2 inputs")


def test_predict_missing_input_and_wrong_suffix(model: Path, tmp_path: Path) -> None:
    assert_user_error(run("predict", str(model), str(tmp_path / "none.csv")), "no such file")
    path = write(tmp_path / "x.txt", "1,2\n")
    assert_user_error(run("predict", str(model), path), ".csv, .npz or .png")


def test_predict_non_numeric_and_nan(model: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "1,2\n3,abc\n")
    assert_user_error(run("predict", str(model), path), "abc")
    path = write(tmp_path / "n.csv", "1,2\n3,nan\n")
    assert_user_error(run("predict", str(model), path), "NaN")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run("train", "moons", "--lr", "fast", "--debug", "--out", str(tmp_path))
    assert result.returncode == 2 and "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("backprop: error: ")  # the same last line


def test_config_file_is_a_folder_or_unreadable(tmp_path: Path) -> None:
    assert_user_error(run("train", "moons", "--config", str(tmp_path), "--out", str(tmp_path)),
                      "config file", "is a folder, not a file")
    assert_user_error(run("train", "moons", "--config", str(tmp_path / "none.toml"),
                          "--out", str(tmp_path)), "no such config file")
    config = tmp_path / "c.toml"
    config.write_bytes(b"epochs = 2\n\xff\xfe\n")
    assert_user_error(run("gradcheck", "--config", str(config)), "c.toml", "not UTF-8 text")


def test_divergence_is_a_user_error(tmp_path: Path) -> None:
    result = run("train", "moons", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3",
                 "--out", str(tmp_path), "--no-plots")
    assert_user_error(result, "non-finite")


def test_oserror_on_a_named_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from backprop.cli import entry as cli
    from backprop.cli import train

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "metrics.json"))

    monkeypatch.setattr(train, "prepare_out", refuse)
    status = cli.main(["train", "xor", "--out", str(tmp_path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert lines == [f"backprop: error: {tmp_path / 'metrics.json'}: Permission denied"]


@pytest.mark.parametrize("error", [ValueError("shapes (4,2) and (3,) not aligned"),
                                   TypeError("unsupported operand"), KeyError("W")])
def test_a_bug_in_the_engine_shows_its_traceback_and_asks_for_a_report(
    error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from backprop.cli import entry as cli
    from backprop.network import Network

    def broken(self: Network, X: object, Y: object) -> float:
        raise error

    monkeypatch.setattr(Network, "backprop", broken)
    status = cli.main(["train", "xor", "--epochs", "1", "--out", str(tmp_path), "--quiet",
                       "--no-plots"])
    stderr = capsys.readouterr().err
    assert status == 1
    assert "Traceback (most recent call last)" in stderr
    assert "in broken" in stderr and str(error) in stderr
    lines = stderr.strip().splitlines()
    assert lines[-1] == cli.REPORT_LINE
    assert not any(line.startswith("backprop: error:") for line in lines)


def test_a_bug_is_not_mistaken_for_a_user_error_in_a_subprocess(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text(
        "import sys\n"
        "from backprop.cli import entry as cli\n"
        "from backprop.network import Network\n"
        "def broken(*args, **kwargs):\n"
        "    raise ValueError('operands could not be broadcast together')\n"
        "Network.backprop = broken\n"
        "sys.exit(cli.main(sys.argv[1:]))\n"
    )
    result = subprocess.run([sys.executable, str(script), "train", "xor", "--epochs", "1",
                             "--out", str(tmp_path / "o"), "--no-plots"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" in result.stderr and "operands could not be broadcast" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("backprop: internal error:")


def test_ctrl_c_outside_training_is_interrupted_130(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from backprop.cli import entry as cli
    from backprop.cli import gradcheck

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gradcheck, "gradcheck", interrupted)
    assert cli.main(["gradcheck"]) == 130
    assert capsys.readouterr().err.strip() == "backprop: interrupted"


# -- hostile input: files and faults -------------------------------------------------------


def test_an_empty_out_is_refused(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "backprop", "train", "xor", "--out", ""],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert_user_error(result, "--out is empty")
    assert list(tmp_path.iterdir()) == []  # nothing written into the current folder


def test_a_fifo_as_weights_config_model_or_data_never_blocks(model: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_user_error(run("explain", "--weights", str(fifo)), "is a FIFO")
    assert_user_error(run("gradcheck", "--config", str(fifo)), "is a FIFO")
    assert_user_error(run("evaluate", str(fifo), "moons"), "is a FIFO")
    assert_user_error(run("predict", str(model), str(fifo)), "is a FIFO")
    data = tmp_path / "pipe.csv"
    os.mkfifo(data)
    assert_user_error(run("train", str(data), "--out", str(tmp_path / "o")), "is a FIFO")
    assert_user_error(run("predict", str(model), str(data)), "is a FIFO")


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    config = write(tmp_path / "deep.toml", "layers = " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert_user_error(run("train", "xor", "--config", config, "--out", str(tmp_path)),
                      "deep.toml", "nested more than")
    weights = write(tmp_path / "deep.json", "[" * 50_000 + "]" * 50_000)
    assert_user_error(run("explain", "--weights", weights), "deep.json", "nested more than")


def test_a_config_asking_for_10_to_the_23_epochs_is_refused(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "epochs = 100000000000000000000000\n")
    assert_user_error(run("train", "xor", "--config", config, "--out", str(tmp_path)),
                      "c.toml: epochs", "BACKPROP_MAX_EPOCHS")


def test_a_header_only_csv_to_predict(model: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "head.csv", "a,b\n")
    assert_user_error(run("predict", str(model), path), "head.csv", "no data rows")


def test_a_csv_cell_over_the_field_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "long.csv", "a,b,y\n" + "1" * 200_000 + ",2,0\n")
    assert_user_error(run("train", path, "--out", str(tmp_path / "o")), "long.csv, row 2",
                      "a cell longer than")


def test_data_with_one_class(tmp_path: Path) -> None:
    path = tmp_path / "one.npz"
    np.savez(path, X=np.arange(20.0).reshape(10, 2), y=np.full(10, 3))
    assert_user_error(run("train", str(path), "--out", str(tmp_path / "o")),
                      f"{path}: the data has one class (label 3)")  # the file as given


def test_a_finite_value_beyond_float32_is_called_an_overflow(model: Path, tmp_path: Path) -> None:
    path = tmp_path / "big.npz"
    np.savez(path, X=np.full((10, 2), 1e308), y=np.arange(10) % 2)
    assert_user_error(run("train", str(path), "--out", str(tmp_path / "o")),
                      "1e+308", "overflows float32")
    csv = write(tmp_path / "big.csv", "1,2\n3,1e308\n")
    result = run("predict", str(model), csv)
    assert_user_error(result, "overflows float32")
    assert "NaN" not in result.stderr and "infinite" not in result.stderr


def _with_metadata(source: Path, target: Path, change: dict[str, object]) -> str:
    import json

    with np.load(source) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__backprop__"].tobytes())
    header["metadata"].update(change)
    arrays["__backprop__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(target, **arrays)  # type: ignore[arg-type]
    return str(target)


def test_a_saved_scaler_without_its_kind_or_with_text_is_named(model: Path,
                                                             tmp_path: Path) -> None:
    no_kind = _with_metadata(model, tmp_path / "nokind.npz",
                             {"scaler": {"offset": [0, 0], "scale": [1, 1]}})
    assert_user_error(run("predict", no_kind, "moons"), "nokind.npz", "scaler", "kind")
    text = _with_metadata(model, tmp_path / "text.npz",
                          {"scaler": {"kind": "standard", "offset": ["ab", 0], "scale": [1, 1]}})
    assert_user_error(run("evaluate", text, "moons"), "text.npz", "scaler offset")


@pytest.fixture(scope="module")
def label_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model trained on string labels cat/dog, and its data."""
    folder = tmp_path_factory.mktemp("labels")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2)).astype(np.float32)
    y = np.where(X[:, 0] > 0, "dog", "cat")
    np.savez(folder / "pets.npz", X=X, y=y)
    result = run("train", str(folder / "pets.npz"), "--epochs", "40", "--out", str(folder),
                 "--quiet", "--no-plots")
    assert result.returncode == 0, result.stderr
    return folder / "model.npz", folder / "pets.npz"


def _accuracy(result: subprocess.CompletedProcess[str]) -> float:
    import json

    assert result.returncode == 0, result.stderr
    return float(json.loads(result.stdout)["accuracy"])


def test_evaluate_maps_labels_through_the_models_classes(label_files: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    model_path, data = label_files
    with np.load(data) as archive:
        X, y = archive["X"], archive["y"]
    whole = _accuracy(run("evaluate", str(model_path), str(data), "--json"))
    assert whole > 0.95
    dogs = tmp_path / "dogs.npz"  # only the second class: its own label set would call it 0
    np.savez(dogs, X=X[y == "dog"], y=y[y == "dog"])
    assert _accuracy(run("evaluate", str(model_path), str(dogs), "--json")) > 0.95
    csv = tmp_path / "dogs.csv"
    csv.write_text("a,b,pet\n" + "".join(f"{a},{b},dog\n" for a, b in X[y == "dog"]))
    assert _accuracy(run("evaluate", str(model_path), str(csv), "--json")) > 0.95
    birds = tmp_path / "birds.npz"
    np.savez(birds, X=X[:5], y=np.array(["dog", "bird", "cat", "dog", "cat"]))
    assert_user_error(run("evaluate", str(model_path), str(birds)),
                      "label 'bird' is not one of the classes the model was trained with",
                      "cat, dog")


def test_evaluate_maps_numeric_labels_of_a_partial_file(model: Path, tmp_path: Path) -> None:
    from backprop.datasets import make_moons

    moons = make_moons()
    assert moons.X_test is not None and moons.y_test is not None
    ones = tmp_path / "ones.npz"
    keep = moons.y_test == 1
    np.savez(ones, X=moons.X_test[keep], y=moons.y_test[keep])
    full = _accuracy(run("evaluate", str(model), "moons", "--json"))
    partial = _accuracy(run("evaluate", str(model), str(ones), "--json"))
    assert partial > 0.5 and full > 0.5  # label 1 stays label 1, not re-encoded as 0


def test_model_and_metrics_of_a_run_carry_one_run_id(tmp_path: Path) -> None:
    import json

    import backprop as bp

    result = run("train", "xor", "--epochs", "2", "--out", str(tmp_path), "--quiet",
                 "--no-plots")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    run_id = bp.load(tmp_path / "model.npz").metadata["run_id"]
    assert metrics["run_id"] == run_id and len(run_id) == 32
    again = run("train", "xor", "--epochs", "2", "--out", str(tmp_path), "--quiet",
                "--no-plots")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "metrics.json").read_text())["run_id"] != run_id


def test_racing_runs_on_one_folder_both_succeed(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "backprop", "train", "xor", "--epochs", "3",
               "--out", str(tmp_path), "--quiet", "--no-plots"]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "model.npz"]


def test_the_write_probe_never_trips_over_another_run(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from backprop.cli.common import prepare_out

    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(lambda _: prepare_out(str(tmp_path)), range(800)))
    assert done == [tmp_path] * 800 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.2, 0.35, 0.5, 0.8])
def test_ctrl_c_in_the_first_moments_is_interrupted_130(delay: float, tmp_path: Path) -> None:
    """Ctrl-C at any moment once the package has begun to load (its handler is the first
    thing it installs): one line, exit 130. Python's own start-up, before that, is
    Python's; the test waits for it (-X importtime reports each import as it ends), then
    for ``delay`` more, so it holds on a machine of any speed."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "backprop", "train", "xor",
         "--epochs", "100000", "--out", str(tmp_path), "--quiet", "--no-plots"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:  # backprop.moved loads right after the handler is installed
        if line.rstrip().endswith("backprop.moved"):
            break
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, (process.returncode, stderr)
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("backprop: interrupted"), stderr


def test_warnings_around_the_error_line_are_not_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import warnings

    from backprop.cli import entry as cli
    from backprop.cli import train
    from backprop.errors import DataError

    def noisy(*_args: object, **_kwargs: object) -> None:
        np.float32(1e39)  # NumPy's overflow RuntimeWarning
        warnings.warn("casting complex values discards the imaginary part", RuntimeWarning,
                      stacklevel=1)
        warnings.warn("the cache is corrupt; fetching again", UserWarning, stacklevel=1)
        raise DataError("data.csv, row 3: the one line")

    monkeypatch.setattr(train, "training_arrays", noisy)
    assert cli.main(["train", "xor", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "backprop: warning: the cache is corrupt; fetching again",
        "backprop: error: data.csv, row 3: the one line",
    ]


def npy_claiming(shape: tuple[int, ...]) -> bytes:
    """An .npy header declaring float32 ``shape``, followed by 64 bytes of data."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 64


X3, Y3 = np.zeros((3, 2), np.float32), np.array([0, 1, 0])


@pytest.mark.parametrize(
    ("files", "spec", "fragments"),
    [
        ({"data.npy": "fifo"}, "data.npy", ["data.npy is a FIFO (named pipe), not a file"]),
        ({"data.npy": "folder"}, "data.npy", ["data.npy is a folder, not a file"]),
        ({"data.npy": "loop"}, "data.npy", ["data.npy is a symlink loop"]),
        ({"data.npy": npy_claiming((1000, 3))}, "data.npy",
         ["data.npy declares shape (1000, 3)", "corrupt or truncated"]),
        ({"data.npy": npy_claiming((10**6, 10**6))}, "data.npy",
         ["data.npy declares shape (1000000, 1000000)", "but the file holds 64"]),
        ({"shards": "folder"}, "shards", ["shards is an empty folder"]),
        ({"shards/X_0.npy": X3, "shards/y_0.npy": Y3, "shards/y_1.npy": Y3}, "shards",
         ["y_1.npy: no features file X_1.npy beside it"]),
        ({"shards/X_0.npy": X3, "shards/y_0.npy": np.zeros(4)}, "shards",
         ["X_0.npy has 3 rows but y_0.npy has 4"]),
        ({"shards/X_0.npy": X3, "shards/y_0.npy": Y3, "shards/X_1.npy": np.zeros((3, 5)),
          "shards/y_1.npy": Y3}, "shards", ["X_1.npy has 5 features but X_0.npy has 2"]),
        ({"shards/X_0.npy": X3, "shards/y_0.npy": Y3, "shards/X_1.npy": X3,
          "shards/y_1.npy": Y3 + 0.5}, "shards", ["y_1.npy holds floats", "y_0.npy"]),
        ({"shards/X_0.npy": "fifo", "shards/y_0.npy": Y3}, "shards", ["X_0.npy is a FIFO"]),
    ],
)
def test_streamed_training_data_is_refused_in_one_line(
    tmp_path: Path, files: dict[str, object], spec: str, fragments: list[str]
) -> None:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, np.ndarray):
            np.save(path, content)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif content == "fifo":
            os.mkfifo(path)
        elif content == "folder":
            path.mkdir()
        elif content == "loop":
            path.symlink_to(path.name)
    result = run("train", str(tmp_path / spec), "--epochs", "1", "--no-plots",
                 "--out", str(tmp_path / "out"))
    assert_user_error(result, *fragments)


@pytest.mark.parametrize(("argv", "argv0", "command"), [
    (["python", "-m", "backprop", "train"], "-m", True),
    (["python", "-X", "importtime", "-m", "backprop", "train"], "-m", True),
    (["python", "-W", "error", "-X", "dev", "-m", "backprop"], "-m", True),
    (["python", "-I", "-m", "backprop"], "-m", True),
    (["/usr/bin/backprop", "train"], "/usr/bin/backprop", True),
    (["python", "-m", "pytest", "-m", "backprop"], "pytest", False),  # a marker, not the module
    (["python", "script.py", "-m", "backprop"], "script.py", False),
    (["python", "-c", "import backprop", "-m", "backprop"], "-c", False),
])
def test_the_command_is_recognised_whatever_the_interpreters_options(
    argv: list[str], argv0: str, command: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop import interrupt

    monkeypatch.setattr(sys, "orig_argv", argv)
    monkeypatch.setattr(sys, "argv", [argv0])
    assert interrupt.is_the_command() is command
