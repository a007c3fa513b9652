"""Sizes, seeds, steps and batch sizes as a careless user types them: each is checked
where it enters, before anything is allocated, and refused in one line that names it.
Running out of memory anywhere in the command is one line too."""

from __future__ import annotations

import math
import re
import time
import tracemalloc
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.cli import entry
from backprop.cli.option_table import batch_size_kind as batch_size
from backprop.errors import OptionError, OptionTypeError
from backprop.lab.playground.protocol import Setup
from backprop.limits import LIMITS
from backprop.teaching.gradcheck import STEP_RANGE


def says(capsys: pytest.CaptureFixture[str], argv: list[str], *fragments: str) -> str:
    """``backprop argv`` ends with status 2 and one error line holding every fragment."""
    status = entry.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# -- sizes checked against the limits before anything is allocated ----------------------


def test_gradcheck_sizes_its_batch_before_allocating_it(
    capsys: pytest.CaptureFixture[str]
) -> None:
    """`gradcheck --batch 1000000000` allocated before it checked any size."""
    tracemalloc.start()
    try:
        says(capsys, ["gradcheck", "--batch", "1000000000"], "--batch 1,000,000,000",
             "(1000000000, 5)", "40,000,000,000 bytes", "BACKPROP_MAX_ARRAY_BYTES")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"{peak:,} bytes allocated before the refusal"


def test_gradcheck_and_explain_sizes_follow_trains_limits(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    says(capsys, ["gradcheck", "--layers", "2000000"], "2,000,000", "BACKPROP_MAX_UNITS")
    says(capsys, ["explain", "--steps", "1000001"], "--steps", "1,000,000",
         "BACKPROP_MAX_EPOCHS")
    monkeypatch.setenv("BACKPROP_MAX_ARRAY_BYTES", "1000")
    says(capsys, ["gradcheck", "--batch", "100"], "--batch 100", "above the limit of 1,000")
    assert entry.main(["gradcheck", "--batch", "10"]) == 0  # 10 × 5 × 8 bytes fit
    capsys.readouterr()


def test_the_labs_epoch_cap_is_trains_limit() -> None:
    Setup(max_epochs=LIMITS["BACKPROP_MAX_EPOCHS"])
    with pytest.raises(ValueError, match="max_epochs"):
        Setup(max_epochs=LIMITS["BACKPROP_MAX_EPOCHS"] + 1)


def test_a_memory_error_in_a_command_is_one_line_with_the_command_and_the_size(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop.cli import gradcheck as command

    def too_big(*args: Any, **kwargs: Any) -> None:
        np.empty((10**12, 10**3))  # NumPy's own MemoryError, with the size in its message

    monkeypatch.setattr(command, "gradcheck", too_big)
    says(capsys, ["gradcheck", "--batch", "7"], "backprop gradcheck --batch 7",
         "not enough memory", "Unable to allocate",
         "for an array with shape (1000000000000, 1000)", "ask for less")


# -- seeds ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "error"), [(-1, OptionError), (1.5, OptionTypeError),
                                             (True, OptionTypeError), ("7", OptionTypeError)])
def test_a_networks_seed_is_named(seed: Any, error: type[Exception]) -> None:
    """`bp.Network(..., seed=-1)` raised NumPy's "expected non-negative integer"."""
    with pytest.raises(error, match=rf"^seed must be a non-negative integer, got {seed!r}$"):
        bp.Network([bp.Dense(2, 1)], seed=seed)
    assert bp.Network([bp.Dense(2, 1)], seed=np.int64(3)).seed == 3


