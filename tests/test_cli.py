"""The `backprop` command: --version, --help, the demo, and user errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys

import backprop


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backprop", *args], capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"backprop {backprop.__version__}"


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "usage: backprop" in result.stdout and "demo" in result.stdout


def test_unknown_command_is_a_one_line_error_with_exit_2() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice: 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_trains_and_reports() -> None:
    result = run("demo", "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert "gradient check before training: PASS" in result.stdout
    assert "epoch 1000: loss" in result.stdout and "accuracy 1.00" in result.stdout
    assert "learned slope 1.9" in result.stdout or "learned slope 2.0" in result.stdout


def test_bench_command_runs_the_suite_from_the_clone() -> None:
    result = run("bench", "--list")
    assert result.returncode == 0, result.stderr
    assert "headline" in result.stdout


def test_gradcheck_command_passes_on_a_network_given_by_options() -> None:
    result = run("gradcheck", "--inputs", "3", "--layers", "4,4", "--outputs", "2",
                 "--activation", "sigmoid",
                 "--output", "sigmoid", "--loss", "binary_cross_entropy", "--batch", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gradcheck PASS")
    assert result.stdout.count(" ok") == 6  # W and b of three layers


def test_gradcheck_command_json_and_bad_options() -> None:
    import json

    result = run("gradcheck", "--json", "--no-bias")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True and [t["name"] for t in report["tensors"]] == ["W", "W"]
    for bad, message in [(["--layers", "0"], "at least 1"),
                         (["--activation", "relux"], "unknown activation 'relux'"),
                         (["--batch", "0"], "--batch must be at least 1")]:
        failed = run("gradcheck", *bad)
        assert failed.returncode == 2
        assert message in failed.stderr and "Traceback" not in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1
