"""Helpers shared by the train, diagnose, evaluate, predict and datasets commands."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from backprop.cli.streamed import is_streamed_spec, streamed_arrays
from backprop.datasets import Dataset, Scaler, load_dataset, subset_classes
from backprop.errors import DataError, ModelFileError, OptionError
from backprop.files.io import write_atomically
from backprop.network import Network

if TYPE_CHECKING:
    from backprop.cli.option_table import TrainingOptions
    from backprop.datasets.scaling import ScalerKind


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


def file_options(spec: str, o: TrainingOptions) -> dict[str, Any]:
    """--task, --target, --test-fraction as load_dataset's options for a .csv or .npz file;
    OptionError when one is set for another kind of dataset."""
    given: dict[str, Any] = {
        name: value for name, value, unset in (("task", o.task, "auto"),
                                               ("target", o.target, None),
                                               ("test_fraction", o.test_fraction, 0.0))
        if value != unset}
    suffix = Path(spec).suffix.lower()
    allowed = {".csv": ("task", "target", "test_fraction"), ".npz": ("task",)}.get(suffix, ())
    for name in given:
        if name not in allowed:
            kinds = "a .csv file" if name != "task" else "a .csv or .npz file"
            raise OptionError(f"--{name.replace('_', '-')} applies to {kinds}, not to {spec}")
    if "target" in given:
        target = given["target"]
        given["target"] = int(target) if target.lstrip("-").isdigit() else target
    return given


def load_data(spec: str, classes: str | list[int] | None = None,
              options: dict[str, Any] | None = None) -> Dataset:
    """A dataset by name or path (with a file's loader ``options``), optionally restricted
    to some classes."""
    data = load_dataset(spec, **(options or {}))
    if classes:
        labels = (classes if isinstance(classes, list)
                  else parse_list(classes, "--classes", int, minimum=0))
        if data.task != "classification":
            raise OptionError(f"--classes: {data.name} is a regression dataset")
        data = subset_classes(data, labels)
    return data


def training_arrays(
    spec: str, o: TrainingOptions
) -> tuple[Dataset, Any, Any, np.ndarray | None, np.ndarray | None, Scaler | None]:
    """(data, X, y, X_test, y_test, scaler) as train's options ``o`` ask: the classes
    kept, the first train_samples samples, and the scaler fitted on X and applied to both."""
    options = file_options(spec, o)  # refused, in one line, where they do not apply
    if is_streamed_spec(spec, o.memory_budget):  # X is a source that fit streams
        return streamed_arrays(spec, o, options)
    streams = ("data streamed from disk (a .npy file, a folder of .npy shards, or a CSV file "
               "larger than the memory budget)")
    if o.buffer_size is not None:
        raise OptionError(f"--buffer-size applies to {streams}, not to {spec}")
    if o.memory_budget is not None and Path(spec).suffix.lower() != ".csv":
        raise OptionError(f"--memory-budget applies to {streams}, not to {spec}")
    data = load_data(spec, o.classes, options)
    X, y = data.X_train, data.y_train
    if o.train_samples is not None:
        X, y = X[: o.train_samples], y[: o.train_samples]
    if data.task == "classification" and len(np.unique(y)) < 2:
        only = data.class_name(int(y[0])) if len(y) else "none"
        raise DataError(f"{spec}: the data has one class (label {only}); "
                        "a classifier needs samples of at least two")
    X_test, y_test = data.X_test, data.y_test
    scaler = None
    if o.scale != "none":
        scaler = Scaler(cast("ScalerKind", o.scale)).fit(X)
        X = np.asarray(scaler.transform(X), dtype=np.float32)
        if X_test is not None:
            X_test = np.asarray(scaler.transform(X_test), dtype=np.float32)
    return data, X, y, X_test, y_test, scaler


def prepare_out(out: str) -> Path:
    """The output directory, created; OptionError (one line) when it cannot be written to.

    The write test uses a probe file of its own unique name, so runs sharing a folder
    never trip over each other's probe; a run that replaces the folder meanwhile (its
    files done) takes the probe with the old folder, and the test is made again."""
    if not str(out).strip():
        raise OptionError("--out is empty; give a folder (. for the current one)")
    path = Path(out)
    try:
        for attempt in range(3):
            path.mkdir(parents=True, exist_ok=True)
            try:
                handle, probe = tempfile.mkstemp(prefix=".backprop-write-test.", dir=path)
            except FileNotFoundError:  # the folder was replaced as the probe was made
                if attempt == 2:
                    raise
                continue
            os.close(handle)
            Path(probe).unlink(missing_ok=True)
            break
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OptionError(f"cannot write to output directory {out}: {reason}") from None
    return path


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented JSON, written atomically (never half a file)."""
    text = (json.dumps(value, indent=2) + "\n").encode("utf-8")
    write_atomically(path, lambda file: file.write(text), OptionError)


