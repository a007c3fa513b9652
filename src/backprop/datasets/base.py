"""The Dataset container, and the conversions every loader shares.

Conventions (the same as the rest of backprop): X has one sample per row,
shape (m, n_features), float32; class labels are int64 in 0..k-1, shape
(m,); regression targets are float32, shape (m,) or (m, k).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from backprop.errors import DataError, OptionError

Task = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

#: Features: float32, shape (m, n_features).
Features = npt.NDArray[np.float32]
#: Targets: int64 labels (m,) for classification; float32 (m,) or (m, k) for regression.
Targets = npt.NDArray[np.int64] | npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Training (and optional test) arrays with what a front end needs to know.

    Attributes:
        X_train: float32, shape (m, n_features), one sample per row.
        y_train: int64 labels 0..n_classes-1, shape (m,), for classification;
            float32, shape (m,) or (m, k), for regression.
        X_test, y_test: the same for the test set, or both None.
        name: a short name ("mnist", "xor", or a file's stem).
        task: "classification" or "regression".
        n_classes: the number of classes (classification), else None.
        image_shape: (rows, cols) when each row of X is an image, else None.
        class_names: a name per label (class_names[i] names label i), or None
            when the labels are their own names.
        feature_names: a name per column of X, or None.
    """

    X_train: Features
    y_train: Targets
    X_test: Features | None = None
    y_test: Targets | None = None
    _: KW_ONLY
    name: str
    task: Task
    n_classes: int | None = None
    image_shape: tuple[int, int] | None = None
    class_names: tuple[str, ...] | None = None
    feature_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_dataset(self)

    def __repr__(self) -> str:
        return f"<Dataset {self.summary()}>"

    @property
    def n_features(self) -> int:
        """Columns of X."""
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        """Rows of X_train."""
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        """Rows of X_test (0 without a test set)."""
        return 0 if self.X_test is None else int(self.X_test.shape[0])

    @property
    def n_outputs(self) -> int:
        """Output units a network needs: n_classes, or the number of regression targets."""
        if self.task == "classification":
            return cast(int, self.n_classes)
        return 1 if self.y_train.ndim == 1 else int(self.y_train.shape[1])

    def class_name(self, label: int) -> str:
        """The name of class ``label`` (the label itself when there are no names)."""
        if self.class_names is None:
            return str(label)
        return self.class_names[label]

    def summary(self) -> str:
        """One line: name, task, sizes."""
        if self.task == "classification":
            kind = f"classification, {self.n_classes} classes"
        else:
            kind = f"regression, {self.n_outputs} target{'s' if self.n_outputs > 1 else ''}"
        shape = f"{self.image_shape[0]}x{self.image_shape[1]} images" if self.image_shape else ""
        plural = "" if self.n_features == 1 else "s"
        features = f"{self.n_features} feature{plural}" + (f" ({shape})" if shape else "")
        return f"{self.name}: {kind}, {features}, {self.n_train} train / {self.n_test} test"

    @classmethod
    def from_arrays(
        cls,
        X: Any,
        y: Any,
        X_test: Any = None,
        y_test: Any = None,
        *,
        name: str = "arrays",
        task: Task | None = None,
        image_shape: tuple[int, int] | None = None,
        feature_names: tuple[str, ...] | None = None,
        source: str | None = None,
    ) -> Dataset:
        """A Dataset from user arrays, converted and checked.

        X: (m, n_features), or (m, rows, cols) images (flattened; image_shape
        recorded). y: (m,) labels or targets, or (m, k) regression targets.
        The task, unless given, follows y's dtype: integers, booleans and
        strings are class labels, floats are regression targets. Labels that
        are not already 0..k-1 are remapped (sorted), with the originals kept
        as class_names. ``source`` prefixes error messages (default: name).
        """
        where = source if source is not None else name
        if task is not None and task not in TASKS:
            raise OptionError(f"task must be 'classification' or 'regression', got {task!r}")
        if (X_test is None) != (y_test is None):
            given, missing = ("X_test", "y_test") if y_test is None else ("y_test", "X_test")
            raise DataError(f"{where}: {given} is given but {missing} is not; give both or neither")
        Xtr, shape_tr = _features(X, "X", where)
        ytr = _target_array(y, "y", where)
        _same_length(Xtr, ytr, "X", "y", where)
        Xte: Features | None = None
        yte: np.ndarray | None = None
        if X_test is not None:
            Xte, shape_te = _features(X_test, "X_test", where)
            yte = _target_array(y_test, "y_test", where)
            _same_length(Xte, yte, "X_test", "y_test", where)
            if Xte.shape[1] != Xtr.shape[1] or shape_te != shape_tr:
                train_shape = shape_tr or Xtr.shape[1:]
                test_shape = shape_te or Xte.shape[1:]
                raise DataError(
                    f"{where}: X has samples of shape {tuple(train_shape)} but X_test has "
                    f"{tuple(test_shape)}; they must match"
                )
            if yte.ndim != ytr.ndim or yte.shape[1:] != ytr.shape[1:]:
                raise DataError(
                    f"{where}: y has shape {ytr.shape} but y_test has {yte.shape}; "
                    "the target columns must match"
                )
        kind = task or _task_from_dtype(ytr, yte)
        names: tuple[str, ...] | None = None
        n_classes: int | None = None
        y_tr_out: Targets
        y_te_out: Targets | None = None
        if kind == "classification":
            parts = [_as_label_vector(ytr, "y", where)]
            if yte is not None:
                parts.append(_as_label_vector(yte, "y_test", where))
            codes, names = encode_labels(parts)
            n_classes = len(names)
            if names == tuple(str(i) for i in range(n_classes)):
                names = None  # already 0..k-1
            y_tr_out = codes[0]
            y_te_out = codes[1] if yte is not None else None
        else:
            y_tr_out = _as_regression_targets(ytr, "y", where)
            if yte is not None:
                y_te_out = _as_regression_targets(yte, "y_test", where)
        return cls(
            Xtr,
            y_tr_out,
            Xte,
            y_te_out,
            name=name,
            task=kind,
            n_classes=n_classes,
            image_shape=image_shape or shape_tr,
            class_names=names,
            feature_names=feature_names,
        )


