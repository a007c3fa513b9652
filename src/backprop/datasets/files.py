"""The user's own data: CSV files (Python's csv module) and NumPy .npz archives.

Error messages name the file, the row as an editor numbers it (1-based,
counting the header and any blank lines), the column (1-based, with its
header name when there is one) and the offending cell
(:mod:`backprop.datasets.csv_cells`).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backprop.datasets.base import TASKS, Dataset, Task, encode_labels
from backprop.datasets.csv_cells import (
    Table,
    cell_text,
    csv_rows,
    has_header,
    number,
    parse_numbers,
    target_index,
    to_float32,
)
from backprop.datasets.split import check_test_fraction, split_indices
from backprop.errors import DataError, OptionError
from backprop.files.io import check_npz_sizes, check_regular_file, read_text
from backprop.validation import check_seed


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    text = read_text(path, "data file", DataError)
    rows: list[list[str]] = []
    lines: list[int] = []
    for row, line in csv_rows(io.StringIO(text, newline=""), path, delimiter):
        rows.append(row)
        lines.append(line)
    return rows, lines


def load_csv(
    path: str | Path,
    target: int | str | None = None,
    header: bool | str = "auto",
    test_fraction: float = 0.0,
    seed: int = 0,
    *,
    task: Task | None = None,
    delimiter: str = ",",
) -> Dataset:
    """A Dataset from a CSV file: one sample per row, every feature a number.

    Arguments:
        target: the column holding y: its header name, a 1-based number, or a
            negative number counting from the end; default the last column.
        header: "auto" (the first row is a header when it is not numeric),
            True or False.
        test_fraction: share of rows held out as the test set (stratified for
            classification, shuffled with ``seed``); 0 keeps the file's order.
        task: "classification" or "regression"; by default classification when
            every target is an integer or every target is a non-numeric label,
            regression otherwise (force task="regression" for integer-valued
            quantities such as counts).

    Returns X float32 (m, n_columns - 1) and, for classification, labels
    0..k-1 in sorted order of the file's values with those values kept as
    class_names; for regression, y float32 (m,).
    """
    p = Path(path)
    if task is not None and task not in TASKS:
        raise OptionError(f"task must be 'classification' or 'regression', got {task!r}")
    if header not in ("auto", True, False):
        raise OptionError(f"header must be 'auto', True or False, got {header!r}")
    test_fraction = check_test_fraction(test_fraction, "load_csv")
    check_seed(seed, "load_csv: seed")
    rows, lines = _read_rows(p, delimiter)
    if not rows:
        raise DataError(f"{p}: the file is empty (no rows)")
    with_header = has_header(rows) if header == "auto" else bool(header)
    names = [name.strip() for name in rows[0]] if with_header else None
    data, data_lines = (rows[1:], lines[1:]) if with_header else (rows, lines)
    n_cols = len(rows[0])
    for row, line in zip(data, data_lines, strict=True):
        if len(row) != n_cols:
            raise DataError(
                f"{p}, row {line}: expected {n_cols} fields (as in row {lines[0]}), "
                f"found {len(row)}"
            )
    if not data:
        raise DataError(f"{p}: a header row but no data rows")
    if n_cols < 2:
        raise DataError(f"{p}: only one column; need at least one feature column and a target")
    table = Table(p, data_lines, names, guessed=header == "auto" and names is None)
    t = target_index(target, n_cols, names, p)
    features = [j for j in range(n_cols) if j != t]
    feature_cells = [row[:t] + row[t + 1 :] for row in data]
    X = to_float32(table, parse_numbers(table, feature_cells, features), feature_cells, features)
    del feature_cells
    y, kind, class_names = _parse_target(table, [row[t] for row in data], t, task)
    feature_names = tuple(names[j] for j in features) if names is not None else None
    n_classes = len(class_names) if class_names is not None else None
    if test_fraction == 0.0:
        return Dataset(
            X, y, name=p.stem, task=kind, n_classes=n_classes,
            class_names=class_names, feature_names=feature_names,
        )  # fmt: skip
    rng = np.random.default_rng(seed)
    labels = y.astype(np.int64) if kind == "classification" else None
    train, test = split_indices(len(y), test_fraction, rng, labels=labels, where=str(p))
    return Dataset(
        X[train], y[train], X[test], y[test], name=p.stem, task=kind, n_classes=n_classes,
        class_names=class_names, feature_names=feature_names,
    )  # fmt: skip


def _parse_target(
    table: Table, texts: list[str], t: int, task: Task | None
) -> tuple[npt.NDArray[np.int64] | npt.NDArray[np.float32], Task, tuple[str, ...] | None]:
    """y, the task, and the class names, from the target column's cells."""
    if task != "regression" and all(number(s) is None for s in texts):
        labels = np.array([s.strip() for s in texts], dtype=np.str_)
        codes, names = encode_labels([labels])  # labels such as "setosa"
        return codes[0], "classification", names
    cells = [[s] for s in texts]
    values = parse_numbers(table, cells, [t])
    integral = values[:, 0] == np.round(values[:, 0])
    if task is None:
        task = "classification" if bool(integral.all()) else "regression"
    if task == "regression":
        return to_float32(table, values, cells, [t])[:, 0], "regression", None
    if not integral.all():
        i = int(np.flatnonzero(~integral)[0])
        raise DataError(
            f"{table.at(i, t)}: target {cell_text(texts[i])} is not an integer class label; "
            'use task="regression" for real-valued targets'
        )
    codes, names = encode_labels([values[:, 0]])
    return codes[0], "classification", names