def load_model(path: str) -> Network:
    """A model file, with a one-line error when it is missing; its saved scaler checked."""
    from backprop.files.loading import load

    if not Path(path).exists() and not Path(path).is_symlink():
        raise ModelFileError(f"{path}: no such model file")
    net = load(path)
    try:
        saved_scaler(net)
    except DataError as error:
        raise ModelFileError(f"model file {path}: its saved scaler is unusable: {error}") from None
    return net


def saved_scaler(net: Network) -> Scaler | None:
    """The scaler fitted at training time (net.metadata["scaler"]), or None;
    DataError naming the key at fault when the saved state is malformed."""
    state = net.metadata.get("scaler")
    if state is None:
        return None
    if not isinstance(state, dict):
        raise DataError(f"metadata scaler is a {type(state).__name__}, not an object")
    arrays: dict[str, Any] = dict(state)
    for key in ("offset", "scale"):
        if key in state:
            try:
                arrays[key] = np.asarray(state[key], dtype=np.float64)
            except (ValueError, TypeError):
                raise DataError(f"metadata scaler {key} is not a list of numbers") from None
    scaler = Scaler.from_state(arrays)
    assert scaler.offset is not None
    if scaler.offset.shape != (net.n_inputs,):
        raise DataError(f"metadata scaler has {scaler.offset.shape[0]} features but the model "
                        f"takes {net.n_inputs} inputs")
    return scaler


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
    scaler = saved_scaler(net)
    if scaler is not None:
        X = np.asarray(scaler.transform(X), dtype=np.float32)
    return X


def trained_class_names(net: Network) -> list[str] | None:
    """The names of the classes a saved classifier was trained on, in its output order;
    None for a regression model or one saved without a task."""
    if net.metadata.get("task") != "classification":
        return None
    names = net.metadata.get("class_names")
    if isinstance(names, list) and names:
        return [str(name) for name in names]
    return [str(i) for i in range(net.n_outputs if net.n_outputs > 1 else 2)]


def labels_for_model(
    net: Network, data: Dataset, X: np.ndarray, y: np.ndarray, *, keep_trained: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) with y's labels mapped through the classes the model was trained with, by
    name, so a file holding only some of them is read right; a label the model never saw
    is a DataError naming it, unless ``keep_trained`` drops its samples (a model trained
    on some classes, evaluated on a set holding more)."""
    trained = trained_class_names(net)
    if trained is None or data.task != "classification":
        return X, y
    position = {name: i for i, name in enumerate(trained)}
    codes = np.asarray(y, dtype=np.int64)
    present = [int(v) for v in np.unique(codes)]
    lookup = np.full(max(present, default=0) + 1, -1, dtype=np.int64)
    for code in present:
        name = data.class_name(code)
        if name in position:
            lookup[code] = position[name]
        elif not keep_trained:
            raise DataError(
                f"{data.name}: label {name!r} is not one of the classes the model was "
                f"trained with ({', '.join(trained)})"
            )
    mapped = lookup[codes]
    kept = mapped >= 0
    if not kept.any():
        raise DataError(f"{data.name}: no sample has a class the model was trained with "
                        f"({', '.join(trained)})")
    return X[kept], mapped[kept]


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