def encode_labels(parts: list[np.ndarray]) -> tuple[list[npt.NDArray[np.int64]], tuple[str, ...]]:
    """Map the labels of several arrays to 0..k-1 by their sorted union.

    Returns the int64 codes, one array per part, and the original label of
    each code as a string (integer-valued floats print without ".0").
    """
    union = np.unique(np.concatenate([np.asarray(p).ravel() for p in parts]))
    codes = [np.searchsorted(union, p).astype(np.int64) for p in parts]
    return codes, tuple(_label_text(v) for v in union.tolist())


def _label_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _features(X: Any, key: str, where: str) -> tuple[Features, tuple[int, int] | None]:
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise DataError(f"{where}: {key} has dtype {array.dtype}; expected numbers")
    image_shape: tuple[int, int] | None = None
    if 0 in array.shape:
        raise DataError(
            f"{where}: {key} has shape {array.shape}; it needs at least one row and column"
        )
    if array.ndim == 3:
        image_shape = (int(array.shape[1]), int(array.shape[2]))
        array = array.reshape(array.shape[0], -1)
    elif array.ndim != 2:
        hint = f"; for one feature use {key}.reshape(-1, 1)" if array.ndim == 1 else ""
        raise DataError(
            f"{where}: {key} has shape {array.shape}; expected 2-D (samples, features) "
            f"or 3-D (samples, rows, cols){hint}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise DataError(
            f"{where}: {key} has shape {array.shape}; it needs at least one row and column"
        )
    return _to_float32(array, key, where), image_shape


def _target_array(y: Any, key: str, where: str) -> np.ndarray:
    array = np.asarray(y)
    if array.dtype.kind not in "biufUS":
        raise DataError(
            f"{where}: {key} has dtype {array.dtype}; expected numbers or label strings"
        )
    if array.ndim not in (1, 2):
        raise DataError(
            f"{where}: {key} has shape {array.shape}; expected (samples,) or (samples, targets)"
        )
    if array.dtype.kind == "f":
        _check_finite(array, key, where)
    return array


def _same_length(X: np.ndarray, y: np.ndarray, xkey: str, ykey: str, where: str) -> None:
    if X.shape[0] != y.shape[0]:
        raise DataError(
            f"{where}: {xkey} has {X.shape[0]} rows but {ykey} has {y.shape[0]}; they must match"
        )


def _task_from_dtype(y: np.ndarray, y_test: np.ndarray | None) -> Task:
    kinds = {y.dtype.kind} | ({y_test.dtype.kind} if y_test is not None else set())
    if y.ndim == 1 and kinds <= set("biuUS"):
        return "classification"
    return "regression"


def _as_label_vector(y: np.ndarray, key: str, where: str) -> np.ndarray:
    if y.ndim == 2:
        if y.shape[1] == 1:
            y = y[:, 0]
        elif y.dtype.kind in "biuf" and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
            y = np.argmax(y, axis=1)  # one-hot rows
        else:
            raise DataError(
                f"{where}: {key} has shape {y.shape}; class labels must be (samples,) or one-hot"
            )
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind == "f":
        fractional = np.flatnonzero(y != np.round(y))
        if fractional.size:
            i = int(fractional[0])
            raise DataError(
                f"{where}: {key}[{i}] = {y[i]} is not an integer class label; "
                "use task='regression' for real-valued targets"
            )
    return y


