"""The cells of a CSV file: rows with their line numbers, numbers parsed, every error naming
the file, the row as an editor numbers it (1-based, counting the header and any blank
lines), the column (1-based, with its header name when there is one) and the cell.

Shared by :func:`backprop.datasets.load_csv` (a file read whole) and
:class:`backprop.streaming.CsvFile` (a file larger than memory, read a block of rows at a
time), so that both read the same numbers and name the same errors.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from backprop.errors import DataError, OptionError

INTEGER = re.compile(r"[+-]?\d+")


def number(text: str) -> float | None:
    """``text`` as a float, or None when it is not a number."""
    try:
        return float(text)
    except ValueError:
        return None


def cell_text(text: str) -> str:
    """A cell's text, quoted and shortened for a one-line message."""
    text = text.strip()
    short = text if len(text) <= 40 else text[:37] + "..."
    return repr(short)


class Table:
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


def csv_rows(lines: Iterable[str], path: Path, delimiter: str, first_line: int = 0
             ) -> Iterator[tuple[list[str], int]]:
    """(cells, line number) of each row of CSV text given line by line, blank lines
    skipped; line numbers count from ``first_line`` + 1 (the line that ends the row).
    DataError naming the line when the CSV is malformed."""
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True, strict=True)
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            yield row, first_line + reader.line_num  # cells keep their spaces: float() ignores them
    except csv.Error as error:
        line = first_line + reader.line_num
        if "field limit" in str(error):
            raise DataError(
                f"{path}, row {line}: a cell longer than "
                f"{csv.field_size_limit():,} characters; is this a CSV file?"
            ) from None
        raise DataError(f"{path}, row {line}: malformed CSV ({error})") from None


def has_header(rows: list[list[str]]) -> bool:
    """True when the first row reads as column names.

    It does when it has a non-numeric cell and no numeric cell in a column
    that is numeric in the second row: "x1,x2,label" over "0.5,1.5,1" is a
    header, while "0.5,abc,1" over "0.5,1.5,1" is a data row with a bad cell.
    """
    first = [number(c) is None for c in rows[0]]
    if not any(first):
        return False
    if len(rows) == 1:
        return all(first)
    second = [number(c) is None for c in rows[1]]
    return all(a for a, b in zip(first, second, strict=False) if not b)


def target_index(
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
    if isinstance(target, str) and INTEGER.fullmatch(target.strip()):
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


def parse_numbers(table: Table, cells: list[list[str]], columns: list[int]) -> np.ndarray:
    """cells (m rows of len(columns) texts) as float64 (m, len(columns)).

    DataError naming the first cell that is not a number, or is NaN/inf.
    """
    try:  # the fast path: Python's float() per cell beats NumPy's str -> float cast
        values = np.array([list(map(float, row)) for row in cells], dtype=np.float64)
    except ValueError:
        for i, row in enumerate(cells):
            for k, text in enumerate(row):
                if number(text) is None:
                    what = "is empty" if not text.strip() else f"{cell_text(text)} is not a number"
                    raise DataError(
                        f"{table.at(i, columns[k])}: cell {what}{table.hint(i)}"
                    ) from None
        raise  # not reached: some cell failed above
    values = values.reshape(len(cells), len(columns))
    bad = np.argwhere(~np.isfinite(values))
    if bad.size:
        i, k = (int(v) for v in bad[0])
        raise DataError(
            f"{table.at(i, columns[k])}: cell {cell_text(cells[i][k])}; NaN/inf is not allowed"
        )
    return values


def to_float32(
    table: Table, values: np.ndarray, cells: list[list[str]], columns: list[int]
) -> npt.NDArray[np.float32]:
    """Parsed values as float32, naming the first cell too large for float32."""
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    bad = np.argwhere(~np.isfinite(out))
    if bad.size:
        i, k = (int(v) for v in bad[0])
        raise DataError(
            f"{table.at(i, columns[k])}: cell {cell_text(cells[i][k])} is too large for "
            f"float32: it overflows float32 (largest {float(np.finfo(np.float32).max):.3g})"
        )
    return out
