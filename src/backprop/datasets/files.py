"""The user's own data: CSV files (Python's csv module) and NumPy .npz archives.

Error messages name the file, the row as an editor numbers it (1-based,
counting the header and any blank lines), the column (1-based, with its
header name when there is one) and the offending cell.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backprop.datasets.base import TASKS, Dataset, Task, encode_labels
from backprop.datasets.split import check_test_fraction, split_indices
from backprop.errors import DataError, OptionError
from backprop.files.io import check_npz_sizes, check_regular_file, read_text

_INTEGER = re.compile(r"[+-]?\d+")


def _number(text: str) -> float | None:
    """``text`` as a float, or None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def _cell(text: str) -> str:
    """A cell's text, quoted and shortened for a one-line message."""
    text = text.strip()
    short = text if len(text) <= 40 else text[:37] + "..."
    return repr(short)


class _Table:
    """The rows of a CSV file with their line numbers, and how to name a column."""

    def __init__(self, path: Path, lines: list[int], names: list[str] | None, guessed: bool):
        self.path = path
        self.lines = lines
        self.names = names
        self.guessed = guessed  # header="auto" decided there is no header

    def hint(self, i: int) -> str:
        """Advice for a bad cell in data row i: the first row may be a header."""
        if i == 0 and self.guessed:
            return f"; if row {self.lines[0]} is a header, pass header=True"
        return ""

    def column(self, j: int) -> str:
        if self.names is not None:
            return f'column {j + 1} ("{self.names[j]}")'
        return f"column {j + 1}"

    def at(self, i: int, j: int) -> str:
        """'file, row N, column J ("name")' for data row i, column j (both 0-based)."""
        return f"{self.path}, row {self.lines[i]}, {self.column(j)}"


def _read_rows(path: Path, delimiter: str) -> tuple[list[list[str]], list[int]]:
    text = read_text(path, "data file", DataError)
    rows: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        skipinitialspace=True, strict=True)
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            rows.append(row)  # cells keep their spaces: float() ignores them
            lines.append(reader.line_num)
    except csv.Error as error:
        if "field limit" in str(error):
            raise DataError(
                f"{path}, row {reader.line_num}: a cell longer than "
                f"{csv.field_size_limit():,} characters; is this a CSV file?"
            ) from None
        raise DataError(f"{path}, row {reader.line_num}: malformed CSV ({error})") from None
    return rows, lines


def _has_header(rows: list[list[str]]) -> bool:
    """True when the first row reads as column names.

    It does when it has a non-numeric cell and no numeric cell in a column
    that is numeric in the second row: "x1,x2,label" over "0.5,1.5,1" is a
    header, while "0.5,abc,1" over "0.5,1.5,1" is a data row with a bad cell.
    """
    first = [_number(c) is None for c in rows[0]]
    if not any(first):
        return False
    if len(rows) == 1:
        return all(first)
    second = [_number(c) is None for c in rows[1]]
    return all(a for a, b in zip(first, second, strict=False) if not b)


def _target_index(
    target: int | str | None, n_cols: int, names: list[str] | None, path: Path
) -> int:
    available = (
        ", ".join(f'{j + 1} "{n}"' for j, n in enumerate(names))
        if names is not None
        else f"1..{n_cols}"
    )
    if target is None:
        return n_cols - 1
    if isinstance(target, str) and names is not None and target in names:
        if names.count(target) > 1:
            first = names.index(target)
            second = names.index(target, first + 1)
            raise DataError(
                f'{path}: column name "{target}" appears twice (columns {first + 1} and '
                f"{second + 1}); give the target as a column number"
            )
        return names.index(target)
    if isinstance(target, str) and _INTEGER.fullmatch(target.strip()):
        target = int(target)
    if isinstance(target, str):
        if names is None:
            raise DataError(
                f'{path}: no target column "{target}": the file has no header row; '
                f"give the target as a column number (1..{n_cols}, or -1 for the last)"
            )
        raise DataError(f'{path}: no target column "{target}"; the columns are {available}')
    if isinstance(target, bool) or not isinstance(target, int):
        raise OptionError(f"target must be a column name or number, got {target!r}")
    if 1 <= target <= n_cols:
        return target - 1
    if -n_cols <= target <= -1:
        return n_cols + target
    raise DataError(
        f"{path}: no target column {target} (columns are numbered from 1, or from -1 "
        f"at the end); the columns are {available}"
    )


def _parse_numbers(table: _Table, cells: list[list[str]], columns: list[int]) -> np.ndarray:
    """cells (m rows of len(columns) texts) as float64 (m, len(columns)).

    DataError naming the first cell that is not a number, or is NaN/inf.
    """
    try:  # the fast path: Python's float() per cell beats NumPy's str -> float cast
        values = np.array([list(map(float, row)) for row in cells], dtype=np.float64)
    except ValueError:
        for i, row in enumerate(cells):
            for k, text in enumerate(row):
                if _number(text) is None:
                    what = "is empty" if not text.strip() else f"{_cell(text)} is not a number"
                    raise DataError(
                        f"{table.at(i, columns[k])}: cell {what}{table.hint(i)}"
                    ) from None
        raise  # not reached: some cell failed above
    values = values.reshape(len(cells), len(columns))
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        i, k = (int(v) for v in bad[0])
        raise DataError(
            f"{table.at(i, columns[k])}: cell {_cell(cells[i][k])}; NaN/inf is not allowed"
        )
    return values


def _to_float32(
    table: _Table, values: np.ndarray, cells: list[list[str]], columns: list[int]
) -> npt.NDArray[np.float32]:
    """Parsed values as float32, naming the first cell too large for float32."""
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    bad = np.argwhere(~np.isfinite(out))
    if bad.size:
        i, k = (int(v) for v in bad[0])
        raise DataError(
            f"{table.at(i, columns[k])}: cell {_cell(cells[i][k])} is too large for "
            f"float32: it overflows float32 (largest {float(np.finfo(np.float32).max):.3g})"
        )
    return out


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
    rows, lines = _read_rows(p, delimiter)
    if not rows:
        raise DataError(f"{p}: the file is empty (no rows)")
    with_header = _has_header(rows) if header == "auto" else bool(header)
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
    table = _Table(p, data_lines, names, guessed=header == "auto" and names is None)
    t = _target_index(target, n_cols, names, p)
    features = [j for j in range(n_cols) if j != t]
    feature_cells = [row[:t] + row[t + 1 :] for row in data]
    X = _to_float32(table, _parse_numbers(table, feature_cells, features), feature_cells, features)
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
    table: _Table, texts: list[str], t: int, task: Task | None
) -> tuple[npt.NDArray[np.int64] | npt.NDArray[np.float32], Task, tuple[str, ...] | None]:
    """y, the task, and the class names, from the target column's cells."""
    if task != "regression" and all(_number(s) is None for s in texts):
        labels = np.array([s.strip() for s in texts], dtype=np.str_)
        codes, names = encode_labels([labels])  # labels such as "setosa"
        return codes[0], "classification", names
    cells = [[s] for s in texts]
    values = _parse_numbers(table, cells, [t])
    integral = values[:, 0] == np.round(values[:, 0])
    if task is None:
        task = "classification" if bool(integral.all()) else "regression"
    if task == "regression":
        return _to_float32(table, values, cells, [t])[:, 0], "regression", None
    if not integral.all():
        i = int(np.flatnonzero(~integral)[0])
        raise DataError(
            f"{table.at(i, t)}: target {_cell(texts[i])} is not an integer class label; "
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