def _as_regression_targets(y: np.ndarray, key: str, where: str) -> npt.NDArray[np.float32]:
    if y.dtype.kind in "US":
        raise DataError(
            f"{where}: {key} holds strings ({_label_text(y.flat[0])!r}...); "
            "regression needs numeric targets"
        )
    return _to_float32(y, key, where)


def _to_float32(array: np.ndarray, key: str, where: str) -> npt.NDArray[np.float32]:
    """array as C-contiguous float32, refusing NaN/inf before and after the cast."""
    _check_finite(array, key, where)
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        text = ", ".join(str(i) for i in index)
        raise DataError(
            f"{where}: {key}[{text}] = {array[index]} is too large for float32: it "
            f"overflows float32 (largest {float(np.finfo(np.float32).max):.3g})"
        )
    return out


def _check_finite(array: np.ndarray, key: str, where: str) -> None:
    if array.dtype.kind != "f":
        return
    finite = np.isfinite(array)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        text = ", ".join(str(i) for i in index)
        raise DataError(f"{where}: {key}[{text}] is {array[index]}; NaN/inf is not allowed")


def _check_dataset(d: Dataset) -> None:
    """Refuse a Dataset whose arrays break the conventions (one-line DataError)."""
    where = f"dataset {d.name!r}"
    if d.task not in TASKS:
        raise DataError(f"{where}: task must be 'classification' or 'regression', got {d.task!r}")
    pairs: list[tuple[str, np.ndarray, str, np.ndarray]] = [
        ("X_train", d.X_train, "y_train", d.y_train)
    ]
    if (d.X_test is None) != (d.y_test is None):
        raise DataError(f"{where}: give both X_test and y_test, or neither")
    if d.X_test is not None and d.y_test is not None:
        pairs.append(("X_test", d.X_test, "y_test", d.y_test))
    for xkey, X, ykey, y in pairs:
        if not isinstance(X, np.ndarray) or X.dtype != np.float32 or X.ndim != 2:
            got = f"{X.dtype} {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
            raise DataError(f"{where}: {xkey} must be a 2-D float32 array, got {got}")
        if X.shape[1] != d.X_train.shape[1]:
            raise DataError(
                f"{where}: {xkey} has {X.shape[1]} features but X_train has {d.X_train.shape[1]}"
            )
        if not isinstance(y, np.ndarray) or y.shape[0] != X.shape[0]:
            got = y.shape[0] if isinstance(y, np.ndarray) else type(y).__name__
            raise DataError(f"{where}: {xkey} has {X.shape[0]} rows but {ykey} has {got}")
        if d.task == "classification":
            if y.dtype != np.int64 or y.ndim != 1:
                raise DataError(
                    f"{where}: {ykey} must be int64 labels of shape (m,), got {y.dtype} {y.shape}"
                )
        elif y.dtype != np.float32 or y.ndim not in (1, 2):
            raise DataError(
                f"{where}: {ykey} must be float32 of shape (m,) or (m, k), got {y.dtype} {y.shape}"
            )
    if d.task == "classification":
        if not isinstance(d.n_classes, int) or d.n_classes < 1:
            raise DataError(f"{where}: n_classes must be a positive integer, got {d.n_classes!r}")
        for _, _, ykey, y in pairs:
            if y.size and (y.min() < 0 or y.max() >= d.n_classes):
                raise DataError(
                    f"{where}: {ykey} holds labels {int(y.min())}..{int(y.max())}, "
                    f"outside 0..{d.n_classes - 1}"
                )
        if d.class_names is not None and len(d.class_names) != d.n_classes:
            raise DataError(f"{where}: {len(d.class_names)} class_names for {d.n_classes} classes")
    elif d.n_classes is not None or d.class_names is not None:
        raise DataError(f"{where}: a regression dataset has no n_classes or class_names")
    if d.image_shape is not None and d.image_shape[0] * d.image_shape[1] != d.X_train.shape[1]:
        raise DataError(
            f"{where}: image_shape {d.image_shape} does not hold {d.X_train.shape[1]} features"
        )
    if d.feature_names is not None and len(d.feature_names) != d.X_train.shape[1]:
        raise DataError(
            f"{where}: {len(d.feature_names)} feature_names for {d.X_train.shape[1]} features"
        )
