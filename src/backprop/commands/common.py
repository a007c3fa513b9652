"""Helpers shared by the train, diagnose, evaluate, predict and datasets commands."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import Dataset, Scaler, load_dataset, subset_classes
from ..errors import DataError, ModelFileError, OptionError
from ..network import Network
from .streamed import is_streamed_spec, streamed_arrays


def parse_list(
    text: str, option: str, kind: type[int] | type[float] = int, *,
    minimum: float | None = None, fewest: int = 0, fewest_text: str = "",
) -> list[Any]:
    """"128,64" → [128, 64]: comma-separated whole numbers (``kind`` int) or finite
    numbers (``kind`` float), empty parts skipped, each ≥ ``minimum``, at least
    ``fewest`` of them (``fewest_text`` says what they are, e.g. "an input and an output
    width"); OptionError naming the option and the bad part otherwise."""
    values: list[Any] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = kind(part)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise OptionError(f"{option} {text!r}: {part!r} is not {what}") from None
        if not math.isfinite(value):
            raise OptionError(f"{option} {text!r}: {part!r} is not a finite number")
        if minimum is not None and value < minimum:
            raise OptionError(f"{option} {text!r}: every value must be at least {minimum:g}")
        values.append(value)
    if len(values) < fewest:
        wanted = fewest_text or f"{fewest} value{'s' if fewest > 1 else ''}"
        raise OptionError(f"{option} {text!r}: give at least {wanted}")
    return values


def load_data(spec: str, classes: str | list[int] | None = None) -> Dataset:
    """A dataset by name or path, optionally restricted to some classes."""
    data = load_dataset(spec)
    if classes:
        labels = (classes if isinstance(classes, list)
                  else parse_list(classes, "--classes", int, minimum=0))
        if data.task != "classification":
            raise OptionError(f"--classes: {data.name} is a regression dataset")
        data = subset_classes(data, labels)
    return data


def training_arrays(
    spec: str, o: dict[str, Any]
) -> tuple[Dataset, Any, Any, np.ndarray | None, np.ndarray | None, Scaler | None]:
    """(data, X, y, X_test, y_test, scaler) as train's options ``o`` ask: the classes
    kept, the first train_samples samples, and the scaler fitted on X and applied to both."""
    if is_streamed_spec(spec):  # shards or a .npy file: X is a source that fit streams
        return streamed_arrays(spec, o)
    data = load_data(spec, o["classes"])
    X, y = data.X_train, data.y_train
    if o["train_samples"] is not None:
        X, y = X[: o["train_samples"]], y[: o["train_samples"]]
    X_test, y_test = data.X_test, data.y_test
    scaler = None
    if o["scale"] != "none":
        scaler = Scaler(o["scale"]).fit(X)
        X = np.asarray(scaler.transform(X), dtype=np.float32)
        if X_test is not None:
            X_test = np.asarray(scaler.transform(X_test), dtype=np.float32)
    return data, X, y, X_test, y_test, scaler


def prepare_out(out: str) -> Path:
    """The output directory, created; OptionError (one line) when it cannot be written to."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".backprop-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OptionError(f"cannot write to output directory {out}: {reason}") from None
    return path


def load_model(path: str) -> Network:
    """A model file, with a one-line error when it is missing."""
    from ..loading import load

    if not Path(path).is_file():
        raise ModelFileError(f"{path}: no such model file")
    return load(path)


def scaler_state(scaler: Scaler) -> dict[str, Any]:
    """JSON-ready state of a fitted scaler, for net.metadata."""
    state = scaler.to_state()
    return {
        "kind": str(state["kind"]),
        "offset": np.asarray(state["offset"]).tolist(),
        "scale": np.asarray(state["scale"]).tolist(),
    }


def prepare_inputs(net: Network, X: np.ndarray, source: str) -> np.ndarray:
    """X checked against the model's input width and scaled as in training."""
    if X.ndim != 2:
        raise DataError(f"{source}: expected a 2-D array of samples, got shape {X.shape}")
    if X.shape[1] != net.n_inputs:
        raise DataError(
            f"{source} has {X.shape[1]} features but the model expects {net.n_inputs} inputs"
        )
    if not np.isfinite(X).all():
        raise DataError(f"{source}: the data contains NaN or infinite values")
    state = net.metadata.get("scaler")
    if state:
        scaler = Scaler.from_state(
            {
                "kind": str(state["kind"]),
                "offset": np.asarray(state["offset"], dtype=np.float64),
                "scale": np.asarray(state["scale"], dtype=np.float64),
            }
        )
        X = np.asarray(scaler.transform(X), dtype=np.float32)
    return X


def check_targets(net: Network, data: Dataset) -> None:
    """A model's output width must fit the dataset's classes/targets."""
    k = data.n_classes
    if data.task == "classification" and k is not None and net.n_outputs > 1 and k > net.n_outputs:
        raise DataError(f"{data.name} has {k} classes but the model has {net.n_outputs} outputs")


def error_line(message: str) -> None:
    """Print a one-line warning on stderr."""
    print(f"backprop: {message}", file=sys.stderr)


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, imported now (it is the cli extra's);
    None, with a note on stderr, when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("backprop: matplotlib is not installed; no plots written", file=sys.stderr)
        return None
    return plt