def test_seeds_are_checked_wherever_they_enter(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """`backprop demo --seed -1` ended in a traceback."""
    says(capsys, ["demo", "--seed", "-1"], "--seed must be at least 0, got -1")
    net = bp.Network([bp.Dense(2, 1)], seed=0)
    with pytest.raises(OptionError, match="gradcheck seed must be a non-negative integer"):
        bp.gradcheck(net, np.ones((2, 2)), np.ones(2), seed=-5)
    data = tmp_path / "d.csv"
    data.write_text("1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    with pytest.raises(OptionError, match="load_csv: seed must be a non-negative integer"):
        bp.datasets.load_csv(data, test_fraction=0.5, seed=-2)
    with pytest.raises(OptionError, match="make_moons: seed must be a non-negative integer"):
        bp.datasets.make_moons(seed=-1)


# -- activation parameters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "leaky_relu", "slope": "steep"}, "leaky_relu slope must be a number, got 'steep'"),
        ({"name": "leaky_relu", "slope": [0.1]}, "leaky_relu slope must be a number"),
        ({"name": "leaky_relu", "slope": math.nan}, "leaky_relu slope must be a finite number"),
        ({"name": "leaky_relu", "slope": -1}, "leaky_relu slope must be a finite number ≥ 0"),
        ({"name": "relu", "alpha": 1},
         "relu: 'alpha' is a parameter the activation does not take (it takes none)"),
        ({"name": "leaky_relu", "alpha": 1},
         "leaky_relu: 'alpha' is a parameter the activation does not take (it takes slope)"),
        ({"name": {"x": 1}}, "unknown activation"),
    ],
)
def test_activation_parameters_are_checked_where_they_enter(
    spec: dict[str, Any], message: str
) -> None:
    """An activation dict with a non-numeric slope raised NumPy's "ufunc 'isfinite' not
    supported"."""
    with pytest.raises(OptionError, match=re.escape(message)):
        bp.Dense(2, 2, activation=spec)


def test_an_activations_json_parameter_through_the_command(
    capsys: pytest.CaptureFixture[str]
) -> None:
    says(capsys, ["gradcheck", "--activation", '{"name": "leaky_relu", "slope": "a"}'],
         "--activation", "leaky_relu slope must be a number, got 'a'")


# -- gradcheck's step and tolerance -------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--step", "1e300"], ["--step 1e+300 is beyond 0.1", "curvature, not the gradient"]),
        (["--step", "0.5"], ["--step 0.5 is beyond 0.1"]),
        (["--step", "1e-300"], ["--step 1e-300 is below 1e-10", "rounding error"]),
        (["--tolerance", "1"], ["--tolerance 1 passes any gradient", "at most 1"]),
    ],
)
def test_gradcheck_refuses_a_step_or_tolerance_that_cannot_judge(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragments: list[str]
) -> None:
    """`gradcheck --step 1e300` was accepted and reported FAIL as if backprop were wrong."""
    started = time.perf_counter()
    says(capsys, ["gradcheck", *argv], *fragments)
    assert time.perf_counter() - started < 5  # refused before the network is built


def test_gradchecks_step_range_in_the_api() -> None:
    X, y = np.random.default_rng(0).normal(size=(4, 2)), np.array([0, 1, 1, 0])
    net = bp.Network([bp.Dense(2, 3, activation="tanh"), bp.Dense(3, 1, activation="sigmoid")],
                     loss="binary_cross_entropy", seed=0)
    for step in STEP_RANGE:  # the ends of the range are accepted
        assert bp.gradcheck(net, X, y, step=step).step == step
    with pytest.raises(OptionError, match=r"gradcheck step 1 is beyond 0\.1"):
        bp.gradcheck(net, X, y, step=1.0)
    with pytest.raises(OptionError, match="gradcheck tolerance 2 passes any gradient"):
        bp.gradcheck(net, X, y, tolerance=2.0)


# -- --batch-size 0 -------------------------------------------------------------------------


def test_batch_size_zero_is_refused_pointing_at_full(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    """`--batch-size 0` trained full batch: a mistyped 0 changed the method silently and
    overwrote the model in --out."""
    out = tmp_path / "run"
    says(capsys, ["train", "xor", "--batch-size", "0", "--out", str(out)],
         "--batch-size must be a positive whole number, got 0", "give full (or all)")
    assert not (out / "model.npz").exists()
    for word in ("full", "all", "FULL"):
        assert batch_size(word, "--batch-size") is None
    assert batch_size("1", "--batch-size") == 1
    says(capsys, ["diagnose", "xor", "--compare", "batch-size:1,0", "--out", str(out)],
         "--compare batch-size must be a positive whole number, got 0", "full (or all)")