def load_npz(path: str | Path, *, task: Task | None = None) -> Dataset:
    """A Dataset from a NumPy .npz archive with arrays X and y (and optionally X_test, y_test).

    Save one with np.savez(path, X=X, y=y). X is (m, n_features), or (m, rows,
    cols) images (flattened, image_shape recorded); y is (m,) labels or
    targets, or (m, k) targets. Integer, boolean and string y are class
    labels, floating y regression targets, unless ``task`` says otherwise.
    Never unpickles (allow_pickle=False).
    """
    p = check_regular_file(path, "data file", DataError)
    if not zipfile.is_zipfile(p):
        with p.open("rb") as head:
            single = head.read(6) == b"\x93NUMPY"
        raise DataError(
            f"{p}: holds a single array, not an .npz archive; save with np.savez(path, X=X, y=y)"
            if single else f"{p}: not a NumPy .npz archive; save with np.savez(path, X=X, y=y)"
        )
    try:
        check_npz_sizes(p, DataError)
        archive = np.load(p, allow_pickle=False)
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
            RuntimeError) as error:
        raise DataError(f"{p}: not a readable NumPy .npz archive ({error})") from None
    assert isinstance(archive, np.lib.npyio.NpzFile)
    arrays: dict[str, np.ndarray] = {}
    with archive:
        found = ", ".join(archive.files) or "none"
        for key in ("X", "y"):
            if key not in archive.files:
                raise DataError(
                    f'{p}: no array named "{key}" (found: {found}); '
                    "save with np.savez(path, X=X, y=y)"
                )
        extra = [k for k in ("X_test", "y_test") if k in archive.files]
        if len(extra) == 1:
            missing = "y_test" if extra == ["X_test"] else "X_test"
            raise DataError(f'{p}: has "{extra[0]}" but no "{missing}"; give both or neither')
        for key in ("X", "y", *extra):
            try:
                arrays[key] = archive[key]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise DataError(f'{p}: cannot read array "{key}" ({error})') from None
    return Dataset.from_arrays(
        arrays["X"],
        arrays["y"],
        arrays.get("X_test"),
        arrays.get("y_test"),
        name=p.stem,
        task=task,
        source=str(p),
    )
