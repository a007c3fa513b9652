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
        (["train", "moons", "--frobnicate"], ["unrecognized arguments: --frobnicate"]),
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
        (["train", "moons", "--batch-size", "0"], ["--batch-size", "positive"]),
        (["train", "moons", "--classes", "0,7"], ["7"]),
        (["train", "line", "--classes", "0,1"], ["--classes", "regression"]),
        (["train", "moons", "--output-activation", "linear", "--loss", "cross_entropy"],
         ["cross_entropy", "linear"]),
        (["diagnose", "moons", "--every", "0"], ["--every"]),
        (["diagnose", "moons", "--compare", "relu:nope"], ["nope"]),
        (["evaluate", "missing.npz", "moons", "--classes", "x"], ["missing.npz"]),
        (["gradcheck", "--step", "0"], ["--step", "positive"]),
        (["gradcheck", "--tolerance", "-1"], ["--tolerance", "positive"]),
        (["gradcheck", "--loss", "hinge"], ["hinge"]),
        (["gradcheck", "--layers", "3,0,2"], ["--layers", "at least 1"]),
        (["gradcheck", "--seed", "-1"], ["--seed"]),
        (["gradcheck", "--output", "softmax", "--layers", "3,1"], ["softmax"]),
        (["explain", "--lr", "0"], ["--lr", "positive"]),
        (["explain", "--lr", "nan"], ["--lr", "finite"]),
        (["explain", "--x", "1,2,3"], ["--x", "2 inputs"]),
        (["explain", "--x", "1,b", "--y", "1"], ["--x", "'b'"]),
        (["explain", "--layers", "2,4,1"], ["--seed"]),
        (["explain", "--seed", "1", "--weights", "w.json"], ["--seed", "--weights"]),
        (["explain", "--weights", "missing.json"], ["missing.json"]),
        (["explain", "--seed", "1", "--loss", "cross_entropy"], ["cross_entropy"]),
        (["predict", "missing.npz", "moons"], ["missing.npz"]),
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
    assert result.returncode != 0 and "Traceback" in result.stderr


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
    from backprop import cli
    from backprop.commands import train

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
    from backprop import cli
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
        "from backprop import cli\n"
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
    from backprop import cli
    from backprop.commands import gradcheck

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gradcheck, "gradcheck", interrupted)
    assert cli.main(["gradcheck"]) == 130
    assert capsys.readouterr().err.strip() == "backprop: interrupted"
