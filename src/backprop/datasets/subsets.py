"""A classification dataset restricted to some of its classes, relabelled 0..k-1."""

from __future__ import annotations

import dataclasses
from typing import cast

import numpy as np
import numpy.typing as npt

from backprop.datasets.base import Dataset, Features, Targets
from backprop.errors import DataError, OptionError


def subset_classes(dataset: Dataset, labels: list[int] | tuple[int, ...]) -> Dataset:
    """Keep only the samples whose label is in ``labels``, relabelled 0..k-1.

    The new label of ``labels[i]`` is i (so the order you give chooses, for
    example, which class is the positive one), and class_names records each
    kept class's original name. Works on train and test alike.
    """
    if dataset.task != "classification":
        raise DataError(f"subset_classes: dataset {dataset.name!r} is a regression dataset")
    wanted = [int(v) for v in labels]
    if not wanted:
        raise OptionError("subset_classes: give at least one label")
    if len(set(wanted)) != len(wanted):
        raise OptionError(f"subset_classes: labels {wanted} repeat a label")
    present = np.unique(dataset.y_train)
    for label in wanted:
        if label not in present:
            available = ", ".join(str(int(v)) for v in present)
            raise DataError(
                f"subset_classes: label {label} is not in dataset {dataset.name!r} "
                f"(labels present: {available})"
            )
    lookup = np.full(cast(int, dataset.n_classes), -1, dtype=np.int64)
    lookup[wanted] = np.arange(len(wanted), dtype=np.int64)

    def keep(X: Features, y: Targets) -> tuple[Features, npt.NDArray[np.int64]]:
        new = lookup[y]
        mask = new >= 0
        return X[mask], new[mask]

    X_train, y_train = keep(dataset.X_train, dataset.y_train)
    X_test: Features | None = None
    y_test: npt.NDArray[np.int64] | None = None
    if dataset.X_test is not None and dataset.y_test is not None:
        X_test, y_test = keep(dataset.X_test, dataset.y_test)
        if X_test.shape[0] == 0:
            X_test, y_test = None, None
    return dataclasses.replace(
        dataset,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        n_classes=len(wanted),
        class_names=tuple(dataset.class_name(v) for v in wanted),
    )
